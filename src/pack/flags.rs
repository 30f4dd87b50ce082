//! The manifest that command-line flags imply: `--images DIR --gt FILE --run NAME=FILE`, so a
//! user with a COCO file and an image folder needs no manifest (and `lightbox init` writes this
//! one down). A source may say its kind (`masks:DIR`); otherwise it is recognised by content.

use super::manifest::{ClassKind, ClassSpec, Manifest, Sources};
use indexmap::IndexMap;
use std::path::{Path, PathBuf};

/// Why command-line sources make no manifest; names the flag and what to give.
#[derive(Debug, thiserror::Error)]
pub enum FlagsError {
    #[error("--images DIR is required unless --gt names a COCO file")]
    NoImages,
    #[error("--run {spec:?}: expected NAME=PATH, e.g. --run candidate=results.json")]
    RunSyntax { spec: String },
    #[error("--run {spec:?}: the run name must be a word, e.g. candidate")]
    RunName { spec: String },
    #[error("--class {spec:?}: expected ID=NAME[:region|finding], e.g. --class 1=left_lung:region")]
    Class { spec: String },
    #[error("{flag} {spec}: {source}")]
    Undetected {
        flag: &'static str,
        spec: String,
        source: DetectError,
    },
    #[error("{flag} {spec}: a second {kind} source for the same set; give one per kind")]
    SecondSource {
        flag: &'static str,
        spec: String,
        kind: String,
    },
    #[error("{}: {source}", path.display())]
    Resolve { path: PathBuf, source: std::io::Error },
    #[error(
        "{} is outside {}; a pack's files must be inside its folder. Run init in a folder that holds them all (or pass -o DIR)",
        path.display(),
        dir.display()
    )]
    Outside { path: PathBuf, dir: PathBuf },
}

/// Why a source's kind could not be told from its content.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("{0}")]
    Read(std::io::Error),
    #[error("the folder holds no .png masks, .txt YOLO labels or .npy maps; prefix the kind, e.g. masks:DIR")]
    EmptyFolder,
    #[error("no such file or folder")]
    Missing,
    #[error("cannot tell what this is; prefix the kind ({})", KINDS.join(", "))]
    Unknown,
}

/// Sources given on the command line.
#[derive(Debug, Clone, Default)]
pub struct FlagSources {
    pub images: Option<PathBuf>,
    /// `[KIND:]PATH`, repeatable.
    pub ground_truth: Vec<String>,
    /// `NAME=[KIND:]PATH`, repeatable (the same name several times adds sources to one run).
    pub runs: Vec<String>,
    /// `ID=NAME[:region|finding]`, repeatable.
    pub classes: Vec<String>,
    pub rules: Option<PathBuf>,
    pub name: Option<String>,
}

impl FlagSources {
    pub fn is_empty(&self) -> bool {
        self.images.is_none() && self.ground_truth.is_empty() && self.runs.is_empty()
    }

    pub fn to_manifest(&self) -> Result<Manifest, FlagsError> {
        let mut ground_truth = Sources::default();
        for g in &self.ground_truth {
            add_source(&mut ground_truth, g, "--gt")?;
        }
        // a COCO file names its images relative to a folder: by default, the file's own
        // (enough for metrics, which never read an image)
        let images = match (&self.images, &ground_truth.coco) {
            (Some(i), _) => i.clone(),
            (None, Some(c)) => match c.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            },
            (None, None) => return Err(FlagsError::NoImages),
        };
        let mut runs: IndexMap<String, Sources> = IndexMap::new();
        for r in &self.runs {
            let (name, path) = r
                .split_once('=')
                .ok_or_else(|| FlagsError::RunSyntax { spec: r.clone() })?;
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(FlagsError::RunName { spec: r.clone() });
            }
            add_source(runs.entry(name.to_string()).or_default(), path, "--run")?;
        }
        let mut classes = Vec::new();
        for c in &self.classes {
            classes.push(parse_class(c)?);
        }
        let name = self.name.clone().unwrap_or_else(|| default_name(&images));
        Ok(Manifest {
            name,
            version: None,
            description: None,
            images,
            rules: self.rules.clone(),
            classes,
            ground_truth,
            runs,
            review: Default::default(),
            read_outside: Vec::new(),
        })
    }
}

/// A pack's name from its image folder: the folder's name, or its parent's when the folder has a
/// generic name (`images`, `JPEGImages`).
fn default_name(images: &Path) -> String {
    let abs = images.canonicalize().unwrap_or_else(|_| images.to_path_buf());
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    match name(&abs) {
        Some(n) if !["images", "jpegimages", "imgs", "img"].contains(&n.to_ascii_lowercase().as_str()) => n,
        _ => abs.parent().and_then(name).unwrap_or_else(|| "pack".into()),
    }
}

fn parse_class(s: &str) -> Result<ClassSpec, FlagsError> {
    let err = || FlagsError::Class { spec: s.to_string() };
    let (id, rest) = s.split_once('=').ok_or_else(err)?;
    let id: u32 = id.trim().parse().map_err(|_| err())?;
    let (name, kind) = match rest.split_once(':') {
        Some((n, "region")) => (n, ClassKind::Region),
        Some((n, "finding")) => (n, ClassKind::Finding),
        Some(_) => return Err(err()),
        None => (rest, ClassKind::Finding),
    };
    if name.is_empty() {
        return Err(err());
    }
    Ok(ClassSpec {
        id,
        name: name.to_string(),
        kind,
        color: None,
        mask_value: None,
    })
}

/// The kinds of source a path can be.
const KINDS: &[&str] = &["coco", "masks", "probabilities", "yolo", "scores"];

fn add_source(s: &mut Sources, spec: &str, flag: &'static str) -> Result<(), FlagsError> {
    let (kind, path) = match spec.split_once(':') {
        Some((k, p)) if KINDS.contains(&k) => (k.to_string(), PathBuf::from(p)),
        _ => {
            let p = PathBuf::from(spec);
            let kind = detect(&p).map_err(|source| FlagsError::Undetected {
                flag,
                spec: spec.to_string(),
                source,
            })?;
            (kind.to_string(), p)
        }
    };
    let slot = match kind.as_str() {
        "coco" => &mut s.coco,
        "masks" => &mut s.masks,
        "probabilities" => &mut s.probabilities,
        "yolo" => &mut s.yolo,
        _ => &mut s.scores,
    };
    if slot.is_some() {
        return Err(FlagsError::SecondSource {
            flag,
            spec: spec.to_string(),
            kind,
        });
    }
    *slot = Some(path);
    Ok(())
}

/// Recognise a source by its content: COCO JSON, scores JSON/CSV, or a folder of PNG masks,
/// YOLO text files or probability arrays.
pub fn detect(p: &Path) -> Result<&'static str, DetectError> {
    if p.to_string_lossy().contains("{stem}") {
        return Ok("masks");
    }
    if p.is_dir() {
        let mut exts = std::collections::BTreeMap::<String, usize>::new();
        for e in std::fs::read_dir(p).map_err(DetectError::Read)?.flatten() {
            if let Some(x) = e.path().extension() {
                *exts.entry(x.to_string_lossy().to_ascii_lowercase()).or_default() += 1;
            }
        }
        let n = |k: &str| exts.get(k).copied().unwrap_or(0);
        return if n("txt") > 0 && n("txt") >= n("png") {
            Ok("yolo")
        } else if n("npy") > 0 {
            Ok("probabilities")
        } else if n("png") > 0 || n("nii") > 0 || n("gz") > 0 {
            Ok("masks")
        } else {
            Err(DetectError::EmptyFolder)
        };
    }
    if !p.exists() {
        return Err(DetectError::Missing);
    }
    match p
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("csv") => Ok("scores"),
        Some("json") => {
            use std::io::Read;
            let mut head = vec![0u8; 64 * 1024];
            let n = std::fs::File::open(p)
                .and_then(|mut f| f.read(&mut head))
                .map_err(DetectError::Read)?;
            let text = String::from_utf8_lossy(&head[..n]);
            if ["\"image_id\"", "\"annotations\"", "\"images\"", "\"categories\""]
                .iter()
                .any(|k| text.contains(k))
            {
                Ok("coco")
            } else {
                Ok("scores")
            }
        }
        _ => Err(DetectError::Unknown),
    }
}

/// Rewrite a manifest's paths relative to `dir` (where `lightbox init` writes it); every path
/// must lie inside `dir`.
pub fn relative_to(m: &Manifest, dir: &Path) -> Result<Manifest, FlagsError> {
    let resolve = |p: &Path| {
        p.canonicalize().map_err(|source| FlagsError::Resolve {
            path: p.to_path_buf(),
            source,
        })
    };
    let base = resolve(dir)?;
    let rel = |p: &Path| -> Result<PathBuf, FlagsError> {
        let abs = resolve(p)?;
        abs.strip_prefix(&base)
            .map(Path::to_path_buf)
            .map_err(|_| FlagsError::Outside {
                path: p.to_path_buf(),
                dir: dir.to_path_buf(),
            })
    };
    let mut out = m.clone();
    out.images = rel(&m.images)?;
    if let Some(r) = &m.rules {
        out.rules = Some(rel(r)?);
    }
    let fix = |s: &Sources| -> Result<Sources, FlagsError> {
        let mut o = s.clone();
        for slot in [
            &mut o.coco,
            &mut o.masks,
            &mut o.probabilities,
            &mut o.yolo,
            &mut o.scores,
        ] {
            if let Some(p) = slot.as_ref() {
                *slot = Some(rel(p)?);
            }
        }
        Ok(o)
    };
    out.ground_truth = fix(&m.ground_truth)?;
    for (k, v) in &m.runs {
        out.runs.insert(k.clone(), fix(v)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_of_unknown_kind_names_the_flag_and_the_kinds() {
        let f = FlagSources {
            images: Some(PathBuf::from("images")),
            ground_truth: vec!["Cargo.lock".into()],
            ..FlagSources::default()
        };
        let e = f.to_manifest().unwrap_err();
        assert!(matches!(e, FlagsError::Undetected { flag: "--gt", .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "--gt Cargo.lock: cannot tell what this is; prefix the kind (coco, masks, probabilities, yolo, scores)"
        );
    }
}

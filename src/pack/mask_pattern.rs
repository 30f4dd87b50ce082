//! Mask file naming: a `masks` source is a folder of masks named `<stem>.png` (or NIfTI label
//! volumes `<stem>.nii[.gz]`), or a pattern whose last component holds `{stem}`, e.g.
//! `images/{stem}-mask.png` for masks kept beside their images.

use super::paths::relative_slash;
use std::path::{Path, PathBuf};

/// Where a `masks` source points: the folder, and the file name around `{stem}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MaskPattern {
    pub dir: PathBuf,
    pub prefix: String,
    pub suffix: String,
}

impl MaskPattern {
    pub fn new(p: &Path) -> MaskPattern {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match name.split_once("{stem}") {
            Some((prefix, suffix)) => MaskPattern {
                dir: p.parent().map(Path::to_path_buf).unwrap_or_default(),
                prefix: prefix.to_string(),
                suffix: suffix.to_string(),
            },
            None => MaskPattern {
                dir: p.to_path_buf(),
                prefix: String::new(),
                suffix: ".png".into(),
            },
        }
    }

    /// A plain mask folder (no `{stem}` pattern).
    pub fn is_default(&self) -> bool {
        self.prefix.is_empty() && self.suffix == ".png"
    }

    /// The case stem a file under `dir` stands for, if its name fits the pattern.
    pub fn stem_of(&self, file: &Path) -> Option<String> {
        let rel = relative_slash(&self.dir, file)?;
        let (sub, name) = match rel.rsplit_once('/') {
            Some((d, n)) => (format!("{d}/"), n.to_string()),
            None => (String::new(), rel.clone()),
        };
        let lower = name.to_ascii_lowercase();
        // a plain mask folder holds PNG label masks or NIfTI label volumes
        let suffixes: Vec<String> = if self.is_default() {
            vec![".png".into(), ".nii.gz".into(), ".nii".into()]
        } else {
            vec![self.suffix.to_ascii_lowercase()]
        };
        let suffix = suffixes.iter().find(|x| lower.ends_with(x.as_str()))?;
        if name.len() < self.prefix.len() + suffix.len() || !name.starts_with(&self.prefix) {
            return None;
        }
        let core = &name[self.prefix.len()..name.len() - suffix.len()];
        (!core.is_empty()).then(|| format!("{sub}{core}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stem_pattern_is_split_around_the_stem() {
        let m = MaskPattern::new(Path::new("pack/images/{stem}-mask.png"));
        assert_eq!(
            m,
            MaskPattern {
                dir: PathBuf::from("pack/images"),
                prefix: String::new(),
                suffix: "-mask.png".into()
            }
        );
        assert!(!m.is_default());
        assert_eq!(
            m.stem_of(Path::new("pack/images/chest-01-mask.png")).as_deref(),
            Some("chest-01")
        );
        assert_eq!(
            m.stem_of(Path::new("pack/images/sub/a-mask.PNG")).as_deref(),
            Some("sub/a")
        );
        // the image beside it is not a mask, nor a mask with nothing for the stem
        assert_eq!(m.stem_of(Path::new("pack/images/chest-01.png")), None);
        assert_eq!(m.stem_of(Path::new("pack/images/-mask.png")), None);
        let m = MaskPattern::new(Path::new("masks/seg_{stem}.png"));
        assert_eq!(m.stem_of(Path::new("masks/seg_a.png")).as_deref(), Some("a"));
        assert_eq!(m.stem_of(Path::new("masks/a.png")), None);
    }

    #[test]
    fn a_plain_folder_takes_png_and_nifti_masks_by_stem() {
        let m = MaskPattern::new(Path::new("pack/gt"));
        assert!(m.is_default());
        assert_eq!(m.dir, PathBuf::from("pack/gt"));
        assert_eq!(m.stem_of(Path::new("pack/gt/a.png")).as_deref(), Some("a"));
        assert_eq!(m.stem_of(Path::new("pack/gt/ct/b.nii.gz")).as_deref(), Some("ct/b"));
        assert_eq!(m.stem_of(Path::new("pack/gt/c.nii")).as_deref(), Some("c"));
        assert_eq!(m.stem_of(Path::new("pack/gt/notes.txt")), None);
    }

    #[test]
    fn a_file_outside_the_folder_is_no_mask() {
        let m = MaskPattern::new(Path::new("pack/gt"));
        assert_eq!(m.stem_of(Path::new("pack/other/a.png")), None);
        assert_eq!(m.stem_of(Path::new("pack/gtx/a.png")), None);
        assert_eq!(m.stem_of(Path::new("/elsewhere/a.png")), None);
    }

    #[test]
    fn names_are_matched_literally_not_as_patterns() {
        // dots, spaces, brackets and a second `{stem}` in a file name are just characters
        let m = MaskPattern::new(Path::new("masks/[x] {stem}.seg.png"));
        assert_eq!((m.prefix.as_str(), m.suffix.as_str()), ("[x] ", ".seg.png"));
        assert_eq!(
            m.stem_of(Path::new("masks/[x] a.b c.seg.png")).as_deref(),
            Some("a.b c")
        );
        assert_eq!(m.stem_of(Path::new("masks/x a.seg.png")), None);
        assert_eq!(
            m.stem_of(Path::new("masks/[x] {stem}.seg.png")).as_deref(),
            Some("{stem}")
        );
    }
}

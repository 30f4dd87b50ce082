//! DICOM series: a CT or MR volume written one file per slice, in a folder. The folder is read as
//! one image whose frames are its slices in patient order (by Image Position (Patient) along the
//! slice normal, else Instance Number, else file name), so the dashboard, `render --slice` and
//! the rules see a series as they see a multi-frame file.

use super::pixels::{ImageError, PixelImage};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

/// A series folder's slices, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub slices: Vec<PathBuf>,
    /// Distance between consecutive slice positions (mm), when the files state positions.
    pub spacing: Option<f64>,
}

/// Whether a file starts like a DICOM file (a 128-byte preamble, then "DICM").
fn is_dicom_file(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 132];
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    super::dicom::is_dicom(&head[..n])
}

/// The DICOM files directly in `dir`, sorted by name (hidden files left out).
fn dicom_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
        .map(|e| e.path())
        .filter(|p| is_dicom_file(p))
        .collect();
    out.sort();
    Ok(out)
}

/// Read a series folder: every DICOM file in it must be one single-frame slice of the same size
/// and series.
fn read(dir: &Path) -> Result<Series, ImageError> {
    let files = dicom_files(dir).map_err(|e| ImageError::Io(format!("{}: {e}", dir.display())))?;
    if files.is_empty() {
        return Err(ImageError::Corrupt(format!(
            "{}: a folder given as an image holds no DICOM files",
            dir.display()
        )));
    }
    let mut slices = Vec::with_capacity(files.len());
    let mut first: Option<(PathBuf, super::dicom::SliceInfo)> = None;
    for f in files {
        let info = super::dicom::slice_info(&f).map_err(|e| ImageError::Corrupt(format!("{}: {e}", f.display())))?;
        if info.frames != 1 {
            return Err(ImageError::Unsupported(format!(
                "{}: a series folder holds single-frame slices; this file has {} frames (NumberOfFrames): open it on its own",
                f.display(),
                info.frames
            )));
        }
        if let Some((p, one)) = &first {
            if (info.rows, info.cols) != (one.rows, one.cols) {
                return Err(ImageError::Corrupt(format!(
                    "{}: slice is {}×{} (Columns×Rows) but {} is {}×{}: one series has one size",
                    f.display(),
                    info.cols,
                    info.rows,
                    p.display(),
                    one.cols,
                    one.rows
                )));
            }
            if info.series != one.series {
                return Err(ImageError::Corrupt(format!(
                    "{}: SeriesInstanceUID differs from {}'s: put each series in its own folder",
                    f.display(),
                    p.display()
                )));
            }
        } else {
            first = Some((f.clone(), info.clone()));
        }
        slices.push((f, info));
    }
    slices.sort_by(|(a, ia), (b, ib)| {
        let pos = match (ia.position, ib.position) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => std::cmp::Ordering::Equal,
        };
        pos.then(ia.instance.cmp(&ib.instance)).then(a.cmp(b))
    });
    let positions: Vec<f64> = slices.iter().filter_map(|(_, i)| i.position).collect();
    let spacing = (positions.len() == slices.len() && positions.len() > 1)
        .then(|| (positions[positions.len() - 1] - positions[0]) / (positions.len() - 1) as f64)
        .map(f64::abs);
    Ok(Series {
        slices: slices.into_iter().map(|(p, _)| p).collect(),
        spacing,
    })
}

type Cache = Mutex<HashMap<PathBuf, (Option<SystemTime>, Arc<Series>)>>;

/// A series folder, read once and kept until the folder changes.
pub fn open(dir: &Path) -> Result<Arc<Series>, ImageError> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let stamp = std::fs::metadata(dir).and_then(|m| m.modified()).ok();
    if let Some((t, s)) = cache.lock().ok().and_then(|c| c.get(dir).cloned())
        && t == stamp
    {
        return Ok(s);
    }
    let s = Arc::new(read(dir)?);
    if let Ok(mut c) = cache.lock() {
        c.insert(dir.to_path_buf(), (stamp, s.clone()));
    }
    Ok(s)
}

/// Decode slice `frame` of a series folder.
pub fn decode(dir: &Path, frame: u32) -> Result<PixelImage, ImageError> {
    let s = open(dir)?;
    let path = s.slices.get(frame as usize).ok_or_else(|| {
        ImageError::Corrupt(format!(
            "slice {} asked for, the series has {}",
            frame + 1,
            s.slices.len()
        ))
    })?;
    let mut img = super::dicom::decode(path, 0).map_err(|e| ImageError::Corrupt(format!("{}: {e}", path.display())))?;
    if let Some(scan) = img.scan.as_mut() {
        let mut sc = (**scan).clone();
        sc.frames = s.slices.len() as u32;
        *scan = Arc::new(sc);
    }
    Ok(img)
}

/// The folders under `root` (not `root` itself) that hold one DICOM series of single-frame
/// slices, two or more: each is read as one volume. `files` is every file under `root`.
pub fn folders(root: &Path, files: &[PathBuf]) -> Vec<PathBuf> {
    let mut by_dir: HashMap<&Path, usize> = HashMap::new();
    for f in files {
        if let Some(d) = f.parent()
            && d != root
        {
            *by_dir.entry(d).or_default() += 1;
        }
    }
    let mut dirs: Vec<PathBuf> = by_dir
        .into_iter()
        .filter(|(_, n)| *n >= 2)
        .map(|(d, _)| d.to_path_buf())
        .filter(|d| {
            let Ok(files) = dicom_files(d) else {
                return false;
            };
            if files.len() < 2 {
                return false;
            }
            let infos: Vec<_> = files.iter().map(|f| super::dicom::slice_info(f).ok()).collect();
            let series = infos.first().and_then(|i| i.as_ref()).and_then(|i| i.series.clone());
            series.is_some()
                && infos
                    .iter()
                    .all(|i| i.as_ref().is_some_and(|i| i.frames == 1 && i.series == series))
        })
        .collect();
    dirs.sort();
    dirs
}

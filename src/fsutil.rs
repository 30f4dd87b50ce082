//! File writing that never leaves a half-written file behind: write a temporary file beside the
//! target, flush it to disk, then rename it over the target. And reading the small JSON files
//! lightbox keeps beside a pack's data (tags, saved views), with errors that name the place.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Why a JSON file lightbox keeps could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadJsonError {
    #[error("{}: cannot read: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error(
        "{}:{line}:{column}: {source}. Fix or move the file aside; lightbox will not overwrite it",
        path.display()
    )]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        source: serde_json::Error,
    },
}

/// The file parsed as `T`; `None` when there is no file.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, ReadJsonError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ReadJsonError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| ReadJsonError::Syntax {
            path: path.to_path_buf(),
            line: source.line(),
            column: source.column(),
            source,
        })
}

pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_renamed(path, bytes, true)
}

/// As [`write_atomic`] without the flush to disk: never half a file under the name, but after a
/// power cut the file may be missing. For bulk copies (an export's images and masks) whose
/// loss is recoverable, where a flush per file would dominate the time.
pub fn write_replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_renamed(path, bytes, false)
}

fn write_renamed(path: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        if sync {
            f.sync_all()?;
        }
    }
    std::fs::rename(&tmp, path)
}

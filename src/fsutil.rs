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
    #[error("{}: {what}, not a file lightbox wrote. Move it aside; lightbox will not overwrite it", path.display())]
    NotAFile { path: PathBuf, what: &'static str },
    #[error("{}: {bytes} bytes, larger than a file lightbox writes here ({MAX_JSON} at most). Move it aside", path.display())]
    TooLarge { path: PathBuf, bytes: u64 },
}

/// The largest JSON file [`read_json`] reads (its files hold tags and views, kilobytes).
pub const MAX_JSON: u64 = 256 << 20;

/// The file parsed as `T`; `None` when there is no file.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, ReadJsonError> {
    // a FIFO or a device under the name would block the open or never end: look before reading
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ReadJsonError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
        Ok(m) if m.is_dir() => {
            return Err(ReadJsonError::NotAFile {
                path: path.to_path_buf(),
                what: "a folder",
            });
        }
        Ok(m) if !m.is_file() => {
            return Err(ReadJsonError::NotAFile {
                path: path.to_path_buf(),
                what: "a pipe, socket or device",
            });
        }
        Ok(m) if m.len() > MAX_JSON => {
            return Err(ReadJsonError::TooLarge {
                path: path.to_path_buf(),
                bytes: m.len(),
            });
        }
        Ok(_) => {}
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_or_folder_under_the_name_is_refused_at_once_not_read() {
        let t = tempfile::tempdir().unwrap();
        let fifo = t.path().join("views.json");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        // before the check this open blocked until a writer came, freezing the dashboard's start
        let e = read_json::<serde_json::Value>(&fifo).unwrap_err();
        assert!(matches!(e, ReadJsonError::NotAFile { .. }), "{e}");
        assert!(e.to_string().contains("views.json: a pipe, socket or device"), "{e}");
        let dir = t.path().join("tags.json");
        std::fs::create_dir(&dir).unwrap();
        let e = read_json::<serde_json::Value>(&dir).unwrap_err();
        assert!(e.to_string().contains("tags.json: a folder"), "{e}");
        assert!(
            read_json::<serde_json::Value>(&t.path().join("absent.json"))
                .unwrap()
                .is_none()
        );
    }
}

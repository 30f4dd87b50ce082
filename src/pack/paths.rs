//! Paths named inside a pack stay inside it: a manifest or a COCO `file_name` with `..` that
//! leaves the pack, or an absolute path, is refused (a pack must be movable and must not make
//! lightbox read files the pack's author did not ship).

use std::path::{Component, Path, PathBuf};

/// Join `rel` onto `base`, refusing absolute paths and `..` that climb out of `base`.
pub fn join_inside(base: &Path, rel: &Path) -> Result<PathBuf, String> {
    if rel.is_absolute() || rel.has_root() {
        return Err(format!(
            "{} is an absolute path; paths in a pack are relative to it",
            rel.display()
        ));
    }
    let mut depth: i64 = 0;
    for c in rel.components() {
        match c {
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!("{} leaves the pack (`..` climbs above it)", rel.display()));
                }
            }
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::Prefix(_) | Component::RootDir => {
                return Err(format!(
                    "{} is an absolute path; paths in a pack are relative to it",
                    rel.display()
                ));
            }
        }
    }
    Ok(base.join(rel))
}

/// `path` relative to `base` with `/` separators (for case ids), if it is under `base`.
pub fn relative_slash(base: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(base).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

/// Every file under `dir` (recursively), sorted, skipping hidden entries.
pub fn walk_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let ft = entry.file_type()?;
            if ft.is_dir() {
                stack.push(entry.path());
            } else if ft.is_file() || ft.is_symlink() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_refused() {
        let b = Path::new("/pack");
        assert!(join_inside(b, Path::new("../x.png")).is_err());
        assert!(join_inside(b, Path::new("a/../../x.png")).is_err());
        assert!(join_inside(b, Path::new("/etc/passwd")).is_err());
        assert_eq!(
            join_inside(b, Path::new("a/../x.png")).unwrap(),
            Path::new("/pack/a/../x.png")
        );
    }
}

//! The pack is a boundary: every file it reads lies inside the pack's folder once symbolic links
//! are resolved. Paths with `..` or absolute paths are refused where they are named
//! ([`super::paths::join_inside`]); this catches what a name cannot show, a link inside the pack
//! that points outside it (`images/a.png -> /home/someone/secret.png`). Loading, `export` and
//! the sign-off record would otherwise read, copy and hash files the pack's author never
//! shipped. A manifest may name folders outside the pack that links may point into
//! (`read_outside = ["/mnt/archive"]`): an explicit, reviewable decision.

use super::paths::walk_files;
use super::problem::Problem;
use super::{MANIFEST_FILE, Pack};
use std::path::{Path, PathBuf};

/// Every file the pack reads: images, ground-truth and run files (folders walked), the rules
/// file, each run's model and its card.
pub fn files_read(pack: &Pack) -> Vec<PathBuf> {
    let Some(root) = &pack.root else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = pack.cases.iter().map(|c| c.image.clone()).collect();
    let sources = std::iter::once(&pack.manifest.ground_truth).chain(pack.manifest.runs.values());
    for s in sources {
        for (_, p) in s.paths() {
            let mut p = root.join(p);
            // `masks/{stem}.png`: the folder the pattern lies in
            while p.to_string_lossy().contains("{stem}") {
                if !p.pop() {
                    break;
                }
            }
            if p.is_dir() {
                out.extend(walk_files(&p).unwrap_or_default());
            } else {
                out.push(p);
            }
        }
        // a model named by an absolute path is named explicitly (`lightbox infer` writes one);
        // one named inside the pack must not be a link out of it
        if let Some(m) = s.model_file.as_ref().filter(|m| m.is_relative()) {
            let m = root.join(m);
            out.push(crate::infer::ModelSpec::beside(&m));
            out.push(m);
        }
    }
    if let Some(r) = &pack.manifest.rules {
        out.push(root.join(r));
    }
    out.push(root.join(MANIFEST_FILE));
    // byte order: the same file named twice sorts together (faster than by components)
    out.sort_unstable_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
    out.dedup();
    out
}

/// One error per file whose real path lies outside the pack (and outside `read_outside`).
pub fn check(pack: &Pack) -> Vec<Problem> {
    let Some(root) = &pack.root else {
        return Vec::new();
    };
    let Ok(real_root) = root.canonicalize() else {
        return Vec::new();
    };
    let allowed: Vec<PathBuf> = pack
        .manifest
        .read_outside
        .iter()
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    let inside = |real: &Path| real.starts_with(&real_root) || allowed.iter().any(|a| real.starts_with(a));
    let mut out = Vec::new();
    // a file that is not itself a link lies where its folder really is: each folder is
    // resolved once (a 10,000-case pack has a handful), each file only checked for being a link
    let mut folders: std::collections::HashMap<PathBuf, Option<PathBuf>> = std::collections::HashMap::new();
    let files = files_read(pack);
    let metas: Vec<_> = {
        use rayon::prelude::*;
        files.par_iter().map(|f| f.symlink_metadata().ok()).collect()
    };
    for (f, meta) in files.into_iter().zip(metas) {
        // a file that does not exist is reported where it is read
        let Some(meta) = meta else {
            continue;
        };
        let real = match (meta.file_type().is_symlink(), f.parent(), f.file_name()) {
            (false, Some(dir), Some(name)) => {
                let real_dir = folders
                    .entry(dir.to_path_buf())
                    .or_insert_with(|| dir.canonicalize().ok());
                match real_dir {
                    Some(d) => d.join(name),
                    None => continue,
                }
            }
            _ => match f.canonicalize() {
                Ok(r) => r,
                Err(_) => continue,
            },
        };
        if inside(&real) {
            continue;
        }
        let shown = f.strip_prefix(root).map(Path::to_path_buf).unwrap_or(f.clone());
        let mut p = Problem::error(
            &shown,
            "",
            if meta.file_type().is_symlink() {
                format!("is a symbolic link to {}, outside the pack's folder", real.display())
            } else {
                format!(
                    "lies in a folder that is a symbolic link: its real path {} is outside the pack's folder",
                    real.display()
                )
            },
        )
        .hint(format!(
            "Copy the file into the pack, or name the folder it lies in under `read_outside` in {MANIFEST_FILE} if the pack may read it"
        ));
        if let Some(i) = pack.cases.iter().position(|c| c.image == f) {
            p = p.on_case(i);
        }
        out.push(p);
    }
    out
}

/// Check `read_outside` itself: absolute folders that exist.
pub fn check_manifest(pack: &Pack) -> Vec<Problem> {
    pack.manifest
        .read_outside
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let msg = if !p.is_absolute() {
                format!(
                    "{} is relative; `read_outside` names absolute folders outside the pack",
                    p.display()
                )
            } else if !p.is_dir() {
                format!("{} is not a folder", p.display())
            } else {
                return None;
            };
            Some(
                Problem::error(MANIFEST_FILE, format!("read_outside[{i}]"), msg)
                    .hint("Name the absolute folders (e.g. \"/mnt/archive\") the pack's links may point into"),
            )
        })
        .collect()
}

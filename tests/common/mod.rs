//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod mini;

use std::path::{Path, PathBuf};

/// The bundled sample pack.
pub fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/chest-phantom")
}

/// Copy a folder recursively (a pack to change without touching the original).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// Whether every fixture, runtime and tool the tests use must be here. scripts/test.sh (what CI
/// runs) provides them all and sets `LIGHTBOX_REQUIRE_FIXTURES`: a missing one is then a failure,
/// so that a suite which could not test something never passes in silence. A plain `cargo test`
/// skips such tests with a note.
pub fn fixtures_required() -> bool {
    std::env::var_os("LIGHTBOX_REQUIRE_FIXTURES").is_some()
}

/// A fixture, runtime or tool the test needs is missing: a note and a skip, or under
/// scripts/test.sh a failure that says what is missing.
pub fn skip_missing(what: &str) {
    if fixtures_required() {
        panic!("{what} is missing, and scripts/test.sh should have provided it (LIGHTBOX_REQUIRE_FIXTURES is set)");
    }
    eprintln!("skipped: {what} is missing (scripts/test.sh provides it)");
}

/// `../shared/data`: real public data beside the repository, not part of it. Tests on it run where
/// a checkout has it (scripts/test.sh then requires the files they read) and are skipped with a
/// note where it is absent.
pub fn shared_data() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: ../shared/data is absent (real data beside the repository, not in it)");
        None
    }
}

/// A file or folder in `../shared/data`; `None` (skipped) when `../shared/data` is absent, a
/// failure under scripts/test.sh when it is there without this file.
pub fn shared_file(rel: &str) -> Option<PathBuf> {
    let p = shared_data()?.join(rel);
    if p.exists() {
        Some(p)
    } else {
        skip_missing(&format!("{} (in ../shared/data)", p.display()));
        None
    }
}

/// Compare a rendered image with its golden PNG in tests/golden. A missing golden is a failure
/// (it would pass anything); `LIGHTBOX_UPDATE_GOLDEN=1` writes it — then look at it before
/// committing.
pub fn check_golden_png(name: &str, got: &image::RgbImage) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let path = dir.join(format!("{name}.png"));
    if std::env::var_os("LIGHTBOX_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        got.save(&path).unwrap();
        return;
    }
    assert!(
        path.exists(),
        "{}: no golden image; run with LIGHTBOX_UPDATE_GOLDEN=1 to write it, and look at it before committing",
        path.display()
    );
    let want = image::open(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    let differing = got.pixels().zip(want.pixels()).filter(|(a, b)| a != b).count();
    if want.dimensions() != got.dimensions() || differing > 0 {
        let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/golden-actual");
        std::fs::create_dir_all(&out).unwrap();
        got.save(out.join(format!("{name}.png"))).unwrap();
        panic!(
            "{name}: {differing} pixels differ from {} (sizes {:?} and {:?}; the actual image is in target/golden-actual/); LIGHTBOX_UPDATE_GOLDEN=1 rewrites it",
            path.display(),
            got.dimensions(),
            want.dimensions()
        );
    }
}

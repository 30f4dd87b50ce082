//! A seeded mutation fuzzer that CI runs (stable Rust: no cargo-fuzz). For every format a reader
//! takes, a valid file is mutated (bit flips, random bytes, cut, duplicated or deleted ranges,
//! numbers replaced by extremes: `1e308`, `-1`, `nan`, `99999999999`, wrong types) and fed to
//! lightbox's readers in-process, as a pack loads it, then validated, checked with rules,
//! evaluated (COCO metrics) and, for images, decoded. Each input must end in a loaded pack or in
//! problems that name a file: never a panic, never an abort, never more than `MEMORY_BOUND`
//! bytes held at once (a counting allocator measures the peak).
//!
//! `LIGHTBOX_FUZZ_ITERATIONS` sets the inputs per format (default 400; CI's scripts/test.sh sets
//! 2000), `LIGHTBOX_FUZZ_SEED` the seed, `LIGHTBOX_FUZZ_MEMORY_MIB` the memory bound in MiB (64), `LIGHTBOX_FUZZ_FORMATS` a comma-separated subset. The
//! input being tried is written to `target/fuzz/current-<format>.bin` first, so a crash leaves
//! its reproducer; inputs that fail are kept in `target/fuzz/`. docs/formats.md says how to run
//! a long campaign.
// tests: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::mini::{MANIFEST, mini_pack, png_gray, write};
use lightbox::pack::Pack;
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        CURRENT.fetch_sub(l.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            if new >= l.size() {
                let now = CURRENT.fetch_add(new - l.size(), Ordering::Relaxed) + new - l.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(l.size() - new, Ordering::Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// No input of a few kilobytes may make a reader hold more than this at once.
const MEMORY_BOUND: usize = 64 << 20;

/// xorshift64*: small, seeded, the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

const EXTREMES: &[&str] = &[
    "1e308",
    "-1e308",
    "1e9",
    "-1",
    "0",
    "nan",
    "NaN",
    "inf",
    "-0",
    "99999999999",
    "4294967296",
    "65536",
    "0.5",
    "\"x\"",
    "[]",
    "{}",
    "null",
    "true",
    "[1e9, 1e9]",
    "\"../../etc/passwd\"",
    "",
];

/// One to four mutations of `seed`; text formats also get token-aware ones.
fn mutate(seed: &[u8], rng: &mut Rng, text: bool) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let n = b.len().max(1);
        match rng.below(if text { 9 } else { 6 }) {
            0 => {
                let i = rng.below(n);
                if i < b.len() {
                    b[i] ^= 1 << rng.below(8);
                }
            }
            1 => {
                let i = rng.below(n);
                if i < b.len() {
                    b[i] = rng.next() as u8;
                }
            }
            2 => b.truncate(rng.below(n)),
            3 => {
                let (i, k) = (rng.below(n), 1 + rng.below(64));
                let end = (i + k).min(b.len());
                if i < end {
                    b.drain(i..end);
                }
            }
            4 => {
                let (i, k) = (rng.below(n), 1 + rng.below(256));
                let end = (i + k).min(b.len());
                if i < end {
                    let part = b[i..end].to_vec();
                    let at = rng.below(b.len() + 1);
                    b.splice(at..at, part);
                }
            }
            5 => {
                let at = rng.below(b.len() + 1);
                let k = 1 + rng.below(16);
                let junk: Vec<u8> = (0..k).map(|_| rng.next() as u8).collect();
                b.splice(at..at, junk);
            }
            // a number (a run of digits, dots, signs, e) replaced by an extreme
            6 | 7 => {
                let starts: Vec<usize> = (0..b.len())
                    .filter(|&i| b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_alphanumeric()))
                    .collect();
                if let Some(&s) = starts.get(rng.below(starts.len())) {
                    let mut e = s;
                    while e < b.len() && (b[e].is_ascii_digit() || b"+-.eE".contains(&b[e])) {
                        e += 1;
                    }
                    let x = EXTREMES[rng.below(EXTREMES.len())].as_bytes().to_vec();
                    b.splice(s..e, x);
                }
            }
            _ => {
                let at = rng.below(b.len() + 1);
                let x = EXTREMES[rng.below(EXTREMES.len())].as_bytes().to_vec();
                b.splice(at..at, x);
            }
        }
    }
    b
}

/// A format: the file of the mini pack it replaces, how the pack is set up for it, and what is
/// exercised on it besides loading.
struct Format {
    name: &'static str,
    file: &'static str,
    text: bool,
    setup: fn(&Path),
}

fn jpeg_bytes() -> Vec<u8> {
    let img = image::RgbImage::from_fn(16, 12, |x, y| image::Rgb([(x * 15) as u8, (y * 20) as u8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

fn tiff_bytes() -> Vec<u8> {
    let img = image::GrayImage::from_fn(16, 12, |x, y| image::Luma([(x * 9 + y) as u8]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Tiff).unwrap();
    out.into_inner()
}

/// A NIfTI-1 volume (16 × 12 × 2, int16) written by hand.
fn nifti_bytes() -> Vec<u8> {
    let mut h = vec![0u8; 352];
    h[0..4].copy_from_slice(&348i32.to_le_bytes());
    for (i, d) in [3i16, 16, 12, 2, 1, 1, 1, 1].iter().enumerate() {
        h[40 + 2 * i..42 + 2 * i].copy_from_slice(&d.to_le_bytes());
    }
    h[70..72].copy_from_slice(&4i16.to_le_bytes()); // datatype int16
    h[72..74].copy_from_slice(&16i16.to_le_bytes()); // bitpix
    for (i, v) in [1f32, 0.8, 0.8, 2.5].iter().enumerate() {
        h[76 + 4 * i..80 + 4 * i].copy_from_slice(&v.to_le_bytes());
    }
    h[108..112].copy_from_slice(&352f32.to_le_bytes()); // vox_offset
    h[112..116].copy_from_slice(&1f32.to_le_bytes()); // scl_slope
    h[344..348].copy_from_slice(b"n+1\0");
    for k in 0..16 * 12 * 2i16 {
        h.extend_from_slice(&(k * 7 - 400).to_le_bytes());
    }
    h
}

/// A DICOM file from the vectors scripts/dicom_vectors.py writes (its own synthetic files and
/// pydicom's test files), by name; `None` when `LIGHTBOX_DICOM_VECTORS` is not set.
fn dicom_seed(name: &str) -> Option<PathBuf> {
    let v = std::env::var_os("LIGHTBOX_DICOM_VECTORS")?;
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&v).ok()?).ok()?;
    let f = PathBuf::from(json["cases"][name]["file"].as_str()?);
    f.is_file().then_some(f)
}

/// The DICOM files fuzzed, one per encoding dicom-rs reads differently.
const DICOM_SEEDS: [(&str, &str); 5] = [
    ("dicom", "synthetic_dx_monochrome1.dcm"),
    ("dicom-implicit", "MR_small_implicit.dcm"),
    ("dicom-bigendian", "MR_small_bigendian.dcm"),
    ("dicom-rle", "synthetic_ct_multiframe_rle.dcm"),
    ("dicom-jpeg2000", "MR_small_jp2klossless.dcm"),
];

fn dicom_setup(d: &Path, format: &str) {
    write(
        d,
        "lightbox.toml",
        "name = \"dx\"\nimages = \"images\"\n\n[[classes]]\nid = 1\nname = \"lung\"\n",
    );
    for f in ["a.png", "b.png"] {
        std::fs::remove_file(d.join("images").join(f)).unwrap();
    }
    let name = DICOM_SEEDS.iter().find(|(f, _)| *f == format).unwrap().1;
    let seed = dicom_seed(name).expect("checked before setup");
    std::fs::copy(seed, d.join("images/a.dcm")).unwrap();
}

const RULES: &str = r#"[settings]
orientation = "radiological"
ood_max_z = 6

[regions]
near = "dilate(hull(lung), 3px)"

[[rule]]
id = "lesion-near-lung"
kind = "containment"
severity = "major"
subject = "lesion"
region = "near"
min_fraction = 0.5

[[rule]]
id = "lung-one-piece"
kind = "components"
severity = "critical"
subject = "lung"
min = 1
max = 1
min_area = 4

[[rule]]
id = "lung-no-holes"
kind = "holes"
severity = "minor"
subject = "lung"
max = 0
min_area = 2
"#;

const CARD: &str = r#"[input]
layout = "nchw"
size = [32, 32]
resize = "letterbox"
pad = 114
color = "rgb"
scale = 0.00392156862745098
mean = [0.485, 0.456, 0.406]
std = [0.229, 0.224, 0.225]

[output]
kind = "segmentation"
activation = "sigmoid"
threshold = 0.5
classes = ["lung"]
"#;

fn formats() -> Vec<Format> {
    vec![
        Format {
            name: "coco-gt",
            file: "gt/instances.json",
            text: true,
            setup: |_| {},
        },
        Format {
            name: "coco-results",
            file: "runs/m/results.json",
            text: true,
            setup: |_| {},
        },
        Format {
            name: "label-png",
            file: "runs/m/masks/a.png",
            text: false,
            setup: |_| {},
        },
        Format {
            name: "png-16",
            file: "images/b.png",
            text: false,
            setup: |_| {},
        },
        Format {
            name: "jpeg",
            file: "images/a.png",
            text: false,
            setup: |d| std::fs::write(d.join("images/a.png"), jpeg_bytes()).unwrap(),
        },
        Format {
            name: "tiff",
            file: "images/a.png",
            text: false,
            setup: |d| std::fs::write(d.join("images/a.png"), tiff_bytes()).unwrap(),
        },
        Format {
            name: "probability-png",
            file: "runs/m/prob/a.lesion.png",
            text: false,
            setup: |_| {},
        },
        Format {
            name: "probability-npy",
            file: "runs/m/prob/a.npy",
            text: false,
            setup: |d| {
                std::fs::remove_file(d.join("runs/m/prob/a.lesion.png")).unwrap();
                let mut b = b"\x93NUMPY\x01\x00".to_vec();
                let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 12, 16), }     \n";
                b.extend_from_slice(&(header.len() as u16).to_le_bytes());
                b.extend_from_slice(header.as_bytes());
                for k in 0..2 * 12 * 16 {
                    b.extend_from_slice(&((k % 10) as f32 / 10.0).to_le_bytes());
                }
                std::fs::write(d.join("runs/m/prob/a.npy"), b).unwrap();
            },
        },
        Format {
            name: "scores-csv",
            file: "gt/labels.csv",
            text: true,
            setup: |_| {},
        },
        Format {
            name: "scores-json",
            file: "gt/labels.json",
            text: true,
            setup: |d| {
                write(d, "lightbox.toml", &MANIFEST.replace("gt/labels.csv", "gt/labels.json"));
                write(
                    d,
                    "gt/labels.json",
                    r#"{"a.png": {"lesion": 1}, "b.png": {"lesion": 0}}"#,
                );
            },
        },
        Format {
            name: "yolo",
            file: "runs/y/a.txt",
            text: true,
            setup: |d| {
                write(
                    d,
                    "lightbox.toml",
                    &MANIFEST.replace("[runs.m]", "[runs.y]\nyolo = \"runs/y\"\n\n[runs.m]"),
                );
                write(d, "runs/y/classes.txt", "lung\nlesion\n");
                write(d, "runs/y/a.txt", "1 0.5 0.5 0.2 0.2 0.8\n0 0.25 0.3 0.1 0.4 0.35\n");
            },
        },
        Format {
            name: "manifest",
            file: "lightbox.toml",
            text: true,
            setup: |_| {},
        },
        Format {
            name: "rules",
            file: "rules.toml",
            text: true,
            setup: |d| write(d, "rules.toml", RULES),
        },
        Format {
            name: "model-card",
            file: "model.onnx.toml",
            text: true,
            setup: |d| write(d, "model.onnx.toml", CARD),
        },
        Format {
            name: "nifti",
            file: "images/vol.nii",
            text: false,
            setup: |d| {
                write(
                    d,
                    "lightbox.toml",
                    "name = \"vol\"\nimages = \"images\"\n\n[[classes]]\nid = 1\nname = \"lung\"\n",
                );
                for f in ["a.png", "b.png"] {
                    std::fs::remove_file(d.join("images").join(f)).unwrap();
                }
                std::fs::write(d.join("images/vol.nii"), nifti_bytes()).unwrap();
            },
        },
        Format {
            name: "dicom",
            file: "images/a.dcm",
            text: false,
            setup: |d| dicom_setup(d, "dicom"),
        },
        Format {
            name: "dicom-implicit",
            file: "images/a.dcm",
            text: false,
            setup: |d| dicom_setup(d, "dicom-implicit"),
        },
        Format {
            name: "dicom-bigendian",
            file: "images/a.dcm",
            text: false,
            setup: |d| dicom_setup(d, "dicom-bigendian"),
        },
        Format {
            name: "dicom-rle",
            file: "images/a.dcm",
            text: false,
            setup: |d| dicom_setup(d, "dicom-rle"),
        },
        Format {
            name: "dicom-jpeg2000",
            file: "images/a.dcm",
            text: false,
            setup: |d| dicom_setup(d, "dicom-jpeg2000"),
        },
    ]
}

/// Everything lightbox does with a pack's files, in-process: load, validate, decode every image,
/// check the rules (the pack's `rules.toml` when there is one), evaluate every run. Returns
/// problems that do not name a file, and whether the input was rejected (an error anywhere).
fn exercise(dir: &Path, format: &Format) -> (Vec<String>, bool) {
    let mut unnamed = Vec::new();
    if format.name == "model-card" {
        let card = dir.join(format.file);
        match lightbox::infer::ModelSpec::read(&card) {
            Err(e) => {
                let e = e.to_string();
                if !e.contains("model.onnx.toml") {
                    unnamed.push(e);
                }
                return (unnamed, true);
            }
            Ok(spec) => {
                if let Ok(img) = lightbox::formats::image::decode(&dir.join("images/a.png")) {
                    let p = lightbox::infer::tensor::prepare(&img, &spec.input);
                    std::hint::black_box(p);
                }
            }
        }
        return (unnamed, false);
    }
    let pack = match Pack::open(dir) {
        Ok(p) => p,
        Err(e) => {
            let text = e.to_string();
            if !text.contains(".toml") && !text.contains(format.file) {
                unnamed.push(text);
            }
            return (unnamed, true);
        }
    };
    let v = lightbox::pack::validate::validate(&pack);
    let mut rejected = false;
    for p in pack.problems.iter().chain(&v.problems) {
        if p.file.as_os_str().is_empty() {
            unnamed.push(p.to_string());
        }
        rejected |= p.is_error();
    }
    for c in &pack.cases {
        let _ = lightbox::formats::image::decode(&c.image);
    }
    let rules = if format.name == "rules" {
        match lightbox::rules::RuleSet::load(&dir.join("rules.toml"), &pack) {
            Ok(r) => Some(r),
            Err(e) => {
                if e.file.as_os_str().is_empty() {
                    unnamed.push(e.to_string());
                }
                rejected = true;
                None
            }
        }
    } else {
        Some(lightbox::rules::RuleSet::empty())
    };
    if let Some(r) = rules {
        let sources = lightbox::rules::eval::all_sources(&pack);
        let _ = lightbox::check::check(&pack, &r, &sources, false);
    }
    let options = lightbox::metrics::Options {
        boundary: true,
        bootstrap: lightbox::metrics::classification::Bootstrap {
            resamples: 5,
            ..Default::default()
        },
        ..Default::default()
    };
    for r in 0..pack.runs.len() {
        let _ = lightbox::metrics::compute(&pack, r, &options);
    }
    (unnamed, rejected)
}

#[test]
fn no_mutated_input_crashes_or_goes_unnamed() {
    let iterations: usize = std::env::var("LIGHTBOX_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let seed: u64 = std::env::var("LIGHTBOX_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5EED_1B0C);
    let only: Option<Vec<String>> = std::env::var("LIGHTBOX_FUZZ_FORMATS")
        .ok()
        .map(|v| v.split(',').map(str::to_string).collect());
    let memory_bound = std::env::var("LIGHTBOX_FUZZ_MEMORY_MIB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(MEMORY_BOUND, |m| m << 20);
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz");
    std::fs::create_dir_all(&out).unwrap();
    let mut failures = Vec::new();
    let mut report = Vec::new();
    for format in formats() {
        if only.as_ref().is_some_and(|o| !o.iter().any(|n| n == format.name)) {
            continue;
        }
        if let Some((_, file)) = DICOM_SEEDS.iter().find(|(f, _)| *f == format.name)
            && dicom_seed(file).is_none()
        {
            eprintln!(
                "note: {file} not found (LIGHTBOX_DICOM_VECTORS, which scripts/test.sh sets): {} not fuzzed",
                format.name
            );
            continue;
        }
        let t = mini_pack();
        let d = t.path();
        (format.setup)(d);
        let target = d.join(format.file);
        let valid = std::fs::read(&target).unwrap();
        let (seeded, seed_rejected) = exercise(d, &format);
        assert!(
            seeded.is_empty() && !seed_rejected,
            "{}: the valid seed has unnamed problems: {seeded:?}",
            format.name
        );
        // each format its own stream: FNV-1a of its name
        let mut rng = Rng(seed
            ^ format.name.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
                (h ^ b as u64).wrapping_mul(0x100_0000_01B3)
            }));
        let (mut rejected, mut peak_max) = (0usize, 0usize);
        let started = std::time::Instant::now();
        for i in 0..iterations {
            let input = mutate(&valid, &mut rng, format.text);
            let current = out.join(format!("current-{}.bin", format.name));
            std::fs::write(&current, &input).unwrap();
            std::fs::write(&target, &input).unwrap();
            let base = CURRENT.load(Ordering::Relaxed);
            PEAK.store(base, Ordering::Relaxed);
            // panics are caught and counted; their messages would drown the report
            let hook = std::panic::take_hook();
            std::panic::set_hook(Box::new(|_| {}));
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| exercise(d, &format)));
            std::panic::set_hook(hook);
            let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
            peak_max = peak_max.max(peak);
            let failed = match &result {
                Err(p) => Some(format!(
                    "panic: {}",
                    p.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default()
                )),
                Ok((unnamed, _)) if !unnamed.is_empty() => Some(format!("problems naming no file: {unnamed:?}")),
                Ok(_) if peak > memory_bound => Some(format!("held {} MiB at once", peak >> 20)),
                Ok(_) => None,
            };
            if matches!(result, Ok((_, true))) {
                rejected += 1;
            }
            if let Some(why) = failed {
                let kept = out.join(format!("{}-{i}.bin", format.name));
                std::fs::write(&kept, &input).unwrap();
                failures.push(format!("{} input {i} ({}): {why}", format.name, kept.display()));
            }
        }
        std::fs::write(&target, &valid).unwrap();
        report.push(format!(
            "{:<16} {iterations:>6} inputs  {rejected:>6} with errors  peak {:>4} MiB  {:.1} s",
            format.name,
            peak_max >> 20,
            started.elapsed().as_secs_f64()
        ));
    }
    eprintln!("fuzzed (seed {seed}):\n  {}", report.join("\n  "));
    assert!(
        failures.is_empty(),
        "{} failing input(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The mutator is deterministic: a seed reproduces a campaign.
#[test]
fn the_mutator_is_reproducible() {
    let seed = b"{\"a\": [1, 2.5, 3]}";
    let a: Vec<Vec<u8>> = (0..50).scan(Rng(7), |r, _| Some(mutate(seed, r, true))).collect();
    let b: Vec<Vec<u8>> = (0..50).scan(Rng(7), |r, _| Some(mutate(seed, r, true))).collect();
    assert_eq!(a, b);
    assert!(a.iter().any(|m| m != seed));
    png_gray(
        &Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz/x.png"),
        2,
        2,
        false,
        1,
    );
}

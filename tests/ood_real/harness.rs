//! The evaluation of out-of-distribution detection on real chest radiographs (../shared/data):
//! a reference fitted on one part of a public COVID-19 chest X-ray set, evaluated on images it
//! was not fitted on (the rest of that set, another public source, a DICOM radiograph) at their
//! native size and resampled, and on content anomalies made from them. Shared by
//! tests/ood_real.rs (which asserts) and examples/ood_real.rs (which prints the table in
//! docs/rules.md).
// (an inner attribute would not be allowed where this file is a module)

use lightbox::formats::pixels::{PixelImage, Pixels};
use lightbox::ood::{self, ImageStats, OodBound, Reference};
use std::path::{Path, PathBuf};

/// The shared data folder, if this checkout has one.
pub fn data() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    p.join("cxr_covid_seg_generalblockchain/images").is_dir().then_some(p)
}

fn sorted_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| lightbox::formats::image::is_image_path(p))
        .collect();
    v.sort();
    v
}

/// (reference images, held-back in-distribution images): two thirds of the COVID-19 set by
/// sorted name (every image whose position is not 2 mod 3) for the reference; the other third,
/// the imlab radiographs and the DICOM radiograph held back.
pub fn split(data: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let covid = sorted_files(&data.join("cxr_covid_seg_generalblockchain/images"));
    let mut reference = vec![];
    let mut held = vec![];
    for (i, p) in covid.into_iter().enumerate() {
        if i % 3 == 2 { held.push(p) } else { reference.push(p) }
    }
    held.extend(
        sorted_files(&data.join("cxr_lung_masks_imlab"))
            .into_iter()
            .filter(|p| !p.to_string_lossy().contains("-mask")),
    );
    held.push(data.join("dicom/RG1_J2KI.dcm"));
    (reference, held)
}

pub fn decode(p: &Path) -> PixelImage {
    lightbox::formats::image::decode(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// An image as floats, `c` channels.
struct Float {
    w: usize,
    h: usize,
    c: usize,
    v: Vec<f32>,
}

fn to_float(img: &PixelImage) -> Float {
    let (w, h) = (img.width as usize, img.height as usize);
    let (c, v): (usize, Vec<f32>) = match &img.pixels {
        Pixels::Gray8(p) => (1, p.iter().map(|&x| x as f32).collect()),
        Pixels::Gray16(p) => (1, p.iter().map(|&x| x as f32).collect()),
        Pixels::Rgb8(p) => (3, p.iter().map(|&x| x as f32).collect()),
        Pixels::Rgb16(p) => (3, p.iter().map(|&x| x as f32).collect()),
    };
    Float { w, h, c, v }
}

fn from_float(f: Float, like: &PixelImage) -> PixelImage {
    let pixels = match &like.pixels {
        Pixels::Gray8(_) => Pixels::Gray8(f.v.iter().map(|&x| x.round().clamp(0.0, 255.0) as u8).collect()),
        Pixels::Gray16(_) => Pixels::Gray16(f.v.iter().map(|&x| x.round().clamp(0.0, 65535.0) as u16).collect()),
        Pixels::Rgb8(_) => Pixels::Rgb8(f.v.iter().map(|&x| x.round().clamp(0.0, 255.0) as u8).collect()),
        Pixels::Rgb16(_) => Pixels::Rgb16(f.v.iter().map(|&x| x.round().clamp(0.0, 65535.0) as u16).collect()),
    };
    PixelImage {
        width: f.w as u32,
        height: f.h as u32,
        pixels,
        scan: like.scan.clone(),
    }
}

/// Resample to `w`×`h`: area average when shrinking, bilinear when enlarging (what an image
/// library's resize does).
pub fn resize(img: &PixelImage, w: usize, h: usize) -> PixelImage {
    let f = to_float(img);
    let mut out = vec![0f32; w * h * f.c];
    let (sx, sy) = (f.w as f32 / w as f32, f.h as f32 / h as f32);
    for y in 0..h {
        for x in 0..w {
            for ch in 0..f.c {
                let v = if sx >= 1.0 && sy >= 1.0 {
                    let (x0, x1) = (
                        (x as f32 * sx) as usize,
                        (((x + 1) as f32 * sx) as usize).min(f.w).max(1),
                    );
                    let (y0, y1) = (
                        (y as f32 * sy) as usize,
                        (((y + 1) as f32 * sy) as usize).min(f.h).max(1),
                    );
                    let (x1, y1) = (x1.max(x0 + 1), y1.max(y0 + 1));
                    let mut s = 0f32;
                    for yy in y0..y1 {
                        for xx in x0..x1 {
                            s += f.v[(yy * f.w + xx) * f.c + ch];
                        }
                    }
                    s / ((x1 - x0) * (y1 - y0)) as f32
                } else {
                    let fx = ((x as f32 + 0.5) * sx - 0.5).clamp(0.0, (f.w - 1) as f32);
                    let fy = ((y as f32 + 0.5) * sy - 0.5).clamp(0.0, (f.h - 1) as f32);
                    let (x0, y0) = (fx as usize, fy as usize);
                    let (x1, y1) = ((x0 + 1).min(f.w - 1), (y0 + 1).min(f.h - 1));
                    let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
                    let at = |xx: usize, yy: usize| f.v[(yy * f.w + xx) * f.c + ch];
                    (at(x0, y0) * (1.0 - ax) + at(x1, y0) * ax) * (1.0 - ay)
                        + (at(x0, y1) * (1.0 - ax) + at(x1, y1) * ax) * ay
                };
                out[(y * w + x) * f.c + ch] = v;
            }
        }
    }
    from_float(Float { w, h, c: f.c, v: out }, img)
}

/// Resample so the longer side is `side`, aspect kept.
pub fn resize_long(img: &PixelImage, side: usize) -> PixelImage {
    let (w, h) = (img.width as f64, img.height as f64);
    let s = side as f64 / w.max(h);
    resize(
        img,
        ((w * s).round() as usize).max(1),
        ((h * s).round() as usize).max(1),
    )
}

fn remap(
    img: &PixelImage,
    w: usize,
    h: usize,
    fill: f32,
    at: impl Fn(usize, usize) -> Option<(usize, usize)>,
) -> PixelImage {
    let f = to_float(img);
    let mut out = vec![fill; w * h * f.c];
    for y in 0..h {
        for x in 0..w {
            if let Some((sx, sy)) = at(x, y) {
                for ch in 0..f.c {
                    out[(y * w + x) * f.c + ch] = f.v[(sy * f.w + sx) * f.c + ch];
                }
            }
        }
    }
    from_float(Float { w, h, c: f.c, v: out }, img)
}

pub fn rotate90(img: &PixelImage) -> PixelImage {
    let (w, h) = (img.width as usize, img.height as usize);
    remap(img, h, w, 0.0, |x, y| Some((y, h - 1 - x)))
}

pub fn flip_vertical(img: &PixelImage) -> PixelImage {
    let (w, h) = (img.width as usize, img.height as usize);
    remap(img, w, h, 0.0, |x, y| Some((x, h - 1 - y)))
}

/// The stored values turned round (what a MONOCHROME1 file read as MONOCHROME2 shows).
pub fn invert(img: &PixelImage) -> PixelImage {
    let mut f = to_float(img);
    let top = match img.pixels {
        Pixels::Gray8(_) | Pixels::Rgb8(_) => 255.0,
        _ => f.v.iter().fold(0f32, |a, &b| a.max(b)),
    };
    for v in f.v.iter_mut() {
        *v = top - *v;
    }
    from_float(f, img)
}

/// The image in the middle of a black canvas with three times its area (a third is picture).
pub fn padded(img: &PixelImage) -> PixelImage {
    let (w, h) = (img.width as usize, img.height as usize);
    let (cw, ch) = ((w as f64 * 3f64.sqrt()) as usize, (h as f64 * 3f64.sqrt()) as usize);
    let (ox, oy) = ((cw - w) / 2, (ch - h) / 2);
    let black = if img.scan.as_ref().is_some_and(|s| s.invert) {
        to_float(img).v.iter().fold(0f32, |a, &b| a.max(b))
    } else {
        0.0
    };
    remap(img, cw, ch, black, |x, y| {
        (x >= ox && x < ox + w && y >= oy && y < oy + h).then(|| (x - ox, y - oy))
    })
}

pub fn flat(value: u8, side: u32) -> PixelImage {
    PixelImage {
        width: side,
        height: side,
        pixels: Pixels::Gray8(vec![value; (side * side) as usize]),
        scan: None,
    }
}

/// One evaluated image: is it flagged out of distribution (major), or only as an unusual
/// acquisition?
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    pub score: f64,
    pub major: bool,
    pub acquisition: bool,
}

pub fn verdict(reference: &Reference, s: &ImageStats) -> Verdict {
    let score = reference.score(s);
    let acquisition = !ood::find_acquisition(&[Some(s.clone())], reference).is_empty();
    Verdict {
        score,
        major: score > 1.0,
        acquisition,
    }
}

/// One row of the table: what was evaluated, how many images, how many flagged major, how many
/// with an acquisition note, the highest and lowest score.
#[derive(Debug, Clone)]
pub struct Row {
    pub what: String,
    pub in_distribution: bool,
    pub verdicts: Vec<Verdict>,
}

impl Row {
    pub fn majors(&self) -> usize {
        self.verdicts.iter().filter(|v| v.major).count()
    }
    pub fn notes(&self) -> usize {
        self.verdicts.iter().filter(|v| v.acquisition).count()
    }
    pub fn flagged(&self) -> usize {
        self.verdicts.iter().filter(|v| v.major || v.acquisition).count()
    }
    pub fn min_score(&self) -> f64 {
        self.verdicts.iter().map(|v| v.score).fold(f64::INFINITY, f64::min)
    }
    pub fn max_score(&self) -> f64 {
        self.verdicts.iter().map(|v| v.score).fold(0.0, f64::max)
    }
}

/// The whole evaluation: the reference and every row.
pub fn evaluate(data: &Path) -> (Reference, usize, Vec<Row>) {
    use rayon::prelude::*;
    let (reference_files, held) = split(data);
    let ref_stats: Vec<ImageStats> = reference_files
        .par_iter()
        .map(|p| ood::statistics::of_image(&decode(p)))
        .collect();
    let reference = Reference::fit(&ref_stats, OodBound::default());
    let held_images: Vec<PixelImage> = held.par_iter().map(|p| decode(p)).collect();
    let row = |what: &str, in_distribution: bool, images: Vec<PixelImage>| Row {
        what: what.to_string(),
        in_distribution,
        verdicts: images
            .par_iter()
            .map(|i| verdict(&reference, &ood::statistics::of_image(i)))
            .collect(),
    };
    let each = |f: &(dyn Fn(&PixelImage) -> PixelImage + Sync)| held_images.par_iter().map(f).collect::<Vec<_>>();
    let others = |dir: &str| -> Vec<PixelImage> {
        sorted_files(&data.join(dir))
            .iter()
            .filter(|p| !p.to_string_lossy().contains("-mask"))
            .map(|p| decode(p))
            .collect()
    };
    let rows = vec![
        row("held-back chest X-rays, native size", true, held_images.clone()),
        row(
            "the same, resampled to 512 px (longer side)",
            true,
            each(&|i| resize_long(i, 512)),
        ),
        row("the same, resampled to 2048 px", true, each(&|i| resize_long(i, 2048))),
        row("the same, resampled to 256 px", true, each(&|i| resize_long(i, 256))),
        row("rotated 90°", false, each(&rotate90)),
        row("flipped upside down", false, each(&flip_vertical)),
        row("intensities inverted", false, each(&invert)),
        row("a third of a black canvas (padded)", false, each(&padded)),
        row("tiny (48 px longer side)", false, each(&|i| resize_long(i, 48))),
        row(
            "flat (black, grey, white, 512²)",
            false,
            vec![flat(0, 512), flat(128, 512), flat(255, 512)],
        ),
        row("photographs (PASCAL VOC)", false, others("coco_labelme_voc/JPEGImages")),
        row("aerial photographs (SAHI)", false, others("coco_sahi_aerial")),
        row(
            "CT and MR slices (pydicom)",
            false,
            vec![
                decode(&data.join("dicom/CT_small.dcm")),
                decode(&data.join("dicom/MR_small.dcm")),
            ],
        ),
    ];
    (reference, ref_stats.len(), rows)
}

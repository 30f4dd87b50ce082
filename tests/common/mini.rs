//! A small valid pack (two 16×12 images, COCO ground truth and results, label masks, scores,
//! a probability map) for tests that break one thing at a time.

use std::path::Path;

pub fn png_gray(path: &Path, w: u32, h: u32, sixteen: bool, value: u16) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    if sixteen {
        image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_pixel(w, h, image::Luma([value]))
            .save(path)
            .unwrap();
    } else {
        image::GrayImage::from_pixel(w, h, image::Luma([value as u8]))
            .save(path)
            .unwrap();
    }
}

pub fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

pub const MANIFEST: &str = r#"name = "mini"
images = "images"

[[classes]]
id = 1
name = "lung"
kind = "region"

[[classes]]
id = 2
name = "lesion"

[ground_truth]
coco = "gt/instances.json"
masks = "gt/masks"
scores = "gt/labels.csv"

[runs.m]
coco = "runs/m/results.json"
masks = "runs/m/masks"
probabilities = "runs/m/prob"
"#;

pub const GT: &str = r#"{"images": [{"id": 1, "file_name": "a.png", "width": 16, "height": 12},
                              {"id": 2, "file_name": "b.png", "width": 16, "height": 12}],
 "categories": [{"id": 1, "name": "lung"}, {"id": 2, "name": "lesion"}],
 "annotations": [
   {"id": 1, "image_id": 1, "category_id": 2, "bbox": [2, 2, 4, 3], "area": 12, "iscrowd": 0,
    "segmentation": [[2, 2, 6, 2, 6, 5, 2, 5]]},
   {"id": 2, "image_id": 2, "category_id": 2, "bbox": [0, 0, 2, 2], "area": 4, "iscrowd": 1,
    "segmentation": {"size": [12, 16], "counts": [0, 2, 10, 2, 178]}}]}"#;

pub const RESULTS: &str = r#"[{"image_id": 1, "category_id": 2, "bbox": [2, 2, 4, 4], "score": 0.9},
 {"image_id": 2, "category_id": 2, "bbox": [1, 1, 3, 3], "score": 0.4}]"#;

/// A valid pack in a temporary folder.
pub fn mini_pack() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(d, "lightbox.toml", MANIFEST);
    png_gray(&d.join("images/a.png"), 16, 12, false, 100);
    png_gray(&d.join("images/b.png"), 16, 12, true, 3000);
    write(d, "gt/instances.json", GT);
    png_gray(&d.join("gt/masks/a.png"), 16, 12, false, 1);
    png_gray(&d.join("gt/masks/b.png"), 16, 12, false, 0);
    write(d, "gt/labels.csv", "image,lesion\na.png,1\nb.png,0\n");
    write(d, "runs/m/results.json", RESULTS);
    png_gray(&d.join("runs/m/masks/a.png"), 16, 12, false, 1);
    png_gray(&d.join("runs/m/masks/b.png"), 16, 12, false, 1);
    png_gray(&d.join("runs/m/prob/a.lesion.png"), 16, 12, true, 40000);
    t
}

//! Attaching YOLO label and prediction files: each case's `<stem>.txt` is read (in parallel,
//! image sizes from headers when COCO gave none), its lines parsed and its boxes converted by
//! [`formats::yolo`](crate::formats::yolo); a label file no case reads is reported.

use super::{Env, Loader};
use crate::formats::{image as img, yolo};
use crate::pack::annotation::CaseAnnotations;
use crate::pack::paths::{relative_slash, walk_files};
use crate::pack::problem::Problem;
use crate::pack::{Case, ClassId};
use rayon::prelude::*;
use std::path::Path;

/// One YOLO file as read: case index, image size, text (absent: no objects).
type YoloRead = (usize, Option<(u32, u32)>, Option<Result<String, String>>);

impl Loader {
    pub(super) fn attach_yolo(
        &mut self,
        dir: &Path,
        list: Option<&[String]>,
        env: &Env,
        cases: &mut [Case],
        out: &mut [CaseAnnotations],
    ) {
        let key = format!("{}.yolo", env.key);
        if self.missing_dir(&key, dir) {
            return;
        }
        let names: Vec<String> = match list {
            Some(l) => l.to_vec(),
            None => match std::fs::read_to_string(dir.join("classes.txt")) {
                Ok(t) => yolo::parse_class_list(&t),
                Err(_) => {
                    self.problems.push(
                        Problem::error(&self.manifest_file, key.clone(), "YOLO files number classes, but there is no class list")
                            .hint("Add classes.txt (one name per line) to the folder, or `yolo_classes = [...]` in lightbox.toml"),
                    );
                    return;
                }
            },
        };
        let mut class_of: Vec<Option<ClassId>> = Vec::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            let c = env.classes.iter().find(|c| &c.name == n).map(|c| c.id);
            if c.is_none() {
                self.problems.push(
                    Problem::error(
                        &self.manifest_file,
                        format!("{key} class {i}"),
                        format!("YOLO class {n:?} is not a class of the pack"),
                    )
                    .hint("Name YOLO classes as in lightbox.toml [classes]"),
                );
            }
            class_of.push(c);
        }
        // label files no case reads: a file named `a.jpg.txt` or for an image not in the pack
        // would otherwise be skipped without a word
        let stems: std::collections::HashSet<String> = cases.iter().map(|c| c.id.stem().to_string()).collect();
        for f in walk_files(dir).unwrap_or_default() {
            let Some(rel) = relative_slash(dir, &f) else {
                continue;
            };
            let Some(base) = rel.strip_suffix(".txt") else {
                continue;
            };
            if rel == "classes.txt" || stems.contains(base) {
                continue;
            }
            let image_named = img::is_image_path(Path::new(base));
            self.problems.push_capped(
                "orphan label file",
                Problem::warning(
                    self.shown(&f),
                    "",
                    if image_named {
                        format!("is named after an image's file name; YOLO label files are named after its stem ({}.txt), so no case reads it", Path::new(base).with_extension("").display())
                    } else {
                        "no image of the pack has this stem, so no case reads it".to_string()
                    },
                )
                .hint(if image_named {
                    "Rename the label files to <image stem>.txt"
                } else {
                    "Remove it, or add its image to the pack"
                }),
            );
        }
        // read every label file in parallel; image sizes come from headers when COCO gave none
        let results: Vec<YoloRead> = cases
            .par_iter()
            .enumerate()
            .map(|(i, c)| {
                let file = dir.join(format!("{}.txt", c.id.stem()));
                let text = match std::fs::read_to_string(&file) {
                    Ok(t) => Some(Ok(t)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => Some(Err(e.to_string())),
                };
                let size = c.size().or_else(|| {
                    if text.is_some() {
                        img::read_header(&c.image).ok().map(|h| (h.width, h.height))
                    } else {
                        None
                    }
                });
                (i, size, text)
            })
            .collect();
        for (i, size, text) in results {
            let file = dir.join(format!("{}.txt", cases[i].id.stem()));
            let shown = self.shown(&file);
            if cases[i].size().is_none()
                && let Some((w, h)) = size
            {
                cases[i].width = Some(w);
                cases[i].height = Some(h);
            }
            let text = match text {
                None => {
                    // YOLO writes no file for an image without objects: that is "no boxes"
                    continue;
                }
                Some(Err(e)) => {
                    self.problems
                        .push(Problem::error(&shown, "", format!("cannot read: {e}")).on_case(i));
                    continue;
                }
                Some(Ok(t)) => t,
            };
            let Some((w, h)) = size else {
                self.problems.push_capped(
                    "yolo no size",
                    Problem::error(
                        &shown,
                        "",
                        "the image's size is unknown (its header cannot be read), so normalised boxes cannot be placed",
                    )
                    .hint("Check the image file")
                    .on_case(i),
                );
                continue;
            };
            let (boxes, errors) = yolo::parse(&text);
            for e in errors {
                self.problems.push_capped(
                    "yolo line",
                    Problem::error(&shown, format!("line {}", e.line), e.message)
                        .hint("Each line is `class cx cy w h [score]`")
                        .on_case(i),
                );
            }
            for (k, b) in boxes.into_iter().enumerate() {
                let Some(Some(class)) = class_of.get(b.class_index) else {
                    self.problems.push_capped(
                        "yolo class",
                        Problem::error(
                            &shown,
                            format!("box {}", k + 1),
                            format!(
                                "class index {} is not in the class list ({} classes)",
                                b.class_index,
                                names.len()
                            ),
                        )
                        .hint("Check classes.txt / yolo_classes")
                        .on_case(i),
                    );
                    continue;
                };
                let id = out[i].instances.len() as i64 + 1;
                let (inst, warnings) = b.to_instance((w, h), *class, id, env.is_gt);
                for warning in warnings {
                    self.problems.push_capped(
                        warning.kind(),
                        Problem::warning(&shown, format!("box {}", k + 1), warning.to_string())
                            .hint(warning.hint())
                            .on_case(i),
                    );
                }
                out[i].instances.push(inst);
            }
        }
    }
}

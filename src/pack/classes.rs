//! The pack's classes: those lightbox.toml declares (each checked for clashes), reconciled with
//! a ground-truth COCO file's categories (which become the classes when none are declared), or
//! taken from YOLO class lists when nothing else names any. Every mismatch is a [`Problem`];
//! the map from COCO category ids to classes is built here.

use super::manifest::{ClassKind, Manifest};
use super::paths::join_inside;
use super::problem::{Problem, Problems};
use super::{Class, ClassId};
use crate::formats::coco::CocoCategory;
use crate::formats::yolo;
use rustc_hash::FxHashMap as HashMap;
use std::path::Path;

/// COCO `category_id` → the class it stands for.
pub(crate) type CategoryMap = HashMap<i64, ClassId>;

/// The classes `[[classes]]` declares; a class whose id or name is already taken is left out,
/// and every clash or doubtful value is reported against `manifest_file`.
pub(crate) fn declared(m: &Manifest, manifest_file: &Path, problems: &mut Problems) -> Vec<Class> {
    let mut out: Vec<Class> = Vec::new();
    for (i, c) in m.classes.iter().enumerate() {
        let field = format!("classes[{i}]");
        if out.iter().any(|o| o.id.0 == c.id) {
            problems.push(
                Problem::error(
                    manifest_file,
                    format!("{field}.id"),
                    format!("class id {} is used twice", c.id),
                )
                .hint("Give each class its own id"),
            );
            continue;
        }
        if out.iter().any(|o| o.name == c.name) {
            problems.push(
                Problem::error(
                    manifest_file,
                    format!("{field}.name"),
                    format!("class name {:?} is used twice", c.name),
                )
                .hint("Give each class its own name"),
            );
            continue;
        }
        if let Some(col) = &c.color
            && crate::color::parse_hex(col).is_none()
        {
            problems.push(
                Problem::warning(
                    manifest_file,
                    format!("{field}.color"),
                    format!("{col:?} is not a #rrggbb colour"),
                )
                .hint("Write colours as \"#1f77b4\"; the theme's palette is used meanwhile"),
            );
        }
        let mask_value = c.mask_value.unwrap_or_else(|| c.id.min(u16::MAX as u32) as u16);
        if c.mask_value.is_none() && c.id > u16::MAX as u32 {
            problems.push(
                Problem::warning(
                    manifest_file,
                    format!("{field}.id"),
                    format!("id {} does not fit a 16-bit mask value", c.id),
                )
                .hint("Set `mask_value` if this class appears in label masks"),
            );
        }
        if let Some(o) = out.iter().find(|o| o.mask_value == mask_value) {
            problems.push(
                Problem::error(
                    manifest_file,
                    format!("{field}.mask_value"),
                    format!("mask value {mask_value} is already class {:?}", o.name),
                )
                .hint("Each class needs its own value in label masks"),
            );
        }
        if mask_value == 0 {
            problems.push(
                Problem::warning(
                    manifest_file,
                    format!("{field}.mask_value"),
                    "mask value 0 is background in label masks",
                )
                .hint("Use ids (or mask_value) from 1"),
            );
        }
        out.push(Class {
            id: ClassId(c.id),
            name: c.name.clone(),
            kind: c.kind,
            color: c.color.clone(),
            mask_value,
        });
    }
    out
}

/// Check a ground-truth COCO file's categories (`shown` is how the file is named in
/// messages) against the declared classes: a category whose name differs from its class, or
/// that is no class, is a warning. With no class declared, each category becomes a class (a
/// finding) and is added to `map`.
pub(crate) fn reconcile_categories(
    categories: &[CocoCategory],
    shown: &Path,
    classes: &mut Vec<Class>,
    map: &mut CategoryMap,
    problems: &mut Problems,
) {
    let declared = !classes.is_empty();
    for (i, cat) in categories.iter().enumerate() {
        let field = format!("categories[{i}]");
        if cat.id < 0 || cat.id > u32::MAX as i64 {
            problems.push(Problem::error(
                shown,
                format!("{field}.id"),
                format!("category id {} is out of range", cat.id),
            ));
            continue;
        }
        match classes.iter().find(|c| c.id.0 as i64 == cat.id) {
            Some(c) if c.name != cat.name => problems.push(
                Problem::warning(
                    shown,
                    format!("{field}.name"),
                    format!(
                        "category {} is {:?} here but {:?} in lightbox.toml",
                        cat.id, cat.name, c.name
                    ),
                )
                .hint("Check the category mapping in lightbox.toml [classes]: ids must mean the same class"),
            ),
            Some(_) => {}
            None if declared => problems.push(
                Problem::warning(
                    shown,
                    format!("{field}.id"),
                    format!(
                        "category {} ({:?}) is not a class in lightbox.toml; its annotations are skipped",
                        cat.id, cat.name
                    ),
                )
                .hint("Add it to [[classes]] to review it"),
            ),
            None => {
                let id = ClassId(cat.id as u32);
                classes.push(Class {
                    id,
                    name: cat.name.clone(),
                    kind: ClassKind::Finding,
                    color: None,
                    mask_value: cat.id.min(u16::MAX as i64) as u16,
                });
                map.insert(cat.id, id);
            }
        }
    }
}

/// Classes named by the sources' YOLO class lists (`yolo_classes`, else `classes.txt` in the
/// YOLO folder, relative to `root`), in order and once each, numbered after those in
/// `classes`, for a pack where nothing else declares any.
pub(crate) fn from_sources(m: &Manifest, root: Option<&Path>, classes: &mut Vec<Class>, map: &mut CategoryMap) {
    let mut names: Vec<String> = Vec::new();
    for src in std::iter::once(&m.ground_truth).chain(m.runs.values()) {
        if let Some(list) = &src.yolo_classes {
            names.extend(list.iter().cloned());
        } else if let Some(dir) = &src.yolo
            && let Some(d) = match root {
                Some(r) => join_inside(r, dir).ok(),
                None => Some(dir.to_path_buf()),
            }
            && let Ok(text) = std::fs::read_to_string(d.join("classes.txt"))
        {
            names.extend(yolo::parse_class_list(&text));
        }
    }
    for n in names {
        if !classes.iter().any(|c| c.name == n) {
            let id = ClassId(classes.len() as u32 + 1);
            classes.push(Class {
                id,
                name: n,
                kind: ClassKind::Finding,
                color: None,
                mask_value: id.0 as u16,
            });
            map.insert(id.0 as i64, id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(classes: &str) -> Manifest {
        Manifest::parse(&format!("name = \"t\"\n{classes}")).unwrap()
    }

    fn category(id: i64, name: &str) -> CocoCategory {
        CocoCategory {
            id,
            name: name.into(),
            supercategory: None,
        }
    }

    fn messages(problems: Problems) -> Vec<String> {
        problems
            .finish()
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect()
    }

    #[test]
    fn declared_classes_clash_by_id_name_and_mask_value() {
        let m = manifest(
            "[[classes]]\nid = 1\nname = \"lung\"\n[[classes]]\nid = 1\nname = \"heart\"\n[[classes]]\nid = 2\nname = \"lung\"\n[[classes]]\nid = 3\nname = \"rib\"\nmask_value = 1\ncolor = \"red\"\n",
        );
        let mut problems = Problems::default();
        let classes = declared(&m, Path::new("lightbox.toml"), &mut problems);
        assert_eq!(
            classes.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["lung", "rib"]
        );
        assert_eq!(
            messages(problems),
            [
                "classes[1].id: class id 1 is used twice",
                "classes[2].name: class name \"lung\" is used twice",
                "classes[3].color: \"red\" is not a #rrggbb colour",
                "classes[3].mask_value: mask value 1 is already class \"lung\"",
            ]
        );
    }

    #[test]
    fn categories_that_disagree_with_the_declared_classes_are_warned_about() {
        let m = manifest("[[classes]]\nid = 1\nname = \"lung\"\n[[classes]]\nid = 2\nname = \"heart\"\n");
        let mut problems = Problems::default();
        let mut classes = declared(&m, Path::new("lightbox.toml"), &mut problems);
        let mut map: CategoryMap = classes.iter().map(|c| (c.id.0 as i64, c.id)).collect();
        let cats = [
            category(1, "lung"),
            category(2, "cardiac"),
            category(7, "rib"),
            category(-1, "x"),
        ];
        reconcile_categories(&cats, Path::new("gt.json"), &mut classes, &mut map, &mut problems);
        // the declared classes stand: a category never adds a class to a pack that declares some
        assert_eq!(classes.len(), 2);
        assert!(!map.contains_key(&7));
        assert_eq!(
            messages(problems),
            [
                "categories[1].name: category 2 is \"cardiac\" here but \"heart\" in lightbox.toml",
                "categories[2].id: category 7 (\"rib\") is not a class in lightbox.toml; its annotations are skipped",
                "categories[3].id: category id -1 is out of range",
            ]
        );
    }

    #[test]
    fn without_declared_classes_the_categories_are_the_classes() {
        let mut problems = Problems::default();
        let (mut classes, mut map) = (Vec::new(), CategoryMap::default());
        let cats = [category(3, "nodule"), category(70000, "big")];
        reconcile_categories(&cats, Path::new("gt.json"), &mut classes, &mut map, &mut problems);
        assert!(messages(problems).is_empty());
        assert_eq!(classes[0].id, ClassId(3));
        assert_eq!((classes[0].kind, classes[0].mask_value), (ClassKind::Finding, 3));
        assert_eq!(classes[1].mask_value, u16::MAX);
        assert_eq!(map.get(&70000), Some(&ClassId(70000)));
    }

    #[test]
    fn yolo_class_lists_name_classes_once_each_numbered_from_one() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("pred")).unwrap();
        std::fs::write(t.path().join("pred/classes.txt"), "cat\ndog\n\nbird\n").unwrap();
        let m = Manifest::parse(
            "name = \"t\"\n[ground_truth]\nyolo = \"gt\"\nyolo_classes = [\"dog\", \"cat\"]\n[runs.a]\nyolo = \"pred\"\n",
        )
        .unwrap();
        let (mut classes, mut map) = (Vec::new(), CategoryMap::default());
        from_sources(&m, Some(t.path()), &mut classes, &mut map);
        let named: Vec<(u32, &str)> = classes.iter().map(|c| (c.id.0, c.name.as_str())).collect();
        assert_eq!(named, [(1, "dog"), (2, "cat"), (3, "bird")]);
        assert_eq!(map.get(&3), Some(&ClassId(3)));
    }
}

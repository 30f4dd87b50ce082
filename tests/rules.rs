//! Every rule kind on small hand-built masks: a base case where no rule may fire, and one case
//! per kind where exactly that rule fires (the set of flags is compared whole, so a rule that
//! fires where it must not fails the test too). Then rules-file mistakes.
// tests: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox::pack::{Pack, Source};
use lightbox::rules::{RuleSet, evaluate};
use std::collections::BTreeSet;
use std::path::Path;

const W: u32 = 96;
const LUNG_R: u8 = 1;
const LUNG_L: u8 = 2;
const HEART: u8 = 3;
const CAVITY: u8 = 5;
const WALL: u8 = 6;

type Canvas = Vec<u8>;

fn rect(c: &mut Canvas, x0: u32, y0: u32, x1: u32, y1: u32, v: u8) {
    for y in y0..y1 {
        for x in x0..x1 {
            c[(y * W + x) as usize] = v;
        }
    }
}

fn base() -> Canvas {
    let mut c = vec![0u8; (W * W) as usize];
    rect(&mut c, 8, 8, 36, 64, LUNG_R);
    rect(&mut c, 56, 8, 84, 64, LUNG_L);
    rect(&mut c, 40, 40, 56, 72, HEART);
    rect(&mut c, 4, 70, 28, 94, WALL);
    rect(&mut c, 10, 76, 22, 88, CAVITY);
    c
}

/// (case name, label mask, lesion boxes, the rules that must fire)
type Scenario = (&'static str, Canvas, Vec<[f64; 4]>, Vec<&'static str>);

fn scenarios() -> Vec<Scenario> {
    let lesion = vec![[14.0, 20.0, 10.0, 10.0]];
    let mut v = vec![("ok", base(), lesion.clone(), vec![])];
    v.push(("outside", base(), vec![[86.0, 86.0, 8.0, 8.0]], vec!["containment"]));
    v.push((
        "on_heart",
        base(),
        vec![[44.0, 44.0, 8.0, 8.0]],
        vec!["containment", "exclusion"],
    ));
    let mut c = base();
    rect(&mut c, 8, 30, 36, 34, 0);
    v.push(("split", c, lesion.clone(), vec!["components"]));
    let mut c = base();
    rect(&mut c, 66, 30, 74, 38, 0);
    v.push(("hole", c, lesion.clone(), vec!["holes"]));
    let mut c = base();
    rect(&mut c, 36, 0, 60, 96, HEART);
    v.push(("huge_heart", c, lesion.clone(), vec!["area"]));
    let mut c = base();
    rect(&mut c, 40, 40, 56, 72, 0);
    rect(&mut c, 24, 40, 40, 72, HEART);
    v.push(("heart_wrong_side", c, lesion.clone(), vec!["relative_position"]));
    let mut c = base();
    rect(&mut c, 10, 88, 22, 94, CAVITY);
    v.push(("open_cavity", c, lesion.clone(), vec!["enclosure"]));
    let mut c = base();
    rect(&mut c, 36, 8, 56, 40, LUNG_L);
    rect(&mut c, 36, 40, 40, 64, LUNG_L);
    v.push(("lungs_touch", c, lesion.clone(), vec!["adjacency"]));
    let mut c = base();
    rect(&mut c, 56, 8, 84, 64, 0);
    rect(&mut c, 70, 8, 84, 40, LUNG_L);
    v.push(("small_left", c, lesion.clone(), vec!["symmetry"]));
    let mut c = base();
    rect(&mut c, 8, 20, 30, 52, 0);
    v.push(("notched", c, vec![[60.0, 20.0, 10.0, 10.0]], vec!["shape"]));
    v.push((
        "many_lesions",
        base(),
        vec![[10.0, 10.0, 5.0, 5.0], [20.0, 30.0, 5.0, 5.0], [12.0, 45.0, 5.0, 5.0]],
        vec!["count"],
    ));
    let mut c = base();
    rect(&mut c, 40, 40, 56, 72, 0);
    v.push(("no_heart", c, lesion, vec!["presence"]));
    v
}

const RULES: &str = r#"
[regions]
lungs = "union(lung_r, lung_l)"

[[rule]]
id = "containment"
kind = "containment"
severity = "critical"
subject = "lesion"
region = "lungs"
min_fraction = 0.9

[[rule]]
id = "exclusion"
kind = "exclusion"
severity = "major"
a = "lesion"
b = "heart"
max_fraction = 0.1

[[rule]]
id = "components"
kind = "components"
severity = "critical"
subject = ["lung_r", "lung_l"]
min = 1
max = 1
min_area = 4

[[rule]]
id = "holes"
kind = "holes"
severity = "critical"
subject = ["lung_r", "lung_l"]
max = 0
min_area = 4

[[rule]]
id = "area"
kind = "area"
severity = "minor"
subject = "heart"
min = 0.02
max = 0.2

[[rule]]
id = "relative_position"
kind = "relative_position"
severity = "critical"
a = "heart"
b = "hull(lungs)"
relation = "patient_left_of"

[[rule]]
id = "enclosure"
kind = "enclosure"
severity = "major"
a = "cavity"
b = "wall"

[[rule]]
id = "adjacency"
kind = "adjacency"
severity = "major"
a = "lung_r"
b = "lung_l"
touch = false

[[rule]]
id = "symmetry"
kind = "symmetry"
severity = "minor"
a = "lung_r"
b = "lung_l"
min = 0.5
max = 2.0

[[rule]]
id = "shape"
kind = "shape"
severity = "minor"
subject = "lung_r"
min_solidity = 0.8

[[rule]]
id = "count"
kind = "count"
severity = "minor"
subject = "lesion"
max = 2

[[rule]]
id = "presence"
kind = "presence"
severity = "major"
subject = "heart"
present = true
"#;

fn build(dir: &Path) -> Vec<(&'static str, Vec<&'static str>)> {
    std::fs::create_dir_all(dir.join("images")).unwrap();
    std::fs::create_dir_all(dir.join("gt")).unwrap();
    let mut images = vec![];
    let mut anns = vec![];
    let mut expected = vec![];
    for (i, (name, mask, boxes, fire)) in scenarios().into_iter().enumerate() {
        image::GrayImage::from_pixel(W, W, image::Luma([90]))
            .save(dir.join(format!("images/{name}.png")))
            .unwrap();
        image::GrayImage::from_raw(W, W, mask)
            .unwrap()
            .save(dir.join(format!("gt/{name}.png")))
            .unwrap();
        images.push(serde_json::json!({"id": i + 1, "file_name": format!("{name}.png"), "width": W, "height": W}));
        for b in boxes {
            anns.push(serde_json::json!({"id": anns.len() + 1, "image_id": i + 1, "category_id": 4, "bbox": b, "area": b[2] * b[3], "iscrowd": 0}));
        }
        expected.push((name, fire));
    }
    let coco = serde_json::json!({"images": images, "annotations": anns, "categories": [{"id": 4, "name": "lesion"}]});
    std::fs::write(dir.join("gt.json"), coco.to_string()).unwrap();
    let classes = [
        (1, "lung_r", "region"),
        (2, "lung_l", "region"),
        (3, "heart", "region"),
        (4, "lesion", "finding"),
        (5, "cavity", "region"),
        (6, "wall", "region"),
    ];
    let mut m = String::from("name = \"kinds\"\nrules = \"rules.toml\"\n");
    for (id, n, k) in classes {
        m.push_str(&format!("[[classes]]\nid = {id}\nname = \"{n}\"\nkind = \"{k}\"\n"));
    }
    m.push_str("[ground_truth]\ncoco = \"gt.json\"\nmasks = \"gt\"\n");
    std::fs::write(dir.join("lightbox.toml"), m).unwrap();
    std::fs::write(dir.join("rules.toml"), RULES).unwrap();
    expected
}

#[test]
fn every_kind_fires_where_it_must_and_nowhere_else() {
    let t = tempfile::tempdir().unwrap();
    let expected = build(t.path());
    let pack = Pack::open(t.path()).unwrap();
    assert!(pack.problems.is_empty(), "{:?}", pack.problems);
    let rules = RuleSet::load(&t.path().join("rules.toml"), &pack).unwrap();
    assert_eq!(rules.rules.len(), 12);
    let flags = evaluate(&pack, &rules, &[Source::GroundTruth]);
    for (case, (name, fire)) in expected.iter().enumerate() {
        let got: BTreeSet<&str> = flags
            .iter()
            .filter(|f| f.case == case)
            .map(|f| f.rule.as_str())
            .collect();
        let want: BTreeSet<&str> = fire.iter().copied().collect();
        let msgs: Vec<&str> = flags
            .iter()
            .filter(|f| f.case == case)
            .map(|f| f.message.as_str())
            .collect();
        assert_eq!(got, want, "case {name}: {msgs:#?}");
    }
    // every flag says what and where, with the geometry to highlight
    let outside = flags
        .iter()
        .find(|f| f.rule == "containment" && pack.cases[f.case].id.0 == "outside.png")
        .unwrap();
    assert_eq!(
        outside.message,
        "lesion #1: 100% of its area lies outside lungs; rule 'containment' needs at least 90% inside"
    );
    assert_eq!(outside.highlight.as_ref().unwrap().area(), 64);
    let split = flags.iter().find(|f| f.rule == "components").unwrap();
    assert!(split.message.starts_with("lung_r is in 2 pieces"), "{}", split.message);
    let hole = flags.iter().find(|f| f.rule == "holes").unwrap();
    assert_eq!(hole.highlight.as_ref().unwrap().area(), 64);
    assert!(hole.message.contains("1 hole (64 px)"), "{}", hole.message);
}

fn error_of(rules: &str) -> String {
    let t = tempfile::tempdir().unwrap();
    build(t.path());
    let pack = Pack::open(t.path()).unwrap();
    RuleSet::parse(rules, Path::new("rules.toml"), &pack)
        .unwrap_err()
        .to_string()
}

#[test]
fn rule_file_mistakes_name_the_line_column_and_fix() {
    let e = error_of("[[rule]]\nid = \"x\"\nkind = \"presence\"\nseverity = \"major\"\nsubject = \"hart\"\n");
    assert!(
        e.starts_with("rules.toml:5:12:") && e.contains("\"hart\" is not a class") && e.contains("lung_r"),
        "{e}"
    );
    let e = error_of("[[rule]]\nid = \"x\"\nkind = \"inside\"\nseverity = \"major\"\n");
    assert!(
        e.starts_with("rules.toml:3:") && e.contains("unknown kind \"inside\"") && e.contains("containment"),
        "{e}"
    );
    let e = error_of(
        "[[rule]]\nid = \"x\"\nkind = \"containment\"\nseverity = \"major\"\nsubject = \"lesion\"\nregion = \"heart\"\nmin_fraction = 1.5\n",
    );
    assert!(e.starts_with("rules.toml:7:") && e.contains("out of range"), "{e}");
    let e = error_of(
        "[[rule]]\nid = \"x\"\nkind = \"containment\"\nseverity = \"major\"\nsubject = \"lesion\"\nmin_fraction = 0.5\n",
    );
    assert!(e.contains("needs `region`"), "{e}");
    let e =
        error_of("[[rule]]\nid = \"x\"\nkind = \"holes\"\nseverity = \"major\"\nsubject = \"heart\"\nmax_holes = 1\n");
    assert!(e.contains("max_holes") && e.contains("docs/rules.md"), "{e}");
    let e = error_of("[[rule]]\nid = \"x\"\nkind = \"holes\"\nseverity = \"fatal\"\nsubject = \"heart\"\n");
    assert!(e.starts_with("rules.toml:4:"), "{e}");
    let e = error_of(
        "[[rule]]\nid = \"x\"\nkind = \"presence\"\nseverity = \"major\"\nsubject = \"heart\"\nslices = \"all\"\n",
    );
    assert!(e.starts_with("rules.toml:6:") && e.contains("\"each\""), "{e}");
    let e = error_of("[regions]\nthorax = \"dilate(hull(lungs), 5px)\"\n");
    assert!(e.contains("\"lungs\" is not a class or region"), "{e}");
    let e = error_of("[regions]\nthorax = \"dilate(heart, 5mm)\"\n");
    assert!(e.contains("pixel_spacing_mm"), "{e}");
    let e = error_of(
        "[[rule]]\nid = \"x\"\nkind = \"concavity_depth\"\nseverity = \"major\"\nsubject = \"heart\"\nmax_mm = 4\n",
    );
    assert!(e.starts_with("rules.toml:6:") && e.contains("pixel_spacing_mm"), "{e}");
    let e = error_of("[[rule]]\nid = \"x\"\nkind = \"circularity\"\nseverity = \"major\"\nsubject = \"heart\"\n");
    assert!(e.contains("needs `min`"), "{e}");
    let e =
        error_of("[[rule]]\nid = \"x\"\nkind = \"frontier\"\nseverity = \"major\"\na = \"heart\"\nb = \"backgrund\"\n");
    assert!(
        e.contains("\"backgrund\" is not a class or region") && e.contains("rules.toml:6:"),
        "{e}"
    );
}

#[test]
fn the_cardiac_example_in_the_docs_passes_a_plausible_heart_and_flags_a_broken_ring() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md")).unwrap();
    let start = doc.find("## Example: cardiac MRI").unwrap();
    let block = &doc[start..];
    let toml_text = &block[block.find("```toml\n").unwrap() + 8..];
    let toml_text = &toml_text[..toml_text.find("```").unwrap()];
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::create_dir_all(d.join("images")).unwrap();
    std::fs::create_dir_all(d.join("gt")).unwrap();
    // a ring of myocardium around the cavity, the right ventricle against the ring
    let mut c = vec![0u8; (W * W) as usize];
    for y in 0..W {
        for x in 0..W {
            let r = ((x as f64 - 50.0).powi(2) + (y as f64 - 48.0).powi(2)).sqrt();
            if r < 14.0 {
                c[(y * W + x) as usize] = 1;
            } else if r < 22.0 {
                c[(y * W + x) as usize] = 2;
            } else if (10..40).contains(&x) && (30..66).contains(&y) {
                c[(y * W + x) as usize] = 3;
            }
        }
    }
    image::GrayImage::from_pixel(W, W, image::Luma([90]))
        .save(d.join("images/slice.png"))
        .unwrap();
    image::GrayImage::from_raw(W, W, c.clone())
        .unwrap()
        .save(d.join("gt/slice.png"))
        .unwrap();
    // an implausible slice: the myocardial ring is broken on the right, the cavity leaks out
    let mut broken = c;
    for y in 44..52u32 {
        for x in 62..75u32 {
            if broken[(y * W + x) as usize] == 2 {
                broken[(y * W + x) as usize] = 0;
            }
        }
    }
    image::GrayImage::from_pixel(W, W, image::Luma([90]))
        .save(d.join("images/broken.png"))
        .unwrap();
    image::GrayImage::from_raw(W, W, broken)
        .unwrap()
        .save(d.join("gt/broken.png"))
        .unwrap();
    std::fs::write(
        d.join("lightbox.toml"),
        "name = \"acdc\"\n[[classes]]\nid = 1\nname = \"lv\"\nkind = \"region\"\n[[classes]]\nid = 2\nname = \"myo\"\nkind = \"region\"\n[[classes]]\nid = 3\nname = \"rv\"\nkind = \"region\"\n[ground_truth]\nmasks = \"gt\"\n",
    )
    .unwrap();
    let pack = Pack::open(d).unwrap();
    let rules = RuleSet::parse(toml_text, Path::new("docs/rules.md"), &pack).unwrap();
    assert_eq!(rules.rules.len(), 6);
    let flags = evaluate(&pack, &rules, &[Source::GroundTruth]);
    let on = |id: &str| -> BTreeSet<&str> {
        flags
            .iter()
            .filter(|f| pack.cases[f.case].id.0 == id)
            .map(|f| f.rule.as_str())
            .collect()
    };
    assert!(
        on("slice.png").is_empty(),
        "{:#?}",
        flags.iter().map(|f| &f.message).collect::<Vec<_>>()
    );
    assert!(
        on("broken.png").contains("lv-cavity-enclosed-by-myocardium"),
        "{:#?}",
        flags.iter().map(|f| &f.message).collect::<Vec<_>>()
    );
}

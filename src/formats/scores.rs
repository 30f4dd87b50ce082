//! Per-image class scores for classification models (and 0/1 labels as ground truth), as JSON
//! or CSV:
//!
//! - JSON object: `{"case-001.png": {"opacity": 0.93, "effusion": 0.1}, ...}`
//! - JSON list: `[{"image": "case-001.png", "scores": {"opacity": 0.93}}, ...]`
//! - CSV: a header `image,opacity,effusion` and one row per image.
//!
//! Images are named by file name relative to the image root, or by stem.

use super::json;
use indexmap::IndexMap;
use serde::Deserialize;

/// Scores of one image: `(image key, [(class name, score)])`, in file order.
pub type ImageScores = (String, Vec<(String, f64)>);

/// A problem at one place in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreError {
    pub field: String,
    pub message: String,
    pub hint: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonScores {
    Map(IndexMap<String, IndexMap<String, f64>>),
    List(Vec<Entry>),
}

#[derive(Deserialize)]
struct Entry {
    image: String,
    scores: IndexMap<String, f64>,
}

pub fn parse_json(bytes: &[u8]) -> Result<Vec<ImageScores>, ScoreError> {
    let parsed: JsonScores = json::parse(bytes).map_err(|e| ScoreError {
        field: e.path,
        message: if e.message.contains("untagged") {
            "expected {\"image\": {\"class\": score}} or [{\"image\": ..., \"scores\": {...}}] with numeric scores"
                .into()
        } else {
            e.message
        },
        hint: e.hint,
    })?;
    Ok(match parsed {
        JsonScores::Map(m) => m.into_iter().map(|(k, v)| (k, v.into_iter().collect())).collect(),
        JsonScores::List(l) => l
            .into_iter()
            .map(|e| (e.image, e.scores.into_iter().collect()))
            .collect(),
    })
}

/// Parse CSV scores; rows with a bad value are reported and skipped.
pub fn parse_csv(text: &str) -> (Vec<ImageScores>, Vec<ScoreError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        errors.push(ScoreError {
            field: "line 1".into(),
            message: "the file is empty".into(),
            hint: "Write a header `image,<class>,...`".into(),
        });
        return (out, errors);
    };
    let cols: Vec<String> = split_csv(header);
    if cols.len() < 2
        || !matches!(
            cols[0].to_ascii_lowercase().as_str(),
            "image" | "file_name" | "filename" | "case"
        )
    {
        errors.push(ScoreError {
            field: "line 1".into(),
            message: format!("header {header:?} does not start with an `image` column followed by class names"),
            hint: "Write a header `image,<class>,...`".into(),
        });
        return (out, errors);
    }
    for (i, line) in lines {
        let cells = split_csv(line);
        if cells.len() != cols.len() {
            errors.push(ScoreError {
                field: format!("line {}", i + 1),
                message: format!("{} cells where the header has {}", cells.len(), cols.len()),
                hint: "Each row needs an image name and one score per class".into(),
            });
            continue;
        }
        let mut scores = Vec::new();
        let mut bad = false;
        for (c, v) in cols[1..].iter().zip(&cells[1..]) {
            match v.parse::<f64>() {
                Ok(x) if x.is_finite() => scores.push((c.clone(), x)),
                _ => {
                    errors.push(ScoreError {
                        field: format!("line {}, column {c}", i + 1),
                        message: format!("{v:?} is not a finite number"),
                        hint: "Scores are numbers, e.g. 0.93".into(),
                    });
                    bad = true;
                    break;
                }
            }
        }
        if !bad {
            out.push((cells[0].clone(), scores));
        }
    }
    (out, errors)
}

fn split_csv(line: &str) -> Vec<String> {
    // no embedded commas are expected in image names or class names; quotes are stripped
    line.split(',')
        .map(|c| c.trim().trim_matches('"').to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_forms_and_csv() {
        let a = parse_json(br#"{"a.png": {"opacity": 0.9}}"#).unwrap();
        assert_eq!(a, vec![("a.png".to_string(), vec![("opacity".to_string(), 0.9)])]);
        let b = parse_json(br#"[{"image": "a.png", "scores": {"opacity": 0.9}}]"#).unwrap();
        assert_eq!(a, b);
        assert!(parse_json(br#"{"a.png": {"opacity": "high"}}"#).is_err());
        let (rows, errs) = parse_csv("image,opacity\na.png,0.9\nb.png,high\nc.png\n");
        assert_eq!(rows.len(), 1);
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].field, "line 3, column opacity");
    }
}

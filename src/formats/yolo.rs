//! YOLO text labels and predictions: one `<stem>.txt` per image, a line per box,
//! `class cx cy w h [score]` with coordinates normalised to the image size.

/// One box as written in the file (normalised).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct YoloBox {
    pub class_index: usize,
    pub cx: f64,
    pub cy: f64,
    pub w: f64,
    pub h: f64,
    pub score: Option<f64>,
}

/// A line that could not be read: its 1-based number and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

/// Parse a label file; good lines are kept, each bad line is reported.
pub fn parse(text: &str) -> (Vec<YoloBox>, Vec<LineError>) {
    let mut boxes = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |m: String| LineError {
            line: i + 1,
            message: m,
        };
        let tok: Vec<&str> = line.split_whitespace().collect();
        if tok.len() != 5 && tok.len() != 6 {
            let m = if tok.len() > 6 && tok.len() % 2 == 1 {
                format!(
                    "{} values: this looks like YOLO segmentation (polygon) format; lightbox reads boxes `class cx cy w h [score]`",
                    tok.len()
                )
            } else {
                format!("{} values where `class cx cy w h [score]` has 5 or 6", tok.len())
            };
            errors.push(err(m));
            continue;
        }
        let Ok(class_index) = tok[0].parse::<usize>() else {
            errors.push(err(format!("class {:?} is not a non-negative integer index", tok[0])));
            continue;
        };
        let mut vals = [0f64; 5];
        let names = ["cx", "cy", "w", "h", "score"];
        let mut bad = None;
        for (k, t) in tok[1..].iter().enumerate() {
            match t.parse::<f64>() {
                Ok(v) if v.is_finite() => vals[k] = v,
                _ => {
                    bad = Some(format!("{} {:?} is not a finite number", names[k], t));
                    break;
                }
            }
        }
        if let Some(m) = bad {
            errors.push(err(m));
            continue;
        }
        let [cx, cy, w, h, s] = vals;
        if w < 0.0 || h < 0.0 {
            errors.push(err(format!("negative box size w={w} h={h}")));
            continue;
        }
        if [cx, cy, w, h].iter().any(|v| *v > 1.5 || *v < -0.5) {
            errors.push(err(format!(
                "coordinates {cx} {cy} {w} {h} are not normalised to [0, 1]; YOLO files hold fractions of the image size"
            )));
            continue;
        }
        boxes.push(YoloBox {
            class_index,
            cx,
            cy,
            w,
            h,
            score: (tok.len() == 6).then_some(s),
        });
    }
    (boxes, errors)
}

/// The class list in a `classes.txt` (one name per line).
pub fn parse_class_list(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_and_bad_lines() {
        let (b, e) = parse("0 0.5 0.5 0.2 0.1\n1 0.1 0.1 0.1 0.1 0.93\nx 0 0 0 0\n0 0.5 0.5 -0.1 0.1\n0 40 50 10 10\n");
        assert_eq!(b.len(), 2);
        assert_eq!(b[1].score, Some(0.93));
        assert_eq!(e.iter().map(|e| e.line).collect::<Vec<_>>(), vec![3, 4, 5]);
        assert!(e[2].message.contains("normalised"));
    }
}

//! The metrics tables as text: one model (a title, named columns, rows of cells) built once from
//! a [`Report`] and an operating threshold, drawn by `lightbox metrics` and by the dashboard's
//! metrics view alike, so that the two never say different things.

use super::Report;
use super::classification::{ClassFigures, Estimate};
use super::detection::{Confusion, Prf};
use super::report::Operating;

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// One table: a title line, a header and rows of cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub title: String,
    pub columns: Vec<(String, Align)>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(title: String, columns: &[(&str, Align)]) -> Table {
        Table {
            title,
            columns: columns.iter().map(|(n, a)| (n.to_string(), *a)).collect(),
            rows: Vec::new(),
        }
    }

    /// The header and the rows as aligned lines (columns two spaces apart), without the title.
    pub fn lines(&self) -> (String, Vec<String>) {
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .chain([&self.columns[i].0])
                    .map(|c| c.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &mut dyn Iterator<Item = &String>| -> String {
            let parts: Vec<String> = cells
                .zip(&self.columns)
                .zip(&widths)
                .map(|((c, (_, align)), &w)| match align {
                    Align::Left => format!("{c:<w$}"),
                    Align::Right => format!("{c:>w$}"),
                })
                .collect();
            parts.join("  ").trim_end().to_string()
        };
        let header = line(&mut self.columns.iter().map(|(n, _)| n));
        let rows = self.rows.iter().map(|r| line(&mut r.iter())).collect();
        (header, rows)
    }

    /// As [`Table::lines`], narrowed to `width` columns where it can be: the intervals
    /// (` [a–b]`) are dropped when the lines are wider (`true` then). What still does not fit
    /// is cut where it is drawn.
    pub fn lines_within(&self, width: usize) -> (String, Vec<String>, bool) {
        let (header, rows) = self.lines();
        let widest = rows
            .iter()
            .chain([&header])
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0);
        let has_intervals = self.rows.iter().flatten().any(|c| c.contains(" ["));
        if widest <= width || !has_intervals {
            return (header, rows, false);
        }
        let narrow = Table {
            title: self.title.clone(),
            columns: self.columns.clone(),
            rows: self
                .rows
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|c| c.split(" [").next().unwrap_or(c).to_string())
                        .collect()
                })
                .collect(),
        };
        let (header, rows) = narrow.lines();
        (header, rows, true)
    }
}

/// Words of `text` in lines of at most `width` columns (a word longer than that on its own).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

/// A figure to three decimals, "—" where undefined.
pub fn f3(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "—".into())
}

/// A figure to four decimals (as `lightbox diff` compares them), "—" where undefined.
pub fn f4(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "—".into())
}

/// A figure with its 95% interval: `0.912 [0.851–0.972]`.
pub fn estimate(e: &Estimate) -> String {
    match (e.value, e.ci95) {
        (Some(v), Some([a, b])) => format!("{v:.3} [{a:.3}–{b:.3}]"),
        (Some(v), None) => format!("{v:.3}"),
        _ => "—".into(),
    }
}

fn prf_row(name: &str, ap: Option<String>, p: &Prf) -> Vec<String> {
    let mut row = vec![name.to_string()];
    if let Some(ap) = ap {
        row.push(ap);
    }
    row.extend([
        p.tp.to_string(),
        p.fp.to_string(),
        p.fn_.to_string(),
        f3(p.precision),
        f3(p.recall),
        f3(p.f1),
    ]);
    row
}

/// Precision, recall and F1 per class at `threshold` (the report's own, or one the user moved
/// to: recounted from the operating curves, which needs no new matching), with the COCO AP of
/// each class when there is one.
pub fn detection(r: &Report, d: &Operating, threshold: f64) -> Table {
    use Align::*;
    let with_ap = !r.coco.is_empty();
    let mut cols = vec![("class", Left)];
    if with_ap {
        cols.push(("AP", Right));
    }
    cols.extend([
        ("TP", Right),
        ("FP", Right),
        ("FN", Right),
        ("precision", Right),
        ("recall", Right),
        ("F1", Right),
    ]);
    let mut t = Table::new(
        format!("Detection at score ≥ {threshold:.2}, IoU ≥ {:.2}", d.iou),
        &cols,
    );
    let c = &d.curves;
    let used: Vec<usize> = (0..c.classes.len()).filter(|&k| c.is_used(k)).collect();
    let ap_of = |k: usize| with_ap.then(|| f3(r.coco.first().and_then(|s| s.eval.class_ap(k))));
    for &k in &used {
        t.rows.push(prf_row(&d.classes_names[k], ap_of(k), &c.at(k, threshold)));
    }
    let all = c.overall(threshold);
    t.rows.push(prf_row("all", with_ap.then(String::new), &all));
    t
}

/// The confusion matrix over the classes that appear (rows: ground truth, columns:
/// prediction, plus `missed` and `background`); `None` when no class appears or there are too
/// many to read.
pub fn confusion(c: &Confusion, names: &[String], max_classes: usize) -> Option<Table> {
    let n = c.classes.len();
    let used: Vec<usize> = (0..n)
        .filter(|&k| (0..=n).any(|j| c.get(k, j) > 0 || c.get(j, k) > 0))
        .collect();
    if used.is_empty() || used.len() > max_classes {
        return None;
    }
    let label = |k: usize| names.get(k).cloned().unwrap_or_else(|| format!("#{k}"));
    let mut t = Table {
        title: format!(
            "Confusion at score ≥ {:.2}, IoU ≥ {:.2} (rows: ground truth; columns: prediction)",
            c.threshold, c.iou
        ),
        columns: std::iter::once((String::new(), Align::Left))
            .chain(used.iter().map(|&k| (label(k), Align::Right)))
            .chain([("missed".to_string(), Align::Right)])
            .collect(),
        rows: Vec::new(),
    };
    for &g in used.iter().chain([&n]) {
        let mut row = vec![if g == n { "background".to_string() } else { label(g) }];
        row.extend(used.iter().map(|&k| c.get(g, k).to_string()));
        row.push(if g == n {
            "—".to_string()
        } else {
            c.get(g, n).to_string()
        });
        t.rows.push(row);
    }
    Some(t)
}

/// Dice, IoU, pooled Dice and HD95 per class of the label masks.
pub fn segmentation(s: &super::segmentation::SegmentationEval) -> Table {
    use Align::*;
    let mut t = Table::new(
        "Segmentation (label masks; Dice and IoU: mean per case; pooled: over all pixels; HD95: median px)".into(),
        &[
            ("class", Left),
            ("cases", Right),
            ("Dice", Right),
            ("IoU", Right),
            ("pooled Dice", Right),
            ("HD95", Right),
        ],
    );
    for c in &s.classes {
        t.rows.push(vec![
            c.name.clone(),
            c.cases.to_string(),
            f3(c.mean_dice),
            f3(c.mean_iou),
            f3(c.pooled_dice),
            c.median_hd95.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".into()),
        ]);
    }
    t
}

/// ROC-AUC, average precision, sensitivity and specificity per class, with 95% bootstrap
/// intervals; sensitivity and specificity at the figures' own threshold.
pub fn classification(figures: &[ClassFigures]) -> Option<Table> {
    use Align::*;
    let first = figures.first()?;
    let mut t = Table::new(
        format!(
            "Classification (score ≥ {:.2} is positive; 95% bootstrap intervals)",
            first.threshold
        ),
        &[
            ("class", Left),
            ("cases", Right),
            ("pos", Right),
            ("ROC-AUC", Left),
            ("AP", Left),
            ("sensitivity", Left),
            ("specificity", Left),
        ],
    );
    for c in figures {
        t.rows.push(vec![
            c.name.clone(),
            c.cases.to_string(),
            c.positives.to_string(),
            estimate(&c.roc_auc),
            estimate(&c.average_precision),
            estimate(&c.sensitivity),
            estimate(&c.specificity),
        ]);
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_to_the_widest_cell() {
        let mut t = Table::new("T".into(), &[("class", Align::Left), ("n", Align::Right)]);
        t.rows.push(vec!["lung".into(), "12".into()]);
        t.rows.push(vec!["opacity".into(), "3".into()]);
        let (h, rows) = t.lines();
        assert_eq!(h, "class     n");
        assert_eq!(rows, vec!["lung     12", "opacity   3"]);
    }

    #[test]
    fn a_narrow_pane_drops_the_intervals_first_and_titles_wrap() {
        let mut t = Table::new("T".into(), &[("class", Align::Left), ("AUC", Align::Left)]);
        t.rows.push(vec!["opacity".into(), "0.870 [0.750–0.975]".into()]);
        let (_, rows, dropped) = t.lines_within(80);
        assert_eq!((rows[0].as_str(), dropped), ("opacity  0.870 [0.750–0.975]", false));
        let (_, rows, dropped) = t.lines_within(20);
        assert_eq!((rows[0].as_str(), dropped), ("opacity  0.870", true));
        assert_eq!(
            wrap("Confusion at score ≥ 0.50, IoU ≥ 0.50", 20),
            vec!["Confusion at score ≥", "0.50, IoU ≥ 0.50"]
        );
        assert_eq!(wrap("short", 20), vec!["short"]);
    }

    #[test]
    fn estimates_and_missing_figures() {
        assert_eq!(
            estimate(&Estimate {
                value: Some(0.9123),
                ci95: Some([0.851, 0.972])
            }),
            "0.912 [0.851–0.972]"
        );
        assert_eq!(
            estimate(&Estimate {
                value: None,
                ci95: None
            }),
            "—"
        );
        assert_eq!(f3(None), "—");
    }
}

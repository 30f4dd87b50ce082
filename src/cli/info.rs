//! `lightbox info`: a pack's summary as a table (or JSON), and the pack validator: every
//! problem is listed, and the exit status is 2 when any is an error.

use super::source::PackArgs;
use super::{EXIT_INPUT, EXIT_OK};
use lightbox::pack::summary::Summary;
use lightbox::pack::validate::validate;
use lightbox::pack::{ClassKind, Level};
use std::fmt::Write;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub source: PackArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Show every problem (default: the first 40).
    #[arg(long)]
    pub all: bool,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let pack = args.source.open()?;
    let v = validate(&pack);
    let s = Summary::new(&pack, &v);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        print!("{}", table(&s, args.all));
    }
    Ok(if s.errors > 0 { EXIT_INPUT } else { EXIT_OK })
}

fn counts(m: &std::collections::BTreeMap<String, usize>) -> String {
    let mut v: Vec<_> = m.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    v.iter()
        .map(|(k, n)| format!("{k} ({n})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Columns padded to their widest cell; numbers right-aligned.
fn grid(rows: &[Vec<String>], indent: &str) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::from(indent);
        for (i, c) in r.iter().enumerate() {
            let pad = widths[i] - c.chars().count();
            let numeric = !c.is_empty() && c.chars().all(|ch| ch.is_ascii_digit() || ch == '-');
            if numeric {
                line.push_str(&" ".repeat(pad));
                line.push_str(c);
            } else {
                line.push_str(c);
                line.push_str(&" ".repeat(pad));
            }
            line.push_str("  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub fn table(s: &Summary, all: bool) -> String {
    let mut o = String::new();
    let _ = write!(o, "{}", s.name);
    if let Some(v) = &s.version {
        let _ = write!(o, " {v}");
    }
    o.push('\n');
    if let Some(d) = &s.description {
        let _ = writeln!(o, "{d}");
    }
    o.push('\n');
    let mut head = vec![];
    if let Some(p) = &s.pack {
        head.push(vec!["pack".into(), p.clone()]);
    }
    head.push(vec!["images".into(), format!("{} ({} cases)", s.images, s.cases)]);
    if !s.sizes.is_empty() {
        head.push(vec!["sizes".into(), counts(&s.sizes)]);
        head.push(vec!["pixels".into(), counts(&s.pixel_formats)]);
    }
    if s.unreadable_images > 0 {
        head.push(vec![
            "unreadable".into(),
            format!("{} images (see problems)", s.unreadable_images),
        ]);
    }
    o.push_str(&grid(&head, ""));

    o.push_str("\nclasses\n");
    let mut rows = vec![vec![
        "id".into(),
        "name".into(),
        "kind".into(),
        "gt objects".into(),
        "gt mask cases".into(),
        "gt labels".into(),
    ]];
    for c in &s.classes {
        rows.push(vec![
            c.id.to_string(),
            c.name.clone(),
            match c.kind {
                ClassKind::Region => "region".into(),
                ClassKind::Finding => "finding".into(),
            },
            c.gt_instances.to_string(),
            c.gt_mask_cases.to_string(),
            c.gt_labels.to_string(),
        ]);
    }
    if s.classes.is_empty() {
        rows.push(vec!["-".into(), "(no classes declared)".into()]);
    }
    o.push_str(&grid(&rows, "  "));

    o.push_str("\nruns\n");
    let mut rows = vec![vec![
        "name".into(),
        "predictions".into(),
        "with masks".into(),
        "label masks".into(),
        "prob maps".into(),
        "scored".into(),
        "by class".into(),
    ]];
    for r in &s.runs {
        rows.push(vec![
            r.name.clone(),
            r.set.instances.to_string(),
            r.set.instance_masks.to_string(),
            r.set.label_masks.to_string(),
            r.set.probability_maps.to_string(),
            r.set.scored_cases.to_string(),
            r.per_class
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    if s.runs.is_empty() {
        rows.push(vec!["(no runs)".into()]);
    }
    o.push_str(&grid(&rows, "  "));

    let _ = writeln!(
        o,
        "\nproblems: {} error{}, {} warning{}",
        s.errors,
        if s.errors == 1 { "" } else { "s" },
        s.warnings,
        if s.warnings == 1 { "" } else { "s" }
    );
    let limit = if all { usize::MAX } else { 40 };
    for p in s.problems.iter().take(limit) {
        let tag = match p.severity {
            Level::Error => "error  ",
            Level::Warning => "warning",
        };
        let _ = writeln!(o, "  {tag} {p}");
    }
    if s.problems.len() > limit {
        let _ = writeln!(o, "  ... {} more (--all shows every problem)", s.problems.len() - limit);
    }
    o
}

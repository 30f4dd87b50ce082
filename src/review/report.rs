//! The sign-off report attached to a release: a Markdown file and a standalone HTML page (images
//! embedded) with the verdicts and notes, the rendered overlays of every flagged and rejected
//! case, the metrics and the hashes, and whether the record verifies now.

use super::record::{self, Record};
use crate::pack::{Pack, Source};
use crate::render::{CaseData, Palette, Style, View, Viewport, view::compose_side_by_side};
use std::fmt::Write;
use std::path::{Path, PathBuf};

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One case in the report.
struct Shown {
    case: String,
    why: Vec<String>,
    verdict: String,
    image: Option<(PathBuf, Vec<u8>)>,
}

/// Write `report.md`, `report.html` and `images/*.png` into `out`. Returns the two report paths.
pub fn write(record_path: &Path, pack: &Pack, out: &Path) -> Result<(PathBuf, PathBuf), String> {
    let (rec, bad): (Record, Vec<String>) = record::verify(record_path, pack)?;
    let run = pack.run_index(&rec.run)?;
    std::fs::create_dir_all(out.join("images")).map_err(|e| format!("{}: {e}", out.display()))?;
    // flag geometry for the highlights
    let flags = crate::check::load_rules(pack, None)
        .ok()
        .flatten()
        .map(|rules| crate::rules::evaluate(pack, &rules, &[Source::GroundTruth, Source::Run(run)]))
        .unwrap_or_default();
    let journal = record_path.with_file_name(&rec.journal.file);
    let state = super::journal::read(&journal)
        .map(|(e, _, _)| super::State::replay(&e))
        .unwrap_or_default();
    // the cases to show: every rejected one, every flagged one
    let mut cases: Vec<Shown> = Vec::new();
    let mut add = |case: &str, why: String| {
        if let Some(s) = cases.iter_mut().find(|s| s.case == case) {
            if !s.why.contains(&why) {
                s.why.push(why);
            }
        } else {
            let verdict = match state.case_verdict(case) {
                Some(g) => {
                    let mut v = g.verdict.name().to_string();
                    if let Some(r) = &g.reason {
                        v += &format!(" — {r}");
                    }
                    if let Some(n) = &g.note {
                        v += &format!(" — “{n}”");
                    }
                    v
                }
                None => "not reviewed".into(),
            };
            cases.push(Shown {
                case: case.to_string(),
                why: vec![why],
                verdict,
                image: None,
            });
        }
    };
    for r in &rec.rejected {
        add(&r.case, "rejected".into());
    }
    for req in &rec.plan.required {
        for why in req
            .reasons
            .iter()
            .filter(|w| w.starts_with("flag") || w.starts_with("out of") || w.starts_with("regression"))
        {
            add(&req.case, why.clone());
        }
    }
    for s in &mut cases {
        let Ok(c) = crate::pack::find_case(pack, &s.case) else {
            continue;
        };
        let data = CaseData::load(pack, c);
        let mut style = Style::new(Palette::for_pack(pack, &[]));
        style.score_threshold = rec.reviewed_threshold;
        style.highlights = flags
            .iter()
            .filter(|f| f.case == c)
            .filter_map(|f| f.highlight.clone().map(|h| (h, [255, 64, 64])))
            .collect();
        let views = [View::GroundTruth, View::Prediction(run)];
        if let Some(img) = compose_side_by_side(pack, &data, &views, &style, &Viewport::fit(), 960, 480, 8) {
            let name = format!("images/{}.png", super::journal::safe(&s.case));
            let mut bytes = Vec::new();
            if img
                .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
                .is_ok()
            {
                std::fs::write(out.join(&name), &bytes).map_err(|e| format!("{}: {e}", out.join(&name).display()))?;
                s.image = Some((PathBuf::from(name), bytes));
            }
        }
    }

    let verified = if bad.is_empty() {
        "verified now: journal chain intact, record matches the journal, every file unchanged".to_string()
    } else {
        format!("NOT verified now: {}", bad.join("; "))
    };
    let facts: Vec<(&str, String)> = vec![
        ("Release", rec.release.clone()),
        ("Decision", rec.meaning.clone()),
        (
            "Reviewer",
            format!(
                "{}{}",
                rec.reviewer,
                rec.role.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
            ),
        ),
        ("Signed", rec.time.clone()),
        ("Run", rec.run.clone()),
        (
            "Model",
            pack.manifest
                .runs
                .get(&rec.run)
                .and_then(|s| s.model.clone())
                .unwrap_or_else(|| "not declared".into()),
        ),
        (
            "Score threshold",
            match (&rec.threshold_note, rec.shipping_threshold) {
                (Some(n), _) => n.clone(),
                (None, Some(t)) => format!("{t:.2} (reviewed at the threshold that ships)"),
                (None, None) => format!(
                    "reviewed at {:.2}; no shipping threshold declared",
                    rec.reviewed_threshold
                ),
            },
        ),
        ("Progress", rec.progress.to_string()),
        ("Random sample", rec.sample_statement.clone()),
        (
            "Known answers",
            rec.known_agreement().unwrap_or_else(|| "none in the plan".into()),
        ),
        (
            "Fast verdicts",
            if rec.fast_verdicts.is_empty() {
                "none".into()
            } else {
                rec.fast_verdicts
                    .iter()
                    .map(|(c, s)| format!("{c} ({s} s)"))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        ),
        (
            "Override",
            rec.override_reason
                .clone()
                .unwrap_or_else(|| "none: every required case was reviewed".into()),
        ),
        ("Verification", verified.clone()),
    ];

    // Markdown
    let mut md = String::new();
    let _ = writeln!(md, "# Sign-off: {} — {}\n", rec.release, rec.meaning);
    for (k, v) in &facts {
        let _ = writeln!(md, "- **{k}**: {v}");
    }
    let _ = writeln!(md, "\n## Cases\n");
    for s in &cases {
        let _ = writeln!(md, "### {}\n\n{} · **{}**\n", s.case, s.why.join("; "), s.verdict);
        if let Some((p, _)) = &s.image {
            let _ = writeln!(md, "![{} — ground truth | {}]({})\n", s.case, rec.run, p.display());
        }
    }
    let _ = writeln!(md, "## Metrics at signing\n\n| figure | value |\n|---|---|");
    for (k, v) in &rec.metrics {
        let _ = writeln!(
            md,
            "| {k} | {} |",
            v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "—".into())
        );
    }
    let _ = writeln!(md, "\n## Hashes (SHA-256)\n");
    let _ = writeln!(
        md,
        "- journal `{}`, last entry before signing `{}`",
        rec.journal.file, rec.journal.last_entry_sha256
    );
    let _ = writeln!(
        md,
        "- record `{}`",
        super::hash::sha256_file(record_path).unwrap_or_default()
    );
    for f in &rec.pack_files {
        let _ = writeln!(md, "- pack `{}` `{}`", f.path, f.sha256);
    }
    for r in &rec.runs {
        for f in &r.files {
            let _ = writeln!(md, "- run {} `{}` `{}`", r.name, f.path, f.sha256);
        }
    }

    // HTML, standalone
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign-off {rel}</title><style>body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}}img{{max-width:100%;border:1px solid #ccc}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 8px;text-align:left}}.bad{{color:#b00}}code{{font-size:85%}}</style></head><body>",
        rel = html_escape(&rec.release)
    );
    let _ = write!(
        h,
        "<h1>Sign-off: {} — {}</h1><table>",
        html_escape(&rec.release),
        html_escape(&rec.meaning)
    );
    for (k, v) in &facts {
        let class = if *k == "Verification" && !bad.is_empty() {
            " class=\"bad\""
        } else {
            ""
        };
        let _ = write!(h, "<tr><th>{k}</th><td{class}>{}</td></tr>", html_escape(v));
    }
    let _ = write!(h, "</table><h2>Cases</h2>");
    for s in &cases {
        let _ = write!(
            h,
            "<h3>{}</h3><p>{} · <b>{}</b></p>",
            html_escape(&s.case),
            html_escape(&s.why.join("; ")),
            html_escape(&s.verdict)
        );
        if let Some((_, bytes)) = &s.image {
            let _ = write!(
                h,
                "<img alt=\"{} ground truth | {}\" src=\"data:image/png;base64,{}\">",
                html_escape(&s.case),
                html_escape(&rec.run),
                base64(bytes)
            );
        }
    }
    let _ = write!(
        h,
        "<h2>Metrics at signing</h2><table><tr><th>figure</th><th>value</th></tr>"
    );
    for (k, v) in &rec.metrics {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td></tr>",
            html_escape(k),
            v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "—".into())
        );
    }
    let _ = write!(h, "</table><h2>Hashes (SHA-256)</h2><ul>");
    let _ = write!(
        h,
        "<li>journal <code>{}</code>, last entry before signing <code>{}</code></li>",
        html_escape(&rec.journal.file),
        rec.journal.last_entry_sha256
    );
    for f in &rec.pack_files {
        let _ = write!(
            h,
            "<li>pack <code>{}</code> <code>{}</code></li>",
            html_escape(&f.path),
            f.sha256
        );
    }
    for r in &rec.runs {
        for f in &r.files {
            let _ = write!(
                h,
                "<li>run {} <code>{}</code> <code>{}</code></li>",
                html_escape(&r.name),
                html_escape(&f.path),
                f.sha256
            );
        }
    }
    let _ = writeln!(h, "</ul></body></html>");
    let (mdp, hp) = (out.join("report.md"), out.join("report.html"));
    std::fs::write(&mdp, md).map_err(|e| format!("{}: {e}", mdp.display()))?;
    std::fs::write(&hp, h).map_err(|e| format!("{}: {e}", hp.display()))?;
    Ok((mdp, hp))
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc_4648() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"f"), "Zg==");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
    }
}

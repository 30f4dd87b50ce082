//! The sign-off report attached to a release: a Markdown file and a standalone HTML page (images
//! embedded) with the verdicts and notes, the rendered overlays of every flagged and rejected
//! case, the metrics and the hashes, and whether the record verifies now.

use super::record;
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

/// Text from the record (names, notes, reasons) as Markdown shows it literally: no HTML, no
/// emphasis, links or headings smuggled in.
fn md_text(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' => {
                o.push('\\');
                o.push(c);
            }
            c if c.is_control() => o.push(' '),
            c => o.push(c),
        }
    }
    o
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
    /// Flags on the case: (whose, sentence, the reviewer's verdict on it).
    flags: Vec<(String, String, String)>,
    notes: Vec<String>,
    image: Option<(PathBuf, Vec<u8>)>,
}

fn hex(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Verify(#[from] record::VerifyError),
    /// The record's run is not in the pack.
    #[error(transparent)]
    Run(#[from] crate::pack::LookupError),
    #[error("{}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// Write `report.md`, `report.html` and `images/*.png` into `out`. Returns the two report paths
/// and whether the record verifies now.
pub fn write(record_path: &Path, pack: &Pack, out: &Path) -> Result<(PathBuf, PathBuf, bool), ReportError> {
    let v = record::verify(record_path, pack, None)?;
    let (rec, bad) = (&v.record, &v.problems);
    let run = pack.run_index(&rec.run)?;
    std::fs::create_dir_all(out.join("images")).map_err(write_error(out))?;
    // flag geometry for the highlights
    let flags = crate::check::load_rules(pack, None)
        .ok()
        .flatten()
        .map(|rules| crate::rules::evaluate(pack, &rules, &[Source::GroundTruth, Source::Run(run)]))
        .unwrap_or_default();
    let flag_colour = |sev: &str| match sev {
        "critical" => [230, 40, 40],
        "major" => [255, 140, 0],
        _ => [240, 220, 60],
    };
    // the cases to show: every rejected one, every flagged one, every one with a note
    let mut cases: Vec<Shown> = Vec::new();
    let mut add = |case: &str, why: String| {
        if let Some(s) = cases.iter_mut().find(|s| s.case == case) {
            if !why.is_empty() && !s.why.contains(&why) {
                s.why.push(why);
            }
            return;
        }
        let verdict = match rec.verdicts.iter().find(|x| x.case == case && x.flag.is_none()) {
            Some(g) => {
                let mut v = g.meaning.clone();
                if let Some(r) = &g.reason {
                    v += &format!(" — {r}");
                }
                if let Some(n) = &g.note {
                    v += &format!(" — “{n}”");
                }
                v
            }
            None => "no verdict".into(),
        };
        let flags = rec
            .flag_list
            .iter()
            .filter(|f| f.case == case)
            .map(|f| {
                let on = rec
                    .verdicts
                    .iter()
                    .find(|x| x.case == case && x.flag.as_deref() == Some(f.rule.as_str()))
                    .map(|x| x.meaning.clone())
                    .unwrap_or_else(|| "no verdict on this flag".into());
                (
                    format!("{} · {} ({})", f.source, f.rule, f.severity),
                    f.message.clone(),
                    on,
                )
            })
            .collect();
        cases.push(Shown {
            case: case.to_string(),
            why: if why.is_empty() { Vec::new() } else { vec![why] },
            verdict,
            flags,
            notes: rec
                .notes
                .iter()
                .filter(|n| n.case == case)
                .map(|n| n.text.clone())
                .collect(),
            image: None,
        });
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
    for f in &rec.flag_list {
        add(&f.case, String::new());
    }
    for n in &rec.notes {
        add(&n.case, "noted".into());
    }
    let palette = Palette::for_pack(pack, &[]);
    for s in &mut cases {
        let Ok(c) = crate::pack::find_case(pack, &s.case) else {
            continue;
        };
        let data = CaseData::load(pack, c);
        let mut style = Style::new(palette.clone());
        style.score_threshold = rec.reviewed_threshold;
        // each flag's geometry on the panel of the source that has it, and only there
        style.highlights = flags
            .iter()
            .filter(|f| f.case == c && f.slice.unwrap_or(0) == 0)
            .filter_map(|f| {
                f.highlight.clone().map(|rle| crate::render::compose::Highlight {
                    rle,
                    color: flag_colour(f.severity.name()),
                    source: f.source,
                })
            })
            .collect();
        let views = [View::GroundTruth, View::Prediction(run)];
        if let Some(img) = compose_side_by_side(pack, &data, &views, &style, &Viewport::fit(), 960, 480, 8) {
            let name = format!("images/{}.png", super::journal::safe(&s.case));
            let mut bytes = Vec::new();
            if img
                .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
                .is_ok()
            {
                let path = out.join(&name);
                std::fs::write(&path, &bytes).map_err(write_error(&path))?;
                s.image = Some((PathBuf::from(name), bytes));
            }
        }
    }

    let verified = if bad.is_empty() {
        "verified now: journal chain intact and sealed, record matches the journal, every file unchanged".to_string()
    } else {
        format!("NOT verified now: {}", bad.join("; "))
    };
    let signature = match (&v.signature, &rec.ssh_key) {
        (record::Signature::None, _) => {
            "none: integrity only — anyone with write access to the files could have produced this record".to_string()
        }
        (record::Signature::Good { fingerprint, .. }, _) => format!(
            "valid SSH signature by key {fingerprint}; check who holds it with `lightbox verify --allowed-signers`"
        ),
        (record::Signature::Bad(e), _) => format!("BAD: {e}"),
    };
    let decision = format!(
        "{} by {}{} on {}",
        rec.meaning,
        rec.reviewer,
        rec.role.as_ref().map(|r| format!(" ({r})")).unwrap_or_default(),
        rec.time
    );
    let facts: Vec<(&str, String)> = vec![
        ("Decision", decision.clone()),
        ("Verification", verified.clone()),
        ("Signature", signature),
        (
            "Reviewer's key",
            rec.ssh_key
                .as_ref()
                .map(|k| k.fingerprint.clone())
                .unwrap_or_else(|| "none given".into()),
        ),
        ("Release", rec.release.clone()),
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
        (
            "Interface",
            if rec.scripted {
                "some verdicts were given through `lightbox review --batch` (a script): their times on screen are the script's word".into()
            } else {
                "the dashboard: times on screen measured".into()
            },
        ),
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
    ];
    // the legend: what the colours mean
    let mut legend: Vec<(String, String)> = pack
        .classes
        .iter()
        .map(|c| (hex(palette.class(c.id)), format!("{} (filled and outlined)", c.name)))
        .collect();
    legend.push((
        hex(flag_colour("critical")),
        "critical flag: the flagged geometry, hatched".into(),
    ));
    legend.push((hex(flag_colour("major")), "major flag, hatched".into()));
    legend.push((hex(flag_colour("minor")), "minor flag, hatched".into()));
    let panels = format!(
        "left: ground truth · right: {} (run) — a flag is hatched only on the panel of the source that has it",
        rec.run
    );

    // Markdown
    let mut md = String::new();
    let _ = writeln!(md, "# Sign-off {}: {}\n", md_text(&rec.release), md_text(&rec.meaning));
    let _ = writeln!(md, "**{}.**\n", md_text(&decision));
    for (k, v) in &facts[1..] {
        let _ = writeln!(md, "- **{k}**: {}", md_text(v));
    }
    let _ = writeln!(md, "\n## Cases\n\nImages: {panels}.\n\nLegend:");
    for (c, what) in &legend {
        let _ = writeln!(md, "- `{c}` {what}");
    }
    let _ = writeln!(md);
    for s in &cases {
        let _ = writeln!(md, "### {}\n", md_text(&s.case));
        if !s.why.is_empty() {
            let _ = writeln!(md, "In the plan: {}\n", md_text(&s.why.join("; ")));
        }
        let _ = writeln!(md, "Verdict: **{}**\n", md_text(&s.verdict));
        for (who, sentence, on) in &s.flags {
            let _ = writeln!(
                md,
                "- flag {}: {} — **{}**",
                md_text(who),
                md_text(sentence),
                md_text(on)
            );
        }
        for n in &s.notes {
            let _ = writeln!(md, "- note: “{}”", md_text(n));
        }
        if !s.flags.is_empty() || !s.notes.is_empty() {
            let _ = writeln!(md);
        }
        if let Some((p, _)) = &s.image {
            let _ = writeln!(
                md,
                "![{} — left: ground truth, right: {}]({})\n",
                s.case,
                rec.run,
                p.display()
            );
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
    let _ = writeln!(md, "\n## Appendix: hashes (SHA-256)\n");
    let record_sha = super::hash::sha256_file(record_path).unwrap_or_default();
    let seal = rec.seal.as_ref();
    let _ = writeln!(
        md,
        "- journal `{}`: {} entries before signing, last `{}`; signed entry {} `{}`; journal through it `{}`",
        rec.journal.file,
        rec.journal.entries,
        rec.journal.last_entry_sha256,
        seal.map(|s| s.signed_entry.to_string()).unwrap_or_default(),
        seal.map(|s| s.signed_entry_sha256.as_str()).unwrap_or(""),
        seal.map(|s| s.journal_sha256.as_str()).unwrap_or("")
    );
    let _ = writeln!(md, "- record file `{record_sha}`, content `{}`", rec.content_sha256());
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
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign-off {rel}</title><style>body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222;line-height:1.4}}img{{width:100%;border:1px solid #ccc;display:block}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}}.bad{{color:#b00;font-weight:bold}}.decision{{font-size:1.3em;padding:.6em 1em;border-radius:6px;background:#eef6ee;border:2px solid #3a3}}.decision.rej{{background:#fbeeee;border-color:#b33}}.panels{{display:flex;gap:8px;font-weight:bold;margin-top:.5em}}.panels div{{flex:1;text-align:center;background:#f2f2f2;padding:2px}}.sw{{display:inline-block;width:1em;height:1em;border:1px solid #555;vertical-align:middle;margin-right:.4em}}.hatch{{background:repeating-linear-gradient(45deg,var(--c) 0 2px,transparent 2px 5px)}}code{{font-size:85%}}.appendix li{{font-size:80%;word-break:break-all}}</style></head><body>",
        rel = html_escape(&rec.release)
    );
    let _ = write!(
        h,
        "<h1>Sign-off {}</h1><p class=\"decision{}\">{}</p><table>",
        html_escape(&rec.release),
        if rec.approves() { "" } else { " rej" },
        html_escape(&decision)
    );
    for (k, v) in &facts[1..] {
        let class = if (*k == "Verification" && !bad.is_empty()) || (*k == "Signature" && !v.starts_with("valid")) {
            " class=\"bad\""
        } else {
            ""
        };
        let _ = write!(h, "<tr><th>{k}</th><td{class}>{}</td></tr>", html_escape(v));
    }
    let _ = write!(h, "</table><h2>Cases</h2><p>Legend: ");
    for (i, (c, what)) in legend.iter().enumerate() {
        let hatch = i >= pack.classes.len();
        let _ = write!(
            h,
            "<span style=\"white-space:nowrap;margin-right:1.2em\"><span class=\"sw{}\" style=\"{}\"></span>{}</span> ",
            if hatch { " hatch" } else { "" },
            if hatch {
                format!("--c:{c}")
            } else {
                format!("background:{c}")
            },
            html_escape(what)
        );
    }
    let _ = write!(
        h,
        "</p><p>A flag's geometry is hatched only on the panel of the source that has it.</p>"
    );
    for s in &cases {
        let _ = write!(h, "<h3>{}</h3>", html_escape(&s.case));
        if !s.why.is_empty() {
            let _ = write!(h, "<p>In the plan: {}</p>", html_escape(&s.why.join("; ")));
        }
        let _ = write!(h, "<p>Verdict: <b>{}</b></p>", html_escape(&s.verdict));
        if !s.flags.is_empty() || !s.notes.is_empty() {
            let _ = write!(h, "<ul>");
            for (who, sentence, on) in &s.flags {
                let _ = write!(
                    h,
                    "<li>flag {}: {} — <b>{}</b></li>",
                    html_escape(who),
                    html_escape(sentence),
                    html_escape(on)
                );
            }
            for n in &s.notes {
                let _ = write!(h, "<li>note: “{}”</li>", html_escape(n));
            }
            let _ = write!(h, "</ul>");
        }
        if let Some((_, bytes)) = &s.image {
            let _ = write!(
                h,
                "<div class=\"panels\"><div>ground truth</div><div>{} (run)</div></div><img alt=\"{}: left ground truth, right {}\" src=\"data:image/png;base64,{}\">",
                html_escape(&rec.run),
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
    let _ = write!(h, "</table><h2>Appendix: hashes (SHA-256)</h2><ul class=\"appendix\">");
    let _ = write!(
        h,
        "<li>journal <code>{}</code>: {} entries before signing, last <code>{}</code>; signed entry {} <code>{}</code>; journal through it <code>{}</code></li><li>record file <code>{record_sha}</code>, content <code>{}</code></li>",
        html_escape(&rec.journal.file),
        rec.journal.entries,
        rec.journal.last_entry_sha256,
        seal.map(|s| s.signed_entry.to_string()).unwrap_or_default(),
        seal.map(|s| s.signed_entry_sha256.as_str()).unwrap_or(""),
        seal.map(|s| s.journal_sha256.as_str()).unwrap_or(""),
        rec.content_sha256()
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
    std::fs::write(&mdp, md).map_err(write_error(&mdp))?;
    std::fs::write(&hp, h).map_err(write_error(&hp))?;
    Ok((mdp, hp, bad.is_empty()))
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

    #[test]
    fn a_report_that_cannot_be_written_names_the_file() {
        let e = super::ReportError::Write {
            path: std::path::PathBuf::from("out/report.md"),
            source: std::io::Error::new(std::io::ErrorKind::PermissionDenied, "Permission denied"),
        };
        assert_eq!(e.to_string(), "out/report.md: Permission denied");
    }
}

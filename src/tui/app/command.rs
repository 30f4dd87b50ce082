//! The `:` command line, tags (`t`) and `:export`.

use super::*;

impl App {
    /// Run a `:` command.
    pub fn command(&mut self, line: &str) {
        let mut parts = line.split_whitespace();
        let cmd = parts.next().unwrap_or("");
        let arg = parts.collect::<Vec<_>>().join(" ");
        match cmd {
            "" => {}
            "q" | "quit" => self.should_quit = true,
            "goto" | "g" => self.goto(&arg),
            "run" => match self.pack.run_index(&arg) {
                Ok(r) => {
                    self.run = Some(r);
                    self.refresh_order();
                    self.say(format!("run: {arg}"));
                }
                Err(e) => self.warn(e.to_string()),
            },
            "compare" => self.start_compare(&arg),
            "theme" => match super::super::config::load_theme(&arg) {
                Ok(t) => {
                    self.style.palette = t.palette(&self.pack);
                    self.config.theme = t;
                    self.say(format!("theme: {arg}"));
                }
                Err(e) => self.warn(e),
            },
            "filter" => self.set_filter(&arg),
            "export" => self.export(&arg),
            "view" => self.view_command(&arg),
            "sort" => match SortKey::ALL.iter().find(|k| k.name() == arg) {
                Some(k) => self.set_sort(*k),
                None => self.warn(format!("sort keys: {}", SortKey::ALL.iter().map(|k| k.name()).collect::<Vec<_>>().join(", "))),
            },
            "threshold" => match arg.parse::<f64>() {
                Ok(t) if (0.0..=1.0).contains(&t) => self.style.score_threshold = t,
                _ => self.warn("threshold takes a number from 0 to 1"),
            },
            "window" => {
                let nums: Vec<f64> = arg.split([' ', ',']).filter_map(|s| s.parse().ok()).collect();
                match nums[..] {
                    [c, w] if w > 0.0 => self.style.window = Some(crate::render::Window::from_center_width(c, w)),
                    _ => match WindowPreset::from_name(&arg) {
                        Some(p) if !p.applies(self.scan()) && p != WindowPreset::File => {
                            self.warn(format!("the {} window is for CT images in Hounsfield units", p.name()))
                        }
                        Some(p) => {
                            self.style.preset = p;
                            self.style.window = None;
                        }
                        None => self.warn(format!(
                            "window takes CENTER WIDTH, or a preset: {}",
                            WindowPreset::names()
                        )),
                    },
                }
            }
            n if n.parse::<usize>().is_ok() => self.goto(n),
            other => self.warn(format!("unknown command {other:?} (goto N, run NAME, compare NAME, theme NAME, filter EXPR, sort KEY, threshold X, window C W, view NAME, export DIR|FILE, quit)")),
        }
    }

    pub(crate) fn goto(&mut self, arg: &str) {
        match crate::pack::find_case(&self.pack, arg) {
            Ok(c) => match self.order.iter().position(|&x| x == c) {
                Some(p) => self.move_to(p),
                None => self.warn(format!(
                    "{} is hidden by the filter ({} clears it)",
                    self.pack.cases[c].id,
                    self.key_or(super::Action::ClearFilter, ":filter alone")
                )),
            },
            Err(e) => self.warn(e.to_string()),
        }
    }

    /// Apply a filter expression typed after `/`.
    /// Add (`word`) or remove (`-word`) tags on the current case; the workspace is saved in the
    /// background and the filter re-applied.
    pub fn tag(&mut self, words: &str) {
        let Some(case) = self.case() else { return };
        let id = self.pack.cases[case].id.0.clone();
        match self.workspace.apply(&id, words) {
            Ok(changed) if changed.is_empty() => self.say("tags unchanged"),
            Ok(changed) => {
                let now: Vec<&str> = self.workspace.tags(&id).collect();
                let text = format!(
                    "{id}: {} (tags: {})",
                    changed.join(" "),
                    if now.is_empty() {
                        "none".to_string()
                    } else {
                        now.join(" ")
                    }
                );
                self.say(text);
                self.effects.push(Effect::SaveWorkspace(self.workspace.clone()));
                self.refresh_order();
            }
            Err(e) => self.warn(format!("tag: {e}")),
        }
    }

    /// `:export DIR`: the cases in the list as it stands (filter and all), with every run, into
    /// the pack at DIR (created, or appended to when DIR already holds one). The work happens on
    /// a background thread; its outcome arrives in the status bar.
    ///
    /// `:export FILE.csv` / `:export FILE.json`: the list itself, one row per case (see
    /// [`crate::case_list`]), written in the background.
    pub fn export(&mut self, dir: &str) {
        if dir.is_empty() {
            self.warn(
                "export takes a folder or a file: :export hard-cases (a pack; appends when it is one), :export hard.csv or hard.json (the list)",
            );
            return;
        }
        if self.order.is_empty() {
            self.warn("no cases in the list to export");
            return;
        }
        let path = std::path::PathBuf::from(dir);
        if crate::case_list::Format::from_path(&path).is_some() {
            let list = self.case_list();
            self.say(format!("writing the list of {} cases to {dir} …", list.cases.len()));
            self.effects.push(Effect::ExportList(path, Box::new(list)));
            return;
        }
        let out = std::path::PathBuf::from(dir);
        let filter = self.filter.as_ref().map(|(t, _)| t.clone());
        self.effects.push(Effect::Export(crate::export::Request {
            cases: self.order.clone(),
            runs: (0..self.pack.runs.len()).collect(),
            append: out.join(crate::pack::MANIFEST_FILE).is_file(),
            out,
            reason: filter.clone().or_else(|| Some("exported from the dashboard".into())),
            filter,
            ..crate::export::Request::default()
        }));
        self.say(format!("exporting {} cases to {dir} …", self.order.len()));
    }
}

impl App {
    /// The list as it stands (filter, sort and all), row by row, for the run on screen.
    pub fn case_list(&self) -> crate::case_list::CaseList {
        use crate::case_list::{CaseList, FlagRow, Row};
        let name = |r: usize| self.pack.runs.get(r).map(|x| x.name.0.clone());
        let on = |f: &crate::rules::Flag| match f.source {
            None => "image".to_string(),
            Some(crate::pack::Source::GroundTruth) => "ground truth".to_string(),
            Some(crate::pack::Source::Run(r)) => name(r).unwrap_or_default(),
        };
        let cases = self
            .order
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let case = &self.pack.cases[c];
                let preds = self
                    .run
                    .and_then(|r| self.pack.runs.get(r))
                    .map(|r| &r.annotations[c].instances);
                Row {
                    position: i + 1,
                    case: case.id.0.clone(),
                    image: match &self.pack.root {
                        Some(root) => case.image.strip_prefix(root).unwrap_or(&case.image),
                        None => &case.image,
                    }
                    .to_string_lossy()
                    .into_owned(),
                    sort_value: (self.sort != SortKey::Case).then(|| self.sort_value(c)).flatten(),
                    predictions: preds.map(|p| p.len()),
                    max_score: preds.and_then(|p| p.iter().filter_map(|i| i.score).reduce(f64::max)),
                    error: self.case_error(c),
                    flags: self
                        .case_flags(c)
                        .map(|f| FlagRow {
                            rule: f.rule.clone(),
                            severity: f.severity,
                            on: on(f),
                            message: f.message.clone(),
                        })
                        .collect(),
                    tags: self.workspace.tags(&case.id.0).map(str::to_string).collect(),
                    problems: {
                        let (errors, warnings) = self.problem_counts.get(c).copied().unwrap_or_default();
                        crate::case_list::Problems { errors, warnings }
                    },
                }
            })
            .collect();
        CaseList {
            lightbox_case_list: 1,
            pack: self.pack.manifest.name.clone(),
            run: self.run.and_then(name),
            baseline: self.compare_pair().and_then(|(b, _)| name(b)),
            filter: self.filter.as_ref().map(|(t, _)| t.clone()),
            sort: (self.sort != SortKey::Case).then(|| self.sort.name().to_string()),
            score_threshold: self.style.score_threshold,
            of: self.pack.cases.len(),
            cases,
        }
    }
}

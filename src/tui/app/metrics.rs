//! A run's metrics and its operating point (per-case figures at the score threshold), taken
//! from the background and asked for again when the run or threshold changes.

use super::*;

impl App {
    /// Take one run's metrics (from the background thread).
    pub fn set_metrics(&mut self, run: usize, report: Arc<crate::metrics::Report>) {
        if self.metrics.len() <= run {
            self.metrics.resize(run + 1, None);
        }
        self.metrics[run] = Some(report);
        if self.sort == SortKey::Regression && self.pair().is_some_and(|(b, c)| run == b || run == c) {
            self.refresh_order();
        }
        self.want_operating();
        if self.run == Some(run) && self.sort == SortKey::Error {
            self.refresh_order();
        }
    }

    /// The current run's metrics, once computed.
    pub fn run_metrics(&self) -> Option<&Arc<crate::metrics::Report>> {
        self.metrics.get(self.run?)?.as_ref()
    }

    /// The per-case figures at the current run and threshold, when they are up to date.
    pub fn operating_now(&self) -> Option<&OperatingAt> {
        self.operating_of(self.run?)
    }

    /// A run's operating point at the current threshold, when it is up to date.
    pub fn operating_of(&self, run: usize) -> Option<&OperatingAt> {
        self.operating
            .iter()
            .map(|o| o.as_ref())
            .find(|o| o.run == run && o.threshold == self.style.score_threshold)
    }

    /// The two runs the metrics view sets against each other (baseline, candidate): in compare
    /// mode and side by side (run | run).
    pub fn metrics_pair(&self) -> Option<(usize, usize)> {
        if self.compare_pair().is_none() && self.layout != Layout::RunRun {
            return None;
        }
        self.pair()
    }

    /// The runs whose operating points are wanted: the current one, and in the metrics view
    /// comparing two runs both of them.
    fn operating_runs(&self) -> Vec<usize> {
        let mut runs: Vec<usize> = self.run.into_iter().collect();
        if self.metrics_view
            && let Some((b, c)) = self.metrics_pair()
        {
            runs.extend([b, c]);
        }
        runs.sort_unstable();
        runs.dedup();
        runs
    }

    /// Ask for the operating points of the runs shown at the current threshold unless they are
    /// known or asked.
    pub fn want_operating(&mut self) {
        for run in self.operating_runs() {
            if self.metrics.get(run).and_then(|m| m.as_ref()).is_none() || self.operating_of(run).is_some() {
                continue;
            }
            let r = Effect::OperatingPoint {
                run,
                threshold: self.style.score_threshold,
            };
            if !self.effects.contains(&r) {
                self.effects.push(r);
            }
        }
    }

    /// Take a computed operating point; stale ones (a run not shown, another threshold) are
    /// dropped.
    pub fn set_operating(&mut self, o: Arc<OperatingAt>) {
        let runs = self.operating_runs();
        if !runs.contains(&o.run) || o.threshold != self.style.score_threshold {
            return;
        }
        let threshold = self.style.score_threshold;
        self.operating
            .retain(|x| x.run != o.run && x.threshold == threshold && runs.contains(&x.run));
        let current = Some(o.run) == self.run;
        self.operating.push(o);
        if current && self.sort == SortKey::Error {
            self.refresh_order();
        }
    }

    /// A case's error under the current run: false positives + misses at the current threshold
    /// (or the metrics' own threshold until that is computed), plus Σ(1 − Dice).
    pub fn case_error(&self, c: usize) -> Option<f64> {
        let m = self.run_metrics()?;
        let f = m.cases.get(c)?;
        let det = match self.operating_now().and_then(|o| o.cases.get(c)) {
            Some(d) => (d.fp + d.fn_) as f64,
            None => (f.fp.unwrap_or(0) + f.fn_.unwrap_or(0)) as f64,
        };
        Some(det + f.seg_error)
    }
}

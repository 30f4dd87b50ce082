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
        if self.run == Some(run) {
            self.want_operating();
            if self.sort == SortKey::Error {
                self.refresh_order();
            }
        }
    }

    /// The current run's metrics, once computed.
    pub fn run_metrics(&self) -> Option<&Arc<crate::metrics::Report>> {
        self.metrics.get(self.run?)?.as_ref()
    }

    /// The per-case figures at the current run and threshold, when they are up to date.
    pub fn operating_now(&self) -> Option<&OperatingAt> {
        let o = self.operating.as_deref()?;
        (Some(o.run) == self.run && o.threshold == self.style.score_threshold).then_some(o)
    }

    /// Ask for the operating point of the current run and threshold unless it is known or asked.
    pub fn want_operating(&mut self) {
        let Some(run) = self.run else { return };
        if self.run_metrics().is_none() || self.operating_now().is_some() {
            return;
        }
        let r = Effect::OperatingPoint {
            run,
            threshold: self.style.score_threshold,
        };
        if !self.effects.contains(&r) {
            self.effects.push(r);
        }
    }

    /// Take a computed operating point; stale ones (another run or threshold) are dropped.
    pub fn set_operating(&mut self, o: Arc<OperatingAt>) {
        if Some(o.run) == self.run && o.threshold == self.style.score_threshold {
            self.operating = Some(o);
            if self.sort == SortKey::Error {
                self.refresh_order();
            }
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

//! How far a background job has got, read by the dashboard's status bar while it runs. The job
//! names its current stage and how many items the stage has; each item done is a [`step`],
//! which is also where the job steps aside for the frame the user waits for
//! ([`super::priority::yield_to_foreground`]).
//!
//! [`step`]: Progress::step

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Default)]
pub struct Progress {
    stage: Mutex<String>,
    done: AtomicUsize,
    total: AtomicUsize,
}

/// What a [`Progress`] says at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub stage: String,
    pub done: usize,
    pub total: usize,
}

impl Progress {
    /// A stage of `total` items begins (counting from zero).
    pub fn stage(&self, name: impl Into<String>, total: usize) {
        *self.stage.lock().unwrap_or_else(|e| e.into_inner()) = name.into();
        self.total.store(total, Ordering::SeqCst);
        self.done.store(0, Ordering::SeqCst);
    }

    /// One item of the stage is done; waits here while the user waits for a frame.
    pub fn step(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
        super::priority::yield_to_foreground();
    }

    pub fn snapshot(&self) -> Snapshot {
        let total = self.total.load(Ordering::SeqCst);
        Snapshot {
            stage: self.stage.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            done: self.done.load(Ordering::Relaxed).min(total),
            total,
        }
    }
}

impl Snapshot {
    /// `rules 2,345/10,000`, or the stage alone when it has no count.
    pub fn text(&self) -> String {
        if self.total == 0 {
            return self.stage.clone();
        }
        format!("{} {}/{}", self.stage, thousands(self.done), thousands(self.total))
    }
}

/// `10000` → `10,000`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_count_from_zero_and_never_past_their_total() {
        let p = Progress::default();
        assert_eq!(p.snapshot().text(), "");
        p.stage("rules", 3);
        for _ in 0..5 {
            p.step();
        }
        assert_eq!(
            p.snapshot(),
            Snapshot {
                stage: "rules".into(),
                done: 3,
                total: 3
            }
        );
        p.stage("metrics", 10_000);
        p.step();
        assert_eq!(p.snapshot().text(), "metrics 1/10,000");
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}

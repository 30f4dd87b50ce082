//! The frame the user looks at comes first. Work the user waits for (the image pane's frame)
//! holds a [`Foreground`] guard while it runs; background analysis (validation, rules,
//! out-of-distribution statistics, metrics) calls [`yield_to_foreground`] between items and
//! waits while any guard is held. Background threads also run at a lower OS priority
//! ([`lower_this_thread`]) so that what is left of the CPU goes to the foreground first.
//!
//! A wait is bounded ([`MAX_WAIT`] per call): a foreground that never ends slows analysis down
//! but cannot stop it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

static FOREGROUND: AtomicUsize = AtomicUsize::new(0);
static GATE: Mutex<()> = Mutex::new(());
static OPEN: Condvar = Condvar::new();

/// Longest one [`yield_to_foreground`] call waits.
pub const MAX_WAIT: Duration = Duration::from_millis(400);

/// Held while foreground work runs; dropping it lets background work go on.
#[must_use = "the foreground lasts as long as the guard"]
pub struct Foreground(());

/// Mark the start of work the user is waiting for (until the guard is dropped).
pub fn foreground() -> Foreground {
    FOREGROUND.fetch_add(1, Ordering::SeqCst);
    Foreground(())
}

impl Drop for Foreground {
    fn drop(&mut self) {
        if FOREGROUND.fetch_sub(1, Ordering::SeqCst) == 1 {
            let _g = GATE.lock().unwrap_or_else(|e| e.into_inner());
            OPEN.notify_all();
        }
    }
}

/// Whether foreground work is running now.
pub fn foreground_busy() -> bool {
    FOREGROUND.load(Ordering::SeqCst) > 0
}

/// Background work calls this between items: it returns at once when nothing is in the
/// foreground, else waits until the foreground is done (or [`MAX_WAIT`] has passed).
pub fn yield_to_foreground() {
    if !foreground_busy() {
        return;
    }
    let deadline = Instant::now() + MAX_WAIT;
    let mut g = GATE.lock().unwrap_or_else(|e| e.into_inner());
    while foreground_busy() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        g = OPEN.wait_timeout(g, left).unwrap_or_else(|e| e.into_inner()).0;
    }
}

/// Run the calling thread at a lower OS priority (Linux: nice 10 for this thread only; a no-op
/// elsewhere, where [`yield_to_foreground`] alone keeps the frame first).
pub fn lower_this_thread() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on this thread's own id; it changes nothing but the thread's nice value
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10);
    }
}

static BACKGROUND: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();

/// Run `f` as background analysis: the calling thread at a lower priority, and `f`'s parallel
/// work on the background pool (made on first use, one thread per core).
pub fn in_background<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    lower_this_thread();
    let pool = BACKGROUND.get_or_init(|| {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        background_pool(cores)
    });
    match pool {
        Some(p) => p.install(f),
        None => f(),
    }
}

/// A thread pool for background analysis: its threads run at a lower priority and its work
/// runs apart from the frame workers' (a frame's parallel steps never queue behind a
/// 10,000-case check in a shared pool).
pub fn background_pool(threads: usize) -> Option<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .thread_name(|i| format!("lightbox-analysis-{i}"))
        .start_handler(|_| {
            super::mark_job();
            lower_this_thread();
        })
        .build()
        .ok()
}

/// A thread pool for the frames the user waits for: normal priority, apart from background
/// analysis, its threads marked as jobs (a panic is reported, not fatal).
pub fn frame_pool(threads: usize) -> Option<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .thread_name(|i| format!("lightbox-frame-{i}"))
        .start_handler(|_| super::mark_job())
        .build()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    // FOREGROUND is process-wide: the tests that hold a guard run one at a time
    static SERIAL: Mutex<()> = Mutex::new(());

    #[test]
    fn background_waits_while_the_foreground_runs() {
        let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let g = foreground();
        let done = Arc::new(AtomicBool::new(false));
        let d = Arc::clone(&done);
        let h = std::thread::spawn(move || {
            yield_to_foreground();
            d.store(true, Ordering::SeqCst);
        });
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            !done.load(Ordering::SeqCst),
            "background went on while the foreground ran"
        );
        drop(g);
        h.join().unwrap();
        assert!(done.load(Ordering::SeqCst));
    }

    #[test]
    fn a_wait_is_bounded() {
        let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let _g = foreground();
        let t = Instant::now();
        yield_to_foreground();
        let waited = t.elapsed();
        assert!(
            waited >= MAX_WAIT,
            "returned before the foreground ended or the bound: {waited:?}"
        );
    }

    #[test]
    fn nothing_in_the_foreground_costs_nothing() {
        let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        // no guard: returns without waiting (asserted by the count, not by time)
        assert!(!foreground_busy());
        for _ in 0..1000 {
            yield_to_foreground();
        }
        assert!(!foreground_busy());
    }

    #[test]
    fn the_background_pool_runs_work_as_jobs() {
        let pool = background_pool(2).unwrap();
        let (is_job, name) = pool.install(|| (super::super::is_job(), std::thread::current().name().map(String::from)));
        assert!(
            is_job,
            "a panic on an analysis thread must be reported, not restore the terminal"
        );
        assert!(name.unwrap_or_default().starts_with("lightbox-analysis-"));
    }
}

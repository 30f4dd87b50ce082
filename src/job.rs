//! Background jobs: every thread lightbox starts (render workers, validation, checks, metrics,
//! exports, the journal, the file watch) is started here. A job's panic is caught and handed to
//! its `on_panic` (which reports it, e.g. as an event in the dashboard's status bar) instead of
//! ending the process or leaving a status at "checking…" forever; [`is_job`] tells a panic hook
//! that the panic happened on such a thread, so the hook does not restore the terminal under a
//! dashboard that keeps running.

pub mod priority;
pub mod progress;

pub use progress::Progress;

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

thread_local! {
    static IN_JOB: Cell<bool> = const { Cell::new(false) };
}

/// Whether the current thread is a job started by [`spawn`] (its panics are caught and reported).
pub fn is_job() -> bool {
    IN_JOB.with(Cell::get)
}

/// Mark the current thread as a job (a thread of a pool that runs jobs' work): its panics are
/// reported by the job, not by restoring the terminal.
pub(crate) fn mark_job() {
    IN_JOB.with(|j| j.set(true));
}

/// The text of a panic's payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown error".into())
}

/// Run `f` where a panic is caught: `Err` holds the panic's message. For work inside a job
/// that must survive a bug in one item (a render worker's frame).
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|e| panic_message(e.as_ref()))
}

/// Start `body` on a thread named `lightbox-{name}`; if it panics, `on_panic` gets the panic's
/// message (on the same thread, after the unwind).
pub fn spawn(
    name: &str,
    body: impl FnOnce() + Send + 'static,
    on_panic: impl FnOnce(String) + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("lightbox-{name}"))
        .spawn(move || {
            IN_JOB.with(|j| j.set(true));
            if let Err(message) = catch(body) {
                on_panic(message);
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_a_job_is_reported_not_raised() {
        let (tx, rx) = std::sync::mpsc::channel();
        let h = spawn(
            "test-panics",
            || {
                assert!(is_job());
                panic!("boom {}", 7);
            },
            move |m| tx.send(m).unwrap_or(()),
        )
        .unwrap();
        h.join().expect("the thread itself ends normally");
        assert_eq!(rx.recv().unwrap(), "boom 7");
        assert!(!is_job(), "the test thread is not a job");
    }

    #[test]
    fn catch_gives_the_value_or_the_message() {
        assert_eq!(catch(|| 3), Ok(3));
        let e = catch(|| -> u8 { std::panic::panic_any("static text") });
        assert_eq!(e, Err("static text".to_string()));
    }

    #[test]
    fn job_threads_are_named() {
        let (tx, rx) = std::sync::mpsc::channel();
        spawn(
            "named",
            move || tx.send(std::thread::current().name().map(String::from)).unwrap_or(()),
            |_| {},
        )
        .unwrap()
        .join()
        .unwrap();
        assert_eq!(rx.recv().unwrap().as_deref(), Some("lightbox-named"));
    }
}

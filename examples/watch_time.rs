//! How long after a run file is rewritten the reloaded pack is ready (debounce + reopen), on a
//! copy of the sample pack. Usage: watch_time PACK_COPY [REPEATS]
// examples: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let root = std::path::PathBuf::from(&args[1]);
    let repeats: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let file = root.join("runs/candidate/detections.json");
    let bytes = std::fs::read(&file).unwrap();
    let mut last = lightbox::pack::Pack::open(&root).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let _w = lightbox::watch::spawn(&root, Duration::from_millis(300), move |p| {
        let _ = tx.send(p);
    })
    .unwrap();
    let mut times = Vec::new();
    for _ in 0..repeats {
        std::thread::sleep(Duration::from_millis(500));
        let t = Instant::now();
        std::fs::write(&file, &bytes).unwrap();
        let paths = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        last = lightbox::watch::reload(&root, &last, &paths, &lightbox::watch::BACKOFF)
            .unwrap()
            .pack;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "write → reloaded pack: median {:.3} s (debounce 0.300 s), min {:.3}, max {:.3}",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
}

//! `cargo bench --bench dashboard`: how fast the dashboard answers, through the real worker pool.
//!
//! - key press to frame ready (decode + composite + encode), for 1024² and 2048² images, 8- and
//!   16-bit, cold (nothing cached) and after the neighbour was prefetched;
//! - time to first frame on a 10,000-case pack (open + first frame);
//! - peak memory (VmHWM) after walking every case of the 2048² 16-bit set.
//!
//! Frames are encoded as sixel for a 110×45-cell pane with 10×20-pixel cells (1100×900 pixels),
//! what xterm shows; halfblock figures are given for comparison.
// benchmarks: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox::pack::Pack;
use lightbox::tui::Message;
use lightbox::tui::app::App;
use lightbox::tui::config::Config;
use lightbox::tui::worker::{WorkerMsg, Workers};
use ratatui_image::picker::{Picker, ProtocolType};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

const CASES: usize = 12;

fn write_pack(dir: &Path, size: u32, sixteen: bool) {
    std::fs::create_dir_all(dir.join("images")).unwrap();
    std::fs::create_dir_all(dir.join("gt")).unwrap();
    std::fs::create_dir_all(dir.join("pred")).unwrap();
    let mut rng = lightbox::sample::rng::Rng::new(size as u64 + sixteen as u64);
    for i in 0..CASES {
        let n = (size * size) as usize;
        let vals: Vec<u16> = (0..n)
            .map(|k| {
                let (x, y) = ((k as u32 % size) as f64, (k as u32 / size) as f64);
                let v = 0.5 + 0.3 * ((x / 37.0).sin() * (y / 53.0).cos()) + 0.05 * rng.normal();
                (v.clamp(0.0, 1.0) * 4095.0) as u16
            })
            .collect();
        let name = format!("c{i:03}.png");
        if sixteen {
            image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_raw(size, size, vals)
                .unwrap()
                .save(dir.join("images").join(&name))
                .unwrap();
        } else {
            let v8: Vec<u8> = vals.iter().map(|&v| (v >> 4) as u8).collect();
            image::GrayImage::from_raw(size, size, v8)
                .unwrap()
                .save(dir.join("images").join(&name))
                .unwrap();
        }
        for (sub, r) in [("gt", 0.30), ("pred", 0.28)] {
            let m: Vec<u8> = (0..n)
                .map(|k| {
                    let (x, y) = (
                        (k as u32 % size) as f64 / size as f64,
                        (k as u32 / size) as f64 / size as f64,
                    );
                    if ((x - 0.3).powi(2) + (y - 0.5).powi(2)).sqrt() < r {
                        1
                    } else if ((x - 0.7).powi(2) + (y - 0.5).powi(2)).sqrt() < r {
                        2
                    } else {
                        0
                    }
                })
                .collect();
            image::GrayImage::from_raw(size, size, m)
                .unwrap()
                .save(dir.join(sub).join(&name))
                .unwrap();
        }
    }
    std::fs::write(
        dir.join("lightbox.toml"),
        "name = \"latency\"\n[[classes]]\nid = 1\nname = \"a\"\nkind = \"region\"\n[[classes]]\nid = 2\nname = \"b\"\nkind = \"region\"\n[ground_truth]\nmasks = \"gt\"\n[runs.m]\nmasks = \"pred\"\n",
    )
    .unwrap();
}

#[allow(deprecated)]
fn picker(kind: ProtocolType) -> (Picker, (u16, u16)) {
    if kind == ProtocolType::Halfblocks {
        let mut p = Picker::halfblocks();
        p.set_protocol_type(kind);
        return (p, (1, 2));
    }
    let mut p = Picker::from_fontsize((10, 20).into());
    p.set_protocol_type(kind);
    (p, (10, 20))
}

fn wait_frame(rx: &Receiver<Message>, generation: u64) -> Duration {
    let t = Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_secs(30)).expect("a frame within 30 s") {
            Message::Worker(WorkerMsg::Frame { generation: g, frame }) if g == generation => {
                assert!(!frame.bands.is_empty(), "frame encoded");
                return t.elapsed();
            }
            _ => {}
        }
    }
}

fn app_for(pack: Arc<Pack>, cell_pixels: (u16, u16)) -> App {
    let mut a = App::new(pack, Config::defaults(), "bench".into());
    a.cell_pixels = cell_pixels;
    a.image_cells = (110, 45);
    a
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// (cold next-case median, prefetched next-case median)
fn latency(dir: &Path, kind: ProtocolType) -> (Duration, Duration) {
    let pack = Arc::new(Pack::open(dir).unwrap());
    let (p, cells) = picker(kind);
    let (tx, rx) = channel();
    let mut workers = Workers::spawn(Arc::clone(&pack), p, 2, tx);
    let mut app = app_for(Arc::clone(&pack), cells);
    // cold: no prefetch, nothing cached
    let mut cold = Vec::new();
    for i in 0..CASES / 2 {
        app.pos = i;
        let g = workers.request(app.frame_key().unwrap(), vec![]);
        cold.push(wait_frame(&rx, g));
    }
    // prefetched: the reader looks at case i while its neighbour is prepared, then presses j
    let mut warm = Vec::new();
    let request = |app: &App, workers: &mut Workers| {
        let key = app.frame_key().unwrap();
        let mut next = key.clone();
        next.case = (key.case + 1).min(CASES - 1);
        workers.request(key, vec![next])
    };
    app.pos = CASES / 2;
    let g = request(&app, &mut workers);
    wait_frame(&rx, g);
    for i in CASES / 2 + 1..CASES {
        std::thread::sleep(Duration::from_millis(400));
        app.pos = i;
        let g = request(&app, &mut workers);
        warm.push(wait_frame(&rx, g));
    }
    (median(cold), median(warm))
}

fn vm_hwm_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return; // `cargo test --benches`: nothing to check here
    }
    let root = std::env::temp_dir().join("lightbox-bench-dashboard");
    if let Some(which) = std::env::var_os("LIGHTBOX_BENCH_MEMORY") {
        memory_walk(&root, which.to_str() == Some("10k"));
        return;
    }
    println!(
        "{:<28} {:>12} {:>12}   (median; pane 110×45 cells)",
        "next case", "cold", "prefetched"
    );
    for (size, sixteen) in [(1024, false), (1024, true), (2048, false), (2048, true)] {
        let dir = root.join(format!("{size}-{}", if sixteen { 16 } else { 8 }));
        if !dir.join("lightbox.toml").exists() {
            write_pack(&dir, size, sixteen);
        }
        for kind in [ProtocolType::Sixel, ProtocolType::Halfblocks] {
            let (cold, warm) = latency(&dir, kind);
            let label = format!(
                "{size}² {}-bit {}",
                if sixteen { 16 } else { 8 },
                if kind == ProtocolType::Sixel {
                    "sixel"
                } else {
                    "halfblocks"
                }
            );
            println!(
                "{label:<28} {:>9.1} ms {:>9.1} ms",
                cold.as_secs_f64() * 1e3,
                warm.as_secs_f64() * 1e3
            );
        }
    }
    // memory, each in a fresh process so earlier phases do not count
    for which in ["walk", "10k"] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .env("LIGHTBOX_BENCH_MEMORY", which)
            .output()
            .unwrap();
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
}

fn memory_walk(root: &Path, big_pack: bool) {
    if !big_pack {
        // walk every case of the largest set three times, with prefetch, as a reader would
        let dir = root.join("2048-16");
        let pack = Arc::new(Pack::open(&dir).unwrap());
        let (p, cells) = picker(ProtocolType::Sixel);
        let (tx, rx) = channel();
        let mut workers = Workers::spawn(Arc::clone(&pack), p, 2, tx);
        let mut app = app_for(Arc::clone(&pack), cells);
        for _ in 0..3 {
            for i in 0..CASES {
                app.pos = i;
                let key = app.frame_key().unwrap();
                let mut next = key.clone();
                next.case = (i + 1) % CASES;
                let g = workers.request(key, vec![next]);
                wait_frame(&rx, g);
            }
        }
        println!(
            "peak memory walking 36 frames of 2048² 16-bit with sixel: {:.0} MB (VmHWM)",
            vm_hwm_mb().unwrap_or(f64::NAN)
        );
        return;
    }
    // first frame on a 10,000-case pack
    let big = root.join("10k");
    if !big.join("lightbox.toml").exists() {
        lightbox::sample::bench_pack::write(&big, 10_000, 100_000, 3).unwrap();
        // the first images exist (1024², 16-bit)
        std::fs::create_dir_all(big.join("images")).unwrap();
        for i in 0..3 {
            let src = root.join("1024-16/images").join(format!("c{i:03}.png"));
            std::fs::copy(src, big.join("images").join(format!("img-{i:06}.png"))).unwrap();
        }
    }
    let t = Instant::now();
    let pack = Arc::new(Pack::open(&big).unwrap());
    let opened = t.elapsed();
    let (p, cells) = picker(ProtocolType::Sixel);
    let (tx, rx) = channel();
    let mut workers = Workers::spawn(Arc::clone(&pack), p, 2, tx);
    let app = app_for(Arc::clone(&pack), cells);
    let g = workers.request(app.frame_key().unwrap(), vec![]);
    wait_frame(&rx, g);
    println!(
        "10,000-case pack (100,000 boxes): opened in {:.0} ms, first frame ready at {:.0} ms; peak memory {:.0} MB",
        opened.as_secs_f64() * 1e3,
        t.elapsed().as_secs_f64() * 1e3,
        vm_hwm_mb().unwrap_or(f64::NAN)
    );
}

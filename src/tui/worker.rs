//! Off the UI thread: decoding images and masks, compositing overlays and encoding them for the
//! terminal's graphics protocol. Requests carry a generation; a reply for a frame the user has
//! already left is dropped. Neighbours of the current case are prefetched, and two bounded
//! caches (decoded cases by bytes, finished frames by count) keep memory flat on large packs.

use super::app::FrameKey;
use crate::pack::Pack;
use crate::render::compose::Mapping;
use crate::render::view::{Arranged, Grid, Place, arrange};
use crate::render::{CaseData, View, compose};
use ratatui::layout::Size;
use ratatui_image::picker::{Picker, ProtocolType};
use ratatui_image::protocol::Protocol;
use ratatui_image::protocol::halfblocks::Halfblocks;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How panels are laid out in the image area of `cells` (each `cell` pixels), under a
/// terminal's largest graphic: a column between panels side by side, and a row above each of
/// several panels for its title (the lower panel's title row parts stacked panels).
pub fn grid(cells: (u16, u16), cell: (u16, u16), limit: Option<(u32, u32)>) -> Grid {
    Grid {
        area: (cells.0 as u32, cells.1 as u32),
        unit: (cell.0.max(1) as u32, cell.1.max(1) as u32),
        gap: (1, 0),
        title: 1,
        limit,
    }
}

/// A horizontal band of an encoded panel, drawn at `col`, `row` (cells from the top left of
/// the image area), `cols` × `rows` cells.
pub struct Band {
    pub col: u16,
    pub row: u16,
    pub cols: u16,
    pub rows: u16,
    pub protocol: Protocol,
}

/// A finished image pane.
pub struct Frame {
    pub key: FrameKey,
    /// Where each view's panel is (in the views' order), in cells from the top left of the
    /// image area: what titles, the mouse and the pixel cursor go by.
    pub arranged: Arranged,
    /// The encoded panels in bands, each panel's top to bottom (empty when the image could
    /// not be loaded: see `data.image`). Sixel, kitty and iTerm2 panels are encoded as two
    /// bands, all in parallel.
    pub bands: Vec<Band>,
    pub data: Arc<CaseData>,
    /// Image-to-panel mapping, in pixels (every panel is the same size and zoomed and panned
    /// together).
    pub mapping: Mapping,
    /// Time to load (or hit the cache), compose and encode.
    pub elapsed: Duration,
    pub cached_data: bool,
    /// The network's-eye view's tensor facts (or why it could not be made).
    pub network: Option<Result<crate::infer::eye::TensorInfo, String>>,
}

impl Frame {
    /// Each panel's size in pixels.
    pub fn panel_pixels(&self) -> (u32, u32) {
        let p = self.arranged.panels.first().copied().unwrap_or_default();
        let (fw, fh) = (self.key.cell.0.max(1) as u32, self.key.cell.1.max(1) as u32);
        (p.w * fw, p.h * fh)
    }

    /// The panel at cell (`col`, `row`) of the image area, and the image pixel under that
    /// cell's centre (`None` off the image).
    pub fn image_point(&self, col: u16, row: u16) -> Option<(usize, (u32, u32))> {
        let (col, row) = (col as u32, row as u32);
        let (k, p) = self
            .arranged
            .panels
            .iter()
            .enumerate()
            .find(|(_, p)| p.contains(col, row))?;
        let (fw, fh) = (self.key.cell.0.max(1) as f64, self.key.cell.1.max(1) as f64);
        let x = (col - p.x) as f64 * fw + fw / 2.0;
        let y = (row - p.y) as f64 * fh + fh / 2.0;
        Some((k, self.mapping.to_image(x, y)?))
    }
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("case", &self.key.case)
            .field("elapsed", &self.elapsed)
            .finish()
    }
}

/// Compose and encode one frame (pure apart from its inputs; used by workers and tests).
pub fn make_frame(pack: &Pack, data: Arc<CaseData>, key: &FrameKey, picker: &Picker) -> Frame {
    let t = Instant::now();
    // the network's-eye view: the same frame, made from the tensor the run's model receives
    let mut network = None;
    let data = match key.network.and_then(|r| pack.runs.get(r)?.sources.model_file.clone()) {
        Some(model) => {
            let model = match &pack.root {
                Some(root) if model.is_relative() => root.join(model),
                _ => model,
            };
            let seen = crate::infer::ModelSpec::read(&crate::infer::ModelSpec::beside(&model))
                .map_err(|e| e.to_string())
                .and_then(|spec| {
                    let case = data.case;
                    let runs = pack
                        .runs
                        .iter()
                        .map(|r| r.annotations[case].instances.as_slice())
                        .collect();
                    crate::infer::eye::network_view(&data, &spec, (&pack.ground_truth[case].instances, runs))
                });
            match seen {
                Ok((d, info)) => {
                    network = Some(Ok(info));
                    Arc::new(d)
                }
                Err(e) => {
                    network = Some(Err(e));
                    data
                }
            }
        }
        None => data,
    };
    let image = data.image.as_ref().map(|i| (i.width, i.height)).unwrap_or((1, 1));
    let arranged = arrange(key.views.len(), image, &grid(key.cells, key.cell, key.limit));
    let (fw, fh) = (key.cell.0.max(1) as u32, key.cell.1.max(1) as u32);
    let first = arranged.panels.first().copied().unwrap_or_default();
    let (pw, ph) = ((first.w * fw).max(1), (first.h * fh).max(1));
    let mapping = Mapping::new(image.0, image.1, &key.viewport, pw, ph);
    // every panel composed and encoded at once (sixel encoding is the slowest step)
    let bands = if data.image.is_ok() {
        use rayon::prelude::*;
        let placed: Vec<(&View, &Place)> = key
            .views
            .iter()
            .zip(&arranged.panels)
            .filter(|(_, p)| p.w > 0 && p.h > 0)
            .collect();
        let encoded: Vec<Option<Vec<Band>>> = placed
            .par_iter()
            .map(|(v, p)| {
                let img = compose(pack, &data, &v.panel(), &key.style, &key.viewport, pw, ph)?;
                let mut bands = encode_bands(img, (p.w as u16, p.h as u16), picker);
                for b in &mut bands {
                    b.col = p.x as u16;
                    b.row += p.y as u16;
                }
                (!bands.is_empty()).then_some(bands)
            })
            .collect();
        // a panel that could not be encoded: none is drawn (the pane says so)
        encoded
            .into_iter()
            .collect::<Option<Vec<Vec<Band>>>>()
            .map(|v| v.into_iter().flatten().collect())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Frame {
        key: key.clone(),
        arranged,
        bands,
        data,
        mapping,
        elapsed: t.elapsed(),
        cached_data: false,
        network,
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Encode the composed pane for the terminal. Graphics protocols encode two horizontal bands in
/// parallel (sixel encoding is single-threaded and the slowest step of a cold frame); each band
/// is a whole number of cells whose pixel height is a multiple of 6, so sixel bands join without
/// a seam.
fn encode_bands(img: image::RgbImage, (cols, rows): (u16, u16), picker: &Picker) -> Vec<Band> {
    let whole = |img: image::RgbImage, rows_here: u16| -> Option<Protocol> {
        let size = Size::new(cols, rows_here);
        let dynimg = image::DynamicImage::ImageRgb8(img);
        match picker.protocol_type() {
            ProtocolType::Halfblocks => Halfblocks::new(dynimg, size).ok().map(Protocol::Halfblocks),
            _ => picker.new_protocol(dynimg, size, ratatui_image::Resize::Fit(None)).ok(),
        }
    };
    let fh = img.height() / rows.max(1) as u32;
    let unit = (6 / gcd(fh.max(1), 6)) as u16;
    let split = (rows / 2) / unit * unit;
    if picker.protocol_type() == ProtocolType::Halfblocks || split == 0 || split >= rows {
        return whole(img, rows)
            .map(|p| {
                vec![Band {
                    col: 0,
                    row: 0,
                    cols,
                    rows,
                    protocol: p,
                }]
            })
            .unwrap_or_default();
    }
    let cut = split as u32 * fh;
    let (w, h) = img.dimensions();
    let top = image::imageops::crop_imm(&img, 0, 0, w, cut).to_image();
    let bottom = image::imageops::crop_imm(&img, 0, cut, w, h - cut).to_image();
    let (a, b) = rayon::join(|| whole(top, split), || whole(bottom, rows - split));
    match (a, b) {
        (Some(a), Some(b)) => vec![
            Band {
                col: 0,
                row: 0,
                cols,
                rows: split,
                protocol: a,
            },
            Band {
                col: 0,
                row: split,
                cols,
                rows: rows - split,
                protocol: b,
            },
        ],
        _ => Vec::new(),
    }
}

/// The views' run indices are valid for this pack (a guard for stale keys).
fn key_valid(pack: &Pack, key: &FrameKey) -> bool {
    key.case < pack.cases.len()
        && key.views.iter().all(|v| match v {
            View::Prediction(r) | View::Overlay(r) | View::Error(r) | View::OverlayGtFill(r) => *r < pack.runs.len(),
            View::GroundTruth | View::Image => true,
        })
}

/// Messages from workers to the UI thread.
pub enum WorkerMsg {
    Frame {
        generation: u64,
        frame: Arc<Frame>,
    },
    /// Making the frame failed unexpectedly (a bug): the message says what happened.
    Failed {
        generation: u64,
        case: usize,
        message: String,
    },
}

struct Queue {
    current: Option<(u64, FrameKey)>,
    prefetch: VecDeque<FrameKey>,
    shutdown: bool,
}

/// A small least-recently-used cache.
struct Lru<K, V> {
    items: VecDeque<(K, V, usize)>,
    budget: usize,
    used: usize,
    max_items: usize,
}

impl<K: PartialEq, V: Clone> Lru<K, V> {
    fn new(budget: usize, max_items: usize) -> Self {
        Lru {
            items: VecDeque::new(),
            budget,
            used: 0,
            max_items,
        }
    }

    fn get(&mut self, k: &K) -> Option<V> {
        let i = self.items.iter().position(|(key, _, _)| key == k)?;
        let item = self.items.remove(i)?;
        let v = item.1.clone();
        self.items.push_front(item);
        Some(v)
    }

    fn clear(&mut self) {
        self.items.clear();
        self.used = 0;
    }

    fn put(&mut self, k: K, v: V, bytes: usize) {
        if let Some(i) = self.items.iter().position(|(key, _, _)| *key == k)
            && let Some((_, _, b)) = self.items.remove(i)
        {
            self.used -= b;
        }
        self.items.push_front((k, v, bytes));
        self.used += bytes;
        while (self.used > self.budget || self.items.len() > self.max_items) && self.items.len() > 1 {
            if let Some((_, _, b)) = self.items.pop_back() {
                self.used -= b;
            }
        }
    }
}

struct Shared {
    /// Replaced when the pack is reloaded (watch); `epoch` counts the replacements.
    pack: std::sync::RwLock<Arc<Pack>>,
    epoch: AtomicU64,
    picker: Picker,
    queue: Mutex<Queue>,
    wake: Condvar,
    latest: AtomicU64,
    data: Mutex<Lru<(usize, u32), Arc<CaseData>>>,
    frames: Mutex<Lru<FrameKey, Arc<Frame>>>,
    /// Where a frame's parallel steps (decoding, compositing, encoding bands) run: apart from
    /// background analysis, so that they never queue behind it.
    pool: Option<rayon::ThreadPool>,
}

impl Shared {
    /// Run `f` on the frame pool (or here, when it could not be made).
    fn install<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        match &self.pool {
            Some(p) => p.install(f),
            None => f(),
        }
    }
}

/// The worker pool.
pub struct Workers {
    shared: Arc<Shared>,
    generation: u64,
    last: Option<FrameKey>,
    handles: Vec<std::thread::JoinHandle<()>>,
}

/// Decoded cases kept in memory (bytes).
pub const DATA_BUDGET: usize = 64 << 20;
/// Finished frames kept (current, neighbours, recent).
pub const FRAME_ITEMS: usize = 4;

impl Workers {
    #[allow(clippy::expect_used)] // a thread the OS will not start leaves nothing to draw with: a panic, which the hook reports with the terminal restored
    pub fn spawn(pack: Arc<Pack>, picker: Picker, threads: usize, tx: Sender<super::Message>) -> Workers {
        let shared = Arc::new(Shared {
            pack: std::sync::RwLock::new(pack),
            epoch: AtomicU64::new(0),
            picker,
            queue: Mutex::new(Queue {
                current: None,
                prefetch: VecDeque::new(),
                shutdown: false,
            }),
            wake: Condvar::new(),
            latest: AtomicU64::new(0),
            data: Mutex::new(Lru::new(DATA_BUDGET, 64)),
            frames: Mutex::new(Lru::new(usize::MAX, FRAME_ITEMS)),
            pool: crate::job::priority::frame_pool(threads),
        });
        let handles = (0..threads.max(1))
            .map(|i| {
                let s = Arc::clone(&shared);
                let tx = tx.clone();
                let name = format!("render-{i}");
                let ptx = tx.clone();
                crate::job::spawn(
                    &name,
                    move || worker_loop(&s, &tx),
                    move |message| {
                        let _ = ptx.send(super::Message::JobPanicked { job: "render", message });
                    },
                )
                .expect("spawning a render thread")
            })
            .collect();
        Workers {
            shared,
            generation: 0,
            last: None,
            handles,
        }
    }

    /// Ask for `key` (when it differs from the last request) and prefetch `neighbours`.
    /// Returns the generation the reply will carry.
    pub fn request(&mut self, key: FrameKey, neighbours: Vec<FrameKey>) -> u64 {
        if self.last.as_ref() == Some(&key) {
            return self.generation;
        }
        self.generation += 1;
        self.shared.latest.store(self.generation, Ordering::SeqCst);
        self.last = Some(key.clone());
        let mut q = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.current = Some((self.generation, key));
        q.prefetch = neighbours.into();
        drop(q);
        self.shared.wake.notify_all();
        self.generation
    }

    /// Forget the last request (after a resize, so the same key is asked for again).
    pub fn invalidate(&mut self) {
        self.last = None;
    }

    /// Draw from a reloaded pack from now on: cached cases and frames are dropped, and work
    /// started on the old pack is not cached.
    pub fn set_pack(&mut self, pack: Arc<Pack>) {
        *self.shared.pack.write().unwrap_or_else(|e| e.into_inner()) = pack;
        self.shared.epoch.fetch_add(1, Ordering::SeqCst);
        self.shared.data.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.shared.frames.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.last = None;
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        if let Ok(mut q) = self.shared.queue.lock() {
            q.shutdown = true;
        }
        self.shared.wake.notify_all();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

fn worker_loop(s: &Shared, tx: &Sender<super::Message>) {
    loop {
        let job = {
            let mut q = s.queue.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if q.shutdown {
                    return;
                }
                if let Some(c) = q.current.take() {
                    break (Some(c.0), c.1);
                }
                if let Some(k) = q.prefetch.pop_front() {
                    break (None, k);
                }
                q = s.wake.wait(q).unwrap_or_else(|e| e.into_inner());
            }
        };
        let (generation, key) = job;
        // background analysis steps aside until this frame (or prefetch) is made
        let _foreground = crate::job::priority::foreground();
        let epoch = s.epoch.load(Ordering::SeqCst);
        let pack = Arc::clone(&s.pack.read().unwrap_or_else(|e| e.into_inner()));
        let current = || s.epoch.load(Ordering::SeqCst) == epoch;
        if let Some(g) = generation
            && g != s.latest.load(Ordering::SeqCst)
        {
            continue;
        }
        if !key_valid(&pack, &key) {
            continue;
        }
        let cached = s.frames.lock().unwrap_or_else(|e| e.into_inner()).get(&key);
        let frame = match cached {
            Some(f) => f,
            None => {
                let t = Instant::now();
                let hit = s
                    .data
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(&(key.case, key.slice));
                let cached_data = hit.is_some();
                let data = match hit {
                    Some(d) => d,
                    None => {
                        let d = Arc::new(s.install(|| CaseData::load_slice(&pack, key.case, key.slice)));
                        let bytes = d.bytes();
                        if current() {
                            s.data.lock().unwrap_or_else(|e| e.into_inner()).put(
                                (key.case, key.slice),
                                Arc::clone(&d),
                                bytes,
                            );
                        }
                        d
                    }
                };
                // a newer request arrived while loading: do not spend time composing this one
                if let Some(g) = generation
                    && g != s.latest.load(Ordering::SeqCst)
                {
                    continue;
                }
                // a bug here must not take the dashboard down: report it and carry on
                let made = crate::job::catch(|| s.install(|| make_frame(&pack, data, &key, &s.picker)));
                let mut f = match made {
                    Ok(f) => f,
                    Err(message) => {
                        if let Some(g) = generation {
                            let _ = tx.send(super::Message::Worker(WorkerMsg::Failed {
                                generation: g,
                                case: key.case,
                                message,
                            }));
                        }
                        continue;
                    }
                };
                f.elapsed = t.elapsed();
                f.cached_data = cached_data;
                let f = Arc::new(f);
                if !current() {
                    continue;
                }
                s.frames
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .put(key.clone(), Arc::clone(&f), 0);
                f
            }
        };
        if let Some(g) = generation
            && tx
                .send(super::Message::Worker(WorkerMsg::Frame { generation: g, frame }))
                .is_err()
        {
            return;
        }
    }
}

//! `lightbox infer`: run an ONNX model on every case and write a run (PNG label masks and 16-bit
//! probability maps for segmentation, a scores CSV for classification), registered in the
//! manifest; `lightbox doctor`: what this machine and terminal offer.

use super::source::PackArgs;
use super::{EXIT_INPUT, EXIT_OK};
use anyhow::Context;
use lightbox::infer::{Model, ModelSpec, Output};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub source: PackArgs,
    /// The ONNX model.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// The model card (default: the model's path + `.toml`, e.g. model.onnx.toml).
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// The new run's name.
    #[arg(long = "name", value_name = "RUN")]
    pub name: String,
    /// Where to write the run (default: runs/<RUN> in the pack).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Threads for ONNX Runtime (a cascade such as MTCNN gets this many one-thread sessions that
    /// detect as many images at once).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Images per model run (same-size tensors are batched; images are decoded and prepared in
    /// parallel meanwhile).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub batch: usize,
    /// Where to run the model: cpu, cuda (GPU 0), cuda:N, or auto (CUDA when this ONNX Runtime
    /// has it and it starts, else the CPU).
    #[arg(long, default_value = "cpu", value_name = "DEVICE")]
    pub device: lightbox::infer::runtime::Device,
    /// Replace a run of that name.
    #[arg(long)]
    pub force: bool,
}

#[allow(clippy::expect_used)] // cannot fail: the good side of the partition holds only Ok values
pub fn run(a: Args) -> anyhow::Result<u8> {
    let pack = a.source.open()?;
    let spec_path = a.spec.clone().unwrap_or_else(|| ModelSpec::beside(&a.model));
    let spec = match ModelSpec::read(&spec_path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_INPUT);
        }
    };
    // every output class must be a class of the pack
    let mut values = Vec::new();
    for name in spec.output.classes.iter().filter(|n| !n.is_empty()) {
        match pack.class_by_name(name) {
            Some(c) => values.push((name.clone(), c.mask_value, c.id)),
            None => {
                eprintln!(
                    "error: {}: output.classes names {name:?}, which is not a class of the pack ({}). Add it to lightbox.toml [[classes]] or rename it in the card",
                    spec_path.display(),
                    pack.classes
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                return Ok(EXIT_INPUT);
            }
        }
    }
    if pack.manifest.runs.contains_key(&a.name) && !a.force {
        eprintln!(
            "error: the pack already has a run {:?}; choose another --name, or --force to replace its files",
            a.name
        );
        return Ok(EXIT_INPUT);
    }
    let config = lightbox::config::UserConfig::load(None)?;
    // A cascade runs many small networks on small inputs one after another, which one
    // ONNX Runtime session cannot spread over threads: with --threads N it gets N sessions of one
    // thread each, and N images are detected at a time.
    let cascade = spec.cascade.is_some();
    let (sessions, per_session) = if cascade { (a.threads.max(1), 1) } else { (1, a.threads) };
    let mut models = Vec::with_capacity(sessions);
    for _ in 0..sessions {
        match Model::open(
            &a.model,
            spec.clone(),
            per_session,
            a.device,
            config.onnxruntime.as_deref(),
        ) {
            Ok(m) => models.push(m),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(EXIT_INPUT);
            }
        }
    }
    let out = match (&a.out, &pack.root) {
        (Some(o), _) => o.clone(),
        (None, Some(root)) => root.join("runs").join(lightbox::review::journal::safe(&a.name)),
        (None, None) => anyhow::bail!("give --out DIR: a pack given by flags has no folder for runs/"),
    };
    let seg = spec.output.kind == lightbox::infer::spec::OutputKind::Segmentation;
    let det = spec.output.kind == lightbox::infer::spec::OutputKind::Detection;
    let mut coco_images = Vec::new();
    let mut coco_anns = Vec::new();
    if seg {
        std::fs::create_dir_all(out.join("masks")).with_context(|| format!("creating {}", out.display()))?;
        std::fs::create_dir_all(out.join("probabilities"))?;
    } else {
        std::fs::create_dir_all(&out)?;
    }
    let mut scores_csv = String::new();
    if !seg && !det {
        scores_csv.push_str("image");
        for (n, _, _) in &values {
            scores_csv.push(',');
            scores_csv.push_str(n);
        }
        scores_csv.push('\n');
    }
    let n = pack.cases.len();
    let t0 = Instant::now();
    let mut failed = Vec::new();
    let mut stderr = std::io::stderr();
    let batch = if cascade {
        a.batch.max(4 * sessions)
    } else {
        a.batch.max(1)
    };
    let input_spec = spec.input.clone();
    for start in (0..n).step_by(batch) {
        use rayon::prelude::*;
        let idx: Vec<usize> = (start..(start + batch).min(n)).collect();
        let mut results: Vec<Option<Result<Output, String>>> = (0..idx.len()).map(|_| None).collect();
        // each image's size, as decoded (the COCO results' images carry it)
        let mut sizes: Vec<(u32, u32)> = vec![(0, 0); idx.len()];
        if cascade {
            // a cascade sizes its own inputs: each session decodes and detects every N-th image
            let step = models.len();
            // (position in the batch, image size, result)
            type Detected = (usize, (u32, u32), Result<Output, String>);
            let done: Vec<Detected> = models
                .par_iter_mut()
                .enumerate()
                .flat_map_iter(|(t, m)| {
                    idx.iter()
                        .enumerate()
                        .skip(t)
                        .step_by(step)
                        .map(|(k, &c)| match lightbox::formats::image::decode(&pack.cases[c].image) {
                            Ok(img) => (k, (img.width, img.height), m.detect(&img).map_err(|e| e.to_string())),
                            Err(e) => (k, (0, 0), Err(e.to_string())),
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
            for (k, size, r) in done {
                sizes[k] = size;
                results[k] = Some(r);
            }
        } else {
            let model = &mut models[0];
            // decode and prepare in parallel, run as one batch
            let prepared: Vec<Result<lightbox::infer::tensor::Prepared, String>> = idx
                .par_iter()
                .map(|&c| {
                    lightbox::formats::image::decode(&pack.cases[c].image)
                        .map(|img| lightbox::infer::tensor::prepare(&img, &input_spec))
                        .map_err(|e| e.to_string())
                })
                .collect();
            let (good, bad): (Vec<_>, Vec<_>) = prepared.into_iter().enumerate().partition(|(_, p)| p.is_ok());
            let (pos, inputs): (Vec<usize>, Vec<lightbox::infer::tensor::Prepared>) =
                good.into_iter().map(|(k, p)| (k, p.expect("partitioned"))).unzip();
            for (&k, p) in pos.iter().zip(&inputs) {
                sizes[k] = (p.image_width, p.image_height);
            }
            for (k, r) in pos.into_iter().zip(model.run_batch(&inputs)) {
                results[k] = Some(r.map_err(|e| e.to_string()));
            }
            for (k, p) in bad {
                results[k] = Some(Err(p.err().unwrap_or_default()));
            }
        }
        for (k, &i) in idx.iter().enumerate() {
            let case = &pack.cases[i];
            let result = results[k].take().unwrap_or_else(|| Err("not run".into()));
            match result {
                Ok(Output::Segmentation {
                    width,
                    height,
                    probabilities,
                    labels,
                }) => {
                    let stem = case.id.stem();
                    let mask: Vec<u16> = labels
                        .iter()
                        .map(|l| {
                            l.and_then(|k| {
                                let name = &spec.output.classes[k as usize];
                                values.iter().find(|v| &v.0 == name).map(|v| v.1)
                            })
                            .unwrap_or(0)
                        })
                        .collect();
                    let path = out.join("masks").join(format!("{stem}.png"));
                    if let Some(parent) = path.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    let m = lightbox::geometry::LabelMask::new(width, height, mask).context("mask size")?;
                    lightbox::formats::label_png::write(&path, &m)
                        .with_context(|| format!("writing {}", path.display()))?;
                    for (name, data) in probabilities {
                        let path = out.join("probabilities").join(format!("{stem}.{name}.png"));
                        if let Some(parent) = path.parent() {
                            std::fs::create_dir_all(parent)?;
                        }
                        let map = lightbox::formats::probability::ProbabilityMap { width, height, data };
                        lightbox::formats::probability::write_png(&path, &map)
                            .with_context(|| format!("writing {}", path.display()))?;
                    }
                }
                Ok(Output::Detection(found)) => {
                    let image_id = i as i64 + 1;
                    coco_images.push(serde_json::json!({
                        "id": image_id,
                        "file_name": case.id.0,
                        "width": case.width.unwrap_or(sizes[k].0),
                        "height": case.height.unwrap_or(sizes[k].1),
                    }));
                    for (name, score, b) in found {
                        if let Some(v) = values.iter().find(|v| v.0 == name) {
                            coco_anns.push(serde_json::json!({
                                "id": coco_anns.len() + 1,
                                "image_id": image_id,
                                "category_id": v.2.0,
                                "bbox": [b.x, b.y, b.w, b.h],
                                "area": b.w * b.h,
                                "iscrowd": 0,
                                "score": score,
                            }));
                        }
                    }
                }
                Ok(Output::Classification(v)) => {
                    scores_csv.push_str(&case.id.0);
                    for (name, _, _) in &values {
                        let s = v.iter().find(|x| &x.0 == name).map(|x| x.1).unwrap_or(f32::NAN);
                        scores_csv.push_str(&format!(",{s}"));
                    }
                    scores_csv.push('\n');
                }
                Err(e) => failed.push(format!("{}: {e}", case.id)),
            }
            let done = i + 1;
            let rate = done as f64 / t0.elapsed().as_secs_f64().max(1e-9);
            let eta = (n - done) as f64 / rate;
            let _ = write!(stderr, "\r  {done}/{n} cases · {rate:.1} cases/s · ETA {eta:.0} s   ");
            let _ = stderr.flush();
        }
    }
    let _ = writeln!(stderr);
    if det {
        let cats: Vec<serde_json::Value> = values
            .iter()
            .map(|(n, _, id)| serde_json::json!({"id": id.0, "name": n}))
            .collect();
        let doc = serde_json::json!({"images": coco_images, "annotations": coco_anns, "categories": cats});
        std::fs::write(out.join("detections.json"), serde_json::to_vec(&doc)?)?;
    } else if !seg {
        std::fs::write(out.join("scores.csv"), &scores_csv)?;
    }
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "{} of {n} cases in {secs:.1} s ({:.1} cases/s{}) with {} on {} → {}",
        n - failed.len(),
        n as f64 / secs.max(1e-9),
        if cascade {
            format!(", {} sessions side by side", models.len())
        } else {
            format!(", {} model runs", models[0].runs())
        },
        a.model.display(),
        models[0].runs_on,
        out.display()
    );
    for f in failed.iter().take(10) {
        eprintln!("  failed: {f}");
    }
    // register the run in the manifest (appended: the file's comments stay)
    if let Some(root) = &pack.root
        && !pack.manifest.runs.contains_key(&a.name)
    {
        let rel =
            |p: PathBuf| lightbox::pack::paths::relative_slash(root, &p).unwrap_or_else(|| p.display().to_string());
        let model_abs = a.model.canonicalize().unwrap_or(a.model.clone());
        let mut t = format!(
            "\n[runs.{}]\ndescription = \"lightbox infer\"\nmodel_file = {:?}\nmodel = {:?}\n",
            a.name,
            rel(model_abs),
            a.model
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
        if seg {
            t += &format!(
                "masks = {:?}\nprobabilities = {:?}\n",
                rel(out.join("masks")),
                rel(out.join("probabilities"))
            );
        } else if det {
            t += &format!("coco = {:?}\n", rel(out.join("detections.json")));
        } else {
            t += &format!("scores = {:?}\n", rel(out.join("scores.csv")));
        }
        let m = root.join(lightbox::pack::MANIFEST_FILE);
        let mut f = std::fs::OpenOptions::new().append(true).open(&m)?;
        f.write_all(t.as_bytes())?;
        eprintln!("registered run {:?} in {}", a.name, m.display());
    } else if pack.root.is_none() {
        eprintln!(
            "open it with: --run {}={}{}",
            a.name,
            if seg {
                "masks:"
            } else if det {
                "coco:"
            } else {
                "scores:"
            },
            if seg {
                out.join("masks")
            } else if det {
                out.join("detections.json")
            } else {
                out.join("scores.csv")
            }
            .display()
        );
    }
    Ok(if failed.is_empty() { EXIT_OK } else { EXIT_INPUT })
}

#[derive(clap::Args, Debug)]
pub struct DoctorArgs {}

/// What this machine and terminal offer.
pub fn doctor(_: DoctorArgs) -> anyhow::Result<u8> {
    println!("lightbox {}", env!("CARGO_PKG_VERSION"));
    let term = std::env::var("TERM").unwrap_or_else(|_| "(unset)".into());
    let program = std::env::var("TERM_PROGRAM").unwrap_or_default();
    println!(
        "terminal      TERM={term}{}",
        if program.is_empty() {
            String::new()
        } else {
            format!(" TERM_PROGRAM={program}")
        }
    );
    match crossterm::terminal::window_size() {
        Ok(ws) => {
            println!("size          {}×{} cells", ws.columns, ws.rows);
            if ws.width > 0 && ws.columns > 0 {
                println!(
                    "cell pixels   {}×{} ({}×{} px window)",
                    ws.width / ws.columns,
                    ws.height / ws.rows.max(1),
                    ws.width,
                    ws.height
                );
            } else {
                println!("cell pixels   unknown (the terminal does not report its pixel size)");
            }
        }
        Err(_) => println!("size          not a terminal"),
    }
    let kitty = lightbox::tui::kitty_version();
    let guess = if let Some((a, b)) = kitty {
        if (a, b) >= (0, 28) {
            format!("kitty {a}.{b}: kitty graphics")
        } else {
            format!(
                "kitty {a}.{b}: halfblocks (kitty before 0.28 cannot show unicode placeholders; --graphics kitty forces it)"
            )
        }
    } else if std::env::var_os("TMUX").is_some() {
        "inside tmux: halfblocks unless the outer terminal passes graphics through".into()
    } else {
        "detected when the dashboard starts (it queries the terminal); --graphics auto|kitty|sixel|iterm2|halfblocks overrides".into()
    };
    println!("graphics      {guess}");
    let config = lightbox::config::UserConfig::load(None);
    match &config {
        Ok(c) => println!("config        {}", c.describe()),
        Err(e) => println!("config        ERROR {e}"),
    }
    let configured = config.as_ref().ok().and_then(|c| c.onnxruntime.clone());
    match lightbox::infer::runtime::init(configured.as_deref()) {
        Ok((f, _)) => println!(
            "onnxruntime   {} (version {}, found via {})",
            f.path.display(),
            f.version.as_deref().unwrap_or("unknown"),
            f.how
        ),
        Err(e) => println!("onnxruntime   NOT FOUND: {e}"),
    }
    if lightbox::infer::runtime::init(configured.as_deref()).is_ok() {
        if lightbox::infer::runtime::has_cuda() {
            println!(
                "providers     CPU, CUDA (infer --device cuda; CUDA also needs NVIDIA's CUDA and cuDNN libraries at run time)"
            );
        } else {
            println!(
                "providers     CPU only (the CPU build). For GPUs: {}",
                lightbox::infer::runtime::HOW_TO_GET_CUDA
            );
        }
    }
    Ok(EXIT_OK)
}

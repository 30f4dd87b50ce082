//! `lightbox render`: write exactly what the dashboard's image pane shows for a case to a PNG,
//! through the same compositing code, at a chosen size.

use super::EXIT_OK;
use super::source::PackArgs;
use anyhow::{Context, bail};
use lightbox::render::{CaseData, Palette, Style, View, Viewport, WindowPreset, view::compose_side_by_side};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub source: PackArgs,
    /// The case: its id (file name), its stem, or its 1-based position.
    #[arg(long = "case", short = 'c')]
    pub case: String,
    /// gt, pred, overlay (prediction fill over ground-truth outline), error, image, or side-by-side.
    #[arg(long, default_value = "overlay")]
    pub view: String,
    /// For side-by-side: a second run to compare against (run A | run B instead of ground truth | run).
    #[arg(long)]
    pub compare: Option<String>,
    /// Output size in pixels, WIDTHxHEIGHT.
    #[arg(long, default_value = "768x768")]
    pub size: String,
    /// Window: a preset (file, auto, full, min-max, narrow; for CT lung, mediastinum, bone,
    /// brain) or `CENTER,WIDTH` in modality units (Hounsfield units for CT). `file` uses the
    /// window the DICOM file recommends and is `auto` for images without one.
    #[arg(long, default_value = "file", allow_hyphen_values = true)]
    pub window: String,
    /// The slice (frame) of a multi-frame DICOM or NIfTI volume, from 1.
    #[arg(long, default_value_t = 1)]
    pub slice: u32,
    /// Zoom (1 fits the image) and centre `X,Y` in image pixels.
    #[arg(long, default_value_t = 1.0)]
    pub zoom: f64,
    #[arg(long, value_name = "X,Y")]
    pub center: Option<String>,
    /// Fill opacity (0 turns fills off) and outline opacity (0 turns outlines off).
    #[arg(long, default_value_t = 0.4)]
    pub fill: f32,
    #[arg(long, default_value_t = 0.95)]
    pub outline: f32,
    /// Hide predictions scoring below this.
    #[arg(long, default_value_t = 0.0)]
    pub threshold: f64,
    /// Output PNG.
    #[arg(short, long)]
    pub out: std::path::PathBuf,
}

pub fn run(a: Args) -> anyhow::Result<u8> {
    let pack = a.source.open()?;
    let case = lightbox::pack::find_case(&pack, &a.case).map_err(anyhow::Error::msg)?;
    let run = a.source.selected_run(&pack)?;
    let views = match a.view.as_str() {
        "side-by-side" | "sbs" => match &a.compare {
            Some(b) => vec![
                View::Prediction(run.context("side-by-side needs runs")?),
                View::Prediction(pack.run_index(b).map_err(anyhow::Error::msg)?),
            ],
            None => vec![
                View::GroundTruth,
                View::Prediction(run.context("side-by-side needs a run")?),
            ],
        },
        v => vec![View::parse(v, run).map_err(anyhow::Error::msg)?],
    };
    let (w, h) = a
        .size
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
        .filter(|(w, h)| (1..=16384).contains(w) && (1..=16384).contains(h))
        .context("--size is WIDTHxHEIGHT, e.g. 1024x768 (at most 16384 per side)")?;
    let mut style = Style::new(Palette::for_pack(&pack, &[]));
    let numbers: Vec<f64> = a.window.split(',').filter_map(|v| v.trim().parse().ok()).collect();
    match (WindowPreset::from_name(&a.window), &numbers[..]) {
        (Some(p), _) => style.preset = p,
        (None, &[c, w]) if w > 0.0 => style.window = Some(lightbox::render::Window::from_center_width(c, w)),
        _ => anyhow::bail!(
            "--window {:?}: expected a preset ({}) or CENTER,WIDTH with a positive width, e.g. --window=-600,1500",
            a.window,
            WindowPreset::names()
        ),
    }
    style.fill = a.fill > 0.0;
    style.fill_opacity = a.fill.clamp(0.0, 1.0);
    style.outline = a.outline > 0.0;
    style.outline_opacity = a.outline.clamp(0.0, 1.0);
    style.score_threshold = a.threshold;
    let center = match &a.center {
        Some(c) => Some(
            c.split_once(',')
                .and_then(|(x, y)| Some((x.parse().ok()?, y.parse().ok()?)))
                .context("--center is X,Y in image pixels")?,
        ),
        None => None,
    };
    let vp = Viewport { zoom: a.zoom, center };
    if a.slice == 0 {
        bail!("--slice counts from 1");
    }
    if a.slice > 1
        && let Ok(n) = lightbox::formats::image::frame_count(&pack.cases[case].image)
        && a.slice > n
    {
        bail!(
            "--slice {}: the image has {n} slice{}",
            a.slice,
            if n == 1 { "" } else { "s" }
        );
    }
    let data = CaseData::load_slice(&pack, case, a.slice - 1);
    if let Err(e) = &data.image {
        bail!("{e}");
    }
    if a.slice > 1 {
        // boxes and instance outlines belong to the first slice (label volumes have every slice)
        style.instances = false;
    }
    let img = compose_side_by_side(
        &pack,
        &data,
        &views,
        &style,
        &vp,
        w,
        h,
        if views.len() > 1 { 4 } else { 0 },
    )
    .context("the image could not be composed")?;
    img.save(&a.out)
        .with_context(|| format!("writing {}", a.out.display()))?;
    eprintln!(
        "wrote {} ({}×{}, case {}, {})",
        a.out.display(),
        w,
        h,
        pack.cases[case].id,
        views.iter().map(|v| v.title(&pack)).collect::<Vec<_>>().join(" | ")
    );
    Ok(EXIT_OK)
}

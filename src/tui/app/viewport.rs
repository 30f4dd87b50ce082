//! The image under the pane: zoom, pan, the pixel cursor and its readout, the slice of a
//! multi-frame image, and the intensity window.

use super::*;

impl App {
    pub(crate) fn image_size(&self) -> Option<(u32, u32)> {
        let f = self.frame.as_ref()?;
        let img = f.data.image.as_ref().ok()?;
        Some((img.width, img.height))
    }

    pub(crate) fn image_center(&self) -> (u32, u32) {
        self.image_size().map(|(w, h)| (w / 2, h / 2)).unwrap_or((0, 0))
    }

    pub(crate) fn move_cursor(&mut self, dx: i64, dy: i64) {
        let Some((w, h)) = self.image_size() else {
            return;
        };
        let (x, y) = self.pixel_cursor.unwrap_or((w / 2, h / 2));
        // one step is about one cell of the pane
        let step = self
            .frame
            .as_ref()
            .map(|f| (1.0 / f.mapping.scale * self.cell_pixels.0 as f64).max(1.0))
            .unwrap_or(1.0) as i64;
        let nx = (x as i64 + dx * step).clamp(0, w as i64 - 1) as u32;
        let ny = (y as i64 + dy * step * 2).clamp(0, h as i64 - 1) as u32;
        self.pixel_cursor = Some((nx, ny));
    }

    pub(crate) fn pan(&mut self, dx: f64, dy: f64) {
        let Some((w, h)) = self.image_size() else {
            return;
        };
        let (cx, cy) = self.viewport.center.unwrap_or((w as f64 / 2.0, h as f64 / 2.0));
        let step = (w.max(h) as f64 / self.viewport.zoom) * 0.1;
        self.viewport.center = Some((
            (cx + dx * step).clamp(0.0, w as f64),
            (cy + dy * step).clamp(0.0, h as f64),
        ));
    }

    pub(crate) fn zoom(&mut self, factor: f64) {
        self.viewport.zoom = (self.viewport.zoom * factor).clamp(1.0, 64.0);
        if self.viewport.zoom <= 1.0 {
            self.viewport.center = None;
        } else if self.viewport.center.is_none() {
            self.viewport.center = self.pixel_cursor.map(|(x, y)| (x as f64, y as f64));
        }
    }

    /// The frame shown of the current case (0 for ordinary images).
    pub fn slice(&self) -> u32 {
        match self.case() {
            Some(c) if self.slice_of.0 == c => self.slice_of.1,
            _ => 0,
        }
    }

    /// Frames of the current case's image, once loaded.
    pub fn frames(&self) -> Option<u32> {
        let f = self.frame.as_ref()?;
        (Some(f.data.case) == self.case()).then_some(f.data.frames)
    }

    pub(crate) fn step_slice(&mut self, by: i64) {
        let (Some(case), Some(n)) = (self.case(), self.frames()) else {
            return;
        };
        if n <= 1 {
            self.say("this image has one frame");
            return;
        }
        let s = (self.slice() as i64 + by).clamp(0, n as i64 - 1) as u32;
        self.slice_of = (case, s);
    }

    /// The loaded image's scan metadata (DICOM/NIfTI), if any.
    pub fn scan(&self) -> Option<&crate::formats::scan::Scan> {
        self.frame.as_ref()?.data.image.as_ref().ok()?.scan.as_deref()
    }

    /// The window in force for the loaded image (modality units), and its name.
    pub fn current_window(&self) -> Option<(crate::render::Window, String)> {
        let stats = self.frame.as_ref()?.data.stats?;
        Some(match self.style.window {
            Some(w) => (w, "manual".to_string()),
            None => {
                let scan = self.scan();
                let preset = self.style.preset.effective(scan);
                let name = match (preset, scan.and_then(|s| s.windows.first())) {
                    (WindowPreset::File, Some(w)) => match &w.explanation {
                        Some(e) => format!("file: {e}"),
                        None => "file".to_string(),
                    },
                    (WindowPreset::File, None) if scan.is_some_and(|s| s.voi_lut.is_some()) => "file VOI LUT".into(),
                    (WindowPreset::File, None) => "file: full range".into(),
                    (p, _) => p.name().to_string(),
                };
                (preset.window_for(&stats, scan), name)
            }
        })
    }

    /// Shift or scale the window: `width_factor` multiplies the width, `level_shift` moves the
    /// centre by that fraction of the width.
    pub fn adjust_window(&mut self, width_factor: f64, level_shift: f64) {
        let Some((w, _)) = self.current_window() else {
            return;
        };
        let width = (w.width() * width_factor).max(2.0);
        let center = w.center() + level_shift * w.width();
        self.style.window = Some(crate::render::Window::from_center_width(center, width));
    }

    /// Mouse drag on the image: right/left widens/narrows, down/up raises/lowers the level, as
    /// on a reading workstation. `dx`, `dy` are in cells.
    pub fn drag_window(&mut self, dx: i32, dy: i32) {
        if dx == 0 && dy == 0 {
            return;
        }
        self.adjust_window(1.04f64.powi(dx), dy as f64 * 0.02);
    }

    /// The pixel value and classes under the cursor, read from the loaded frame.
    pub fn cursor_readout(&self) -> Option<String> {
        let (x, y) = self.pixel_cursor?;
        let f = self.frame.as_ref()?;
        let img = f.data.image.as_ref().ok()?;
        if x >= img.width || y >= img.height {
            return None;
        }
        let value = match img.scan.as_deref() {
            Some(s)
                if matches!(
                    img.pixels,
                    crate::formats::image::Pixels::Gray8(_) | crate::formats::image::Pixels::Gray16(_)
                ) =>
            {
                s.describe_value(img.value(x, y) as f64)
            }
            _ => img.value(x, y).to_string(),
        };
        let classes_at = |m: Option<&crate::geometry::LabelMask>| -> Vec<String> {
            m.map(|m| m.get(x, y))
                .filter(|&v| v != 0)
                .and_then(|v| self.pack.classes.iter().find(|c| c.mask_value == v))
                .map(|c| vec![c.name.clone()])
                .unwrap_or_default()
        };
        let gt = classes_at(f.data.mask(crate::render::Source::GroundTruth));
        let pred = self
            .run
            .map(|r| classes_at(f.data.mask(crate::render::Source::Run(r))))
            .unwrap_or_default();
        let join = |v: Vec<String>| {
            if v.is_empty() { "-".to_string() } else { v.join(",") }
        };
        Some(format!(
            "({x}, {y}) value {value} · gt {} · pred {}",
            join(gt),
            join(pred)
        ))
    }
}

//! Turning a case into pixels: window/level for 8- and 16-bit images, class palettes, and
//! overlays (mask fills and outlines, boxes with scores, an error view) composited at the size
//! they are shown. Shared by the dashboard's image pane and `lightbox render`, so both show the
//! same pixels. Knows nothing about terminals.

pub mod case_data;
pub mod compose;
pub mod font;
pub mod palette;
pub mod view;
pub mod window;

pub use case_data::CaseData;
pub use compose::{Layer, Look, Panel, Source, Style, Viewport, compose};
pub use palette::Palette;
pub use view::View;
pub use window::{Window, WindowPreset};

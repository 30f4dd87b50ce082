//! The largest image a terminal accepts. xterm draws no sixel image larger than its
//! `maxGraphicSize` (1000 × 1000 by default) and says nothing: the pane stays blank while the
//! dashboard believes it drew the case. Terminals that know their limit say it when asked
//! (XTSMGRAPHICS, `CSI ? 2 ; 1 ; 0 S`, answered `CSI ? 2 ; 0 ; W ; H S`; asked with the other
//! graphics queries in [`super::terminal_query`]); where one does not, a conservative default.

/// Sixel limit assumed when the terminal does not say (xterm's default `maxGraphicSize`).
pub const SIXEL_DEFAULT: (u32, u32) = (1000, 1000);

/// Where the limit came from, for the status bar and `lightbox doctor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The terminal answered XTSMGRAPHICS.
    Terminal,
    /// `--max-graphic` or the user config.
    User,
    /// The terminal did not say; a conservative default.
    Assumed,
}

/// A parsed `WxH` (e.g. `1000x1000`).
pub fn parse(text: &str) -> Result<(u32, u32), String> {
    crate::config::parse_pixel_size(text)
}

/// Scale `pixels` down (keeping its aspect) to fit within `limit`.
pub fn fit(pixels: (u32, u32), limit: Option<(u32, u32)>) -> (u32, u32) {
    let Some((mw, mh)) = limit else {
        return pixels;
    };
    let (w, h) = pixels;
    if w <= mw && h <= mh {
        return pixels;
    }
    let s = (mw as f64 / w as f64).min(mh as f64 / h as f64);
    (
        ((w as f64 * s).floor() as u32).max(1),
        ((h as f64 * s).floor() as u32).max(1),
    )
}

/// The part of a pane of `cells` (each `cell` pixels) a graphic may cover under `limit`: the
/// pane fitted inside the limit (aspect kept), snapped down to whole cells so the image fills
/// the cells it is drawn in exactly (bands then join without a gap). Returns (cells, pixels).
pub fn fit_cells(cells: (u16, u16), cell: (u16, u16), limit: Option<(u32, u32)>) -> ((u16, u16), (u32, u32)) {
    let (fw, fh) = (cell.0.max(1) as u32, cell.1.max(1) as u32);
    let (cols, rows) = crate::render::view::fit_units((cells.0 as u32, cells.1 as u32), (fw, fh), limit);
    let (cols, rows) = (cols.min(cells.0 as u32) as u16, rows.min(cells.1 as u32) as u16);
    ((cols, rows), (cols as u32 * fw, rows as u32 * fh))
}

/// A graphic of `pixels` is one the terminal accepts (no limit known: assumed so).
pub fn accepted(pixels: (u32, u32), limit: Option<(u32, u32)>) -> bool {
    limit.is_none_or(|(mw, mh)| pixels.0 <= mw && pixels.1 <= mh)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitted_panes_are_whole_cells_within_the_limit() {
        // 200 x 60 cells of 10 x 20 px: 2000 x 1200 px, xterm's 1000 x 1000 cap
        let (cells, px) = fit_cells((200, 60), (10, 20), Some((1000, 1000)));
        assert!(accepted(px, Some((1000, 1000))), "{px:?}");
        assert_eq!(px, (cells.0 as u32 * 10, cells.1 as u32 * 20));
        assert_eq!(cells, (100, 30));
        // within the limit: untouched
        assert_eq!(
            fit_cells((80, 24), (10, 20), Some((1000, 1000))),
            ((80, 24), (800, 480))
        );
        assert_eq!(fit_cells((200, 60), (10, 20), None), ((200, 60), (2000, 1200)));
        // a limit smaller than a cell still gives one cell
        assert_eq!(fit_cells((20, 20), (10, 20), Some((5, 5))).0, (1, 1));
    }

    proptest::proptest! {
        #[test]
        fn no_fitted_pane_exceeds_the_limit_or_the_pane(
            cols in 1u16..500, rows in 1u16..200, fw in 1u16..40, fh in 1u16..60,
            mw in 50u32..5000, mh in 50u32..5000,
        ) {
            let ((c, r), (w, h)) = fit_cells((cols, rows), (fw, fh), Some((mw, mh)));
            proptest::prop_assert!(c <= cols && r <= rows);
            proptest::prop_assert_eq!((w, h), (c as u32 * fw as u32, r as u32 * fh as u32));
            if fw as u32 <= mw && fh as u32 <= mh {
                proptest::prop_assert!(w <= mw && h <= mh, "{}x{} over {}x{}", w, h, mw, mh);
            }
        }
    }

    #[test]
    fn sizes_fit_the_limit() {
        assert_eq!(fit((1100, 880), Some((1000, 1000))), (1000, 800));
        assert_eq!(fit((800, 600), Some((1000, 1000))), (800, 600));
        assert_eq!(fit((2000, 3000), Some((1000, 1000))), (666, 1000));
        assert_eq!(fit((2000, 3000), None), (2000, 3000));
        assert_eq!(parse("1000x800"), Ok((1000, 800)));
        assert!(parse("1000").is_err() && parse("10x10").is_err());
    }
}

//! The largest image a terminal accepts. xterm draws no sixel image larger than its
//! `maxGraphicSize` (1000 × 1000 by default) and says nothing: the pane stays blank while the
//! dashboard believes it drew the case. Terminals that know their limit say it when asked
//! (XTSMGRAPHICS, `CSI ? 2 ; 1 ; 0 S`, answered `CSI ? 2 ; 0 ; W ; H S`); the query is followed
//! by a primary device attributes request (`CSI c`), which every terminal answers, so a
//! terminal that ignores the first is found out without waiting for a timeout.

use std::time::Duration;

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

/// The sixel geometry in a terminal's answer, if it holds a successful XTSMGRAPHICS reply.
pub fn parse_reply(bytes: &[u8]) -> Option<(u32, u32)> {
    let text = String::from_utf8_lossy(bytes);
    let start = text.find("\u{1b}[?2;")?;
    let rest = &text[start + 5..];
    let end = rest.find('S')?;
    let parts: Vec<&str> = rest[..end].split(';').collect();
    match parts.as_slice() {
        ["0", w, h] => {
            let (w, h) = (w.parse().ok()?, h.parse().ok()?);
            (w > 0 && h > 0).then_some((w, h))
        }
        _ => None,
    }
}

/// Ask the terminal (on stdin/stdout, in raw mode, before anything else reads input) for its
/// largest sixel image. `None` when it does not say within `wait`.
#[cfg(unix)]
pub fn query(wait: Duration) -> Option<(u32, u32)> {
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    let mut out = std::io::stdout();
    out.write_all(b"\x1b[?2;1;0S\x1b[c").ok()?;
    out.flush().ok()?;
    let stdin = std::io::stdin();
    let fd = stdin.as_raw_fd();
    let deadline = std::time::Instant::now() + wait;
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    let mut lock = stdin.lock();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            break;
        }
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, its count, a timeout in milliseconds
        let ready = unsafe { libc::poll(&mut pfd, 1, left.as_millis().min(1000) as i32) };
        if ready <= 0 {
            break;
        }
        let n = lock.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        // the device attributes reply ends the answers: CSI ? ... c
        if da_reply_complete(&got) {
            break;
        }
    }
    parse_reply(&got)
}

#[cfg(not(unix))]
pub fn query(_wait: Duration) -> Option<(u32, u32)> {
    None
}

/// Whether the bytes hold a whole primary device attributes reply (`CSI ? digits;... c`).
fn da_reply_complete(b: &[u8]) -> bool {
    let text = String::from_utf8_lossy(b);
    let mut rest: &str = &text;
    while let Some(i) = rest.find("\u{1b}[?") {
        let tail = &rest[i + 3..];
        let body: String = tail.chars().take_while(|c| c.is_ascii_digit() || *c == ';').collect();
        if tail[body.len()..].starts_with('c') {
            return true;
        }
        rest = tail;
    }
    false
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
    fn replies_are_read() {
        assert_eq!(parse_reply(b"\x1b[?2;0;1000;1000S\x1b[?65;1;4c"), Some((1000, 1000)));
        assert_eq!(parse_reply(b"\x1b[?1;0;256S\x1b[?2;0;2560;1440S"), Some((2560, 1440)));
        // failure status, or no answer: the terminal did not say
        assert_eq!(parse_reply(b"\x1b[?2;3;0S\x1b[?62c"), None);
        assert_eq!(parse_reply(b"\x1b[?62;4c"), None);
        assert!(da_reply_complete(b"\x1b[?2;0;1000;1000S\x1b[?65;1;4c"));
        assert!(!da_reply_complete(b"\x1b[?2;0;1000;1000S\x1b[?65;1"));
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

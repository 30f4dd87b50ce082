//! Asking the terminal what it can draw, once, before anything else reads input: kitty
//! graphics (a one-pixel query), the cell size in pixels (`CSI 16 t`), the largest sixel image
//! (XTSMGRAPHICS, `CSI ? 2 ; 1 ; 0 S`), and the primary device attributes (`CSI c`, whose `4`
//! says sixel). Every terminal answers `CSI c`, and answers in order, so its reply ends the
//! wait without a timeout.
//!
//! Why not ratatui-image's `Picker::from_query_stdio`: when the terminal does not answer in
//! time (tmux without passthrough, a slow ssh link) it gives up but leaves its reader thread
//! blocked on stdin, and that thread swallows the user's first key press; it also reads
//! through std's buffered stdin, where bytes after the replies stay out of the dashboard's
//! reach, and it switches tmux's `allow-passthrough` on behind the user's back. Here stdin is
//! read unbuffered with a deadline on this thread only, and whatever the user typed while the
//! terminal answered is handed back as key presses ([`keys`]).

use std::time::Duration;

/// What the terminal said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers {
    /// It answered the kitty graphics query with OK.
    pub kitty: bool,
    /// Its device attributes list sixel graphics (`4`).
    pub sixel: bool,
    /// It answered the device attributes query (so it heard us).
    pub answered: bool,
    /// Pixels per cell (width, height), from `CSI 6 ; h ; w t`.
    pub cell: Option<(u16, u16)>,
    /// The largest sixel image it draws, from XTSMGRAPHICS.
    pub max_sixel: Option<(u32, u32)>,
    /// Bytes that were not part of any answer: what the user typed meanwhile.
    pub typed: Vec<u8>,
}

/// The queries, ending with the device attributes request. Inside tmux the kitty and cell-size
/// queries are wrapped for its passthrough (each escape doubled inside `DCS tmux; … ST`), the
/// device attributes request is not (tmux answers it itself, at once), and XTSMGRAPHICS is not
/// sent: tmux holds its answer for its `escape-time` (500 ms) and then hands it to the program
/// as if typed, where it swallowed the user's first key (sixel does not pass through tmux
/// anyway).
pub fn queries(tmux: bool) -> Vec<u8> {
    let graphics = "\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\\x1b[16t";
    let mut q = if tmux {
        format!("\x1bPtmux;{}\x1b\\", graphics.replace('\x1b', "\x1b\x1b"))
    } else {
        format!("{graphics}\x1b[?2;1;0S")
    };
    q.push_str("\x1b[c");
    q.into_bytes()
}

/// Read the answers out of `bytes`; `None` while the device attributes reply (the last) has
/// not arrived whole.
pub fn parse(bytes: &[u8]) -> Option<Answers> {
    let a = scan(bytes);
    a.answered.then_some(a)
}

/// Every answer in `bytes`, wherever it lies; the rest is what the user typed.
pub fn scan(bytes: &[u8]) -> Answers {
    let mut a = Answers::default();
    let mut i = 0;
    while i < bytes.len() {
        if let Some((len, what)) = reply_at(&bytes[i..]) {
            match what {
                Reply::Kitty(ok) => a.kitty |= ok,
                Reply::Cell(w, h) => a.cell = Some((w, h)),
                Reply::Graphics(g) => a.max_sixel = a.max_sixel.or(g),
                Reply::Attributes(sixel) if !a.answered => {
                    a.sixel = sixel;
                    a.answered = true;
                }
                Reply::Attributes(_) | Reply::Other => {}
            }
            i += len;
        } else {
            a.typed.push(bytes[i]);
            i += 1;
        }
    }
    a
}

enum Reply {
    Kitty(bool),
    Cell(u16, u16),
    Graphics(Option<(u32, u32)>),
    Attributes(bool),
    /// An answer to something else (e.g. another XTSMGRAPHICS item): dropped.
    Other,
}

/// A whole reply starting at the first byte, with its length.
fn reply_at(b: &[u8]) -> Option<(usize, Reply)> {
    if b.starts_with(b"\x1b_G") {
        // kitty: ESC _ G i=31;OK ESC \   (or an error message)
        let end = find(b, b"\x1b\\")?;
        let body = &b[3..end];
        let ok = body.split(|&c| c == b';').nth(1).is_some_and(|m| m == b"OK");
        return Some((end + 2, Reply::Kitty(ok)));
    }
    if !b.starts_with(b"\x1b[") {
        return None;
    }
    // CSI [?] params final
    let rest = &b[2..];
    let private = rest.first() == Some(&b'?');
    let params_start = usize::from(private);
    let n = rest[params_start..]
        .iter()
        .take_while(|c| c.is_ascii_digit() || **c == b';')
        .count();
    let final_byte = *rest.get(params_start + n)?;
    let params: Vec<u32> = std::str::from_utf8(&rest[params_start..params_start + n])
        .ok()?
        .split(';')
        .map(|p| p.parse().unwrap_or(0))
        .collect();
    let len = 2 + params_start + n + 1;
    let reply = match (private, final_byte, params.as_slice()) {
        (false, b't', [6, h, w]) => Reply::Cell((*w).min(u16::MAX as u32) as u16, (*h).min(u16::MAX as u32) as u16),
        (true, b'S', [2, 0, w, h]) if *w > 0 && *h > 0 => Reply::Graphics(Some((*w, *h))),
        (true, b'S', [2, ..]) => Reply::Graphics(None),
        (true, b'S', _) => Reply::Other,
        (true, b'c', p) => Reply::Attributes(p.iter().skip(1).any(|&x| x == 4)),
        // anything else is not ours (an arrow key is CSI A): the user's
        _ => return None,
    };
    Some((len, reply))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Ask on stdout, read stdin (raw mode must be on) until the answers are whole or `wait` has
/// passed. `None` when the terminal did not answer; bytes read are then all `typed`.
#[cfg(unix)]
pub fn ask(tmux: bool, wait: Duration) -> Result<Answers, Vec<u8>> {
    use std::io::Write;
    let mut in_grace = false;
    let mut out = std::io::stdout();
    if out.write_all(&queries(tmux)).and_then(|()| out.flush()).is_err() {
        return Err(Vec::new());
    }
    let mut deadline = std::time::Instant::now() + wait;
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            break;
        }
        let mut pfd = libc::pollfd {
            fd: libc::STDIN_FILENO,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, its count, a timeout in milliseconds
        let ready = unsafe { libc::poll(&mut pfd, 1, left.as_millis().clamp(1, 1000) as i32) };
        if ready < 0 {
            break;
        }
        if ready == 0 {
            continue;
        }
        // unbuffered: nothing read here is left in a buffer the dashboard cannot see
        // SAFETY: reads at most buf.len() bytes into buf
        let n = unsafe { libc::read(libc::STDIN_FILENO, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            break;
        }
        got.extend_from_slice(&buf[..n as usize]);
        if scan(&got).answered {
            if !tmux {
                break;
            }
            // tmux answered its part at once; the outer terminal's answers come through
            // passthrough a little later, or never (passthrough off)
            if !in_grace {
                deadline = deadline.min(std::time::Instant::now() + TMUX_GRACE);
                in_grace = true;
            }
        }
    }
    let a = scan(&got);
    if a.answered { Ok(a) } else { Err(got) }
}

/// How long answers from the terminal outside tmux are waited for after tmux's own.
pub const TMUX_GRACE: Duration = Duration::from_millis(250);

#[cfg(not(unix))]
pub fn ask(_tmux: bool, _wait: Duration) -> Result<Answers, Vec<u8>> {
    Err(Vec::new())
}

/// Key presses in bytes the user typed while the terminal answered: printable characters,
/// Enter, Tab, Backspace, Escape, ctrl-letters and the arrow keys (anything else is dropped).
pub fn keys(bytes: &[u8]) -> Vec<crossterm::event::KeyEvent> {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut out = Vec::new();
    let text = String::from_utf8_lossy(bytes);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let key = match c {
            '\r' | '\n' => KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE),
            '\t' => KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE),
            '\u{7f}' | '\u{8}' => KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE),
            '\u{1b}' => match chars.peek() {
                Some('[' | 'O') => {
                    chars.next();
                    let code = match chars.next() {
                        Some('A') => KeyCode::Up,
                        Some('B') => KeyCode::Down,
                        Some('C') => KeyCode::Right,
                        Some('D') => KeyCode::Left,
                        _ => continue,
                    };
                    KeyEvent::new(code, KeyModifiers::NONE)
                }
                _ => KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
            },
            c @ '\u{1}'..='\u{1a}' => {
                KeyEvent::new(KeyCode::Char(((c as u8) - 1 + b'a') as char), KeyModifiers::CONTROL)
            }
            c if !c.is_control() && c != '\u{fffd}' => KeyEvent::new(
                KeyCode::Char(c),
                if c.is_uppercase() {
                    KeyModifiers::SHIFT
                } else {
                    KeyModifiers::NONE
                },
            ),
            _ => continue,
        };
        out.push(key);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    #[test]
    fn a_sixel_xterm_is_read() {
        let a = parse(b"\x1b[6;20;10t\x1b[?2;0;1000;1000S\x1b[?63;1;4;22c").unwrap();
        assert_eq!(
            a,
            Answers {
                kitty: false,
                sixel: true,
                answered: true,
                cell: Some((10, 20)),
                max_sixel: Some((1000, 1000)),
                typed: vec![],
            }
        );
    }

    #[test]
    fn kitty_is_read_and_a_refusal_is_not_ok() {
        let a = parse(b"\x1b_Gi=31;OK\x1b\\\x1b[6;32;16t\x1b[?62;c").unwrap();
        assert!(a.kitty && !a.sixel && a.cell == Some((16, 32)) && a.max_sixel.is_none());
        let a = parse(b"\x1b_Gi=31;ENOTSUPPORTED:nope\x1b\\\x1b[?62c").unwrap();
        assert!(!a.kitty);
        // a failed XTSMGRAPHICS and a 1 in the attributes (132 columns) are not sixel
        let a = parse(b"\x1b[?2;3;0S\x1b[?1;2c").unwrap();
        assert!(!a.sixel && a.max_sixel.is_none());
    }

    #[test]
    fn nothing_is_whole_before_the_device_attributes() {
        assert_eq!(parse(b"\x1b[6;20;10t\x1b[?2;0;1000;1000S"), None);
        assert_eq!(parse(b"\x1b[6;20;10t\x1b[?63;1;4"), None);
        assert_eq!(parse(b""), None);
    }

    /// What the user typed before, between and after the answers is theirs, not lost.
    #[test]
    fn keys_typed_meanwhile_are_kept() {
        let a = parse(b"j\x1b[6;20;10tk\x1b[?63;4cq").unwrap();
        assert_eq!(a.typed, b"jkq");
        let k = keys(&a.typed);
        assert_eq!(
            k.iter().map(|k| k.code).collect::<Vec<_>>(),
            [KeyCode::Char('j'), KeyCode::Char('k'), KeyCode::Char('q')]
        );
        // an arrow key is not mistaken for an answer
        let a = parse(b"\x1b[B\x1b[?62c").unwrap();
        assert_eq!(keys(&a.typed)[0].code, KeyCode::Down);
    }

    #[test]
    fn typed_bytes_become_key_presses() {
        let k = keys(b"G\r\t\x7f\x15/\x1b");
        let got: Vec<_> = k.iter().map(|k| (k.code, k.modifiers)).collect();
        assert_eq!(
            got,
            [
                (KeyCode::Char('G'), KeyModifiers::SHIFT),
                (KeyCode::Enter, KeyModifiers::NONE),
                (KeyCode::Tab, KeyModifiers::NONE),
                (KeyCode::Backspace, KeyModifiers::NONE),
                (KeyCode::Char('u'), KeyModifiers::CONTROL),
                (KeyCode::Char('/'), KeyModifiers::NONE),
                (KeyCode::Esc, KeyModifiers::NONE),
            ]
        );
    }

    #[test]
    fn tmux_wraps_the_graphics_queries_and_answers_the_last_itself() {
        let q = queries(true);
        assert!(q.starts_with(b"\x1bPtmux;\x1b\x1b_G"), "{q:?}");
        assert!(q.ends_with(b"\x1b\x1b[16t\x1b\\\x1b[c"), "{q:?}");
        assert!(!q.windows(3).any(|w| w == b"?2;"), "no XTSMGRAPHICS inside tmux: {q:?}");
        assert_eq!(queries(false).iter().filter(|&&b| b == 0x1b).count(), 5);
        // answers after tmux's own device attributes still count
        let a = scan(b"\x1b[?1;2c\x1b_Gi=31;OK\x1b\\\x1b[6;20;10tj");
        assert!(a.answered && a.kitty && a.cell == Some((10, 20)) && !a.sixel);
        assert_eq!(a.typed, b"j");
    }

    proptest::proptest! {
        /// Any bytes: no panic, and what is not an answer comes back as typed.
        #[test]
        fn parsing_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = parse(&bytes);
            let _ = keys(&bytes);
        }
    }
}

//! The serial port's keys: bytes from a terminal, including its ANSI escape
//! sequences, decoded into [`Key`]s.
//!
//! Understood:
//! - printable ASCII (0x20–0x7e) as itself;
//! - CR, LF or CR LF as one Enter; 0x7f and 0x08 as Backspace; Tab;
//! - other control bytes 0x01–0x1a as Ctrl + letter (0x03 is Ctrl-C);
//! - arrows `ESC[A`–`ESC[D` (and `ESC O A`–`ESC O D`), Home `ESC[H`
//!   `ESC O H` `ESC[1~` `ESC[7~`, End `ESC[F` `ESC O F` `ESC[4~` `ESC[8~`,
//!   Delete `ESC[3~`, Shift-PgUp `ESC[5;2~` and Shift-PgDn `ESC[6;2~` as
//!   [`Key::ScrollUp`]/[`Key::ScrollDown`].
//!
//! Everything else is dropped, never passed on raw: a lone ESC (the byte
//! after it is then read as usual), an unknown or over-long sequence, a
//! control byte without a key, and non-ASCII bytes (UTF-8 text is out of
//! scope: the screen shows only ASCII). A control byte in the middle of a
//! sequence ends the sequence and counts as itself, so an Enter is never
//! swallowed by a half-sent sequence.
//!
//! Pure logic, tested on the host (every sequence above, and random bytes).

#![forbid(unsafe_code)]

use super::key::Key;

/// ESC, the first byte of every escape sequence.
const ESC: u8 = 0x1b;
/// Carriage return.
const CR: u8 = b'\r';
/// Line feed.
const LF: u8 = b'\n';
/// Backspace (Ctrl-H).
const BS: u8 = 0x08;
/// Delete, which terminals send for the Backspace key.
const DEL: u8 = 0x7f;
/// Horizontal tab.
const TAB: u8 = b'\t';
/// The longest parameter string kept (`5;2` needs 3): longer sequences are
/// read to their end and dropped.
const MAX_PARAMS: usize = 8;

/// Where the decoder is within a sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Plain bytes.
    Ground,
    /// After ESC.
    Escape,
    /// After `ESC [`: parameter bytes until a final byte.
    Csi,
    /// After `ESC O` (SS3): one final byte.
    Ss3,
}

/// The decoder: feed it bytes, get keys.
#[derive(Debug, Clone)]
pub struct Decoder {
    /// Where in a sequence.
    state: State,
    /// The CSI parameter bytes so far.
    params: [u8; MAX_PARAMS],
    /// How many of `params` are used.
    len: usize,
    /// The parameters outgrew `params`: drop the sequence at its end.
    overlong: bool,
    /// The previous byte was CR, so an LF right after it is part of the
    /// same Enter.
    after_cr: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder between keys.
    pub const fn new() -> Decoder {
        Decoder {
            state: State::Ground,
            params: [0; MAX_PARAMS],
            len: 0,
            overlong: false,
            after_cr: false,
        }
    }

    /// Takes one byte; returns the key it completes, if any.
    pub fn feed(&mut self, byte: u8) -> Option<Key> {
        let after_cr = core::mem::take(&mut self.after_cr);
        match self.state {
            State::Ground => self.ground(byte, after_cr),
            State::Escape => match byte {
                b'[' => {
                    self.state = State::Csi;
                    self.len = 0;
                    self.overlong = false;
                    None
                }
                b'O' => {
                    self.state = State::Ss3;
                    None
                }
                // A lone ESC: dropped; the byte counts as itself.
                _ => {
                    self.state = State::Ground;
                    self.ground(byte, after_cr)
                }
            },
            State::Ss3 => {
                self.state = State::Ground;
                match byte {
                    b'A'..=b'D' | b'H' | b'F' => Self::final_key(&[], byte),
                    0x40..=0x7e => None,
                    _ => self.ground(byte, after_cr),
                }
            }
            State::Csi => match byte {
                // Parameter and intermediate bytes.
                0x20..=0x3f => {
                    if self.len < MAX_PARAMS {
                        self.params[self.len] = byte;
                        self.len += 1;
                    } else {
                        self.overlong = true;
                    }
                    None
                }
                // The final byte.
                0x40..=0x7e => {
                    self.state = State::Ground;
                    if self.overlong {
                        None
                    } else {
                        Self::final_key(&self.params[..self.len], byte)
                    }
                }
                // Anything else breaks the sequence off.
                _ => {
                    self.state = State::Ground;
                    self.ground(byte, after_cr)
                }
            },
        }
    }

    /// A byte outside any sequence.
    fn ground(&mut self, byte: u8, after_cr: bool) -> Option<Key> {
        match byte {
            ESC => {
                self.state = State::Escape;
                None
            }
            CR => {
                self.after_cr = true;
                Some(Key::Enter)
            }
            LF if after_cr => None,
            LF => Some(Key::Enter),
            BS | DEL => Some(Key::Backspace),
            TAB => Some(Key::Tab),
            0x01..=0x1a => Some(Key::Ctrl(b'a' + byte - 1)),
            0x20..=0x7e => Some(Key::Char(byte as char)),
            _ => None,
        }
    }

    /// The key a complete sequence names: `params` then `last` (after
    /// `ESC[`, or after `ESC O` with no parameters).
    fn final_key(params: &[u8], last: u8) -> Option<Key> {
        match (params, last) {
            (b"", b'A') => Some(Key::Up),
            (b"", b'B') => Some(Key::Down),
            (b"", b'C') => Some(Key::Right),
            (b"", b'D') => Some(Key::Left),
            (b"", b'H') | (b"1" | b"7", b'~') => Some(Key::Home),
            (b"", b'F') | (b"4" | b"8", b'~') => Some(Key::End),
            (b"3", b'~') => Some(Key::Delete),
            (b"5;2", b'~') => Some(Key::ScrollUp),
            (b"6;2", b'~') => Some(Key::ScrollDown),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::Rng;

    /// Every key `bytes` decodes to, from a fresh decoder.
    fn keys(bytes: &[u8]) -> Vec<Key> {
        let mut decoder = Decoder::new();
        bytes.iter().filter_map(|&b| decoder.feed(b)).collect()
    }

    #[test]
    fn printable_ascii_is_itself() {
        assert_eq!(
            keys(b"aZ ~0"),
            [
                Key::Char('a'),
                Key::Char('Z'),
                Key::Char(' '),
                Key::Char('~'),
                Key::Char('0')
            ]
        );
    }

    #[test]
    fn cr_lf_and_crlf_are_one_enter_each() {
        assert_eq!(keys(b"\r"), [Key::Enter]);
        assert_eq!(keys(b"\n"), [Key::Enter]);
        assert_eq!(keys(b"\r\n"), [Key::Enter]);
        assert_eq!(keys(b"\r\r\n\n"), [Key::Enter, Key::Enter, Key::Enter]);
        assert_eq!(
            keys(b"a\r\nb"),
            [Key::Char('a'), Key::Enter, Key::Char('b')]
        );
        // An LF that does not follow a CR directly is its own Enter.
        assert_eq!(keys(b"\rx\n"), [Key::Enter, Key::Char('x'), Key::Enter]);
    }

    #[test]
    fn backspace_tab_and_control_letters() {
        assert_eq!(
            keys(&[0x7f, 0x08, b'\t']),
            [Key::Backspace, Key::Backspace, Key::Tab]
        );
        assert_eq!(
            keys(&[0x01, 0x03, 0x0c, 0x15, 0x1a]),
            [
                Key::Ctrl(b'a'),
                Key::Ctrl(b'c'),
                Key::Ctrl(b'l'),
                Key::Ctrl(b'u'),
                Key::Ctrl(b'z')
            ]
        );
        assert_eq!(keys(&[0x00, 0x1c, 0x1d, 0x1e, 0x1f]), []);
    }

    #[test]
    fn every_listed_sequence() {
        let cases: &[(&[u8], Key)] = &[
            (b"\x1b[A", Key::Up),
            (b"\x1b[B", Key::Down),
            (b"\x1b[C", Key::Right),
            (b"\x1b[D", Key::Left),
            (b"\x1bOA", Key::Up),
            (b"\x1bOD", Key::Left),
            (b"\x1b[H", Key::Home),
            (b"\x1b[F", Key::End),
            (b"\x1bOH", Key::Home),
            (b"\x1bOF", Key::End),
            (b"\x1b[1~", Key::Home),
            (b"\x1b[4~", Key::End),
            (b"\x1b[7~", Key::Home),
            (b"\x1b[8~", Key::End),
            (b"\x1b[3~", Key::Delete),
            (b"\x1b[5;2~", Key::ScrollUp),
            (b"\x1b[6;2~", Key::ScrollDown),
        ];
        for (bytes, key) in cases {
            assert_eq!(keys(bytes), [*key], "{bytes:?}");
            // And between other keys, nothing leaks.
            let mut framed = b"x".to_vec();
            framed.extend_from_slice(bytes);
            framed.push(b'y');
            assert_eq!(
                keys(&framed),
                [Key::Char('x'), *key, Key::Char('y')],
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn lone_esc_and_unknown_sequences_are_dropped() {
        assert_eq!(keys(b"\x1b"), []);
        assert_eq!(keys(b"\x1bx"), [Key::Char('x')]);
        assert_eq!(keys(b"\x1b\x1b[A"), [Key::Up]);
        assert_eq!(keys(b"\x1b[5~\x1b[2~\x1b[1;5C\x1b[Z\x1bOP"), []);
        assert_eq!(keys(b"\x1b[123456789012345~a"), [Key::Char('a')]);
        assert_eq!(keys(b"\x1b[1;2;3;4;5;6;7;8;9A"), []);
    }

    #[test]
    fn a_control_byte_breaks_a_sequence_and_counts() {
        assert_eq!(keys(b"\x1b[1\r"), [Key::Enter]);
        assert_eq!(keys(b"\x1bO\r\n"), [Key::Enter]);
        assert_eq!(keys(b"\x1b[\x1b[B"), [Key::Down]);
    }

    #[test]
    fn non_ascii_bytes_are_dropped() {
        assert_eq!(keys("é".as_bytes()), []);
        assert_eq!(keys(&[0x80, 0xff, b'a']), [Key::Char('a')]);
    }

    #[test]
    fn random_bytes_never_panic_and_never_pass_escapes_through() {
        let mut rng = Rng(0xa751_0001);
        let mut decoder = Decoder::new();
        for _ in 0..200_000 {
            let byte = rng.next() as u8;
            if let Some(key) = decoder.feed(byte) {
                if let Key::Char(c) = key {
                    assert!((' '..='~').contains(&c), "{c:?}");
                }
                if let Key::Ctrl(letter) = key {
                    assert!(letter.is_ascii_lowercase());
                }
            }
        }
        // After any garbage, a fresh Enter, a sequence and a letter decode.
        let mut after = Vec::new();
        for &byte in b"\x18\r\x1b[A z" {
            after.extend(decoder.feed(byte));
        }
        assert!(after.ends_with(&[Key::Up, Key::Char(' '), Key::Char('z')]));
    }
}

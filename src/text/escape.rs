//! The one rule for printing a string that comes from outside the kernel
//! (the command line, module strings, the loader's name): on one line,
//! byte-exact where the bytes are printable ASCII, every other byte escaped
//! in a reversible form, so that no input can start a line, move the cursor
//! or send a terminal a control sequence.
//!
//! | byte | shown as |
//! |---|---|
//! | `0x20`–`0x7e` except `\` | itself |
//! | `\` | `\\` |
//! | newline, carriage return, tab | `\n`, `\r`, `\t` |
//! | any other (control bytes, DEL, every byte from `0x80`) | `\xNN`, two lowercase hex digits |
//!
//! Reading it back: `\\`, `\n`, `\r`, `\t` and `\xNN` are the only
//! sequences a backslash starts, so the bytes are recovered exactly. A
//! multi-byte UTF-8 character shows as its bytes (`é` is `\xc3\xa9`): the
//! kernel's screens draw ASCII only.
//!
//! Limits: the rule makes a line unforgeable, not its meaning: an outside
//! string may still contain printable text such as `ready` in the middle of
//! a line.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

use core::fmt;

/// Hex digits of `\xNN`.
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// The lowest printable ASCII byte (space).
const FIRST_PRINTABLE: u8 = 0x20;

/// The highest printable ASCII byte (`~`); DEL (0x7f) follows it.
const LAST_PRINTABLE: u8 = 0x7e;

/// Bytes from outside, displayed by the rule above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Escaped<'a>(pub &'a [u8]);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        loop {
            // The longest run that shows as is, written at once; then the
            // byte that ended it, escaped.
            let plain = rest.iter().take_while(|&&b| shows_as_is(b)).count();
            let (run, tail) = rest.split_at(plain);
            // Printable ASCII is valid UTF-8: the fallback never shows.
            f.write_str(core::str::from_utf8(run).unwrap_or("?"))?;
            let Some((&byte, tail)) = tail.split_first() else {
                return Ok(());
            };
            write_escaped(f, byte)?;
            rest = tail;
        }
    }
}

/// Whether `byte` is shown as itself.
fn shows_as_is(byte: u8) -> bool {
    (FIRST_PRINTABLE..=LAST_PRINTABLE).contains(&byte) && byte != b'\\'
}

/// Writes the escape sequence of one byte that is not shown as is.
fn write_escaped(f: &mut fmt::Formatter<'_>, byte: u8) -> fmt::Result {
    match byte {
        b'\\' => f.write_str("\\\\"),
        b'\n' => f.write_str("\\n"),
        b'\r' => f.write_str("\\r"),
        b'\t' => f.write_str("\\t"),
        _ => {
            let hex = [
                HEX_DIGITS[usize::from(byte >> 4)],
                HEX_DIGITS[usize::from(byte & 0xf)],
            ];
            f.write_str("\\x")?;
            f.write_str(core::str::from_utf8(&hex).unwrap_or("??"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reverse of the rule, as a reader of the report would apply it.
    fn unescape(text: &str) -> Vec<u8> {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'\\' {
                out.push(bytes[i]);
                i += 1;
                continue;
            }
            match bytes[i + 1] {
                b'\\' => out.push(b'\\'),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'x' => {
                    let hex = core::str::from_utf8(&bytes[i + 2..i + 4]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 2;
                }
                other => panic!("unknown escape \\{}", other as char),
            }
            i += 2;
        }
        out
    }

    fn escape(bytes: &[u8]) -> String {
        Escaped(bytes).to_string()
    }

    #[test]
    fn printable_ascii_is_byte_exact() {
        let all: Vec<u8> = (0x20..=0x7e).filter(|&b| b != b'\\').collect();
        assert_eq!(escape(&all).as_bytes(), &all[..]);
        assert_eq!(escape(b"  a=b  c\"x\" "), "  a=b  c\"x\" ");
    }

    #[test]
    fn control_bytes_and_non_ascii_are_escaped() {
        assert_eq!(
            escape(b"x\nready\nboot error: fake"),
            "x\\nready\\nboot error: fake"
        );
        assert_eq!(escape(b"a\rb\tc"), "a\\rb\\tc");
        assert_eq!(escape(b"\x08 \x08\x7f"), "\\x08 \\x08\\x7f");
        assert_eq!(escape(b"\x1b[2J\x00"), "\\x1b[2J\\x00");
        assert_eq!(escape(&[0xff, 0xfe]), "\\xff\\xfe");
        assert_eq!(escape("é".as_bytes()), "\\xc3\\xa9");
        assert_eq!(escape(b"back\\slash"), "back\\\\slash");
        assert_eq!(escape(b""), "");
    }

    #[test]
    fn the_result_is_one_line_of_printable_ascii() {
        let every: Vec<u8> = (0..=255).collect();
        let text = escape(&every);
        assert!(text.bytes().all(shows_as_is_or_backslash), "{text}");
    }

    fn shows_as_is_or_backslash(byte: u8) -> bool {
        shows_as_is(byte) || byte == b'\\'
    }

    #[test]
    fn escaping_is_reversible() {
        let every: Vec<u8> = (0..=255).collect();
        assert_eq!(unescape(&escape(&every)), every);
        let mut rng = crate::test_rng::Rng(12);
        for _ in 0..2000 {
            let len = rng.below(40);
            let bytes: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
            assert_eq!(unescape(&escape(&bytes)), bytes);
        }
    }
}

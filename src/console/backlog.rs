//! Log records held back until the log level is known.
//!
//! The log level comes from the kernel command line, which is read only once
//! the boot information has been checked. Records logged before that (the
//! first init steps' own lines, the command line's warnings) wait here, in
//! order, and are printed, or dropped as too detailed, once the level is set.
//! The backlog is a fixed buffer (no heap exists that early): a record that
//! no longer fits is counted in [`Backlog::dropped`] instead.
//!
//! Pure logic over a byte array, tested on the host.

#![forbid(unsafe_code)]

use core::fmt::{self, Write};

use log::Level;

/// Bytes of bookkeeping per held record: its level and its length.
const RECORD_HEADER: usize = 3;

/// Records held in `N` bytes, oldest first.
pub struct Backlog<const N: usize> {
    /// Each record: level (1 byte), text length (2 bytes, little-endian),
    /// then the text.
    bytes: [u8; N],
    /// Bytes of `bytes` in use.
    len: usize,
    /// Records that did not fit.
    dropped: usize,
}

/// Formats into a byte slice, failing when it is full.
struct SliceWriter<'a> {
    /// Where the text goes.
    out: &'a mut [u8],
    /// Bytes written so far.
    written: usize,
}

impl Write for SliceWriter<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let end = self.written + text.len();
        if end > self.out.len() {
            return Err(fmt::Error);
        }
        self.out[self.written..end].copy_from_slice(text.as_bytes());
        self.written = end;
        Ok(())
    }
}

/// A level as one byte, and back.
fn level_to_byte(level: Level) -> u8 {
    level as usize as u8
}

/// See [`level_to_byte`]; an unknown byte (never written) reads as `Trace`.
fn level_from_byte(byte: u8) -> Level {
    [Level::Error, Level::Warn, Level::Info, Level::Debug]
        .into_iter()
        .find(|&level| level_to_byte(level) == byte)
        .unwrap_or(Level::Trace)
}

impl<const N: usize> Backlog<N> {
    /// An empty backlog.
    pub const fn new() -> Self {
        Backlog {
            bytes: [0; N],
            len: 0,
            dropped: 0,
        }
    }

    /// Holds one record; counts it as dropped if it does not fit whole.
    pub fn push(&mut self, level: Level, text: fmt::Arguments) {
        let start = self.len + RECORD_HEADER;
        let room = N.saturating_sub(start).min(usize::from(u16::MAX));
        if start > N {
            self.dropped += 1;
            return;
        }
        let mut writer = SliceWriter {
            out: &mut self.bytes[start..start + room],
            written: 0,
        };
        if writer.write_fmt(text).is_err() {
            self.dropped += 1;
            return;
        }
        let written = writer.written;
        self.bytes[self.len] = level_to_byte(level);
        // `room` is at most u16::MAX, so the length fits.
        self.bytes[self.len + 1..start].copy_from_slice(&(written as u16).to_le_bytes());
        self.len = start + written;
    }

    /// How many records did not fit.
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// Hands every held record to `f`, oldest first, and empties the backlog.
    pub fn drain(&mut self, mut f: impl FnMut(Level, &str)) {
        let mut at = 0;
        while at < self.len {
            let level = level_from_byte(self.bytes[at]);
            let length = usize::from(u16::from_le_bytes([self.bytes[at + 1], self.bytes[at + 2]]));
            let text = &self.bytes[at + RECORD_HEADER..at + RECORD_HEADER + length];
            // Only whole `str`s were copied in, so this never fails.
            f(level, core::str::from_utf8(text).unwrap_or(""));
            at += RECORD_HEADER + length;
        }
        self.len = 0;
        self.dropped = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drains into a list of (level, text).
    fn drained<const N: usize>(backlog: &mut Backlog<N>) -> Vec<(Level, String)> {
        let mut out = Vec::new();
        backlog.drain(|level, text| out.push((level, text.to_string())));
        out
    }

    #[test]
    fn records_come_back_in_order_with_their_levels() {
        let mut backlog = Backlog::<256>::new();
        for (level, n) in [
            (Level::Debug, 1),
            (Level::Warn, 2),
            (Level::Trace, 3),
            (Level::Error, 4),
        ] {
            backlog.push(level, format_args!("record {n}"));
        }
        backlog.push(Level::Info, format_args!(""));
        assert_eq!(
            drained(&mut backlog),
            [
                (Level::Debug, "record 1".to_string()),
                (Level::Warn, "record 2".to_string()),
                (Level::Trace, "record 3".to_string()),
                (Level::Error, "record 4".to_string()),
                (Level::Info, String::new()),
            ]
        );
        assert_eq!(backlog.dropped(), 0);
        assert!(drained(&mut backlog).is_empty(), "drain empties it");
    }

    #[test]
    fn records_that_do_not_fit_are_counted_and_later_small_ones_still_kept() {
        let mut backlog = Backlog::<32>::new();
        backlog.push(Level::Info, format_args!("{}", "a".repeat(20)));
        backlog.push(Level::Info, format_args!("{}", "b".repeat(20)));
        backlog.push(Level::Info, format_args!("c"));
        backlog.push(Level::Info, format_args!("{}", "d".repeat(10)));
        assert_eq!(backlog.dropped(), 2);
        let texts: Vec<String> = drained(&mut backlog).into_iter().map(|(_, t)| t).collect();
        assert_eq!(texts, ["a".repeat(20), "c".to_string()]);
        assert_eq!(backlog.dropped(), 0);
    }

    #[test]
    fn exactly_full_is_fine_and_one_more_byte_is_not() {
        let mut backlog = Backlog::<{ RECORD_HEADER + 5 }>::new();
        backlog.push(Level::Warn, format_args!("12345"));
        backlog.push(Level::Warn, format_args!(""));
        assert_eq!(backlog.dropped(), 1);
        assert_eq!(drained(&mut backlog), [(Level::Warn, "12345".to_string())]);
        let mut small = Backlog::<{ RECORD_HEADER + 4 }>::new();
        small.push(Level::Warn, format_args!("12345"));
        assert_eq!(small.dropped(), 1);
        assert!(drained(&mut small).is_empty());
    }
}

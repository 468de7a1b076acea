//! The shell's history: the lines entered, newest first, for Up and Down in
//! the line editor, in at most [`CAPACITY`] bytes.
//!
//! The lines sit one after another in one buffer, oldest first, each
//! followed by its length in [`LENGTH_BYTES`] bytes (so the newest is found
//! from the end); a line costs its length plus those bytes. When a new line
//! does not fit, the oldest lines are forgotten until it does. The buffer
//! is allocated once, whole, and never grows. An empty line, or one equal
//! to the newest, is not stored again; a line longer than [`MAX_LINE`] is
//! cut to it.
//!
//! Pure logic: no hardware, tested on the host.

#![forbid(unsafe_code)]

use alloc::vec::Vec;

use super::MAX_LINE;

/// Bytes the history holds, lines and their lengths together.
pub const CAPACITY: usize = 16 * 1024;

/// Bytes that store a line's length after it (little-endian).
pub const LENGTH_BYTES: usize = 2;

const _: () = assert!(MAX_LINE < 1 << (8 * LENGTH_BYTES), "a length fits");
const _: () = assert!(MAX_LINE + LENGTH_BYTES <= CAPACITY, "the longest line fits");

/// The lines entered.
pub struct History {
    /// The lines, oldest first, each followed by its length.
    bytes: Vec<u8>,
    /// Lines held.
    lines: usize,
}

impl Default for History {
    fn default() -> History {
        History::new()
    }
}

impl History {
    /// An empty history, its buffer allocated.
    pub fn new() -> History {
        History {
            bytes: Vec::with_capacity(CAPACITY),
            lines: 0,
        }
    }

    /// Lines held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lines
    }

    /// Bytes used, lines and lengths.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes.len()
    }

    /// Stores `line` as the newest (cut to [`MAX_LINE`] bytes), unless it
    /// is empty or the same as the newest; forgets the oldest lines until
    /// it fits.
    pub fn push(&mut self, line: &[u8]) {
        let line = &line[..line.len().min(MAX_LINE)];
        if line.is_empty() || self.get(0) == Some(line) {
            return;
        }
        let needed = line.len() + LENGTH_BYTES;
        let mut freed = 0;
        while self.bytes.len() - freed + needed > CAPACITY {
            freed += self.first_record_after(freed);
            self.lines -= 1;
        }
        self.bytes.drain(..freed);
        self.bytes.extend_from_slice(line);
        let length = line.len() as u16;
        self.bytes.extend_from_slice(&length.to_le_bytes());
        self.lines += 1;
    }

    /// The line `age` entries back: 0 the newest; `None` past the oldest.
    pub fn get(&self, age: usize) -> Option<&[u8]> {
        if age >= self.lines {
            return None;
        }
        let mut end = self.bytes.len();
        for _ in 0..age {
            end -= self.length_before(end) + LENGTH_BYTES;
        }
        let length = self.length_before(end);
        let start = end - LENGTH_BYTES - length;
        Some(&self.bytes[start..start + length])
    }

    /// The length stored just before byte `end` (a record's end).
    fn length_before(&self, end: usize) -> usize {
        let low = self.bytes[end - LENGTH_BYTES];
        let high = self.bytes[end - 1];
        usize::from(u16::from_le_bytes([low, high]))
    }

    /// The size of the oldest record not yet counted in `freed`: found by
    /// walking back from the newest (pushes are rare, and the history
    /// small, so a walk costs nothing that matters).
    fn first_record_after(&self, freed: usize) -> usize {
        let mut end = self.bytes.len();
        let mut size = 0;
        while end > freed {
            size = self.length_before(end) + LENGTH_BYTES;
            end -= size;
        }
        size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_first_and_the_oldest_forgotten_by_bytes() {
        let mut history = History::new();
        assert_eq!(history.get(0), None);
        // "line NNNN" is 9 bytes, 11 with its length.
        let count = CAPACITY / 11 + 5;
        for i in 0..count {
            history.push(format!("line {i:04}").as_bytes());
        }
        let kept = CAPACITY / 11;
        assert_eq!(history.len(), kept);
        assert!(history.bytes() <= CAPACITY);
        assert_eq!(
            history.get(0),
            Some(format!("line {:04}", count - 1).as_bytes())
        );
        assert_eq!(
            history.get(kept - 1),
            Some(format!("line {:04}", count - kept).as_bytes())
        );
        assert_eq!(history.get(kept), None);
    }

    #[test]
    fn long_lines_are_kept_whole_and_push_out_as_many_old_ones_as_needed() {
        let mut history = History::new();
        for i in 0..10 {
            history.push(format!("short {i}").as_bytes());
        }
        let long = |c: u8| vec![c; MAX_LINE];
        for c in b'a'..=b'd' {
            history.push(&long(c));
        }
        // Four lines of 4,095 and their lengths fill 16,388 of 16,384
        // bytes: the first long one and every short one went.
        assert_eq!(history.len(), 3);
        assert_eq!(history.get(0), Some(&long(b'd')[..]));
        assert_eq!(history.get(2), Some(&long(b'b')[..]));
        history.push(b"help");
        assert_eq!(history.len(), 4);
        assert_eq!(history.get(3), Some(&long(b'b')[..]));
        assert!(history.bytes() <= CAPACITY);
    }

    #[test]
    fn empty_lines_and_repeats_are_not_stored() {
        let mut history = History::new();
        history.push(b"help");
        history.push(b"help");
        history.push(b"");
        history.push(b"uptime");
        history.push(b"help");
        assert_eq!(history.len(), 3);
        assert_eq!(history.get(0), Some(&b"help"[..]));
        assert_eq!(history.get(1), Some(&b"uptime"[..]));
    }

    #[test]
    fn a_longer_line_is_cut_to_the_limit() {
        let mut history = History::new();
        history.push(&vec![b'a'; MAX_LINE + 10]);
        assert_eq!(history.get(0).map(<[u8]>::len), Some(MAX_LINE));
    }
}

//! The shell's history: the last [`CAPACITY`] lines entered, newest first,
//! for Up and Down in the line editor.
//!
//! Fixed-size storage (no heap): a ring of [`CAPACITY`] lines of at most
//! [`MAX_LINE`] bytes each. An empty line, or one equal to the newest, is
//! not stored again.
//!
//! Pure logic: no hardware, tested on the host.

#![forbid(unsafe_code)]

use super::MAX_LINE;

/// Lines kept; the oldest is forgotten when one more arrives.
pub const CAPACITY: usize = 64;

/// The last lines entered.
pub struct History {
    /// The lines, a ring: the newest at `(next + CAPACITY - 1) % CAPACITY`.
    lines: [[u8; MAX_LINE]; CAPACITY],
    /// Each line's length.
    lengths: [usize; CAPACITY],
    /// The slot the next line goes to.
    next: usize,
    /// Lines held (at most `CAPACITY`).
    len: usize,
}

impl History {
    /// An empty history.
    pub const fn new() -> History {
        History {
            lines: [[0; MAX_LINE]; CAPACITY],
            lengths: [0; CAPACITY],
            next: 0,
            len: 0,
        }
    }

    /// Lines held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Stores `line` as the newest (cut to [`MAX_LINE`] bytes), unless it
    /// is empty or the same as the newest.
    pub fn push(&mut self, line: &[u8]) {
        let line = &line[..line.len().min(MAX_LINE)];
        if line.is_empty() || self.get(0) == Some(line) {
            return;
        }
        self.lines[self.next][..line.len()].copy_from_slice(line);
        self.lengths[self.next] = line.len();
        self.next = (self.next + 1) % CAPACITY;
        self.len = (self.len + 1).min(CAPACITY);
    }

    /// The line `age` entries back: 0 the newest; `None` past the oldest.
    pub fn get(&self, age: usize) -> Option<&[u8]> {
        if age >= self.len {
            return None;
        }
        let slot = (self.next + CAPACITY - 1 - age) % CAPACITY;
        Some(&self.lines[slot][..self.lengths[slot]])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_first_and_the_oldest_forgotten() {
        let mut history = History::new();
        assert_eq!(history.get(0), None);
        for i in 0..CAPACITY + 5 {
            history.push(format!("line {i}").as_bytes());
        }
        assert_eq!(history.len(), CAPACITY);
        assert_eq!(
            history.get(0),
            Some(format!("line {}", CAPACITY + 4).as_bytes())
        );
        assert_eq!(history.get(CAPACITY - 1), Some("line 5".as_bytes()));
        assert_eq!(history.get(CAPACITY), None);
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
        history.push(&[b'a'; MAX_LINE + 10]);
        assert_eq!(history.get(0).map(<[u8]>::len), Some(MAX_LINE));
    }
}

//! What the host tests of both screen back ends share: a plain reference
//! screen that scrolls by copying every row (the obvious implementation of
//! the grid's rules, as an oracle), and random input for it.

use crate::console::color::ColorCode;
use crate::test_rng::Rng;

/// The obvious implementation of the grid's rules.
pub struct Plain {
    pub cells: Vec<Vec<u16>>,
    pub row: usize,
    pub column: usize,
    pub color: ColorCode,
    width: usize,
}

impl Plain {
    pub fn new(width: usize, height: usize) -> Plain {
        Plain {
            cells: vec![vec![0x0720; width]; height],
            row: 0,
            column: 0,
            color: ColorCode::DEFAULT,
            width,
        }
    }

    fn blank(&self) -> u16 {
        u16::from(self.color.0) << 8 | u16::from(b' ')
    }

    fn line_feed(&mut self) {
        self.column = 0;
        let height = self.cells.len();
        if self.row == height - 1 {
            for r in 1..height {
                self.cells[r - 1] = self.cells[r].clone();
            }
            self.cells[height - 1] = vec![self.blank(); self.width];
        } else {
            self.row += 1;
        }
    }

    pub fn byte(&mut self, b: u8) {
        if b == b'\n' {
            return self.line_feed();
        }
        if b == b'\r' {
            self.column = 0;
            return;
        }
        if b == 0x08 {
            if self.column > 0 {
                self.column -= 1;
            }
            return;
        }
        if self.column == self.width {
            self.line_feed();
        }
        if b == b'\t' {
            self.column = (self.column + 8 - self.column % 8).min(self.width);
            return;
        }
        let shown = if matches!(b, 0x20..=0x7e) { b } else { 0xfe };
        self.cells[self.row][self.column] = u16::from(self.color.0) << 8 | u16::from(shown);
        self.column += 1;
    }

    pub fn clear(&mut self) {
        let height = self.cells.len();
        self.cells = vec![vec![self.blank(); self.width]; height];
        self.row = 0;
        self.column = 0;
    }

    /// The cell the cursor shows on (the last one of a full line).
    pub fn cursor_cell(&self) -> (usize, usize) {
        (self.row, self.column.min(self.width - 1))
    }

    /// Applies `action` (a flush changes nothing here).
    pub fn apply(&mut self, action: &Action) {
        match action {
            Action::Text(text) => {
                for c in text.chars() {
                    self.byte(if c.is_ascii() { c as u8 } else { 0xfe });
                }
            }
            Action::Byte(b) => self.byte(*b),
            Action::Color(color) => self.color = *color,
            Action::Clear => self.clear(),
            Action::Flush => {}
        }
    }
}

/// One step of random input.
pub enum Action {
    /// Through `write_str` (its fast path for printable runs).
    Text(String),
    /// Through `write_byte`.
    Byte(u8),
    Color(ColorCode),
    Clear,
    Flush,
}

/// A random step: mostly text and newlines, some of every control byte,
/// random bytes, non-ASCII chars, colour changes, clears, and flushes at
/// random points.
pub fn random_action(rng: &mut Rng) -> Action {
    match rng.below(100) {
        0..=49 => {
            let len = rng.below(200);
            Action::Text(
                (0..len)
                    .map(|_| match rng.below(40) {
                        0 => '\n',
                        1 => '\t',
                        2 => '\r',
                        3 => '\x08',
                        _ => char::from(0x20 + rng.below(0x5f) as u8),
                    })
                    .collect(),
            )
        }
        50..=69 => Action::Byte(b'\n'),
        70..=79 => Action::Byte([b'\r', b'\t', 0x08, 0x00, 0x7f][rng.below(5)]),
        80..=84 => Action::Byte(rng.next() as u8),
        85..=87 => Action::Text(["é", "→x", "日本", "\u{1f600}\n"][rng.below(4)].to_string()),
        88..=92 => Action::Color(ColorCode(rng.next() as u8 & 0x7f)),
        93 => Action::Clear,
        _ => Action::Flush,
    }
}

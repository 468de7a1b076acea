//! What the host tests of both screen back ends share: a plain reference
//! screen that scrolls by copying every row and keeps its scrollback as a
//! list of lines (the obvious implementation of the grid's rules, as an
//! oracle), and random input for it.

use crate::console::color::ColorCode;
use crate::console::edit::Edit;
use crate::console::grid::{SCROLLBACK, Scroll, TextScreen};
use crate::test_rng::Rng;

/// The obvious implementation of the grid's rules.
pub struct Plain {
    pub cells: Vec<Vec<u16>>,
    pub row: usize,
    pub column: usize,
    pub color: ColorCode,
    width: usize,
    /// Lines that scrolled off the top, oldest first (at most SCROLLBACK).
    pub history: Vec<Vec<u16>>,
    /// How far the view is moved back.
    pub back: usize,
}

impl Plain {
    pub fn new(width: usize, height: usize) -> Plain {
        Plain {
            cells: vec![vec![0x0720; width]; height],
            row: 0,
            column: 0,
            color: ColorCode::DEFAULT,
            width,
            history: vec![],
            back: 0,
        }
    }

    /// The rows the view shows.
    pub fn view(&self) -> Vec<Vec<u16>> {
        let all: Vec<Vec<u16>> = self.history.iter().chain(&self.cells).cloned().collect();
        let end = all.len() - self.back;
        all[end - self.cells.len()..end].to_vec()
    }

    /// The visible cell the cursor shows on, if the view shows its row.
    pub fn visible_cursor(&self) -> Option<(usize, usize)> {
        let (row, column) = self.cursor_cell();
        (row + self.back < self.cells.len()).then_some((row + self.back, column))
    }

    /// Scrolls up one line into the history.
    fn scroll(&mut self) {
        let top = self.cells.remove(0);
        self.history.push(top);
        if self.history.len() > SCROLLBACK {
            self.history.remove(0);
        }
        self.cells.push(vec![self.blank(); self.width]);
    }

    fn blank(&self) -> u16 {
        u16::from(self.color.0) << 8 | u16::from(b' ')
    }

    fn line_feed(&mut self) {
        self.column = 0;
        let height = self.cells.len();
        if self.row == height - 1 {
            self.scroll();
        } else {
            self.row += 1;
        }
    }

    pub fn byte(&mut self, b: u8) {
        self.back = 0;
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
        self.history.clear();
        self.back = 0;
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
            Action::Left(count) => {
                self.back = 0;
                if *count > 0 {
                    self.column = self.column.min(self.width - 1).saturating_sub(*count);
                }
            }
            Action::Right(count) => {
                self.back = 0;
                self.column = self.column.max((self.column + count).min(self.width - 1));
            }
            Action::EraseToEnd => {
                self.back = 0;
                let blank = self.blank();
                let from = self.column.min(self.width);
                self.cells[self.row][from..].fill(blank);
            }
            Action::Up(count) => {
                self.back = 0;
                self.column = self.column.min(self.width - 1);
                self.row = self.row.saturating_sub(*count);
            }
            Action::Down(count) => {
                self.back = 0;
                self.column = self.column.min(self.width - 1);
                self.row = (self.row + count).min(self.cells.len() - 1);
            }
            Action::Return => {
                self.back = 0;
                self.column = 0;
            }
            Action::EraseBelow => {
                self.apply(&Action::EraseToEnd);
                let blank = self.blank();
                for row in &mut self.cells[self.row + 1..] {
                    row.fill(blank);
                }
            }
            Action::ClearScreen => {
                self.back = 0;
                for _ in 0..=self.row {
                    self.scroll();
                }
                self.row = 0;
                self.column = 0;
            }
            Action::View(scroll) => {
                let page = (self.cells.len() - 1).max(1);
                self.back = match scroll {
                    Scroll::PageUp => (self.back + page).min(self.history.len()),
                    Scroll::PageDown => self.back.saturating_sub(page),
                };
            }
            Action::Bottom => self.back = 0,
        }
    }
}

/// Applies `action` to a screen back end through the consoles' interface
/// (`Byte` and `Clear` are the back end's own test helpers: the caller's).
pub fn apply_to_screen(screen: &mut dyn TextScreen, action: &Action) {
    match action {
        Action::Text(text) => screen.write_str(text).unwrap(),
        Action::Color(color) => screen.grid_mut().set_color(*color),
        Action::Flush => screen.flush(),
        Action::Left(count) => screen.grid_mut().edit(Edit::Left(*count)),
        Action::Right(count) => screen.grid_mut().edit(Edit::Right(*count)),
        Action::EraseToEnd => screen.grid_mut().erase_to_end_of_line(),
        Action::Up(count) => screen.grid_mut().edit(Edit::Up(*count)),
        Action::Down(count) => screen.grid_mut().edit(Edit::Down(*count)),
        Action::Return => screen.grid_mut().edit(Edit::Return),
        Action::EraseBelow => screen.grid_mut().edit(Edit::EraseBelow),
        Action::ClearScreen => screen.grid_mut().edit(Edit::ClearScreen),
        Action::View(scroll) => screen.grid_mut().scroll_view(*scroll),
        Action::Bottom => screen.grid_mut().view_bottom(),
        Action::Byte(_) | Action::Clear => unreachable!("the back end's own helpers"),
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
    /// The line editor's API.
    Left(usize),
    Right(usize),
    EraseToEnd,
    Up(usize),
    Down(usize),
    Return,
    EraseBelow,
    ClearScreen,
    /// The scrollback.
    View(Scroll),
    Bottom,
}

/// A random step: mostly text and newlines, some of every control byte,
/// random bytes, non-ASCII chars, colour changes, clears, and flushes at
/// random points; the line editor's moves and erases, and runs of pages
/// through the scrollback.
pub fn random_action(rng: &mut Rng) -> Action {
    match rng.below(133) {
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
        94..=99 => Action::Flush,
        100..=103 => Action::Left(rng.below(100)),
        104..=107 => Action::Right(rng.below(100)),
        108..=109 => Action::EraseToEnd,
        110 => Action::ClearScreen,
        111..=119 => Action::View(Scroll::PageUp),
        120..=122 => Action::View(Scroll::PageDown),
        123 => Action::Bottom,
        124 | 125 => Action::Up(rng.below(30)),
        126 | 127 => Action::Down(rng.below(30)),
        128 | 129 => Action::Return,
        130 => Action::EraseBelow,
        _ => Action::Bottom,
    }
}

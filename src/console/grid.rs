//! The text grid every screen back end shares: what a person should see,
//! as cells, and the rules that turn bytes into cells.
//!
//! The grid is `width` x `height` cells (80x25 on the VGA text screen, as
//! many as fit on a framebuffer). Printable ASCII (0x20..=0x7e) shows as is;
//! `\n` starts a new line, `\r` returns to column 0, `\t` moves to the next
//! multiple of 8, backspace moves back one cell (never onto the previous
//! line); every other byte, and every char that is not ASCII, shows as ■
//! (0xfe in code page 437). A line wraps when a character comes after its
//! last cell (so a full line then `\n` gives one line, not a blank one after
//! it). Below the last line the grid scrolls up and the new last line is
//! blank. A cell is a VGA text cell ([`super::color`]): the character in the
//! low byte, its colours in the high byte.
//!
//! The grid only keeps cells in RAM: the visible lines as a ring, so that
//! scrolling moves no cells, with a dirty flag per line and a count of
//! scrolls since the back end last looked. How cells reach the hardware is
//! the back end's business: [`super::screen`] (the VGA text memory, scrolled
//! in hardware) and [`super::fbscreen`] (pixels drawn into a framebuffer).
//! Both implement [`TextScreen`], through which the consoles print.
//!
//! Pure logic: no hardware, tested on the host (through both back ends).

#![forbid(unsafe_code)]

use core::fmt;

use super::color::{ColorCode, ScreenChar};

/// Tab stops are at every multiple of this column.
pub const TAB_WIDTH: usize = 8;
/// What every byte that is not printable ASCII shows as: ■ in code page 437.
pub const REPLACEMENT: u8 = 0xfe;
/// Backspace (ASCII BS).
const BACKSPACE: u8 = 0x08;

/// Whether `byte` is printable ASCII, shown as itself.
pub const fn is_printable(byte: u8) -> bool {
    byte >= 0x20 && byte <= 0x7e
}

/// The cells, the cursor and the colours. `C` holds at least `width *
/// height` cells (the ring of lines), `D` at least `height` dirty flags:
/// fixed arrays for the VGA screen, slices of a larger buffer for a
/// framebuffer whose size is known only at boot.
pub struct TextGrid<C, D> {
    /// The visible lines, a ring: visible row `r` is ring slot `(top + r) %
    /// height`, cells `slot * width ..` of this.
    cells: C,
    /// Per ring slot: the line may differ from what the back end shows.
    dirty: D,
    /// Cells per line.
    width: usize,
    /// Lines.
    height: usize,
    /// The ring slot shown as the top row.
    top: usize,
    /// The cursor's row (0..height).
    row: usize,
    /// The cursor's column (0..=width; width means "wrap before the next
    /// character").
    column: usize,
    /// The colours of new characters and blanks.
    color: ColorCode,
    /// Scrolls since the back end last asked ([`TextGrid::take_scrolled`]).
    scrolled: usize,
}

impl<C, D> TextGrid<C, D>
where
    C: AsRef<[u16]> + AsMut<[u16]>,
    D: AsRef<[bool]> + AsMut<[bool]>,
{
    /// A grid of `width` x `height` cells over `cells` and `dirty`, in the
    /// default colours, cursor top left. It assumes nothing about what
    /// `cells` holds: [`TextGrid::clear`] it before use (or pass blanks).
    pub const fn new(cells: C, dirty: D, width: usize, height: usize) -> Self {
        TextGrid {
            cells,
            dirty,
            width,
            height,
            top: 0,
            row: 0,
            column: 0,
            color: ColorCode::DEFAULT,
            scrolled: 0,
        }
    }

    /// Cells per line.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Lines.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Blanks every line in the current colours and puts the cursor top
    /// left.
    pub fn clear(&mut self) {
        let blank = self.blank();
        let cells = self.width * self.height;
        self.cells.as_mut()[..cells].fill(blank);
        self.mark_all_dirty();
        self.row = 0;
        self.column = 0;
    }

    /// The colours of what is written next.
    pub fn color(&self) -> ColorCode {
        self.color
    }

    /// Sets the colours of what is written next (and of blanks that
    /// clearing and scrolling leave).
    pub fn set_color(&mut self, color: ColorCode) {
        self.color = color;
    }

    /// The cursor: (row, column), column `width` meaning the line is full.
    pub fn cursor(&self) -> (usize, usize) {
        (self.row, self.column)
    }

    /// The cell the cursor is shown on: a full line shows it on its last
    /// cell.
    pub fn cursor_cell(&self) -> (usize, usize) {
        (self.row, self.column.min(self.width - 1))
    }

    /// Visible row `row`'s cells.
    pub fn line(&self, row: usize) -> &[u16] {
        let start = self.slot(row) * self.width;
        &self.cells.as_ref()[start..start + self.width]
    }

    /// Whether visible row `row` may have changed since the back end last
    /// took it; clears the flag.
    pub fn take_dirty(&mut self, row: usize) -> bool {
        let slot = self.slot(row);
        core::mem::replace(&mut self.dirty.as_mut()[slot], false)
    }

    /// Marks every line as changed (the back end lost track of what it
    /// shows).
    pub fn mark_all_dirty(&mut self) {
        let height = self.height;
        self.dirty.as_mut()[..height].fill(true);
    }

    /// Whether the grid scrolled since the last [`TextGrid::take_scrolled`].
    pub fn has_scrolled(&self) -> bool {
        self.scrolled > 0
    }

    /// How many times the grid scrolled since the last call; resets the
    /// count.
    pub fn take_scrolled(&mut self) -> usize {
        core::mem::take(&mut self.scrolled)
    }

    /// Puts the cursor back inside the grid if it is not: for the panic
    /// path, which may find a grid a panic interrupted mid-change.
    pub fn repair(&mut self) {
        self.row = self.row.min(self.height - 1);
        self.column = self.column.min(self.width);
        self.top %= self.height;
        self.mark_all_dirty();
    }

    /// Writes one byte: a character, or a control byte that moves the
    /// cursor (see the module documentation).
    pub fn write_byte(&mut self, byte: u8) {
        match byte {
            b'\n' => self.new_line(),
            b'\r' => self.column = 0,
            b'\t' => {
                self.wrap_if_full();
                self.column = (self.column / TAB_WIDTH + 1) * TAB_WIDTH;
                self.column = self.column.min(self.width);
            }
            BACKSPACE => self.column = self.column.saturating_sub(1),
            byte if is_printable(byte) => self.put(byte),
            _ => self.put(REPLACEMENT),
        }
    }

    /// Blanks the cursor's line from the cursor to its end, in the current
    /// colours (the cursor stays).
    pub fn erase_to_end_of_line(&mut self) {
        let slot = self.slot(self.row);
        let blank = self.blank();
        let start = slot * self.width;
        let column = self.column.min(self.width);
        self.cells.as_mut()[start + column..start + self.width].fill(blank);
        self.dirty.as_mut()[slot] = true;
    }

    /// The ring slot of visible row `row`.
    fn slot(&self, row: usize) -> usize {
        (self.top + row) % self.height
    }

    /// A blank cell in the current colours.
    fn blank(&self) -> u16 {
        ScreenChar::blank(self.color).to_cell()
    }

    /// Puts a character at the cursor and moves it right.
    fn put(&mut self, ascii: u8) {
        self.wrap_if_full();
        let slot = self.slot(self.row);
        self.cells.as_mut()[slot * self.width + self.column] = ScreenChar {
            ascii,
            color: self.color,
        }
        .to_cell();
        self.dirty.as_mut()[slot] = true;
        self.column += 1;
    }

    /// Puts printable ASCII bytes at the cursor, a line's worth at a time.
    fn put_printable(&mut self, mut bytes: &[u8]) {
        let attribute = ScreenChar {
            ascii: 0,
            color: self.color,
        }
        .to_cell();
        while !bytes.is_empty() {
            self.wrap_if_full();
            let count = bytes.len().min(self.width - self.column);
            let slot = self.slot(self.row);
            let start = slot * self.width + self.column;
            let cells = &mut self.cells.as_mut()[start..start + count];
            for (cell, &byte) in cells.iter_mut().zip(&bytes[..count]) {
                *cell = attribute | u16::from(byte);
            }
            self.dirty.as_mut()[slot] = true;
            self.column += count;
            bytes = &bytes[count..];
        }
    }

    /// Starts a new line if the current one is full.
    fn wrap_if_full(&mut self) {
        if self.column >= self.width {
            self.new_line();
        }
    }

    /// Moves to column 0 of the next line, scrolling at the bottom.
    fn new_line(&mut self) {
        self.column = 0;
        if self.row + 1 < self.height {
            self.row += 1;
        } else {
            self.scroll();
        }
    }

    /// Scrolls up one line: the top line leaves the ring and comes back,
    /// blank, as the last line. No other cell moves.
    fn scroll(&mut self) {
        let slot = self.top;
        self.top = (self.top + 1) % self.height;
        let blank = self.blank();
        let start = slot * self.width;
        self.cells.as_mut()[start..start + self.width].fill(blank);
        self.dirty.as_mut()[slot] = true;
        self.scrolled += 1;
    }
}

impl<C, D> fmt::Write for TextGrid<C, D>
where
    C: AsRef<[u16]> + AsMut<[u16]>,
    D: AsRef<[bool]> + AsMut<[bool]>,
{
    /// Writes ASCII chars as bytes and every other char as one ■; runs of
    /// printable ASCII (nearly all text) take a faster path.
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while !rest.is_empty() {
            let printable = rest
                .bytes()
                .position(|b| !is_printable(b))
                .unwrap_or(rest.len());
            self.put_printable(&rest.as_bytes()[..printable]);
            // `printable` indexes an ASCII byte or the first byte of a char.
            rest = &rest[printable..];
            if let Some(c) = rest.chars().next() {
                self.write_byte(if c.is_ascii() { c as u8 } else { REPLACEMENT });
                rest = &rest[c.len_utf8()..];
            }
        }
        Ok(())
    }
}

/// A text screen the consoles print on: a [`TextGrid`] and a back end that
/// shows it. Text goes into the grid; nothing reaches the hardware until
/// [`TextScreen::flush`], so many lines printed in one call cost one update.
pub trait TextScreen: fmt::Write {
    /// The colours of what is written next.
    fn color(&self) -> ColorCode;
    /// Sets the colours of what is written next.
    fn set_color(&mut self, color: ColorCode);
    /// The cursor: (row, column), column = width meaning the line is full.
    fn cursor(&self) -> (usize, usize);
    /// Blanks the rest of the cursor's line in the current colours.
    fn erase_to_end_of_line(&mut self);
    /// Shows what changed since the last flush.
    fn flush(&mut self);

    /// Writes formatted text at the cursor in the current colours.
    fn print(&mut self, args: fmt::Arguments) {
        let _ = self.write_fmt(args);
        self.flush();
    }

    /// Writes formatted text in `color`, then a new line in the colours
    /// that were current before (so the blank line does not take `color`).
    fn print_line_in(&mut self, color: ColorCode, args: fmt::Arguments) {
        let previous = self.color();
        self.set_color(color);
        let _ = self.write_fmt(args);
        self.set_color(previous);
        let _ = self.write_char('\n');
        self.flush();
    }

    /// Writes formatted text as a band in `color`: on a line of its own,
    /// the rest of its last row blanked in `color` too, then a new line.
    /// `color` stays current afterwards (the panic screen uses this).
    fn print_band(&mut self, color: ColorCode, args: fmt::Arguments) {
        self.set_color(color);
        if self.cursor().1 != 0 {
            let _ = self.write_char('\n');
        }
        let _ = self.write_fmt(args);
        self.erase_to_end_of_line();
        let _ = self.write_char('\n');
        self.flush();
    }
}

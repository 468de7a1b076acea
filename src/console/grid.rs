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
//! The grid only keeps cells in RAM: the visible lines and up to `history`
//! lines that scrolled off the top (the scrollback) as one ring, so that
//! scrolling moves no cells, with a dirty flag per line and a count of
//! scrolls since the back end last looked.
//!
//! **Scrollback.** The view can be moved back through the lines that
//! scrolled off ([`TextGrid::scroll_view`], a page at a time: Shift-PgUp and
//! Shift-PgDn in the shell) and returns to the bottom with
//! [`TextGrid::view_bottom`], or by itself with anything written. The back
//! ends show [`TextGrid::line`] and [`TextGrid::visible_cursor`], which
//! follow the view; the writer's cursor stays where it was. A moved view
//! marks every line dirty: a page costs at most one screen of updates.
//!
//! **The line editor's API**, the moves of a VT100 ([`super::edit`]):
//! [`TextGrid::cursor_left`] and [`TextGrid::cursor_right`] move the
//! cursor within its row, [`TextGrid::cursor_up`] and
//! [`TextGrid::cursor_down`] within its column, never past the screen's
//! edges and never scrolling; [`TextGrid::erase_to_end_of_line`] blanks the
//! rest of the row, [`TextGrid::erase_below`] that and every row below;
//! [`TextGrid::clear_screen`] pushes what the screen shows into the
//! scrollback and starts again at the top left; [`TextGrid::edit`] does
//! any [`Edit`]. None of these is a byte: the
//! screen writers keep showing ESC (and any other control byte but `\n`,
//! `\r`, `\t` and backspace) as ■. How cells reach the hardware is
//! the back end's business: [`super::screen`] (the VGA text memory, scrolled
//! in hardware) and [`super::fbscreen`] (pixels drawn into a framebuffer).
//! Both implement [`TextScreen`], through which the consoles print.
//!
//! Pure logic: no hardware, tested on the host (through both back ends).

#![forbid(unsafe_code)]

use core::fmt;

use super::color::{ColorCode, ScreenChar};
use super::edit::Edit;

/// Tab stops are at every multiple of this column.
pub const TAB_WIDTH: usize = 8;
/// What every byte that is not printable ASCII shows as: ■ in code page 437.
pub const REPLACEMENT: u8 = 0xfe;
/// Backspace (ASCII BS).
const BACKSPACE: u8 = 0x08;
/// Lines the screen back ends keep above the visible screen for
/// scrollback (the ring holds this many more than the screen's height).
pub const SCROLLBACK: usize = 200;

/// Which way [`TextGrid::scroll_view`] moves the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scroll {
    /// A page toward older lines (Shift-PgUp).
    PageUp,
    /// A page toward the newest lines (Shift-PgDn).
    PageDown,
}

/// Whether `byte` is printable ASCII, shown as itself.
pub const fn is_printable(byte: u8) -> bool {
    byte >= 0x20 && byte <= 0x7e
}

/// The cells, the cursor and the colours. `C` holds at least `width *
/// (height + history)` cells (the ring of lines), `D` at least `height +
/// history` dirty flags: fixed arrays for the VGA screen, slices of a larger
/// buffer for a framebuffer whose size is known only at boot.
pub struct TextGrid<C, D> {
    /// The lines, a ring of `lines` slots: the cursor's row `r` is ring slot
    /// `(top + r) % lines`, cells `slot * width ..` of this; the `stored`
    /// slots before `top` are the scrollback, oldest first.
    cells: C,
    /// Per ring slot: the line may differ from what the back end shows.
    dirty: D,
    /// Cells per line.
    width: usize,
    /// Lines on the screen.
    height: usize,
    /// Slots in the ring: `height` plus the scrollback's capacity.
    lines: usize,
    /// The ring slot of the screen's top row (with the view at the bottom).
    top: usize,
    /// Lines of scrollback held (at most `lines - height`).
    stored: usize,
    /// How many lines the view is moved back from the bottom (at most
    /// `stored`).
    back: usize,
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
    /// A grid of `width` x `height` cells with room for `history` lines of
    /// scrollback, over `cells` and `dirty`, in the default colours, cursor
    /// top left. It assumes nothing about what `cells` holds:
    /// [`TextGrid::clear`] it before use (or pass blanks).
    pub const fn new(cells: C, dirty: D, (width, height): (usize, usize), history: usize) -> Self {
        TextGrid {
            cells,
            dirty,
            width,
            height,
            lines: height + history,
            top: 0,
            stored: 0,
            back: 0,
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

    /// Blanks every line in the current colours, forgets the scrollback and
    /// puts the cursor top left.
    pub fn clear(&mut self) {
        let blank = self.blank();
        let cells = self.width * self.lines;
        self.cells.as_mut()[..cells].fill(blank);
        self.stored = 0;
        self.back = 0;
        self.mark_all_dirty();
        self.row = 0;
        self.column = 0;
    }

    /// Clears the screen the way a terminal does: the lines down to the
    /// cursor's go into the scrollback (rows below the cursor are always
    /// blank), the screen is blank and the cursor top left.
    pub fn clear_screen(&mut self) {
        self.view_bottom();
        for _ in 0..=self.row {
            self.scroll();
        }
        self.row = 0;
        self.column = 0;
    }

    /// Moves the cursor `count` cells left within its line (not past column
    /// 0). On a full line (the cursor waiting to wrap) it counts from the
    /// last cell, where the cursor is shown.
    pub fn cursor_left(&mut self, count: usize) {
        self.view_bottom();
        if count > 0 {
            self.column = self.column.min(self.width - 1).saturating_sub(count);
        }
    }

    /// Moves the cursor `count` cells right within its line, at most to its
    /// last cell.
    pub fn cursor_right(&mut self, count: usize) {
        self.view_bottom();
        self.column = (self.column + count).min(self.width - 1).max(self.column);
    }

    /// Moves the cursor `count` rows up in its column, not past the top
    /// row. A cursor waiting to wrap moves from its row's last cell.
    pub fn cursor_up(&mut self, count: usize) {
        self.view_bottom();
        self.column = self.column.min(self.width - 1);
        self.row = self.row.saturating_sub(count);
    }

    /// Moves the cursor `count` rows down in its column, not past the
    /// bottom row (it never scrolls).
    pub fn cursor_down(&mut self, count: usize) {
        self.view_bottom();
        self.column = self.column.min(self.width - 1);
        self.row = (self.row + count).min(self.height - 1);
    }

    /// Blanks from the cursor to the end of the screen: the rest of its
    /// row and every row below, in the current colours (the cursor stays).
    pub fn erase_below(&mut self) {
        self.erase_to_end_of_line();
        let blank = self.blank();
        for row in self.row + 1..self.height {
            let start = self.slot(row) * self.width;
            self.cells.as_mut()[start..start + self.width].fill(blank);
            let slot = self.slot(row);
            self.dirty.as_mut()[slot] = true;
        }
    }

    /// Does `edit` as a terminal does its ANSI sequence.
    pub fn edit(&mut self, edit: Edit) {
        match edit {
            Edit::Up(count) => self.cursor_up(count),
            Edit::Down(count) => self.cursor_down(count),
            Edit::Left(count) => self.cursor_left(count),
            Edit::Right(count) => self.cursor_right(count),
            Edit::Return => self.write_byte(b'\r'),
            Edit::EraseBelow => self.erase_below(),
            Edit::ClearScreen => self.clear_screen(),
        }
    }

    /// Moves the view a page (the screen's height less one line, so one
    /// line stays in sight) back through the scrollback or toward the
    /// bottom; never past the oldest line held or below the bottom.
    pub fn scroll_view(&mut self, scroll: Scroll) {
        let page = (self.height - 1).max(1);
        let back = match scroll {
            Scroll::PageUp => (self.back + page).min(self.stored),
            Scroll::PageDown => self.back.saturating_sub(page),
        };
        if back != self.back {
            self.back = back;
            self.mark_all_dirty();
        }
    }

    /// Returns the view to the bottom (the newest lines, where the cursor
    /// is), if it was moved back.
    pub fn view_bottom(&mut self) {
        if self.back != 0 {
            self.back = 0;
            self.mark_all_dirty();
        }
    }

    /// How many lines the view is moved back from the bottom (0: at the
    /// bottom).
    #[cfg(test)]
    pub fn view_back(&self) -> usize {
        self.back
    }

    /// Lines of scrollback held above the screen.
    #[cfg(test)]
    pub fn stored(&self) -> usize {
        self.stored
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

    /// The cell the cursor is on: a full line shows it on its last cell.
    pub fn cursor_cell(&self) -> (usize, usize) {
        (self.row, self.column.min(self.width - 1))
    }

    /// The visible cell the cursor is shown on: [`TextGrid::cursor_cell`]
    /// moved down with the view, `None` when the view is moved back so far
    /// that the cursor's row is below the screen.
    pub fn visible_cursor(&self) -> Option<(usize, usize)> {
        let (row, column) = self.cursor_cell();
        let row = row + self.back;
        (row < self.height).then_some((row, column))
    }

    /// Visible row `row`'s cells, as the view shows them.
    pub fn line(&self, row: usize) -> &[u16] {
        let start = self.view_slot(row) * self.width;
        &self.cells.as_ref()[start..start + self.width]
    }

    /// Whether visible row `row` (as the view shows it) may have changed
    /// since the back end last took it; clears the flag.
    pub fn take_dirty(&mut self, row: usize) -> bool {
        let slot = self.view_slot(row);
        core::mem::replace(&mut self.dirty.as_mut()[slot], false)
    }

    /// Marks every line as changed (the back end lost track of what it
    /// shows, or the view moved).
    pub fn mark_all_dirty(&mut self) {
        let lines = self.lines;
        self.dirty.as_mut()[..lines].fill(true);
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
        self.top %= self.lines;
        self.stored = self.stored.min(self.lines - self.height);
        self.back = 0;
        self.mark_all_dirty();
    }

    /// Writes one byte: a character, or a control byte that moves the
    /// cursor (see the module documentation).
    pub fn write_byte(&mut self, byte: u8) {
        self.view_bottom();
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
        self.view_bottom();
        let slot = self.slot(self.row);
        let blank = self.blank();
        let start = slot * self.width;
        let column = self.column.min(self.width);
        self.cells.as_mut()[start + column..start + self.width].fill(blank);
        self.dirty.as_mut()[slot] = true;
    }

    /// The ring slot of the cursor's screen row `row` (the view ignored).
    fn slot(&self, row: usize) -> usize {
        (self.top + row) % self.lines
    }

    /// The ring slot the view shows as visible row `row`.
    fn view_slot(&self, row: usize) -> usize {
        (self.top + self.lines - self.back + row) % self.lines
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

    /// Scrolls up one line: the top line becomes the newest line of the
    /// scrollback, and the slot after the screen (a free one, or once the
    /// scrollback is full its oldest line) comes back, blank, as the last
    /// line. No other cell moves.
    fn scroll(&mut self) {
        let slot = (self.top + self.height) % self.lines;
        self.top = (self.top + 1) % self.lines;
        self.stored = (self.stored + 1).min(self.lines - self.height);
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
        self.view_bottom();
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

/// What a screen's users ask of its grid besides writing to it: colours,
/// the cursor, the line editor's moves and the scrollback view. The grid
/// does it all; a back end only hands out its grid
/// ([`TextScreen::grid`]), so both back ends share one implementation.
pub trait GridControl {
    /// The colours of what is written next.
    fn color(&self) -> ColorCode;
    /// Sets the colours of what is written next.
    fn set_color(&mut self, color: ColorCode);
    /// The cursor: (row, column), column = width meaning the line is full.
    fn cursor(&self) -> (usize, usize);
    /// Columns per row.
    fn width(&self) -> usize;
    /// Blanks the rest of the cursor's line in the current colours.
    fn erase_to_end_of_line(&mut self);
    /// Does one of the line editor's moves or erases (cursor up, down,
    /// left, right, to the first column; erase below; clear the screen).
    fn edit(&mut self, edit: Edit);
    /// Moves the view a page through the scrollback.
    fn scroll_view(&mut self, scroll: Scroll);
    /// Returns the view to the newest lines.
    fn view_bottom(&mut self);
}

impl<C, D> GridControl for TextGrid<C, D>
where
    C: AsRef<[u16]> + AsMut<[u16]>,
    D: AsRef<[bool]> + AsMut<[bool]>,
{
    fn color(&self) -> ColorCode {
        TextGrid::color(self)
    }
    fn set_color(&mut self, color: ColorCode) {
        TextGrid::set_color(self, color);
    }
    fn width(&self) -> usize {
        TextGrid::width(self)
    }
    fn cursor(&self) -> (usize, usize) {
        TextGrid::cursor(self)
    }
    fn erase_to_end_of_line(&mut self) {
        TextGrid::erase_to_end_of_line(self);
    }
    fn edit(&mut self, edit: Edit) {
        TextGrid::edit(self, edit);
    }
    fn scroll_view(&mut self, scroll: Scroll) {
        TextGrid::scroll_view(self, scroll);
    }
    fn view_bottom(&mut self) {
        TextGrid::view_bottom(self);
    }
}

/// A text screen the consoles print on: a [`TextGrid`] and a back end that
/// shows it. Text goes into the grid; nothing reaches the hardware until
/// [`TextScreen::flush`], so many lines printed in one call cost one update.
/// Everything else is the grid's ([`GridControl`], through
/// [`TextScreen::grid`] and [`TextScreen::grid_mut`]).
pub trait TextScreen: fmt::Write {
    /// The grid, to read.
    fn grid(&self) -> &dyn GridControl;
    /// The grid, to change.
    fn grid_mut(&mut self) -> &mut dyn GridControl;
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
        let previous = self.grid().color();
        self.grid_mut().set_color(color);
        let _ = self.write_fmt(args);
        self.grid_mut().set_color(previous);
        let _ = self.write_char('\n');
        self.flush();
    }

    /// Writes formatted text as a band in `color`: on a line of its own,
    /// the rest of its last row blanked in `color` too, then a new line.
    /// `color` stays current afterwards (the panic screen uses this).
    fn print_band(&mut self, color: ColorCode, args: fmt::Arguments) {
        band(self, color, |screen| {
            let _ = screen.write_fmt(args);
        });
    }

    /// [`TextScreen::print_band`] cut to one row: what does not fit (or
    /// follows a line break) is dropped, and [`CUT_MARK`] shows where. The
    /// panic screen's backtrace frames: whole, their long names would push
    /// the headline off the screen (serial shows them whole).
    fn print_band_row(&mut self, color: ColorCode, args: fmt::Arguments) {
        band(self, color, |screen| {
            let width = screen.grid().width();
            let mut row = OneRow {
                screen: &mut *screen,
                room: width,
                last: None,
                cut: false,
            };
            let _ = fmt::Write::write_fmt(&mut row, args);
            let end = if row.cut { Some(CUT_MARK) } else { row.last };
            if let Some(c) = end {
                let _ = screen.write_char(c);
            }
        });
    }
}

/// A band in `color` around what `write` writes: a line of its own, the
/// rest of its last row blanked in `color`, then a new line and a flush.
fn band<S: TextScreen + ?Sized>(screen: &mut S, color: ColorCode, write: impl FnOnce(&mut S)) {
    screen.grid_mut().set_color(color);
    if screen.grid().cursor().1 != 0 {
        let _ = screen.write_char('\n');
    }
    write(screen);
    screen.grid_mut().erase_to_end_of_line();
    let _ = screen.write_char('\n');
    screen.flush();
}

/// Marks a row cut short by [`TextScreen::print_band_row`].
pub const CUT_MARK: char = '>';

/// Passes on text until a row is full, then drops the rest. The row's
/// last character is held back: the mark takes its cell if more follows.
struct OneRow<'a, S: ?Sized> {
    /// Where the text goes.
    screen: &'a mut S,
    /// Cells left in the row.
    room: usize,
    /// The character for the row's last cell, held back.
    last: Option<char>,
    /// Whether text was dropped.
    cut: bool,
}

impl<S: TextScreen + ?Sized> fmt::Write for OneRow<'_, S> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for c in text.chars() {
            if self.cut || c == '\n' || self.last.is_some() {
                self.cut = true;
                return Ok(());
            }
            if self.room > 1 {
                self.room -= 1;
                self.screen.write_char(c)?;
            } else {
                self.last = Some(c);
            }
        }
        Ok(())
    }
}

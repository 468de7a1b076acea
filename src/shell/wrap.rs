//! The line editor on one console of a known width: offsets in the edited
//! area turned into rows and columns, and the moves between them.
//!
//! The editor ([`super::line`]) thinks of what it draws as one run of
//! cells, the prompt then the line, starting in the first column of a row
//! and wrapping at the console's edge: offset `n` is row `n / width`,
//! column `n % width` of the area. [`Wrapped`] keeps the width of one
//! console and does the editor's [`Terminal`] calls there with that
//! console's [`Edit`] moves. The kernel has two of them, one per console,
//! each with its own width (the screen's columns, `serial.cols=` for
//! serial), so both draw right even when the widths differ.
//!
//! One rule makes every move exact: the cursor is never left waiting to
//! wrap. A terminal that prints in a row's last column keeps the cursor on
//! that cell until the next character, and what a move or an erase does
//! from there differs between terminals. So a print that ends at the end
//! of a row is followed by a space and a carriage return (as GNU readline
//! does): the space wraps onto the next row's first cell, which lies past
//! the line's end (nothing the editor drew is ever after what it prints),
//! and CR brings the cursor back onto that cell, where its offset says.
//! Unlike a line break, that keeps the row wrapped for the terminal: a
//! long line reads (and copies) as one line. From there, moves are
//! relative and never cross the screen's edges: [`Edit::Up`]/[`Edit::Down`]
//! for the rows, then [`Edit::Return`], [`Edit::Left`] or [`Edit::Right`]
//! within the row.
//!
//! A line taller than the screen has rows that scrolled off its top; the
//! cursor cannot go back up to them (terminals stop at the top row).
//!
//! Pure logic: no hardware, tested on the host (with the line editor).

#![forbid(unsafe_code)]

use super::line::Terminal;
use crate::console::edit::Edit;

/// Printed after a row filled up, to wrap onto the next (then CR).
const WRAP: &str = " ";

/// One console, as [`Wrapped`] drives it.
pub trait Console {
    /// Prints `text` (printable ASCII and `\n`) at the cursor.
    fn print(&mut self, text: &str);
    /// Moves the cursor or erases.
    fn edit(&mut self, edit: Edit);
}

/// A console `width` columns wide as the line editor's terminal.
pub struct Wrapped<C> {
    /// The console.
    pub console: C,
    /// Its columns (at least 1).
    width: usize,
}

impl<C: Console> Wrapped<C> {
    /// `console`, `width` columns wide (0 is taken as 1).
    pub fn new(console: C, width: usize) -> Wrapped<C> {
        Wrapped {
            console,
            width: width.max(1),
        }
    }

    /// The columns.
    #[cfg(test)]
    pub fn width(&self) -> usize {
        self.width
    }

    /// Offset `at` as (row, column) of the area.
    fn place(&self, at: usize) -> (usize, usize) {
        (at / self.width, at % self.width)
    }
}

impl<C: Console> Terminal for Wrapped<C> {
    fn print(&mut self, at: usize, text: &str) {
        if text.is_empty() {
            return;
        }
        self.console.print(text);
        if (at + text.len()).is_multiple_of(self.width) {
            // At a row's end: on to the next row, not waiting to wrap.
            self.console.print(WRAP);
            self.console.edit(Edit::Return);
        }
    }

    fn move_to(&mut self, from: usize, to: usize) {
        let (from_row, from_column) = self.place(from);
        let (to_row, to_column) = self.place(to);
        if to_row < from_row {
            self.console.edit(Edit::Up(from_row - to_row));
        } else if to_row > from_row {
            self.console.edit(Edit::Down(to_row - from_row));
        }
        if to_column == 0 && from_column != 0 {
            self.console.edit(Edit::Return);
        } else if to_column < from_column {
            self.console.edit(Edit::Left(from_column - to_column));
        } else if to_column > from_column {
            self.console.edit(Edit::Right(to_column - from_column));
        }
    }

    fn erase_to_end(&mut self) {
        self.console.edit(Edit::EraseBelow);
    }

    fn new_line(&mut self, at: usize) {
        // At a row's start the print before already wrapped onto a new row
        // (blank but for the space that wrapped it).
        if at == 0 || !at.is_multiple_of(self.width) {
            self.console.print("\n");
        }
    }

    fn clear_screen(&mut self) {
        self.console.edit(Edit::ClearScreen);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a console was asked to do, as text: prints as themselves,
    /// edits as their ANSI sequences.
    #[derive(Default)]
    struct Log(String);

    impl Console for Log {
        fn print(&mut self, text: &str) {
            self.0.push_str(text);
        }
        fn edit(&mut self, edit: Edit) {
            self.0.push_str(&edit.to_string());
        }
    }

    fn wrapped(width: usize) -> Wrapped<Log> {
        Wrapped::new(Log::default(), width)
    }

    #[test]
    fn a_print_that_ends_a_row_moves_on_to_the_next() {
        let mut t = wrapped(20);
        t.print(0, "kestrel> ");
        t.print(9, "abcdefghijk");
        assert_eq!(t.console.0, "kestrel> abcdefghijk \r");
        let mut t = wrapped(20);
        t.print(9, "abc");
        t.print(12, "");
        assert_eq!(t.console.0, "abc", "only at a row's end");
    }

    #[test]
    fn moves_go_by_rows_then_within_the_row() {
        let mut t = wrapped(20);
        t.move_to(45, 3);
        assert_eq!(t.console.0, "\x1b[2A\x1b[2D");
        let mut t = wrapped(20);
        t.move_to(3, 59);
        assert_eq!(t.console.0, "\x1b[2B\x1b[16C");
        let mut t = wrapped(20);
        t.move_to(41, 20);
        assert_eq!(t.console.0, "\x1b[A\r", "the first column by CR");
        let mut t = wrapped(20);
        t.move_to(7, 7);
        t.move_to(20, 40);
        assert_eq!(t.console.0, "\x1b[B", "no column move when none is needed");
    }

    #[test]
    fn a_new_line_only_where_the_cursor_is_not_on_a_fresh_row() {
        let mut t = wrapped(20);
        t.new_line(13);
        t.new_line(40);
        t.new_line(0);
        assert_eq!(t.console.0, "\n\n");
    }

    #[test]
    fn a_width_of_zero_is_one_column() {
        let mut t = wrapped(0);
        assert_eq!(t.width(), 1);
        t.move_to(3, 1);
        assert_eq!(t.console.0, "\x1b[2A");
    }
}

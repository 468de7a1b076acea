//! The line editor's moves on a console: the few cursor moves and erases
//! it needs, as one type both consoles understand. The screens apply an
//! [`Edit`] to their grid ([`super::grid::TextGrid::edit`]); serial sends
//! the matching ANSI/VT100 control sequence, which is what `Edit`'s
//! `Display` writes.
//!
//! The moves are those a VT100 (and xterm, and every terminal emulator
//! since) does the same way: up and down (CUU, CUD) and left and right
//! (CUB, CUF) stop at the screen's edges and never wrap or scroll; a
//! carriage return goes to the row's first column; erasing below (ED 0)
//! blanks from the cursor to the end of the screen. None of them is meant
//! from a cursor waiting to wrap (after a character in a row's last
//! column): the line editor never leaves one there.
//!
//! Pure logic: no hardware, tested on the host.

#![forbid(unsafe_code)]

use core::fmt;

/// One cursor move or erase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// `n` rows up, not past the top row (CUU, `ESC[nA`).
    Up(usize),
    /// `n` rows down, not past the bottom row (CUD, `ESC[nB`).
    Down(usize),
    /// `n` columns left, not past the first (CUB, `ESC[nD`).
    Left(usize),
    /// `n` columns right, not past the last (CUF, `ESC[nC`).
    Right(usize),
    /// To the first column of the row (CR).
    Return,
    /// Blank from the cursor to the end of the screen: the rest of its row
    /// and every row below (ED 0, `ESC[J`).
    EraseBelow,
    /// Clear the screen, cursor top left (`ESC[2J ESC[H`).
    ClearScreen,
}

/// The Control Sequence Introducer: ESC `[`.
const CSI: &str = "\x1b[";

impl fmt::Display for Edit {
    /// The ANSI sequence; nothing for a move of 0, which terminals would
    /// read as a move of 1.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (count, final_byte) = match *self {
            Edit::Up(count) => (count, 'A'),
            Edit::Down(count) => (count, 'B'),
            Edit::Right(count) => (count, 'C'),
            Edit::Left(count) => (count, 'D'),
            Edit::Return => return f.write_str("\r"),
            Edit::EraseBelow => return write!(f, "{CSI}J"),
            Edit::ClearScreen => return write!(f, "{CSI}2J{CSI}H"),
        };
        match count {
            0 => Ok(()),
            1 => write!(f, "{CSI}{final_byte}"),
            _ => write!(f, "{CSI}{count}{final_byte}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_edit_is_its_ansi_sequence() {
        let ansi = |edit: Edit| edit.to_string();
        assert_eq!(ansi(Edit::Up(3)), "\x1b[3A");
        assert_eq!(ansi(Edit::Down(1)), "\x1b[B");
        assert_eq!(ansi(Edit::Right(12)), "\x1b[12C");
        assert_eq!(ansi(Edit::Left(1)), "\x1b[D");
        assert_eq!(ansi(Edit::Return), "\r");
        assert_eq!(ansi(Edit::EraseBelow), "\x1b[J");
        assert_eq!(ansi(Edit::ClearScreen), "\x1b[2J\x1b[H");
    }

    #[test]
    fn a_move_of_zero_sends_nothing() {
        for edit in [Edit::Up(0), Edit::Down(0), Edit::Left(0), Edit::Right(0)] {
            assert_eq!(edit.to_string(), "");
        }
    }
}

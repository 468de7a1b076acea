//! The benchmark's reference writer: the simplest VGA writer there is, to
//! measure the shipped one against. Not used for output.
//!
//! It writes each character straight into the first 80x25 cells at 0xb8000
//! and scrolls by reading every cell of rows 1-24 back from the text memory
//! and writing it one row up, then blanking the last row: about 4,000 device
//! accesses per scroll, where the shipped writer makes about 45 (a row of
//! text and a blank row in 64-bit writes, and the CRTC).

use core::fmt;

use super::color::{ColorCode, ScreenChar};
use super::grid::{REPLACEMENT, is_printable};
use super::screen::{HEIGHT, WIDTH};
use super::vga::cell_at;

/// A cursor over the first screen of the text memory.
pub struct NaiveWriter {
    /// Cursor row.
    row: usize,
    /// Cursor column (WIDTH: wrap before the next character).
    column: usize,
}

/// The cell value of `ascii` in the default colours.
fn cell(ascii: u8) -> u16 {
    ScreenChar {
        ascii,
        color: ColorCode::DEFAULT,
    }
    .to_cell()
}

impl NaiveWriter {
    /// A writer whose cursor is top left (the caller shows cell 0 first).
    pub const fn new() -> NaiveWriter {
        NaiveWriter { row: 0, column: 0 }
    }

    /// Writes one byte: `\n` or a character (anything unprintable as ■).
    fn write_byte(&mut self, byte: u8) {
        if byte == b'\n' {
            return self.new_line();
        }
        if self.column == WIDTH {
            self.new_line();
        }
        let shown = if is_printable(byte) {
            byte
        } else {
            REPLACEMENT
        };
        cell_at(self.row * WIDTH + self.column).write(cell(shown));
        self.column += 1;
    }

    /// Next line; at the bottom, copies every cell up one row.
    fn new_line(&mut self) {
        self.column = 0;
        if self.row + 1 < HEIGHT {
            self.row += 1;
            return;
        }
        for index in WIDTH..WIDTH * HEIGHT {
            cell_at(index - WIDTH).write(cell_at(index).read());
        }
        for column in 0..WIDTH {
            cell_at((HEIGHT - 1) * WIDTH + column).write(cell(b' '));
        }
    }
}

impl fmt::Write for NaiveWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for byte in s.bytes() {
            self.write_byte(byte);
        }
        Ok(())
    }
}

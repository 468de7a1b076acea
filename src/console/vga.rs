//! The VGA text screen: 80x25 cells at physical 0xb8000, identity-mapped.
//!
//! Each cell is two bytes: the character (code page 437) and its colour
//! attribute. Writes are volatile so the compiler never drops or merges them.

use core::fmt::{self, Write};
use core::ptr::NonNull;

use spin::Mutex;
use volatile::VolatilePtr;

/// Physical (= virtual) address of the colour text buffer.
const VGA_TEXT_BUFFER: usize = 0xb8000;
/// Screen width in cells.
pub const WIDTH: usize = 80;
/// Screen height in cells.
pub const HEIGHT: usize = 25;
/// Light grey on black, the PC's default.
const DEFAULT_ATTRIBUTE: u8 = 0x07;
/// Shown for bytes that are not printable ASCII: a small square in CP437.
const REPLACEMENT: u8 = 0xfe;

/// The screen writer: a cursor over the text buffer.
struct Writer {
    /// Current row of the cursor.
    row: usize,
    /// Current column of the cursor.
    column: usize,
}

/// The one writer, behind a lock shared by all CPUs and handlers.
static WRITER: Mutex<Writer> = Mutex::new(Writer { row: 0, column: 0 });

/// A volatile pointer to cell `index` (row * WIDTH + column) of the screen.
fn cell_at(index: usize) -> VolatilePtr<'static, u16> {
    assert!(index < WIDTH * HEIGHT);
    let ptr = NonNull::new((VGA_TEXT_BUFFER as *mut u16).wrapping_add(index)).unwrap();
    // SAFETY: the index is inside the 80x25 cells of the VGA text buffer at
    // 0xb8000, present on every PC booted in text mode and identity-mapped by
    // the boot page tables; volatile accesses to device memory do not alias
    // any Rust object.
    unsafe { VolatilePtr::new(ptr) }
}

/// A cell value: character byte in the low half, attribute in the high half.
fn cell(byte: u8) -> u16 {
    u16::from(DEFAULT_ATTRIBUTE) << 8 | u16::from(byte)
}

impl Writer {
    fn write_byte(&mut self, byte: u8) {
        match byte {
            b'\n' => self.new_line(),
            b'\r' => self.column = 0,
            byte => {
                if self.column == WIDTH {
                    self.new_line();
                }
                let shown = if (0x20..=0x7e).contains(&byte) { byte } else { REPLACEMENT };
                cell_at(self.row * WIDTH + self.column).write(cell(shown));
                self.column += 1;
            }
        }
    }

    fn new_line(&mut self) {
        self.column = 0;
        if self.row + 1 < HEIGHT {
            self.row += 1;
            return;
        }
        // Scroll: move every row up by one and blank the last.
        for i in WIDTH..WIDTH * HEIGHT {
            cell_at(i - WIDTH).write(cell_at(i).read());
        }
        for column in 0..WIDTH {
            cell_at((HEIGHT - 1) * WIDTH + column).write(cell(b' '));
        }
    }

    fn clear(&mut self) {
        for i in 0..WIDTH * HEIGHT {
            cell_at(i).write(cell(b' '));
        }
        self.row = 0;
        self.column = 0;
    }
}

impl Write for Writer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            // Non-ASCII chars show as one replacement cell each.
            self.write_byte(if c.is_ascii() { c as u8 } else { REPLACEMENT });
        }
        Ok(())
    }
}

/// Clears the screen and puts the cursor at the top left.
pub fn init() {
    WRITER.lock().clear();
}

/// Writes formatted text at the cursor.
pub fn print(args: fmt::Arguments) {
    let _ = WRITER.lock().write_fmt(args);
}

/// Reads the characters of one row of the screen.
pub fn read_row(row: usize) -> [u8; WIDTH] {
    let mut line = [0; WIDTH];
    for (column, byte) in line.iter_mut().enumerate() {
        *byte = cell_at(row * WIDTH + column).read() as u8;
    }
    line
}

/// The cursor row (the row the next character goes to).
pub fn cursor_row() -> usize {
    WRITER.lock().row
}

/// Releases the lock regardless of who holds it.
///
/// # Safety
/// Only for the panic path: the holder must never run again.
pub unsafe fn force_unlock() {
    // SAFETY: forwarded from the caller.
    unsafe { WRITER.force_unlock() };
}

//! The VGA CRT controller registers the text screen uses: where the visible
//! screen starts in the text memory, where the cursor is, and its shape.
//!
//! The CRTC is reached through an index port (which register) and a data
//! port (its value). These are the colour addresses (0x3D4/0x3D5), which a
//! PC in colour text mode (what GRUB leaves under BIOS) decodes; a monochrome
//! adapter would use 0x3B4/0x3B5 instead, and is not supported. Start and
//! cursor are cell indices into the text memory (0 = 0xb8000), 16 bits
//! split over a high and a low register.

use crate::arch::Port;

/// The CRTC index port (colour adapters).
const CRTC_INDEX: u16 = 0x3d4;
/// The CRTC data port (colour adapters).
const CRTC_DATA: u16 = 0x3d5;

/// Cursor Start register: first scan line of the cursor, and its disable bit.
const CURSOR_START: u8 = 0x0a;
/// Cursor End register: last scan line of the cursor.
const CURSOR_END: u8 = 0x0b;
/// Start Address High register.
const START_ADDRESS_HIGH: u8 = 0x0c;
/// Start Address Low register.
const START_ADDRESS_LOW: u8 = 0x0d;
/// Cursor Location High register.
const CURSOR_LOCATION_HIGH: u8 = 0x0e;
/// Cursor Location Low register.
const CURSOR_LOCATION_LOW: u8 = 0x0f;

/// Cursor Start bit 5: the cursor is hidden when set.
const CURSOR_DISABLE: u8 = 1 << 5;
/// Cursor Start/End bits 0-4: the scan line.
const SCAN_LINE_MASK: u8 = 0x1f;
/// First and last scan line of an underline cursor in a 16-line font.
const CURSOR_FIRST_LINE: u8 = 14;
/// See [`CURSOR_FIRST_LINE`].
const CURSOR_LAST_LINE: u8 = 15;

/// Writes `value` to CRTC register `register`, with one 16-bit port write:
/// its low byte goes to the index port and its high byte to the data port
/// right after it (VGA adapters decode a word write as those two byte
/// writes), half the port accesses of two byte writes.
fn write(register: u8, value: u8) {
    // SAFETY: 0x3D4/0x3D5 are the colour VGA CRTC's index and data ports;
    // selecting a register and writing a display register affects only
    // what the screen shows, never memory.
    unsafe { Port::<u16>::new(CRTC_INDEX).write(u16::from(value) << 8 | u16::from(register)) };
}

/// Reads CRTC register `register`.
fn read(register: u8) -> u8 {
    // SAFETY: as in `write`; reading a CRTC register has no side effect.
    unsafe {
        Port::<u8>::new(CRTC_INDEX).write(register);
        Port::<u8>::new(CRTC_DATA).read()
    }
}

/// Writes a 16-bit cell index to a high/low register pair, only the halves
/// that differ from `shown` (what the pair holds, if known): moving by a
/// row or a line usually changes the low byte alone.
fn write_pair(high: u8, low: u8, value: usize, shown: Option<usize>) {
    let [value_low, value_high, ..] = value.to_le_bytes();
    let shown = shown.map(usize::to_le_bytes);
    if shown.map(|s| s[1]) != Some(value_high) {
        write(high, value_high);
    }
    if shown.map(|s| s[0]) != Some(value_low) {
        write(low, value_low);
    }
}

/// Reads a 16-bit cell index from a high/low register pair.
fn read_pair(high: u8, low: u8) -> usize {
    usize::from(read(high)) << 8 | usize::from(read(low))
}

/// Makes the visible screen start at cell `start` of the text memory; the
/// registers hold `shown` if that is known.
pub fn set_start(start: usize, shown: Option<usize>) {
    write_pair(START_ADDRESS_HIGH, START_ADDRESS_LOW, start, shown);
}

/// The cell the visible screen starts at, as the hardware has it.
pub fn start() -> usize {
    read_pair(START_ADDRESS_HIGH, START_ADDRESS_LOW)
}

/// Puts the cursor on cell `index` of the text memory; the registers hold
/// `shown` if that is known.
pub fn set_cursor(index: usize, shown: Option<usize>) {
    write_pair(CURSOR_LOCATION_HIGH, CURSOR_LOCATION_LOW, index, shown);
}

/// The cursor's cell, as the hardware has it.
pub fn cursor() -> usize {
    read_pair(CURSOR_LOCATION_HIGH, CURSOR_LOCATION_LOW)
}

/// Shows the cursor as an underline (boot loaders may have hidden it),
/// keeping the registers' other bits.
pub fn show_cursor() {
    write(
        CURSOR_START,
        read(CURSOR_START) & !(CURSOR_DISABLE | SCAN_LINE_MASK) | CURSOR_FIRST_LINE,
    );
    write(
        CURSOR_END,
        read(CURSOR_END) & !SCAN_LINE_MASK | CURSOR_LAST_LINE,
    );
}

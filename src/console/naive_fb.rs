//! The framebuffer benchmark's reference writer: the simplest framebuffer
//! text writer there is, to measure the framebuffer console against. Only in
//! the benchmark build (cargo feature `bench`); never used for output.
//!
//! It draws each character's glyph pixel by pixel straight into the
//! framebuffer (one access per pixel, or per byte at 24 bpp), and scrolls by
//! copying the framebuffer's text rows up by one text row within itself
//! (reading every byte it moves), then clearing the last text row. It counts
//! the bytes it writes to and reads from the framebuffer.

use core::fmt;

use super::choice::Layout;
use super::color::{Color, PALETTE};
use super::font::{BUILTIN, GLYPH_WIDTH};
use super::grid::{REPLACEMENT, is_printable};
use crate::memory::layout::DIRECT_MAP_OFFSET;

/// A cursor over the framebuffer's text rows, light grey on black.
pub struct NaiveFbWriter {
    /// The framebuffer's first byte (mapped by the console).
    base: usize,
    /// Bytes per pixel line.
    pitch: usize,
    /// Bytes per pixel.
    bytes_per_pixel: usize,
    /// Text columns and rows (as many as fit; the font is never scaled).
    columns: usize,
    rows: usize,
    /// The text and background colours, as pixel bytes.
    foreground: [u8; 4],
    background: [u8; 4],
    /// Cursor row and column (columns: wrap before the next character).
    row: usize,
    column: usize,
    /// Bytes written to and read from the framebuffer.
    pub written: u64,
    pub read: u64,
}

impl NaiveFbWriter {
    /// A writer on the framebuffer `layout` describes, which the console
    /// has mapped; cursor top left.
    pub fn new(layout: &Layout) -> NaiveFbWriter {
        NaiveFbWriter {
            base: (DIRECT_MAP_OFFSET + layout.framebuffer.address) as usize,
            pitch: layout.framebuffer.pitch as usize,
            bytes_per_pixel: layout.format.bytes_per_pixel,
            columns: layout.framebuffer.width as usize / GLYPH_WIDTH,
            rows: layout.framebuffer.height as usize / BUILTIN.height(),
            foreground: layout.format.encode(PALETTE[Color::LightGray as usize]),
            background: layout.format.encode(PALETTE[Color::Black as usize]),
            row: 0,
            column: 0,
            written: 0,
            read: 0,
        }
    }

    /// Writes one pixel's bytes at pixel (x, y).
    fn pixel(&mut self, x: usize, y: usize, bytes: [u8; 4]) {
        let at = self.base + y * self.pitch + x * self.bytes_per_pixel;
        // SAFETY: (x, y) lies inside the framebuffer (inside the text area,
        // by construction), which the console mapped writable at `base`;
        // volatile stores to device memory alias no Rust object.
        unsafe {
            match self.bytes_per_pixel {
                4 => core::ptr::write_volatile(at as *mut u32, u32::from_le_bytes(bytes)),
                2 => core::ptr::write_volatile(
                    at as *mut u16,
                    u16::from_le_bytes([bytes[0], bytes[1]]),
                ),
                _ => {
                    for (i, &byte) in bytes[..self.bytes_per_pixel].iter().enumerate() {
                        core::ptr::write_volatile((at + i) as *mut u8, byte);
                    }
                }
            }
        }
        self.written += self.bytes_per_pixel as u64;
    }

    /// Writes one byte: `\n` or a character (anything unprintable as ■).
    fn write_byte(&mut self, byte: u8) {
        if byte == b'\n' {
            return self.new_line();
        }
        if self.column == self.columns {
            self.new_line();
        }
        let shown = if is_printable(byte) {
            byte
        } else {
            REPLACEMENT
        };
        let (left, top) = (self.column * GLYPH_WIDTH, self.row * BUILTIN.height());
        for y in 0..BUILTIN.height() {
            let bits = BUILTIN.row(shown, y);
            for x in 0..GLYPH_WIDTH {
                let color = if bits & (0x80 >> x) != 0 {
                    self.foreground
                } else {
                    self.background
                };
                self.pixel(left + x, top + y, color);
            }
        }
        self.column += 1;
    }

    /// Next line; at the bottom, moves the text rows up one within the
    /// framebuffer and clears the last.
    fn new_line(&mut self) {
        self.column = 0;
        if self.row + 1 < self.rows {
            self.row += 1;
            return;
        }
        let row_bytes = BUILTIN.height() * self.pitch;
        let moved = (self.rows - 1) * row_bytes;
        // SAFETY: both ranges lie inside the text area of the mapped
        // framebuffer (`rows` text rows of `row_bytes`); `copy` handles the
        // overlap; no Rust object aliases device memory.
        unsafe {
            core::ptr::copy(
                (self.base + row_bytes) as *const u8,
                self.base as *mut u8,
                moved,
            );
        }
        self.read += moved as u64;
        self.written += moved as u64;
        let last = (self.rows - 1) * BUILTIN.height();
        for y in last..last + BUILTIN.height() {
            for x in 0..self.columns * GLYPH_WIDTH {
                self.pixel(x, y, self.background);
            }
        }
    }
}

impl fmt::Write for NaiveFbWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for byte in s.bytes() {
            self.write_byte(byte);
        }
        Ok(())
    }
}

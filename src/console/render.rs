//! Cells into pixels: how the framebuffer console draws a run of text cells
//! into a linear framebuffer of any RGB layout.
//!
//! A framebuffer is `height` lines of `pitch` bytes; pixel (x, y) is
//! `bytes_per_pixel` bytes at `y * pitch + x * bytes_per_pixel`, a
//! little-endian value whose red, green and blue fields sit where the
//! boot information says (RGB, BGR or anything else, 2, 3 or 4 bytes per
//! pixel). Cell (row, column) covers the glyph-sized block of pixels at
//! (column * cell width, row * cell height); glyphs are the [`Font`]'s,
//! each pixel repeated `scale` times across and down on very large modes.
//! Colours are the 16 of the VGA palette ([`PALETTE`]), each converted once
//! to the framebuffer's layout.
//!
//! The renderer only writes: pixels go out through [`PixelTarget::write`],
//! one pixel line of a whole run of cells per call, left to right and top
//! to bottom, so a write-combining framebuffer gets long sequential writes.
//! Nothing here ever reads the framebuffer.
//!
//! Pure logic, tested on the host over framebuffers in RAM.

#![forbid(unsafe_code)]

use super::color::{ColorCode, PALETTE, ScreenChar};
use super::font::{Font, GLYPH_WIDTH};
use crate::boot_info::framebuffer::ColorField;

/// Where the pixels go: the framebuffer (through its mapping) in the
/// kernel, a byte array in the tests.
pub trait PixelTarget {
    /// Stores `bytes` from byte `offset` of the framebuffer on (the range
    /// lies inside the framebuffer).
    fn write(&mut self, offset: usize, bytes: &[u8]);
}

/// The glyph rows, counted from the bottom, that the cursor (an underline in
/// the cell's foreground colour) covers: the last two, as the VGA cursor's
/// scan lines 14 and 15 of 16.
pub const CURSOR_ROWS: usize = 2;

/// Bytes of pixels built before each write; a run of cells wider than this
/// goes out in several writes per pixel line.
const SCRATCH: usize = 4096;

/// How a pixel is coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelFormat {
    /// 2, 3 or 4.
    pub bytes_per_pixel: usize,
    /// The red field's place in the pixel value.
    pub red: ColorField,
    /// The green field's place.
    pub green: ColorField,
    /// The blue field's place.
    pub blue: ColorField,
}

impl PixelFormat {
    /// The pixel bytes (little-endian, the first `bytes_per_pixel` used)
    /// for a colour of 8-bit red, green and blue: each component scaled to
    /// its field's size (rounded) and shifted to its position.
    pub fn encode(&self, [red, green, blue]: [u8; 3]) -> [u8; 4] {
        let field = |value: u8, field: ColorField| -> u32 {
            let max = (1u32 << field.size) - 1;
            ((u32::from(value) * max + 127) / 255) << field.position
        };
        (field(red, self.red) | field(green, self.green) | field(blue, self.blue)).to_le_bytes()
    }
}

/// Draws cells: the font, the pixel format, the geometry and the palette in
/// that format.
#[derive(Debug, Clone)]
pub struct Renderer<'f> {
    /// The glyphs.
    font: Font<'f>,
    /// The pixel format.
    format: PixelFormat,
    /// Bytes from one pixel line to the next.
    pitch: usize,
    /// Each glyph pixel is `scale` x `scale` screen pixels.
    scale: usize,
    /// The 16 VGA colours, as pixel bytes.
    palette: [[u8; 4]; 16],
}

impl<'f> Renderer<'f> {
    /// A renderer for a framebuffer of `format` and `pitch`, drawing `font`
    /// scaled by `scale` (1 or more).
    pub fn new(font: Font<'f>, format: PixelFormat, pitch: usize, scale: usize) -> Self {
        Renderer {
            font,
            format,
            pitch,
            scale,
            palette: PALETTE.map(|rgb| format.encode(rgb)),
        }
    }

    /// A cell's width in pixels.
    pub fn cell_width(&self) -> usize {
        GLYPH_WIDTH * self.scale
    }

    /// A cell's height in pixels.
    pub fn cell_height(&self) -> usize {
        self.font.height() * self.scale
    }

    /// The pixel bytes of VGA colour `color` (0-15).
    pub fn pixel(&self, color: u8) -> &[u8] {
        &self.palette[usize::from(color & 0xf)][..self.format.bytes_per_pixel]
    }

    /// The byte offset of pixel (x, y).
    pub fn offset(&self, x: usize, y: usize) -> usize {
        y * self.pitch + x * self.format.bytes_per_pixel
    }

    /// Draws `cells` on text row `row` from column `column` on, every pixel
    /// of their cells once; `cursor`, an index into `cells`, gets the cursor
    /// drawn over it.
    pub fn draw_run(
        &self,
        target: &mut impl PixelTarget,
        row: usize,
        column: usize,
        cells: &[u16],
        cursor: Option<usize>,
    ) {
        match self.format.bytes_per_pixel {
            2 => self.draw::<2>(target, row, column, cells, cursor),
            3 => self.draw::<3>(target, row, column, cells, cursor),
            _ => self.draw::<4>(target, row, column, cells, cursor),
        }
    }

    /// [`Renderer::draw_run`] for `B` bytes per pixel.
    fn draw<const B: usize>(
        &self,
        target: &mut impl PixelTarget,
        row: usize,
        column: usize,
        cells: &[u16],
        cursor: Option<usize>,
    ) {
        let mut scratch = [0u8; SCRATCH];
        let cell_bytes = self.cell_width() * B;
        let per_write = (SCRATCH / cell_bytes).max(1);
        let height = self.font.height();
        for glyph_row in 0..height {
            let under_cursor = glyph_row >= height - CURSOR_ROWS;
            for (chunk_index, chunk) in cells.chunks(per_write).enumerate() {
                let first = chunk_index * per_write;
                let mut at = 0;
                for (i, &cell) in chunk.iter().enumerate() {
                    let ScreenChar { ascii, color } = ScreenChar::from_cell(cell);
                    let bits = if under_cursor && cursor == Some(first + i) {
                        0xff
                    } else {
                        self.font.row(ascii, glyph_row)
                    };
                    let (fg, bg) = self.colors(color);
                    for bit in 0..GLYPH_WIDTH {
                        let pixel = if bits & (0x80 >> bit) != 0 { fg } else { bg };
                        for _ in 0..self.scale {
                            scratch[at..at + B].copy_from_slice(&pixel[..B]);
                            at += B;
                        }
                    }
                }
                let x = (column + first) * self.cell_width();
                for repeat in 0..self.scale {
                    let y = row * self.cell_height() + glyph_row * self.scale + repeat;
                    target.write(self.offset(x, y), &scratch[..at]);
                }
            }
        }
    }

    /// The foreground and background pixel bytes of `color` (all four
    /// bytes: the caller uses the first `B`).
    fn colors(&self, color: ColorCode) -> (&[u8; 4], &[u8; 4]) {
        (
            &self.palette[usize::from(color.foreground())],
            &self.palette[usize::from(color.background())],
        )
    }

    /// Fills the rectangle of `width` x `height` pixels at (x, y) with VGA
    /// colour `color`, one write per pixel line (or a few, when wide).
    pub fn fill(
        &self,
        target: &mut impl PixelTarget,
        (x, y): (usize, usize),
        (width, height): (usize, usize),
        color: u8,
    ) {
        let pixel = self.pixel(color);
        let bytes_per_pixel = pixel.len();
        let mut scratch = [0u8; SCRATCH];
        let per_write = SCRATCH / bytes_per_pixel;
        for chunk in scratch.chunks_exact_mut(bytes_per_pixel) {
            chunk.copy_from_slice(pixel);
        }
        for line in y..y + height {
            let mut done = 0;
            while done < width {
                let count = (width - done).min(per_write);
                target.write(
                    self.offset(x + done, line),
                    &scratch[..count * bytes_per_pixel],
                );
                done += count;
            }
        }
    }
}

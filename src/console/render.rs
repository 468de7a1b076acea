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
use crate::console::pixels::ColorField;

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

/// Unchanged glyph rows between changed ones that are drawn anyway, to
/// write one longer line instead of two short ones.
const MERGED_GAP: usize = 3;

/// The most cells drawn per pass (the narrowest pixels fill the scratch
/// buffer with this many unscaled cells).
const MAX_CHUNK: usize = SCRATCH / (GLYPH_WIDTH * 2);

/// An old cell value meaning "its pixels are not known": drawn whatever the
/// new value. The grid never holds it (NUL, black on black).
pub const UNKNOWN: u16 = 0;

/// Cells of one colour pair to draw, and what they show now.
struct Stretch<'c> {
    /// Text row.
    row: usize,
    /// Column of the first cell.
    column: usize,
    /// The values to draw.
    cells: &'c [u16],
    /// The cursor's index among them.
    cursor: Option<usize>,
    /// What they show now, and the cursor's index then, if known.
    old: Option<(&'c [u16], Option<usize>)>,
}

/// The largest scale factor the renderer draws (beyond it a nibble's pixels
/// would not fit a table entry).
pub const MAX_SCALE: usize = 8;

/// Bytes of one [`Nibbles`] entry: four glyph pixels at the largest scale
/// and pixel size.
const NIBBLE_ENTRY: usize = 4 * MAX_SCALE * 4;

/// Bytes of an unscaled entry's copy: four pixels of at most 4 bytes.
const UNSCALED_ENTRY: usize = 16;

/// For one colour pair: the pixel bytes of each 4-pixel pattern (bit 3 the
/// leftmost), each pixel repeated `scale` times.
struct Nibbles([[u8; NIBBLE_ENTRY]; 16]);

impl Nibbles {
    /// The table for `color`'s foreground and background, `B` bytes per
    /// pixel, at `renderer`'s scale.
    #[optimize(speed)]
    fn new<const B: usize>(renderer: &Renderer, color: ColorCode) -> Nibbles {
        let (fg, bg) = renderer.colors(color);
        let mut table = [[0u8; NIBBLE_ENTRY]; 16];
        for (pattern, entry) in table.iter_mut().enumerate() {
            let mut at = 0;
            for pixel in 0..4 {
                let bytes = if pattern & (0b1000 >> pixel) != 0 {
                    fg
                } else {
                    bg
                };
                for _ in 0..renderer.scale {
                    entry[at..at + B].copy_from_slice(&bytes[..B]);
                    at += B;
                }
            }
        }
        Nibbles(table)
    }
}

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
    #[inline]
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
    #[inline]
    pub fn cell_width(&self) -> usize {
        GLYPH_WIDTH * self.scale
    }

    /// A cell's height in pixels.
    #[inline]
    pub fn cell_height(&self) -> usize {
        self.font.height() * self.scale
    }

    /// The pixel bytes of VGA colour `color` (0-15).
    #[inline]
    pub fn pixel(&self, color: u8) -> &[u8] {
        &self.palette[usize::from(color & 0xf)][..self.format.bytes_per_pixel]
    }

    /// The byte offset of pixel (x, y).
    #[inline]
    pub fn offset(&self, x: usize, y: usize) -> usize {
        y * self.pitch + x * self.format.bytes_per_pixel
    }

    /// Draws `cells` on text row `row` from column `column` on; `cursor`,
    /// an index into `cells`, gets the cursor drawn over it. `old` is what
    /// those cells show now, if known: their values and the cursor's index
    /// among them ([`UNKNOWN`] for a cell whose pixels are not known). Only
    /// the glyph rows whose pixels change are written (all, without `old`),
    /// each pixel once, neighbouring cells' rows in one write.
    ///
    /// Each stretch of cells with the same colours is drawn with a table,
    /// built once for the stretch, of the pixel bytes of every 4-pixel
    /// pattern (half a glyph row) in those colours: a glyph row is then two
    /// copies, not eight choices. Under emulation, where every instruction
    /// costs, that is most of the speed.
    #[optimize(speed)]
    pub fn draw_run(
        &self,
        target: &mut impl PixelTarget,
        (row, column): (usize, usize),
        cells: &[u16],
        cursor: Option<usize>,
        old: Option<(&[u16], Option<usize>)>,
    ) {
        let mut first = 0;
        while first < cells.len() {
            let attribute = cells[first] >> 8;
            let end = cells[first..]
                .iter()
                .position(|&cell| cell >> 8 != attribute)
                .map_or(cells.len(), |n| first + n);
            let within = |index: Option<usize>| {
                index
                    .filter(|i| (first..end).contains(i))
                    .map(|i| i - first)
            };
            let stretch = Stretch {
                row,
                column: column + first,
                cells: &cells[first..end],
                cursor: within(cursor),
                old: old.map(|(cells, cursor)| (&cells[first..end], within(cursor))),
            };
            match self.format.bytes_per_pixel {
                2 => self.draw::<2>(target, &stretch),
                3 => self.draw::<3>(target, &stretch),
                _ => self.draw::<4>(target, &stretch),
            }
            first = end;
        }
    }

    /// Row `glyph_row` of `cell`'s glyph, with the cursor if `cursor`.
    #[optimize(speed)]
    fn bits(&self, cell: u16, glyph_row: usize, cursor: bool) -> u8 {
        if cursor && glyph_row >= self.font.height() - CURSOR_ROWS {
            0xff
        } else {
            self.font.row(cell as u8, glyph_row)
        }
    }

    /// Draws a stretch of cells of one colour pair, `B` bytes per pixel:
    /// per glyph row and per scratch-full of cells, first which cells' row
    /// changes, then the segments of changed cells (gaps of at most
    /// [`MERGED_GAP`] unchanged cells drawn too, with the pixels they have:
    /// still each pixel once), each built in `scratch` and written in one
    /// go. Two plain loops rather than one with many branches: under
    /// emulation that is much faster.
    #[optimize(speed)]
    fn draw<const B: usize>(&self, target: &mut impl PixelTarget, stretch: &Stretch) {
        let cells = stretch.cells;
        let color = ScreenChar::from_cell(cells[0]).color;
        let nibbles = Nibbles::new::<B>(self, color);
        // Slack at the end: the unscaled path copies whole table entries
        // and lets the next copy overwrite the bytes past a nibble.
        let mut scratch = [0u8; SCRATCH + NIBBLE_ENTRY];
        let cell_bytes = self.cell_width() * B;
        let nibble_bytes = cell_bytes / 2;
        let per_chunk = (SCRATCH / cell_bytes).clamp(1, MAX_CHUNK);
        let mut rows = [0u8; MAX_CHUNK];
        let mut changed = [true; MAX_CHUNK];
        for glyph_row in 0..self.font.height() {
            for (chunk_index, chunk) in cells.chunks(per_chunk).enumerate() {
                let base = chunk_index * per_chunk;
                for (i, &cell) in chunk.iter().enumerate() {
                    rows[i] = self.bits(cell, glyph_row, stretch.cursor == Some(base + i));
                }
                if let Some((old, old_cursor)) = stretch.old {
                    for (i, &cell) in chunk.iter().enumerate() {
                        let was = old[base + i];
                        changed[i] = was == UNKNOWN
                            || was >> 8 != cell >> 8
                            || self.bits(was, glyph_row, old_cursor == Some(base + i)) != rows[i];
                    }
                }
                let count = chunk.len();
                let mut i = 0;
                while i < count {
                    if !changed[i] {
                        i += 1;
                        continue;
                    }
                    let start = i;
                    let mut end = i + 1;
                    loop {
                        let mut next = end;
                        while next < count && !changed[next] {
                            next += 1;
                        }
                        if next < count && next - end <= MERGED_GAP {
                            end = next + 1;
                        } else {
                            break;
                        }
                    }
                    let mut at = 0;
                    for &bits in &rows[start..end] {
                        for nibble in [bits >> 4, bits & 0xf] {
                            let entry = &nibbles.0[usize::from(nibble)];
                            if self.scale == 1 {
                                // A constant-size copy the compiler inlines
                                // (two 8-byte moves); the next nibble
                                // overwrites what lies past this one.
                                scratch[at..at + UNSCALED_ENTRY]
                                    .copy_from_slice(&entry[..UNSCALED_ENTRY]);
                            } else {
                                scratch[at..at + nibble_bytes]
                                    .copy_from_slice(&entry[..nibble_bytes]);
                            }
                            at += nibble_bytes;
                        }
                    }
                    self.write_line::<B>(target, stretch, base + start, glyph_row, &scratch[..at]);
                    i = end;
                }
            }
        }
    }

    /// Writes `pixels`, row `glyph_row` of the stretch's cells from its
    /// cell `first` on, to the `scale` pixel lines it covers.
    #[optimize(speed)]
    fn write_line<const B: usize>(
        &self,
        target: &mut impl PixelTarget,
        stretch: &Stretch,
        first: usize,
        glyph_row: usize,
        pixels: &[u8],
    ) {
        let x = (stretch.column + first) * self.cell_width();
        for repeat in 0..self.scale {
            let y = stretch.row * self.cell_height() + glyph_row * self.scale + repeat;
            target.write(self.offset(x, y), pixels);
        }
    }

    /// The foreground and background pixel bytes of `color` (all four
    /// bytes: the caller uses the first `B`).
    #[inline]
    fn colors(&self, color: ColorCode) -> (&[u8; 4], &[u8; 4]) {
        (
            &self.palette[usize::from(color.foreground())],
            &self.palette[usize::from(color.background())],
        )
    }

    /// Fills the rectangle of `width` x `height` pixels at (x, y) with VGA
    /// colour `color`, one write per pixel line (or a few, when wide).
    #[optimize(speed)]
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

//! The framebuffer console's font: Spleen 8x16 (`fonts/`, BSD 2-Clause), a
//! PC Screen Font (PSF1) file embedded in the kernel and parsed at compile
//! time, so a broken file fails the build instead of the boot.
//!
//! PSF1 layout: a 4-byte header (magic 0x36 0x04, a mode byte, the glyph
//! height in bytes), then 256 or 512 glyphs (mode bit 0), each `height`
//! bytes, one per row, the leftmost pixel in the top bit; then, if mode bit
//! 1 or 2 is set, the Unicode table: per glyph, the code points it shows as
//! little-endian `u16`s, then 0xffff (0xfffe starts combining sequences,
//! which this parser skips).
//!
//! The cells the grid holds are code page 437 bytes: printable ASCII, and ■
//! (0xfe) for everything else. [`Font::row`] finds each through the Unicode
//! table (U+0020..U+007E, U+25A0); a font without ■ gets one drawn here.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

use super::grid::{REPLACEMENT, is_printable};

/// The font file the kernel draws with.
pub const FONT_FILE: &[u8] = include_bytes!("../../fonts/spleen-8x16.psfu");

/// The kernel's font, parsed (at compile time: a bad file fails the build).
pub const BUILTIN: Font<'static> = match Font::parse(FONT_FILE) {
    Ok(font) => font,
    Err(_) => panic!("fonts/spleen-8x16.psfu is not a usable PSF1 font"),
};

/// Every PSF1 glyph is 8 pixels wide: one byte per row.
pub const GLYPH_WIDTH: usize = 8;

/// The PSF1 magic number.
const PSF1_MAGIC: [u8; 2] = [0x36, 0x04];
/// Mode bit 0: 512 glyphs instead of 256.
const MODE_512: u8 = 0x01;
/// Mode bits 1 and 2: a Unicode table follows the glyphs.
const MODE_TABLE: u8 = 0x06;
/// Unicode table: ends one glyph's entry.
const TABLE_SEPARATOR: u16 = 0xffff;
/// Unicode table: starts a combining sequence (skipped up to the separator).
const TABLE_SEQUENCE: u16 = 0xfffe;
/// The Unicode code point of ■.
const BLACK_SQUARE: u16 = 0x25a0;
/// No glyph: ■ is drawn by [`Font::row`] itself.
const DRAWN: u16 = u16::MAX;
/// Fewest and most rows a glyph may have: the console needs at least 14 to
/// be readable, and the cursor takes the last two.
const MIN_HEIGHT: usize = 14;
/// See [`MIN_HEIGHT`].
const MAX_HEIGHT: usize = 32;

/// A parsed PSF1 font.
#[derive(Debug, Clone, Copy)]
pub struct Font<'a> {
    /// The glyph bitmaps, `height` bytes each.
    glyphs: &'a [u8],
    /// Rows per glyph.
    height: usize,
    /// Per code page 437 byte the grid may hold: its glyph, or [`DRAWN`].
    /// Indexed by byte; bytes the grid never holds map like ■.
    glyph_of: [u16; 256],
}

impl<'a> Font<'a> {
    /// Parses a PSF1 file, or says why it cannot be used.
    pub const fn parse(bytes: &'a [u8]) -> Result<Font<'a>, &'static str> {
        if bytes.len() < 4 || bytes[0] != PSF1_MAGIC[0] || bytes[1] != PSF1_MAGIC[1] {
            return Err("not a PSF1 font (no 0x36 0x04 magic)");
        }
        let mode = bytes[2];
        let height = bytes[3] as usize;
        if height < MIN_HEIGHT || height > MAX_HEIGHT {
            return Err("glyphs must be 14 to 32 rows tall");
        }
        let count = if mode & MODE_512 != 0 { 512 } else { 256 };
        let size = count * height;
        if bytes.len() < 4 + size {
            return Err("the file ends inside its glyphs");
        }
        let (_, rest) = bytes.split_at(4);
        let (glyphs, table) = rest.split_at(size);

        // Without a table, glyph n shows code point n.
        let mut glyph_of = [DRAWN; 256];
        if mode & MODE_TABLE == 0 {
            let mut byte = 0x20;
            while byte <= 0x7e {
                glyph_of[byte] = byte as u16;
                byte += 1;
            }
        } else {
            let mut glyph = 0;
            let mut at = 0;
            let mut in_sequence = false;
            while glyph < count && at + 1 < table.len() {
                let code = u16::from_le_bytes([table[at], table[at + 1]]);
                at += 2;
                if code == TABLE_SEPARATOR {
                    glyph += 1;
                    in_sequence = false;
                } else if code == TABLE_SEQUENCE {
                    in_sequence = true;
                } else if !in_sequence {
                    let slot = if code == BLACK_SQUARE {
                        REPLACEMENT as usize
                    } else if code >= 0x20 && code <= 0x7e {
                        code as usize
                    } else {
                        0
                    };
                    if slot != 0 && glyph_of[slot] == DRAWN {
                        glyph_of[slot] = glyph as u16;
                    }
                }
            }
        }
        let mut byte = 0x20;
        while byte <= 0x7e {
            if glyph_of[byte] == DRAWN {
                return Err("a printable ASCII character has no glyph");
            }
            byte += 1;
        }
        // Every byte the grid never holds shows as ■, like the VGA screen's
        // replacement rule.
        let square = glyph_of[REPLACEMENT as usize];
        let mut byte = 0;
        while byte < 256 {
            if !is_printable(byte as u8) {
                glyph_of[byte] = square;
            }
            byte += 1;
        }
        Ok(Font {
            glyphs,
            height,
            glyph_of,
        })
    }

    /// Rows per glyph.
    pub const fn height(&self) -> usize {
        self.height
    }

    /// Whether ■ comes from the font (else it is drawn here).
    #[cfg(test)]
    pub fn has_square(&self) -> bool {
        self.glyph_of[usize::from(REPLACEMENT)] != DRAWN
    }

    /// Row `y` (< height) of the glyph for code page 437 byte `byte`: bit 7
    /// is the leftmost pixel, a set bit the foreground.
    #[inline]
    pub fn row(&self, byte: u8, y: usize) -> u8 {
        match self.glyph_of[usize::from(byte)] {
            DRAWN => self.drawn_square_row(y),
            glyph => self.glyphs[usize::from(glyph) * self.height + y],
        }
    }

    /// Row `y` of the ■ drawn for fonts without one: six pixels wide and
    /// half the glyph tall, centred (about square on screen, as the VGA
    /// font's ■ is).
    fn drawn_square_row(&self, y: usize) -> u8 {
        let top = self.height / 4;
        if (top..self.height - top).contains(&y) {
            0b0111_1110
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PSF1 file: `count` glyphs of `height` rows where glyph n's rows are
    /// all n, and a table from `table` (glyph, code points).
    fn psf1(height: u8, count: usize, table: Option<&[(usize, &[u16])]>) -> Vec<u8> {
        let mode = if count == 512 { MODE_512 } else { 0 } | if table.is_some() { 2 } else { 0 };
        let mut bytes = vec![0x36, 0x04, mode, height];
        for glyph in 0..count {
            bytes.extend(std::iter::repeat_n(glyph as u8, usize::from(height)));
        }
        if let Some(table) = table {
            for glyph in 0..count {
                for (_, codes) in table.iter().filter(|(g, _)| *g == glyph) {
                    for code in codes.iter() {
                        bytes.extend(code.to_le_bytes());
                    }
                }
                bytes.extend(0xffffu16.to_le_bytes());
            }
        }
        bytes
    }

    #[test]
    fn the_builtin_font_is_spleen_8x16_with_every_printable_character_and_a_square() {
        assert_eq!(BUILTIN.height(), 16);
        assert!(BUILTIN.has_square());
        // Spleen follows code page 437: 'A' is glyph 0x41, ■ glyph 0xfe.
        for y in 0..16 {
            assert_eq!(BUILTIN.row(b'A', y), FONT_FILE[4 + 0x41 * 16 + y]);
            assert_eq!(BUILTIN.row(REPLACEMENT, y), FONT_FILE[4 + 0xfe * 16 + y]);
        }
        // A space is blank, every other printable character is not.
        assert!((0..16).all(|y| BUILTIN.row(b' ', y) == 0));
        for byte in 0x21..=0x7eu8 {
            assert!(
                (0..16).any(|y| BUILTIN.row(byte, y) != 0),
                "{:?} is blank",
                char::from(byte)
            );
        }
    }

    #[test]
    fn the_table_maps_code_points_to_glyphs_and_skips_sequences() {
        let mut table: Vec<(usize, &[u16])> = (0x20..=0x7e).map(|c| (c + 100, &[][..])).collect();
        let codes: Vec<[u16; 1]> = (0x20..=0x7eu16).map(|c| [c]).collect();
        for (i, code) in codes.iter().enumerate() {
            table[i].1 = code;
        }
        // A sequence mentioning 'A' on glyph 3 must not map 'A' there.
        table.push((3, &[0xfffe, 0x41, 0x301]));
        table.push((7, &[0x25a0]));
        let bytes = psf1(16, 256, Some(&table));
        let font = Font::parse(&bytes).unwrap();
        assert_eq!(font.row(b'A', 0), 0x41 + 100);
        assert_eq!(font.row(b'~', 15), (0x7e + 100) as u8);
        assert_eq!(font.row(REPLACEMENT, 5), 7);
        // Bytes the grid never holds show as the square too.
        assert_eq!(font.row(0x01, 5), 7);
    }

    #[test]
    fn without_a_table_glyph_n_is_code_point_n_and_the_square_is_drawn() {
        let bytes = psf1(16, 256, None);
        let font = Font::parse(&bytes).unwrap();
        assert_eq!(font.row(b'A', 3), 0x41);
        assert!(!font.has_square());
        let square: Vec<u8> = (0..16).map(|y| font.row(REPLACEMENT, y)).collect();
        let mut expected = vec![0u8; 16];
        expected[4..12].fill(0b0111_1110);
        assert_eq!(square, expected);
    }

    #[test]
    fn unusable_files_are_refused_with_a_reason() {
        assert!(Font::parse(b"\x72\xb5\x4a\x86").is_err()); // PSF2
        assert_eq!(
            Font::parse(&psf1(8, 256, None)).unwrap_err(),
            "glyphs must be 14 to 32 rows tall"
        );
        let bytes = psf1(16, 256, None);
        assert_eq!(
            Font::parse(&bytes[..1000]).unwrap_err(),
            "the file ends inside its glyphs"
        );
        let table: Vec<(usize, &[u16])> = vec![(1, &[0x41])];
        assert_eq!(
            Font::parse(&psf1(16, 512, Some(&table))).unwrap_err(),
            "a printable ASCII character has no glyph"
        );
    }
}

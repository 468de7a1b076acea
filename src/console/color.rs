//! What one cell of the VGA text screen holds: a character and its colours.
//!
//! A cell is two bytes in the text memory: the character (code page 437) in
//! the low byte and the attribute in the high byte. The attribute packs a
//! 4-bit foreground colour (bits 0-3), a 3-bit background colour (bits 4-6)
//! and the blink bit (bit 7; with the PC's default settings it blinks the
//! character, so this module never sets it).
//!
//! Pure logic: no hardware, tested on the host.

#![forbid(unsafe_code)]

/// The 16 colours of the VGA text palette, by their attribute value. The
/// whole palette is named, also the colours no message uses yet.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Color {
    /// 0: black.
    Black = 0x0,
    /// 1: blue.
    Blue = 0x1,
    /// 2: green.
    Green = 0x2,
    /// 3: cyan.
    Cyan = 0x3,
    /// 4: red.
    Red = 0x4,
    /// 5: magenta.
    Magenta = 0x5,
    /// 6: brown (dark yellow).
    Brown = 0x6,
    /// 7: light grey, the PC's default foreground.
    LightGray = 0x7,
    /// 8: dark grey (bright black).
    DarkGray = 0x8,
    /// 9: light blue.
    LightBlue = 0x9,
    /// 10: light green.
    LightGreen = 0xa,
    /// 11: light cyan.
    LightCyan = 0xb,
    /// 12: light red.
    LightRed = 0xc,
    /// 13: pink (light magenta).
    Pink = 0xd,
    /// 14: yellow.
    Yellow = 0xe,
    /// 15: white.
    White = 0xf,
}

/// The classic VGA palette: the red, green and blue (0-255) of each colour,
/// by attribute value, as a VGA's DAC shows the text colours (brown is dark
/// yellow with half the green). The framebuffer console draws with these.
pub const PALETTE: [[u8; 3]; 16] = [
    [0x00, 0x00, 0x00], // black
    [0x00, 0x00, 0xaa], // blue
    [0x00, 0xaa, 0x00], // green
    [0x00, 0xaa, 0xaa], // cyan
    [0xaa, 0x00, 0x00], // red
    [0xaa, 0x00, 0xaa], // magenta
    [0xaa, 0x55, 0x00], // brown
    [0xaa, 0xaa, 0xaa], // light grey
    [0x55, 0x55, 0x55], // dark grey
    [0x55, 0x55, 0xff], // light blue
    [0x55, 0xff, 0x55], // light green
    [0x55, 0xff, 0xff], // light cyan
    [0xff, 0x55, 0x55], // light red
    [0xff, 0x55, 0xff], // pink
    [0xff, 0xff, 0x55], // yellow
    [0xff, 0xff, 0xff], // white
];

/// Bits of the attribute byte that hold the background colour. Bit 7 is the
/// blink bit, so only the eight dark colours can be backgrounds.
const BACKGROUND_MASK: u8 = 0x7;
/// Where the background colour starts in the attribute byte.
const BACKGROUND_SHIFT: u8 = 4;
/// Where the attribute byte sits in a 16-bit cell.
const ATTRIBUTE_SHIFT: u16 = 8;

/// An attribute byte: foreground and background colour of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct ColorCode(pub u8);

impl ColorCode {
    /// Light grey on black, what the PC shows by default; plain `println!`
    /// output uses it.
    pub const DEFAULT: ColorCode = ColorCode::new(Color::LightGray, Color::Black);

    /// `foreground` on `background`. Backgrounds 8-15 would set the blink
    /// bit, so only their low three bits are kept (LightRed becomes Red).
    pub const fn new(foreground: Color, background: Color) -> ColorCode {
        ColorCode(foreground as u8 | (background as u8 & BACKGROUND_MASK) << BACKGROUND_SHIFT)
    }

    /// The foreground colour's attribute bits (0-15).
    pub const fn foreground(self) -> u8 {
        self.0 & 0xf
    }

    /// The background colour's attribute bits (0-7).
    pub const fn background(self) -> u8 {
        self.0 >> BACKGROUND_SHIFT & BACKGROUND_MASK
    }
}

/// One cell of the screen: a code page 437 character and its colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenChar {
    /// The character byte (code page 437).
    pub ascii: u8,
    /// Its colours.
    pub color: ColorCode,
}

impl ScreenChar {
    /// A blank (space) in `color`: what clearing and scrolling leave behind.
    pub const fn blank(color: ColorCode) -> ScreenChar {
        ScreenChar { ascii: b' ', color }
    }

    /// The 16-bit value stored in the text memory.
    pub const fn to_cell(self) -> u16 {
        (self.color.0 as u16) << ATTRIBUTE_SHIFT | self.ascii as u16
    }

    /// The cell value `cell` read back as a character and colours.
    pub const fn from_cell(cell: u16) -> ScreenChar {
        ScreenChar {
            ascii: cell as u8,
            color: ColorCode((cell >> ATTRIBUTE_SHIFT) as u8),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_light_grey_on_black() {
        assert_eq!(ColorCode::DEFAULT, ColorCode(0x07));
    }

    #[test]
    fn foreground_low_nibble_background_next_three_bits() {
        let code = ColorCode::new(Color::White, Color::Red);
        assert_eq!(code, ColorCode(0x4f));
        assert_eq!(code.foreground(), Color::White as u8);
        assert_eq!(code.background(), Color::Red as u8);
    }

    #[test]
    fn bright_backgrounds_never_set_the_blink_bit() {
        let code = ColorCode::new(Color::Black, Color::LightRed);
        assert_eq!(code.0 & 0x80, 0);
        assert_eq!(code.background(), Color::Red as u8);
    }

    #[test]
    fn cell_packs_character_low_attribute_high() {
        let c = ScreenChar {
            ascii: b'A',
            color: ColorCode::new(Color::Yellow, Color::Blue),
        };
        assert_eq!(c.to_cell(), 0x1e41);
        assert_eq!(ScreenChar::from_cell(0x1e41), c);
        assert_eq!(ScreenChar::blank(ColorCode::DEFAULT).to_cell(), 0x0720);
    }
}

//! The screen the boot loader set up, as the console draws on it: where a
//! framebuffer lies, its size, and how its pixels (or text cells) are
//! coded. The boot information's framebuffer tag is parsed into these types
//! (`boot_info::framebuffer`); the console chooses its back end from them.
//!
//! Pure data, used on the host too.

#![forbid(unsafe_code)]

/// One colour field of an RGB pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColorField {
    /// The lowest bit of the field within the pixel.
    pub position: u8,
    /// The field's width in bits.
    pub size: u8,
}

/// How the framebuffer's pixels (or cells) are coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Indexed colours through a palette of `colours` entries.
    Indexed { colours: u16 },
    /// Direct colour, with each field's place in the pixel.
    Rgb {
        red: ColorField,
        green: ColorField,
        blue: ColorField,
    },
    /// EGA text: two bytes per character cell.
    Text,
    /// A type number the specification does not define.
    Other(u8),
}

/// A framebuffer as the tag describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framebuffer {
    /// Physical address of the first pixel (or cell).
    pub address: u64,
    /// Bytes from one line to the next.
    pub pitch: u32,
    /// Pixels (or characters) per line.
    pub width: u32,
    /// Lines (or character rows).
    pub height: u32,
    /// Bits per pixel (16 for text: character and attribute).
    pub bpp: u8,
    /// How pixels are coded.
    pub kind: Kind,
}

impl core::fmt::Display for Kind {
    /// The report's name: `indexed`, `rgb`, `text` or `type <N>`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Kind::Indexed { .. } => f.write_str("indexed"),
            Kind::Rgb { .. } => f.write_str("rgb"),
            Kind::Text => f.write_str("text"),
            Kind::Other(n) => write!(f, "type {n}"),
        }
    }
}

impl ColorField {
    /// The field `size` bits wide whose lowest bit is bit `position`.
    pub const fn new(position: u8, size: u8) -> ColorField {
        ColorField { position, size }
    }
}

/// Layouts the host tests draw and parse.
#[cfg(test)]
impl Kind {
    /// 32-bit or 24-bit direct colour with red in the high byte: bits 16–23
    /// red, 8–15 green, 0–7 blue (what QEMU's and OVMF's GOP modes use).
    pub const RGB_888: Kind = Kind::Rgb {
        red: ColorField::new(16, 8),
        green: ColorField::new(8, 8),
        blue: ColorField::new(0, 8),
    };
    /// The same with red and blue swapped: bits 0–7 red, 16–23 blue.
    pub const BGR_888: Kind = Kind::Rgb {
        red: ColorField::new(0, 8),
        green: ColorField::new(8, 8),
        blue: ColorField::new(16, 8),
    };
    /// 16-bit 5-6-5 direct colour: bits 11–15 red, 5–10 green, 0–4 blue.
    pub const RGB_565: Kind = Kind::Rgb {
        red: ColorField::new(11, 5),
        green: ColorField::new(5, 6),
        blue: ColorField::new(0, 5),
    };
}

//! Which screen the console draws on, chosen from the boot information's
//! framebuffer tag before anything is printed:
//!
//! - no tag, or EGA text (what GRUB passes under BIOS): the VGA text screen;
//! - a direct-colour (RGB) framebuffer the console can draw on: the
//!   framebuffer console, with as many cells as fit, the font scaled by the
//!   smallest whole factor that leaves at most [`MAX_COLUMNS`] x
//!   [`MAX_ROWS`] cells (so text stays readable on very large modes: 4K
//!   gets 2x);
//! - anything else (indexed colours, an unknown type, a pixel layout it
//!   cannot draw): no screen, serial only, with the reason.
//!
//! The choice prints as the boot report's `console:` line, e.g.
//! `console: framebuffer 800x600x24 pitch 2400 at 0x80000000, 100x37 cells`.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

use core::fmt;

use super::font::{BUILTIN, GLYPH_WIDTH};
use super::render::{MAX_SCALE, PixelFormat};
use super::screen::{HEIGHT, WIDTH};
use crate::console::pixels::{ColorField, Framebuffer, Kind};

/// At most this many columns: beyond, the font is scaled up.
pub const MAX_COLUMNS: usize = 240;
/// At most this many rows: beyond, the font is scaled up.
pub const MAX_ROWS: usize = 90;

/// The screen the console uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The VGA text screen at 0xb8000.
    VgaText,
    /// A framebuffer, drawn on as [`Layout`] says.
    Framebuffer(Layout),
    /// No screen: output goes to serial only.
    SerialOnly(Reason),
}

/// How the framebuffer console lays text out on a framebuffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The framebuffer, as the boot information describes it.
    pub framebuffer: Framebuffer,
    /// Its pixel format.
    pub format: PixelFormat,
    /// Cells per row.
    pub columns: usize,
    /// Rows of cells.
    pub rows: usize,
    /// Each font pixel is `scale` x `scale` screen pixels.
    pub scale: usize,
}

impl Layout {
    /// Bytes the framebuffer spans: pitch x height.
    pub fn size(&self) -> u64 {
        u64::from(self.framebuffer.pitch) * u64::from(self.framebuffer.height)
    }
}

/// Why there is no screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Indexed colours through a palette.
    Indexed { bpp: u8, colours: u16 },
    /// A framebuffer type the specification does not define.
    UnknownType(u8),
    /// A depth other than 15, 16, 24 or 32 bits per pixel.
    Depth(u8),
    /// A colour field outside the pixel, or empty.
    Fields { bpp: u8 },
    /// A pitch shorter than a line of pixels.
    Pitch { pitch: u32, width: u32, bpp: u8 },
    /// Not even one character fits.
    TooSmall { width: u32, height: u32 },
    /// So large that even the font scaled by [`MAX_SCALE`] leaves more than
    /// [`MAX_COLUMNS`] x [`MAX_ROWS`] cells.
    TooLarge { width: u32, height: u32 },
    /// The framebuffer's range overflows the physical address space.
    Address(u64),
    /// Mapping the framebuffer failed (the log says why).
    Unmappable(u64),
}

/// Chooses the screen for the framebuffer the boot information describes
/// (`None`: no framebuffer tag).
pub fn choose(framebuffer: Option<Framebuffer>) -> Choice {
    let Some(fb) = framebuffer else {
        return Choice::VgaText;
    };
    match fb.kind {
        Kind::Text => Choice::VgaText,
        Kind::Indexed { colours } => Choice::SerialOnly(Reason::Indexed {
            bpp: fb.bpp,
            colours,
        }),
        Kind::Other(n) => Choice::SerialOnly(Reason::UnknownType(n)),
        Kind::Rgb { red, green, blue } => match layout(fb, red, green, blue) {
            Ok(layout) => Choice::Framebuffer(layout),
            Err(reason) => Choice::SerialOnly(reason),
        },
    }
}

/// The layout of an RGB framebuffer, or why the console cannot draw on it.
fn layout(
    fb: Framebuffer,
    red: ColorField,
    green: ColorField,
    blue: ColorField,
) -> Result<Layout, Reason> {
    let bytes_per_pixel = match fb.bpp {
        15 | 16 => 2,
        24 => 3,
        32 => 4,
        bpp => return Err(Reason::Depth(bpp)),
    };
    let fits = |field: ColorField| {
        (1..=16).contains(&field.size)
            && u32::from(field.position) + u32::from(field.size) <= u32::from(fb.bpp)
    };
    if !(fits(red) && fits(green) && fits(blue)) {
        return Err(Reason::Fields { bpp: fb.bpp });
    }
    if u64::from(fb.pitch) < u64::from(fb.width) * bytes_per_pixel as u64 {
        return Err(Reason::Pitch {
            pitch: fb.pitch,
            width: fb.width,
            bpp: fb.bpp,
        });
    }
    let (width, height) = (fb.width as usize, fb.height as usize);
    let glyph_height = BUILTIN.height();
    if width < GLYPH_WIDTH || height < glyph_height {
        return Err(Reason::TooSmall {
            width: fb.width,
            height: fb.height,
        });
    }
    let size = u64::from(fb.pitch) * u64::from(fb.height);
    if fb
        .address
        .checked_add(size)
        .is_none_or(|end| end > MAX_PHYSICAL)
    {
        return Err(Reason::Address(fb.address));
    }
    let mut scale = 1;
    while width / (GLYPH_WIDTH * scale) > MAX_COLUMNS || height / (glyph_height * scale) > MAX_ROWS
    {
        scale += 1;
        if scale > MAX_SCALE {
            return Err(Reason::TooLarge {
                width: fb.width,
                height: fb.height,
            });
        }
    }
    Ok(Layout {
        framebuffer: fb,
        format: PixelFormat {
            bytes_per_pixel,
            red,
            green,
            blue,
        },
        columns: width / (GLYPH_WIDTH * scale),
        rows: height / (glyph_height * scale),
        scale,
    })
}

/// The end of the physical address space x86_64 page tables can map (52
/// bits).
const MAX_PHYSICAL: u64 = 1 << 52;

impl fmt::Display for Choice {
    /// The `console:` line's text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Choice::VgaText => write!(f, "vga text {WIDTH}x{HEIGHT}"),
            Choice::Framebuffer(layout) => {
                let fb = &layout.framebuffer;
                write!(
                    f,
                    "framebuffer {}x{}x{} pitch {} at {:#x}, {}x{} cells",
                    fb.width, fb.height, fb.bpp, fb.pitch, fb.address, layout.columns, layout.rows
                )?;
                if layout.scale > 1 {
                    write!(f, ", font scaled {}x", layout.scale)?;
                }
                Ok(())
            }
            Choice::SerialOnly(reason) => write!(f, "serial only: {reason}"),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Reason::Indexed { bpp, colours } => write!(
                f,
                "the framebuffer has indexed colours ({bpp} bpp, {colours} palette entries), \
                 which this console cannot draw"
            ),
            Reason::UnknownType(n) => write!(f, "the framebuffer has unknown type {n}"),
            Reason::Depth(bpp) => write!(
                f,
                "the framebuffer has {bpp} bits per pixel; this console draws 15, 16, 24 or 32"
            ),
            Reason::Fields { bpp } => write!(
                f,
                "the framebuffer's colour fields do not fit in its {bpp}-bit pixels"
            ),
            Reason::Pitch { pitch, width, bpp } => write!(
                f,
                "the framebuffer's pitch {pitch} is shorter than a line of {width} pixels of {bpp} bits"
            ),
            Reason::TooSmall { width, height } => write!(
                f,
                "the framebuffer's {width}x{height} pixels hold not even one character"
            ),
            Reason::TooLarge { width, height } => write!(
                f,
                "the framebuffer's {width}x{height} pixels are more than this console can fill"
            ),
            Reason::Address(address) => write!(
                f,
                "the framebuffer at {address:#x} lies beyond the physical address space"
            ),
            Reason::Unmappable(address) => {
                write!(f, "the framebuffer at {address:#x} cannot be mapped")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb(width: u32, height: u32, bpp: u8, pitch: u32) -> Framebuffer {
        Framebuffer {
            address: 0x8000_0000,
            pitch,
            width,
            height,
            bpp,
            kind: Kind::RGB_888,
        }
    }

    fn layout_of(fb: Framebuffer) -> Layout {
        match choose(Some(fb)) {
            Choice::Framebuffer(layout) => layout,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn text_or_no_tag_is_the_vga_screen() {
        assert_eq!(choose(None), Choice::VgaText);
        let text = Framebuffer {
            kind: Kind::Text,
            ..rgb(80, 25, 16, 160)
        };
        assert_eq!(choose(Some(text)), Choice::VgaText);
        assert_eq!(Choice::VgaText.to_string(), "vga text 80x25");
    }

    #[test]
    fn rgb_modes_get_as_many_cells_as_fit() {
        let layout = layout_of(rgb(800, 600, 24, 2400));
        assert_eq!((layout.columns, layout.rows, layout.scale), (100, 37, 1));
        assert_eq!(layout.format.bytes_per_pixel, 3);
        assert_eq!(layout.size(), 2400 * 600);
        assert_eq!(
            Choice::Framebuffer(layout).to_string(),
            "framebuffer 800x600x24 pitch 2400 at 0x80000000, 100x37 cells"
        );
        let layout = layout_of(rgb(1280, 800, 32, 5120));
        assert_eq!((layout.columns, layout.rows), (160, 50));
        let layout = layout_of(rgb(1920, 1080, 32, 7680));
        assert_eq!((layout.columns, layout.rows, layout.scale), (240, 67, 1));
    }

    #[test]
    fn very_large_modes_scale_the_font() {
        let layout = layout_of(rgb(3840, 2160, 32, 3840 * 4));
        assert_eq!((layout.columns, layout.rows, layout.scale), (240, 67, 2));
        assert!(
            Choice::Framebuffer(layout)
                .to_string()
                .ends_with("240x67 cells, font scaled 2x")
        );
        let layout = layout_of(rgb(7680, 4320, 32, 7680 * 4));
        assert_eq!(layout.scale, 4);
        let layout = layout_of(rgb(2560, 1600, 32, 2560 * 4));
        assert_eq!((layout.columns, layout.rows, layout.scale), (160, 50, 2));
    }

    #[test]
    fn modes_it_cannot_draw_are_serial_only_with_a_reason() {
        let indexed = Framebuffer {
            kind: Kind::Indexed { colours: 256 },
            ..rgb(640, 480, 8, 640)
        };
        let choice = choose(Some(indexed));
        assert_eq!(
            choice,
            Choice::SerialOnly(Reason::Indexed {
                bpp: 8,
                colours: 256
            })
        );
        assert!(choice.to_string().starts_with(
            "serial only: the framebuffer has indexed colours (8 bpp, 256 palette entries)"
        ));
        let other = Framebuffer {
            kind: Kind::Other(7),
            ..rgb(640, 480, 32, 2560)
        };
        assert_eq!(
            choose(Some(other)),
            Choice::SerialOnly(Reason::UnknownType(7))
        );
        assert_eq!(
            choose(Some(rgb(640, 480, 8, 640))),
            Choice::SerialOnly(Reason::Depth(8))
        );
        assert_eq!(
            choose(Some(rgb(640, 480, 16, 1280))),
            Choice::SerialOnly(Reason::Fields { bpp: 16 })
        );
        assert_eq!(
            choose(Some(rgb(640, 480, 32, 2000))),
            Choice::SerialOnly(Reason::Pitch {
                pitch: 2000,
                width: 640,
                bpp: 32
            })
        );
        assert_eq!(
            choose(Some(rgb(4, 480, 32, 16))),
            Choice::SerialOnly(Reason::TooSmall {
                width: 4,
                height: 480
            })
        );
        assert_eq!(
            choose(Some(rgb(20000, 2000, 32, 80000))),
            Choice::SerialOnly(Reason::TooLarge {
                width: 20000,
                height: 2000
            })
        );
        let far = Framebuffer {
            address: u64::MAX - 100,
            ..rgb(640, 480, 32, 2560)
        };
        assert_eq!(
            choose(Some(far)),
            Choice::SerialOnly(Reason::Address(u64::MAX - 100))
        );
    }

    #[test]
    fn sixteen_bit_and_bgr_layouts_are_drawn() {
        let fb = Framebuffer {
            kind: Kind::RGB_565,
            ..rgb(1024, 768, 16, 2048)
        };
        assert_eq!(layout_of(fb).format.bytes_per_pixel, 2);
        let bgr = Framebuffer {
            kind: Kind::BGR_888,
            ..rgb(1024, 768, 32, 4096)
        };
        assert_eq!(layout_of(bgr).columns, 128);
    }
}

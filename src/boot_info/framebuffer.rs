//! The framebuffer tag (type 8): where the boot loader left the screen and
//! how its pixels are laid out (Multiboot2 specification, section 3.6.12).
//!
//! The one parser of this tag: [`super::validate`] uses it to check the tag,
//! the boot report to describe it, and a console to draw on it.
//!
//! Layout after the 8-byte tag header (offsets into the payload):
//!
//! ```text
//!  0 u64 address     8 u32 pitch     12 u32 width     16 u32 height
//! 20 u8  bpp        21 u8  type      22 u16 reserved  24 colour info...
//! ```
//!
//! Colour info: for type 0 (indexed) a `u16` colour count and that many
//! 3-byte palette entries; for type 1 (RGB) the position and size in bits
//! of the red, green and blue fields, one byte each; none for type 2 (EGA
//! text, where width and height count characters).
//!
//! Pure logic over the tag's bytes, tested on the host.

#![forbid(unsafe_code)]

use crate::bytes::{u16_at, u32_at, u64_at};
use crate::console::pixels::{ColorField, Framebuffer, Kind};

/// Offset of the physical address in the payload.
const ADDRESS: usize = 0;
/// Offset of the pitch (bytes per line).
const PITCH: usize = 8;
/// Offset of the width (pixels, or characters for text).
const WIDTH: usize = 12;
/// Offset of the height (pixels, or characters for text).
const HEIGHT: usize = 16;
/// Offset of the bits per pixel.
const BPP: usize = 20;
/// Offset of the type byte.
const TYPE: usize = 21;
/// Size of the common part, up to the colour info.
pub const COMMON_SIZE: usize = 24;
/// Size of the indexed type's colour count.
const PALETTE_COUNT_SIZE: usize = 2;
/// Size of one palette entry (red, green, blue).
const PALETTE_ENTRY_SIZE: usize = 3;
/// Size of the RGB type's field description: position and size of each.
const RGB_INFO_SIZE: usize = 6;

/// Type 0: indexed colours with a palette.
const TYPE_INDEXED: u8 = 0;
/// Type 1: direct RGB colour.
const TYPE_RGB: u8 = 1;
/// Type 2: EGA text mode.
const TYPE_TEXT: u8 = 2;

/// Parses the tag's payload (the bytes after its 8-byte header), or says
/// what is missing.
pub fn parse(payload: &[u8]) -> Result<Framebuffer, &'static str> {
    let short = "framebuffer tag shorter than its common fields";
    if payload.len() < COMMON_SIZE {
        return Err(short);
    }
    let u32_at = |offset| u32_at(payload, offset).ok_or(short);
    let info = &payload[COMMON_SIZE..];
    let kind = match payload[TYPE] {
        TYPE_INDEXED => {
            let colours = u16_at(info, 0).ok_or("indexed framebuffer without a palette size")?;
            let palette = usize::from(colours) * PALETTE_ENTRY_SIZE;
            if palette > info.len() - PALETTE_COUNT_SIZE {
                return Err("indexed framebuffer palette runs past the tag");
            }
            Kind::Indexed { colours }
        }
        TYPE_RGB => {
            let Some(&[red, red_size, green, green_size, blue, blue_size]) =
                info.get(..RGB_INFO_SIZE)
            else {
                return Err("RGB framebuffer without its colour field positions");
            };
            Kind::Rgb {
                red: ColorField::new(red, red_size),
                green: ColorField::new(green, green_size),
                blue: ColorField::new(blue, blue_size),
            }
        }
        TYPE_TEXT => Kind::Text,
        other => Kind::Other(other),
    };
    Ok(Framebuffer {
        address: u64_at(payload, ADDRESS).ok_or(short)?,
        pitch: u32_at(PITCH)?,
        width: u32_at(WIDTH)?,
        height: u32_at(HEIGHT)?,
        bpp: payload[BPP],
        kind,
    })
}

/// The boot information's tag type for a framebuffer.
const TAG_FRAMEBUFFER: u32 = 8;
/// The boot information's end tag type.
const TAG_END: u32 = 0;

/// The framebuffer in boot information that failed validation, if the
/// well-formed tags before the first bad one include a framebuffer tag
/// that parses: so that a `boot error:` about the boot information still
/// reaches the screen the boot loader set up. `bytes` is the whole
/// structure (its 8-byte header, then tags, each 8-byte aligned); the walk
/// stops at the end tag or at the first tag whose size does not fit.
pub fn salvage(bytes: &[u8]) -> Option<Framebuffer> {
    let u32_at = |offset: usize| u32_at(bytes, offset);
    let mut offset = 8;
    loop {
        let (typ, size) = (u32_at(offset)?, u32_at(offset + 4)? as usize);
        if typ == TAG_END || size < 8 || offset.checked_add(size)? > bytes.len() {
            return None;
        }
        if typ == TAG_FRAMEBUFFER {
            return parse(&bytes[offset + 8..offset + size]).ok();
        }
        offset = (offset + size).checked_next_multiple_of(8)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A payload with the common fields and `info`.
    fn payload(kind: u8, bpp: u8, info: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0xfd00_0000u64.to_le_bytes());
        bytes.extend_from_slice(&4096u32.to_le_bytes());
        bytes.extend_from_slice(&1024u32.to_le_bytes());
        bytes.extend_from_slice(&768u32.to_le_bytes());
        bytes.extend_from_slice(&[bpp, kind, 0, 0]);
        bytes.extend_from_slice(info);
        bytes
    }

    #[test]
    fn rgb_fields_are_read_in_order() {
        let fb = parse(&payload(1, 32, &[16, 8, 8, 8, 0, 8])).unwrap();
        assert_eq!(
            fb,
            Framebuffer {
                address: 0xfd00_0000,
                pitch: 4096,
                width: 1024,
                height: 768,
                bpp: 32,
                kind: Kind::RGB_888,
            }
        );
        assert_eq!(fb.kind.to_string(), "rgb");
    }

    #[test]
    fn text_indexed_and_unknown_types() {
        assert_eq!(parse(&payload(2, 16, &[])).unwrap().kind, Kind::Text);
        let indexed = payload(0, 8, &[2, 0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(parse(&indexed).unwrap().kind, Kind::Indexed { colours: 2 });
        assert_eq!(parse(&payload(9, 4, &[])).unwrap().kind, Kind::Other(9));
        assert_eq!(Kind::Other(9).to_string(), "type 9");
        assert_eq!(Kind::Text.to_string(), "text");
        assert_eq!(Kind::Indexed { colours: 1 }.to_string(), "indexed");
    }

    /// A boot information structure: header, then `tags` (type, payload).
    fn structure(tags: &[(u32, Vec<u8>)]) -> Vec<u8> {
        let mut bytes = vec![0u8; 8];
        for (typ, payload) in tags {
            bytes.extend_from_slice(&typ.to_le_bytes());
            bytes.extend_from_slice(&(8 + payload.len() as u32).to_le_bytes());
            bytes.extend_from_slice(payload);
            bytes.resize(bytes.len().next_multiple_of(8), 0);
        }
        bytes
    }

    #[test]
    fn salvage_finds_the_framebuffer_before_a_broken_tag() {
        let rgb = payload(1, 32, &[16, 8, 8, 8, 0, 8]);
        let good = structure(&[(1, b"cmdline\0".to_vec()), (8, rgb.clone()), (0, vec![])]);
        assert_eq!(salvage(&good), parse(&rgb).ok());
        // A tag after the framebuffer runs past the end: still found.
        let mut broken = structure(&[(8, rgb.clone()), (4, vec![1, 2, 3, 4])]);
        let last = broken.len() - 12;
        broken[last..last + 4].copy_from_slice(&999u32.to_le_bytes());
        assert!(salvage(&broken).is_some());
        // A broken tag before it: not found.
        let mut before = structure(&[(4, vec![1, 2, 3, 4]), (8, rgb)]);
        before[12..16].copy_from_slice(&3u32.to_le_bytes());
        assert_eq!(salvage(&before), None);
        assert_eq!(salvage(&structure(&[(0, vec![])])), None);
        assert_eq!(salvage(&[0; 4]), None);
    }

    #[test]
    fn short_tags_are_refused_with_a_reason() {
        assert!(parse(&payload(2, 16, &[])[..COMMON_SIZE - 1]).is_err());
        assert_eq!(
            parse(&payload(1, 32, &[16, 8, 8, 8, 0])),
            Err("RGB framebuffer without its colour field positions")
        );
        assert_eq!(
            parse(&payload(0, 8, &[1])),
            Err("indexed framebuffer without a palette size")
        );
        assert_eq!(
            parse(&payload(0, 8, &[2, 0, 1, 2, 3, 4, 5])),
            Err("indexed framebuffer palette runs past the tag")
        );
    }
}

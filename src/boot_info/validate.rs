//! Checks a Multiboot2 boot information structure before anything trusts it.
//!
//! The `multiboot2` crate assumes well-formed tags: a malformed chain or tag
//! can hit an assertion inside it (a panic) or make it read past the end. So
//! [`validate`] walks the structure itself, over a plain byte slice, and
//! returns a [`Problem`] naming the first thing wrong. Only then does
//! [`super::BootInfo::from_bytes`] hand the bytes to the crate.
//!
//! What is checked (Multiboot2 specification, section 3.6):
//!
//! - the structure starts 8-byte aligned and its `total_size` is a multiple
//!   of 8, at least the 8-byte header plus the 8-byte end tag, at most
//!   [`MAX_TOTAL_SIZE`], and inside the slice;
//! - every tag starts 8-byte aligned (each follows the previous one padded to
//!   8), has a size of at least 8 and ends inside `total_size`;
//! - an end tag (type 0, size 8) closes the chain exactly at `total_size`;
//! - every tag type the kernel reads (through the crate, or itself as the
//!   ELF sections for backtraces) has the layout that code relies on: see
//!   [`check_tag`] for each type;
//! - there is a memory map (nothing can be allocated without one).
//!
//! Limits: strings (command lines, loader name) are not checked here; the
//! crate returns an error for a missing NUL or bad UTF-8, which callers
//! handle. Tag types the kernel does not read are only checked for size and
//! bounds.
//!
//! Pure logic over `&[u8]`: host unit tests feed it synthetic buffers.

#![forbid(unsafe_code)]

use core::fmt;

use crate::bytes::{u32_at, u64_at};

/// The largest `total_size` accepted. GRUB's information is a few KiB (most
/// of it the memory map); anything beyond this is a wild value.
pub const MAX_TOTAL_SIZE: usize = 4 * 1024 * 1024;

/// The boot information and every tag in it start on this boundary.
pub const ALIGNMENT: usize = 8;

/// The fixed header: `total_size: u32`, `reserved: u32`.
pub const HEADER_SIZE: usize = 8;

/// Every tag starts with `type: u32`, `size: u32`.
pub const TAG_HEADER_SIZE: usize = 8;

/// The smallest possible structure: the header and an end tag.
pub const MIN_TOTAL_SIZE: usize = HEADER_SIZE + TAG_HEADER_SIZE;

/// Tag type numbers (specification, section 3.6).
pub mod tag_type {
    /// Closes the tag chain.
    pub const END: u32 = 0;
    /// The kernel command line (read through the crate; named for tests).
    #[cfg(test)]
    pub const CMDLINE: u32 = 1;
    /// The boot loader's name (read through the crate; named for tests).
    #[cfg(test)]
    pub const BOOT_LOADER_NAME: u32 = 2;
    /// One boot module (`module2`).
    pub const MODULE: u32 = 3;
    /// The memory map.
    pub const MEMORY_MAP: u32 = 6;
    /// The kernel's ELF section headers, with where GRUB loaded each (the
    /// reserved list and the symbol table for backtraces read them).
    pub const ELF_SECTIONS: u32 = 9;
    /// The framebuffer.
    pub const FRAMEBUFFER: u32 = 8;
    /// A copy of the ACPI 1.0 RSDP.
    pub const ACPI_OLD: u32 = 14;
    /// A copy of the ACPI 2.0+ RSDP.
    pub const ACPI_NEW: u32 = 15;
}

/// Size of the module tag before its command line: header, start, end.
const MODULE_FIXED_SIZE: usize = 16;
/// Size of the memory-map tag before its entries: header, entry size, version.
const MEMORY_MAP_FIXED_SIZE: usize = 16;
/// The only memory-map entry size the crate understands: base, length, type,
/// reserved.
pub const MEMORY_MAP_ENTRY_SIZE: usize = 24;
/// Size of the ELF-sections tag before its section headers: header, number of
/// sections, entry size, string-table index.
const ELF_SECTIONS_FIXED_SIZE: usize = 20;
/// A 64-bit ELF section header; the crate reads only this size or
/// [`ELF32_SECTION_HEADER_SIZE`] (it panics on any other entry size).
pub const ELF64_SECTION_HEADER_SIZE: usize = 64;
/// A 32-bit ELF section header.
const ELF32_SECTION_HEADER_SIZE: usize = 40;
/// `shndx` of 0 (`SHN_UNDEF`): there is no section-name string table.
const SHN_UNDEF: u32 = 0;
/// ACPI 1.0 RSDP tag: header + 20-byte RSDP. The crate reads it as a fixed
/// 28-byte structure padded to 32, so the size must lie in 28..=32.
const ACPI_OLD_SIZES: (usize, usize) = (28, 32);
/// ACPI 2.0 RSDP tag: header + 36-byte RSDP (44 bytes), read by the crate as a
/// fixed structure padded to 48; the XSDT address ends at byte 40, so the
/// size must lie in 41..=48.
const ACPI_NEW_SIZES: (usize, usize) = (41, 48);

/// The first thing found wrong with a boot information structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The structure does not start on an 8-byte boundary.
    Misaligned { address: usize },
    /// Fewer bytes than the 8-byte header.
    Truncated { available: usize },
    /// `total_size` is below the header plus an end tag, above
    /// [`MAX_TOTAL_SIZE`], or not a multiple of 8.
    BadTotalSize { total_size: usize },
    /// `total_size` claims more bytes than there are.
    TotalSizeBeyondData { total_size: usize, available: usize },
    /// Fewer than 8 bytes left for the next tag's header.
    TruncatedTag { offset: usize },
    /// A tag's size is below its 8-byte header.
    TagTooSmall {
        offset: usize,
        tag_type: u32,
        size: usize,
    },
    /// A tag reaches past `total_size`.
    TagBeyondEnd {
        offset: usize,
        tag_type: u32,
        size: usize,
        total_size: usize,
    },
    /// An end tag whose size is not 8.
    BadEndTag { offset: usize, size: usize },
    /// An end tag before the end of the structure.
    EndTagNotLast { offset: usize, total_size: usize },
    /// The chain reached `total_size` without an end tag.
    MissingEndTag,
    /// A tag of a known type whose size or contents do not fit its layout.
    BadTag {
        offset: usize,
        tag_type: u32,
        what: &'static str,
    },
    /// No memory-map tag.
    NoMemoryMap,
    /// The `multiboot2` crate refused a structure that passed every check
    /// here (a gap between its checks and ours; never seen).
    CrateRejected,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Problem::Misaligned { address } => {
                write!(
                    f,
                    "the boot information at {address:#x} is not 8-byte aligned"
                )
            }
            Problem::Truncated { available } => write!(
                f,
                "the boot information is truncated: {available} bytes, less than its {HEADER_SIZE}-byte header"
            ),
            Problem::BadTotalSize { total_size } => write!(
                f,
                "the boot information's total size {total_size} is implausible \
                 (must be a multiple of {ALIGNMENT} from {MIN_TOTAL_SIZE} to {MAX_TOTAL_SIZE})"
            ),
            Problem::TotalSizeBeyondData {
                total_size,
                available,
            } => write!(
                f,
                "the boot information's total size {total_size} exceeds the {available} bytes available"
            ),
            Problem::TruncatedTag { offset } => {
                write!(
                    f,
                    "boot information tag at offset {offset} is cut off by the total size"
                )
            }
            Problem::TagTooSmall {
                offset,
                tag_type,
                size,
            } => write!(
                f,
                "boot information tag at offset {offset} (type {tag_type}) has size {size}, \
                 less than its {TAG_HEADER_SIZE}-byte header"
            ),
            Problem::TagBeyondEnd {
                offset,
                tag_type,
                size,
                total_size,
            } => write!(
                f,
                "boot information tag at offset {offset} (type {tag_type}, size {size}) \
                 runs past the total size {total_size}"
            ),
            Problem::BadEndTag { offset, size } => write!(
                f,
                "boot information end tag at offset {offset} has size {size}, not {TAG_HEADER_SIZE}"
            ),
            Problem::EndTagNotLast { offset, total_size } => write!(
                f,
                "boot information end tag at offset {offset} is not at the end (total size {total_size})"
            ),
            Problem::MissingEndTag => write!(f, "the boot information has no end tag"),
            Problem::BadTag {
                offset,
                tag_type,
                what,
            } => write!(
                f,
                "boot information tag at offset {offset} (type {tag_type}): {what}"
            ),
            Problem::NoMemoryMap => write!(f, "the boot information has no memory map"),
            Problem::CrateRejected => {
                write!(f, "the multiboot2 crate rejected the boot information")
            }
        }
    }
}

/// The `u32` field at `offset` of a tag, or `what` when the tag is too
/// short to hold it (the size checks before each read make that
/// impossible; the reader is checked all the same).
fn tag_u32(tag: &[u8], offset: usize, what: &'static str) -> Result<u32, &'static str> {
    u32_at(tag, offset).ok_or(what)
}

/// Reads the `total_size` field from the first bytes of a structure, after
/// checking there are enough of them. The kernel glue uses it to learn how
/// long a slice to make.
pub fn read_total_size(header: &[u8]) -> Result<usize, Problem> {
    if header.len() < HEADER_SIZE {
        return Err(Problem::Truncated {
            available: header.len(),
        });
    }
    u32_at(header, 0)
        .map(|size| size as usize)
        .ok_or(Problem::Truncated {
            available: header.len(),
        })
}

/// Checks that `total_size` is plausible on its own: a multiple of 8, at
/// least a header and an end tag, at most [`MAX_TOTAL_SIZE`].
pub fn check_total_size(total_size: usize) -> Result<(), Problem> {
    if !(MIN_TOTAL_SIZE..=MAX_TOTAL_SIZE).contains(&total_size)
        || !total_size.is_multiple_of(ALIGNMENT)
    {
        return Err(Problem::BadTotalSize { total_size });
    }
    Ok(())
}

/// Rounds `value` up to the next multiple of [`ALIGNMENT`] (no overflow: the
/// callers' values are bounded by [`MAX_TOTAL_SIZE`]).
fn align_up(value: usize) -> usize {
    (value + ALIGNMENT - 1) & !(ALIGNMENT - 1)
}

/// Validates the boot information in `bytes` (which starts at the structure
/// and may extend beyond its `total_size`). `Ok` means the `multiboot2` crate
/// can read every tag the kernel uses without panicking or leaving the slice.
pub fn validate(bytes: &[u8]) -> Result<(), Problem> {
    let address = bytes.as_ptr() as usize;
    if !address.is_multiple_of(ALIGNMENT) {
        return Err(Problem::Misaligned { address });
    }
    let total_size = read_total_size(bytes)?;
    check_total_size(total_size)?;
    if total_size > bytes.len() {
        return Err(Problem::TotalSizeBeyondData {
            total_size,
            available: bytes.len(),
        });
    }
    let bytes = &bytes[..total_size];

    let mut offset = HEADER_SIZE;
    let mut memory_map_seen = false;
    loop {
        if offset == total_size {
            return Err(Problem::MissingEndTag);
        }
        // `offset` stays a multiple of 8 below `total_size`, itself a multiple
        // of 8, so a whole tag header fits; kept as a check regardless.
        if total_size - offset < TAG_HEADER_SIZE {
            return Err(Problem::TruncatedTag { offset });
        }
        let (Some(tag_type), Some(size)) = (u32_at(bytes, offset), u32_at(bytes, offset + 4))
        else {
            return Err(Problem::TruncatedTag { offset });
        };
        let size = size as usize;
        if size < TAG_HEADER_SIZE {
            return Err(Problem::TagTooSmall {
                offset,
                tag_type,
                size,
            });
        }
        if size > total_size - offset {
            return Err(Problem::TagBeyondEnd {
                offset,
                tag_type,
                size,
                total_size,
            });
        }
        if tag_type == tag_type::END {
            if size != TAG_HEADER_SIZE {
                return Err(Problem::BadEndTag { offset, size });
            }
            if offset + size != total_size {
                return Err(Problem::EndTagNotLast { offset, total_size });
            }
            break;
        }
        check_tag(&bytes[offset..offset + size], tag_type).map_err(|what| Problem::BadTag {
            offset,
            tag_type,
            what,
        })?;
        memory_map_seen |= tag_type == tag_type::MEMORY_MAP;
        // Both are multiples of 8 and size <= total_size - offset, so this
        // stays <= total_size.
        offset += align_up(size);
    }
    if !memory_map_seen {
        return Err(Problem::NoMemoryMap);
    }
    Ok(())
}

/// Checks one tag (`tag` is exactly its `size` bytes, header included) of a
/// type the kernel reads through the crate, against the layout the crate
/// assumes. Returns what is wrong.
fn check_tag(tag: &[u8], tag_type: u32) -> Result<(), &'static str> {
    let size = tag.len();
    match tag_type {
        tag_type::MODULE => {
            if size < MODULE_FIXED_SIZE {
                return Err("module tag shorter than its start and end fields");
            }
            let short = "module tag shorter than its start and end fields";
            if tag_u32(tag, 12, short)? < tag_u32(tag, 8, short)? {
                return Err("module ends before it starts");
            }
        }
        tag_type::MEMORY_MAP => {
            if size < MEMORY_MAP_FIXED_SIZE {
                return Err("memory map tag shorter than its entry-size fields");
            }
            let short = "memory map tag shorter than its entry-size fields";
            if tag_u32(tag, 8, short)? as usize != MEMORY_MAP_ENTRY_SIZE {
                return Err("memory map entry size is not 24");
            }
            if !(size - MEMORY_MAP_FIXED_SIZE).is_multiple_of(MEMORY_MAP_ENTRY_SIZE) {
                return Err("memory map size is not a whole number of entries");
            }
            let entries = tag[MEMORY_MAP_FIXED_SIZE..].chunks_exact(MEMORY_MAP_ENTRY_SIZE);
            for entry in entries {
                let (Some(start), Some(length)) = (u64_at(entry, 0), u64_at(entry, 8)) else {
                    return Err("memory map size is not a whole number of entries");
                };
                if start.checked_add(length).is_none() {
                    return Err("memory map region runs past the end of the address space");
                }
            }
        }
        tag_type::FRAMEBUFFER => {
            super::framebuffer::parse(&tag[TAG_HEADER_SIZE..])?;
        }
        tag_type::ELF_SECTIONS => {
            if size < ELF_SECTIONS_FIXED_SIZE {
                return Err("ELF-sections tag shorter than its fixed fields");
            }
            let short = "ELF-sections tag shorter than its fixed fields";
            let count = tag_u32(tag, 8, short)? as usize;
            let entry_size = tag_u32(tag, 12, short)? as usize;
            if entry_size != ELF64_SECTION_HEADER_SIZE && entry_size != ELF32_SECTION_HEADER_SIZE {
                return Err("ELF section header size is not 64 or 40");
            }
            // count < 2^32 and entry_size <= 64, so the product fits.
            if count * entry_size > size - ELF_SECTIONS_FIXED_SIZE {
                return Err("ELF section headers run past the end of the tag");
            }
            let shndx = tag_u32(tag, 16, short)?;
            if shndx != SHN_UNDEF && shndx as usize >= count {
                return Err("ELF section-name table index is not a section");
            }
        }
        tag_type::ACPI_OLD if !(ACPI_OLD_SIZES.0..=ACPI_OLD_SIZES.1).contains(&size) => {
            return Err("ACPI 1.0 RSDP tag size is not 28 to 32");
        }
        tag_type::ACPI_NEW if !(ACPI_NEW_SIZES.0..=ACPI_NEW_SIZES.1).contains(&size) => {
            return Err("ACPI 2.0 RSDP tag size is not 41 to 48");
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boot_info::test_support::{Aligned, Builder, typical};

    /// Validates a test buffer.
    fn check(buffer: &Aligned) -> Result<(), Problem> {
        validate(buffer.bytes())
    }

    /// A minimal well-formed structure: a memory map and the end tag.
    fn minimal() -> Builder {
        Builder::new().memory_map(&[(0, 0x9fc00, 1)])
    }

    #[test]
    fn accepts_what_grub_passes() {
        assert_eq!(check(&typical().build()), Ok(()));
        assert_eq!(check(&minimal().end().build()), Ok(()));
    }

    #[test]
    fn accepts_trailing_bytes_beyond_total_size() {
        let mut bytes = typical().build().bytes().to_vec();
        bytes.extend_from_slice(&[0xff; 24]);
        assert_eq!(check(&Aligned::from_bytes(&bytes)), Ok(()));
    }

    #[test]
    fn rejects_misaligned_start() {
        let buffer = Aligned::from_bytes(&[&[0u8][..], typical().build().bytes()].concat());
        let result = validate(&buffer.bytes()[1..]);
        assert!(
            matches!(result, Err(Problem::Misaligned { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn rejects_truncated_header() {
        for len in 0..HEADER_SIZE {
            let buffer = Aligned::from_bytes(&typical().build().bytes()[..len]);
            assert_eq!(check(&buffer), Err(Problem::Truncated { available: len }));
        }
    }

    #[test]
    fn rejects_implausible_total_sizes() {
        for total in [0, 8, 15, 17, 100, MAX_TOTAL_SIZE as u32 + 8, u32::MAX] {
            let buffer = minimal().end().build_with_total_size(total);
            assert_eq!(
                check(&buffer),
                Err(Problem::BadTotalSize {
                    total_size: total as usize
                })
            );
        }
    }

    #[test]
    fn rejects_total_size_beyond_the_data() {
        let full = typical().build();
        let cut = Aligned::from_bytes(&full.bytes()[..full.bytes().len() - 8]);
        assert_eq!(
            check(&cut),
            Err(Problem::TotalSizeBeyondData {
                total_size: full.bytes().len(),
                available: full.bytes().len() - 8
            })
        );
    }

    #[test]
    fn rejects_total_size_that_cuts_a_tag() {
        // Header (8) + memory map tag (16 + 24) + end (8) = 56; claim 40.
        let buffer = minimal().end().build_with_total_size(40);
        assert_eq!(
            check(&buffer),
            Err(Problem::TagBeyondEnd {
                offset: 8,
                tag_type: 6,
                size: 40,
                total_size: 40
            })
        );
        // Claim 48: the chain stops before the end tag.
        let buffer = minimal().end().build_with_total_size(48);
        assert_eq!(check(&buffer), Err(Problem::MissingEndTag));
        // Claim 64: the end tag is followed by 8 more bytes of zero "tag".
        let mut bytes = minimal().end().build().bytes().to_vec();
        bytes.extend_from_slice(&[0; 8]);
        bytes[..4].copy_from_slice(&64u32.to_le_bytes());
        assert_eq!(
            check(&Aligned::from_bytes(&bytes)),
            Err(Problem::EndTagNotLast {
                offset: 48,
                total_size: 64
            })
        );
    }

    #[test]
    fn rejects_zero_sized_and_small_tags() {
        for size in [0u32, 1, 7] {
            let mut raw = 99u32.to_le_bytes().to_vec();
            raw.extend_from_slice(&size.to_le_bytes());
            let buffer = minimal().raw(&raw).end().build();
            assert_eq!(
                check(&buffer),
                Err(Problem::TagTooSmall {
                    offset: 48,
                    tag_type: 99,
                    size: size as usize
                })
            );
        }
    }

    #[test]
    fn rejects_tag_overlapping_the_end() {
        let mut raw = 99u32.to_le_bytes().to_vec();
        raw.extend_from_slice(&17u32.to_le_bytes()); // 17 > the 16 bytes left
        let buffer = minimal().raw(&raw).end().build();
        assert_eq!(
            check(&buffer),
            Err(Problem::TagBeyondEnd {
                offset: 48,
                tag_type: 99,
                size: 17,
                total_size: 64
            })
        );
    }

    #[test]
    fn rejects_missing_end_tag() {
        assert_eq!(check(&minimal().build()), Err(Problem::MissingEndTag));
        assert_eq!(
            check(&minimal().cmdline("x").build()),
            Err(Problem::MissingEndTag)
        );
    }

    #[test]
    fn rejects_bad_end_tag() {
        let buffer = minimal().tag(tag_type::END, &[0; 8]).build();
        assert_eq!(
            check(&buffer),
            Err(Problem::BadEndTag {
                offset: 48,
                size: 16
            })
        );
        let early = minimal().end().cmdline("after the end").end().build();
        assert!(matches!(
            check(&early),
            Err(Problem::EndTagNotLast { offset: 48, .. })
        ));
    }

    #[test]
    fn rejects_misaligned_tag() {
        // A 9-byte tag followed directly by the next one, without the padding
        // to 8: the walker reads the next header 7 bytes late (garbage).
        let mut raw = 1u32.to_le_bytes().to_vec();
        raw.extend_from_slice(&9u32.to_le_bytes());
        raw.push(0);
        raw.extend_from_slice(&[0, 0, 0, 0, 8, 0, 0, 0]); // an end tag, unaligned
        raw.extend_from_slice(&[0; 7]);
        let buffer = minimal().raw(&raw).build();
        assert!(check(&buffer).is_err());
    }

    #[test]
    fn rejects_memory_maps_the_crate_cannot_read() {
        let mut wrong_entry_size = 20u32.to_le_bytes().to_vec();
        wrong_entry_size.extend_from_slice(&[0; 4 + 20]);
        let buffer = Builder::new()
            .tag(tag_type::MEMORY_MAP, &wrong_entry_size)
            .end()
            .build();
        assert!(matches!(
            check(&buffer),
            Err(Problem::BadTag {
                what: "memory map entry size is not 24",
                ..
            })
        ));

        let mut partial = 24u32.to_le_bytes().to_vec();
        partial.extend_from_slice(&[0; 4 + 20]);
        let buffer = Builder::new()
            .tag(tag_type::MEMORY_MAP, &partial)
            .end()
            .build();
        assert!(matches!(
            check(&buffer),
            Err(Problem::BadTag {
                offset: 8,
                tag_type: 6,
                ..
            })
        ));

        let buffer = Builder::new()
            .tag(tag_type::MEMORY_MAP, &[0; 4])
            .end()
            .build();
        assert!(matches!(check(&buffer), Err(Problem::BadTag { .. })));

        let overflow = Builder::new()
            .memory_map(&[(u64::MAX - 10, 11, 1)])
            .end()
            .build();
        assert!(matches!(check(&overflow), Err(Problem::BadTag { .. })));
        let top = Builder::new()
            .memory_map(&[(u64::MAX - 10, 10, 1)])
            .end()
            .build();
        assert_eq!(check(&top), Ok(()));
    }

    #[test]
    fn rejects_elf_sections_the_crate_cannot_read() {
        let sections = minimal()
            .elf_sections(&[(0, 0), (0x30_0000, 0x100)])
            .end()
            .build();
        assert_eq!(check(&sections), Ok(()));
        let short = minimal().tag(tag_type::ELF_SECTIONS, &[0; 8]).end().build();
        assert!(matches!(
            check(&short),
            Err(Problem::BadTag { tag_type: 9, .. })
        ));
        // number 1, entry size 48, index 0, one 48-byte entry
        let mut odd = [1u32, 48, 0].map(u32::to_le_bytes).concat();
        odd.extend_from_slice(&[0; 48]);
        let wrong_entry_size = minimal().tag(tag_type::ELF_SECTIONS, &odd).end().build();
        assert!(matches!(
            check(&wrong_entry_size),
            Err(Problem::BadTag {
                what: "ELF section header size is not 64 or 40",
                ..
            })
        ));
    }

    #[test]
    fn rejects_module_ending_before_it_starts() {
        let buffer = minimal().module(0x2000, 0x1fff, "").end().build();
        assert!(matches!(
            check(&buffer),
            Err(Problem::BadTag {
                tag_type: 3,
                what: "module ends before it starts",
                ..
            })
        ));
        let short = minimal().tag(tag_type::MODULE, &[0; 4]).end().build();
        assert!(matches!(
            check(&short),
            Err(Problem::BadTag { tag_type: 3, .. })
        ));
        let empty = minimal().module(0x2000, 0x2000, "").end().build();
        assert_eq!(check(&empty), Ok(()));
    }

    #[test]
    fn rejects_framebuffers_the_crate_cannot_read() {
        let indexed = |colours: u16, palette: usize| {
            let mut info = colours.to_le_bytes().to_vec();
            info.extend(vec![0; palette]);
            minimal()
                .framebuffer(0xa0000, 320, (320, 200), 8, 0, &info)
                .end()
                .build()
        };
        assert_eq!(check(&indexed(16, 48)), Ok(()));
        assert!(matches!(
            check(&indexed(17, 48)),
            Err(Problem::BadTag { tag_type: 8, .. })
        ));
        let no_count = minimal()
            .framebuffer(0xa0000, 320, (320, 200), 8, 0, &[])
            .end()
            .build();
        assert!(matches!(
            check(&no_count),
            Err(Problem::BadTag { tag_type: 8, .. })
        ));
        let rgb = |info: &[u8]| {
            minimal()
                .framebuffer(0xfd00_0000, 4096, (1024, 768), 32, 1, info)
                .end()
                .build()
        };
        assert_eq!(check(&rgb(&[16, 8, 8, 8, 0, 8])), Ok(()));
        assert!(matches!(
            check(&rgb(&[16, 8, 8])),
            Err(Problem::BadTag { tag_type: 8, .. })
        ));
        let short = minimal().tag(tag_type::FRAMEBUFFER, &[0; 20]).end().build();
        assert!(matches!(
            check(&short),
            Err(Problem::BadTag { tag_type: 8, .. })
        ));
    }

    #[test]
    fn rejects_rsdp_copies_of_the_wrong_size() {
        assert_eq!(check(&minimal().rsdp_v1(0x1000).end().build()), Ok(()));
        assert_eq!(
            check(&minimal().rsdp_v2(0x1000, 0x2000).end().build()),
            Ok(())
        );
        for (typ, len) in [
            (tag_type::ACPI_OLD, 12),
            (tag_type::ACPI_OLD, 28),
            (tag_type::ACPI_NEW, 20),
            (tag_type::ACPI_NEW, 48),
        ] {
            let buffer = minimal().tag(typ, &vec![0; len]).end().build();
            assert!(
                matches!(check(&buffer), Err(Problem::BadTag { .. })),
                "type {typ} payload {len}"
            );
        }
    }

    #[test]
    fn accepts_the_elf_sections_grub_passes() {
        // Five 64-byte headers, section names in section 4.
        let buffer = minimal().elf_sections_raw(5, 64, 4, 5 * 64).end().build();
        assert_eq!(check(&buffer), Ok(()));
        // shndx 0 (SHN_UNDEF): no section names; no sections at all.
        let buffer = minimal().elf_sections_raw(5, 64, 0, 5 * 64).end().build();
        assert_eq!(check(&buffer), Ok(()));
        let buffer = minimal().elf_sections_raw(0, 64, 0, 0).end().build();
        assert_eq!(check(&buffer), Ok(()));
        // More header bytes than announced (padding) are fine.
        let buffer = minimal().elf_sections_raw(2, 64, 1, 3 * 64).end().build();
        assert_eq!(check(&buffer), Ok(()));
        // ELF32 headers, as the crate reads them too.
        let buffer = minimal().elf_sections_raw(3, 40, 2, 3 * 40).end().build();
        assert_eq!(check(&buffer), Ok(()));
    }

    #[test]
    fn rejects_elf_sections_nothing_can_read() {
        let bad = |what: &str, buffer: Aligned| match check(&buffer) {
            Err(Problem::BadTag {
                tag_type: 9,
                what: found,
                ..
            }) => assert!(found.contains(what), "{found:?} lacks {what:?}"),
            other => panic!("expected a bad ELF sections tag ({what}), got {other:?}"),
        };
        // Shorter than num, entsize, shndx.
        for payload in [0, 4, 11] {
            let buffer = minimal()
                .tag(tag_type::ELF_SECTIONS, &vec![0; payload])
                .end()
                .build();
            bad("shorter", buffer);
        }
        // Sizes that are neither ELF64's nor ELF32's.
        for entsize in [0, 39, 63, 65] {
            bad(
                "not 64 or 40",
                minimal()
                    .elf_sections_raw(2, entsize, 1, 2 * 64)
                    .end()
                    .build(),
            );
        }
        // num * entsize past the tag, including a num that would overflow
        // 32 bits.
        bad(
            "past the end",
            minimal().elf_sections_raw(3, 64, 1, 2 * 64).end().build(),
        );
        bad(
            "past the end",
            minimal().elf_sections_raw(3, 40, 1, 2 * 40).end().build(),
        );
        bad(
            "past the end",
            minimal()
                .elf_sections_raw(u32::MAX, 64, 1, 64)
                .end()
                .build(),
        );
        // shndx beyond the sections.
        bad(
            "not a section",
            minimal().elf_sections_raw(5, 64, 5, 5 * 64).end().build(),
        );
        bad(
            "not a section",
            minimal()
                .elf_sections_raw(2, 64, 0xffff, 2 * 64)
                .end()
                .build(),
        );
    }

    #[test]
    fn requires_a_memory_map() {
        assert_eq!(
            check(&Builder::new().cmdline("").end().build()),
            Err(Problem::NoMemoryMap)
        );
    }

    #[test]
    fn messages_say_what_is_wrong() {
        let message = Problem::TagBeyondEnd {
            offset: 48,
            tag_type: 99,
            size: 17,
            total_size: 64,
        }
        .to_string();
        assert_eq!(
            message,
            "boot information tag at offset 48 (type 99, size 17) runs past the total size 64"
        );
        assert_eq!(
            Problem::BadTotalSize { total_size: 4 }.to_string(),
            "the boot information's total size 4 is implausible (must be a multiple of 8 from 16 to 4194304)"
        );
        assert_eq!(
            Problem::MissingEndTag.to_string(),
            "the boot information has no end tag"
        );
    }
}

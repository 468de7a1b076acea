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
mod tests;

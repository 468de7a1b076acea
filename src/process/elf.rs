//! Is a file a static x86-64 executable the kernel can run, and where does
//! each part of it go: [`plan`] checks an ELF image and answers with its
//! load plan (the loadable segments, the entry point, where the program
//! headers end up for the auxiliary vector), or says in a few words what
//! is wrong with it.
//!
//! The `elf` crate reads the file header and the program headers; the rules
//! are ours:
//!
//! - 64-bit, little-endian, x86-64, ELF version 1;
//! - an executable (`ET_EXEC`), or a static position-independent one
//!   (`ET_DYN` without `PT_INTERP`, as `gcc -static-pie` and Rust's
//!   `x86_64-unknown-linux-musl` target make), which is placed at
//!   [`PIE_BASE`]: its own start-up code applies its relocations, finding
//!   itself through `AT_PHDR`;
//! - no `PT_INTERP`: there is no dynamic linker;
//! - each loadable segment's file bytes inside the file, its file size at
//!   most its memory size, no address arithmetic that overflows, never both
//!   writable and executable, its address and file offset equal modulo the
//!   page size, and all its pages inside `[0x1000, user_end)` (page 0 stays
//!   unmapped, so null pointers fault);
//! - no two segments on the same page, let alone the same bytes: each page
//!   then has exactly one segment's permissions, and the loader needs no
//!   merging (where merging could make a page writable and executable).
//!   Real linkers keep segments apart: `musl-gcc -static` (with and without
//!   `-z separate-code`) and `gcc -static` and `gcc -static-pie` (GNU ld
//!   2.42) each start the writable segment on a page of its own, though in
//!   the file it may share a page with what precedes it, which is fine: the
//!   loader copies, it does not map the file;
//! - the entry point inside an executable segment.
//!
//! Segments with no memory size are left out of the plan; other program
//! header types (`PT_TLS`, `PT_GNU_STACK`, `PT_GNU_RELRO`, notes) are not
//! the loader's business. Section headers are not read at all: a stripped
//! or damaged section table does not stop a program.
//!
//! Pure logic over the file's bytes, tested on the host with hand-made
//! images. No input makes it panic.

#![forbid(unsafe_code)]

use alloc::vec::Vec;
use core::fmt;

use elf::abi;
use elf::endian::LittleEndian;
use elf::file::{Class, FileHeader};
use elf::segment::{ProgramHeader, SegmentTable};

use super::user_range::{PAGE_SIZE, round_down, round_up};

/// Where a position-independent executable is placed: its address 0 goes
/// here. 4 MiB, where a non-PIE GNU ld executable starts too, so the rest
/// of the address space looks the same for both.
pub const PIE_BASE: u64 = 0x40_0000;

/// The most program headers a file may have. Real static executables have
/// about ten; the limit bounds the work a hostile file can ask for.
pub const MAX_PROGRAM_HEADERS: u16 = 64;

/// The size of the ELF64 file header.
const HEADER_SIZE: usize = 64;

/// The size of one ELF64 program header.
const PROGRAM_HEADER_SIZE: u16 = 56;

/// The lowest address a segment may use: page 0 stays unmapped.
const LOWEST_ADDRESS: u64 = PAGE_SIZE;

/// One loadable segment: the loader maps the pages of
/// `[vaddr, vaddr + memsz)` (rounded out to whole pages, zero-filled),
/// copies `filesz` bytes of the file from `file_offset` to `vaddr`, and
/// leaves the rest zero (the `.bss`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Its first address in the program's address space (load bias
    /// included).
    pub vaddr: u64,
    /// Its size in memory, in bytes; never 0.
    pub memsz: u64,
    /// Where its bytes start in the file.
    pub file_offset: u64,
    /// How many bytes come from the file; at most `memsz`, and
    /// `file_offset + filesz` is inside the file.
    pub filesz: u64,
    /// Writable (never together with `executable`).
    pub writable: bool,
    /// Executable.
    pub executable: bool,
}

impl Segment {
    /// The address of its first page.
    pub fn page_start(&self) -> u64 {
        round_down(self.vaddr)
    }

    /// The end of its last page (exclusive). [`plan`] checked that it does
    /// not overflow.
    pub fn page_end(&self) -> u64 {
        round_up(self.vaddr + self.memsz).unwrap_or(u64::MAX)
    }

    /// The end of its bytes (exclusive): `vaddr + memsz`.
    pub fn end(&self) -> u64 {
        self.vaddr + self.memsz
    }
}

/// How to load an executable, every address already checked and with the
/// load bias applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Where the program starts (`AT_ENTRY`).
    pub entry: u64,
    /// The loadable segments, in address order; at least one, none sharing
    /// a page with another.
    pub segments: Vec<Segment>,
    /// Where the program headers are in the loaded image (`AT_PHDR`): inside
    /// the file bytes of a loaded segment, matching `PT_PHDR` when there is
    /// one. `None` when no segment loads them (a hand-linked program that
    /// does not need them; a C library does, to find its TLS segment).
    pub phdr_vaddr: Option<u64>,
    /// How many program headers there are (`AT_PHNUM`).
    pub phnum: u64,
    /// The size of one (`AT_PHENT`): 56.
    pub phent: u64,
    /// What was added to the file's addresses: 0 for `ET_EXEC`,
    /// [`PIE_BASE`] for a static PIE. (`AT_BASE` stays 0 either way: that
    /// is the interpreter's address, and there is none.)
    pub bias: u64,
}

/// What is wrong with a file that is not an executable we can run.
/// `segment N` is the index of its program header, as `readelf -l`
/// counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfError {
    /// The magic bytes are not `\x7fELF`.
    NotElf,
    /// A 32-bit (or unknown class) file.
    Not64Bit,
    /// A big-endian (or unknown byte order) file.
    NotLittleEndian,
    /// `EI_VERSION` is not 1.
    BadVersion(u8),
    /// Made for another machine (`e_machine`).
    NotX86_64(u16),
    /// An object file, a core dump or another type (`e_type`).
    NotExecutable(u16),
    /// Shorter than the 64-byte file header.
    TruncatedHeader {
        /// The file's size.
        size: u64,
    },
    /// The program header table runs past the end of the file.
    TruncatedProgramHeaders {
        /// Its offset in the file.
        offset: u64,
        /// Its size in bytes.
        len: u64,
        /// The file's size.
        size: u64,
    },
    /// `e_phentsize` is not 56.
    BadProgramHeaderSize(u16),
    /// More than [`MAX_PROGRAM_HEADERS`] program headers.
    TooManySegments(u16),
    /// No loadable segment with a size.
    NoLoadableSegment,
    /// A `PT_INTERP` segment asks for a dynamic linker.
    Dynamic,
    /// A segment's file bytes run past the end of the file.
    SegmentBeyondFile {
        /// Which program header.
        index: usize,
        /// Its file offset.
        offset: u64,
        /// Its file size.
        filesz: u64,
        /// The file's size.
        size: u64,
    },
    /// A segment's file size exceeds its memory size.
    FileSizeExceedsMemSize {
        /// Which program header.
        index: usize,
        /// Its file size.
        filesz: u64,
        /// Its memory size.
        memsz: u64,
    },
    /// A segment's end (or the end of its last page) overflows 64 bits.
    AddressOverflow {
        /// Which program header.
        index: usize,
    },
    /// A segment's pages reach page 0 or `user_end` and beyond (the kernel's
    /// half, the non-canonical hole, the top page).
    OutsideUserSpace {
        /// Which program header.
        index: usize,
        /// Its first address.
        start: u64,
        /// Its end (exclusive).
        end: u64,
        /// The end of user space it was checked against.
        user_end: u64,
    },
    /// A segment is both writable and executable.
    WritableAndExecutable {
        /// Which program header.
        index: usize,
    },
    /// A segment's address and file offset differ modulo the page size.
    Misaligned {
        /// Which program header.
        index: usize,
        /// Its address.
        vaddr: u64,
        /// Its file offset.
        offset: u64,
    },
    /// Two segments cover the same bytes.
    Overlap {
        /// The lower segment's program header.
        first: usize,
        /// The higher segment's program header.
        second: usize,
    },
    /// Two segments share a page without sharing bytes.
    SharedPage {
        /// The lower segment's program header.
        first: usize,
        /// The higher segment's program header.
        second: usize,
        /// The page they share.
        page: u64,
    },
    /// The entry point is not inside an executable segment.
    EntryNotExecutable(u64),
    /// `PT_PHDR` names an address where no segment loads the program
    /// headers.
    ProgramHeadersNotLoaded {
        /// The address `PT_PHDR` names (load bias included).
        declared: u64,
    },
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ElfError::NotElf => f.write_str("not an ELF file"),
            ElfError::Not64Bit => f.write_str("not 64-bit"),
            ElfError::NotLittleEndian => f.write_str("not little-endian"),
            ElfError::BadVersion(version) => write!(f, "unknown ELF version {version}"),
            ElfError::NotX86_64(machine) => write!(f, "not x86-64 (machine {machine})"),
            ElfError::NotExecutable(kind) => write!(f, "not an executable (type {kind})"),
            ElfError::TruncatedHeader { size } => write!(
                f,
                "truncated: {size} bytes, shorter than the {HEADER_SIZE}-byte ELF header"
            ),
            ElfError::TruncatedProgramHeaders { offset, len, size } => write!(
                f,
                "truncated: the program headers ({len:#x} bytes at {offset:#x}) \
                 run past the end of the file ({size:#x} bytes)"
            ),
            ElfError::BadProgramHeaderSize(entsize) => write!(
                f,
                "program headers of {entsize} bytes, not {PROGRAM_HEADER_SIZE}"
            ),
            ElfError::TooManySegments(count) => write!(
                f,
                "too many segments ({count} program headers, at most {MAX_PROGRAM_HEADERS})"
            ),
            ElfError::NoLoadableSegment => f.write_str("no loadable segment"),
            ElfError::Dynamic => {
                f.write_str("dynamically linked (PT_INTERP): only static executables run")
            }
            ElfError::SegmentBeyondFile {
                index,
                offset,
                filesz,
                size,
            } => write!(
                f,
                "truncated: segment {index} ({filesz:#x} bytes at {offset:#x}) \
                 runs past the end of the file ({size:#x} bytes)"
            ),
            ElfError::FileSizeExceedsMemSize {
                index,
                filesz,
                memsz,
            } => write!(
                f,
                "segment {index}: file size {filesz:#x} exceeds memory size {memsz:#x}"
            ),
            ElfError::AddressOverflow { index } => {
                write!(f, "segment {index}: its end overflows the address space")
            }
            ElfError::OutsideUserSpace {
                index,
                start,
                end,
                user_end,
            } => write!(
                f,
                "segment {index} ({start:#x}-{end:#x}) is outside user space \
                 ({LOWEST_ADDRESS:#x}-{user_end:#x})"
            ),
            ElfError::WritableAndExecutable { index } => {
                write!(f, "segment {index} is both writable and executable")
            }
            ElfError::Misaligned {
                index,
                vaddr,
                offset,
            } => write!(
                f,
                "segment {index} is not page-aligned consistently \
                 (address {vaddr:#x} and file offset {offset:#x} differ modulo {PAGE_SIZE})"
            ),
            ElfError::Overlap { first, second } => {
                write!(f, "segments {first} and {second} overlap")
            }
            ElfError::SharedPage {
                first,
                second,
                page,
            } => write!(
                f,
                "segments {first} and {second} share the page at {page:#x}"
            ),
            ElfError::EntryNotExecutable(entry) => {
                write!(f, "entry point {entry:#x} is not in an executable segment")
            }
            ElfError::ProgramHeadersNotLoaded { declared } => write!(
                f,
                "PT_PHDR puts the program headers at {declared:#x}, \
                 but no segment loads them there"
            ),
        }
    }
}

/// Checks the ELF file `image` and answers with how to load it into an
/// address space whose user part ends (exclusively) at `user_end`, a page
/// boundary: `USER_END` in `user_range` for the kernel.
pub fn plan(image: &[u8], user_end: u64) -> Result<Plan, ElfError> {
    let header = file_header(image)?;
    if header.e_machine != abi::EM_X86_64 {
        return Err(ElfError::NotX86_64(header.e_machine));
    }
    let bias = match header.e_type {
        abi::ET_EXEC => 0,
        abi::ET_DYN => PIE_BASE,
        other => return Err(ElfError::NotExecutable(other)),
    };
    let headers = program_headers(image, &header)?;

    // A dynamic executable first: whatever else is odd about it, that is
    // why it cannot run.
    if headers.iter().any(|ph| ph.p_type == abi::PT_INTERP) {
        return Err(ElfError::Dynamic);
    }

    // The loadable segments, each with its program header's index.
    let mut segments = Vec::new();
    let mut declared_phdr = None;
    for (index, ph) in headers.iter().enumerate() {
        match ph.p_type {
            abi::PT_LOAD => {
                if let Some(segment) = load_segment(index, &ph, image, bias, user_end)? {
                    segments.push((index, segment));
                }
            }
            abi::PT_PHDR => declared_phdr = Some(ph.p_vaddr),
            _ => {}
        }
    }
    if segments.is_empty() {
        return Err(ElfError::NoLoadableSegment);
    }
    segments.sort_unstable_by_key(|(_, segment)| segment.vaddr);
    check_apart(&segments)?;
    let segments: Vec<Segment> = segments.into_iter().map(|(_, segment)| segment).collect();

    let entry = header
        .e_entry
        .checked_add(bias)
        .filter(|&entry| {
            segments
                .iter()
                .any(|s| s.executable && s.vaddr <= entry && entry < s.end())
        })
        .ok_or(ElfError::EntryNotExecutable(header.e_entry))?;

    let phnum = u64::from(header.e_phnum);
    let table_len = phnum * u64::from(PROGRAM_HEADER_SIZE);
    let phdr_vaddr = segments.iter().find_map(|s| {
        let inside = s.file_offset <= header.e_phoff
            && header.e_phoff + table_len <= s.file_offset + s.filesz;
        inside.then(|| s.vaddr + (header.e_phoff - s.file_offset))
    });
    if let Some(declared) = declared_phdr {
        let declared = declared.wrapping_add(bias);
        if phdr_vaddr != Some(declared) {
            return Err(ElfError::ProgramHeadersNotLoaded { declared });
        }
    }

    Ok(Plan {
        entry,
        segments,
        phdr_vaddr,
        phnum,
        phent: u64::from(PROGRAM_HEADER_SIZE),
        bias,
    })
}

/// The file header, after the identification checks the crate leaves to
/// us (class, byte order) and the one it makes (magic, version), in our
/// words.
fn file_header(image: &[u8]) -> Result<FileHeader<LittleEndian>, ElfError> {
    let size = image.len() as u64;
    if image.get(..4) != Some(abi::ELFMAGIC.as_slice()) {
        return Err(if image.len() < 4 && abi::ELFMAGIC.starts_with(image) {
            ElfError::TruncatedHeader { size }
        } else {
            ElfError::NotElf
        });
    }
    let ident = image
        .get(..abi::EI_NIDENT)
        .ok_or(ElfError::TruncatedHeader { size })?;
    if ident[abi::EI_CLASS] != abi::ELFCLASS64 {
        return Err(ElfError::Not64Bit);
    }
    if ident[abi::EI_DATA] != abi::ELFDATA2LSB {
        return Err(ElfError::NotLittleEndian);
    }
    if ident[abi::EI_VERSION] != abi::EV_CURRENT {
        return Err(ElfError::BadVersion(ident[abi::EI_VERSION]));
    }
    let tail = image
        .get(abi::EI_NIDENT..HEADER_SIZE)
        .ok_or(ElfError::TruncatedHeader { size })?;
    // Both cannot fail after the checks above; mapped all the same.
    let ident = elf::file::parse_ident::<LittleEndian>(ident).map_err(|_| ElfError::NotElf)?;
    FileHeader::parse_tail(ident, tail).map_err(|_| ElfError::TruncatedHeader { size })
}

/// The program header table: `e_phnum` entries of 56 bytes at `e_phoff`,
/// all inside the file.
fn program_headers<'a>(
    image: &'a [u8],
    header: &FileHeader<LittleEndian>,
) -> Result<SegmentTable<'a, LittleEndian>, ElfError> {
    if header.e_phentsize != PROGRAM_HEADER_SIZE {
        return Err(ElfError::BadProgramHeaderSize(header.e_phentsize));
    }
    match header.e_phnum {
        0 => return Err(ElfError::NoLoadableSegment),
        count if count > MAX_PROGRAM_HEADERS => return Err(ElfError::TooManySegments(count)),
        _ => {}
    }
    let offset = header.e_phoff;
    let len = u64::from(header.e_phnum) * u64::from(PROGRAM_HEADER_SIZE);
    let truncated = ElfError::TruncatedProgramHeaders {
        offset,
        len,
        size: image.len() as u64,
    };
    let bytes = file_range(image, offset, len).ok_or(truncated)?;
    Ok(SegmentTable::new(LittleEndian, Class::ELF64, bytes))
}

/// The `len` bytes of `image` at `offset`, if they are all inside it.
fn file_range(image: &[u8], offset: u64, len: u64) -> Option<&[u8]> {
    let start = usize::try_from(offset).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    image.get(start..end)
}

/// The checked segment of `PT_LOAD` header number `index`, moved by
/// `bias`; `None` for one with no memory size, which loads nothing.
fn load_segment(
    index: usize,
    ph: &ProgramHeader,
    image: &[u8],
    bias: u64,
    user_end: u64,
) -> Result<Option<Segment>, ElfError> {
    if ph.p_filesz > ph.p_memsz {
        return Err(ElfError::FileSizeExceedsMemSize {
            index,
            filesz: ph.p_filesz,
            memsz: ph.p_memsz,
        });
    }
    if ph.p_filesz > 0 && file_range(image, ph.p_offset, ph.p_filesz).is_none() {
        return Err(ElfError::SegmentBeyondFile {
            index,
            offset: ph.p_offset,
            filesz: ph.p_filesz,
            size: image.len() as u64,
        });
    }
    if ph.p_memsz == 0 {
        return Ok(None);
    }
    let overflow = ElfError::AddressOverflow { index };
    let vaddr = ph.p_vaddr.checked_add(bias).ok_or(overflow)?;
    let end = vaddr.checked_add(ph.p_memsz).ok_or(overflow)?;
    let page_end = round_up(end).ok_or(overflow)?;
    if round_down(vaddr) < LOWEST_ADDRESS || page_end > user_end {
        return Err(ElfError::OutsideUserSpace {
            index,
            start: vaddr,
            end,
            user_end,
        });
    }
    let writable = ph.p_flags & abi::PF_W != 0;
    let executable = ph.p_flags & abi::PF_X != 0;
    if writable && executable {
        return Err(ElfError::WritableAndExecutable { index });
    }
    if vaddr % PAGE_SIZE != ph.p_offset % PAGE_SIZE {
        return Err(ElfError::Misaligned {
            index,
            vaddr: ph.p_vaddr,
            offset: ph.p_offset,
        });
    }
    Ok(Some(Segment {
        vaddr,
        memsz: ph.p_memsz,
        file_offset: ph.p_offset,
        filesz: ph.p_filesz,
        writable,
        executable,
    }))
}

/// Checks that no two of `segments` (sorted by address, each with its
/// program header's index) share a byte or a page. With the segments in
/// address order, a clash shows between neighbours.
fn check_apart(segments: &[(usize, Segment)]) -> Result<(), ElfError> {
    for pair in segments.windows(2) {
        let [(first, low), (second, high)] = pair else {
            continue;
        };
        let (first, second) = (*first, *second);
        if high.vaddr < low.end() {
            return Err(ElfError::Overlap { first, second });
        }
        if high.page_start() < low.page_end() {
            return Err(ElfError::SharedPage {
                first,
                second,
                page: high.page_start(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::user_range::USER_END;
    use crate::test_rng::Rng;
    use alloc::format;
    use alloc::string::ToString;
    use alloc::vec;

    /// One program header to write.
    #[derive(Clone, Copy)]
    struct Ph {
        p_type: u32,
        flags: u32,
        offset: u64,
        vaddr: u64,
        filesz: u64,
        memsz: u64,
    }

    /// `R`, `W`, `X` as `p_flags` bits.
    const R: u32 = abi::PF_R;
    const W: u32 = abi::PF_W;
    const X: u32 = abi::PF_X;

    /// A `PT_LOAD` header.
    fn load(flags: u32, offset: u64, vaddr: u64, filesz: u64, memsz: u64) -> Ph {
        Ph {
            p_type: abi::PT_LOAD,
            flags,
            offset,
            vaddr,
            filesz,
            memsz,
        }
    }

    /// A header of another type.
    fn other(p_type: u32, offset: u64, vaddr: u64, size: u64) -> Ph {
        Ph {
            p_type,
            flags: R,
            offset,
            vaddr,
            filesz: size,
            memsz: size,
        }
    }

    /// An ELF64 x86-64 file of `e_type`, `len` bytes long (at least the
    /// headers), its program headers right after the file header.
    fn image(e_type: u16, entry: u64, phs: &[Ph], len: usize) -> Vec<u8> {
        let mut bytes = vec![0u8; HEADER_SIZE];
        bytes[..4].copy_from_slice(&abi::ELFMAGIC);
        bytes[abi::EI_CLASS] = abi::ELFCLASS64;
        bytes[abi::EI_DATA] = abi::ELFDATA2LSB;
        bytes[abi::EI_VERSION] = abi::EV_CURRENT;
        let mut put = |at: usize, field: &[u8]| bytes[at..at + field.len()].copy_from_slice(field);
        put(16, &e_type.to_le_bytes());
        put(18, &abi::EM_X86_64.to_le_bytes());
        put(20, &1u32.to_le_bytes());
        put(24, &entry.to_le_bytes());
        put(32, &(HEADER_SIZE as u64).to_le_bytes()); // e_phoff
        put(52, &(HEADER_SIZE as u16).to_le_bytes()); // e_ehsize
        put(54, &PROGRAM_HEADER_SIZE.to_le_bytes());
        put(56, &(phs.len() as u16).to_le_bytes());
        put(58, &64u16.to_le_bytes()); // e_shentsize; no sections
        for ph in phs {
            bytes.extend_from_slice(&ph.p_type.to_le_bytes());
            bytes.extend_from_slice(&ph.flags.to_le_bytes());
            bytes.extend_from_slice(&ph.offset.to_le_bytes());
            bytes.extend_from_slice(&ph.vaddr.to_le_bytes()); // p_vaddr
            bytes.extend_from_slice(&ph.vaddr.to_le_bytes()); // p_paddr
            bytes.extend_from_slice(&ph.filesz.to_le_bytes());
            bytes.extend_from_slice(&ph.memsz.to_le_bytes());
            bytes.extend_from_slice(&PAGE_SIZE.to_le_bytes()); // p_align
        }
        bytes.resize(len.max(bytes.len()), 0xcc);
        bytes
    }

    /// The shape of `musl-gcc -static` output: read-only headers, text,
    /// read-only data, then data and bss starting mid-page.
    fn good_headers() -> Vec<Ph> {
        vec![
            load(R, 0, 0x40_0000, 0x190, 0x190),
            load(R | X, 0x1000, 0x40_1000, 0x3bb7, 0x3bb7),
            load(R, 0x5000, 0x40_5000, 0xc94, 0xc94),
            load(R | W, 0x5fc0, 0x40_6fc0, 0x150, 0x7f8),
            other(abi::PT_GNU_STACK, 0, 0, 0),
        ]
    }

    /// A file with `good_headers` but `phs` instead.
    fn exec(phs: &[Ph]) -> Vec<u8> {
        image(abi::ET_EXEC, 0x40_104f, phs, 0x7000)
    }

    fn plan_of(bytes: &[u8]) -> Result<Plan, ElfError> {
        plan(bytes, USER_END)
    }

    #[test]
    fn a_static_executable_gets_its_plan() {
        let plan = plan_of(&exec(&good_headers())).unwrap();
        assert_eq!(plan.entry, 0x40_104f);
        assert_eq!(plan.bias, 0);
        assert_eq!(plan.phnum, 5);
        assert_eq!(plan.phent, 56);
        // The headers are in the first segment, which maps file offset 0.
        assert_eq!(plan.phdr_vaddr, Some(0x40_0040));
        assert_eq!(plan.segments.len(), 4);
        assert_eq!(
            plan.segments[3],
            Segment {
                vaddr: 0x40_6fc0,
                memsz: 0x7f8,
                file_offset: 0x5fc0,
                filesz: 0x150,
                writable: true,
                executable: false,
            }
        );
        assert!(plan.segments[1].executable && !plan.segments[1].writable);
        assert_eq!(plan.segments[3].page_start(), 0x40_6000);
        assert_eq!(plan.segments[3].page_end(), 0x40_8000);
    }

    #[test]
    fn segments_come_sorted_and_empty_ones_are_left_out() {
        let mut phs = good_headers();
        phs.reverse();
        phs.push(load(R, 0, 0x7000_0000, 0, 0));
        let plan = plan_of(&exec(&phs)).unwrap();
        let addresses: Vec<u64> = plan.segments.iter().map(|s| s.vaddr).collect();
        assert_eq!(addresses, [0x40_0000, 0x40_1000, 0x40_5000, 0x40_6fc0]);
    }

    #[test]
    fn pt_phdr_must_match_where_the_headers_are_loaded() {
        let mut phs = good_headers();
        phs.insert(0, other(abi::PT_PHDR, 0x40, 0x40_0040, 56 * 6));
        assert_eq!(plan_of(&exec(&phs)).unwrap().phdr_vaddr, Some(0x40_0040));
        phs[0].vaddr = 0x40_0080;
        assert_eq!(
            plan_of(&exec(&phs)),
            Err(ElfError::ProgramHeadersNotLoaded {
                declared: 0x40_0080
            })
        );
    }

    #[test]
    fn headers_outside_every_segment_have_no_address() {
        let phs = [load(R | X, 0x1000, 0x40_1000, 0x100, 0x100)];
        let plan = plan(&image(abi::ET_EXEC, 0x40_1000, &phs, 0x2000), USER_END).unwrap();
        assert_eq!(plan.phdr_vaddr, None);
    }

    #[test]
    fn a_static_pie_is_moved_to_its_base() {
        let phs = [
            load(R, 0, 0, 0x8020, 0x8020),
            load(R | X, 0x9000, 0x9000, 0x1000, 0x1000),
            load(R | W, 0xa518, 0xb518, 0x100, 0x2000),
            other(abi::PT_DYNAMIC, 0xa600, 0xb600, 0x80),
        ];
        let plan = plan(&image(abi::ET_DYN, 0x95d0, &phs, 0xb000), USER_END).unwrap();
        assert_eq!(plan.bias, PIE_BASE);
        assert_eq!(plan.entry, PIE_BASE + 0x95d0);
        assert_eq!(plan.segments[0].vaddr, PIE_BASE);
        assert_eq!(plan.segments[2].vaddr, PIE_BASE + 0xb518);
        assert_eq!(plan.segments[2].file_offset, 0xa518);
        assert_eq!(plan.phdr_vaddr, Some(PIE_BASE + 0x40));
    }

    #[test]
    fn not_elf() {
        assert_eq!(plan_of(b"#!/bin/sh\necho hi\n"), Err(ElfError::NotElf));
        assert_eq!(plan_of(&[0; 64]), Err(ElfError::NotElf));
        assert_eq!(plan_of(b"\x7fELX"), Err(ElfError::NotElf));
    }

    #[test]
    fn wrong_class_byte_order_version_machine() {
        let good = exec(&good_headers());
        let mut bytes = good.clone();
        bytes[abi::EI_CLASS] = abi::ELFCLASS32;
        assert_eq!(plan_of(&bytes), Err(ElfError::Not64Bit));
        let mut bytes = good.clone();
        bytes[abi::EI_DATA] = abi::ELFDATA2MSB;
        assert_eq!(plan_of(&bytes), Err(ElfError::NotLittleEndian));
        let mut bytes = good.clone();
        bytes[abi::EI_VERSION] = 2;
        assert_eq!(plan_of(&bytes), Err(ElfError::BadVersion(2)));
        let mut bytes = good.clone();
        bytes[18..20].copy_from_slice(&abi::EM_AARCH64.to_le_bytes());
        assert_eq!(plan_of(&bytes), Err(ElfError::NotX86_64(abi::EM_AARCH64)));
    }

    #[test]
    fn only_executables() {
        let bytes = image(abi::ET_REL, 0, &good_headers(), 0x7000);
        assert_eq!(plan_of(&bytes), Err(ElfError::NotExecutable(abi::ET_REL)));
        let bytes = image(abi::ET_CORE, 0, &good_headers(), 0x7000);
        assert_eq!(plan_of(&bytes), Err(ElfError::NotExecutable(abi::ET_CORE)));
    }

    #[test]
    fn truncated_file_header() {
        let good = exec(&good_headers());
        for len in [0, 3, 4, 15, 16, 40, 63] {
            assert_eq!(
                plan_of(&good[..len]),
                Err(ElfError::TruncatedHeader { size: len as u64 }),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn truncated_program_headers() {
        let good = exec(&good_headers());
        // Five headers: 64 + 5 * 56 = 344 bytes.
        assert_eq!(
            plan_of(&good[..343]),
            Err(ElfError::TruncatedProgramHeaders {
                offset: 64,
                len: 280,
                size: 343
            })
        );
        let mut bytes = good.clone();
        bytes[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            plan_of(&bytes),
            Err(ElfError::TruncatedProgramHeaders { .. })
        ));
    }

    #[test]
    fn program_header_count_and_size() {
        let good = exec(&good_headers());
        let mut bytes = good.clone();
        bytes[54..56].copy_from_slice(&32u16.to_le_bytes());
        assert_eq!(plan_of(&bytes), Err(ElfError::BadProgramHeaderSize(32)));
        let mut bytes = good.clone();
        bytes[56..58].copy_from_slice(&0u16.to_le_bytes());
        assert_eq!(plan_of(&bytes), Err(ElfError::NoLoadableSegment));
        let mut bytes = good.clone();
        bytes[56..58].copy_from_slice(&0xffffu16.to_le_bytes());
        assert_eq!(plan_of(&bytes), Err(ElfError::TooManySegments(0xffff)));
        let many = vec![other(abi::PT_NOTE, 0, 0, 0); 65];
        assert_eq!(plan_of(&exec(&many)), Err(ElfError::TooManySegments(65)));
    }

    #[test]
    fn no_loadable_segment() {
        let phs = [
            other(abi::PT_NOTE, 0x100, 0x40_0100, 0x20),
            load(R | X, 0x1000, 0x40_1000, 0, 0),
        ];
        assert_eq!(plan_of(&exec(&phs)), Err(ElfError::NoLoadableSegment));
    }

    #[test]
    fn dynamically_linked() {
        let mut phs = good_headers();
        phs.insert(1, other(abi::PT_INTERP, 0x100, 0x40_0100, 0x19));
        assert_eq!(plan_of(&exec(&phs)), Err(ElfError::Dynamic));
        let bytes = image(abi::ET_DYN, 0x106f, &phs, 0x7000);
        assert_eq!(plan_of(&bytes), Err(ElfError::Dynamic));
    }

    #[test]
    fn segment_beyond_the_file() {
        let mut phs = good_headers();
        phs[3].filesz = 0x1050;
        assert_eq!(
            plan_of(&exec(&phs)),
            Err(ElfError::FileSizeExceedsMemSize {
                index: 3,
                filesz: 0x1050,
                memsz: 0x7f8
            })
        );
        phs[3].memsz = 0x2000;
        assert_eq!(
            plan_of(&exec(&phs)),
            Err(ElfError::SegmentBeyondFile {
                index: 3,
                offset: 0x5fc0,
                filesz: 0x1050,
                size: 0x7000
            })
        );
        let mut phs = good_headers();
        phs[1].offset = u64::MAX - 0x10;
        assert!(matches!(
            plan_of(&exec(&phs)),
            Err(ElfError::SegmentBeyondFile { index: 1, .. })
        ));
    }

    #[test]
    fn writable_and_executable() {
        let mut phs = good_headers();
        phs[1].flags = R | W | X;
        assert_eq!(
            plan_of(&exec(&phs)),
            Err(ElfError::WritableAndExecutable { index: 1 })
        );
    }

    #[test]
    fn outside_user_space() {
        let mut phs = good_headers();
        phs[3].vaddr = 0xffff_ffff_8000_0fc0;
        assert_eq!(
            plan_of(&exec(&phs)),
            Err(ElfError::OutsideUserSpace {
                index: 3,
                start: 0xffff_ffff_8000_0fc0,
                end: 0xffff_ffff_8000_17b8,
                user_end: USER_END
            })
        );
        // Up to the last user page: fine; into the top page: not.
        phs[3].vaddr = USER_END - 0x1040;
        assert!(plan_of(&exec(&phs)).is_ok());
        phs[3].vaddr = USER_END - 0x40;
        assert!(matches!(
            plan_of(&exec(&phs)),
            Err(ElfError::OutsideUserSpace { index: 3, .. })
        ));
        // Page 0.
        let mut phs = good_headers();
        phs[0].vaddr = 0;
        assert!(matches!(
            plan_of(&exec(&phs)),
            Err(ElfError::OutsideUserSpace { index: 0, .. })
        ));
        phs[0].vaddr = 0x0f00;
        phs[0].offset = 0x0f00;
        assert!(matches!(
            plan_of(&exec(&phs)),
            Err(ElfError::OutsideUserSpace { index: 0, .. })
        ));
    }

    #[test]
    fn address_overflow() {
        let mut phs = good_headers();
        phs[3].vaddr = u64::MAX - 0x3f;
        assert_eq!(
            plan_of(&exec(&phs)),
            Err(ElfError::AddressOverflow { index: 3 })
        );
        // The end fits, the end of its page does not.
        phs[3].memsz = 0x20;
        phs[3].filesz = 0x10;
        assert_eq!(
            plan_of(&exec(&phs)),
            Err(ElfError::AddressOverflow { index: 3 })
        );
        // A PIE's bias pushes it over.
        let phs = [load(R | X, 0, u64::MAX - 0x1000, 0x100, 0x100)];
        assert_eq!(
            plan_of(&image(abi::ET_DYN, 0, &phs, 0x1000)),
            Err(ElfError::AddressOverflow { index: 0 })
        );
    }

    #[test]
    fn misaligned_segment() {
        let mut phs = good_headers();
        phs[3].offset = 0x5fc8;
        assert_eq!(
            plan_of(&exec(&phs)),
            Err(ElfError::Misaligned {
                index: 3,
                vaddr: 0x40_6fc0,
                offset: 0x5fc8
            })
        );
    }

    #[test]
    fn overlapping_segments() {
        let mut phs = good_headers();
        phs[2].vaddr = 0x40_4000;
        phs[2].offset = 0x4000;
        assert_eq!(
            plan_of(&exec(&phs)),
            Err(ElfError::Overlap {
                first: 1,
                second: 2
            })
        );
        // A segment inside another, listed first.
        let mut phs = good_headers();
        phs.insert(0, load(R, 0x2000, 0x40_2000, 0x10, 0x10));
        assert_eq!(
            plan_of(&exec(&phs)),
            Err(ElfError::Overlap {
                first: 2,
                second: 0
            })
        );
    }

    #[test]
    fn segments_sharing_a_page() {
        // The data right after the read-only data, on its last page.
        let mut phs = good_headers();
        phs[3].vaddr = 0x40_5fc0;
        assert_eq!(
            plan_of(&exec(&phs)),
            Err(ElfError::SharedPage {
                first: 2,
                second: 3,
                page: 0x40_5000
            })
        );
        // Just after the page: fine.
        phs[3].vaddr = 0x40_6fc0;
        assert!(plan_of(&exec(&phs)).is_ok());
    }

    #[test]
    fn entry_point_outside_executable_code() {
        let bytes = image(abi::ET_EXEC, 0x40_5010, &good_headers(), 0x7000);
        assert_eq!(
            plan_of(&bytes),
            Err(ElfError::EntryNotExecutable(0x40_5010))
        );
        let bytes = image(abi::ET_EXEC, 0x40_4bb7, &good_headers(), 0x7000);
        assert_eq!(
            plan_of(&bytes),
            Err(ElfError::EntryNotExecutable(0x40_4bb7))
        );
        let bytes = image(abi::ET_EXEC, 0, &good_headers(), 0x7000);
        assert_eq!(plan_of(&bytes), Err(ElfError::EntryNotExecutable(0)));
        let bytes = image(abi::ET_EXEC, 0x40_4bb6, &good_headers(), 0x7000);
        assert!(plan_of(&bytes).is_ok());
    }

    #[test]
    fn messages_are_short_and_clear() {
        let cases: [(ElfError, &str); 6] = [
            (ElfError::NotElf, "not an ELF file"),
            (ElfError::NotExecutable(1), "not an executable (type 1)"),
            (
                ElfError::FileSizeExceedsMemSize {
                    index: 2,
                    filesz: 0x20,
                    memsz: 0x10,
                },
                "segment 2: file size 0x20 exceeds memory size 0x10",
            ),
            (
                ElfError::Dynamic,
                "dynamically linked (PT_INTERP): only static executables run",
            ),
            (
                ElfError::Overlap {
                    first: 1,
                    second: 3,
                },
                "segments 1 and 3 overlap",
            ),
            (
                ElfError::OutsideUserSpace {
                    index: 0,
                    start: 0,
                    end: 0x10,
                    user_end: USER_END,
                },
                "segment 0 (0x0-0x10) is outside user space (0x1000-0x7ffffffff000)",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
        assert_eq!(
            format!("{}", ElfError::TruncatedHeader { size: 10 }),
            "truncated: 10 bytes, shorter than the 64-byte ELF header"
        );
    }

    #[test]
    fn damaged_files_never_panic() {
        let good = exec(&good_headers());
        let mut rng = Rng(0x5eed);
        for step in 0..20_000 {
            let mut bytes = good.clone();
            // Damage the headers mostly: that is where the checks are.
            for _ in 0..1 + rng.below(4) {
                let span = if rng.below(4) == 0 { bytes.len() } else { 400 };
                let at = rng.below(span);
                bytes[at] = rng.next() as u8;
            }
            let len = if rng.below(8) == 0 {
                rng.below(bytes.len())
            } else {
                bytes.len()
            };
            if let Ok(plan) = plan(&bytes[..len], USER_END) {
                for s in &plan.segments {
                    assert!(s.filesz <= s.memsz, "step {step}");
                    assert!(s.page_start() >= PAGE_SIZE && s.page_end() <= USER_END);
                    assert!(!(s.writable && s.executable), "step {step}");
                    assert!(s.file_offset + s.filesz <= len as u64, "step {step}");
                }
                for pair in plan.segments.windows(2) {
                    assert!(pair[0].page_end() <= pair[1].page_start(), "step {step}");
                }
            }
        }
    }
}

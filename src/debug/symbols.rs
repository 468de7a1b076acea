//! The kernel's own symbol table, as GRUB loaded it: addresses to names.
//!
//! GRUB loads every section of the kernel ELF, the ones that are not part of
//! the program included (`.symtab`, `.strtab`), and lists all section
//! headers in the boot information's ELF-sections tag (type 9) with the
//! addresses where it put them. Its payload (after the 8-byte tag header) is
//! `num: u32, entsize: u32, shndx: u32`, then `num` ELF64 section headers of
//! `entsize` (64) bytes each; `boot_info::validate` has checked that layout.
//!
//! [`SectionTable::symbol_table`] finds the `SHT_SYMTAB` section and the
//! string table it links to; the kernel glue makes byte slices of both and
//! [`Symbols::resolve`] turns an address into the function it lies in.
//! Names print as stored. `scripts/pack.py` stores Rust's names demangled
//! (`kestrel::rust_main`, no hashes) in the table of `build/kernel.bin`, so
//! the kernel carries no demangler; a kernel booted from the unpacked
//! `build/kernel.elf` shows the linker's mangled names (`_RNv...`), which
//! `c++filt` reads.
//!
//! Pure logic over byte slices, tested on the host. Nothing here trusts the
//! tables: every offset is checked, so garbage gives no name, never a panic.

#![forbid(unsafe_code)]

use core::fmt;

use crate::boot_info::validate::ELF64_SECTION_HEADER_SIZE as SECTION_HEADER_SIZE;
use crate::bytes::{u16_at, u32_at, u64_at};

/// The fixed part of the ELF-sections payload: num, entsize, shndx.
pub const PAYLOAD_FIXED_SIZE: usize = 12;
/// The size of an ELF64 symbol.
pub const SYMBOL_SIZE: usize = 24;

/// Section types (`sh_type`).
const SHT_SYMTAB: u32 = 2;
const SHT_STRTAB: u32 = 3;
/// Section flag: occupies memory while the program runs.
const SHF_ALLOC: u64 = 0x2;
/// Symbol types (low nibble of `st_info`).
const STT_NOTYPE: u8 = 0;
const STT_OBJECT: u8 = 1;
const STT_FUNC: u8 = 2;
/// Section indexes at and above this are special (absolute, common, ...).
const SHN_LORESERVE: u16 = 0xff00;

/// Why there are no function names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoSymbols {
    /// The boot loader passed no ELF-sections tag.
    NoTag,
    /// The ELF-sections tag does not have the expected layout.
    BadTag,
    /// The kernel has no `.symtab` section (it was stripped).
    Stripped,
    /// The symbol table, or its string table, is malformed.
    BadTable(&'static str),
    /// The boot loader did not load the table into memory (address 0).
    NotLoaded,
    /// The table lies in memory the kernel cannot read.
    Unmapped { address: u64, size: u64 },
}

impl fmt::Display for NoSymbols {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            NoSymbols::NoTag => write!(f, "the boot loader passed no ELF-sections tag"),
            NoSymbols::BadTag => write!(f, "the ELF-sections tag is malformed"),
            NoSymbols::Stripped => write!(f, "the kernel has no symbol table (stripped)"),
            NoSymbols::BadTable(what) => write!(f, "the symbol table is malformed: {what}"),
            NoSymbols::NotLoaded => write!(f, "the boot loader did not load the symbol table"),
            NoSymbols::Unmapped { address, size } => write!(
                f,
                "the symbol table ({size} bytes at {address:#x}) is not mapped"
            ),
        }
    }
}

/// One ELF64 section header, the fields used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    /// `sh_type`.
    pub kind: u32,
    /// `sh_flags`.
    pub flags: u64,
    /// `sh_addr`: where it is in memory (for `.symtab`: where GRUB put it).
    pub address: u64,
    /// `sh_size`, in bytes.
    pub size: u64,
    /// `sh_link`: for a symbol table, the index of its string table.
    pub link: u32,
    /// `sh_entsize`: for a symbol table, the size of a symbol.
    pub entry_size: u64,
}

impl Section {
    /// Whether `address` lies in this section while the kernel runs.
    fn holds(&self, address: u64) -> bool {
        self.flags & SHF_ALLOC != 0 && address >= self.address && address - self.address < self.size
    }
}

/// The section headers from the ELF-sections tag.
#[derive(Debug, Clone, Copy)]
pub struct SectionTable<'a> {
    /// The headers, `SECTION_HEADER_SIZE` bytes each.
    headers: &'a [u8],
}

impl<'a> SectionTable<'a> {
    /// The table in an ELF-sections tag's payload (after its 8-byte header).
    pub fn parse(payload: &'a [u8]) -> Result<Self, NoSymbols> {
        let count = u32_at(payload, 0).ok_or(NoSymbols::BadTag)? as usize;
        let entry_size = u32_at(payload, 4).ok_or(NoSymbols::BadTag)? as usize;
        if entry_size != SECTION_HEADER_SIZE {
            return Err(NoSymbols::BadTag);
        }
        let end = count
            .checked_mul(SECTION_HEADER_SIZE)
            .and_then(|size| size.checked_add(PAYLOAD_FIXED_SIZE))
            .ok_or(NoSymbols::BadTag)?;
        let headers = payload
            .get(PAYLOAD_FIXED_SIZE..end)
            .ok_or(NoSymbols::BadTag)?;
        Ok(SectionTable { headers })
    }

    /// How many sections there are.
    pub fn len(&self) -> usize {
        self.headers.len() / SECTION_HEADER_SIZE
    }

    /// The section at `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<Section> {
        let at = index.checked_mul(SECTION_HEADER_SIZE)?;
        let header = self.headers.get(at..at.checked_add(SECTION_HEADER_SIZE)?)?;
        Some(Section {
            kind: u32_at(header, 4)?,
            flags: u64_at(header, 8)?,
            address: u64_at(header, 16)?,
            size: u64_at(header, 32)?,
            link: u32_at(header, 40)?,
            entry_size: u64_at(header, 56)?,
        })
    }

    /// Every section, in order.
    fn iter(&self) -> impl Iterator<Item = Section> + '_ {
        (0..self.len()).filter_map(|index| self.get(index))
    }

    /// The symbol table section and the string table it links to.
    pub fn symbol_table(&self) -> Result<(Section, Section), NoSymbols> {
        let symtab = self
            .iter()
            .find(|section| section.kind == SHT_SYMTAB)
            .ok_or(NoSymbols::Stripped)?;
        if symtab.entry_size != SYMBOL_SIZE as u64 {
            return Err(NoSymbols::BadTable("symbol size is not 24"));
        }
        if !symtab.size.is_multiple_of(SYMBOL_SIZE as u64) {
            return Err(NoSymbols::BadTable("size is not a whole number of symbols"));
        }
        let strtab = self
            .get(symtab.link as usize)
            .filter(|section| section.kind == SHT_STRTAB)
            .ok_or(NoSymbols::BadTable("it links to no string table"))?;
        if symtab.address == 0 || strtab.address == 0 {
            return Err(NoSymbols::NotLoaded);
        }
        Ok((symtab, strtab))
    }
}

/// One symbol-table entry, the fields used here.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// `st_name`: offset of the name in the string table.
    name: u32,
    /// Low nibble of `st_info`.
    kind: u8,
    /// `st_shndx`: the section it is defined in.
    section: u16,
    /// `st_value`: its address.
    value: u64,
    /// `st_size`, in bytes (0 for assembly labels).
    size: u64,
}

/// A kernel's symbols: its section headers, symbol table and string table.
#[derive(Debug, Clone, Copy)]
pub struct Symbols<'a> {
    /// The section headers (to tell which section an address lies in).
    sections: SectionTable<'a>,
    /// The symbol table's bytes.
    symtab: &'a [u8],
    /// The string table's bytes.
    strtab: &'a [u8],
}

/// The function (or object) an address lies in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Symbol<'a> {
    /// The name as stored (demangled by the packer; mangled in an
    /// unpacked kernel ELF).
    pub name: &'a str,
    /// Its first address.
    pub start: u64,
}

impl fmt::Display for Symbol<'_> {
    /// The name as stored.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl<'a> Symbols<'a> {
    /// The symbols in `symtab` with names in `strtab` (the bytes of the
    /// sections [`SectionTable::symbol_table`] found).
    pub fn new(sections: SectionTable<'a>, symtab: &'a [u8], strtab: &'a [u8]) -> Self {
        Symbols {
            sections,
            symtab,
            strtab,
        }
    }

    /// How many entries the symbol table has.
    pub fn len(&self) -> usize {
        self.symtab.len() / SYMBOL_SIZE
    }

    /// Every entry, in table order.
    fn entries(&self) -> impl Iterator<Item = Entry> + '_ {
        self.symtab.chunks_exact(SYMBOL_SIZE).map(|raw| Entry {
            name: u32_at(raw, 0).unwrap_or(0),
            kind: raw[4] & 0xf,
            section: u16_at(raw, 6).unwrap_or(0),
            value: u64_at(raw, 8).unwrap_or(0),
            size: u64_at(raw, 16).unwrap_or(0),
        })
    }

    /// The entry's name, if it has a readable one.
    fn name(&self, entry: &Entry) -> Option<&'a str> {
        let rest = self.strtab.get(entry.name as usize..)?;
        let length = rest.iter().position(|&byte| byte == 0)?;
        let name = core::str::from_utf8(&rest[..length]).ok()?;
        (!name.is_empty()).then_some(name)
    }

    /// The function or data object `address` lies in: the sized symbol
    /// (`STT_FUNC`, else `STT_OBJECT`) that contains it, or, for assembly
    /// code, whose labels have no size, the closest label at or below it in
    /// the same section with no sized symbol in between.
    pub fn resolve(&self, address: u64) -> Option<Symbol<'a>> {
        let mut object = None;
        for entry in self.entries() {
            let sized =
                entry.size > 0 && address >= entry.value && address - entry.value < entry.size;
            if !sized {
                continue;
            }
            match entry.kind {
                STT_FUNC => return self.symbol(&entry),
                STT_OBJECT if object.is_none() => object = self.symbol(&entry),
                _ => {}
            }
        }
        object.or_else(|| self.nearest_label(address))
    }

    /// The entry as a [`Symbol`], if it has a name.
    fn symbol(&self, entry: &Entry) -> Option<Symbol<'a>> {
        Some(Symbol {
            name: self.name(entry)?,
            start: entry.value,
        })
    }

    /// The closest size-0 label at or below `address` in the allocated
    /// section holding it, unless a sized symbol ends between the two.
    fn nearest_label(&self, address: u64) -> Option<Symbol<'a>> {
        let section = (0..self.sections.len()).find(|&index| {
            self.sections
                .get(index)
                .is_some_and(|section| section.holds(address))
        })?;
        let in_section = |entry: &Entry| {
            entry.section as usize == section
                && entry.section != 0
                && entry.section < SHN_LORESERVE
                && entry.value <= address
        };
        // Sized code or data ending at or below `address`: a label before it
        // does not cover `address`.
        let fence = self
            .entries()
            .filter(|entry| in_section(entry) && entry.size > 0)
            .map(|entry| entry.value.saturating_add(entry.size))
            .filter(|&end| end <= address)
            .max()
            .unwrap_or(0);
        self.entries()
            .filter(|entry| {
                in_section(entry)
                    && entry.size == 0
                    && matches!(entry.kind, STT_NOTYPE | STT_FUNC)
                    && entry.value >= fence
            })
            .filter_map(|entry| self.symbol(&entry))
            .max_by_key(|symbol| symbol.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A section header's bytes.
    fn section(kind: u32, flags: u64, address: u64, size: u64, link: u32, entsize: u64) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0u32.to_le_bytes()); // sh_name
        bytes.extend_from_slice(&kind.to_le_bytes());
        bytes.extend_from_slice(&flags.to_le_bytes());
        bytes.extend_from_slice(&address.to_le_bytes());
        bytes.extend_from_slice(&0u64.to_le_bytes()); // sh_offset
        bytes.extend_from_slice(&size.to_le_bytes());
        bytes.extend_from_slice(&link.to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes()); // sh_info
        bytes.extend_from_slice(&8u64.to_le_bytes()); // sh_addralign
        bytes.extend_from_slice(&entsize.to_le_bytes());
        bytes
    }

    /// An ELF-sections payload: num, entsize, shndx, then the headers.
    fn payload(sections: &[Vec<u8>], shndx: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&(sections.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&64u32.to_le_bytes());
        bytes.extend_from_slice(&shndx.to_le_bytes());
        for header in sections {
            bytes.extend_from_slice(header);
        }
        bytes
    }

    /// Section indexes in the test kernel.
    const TEXT: u16 = 1;
    const RODATA: u16 = 2;

    /// The test kernel's sections, as GRUB would describe them: null,
    /// .text at 0x1000 (0x1000 bytes), .rodata at 0x2000, .symtab and
    /// .strtab loaded at 0x80000 and 0x90000, .shstrtab.
    fn kernel_sections(symtab_size: u64) -> Vec<u8> {
        payload(
            &[
                section(0, 0, 0, 0, 0, 0),
                section(1, 0x6, 0x1000, 0x1000, 0, 0),
                section(1, 0x2, 0x2000, 0x100, 0, 0),
                section(SHT_SYMTAB, 0, 0x80000, symtab_size, 4, 24),
                section(SHT_STRTAB, 0, 0x90000, 0x100, 0, 0),
                section(SHT_STRTAB, 0, 0, 0x40, 0, 0),
            ],
            5,
        )
    }

    /// A symbol table and its string table from (name, type, section,
    /// value, size).
    fn tables(symbols: &[(&str, u8, u16, u64, u64)]) -> (Vec<u8>, Vec<u8>) {
        let mut symtab = vec![0u8; SYMBOL_SIZE]; // entry 0 is the null symbol
        let mut strtab = vec![0u8];
        for &(name, kind, section, value, size) in symbols {
            symtab.extend_from_slice(&(strtab.len() as u32).to_le_bytes());
            strtab.extend_from_slice(name.as_bytes());
            strtab.push(0);
            symtab.push(0x10 | kind); // global binding
            symtab.push(0);
            symtab.extend_from_slice(&section.to_le_bytes());
            symtab.extend_from_slice(&value.to_le_bytes());
            symtab.extend_from_slice(&size.to_le_bytes());
        }
        (symtab, strtab)
    }

    /// Names as the packed kernel has them: a Rust function the packer
    /// demangled, one as the linker left it (an unpacked ELF), an unmangled
    /// one, assembly labels, a data object.
    const RUST_MAIN: &str = "rust_main";
    const PAGE_FAULT: &str = "kestrel::debug::crash::page_fault";
    const MANGLED: &str = "_RNvNtNtCs4fqI2P2rA04_7kestrel5debug5crash11crash_stack";

    fn kernel_symbols() -> (Vec<u8>, Vec<u8>) {
        tables(&[
            ("start", STT_NOTYPE, TEXT, 0x1000, 0),
            ("start.fail", STT_NOTYPE, TEXT, 0x1020, 0),
            ("long_mode_start", STT_NOTYPE, TEXT, 0x1080, 0),
            (PAGE_FAULT, STT_FUNC, TEXT, 0x1100, 0x20),
            (RUST_MAIN, STT_FUNC, TEXT, 0x1200, 0x300),
            (MANGLED, STT_FUNC, TEXT, 0x1600, 0x10),
            ("MESSAGE", STT_OBJECT, RODATA, 0x2010, 0x10),
            ("absolute", STT_NOTYPE, 0xfff1, 0x1800, 0),
        ])
    }

    /// Resolves `address` in the test kernel: the name and offset.
    fn resolve(address: u64) -> Option<String> {
        let sections = kernel_sections(0);
        let table = SectionTable::parse(&sections).unwrap();
        let (symtab, strtab) = kernel_symbols();
        let symbols = Symbols::new(table, &symtab, &strtab);
        symbols
            .resolve(address)
            .map(|symbol| format!("{symbol}+{:#x}", address - symbol.start))
    }

    #[test]
    fn finds_the_symbol_table_and_its_strings() {
        let sections = kernel_sections(0x30);
        let table = SectionTable::parse(&sections).unwrap();
        assert_eq!(table.len(), 6);
        let (symtab, strtab) = table.symbol_table().unwrap();
        assert_eq!((symtab.address, symtab.size), (0x80000, 0x30));
        assert_eq!((strtab.address, strtab.size), (0x90000, 0x100));
    }

    #[test]
    fn names_functions_as_stored_with_offsets() {
        assert_eq!(
            resolve(0x1100).as_deref(),
            Some("kestrel::debug::crash::page_fault+0x0")
        );
        assert_eq!(
            resolve(0x111f).as_deref(),
            Some("kestrel::debug::crash::page_fault+0x1f")
        );
        assert_eq!(resolve(0x1234).as_deref(), Some("rust_main+0x34"));
        assert_eq!(
            resolve(0x1604).as_deref(),
            Some("_RNvNtNtCs4fqI2P2rA04_7kestrel5debug5crash11crash_stack+0x4")
        );
    }

    #[test]
    fn names_assembly_labels_up_to_the_next_sized_symbol() {
        assert_eq!(resolve(0x1000).as_deref(), Some("start+0x0"));
        assert_eq!(resolve(0x1030).as_deref(), Some("start.fail+0x10"));
        assert_eq!(resolve(0x1095).as_deref(), Some("long_mode_start+0x15"));
        // Padding after page_fault (0x1120..0x1200) belongs to no label.
        assert_eq!(resolve(0x1150), None);
        // After rust_main's end, outside any section's symbols.
        assert_eq!(resolve(0x1500), None);
    }

    #[test]
    fn names_data_objects_and_nothing_outside_sections() {
        assert_eq!(resolve(0x2013).as_deref(), Some("MESSAGE+0x3"));
        assert_eq!(resolve(0x2000), None);
        assert_eq!(resolve(0), None);
        assert_eq!(resolve(0x5000), None);
        assert_eq!(resolve(u64::MAX), None);
    }

    #[test]
    fn says_why_there_are_no_symbols() {
        // Stripped: no SHT_SYMTAB.
        let stripped = payload(
            &[section(0, 0, 0, 0, 0, 0), section(1, 6, 0x1000, 0x10, 0, 0)],
            0,
        );
        let table = SectionTable::parse(&stripped).unwrap();
        assert_eq!(table.symbol_table(), Err(NoSymbols::Stripped));
        // Not loaded by the boot loader.
        let unloaded = payload(
            &[
                section(0, 0, 0, 0, 0, 0),
                section(SHT_SYMTAB, 0, 0, 48, 2, 24),
                section(SHT_STRTAB, 0, 0, 16, 0, 0),
            ],
            0,
        );
        let table = SectionTable::parse(&unloaded).unwrap();
        assert_eq!(table.symbol_table(), Err(NoSymbols::NotLoaded));
        // Linked to something that is not a string table, or to nothing.
        for link in [1, 9] {
            let bad = payload(
                &[
                    section(0, 0, 0, 0, 0, 0),
                    section(SHT_SYMTAB, 0, 0x8000, 48, link, 24),
                ],
                0,
            );
            let table = SectionTable::parse(&bad).unwrap();
            assert!(matches!(table.symbol_table(), Err(NoSymbols::BadTable(_))));
        }
        // Wrong symbol size, partial symbol.
        for (size, entsize) in [(48, 16), (50, 24)] {
            let bad = payload(
                &[
                    section(0, 0, 0, 0, 0, 0),
                    section(SHT_SYMTAB, 0, 0x8000, size, 2, entsize),
                    section(SHT_STRTAB, 0, 0x9000, 16, 0, 0),
                ],
                0,
            );
            let table = SectionTable::parse(&bad).unwrap();
            assert!(matches!(table.symbol_table(), Err(NoSymbols::BadTable(_))));
        }
        assert_eq!(
            NoSymbols::Stripped.to_string(),
            "the kernel has no symbol table (stripped)"
        );
    }

    #[test]
    fn rejects_malformed_tag_payloads() {
        let good = kernel_sections(0);
        for cut in [0, 4, 11, 12, good.len() - 1] {
            assert_eq!(
                SectionTable::parse(&good[..cut]).err(),
                Some(NoSymbols::BadTag),
                "{cut}"
            );
        }
        let mut wrong_size = good.clone();
        wrong_size[4..8].copy_from_slice(&40u32.to_le_bytes());
        assert_eq!(
            SectionTable::parse(&wrong_size).err(),
            Some(NoSymbols::BadTag)
        );
        let mut huge = good.clone();
        huge[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(SectionTable::parse(&huge).err(), Some(NoSymbols::BadTag));
    }

    #[test]
    fn garbage_tables_give_no_names_and_never_panic() {
        let sections = kernel_sections(0);
        let table = SectionTable::parse(&sections).unwrap();
        let (mut symtab, strtab) = kernel_symbols();
        // Name offsets past the string table, a name without its NUL, bad
        // UTF-8: no name.
        let (_, no_nul) = tables(&[("f", STT_FUNC, TEXT, 0x1100, 0x20)]);
        let no_nul = &no_nul[..no_nul.len() - 1];
        let symbols = Symbols::new(table, &symtab, no_nul);
        assert_eq!(symbols.resolve(0x1100), None);
        let bad_utf8 = [0u8, 0xff, 0xfe, 0];
        let (one, _) = tables(&[("ab", STT_FUNC, TEXT, 0x1100, 0x20)]);
        assert_eq!(Symbols::new(table, &one, &bad_utf8).resolve(0x1100), None);
        for byte in symtab.iter_mut().skip(SYMBOL_SIZE).step_by(7) {
            *byte = 0xff;
        }
        let symbols = Symbols::new(table, &symtab, &strtab);
        for address in [0, 0x1000, 0x1100, 0x1234, 0x2010, u64::MAX] {
            let _ = symbols.resolve(address);
        }
        // A table cut mid-symbol: the partial entry is ignored.
        let (symtab, strtab) = kernel_symbols();
        let cut = &symtab[..symtab.len() - 5];
        let symbols = Symbols::new(table, cut, &strtab);
        assert_eq!(symbols.len(), 8);
        assert_eq!(symbols.resolve(0x1100).map(|s| s.name), Some(PAGE_FAULT));
    }

    #[test]
    fn functions_win_over_overlapping_objects_and_labels() {
        let sections = kernel_sections(0);
        let table = SectionTable::parse(&sections).unwrap();
        let (symtab, strtab) = tables(&[
            ("label", STT_NOTYPE, TEXT, 0x1100, 0),
            ("object", STT_OBJECT, TEXT, 0x1100, 0x40),
            ("function", STT_FUNC, TEXT, 0x1100, 0x20),
        ]);
        let symbols = Symbols::new(table, &symtab, &strtab);
        assert_eq!(symbols.resolve(0x1110).map(|s| s.name), Some("function"));
        assert_eq!(symbols.resolve(0x1130).map(|s| s.name), Some("object"));
    }
}

//! The one list of physical memory the frame allocator must never hand out.
//!
//! What the boot left in RAM that must survive, each entry with a short name
//! for messages and tests:
//!
//! - `page 0`: the real-mode interrupt table, and a null pointer's target;
//! - `kernel`: the kernel image (.bss, page tables and boot stack included);
//! - `boot information`: GRUB's Multiboot2 structure;
//! - `module`: every `module2` file GRUB loaded;
//! - `framebuffer`: the framebuffer GRUB set up, `pitch * height` bytes from
//!   its address (usually outside RAM; listed so it never matters);
//! - `elf section`: every section of the kernel ELF that has an address and
//!   a size. GRUB loads the sections with no load address (`.symtab`,
//!   `.strtab`, the debug sections) wherever it finds room in usable RAM and
//!   lists their new addresses in the ELF-sections tag; the allocated
//!   sections (`.text`, `.data`, ...) lie inside the kernel image anyway;
//! - `frame bitmap`: the frame allocator's own storage, added by the kernel
//!   once it has chosen where that lives.
//!
//! [`reserved_ranges`] builds the list from the boot information; the kernel
//! adds the bitmap with [`Reserved::push`]. A fixed-capacity array (no heap):
//! [`MAX_MODULES`] modules and [`MAX_ELF_SECTIONS`] sections fit, more are a
//! [`ReservedError`] the kernel reports as a `boot error:`.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

use core::fmt;

use super::range::PhysRange;
use crate::boot_info::{BootInfo, module_range};

/// The most `module2` files the list has room for.
pub const MAX_MODULES: usize = 62;

/// The most ELF sections (with an address and a size) the list has room for.
/// The kernel has about 20, its debug sections included.
pub const MAX_ELF_SECTIONS: usize = 64;

/// Entries there is always exactly one (or none) of: page 0, the kernel, the
/// boot information, the framebuffer and the frame bitmap.
const SINGLE_ENTRIES: usize = 5;

/// How many entries [`Reserved`] holds.
pub const MAX_RESERVED: usize = SINGLE_ENTRIES + MAX_MODULES + MAX_ELF_SECTIONS;

/// The name of page 0's entry.
pub const PAGE_ZERO: &str = "page 0";
/// The name of the kernel image's entry.
pub const KERNEL: &str = "kernel";
/// The name of the boot information's entry.
pub const BOOT_INFORMATION: &str = "boot information";
/// The name of each module's entry.
pub const MODULE: &str = "module";
/// The name of the framebuffer's entry.
pub const FRAMEBUFFER: &str = "framebuffer";
/// The name of each ELF section's entry.
pub const ELF_SECTION: &str = "elf section";
/// The name of the frame allocator's bitmap's entry.
pub const FRAME_BITMAP: &str = "frame bitmap";

/// One reserved range and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservedRange {
    /// The physical addresses.
    pub range: PhysRange,
    /// What lies there (one of the names above).
    pub name: &'static str,
}

/// [`Reserved`] is full: more entries than [`MAX_RESERVED`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservedFull;

/// Why the boot's reserved list could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservedError {
    /// More modules than [`MAX_MODULES`].
    TooManyModules {
        /// How many GRUB loaded.
        count: usize,
    },
    /// More ELF sections with an address and a size than [`MAX_ELF_SECTIONS`].
    TooManyElfSections {
        /// How many the ELF-sections tag lists.
        count: usize,
    },
}

impl fmt::Display for ReservedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooManyModules { count } => {
                write!(f, "too many boot modules: {count} (at most {MAX_MODULES})")
            }
            Self::TooManyElfSections { count } => write!(
                f,
                "too many ELF sections in memory: {count} (at most {MAX_ELF_SECTIONS})"
            ),
        }
    }
}

/// Physical ranges the allocator must never hand out (a fixed-capacity list).
#[derive(Debug, Clone, Copy)]
pub struct Reserved {
    /// The entries; only the first `len` are used.
    entries: [ReservedRange; MAX_RESERVED],
    /// How many entries are in use.
    len: usize,
}

impl Reserved {
    /// No entries.
    pub const fn new() -> Self {
        Self {
            entries: [ReservedRange {
                range: PhysRange::new(0, 0),
                name: "",
            }; MAX_RESERVED],
            len: 0,
        }
    }

    /// Adds a range named `name` (an empty one too: it simply reserves
    /// nothing).
    pub fn push(&mut self, range: PhysRange, name: &'static str) -> Result<(), ReservedFull> {
        let slot = self.entries.get_mut(self.len).ok_or(ReservedFull)?;
        *slot = ReservedRange { range, name };
        self.len += 1;
        Ok(())
    }

    /// The entries added so far, in order.
    pub fn as_slice(&self) -> &[ReservedRange] {
        &self.entries[..self.len]
    }

    /// The ranges added so far, in order.
    pub fn ranges(&self) -> impl Iterator<Item = PhysRange> + '_ {
        self.as_slice().iter().map(|entry| entry.range)
    }

    /// The first entry that shares an address with `range`, if any.
    pub fn overlapping(&self, range: &PhysRange) -> Option<&ReservedRange> {
        self.as_slice()
            .iter()
            .find(|entry| entry.range.overlaps(range))
    }
}

impl Default for Reserved {
    fn default() -> Self {
        Self::new()
    }
}

/// The ELF sections GRUB placed in memory: each section of the ELF-sections
/// tag with a nonzero address and size (validation checked the tag's layout).
pub fn elf_section_ranges<'b>(boot: &'b BootInfo<'b>) -> impl Iterator<Item = PhysRange> + 'b {
    boot.mbi
        .elf_sections_tag()
        .into_iter()
        .flat_map(|tag| tag.sections())
        .filter(|section| section.sh_addr != 0 && section.sh_size != 0)
        .map(|section| PhysRange::from_size(section.sh_addr, section.sh_size))
}

/// The reserved list of this boot, all but the frame bitmap (whose place is
/// chosen afterwards, clear of these): page 0, the kernel image (`kernel`),
/// the boot information, every module, the framebuffer and every ELF section
/// in memory. Fails when there are more modules or sections than the list has
/// room for; after success, the list still has room for the bitmap.
pub fn reserved_ranges(boot: &BootInfo, kernel: PhysRange) -> Result<Reserved, ReservedError> {
    let modules = boot.modules().count();
    if modules > MAX_MODULES {
        return Err(ReservedError::TooManyModules { count: modules });
    }
    let sections = elf_section_ranges(boot).count();
    if sections > MAX_ELF_SECTIONS {
        return Err(ReservedError::TooManyElfSections { count: sections });
    }
    let mut reserved = Reserved::new();
    // Within capacity by the counts above: only the bitmap's slot is left.
    let mut push = |range, name| {
        reserved
            .push(range, name)
            .expect("counted within MAX_RESERVED");
    };
    push(PhysRange::new(0, super::PAGE_SIZE), PAGE_ZERO);
    push(kernel, KERNEL);
    push(boot.mbi_range(), BOOT_INFORMATION);
    for module in boot.modules() {
        push(module_range(module), MODULE);
    }
    if let Some(framebuffer) = boot.framebuffer() {
        let size = u64::from(framebuffer.pitch) * u64::from(framebuffer.height);
        push(PhysRange::from_size(framebuffer.address, size), FRAMEBUFFER);
    }
    for section in elf_section_ranges(boot) {
        push(section, ELF_SECTION);
    }
    Ok(reserved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boot_info::test_support::{Builder, typical};

    const KERNEL_RANGE: PhysRange = PhysRange::new(0x10_0000, 0x13_0000);

    /// The reserved list of the structure `builder` builds.
    fn list_for(builder: Builder) -> Result<Reserved, ReservedError> {
        let buffer = builder.build();
        let boot = BootInfo::from_bytes(buffer.bytes()).expect("valid");
        reserved_ranges(&boot, KERNEL_RANGE)
    }

    #[test]
    fn lists_everything_the_boot_left_in_ram_by_name() {
        let buffer = typical().build();
        let boot = BootInfo::from_bytes(buffer.bytes()).unwrap();
        let list = reserved_ranges(&boot, KERNEL_RANGE).unwrap();
        let names: Vec<&str> = list.as_slice().iter().map(|entry| entry.name).collect();
        assert_eq!(
            names,
            [
                PAGE_ZERO,
                KERNEL,
                BOOT_INFORMATION,
                MODULE,
                FRAMEBUFFER,
                ELF_SECTION,
                ELF_SECTION,
                ELF_SECTION,
            ]
        );
        let ranges: Vec<PhysRange> = list.ranges().collect();
        assert_eq!(ranges[0], PhysRange::new(0, 0x1000));
        assert_eq!(ranges[1], KERNEL_RANGE);
        assert_eq!(ranges[2], boot.mbi_range());
        assert_eq!(ranges[3], PhysRange::new(0x20_0000, 0x20_04d3));
        // 80x25 text: pitch 160 x 25 lines.
        assert_eq!(ranges[4], PhysRange::new(0xb8000, 0xb8000 + 4000));
        // typical()'s sections: .text in the kernel, then .symtab and
        // .strtab where GRUB put them (the null section and the unloaded
        // one are left out).
        assert_eq!(ranges[5], PhysRange::new(0x10_1000, 0x10_9000));
        assert_eq!(ranges[6], PhysRange::new(0x30_0000, 0x30_3378));
        assert_eq!(ranges[7], PhysRange::new(0x30_4000, 0x30_c6e9));
    }

    #[test]
    fn no_framebuffer_or_sections_no_entries() {
        let list = list_for(
            Builder::new()
                .memory_map(&[(0, 0x9fc00, 1), (0x10_0000, 0x100_0000, 1)])
                .end(),
        )
        .unwrap();
        let names: Vec<&str> = list.as_slice().iter().map(|entry| entry.name).collect();
        assert_eq!(names, [PAGE_ZERO, KERNEL, BOOT_INFORMATION]);
    }

    #[test]
    fn at_most_62_modules_then_room_for_the_bitmap() {
        let with_modules = |count: u32| {
            let mut builder = Builder::new().memory_map(&[(0, 0x9fc00, 1)]);
            for i in 0..count {
                builder = builder.module(0x20_0000 + i * 0x1000, 0x20_0800 + i * 0x1000, "m");
            }
            builder
        };
        let mut list = list_for(
            with_modules(MAX_MODULES as u32)
                .framebuffer(0xb8000, 160, (80, 25), 16, 2, &[])
                .elf_sections(&[(0x40_0000, 0x1000); MAX_ELF_SECTIONS])
                .end(),
        )
        .unwrap();
        assert_eq!(list.as_slice().len(), MAX_RESERVED - 1);
        assert_eq!(
            list.push(PhysRange::new(0x50_0000, 0x50_1000), FRAME_BITMAP),
            Ok(())
        );
        assert_eq!(
            list.push(PhysRange::new(0, 1), FRAME_BITMAP),
            Err(ReservedFull)
        );

        let error = list_for(with_modules(MAX_MODULES as u32 + 1).end()).unwrap_err();
        assert_eq!(error, ReservedError::TooManyModules { count: 63 });
        assert_eq!(error.to_string(), "too many boot modules: 63 (at most 62)");
    }

    #[test]
    fn too_many_elf_sections_is_an_error() {
        let sections = [(0x40_0000, 0x10); MAX_ELF_SECTIONS + 1];
        let error = list_for(
            Builder::new()
                .memory_map(&[(0, 0x9fc00, 1)])
                .elf_sections(&sections)
                .end(),
        )
        .unwrap_err();
        assert_eq!(error, ReservedError::TooManyElfSections { count: 65 });
        assert!(error.to_string().contains("at most 64"));
    }

    #[test]
    fn overlapping_names_the_first_entry_hit() {
        let mut list = Reserved::new();
        list.push(PhysRange::new(0x1000, 0x2000), KERNEL).unwrap();
        list.push(PhysRange::new(0x1800, 0x3000), MODULE).unwrap();
        let hit = list.overlapping(&PhysRange::new(0x1fff, 0x2800)).unwrap();
        assert_eq!(hit.name, KERNEL);
        let hit = list.overlapping(&PhysRange::new(0x2000, 0x2800)).unwrap();
        assert_eq!(hit.name, MODULE);
        assert!(list.overlapping(&PhysRange::new(0x3000, 0x4000)).is_none());
    }

    #[test]
    fn has_a_fixed_capacity() {
        let mut list = Reserved::new();
        for i in 0..MAX_RESERVED as u64 {
            list.push(PhysRange::new(i, i + 1), MODULE).unwrap();
        }
        assert_eq!(list.push(PhysRange::new(0, 1), MODULE), Err(ReservedFull));
        assert_eq!(list.as_slice().len(), MAX_RESERVED);
    }
}

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
//! `boot_info::reserved_ranges` builds the list from the boot information;
//! the kernel adds the bitmap with [`Reserved::push`]. A fixed-capacity array (no heap):
//! [`MAX_MODULES`] modules and [`MAX_ELF_SECTIONS`] sections fit, more are a
//! [`ReservedError`] the kernel reports as a `boot error:`.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

use core::fmt;

use super::range::PhysRange;

/// The most `module2` files the list has room for.
pub const MAX_MODULES: usize = 62;

/// The most ELF sections (with an address and a size) the list has room for.
/// The kernel has about 20, its debug sections included.
pub const MAX_ELF_SECTIONS: usize = 64;

/// Entries there is always exactly one (or none) of: page 0, the kernel, the
/// boot information, the framebuffer, the frame bitmap and the AP start-up
/// page.
const SINGLE_ENTRIES: usize = 6;

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
/// The name of the page below 1 MiB where the other CPUs start (real mode
/// reaches only the first MiB).
pub const AP_START: &str = "AP start-up page";

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

#[cfg(test)]
mod tests {
    use super::*;

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

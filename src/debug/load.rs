//! Finding the kernel's symbol table: the only place that turns the
//! addresses in the ELF-sections tag into memory to read.
//!
//! GRUB puts `.symtab` and `.strtab` wherever it finds room (they have no
//! load address) and writes their physical addresses into the section
//! headers it passes; the frame allocator keeps those frames (they are on
//! the reserved list). [`init`] finds the two sections once. Their bytes are
//! reached through [`phys_to_virt`] each time they are used
//! ([`with_symbols`]), after checking that every page is mapped there
//! ([`translate`]): the way to physical memory changes during the boot (the
//! boot identity map, then the direct map), so no view of them is kept.

use multiboot2::TagType;
use spin::Once;

use super::symbols::{NoSymbols, Section, SectionTable, Symbols};
use crate::arch::translate;
use crate::boot_info::BootInfo;
use crate::memory::layout::loaded_at;
use crate::memory::{PAGE_SIZE, phys_to_virt};

/// The largest table accepted: a wild size is not worth walking the page
/// tables for (the kernel's own are tens of KiB).
const MAX_TABLE_SIZE: u64 = 64 << 20;

/// Where the symbol table and its strings are.
struct Located {
    /// The section headers, in the boot information (which stays mapped).
    sections: SectionTable<'static>,
    /// The `.symtab` section.
    symtab: Section,
    /// The string table it links to.
    strtab: Section,
}

/// The tables, or why there are none; set once by [`init`].
static LOCATED: Once<Result<Located, NoSymbols>> = Once::new();

/// Finds the symbol table through the boot information. Call once, after
/// the boot information is loaded; backtraces before that show addresses.
pub fn init(boot: &'static BootInfo<'static>) {
    LOCATED.call_once(|| locate(boot));
    with_symbols(|symbols| match symbols {
        Some(Ok(symbols)) => log::debug!("debug: {} symbols for backtraces", symbols.len()),
        Some(Err(why)) => log::debug!("debug: backtraces without function names: {why}"),
        None => {}
    });
}

/// Runs `f` with the symbols: `None` before [`init`], else the table or why
/// there is none (found, but not mapped, counts as none). The table's bytes
/// are valid only during `f`.
pub fn with_symbols<R>(f: impl FnOnce(Option<Result<&Symbols<'_>, NoSymbols>>) -> R) -> R {
    let Some(located) = LOCATED.get() else {
        return f(None);
    };
    let symbols = located.as_ref().map_err(|why| *why).and_then(|found| {
        // SAFETY: both sections are read only for the duration of `f`, which
        // runs on this CPU with nothing in between that could remap memory
        // (callers are the fault and panic handlers, with interrupts off, and
        // code that only reads).
        let (symtab, strtab) = unsafe { (bytes(found.symtab)?, bytes(found.strtab)?) };
        Ok(Symbols::new(found.sections, symtab, strtab))
    });
    f(Some(symbols.as_ref().map_err(|why| *why)))
}

/// The symbol table named by the boot information's ELF-sections tag.
fn locate(boot: &'static BootInfo<'static>) -> Result<Located, NoSymbols> {
    let payload = boot
        .tag_payload(TagType::ElfSections)
        .ok_or(NoSymbols::NoTag)?;
    let sections = SectionTable::parse(payload)?;
    let (symtab, strtab) = sections.symbol_table()?;
    Ok(Located {
        sections,
        symtab,
        strtab,
    })
}

/// The bytes of a section GRUB loaded, once every page of it is known to be
/// mapped at [`phys_to_virt`] of where it lies. Its address in the tag is
/// physical when GRUB placed it, or its link address in the image's high
/// window when the packer placed it after the image
/// ([`loaded_at`] turns either into the physical one).
///
/// # Safety
/// The caller uses the slice only while the mapping stays as it is now.
unsafe fn bytes<'a>(section: Section) -> Result<&'a [u8], NoSymbols> {
    let unmapped = NoSymbols::Unmapped {
        address: section.address,
        size: section.size,
    };
    if section.size == 0 {
        return Ok(&[]);
    }
    if section.size > MAX_TABLE_SIZE {
        return Err(unmapped);
    }
    let address = loaded_at(section.address);
    let last = address.checked_add(section.size - 1).ok_or(unmapped)?;
    let mut page = address & !(PAGE_SIZE - 1);
    while page <= last {
        if translate(phys_to_virt(page)) != Some(page) {
            return Err(unmapped);
        }
        page += PAGE_SIZE;
    }
    let start = phys_to_virt(address) as *const u8;
    // SAFETY: every page of the `size` bytes (at most MAX_TABLE_SIZE, so the
    // length fits a usize) is mapped at phys_to_virt of its physical address
    // (checked just above), where GRUB loaded the section, so the slice is
    // readable and initialised, and it stays so while the mapping does (the
    // caller's promise). Nothing writes there: the kernel never writes its
    // symbol table, and the frame allocator never hands out these frames
    // (the ELF sections GRUB loaded are on its reserved list).
    Ok(unsafe { core::slice::from_raw_parts(start, section.size as usize) })
}

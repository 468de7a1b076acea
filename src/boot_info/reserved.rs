//! What the boot left in RAM that must survive, as the memory layer's
//! reserved list: page 0, the kernel image, the boot information, every
//! module, the framebuffer and every ELF section GRUB placed (see
//! `memory::reserved` for what each entry means).
//!
//! Pure logic over the boot information, tested on the host.

#![forbid(unsafe_code)]

use super::{BootInfo, module_range};
use crate::memory::PAGE_SIZE;
use crate::memory::layout::loaded_at;
use crate::memory::range::PhysRange;
use crate::memory::reserved::{
    AP_START, BOOT_INFORMATION, ELF_SECTION, FRAMEBUFFER, KERNEL, MAX_ELF_SECTIONS, MAX_MODULES,
    MODULE, PAGE_ZERO, Reserved, ReservedError,
};

/// The ELF sections GRUB placed in memory: each section of the ELF-sections
/// tag with a nonzero address and size (validation checked the tag's layout),
/// at its physical address (the packer gives the symbol table its address in
/// the image's high window).
pub fn elf_section_ranges<'b>(boot: &'b BootInfo<'b>) -> impl Iterator<Item = PhysRange> + 'b {
    boot.mbi
        .elf_sections_tag()
        .into_iter()
        .flat_map(|tag| tag.sections())
        .filter(|section| section.sh_addr != 0 && section.sh_size != 0)
        .map(|section| PhysRange::from_size(loaded_at(section.sh_addr), section.sh_size))
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
    push(PhysRange::new(0, PAGE_SIZE), PAGE_ZERO);
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
    let usable = boot
        .memory_areas()
        .iter()
        .filter(|area| crate::memory::frame_allocator::is_usable(area))
        .map(crate::memory::frame_allocator::area_range);
    if let Some(page) = ap_start_page(usable, &reserved) {
        reserved
            .push(page, AP_START)
            .expect("counted within MAX_RESERVED");
    }
    Ok(reserved)
}

/// Where real mode can start a CPU: below 1 MiB (a start-up IPI names a
/// page number of 8 bits).
const REAL_MODE_END: u64 = 0x10_0000;

/// The page the other CPUs start in: the lowest page below 1 MiB that lies
/// in usable RAM (one of `usable`) and in no reserved range (page 0 is
/// one); `None` if there is none.
fn ap_start_page(
    usable: impl Iterator<Item = PhysRange>,
    reserved: &Reserved,
) -> Option<PhysRange> {
    usable
        .filter_map(|area| {
            let mut page = area.start.next_multiple_of(PAGE_SIZE);
            while page + PAGE_SIZE <= area.end.min(REAL_MODE_END) {
                let candidate = PhysRange::from_size(page, PAGE_SIZE);
                match reserved.overlapping(&candidate) {
                    None => return Some(candidate),
                    // Skip to the end of what is in the way.
                    Some(entry) => page = entry.range.end.next_multiple_of(PAGE_SIZE),
                }
            }
            None
        })
        .min_by_key(|page| page.start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boot_info::test_support::{Builder, typical};
    use crate::memory::reserved::{FRAME_BITMAP, MAX_RESERVED, ReservedFull};

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
                AP_START,
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
        // The lowest free page of the first MiB: page 0 is taken.
        assert_eq!(ranges[8], PhysRange::new(0x1000, 0x2000));
    }

    #[test]
    fn the_ap_start_page_is_the_lowest_free_page_below_1_mib() {
        let mut reserved = Reserved::new();
        reserved.push(PhysRange::new(0, 0x1000), PAGE_ZERO).unwrap();
        reserved
            .push(PhysRange::new(0x1000, 0x2800), BOOT_INFORMATION)
            .unwrap();
        let areas = [
            PhysRange::new(0, 0x9fc00),
            PhysRange::new(0x10_0000, 0x800_0000),
        ];
        assert_eq!(
            ap_start_page(areas.into_iter(), &reserved),
            Some(PhysRange::new(0x3000, 0x4000))
        );
        // Usable RAM only above 1 MiB, or a first MiB all taken: none.
        let high = [PhysRange::new(0x10_0000, 0x800_0000)];
        assert_eq!(ap_start_page(high.into_iter(), &reserved), None);
        reserved
            .push(PhysRange::new(0x2000, 0xa0000), MODULE)
            .unwrap();
        assert_eq!(ap_start_page(areas.into_iter(), &reserved), None);
        // An area that starts mid-page begins at its next page.
        let odd = [PhysRange::new(0x7_0800, 0x7_2000)];
        assert_eq!(
            ap_start_page(odd.into_iter(), &Reserved::new()),
            Some(PhysRange::new(0x7_1000, 0x7_2000))
        );
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
        assert_eq!(names, [PAGE_ZERO, KERNEL, BOOT_INFORMATION, AP_START]);
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
}

//! In-kernel tests of the frame allocator on the machine's real memory map.
//!
//! The checks use the boot information directly (the memory map, the boot
//! information's own range, the modules, the framebuffer, the ELF-sections
//! tag) and the linker's kernel range, not the allocator's reserved list, so
//! a wrong list fails. Only the bitmap's place comes from the list: the
//! kernel chose it.

pub(crate) mod heap;
pub(crate) mod paging;

use alloc::vec::Vec;

use spin::Mutex;

use super::PAGE_SIZE as FRAME_SIZE;
use super::frame_allocator::{FrameAllocator, FreeError, LOW_ZONE_END, area_range, is_usable};
use super::layout::loaded_at;
use super::range::PhysRange;
use super::reserved::FRAME_BITMAP;
use super::{bitmap_range, kernel_range, reserved_list, with_frames};
use crate::arch::BOOT_MAPPED_END;
use crate::boot_info::{BootInfo, module_range};
use crate::selftest::{Context, Outcome};
use crate::{check, check_eq, fail};

/// How many frames the self-test takes.
const FRAMES_TO_TAKE: usize = 3000;

/// The frames taken (24 KiB: in .bss, not on the 64 KiB boot stack).
static TAKEN: Mutex<[u64; FRAMES_TO_TAKE]> = Mutex::new([0; FRAMES_TO_TAKE]);

/// The ELF sections GRUB placed in memory, with an address and a size:
/// read from the tag's raw bytes by the symbol-table reader's own section
/// parser, not by `boot_info::reserved`'s code under test (which goes
/// through the `multiboot2` crate).
fn elf_sections(boot: &BootInfo) -> Vec<PhysRange> {
    let Some(payload) = boot.tag_payload(multiboot2::TagType::ElfSections) else {
        return Vec::new();
    };
    let Ok(table) = crate::debug::symbols::SectionTable::parse(payload) else {
        return Vec::new();
    };
    (0..table.len())
        .filter_map(|index| table.get(index))
        .filter(|section| section.address != 0 && section.size != 0)
        .map(|section| PhysRange::from_size(loaded_at(section.address), section.size))
        .collect()
}

/// The frame at `address` is one the allocator may hand out: aligned, not
/// page 0, whole inside a usable region, clear of every other region type,
/// the kernel, the boot information, every module, the framebuffer, every
/// ELF section and the bitmap.
fn check_free_ram(boot: &BootInfo, bitmap: PhysRange, address: u64) -> Outcome {
    let frame = PhysRange::new(address, address + FRAME_SIZE);
    check!(
        address != 0 && address.is_multiple_of(FRAME_SIZE),
        "frame {address:#x}"
    );
    let areas = boot.memory_areas();
    check!(
        areas
            .iter()
            .any(|a| is_usable(a) && area_range(a).contains_range(&frame)),
        "frame {address:#x} is not inside a usable region"
    );
    check!(
        !areas
            .iter()
            .any(|a| !is_usable(a) && area_range(a).overlaps(&frame)),
        "frame {address:#x} overlaps a non-usable region"
    );
    let kernel = kernel_range();
    check!(
        !frame.overlaps(&kernel),
        "frame {address:#x} is in the kernel {kernel}"
    );
    let mbi = boot.mbi_range();
    check!(
        !frame.overlaps(&mbi),
        "frame {address:#x} is in the boot information {mbi}"
    );
    for module in boot.modules() {
        let range = module_range(module);
        check!(
            !frame.overlaps(&range),
            "frame {address:#x} is in module {range}"
        );
    }
    if let Some(fb) = boot.framebuffer() {
        let range = PhysRange::from_size(fb.address, u64::from(fb.pitch) * u64::from(fb.height));
        check!(
            !frame.overlaps(&range),
            "frame {address:#x} is in the framebuffer {range}"
        );
    }
    for section in elf_sections(boot) {
        check!(
            !frame.overlaps(&section),
            "frame {address:#x} is in ELF section {section}"
        );
    }
    check!(
        !frame.overlaps(&bitmap),
        "frame {address:#x} is in the frame bitmap {bitmap}"
    );
    if let Some(entry) = reserved_list().overlapping(&frame) {
        fail!("frame {address:#x} is in {} {}", entry.name, entry.range);
    }
    Ok(())
}

/// A few thousand frames: each distinct and free RAM (see
/// [`check_free_ram`]); the free count drops by exactly as many; freed in a
/// scrambled order, the count returns exactly to where it was and the first
/// of them in the allocator's order (upper zone first, then the first
/// 16 MiB; lowest first in each) is the next handed out; bad frees are
/// refused.
fn allocated_frames_are_free_ram(context: &Context) -> Outcome {
    let boot = context.boot;
    let Some(bitmap) = bitmap_range() else {
        fail!("no frame bitmap in the reserved list");
    };
    let (before, total) = with_frames(|frames| (frames.free_frames(), frames.total_frames()));
    check!(before <= total, "{before} free of {total}");
    check!(before >= FRAMES_TO_TAKE as u64, "only {before} free frames");
    let mut taken = TAKEN.lock();
    for slot in taken.iter_mut() {
        let Some(address) = with_frames(|frames| frames.allocate()) else {
            fail!("allocation failed with frames left");
        };
        check_free_ram(boot, bitmap, address)?;
        *slot = address;
    }
    check_eq!(
        with_frames(|frames| frames.free_frames()),
        before - FRAMES_TO_TAKE as u64
    );
    let mut sorted = *taken;
    sorted.sort_unstable_by_key(|&frame| (frame < LOW_ZONE_END, frame));
    if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
        fail!("frame {:#x} handed out twice", pair[0]);
    }

    // 7919 is prime, so i * 7919 mod 3000 visits every index once.
    for i in 0..FRAMES_TO_TAKE {
        let address = taken[i * 7919 % FRAMES_TO_TAKE];
        check_eq!(with_frames(|frames| frames.free(address)), Ok(()));
    }
    check_eq!(with_frames(|frames| frames.free_frames()), before);

    let first = sorted[0];
    let kernel = kernel_range().start;
    with_frames(|frames| {
        check_eq!(frames.free(first), Err(FreeError::AlreadyFree));
        check_eq!(frames.free(first + 8), Err(FreeError::Misaligned));
        check_eq!(frames.free(0), Err(FreeError::NotManaged));
        check_eq!(frames.free(kernel), Err(FreeError::NotManaged));
        check_eq!(frames.free(bitmap.start), Err(FreeError::NotManaged));
        check_eq!(frames.allocate(), Some(first));
        check_eq!(frames.free(first), Ok(()));
        check_eq!(frames.free_frames(), before);
        Ok(())
    })
}

/// The reserved list holds every ELF section GRUB placed in memory, and at
/// least one lies outside the kernel image (`.symtab`, `.strtab` or a debug
/// section GRUB loaded where it found room); the bitmap lies in usable RAM
/// below 4 GiB, overlaps no other entry and is big enough.
fn elf_sections_and_bitmap_are_reserved(context: &Context) -> Outcome {
    let boot = context.boot;
    let list = reserved_list();
    let kernel = kernel_range();
    let mut outside_kernel = 0;
    for section in elf_sections(boot) {
        check!(
            list.as_slice()
                .iter()
                .any(|entry| entry.range.contains_range(&section)),
            "ELF section {section} is not in the reserved list"
        );
        if !kernel.contains_range(&section) {
            outside_kernel += 1;
        }
    }
    check!(
        outside_kernel > 0,
        "no ELF section outside the kernel {kernel}: was the tag passed?"
    );

    let Some(bitmap) = bitmap_range() else {
        fail!("no frame bitmap in the reserved list");
    };
    let words = FrameAllocator::bitmap_words(boot.memory_areas()) as u64;
    check!(
        bitmap.size() >= words * 8 && bitmap.start.is_multiple_of(FRAME_SIZE),
        "bitmap {bitmap} for {words} words"
    );
    check!(bitmap.end <= BOOT_MAPPED_END, "bitmap {bitmap} above 4 GiB");
    // Frame by frame: touching usable regions may share the bitmap.
    for frame in (bitmap.start..bitmap.end).step_by(FRAME_SIZE as usize) {
        let frame = PhysRange::new(frame, frame + FRAME_SIZE);
        let areas = boot.memory_areas();
        check!(
            areas
                .iter()
                .any(|a| is_usable(a) && area_range(a).contains_range(&frame)),
            "bitmap frame {frame} is not inside a usable region"
        );
        check!(
            !areas
                .iter()
                .any(|a| !is_usable(a) && area_range(a).overlaps(&frame)),
            "bitmap frame {frame} overlaps a non-usable region"
        );
    }
    for entry in list.as_slice().iter().filter(|e| e.name != FRAME_BITMAP) {
        check!(
            !entry.range.overlaps(&bitmap),
            "bitmap {bitmap} overlaps {} {}",
            entry.name,
            entry.range
        );
    }
    Ok(())
}

/// A frame below 4 GiB is RAM the kernel can use: a pattern written to all
/// of it through `phys_to_virt` reads back. Freed afterwards.
fn allocated_frame_holds_data(_: &Context) -> Outcome {
    let before = with_frames(|frames| frames.free_frames());
    let Some(address) = with_frames(|frames| frames.allocate_below(BOOT_MAPPED_END)) else {
        fail!("no frame below 4 GiB");
    };
    check!(
        address + FRAME_SIZE <= BOOT_MAPPED_END,
        "frame {address:#x} above the limit"
    );
    let words = (FRAME_SIZE / 8) as usize;
    // SAFETY: the frame was just allocated, so nothing else uses it; it lies
    // in the identity-mapped first 4 GiB (checked) and is 4 KiB-aligned.
    let frame =
        unsafe { core::slice::from_raw_parts_mut(super::phys_to_virt(address) as *mut u64, words) };
    for (i, word) in frame.iter_mut().enumerate() {
        // SAFETY: `word` is a valid, aligned, exclusive reference into the frame;
        // volatile so the write really reaches memory.
        unsafe { core::ptr::write_volatile(word, address ^ (i as u64 * 0x9e37_79b9)) };
    }
    for (i, word) in frame.iter().enumerate() {
        // SAFETY: as above, reading what was written.
        let value = unsafe { core::ptr::read_volatile(word) };
        check_eq!(value, address ^ (i as u64 * 0x9e37_79b9));
    }
    check_eq!(with_frames(|frames| frames.free(address)), Ok(()));
    check_eq!(with_frames(|frames| frames.free_frames()), before);
    Ok(())
}

/// The linker's kernel range starts at the load address (1 MiB) and holds
/// where the kernel's code and data were loaded; they run in its virtual
/// range.
fn kernel_range_covers_the_image(_: &Context) -> Outcome {
    const LOAD_ADDRESS: u64 = 0x10_0000;
    static DATA: u8 = 0;
    let kernel = kernel_range();
    check_eq!(kernel.start, LOAD_ADDRESS);
    let (virtual_start, virtual_end) = super::kernel_virtual_range();
    for address in [
        allocated_frames_are_free_ram as *const () as u64,
        &raw const DATA as u64,
    ] {
        check!(
            virtual_start <= address && address < virtual_end,
            "{address:#x} outside the virtual range [{virtual_start:#x}, {virtual_end:#x})"
        );
    }
    let code = loaded_at(allocated_frames_are_free_ram as *const () as u64);
    check!(
        kernel.start <= code && code < kernel.end,
        "code at {code:#x} outside {kernel}"
    );
    let data = loaded_at(&raw const DATA as u64);
    check!(
        kernel.start <= data && data < kernel.end,
        "data at {data:#x} outside {kernel}"
    );
    Ok(())
}

/// The memory tests, in the order they run.
pub(crate) const TESTS: &[crate::selftest::Test] = crate::kernel_tests![
    kernel_range_covers_the_image,
    elf_sections_and_bitmap_are_reserved,
    allocated_frames_are_free_ram,
    allocated_frame_holds_data,
];

//! In-kernel tests of the frame allocator on the machine's real memory map.
//!
//! The checks use the boot information directly (the memory map, the
//! boot information's own range, the modules) and the linker's kernel
//! range, not the allocator's internal reserved list, so a wrong list fails.

use super::PAGE_SIZE as FRAME_SIZE;
use super::frame_allocator::{area_range, is_usable};
use super::range::PhysRange;
use super::{kernel_range, with_frames};
use crate::arch::IDENTITY_MAPPED_END;
use crate::boot_info::module_range;
use crate::selftest::{Context, Outcome};
use crate::{check, check_eq, fail};

/// How many frames the self-test takes.
const FRAMES_TO_TAKE: u64 = 3000;

/// A few thousand frames: each distinct, whole inside a usable region,
/// clear of every other region type, the kernel, the boot information and
/// every module; the free count drops by exactly as many.
fn allocated_frames_are_free_ram(context: &Context) -> Outcome {
    let boot = context.boot;
    let kernel = kernel_range();
    let mbi = boot.mbi_range();
    let before = with_frames(|frames| frames.free_frames());
    check!(before >= FRAMES_TO_TAKE, "only {before} free frames");
    let mut previous: Option<u64> = None;
    for _ in 0..FRAMES_TO_TAKE {
        let Some(address) = with_frames(|frames| frames.allocate()) else {
            fail!("allocation failed with frames left");
        };
        let frame = PhysRange::new(address, address + FRAME_SIZE);
        check!(
            address != 0 && address % FRAME_SIZE == 0,
            "frame {address:#x}"
        );
        // Addresses only go up, so every frame differs from all before it.
        check!(
            previous.is_none_or(|p| p < address),
            "frame {address:#x} after {previous:#x?}"
        );
        previous = Some(address);
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
        check!(
            !frame.overlaps(&kernel),
            "frame {address:#x} is in the kernel {kernel}"
        );
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
    }
    check_eq!(
        with_frames(|frames| frames.free_frames()),
        before - FRAMES_TO_TAKE
    );
    Ok(())
}

/// An allocated frame below 4 GiB is RAM the kernel can use: a pattern
/// written to all of it reads back.
fn allocated_frame_holds_data(_: &Context) -> Outcome {
    let address = with_frames(|frames| frames.allocate());
    let Some(address) = address.filter(|&a| a + FRAME_SIZE <= IDENTITY_MAPPED_END) else {
        fail!("no frame below 4 GiB: {address:#x?}");
    };
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
    Ok(())
}

/// The linker's kernel range starts at the link address (1 MiB) and holds
/// the kernel's code and data.
fn kernel_range_covers_the_image(_: &Context) -> Outcome {
    const LINK_ADDRESS: u64 = 0x10_0000;
    static DATA: u8 = 0;
    let kernel = kernel_range();
    check_eq!(kernel.start, LINK_ADDRESS);
    let code = allocated_frames_are_free_ram as *const () as u64;
    check!(
        kernel.start <= code && code < kernel.end,
        "code at {code:#x} outside {kernel}"
    );
    let data = &raw const DATA as u64;
    check!(
        kernel.start <= data && data < kernel.end,
        "data at {data:#x} outside {kernel}"
    );
    Ok(())
}

/// The memory tests, in the order they run.
pub(crate) const TESTS: &[crate::selftest::Test] = crate::kernel_tests![
    kernel_range_covers_the_image,
    allocated_frames_are_free_ram,
    allocated_frame_holds_data,
];

//! In-kernel tests of `memory::paging`.

use crate::arch::{self, Access, CacheType, MapError};
use crate::memory::layout::TEST_WINDOW;
use crate::memory::layout::{DIRECT_MAP_OFFSET, KERNEL_VIRT_BASE, loaded_at};
use crate::memory::paging::*;
use crate::memory::{PAGE_SIZE, with_frames};
use crate::selftest::{Context, Outcome};
use crate::{check, check_eq, fail};

/// W^X: each kernel section has exactly its rights; page 0 and every
/// stack guard page are unmapped.
fn kernel_sections_have_their_rights(_: &Context) -> Outcome {
    let nx = arch::nx_enabled();
    let sections = [
        (".text", symbol!(__text_start), false, true),
        (".rodata", symbol!(__rodata_start), false, !nx),
        (".data", symbol!(__data_start), true, !nx),
        (".bss", symbol!(__kernel_end) - PAGE_SIZE, true, !nx),
    ];
    for (name, address, writable, executable) in sections {
        let Some(access) = arch::access_of(address) else {
            fail!("{name} at {address:#x} is not mapped");
        };
        check_eq!(
            (name, access),
            (
                name,
                Access {
                    writable,
                    executable
                }
            )
        );
    }
    check_eq!(arch::access_of(0), None);
    for guard in arch::stack_guard_pages() {
        check!(
            arch::access_of(guard).is_none(),
            "stack guard page {guard:#x} is mapped"
        );
    }
    Ok(())
}

/// map, translate and unmap round-trip, with errors for a double map
/// and for unmapping what is not mapped.
fn map_translate_unmap_round_trip(_: &Context) -> Outcome {
    let Some(frame) = with_frames(|frames| frames.allocate()) else {
        fail!("no free frame");
    };
    let virt = TEST_WINDOW;
    check_eq!(translate(virt), None);
    check_eq!(
        map(
            virt,
            frame,
            PAGE_SIZE,
            Access::READ_WRITE,
            CacheType::WriteBack
        ),
        Ok(())
    );
    check_eq!(translate(virt + 0x123), Some(frame + 0x123));
    let pattern = 0x6b65_7374_7265_6c00 ^ frame;
    // SAFETY: `virt` maps the frame just allocated, writable; nothing
    // else uses it.
    unsafe { core::ptr::write_volatile(virt as *mut u64, pattern) };
    // SAFETY: the same frame through the direct map, read back.
    let seen = unsafe { core::ptr::read_volatile(phys_to_virt(frame) as *const u64) };
    check_eq!(seen, pattern);
    check_eq!(
        map(virt, frame, PAGE_SIZE, Access::READ, CacheType::WriteBack),
        Err(MapError::AlreadyMapped { virt })
    );
    check_eq!(unmap(virt, PAGE_SIZE), Ok(()));
    check_eq!(translate(virt), None);
    check_eq!(unmap(virt, PAGE_SIZE), Err(MapError::NotMapped { virt }));
    check!(
        with_frames(|frames| frames.free(frame)).is_ok(),
        "freeing {frame:#x} failed"
    );
    check_eq!(
        map(
            virt + 1,
            frame,
            PAGE_SIZE,
            Access::READ,
            CacheType::WriteBack
        ),
        Err(MapError::Misaligned { address: virt + 1 })
    );
    Ok(())
}

/// The VGA graphics window's first page: device memory on every PC that
/// nothing maps (the console uses the text memory at 0xb8000).
const VGA_GRAPHICS: u64 = 0xa_0000;

/// Device memory maps through the API with a cache type, at its place in
/// the direct-map window; a second mapping is refused; it unmaps.
fn device_memory_maps_with_a_cache_type(_: &Context) -> Outcome {
    check_eq!(translate(DIRECT_MAP_OFFSET + VGA_GRAPHICS), None);
    let virt = match map_device(VGA_GRAPHICS + 2, 2, CacheType::WriteCombining) {
        Ok(virt) => virt,
        Err(error) => fail!("map_device: {error}"),
    };
    check_eq!(virt, DIRECT_MAP_OFFSET + VGA_GRAPHICS + 2);
    check_eq!(translate(virt), Some(VGA_GRAPHICS + 2));
    check_eq!(
        map_device(VGA_GRAPHICS, 1, CacheType::Uncached),
        Err(MapError::AlreadyMapped {
            virt: DIRECT_MAP_OFFSET + VGA_GRAPHICS
        })
    );
    check_eq!(unmap(DIRECT_MAP_OFFSET + VGA_GRAPHICS, PAGE_SIZE), Ok(()));
    check_eq!(translate(virt), None);
    // The text memory the console draws on stays where it is.
    check_eq!(
        translate(DIRECT_MAP_OFFSET + VGA_TEXT.start),
        Some(VGA_TEXT.start)
    );
    Ok(())
}

/// Nothing of the kernel is in the lower half: its P4 entries 0-255 are
/// empty, and neither page 0, nor 0x100000 where the image was loaded, nor
/// the boot information's or the VGA memory's physical address, nor any
/// other sample up to the top of the lower half translates. The image runs
/// at KERNEL_VIRT_BASE + its load address, which linker.ld and this layer
/// agree on.
fn nothing_of_the_kernel_is_in_the_lower_half(context: &Context) -> Outcome {
    check_eq!(arch::lower_half_entries(), 0);
    let samples = [
        0,
        0xfff,
        0x1000,
        0xb_8000,
        0x10_0000,
        0x10_1000,
        context.boot.mbi_range().start,
        1 << 30,
        (4 << 30) - PAGE_SIZE,
        0x0000_7fff_ffff_f000,
    ];
    for address in samples {
        check!(
            translate(address).is_none(),
            "{address:#x} in the lower half is mapped"
        );
    }
    check_eq!(symbol!(__kernel_virt_base), KERNEL_VIRT_BASE);
    let text = symbol!(__text_start);
    check!(
        text >= KERNEL_VIRT_BASE,
        ".text at {text:#x}, below the top 2 GiB"
    );
    check_eq!(translate(text), Some(loaded_at(text)));
    Ok(())
}

/// The direct map reaches the first and last byte of the whole frames of
/// every usable region, including above 4 GiB; both read back as mapped.
fn direct_map_reaches_the_end_of_every_usable_region(context: &Context) -> Outcome {
    for area in context.boot.memory_areas() {
        let first = area.start_address().next_multiple_of(PAGE_SIZE);
        let end = area.end_address() / PAGE_SIZE * PAGE_SIZE;
        if !crate::memory::frame_allocator::is_usable(area) || end <= first {
            continue;
        }
        for phys in [first, end - 1] {
            check_eq!(translate(phys_to_virt(phys)), Some(phys));
            // SAFETY: the byte is RAM in the direct map (just checked);
            // a volatile read changes nothing.
            let _ = unsafe { core::ptr::read_volatile(phys_to_virt(phys) as *const u8) };
        }
    }
    Ok(())
}

pub(crate) const TESTS: &[crate::selftest::Test] = crate::kernel_tests![
    kernel_sections_have_their_rights,
    map_translate_unmap_round_trip,
    device_memory_maps_with_a_cache_type,
    nothing_of_the_kernel_is_in_the_lower_half,
    direct_map_reaches_the_end_of_every_usable_region,
];

//! In-kernel tests of `memory::paging`.

use crate::arch::{self, Access, CacheType, MapError};
use crate::memory::layout::DIRECT_MAP_OFFSET;
use crate::memory::layout::TEST_WINDOW;
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

/// Device memory maps through the API with a cache type, at its place in
/// the direct-map window, and reads what the identity view reads.
fn device_memory_maps_with_a_cache_type(_: &Context) -> Outcome {
    let vga = VGA_TEXT.start;
    let virt = match map_device(vga + 2, 2, CacheType::WriteCombining) {
        Ok(virt) => virt,
        Err(error) => fail!("map_device: {error}"),
    };
    check_eq!(virt, DIRECT_MAP_OFFSET + vga + 2);
    // SAFETY: both addresses map the VGA text memory's second cell,
    // present on every PC; reading it has no side effect.
    let (mapped, identity) = unsafe {
        (
            core::ptr::read_volatile(virt as *const u16),
            core::ptr::read_volatile((vga + 2) as *const u16),
        )
    };
    check_eq!(mapped, identity);
    check_eq!(
        map_device(vga, 1, CacheType::Uncached),
        Err(MapError::AlreadyMapped {
            virt: DIRECT_MAP_OFFSET + vga
        })
    );
    check_eq!(unmap(DIRECT_MAP_OFFSET + vga, PAGE_SIZE), Ok(()));
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
    direct_map_reaches_the_end_of_every_usable_region,
];

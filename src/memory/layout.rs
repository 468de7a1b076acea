//! The kernel's virtual address space, and how the direct map covers RAM.
//!
//! ```text
//! 0x0000_0000_0000_0000  the lower half: nothing of the kernel (P4 entries
//!   ...                  0-255 empty), left to programs; page 0 and every
//! 0x0000_7fff_ffff_ffff  other address there fault in the kernel
//! 0xffff_8000_0000_0000  DIRECT_MAP_OFFSET: all RAM at offset + physical,
//!                        and device memory (VGA text, framebuffer, APICs,
//!                        ACPI tables) mapped at the same offset
//! 0xffff_a000_0000_0000  TEST_WINDOW: the self-tests' temporary mappings
//! 0xffff_c000_0000_0000  HEAP_START: the kernel heap, grown on demand
//! 0xffff_e000_0000_0000  THREAD_STACKS: each thread's kernel stack, in a
//!                        slot with an unmapped guard page below it
//! 0xffff_ffff_8000_0000  KERNEL_VIRT_BASE: the kernel image, at + physical
//!                        (loaded at 1 MiB, so from 0xffff_ffff_8010_0000),
//!                        per section with its rights; the top 2 GiB, as
//!                        the `kernel` code model wants
//! ```
//!
//! The direct map covers the RAM regions of the memory map (usable, ACPI
//! data, ACPI NVS) and nothing else: holes and device memory are never
//! mapped write-back. [`plan_direct_map`] cuts each region into the largest
//! pages that fit (1 GiB where the CPU has them, else 2 MiB, else 4 KiB),
//! never letting a page reach into a region of another type.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

use multiboot2::{MemoryArea, MemoryAreaType};

use super::PAGE_SIZE;
use super::range::PhysRange;

/// Where the direct map starts: physical address `p` is at this + `p`.
pub const DIRECT_MAP_OFFSET: u64 = 0xffff_8000_0000_0000;

/// Where the kernel image is linked: its byte loaded at physical `p` runs
/// at this + `p` (linker.ld and asm/boot.asm say the same; an in-kernel
/// test compares them).
pub const KERNEL_VIRT_BASE: u64 = 0xffff_ffff_8000_0000;

/// The physical address of `address` as the kernel's ELF headers give it:
/// an address in the image's window (from [`KERNEL_VIRT_BASE`] up) is
/// linked there and loaded at `address - KERNEL_VIRT_BASE`; any other (a
/// section the boot loader placed itself, the 32-bit boot code) is
/// physical already.
pub fn loaded_at(address: u64) -> u64 {
    if address >= KERNEL_VIRT_BASE {
        address - KERNEL_VIRT_BASE
    } else {
        address
    }
}

/// A window for the self-tests' temporary mappings (never used otherwise).
pub const TEST_WINDOW: u64 = 0xffff_a000_0000_0000;

/// Where the heap starts; it grows upwards.
pub const HEAP_START: u64 = 0xffff_c000_0000_0000;

/// Where the threads' kernel stacks live: slot `n` spans
/// [`THREAD_STACK_SLOT`] bytes from here + `n` times that, its first page
/// the unmapped guard, the rest the stack.
pub const THREAD_STACKS: u64 = 0xffff_e000_0000_0000;

/// One thread's slot: a guard page and a 64 KiB stack.
pub const THREAD_STACK_SLOT: u64 = PAGE_SIZE + THREAD_STACK_SIZE;

/// A thread's kernel stack: 64 KiB, as the boot stack.
pub const THREAD_STACK_SIZE: u64 = 64 << 10;

/// The heap never grows beyond this many bytes (256 MiB)...
pub const HEAP_MAX: u64 = 256 << 20;

/// ... nor beyond this share of usable RAM (1/2), so that frames remain
/// for page tables and everything else.
pub const HEAP_RAM_DIVISOR: u64 = 2;

/// A 2 MiB page.
pub const SIZE_2M: u64 = 2 << 20;
/// A 1 GiB page.
pub const SIZE_1G: u64 = 1 << 30;

/// The heap's limit on a machine with `usable` bytes of RAM.
pub fn heap_limit(usable: u64) -> u64 {
    let limit = HEAP_MAX.min(usable / HEAP_RAM_DIVISOR);
    limit - limit % PAGE_SIZE
}

/// Whether the direct map covers memory of this type: RAM the firmware
/// described, including RAM holding ACPI tables.
pub fn is_ram(typ: MemoryAreaType) -> bool {
    matches!(
        typ,
        MemoryAreaType::Available
            | MemoryAreaType::AcpiAvailable
            | MemoryAreaType::ReservedHibernate
    )
}

/// What the kernel's page tables hold (memory/paging.rs), for the boot
/// report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PagingSummary {
    /// Whether pages can be no-execute (EFER.NXE).
    pub nx: bool,
    /// Whether write-combining is available through the PAT.
    pub pat: bool,
    /// Whether the CPU has 1 GiB pages.
    pub pages_1g: bool,
    /// Bytes of RAM in the direct map.
    pub direct_map_bytes: u64,
    /// Pages of the direct map by size: 1 GiB, 2 MiB, 4 KiB.
    pub direct_map_pages: [u64; 3],
}

/// What the heap holds (memory/heap.rs), for the boot report and the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeapUsage {
    /// Bytes mapped for the heap.
    pub mapped: u64,
    /// The most it may map.
    pub limit: u64,
    /// Bytes in live allocations.
    pub allocated: u64,
    /// Live allocations.
    pub allocations: u64,
}

/// One mapping of the direct map: `size` bytes from physical `phys`, in
/// pages of `page_size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// First physical address (a multiple of `page_size`).
    pub phys: u64,
    /// Bytes (a multiple of `page_size`).
    pub size: u64,
    /// 4 KiB, 2 MiB or 1 GiB.
    pub page_size: u64,
}

/// Calls `emit` with the chunks that map every RAM region of `areas`, in
/// region order, each of the largest page size that is aligned, lies inside
/// the region and overlaps no region of another type. Runs of pages of one
/// size come as one chunk. Pages already covered by an earlier RAM region
/// (firmware maps can overlap) are emitted again; the mapper skips them.
pub fn plan_direct_map(areas: &[MemoryArea], pages_1g: bool, mut emit: impl FnMut(Chunk)) {
    let sizes: &[u64] = if pages_1g {
        &[SIZE_1G, SIZE_2M, PAGE_SIZE]
    } else {
        &[SIZE_2M, PAGE_SIZE]
    };
    let other: &dyn Fn(&PhysRange) -> bool = &|page: &PhysRange| {
        areas
            .iter()
            .any(|a| !is_ram(a.typ()) && area_range(a).overlaps(page))
    };
    for area in areas.iter().filter(|a| is_ram(a.typ())) {
        let range = area_range(area);
        let Some(mut at) = range.start.checked_next_multiple_of(PAGE_SIZE) else {
            continue;
        };
        let end = range.end - range.end % PAGE_SIZE;
        let mut pending: Option<Chunk> = None;
        while at < end {
            let page = sizes.iter().copied().find(|&size| {
                at.is_multiple_of(size)
                    && end - at >= size
                    && !other(&PhysRange::from_size(at, size))
            });
            match page {
                Some(size) => {
                    match &mut pending {
                        Some(chunk) if chunk.page_size == size && chunk.phys + chunk.size == at => {
                            chunk.size += size;
                        }
                        _ => {
                            if let Some(chunk) = pending.take() {
                                emit(chunk);
                            }
                            pending = Some(Chunk {
                                phys: at,
                                size,
                                page_size: size,
                            });
                        }
                    }
                    at += size;
                }
                // A 4 KiB page overlapping another region's type: skip it.
                None => {
                    if let Some(chunk) = pending.take() {
                        emit(chunk);
                    }
                    at += PAGE_SIZE;
                }
            }
        }
        if let Some(chunk) = pending {
            emit(chunk);
        }
    }
}

/// Calls `emit` with the chunks that map the device memory `range` (rounded
/// out to whole 4 KiB pages): 4 KiB pages up to the first 2 MiB boundary,
/// 2 MiB pages while a whole one fits, 4 KiB pages for the rest. Only the
/// range's own pages are mapped, never a neighbour's, in few page tables:
/// [`super::paging::map_device`] uses this before the kernel's tables exist,
/// when page tables come from a small fixed pool.
pub fn plan_device_map(range: PhysRange, mut emit: impl FnMut(Chunk)) {
    let start = range.start - range.start % PAGE_SIZE;
    let end = range.end.next_multiple_of(PAGE_SIZE);
    let large_start = start.next_multiple_of(SIZE_2M);
    let large_end = end - end % SIZE_2M;
    let mut emit_chunk = |phys: u64, end: u64, page_size: u64| {
        if end > phys {
            emit(Chunk {
                phys,
                size: end - phys,
                page_size,
            });
        }
    };
    if large_start >= large_end {
        emit_chunk(start, end, PAGE_SIZE);
    } else {
        emit_chunk(start, large_start, PAGE_SIZE);
        emit_chunk(large_start, large_end, SIZE_2M);
        emit_chunk(large_end, end, PAGE_SIZE);
    }
}

/// The range a memory-map region covers.
fn area_range(area: &MemoryArea) -> PhysRange {
    PhysRange::from_size(area.start_address(), area.size())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A region of `typ` (1 usable, 2 reserved, 3 ACPI data).
    fn area(start: u64, size: u64, typ: u32) -> MemoryArea {
        MemoryArea::new(start, size, typ)
    }

    /// The plan as a list.
    fn plan(areas: &[MemoryArea], pages_1g: bool) -> Vec<Chunk> {
        let mut chunks = Vec::new();
        plan_direct_map(areas, pages_1g, |chunk| chunks.push(chunk));
        chunks
    }

    const K4: u64 = PAGE_SIZE;

    /// The device plan as a list.
    fn device_plan(start: u64, end: u64) -> Vec<Chunk> {
        let mut chunks = Vec::new();
        plan_device_map(PhysRange::new(start, end), |chunk| chunks.push(chunk));
        chunks
    }

    fn chunk(phys: u64, size: u64, page_size: u64) -> Chunk {
        Chunk {
            phys,
            size,
            page_size,
        }
    }

    #[test]
    fn device_maps_use_2m_pages_inside_and_4k_at_the_ends() {
        // QEMU's 800x600x24 framebuffer: 1.4 MiB from 2 GiB, inside one 2 MiB page.
        assert_eq!(
            device_plan(0x8000_0000, 0x8000_0000 + 2400 * 600),
            [chunk(0x8000_0000, 0x16_0000, K4)]
        );
        // 8 MiB from 1 MiB before a 2 MiB boundary, not page-aligned at the end.
        let start = 0x1_0010_0000;
        assert_eq!(
            device_plan(start, start + (8 << 20) + 5),
            [
                chunk(start, 0x10_0000, K4),
                chunk(0x1_0020_0000, 6 << 20, SIZE_2M),
                chunk(0x1_0080_0000, 0x10_1000, K4),
            ]
        );
        // Exactly 2 MiB pages.
        assert_eq!(
            device_plan(0xfd00_0000, 0xfd40_0000),
            [chunk(0xfd00_0000, 4 << 20, SIZE_2M)]
        );
        // Unaligned start inside a page: the page is mapped.
        assert_eq!(device_plan(0xb_8002, 0xb_8004), [chunk(0xb_8000, K4, K4)]);
    }

    #[test]
    fn qemu_128m_map_uses_2m_pages_where_aligned() {
        // QEMU's map with 128 MiB: low RAM, a reserved piece, then RAM from 1 MiB.
        let areas = [
            area(0, 0x9fc00, 1),
            area(0x9fc00, 0x400, 2),
            area(0xf0000, 0x10000, 2),
            area(0x10_0000, 0x7ee_0000, 1),
            area(0x7fe_0000, 0x2_0000, 2),
        ];
        let chunks = plan(&areas, true);
        assert_eq!(
            chunks,
            [
                Chunk {
                    phys: 0,
                    size: 0x9f000,
                    page_size: K4
                },
                Chunk {
                    phys: 0x10_0000,
                    size: 0x10_0000,
                    page_size: K4
                },
                Chunk {
                    phys: 0x20_0000,
                    size: 0x7c0_0000,
                    page_size: SIZE_2M
                },
                Chunk {
                    phys: 0x7e0_0000,
                    size: 0x1e_0000,
                    page_size: K4
                },
            ]
        );
    }

    #[test]
    fn gigabyte_pages_only_when_the_cpu_has_them() {
        let areas = [area(0, 4 * SIZE_1G, 1)];
        assert_eq!(
            plan(&areas, true),
            [Chunk {
                phys: 0,
                size: 4 * SIZE_1G,
                page_size: SIZE_1G
            }]
        );
        assert_eq!(
            plan(&areas, false),
            [Chunk {
                phys: 0,
                size: 4 * SIZE_1G,
                page_size: SIZE_2M
            }]
        );
    }

    #[test]
    fn ram_above_4g_and_acpi_regions_are_covered_and_holes_are_not() {
        let areas = [
            area(0x10_0000, 0xbff0_0000, 1),
            area(0xc000_0000, 0x1000, 3),
            area(0xfec0_0000, 0x1000, 2),
            area(0x1_0000_0000, 0x8000_0000, 1),
        ];
        let chunks = plan(&areas, true);
        let covered: u64 = chunks.iter().map(|c| c.size).sum();
        assert_eq!(covered, 0xbff0_0000 + 0x1000 + 0x8000_0000);
        assert!(
            chunks
                .iter()
                .any(|c| c.phys == 0xc000_0000 && c.page_size == K4)
        );
        assert!(!chunks.iter().any(|c| {
            PhysRange::from_size(c.phys, c.size)
                .overlaps(&PhysRange::from_size(0xfec0_0000, 0x1000))
        }));
        assert!(chunks.contains(&Chunk {
            phys: 0x1_0000_0000,
            size: 0x8000_0000,
            page_size: SIZE_1G
        }));
    }

    #[test]
    fn a_reserved_region_inside_ram_splits_the_pages_around_it() {
        let areas = [area(0, 8 << 20, 1), area(0x30_0000, 0x1000, 2)];
        let chunks = plan(&areas, false);
        for chunk in &chunks {
            assert!(
                chunk.phys.is_multiple_of(chunk.page_size)
                    && chunk.size.is_multiple_of(chunk.page_size)
            );
            assert!(
                !PhysRange::from_size(chunk.phys, chunk.size)
                    .overlaps(&PhysRange::from_size(0x30_0000, 0x1000))
            );
        }
        let covered: u64 = chunks.iter().map(|c| c.size).sum();
        assert_eq!(covered, (8 << 20) - 0x1000);
        assert_eq!(
            chunks[0],
            Chunk {
                phys: 0,
                size: SIZE_2M,
                page_size: SIZE_2M
            }
        );
    }

    #[test]
    fn random_maps_are_covered_exactly_with_aligned_pages() {
        let mut rng = crate::test_rng::Rng(7);
        for _ in 0..200 {
            let mut areas = Vec::new();
            let mut at = 0u64;
            for _ in 0..(1 + (rng.below(8) as u64)) {
                at += (rng.below(4) as u64) * SIZE_2M + (rng.below(600) as u64) * 0x800;
                let size = (rng.below(5) as u64) * SIZE_2M
                    + (rng.below(1500) as u64) * 0x1000
                    + (rng.below(8) as u64);
                let typ = [1, 1, 1, 2, 3][rng.below(5)];
                areas.push(area(at, size, typ as u32));
                at += size;
            }
            let chunks = plan(&areas, rng.below(2) == 1);
            let mut pages = std::collections::BTreeSet::new();
            for c in &chunks {
                assert!(
                    c.phys.is_multiple_of(c.page_size) && c.size.is_multiple_of(c.page_size),
                    "{c:?}"
                );
                for page in (c.phys..c.phys + c.size).step_by(K4 as usize) {
                    pages.insert(page);
                }
            }
            // Exactly the whole 4 KiB pages inside RAM regions and outside
            // every other region.
            let mut expected = std::collections::BTreeSet::new();
            for a in areas.iter().filter(|a| is_ram(a.typ())) {
                let r = area_range(a);
                let mut p = r.start.next_multiple_of(K4);
                while p + K4 <= r.end {
                    let page = PhysRange::from_size(p, K4);
                    if !areas
                        .iter()
                        .any(|o| !is_ram(o.typ()) && area_range(o).overlaps(&page))
                    {
                        expected.insert(p);
                    }
                    p += K4;
                }
            }
            assert_eq!(pages, expected, "{areas:?}");
        }
    }

    #[test]
    fn heap_limit_is_the_smaller_of_the_cap_and_half_of_ram() {
        assert_eq!(heap_limit(128 << 20), 64 << 20);
        assert_eq!(heap_limit(16 << 30), HEAP_MAX);
        assert_eq!(heap_limit((64 << 20) + 3), 32 << 20);
    }

    #[test]
    fn an_image_address_loads_below_its_window_and_others_are_physical() {
        assert_eq!(loaded_at(KERNEL_VIRT_BASE + 0x10_1000), 0x10_1000);
        assert_eq!(loaded_at(KERNEL_VIRT_BASE), 0);
        assert_eq!(loaded_at(0x30_0000), 0x30_0000);
        assert_eq!(loaded_at(DIRECT_MAP_OFFSET + 5), DIRECT_MAP_OFFSET + 5);
    }
}

//! Host tests of `frame_allocator`.

use multiboot2::{MemoryArea, MemoryAreaType};

use super::*;
use crate::memory::reserved::{FRAME_BITMAP, MODULE};
use crate::test_rng::Rng;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// A `usable` region.
fn usable(start: u64, size: u64) -> MemoryArea {
    MemoryArea::new(start, size, MemoryAreaType::Available)
}

/// A `reserved` region.
fn reserved_area(start: u64, size: u64) -> MemoryArea {
    MemoryArea::new(start, size, MemoryAreaType::Reserved)
}

/// A reserved list holding `ranges`.
fn reserved(ranges: &[PhysRange]) -> Reserved {
    let mut list = Reserved::new();
    for &range in ranges {
        list.push(range, MODULE).unwrap();
    }
    list
}

/// As much storage as `areas` need, filled with garbage that `new` must
/// overwrite.
fn storage_for(areas: &[MemoryArea]) -> Vec<u64> {
    vec![0x5a5a_5a5a_5a5a_5a5a; FrameAllocator::bitmap_words(areas)]
}

/// Every frame the allocator hands out, in order.
fn drain(allocator: &mut FrameAllocator) -> Vec<u64> {
    core::iter::from_fn(|| allocator.allocate()).collect()
}

/// `frames` in the order the allocator hands them out: ascending at
/// and above [`LOW_ZONE_END`], then ascending below it.
fn handout_order(mut frames: Vec<u64>) -> Vec<u64> {
    frames.sort_by_key(|&frame| (frame < LOW_ZONE_END, frame));
    frames
}

/// Every frame an allocator over `areas` avoiding `ranges` hands out.
fn frames_of(areas: &[MemoryArea], ranges: &[PhysRange]) -> Vec<u64> {
    let mut storage = storage_for(areas);
    drain(&mut FrameAllocator::new(
        areas,
        &reserved(ranges),
        &mut storage,
    ))
}

/// The rule, frame by frame: not page 0, wholly inside a usable area,
/// overlapping no other area and no reserved range.
fn allowed(areas: &[MemoryArea], reserved: &Reserved, frame: u64) -> bool {
    let range = PhysRange::new(frame, frame + FRAME_SIZE);
    frame != 0
        && areas
            .iter()
            .any(|a| is_usable(a) && area_range(a).contains_range(&range))
        && !areas
            .iter()
            .any(|a| !is_usable(a) && area_range(a).overlaps(&range))
        && reserved.overlapping(&range).is_none()
}

/// A PC-like map: low memory, a hole, RAM from 1 MiB, RAM above 4 GiB.
fn pc_map() -> Vec<MemoryArea> {
    vec![
        usable(0, 0x9fc00),
        reserved_area(0x9fc00, 0x400),
        reserved_area(0xf0000, 0x10000),
        usable(MIB, 127 * MIB - 128 * KIB),
        reserved_area(128 * MIB - 128 * KIB, 128 * KIB),
        usable(4 * GIB, GIB),
    ]
}

/// A contiguous run comes from at or above `from`, skips frames that
/// are taken, never spans two regions, and is all taken afterwards.
#[test]
fn contiguous_runs_are_free_adjacent_and_inside_one_region() {
    let areas = pc_map();
    let mut storage = storage_for(&areas);
    let mut allocator = FrameAllocator::new(&areas, &Reserved::new(), &mut storage);
    let before = allocator.free_frames();
    // Above 4 GiB: the first frames there.
    assert_eq!(allocator.allocate_contiguous(300, 4 * GIB), Some(4 * GIB));
    // The next run starts after them; an unaligned `from` rounds up.
    assert_eq!(
        allocator.allocate_contiguous(2, 4 * GIB + 1),
        Some(4 * GIB + 300 * FRAME_SIZE)
    );
    assert_eq!(allocator.free_frames(), before - 302);
    // A frame taken in the middle of low memory splits the run there.
    let mut storage = storage_for(&areas);
    let mut allocator = FrameAllocator::new(&areas, &Reserved::new(), &mut storage);
    let low: Vec<u64> = (0..3) // 0x1000, 0x2000, 0x3000
        .map(|_| allocator.allocate_below(LOW_ZONE_END).unwrap())
        .collect();
    allocator.free(low[0]).unwrap();
    assert_eq!(allocator.allocate_contiguous(2, 0), Some(0x4000));
    assert_eq!(allocator.allocate_contiguous(1, 0), Some(0x1000));
    // Too large for the region below 640 KiB: the run comes from the
    // next region, never across the hole.
    assert_eq!(allocator.allocate_contiguous(200, 0), Some(MIB));
    // Larger than any region, or nothing asked: none.
    assert_eq!(allocator.allocate_contiguous(GIB / FRAME_SIZE + 1, 0), None);
    assert_eq!(allocator.allocate_contiguous(0, 0), None);
    // Every frame of a run is handed back one by one.
    let run = allocator.allocate_contiguous(4, 4 * GIB).unwrap();
    let free = allocator.free_frames();
    for frame in 0..4 {
        allocator.free(run + frame * FRAME_SIZE).unwrap();
    }
    assert_eq!(allocator.free_frames(), free + 4);
}

/// The next `n` frames the allocator hands out.
fn drain_n(allocator: &mut FrameAllocator, n: usize) -> Vec<u64> {
    (0..n).map(|_| allocator.allocate().unwrap()).collect()
}

#[test]
fn hands_out_the_upper_zone_first_then_the_first_16_mib() {
    let areas = [usable(0, 32 * MIB)];
    let mut storage = storage_for(&areas);
    let mut allocator = FrameAllocator::new(&areas, &Reserved::new(), &mut storage);
    assert_eq!(allocator.allocate(), Some(LOW_ZONE_END));
    assert_eq!(allocator.allocate(), Some(LOW_ZONE_END + FRAME_SIZE));
    // A limit the upper zone's lowest free frame does not fit: the low
    // zone's lowest.
    assert_eq!(allocator.allocate_below(LOW_ZONE_END), Some(0x1000));
    assert_eq!(allocator.allocate_below(0x1000), None);
    // The upper zone used up: the low zone, lowest first.
    let upper_left = (32 * MIB - LOW_ZONE_END) / FRAME_SIZE - 2;
    let upper = drain_n(&mut allocator, upper_left as usize);
    assert_eq!(*upper.last().unwrap(), 32 * MIB - FRAME_SIZE);
    assert_eq!(allocator.allocate(), Some(0x2000));
    // Freed frames come back in the same order: upper zone first.
    allocator.free(0x2000).unwrap();
    allocator.free(20 * MIB).unwrap();
    assert_eq!(allocator.allocate(), Some(20 * MIB));
    assert_eq!(allocator.allocate(), Some(0x2000));
    assert_eq!(allocator.allocate(), Some(0x3000));
    // A map that ends below 16 MiB, or whose bit boundary falls inside
    // a bitmap word: plain lowest first, every frame once.
    assert_eq!(
        frames_of(&[usable(0, 8 * MIB)], &[]),
        (1..8 * MIB / FRAME_SIZE)
            .map(|n| n * FRAME_SIZE)
            .collect::<Vec<_>>()
    );
    let odd = [
        usable(0, 0x9f000),
        usable(LOW_ZONE_END - 5 * FRAME_SIZE, 70 * FRAME_SIZE),
    ];
    let all = frames_of(&odd, &[]);
    assert_eq!(all[0], LOW_ZONE_END);
    assert_eq!(all.len(), 0x9e + 70);
    assert_eq!(all, handout_order(all.clone()));
}

#[test]
fn never_hands_out_page_zero() {
    let frames = frames_of(&[usable(0, 16 * KIB)], &[]);
    assert_eq!(frames, vec![0x1000, 0x2000, 0x3000]);
}

#[test]
fn only_whole_frames_inside_usable_regions() {
    // Unaligned region edges: only frames entirely inside count.
    let areas = [usable(0x1800, 0x3000), reserved_area(0x10000, 0x1000)];
    assert_eq!(frames_of(&areas, &[]), vec![0x2000, 0x3000]);
}

#[test]
fn skips_reserved_ranges_even_partly_covered_frames() {
    let areas = [usable(0, 0x10000)];
    let kernel = PhysRange::new(0x3000, 0x5000);
    let module = PhysRange::new(0x8010, 0x8011); // one byte
    let mut storage = storage_for(&areas);
    let mut allocator = FrameAllocator::new(&areas, &reserved(&[kernel, module]), &mut storage);
    assert_eq!(allocator.free_frames(), 15 - 2 - 1);
    assert_eq!(allocator.total_frames(), 15 - 2 - 1);
    let frames = drain(&mut allocator);
    assert_eq!(
        frames,
        vec![
            0x1000, 0x2000, 0x5000, 0x6000, 0x7000, 0x9000, 0xa000, 0xb000, 0xc000, 0xd000, 0xe000,
            0xf000
        ]
    );
    assert_eq!(allocator.free_frames(), 0);
}

#[test]
fn overlapping_unusable_region_wins() {
    let areas = [usable(0, 0x8000), reserved_area(0x4000, 0x1000)];
    assert_eq!(
        frames_of(&areas, &[]),
        vec![0x1000, 0x2000, 0x3000, 0x5000, 0x6000, 0x7000]
    );
}

#[test]
fn unsorted_and_overlapping_usable_regions_give_each_frame_once() {
    let areas = [
        usable(0x6000, 0x4000),
        usable(0x1000, 0x2000),
        usable(0x7000, 0x1000),
        usable(0x3000, 0x1000), // touches the second
    ];
    assert_eq!(
        frames_of(&areas, &[]),
        vec![0x1000, 0x2000, 0x3000, 0x6000, 0x7000, 0x8000, 0x9000]
    );
    // Overlapping and touching areas make one region each.
    let mut storage = storage_for(&areas);
    let allocator = FrameAllocator::new(&areas, &Reserved::new(), &mut storage);
    assert_eq!(allocator.regions().len(), 2);
    assert_eq!(FrameAllocator::bitmap_words(&areas), 1);
}

#[test]
fn counts_and_hands_out_frames_above_4_gib() {
    let areas = pc_map();
    let kernel = PhysRange::new(MIB, 2 * MIB);
    let mut storage = storage_for(&areas);
    let mut allocator = FrameAllocator::new(&areas, &reserved(&[kernel]), &mut storage);
    let low = 0x9f - 1; // frames 1..=0x9e below 640 KiB
    let middle = (127 * MIB - 128 * KIB - MIB) / FRAME_SIZE;
    let high = GIB / FRAME_SIZE;
    assert_eq!(allocator.free_frames(), low + middle + high);
    let frames = drain(&mut allocator);
    assert_eq!(frames.len() as u64, low + middle + high);
    assert_eq!(allocator.free_frames(), 0);
    assert_eq!(frames, handout_order(frames.clone()), "not in zone order");
    assert_eq!(frames[0], LOW_ZONE_END);
    assert!(frames.contains(&(5 * GIB - FRAME_SIZE)));
    assert_eq!(*frames.last().unwrap(), LOW_ZONE_END - FRAME_SIZE);
    assert!(frames.iter().all(|&f| !(MIB..2 * MIB).contains(&f)));
}

#[test]
fn region_at_the_top_of_the_address_space() {
    let areas = [
        usable(u64::MAX - 0x2fff, 0x3000),
        usable(u64::MAX - 0xfff, u64::MAX),
    ];
    let mut storage = storage_for(&areas);
    let mut allocator = FrameAllocator::new(&areas, &Reserved::new(), &mut storage);
    let frames = drain(&mut allocator);
    assert_eq!(frames, vec![u64::MAX - 0x2fff, u64::MAX - 0x1fff]);
    assert_eq!(allocator.free(u64::MAX - 0xfff), Err(FreeError::NotManaged));
    assert_eq!(allocator.free(u64::MAX - 0x1fff), Ok(()));
    assert_eq!(allocator.allocate_below(u64::MAX - 0x1000), None);
    assert_eq!(allocator.allocate_below(u64::MAX), Some(u64::MAX - 0x1fff));
}

#[test]
fn reserved_range_reaching_the_top_ends_allocation() {
    let areas = [usable(0, 0x10000)];
    let top = PhysRange::new(0x4000, u64::MAX);
    assert_eq!(frames_of(&areas, &[top]), vec![0x1000, 0x2000, 0x3000]);
}

#[test]
fn empty_map_has_no_frames() {
    assert_eq!(FrameAllocator::bitmap_words(&[]), 0);
    let mut allocator = FrameAllocator::new(&[], &Reserved::new(), &mut []);
    assert_eq!(allocator.free_frames(), 0);
    assert_eq!(allocator.total_frames(), 0);
    assert_eq!(allocator.allocate(), None);
    assert_eq!(allocator.allocate_below(u64::MAX), None);
    assert_eq!(allocator.free(0x1000), Err(FreeError::NotManaged));
}

#[test]
fn allocate_everything_free_in_random_order_allocate_again() {
    let areas = [
        usable(0, 0x9fc00),
        reserved_area(0x9fc00, 0x400),
        usable(MIB, 63 * MIB),
        reserved_area(40 * MIB + 0x800, 0x1000), // a hole inside RAM
        usable(4 * GIB - 8 * MIB, 16 * MIB),     // straddles 4 GiB
    ];
    let list = reserved(&[
        PhysRange::new(MIB, MIB + 0x3_3000),              // kernel
        PhysRange::new(0x10_00b8, 0x10_0708),             // boot information
        PhysRange::new(5 * MIB + 0x123, 5 * MIB + 0x4d3), // module
        PhysRange::new(0xb8000, 0xb8000 + 4000),          // framebuffer
        PhysRange::new(0x20_0000, 0x20_3378),             // .symtab
        PhysRange::new(0x20_4000, 0x20_c6e9),             // .strtab
        PhysRange::new(4 * GIB - MIB, 4 * GIB + MIB),     // odd one
    ]);
    let mut storage = storage_for(&areas);
    let mut allocator = FrameAllocator::new(&areas, &list, &mut storage);
    let total = allocator.total_frames();
    assert_eq!(allocator.free_frames(), total);

    let mut frames = drain(&mut allocator);
    assert_eq!(frames.len() as u64, total);
    assert_eq!(allocator.free_frames(), 0);
    assert_eq!(allocator.allocate_below(u64::MAX), None);
    for &frame in &frames {
        assert!(allowed(&areas, &list, frame), "frame {frame:#x}");
    }
    // Every allowed frame was handed out, and each once (ascending in
    // each zone, the upper one first).
    let expected = handout_order(
        (0..(4 * GIB + 8 * MIB) / FRAME_SIZE)
            .map(|n| n * FRAME_SIZE)
            .filter(|&frame| allowed(&areas, &list, frame))
            .collect(),
    );
    assert_eq!(frames, expected);

    // Free in random order: the count goes up by one each time.
    let mut rng = Rng(0x6672_616d_6573_2121);
    for i in (1..frames.len()).rev() {
        frames.swap(i, rng.below(i + 1));
    }
    for (freed, &frame) in frames.iter().enumerate() {
        assert_eq!(allocator.free(frame), Ok(()), "frame {frame:#x}");
        assert_eq!(allocator.free_frames(), freed as u64 + 1);
    }
    assert_eq!(allocator.free_frames(), total);

    // Again: the same frames, in the same order.
    let again = drain(&mut allocator);
    assert_eq!(again, expected);
    assert_eq!(allocator.free_frames(), 0);
}

#[test]
fn random_maps_hand_out_exactly_the_allowed_frames() {
    const SPACE: u64 = 96 * FRAME_SIZE;
    let mut rng = Rng(0x6f64_6420_6d61_7073);
    let types = [
        MemoryAreaType::Available,
        MemoryAreaType::Available,
        MemoryAreaType::Reserved,
        MemoryAreaType::AcpiAvailable,
    ];
    for round in 0..2000 {
        // Unaligned, unsorted, overlapping areas and reserved ranges.
        let areas: Vec<MemoryArea> = (0..1 + rng.below(8))
            .map(|_| {
                let start = rng.below(SPACE as usize) as u64;
                let size = rng.below(SPACE as usize / 2) as u64;
                MemoryArea::new(start, size, types[rng.below(types.len())])
            })
            .collect();
        let ranges: Vec<PhysRange> = (0..rng.below(4))
            .map(|_| {
                let start = rng.below(SPACE as usize) as u64;
                PhysRange::from_size(start, rng.below(8 * FRAME_SIZE as usize) as u64)
            })
            .collect();
        let list = reserved(&ranges);
        // Areas reach up to 1.5 x SPACE, reserved ranges less far.
        let expected: Vec<u64> = (0..2 * SPACE / FRAME_SIZE)
            .map(|n| n * FRAME_SIZE)
            .filter(|&frame| allowed(&areas, &list, frame))
            .collect();

        let mut storage = storage_for(&areas);
        let mut allocator = FrameAllocator::new(&areas, &list, &mut storage);
        assert_eq!(
            allocator.total_frames(),
            expected.len() as u64,
            "round {round}: {areas:?} {ranges:?}"
        );
        assert_eq!(allocator.lost_frames(), 0);
        let mut frames = drain(&mut allocator);
        assert_eq!(frames, expected, "round {round}: {areas:?} {ranges:?}");

        // Free a random half, then take them back: the same ones.
        for i in (1..frames.len()).rev() {
            frames.swap(i, rng.below(i + 1));
        }
        let half = &mut frames[..expected.len() / 2];
        for &frame in half.iter() {
            assert_eq!(allocator.free(frame), Ok(()));
        }
        half.sort_unstable();
        assert_eq!(allocator.free_frames(), half.len() as u64);
        assert_eq!(drain(&mut allocator), half, "round {round}");
    }
}

#[test]
fn free_refuses_what_it_did_not_hand_out() {
    let areas = [
        usable(0, 0x9fc00),
        reserved_area(0x9fc00, 0x400),
        usable(MIB, MIB),
        reserved_area(MIB + 0x8000, 0x1000),
    ];
    let kernel = PhysRange::new(MIB, MIB + 0x4000);
    let mut storage = storage_for(&areas);
    let mut allocator = FrameAllocator::new(&areas, &reserved(&[kernel]), &mut storage);
    let total = allocator.free_frames();
    let frame = allocator.allocate().unwrap();
    assert_eq!(frame, 0x1000);

    assert_eq!(allocator.free(frame + 1), Err(FreeError::Misaligned));
    assert_eq!(allocator.free(frame + 0x800), Err(FreeError::Misaligned));
    for not_managed in [
        0,            // page 0
        0x9f000,      // its last 1 KiB is reserved
        0xa0000,      // the hole
        MIB,          // the kernel
        MIB + 0x3000, // its last frame
        MIB + 0x8000, // a reserved area inside RAM
        2 * MIB,      // just past RAM
        !0xfff,       // the top frame
    ] {
        assert_eq!(
            allocator.free(not_managed),
            Err(FreeError::NotManaged),
            "{not_managed:#x}"
        );
    }
    assert_eq!(allocator.free(0x2000), Err(FreeError::AlreadyFree));
    assert_eq!(allocator.free_frames(), total - 1);
    assert_eq!(allocator.free(frame), Ok(()));
    assert_eq!(allocator.free(frame), Err(FreeError::AlreadyFree));
    assert_eq!(allocator.free_frames(), total);
    assert_eq!(
        FreeError::AlreadyFree.to_string(),
        "frame is already free (double free)"
    );
}

#[test]
fn allocate_below_respects_its_limit() {
    let areas = [usable(MIB, 0x3000), usable(4 * GIB, 0x2000)];
    let mut storage = storage_for(&areas);
    let mut allocator = FrameAllocator::new(&areas, &Reserved::new(), &mut storage);
    // The whole frame must lie below the limit.
    assert_eq!(allocator.allocate_below(MIB), None);
    assert_eq!(allocator.allocate_below(MIB + 0xfff), None);
    assert_eq!(allocator.allocate_below(MIB + 0x1000), Some(MIB));
    assert_eq!(allocator.allocate_below(4 * GIB), Some(MIB + 0x1000));
    assert_eq!(allocator.allocate_below(4 * GIB), Some(MIB + 0x2000));
    assert_eq!(allocator.allocate_below(4 * GIB), None);
    assert_eq!(allocator.free_frames(), 2);
    // Refusing changes nothing: the frames above are still there.
    assert_eq!(allocator.allocate(), Some(4 * GIB));
    // A frame freed below the limit is found again.
    assert_eq!(allocator.free(MIB + 0x1000), Ok(()));
    assert_eq!(allocator.allocate_below(4 * GIB), Some(MIB + 0x1000));
    assert_eq!(allocator.allocate_below(0), None);
    assert_eq!(allocator.allocate(), Some(4 * GIB + 0x1000));
    assert_eq!(allocator.allocate(), None);
}

#[test]
fn a_freed_frame_is_the_next_one_handed_out() {
    let areas = [usable(0, 2 * MIB)];
    let mut storage = storage_for(&areas);
    let mut allocator = FrameAllocator::new(&areas, &Reserved::new(), &mut storage);
    let frames: Vec<u64> = (0..300).map(|_| allocator.allocate().unwrap()).collect();
    assert_eq!(allocator.free(frames[70]), Ok(()));
    assert_eq!(allocator.free(frames[3]), Ok(()));
    assert_eq!(allocator.allocate(), Some(frames[3]));
    assert_eq!(allocator.allocate(), Some(frames[70]));
    assert_eq!(allocator.allocate(), Some(301 * FRAME_SIZE));
}

#[test]
fn bitmap_needs_one_bit_per_usable_frame_holes_cost_nothing() {
    let areas = pc_map();
    let frames = 0x9e + (127 * MIB - 128 * KIB) / FRAME_SIZE + GIB / FRAME_SIZE;
    assert_eq!(
        FrameAllocator::bitmap_words(&areas) as u64,
        frames.div_ceil(64)
    );
    // 1 TiB of hole between two frames: still one word.
    let far = [usable(0x1000, 0x1000), usable(1 << 40, 0x1000)];
    assert_eq!(FrameAllocator::bitmap_words(&far), 1);
    assert_eq!(frames_of(&far, &[]), vec![1 << 40, 0x1000]);
}

#[test]
fn new_overwrites_the_storage_and_marks_the_padding_taken() {
    let areas = [usable(0, 0x47000)]; // frames 1..=0x46: 70 bits, 2 words
    let mut storage = vec![!0; 3];
    let free = FrameAllocator::new(&areas, &Reserved::new(), &mut storage).free_frames();
    assert_eq!(free, 70);
    assert_eq!(storage, vec![0, !0 << 6, !0]);
}

#[test]
fn short_storage_leaves_frames_out_never_overruns() {
    let areas = [usable(0, 0x100_0000)]; // 4095 frames, 64 words
    let mut storage = vec![0; 2];
    let mut allocator = FrameAllocator::new(&areas, &Reserved::new(), &mut storage);
    assert_eq!(allocator.total_frames(), 128);
    assert_eq!(allocator.lost_frames(), 4095 - 128);
    let frames = drain(&mut allocator);
    assert_eq!(frames.len(), 128);
    assert_eq!(*frames.last().unwrap(), 128 * FRAME_SIZE);
    assert_eq!(allocator.free(129 * FRAME_SIZE), Err(FreeError::NotManaged));
}

#[test]
fn regions_beyond_the_table_are_left_out() {
    // Every other frame usable: one region per frame.
    let count = MAX_REGIONS as u64 + 10;
    let areas: Vec<MemoryArea> = (1..=count)
        .map(|n| usable(2 * n * FRAME_SIZE, FRAME_SIZE))
        .collect();
    let mut storage = storage_for(&areas);
    let mut allocator = FrameAllocator::new(&areas, &Reserved::new(), &mut storage);
    assert_eq!(allocator.total_frames(), MAX_REGIONS as u64);
    assert_eq!(allocator.lost_frames(), 10);
    let frames = drain(&mut allocator);
    let expected: Vec<u64> = (1..=MAX_REGIONS as u64)
        .map(|n| 2 * n * FRAME_SIZE)
        .collect();
    assert_eq!(frames, expected);
}

#[test]
fn bitmap_goes_in_the_lowest_free_run_that_fits() {
    let areas = [
        usable(0, 0x9fc00),
        reserved_area(0x9fc00, 0x400),
        usable(MIB, 127 * MIB),
        reserved_area(3 * MIB, 0x800),
    ];
    let kernel = PhysRange::new(MIB, MIB + 0x4_0000);
    let list = reserved(&[PhysRange::new(0, FRAME_SIZE), kernel]);
    // One frame: at 0x1000, right after page 0.
    assert_eq!(
        bitmap_placement(&areas, &list, 1, 4 * GIB),
        Some(PhysRange::new(0x1000, 0x2000))
    );
    assert_eq!(
        bitmap_placement(&areas, &list, 512, 4 * GIB),
        Some(PhysRange::new(0x1000, 0x2000))
    );
    // 1 MiB does not fit below 640 KiB; it does between the kernel and
    // the reserved area at 3 MiB (1.75 MiB).
    assert_eq!(
        bitmap_placement(&areas, &list, (MIB / 8) as usize, 4 * GIB),
        Some(PhysRange::new(MIB + 0x4_0000, 2 * MIB + 0x4_0000))
    );
    // 2 MiB: only after the reserved area at 3 MiB.
    assert_eq!(
        bitmap_placement(&areas, &list, (2 * MIB / 8) as usize, 4 * GIB),
        Some(PhysRange::new(3 * MIB + 0x1000, 5 * MIB + 0x1000))
    );
    // The limit counts: nothing below 8 KiB holds two frames, the run
    // crossing the limit only counts below it.
    assert_eq!(bitmap_placement(&areas, &list, 1024, 0x2000), None);
    assert_eq!(
        bitmap_placement(&areas, &list, 1024, 0x3fff),
        Some(PhysRange::new(0x1000, 0x3000))
    );
    // Too big, or nothing to place.
    assert_eq!(
        bitmap_placement(&areas, &list, (GIB / 8) as usize, 4 * GIB),
        None
    );
    assert_eq!(bitmap_placement(&areas, &list, 0, 4 * GIB), None);
    assert_eq!(bitmap_placement(&[], &list, 1, 4 * GIB), None);
}

#[test]
fn bitmap_placed_reserved_and_never_handed_out() {
    let areas = pc_map();
    let mut list = reserved(&[PhysRange::new(0, 0x50_0000)]);
    let words = FrameAllocator::bitmap_words(&areas);
    let place = bitmap_placement(&areas, &list, words, 4 * GIB).unwrap();
    assert_eq!(place, PhysRange::from_size(0x50_0000, 9 * FRAME_SIZE));
    assert!(place.size() >= words as u64 * 8);
    assert!(place.end <= 4 * GIB);
    list.push(place, FRAME_BITMAP).unwrap();
    let mut storage = vec![0; words];
    let mut allocator = FrameAllocator::new(&areas, &list, &mut storage);
    let frames = drain(&mut allocator);
    assert_eq!(frames[0], LOW_ZONE_END);
    assert_eq!(frames.iter().find(|&&f| f < LOW_ZONE_END), Some(&0x50_9000));
    assert!(
        frames
            .iter()
            .all(|&f| !PhysRange::new(f, f + FRAME_SIZE).overlaps(&place))
    );
    assert_eq!(allocator.free(0x50_0000), Err(FreeError::NotManaged));
}

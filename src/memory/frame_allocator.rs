//! The physical frame allocator: hands out 4 KiB frames of RAM, each once.
//!
//! A frame is handed out only if all of it lies in a `usable` (type 1)
//! region of the memory map and none of it lies in:
//!
//! - page 0 (the real-mode interrupt table, and a null pointer's target);
//! - any region of another type (firmware maps can overlap; the stricter type
//!   wins, as Linux does);
//! - a [`Reserved`] range: the kernel image, the boot information, modules.
//!
//! It is a bump allocator over the memory map: addresses only go up, so
//! frames are distinct by construction and nothing is ever freed. That is
//! enough until memory management keeps its own structures in allocated
//! frames. Frames above the identity-mapped first 4 GiB are handed out like
//! any other, as physical addresses; nothing writes them until memory
//! management maps them.
//!
//! No heap: the memory map is borrowed from the boot information and the
//! reserved ranges live in a fixed-capacity array ([`MAX_RESERVED`]).
//! Unsorted and overlapping regions are handled. Pure logic, tested on the
//! host.

#![forbid(unsafe_code)]

use multiboot2::{MemoryArea, MemoryAreaType};

use super::PAGE_SIZE as FRAME_SIZE;
use super::range::PhysRange;

/// How many ranges [`Reserved`] holds: the kernel, the boot information and
/// up to 62 modules.
pub const MAX_RESERVED: usize = 64;

/// Rounds `address` up to a frame boundary; `None` past the top of memory.
const fn frame_align_up(address: u64) -> Option<u64> {
    match address.checked_add(FRAME_SIZE - 1) {
        Some(sum) => Some(sum & !(FRAME_SIZE - 1)),
        None => None,
    }
}

/// Rounds `address` down to a frame boundary.
const fn frame_align_down(address: u64) -> u64 {
    address & !(FRAME_SIZE - 1)
}

/// [`Reserved`] is full: more ranges than [`MAX_RESERVED`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservedFull;

/// Physical ranges the allocator must never hand out (a fixed-capacity list).
#[derive(Debug, Clone, Copy)]
pub struct Reserved {
    /// The ranges; only the first `len` are used.
    ranges: [PhysRange; MAX_RESERVED],
    /// How many ranges are in use.
    len: usize,
}

impl Reserved {
    /// No ranges.
    pub const fn new() -> Self {
        Self {
            ranges: [PhysRange::new(0, 0); MAX_RESERVED],
            len: 0,
        }
    }

    /// Adds a range (an empty one too: it simply reserves nothing).
    pub fn push(&mut self, range: PhysRange) -> Result<(), ReservedFull> {
        let slot = self.ranges.get_mut(self.len).ok_or(ReservedFull)?;
        *slot = range;
        self.len += 1;
        Ok(())
    }

    /// The ranges added so far.
    pub fn as_slice(&self) -> &[PhysRange] {
        &self.ranges[..self.len]
    }
}

impl Default for Reserved {
    fn default() -> Self {
        Self::new()
    }
}

/// True for the memory-map type the allocator may use.
pub fn is_usable(area: &MemoryArea) -> bool {
    area.typ() == MemoryAreaType::Available
}

/// The range a memory-map region covers (cut at the top of the address space).
pub fn area_range(area: &MemoryArea) -> PhysRange {
    PhysRange::from_size(area.start_address(), area.size())
}

/// Hands out free 4 KiB frames in ascending address order.
#[derive(Debug, Clone)]
pub struct FrameAllocator<'a> {
    /// The memory map, as the boot loader gave it.
    areas: &'a [MemoryArea],
    /// Ranges never to hand out.
    reserved: Reserved,
    /// The lowest address not yet considered (a frame boundary).
    next: u64,
}

impl<'a> FrameAllocator<'a> {
    /// An allocator over the memory map `areas` that avoids `reserved`.
    pub fn new(areas: &'a [MemoryArea], reserved: Reserved) -> Self {
        // Starting at the second frame keeps page 0 out.
        Self {
            areas,
            reserved,
            next: FRAME_SIZE,
        }
    }

    /// The physical address of a free frame, or `None` when none is left.
    pub fn allocate(&mut self) -> Option<u64> {
        let run = self.next_run(self.next)?;
        // A run holds at least one frame, so this does not overflow.
        self.next = run.start + FRAME_SIZE;
        Some(run.start)
    }

    /// How many frames are still free.
    pub fn free_frames(&self) -> u64 {
        let mut count = 0;
        let mut from = self.next;
        while let Some(run) = self.next_run(from) {
            count += run.size() / FRAME_SIZE;
            from = run.end;
        }
        count
    }

    /// Everything a frame must not touch: reserved ranges and regions of
    /// types other than `usable`.
    fn exclusions(&self) -> impl Iterator<Item = PhysRange> + '_ {
        let unusable = self
            .areas
            .iter()
            .filter(|area| !is_usable(area))
            .map(area_range);
        self.reserved.as_slice().iter().copied().chain(unusable)
    }

    /// The lowest free frame at or above `from` and the free frames that
    /// follow it without a gap, as one range; `None` when none is free.
    fn next_run(&self, from: u64) -> Option<PhysRange> {
        let mut candidate = frame_align_up(from)?;
        loop {
            let (start, end) = self.lowest_usable_at_or_above(candidate)?;
            let frame = PhysRange::new(start, start + FRAME_SIZE);
            if let Some(blocker) = self.exclusions().find(|range| range.overlaps(&frame)) {
                // Skip past it; the candidate only ever grows.
                candidate = frame_align_up(blocker.end)?;
                continue;
            }
            let run_end = self
                .exclusions()
                .filter(|range| !range.is_empty() && range.start > start && range.start < end)
                .map(|range| frame_align_down(range.start))
                .fold(end, u64::min);
            return Some(PhysRange::new(start, run_end));
        }
    }

    /// Among the usable regions, the lowest whole frame at or above
    /// `candidate`, with the frame-aligned end of the region it lies in.
    fn lowest_usable_at_or_above(&self, candidate: u64) -> Option<(u64, u64)> {
        let mut best: Option<(u64, u64)> = None;
        for area in self.areas.iter().filter(|area| is_usable(area)) {
            let range = area_range(area);
            let Some(start) = frame_align_up(range.start) else {
                continue;
            };
            let start = start.max(candidate);
            let end = frame_align_down(range.end);
            if end <= start {
                continue;
            }
            best = match best {
                Some((best_start, best_end))
                    if best_start < start || (best_start == start && best_end >= end) =>
                {
                    Some((best_start, best_end))
                }
                _ => Some((start, end)),
            };
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use multiboot2::{MemoryArea, MemoryAreaType};

    use super::*;

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
            list.push(range).unwrap();
        }
        list
    }

    /// Every frame the allocator hands out, in order.
    fn drain(allocator: &mut FrameAllocator) -> Vec<u64> {
        core::iter::from_fn(|| allocator.allocate()).collect()
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

    #[test]
    fn never_hands_out_page_zero() {
        let areas = [usable(0, 16 * KIB)];
        let frames = drain(&mut FrameAllocator::new(&areas, Reserved::new()));
        assert_eq!(frames, vec![0x1000, 0x2000, 0x3000]);
    }

    #[test]
    fn only_whole_frames_inside_usable_regions() {
        // Unaligned region edges: only frames entirely inside count.
        let areas = [usable(0x1800, 0x3000), reserved_area(0x10000, 0x1000)];
        let frames = drain(&mut FrameAllocator::new(&areas, Reserved::new()));
        assert_eq!(frames, vec![0x2000, 0x3000]);
    }

    #[test]
    fn skips_reserved_ranges_even_partly_covered_frames() {
        let areas = [usable(0, 0x10000)];
        let kernel = PhysRange::new(0x3000, 0x5000);
        let module = PhysRange::new(0x8010, 0x8011); // one byte
        let mut allocator = FrameAllocator::new(&areas, reserved(&[kernel, module]));
        assert_eq!(allocator.free_frames(), 15 - 2 - 1);
        let frames = drain(&mut allocator);
        assert_eq!(
            frames,
            vec![
                0x1000, 0x2000, 0x5000, 0x6000, 0x7000, 0x9000, 0xa000, 0xb000, 0xc000, 0xd000,
                0xe000, 0xf000
            ]
        );
    }

    #[test]
    fn overlapping_unusable_region_wins() {
        let areas = [usable(0, 0x8000), reserved_area(0x4000, 0x1000)];
        let frames = drain(&mut FrameAllocator::new(&areas, Reserved::new()));
        assert_eq!(frames, vec![0x1000, 0x2000, 0x3000, 0x5000, 0x6000, 0x7000]);
    }

    #[test]
    fn unsorted_and_overlapping_usable_regions_give_each_frame_once() {
        let areas = [
            usable(0x6000, 0x4000),
            usable(0x1000, 0x2000),
            usable(0x7000, 0x1000),
        ];
        let frames = drain(&mut FrameAllocator::new(&areas, Reserved::new()));
        assert_eq!(frames, vec![0x1000, 0x2000, 0x6000, 0x7000, 0x8000, 0x9000]);
    }

    #[test]
    fn counts_and_hands_out_frames_above_4_gib() {
        let areas = pc_map();
        let kernel = PhysRange::new(MIB, 2 * MIB);
        let mut allocator = FrameAllocator::new(&areas, reserved(&[kernel]));
        let low = 0x9f - 1; // frames 1..=0x9e below 640 KiB
        let middle = (127 * MIB - 128 * KIB - MIB) / FRAME_SIZE;
        let high = GIB / FRAME_SIZE;
        assert_eq!(allocator.free_frames(), low + middle + high);
        let frames = drain(&mut allocator);
        assert_eq!(frames.len() as u64, low + middle + high);
        assert_eq!(allocator.free_frames(), 0);
        assert!(
            frames.windows(2).all(|pair| pair[0] < pair[1]),
            "not ascending"
        );
        assert_eq!(*frames.last().unwrap(), 5 * GIB - FRAME_SIZE);
        assert!(frames.iter().all(|&f| !(MIB..2 * MIB).contains(&f)));
    }

    #[test]
    fn region_at_the_top_of_the_address_space() {
        let areas = [
            usable(u64::MAX - 0x2fff, 0x3000),
            usable(u64::MAX - 0xfff, u64::MAX),
        ];
        let frames = drain(&mut FrameAllocator::new(&areas, Reserved::new()));
        assert_eq!(frames, vec![u64::MAX - 0x2fff, u64::MAX - 0x1fff]);
    }

    #[test]
    fn reserved_range_reaching_the_top_ends_allocation() {
        let areas = [usable(0, 0x10000)];
        let top = PhysRange::new(0x4000, u64::MAX);
        let frames = drain(&mut FrameAllocator::new(&areas, reserved(&[top])));
        assert_eq!(frames, vec![0x1000, 0x2000, 0x3000]);
    }

    #[test]
    fn empty_map_has_no_frames() {
        let mut allocator = FrameAllocator::new(&[], Reserved::new());
        assert_eq!(allocator.free_frames(), 0);
        assert_eq!(allocator.allocate(), None);
    }

    #[test]
    fn reserved_list_has_a_fixed_capacity() {
        let mut list = Reserved::new();
        for i in 0..MAX_RESERVED as u64 {
            list.push(PhysRange::new(i, i + 1)).unwrap();
        }
        assert_eq!(list.push(PhysRange::new(0, 1)), Err(ReservedFull));
        assert_eq!(list.as_slice().len(), MAX_RESERVED);
    }
}

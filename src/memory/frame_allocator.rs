//! The physical frame allocator: hands out 4 KiB frames of RAM and takes
//! them back.
//!
//! A frame is handed out only if all of it lies in a `usable` (type 1)
//! region of the memory map and none of it lies in:
//!
//! - page 0 (the real-mode interrupt table, and a null pointer's target),
//!   even when the reserved list does not say so;
//! - any region of another type (firmware maps can overlap; the stricter type
//!   wins, as Linux does);
//! - a [`Reserved`] range (see [`super::reserved`]).
//!
//! What is left is a sorted list of *regions*: runs of such frames, the
//! usable areas sorted, overlapping and touching ones merged, cut around
//! everything above. Each region has its place in one bitmap, one bit per
//! frame (1 = taken), the regions' bits packed one after another, so holes
//! in the map and reserved ranges cost no bits. The caller provides the
//! bitmap's storage ([`FrameAllocator::bitmap_words`] says how much); the
//! region table has a fixed capacity ([`MAX_REGIONS`]). No heap.
//!
//! [`FrameAllocator::allocate`] hands out the lowest free frame at or above
//! [`LOW_ZONE_END`] (16 MiB), and only when none is left there the lowest
//! free frame below it. The first 16 MiB are the only RAM an ISA DMA
//! controller reaches, and where the firmware and GRUB ran (under QEMU's
//! TCG, writing to a page that held code run before costs a check per
//! write until the emulator has dropped that code: the heap's first 64 KiB
//! took 11 ms low, 2 ms above 16 MiB). A hint per zone (the lowest bitmap
//! word that may have a free bit) keeps each search from scanning from the
//! start every time: it only moves down when a frame is freed.
//! Frames above the identity-mapped first 4 GiB are handed out like any
//! other, as physical addresses; [`FrameAllocator::allocate_below`] is for
//! callers that must reach the frame before the kernel maps all of RAM.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

use core::fmt;

use multiboot2::{MemoryArea, MemoryAreaType};

use super::PAGE_SIZE as FRAME_SIZE;
use super::range::PhysRange;
use super::reserved::Reserved;

/// How many regions the allocator tracks. A PC's map has a few usable areas
/// (UEFI maps a few dozen), and each reserved or other-typed range splits at
/// most one region in two. Frames in regions beyond this are left out
/// (counted in [`FrameAllocator::lost_frames`]), never handed out wrongly.
pub const MAX_REGIONS: usize = 256;

/// Where the low zone, handed out last, ends: the first 16 MiB.
pub const LOW_ZONE_END: u64 = 16 * 1024 * 1024;

/// Bits per bitmap word.
const WORD_BITS: u64 = u64::BITS as u64;

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

/// True for the memory-map type the allocator may use.
pub fn is_usable(area: &MemoryArea) -> bool {
    area.typ() == MemoryAreaType::Available
}

/// The range a memory-map region covers (cut at the top of the address space).
pub fn area_range(area: &MemoryArea) -> PhysRange {
    PhysRange::from_size(area.start_address(), area.size())
}

/// Why [`FrameAllocator::free`] refused an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreeError {
    /// Not on a 4 KiB boundary.
    Misaligned,
    /// Not a frame the allocator hands out: page 0, reserved, outside the
    /// usable regions, or overlapping a region of another type.
    NotManaged,
    /// The frame is free already: a double free (or it was never allocated).
    AlreadyFree,
}

impl fmt::Display for FreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Misaligned => "address is not 4 KiB-aligned",
            Self::NotManaged => "address is not a frame the allocator manages",
            Self::AlreadyFree => "frame is already free (double free)",
        })
    }
}

/// A run of frames the allocator manages, and where its bits start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Region {
    /// The physical address of its first frame.
    start: u64,
    /// How many frames.
    frames: u64,
    /// The bitmap index of its first frame's bit.
    first_bit: u64,
}

impl Region {
    /// The first address after its last frame (no overflow: runs end at a
    /// frame-aligned address that fits in a `u64`).
    fn end(&self) -> u64 {
        self.start + self.frames * FRAME_SIZE
    }
}

/// The two parts of the bitmap searched in turn.
#[derive(Clone, Copy)]
enum Zone {
    /// Frames at or above [`LOW_ZONE_END`]: handed out first.
    Upper,
    /// Frames below it: handed out when the upper zone has none left.
    Low,
}

/// Hands out free 4 KiB frames, lowest address first above
/// [`LOW_ZONE_END`], then lowest first below it, and takes them back.
#[derive(Debug)]
pub struct FrameAllocator<'a> {
    /// One bit per managed frame (1 = taken); bits past the last frame in
    /// the last word are set, so they are never handed out.
    bitmap: &'a mut [u64],
    /// The regions, sorted by address (and so by `first_bit`); the first
    /// `region_count` are used.
    regions: [Region; MAX_REGIONS],
    /// How many regions are in use.
    region_count: usize,
    /// The first bit of a frame at or above [`LOW_ZONE_END`] (the bitmap's
    /// length in bits when there is none): bits below it are the low zone.
    zone_bit: u64,
    /// No word below this one holds a free bit of the zone above
    /// `zone_bit`.
    hint: usize,
    /// No word below this one holds a free bit of the low zone.
    low_hint: usize,
    /// Frames free now.
    free: u64,
    /// Frames managed (all free at the start).
    total: u64,
    /// Usable frames left out: region table or storage full.
    lost: u64,
}

impl<'a> FrameAllocator<'a> {
    /// How many `u64` words of storage [`FrameAllocator::new`] needs for the
    /// memory map `areas`, whatever the reserved list (reserved ranges only
    /// ever take frames away).
    pub fn bitmap_words(areas: &[MemoryArea]) -> usize {
        let frames: u64 = FreeRuns::new(areas, &Reserved::new())
            .map(|run| run.size() / FRAME_SIZE)
            .sum();
        usize::try_from(frames.div_ceil(WORD_BITS)).unwrap_or(usize::MAX)
    }

    /// An allocator over the memory map `areas` that avoids `reserved`,
    /// keeping its bitmap in `storage` (at least
    /// [`FrameAllocator::bitmap_words`] words; whatever it holds now is
    /// overwritten). With less, the frames that do not fit are left out.
    pub fn new(areas: &[MemoryArea], reserved: &Reserved, storage: &'a mut [u64]) -> Self {
        let capacity = storage.len() as u64 * WORD_BITS;
        let mut regions = [Region {
            start: 0,
            frames: 0,
            first_bit: 0,
        }; MAX_REGIONS];
        let (mut region_count, mut bits, mut lost) = (0, 0u64, 0u64);
        for run in FreeRuns::new(areas, reserved) {
            let frames = run.size() / FRAME_SIZE;
            let take = if region_count < MAX_REGIONS {
                frames.min(capacity - bits)
            } else {
                0
            };
            lost += frames - take;
            if take > 0 {
                regions[region_count] = Region {
                    start: run.start,
                    frames: take,
                    first_bit: bits,
                };
                region_count += 1;
                bits += take;
            }
        }
        // At most `storage.len()` words, since `bits <= capacity`.
        let words = bits.div_ceil(WORD_BITS) as usize;
        let bitmap = &mut storage[..words];
        bitmap.fill(0);
        if let Some(last) = bitmap.last_mut() {
            let used = bits % WORD_BITS;
            if used != 0 {
                *last = !0 << used;
            }
        }
        // Regions are sorted, so the frames at or above the low zone's end
        // are the bits from the first one of them on.
        let zone_bit = regions[..region_count]
            .iter()
            .find(|region| region.end() > LOW_ZONE_END)
            .map_or(bits, |region| {
                region.first_bit + LOW_ZONE_END.saturating_sub(region.start) / FRAME_SIZE
            });
        Self {
            bitmap,
            regions,
            region_count,
            zone_bit,
            hint: (zone_bit / WORD_BITS) as usize,
            low_hint: 0,
            free: bits,
            total: bits,
            lost,
        }
    }

    /// The physical address of the lowest free frame, now taken, or `None`
    /// when none is left.
    pub fn allocate(&mut self) -> Option<u64> {
        self.allocate_below(u64::MAX)
    }

    /// The physical address of a free frame lying wholly below `limit`, now
    /// taken, or `None` when there is none.
    pub fn allocate_below(&mut self, limit: u64) -> Option<u64> {
        let fits = |address: u64| {
            address
                .checked_add(FRAME_SIZE)
                .is_some_and(|end| end <= limit)
        };
        // The lowest free frame of a zone: if it does not fit, none of that
        // zone does; the low zone's frames all lie below the other's.
        let mut chosen = None;
        for zone in [Zone::Upper, Zone::Low] {
            if let Some(bit) = self.lowest_free_bit(zone) {
                let address = self.address_of(bit);
                if fits(address) {
                    chosen = Some((bit, address));
                    break;
                }
            }
        }
        let (bit, address) = chosen?;
        self.bitmap[(bit / WORD_BITS) as usize] |= 1 << (bit % WORD_BITS);
        self.free -= 1;
        Some(address)
    }

    /// The physical address of the lowest run of `count` free frames, next
    /// to each other, at or above `from`, now all taken; `None` when there
    /// is none (or `count` is 0). Each frame is given back with
    /// [`FrameAllocator::free`]. A plain scan, one frame at a time: for rare
    /// large buffers (a test's stand-in for device memory), not for speed.
    pub fn allocate_contiguous(&mut self, count: u64, from: u64) -> Option<u64> {
        if count == 0 {
            return None;
        }
        let is_free = |bitmap: &[u64], bit: u64| {
            bitmap[(bit / WORD_BITS) as usize] & (1 << (bit % WORD_BITS)) == 0
        };
        for region in self.regions().iter().copied() {
            let first = from.max(region.start).next_multiple_of(FRAME_SIZE);
            if first >= region.end() {
                continue;
            }
            let (mut bit, last_bit) = (
                region.first_bit + (first - region.start) / FRAME_SIZE,
                region.first_bit + region.frames,
            );
            let mut run = 0;
            while bit < last_bit {
                run = if is_free(self.bitmap, bit) {
                    run + 1
                } else {
                    0
                };
                bit += 1;
                if run == count {
                    let start = bit - count;
                    for taken in start..bit {
                        self.bitmap[(taken / WORD_BITS) as usize] |= 1 << (taken % WORD_BITS);
                    }
                    self.free -= count;
                    return Some(region.start + (start - region.first_bit) * FRAME_SIZE);
                }
            }
        }
        None
    }

    /// Gives back the frame at `address` (as [`FrameAllocator::allocate`]
    /// returned it).
    pub fn free(&mut self, address: u64) -> Result<(), FreeError> {
        if !address.is_multiple_of(FRAME_SIZE) {
            return Err(FreeError::Misaligned);
        }
        let region = self.region_of(address).ok_or(FreeError::NotManaged)?;
        let bit = region.first_bit + (address - region.start) / FRAME_SIZE;
        let (word, mask) = ((bit / WORD_BITS) as usize, 1 << (bit % WORD_BITS));
        if self.bitmap[word] & mask == 0 {
            return Err(FreeError::AlreadyFree);
        }
        self.bitmap[word] &= !mask;
        self.free += 1;
        if bit >= self.zone_bit {
            self.hint = self.hint.min(word);
        } else {
            self.low_hint = self.low_hint.min(word);
        }
        Ok(())
    }

    /// How many frames are free now.
    pub fn free_frames(&self) -> u64 {
        self.free
    }

    /// How many frames the allocator manages: all of them were free at the
    /// start, and [`FrameAllocator::free_frames`] returns to this once every
    /// allocated frame is freed.
    pub fn total_frames(&self) -> u64 {
        self.total
    }

    /// Usable frames left out because the region table ([`MAX_REGIONS`]) or
    /// the storage was full (0 unless the map is unusual or the storage
    /// short).
    pub fn lost_frames(&self) -> u64 {
        self.lost
    }

    /// The regions in use.
    fn regions(&self) -> &[Region] {
        &self.regions[..self.region_count]
    }

    /// The index of the lowest clear bit of `zone`; moves that zone's hint
    /// up to its word.
    fn lowest_free_bit(&mut self, zone: Zone) -> Option<u64> {
        let (first, end, hint) = match zone {
            Zone::Upper => (
                self.zone_bit,
                self.bitmap.len() as u64 * WORD_BITS,
                &mut self.hint,
            ),
            Zone::Low => (0, self.zone_bit, &mut self.low_hint),
        };
        // The word holding the zone boundary belongs to both zones: the
        // bits of the other zone count as taken there.
        let outside = |word: usize| {
            let base = word as u64 * WORD_BITS;
            let below = first.saturating_sub(base).min(WORD_BITS);
            let above = (base + WORD_BITS).saturating_sub(end).min(WORD_BITS);
            let low_bits = if below == WORD_BITS {
                !0
            } else {
                (1u64 << below) - 1
            };
            let high_bits = if above == 0 {
                0
            } else {
                !0 << (WORD_BITS - above)
            };
            low_bits | high_bits
        };
        let words = *hint..end.div_ceil(WORD_BITS) as usize;
        let found = words
            .clone()
            .find(|&word| self.bitmap[word] | outside(word) != !0);
        *hint = found.unwrap_or(words.end);
        let word = found?;
        let bits = self.bitmap[word] | outside(word);
        Some(word as u64 * WORD_BITS + u64::from(bits.trailing_ones()))
    }

    /// The address of the frame whose bit is `bit` (a bit of some region).
    fn address_of(&self, bit: u64) -> u64 {
        let regions = self.regions();
        let index = regions.partition_point(|region| region.first_bit <= bit) - 1;
        let region = regions[index];
        region.start + (bit - region.first_bit) * FRAME_SIZE
    }

    /// The region holding the frame at `address`, if any.
    fn region_of(&self, address: u64) -> Option<Region> {
        let regions = self.regions();
        let index = regions
            .partition_point(|region| region.start <= address)
            .checked_sub(1)?;
        let region = regions[index];
        (address < region.end()).then_some(region)
    }
}

/// Where to put `words` words of bitmap: the lowest frame-aligned run of
/// whole frames, all below `limit`, inside usable RAM, clear of page 0,
/// regions of other types and `reserved`. `None` if no run is big enough
/// (or `words` is 0: nothing to place).
pub fn bitmap_placement(
    areas: &[MemoryArea],
    reserved: &Reserved,
    words: usize,
    limit: u64,
) -> Option<PhysRange> {
    let bytes = u64::try_from(words).ok()?.checked_mul(8)?;
    let size = frame_align_up(bytes).filter(|&size| size > 0)?;
    let limit = frame_align_down(limit);
    FreeRuns::new(areas, reserved)
        .take_while(|run| run.start < limit)
        .find(|run| run.end.min(limit) - run.start >= size)
        .map(|run| PhysRange::from_size(run.start, size))
}

/// The runs of frames the allocator may hand out, ascending, each as long as
/// it goes (touching runs merged): whole frames of usable areas, none in
/// page 0, a region of another type or a reserved range.
struct FreeRuns<'r> {
    /// The memory map.
    areas: &'r [MemoryArea],
    /// Ranges never to hand out.
    reserved: &'r Reserved,
    /// The next run, not yet merged with the ones touching it.
    pending: Option<PhysRange>,
}

impl<'r> FreeRuns<'r> {
    /// The runs of `areas` around `reserved`.
    fn new(areas: &'r [MemoryArea], reserved: &'r Reserved) -> Self {
        let mut runs = Self {
            areas,
            reserved,
            pending: None,
        };
        // Starting at the second frame keeps page 0 out.
        runs.pending = runs.run_at_or_above(FRAME_SIZE);
        runs
    }

    /// Everything a frame must not touch: reserved ranges and regions of
    /// types other than `usable`.
    fn exclusions(&self) -> impl Iterator<Item = PhysRange> + '_ {
        let unusable = self
            .areas
            .iter()
            .filter(|area| !is_usable(area))
            .map(area_range);
        self.reserved.ranges().chain(unusable)
    }

    /// The lowest allowed frame at or above `from` and the allowed frames
    /// that follow it within the same usable area, as one range; `None`
    /// when there is none.
    fn run_at_or_above(&self, from: u64) -> Option<PhysRange> {
        let mut candidate = from;
        loop {
            let (start, end) = self.lowest_usable_at_or_above(candidate)?;
            let frame = PhysRange::new(start, start + FRAME_SIZE);
            if let Some(blocker) = self.exclusions().find(|range| range.overlaps(&frame)) {
                // Skip past it; the candidate only ever grows.
                candidate = frame_align_up(blocker.end)?;
                continue;
            }
            // Anything starting inside the area after `start` does not
            // overlap the first frame, so it starts at `start + FRAME_SIZE`
            // or later: the run holds at least one frame.
            let run_end = self
                .exclusions()
                .filter(|range| !range.is_empty() && range.start > start && range.start < end)
                .map(|range| frame_align_down(range.start))
                .fold(end, u64::min);
            return Some(PhysRange::new(start, run_end));
        }
    }

    /// Among the usable areas, the lowest whole frame at or above
    /// `candidate`, with the frame-aligned end of the area it lies in (the
    /// farthest, if several areas hold it).
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

impl Iterator for FreeRuns<'_> {
    type Item = PhysRange;

    fn next(&mut self) -> Option<PhysRange> {
        let mut run = self.pending.take()?;
        loop {
            // Overlapping or touching usable areas give runs that touch: one.
            self.pending = self.run_at_or_above(run.end);
            match self.pending {
                Some(more) if more.start == run.end => run.end = more.end,
                _ => return Some(run),
            }
        }
    }
}

#[cfg(test)]
mod tests;

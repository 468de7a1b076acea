//! The heap benchmark (`bench` on the command line of the benchmark build,
//! `make bench`): the kernel's allocator, talc, against the other candidate,
//! linked_list_allocator, on the same mixed workload in one boot.
//!
//! Each allocator gets its own arena of [`ARENA_BYTES`], taken from the
//! kernel heap, and runs [`OPERATIONS`] allocations and frees: sizes mostly
//! small, some medium, a few large, up to [`MAX_LIVE`] blocks alive at once,
//! frees in random order, from one seeded generator, so both see exactly the
//! same sequence. Each writes one byte per block, as a user would. Rounds
//! alternate between the two and the fastest round of each counts.
//!
//! Only in the benchmark build (cargo feature `bench`): the shipped kernel
//! carries no second allocator.

use alloc::vec::Vec;
use core::alloc::Layout;
use core::ptr::NonNull;

use linked_list_allocator::Heap;
use talc::DefaultBinning;
use talc::base::Talc;
use talc::source::Manual;

use crate::arch::read_timestamp;

/// Bytes of each allocator's arena.
const ARENA_BYTES: usize = 8 << 20;
/// Allocations plus frees per round.
const OPERATIONS: usize = 40_000;
/// The most blocks alive at once.
const MAX_LIVE: usize = 512;
/// Rounds per allocator.
const ROUNDS: usize = 3;

/// What the benchmark needs of an allocator.
trait Candidate {
    /// A block for `layout`, or `None`.
    fn alloc(&mut self, layout: Layout) -> Option<NonNull<u8>>;
    /// Frees a block `alloc` returned with the same layout.
    fn free(&mut self, block: NonNull<u8>, layout: Layout);
}

impl Candidate for Talc<Manual, DefaultBinning> {
    fn alloc(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        // SAFETY: the workload's layouts are never zero-sized.
        unsafe { self.allocate(layout) }
    }

    fn free(&mut self, block: NonNull<u8>, layout: Layout) {
        // SAFETY: `block` came from this allocator with `layout`.
        unsafe { self.deallocate(block.as_ptr(), layout) }
    }
}

impl Candidate for Heap {
    fn alloc(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        self.allocate_first_fit(layout).ok()
    }

    fn free(&mut self, block: NonNull<u8>, layout: Layout) {
        // SAFETY: `block` came from this allocator with `layout`.
        unsafe { self.deallocate(block, layout) }
    }
}

/// One round of the workload on `allocator`; returns its cycles, or `None`
/// if the allocator ran out of room.
fn round(allocator: &mut dyn Candidate, live: &mut Vec<(NonNull<u8>, Layout)>) -> Option<u64> {
    let mut rng = crate::test_rng::Rng(0x6865_6170_6265_6e63);
    live.clear();
    let start = read_timestamp();
    for _ in 0..OPERATIONS {
        if live.len() == MAX_LIVE || (!live.is_empty() && rng.below(2) == 0) {
            let (block, layout) = live.swap_remove(rng.below(live.len()));
            allocator.free(block, layout);
        } else {
            let size = match rng.below(20) {
                0 => 4096 + rng.below(28_000),
                1..=4 => 256 + rng.below(3840),
                _ => 8 + rng.below(248),
            };
            let align = if rng.below(8) == 0 { 64 } else { 8 };
            let layout = Layout::from_size_align(size, align).ok()?;
            let block = allocator.alloc(layout)?;
            // SAFETY: the block is at least one byte, just allocated.
            unsafe { block.as_ptr().write_volatile(size as u8) };
            live.push((block, layout));
        }
    }
    for (block, layout) in live.drain(..) {
        allocator.free(block, layout);
    }
    Some(read_timestamp() - start)
}

/// Runs the benchmark (`hz`: the timestamp counter's rate) and prints its figures on both consoles.
pub fn run(hz: u64) {
    let mut talc_arena = alloc::vec![0u8; ARENA_BYTES].into_boxed_slice();
    let mut list_arena = alloc::vec![0u8; ARENA_BYTES].into_boxed_slice();
    let mut talc = Talc::<Manual, DefaultBinning>::new(Manual);
    // SAFETY: the arena is a live heap block owned by this function, used
    // by nothing else until the allocator is dropped below.
    if unsafe { talc.claim(talc_arena.as_mut_ptr(), ARENA_BYTES) }.is_none() {
        println!("bench: heap: talc refused its arena");
        return;
    }
    let mut list = Heap::empty();
    // SAFETY: as above, for the other arena.
    unsafe { list.init(list_arena.as_mut_ptr(), ARENA_BYTES) };
    let mut live = Vec::with_capacity(MAX_LIVE);
    let (mut best_talc, mut best_list) = (u64::MAX, u64::MAX);
    for _ in 0..ROUNDS {
        let (Some(t), Some(l)) = (round(&mut talc, &mut live), round(&mut list, &mut live)) else {
            println!("bench: heap: an allocator ran out of its arena");
            return;
        };
        best_talc = best_talc.min(t);
        best_list = best_list.min(l);
    }
    // The allocators are not used again; their arenas go back to the heap.
    drop((talc_arena, list_arena));
    println!(
        "bench: heap: {OPERATIONS} mixed allocations and frees per round, best of {ROUNDS}, tsc {} MHz",
        hz / 1_000_000
    );
    for (name, cycles) in [("talc", best_talc), ("linked_list_allocator", best_list)] {
        let per_op = cycles / OPERATIONS as u64;
        let per_second = (OPERATIONS as u64).saturating_mul(hz) / cycles.max(1);
        println!("bench: heap: {name}: {per_op} cycles/op, {per_second} ops/s");
    }
    let tenths = best_list * 10 / best_talc.max(1);
    println!(
        "bench: heap: talc is {}.{}x faster",
        tenths / 10,
        tenths % 10
    );
}

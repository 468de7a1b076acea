//! The kernel heap: `alloc` (`Box`, `Vec`, `String`) on pages mapped from
//! the frame allocator at [`HEAP_START`], grown on demand.
//!
//! The allocator is the `talc` crate (chosen by measurement: `make bench`
//! runs it against `linked_list_allocator` in one boot; see docs/performance.md).
//! When talc runs out of room it asks its [`Source`], [`Growth`] here, which
//! maps more pages after the heap's end, [`GROW_STEP`] at a time or more for
//! a large request, until the heap reaches its limit
//! ([`super::layout::heap_limit`]: half of usable RAM, at most 256 MiB).
//! Nothing is ever unmapped: freed memory stays in the heap for reuse.
//!
//! Running out of memory (the limit reached, or no frame left) is a panic
//! that says how many bytes could not be allocated and what is left, never a
//! hang. The heap is locked with interrupts off, so a handler that allocates
//! cannot deadlock against the code it interrupted.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;

use spin::Mutex;
use talc::DefaultBinning;
use talc::base::Talc;
use talc::base::binning::Binning;
use talc::source::Source;

use super::layout::{HEAP_START, HeapUsage as Usage};
use super::{PAGE_SIZE, paging};
use crate::arch;

/// The heap grows by at least this much at a time (64 KiB).
pub const GROW_STEP: u64 = 64 * 1024;

/// Extra room asked for beyond a request, for talc's own tags and
/// alignment padding.
const GROW_SLACK: u64 = 4096;

/// Where the heap's pages come from, and how far it has grown.
#[derive(Debug)]
pub struct Growth {
    /// The end of the heap as talc knows it (`None` before the first claim).
    end: Option<NonNull<u8>>,
    /// Bytes mapped from [`HEAP_START`].
    mapped: u64,
    /// The most it may map.
    limit: u64,
}

// SAFETY: the pointer is only an address inside the heap's own mapping,
// which is the same for every CPU; nothing thread-local hides behind it.
unsafe impl Send for Growth {}

// SAFETY: Growth only touches talc through the `&mut Talc` it is given and
// never allocates (no printing, no collections): it maps pages.
unsafe impl Source for Growth {
    fn acquire<B: Binning>(talc: &mut Talc<Self, B>, layout: Layout) -> Result<(), ()> {
        let source = &mut talc.source;
        let wanted = (layout.size() as u64 + layout.align() as u64 + GROW_SLACK)
            .next_multiple_of(PAGE_SIZE)
            .max(GROW_STEP);
        let grow = wanted.min(source.limit - source.mapped);
        let grown = paging::map_fresh(HEAP_START + source.mapped, grow);
        if grown == 0 {
            return Err(());
        }
        let base = HEAP_START as *mut u8;
        let new_end = (HEAP_START + source.mapped + grown) as *mut u8;
        source.mapped += grown;
        let end = match source.end {
            // SAFETY: HEAP_START..new_end is freshly mapped, writable and used
            // by nothing else: the heap owns it from here on.
            None => unsafe { talc.claim(base, grown as usize) }.ok_or(())?,
            // SAFETY: `end` is the heap's current end (talc returned it), and
            // end..new_end was just mapped for the heap alone.
            Some(end) => unsafe { talc.extend(end, new_end) },
        };
        talc.source.end = Some(end);
        Ok(())
    }
}

/// The kernel's global allocator: talc behind a lock, over [`Growth`].
pub struct KernelHeap {
    /// The allocator; `None` limit until [`init`] sets it.
    talc: Mutex<Talc<Growth, DefaultBinning>>,
}

/// The one heap.
#[global_allocator]
pub static HEAP: KernelHeap = KernelHeap {
    talc: Mutex::new(Talc::new(Growth {
        end: None,
        mapped: 0,
        limit: 0,
    })),
};

/// Lets the heap grow up to `limit` bytes and maps its first pages. Call
/// once, after the kernel's page tables are live.
pub fn init(limit: u64) -> Usage {
    HEAP.with(|talc| talc.source.limit = limit);
    // One allocation maps the first GROW_STEP and lets talc set itself up.
    // `black_box`: the compiler may remove an allocation nothing uses (with
    // fat LTO it did, once other code changed), and then nothing is mapped.
    drop(core::hint::black_box(alloc::boxed::Box::new(0u64)));
    let usage = usage();
    log::debug!(
        "heap: talc at {HEAP_START:#x}, {} KiB mapped, limit {} KiB",
        usage.mapped / 1024,
        usage.limit / 1024
    );
    usage
}

/// The heap's current figures.
pub fn usage() -> Usage {
    HEAP.with(|talc| {
        let counters = talc.counters();
        Usage {
            mapped: talc.source.mapped,
            limit: talc.source.limit,
            allocated: counters.allocated_bytes as u64,
            allocations: counters.allocation_count as u64,
        }
    })
}

impl KernelHeap {
    /// Runs `f` with the allocator locked and interrupts off.
    fn with<R>(&self, f: impl FnOnce(&mut Talc<Growth, DefaultBinning>) -> R) -> R {
        arch::without_interrupts(|| f(&mut self.talc.lock()))
    }
}

/// Out of memory: the panic screen with the request and what is left.
fn out_of_memory(layout: Layout, talc: &Talc<Growth, DefaultBinning>) -> ! {
    let counters = talc.counters();
    let free_frames = super::free_frames();
    panic!(
        "out of memory: cannot allocate {} bytes (align {}); heap {} KiB mapped of its {} KiB \
         limit, {} KiB in {} allocations, {} KiB free in it; {free_frames} free frames",
        layout.size(),
        layout.align(),
        talc.source.mapped / 1024,
        talc.source.limit / 1024,
        counters.allocated_bytes / 1024,
        counters.allocation_count,
        counters.available_bytes / 1024,
    )
}

// SAFETY: talc returns blocks that fit the layout and are not in use; the
// lock makes each call exclusive.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.with(|talc| {
            // SAFETY: GlobalAlloc callers pass a non-zero-sized layout.
            match unsafe { talc.allocate(layout) } {
                Some(block) => block.as_ptr(),
                None => out_of_memory(layout, talc),
            }
        })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: GlobalAlloc callers pass a block this allocator returned,
        // with the layout it was allocated with.
        self.with(|talc| unsafe { talc.deallocate(ptr, layout) })
    }
}

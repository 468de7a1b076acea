//! The kernel's one frame allocator, its reserved list, and where the kernel
//! image lies.
//!
//! [`init`] builds the allocator once, early in `rust_main`, from the
//! memory map and the reserved list the boot information gives; every
//! later user takes frames through [`with_frames`] and reads the reserved
//! list through [`reserved_list`].
//!
//! The allocator's bitmap lives in RAM the allocator manages around: [`init`]
//! picks a run of free frames below 4 GiB (where the boot page tables' direct
//! map makes [`super::phys_to_virt`] reach it; the kernel's tables map all
//! RAM there), zeroes it, adds it to the reserved list as `frame bitmap`,
//! and only then builds the allocator, so the bitmap's frames are never
//! handed out.

use multiboot2::MemoryArea;
use spin::{Mutex, Once};

use super::frame_allocator::{FrameAllocator, bitmap_placement};
use super::layout::loaded_at;
use super::phys_to_virt;
use super::range::PhysRange;
use super::reserved::{FRAME_BITMAP, Reserved};
use crate::arch::BOOT_MAPPED_END;

unsafe extern "C" {
    /// The first byte of the kernel image: the Multiboot2 header, linked
    /// (and run, before paging) where it is loaded (linker.ld).
    static __kernel_start: u8;
    /// The first byte of .text, linked at KERNEL_VIRT_BASE + its load
    /// address, like everything after it (linker.ld).
    static __text_start: u8;
    /// The first byte after the kernel image, .bss, page tables and boot
    /// stack included (linker.ld); a high address.
    static __kernel_end: u8;
}

/// The frame allocator, once [`init`] has run.
static FRAMES: Mutex<Option<FrameAllocator<'static>>> = Mutex::new(None);

/// The reserved list the allocator was built around (the bitmap included),
/// once [`init`] has run.
static RESERVED: Once<Reserved> = Once::new();

/// Where GRUB loaded the kernel image, from the Multiboot2 header to the
/// end of .bss (physical addresses).
pub fn kernel_range() -> PhysRange {
    // Taking the address of a linker symbol reads nothing.
    let start = &raw const __kernel_start as u64;
    let end = loaded_at(&raw const __kernel_end as u64);
    PhysRange::new(start, end)
}

/// Where the kernel runs: its high addresses, from .text to the end of
/// .bss (the 32-bit boot code before .text runs only at its load address).
pub fn kernel_virtual_range() -> (u64, u64) {
    // Taking the address of a linker symbol reads nothing.
    (
        &raw const __text_start as u64,
        &raw const __kernel_end as u64,
    )
}

/// There is no room for the frame allocator's bitmap: `bytes` of usable
/// RAM below 4 GiB, clear of everything reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoRoomForBitmap {
    /// The bitmap's size.
    pub bytes: usize,
}

impl core::fmt::Display for NoRoomForBitmap {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "no room below 4 GiB for the frame bitmap ({} KiB)",
            self.bytes / 1024
        )
    }
}

/// Builds the frame allocator over the memory map `areas`, around
/// everything in `reserved` (which must have room for one more entry, the
/// bitmap); returns how many frames it can hand out.
pub fn init(areas: &[MemoryArea], mut reserved: Reserved) -> Result<u64, NoRoomForBitmap> {
    let words = FrameAllocator::bitmap_words(areas);
    let storage: &'static mut [u64] = if words == 0 {
        &mut []
    } else {
        let Some(place) = bitmap_placement(areas, &reserved, words, BOOT_MAPPED_END) else {
            return Err(NoRoomForBitmap { bytes: words * 8 });
        };
        reserved
            .push(place, FRAME_BITMAP)
            .expect("the reserved list keeps a slot for the bitmap");
        log::debug!(
            "memory: frame bitmap at {place}: {} bytes, one bit per frame of usable RAM",
            words * 8
        );
        let start = phys_to_virt(place.start) as *mut u64;
        // SAFETY: `place` is `words * 8` bytes or more of usable RAM below
        // 4 GiB (so `phys_to_virt` reaches it through the boot tables),
        // frame-aligned, and overlaps nothing reserved: not the kernel, its
        // stack or statics, the boot information or a module. Nothing else
        // refers to it, and it is now in the reserved list, so the allocator
        // never hands it out: it is this slice's alone for good. Zeroing it
        // first makes every word initialised.
        unsafe {
            core::ptr::write_bytes(start, 0, words);
            core::slice::from_raw_parts_mut(start, words)
        }
    };
    let allocator = FrameAllocator::new(areas, &reserved, storage);
    let free = allocator.free_frames();
    let lost = allocator.lost_frames();
    RESERVED.call_once(|| reserved);
    *FRAMES.lock() = Some(allocator);
    if lost > 0 {
        log::warn!("memory: {lost} usable frames left out (too many memory-map regions)");
    }
    log::debug!("memory: frame allocator over the memory map, {free} frames free");
    Ok(free)
}

/// Runs `f` with the frame allocator (locked meanwhile, interrupts off).
/// Panics if [`init`] has not run: a bug in the init order.
pub fn with_frames<R>(f: impl FnOnce(&mut FrameAllocator<'static>) -> R) -> R {
    // Interrupts off: a thread is never preempted holding the allocator.
    crate::arch::without_interrupts(|| {
        let mut frames = FRAMES.lock();
        f(frames.as_mut().expect("memory::init has not run"))
    })
}

/// The one reserved list: what the frame allocator never hands out, each
/// range with its name (`kernel`, `module`, `frame bitmap`, ...). Panics if
/// [`init`] has not run.
pub fn reserved_list() -> &'static Reserved {
    RESERVED.get().expect("memory::init has not run")
}

/// The page kept for the other CPUs' start (its entry in the reserved
/// list): `None` when the first MiB had no free page. Panics if [`init`]
/// has not run.
pub fn ap_start_page() -> Option<u64> {
    reserved_list()
        .as_slice()
        .iter()
        .find(|entry| entry.name == super::reserved::AP_START)
        .map(|entry| entry.range.start)
}

/// Where the frame bitmap lies (its entry in the reserved list); `None`
/// without usable RAM. Panics if [`init`] has not run.
pub fn bitmap_range() -> Option<PhysRange> {
    reserved_list()
        .as_slice()
        .iter()
        .find(|entry| entry.name == FRAME_BITMAP)
        .map(|entry| entry.range)
}

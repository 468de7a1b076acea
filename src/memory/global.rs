//! The kernel's one frame allocator, and where the kernel image lies.
//!
//! [`init`] builds the allocator from the boot information once, early in
//! `rust_main`; every later user takes frames through [`with_frames`].

use spin::Mutex;

use super::frame_allocator::{FrameAllocator, MAX_RESERVED};
use super::range::PhysRange;
use super::reserved_ranges;
use crate::boot_info::BootInfo;

unsafe extern "C" {
    /// The first byte of the kernel image (linker.ld).
    static __kernel_start: u8;
    /// The first byte after the kernel image, .bss, page tables and boot
    /// stack included (linker.ld).
    static __kernel_end: u8;
}

/// The frame allocator, once [`init`] has run.
static FRAMES: Mutex<Option<FrameAllocator<'static>>> = Mutex::new(None);

/// Where GRUB loaded the kernel image (physical = virtual: identity-mapped).
pub fn kernel_range() -> PhysRange {
    // Taking the address of a linker symbol reads nothing.
    let start = &raw const __kernel_start as u64;
    let end = &raw const __kernel_end as u64;
    PhysRange::new(start, end)
}

/// Builds the frame allocator over the memory map, avoiding the kernel, the
/// boot information and the modules; returns how many frames it can hand
/// out. Too many modules to track: a `boot error:` line and a halt.
pub fn init(boot: &'static BootInfo<'static>) -> u64 {
    let Ok(reserved) = reserved_ranges(boot, kernel_range()) else {
        crate::boot_error(format_args!(
            "too many boot modules (at most {})",
            MAX_RESERVED - 2
        ));
    };
    let allocator = FrameAllocator::new(boot.memory_areas(), reserved);
    let free = allocator.free_frames();
    *FRAMES.lock() = Some(allocator);
    log::debug!("memory: frame allocator over the memory map, {free} frames free");
    free
}

/// Runs `f` with the frame allocator (locked meanwhile). Panics if [`init`]
/// has not run: a bug in the init order.
pub fn with_frames<R>(f: impl FnOnce(&mut FrameAllocator<'static>) -> R) -> R {
    let mut frames = FRAMES.lock();
    f(frames.as_mut().expect("memory::init has not run"))
}

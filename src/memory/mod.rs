//! Physical memory: address ranges, the reserved list and the frame
//! allocator, plus (in the kernel) the one allocator every later part of the
//! kernel takes frames from.
//!
//! `boot_info::reserved_ranges` lists what the boot left in RAM that must
//! survive — page 0, the kernel image, the boot information, the modules,
//! the framebuffer, the ELF sections GRUB loaded — and
//! [`frame_allocator::FrameAllocator`] hands out every other usable frame,
//! and takes it back.

pub use crate::arch::PAGE_SIZE;

#[cfg(target_os = "none")]
pub mod address_space;
pub mod frame_allocator;
#[cfg(target_os = "none")]
pub mod frame_cache;
#[cfg(target_os = "none")]
mod global;
#[cfg(target_os = "none")]
pub mod heap;
#[cfg(all(target_os = "none", feature = "bench"))]
pub mod heap_bench;
#[cfg(target_os = "none")]
pub(crate) mod ktests;
pub mod layout;
#[cfg(target_os = "none")]
pub mod paging;
pub mod range;
pub mod reserved;

#[cfg(target_os = "none")]
pub use frame_cache::free_frames;
#[cfg(target_os = "none")]
pub use global::{
    ap_start_page, bitmap_range, init, kernel_range, kernel_virtual_range, reserved_list,
    with_frames,
};
#[cfg(target_os = "none")]
pub use paging::phys_to_virt;

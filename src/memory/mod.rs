//! Physical memory: address ranges and the frame allocator, plus (in the
//! kernel) the one allocator every later part of the kernel takes frames from.
//!
//! [`reserved_ranges`] lists what the boot left in RAM that must survive —
//! the kernel image, the boot information and the modules — and
//! [`frame_allocator::FrameAllocator`] hands out every other usable frame.

/// The size of a page, and of the physical frame behind it: 4 KiB.
pub const PAGE_SIZE: u64 = 4096;

pub mod frame_allocator;
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

#[cfg(target_os = "none")]
pub use global::{init, kernel_range, with_frames};
#[cfg(target_os = "none")]
pub use paging::phys_to_virt;

use self::frame_allocator::{Reserved, ReservedFull};
use self::range::PhysRange;
use crate::boot_info::{BootInfo, module_range};

/// The ranges the frame allocator must avoid: the kernel image (`kernel`),
/// the boot information and every module. Fails when there are more modules
/// than [`frame_allocator::MAX_RESERVED`] leaves room for.
pub fn reserved_ranges(boot: &BootInfo, kernel: PhysRange) -> Result<Reserved, ReservedFull> {
    let mut reserved = Reserved::new();
    reserved.push(kernel)?;
    reserved.push(boot.mbi_range())?;
    for module in boot.modules() {
        reserved.push(module_range(module))?;
    }
    Ok(reserved)
}

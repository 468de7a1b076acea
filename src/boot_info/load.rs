//! Loading the boot information from the address GRUB passed: the only
//! place that turns that address into memory to read.
//!
//! Order: the loader's magic value; the address (non-null, 8-byte aligned,
//! identity-mapped); the 8-byte header, to learn `total_size`, which must be
//! plausible and mapped too; then one byte slice of exactly `total_size`
//! bytes, which [`BootInfo::from_bytes`] validates tag by tag before the
//! `multiboot2` crate sees it.
//!
//! Nothing here prints: the screen is chosen from the boot information
//! after this, so a problem comes back as a [`LoadError`] (with the
//! framebuffer, if one can be found in a structure that failed validation),
//! for `rust_main` to print as a `boot error:` line on that screen.

use core::fmt;

use spin::Once;

use super::BootInfo;
use super::framebuffer;
use super::validate::{self, ALIGNMENT, HEADER_SIZE, Problem};
use crate::arch::translate;
use crate::console::pixels::Framebuffer;
use crate::memory::{PAGE_SIZE, phys_to_virt};

/// The value a Multiboot2 loader leaves in EAX (the assembly checks it first).
const MULTIBOOT2_BOOTLOADER_MAGIC: u32 = 0x36d7_6289;

/// The loaded boot information, kept for the rest of the kernel's life.
static BOOT_INFO: Once<BootInfo<'static>> = Once::new();

/// Why the boot information cannot be used.
#[derive(Debug, Clone, Copy)]
pub enum LoadError {
    /// EAX did not hold the Multiboot2 magic.
    Magic(u32),
    /// A null address.
    Null,
    /// The header or the structure is malformed (`at`: its address, when
    /// the message names it).
    Problem { problem: Problem, at: Option<usize> },
    /// `address + len` wraps around.
    Wraps { address: usize },
    /// Some page of it is not mapped.
    Unmapped {
        address: usize,
        len: usize,
        page: usize,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LoadError::Magic(magic) => write!(
                f,
                "not loaded by a Multiboot2 boot loader (magic {magic:#x})"
            ),
            LoadError::Null => {
                f.write_str("the boot loader passed a null boot information address")
            }
            LoadError::Problem { problem, at: None } => write!(f, "{problem}"),
            LoadError::Problem {
                problem,
                at: Some(address),
            } => write!(f, "{problem} (boot information at {address:#x})"),
            LoadError::Wraps { address } => write!(
                f,
                "the boot information at {address:#x} wraps around the address space"
            ),
            LoadError::Unmapped { address, len, page } => write!(
                f,
                "the boot information at {address:#x} ({len} bytes) lies in unmapped memory at {page:#x}"
            ),
        }
    }
}

/// A failed load: why, and the framebuffer the boot loader described, if
/// it could be found (see [`framebuffer::salvage`]), to print that on.
#[derive(Debug, Clone, Copy)]
pub struct Failed {
    /// Why.
    pub error: LoadError,
    /// The framebuffer to show the error on, if any was found.
    pub framebuffer: Option<Framebuffer>,
}

impl From<LoadError> for Failed {
    fn from(error: LoadError) -> Failed {
        Failed {
            error,
            framebuffer: None,
        }
    }
}

/// Loads the boot information at physical address `mbi_addr`, checked, or
/// says what is wrong with it. Prints nothing. Call once.
pub fn load(mbi_addr: usize, magic: u32) -> Result<&'static BootInfo<'static>, Failed> {
    if magic != MULTIBOOT2_BOOTLOADER_MAGIC {
        return Err(LoadError::Magic(magic).into());
    }
    if mbi_addr == 0 {
        return Err(LoadError::Null.into());
    }
    if !mbi_addr.is_multiple_of(ALIGNMENT) {
        let problem = Problem::Misaligned { address: mbi_addr };
        return Err(LoadError::Problem { problem, at: None }.into());
    }
    let virt = phys_to_virt(mbi_addr as u64) as usize;
    check_mapped(mbi_addr, HEADER_SIZE)?;
    // SAFETY: the HEADER_SIZE bytes at `mbi_addr` are mapped at `virt` (just
    // checked) and the loader placed the boot information there; nothing in
    // the kernel writes that memory, so a shared slice of it is sound.
    let header = unsafe { core::slice::from_raw_parts(virt as *const u8, HEADER_SIZE) };
    let total_size = validate::read_total_size(header)
        .and_then(|size| validate::check_total_size(size).map(|()| size))
        .map_err(|problem| LoadError::Problem { problem, at: None })?;
    check_mapped(mbi_addr, total_size)?;
    // SAFETY: all `total_size` bytes from `mbi_addr` are mapped at `virt`
    // (just checked; `total_size` is at most validate::MAX_TOTAL_SIZE), the
    // loader wrote the boot information there, and the kernel never writes
    // it: the frame allocator reserves its range, and the kernel's page
    // tables keep it in the direct map. So the slice is readable,
    // initialised and unchanging for the kernel's lifetime ('static).
    let bytes: &'static [u8] =
        unsafe { core::slice::from_raw_parts(virt as *const u8, total_size) };
    let boot = match BootInfo::from_bytes_at(bytes, mbi_addr as u64) {
        Ok(boot) => BOOT_INFO.call_once(|| boot),
        Err(problem) => {
            return Err(Failed {
                error: LoadError::Problem {
                    problem,
                    at: Some(mbi_addr),
                },
                framebuffer: framebuffer::salvage(bytes),
            });
        }
    };
    log::debug!("boot info: {total_size} bytes at {mbi_addr:#x}, checked");
    for tag in boot.mbi.tags() {
        let header = tag.header();
        log::trace!(
            "boot info: tag {:?}, {} bytes",
            multiboot2::TagType::from(header.typ),
            header.size
        );
    }
    Ok(boot)
}

/// Fails unless every page of `len` bytes from physical `addr` is mapped
/// at its place in the direct map (the boot tables' covers the first 4 GiB).
fn check_mapped(addr: usize, len: usize) -> Result<(), LoadError> {
    let Some(last) = addr.checked_add(len - 1) else {
        return Err(LoadError::Wraps { address: addr });
    };
    let mut page = addr & !(PAGE_SIZE as usize - 1);
    while page <= last {
        if translate(phys_to_virt(page as u64)) != Some(page as u64) {
            return Err(LoadError::Unmapped {
                address: addr,
                len,
                page,
            });
        }
        page += PAGE_SIZE as usize;
    }
    Ok(())
}

//! Loading the boot information from the address GRUB passed: the only
//! place that turns that address into memory to read.
//!
//! Order: the loader's magic value; the address (non-null, 8-byte aligned,
//! identity-mapped); the 8-byte header, to learn `total_size`, which must be
//! plausible and mapped too; then one byte slice of exactly `total_size`
//! bytes, which [`BootInfo::from_bytes`] validates tag by tag before the
//! `multiboot2` crate sees it. Any problem: a `boot error:` line on screen
//! and serial, then a halt.

use spin::Once;

use super::BootInfo;
use super::validate::{self, ALIGNMENT, HEADER_SIZE};
use crate::arch::translate;
use crate::boot_error as fail;
use crate::memory::PAGE_SIZE;

/// The value a Multiboot2 loader leaves in EAX (the assembly checks it first).
const MULTIBOOT2_BOOTLOADER_MAGIC: u32 = 0x36d7_6289;

/// The loaded boot information, kept for the rest of the kernel's life.
static BOOT_INFO: Once<BootInfo<'static>> = Once::new();

/// Loads the boot information at physical address `mbi_addr`; on any problem
/// prints a `boot error:` line and halts. Call once.
pub fn load(mbi_addr: usize, magic: u32) -> &'static BootInfo<'static> {
    if magic != MULTIBOOT2_BOOTLOADER_MAGIC {
        fail(format_args!(
            "not loaded by a Multiboot2 boot loader (magic {magic:#x})"
        ));
    }
    if mbi_addr == 0 {
        fail(format_args!(
            "the boot loader passed a null boot information address"
        ));
    }
    if !mbi_addr.is_multiple_of(ALIGNMENT) {
        fail(format_args!(
            "{}",
            validate::Problem::Misaligned { address: mbi_addr }
        ));
    }
    check_mapped(mbi_addr, HEADER_SIZE);
    // SAFETY: the HEADER_SIZE bytes at `mbi_addr` are identity-mapped (just
    // checked) and the loader placed the boot information there; nothing in
    // the kernel writes that memory, so a shared slice of it is sound.
    let header = unsafe { core::slice::from_raw_parts(mbi_addr as *const u8, HEADER_SIZE) };
    let total_size = match validate::read_total_size(header)
        .and_then(|size| validate::check_total_size(size).map(|()| size))
    {
        Ok(size) => size,
        Err(problem) => fail(format_args!("{problem}")),
    };
    check_mapped(mbi_addr, total_size);
    // SAFETY: all `total_size` bytes from `mbi_addr` are identity-mapped
    // (just checked; `total_size` is at most validate::MAX_TOTAL_SIZE), the
    // loader wrote the boot information there, and the kernel never writes
    // it: the frame allocator reserves its range. So the slice is readable,
    // initialised and unchanging for the kernel's lifetime ('static).
    let bytes: &'static [u8] =
        unsafe { core::slice::from_raw_parts(mbi_addr as *const u8, total_size) };
    let boot = match BootInfo::from_bytes(bytes) {
        Ok(boot) => BOOT_INFO.call_once(|| boot),
        Err(problem) => fail(format_args!(
            "{problem} (boot information at {mbi_addr:#x})"
        )),
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
    boot
}

/// Stops the boot unless every page of `len` bytes from `addr` is
/// identity-mapped (page 0 and the stack guard page are not; nor is anything
/// above 4 GiB).
fn check_mapped(addr: usize, len: usize) {
    let last = addr.checked_add(len - 1);
    let Some(last) = last else {
        fail(format_args!(
            "the boot information at {addr:#x} wraps around the address space"
        ));
    };
    let mut page = addr & !(PAGE_SIZE as usize - 1);
    while page <= last {
        if translate(page as u64) != Some(page as u64) {
            fail(format_args!(
                "the boot information at {addr:#x} ({len} bytes) lies in unmapped memory at {page:#x}"
            ));
        }
        page += PAGE_SIZE as usize;
    }
}

//! The kernel's only way to touch a program's memory: checked copies.
//!
//! Each takes a user address and length as the program passed them,
//! refuses a range that does not lie wholly in user space
//! ([`user_range::check`]: so never the kernel's half, whatever the
//! numbers), and copies with the CPU layer's routine, which opens user pages
//! for the one instruction that copies (SMAP) and stops at a page that is
//! not mapped, or read-only for a write (CR0.WP), through the page fault's
//! fixup: the call fails with `EFAULT` and the kernel goes on.

use alloc::string::String;
use alloc::vec::Vec;

use super::errno::{EFAULT, Errno};
use super::user_range;
use crate::arch::user::copy_user;

/// Copies `buffer.len()` bytes from the program's `address` into `buffer`.
pub fn read(address: u64, buffer: &mut [u8]) -> Result<(), Errno> {
    let length = buffer.len() as u64;
    user_range::check(address, length).map_err(|_| EFAULT)?;
    // SAFETY: the source lies wholly in user space (checked), where a fault
    // is caught; the destination is our own buffer.
    let left = unsafe { copy_user(buffer.as_mut_ptr(), address as *const u8, buffer.len()) };
    if left == 0 { Ok(()) } else { Err(EFAULT) }
}

/// Copies `bytes` to the program's `address`.
pub fn write(address: u64, bytes: &[u8]) -> Result<(), Errno> {
    user_range::check(address, bytes.len() as u64).map_err(|_| EFAULT)?;
    // SAFETY: the destination lies wholly in user space (checked), where a
    // fault is caught; the source is our own.
    let left = unsafe { copy_user(address as *mut u8, bytes.as_ptr(), bytes.len()) };
    if left == 0 { Ok(()) } else { Err(EFAULT) }
}

/// Copies a plain value to the program's `address` (a `repr(C)` record of
/// integers, as Linux's ABI lays it out).
pub fn write_value<T: Copy>(address: u64, value: &T) -> Result<(), Errno> {
    // SAFETY: viewing a `Copy` value's bytes reads nothing uninitialised
    // for the integer-only records this is used with (no padding: each
    // caller's record is laid out without holes).
    let bytes = unsafe {
        core::slice::from_raw_parts((value as *const T).cast::<u8>(), core::mem::size_of::<T>())
    };
    write(address, bytes)
}

/// Reads a `u64` from the program's `address`.
pub fn read_u64(address: u64) -> Result<u64, Errno> {
    let mut bytes = [0u8; 8];
    read(address, &mut bytes)?;
    Ok(u64::from_le_bytes(bytes))
}

/// Reads a NUL-terminated string of at most `limit` bytes (the NUL not
/// counted) from the program's `address`: `EFAULT` for an unreadable
/// byte, `too_long` when no NUL comes in time, `EINVAL`-free UTF-8 is not
/// required (invalid bytes become U+FFFD: paths here are ASCII).
pub fn read_string(address: u64, limit: usize, too_long: Errno) -> Result<String, Errno> {
    let mut bytes = Vec::new();
    let mut at = address;
    loop {
        // Up to the end of the page, so an unmapped next page is not
        // touched before the NUL is found.
        let in_page = (user_range::PAGE_SIZE - at % user_range::PAGE_SIZE) as usize;
        let want = in_page.min(limit + 1 - bytes.len());
        let mut chunk = alloc::vec![0u8; want];
        read(at, &mut chunk)?;
        if let Some(end) = chunk.iter().position(|&byte| byte == 0) {
            bytes.extend_from_slice(&chunk[..end]);
            return Ok(String::from_utf8_lossy(&bytes).into_owned());
        }
        bytes.extend_from_slice(&chunk);
        if bytes.len() > limit {
            return Err(too_long);
        }
        at += want as u64;
    }
}

//! `brk`, `mmap`, `munmap` and `mprotect` (`mremap` is left out: musl then
//! copies, as the docs say).

use super::SysResult;
use crate::process::errno::{EINVAL, ENODEV, ENOMEM, Errno};
use crate::process::memory::{MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, Memory};
use crate::process::program::Process;

/// Runs `f` on the program's memory (gone only once it has exited).
fn with_memory<R>(
    process: &Process,
    f: impl FnOnce(&mut Memory) -> Result<R, Errno>,
) -> Result<R, Errno> {
    let mut memory = process.memory.lock();
    f(memory.as_mut().ok_or(ENOMEM)?)
}

/// `brk(address)`: the heap's end after the call.
pub fn brk(process: &Process, address: u64) -> SysResult {
    with_memory(process, |memory| Ok(memory.brk(address)))
}

/// The `mmap` flags kestrel knows: the mapping types and
/// `MAP_FIXED(_NOREPLACE)`, plus the hints it may ignore (`MAP_NORESERVE`,
/// `MAP_POPULATE`, `MAP_STACK`, `MAP_GROWSDOWN`, `MAP_LOCKED`,
/// `MAP_NONBLOCK`, `MAP_HUGETLB`-less sizes).
const KNOWN_FLAGS: u64 =
    0x01 | 0x02 | 0x10 | 0x20 | 0x10_0000 | 0x4000 | 0x8000 | 0x2_0000 | 0x100 | 0x2000 | 0x1_0000;

/// `mmap(address, length, prot, flags, fd, offset)`: anonymous private
/// memory only; a file mapping fails with `ENODEV`.
pub fn mmap(
    process: &Process,
    address: u64,
    length: u64,
    prot: u64,
    flags: u64,
    _fd: u64,
    offset: u64,
) -> SysResult {
    if flags & !KNOWN_FLAGS != 0 {
        return Err(EINVAL);
    }
    match flags & (MAP_SHARED | MAP_PRIVATE) {
        MAP_PRIVATE => {}
        _ => return Err(EINVAL),
    }
    if flags & MAP_ANONYMOUS == 0 {
        return Err(ENODEV);
    }
    if !offset.is_multiple_of(crate::process::user_range::PAGE_SIZE) {
        return Err(EINVAL);
    }
    with_memory(process, |memory| memory.mmap(address, length, prot, flags))
}

/// `munmap(address, length)`.
pub fn munmap(process: &Process, address: u64, length: u64) -> SysResult {
    with_memory(process, |memory| memory.munmap(address, length).map(|()| 0))
}

/// `mprotect(address, length, prot)`.
pub fn mprotect(process: &Process, address: u64, length: u64, prot: u64) -> SysResult {
    with_memory(process, |memory| {
        memory.mprotect(address, length, prot).map(|()| 0)
    })
}

/// `madvise(address, length, advice)`: the hints are taken as given;
/// `MADV_DONTNEED` and `MADV_FREE` zero the pages (what a later read may
/// see after either).
pub fn madvise(process: &Process, address: u64, length: u64, advice: u64) -> SysResult {
    with_memory(process, |memory| {
        memory.madvise(address, length, advice).map(|()| 0)
    })
}

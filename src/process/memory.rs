//! A program's memory: its address space and the calls that change it
//! (`brk`, `mmap`, `munmap`, `mprotect`), with Linux's rules for their
//! arguments, and the layout (docs/user-mode.md):
//!
//! ```text
//! 0x0000_7fff_ffff_f000  USER_END: the top page stays unmapped
//! 0x0000_7fff_fff0_0000  STACK_TOP: the stack grows down from here,
//!                        STACK_SIZE bytes, then an unmapped guard page
//! 0x0000_7f00_0000_0000  MMAP_TOP: mmap hands out pages down from here
//!                        (a program's MAP_FIXED may go anywhere else)
//! brk start ... +BRK_MAX the heap `brk` grows, right after the program
//! 0x40_0000 (usually)    the program's segments, as its ELF file says
//! 0x0                    page 0 stays unmapped
//! ```
//!
//! `mmap` and the stack only reserve their pages (a list of [`Region`]s):
//! the first touch of a reserved page, by the program or by a copy the
//! kernel makes for it, maps a zeroed frame there (the page-fault entry asks
//! [`Memory::demand`]). The program's segments, the top of the stack and
//! `brk`'s pages are mapped at once. A mapped page is in the page tables, a
//! reserved one in the list, never both. The frames a program may take are
//! bounded so that the kernel keeps [`FRAMES_KEPT`] for itself: a touch past
//! that ends the program.

use super::errno::{EACCES, EEXIST, EINVAL, ENOMEM, Errno};
use super::user_range::{self, PAGE_SIZE, USER_END};
use crate::arch::Access;
use crate::memory::address_space::AddressSpace;

/// The top of the stack (exclusive).
pub const STACK_TOP: u64 = 0x0000_7fff_fff0_0000;
/// The stack's size: Linux's default limit is 8 MiB, grown on demand;
/// here it is mapped whole at the start, so smaller.
pub const STACK_SIZE: u64 = 256 * 1024;
/// The highest address `mmap` hands out (exclusive).
pub const MMAP_TOP: u64 = 0x0000_7f00_0000_0000;
/// How far `brk` may grow the heap.
pub const BRK_MAX: u64 = 1 << 30;
/// Frames no program may take: the kernel's reserve.
pub const FRAMES_KEPT: u64 = 1024;

/// `PROT_READ`, `PROT_WRITE`, `PROT_EXEC`.
pub const PROT_READ: u64 = 1;
/// See [`PROT_READ`].
pub const PROT_WRITE: u64 = 2;
/// See [`PROT_READ`].
pub const PROT_EXEC: u64 = 4;
/// `MAP_SHARED`, `MAP_PRIVATE`, `MAP_FIXED`, `MAP_ANONYMOUS`,
/// `MAP_FIXED_NOREPLACE` (Linux's values).
pub const MAP_SHARED: u64 = 0x01;
/// See [`MAP_SHARED`].
pub const MAP_PRIVATE: u64 = 0x02;
/// See [`MAP_SHARED`].
pub const MAP_FIXED: u64 = 0x10;
/// See [`MAP_SHARED`].
pub const MAP_ANONYMOUS: u64 = 0x20;
/// See [`MAP_SHARED`].
pub const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;

/// Reserved pages not mapped yet, with the rights they get when touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Region {
    /// First byte (page-aligned).
    start: u64,
    /// End (exclusive, page-aligned).
    end: u64,
    /// The rights.
    access: Access,
    /// Ring 3 may touch it (`false`: `PROT_NONE`: a touch is a fault).
    user: bool,
}

/// The free frames, as the allocator counts them: the frames cached per
/// CPU (at most a few dozen each) are left out, which errs on the safe
/// side and spares every `mmap` a visit to every CPU's cache.
fn free_frames() -> u64 {
    crate::memory::with_frames(|frames| frames.free_frames())
}

/// A program's memory.
pub struct Memory {
    /// Reserved, not yet mapped pages, sorted by address, disjoint.
    reserved: alloc::vec::Vec<Region>,
    /// Its address space.
    pub space: AddressSpace,
    /// Where the heap starts: the page after the program's last segment.
    brk_start: u64,
    /// The heap's end as the program last set it (not page-aligned).
    brk: u64,
    /// The next `mmap` goes below this.
    mmap_next: u64,
    /// The stack's lowest page; the guard page is right below it.
    pub stack_bottom: u64,
}

/// The rights `prot` asks for: `None` for a page that is writable and
/// executable at once (W^X holds for programs too), and whether ring 3 may
/// touch it (`PROT_NONE`: no).
fn access_of(prot: u64) -> Result<(Access, bool), Errno> {
    if prot & !(PROT_READ | PROT_WRITE | PROT_EXEC) != 0 {
        return Err(EINVAL);
    }
    let writable = prot & PROT_WRITE != 0;
    let executable = prot & PROT_EXEC != 0;
    if writable && executable {
        return Err(EACCES);
    }
    Ok((
        Access {
            writable,
            executable,
        },
        prot != 0,
    ))
}

impl Memory {
    /// A program's memory in `space`, its segments ending at `image_end`.
    pub fn new(space: AddressSpace, image_end: u64) -> Memory {
        let brk_start = user_range::round_up(image_end).unwrap_or(USER_END);
        Memory {
            reserved: alloc::vec::Vec::new(),
            space,
            brk_start,
            brk: brk_start,
            mmap_next: MMAP_TOP,
            stack_bottom: STACK_TOP - STACK_SIZE,
        }
    }

    /// Whether `pages` more frames may be taken.
    fn may_take(pages: u64) -> bool {
        free_frames().saturating_sub(FRAMES_KEPT) >= pages
    }

    /// Maps `pages` fresh pages from `start` with `access`; on failure
    /// unmaps what it mapped.
    fn map_pages(
        &mut self,
        start: u64,
        pages: u64,
        access: Access,
        user: bool,
    ) -> Result<(), Errno> {
        if !Self::may_take(pages) {
            return Err(ENOMEM);
        }
        for page in 0..pages {
            if self
                .space
                .map_zeroed(start + page * PAGE_SIZE, access, user)
                .is_err()
            {
                self.space.unmap(start, page);
                return Err(ENOMEM);
            }
        }
        Ok(())
    }

    /// Whether any page among `pages` pages from `start` is mapped or
    /// reserved.
    fn any_mapped(&mut self, start: u64, pages: u64) -> bool {
        let end = start + pages * PAGE_SIZE;
        self.reserved
            .iter()
            .any(|region| region.start < end && start < region.end)
            || (0..pages).any(|page| self.space.page(start + page * PAGE_SIZE).is_some())
    }

    /// Reserves `pages` pages from `start` (none mapped or reserved) with
    /// `access`: mapped on first touch.
    pub fn reserve(&mut self, start: u64, pages: u64, access: Access, user: bool) {
        let region = Region {
            start,
            end: start + pages * PAGE_SIZE,
            access,
            user,
        };
        let at = self
            .reserved
            .iter()
            .position(|other| other.start > start)
            .unwrap_or(self.reserved.len());
        self.reserved.insert(at, region);
    }

    /// Drops the reservations between `start` and `end`, splitting those
    /// that straddle either end; returns what was dropped.
    fn unreserve(&mut self, start: u64, end: u64) -> alloc::vec::Vec<Region> {
        if !self
            .reserved
            .iter()
            .any(|region| region.start < end && start < region.end)
        {
            return alloc::vec::Vec::new();
        }
        let mut kept = alloc::vec::Vec::with_capacity(self.reserved.len() + 1);
        let mut dropped = alloc::vec::Vec::new();
        for region in self.reserved.drain(..) {
            if region.end <= start || end <= region.start {
                kept.push(region);
                continue;
            }
            if region.start < start {
                kept.push(Region {
                    end: start,
                    ..region
                });
            }
            if end < region.end {
                kept.push(Region {
                    start: end,
                    ..region
                });
            }
            dropped.push(Region {
                start: region.start.max(start),
                end: region.end.min(end),
                ..region
            });
        }
        kept.sort_by_key(|region| region.start);
        self.reserved = kept;
        dropped
    }

    /// A page fault at `address` (`write`: a store; `execute`: a fetch):
    /// maps a zeroed frame when the page is reserved with rights that allow
    /// the access. Returns whether it did (the access runs again); false
    /// for anything else, which is the program's fault.
    pub fn demand(&mut self, address: u64, write: bool, execute: bool) -> bool {
        let page = user_range::round_down(address);
        let Some(index) = self
            .reserved
            .iter()
            .position(|region| (region.start..region.end).contains(&page))
        else {
            return false;
        };
        let region = self.reserved[index];
        if !region.user
            || (write && !region.access.writable)
            || (execute && !region.access.executable)
        {
            return false;
        }
        if !Self::may_take(1) || self.space.map_zeroed(page, region.access, true).is_err() {
            return false;
        }
        // The page leaves the reservation.
        self.unreserve(page, page + PAGE_SIZE);
        true
    }

    /// `brk(address)`: moves the heap's end to `address` when it can, and
    /// returns the end it has (Linux's semantics: the old end on failure,
    /// the current one for 0).
    pub fn brk(&mut self, address: u64) -> u64 {
        if address < self.brk_start || address > self.brk_start + BRK_MAX {
            return self.brk;
        }
        let old_end = user_range::round_up(self.brk).unwrap_or(USER_END);
        let new_end = user_range::round_up(address).unwrap_or(USER_END);
        if new_end > old_end {
            let pages = (new_end - old_end) / PAGE_SIZE;
            if self.any_mapped(old_end, pages)
                || self
                    .map_pages(old_end, pages, Access::READ_WRITE, true)
                    .is_err()
            {
                return self.brk;
            }
        } else if new_end < old_end {
            self.space.unmap(new_end, (old_end - new_end) / PAGE_SIZE);
        }
        self.brk = address;
        address
    }

    /// `mmap` of anonymous private memory: returns the address.
    pub fn mmap(&mut self, hint: u64, length: u64, prot: u64, flags: u64) -> Result<u64, Errno> {
        let (access, user) = access_of(prot)?;
        if length == 0 {
            return Err(EINVAL);
        }
        let size = user_range::round_up(length).ok_or(ENOMEM)?;
        if size >= USER_END {
            return Err(ENOMEM);
        }
        let pages = size / PAGE_SIZE;
        let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
        let start = if fixed {
            if !hint.is_multiple_of(PAGE_SIZE) || hint < PAGE_SIZE {
                return Err(EINVAL);
            }
            user_range::check(hint, size).map_err(|_| ENOMEM)?;
            if self.any_mapped(hint, pages) {
                if flags & MAP_FIXED_NOREPLACE != 0 {
                    return Err(EEXIST);
                }
                self.space.unmap(hint, pages);
                self.unreserve(hint, hint + size);
            }
            hint
        } else {
            self.find_free(size)?
        };
        if pages > self.budget() {
            return Err(ENOMEM);
        }
        self.reserve(start, pages, access, user);
        if !fixed {
            self.mmap_next = start;
        }
        Ok(start)
    }

    /// A free range of `size` bytes below the last `mmap`'s.
    fn find_free(&mut self, size: u64) -> Result<u64, Errno> {
        let pages = size / PAGE_SIZE;
        let mut top = self.mmap_next;
        loop {
            let start = top.checked_sub(size).ok_or(ENOMEM)?;
            if start < self.brk_start + BRK_MAX {
                return Err(ENOMEM);
            }
            // A MAP_FIXED may have taken pages here: skip below them.
            let end = start + size;
            if let Some(region) = self
                .reserved
                .iter()
                .filter(|region| region.start < end && start < region.end)
                .min_by_key(|region| region.start)
            {
                top = region.start;
                continue;
            }
            match (0..pages)
                .rev()
                .find(|page| self.space.page(start + page * PAGE_SIZE).is_some())
            {
                None => return Ok(start),
                Some(page) => top = start + page * PAGE_SIZE,
            }
        }
    }

    /// `munmap`.
    pub fn munmap(&mut self, address: u64, length: u64) -> Result<(), Errno> {
        if !address.is_multiple_of(PAGE_SIZE) || length == 0 {
            return Err(EINVAL);
        }
        let size = user_range::round_up(length).ok_or(EINVAL)?;
        user_range::check(address, size).map_err(|_| EINVAL)?;
        self.space.unmap(address, size / PAGE_SIZE);
        self.unreserve(address, address + size);
        Ok(())
    }

    /// `mprotect`: every page of the range must be mapped (else `ENOMEM`).
    pub fn mprotect(&mut self, address: u64, length: u64, prot: u64) -> Result<(), Errno> {
        let (access, user) = access_of(prot)?;
        if !address.is_multiple_of(PAGE_SIZE) {
            return Err(EINVAL);
        }
        let size = user_range::round_up(length).ok_or(ENOMEM)?;
        user_range::check(address, size).map_err(|_| ENOMEM)?;
        let pages = size / PAGE_SIZE;
        if !(0..pages).all(|page| self.is_used(address + page * PAGE_SIZE)) {
            return Err(ENOMEM);
        }
        self.space.protect(address, pages, access, user);
        // Reserved pages get the new rights when they are mapped.
        for region in self.unreserve(address, address + size) {
            self.reserve(
                region.start,
                (region.end - region.start) / PAGE_SIZE,
                access,
                user,
            );
        }
        Ok(())
    }

    /// Whether the page at `page` is mapped or reserved.
    fn is_used(&mut self, page: u64) -> bool {
        self.space.page(page).is_some()
            || self
                .reserved
                .iter()
                .any(|region| (region.start..region.end).contains(&page))
    }

    /// How many more pages the program may have (see [`FRAMES_KEPT`]),
    /// counting what it has reserved and not touched yet as taken.
    fn budget(&self) -> u64 {
        let reserved: u64 = self
            .reserved
            .iter()
            .map(|region| (region.end - region.start) / PAGE_SIZE)
            .sum();
        free_frames()
            .saturating_sub(FRAMES_KEPT)
            .saturating_sub(reserved)
    }

    /// `madvise`: checks the advice and the range (every page mapped, else
    /// `ENOMEM`); `MADV_DONTNEED` and `MADV_FREE` zero the pages.
    pub fn madvise(&mut self, address: u64, length: u64, advice: u64) -> Result<(), Errno> {
        /// `MADV_NORMAL`, `RANDOM`, `SEQUENTIAL`, `WILLNEED`: hints only.
        const HINTS: [u64; 4] = [0, 1, 2, 3];
        /// `MADV_DONTNEED` and `MADV_FREE`.
        const DISCARD: [u64; 2] = [4, 8];
        if !address.is_multiple_of(PAGE_SIZE) {
            return Err(EINVAL);
        }
        if !HINTS.contains(&advice) && !DISCARD.contains(&advice) {
            return Err(EINVAL);
        }
        let size = user_range::round_up(length).ok_or(EINVAL)?;
        user_range::check(address, size).map_err(|_| ENOMEM)?;
        let pages = size / PAGE_SIZE;
        let mut frames = alloc::vec::Vec::new();
        for page in 0..pages {
            let at = address + page * PAGE_SIZE;
            match self.space.page(at) {
                Some(mapped) => frames.push(mapped),
                None if self.is_used(at) => {} // reserved: zero already
                None => return Err(ENOMEM),
            }
        }
        if DISCARD.contains(&advice) {
            for page in frames.iter().filter(|page| page.writable) {
                // SAFETY: the frame is this program's page, in the direct
                // map; zeroing it is what the program asked for.
                unsafe {
                    core::ptr::write_bytes(
                        AddressSpace::frame_bytes(page.frame),
                        0,
                        PAGE_SIZE as usize,
                    );
                }
            }
        }
        Ok(())
    }

    /// Whether `address` lies in the stack's guard page.
    pub fn in_stack_guard(&self, address: u64) -> bool {
        (self.stack_bottom - PAGE_SIZE..self.stack_bottom).contains(&address)
    }
}

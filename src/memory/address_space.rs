//! A program's address space: its own top-level table, the kernel half
//! shared with every other (the same tables), and a lower half of 4 KiB
//! pages that belong to the program. The page tables are the one record of
//! what is mapped: a page is the program's when its entry is present, and
//! ring 3 may touch it when the entry says user (a `PROT_NONE` page keeps
//! its frame, reserved, without).
//!
//! Every page is backed by its own zeroed frame from the frame allocator at
//! once (no demand paging). An unmap or a tightening of rights is flushed
//! from the TLB of every CPU that has the space loaded before its frames
//! are reused; dropping the space gives back every frame, its tables'
//! too. Only the CPU layer's page-table code touches the entries.

use super::paging::{AnyFrames, with_tables};
use super::{PAGE_SIZE, frame_cache, phys_to_virt};
use crate::arch::{self, Access, MapError, PageTables, UserPage};

/// A program's address space (see the module).
pub struct AddressSpace {
    /// Its hierarchy.
    tables: PageTables,
    /// Frames it holds: its pages' and its tables', the top-level one too.
    frames: u64,
}

impl AddressSpace {
    /// A new space: nothing in the lower half.
    pub fn new() -> Result<AddressSpace, MapError> {
        let tables = with_tables(|kernel| PageTables::new_user(kernel, &mut AnyFrames))?;
        Ok(AddressSpace { tables, frames: 1 })
    }

    /// The physical address of its top-level table (CR3).
    pub fn root(&self) -> u64 {
        self.tables.root()
    }

    /// How many frames it holds, tables included.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Maps a fresh, zeroed frame at `virt` with `access` (`user` false:
    /// reserved, see the module); returns the frame. Fails when no frame
    /// is left or the page is mapped already.
    pub fn map_zeroed(&mut self, virt: u64, access: Access, user: bool) -> Result<u64, MapError> {
        let frame = frame_cache::allocate().ok_or(MapError::OutOfFrames)?;
        arch::zero_frame(phys_to_virt(frame));
        let mut counting = CountingFrames(0);
        let result = self
            .tables
            .map_user(virt, frame, access, user, &mut counting);
        self.frames += counting.0;
        match result {
            Ok(()) => {
                self.frames += 1;
                Ok(frame)
            }
            Err(error) => {
                frame_cache::free(frame);
                Err(error)
            }
        }
    }

    /// The page at `virt`, if one is mapped.
    pub fn page(&mut self, virt: u64) -> Option<UserPage> {
        self.tables.user_page(virt)
    }

    /// Changes the rights of the mapped pages among `pages` pages from
    /// `virt`, then flushes them from every CPU that has the space loaded.
    pub fn protect(&mut self, virt: u64, pages: u64, access: Access, user: bool) {
        for page in 0..pages {
            let _ = self
                .tables
                .protect_user(virt + page * PAGE_SIZE, access, user);
        }
        self.flush(virt, pages);
    }

    /// Unmaps the mapped pages among `pages` pages from `virt`, and frees
    /// their frames once no CPU's TLB holds them. Returns how many there
    /// were.
    pub fn unmap(&mut self, virt: u64, pages: u64) -> u64 {
        /// Pages unmapped, flushed and freed together.
        const BATCH: usize = 32;
        let mut freed = 0;
        let mut page = 0;
        while page < pages {
            let first = page;
            let mut frames = [0u64; BATCH];
            let mut count = 0;
            while page < pages && count < BATCH {
                if let Some(frame) = self.tables.unmap_user(virt + page * PAGE_SIZE) {
                    frames[count] = frame;
                    count += 1;
                }
                page += 1;
            }
            if count > 0 {
                self.flush(virt + first * PAGE_SIZE, page - first);
            }
            for &frame in &frames[..count] {
                frame_cache::free(frame);
            }
            freed += count as u64;
        }
        self.frames -= freed;
        freed
    }

    /// Drops `pages` pages from `virt` from the TLB of every CPU that has
    /// this space loaded (this one's too).
    fn flush(&self, virt: u64, pages: u64) {
        arch::tlb::shootdown(arch::cpus_with_root(self.root()), virt, pages);
    }

    /// A pointer to `frame`'s first byte in the direct map (for the kernel
    /// to fill a program's page without touching user addresses).
    pub fn frame_bytes(frame: u64) -> *mut u8 {
        phys_to_virt(frame) as *mut u8
    }
}

impl Drop for AddressSpace {
    /// Gives back every frame, once no CPU has the space loaded.
    fn drop(&mut self) {
        // An idle CPU may still have it loaded (the scheduler's lazy
        // switch): every CPU that has it loads the kernel's tables first.
        arch::tlb::shootdown(
            arch::cpus_with_root(self.root()),
            self.root(),
            arch::tlb::RELEASE_ROOT,
        );
        self.tables
            .free_lower_half(&mut |frame| frame_cache::free(frame));
        frame_cache::free(self.tables.root());
    }
}

/// The frame source for a program's tables, counting what it gives.
struct CountingFrames(u64);

impl arch::FrameSource for CountingFrames {
    fn allocate_frame(&mut self) -> Option<u64> {
        let frame = arch::FrameSource::allocate_frame(&mut AnyFrames)?;
        self.0 += 1;
        Some(frame)
    }
}

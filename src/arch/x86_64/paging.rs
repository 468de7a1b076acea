//! Page tables: the one mapping API (`map`, `unmap`, `translate`) with cache
//! types, and the switches that turn the kernel's own tables on.
//!
//! A [`PageTables`] is a 4-level hierarchy whose table frames the CPU-side
//! code reaches at `physical + offset`: the direct map's offset, under the
//! boot tables (which map the first 4 GiB there, so their frames and new
//! ones must lie below 4 GiB) as under the kernel's own. Frames for new
//! tables come from a [`FrameSource`] the caller passes in, so this layer
//! never reaches up into the memory manager.
//!
//! Cache types go through the page attribute table (Intel SDM vol. 3A,
//! 12.12): [`init_pat`] sets PAT entry 1 to write-combining, so a page's PWT
//! bit alone selects it; PWT and PCD together select entry 3, uncached.
//! Without a PAT, write-combining falls back to uncached. Without NX, pages
//! cannot be made no-execute and [`Access::executable`] is ignored.
//!
//! Limits: 4 KiB mappings are changed one page at a time; a range already
//! covered by a 2 MiB or 1 GiB page cannot be split (an error, not a panic).

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::registers::model_specific::{Efer, EferFlags, Msr};
use x86_64::structures::paging::mapper::{MapToError, TranslateResult, UnmapError};
use x86_64::structures::paging::page_table::PageTableEntry;
use x86_64::structures::paging::{
    FrameAllocator, Mapper, OffsetPageTable, Page, PageSize, PageTable, PageTableFlags, PhysFrame,
    Size1GiB, Size2MiB, Size4KiB, Translate,
};
use x86_64::{PhysAddr, VirtAddr};

/// The boot page tables map physical memory below this (at the direct
/// map's offset): 4 GiB.
pub const BOOT_MAPPED_END: u64 = 4 << 30;

/// The first P4 entry of the upper half: entries below it map the lower
/// half, which belongs to programs.
const UPPER_HALF_FIRST_ENTRY: usize = 256;

/// The IA32_PAT model-specific register.
const IA32_PAT: u32 = 0x277;
/// PAT memory type: uncacheable.
const PAT_UC: u64 = 0x00;
/// PAT memory type: write-combining.
const PAT_WC: u64 = 0x01;
/// PAT memory type: write-back.
const PAT_WB: u64 = 0x06;
/// PAT memory type: uncached unless the MTRRs say otherwise (UC-).
const PAT_UC_MINUS: u64 = 0x07;
/// The kernel's PAT: entries 0-3 (and again 4-7) are WB, WC, UC-, UC. Only
/// entry 1 differs from the power-on value (write-through).
const KERNEL_PAT: u64 = {
    let low = PAT_WB | PAT_WC << 8 | PAT_UC_MINUS << 16 | PAT_UC << 24;
    low | low << 32
};

/// Added to a live table's physical address to reach it: set by
/// [`PageTables::adopt_active`] (the boot tables) and
/// [`PageTables::activate`]; 0 before, while the boot tables' identity map
/// still exists.
static LIVE_TABLE_OFFSET: AtomicU64 = AtomicU64::new(0);

/// Whether EFER.NXE is on, so no-execute bits may be set.
static NX_ENABLED: AtomicBool = AtomicBool::new(false);
/// Whether the PAT holds [`KERNEL_PAT`], so write-combining exists.
static PAT_ENABLED: AtomicBool = AtomicBool::new(false);

/// How the CPU may cache a mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheType {
    /// Normal memory: RAM.
    WriteBack,
    /// Writes are combined in buffers, reads uncached: framebuffers.
    WriteCombining,
    /// Every access goes to the device, in order: device registers.
    Uncached,
}

/// What a mapping allows besides reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// Stores are allowed.
    pub writable: bool,
    /// Instructions may be fetched (only `false` has an effect with NX).
    pub executable: bool,
}

impl Access {
    /// Read only: constants, the boot information.
    pub const READ: Access = Access {
        writable: false,
        executable: false,
    };
    /// Read and write: data, stacks, device memory.
    pub const READ_WRITE: Access = Access {
        writable: true,
        executable: false,
    };
    /// Read and execute: code.
    pub const READ_EXECUTE: Access = Access {
        writable: false,
        executable: true,
    };
}

/// Why a mapping change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    /// An address or size is not a multiple of the page size.
    Misaligned { address: u64 },
    /// The page is mapped already.
    AlreadyMapped { virt: u64 },
    /// The page is not mapped.
    NotMapped { virt: u64 },
    /// The page lies inside a larger page, which cannot be split.
    InsideLargePage { virt: u64 },
    /// No frame was left for a new page table.
    OutOfFrames,
}

impl core::fmt::Display for MapError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            MapError::Misaligned { address } => write!(f, "{address:#x} is not page-aligned"),
            MapError::AlreadyMapped { virt } => write!(f, "{virt:#x} is mapped already"),
            MapError::NotMapped { virt } => write!(f, "{virt:#x} is not mapped"),
            MapError::InsideLargePage { virt } => {
                write!(f, "{virt:#x} lies inside a larger page")
            }
            MapError::OutOfFrames => write!(f, "no frame left for a page table"),
        }
    }
}

/// Where page tables get their frames: 4 KiB-aligned physical addresses
/// reachable at `address + offset` (see [`PageTables`]).
pub trait FrameSource {
    /// A free frame (any contents: the mapper zeroes new tables), or `None`.
    fn allocate_frame(&mut self) -> Option<u64>;
}

/// The x86_64 crate's frame allocator trait over a [`FrameSource`].
struct Frames<'a>(&'a mut dyn FrameSource);

// SAFETY: a FrameSource hands out each free frame once (its contract), so
// the frames returned are unused.
unsafe impl FrameAllocator<Size4KiB> for Frames<'_> {
    fn allocate_frame(&mut self) -> Option<PhysFrame<Size4KiB>> {
        let address = self.0.allocate_frame()?;
        PhysFrame::from_start_address(PhysAddr::new(address)).ok()
    }
}

/// Turns on no-execute pages (EFER.NXE) if the CPU has them; returns
/// whether it did. Call before loading tables that use the NX bit.
pub fn enable_nx(available: bool) -> bool {
    if available {
        // SAFETY: setting NXE only gives meaning to bit 63 of page entries,
        // which no live table sets yet; the CPU supports it (checked).
        unsafe { Efer::update(|flags| flags.insert(EferFlags::NO_EXECUTE_ENABLE)) };
        NX_ENABLED.store(true, Ordering::SeqCst);
    }
    available
}

/// Loads the kernel's PAT (write-combining at entry 1) if the CPU has one;
/// returns whether it did. Call before loading tables that use it.
pub fn init_pat(available: bool) -> bool {
    if available {
        // SAFETY: the boot tables set PWT only together with PCD (device
        // memory mapped before the kernel's tables: entry 3, uncached, which
        // KERNEL_PAT keeps), so entry 1's new type changes no live mapping;
        // the register exists (checked).
        unsafe { Msr::new(IA32_PAT).write(KERNEL_PAT) };
        PAT_ENABLED.store(true, Ordering::SeqCst);
    }
    available
}

/// Whether no-execute pages are on.
pub fn nx_enabled() -> bool {
    NX_ENABLED.load(Ordering::SeqCst)
}

/// Whether write-combining is available through the PAT.
pub fn pat_enabled() -> bool {
    PAT_ENABLED.load(Ordering::SeqCst)
}

/// The entry flags for `access` and `cache`.
fn flags(access: Access, cache: CacheType) -> PageTableFlags {
    let mut flags = PageTableFlags::PRESENT | PageTableFlags::GLOBAL;
    if access.writable {
        flags |= PageTableFlags::WRITABLE;
    }
    if !access.executable && nx_enabled() {
        flags |= PageTableFlags::NO_EXECUTE;
    }
    match cache {
        CacheType::WriteBack => {}
        CacheType::WriteCombining if pat_enabled() => flags |= PageTableFlags::WRITE_THROUGH,
        CacheType::WriteCombining | CacheType::Uncached => {
            flags |= PageTableFlags::WRITE_THROUGH | PageTableFlags::NO_CACHE
        }
    }
    flags
}

/// A page-table hierarchy, its frames reached at `physical + offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageTables {
    /// Physical address of the top-level (P4) table.
    p4: u64,
    /// Added to a table's physical address to reach it.
    offset: u64,
}

/// Fails unless `value` is a multiple of the page size `S`.
fn aligned<S: PageSize>(value: u64) -> Result<(), MapError> {
    if value.is_multiple_of(S::SIZE) {
        Ok(())
    } else {
        Err(MapError::Misaligned { address: value })
    }
}

impl PageTables {
    /// A new, empty hierarchy in a frame from `frames`.
    ///
    /// # Safety
    /// Every frame `frames` returns must be reachable, writable, at
    /// `address + offset`.
    pub unsafe fn new(frames: &mut dyn FrameSource, offset: u64) -> Result<Self, MapError> {
        let p4 = frames.allocate_frame().ok_or(MapError::OutOfFrames)?;
        let tables = PageTables { p4, offset };
        // SAFETY: the frame is fresh (unused) and reachable at p4 + offset
        // (the caller's promise); an all-zero table maps nothing.
        unsafe { tables.p4_table().zero() };
        Ok(tables)
    }

    /// The hierarchy the CPU uses now, its tables reached at `+ offset`.
    ///
    /// # Safety
    /// Every table of the live hierarchy must be reachable at
    /// `address + offset`.
    pub unsafe fn active(offset: u64) -> Self {
        PageTables {
            p4: Cr3::read().0.start_address().as_u64(),
            offset,
        }
    }

    /// The top-level table.
    ///
    /// # Safety
    /// As for [`PageTables::new`]: the table is reachable at `p4 + offset`;
    /// the caller holds the only reference to the hierarchy for the result's
    /// lifetime.
    #[allow(clippy::mut_from_ref)]
    unsafe fn p4_table(&self) -> &mut PageTable {
        // SAFETY: forwarded from the caller.
        unsafe { &mut *((self.p4 + self.offset) as *mut PageTable) }
    }

    /// The x86_64 crate's mapper over this hierarchy.
    fn mapper(&mut self) -> OffsetPageTable<'_> {
        // SAFETY: `PageTables` are only made through `new` and `active`,
        // whose callers promised every table is reachable at + offset;
        // `&mut self` makes this the only mapper of the hierarchy.
        unsafe { OffsetPageTable::new(self.p4_table(), VirtAddr::new(self.offset)) }
    }

    /// Maps `size` bytes from `virt` to `phys` in pages of `page_size`
    /// bytes (4 KiB, 2 MiB or 1 GiB: the direct map uses the largest that
    /// fit) with `access` and `cache`. Fails, having mapped a prefix, on the
    /// first page that is mapped already.
    #[allow(clippy::too_many_arguments)]
    pub fn map(
        &mut self,
        virt: u64,
        phys: u64,
        size: u64,
        page_size: u64,
        access: Access,
        cache: CacheType,
        frames: &mut dyn FrameSource,
    ) -> Result<(), MapError> {
        let flags = flags(access, cache);
        match page_size {
            Size1GiB::SIZE => self.map_pages::<Size1GiB>(virt, phys, size, flags, frames),
            Size2MiB::SIZE => self.map_pages::<Size2MiB>(virt, phys, size, flags, frames),
            Size4KiB::SIZE => self.map_pages::<Size4KiB>(virt, phys, size, flags, frames),
            _ => Err(MapError::Misaligned { address: page_size }),
        }
    }

    /// [`PageTables::map`] for one page size.
    fn map_pages<S: PageSize>(
        &mut self,
        virt: u64,
        phys: u64,
        size: u64,
        flags: PageTableFlags,
        frames: &mut dyn FrameSource,
    ) -> Result<(), MapError>
    where
        for<'a> OffsetPageTable<'a>: Mapper<S>,
    {
        aligned::<S>(virt)?;
        aligned::<S>(phys)?;
        aligned::<S>(size)?;
        let flags = if S::SIZE == Size4KiB::SIZE {
            flags
        } else {
            flags | PageTableFlags::HUGE_PAGE
        };
        let mut mapper = self.mapper();
        let mut allocator = Frames(frames);
        for offset in (0..size).step_by(S::SIZE as usize) {
            let page =
                Page::<S>::from_start_address(VirtAddr::new(virt + offset)).map_err(|_| {
                    MapError::Misaligned {
                        address: virt + offset,
                    }
                })?;
            let frame =
                PhysFrame::<S>::from_start_address(PhysAddr::new(phys + offset)).map_err(|_| {
                    MapError::Misaligned {
                        address: phys + offset,
                    }
                })?;
            // SAFETY: mapping a page changes no existing mapping (an
            // occupied one is an error), so no live reference is affected;
            // the frame's contents are the caller's business.
            let result = unsafe { mapper.map_to(page, frame, flags, &mut allocator) };
            match result {
                // No `invlpg`: the page was not present, and the CPU caches
                // no translation (TLB or paging-structure cache) made from
                // an entry whose P flag is 0, so nothing stale can remain
                // (Intel SDM vol. 3A, 4.10.4.3). Under QEMU's TCG, with
                // 2 MiB pages in use, each `invlpg` flushed its whole TLB:
                // about 8 ms over the boot's thousand-odd mappings.
                Ok(flush) => flush.ignore(),
                Err(MapToError::FrameAllocationFailed) => return Err(MapError::OutOfFrames),
                Err(MapToError::ParentEntryHugePage) => {
                    return Err(MapError::InsideLargePage {
                        virt: virt + offset,
                    });
                }
                Err(MapToError::PageAlreadyMapped(_)) => {
                    return Err(MapError::AlreadyMapped {
                        virt: virt + offset,
                    });
                }
            }
        }
        Ok(())
    }

    /// Unmaps `size` bytes of 4 KiB pages from `virt`, returning nothing
    /// about the frames (the caller knows them). Fails on the first page
    /// that is not mapped. Flushes no TLB: the caller shoots the range down
    /// on every CPU, this one included (`tlb::shootdown`), once, after.
    pub fn unmap(&mut self, virt: u64, size: u64) -> Result<(), MapError> {
        aligned::<Size4KiB>(virt)?;
        aligned::<Size4KiB>(size)?;
        let mut mapper = self.mapper();
        for offset in (0..size).step_by(Size4KiB::SIZE as usize) {
            let at = virt + offset;
            let page = Page::<Size4KiB>::from_start_address(VirtAddr::new(at))
                .map_err(|_| MapError::Misaligned { address: at })?;
            match mapper.unmap(page) {
                Ok((_, flush)) => flush.ignore(),
                Err(UnmapError::ParentEntryHugePage) => {
                    return Err(MapError::InsideLargePage { virt: at });
                }
                Err(UnmapError::PageNotMapped | UnmapError::InvalidFrameAddress(_)) => {
                    return Err(MapError::NotMapped { virt: at });
                }
            }
        }
        Ok(())
    }

    /// The physical address `virt` maps to, and whether the page is
    /// writable and executable; `None` when unmapped.
    pub fn translate(&mut self, virt: u64) -> Option<(u64, Access)> {
        let virt = VirtAddr::try_new(virt).ok()?;
        match self.mapper().translate(virt) {
            TranslateResult::Mapped {
                frame,
                offset,
                flags,
            } => Some((
                frame.start_address().as_u64() + offset,
                Access {
                    writable: flags.contains(PageTableFlags::WRITABLE),
                    executable: !flags.contains(PageTableFlags::NO_EXECUTE),
                },
            )),
            TranslateResult::NotMapped | TranslateResult::InvalidFrameAddress(_) => None,
        }
    }

    /// Takes the hierarchy the CPU uses now as the live one, its tables
    /// reached at `+ offset` from here on (for [`translate`] too).
    ///
    /// # Safety
    /// As for [`PageTables::active`], for as long as these tables are live.
    pub unsafe fn adopt_active(offset: u64) -> Self {
        LIVE_TABLE_OFFSET.store(offset, Ordering::SeqCst);
        // SAFETY: forwarded from the caller.
        unsafe { PageTables::active(offset) }
    }

    /// Removes every mapping of the lower half (P4 entries 0–255), then
    /// flushes the TLB. The tables below those entries are not freed: they
    /// are the caller's (the boot tables' lie in the kernel's .bss).
    pub fn clear_lower_half(&mut self) {
        // SAFETY: the hierarchy's creator promised its tables are reachable
        // at + offset, and `&mut self` is the only reference to it.
        let p4 = unsafe { self.p4_table() };
        for entry in p4.iter_mut().take(UPPER_HALF_FIRST_ENTRY) {
            entry.set_unused();
        }
        x86_64::instructions::tlb::flush_all();
    }

    /// The table an entry points to.
    ///
    /// # Safety
    /// As for [`PageTables::p4_table`]; `entry` is present and not a large
    /// page, so it points to a table of this hierarchy.
    #[allow(clippy::mut_from_ref)]
    unsafe fn next_table(&self, entry: &PageTableEntry) -> &mut PageTable {
        // SAFETY: forwarded from the caller.
        unsafe { &mut *((entry.addr().as_u64() + self.offset) as *mut PageTable) }
    }

    /// Points the 4 KiB page at `virt`, which must be mapped, at `phys`
    /// instead, keeping its rights: one write of its entry, so another CPU
    /// walking the tables meanwhile sees the old frame or the new, never a
    /// hole. Flushes no TLB: every CPU, this one included, may keep the old
    /// frame until the caller's shootdown. Returns the old frame.
    pub fn remap(&mut self, virt: u64, phys: u64) -> Result<u64, MapError> {
        aligned::<Size4KiB>(virt)?;
        aligned::<Size4KiB>(phys)?;
        let entry = self.leaf(virt)?;
        if entry.is_unused() {
            return Err(MapError::NotMapped { virt });
        }
        let old = entry.addr().as_u64();
        let new = phys | entry.flags().bits();
        // SAFETY: the entry is this hierarchy's, a u64 in a table the
        // caller owns; one volatile store changes it at once.
        unsafe { core::ptr::write_volatile(core::ptr::from_mut(entry).cast::<u64>(), new) };
        Ok(old)
    }

    /// Removes the lower half's mappings and gives every table frame below
    /// its P4 entries to `free` (the start page's identity map, once the
    /// CPUs have started; later, a process's tables). 4 KiB pages only:
    /// the data frames are the caller's. Flushes this CPU's TLB; the caller
    /// flushes the others' before it reuses the frames.
    pub fn drop_lower_half(&mut self, free: &mut dyn FnMut(u64)) {
        self.release_lower_half(false, free);
        x86_64::instructions::tlb::flush_all();
    }

    /// Empties the lower half's P4 entries, giving `free` every table frame
    /// below them and, with `pages`, every mapped page's frame too (large
    /// pages' included).
    fn release_lower_half(&mut self, pages: bool, free: &mut dyn FnMut(u64)) {
        // SAFETY: as in `clear_lower_half`.
        let p4 = unsafe { self.p4_table() };
        for p4_entry in p4.iter_mut().take(UPPER_HALF_FIRST_ENTRY) {
            if !p4_entry.is_unused() {
                // SAFETY: a present P4 entry points to a table of this
                // hierarchy.
                self.release_table(unsafe { self.next_table(p4_entry) }, 3, pages, free);
                free(p4_entry.addr().as_u64());
                p4_entry.set_unused();
            }
        }
    }

    /// Gives `free` the frames below `table`, a table at `level` (3: a P3,
    /// 1: a P1): its tables' and, with `pages`, its pages'.
    fn release_table(&self, table: &PageTable, level: u8, pages: bool, free: &mut dyn FnMut(u64)) {
        for entry in table.iter().filter(|entry| !entry.is_unused()) {
            if level == 1 || entry.flags().contains(PageTableFlags::HUGE_PAGE) {
                if pages {
                    free(entry.addr().as_u64());
                }
            } else {
                // SAFETY: a present entry above the last level that is not
                // a large page points to a table of this hierarchy.
                self.release_table(unsafe { self.next_table(entry) }, level - 1, pages, free);
                free(entry.addr().as_u64());
            }
        }
    }

    /// How many P4 entries of the lower half are in use: 0 once the
    /// kernel's tables are live, until programs get address spaces.
    pub fn lower_half_entries(&mut self) -> usize {
        // SAFETY: as in `clear_lower_half`; this only reads.
        let p4 = unsafe { self.p4_table() };
        p4.iter()
            .take(UPPER_HALF_FIRST_ENTRY)
            .filter(|entry| !entry.is_unused())
            .count()
    }

    /// Makes this hierarchy the CPU's (loads CR3, which flushes the TLB);
    /// from then on its tables are reached at `physical + offset`.
    ///
    /// # Safety
    /// The hierarchy must map everything the kernel touches from now on:
    /// the running code, its stack, its statics, every live reference; and
    /// every table frame, writable, at `physical + offset`.
    pub unsafe fn activate(&mut self, offset: u64) {
        let frame = PhysFrame::containing_address(PhysAddr::new(self.p4));
        // SAFETY: forwarded from the caller.
        unsafe { Cr3::write(frame, Cr3Flags::empty()) };
        self.offset = offset;
        LIVE_TABLE_OFFSET.store(offset, Ordering::SeqCst);
    }
}

/// What a program's page allows, as its entry says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserPage {
    /// The frame behind it.
    pub frame: u64,
    /// Ring 3 may touch it (clear: mapped, but reserved, as `PROT_NONE`).
    pub user: bool,
    /// Stores are allowed.
    pub writable: bool,
    /// Instructions may be fetched.
    pub executable: bool,
}

/// The entry flags of a program's page: present, user unless `user` is
/// false (a `PROT_NONE` page keeps its frame but ring 3 cannot touch it),
/// never global (each address space has its own lower half).
fn user_flags(access: Access, user: bool) -> PageTableFlags {
    let mut flags = PageTableFlags::PRESENT;
    if user {
        flags |= PageTableFlags::USER_ACCESSIBLE;
    }
    if access.writable {
        flags |= PageTableFlags::WRITABLE;
    }
    if !access.executable && nx_enabled() {
        flags |= PageTableFlags::NO_EXECUTE;
    }
    flags
}

impl PageTables {
    /// Gives every P4 entry of the upper half a table (empty ones from
    /// `frames`), so that the kernel half never gains a P4 entry later:
    /// each address space copies the upper half's entries once
    /// ([`PageTables::new_user`]), and every later kernel mapping lands in
    /// tables they all share.
    pub fn fill_upper_half(&mut self, frames: &mut dyn FrameSource) -> Result<(), MapError> {
        // SAFETY: as in `clear_lower_half`.
        let p4 = unsafe { self.p4_table() };
        for entry in p4.iter_mut().skip(UPPER_HALF_FIRST_ENTRY) {
            if !entry.is_unused() {
                continue;
            }
            let frame = frames.allocate_frame().ok_or(MapError::OutOfFrames)?;
            // SAFETY: the frame is fresh and reachable at + offset (the
            // FrameSource's contract); zeroed, it is an empty table.
            unsafe { (&mut *((frame + self.offset) as *mut PageTable)).zero() };
            entry.set_addr(
                PhysAddr::new(frame),
                PageTableFlags::PRESENT | PageTableFlags::WRITABLE,
            );
        }
        Ok(())
    }

    /// A program's hierarchy: an empty lower half, and the upper half of
    /// `kernel` (the same tables: the kernel is mapped alike in every
    /// address space).
    pub fn new_user(kernel: &PageTables, frames: &mut dyn FrameSource) -> Result<Self, MapError> {
        // SAFETY: `kernel`'s offset is where its frames, and the frames
        // `frames` gives (the caller's FrameSource has the same contract),
        // are reachable.
        let p4 = frames.allocate_frame().ok_or(MapError::OutOfFrames)?;
        super::zero_frame(p4 + kernel.offset);
        let tables = PageTables {
            p4,
            offset: kernel.offset,
        };
        // SAFETY: both top-level tables are reachable; the new one is ours
        // alone and the kernel's is only read.
        let (new, old) = unsafe { (tables.p4_table(), kernel.p4_table()) };
        for index in UPPER_HALF_FIRST_ENTRY..512 {
            new[index] = old[index].clone();
        }
        Ok(tables)
    }

    /// The physical address of the top-level table (what CR3 holds).
    pub fn root(&self) -> u64 {
        self.p4
    }

    /// Maps the 4 KiB page at `virt` (lower half) to frame `phys` for a
    /// program, with `access`; `user` false reserves it (see [`UserPage`]).
    /// The tables on the way are made as needed (user and writable: the
    /// page's own entry decides), from `frames`, zeroed with `rep stosq`:
    /// the `x86_64` crate's mapper builds each new table on the stack and
    /// copies it, about 100,000 cycles a table under TCG.
    pub fn map_user(
        &mut self,
        virt: u64,
        phys: u64,
        access: Access,
        user: bool,
        frames: &mut dyn FrameSource,
    ) -> Result<(), MapError> {
        if !virt.is_multiple_of(Size4KiB::SIZE) || !phys.is_multiple_of(Size4KiB::SIZE) {
            return Err(MapError::Misaligned {
                address: virt | phys,
            });
        }
        let address =
            VirtAddr::try_new(virt).map_err(|_| MapError::Misaligned { address: virt })?;
        let parents =
            PageTableFlags::PRESENT | PageTableFlags::WRITABLE | PageTableFlags::USER_ACCESSIBLE;
        // SAFETY: as in `clear_lower_half`.
        let mut table = unsafe { self.p4_table() };
        for index in [address.p4_index(), address.p3_index(), address.p2_index()] {
            let entry = &mut table[index];
            if entry.is_unused() {
                let frame = frames.allocate_frame().ok_or(MapError::OutOfFrames)?;
                super::zero_frame(frame + self.offset);
                entry.set_addr(PhysAddr::new(frame), parents);
            } else if entry.flags().contains(PageTableFlags::HUGE_PAGE) {
                return Err(MapError::InsideLargePage { virt });
            }
            // SAFETY: a present entry above the last level that is not a
            // large page points to a table of this hierarchy (just made, or
            // made by this function before: programs' tables only).
            table = unsafe { self.next_table(entry) };
        }
        let entry = &mut table[address.p1_index()];
        if !entry.is_unused() {
            return Err(MapError::AlreadyMapped { virt });
        }
        // Not present before: nothing to flush (see `map_pages`).
        entry.set_addr(PhysAddr::new(phys), user_flags(access, user));
        Ok(())
    }

    /// The last-level entry of the 4 KiB page at `virt` (present or not):
    /// `NotMapped` when a table on the way is missing, `InsideLargePage`
    /// when a large page covers it.
    fn leaf(&mut self, virt: u64) -> Result<&mut PageTableEntry, MapError> {
        let address =
            VirtAddr::try_new(virt).map_err(|_| MapError::Misaligned { address: virt })?;
        // SAFETY: as in `clear_lower_half`.
        let mut table = unsafe { self.p4_table() };
        for index in [address.p4_index(), address.p3_index(), address.p2_index()] {
            let entry = &table[index];
            if entry.is_unused() {
                return Err(MapError::NotMapped { virt });
            }
            if entry.flags().contains(PageTableFlags::HUGE_PAGE) {
                return Err(MapError::InsideLargePage { virt });
            }
            // SAFETY: a present entry above the last level that is not a
            // large page points to a table of this hierarchy.
            table = unsafe { self.next_table(entry) };
        }
        Ok(&mut table[address.p1_index()])
    }

    /// A program's page at `virt`, or `None` when nothing is mapped there.
    pub fn user_page(&mut self, virt: u64) -> Option<UserPage> {
        let entry = self.leaf(virt).ok()?;
        let flags = entry.flags();
        flags.contains(PageTableFlags::PRESENT).then(|| UserPage {
            frame: entry.addr().as_u64(),
            user: flags.contains(PageTableFlags::USER_ACCESSIBLE),
            writable: flags.contains(PageTableFlags::WRITABLE),
            executable: !flags.contains(PageTableFlags::NO_EXECUTE),
        })
    }

    /// Changes the rights of a program's mapped page at `virt` in one
    /// write of its entry; no TLB flush (the caller's). Fails when it is
    /// not mapped.
    pub fn protect_user(&mut self, virt: u64, access: Access, user: bool) -> Result<(), MapError> {
        let entry = self
            .leaf(virt)
            .ok()
            .filter(|entry| entry.flags().contains(PageTableFlags::PRESENT))
            .ok_or(MapError::NotMapped { virt })?;
        let frame = entry.addr();
        entry.set_addr(frame, user_flags(access, user));
        Ok(())
    }

    /// Removes a program's page at `virt`; returns its frame, which the
    /// caller frees once no TLB holds it. No TLB flush.
    pub fn unmap_user(&mut self, virt: u64) -> Option<u64> {
        let entry = self
            .leaf(virt)
            .ok()
            .filter(|entry| entry.flags().contains(PageTableFlags::PRESENT))?;
        let frame = entry.addr().as_u64();
        entry.set_unused();
        Some(frame)
    }

    /// Gives every frame of the lower half to `free`: the pages' frames
    /// and the tables' (then the top-level table is the caller's to free).
    /// Only for a hierarchy no CPU has loaded.
    pub fn free_lower_half(&mut self, free: &mut dyn FnMut(u64)) {
        self.release_lower_half(true, free);
    }
}

/// The kernel's own hierarchy's root (CR3), once its tables are live.
static KERNEL_ROOT: AtomicU64 = AtomicU64::new(0);

/// The root each CPU has loaded, by CPU number (0: the kernel's, or not
/// recorded yet).
static LOADED_ROOT: [AtomicU64; super::smp::MAX_CPUS] =
    [const { AtomicU64::new(0) }; super::smp::MAX_CPUS];

/// Records the kernel's root (memory, once its tables are live).
pub fn set_kernel_root(root: u64) {
    KERNEL_ROOT.store(root, Ordering::SeqCst);
}

/// The kernel's root: what kernel threads run on.
pub fn kernel_root() -> u64 {
    KERNEL_ROOT.load(Ordering::Relaxed)
}

/// Loads the hierarchy at `root` on this CPU (a write to CR3, which
/// flushes the TLB's non-global entries), unless it is loaded already.
///
/// # Safety
/// `root` is the kernel's hierarchy or a program's made by
/// [`PageTables::new_user`], which maps the kernel alike.
pub unsafe fn switch_root(root: u64) {
    let (frame, _) = Cr3::read();
    if frame.start_address().as_u64() == root {
        return;
    }
    LOADED_ROOT[super::percpu::cpu()].store(root, Ordering::SeqCst);
    // SAFETY: the caller's promise: the kernel half is the same.
    unsafe {
        Cr3::write(
            PhysFrame::containing_address(PhysAddr::new(root)),
            Cr3Flags::empty(),
        )
    };
}

/// Loads the kernel's hierarchy if this CPU has the one at `root` loaded
/// (`tlb::RELEASE_ROOT`).
pub fn release_root(root: u64) {
    if Cr3::read().0.start_address().as_u64() == root {
        // SAFETY: the kernel's own tables map everything the kernel uses.
        unsafe { switch_root(kernel_root()) };
    }
}

/// The CPUs (a bit each) that have the hierarchy at `root` loaded: those
/// whose TLBs may hold its pages.
pub fn cpus_with_root(root: u64) -> u64 {
    let mut cpus = 0;
    for cpu in super::smp::cpus_in(super::smp::online()) {
        if LOADED_ROOT[cpu].load(Ordering::SeqCst) == root {
            cpus |= 1 << cpu;
        }
    }
    cpus
}

/// How many P4 entries of the lower half the live tables use.
pub fn lower_half_entries() -> usize {
    // SAFETY: as in `translate`; counting only reads the top-level table.
    let mut tables = unsafe { PageTables::active(LIVE_TABLE_OFFSET.load(Ordering::SeqCst)) };
    tables.lower_half_entries()
}

/// Translates a virtual address through the live page tables, or `None`
/// when it is not mapped.
pub fn translate(addr: u64) -> Option<u64> {
    // SAFETY: LIVE_TABLE_OFFSET is where the live tables are reachable (set
    // by `adopt_active` or `activate`); translating only reads them.
    let mut tables = unsafe { PageTables::active(LIVE_TABLE_OFFSET.load(Ordering::SeqCst)) };
    tables.translate(addr).map(|(phys, _)| phys)
}

/// Whether `addr` is mapped writable, executable: (writable, executable),
/// or `None` when unmapped. For tests of the page rights.
pub fn access_of(addr: u64) -> Option<Access> {
    // SAFETY: as in `translate`.
    let mut tables = unsafe { PageTables::active(LIVE_TABLE_OFFSET.load(Ordering::SeqCst)) };
    tables.translate(addr).map(|(_, access)| access)
}

/// In-kernel tests of the page tables.
pub(crate) mod ktests {
    use crate::selftest::{Context, Outcome};
    use crate::{check, check_eq};

    /// Page 0 is unmapped, so null pointer dereferences fault; the code
    /// running this is mapped.
    fn page_zero_is_unmapped(_: &Context) -> Outcome {
        check_eq!(crate::arch::translate(0), None);
        check_eq!(crate::arch::translate(0xfff), None);
        let here = page_zero_is_unmapped as *const () as u64;
        check!(
            crate::arch::translate(here).is_some(),
            "the running code at {here:#x} is not mapped"
        );
        Ok(())
    }

    pub(crate) const TESTS: &[crate::selftest::Test] = crate::kernel_tests![page_zero_is_unmapped];
}

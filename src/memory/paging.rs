//! The kernel's own page tables, and the mapping API the rest of the kernel
//! uses: [`map`], [`unmap`], [`translate`] and [`map_device`], each taking
//! its page-table frames from the frame allocator.
//!
//! The boot tables (asm/boot.asm) map the image at [`KERNEL_VIRT_BASE`] +
//! physical, the first 4 GiB in the direct map at [`DIRECT_MAP_OFFSET`] +
//! physical, and the first 4 GiB identity, for the jump into long mode;
//! all writable and executable. [`leave_lower_half`], first thing after
//! the CPU's tables are loaded, removes that identity map: from then on
//! nothing of the kernel is in the lower half, which belongs to programs.
//!
//! [`init`] replaces the boot tables with tables built here:
//!
//! - the kernel image per section at its high address with the rights it
//!   needs (W^X): `.text` read + execute, `.rodata` read-only, `.data` and
//!   `.bss` read + write; no page is both writable and executable (with NX;
//!   a CPU without it gets one warning). The 32-bit boot code and the
//!   Multiboot2 header, which ran at their load address, are not mapped;
//! - the guard page below every stack left unmapped;
//! - all RAM in the direct map at [`DIRECT_MAP_OFFSET`], read + write,
//!   no-execute, write-back, in the largest pages that fit
//!   ([`super::layout::plan_direct_map`]), and the boot information there
//!   too, wherever GRUB put it;
//! - device memory in the direct-map window: the VGA text memory
//!   (uncached), and what was mapped before (below), at the same virtual
//!   addresses;
//! - nothing in the lower half: P4 entries 0–255 stay empty, page 0 too.
//!
//! While the tables are built, their frames are reached through the boot
//! tables' direct map, so they come from below 4 GiB.
//!
//! [`map_device`] works before [`init`] too, because the console draws on
//! the framebuffer from the first line, long before these tables exist, and
//! a framebuffer may lie above 4 GiB, where the boot tables do not reach.
//! Before `init` it maps the device into the boot tables at the address it
//! will keep (its place in the direct-map window; below 4 GiB the boot
//! tables' direct map has it already, write-back, which the firmware's
//! MTRRs make uncached or write-combining for device memory), uncached
//! (write-combining needs the PAT entry `init` sets up), with page tables
//! from a small pool in .bss, and records it; `init` maps every recorded device again, at the
//! same address with the cache type asked for, in the tables it builds. So a
//! pointer to device memory stays valid across the switch, and the kernel's
//! tables get no identity mapping for it.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicUsize, Ordering};

use multiboot2::MemoryArea;
use spin::Mutex;

use super::layout::{
    Chunk, DIRECT_MAP_OFFSET, KERNEL_VIRT_BASE, PagingSummary as Summary, loaded_at,
    plan_device_map, plan_direct_map,
};
use super::range::PhysRange;
use super::{PAGE_SIZE, frame_cache, with_frames};
use crate::arch::{self, Access, BOOT_MAPPED_END, CacheType, FrameSource, MapError, PageTables};

unsafe extern "C" {
    /// Bounds of .text (linker.ld, page-aligned).
    pub(crate) static __text_start: u8;
    pub(crate) static __text_end: u8;
    /// Bounds of .rodata (linker.ld, page-aligned).
    pub(crate) static __rodata_start: u8;
    pub(crate) static __rodata_end: u8;
    /// Start of .data; .bss follows it up to `__kernel_end` (linker.ld).
    pub(crate) static __data_start: u8;
    pub(crate) static __kernel_end: u8;
    /// KERNEL_VIRT_BASE as linker.ld defines it (an absolute symbol: its
    /// address is the value).
    pub(crate) static __kernel_virt_base: u8;
}

/// The VGA text memory: 32 KiB from 0xb8000.
pub(crate) const VGA_TEXT: PhysRange = PhysRange::new(0xb_8000, 0xc_0000);

/// The kernel's tables, once live.
static TABLES: Mutex<Option<PageTables>> = Mutex::new(None);

/// The virtual address at which the kernel reads physical address `phys`:
/// its place in the direct map (under the boot tables, for the first 4
/// GiB; under the kernel's, for all RAM and the devices mapped there).
pub fn phys_to_virt(phys: u64) -> u64 {
    DIRECT_MAP_OFFSET + phys
}

/// Takes the boot tables as the live ones, reached through their direct
/// map, and removes their identity map of the first 4 GiB, which only the
/// jump into long mode needed: from here on every address the kernel uses
/// is in the upper half, and one that is not faults. Call once, right after
/// the CPU's own descriptor tables are loaded (the boot GDT lies low).
pub fn leave_lower_half() {
    // SAFETY: asm/boot.asm maps the first 4 GiB at DIRECT_MAP_OFFSET, and
    // every boot table lies in the kernel's .bss, loaded below 4 GiB, so
    // each is reachable, writable, at DIRECT_MAP_OFFSET + its address.
    // Nothing refers to the identity map any more: the code, the stack and
    // the statics run at their high addresses, and the GDT and IDT in use
    // are the kernel's (arch::init).
    let mut tables = unsafe { PageTables::adopt_active(DIRECT_MAP_OFFSET) };
    tables.clear_lower_half();
}

/// Device memory [`map_device`] mapped before [`init`]: `init` maps it again
/// in the kernel's tables.
#[derive(Debug, Clone, Copy)]
struct EarlyDevice {
    /// First byte (page-aligned).
    phys: u64,
    /// Bytes (whole pages).
    size: u64,
    /// What the caller asked for.
    cache: CacheType,
}

/// How many devices may be mapped before [`init`] (the framebuffer is one).
const EARLY_DEVICES: usize = 4;

/// The devices mapped before [`init`].
static EARLY_DEVICE_MAPPINGS: Mutex<[Option<EarlyDevice>; EARLY_DEVICES]> =
    Mutex::new([None; EARLY_DEVICES]);

/// Page-table frames for the boot tables' device mappings: with 2 MiB pages
/// a device needs at most a third-level table, a directory per GiB it
/// spans, and two tables for its unaligned ends.
const EARLY_TABLE_FRAMES: usize = 8;

/// The pool those frames come from: page-aligned, in .bss (so loaded below
/// 4 GiB, in the boot tables' direct map, and never handed out by the frame
/// allocator).
#[repr(C, align(4096))]
struct EarlyTableFrames(UnsafeCell<[[u8; PAGE_SIZE as usize]; EARLY_TABLE_FRAMES]>);

// SAFETY: the pool is only ever written through the page-table frames
// `EarlyFrames` hands out, each once, by the mapper that owns it; nothing
// reads or writes it as a Rust object.
unsafe impl Sync for EarlyTableFrames {}

/// See [`EarlyTableFrames`].
static EARLY_TABLE_POOL: EarlyTableFrames = EarlyTableFrames(UnsafeCell::new(
    [[0; PAGE_SIZE as usize]; EARLY_TABLE_FRAMES],
));

/// Frames of [`EARLY_TABLE_POOL`] handed out so far.
static EARLY_TABLE_FRAMES_USED: AtomicUsize = AtomicUsize::new(0);

/// Page-table frames for the boot tables, from [`EARLY_TABLE_POOL`].
struct EarlyFrames;

impl FrameSource for EarlyFrames {
    fn allocate_frame(&mut self) -> Option<u64> {
        let index = EARLY_TABLE_FRAMES_USED
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                (used < EARLY_TABLE_FRAMES).then_some(used + 1)
            })
            .ok()?;
        // The pool is in the image: its physical address is where it loaded.
        Some(loaded_at(EARLY_TABLE_POOL.0.get() as u64) + index as u64 * PAGE_SIZE)
    }
}

/// Page-table frames while the boot tables are live: below 4 GiB, where
/// their direct map reaches them.
struct LowFrames;

impl FrameSource for LowFrames {
    fn allocate_frame(&mut self) -> Option<u64> {
        with_frames(|frames| frames.allocate_below(BOOT_MAPPED_END))
    }
}

/// Page-table frames once the direct map is live: any, through this CPU's
/// frame cache.
pub(super) struct AnyFrames;

impl FrameSource for AnyFrames {
    fn allocate_frame(&mut self) -> Option<u64> {
        frame_cache::allocate()
    }
}

/// A linker symbol's address.
macro_rules! symbol {
    ($name:ident) => {
        // Taking the address of a linker symbol reads nothing.
        &raw const $name as u64
    };
}
pub(crate) use symbol;

/// Why the kernel's tables could not be built: the kernel cannot run
/// without them, so the boot stops with this as its `boot error:`.
#[derive(Debug, Clone, Copy)]
pub struct PagingError {
    /// What was being mapped.
    pub what: &'static str,
    /// Why it could not be.
    pub error: MapError,
}

impl core::fmt::Display for PagingError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "paging: cannot map {}: {}", self.what, self.error)
    }
}

/// `error` while mapping `what`.
fn fail(what: &'static str, error: MapError) -> PagingError {
    PagingError { what, error }
}

/// Maps `chunk` at `virt` in pages of its page size; where a page is mapped
/// already (a device inside a RAM region of the direct map: its pages stay
/// write-back; RAM regions that overlap in the firmware's map), maps the
/// rest 4 KiB at a time around it. Returns the bytes it mapped: the whole
/// chunk (in its own page size) unless some of it was mapped already.
fn map_skipping_mapped(
    tables: &mut PageTables,
    what: &'static str,
    chunk: Chunk,
    virt: u64,
    cache: CacheType,
) -> Result<u64, PagingError> {
    let access = Access::READ_WRITE;
    let result = tables.map(
        virt,
        chunk.phys,
        chunk.size,
        chunk.page_size,
        access,
        cache,
        &mut LowFrames,
    );
    let mut mapped = chunk.size;
    match result {
        Ok(()) => {}
        Err(MapError::AlreadyMapped { .. } | MapError::InsideLargePage { .. }) => {
            mapped = 0;
            for offset in (0..chunk.size).step_by(PAGE_SIZE as usize) {
                let page = tables.map(
                    virt + offset,
                    chunk.phys + offset,
                    PAGE_SIZE,
                    PAGE_SIZE,
                    access,
                    cache,
                    &mut LowFrames,
                );
                match page {
                    Ok(()) => mapped += PAGE_SIZE,
                    Err(MapError::AlreadyMapped { .. } | MapError::InsideLargePage { .. }) => {}
                    Err(error) => return Err(fail(what, error)),
                }
            }
        }
        Err(error) => return Err(fail(what, error)),
    }
    Ok(mapped)
}

/// Maps `range` (page-rounded, in the largest pages that fit) at its place
/// in the direct-map window with `cache`, around what is mapped already.
fn map_in_window(
    tables: &mut PageTables,
    what: &'static str,
    range: PhysRange,
    cache: CacheType,
) -> Result<(), PagingError> {
    let mut result = Ok(());
    plan_device_map(range, |chunk| {
        if result.is_ok() {
            result =
                map_skipping_mapped(tables, what, chunk, DIRECT_MAP_OFFSET + chunk.phys, cache)
                    .map(|_| ());
        }
    });
    result
}

/// Maps the part of the kernel image from virtual `start` to `end` (page
/// aligned) at those addresses, each page to where it was loaded, with
/// `access`, page by page, skipping the pages in `skip` (guard pages).
fn map_image(
    tables: &mut PageTables,
    what: &'static str,
    start: u64,
    end: u64,
    access: Access,
    skip: &[u64],
) -> Result<(), PagingError> {
    let mut page = start - start % PAGE_SIZE;
    while page < end {
        if !skip.contains(&page) {
            match tables.map(
                page,
                loaded_at(page),
                PAGE_SIZE,
                PAGE_SIZE,
                access,
                CacheType::WriteBack,
                &mut LowFrames,
            ) {
                Ok(()) | Err(MapError::AlreadyMapped { .. }) => {}
                Err(error) => return Err(fail(what, error)),
            }
        }
        page += PAGE_SIZE;
    }
    Ok(())
}

/// Builds the kernel's page tables and switches to them. Call once, after
/// the frame allocator exists and before anything uses [`phys_to_virt`]
/// views made earlier.
///
/// `areas` is the memory map (the direct map covers its RAM) and
/// `boot_information` where GRUB's structure lies (mapped read-only where
/// it is). Fails when a mapping cannot be made (no frame for a table).
pub fn init(areas: &[MemoryArea], boot_information: PhysRange) -> Result<Summary, PagingError> {
    let features = arch::features();
    let nx = arch::enable_nx(features.nx);
    if !nx {
        log::warn!("this CPU has no NX bit: no-execute protection is off");
    }
    let pat = arch::init_pat(features.pat);
    // SAFETY: LowFrames hands out frames below 4 GiB, which the boot tables
    // map writable in their direct map, so each is reachable there.
    let mut tables = match unsafe { PageTables::new(&mut LowFrames, DIRECT_MAP_OFFSET) } {
        Ok(tables) => tables,
        Err(error) => return Err(fail("the top-level table", error)),
    };
    // The first mapping that failed, if any; the closures below record it.
    let mut failed = None;

    let guards = arch::stack_guard_pages();
    let sections = [
        (
            ".text",
            symbol!(__text_start),
            symbol!(__text_end),
            Access::READ_EXECUTE,
        ),
        (
            ".rodata",
            symbol!(__rodata_start),
            symbol!(__rodata_end),
            Access::READ,
        ),
        (
            ".data and .bss",
            symbol!(__data_start),
            symbol!(__kernel_end),
            Access::READ_WRITE,
        ),
    ];
    for (what, start, end, access) in sections {
        map_image(&mut tables, what, start, end, access, &guards)?;
    }
    let wb = CacheType::WriteBack;
    let mut summary = Summary {
        nx,
        pat,
        pages_1g: features.pages_1g,
        ..Summary::default()
    };
    plan_direct_map(areas, features.pages_1g, |chunk| {
        if failed.is_some() {
            return;
        }
        let virt = DIRECT_MAP_OFFSET + chunk.phys;
        // RAM regions that overlap in the firmware's map: what is covered
        // already is skipped, the rest mapped around it.
        let mapped = match map_skipping_mapped(&mut tables, "the direct map", chunk, virt, wb) {
            Ok(mapped) => mapped,
            Err(error) => {
                failed = Some(error);
                return;
            }
        };
        let page_size = if mapped == chunk.size {
            chunk.page_size
        } else {
            PAGE_SIZE
        };
        let index = match page_size {
            super::layout::SIZE_1G => 0,
            super::layout::SIZE_2M => 1,
            _ => 2,
        };
        summary.direct_map_bytes += mapped;
        summary.direct_map_pages[index] += mapped / page_size;
    });

    if let Some(error) = failed {
        return Err(error);
    }

    // The boot information, in the direct map wherever GRUB put it: in RAM
    // the direct map covers already, or in a region it does not.
    map_in_window(&mut tables, "the boot information", boot_information, wb)?;
    // The VGA text memory, uncached, where the console reaches it.
    map_in_window(
        &mut tables,
        "the VGA text memory",
        VGA_TEXT,
        CacheType::Uncached,
    )?;
    // Device memory mapped under the boot tables (the framebuffer), at the
    // same addresses, now with the cache type asked for.
    for device in EARLY_DEVICE_MAPPINGS.lock().iter().flatten() {
        let range = PhysRange::from_size(device.phys, device.size);
        map_in_window(&mut tables, "device memory", range, device.cache)?;
        log::debug!(
            "paging: device memory {range} carried over at {:#x}, {:?}",
            DIRECT_MAP_OFFSET + device.phys,
            device.cache
        );
    }

    // Every P4 entry of the upper half gets its table now, so programs'
    // address spaces, which copy those entries, see every later kernel
    // mapping (PageTables::fill_upper_half).
    if let Err(error) = tables.fill_upper_half(&mut LowFrames) {
        return Err(fail("the upper half's tables", error));
    }
    // SAFETY: the new tables map the running code (.text), the boot stack
    // and every static (.data/.bss, guard pages excepted) at the high
    // addresses they have now; the boot information, the frame bitmap (in
    // RAM), the VGA memory and the device memory mapped before (the
    // framebuffer) at their places in the direct map, where the kernel
    // reaches them now; every table frame is RAM below 4 GiB, so it is in
    // the direct map, writable, at DIRECT_MAP_OFFSET + its address.
    unsafe { tables.activate(DIRECT_MAP_OFFSET) };
    arch::set_kernel_root(tables.root());
    *TABLES.lock() = Some(tables);
    log::debug!(
        "paging: kernel tables live; image at {KERNEL_VIRT_BASE:#x} + physical, direct map of \
         {} KiB at {DIRECT_MAP_OFFSET:#x}, nothing in the lower half",
        summary.direct_map_bytes / 1024
    );
    Ok(summary)
}

/// Runs `f` on the kernel's tables. Panics before [`init`]: a bug in the
/// init order.
pub(super) fn with_tables<R>(f: impl FnOnce(&mut PageTables) -> R) -> R {
    arch::without_interrupts(|| {
        let mut tables = TABLES.lock();
        f(tables.as_mut().expect("memory::paging::init has not run"))
    })
}

/// Maps `size` bytes at `virt` to `phys` in 4 KiB pages.
pub fn map(
    virt: u64,
    phys: u64,
    size: u64,
    access: Access,
    cache: CacheType,
) -> Result<(), MapError> {
    with_tables(|tables| tables.map(virt, phys, size, PAGE_SIZE, access, cache, &mut AnyFrames))
}

/// Maps fresh frames from the frame allocator at `virt`, read + write,
/// no-execute, write-back, page by page, up to `size` bytes (whole pages);
/// returns how many bytes it mapped, fewer when frames ran out. The
/// frames are the caller's: [`unmap_and_free`] gives them back.
pub fn map_fresh(virt: u64, size: u64) -> u64 {
    let mut mapped = 0;
    while mapped < size {
        let Some(frame) = frame_cache::allocate() else {
            break;
        };
        let page = virt + mapped;
        if map(
            page,
            frame,
            PAGE_SIZE,
            Access::READ_WRITE,
            CacheType::WriteBack,
        )
        .is_err()
        {
            // A page-table frame was missing: give the data frame back.
            frame_cache::free(frame);
            break;
        }
        mapped += PAGE_SIZE;
    }
    mapped
}

/// Unmaps the pages from `virt` to `virt + size` that are mapped and gives
/// their frames back to the frame allocator (what [`map_fresh`] mapped),
/// after every CPU has dropped them from its TLB.
pub fn unmap_and_free(virt: u64, size: u64) {
    /// Pages unmapped, shot down and freed together.
    const BATCH: usize = 16;
    let end = virt + size;
    let mut page = virt;
    while page < end {
        let first = page;
        let mut frames = [0u64; BATCH];
        let mut count = 0;
        with_tables(|tables| {
            while page < end && count < BATCH {
                if let Some((frame, _)) = tables.translate(page) {
                    let _ = tables.unmap(page, PAGE_SIZE);
                    frames[count] = frame;
                    count += 1;
                }
                page += PAGE_SIZE;
            }
        });
        shootdown(first, page - first);
        for &frame in &frames[..count] {
            frame_cache::free(frame);
        }
    }
}

/// Unmaps `size` bytes of 4 KiB pages at `virt`, and returns once no CPU
/// holds them in its TLB; the frames behind them are the caller's to free.
pub fn unmap(virt: u64, size: u64) -> Result<(), MapError> {
    let result = with_tables(|tables| tables.unmap(virt, size));
    shootdown(virt, size);
    result
}

/// Points the mapped 4 KiB page at `virt` at frame `phys` instead (same
/// rights), and returns the old frame once no CPU can reach it through
/// `virt` any more.
pub fn remap(virt: u64, phys: u64) -> Result<u64, MapError> {
    let old = with_tables(|tables| tables.remap(virt, phys))?;
    shootdown(virt, PAGE_SIZE);
    Ok(old)
}

/// Drops `size` bytes from `virt` from every CPU's TLB (the kernel's
/// mappings may be cached anywhere).
fn shootdown(virt: u64, size: u64) {
    arch::tlb::shootdown(arch::smp::other_cpus(), virt, size.div_ceil(PAGE_SIZE));
}

/// Maps the AP start-up page at `phys` (below 1 MiB) at its own address,
/// read + execute, so that a CPU turning paging on inside it goes on
/// running there. The one mapping in the lower half, while the CPUs start.
pub fn map_start_page(phys: u64) -> Result<(), MapError> {
    map(
        phys,
        phys,
        PAGE_SIZE,
        Access::READ_EXECUTE,
        CacheType::WriteBack,
    )
}

/// Removes [`map_start_page`]'s mapping, from every CPU's TLB too, and the
/// page tables it needed: the lower half is empty again, for programs. The
/// table frames are freed only after every CPU flushed its whole TLB (and
/// with it any cached paging-structure entry that still leads to them).
pub fn unmap_start_page(phys: u64) {
    let _ = unmap(phys, PAGE_SIZE);
    let mut tables_freed = alloc::vec::Vec::new();
    with_tables(|tables| tables.drop_lower_half(&mut |frame| tables_freed.push(frame)));
    arch::tlb::shootdown(arch::smp::other_cpus(), 0, arch::tlb::EVERYTHING);
    for frame in tables_freed {
        frame_cache::free(frame);
    }
}

/// The physical address `virt` maps to, or `None`.
pub fn translate(virt: u64) -> Option<u64> {
    arch::translate(virt)
}

/// Maps device memory (not RAM: the direct map never covers it) at its
/// place in the direct-map window, read + write, no-execute, with `cache`;
/// returns the virtual address of `phys`. Mapping the same device twice is
/// an error ([`MapError::AlreadyMapped`]).
///
/// Before [`init`] it maps into the boot tables, uncached, and `init` maps
/// it again at the same address with `cache` (see the module
/// documentation); more than [`EARLY_DEVICES`] devices, or page tables
/// beyond the early pool, fail with [`MapError::OutOfFrames`].
pub fn map_device(phys: u64, size: u64, cache: CacheType) -> Result<u64, MapError> {
    let start = phys - phys % PAGE_SIZE;
    let end = (phys + size).next_multiple_of(PAGE_SIZE);
    let kernel_tables_live = arch::without_interrupts(|| TABLES.lock().is_some());
    if kernel_tables_live {
        map(
            DIRECT_MAP_OFFSET + start,
            start,
            end - start,
            Access::READ_WRITE,
            cache,
        )?;
    } else {
        arch::without_interrupts(|| map_device_early(start, end, cache))?;
    }
    Ok(DIRECT_MAP_OFFSET + phys)
}

/// [`map_device`] under the boot tables: the pages from `start` to `end`,
/// 2 MiB pages where they fit, and a record for [`init`].
fn map_device_early(start: u64, end: u64, cache: CacheType) -> Result<(), MapError> {
    let mut early = EARLY_DEVICE_MAPPINGS.lock();
    let Some(slot) = early.iter_mut().find(|slot| slot.is_none()) else {
        return Err(MapError::OutOfFrames);
    };
    let record = EarlyDevice {
        phys: start,
        size: end - start,
        cache,
    };
    if end <= BOOT_MAPPED_END {
        // In the boot tables' direct map already; `init` maps it with its
        // cache type.
        *slot = Some(record);
        return Ok(());
    }
    // SAFETY: the boot tables are live (the kernel's are not, checked by the
    // caller) and every one of their table frames is reachable in their
    // direct map: asm/boot.asm keeps them in .bss, loaded below 4 GiB, and
    // the frames EarlyFrames adds are in .bss too.
    let mut tables = unsafe { PageTables::active(DIRECT_MAP_OFFSET) };
    let mut result = Ok(());
    plan_device_map(PhysRange::new(start, end), |chunk| {
        if result.is_ok() {
            result = tables.map(
                DIRECT_MAP_OFFSET + chunk.phys,
                chunk.phys,
                chunk.size,
                chunk.page_size,
                Access::READ_WRITE,
                cache,
                &mut EarlyFrames,
            );
        }
    });
    result?;
    *slot = Some(record);
    Ok(())
}

//! The VGA text screen: the text memory at 0xb8000 and the one global writer
//! over it.
//!
//! The writer's logic (cells, wrapping, scrolling in hardware, writing only
//! what changed) is [`super::screen::Screen`]; this file only gives it the
//! hardware: volatile 16- and 64-bit writes into the 32 KiB text memory, and
//! the CRTC registers. The text memory is never read on the writer's path;
//! only the self-test reads it back, to check what a person sees.

use core::ptr::NonNull;

use core::sync::atomic::{AtomicUsize, Ordering};

use spin::{Mutex, MutexGuard};
use volatile::VolatilePtr;

use super::color::ScreenChar;
use super::crtc;
use super::grid::TextScreen;
use super::screen::{MEMORY_CELLS, Screen, Storage, TextMemory};

pub use super::screen::WIDTH;

/// Physical address of the colour text memory.
pub const VGA_TEXT_BUFFER: u64 = 0xb8000;

/// Where the kernel reaches the text memory: its place in the direct-map
/// window (the boot tables map it there, and so do the kernel's, uncached).
fn text_memory() -> *mut u16 {
    crate::memory::phys_to_virt(VGA_TEXT_BUFFER) as *mut u16
}

/// A volatile pointer to cell `index` of the text memory.
pub(super) fn cell_at(index: usize) -> VolatilePtr<'static, u16> {
    assert!(
        index < MEMORY_CELLS,
        "VGA cell {index} is outside the text memory"
    );
    let ptr = NonNull::new(text_memory().wrapping_add(index)).unwrap();
    // SAFETY: the index is inside the 32 KiB colour text memory at 0xb8000,
    // present on every PC booted in text mode and mapped in the direct-map
    // window by the boot page tables and the kernel's; volatile accesses to
    // device memory alias no Rust object.
    unsafe { VolatilePtr::new(ptr) }
}

/// Cells in one 64-bit write.
const CELLS_PER_WORD: usize = 4;

/// A volatile pointer to the four cells from `index` on, as one 64-bit word.
fn word_at(index: usize) -> VolatilePtr<'static, u64> {
    assert!(index.is_multiple_of(CELLS_PER_WORD) && index + CELLS_PER_WORD <= MEMORY_CELLS);
    let ptr = NonNull::new(text_memory().wrapping_add(index).cast::<u64>()).unwrap();
    // SAFETY: as in `cell_at`: the four cells lie inside the text memory;
    // the address is 8-byte aligned (0xb8000 is, and `index` is a multiple
    // of four 2-byte cells).
    unsafe { VolatilePtr::new(ptr) }
}

/// The VGA hardware as the writer's [`TextMemory`].
pub struct VgaText;

impl TextMemory for VgaText {
    fn write(&mut self, index: usize, cell: u16) {
        cell_at(index).write(cell);
    }

    /// Four cells per 64-bit access where the run is aligned and long
    /// enough, single cells elsewhere.
    fn write_run(&mut self, index: usize, cells: &[u16]) {
        let mut i = 0;
        while i < cells.len() {
            let at = index + i;
            if at.is_multiple_of(CELLS_PER_WORD) && cells.len() - i >= CELLS_PER_WORD {
                let word = cells[i..i + CELLS_PER_WORD]
                    .iter()
                    .rev()
                    .fold(0u64, |word, &cell| word << 16 | u64::from(cell));
                word_at(at).write(word);
                i += CELLS_PER_WORD;
            } else {
                cell_at(at).write(cells[i]);
                i += 1;
            }
        }
    }

    fn set_start(&mut self, start: usize, shown: Option<usize>) {
        crtc::set_start(start, shown);
    }

    fn set_cursor(&mut self, index: usize, _shown: Option<usize>) {
        // Moved at the next `flush_cursor`: each move is two port writes,
        // and a program writing a byte at a time would pay them per byte.
        PENDING_CURSOR.store(index, Ordering::Relaxed);
    }
}

/// No cursor move pending / the hardware's cursor not known.
const NO_CURSOR: usize = usize::MAX;
/// Where the cursor is to go at the next [`flush_cursor`].
static PENDING_CURSOR: AtomicUsize = AtomicUsize::new(NO_CURSOR);
/// Where the hardware's cursor is, as last written.
static SHOWN_CURSOR: AtomicUsize = AtomicUsize::new(NO_CURSOR);

/// Moves the hardware cursor to where the screen's cursor is, if it moved
/// since: the consoles' `flush` (before waiting for input, before halting).
pub fn flush_cursor() {
    let pending = PENDING_CURSOR.swap(NO_CURSOR, Ordering::Relaxed);
    if pending != NO_CURSOR {
        let shown = SHOWN_CURSOR.swap(pending, Ordering::Relaxed);
        crtc::set_cursor(pending, (shown != NO_CURSOR).then_some(shown));
    }
}

/// The writer's RAM: all zero bits, so in `.bss`; handed to the writer
/// once, when it is first used.
static STORAGE: Mutex<Storage> = Mutex::new(Storage::new());

/// The one screen writer, behind a lock shared by all code and handlers;
/// made on first use (`None`, a null reference, is zero bits too).
static WRITER: Mutex<Option<Screen<'static, VgaText>>> = Mutex::new(None);

/// Runs `f` on the writer with its lock held, making the writer on first
/// use: a screen printed to before [`init`] (a panic that early) works as
/// one printed to after it, only without the blanking.
fn with_writer<R>(f: impl FnOnce(&mut Screen<'static, VgaText>) -> R) -> R {
    // Interrupts off while the lock is held: neither a handler nor a
    // preempted holder can keep another printer spinning.
    crate::arch::without_interrupts(|| {
        let mut writer = WRITER.lock();
        // Made once, under WRITER's lock: the storage is free, and from now
        // on the writer's alone.
        let screen =
            writer.get_or_insert_with(|| Screen::new(VgaText, MutexGuard::leak(STORAGE.lock())));
        f(screen)
    })
}

/// Blanks the text memory, shows its start and the cursor top left.
pub fn init() {
    crtc::show_cursor();
    with_writer(|screen| screen.reset());
}

/// Runs `f` on the writer, as the consoles' [`TextScreen`].
pub fn with_screen<R>(f: impl FnOnce(&mut dyn TextScreen) -> R) -> R {
    with_writer(|screen| f(screen))
}

/// Writes formatted text at the cursor in the current colours, on the
/// screen only (the benchmark's shipped writer).
#[cfg(feature = "bench")]
pub fn print(args: core::fmt::Arguments) {
    with_writer(|screen| screen.print(args));
}

/// Where the writer keeps the visible screen (a cell index into the text
/// memory; the CRTC start register should say the same).
pub fn start() -> usize {
    with_writer(|screen| screen.start())
}

/// The cell a person sees at visible (`row`, `column`), read back from the
/// text memory at the hardware's start address. For self-tests only: the
/// writer itself never reads the text memory.
pub fn read_cell(row: usize, column: usize) -> ScreenChar {
    let index = (crtc::start() + row * WIDTH + column) % MEMORY_CELLS;
    ScreenChar::from_cell(cell_at(index).read())
}

/// The cell [`text_memory_present`] probes: the last of the text memory.
const PROBE_CELL: usize = MEMORY_CELLS - 1;

/// Two cells [`text_memory_present`] writes and reads back (character and
/// attribute bytes all different).
const PROBE_VALUES: [u16; 2] = [0x5a4b, 0xa5b4];

/// Whether the VGA text memory keeps what is written to it. A machine
/// without one (a UEFI PC: there 0xb8000 reads as 0xff) has no VGA text
/// screen, whatever the console chose. Probes one cell under the writer's
/// lock and puts its value back, so the writer's copy stays true.
pub fn text_memory_present() -> bool {
    let _guard = WRITER.lock();
    let cell = cell_at(PROBE_CELL);
    let old = cell.read();
    let present = PROBE_VALUES.iter().all(|&value| {
        cell.write(value);
        cell.read() == value
    });
    cell.write(old);
    present
}

/// Writes the whole text memory again from the writer's copy, after other
/// code (the benchmark's naive writer) wrote it directly.
#[cfg(feature = "bench")]
pub fn rewrite() {
    with_writer(|screen| screen.rewrite_memory());
}

/// Runs `f` while holding the writer's lock (to test the panic path).
pub fn with_lock_held<R>(f: impl FnOnce() -> R) -> R {
    let _guard = WRITER.lock();
    f()
}

/// Releases the lock regardless of who holds it, and repairs what a panic
/// inside the writer may have left half done (see [`Screen::repair`]).
///
/// # Safety
/// Only for the panic path: the holder must never run again.
pub unsafe fn force_unlock() {
    // SAFETY: forwarded from the caller.
    unsafe { WRITER.force_unlock() };
    with_writer(|screen| screen.repair());
}

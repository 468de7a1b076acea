//! The framebuffer console's hardware layer: the framebuffer mapped through
//! the mapping API (write-combining), the one global [`FbScreen`] over it,
//! and the RAM its grid lives in.
//!
//! The drawing logic is [`super::fbscreen`] and [`super::render`]; this file
//! only gives them memory. The framebuffer is mapped with
//! [`crate::memory::paging::map_device`] at its place in the direct-map
//! window, from the first line (before the kernel's page tables exist the
//! mapping API maps it into the boot tables and carries it over, so the
//! address never changes and a framebuffer above 4 GiB works too). Its
//! frames are in the reserved list (memory/reserved.rs), so the frame
//! allocator never hands them out.
//!
//! The grid and its bookkeeping live in a static buffer sized for the
//! largest grid the console makes ([`MAX_COLUMNS`] x [`MAX_ROWS`]): the
//! screen exists before the heap does.

use spin::{Mutex, MutexGuard};

use super::choice::{Layout, MAX_COLUMNS, MAX_ROWS};
use super::color::ScreenChar;
use super::fbscreen::{FbScreen, Pacing};
use super::font::BUILTIN;
use super::grid::{SCROLLBACK, TextScreen};
use super::render::{PixelTarget, Renderer};
use crate::arch::{CacheType, MapError};
use crate::memory::paging::map_device;

/// The shortest time between two draws after scrolls, in timestamp-counter
/// cycles: 2^24, 17 ms at 1 GHz, 6 ms at 3 GHz; about one frame of a 60 Hz
/// display or less, so a person sees every frame a display could show.
/// (A cycle count rather than a time: the counter's rate is not known
/// when the console starts.)
const FRAME_CYCLES: u64 = 1 << 24;

/// Cells in the largest grid.
const MAX_CELLS: usize = MAX_COLUMNS * MAX_ROWS;
/// Lines of the largest grid's ring: the screen and its scrollback.
const MAX_LINES: usize = MAX_ROWS + SCROLLBACK;

/// The mapped framebuffer, written through [`PixelTarget`]; it counts the
/// bytes written (for the benchmark). It is never read.
pub struct FramebufferMemory {
    /// Virtual address of the first byte.
    base: usize,
    /// Bytes: pitch x height.
    len: usize,
    /// Bytes written so far.
    pub written: u64,
}

impl FramebufferMemory {
    /// The framebuffer mapped at virtual address `base`, `len` bytes.
    pub fn new(base: usize, len: usize) -> Self {
        FramebufferMemory {
            base,
            len,
            written: 0,
        }
    }
}

impl PixelTarget for FramebufferMemory {
    #[optimize(speed)]
    fn write(&mut self, offset: usize, bytes: &[u8]) {
        assert!(
            offset
                .checked_add(bytes.len())
                .is_some_and(|end| end <= self.len),
            "framebuffer write of {} bytes at {offset} past its {} bytes",
            bytes.len(),
            self.len
        );
        // SAFETY: `base..base + len` is the framebuffer, mapped writable by
        // `map_device` for the kernel's lifetime and no Rust object; the
        // range written lies inside it (checked above). Plain stores (a
        // memcpy, which combines into wide ones) are enough: nothing reads
        // this memory back, and the screen shows the last value stored.
        unsafe {
            core::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                (self.base + offset) as *mut u8,
                bytes.len(),
            );
        }
        self.written += bytes.len() as u64;
    }
}

/// The grid's cells, what each cell shows, and the dirty flags.
struct Storage {
    cells: [u16; MAX_COLUMNS * MAX_LINES],
    shown: [u16; MAX_CELLS],
    dirty: [bool; MAX_LINES],
}

/// The storage, all zero (so in .bss), handed to the screen once.
static STORAGE: Mutex<Storage> = Mutex::new(Storage {
    cells: [0; MAX_COLUMNS * MAX_LINES],
    shown: [0; MAX_CELLS],
    dirty: [false; MAX_LINES],
});

/// The framebuffer console, once [`init`] has run.
static SCREEN: Mutex<Option<FbScreen<'static, FramebufferMemory>>> = Mutex::new(None);

/// Maps the framebuffer `layout` describes and blanks it: every pixel
/// written once. Fails if it cannot be mapped. Call once.
pub fn init(layout: &Layout) -> Result<(), MapError> {
    let fb = &layout.framebuffer;
    let virt = map_device(fb.address, layout.size(), CacheType::WriteCombining)?;
    // Called once: the storage is free, and from now on the screen's alone.
    let storage = MutexGuard::leak(STORAGE.lock());
    let renderer = Renderer::new(BUILTIN, layout.format, fb.pitch as usize, layout.scale);
    let memory = FramebufferMemory::new(virt as usize, layout.size() as usize);
    let mut screen = FbScreen::new(
        memory,
        renderer,
        (layout.columns, layout.rows),
        (fb.width as usize, fb.height as usize),
        (&mut storage.cells, &mut storage.dirty, &mut storage.shown),
    );
    screen.reset();
    screen.set_pacing(Some(Pacing {
        clock: crate::arch::read_timestamp,
        frame: FRAME_CYCLES,
        last: crate::arch::read_timestamp(),
    }));
    *SCREEN.lock() = Some(screen);
    Ok(())
}

/// Runs `f` on the console as the consoles' [`TextScreen`] (nothing before
/// [`init`]).
pub fn with_screen(f: impl FnOnce(&mut dyn TextScreen)) {
    // Interrupts off while the lock is held: neither a handler nor a
    // preempted holder can keep another printer spinning.
    crate::arch::without_interrupts(|| {
        if let Some(screen) = SCREEN.lock().as_mut() {
            f(screen);
        }
    });
}

/// Draws what pacing put off, if anything (see [`FbScreen::flush_pending`]).
pub fn flush_pending() {
    if let Some(screen) = SCREEN.lock().as_mut() {
        screen.flush_pending();
    }
}

/// Runs `f` on the console itself (for the benchmark and the self-tests).
pub fn with_console<R>(
    f: impl FnOnce(&mut FbScreen<'static, FramebufferMemory>) -> R,
) -> Option<R> {
    crate::arch::without_interrupts(|| SCREEN.lock().as_mut().map(f))
}

/// Writes formatted text at the cursor in the current colours (the
/// benchmark's shipped writer).
#[cfg(feature = "bench")]
pub fn print(args: core::fmt::Arguments) {
    with_screen(|screen| screen.print(args));
}

/// Compares what the renderer draws with what the framebuffer holds,
/// instead of drawing it.
struct Compare {
    /// The framebuffer's first byte.
    base: usize,
    /// Its size.
    len: usize,
    /// The first byte offset that differs.
    mismatch: Option<usize>,
}

impl PixelTarget for Compare {
    fn write(&mut self, offset: usize, bytes: &[u8]) {
        for (i, &expected) in bytes.iter().enumerate() {
            let at = offset + i;
            if at >= self.len {
                self.mismatch.get_or_insert(at);
                return;
            }
            // SAFETY: `at` lies inside the mapped framebuffer (checked);
            // reading it has no side effect.
            let actual = unsafe { core::ptr::read_volatile((self.base + at) as *const u8) };
            if actual != expected {
                self.mismatch.get_or_insert(at);
            }
        }
    }
}

/// The cell a person sees at (`row`, `column`): the value the console drew
/// there, checked against the framebuffer's pixels (the cell's glyph and
/// colours, and the cursor if it is there); `Err` with the offset of the
/// first byte that differs. For self-tests only: the console itself never
/// reads the framebuffer.
pub fn read_cell(row: usize, column: usize) -> Result<ScreenChar, usize> {
    let mut guard = SCREEN.lock();
    let Some(screen) = guard.as_mut() else {
        return Err(0);
    };
    // What a person sees once the display has caught up.
    screen.flush_pending();
    let cell = screen.shown_cell(row, column);
    let cursor = (screen.shown_cursor() == Some((row, column))).then_some(0);
    let memory = screen.target();
    let mut compare = Compare {
        base: memory.base,
        len: memory.len,
        mismatch: None,
    };
    screen
        .renderer()
        .draw_run(&mut compare, (row, column), &[cell], cursor, None);
    match compare.mismatch {
        None => Ok(ScreenChar::from_cell(cell)),
        Some(offset) => Err(offset),
    }
}

/// Runs `f` while holding the console's lock (to test the panic path).
pub fn with_lock_held<R>(f: impl FnOnce() -> R) -> R {
    let _guard = SCREEN.lock();
    f()
}

/// Releases the lock regardless of who holds it, and makes the next flush
/// draw every cell (see [`FbScreen::repair`]): a panic inside the writer may
/// have left a cell half drawn.
///
/// # Safety
/// Only for the panic path: the holder must never run again.
pub unsafe fn force_unlock() {
    // SAFETY: forwarded from the caller.
    unsafe { SCREEN.force_unlock() };
    if let Some(screen) = SCREEN.lock().as_mut() {
        screen.repair();
    }
}

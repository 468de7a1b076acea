//! The VGA text screen's back end: the [`TextGrid`]'s cells into as few
//! writes to the text memory as it can.
//!
//! What the user sees is an 80x25 grid of cells, with the rules of
//! [`super::grid`]. Why it is fast: the text memory is device memory, and
//! in a virtual machine every access to it traps to the emulator. So:
//!
//! - the writer never reads the text memory. The grid keeps the visible
//!   lines in RAM, and this back end a `mirror` of all 32 KiB of text
//!   memory, so it writes only the (aligned groups of four) cells that
//!   differ, each run of them in as few accesses as the hardware layer can
//!   (64-bit writes on the VGA);
//! - it writes a row of the text memory in full the first time that row is
//!   shown, and never blanks rows nobody sees: what the boot loader left
//!   there stays out of sight until the row is written. So starting the
//!   screen writes its 25 rows, not all 204;
//! - it writes nothing until [`Screen::flush`], and then only the lines that
//!   changed, so a line blanked and written again in one print is written
//!   once;
//! - it scrolls in hardware: the visible screen is 25 rows of the 32 KiB text
//!   memory (204 rows of 80 cells) starting at the CRTC start address. A
//!   scroll moves that start down one row and writes only the new last row.
//!   When the window reaches the end of the text memory it moves back to row
//!   0 and rewrites what differs there (once every 180 scrolls), so the
//!   screen never depends on how a VGA wraps its memory.
//!
//! The result on screen is the same as a plain scroll that copies every row
//! up (the host tests compare the two on random input).
//!
//! The hardware is behind [`TextMemory`]: the VGA layer implements it with
//! volatile writes and CRTC ports, the host tests with an array.
//!
//! Pure logic: no hardware, tested on the host.

#![forbid(unsafe_code)]

use core::fmt;

use super::grid::{GridControl, SCROLLBACK, TextGrid, TextScreen};

/// Screen width in cells.
pub const WIDTH: usize = 80;
/// Screen height in cells.
pub const HEIGHT: usize = 25;
/// Cells in the colour text memory (0xb8000..0xbffff, 32 KiB, 2 bytes each).
pub const MEMORY_CELLS: usize = 32 * 1024 / 2;
/// Whole rows of `WIDTH` cells in the text memory.
pub const MEMORY_ROWS: usize = MEMORY_CELLS / WIDTH;
/// The last row the visible window may start at, so that all its `HEIGHT`
/// rows lie inside the text memory.
pub const LAST_START_ROW: usize = MEMORY_ROWS - HEIGHT;

/// Runs of changed cells are written in whole, aligned groups of this many
/// cells (unchanged cells in a group are written with the value they hold),
/// so the hardware layer can write each group with one 64-bit access.
pub const RUN_GROUP: usize = 4;
const _: () = assert!(WIDTH.is_multiple_of(RUN_GROUP) && MEMORY_CELLS.is_multiple_of(RUN_GROUP));

/// Where the writer's cells go: the VGA text memory and CRTC, or an array in
/// the host tests. Positions are cell indices into the text memory.
pub trait TextMemory {
    /// Stores `cell` at `index` (< [`MEMORY_CELLS`]).
    fn write(&mut self, index: usize, cell: u16);
    /// Stores `cells` from `index` on (the end lies inside the memory). An
    /// implementation may write several cells per access: in a virtual
    /// machine each access to the text memory traps to the emulator, so
    /// fewer, wider accesses are much cheaper.
    fn write_run(&mut self, index: usize, cells: &[u16]) {
        for (offset, &cell) in cells.iter().enumerate() {
            self.write(index + offset, cell);
        }
    }
    /// Makes the visible screen start at cell `start`. The hardware holds
    /// `shown` if that is known, so an implementation may write only the
    /// register bytes that differ.
    fn set_start(&mut self, start: usize, shown: Option<usize>);
    /// Puts the blinking cursor on cell `index` (absolute, like `write`);
    /// `shown` as for `set_start`.
    fn set_cursor(&mut self, index: usize, shown: Option<usize>);
}

/// Lines of the grid's ring: the screen and its scrollback.
const LINES: usize = HEIGHT + SCROLLBACK;

/// The grid of the VGA screen: 80x25 cells, [`SCROLLBACK`] lines above them,
/// and a dirty flag per line, in a [`Storage`].
type Grid<'a> = TextGrid<&'a mut [u16; WIDTH * LINES], &'a mut [bool; LINES]>;

/// The RAM a [`Screen`] works in: its cells, dirty flags and the mirror of
/// the text memory. Kept apart from the writer so that a static one can be
/// all zero bits (in `.bss`, not loaded from the kernel file): 68 KiB with
/// the scrollback, that would otherwise be initialised data.
pub struct Storage {
    /// The grid's cells: the screen and the scrollback.
    cells: [u16; WIDTH * LINES],
    /// The grid's dirty flags.
    dirty: [bool; LINES],
    /// What the text memory holds, cell by cell (it is never read back).
    mirror: [u16; MEMORY_CELLS],
    /// Which rows of the text memory hold what `mirror` says: the others
    /// have not been written since the writer started (or forgot them).
    known: [bool; MEMORY_ROWS],
}

impl Storage {
    /// Storage of all zero bits; [`Screen::new`] sets up what it needs.
    pub const fn new() -> Storage {
        Storage {
            cells: [0; WIDTH * LINES],
            dirty: [false; LINES],
            mirror: [0; MEMORY_CELLS],
            known: [false; MEMORY_ROWS],
        }
    }
}

/// The writer: the grid, and the bookkeeping of what the text memory holds.
pub struct Screen<'a, M> {
    /// Where cells are written.
    memory: M,
    /// What should be seen.
    grid: Grid<'a>,
    /// What the text memory holds, cell by cell (it is never read back).
    mirror: &'a mut [u16; MEMORY_CELLS],
    /// Which rows of the text memory hold what `mirror` says.
    known: &'a mut [bool; MEMORY_ROWS],
    /// The text-memory row the visible screen starts at.
    start_row: usize,
    /// The start (in cells) last given to the hardware, if it is known.
    shown_start: Option<usize>,
    /// The cursor cell last given to the hardware, if it is known.
    shown_cursor: Option<usize>,
}

impl<'a, M: TextMemory> Screen<'a, M> {
    /// A writer over `memory`, working in `storage`, in the default colours,
    /// its grid blank and all of it to be written. It assumes nothing about
    /// what the text memory holds: each row is written in full the first
    /// time it is shown. [`Screen::reset`] shows the first rows, blank.
    pub fn new(memory: M, storage: &'a mut Storage) -> Screen<'a, M> {
        storage.known.fill(false);
        let mut grid = TextGrid::new(
            &mut storage.cells,
            &mut storage.dirty,
            (WIDTH, HEIGHT),
            SCROLLBACK,
        );
        grid.clear();
        Screen {
            memory,
            grid,
            mirror: &mut storage.mirror,
            known: &mut storage.known,
            start_row: 0,
            shown_start: None,
            shown_cursor: None,
        }
    }

    /// Blanks the screen, shows the text memory's first rows and puts the
    /// cursor top left. Writes those 25 rows in full whatever they hold;
    /// the rows below are written as they come into view.
    pub fn reset(&mut self) {
        self.clear();
        self.grid.take_scrolled();
        self.start_row = 0;
        self.rewrite_memory();
    }

    /// Forgets what the text memory holds, then writes the visible rows in
    /// full, and the start and cursor registers, whatever they hold now:
    /// for when something else (the benchmark's naive writer) wrote the
    /// memory behind our back. Other rows are written when next shown.
    pub fn rewrite_memory(&mut self) {
        self.known.fill(false);
        self.shown_start = None;
        self.shown_cursor = None;
        self.grid.mark_all_dirty();
        self.flush();
    }

    /// Blanks the screen in the current colours and puts the cursor top left.
    pub fn clear(&mut self) {
        self.grid.clear();
    }

    /// The cell index in the text memory where the visible screen starts.
    pub fn start(&self) -> usize {
        self.start_row * WIDTH
    }

    /// For the panic path: puts the cursor back inside the screen and
    /// forgets what the hardware shows, so the next flush writes every
    /// visible row in full, whatever a panic interrupted (a row half
    /// written, its mirror already updated).
    pub fn repair(&mut self) {
        self.grid.repair();
        self.known.fill(false);
        self.shown_start = None;
        self.shown_cursor = None;
    }

    /// The memory (for tests that look at what was written).
    #[cfg(test)]
    pub fn memory(&self) -> &M {
        &self.memory
    }

    /// The memory, mutably (for tests that write it behind the writer's back).
    #[cfg(test)]
    pub fn memory_mut(&mut self) -> &mut M {
        &mut self.memory
    }

    /// Writes each byte of `bytes` (for tests; the kernel writes `str`s).
    #[cfg(test)]
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_byte(byte);
        }
    }

    /// Writes one byte (see [`super::grid`]; for tests: the kernel writes
    /// `str`s).
    #[cfg(test)]
    pub fn write_byte(&mut self, byte: u8) {
        self.grid.write_byte(byte);
    }

    /// Moves the window down the text memory by the grid's scrolls since the
    /// last flush, the way one scroll at a time would: a row per scroll, back
    /// to row 0 after [`LAST_START_ROW`]. Lines that were not rewritten are
    /// then already in the text memory, one row per scroll below where they
    /// were shown; after a move back to row 0 every line is compared again.
    fn follow_scrolls(&mut self) {
        let scrolled = self.grid.take_scrolled();
        if scrolled == 0 {
            return;
        }
        let moved = self.start_row + scrolled;
        if moved <= LAST_START_ROW {
            self.start_row = moved;
        } else {
            self.start_row = (moved - LAST_START_ROW - 1) % (LAST_START_ROW + 1);
            self.grid.mark_all_dirty();
        }
    }
}

impl<M: TextMemory> TextScreen for Screen<'_, M> {
    fn grid(&self) -> &dyn GridControl {
        &self.grid
    }

    fn grid_mut(&mut self) -> &mut dyn GridControl {
        &mut self.grid
    }

    /// Writes what changed since the last flush to the text memory, then
    /// the start address and the cursor if they moved.
    fn flush(&mut self) {
        self.follow_scrolls();
        for visible in 0..HEIGHT {
            if !self.grid.take_dirty(visible) {
                continue;
            }
            let row = self.start_row + visible;
            let base = row * WIDTH;
            let line = self.grid.line(visible);
            let mirror = &mut self.mirror[base..base + WIDTH];
            if !self.known[row] {
                // Shown for the first time (since a reset): whatever is
                // there, all of it is written.
                self.known[row] = true;
                mirror.copy_from_slice(line);
                self.memory.write_run(base, line);
                continue;
            }
            if line == mirror {
                continue;
            }
            // Each run of changed groups of cells goes out in one `write_run`.
            let mut column = 0;
            while column < WIDTH {
                let group = column..column + RUN_GROUP;
                if mirror[group.clone()] == line[group] {
                    column += RUN_GROUP;
                    continue;
                }
                let first = column;
                while column < WIDTH
                    && mirror[column..column + RUN_GROUP] != line[column..column + RUN_GROUP]
                {
                    column += RUN_GROUP;
                }
                mirror[first..column].copy_from_slice(&line[first..column]);
                self.memory.write_run(base + first, &line[first..column]);
            }
        }
        let start = self.start();
        if self.shown_start != Some(start) {
            self.memory.set_start(start, self.shown_start);
            self.shown_start = Some(start);
        }
        // With the view moved back past the cursor's row, the cursor goes to
        // the cell after the visible screen, where the VGA does not show it.
        let cursor = match self.grid.visible_cursor() {
            Some((row, column)) => start + row * WIDTH + column,
            None => start + HEIGHT * WIDTH,
        };
        if self.shown_cursor != Some(cursor) {
            self.memory.set_cursor(cursor, self.shown_cursor);
            self.shown_cursor = Some(cursor);
        }
    }
}

impl<M: TextMemory> fmt::Write for Screen<'_, M> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.grid.write_str(s)
    }
}

#[cfg(test)]
mod tests;

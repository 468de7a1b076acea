//! The text screen writer: turns bytes into cells, and cells into as few
//! writes to the text memory as it can.
//!
//! What the user sees is an 80x25 grid. Printable ASCII (0x20..=0x7e) shows
//! as is; `\n` starts a new line, `\r` returns to column 0, `\t` moves to the
//! next multiple of 8, backspace moves back one cell (never onto the previous
//! line); every other byte, and every char that is not ASCII, shows as ■
//! (0xfe). A line wraps when a character comes after its 80th cell (so 80
//! characters then `\n` give one line, not a blank one after it). Below the
//! last line the screen scrolls up and the new last line is blank.
//!
//! Why it is fast: the text memory is device memory, and in a virtual
//! machine every access to it traps to the emulator. So:
//!
//! - the writer never reads the text memory. It keeps the visible lines in
//!   RAM (`lines`, a ring, so scrolling it moves no cells), plus a `mirror`
//!   of all 32 KiB of text memory, so it writes only the (aligned groups of
//!   four) cells that differ, each run of them in as few accesses as the
//!   hardware layer can (64-bit writes on the VGA);
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

use super::color::{ColorCode, ScreenChar};

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
/// Tab stops are at every multiple of this column.
pub const TAB_WIDTH: usize = 8;
/// What every byte that is not printable ASCII shows as: ■ in code page 437.
pub const REPLACEMENT: u8 = 0xfe;

/// Runs of changed cells are written in whole, aligned groups of this many
/// cells (unchanged cells in a group are written with the value they hold),
/// so the hardware layer can write each group with one 64-bit access.
pub const RUN_GROUP: usize = 4;
const _: () = assert!(WIDTH.is_multiple_of(RUN_GROUP) && MEMORY_CELLS.is_multiple_of(RUN_GROUP));

/// Backspace (ASCII BS).
const BACKSPACE: u8 = 0x08;

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

/// The writer: cursor, colours, the visible lines in RAM and the bookkeeping
/// of what the text memory holds.
pub struct Screen<M> {
    /// Where cells are written.
    memory: M,
    /// The visible lines as cell values, a ring: visible row `r` is
    /// `lines[(top + r) % HEIGHT]`.
    lines: [[u16; WIDTH]; HEIGHT],
    /// Per ring slot: the line may differ from the text memory.
    dirty: [bool; HEIGHT],
    /// The ring slot shown as the top row.
    top: usize,
    /// What the text memory holds, cell by cell (it is never read back).
    mirror: [u16; MEMORY_CELLS],
    /// The text-memory row the visible screen starts at.
    start_row: usize,
    /// The start (in cells) last given to the hardware, if it is known.
    shown_start: Option<usize>,
    /// The cursor cell last given to the hardware, if it is known.
    shown_cursor: Option<usize>,
    /// The cursor's row (0..HEIGHT).
    row: usize,
    /// The cursor's column (0..=WIDTH; WIDTH means "wrap before the next
    /// character").
    column: usize,
    /// The colours of new characters and blanks.
    color: ColorCode,
}

impl<M: TextMemory> Screen<M> {
    /// A writer over `memory`, in the default colours. It assumes nothing
    /// about what the memory holds: call [`Screen::reset`] before use.
    pub const fn new(memory: M) -> Screen<M> {
        let blank = ScreenChar::blank(ColorCode::DEFAULT).to_cell();
        Screen {
            memory,
            lines: [[blank; WIDTH]; HEIGHT],
            dirty: [true; HEIGHT],
            top: 0,
            mirror: [0; MEMORY_CELLS],
            start_row: 0,
            shown_start: None,
            shown_cursor: None,
            row: 0,
            column: 0,
            color: ColorCode::DEFAULT,
        }
    }

    /// Blanks the whole text memory, shows its first rows and puts the
    /// cursor top left: one write per cell of the 32 KiB, so only for start
    /// up (or after something else wrote the memory behind our back).
    pub fn reset(&mut self) {
        self.clear();
        self.start_row = 0;
        let blank = self.blank();
        self.mirror.fill(blank);
        self.rewrite_memory();
    }

    /// Writes every cell of the text memory from the mirror, and the start
    /// and cursor registers, whatever they hold now: for when something else
    /// (the benchmark's naive writer) wrote the memory behind our back.
    pub fn rewrite_memory(&mut self) {
        self.memory.write_run(0, &self.mirror);
        self.shown_start = None;
        self.shown_cursor = None;
        self.dirty = [true; HEIGHT];
        self.flush();
    }

    /// Blanks the screen in the current colours and puts the cursor top left.
    pub fn clear(&mut self) {
        let blank = self.blank();
        for (line, dirty) in self.lines.iter_mut().zip(self.dirty.iter_mut()) {
            *line = [blank; WIDTH];
            *dirty = true;
        }
        self.row = 0;
        self.column = 0;
    }

    /// The colours of what is written next.
    pub fn color(&self) -> ColorCode {
        self.color
    }

    /// Sets the colours of what is written next (and of blanks that
    /// clearing and scrolling leave).
    pub fn set_color(&mut self, color: ColorCode) {
        self.color = color;
    }

    /// The cursor: (row, column), column `WIDTH` meaning the line is full.
    pub fn cursor(&self) -> (usize, usize) {
        (self.row, self.column)
    }

    /// The cell index in the text memory where the visible screen starts.
    pub fn start(&self) -> usize {
        self.start_row * WIDTH
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

    /// Writes one byte: a character, or a control byte that moves the
    /// cursor (see the module documentation).
    pub fn write_byte(&mut self, byte: u8) {
        match byte {
            b'\n' => self.new_line(),
            b'\r' => self.column = 0,
            b'\t' => {
                self.wrap_if_full();
                self.column = (self.column / TAB_WIDTH + 1) * TAB_WIDTH;
                self.column = self.column.min(WIDTH);
            }
            BACKSPACE => self.column = self.column.saturating_sub(1),
            byte if is_printable(byte) => self.put(byte),
            _ => self.put(REPLACEMENT),
        }
    }

    /// Writes what changed since the last flush to the text memory, then
    /// the start address and the cursor if they moved.
    pub fn flush(&mut self) {
        for visible in 0..HEIGHT {
            let slot = (self.top + visible) % HEIGHT;
            if !self.dirty[slot] {
                continue;
            }
            self.dirty[slot] = false;
            let base = (self.start_row + visible) * WIDTH;
            let line = &self.lines[slot];
            let mirror = &mut self.mirror[base..base + WIDTH];
            if line[..] == mirror[..] {
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
        // A full line shows the cursor on its last cell.
        let cursor = start + self.row * WIDTH + self.column.min(WIDTH - 1);
        if self.shown_cursor != Some(cursor) {
            self.memory.set_cursor(cursor, self.shown_cursor);
            self.shown_cursor = Some(cursor);
        }
    }

    /// Blanks the cursor's line from the cursor to its end, in the current
    /// colours (the cursor stays).
    pub fn erase_to_end_of_line(&mut self) {
        let slot = (self.top + self.row) % HEIGHT;
        let blank = self.blank();
        for cell in &mut self.lines[slot][self.column.min(WIDTH)..] {
            *cell = blank;
        }
        self.dirty[slot] = true;
    }

    /// A blank cell in the current colours.
    fn blank(&self) -> u16 {
        ScreenChar::blank(self.color).to_cell()
    }

    /// Puts a character at the cursor and moves it right.
    fn put(&mut self, ascii: u8) {
        self.wrap_if_full();
        let slot = (self.top + self.row) % HEIGHT;
        self.lines[slot][self.column] = ScreenChar {
            ascii,
            color: self.color,
        }
        .to_cell();
        self.dirty[slot] = true;
        self.column += 1;
    }

    /// Puts printable ASCII bytes at the cursor, a line's worth at a time.
    fn put_printable(&mut self, mut bytes: &[u8]) {
        let attribute = ScreenChar {
            ascii: 0,
            color: self.color,
        }
        .to_cell();
        while !bytes.is_empty() {
            self.wrap_if_full();
            let count = bytes.len().min(WIDTH - self.column);
            let slot = (self.top + self.row) % HEIGHT;
            let cells = &mut self.lines[slot][self.column..self.column + count];
            for (cell, &byte) in cells.iter_mut().zip(&bytes[..count]) {
                *cell = attribute | u16::from(byte);
            }
            self.dirty[slot] = true;
            self.column += count;
            bytes = &bytes[count..];
        }
    }

    /// Starts a new line if the current one is full.
    fn wrap_if_full(&mut self) {
        if self.column >= WIDTH {
            self.new_line();
        }
    }

    /// Moves to column 0 of the next line, scrolling at the bottom.
    fn new_line(&mut self) {
        self.column = 0;
        if self.row + 1 < HEIGHT {
            self.row += 1;
        } else {
            self.scroll();
        }
    }

    /// Scrolls up one line: the top line leaves the ring and comes back,
    /// blank, as the last line; the window moves one row down the text
    /// memory, or back to its first row when it reached the end.
    fn scroll(&mut self) {
        let slot = self.top;
        self.top = (self.top + 1) % HEIGHT;
        self.lines[slot] = [self.blank(); WIDTH];
        self.dirty[slot] = true;
        if self.start_row < LAST_START_ROW {
            // Every other line is already in the text memory, one row below
            // where it was shown: it needs no write.
            self.start_row += 1;
        } else {
            self.start_row = 0;
            self.dirty = [true; HEIGHT];
        }
    }
}

impl<M: TextMemory> fmt::Write for Screen<M> {
    /// Writes ASCII chars as bytes and every other char as one ■; runs of
    /// printable ASCII (nearly all text) take a faster path.
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while !rest.is_empty() {
            let printable = rest
                .bytes()
                .position(|b| !is_printable(b))
                .unwrap_or(rest.len());
            self.put_printable(&rest.as_bytes()[..printable]);
            // `printable` indexes an ASCII byte or the first byte of a char.
            rest = &rest[printable..];
            if let Some(c) = rest.chars().next() {
                self.write_byte(if c.is_ascii() { c as u8 } else { REPLACEMENT });
                rest = &rest[c.len_utf8()..];
            }
        }
        Ok(())
    }
}

/// Whether `byte` is printable ASCII, shown as itself.
pub fn is_printable(byte: u8) -> bool {
    (0x20..=0x7e).contains(&byte)
}

#[cfg(test)]
mod tests;

//! The framebuffer console's back end: the [`TextGrid`]'s cells drawn as
//! pixels, only where they changed.
//!
//! The grid is as many cells as fit: ⌊width / cell width⌋ x ⌊height / cell
//! height⌋ (800x600 with the 8x16 font: 100x37), with exactly the VGA
//! screen's rules (they are the grid's). A framebuffer has no hardware
//! scrolling and no hardware cursor, and on real hardware reading it is very
//! slow, so:
//!
//! - the framebuffer is never read. Besides the grid this back end keeps
//!   `shown`, the cell value each cell of the screen was last drawn with;
//! - [`FbScreen::flush`] draws the cells whose value differs from `shown`,
//!   runs of neighbouring ones together ([`Renderer::draw_run`]), and of
//!   those only the glyph rows whose pixels change (after a scroll about
//!   half of a line of text: letters share their blank rows), each pixel at
//!   most once. Text printed between two flushes, however many lines and
//!   scrolls, costs one update;
//! - a scroll is such an update too: every visible row is compared with what
//!   its cells show, and only cells whose character or colours differ are
//!   redrawn (blank stays blank);
//! - the cursor is an underline in the cell's foreground colour on the cell
//!   where the next character goes (the last cell of a full line), drawn
//!   with that cell; when it moves, the cell it leaves is redrawn without
//!   (and when the view is moved back past it, it is not drawn at all);
//! - a move of the view through the scrollback is an update like any
//!   other: only the cells that differ from what the screen shows are
//!   drawn.
//!
//! - pacing ([`FbScreen::set_pacing`], the kernel's console sets it): a
//!   flush after a scroll that comes less than a frame after the previous
//!   draw is put off, not done, so a stream of scrolling lines costs one
//!   redraw per frame rather than one per line, as a display only shows so
//!   many frames anyway. What is put off is drawn by the next flush after
//!   the frame has passed, or by [`FbScreen::flush_pending`], which the
//!   kernel calls wherever output may stop for a while (before it halts or
//!   waits for input). A flush without a scroll (typing, a status line) is
//!   never put off, and the panic path turns pacing off.
//!
//! The margins right of and below the grid (what a mode's size leaves over)
//! are filled with black once, by [`FbScreen::reset`].
//!
//! Pure logic, tested on the host over framebuffers in RAM: the tests check
//! that what it draws equals a redraw from scratch.

#![forbid(unsafe_code)]

use core::fmt;

use super::grid::{GridControl, SCROLLBACK, TextGrid, TextScreen};
use super::render::{PixelTarget, Renderer, UNKNOWN};

/// The grid of a framebuffer console: cells and dirty flags in slices of
/// buffers sized for the largest grid.
type Grid<'a> = TextGrid<&'a mut [u16], &'a mut [bool]>;

/// The framebuffer console.
pub struct FbScreen<'a, T> {
    /// Where pixels go.
    target: T,
    /// How cells become pixels.
    renderer: Renderer<'a>,
    /// What should be seen.
    grid: Grid<'a>,
    /// Per cell, row by row: the value it was last drawn with, or UNKNOWN.
    shown: &'a mut [u16],
    /// The cell the cursor was last drawn on, if any.
    shown_cursor: Option<(usize, usize)>,
    /// Pixels of the framebuffer: (width, height).
    pixels: (usize, usize),
    /// When flushes after scrolls may be put off; `None`: never.
    pacing: Option<Pacing>,
    /// A flush was put off: the screen is behind the grid.
    pending: bool,
    /// Draws so far (for the benchmark: paced, a stream of lines costs
    /// far fewer draws than lines).
    draws: u64,
}

/// How often a scrolling console draws: at most once per `frame` ticks of
/// `clock`.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// A monotonic counter (the timestamp counter in the kernel).
    pub clock: fn() -> u64,
    /// The shortest time between two draws after scrolls, in `clock` ticks.
    pub frame: u64,
    /// `clock` when the last draw ended.
    pub last: u64,
}

impl<'a, T: PixelTarget> FbScreen<'a, T> {
    /// A console of `columns` x `rows` cells on a framebuffer of `pixels`
    /// (width, height), drawn by `renderer` into `target`, keeping
    /// [`SCROLLBACK`] lines of scrollback. `cells` holds at least `columns *
    /// (rows + SCROLLBACK)` values, `dirty` at least `rows + SCROLLBACK`
    /// flags, `shown` at least `columns * rows` values; their contents do
    /// not matter. Call [`FbScreen::reset`] before use.
    pub fn new(
        target: T,
        renderer: Renderer<'a>,
        (columns, rows): (usize, usize),
        pixels: (usize, usize),
        (cells, dirty, shown): (&'a mut [u16], &'a mut [bool], &'a mut [u16]),
    ) -> Self {
        let count = columns * rows;
        let lines = rows + SCROLLBACK;
        FbScreen {
            target,
            renderer,
            grid: TextGrid::new(
                &mut cells[..columns * lines],
                &mut dirty[..lines],
                (columns, rows),
                SCROLLBACK,
            ),
            shown: &mut shown[..count],
            shown_cursor: None,
            pixels,
            pacing: None,
            pending: false,
            draws: 0,
        }
    }

    /// Blanks the grid, the whole screen and its margins, and puts the
    /// cursor top left: writes every visible pixel once.
    pub fn reset(&mut self) {
        self.grid.clear();
        self.grid.take_scrolled();
        let (width, height) = self.pixels;
        let used = (
            self.grid.width() * self.renderer.cell_width(),
            self.grid.height() * self.renderer.cell_height(),
        );
        let black = 0;
        self.renderer.fill(
            &mut self.target,
            (used.0, 0),
            (width - used.0, used.1),
            black,
        );
        self.renderer.fill(
            &mut self.target,
            (0, used.1),
            (width, height - used.1),
            black,
        );
        self.redraw();
    }

    /// Draws every cell again, whatever the framebuffer holds: for when
    /// something else (the benchmark's naive writer) drew on it.
    pub fn redraw(&mut self) {
        self.shown.fill(UNKNOWN);
        self.shown_cursor = None;
        self.grid.mark_all_dirty();
        self.draw();
    }

    /// For the panic path: puts the cursor back inside the grid and forgets
    /// what is shown, so the next flush draws every cell, whatever a panic
    /// interrupted.
    pub fn repair(&mut self) {
        self.pacing = None;
        self.pending = false;
        self.grid.repair();
        self.shown.fill(UNKNOWN);
        self.shown_cursor = None;
    }

    /// Puts off flushes after scrolls that come within `pacing.frame` of
    /// the last draw (see the module documentation); `None`: draws at
    /// every flush.
    pub fn set_pacing(&mut self, pacing: Option<Pacing>) {
        self.pacing = pacing;
    }

    /// The pacing in force, if any.
    #[cfg(feature = "bench")]
    pub fn pacing(&self) -> Option<Pacing> {
        self.pacing
    }

    /// Draws what a paced flush put off, if anything: for wherever output
    /// may stop for a while.
    pub fn flush_pending(&mut self) {
        if self.pending {
            self.draw();
        }
    }

    /// Draws so far.
    #[cfg(any(test, feature = "bench"))]
    pub fn draws(&self) -> u64 {
        self.draws
    }

    /// Whether a flush was put off and the screen is behind.
    #[cfg(test)]
    pub fn is_pending(&self) -> bool {
        self.pending
    }

    /// The renderer (for tests that draw the expected pixels).
    pub fn renderer(&self) -> &Renderer<'a> {
        &self.renderer
    }

    /// Where the pixels go.
    pub fn target(&self) -> &T {
        &self.target
    }

    /// Gives up the console, returning where its pixels went.
    pub fn into_target(self) -> T {
        self.target
    }

    /// Where the pixels go, mutably (for tests).
    #[cfg(test)]
    pub fn target_mut(&mut self) -> &mut T {
        &mut self.target
    }

    /// The value cell (row, column) was last drawn with: what a person sees
    /// there, unless something else drew on the framebuffer.
    pub fn shown_cell(&self, row: usize, column: usize) -> u16 {
        self.shown[row * self.grid.width() + column]
    }

    /// The cell the cursor was last drawn on.
    pub fn shown_cursor(&self) -> Option<(usize, usize)> {
        self.shown_cursor
    }

    /// Writes one byte (see [`super::grid`]; for tests).
    #[cfg(test)]
    pub fn write_byte(&mut self, byte: u8) {
        self.grid.write_byte(byte);
    }

    /// Clears the grid (drawn by the next flush; for tests).
    #[cfg(test)]
    pub fn clear(&mut self) {
        self.grid.clear();
    }
}

impl<T: PixelTarget> TextScreen for FbScreen<'_, T> {
    fn grid(&self) -> &dyn GridControl {
        &self.grid
    }

    fn grid_mut(&mut self) -> &mut dyn GridControl {
        &mut self.grid
    }

    /// Draws what changed (see [`FbScreen::draw`]), unless pacing puts it
    /// off: after a scroll, within a frame of the last draw.
    fn flush(&mut self) {
        let put_off = self.pacing.is_some_and(|pacing| {
            self.grid.has_scrolled() && (pacing.clock)().wrapping_sub(pacing.last) < pacing.frame
        });
        if put_off {
            self.pending = true;
        } else {
            self.draw();
        }
    }
}

impl<T: PixelTarget> FbScreen<'_, T> {
    /// Draws every cell whose value differs from what it shows, and the
    /// cursor where it moved: rows that may have changed (all of them after
    /// a scroll), runs of changed cells per row, each cell once.
    #[optimize(speed)]
    fn draw(&mut self) {
        self.pending = false;
        self.draws += 1;
        if self.grid.take_scrolled() > 0 {
            self.grid.mark_all_dirty();
        }
        let cursor = self.grid.visible_cursor();
        let old_cursor = self.shown_cursor.filter(|&old| Some(old) != cursor);
        let width = self.grid.width();
        for row in 0..self.grid.height() {
            let dirty = self.grid.take_dirty(row);
            let cursor_column = cursor.filter(|c| c.0 == row).map(|c| c.1);
            let old_column = old_cursor.filter(|old| old.0 == row).map(|old| old.1);
            let cursor_moved_here = cursor_column.is_some() && self.shown_cursor != cursor;
            if !dirty && old_column.is_none() && !cursor_moved_here {
                continue;
            }
            let line = self.grid.line(row);
            let shown = &mut self.shown[row * width..(row + 1) * width];
            // A cell is drawn when its value changed, or when the cursor
            // arrives on it or leaves it.
            let needs = |column: usize, shown: &[u16]| {
                line[column] != shown[column]
                    || (cursor_moved_here && cursor_column == Some(column))
                    || old_column == Some(column)
            };
            let mut column = 0;
            while column < width {
                if !needs(column, shown) {
                    column += 1;
                    continue;
                }
                let first = column;
                while column < width && needs(column, shown) {
                    column += 1;
                }
                let in_run =
                    |c: Option<usize>| c.filter(|c| (first..column).contains(c)).map(|c| c - first);
                let old_column = self
                    .shown_cursor
                    .filter(|old| old.0 == row)
                    .map(|old| old.1);
                self.renderer.draw_run(
                    &mut self.target,
                    (row, first),
                    &line[first..column],
                    in_run(cursor_column),
                    Some((&shown[first..column], in_run(old_column))),
                );
                shown[first..column].copy_from_slice(&line[first..column]);
            }
        }
        self.shown_cursor = cursor;
        if let Some(pacing) = &mut self.pacing {
            pacing.last = (pacing.clock)();
        }
    }
}

impl<T: PixelTarget> fmt::Write for FbScreen<'_, T> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.grid.write_str(s)
    }
}

#[cfg(test)]
mod tests;

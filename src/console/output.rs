//! Output to the consoles: the serial port and the screen the boot
//! information describes. What `println!`, log records and the panic screen
//! go through.
//!
//! Start up is in two steps, so that the screen can be chosen from the boot
//! information before anything is printed: [`init_early`] (serial and the
//! log facade, printing nothing), then, once the boot information has been
//! checked, [`init_screen`] (the VGA text screen, the framebuffer console,
//! or none; see [`super::choice`]). Until a screen is chosen only a fault or
//! a panic can print; it goes to the VGA text screen, as the trampoline's
//! own errors do, and to serial.

use core::fmt;

use spin::Once;

use crate::arch::without_interrupts;
use crate::console::pixels::Framebuffer;

use super::choice::{self, Choice, Reason};
use super::color::{ColorCode, ScreenChar};
use super::edit::Edit;
use super::grid::{Scroll, TextScreen};
use super::screen::{HEIGHT, MEMORY_ROWS, WIDTH};
use super::{fb, logger, serial, vga};

/// The screen chosen by [`init_screen`].
static CHOICE: Once<Choice> = Once::new();

/// Starts the serial port (if the hardware answers) and the logger, whose
/// records wait for the log level. Prints nothing.
pub fn init_early() {
    serial::init();
    logger::init();
}

/// Chooses the screen from the boot information's framebuffer (`None`: no
/// framebuffer tag) and blanks it. Prints nothing, so the banner can be the
/// first line on both consoles; its log records wait for the log level.
/// Call once, after [`init_early`].
pub fn init_screen(framebuffer: Option<Framebuffer>) -> &'static Choice {
    let mut chosen = choice::choose(framebuffer);
    match chosen {
        Choice::VgaText => vga::init(),
        Choice::Framebuffer(layout) => {
            if let Err(error) = fb::init(&layout) {
                let address = layout.framebuffer.address;
                log::error!("console: cannot map the framebuffer at {address:#x}: {error}");
                chosen = Choice::SerialOnly(Reason::Unmappable(address));
            }
        }
        Choice::SerialOnly(_) => {}
    }
    let chosen = CHOICE.call_once(|| chosen);
    if !serial::present() {
        log::warn!("no serial port");
    }
    log::debug!(
        "console: {chosen}; serial {}",
        if serial::present() {
            "on COM1"
        } else {
            "absent"
        }
    );
    if *chosen == Choice::VgaText {
        log::trace!(
            "console: VGA text {WIDTH}x{HEIGHT} at {:#x}, hardware scrolling through \
             {MEMORY_ROWS} rows of text memory",
            vga::VGA_TEXT_BUFFER
        );
    }
    chosen
}

/// The screen chosen, once [`init_screen`] has run.
pub fn choice() -> Option<&'static Choice> {
    CHOICE.get()
}

/// Runs `f` on the screen: the chosen one (none when serial only), the VGA
/// text screen before the choice.
fn with_screen(f: impl FnOnce(&mut dyn TextScreen)) {
    match CHOICE.get() {
        None | Some(Choice::VgaText) => vga::with_screen(f),
        Some(Choice::Framebuffer(_)) => fb::with_screen(f),
        Some(Choice::SerialOnly(_)) => {}
    }
}

/// Prints to the screen and the serial port. Used by `print!`.
#[doc(hidden)]
pub fn _print(args: fmt::Arguments) {
    // With interrupts off while the screen's lock is held, a handler cannot
    // deadlock on it, nor can a preempted holder stall another printer.
    without_interrupts(|| with_screen(|screen| screen.print(args)));
    // Serial with interrupts as the caller has them: the transmit interrupt
    // drains its ring while the writer waits for room (serial.rs).
    serial::print(args);
}

/// Brings the screen up to date: draws what the framebuffer console's
/// pacing put off, moves the VGA hardware cursor. Call wherever output may stop for a while: before
/// halting, before waiting for input.
pub fn flush() {
    without_interrupts(|| match CHOICE.get() {
        Some(Choice::Framebuffer(_)) => fb::flush_pending(),
        None | Some(Choice::VgaText) => vga::flush_cursor(),
        Some(Choice::SerialOnly(_)) => {}
    });
}

/// Prints one log record's line: in `color` on the screen, plain on serial,
/// each on a line of its own (see [`fresh_line`]).
pub(super) fn print_record(color: ColorCode, args: fmt::Arguments) {
    fresh_line();
    without_interrupts(|| with_screen(|screen| screen.print_line_in(color, args)));
    serial::print(format_args!("{args}\n"));
}

/// Ends the line on each console where output stopped mid-line (a
/// program's unfinished line, a prompt): what the kernel prints next starts
/// a line of its own, so its lines and a program's never share a row.
pub fn fresh_line() {
    without_interrupts(|| {
        with_screen(|screen| {
            if screen.grid().cursor().1 != 0 {
                screen.print(format_args!("\n"));
            }
        })
    });
    if serial::mid_line() {
        serial::print(format_args!("\n"));
    }
}

/// Prints on the screen only (the line editor draws each console apart,
/// each at its own width).
pub fn print_screen(args: fmt::Arguments) {
    without_interrupts(|| with_screen(|screen| screen.print(args)));
}

/// One of the line editor's moves or erases on the screen only.
pub fn edit_screen(edit: Edit) {
    without_interrupts(|| {
        with_screen(|s| {
            s.grid_mut().edit(edit);
            s.flush();
        })
    });
}

/// One of the line editor's moves or erases on serial only: its ANSI
/// sequence, which a terminal does as the screen does the edit. (The
/// screen would show ESC as ■.)
pub fn edit_serial(edit: Edit) {
    serial::print(format_args!("{edit}"));
}

/// Clears the screen, keeping what it showed in the scrollback, cursor top
/// left (`ESC[2J ESC[H`: erase the display, cursor home).
pub fn clear_screen() {
    without_interrupts(|| {
        edit_screen(Edit::ClearScreen);
        edit_serial(Edit::ClearScreen);
    });
}

/// Moves the screen's view a page through the scrollback (the screen only:
/// a serial terminal keeps its own).
pub fn scroll_view(scroll: Scroll) {
    without_interrupts(|| {
        with_screen(|s| {
            s.grid_mut().scroll_view(scroll);
            s.flush();
        })
    });
}

/// Returns the screen's view to the newest lines.
pub fn view_bottom() {
    without_interrupts(|| {
        with_screen(|s| {
            s.grid_mut().view_bottom();
            s.flush();
        })
    });
}

/// The screen's size in cells: (columns, rows); (0, 0) without one.
pub fn screen_size() -> (usize, usize) {
    match CHOICE.get() {
        None | Some(Choice::VgaText) => (WIDTH, HEIGHT),
        Some(Choice::Framebuffer(layout)) => (layout.columns, layout.rows),
        Some(Choice::SerialOnly(_)) => (0, 0),
    }
}

/// The writer's cursor: (row, column), column = width for a full line.
pub fn cursor() -> (usize, usize) {
    let mut cursor = (0, 0);
    without_interrupts(|| with_screen(|screen| cursor = screen.grid().cursor()));
    cursor
}

/// The cell a person sees at visible (`row`, `column`), read back from the
/// hardware: the VGA text memory at the CRTC's start address, or the
/// framebuffer's pixels checked against the cell the console drew there
/// (`Err`: the byte offset of the first pixel byte that differs). For
/// self-tests only: the writers never read the screen.
pub fn read_cell(row: usize, column: usize) -> Result<ScreenChar, usize> {
    match CHOICE.get() {
        Some(Choice::Framebuffer(_)) => fb::read_cell(row, column),
        _ => Ok(vga::read_cell(row, column)),
    }
}

/// Prints one line of the panic screen: on serial, then on the screen as a
/// full-width band in `color`, even if a console lock is held by the code
/// that panicked.
///
/// # Safety
/// Breaks the consoles' locks, so call it only once the kernel will never
/// return to the interrupted code: from the panic handler, which halts.
pub unsafe fn panic_print(color: ColorCode, args: fmt::Arguments) {
    // SAFETY: forwarded from the caller.
    unsafe { force_unlock_all() };
    // Serial first: it shares no state with the screen writer, so it gets
    // out even if the screen writer is what broke.
    serial::print(format_args!("{args}\n"));
    with_screen(|screen| screen.print_band(color, args));
}

/// Ends the line serial is in the middle of, if any (a prompt, or a line
/// another CPU was writing when it was stopped), so that the panic report
/// starts on a line of its own.
///
/// # Safety
/// As for [`panic_print`].
pub unsafe fn panic_fresh_line() {
    // SAFETY: forwarded from the caller.
    unsafe { force_unlock_all() };
    if serial::mid_line() {
        serial::print(format_args!("\n"));
    }
}

/// [`panic_print`] with the screen's line cut to one row (backtrace frames).
///
/// # Safety
/// As for [`panic_print`].
pub unsafe fn panic_print_row(color: ColorCode, args: fmt::Arguments) {
    // SAFETY: forwarded from the caller.
    unsafe { force_unlock_all() };
    serial::print(format_args!("{args}\n"));
    with_screen(|screen| screen.print_band_row(color, args));
}

/// Breaks both consoles' locks (the panic screen's writers).
///
/// # Safety
/// As for [`panic_print`].
unsafe fn force_unlock_all() {
    // SAFETY: the caller guarantees the interrupted lock holder never runs
    // again, so the forced unlock cannot produce two live writers.
    unsafe {
        serial::force_unlock();
        match CHOICE.get() {
            None | Some(Choice::VgaText) => vga::force_unlock(),
            Some(Choice::Framebuffer(_)) => fb::force_unlock(),
            Some(Choice::SerialOnly(_)) => {}
        }
    }
}

/// Prints on serial only, breaking its lock: for a panic while panicking,
/// when the screen writer may be what panicked.
///
/// # Safety
/// As for [`panic_print`].
pub unsafe fn panic_serial(args: fmt::Arguments) {
    // SAFETY: forwarded from the caller.
    unsafe { serial::force_unlock() };
    serial::print(format_args!("{args}\n"));
}

/// Panics while holding both console locks, as a panic inside a writer
/// would (`panic=locked` on the command line): the panic screen must still
/// appear.
pub fn panic_with_locks_held() -> ! {
    let panic_holding_serial = || {
        serial::with_lock_held(|| {
            panic!("deliberate panic with the console locks held (panic=locked)")
        })
    };
    match CHOICE.get() {
        Some(Choice::Framebuffer(_)) => fb::with_lock_held(panic_holding_serial),
        _ => vga::with_lock_held(panic_holding_serial),
    }
}

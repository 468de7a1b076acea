//! Output to both consoles at once: what `println!`, log records and the
//! panic screen go through.

use core::fmt;

use crate::arch::without_interrupts;

use super::color::ColorCode;
use super::screen::{HEIGHT, MEMORY_ROWS, WIDTH};
use super::{logger, serial, vga};

/// Starts the consoles: serial first (if the hardware answers), then the
/// screen, blanked, then the logger. Prints nothing, so the banner can be
/// the first line on both; its log records wait for the log level.
pub fn init() {
    serial::init();
    vga::init();
    logger::init();
    if !serial::present() {
        log::warn!("no serial port");
    }
    log::debug!(
        "console: VGA text {WIDTH}x{HEIGHT} at {:#x}, serial {}",
        vga::VGA_TEXT_BUFFER,
        if serial::present() {
            "on COM1"
        } else {
            "absent"
        }
    );
    log::trace!("console: hardware scrolling through {MEMORY_ROWS} rows of text memory");
}

/// Prints to the VGA screen and the serial port. Used by `print!`.
#[doc(hidden)]
pub fn _print(args: fmt::Arguments) {
    // With interrupts off while a lock is held, a handler cannot deadlock
    // on it.
    without_interrupts(|| {
        vga::print(args);
        serial::print(args);
    });
}

/// Prints one log record's line: in `color` on the screen, plain on serial.
pub(super) fn print_record(color: ColorCode, args: fmt::Arguments) {
    without_interrupts(|| {
        vga::print_line_in(color, args);
        serial::print(format_args!("{args}\n"));
    });
}

/// Prints one line of the panic screen: on serial, then on the screen as a
/// full-width band in `color`, even if a console lock is held by the code
/// that panicked.
///
/// # Safety
/// Breaks the consoles' locks, so call it only once the kernel will never
/// return to the interrupted code: from the panic handler, which halts.
pub unsafe fn panic_print(color: ColorCode, args: fmt::Arguments) {
    // Serial first: it shares no state with the screen writer, so it gets
    // out even if the screen writer is what broke.
    // SAFETY: the caller guarantees the interrupted lock holder never runs
    // again, so the forced unlock cannot produce two live writers.
    unsafe { serial::force_unlock() };
    serial::print(format_args!("{args}\n"));
    // SAFETY: as above.
    unsafe { vga::force_unlock() };
    vga::print_band(color, args);
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
    vga::with_lock_held(|| {
        serial::with_lock_held(|| {
            panic!("deliberate panic with the console locks held (panic=locked)")
        })
    })
}

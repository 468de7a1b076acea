//! The consoles: the VGA text screen and the serial port, written together.
//!
//! `println!` goes to both, so a user at the screen and a headless user (or a
//! test reading the serial log) see the same lines. `serial_println!` goes to
//! the serial port only.
//!
//! Each console sits behind its own `spin::Mutex`. The panic handler must
//! print even when a panic struck while one of those locks was held, so it
//! uses [`panic_print`], which takes the locks by force (documented there).

pub mod serial;
pub mod vga;

use core::fmt;

/// Initialises both consoles: serial first (if the hardware answers), then
/// the VGA screen, cleared.
pub fn init() {
    serial::init();
    vga::init();
}

/// Prints to the VGA screen and the serial port. Used by `print!`.
#[doc(hidden)]
pub fn _print(args: fmt::Arguments) {
    // Both consoles are also used from exception handlers; with interrupts
    // disabled while a lock is held, a handler cannot deadlock on it.
    x86_64::instructions::interrupts::without_interrupts(|| {
        vga::print(args);
        serial::print(args);
    });
}

/// Prints on the panic path, to both consoles, even if a console lock is held
/// by the code that panicked.
///
/// # Safety
/// Breaks the consoles' locks, so call it only once the kernel will never
/// return to the interrupted code: from the panic handler, which halts.
pub unsafe fn panic_print(args: fmt::Arguments) {
    // SAFETY: the caller guarantees the interrupted lock holder never runs
    // again, so the forced unlock cannot produce two live writers.
    unsafe {
        serial::force_unlock();
        vga::force_unlock();
    }
    serial::print(args);
    vga::print(args);
}

/// Prints to the VGA screen and the serial port.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => ($crate::console::_print(format_args!($($arg)*)));
}

/// Prints a line to the VGA screen and the serial port.
#[macro_export]
macro_rules! println {
    () => ($crate::print!("\n"));
    ($($arg:tt)*) => ($crate::print!("{}\n", format_args!($($arg)*)));
}

/// Prints to the serial port only.
#[macro_export]
macro_rules! serial_print {
    ($($arg:tt)*) => ($crate::console::serial::print(format_args!($($arg)*)));
}

/// Prints a line to the serial port only.
#[macro_export]
macro_rules! serial_println {
    () => ($crate::serial_print!("\n"));
    ($($arg:tt)*) => ($crate::serial_print!("{}\n", format_args!($($arg)*)));
}

/// In-kernel tests of the consoles.
pub mod ktests {
    use crate::selftest::{Context, Outcome};
    use crate::{check, check_eq};

    use super::{serial, vga};

    /// A line printed with `println!` is on the screen where the cursor was.
    fn vga_write_reads_back(_: &Context) -> Outcome {
        const LINE: &[u8] = b"vga self-test: The quick brown fox 0123456789";
        // Start on a fresh line so the text begins at column 0.
        println!();
        let row = vga::cursor_row();
        println!("{}", core::str::from_utf8(LINE).unwrap());
        let mut screen_row = vga::read_row(row);
        // The screen may have scrolled by one line while printing.
        if !screen_row.starts_with(LINE) && row > 0 {
            screen_row = vga::read_row(row - 1);
        }
        check_eq!(&screen_row[..LINE.len()], LINE);
        check!(screen_row[LINE.len()..].iter().all(|&b| b == b' '));
        Ok(())
    }

    /// The serial port was found and takes output (the harness checks that
    /// this line arrives).
    fn serial_port_present_and_writes(_: &Context) -> Outcome {
        check!(serial::present(), "no serial port found at COM1");
        serial_println!("serial self-test: line sent through COM1");
        Ok(())
    }

    pub const TESTS: &[crate::selftest::Test] =
        crate::kernel_tests![vga_write_reads_back, serial_port_present_and_writes];
}

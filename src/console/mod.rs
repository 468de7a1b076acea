//! The consoles: the VGA text screen and the serial port, written together,
//! and the `log` facade on top of them.
//!
//! - `println!`/`print!` go to both, so a user at the screen and a headless
//!   user (or a test reading the serial log) see the same lines; serial gets
//!   `\r\n` for `\n`. `serial_println!`/`serial_print!` go to serial only.
//! - `log::error!` ... `log::trace!` print `[LEVEL] message` on both, in the
//!   level's colour on the screen ([`logger`]).
//! - Without a serial port (QEMU `-serial none`, most new PCs) serial output
//!   is dropped and the screen works as ever.
//!
//! Each console sits behind its own `spin::Mutex`, taken with interrupts off
//! so a handler can never wait for a lock its own CPU holds. The panic path
//! must print even when the panic struck while a lock was held (or inside a
//! writer), so it breaks the locks: [`panic_print`] writes serial first, with
//! no help from the screen writer, then the screen. It is sound only because
//! the panicking code never runs again.
//!
//! Files: [`color`] and [`screen`] are the pure logic (cells; the writer with
//! its shadow copy and hardware scrolling), tested on the host; [`vga`],
//! [`crtc`] and [`serial`] are the thin hardware layer; `bench` and `naive`
//! are the `bench` command-line word's benchmark.

// The macros come first: a `macro_rules!` macro is visible only in the code
// after it, and the submodules below use them.

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

mod backlog;
pub mod color;
pub mod screen;

#[cfg(target_os = "none")]
pub mod bench;
#[cfg(target_os = "none")]
mod crtc;
#[cfg(target_os = "none")]
pub(crate) mod ktests;
#[cfg(target_os = "none")]
pub mod logger;
#[cfg(target_os = "none")]
mod naive;
#[cfg(target_os = "none")]
pub mod serial;
#[cfg(target_os = "none")]
pub mod vga;

#[cfg(target_os = "none")]
mod output;
#[cfg(target_os = "none")]
pub use output::*;

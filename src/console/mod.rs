//! The consoles: a screen and the serial port, written together, and the
//! `log` facade on top of them.
//!
//! The screen is chosen from the boot information ([`choice`]): the VGA
//! text screen under BIOS, a framebuffer text console where GRUB set up a
//! graphics mode (every UEFI PC), or none.
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
//! Files, the pure logic first (tested on the host): [`color`] (cells and
//! the VGA palette), [`grid`] (the text grid both screens share: bytes into
//! cells, wrapping, scrolling), [`screen`] (the VGA back end: shadow copy and
//! hardware scrolling), [`font`], [`render`] and [`fbscreen`] (the
//! framebuffer back end: cells into pixels, only where they changed),
//! [`choice`] (which screen); then the thin hardware layer: `vga`, `crtc`,
//! `fb`, `serial`; `output` (both consoles at once); `bench`, `naive` and
//! `naive_fb` are the `bench` command-line word's benchmark, compiled only
//! into the benchmark build (cargo feature `bench`, what `make bench` boots).

// The macros come first: a `macro_rules!` macro is visible only in the code
// after it, and the submodules below use them.

/// Prints to the screen and the serial port.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => ($crate::console::_print(format_args!($($arg)*)));
}

/// Prints a line to the screen and the serial port.
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
pub mod choice;
pub mod color;
pub mod edit;
pub mod fbscreen;
pub mod font;
pub mod grid;
pub mod pixels;
pub mod render;
pub mod screen;
#[cfg(test)]
mod test_support;

#[cfg(all(target_os = "none", feature = "bench"))]
pub mod bench;
#[cfg(target_os = "none")]
mod crtc;
#[cfg(target_os = "none")]
pub mod fb;
#[cfg(target_os = "none")]
pub(crate) mod ktests;
#[cfg(target_os = "none")]
pub mod logger;
#[cfg(all(target_os = "none", feature = "bench"))]
mod naive;
#[cfg(all(target_os = "none", feature = "bench"))]
mod naive_fb;
#[cfg(target_os = "none")]
pub mod serial;
pub mod terminal;
pub mod tx_ring;
#[cfg(target_os = "none")]
pub mod vga;

#[cfg(target_os = "none")]
mod output;
#[cfg(target_os = "none")]
pub use output::*;

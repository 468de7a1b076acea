//! What happens when the kernel panics or the CPU raises a fatal exception:
//! say what, where, and through which calls, then halt.
//!
//! The panic screen, white on red on the VGA screen (each line a
//! full-width band, below what was already there) and the same text on
//! serial:
//!
//! ```text
//! KERNEL PANIC: <message>
//!   at <file>:<line>:<column>
//!   backtrace:
//!     0: 0x10a2f1 core::panicking::panic_fmt+0x31
//!     1: 0x1051c4 kestrel::panic::screen::deliberate+0x24
//!     2: 0x10c9b8 rust_main+0x5a8
//!     3: 0x1000c5 long_mode_start+0x15
//!   the kernel has stopped on CPU 0 in thread 0 (idle); restart the machine
//! ```
//!
//! On the screen each backtrace line takes one row, cut with a `>` in its
//! last cell when the name is longer (generic names can fill several rows
//! and would push the headline out of view); serial has them whole.
//!
//! A CPU exception ([`exception`], from the exception policy in
//! [`crate::exceptions`]) has the same
//! shape: `KERNEL PANIC: CPU exception: <name> ...`, the decoded details,
//! `at rip ...` with the state the CPU saved, and a backtrace whose frame 0
//! is the faulting instruction. Backtraces come from [`crate::debug`].
//!
//! Interrupts go off first and the CPU then halts for good: no reset, no
//! return. The consoles' locks are broken on the way (see
//! [`crate::console::panic_print`]), so a panic while one is held still prints. A
//! panic (or fault) while printing the panic screen prints one line on
//! serial only and halts.
//!
//! `panic=test` (or `panic=locked`, with the console locks held) on the
//! kernel command line panics on purpose after the boot, to show and test
//! all this; `crash=KIND` does the same for CPU exceptions.

mod kind;
#[cfg(target_os = "none")]
mod screen;

pub use kind::DeliberatePanic;
#[cfg(target_os = "none")]
pub use screen::{Exception, deliberate, exception, set_context};

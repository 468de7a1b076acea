//! What happens when the kernel panics: say what and where, then halt.
//!
//! The panic screen is three lines, white on red on the VGA screen (each a
//! full-width band, below what was already there) and the same text on
//! serial:
//!
//! ```text
//! KERNEL PANIC: <message>
//!   at <file>:<line>:<column>
//!   the kernel has stopped; restart the machine
//! ```
//!
//! Interrupts go off first and the CPU then halts for good: no reset, no
//! return. The consoles' locks are broken on the way (see
//! [`console::panic_print`]), so a panic while one is held still prints. A
//! panic while printing the panic screen prints one line on serial only and
//! halts.
//!
//! `panic=test` (or `panic=locked`, with the console locks held) on the
//! kernel command line panics on purpose after the boot, to show and test
//! all this.

use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::halt_forever;
use crate::cmdline::DeliberatePanic;
use crate::console;
use crate::console::color::{Color, ColorCode};

/// The panic screen's colours.
pub const PANIC_COLOR: ColorCode = ColorCode::new(Color::White, Color::Red);

/// Set by the first panic; a second one means printing the first failed.
static PANICKING: AtomicBool = AtomicBool::new(false);

/// Prints the panic screen on the VGA screen and the serial port, then
/// halts this CPU forever (never resets).
#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    crate::arch::disable_interrupts();
    if PANICKING.swap(true, Ordering::SeqCst) {
        // SAFETY: we halt below and never return to the code that panicked.
        unsafe {
            console::panic_serial(format_args!(
                "KERNEL PANIC while panicking: {}",
                info.message()
            ))
        };
        halt_forever()
    }
    // SAFETY: we never return to the code that panicked (halt below), so
    // breaking a console lock it may hold cannot create two live writers.
    unsafe {
        console::panic_print(
            PANIC_COLOR,
            format_args!("KERNEL PANIC: {}", info.message()),
        );
        if let Some(location) = info.location() {
            console::panic_print(
                PANIC_COLOR,
                format_args!(
                    "  at {}:{}:{}",
                    location.file(),
                    location.line(),
                    location.column()
                ),
            );
        }
        console::panic_print(
            PANIC_COLOR,
            format_args!("  the kernel has stopped; restart the machine"),
        );
    }
    halt_forever()
}

/// Panics on purpose, as the command line asked (`panic=test|locked`).
pub fn deliberate(kind: DeliberatePanic) -> ! {
    match kind {
        DeliberatePanic::Test => panic!("deliberate panic (panic=test on the command line)"),
        DeliberatePanic::Locked => console::panic_with_locks_held(),
    }
}

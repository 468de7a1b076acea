//! What happens when the kernel panics: say what and where, then halt.

use core::panic::PanicInfo;

use crate::arch::halt_forever;
use crate::console;

/// Prints the panic message and its location on the VGA screen and the
/// serial port, then halts this CPU forever (never resets).
#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    x86_64::instructions::interrupts::disable();
    // SAFETY: we never return to the code that panicked (halt below), so
    // breaking a console lock it may hold cannot create two live writers.
    unsafe {
        console::panic_print(format_args!("\nKERNEL PANIC: {}\n", info.message()));
        if let Some(location) = info.location() {
            console::panic_print(format_args!(
                "  at {}:{}:{}\n",
                location.file(),
                location.line(),
                location.column()
            ));
        }
    }
    halt_forever()
}

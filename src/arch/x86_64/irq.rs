//! The IDT entries of every vector after the CPU's exceptions (32–255):
//! one tiny entry point per vector, all handing the vector number to
//! [`crate::interrupts::dispatch`], which knows which device or controller
//! it belongs to (or reports it as unexpected).
//!
//! This is the one place the CPU layer calls up into the kernel: an
//! interrupt is where hardware hands control to whatever the kernel wired.
//! Interrupts are never nested: an interrupt gate clears IF, and handlers
//! run to the end before `iretq` sets it again.

use x86_64::structures::idt::{InterruptDescriptorTable, InterruptStackFrame};

/// The entry point of vector `V`.
extern "x86-interrupt" fn entry<const V: u8>(_frame: InterruptStackFrame) {
    crate::interrupts::dispatch(V);
}

/// Fills 16 entries, `16 * row` to `16 * row + 15`.
macro_rules! install_row {
    ($idt:ident, $row:literal) => {
        install_row!(@ $idt, $row, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
    };
    (@ $idt:ident, $row:literal, $($column:literal)*) => {
        $( $idt[$row * 16 + $column].set_handler_fn(entry::<{ $row * 16 + $column }>); )*
    };
}

/// Points vectors 32–255 at their entry points.
pub fn install(idt: &mut InterruptDescriptorTable) {
    install_row!(idt, 2);
    install_row!(idt, 3);
    install_row!(idt, 4);
    install_row!(idt, 5);
    install_row!(idt, 6);
    install_row!(idt, 7);
    install_row!(idt, 8);
    install_row!(idt, 9);
    install_row!(idt, 10);
    install_row!(idt, 11);
    install_row!(idt, 12);
    install_row!(idt, 13);
    install_row!(idt, 14);
    install_row!(idt, 15);
}

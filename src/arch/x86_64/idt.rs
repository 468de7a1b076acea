//! The Interrupt Descriptor Table: what the CPU does on an exception.
//!
//! Every exception that signals a kernel bug (page fault, general protection,
//! invalid opcode, double fault, ...) panics with the exception's name and
//! the faulting state, so the user gets the panic screen and a halted machine
//! instead of a silent reset. A breakpoint (`int3`) only prints and returns.
//! Hardware interrupts are not enabled yet, so no IRQ handlers exist.

use core::fmt;

use spin::Lazy;
use x86_64::registers::control::Cr2;
use x86_64::structures::idt::{InterruptDescriptorTable, InterruptStackFrame, PageFaultErrorCode};

use super::gdt::DOUBLE_FAULT_IST_INDEX;

/// The table; it must live for as long as the CPU may use it (forever).
static IDT: Lazy<InterruptDescriptorTable> = Lazy::new(|| {
    let mut idt = InterruptDescriptorTable::new();
    idt.divide_error.set_handler_fn(divide_error);
    idt.debug.set_handler_fn(debug);
    idt.non_maskable_interrupt
        .set_handler_fn(non_maskable_interrupt);
    idt.breakpoint.set_handler_fn(breakpoint);
    idt.overflow.set_handler_fn(overflow);
    idt.bound_range_exceeded
        .set_handler_fn(bound_range_exceeded);
    idt.invalid_opcode.set_handler_fn(invalid_opcode);
    idt.device_not_available
        .set_handler_fn(device_not_available);
    idt.invalid_tss.set_handler_fn(invalid_tss);
    idt.segment_not_present.set_handler_fn(segment_not_present);
    idt.stack_segment_fault.set_handler_fn(stack_segment_fault);
    idt.general_protection_fault
        .set_handler_fn(general_protection_fault);
    idt.page_fault.set_handler_fn(page_fault);
    idt.alignment_check.set_handler_fn(alignment_check);
    // SAFETY: DOUBLE_FAULT_IST_INDEX names the IST entry that gdt.rs fills
    // with the top of a stack used for nothing else.
    unsafe {
        idt.double_fault
            .set_handler_fn(double_fault)
            .set_stack_index(DOUBLE_FAULT_IST_INDEX);
    }
    idt
});

/// Loads the IDT. Requires the GDT and TSS from `gdt::init`.
pub fn init() {
    IDT.load();
}

/// The state the CPU pushed, in one readable line.
struct Frame<'a>(&'a InterruptStackFrame);

impl fmt::Display for Frame<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rip {:#x} cs {:#x} rflags {:#x} rsp {:#x} ss {:#x}",
            self.0.instruction_pointer.as_u64(),
            self.0.code_segment.0,
            self.0.cpu_flags.bits(),
            self.0.stack_pointer.as_u64(),
            self.0.stack_segment.0,
        )
    }
}

/// Defines handlers that panic with the exception's name and the frame.
macro_rules! fatal_exceptions {
    ($($name:ident: $title:literal;)*) => {$(
        extern "x86-interrupt" fn $name(frame: InterruptStackFrame) {
            panic!("CPU exception: {} at {}", $title, Frame(&frame));
        }
    )*};
}

/// Defines handlers for exceptions that push an error code.
macro_rules! fatal_exceptions_with_code {
    ($($name:ident: $title:literal;)*) => {$(
        extern "x86-interrupt" fn $name(frame: InterruptStackFrame, code: u64) {
            panic!("CPU exception: {} (error code {:#x}) at {}", $title, code, Frame(&frame));
        }
    )*};
}

fatal_exceptions! {
    divide_error: "divide error (#DE)";
    debug: "debug (#DB)";
    non_maskable_interrupt: "non-maskable interrupt";
    overflow: "overflow (#OF)";
    bound_range_exceeded: "bound range exceeded (#BR)";
    invalid_opcode: "invalid opcode (#UD)";
    device_not_available: "device not available (#NM)";
}

fatal_exceptions_with_code! {
    invalid_tss: "invalid TSS (#TS)";
    segment_not_present: "segment not present (#NP)";
    stack_segment_fault: "stack-segment fault (#SS)";
    general_protection_fault: "general protection fault (#GP)";
    alignment_check: "alignment check (#AC)";
}

/// `int3`: report and carry on, as a debugger breakpoint would.
extern "x86-interrupt" fn breakpoint(frame: InterruptStackFrame) {
    println!("breakpoint at {}", Frame(&frame));
}

/// A page fault: CR2 holds the address that was accessed.
extern "x86-interrupt" fn page_fault(frame: InterruptStackFrame, code: PageFaultErrorCode) {
    let address = Cr2::read_raw();
    panic!(
        "CPU exception: page fault (#PF) accessing {:#x} ({:?}) at {}",
        address,
        code,
        Frame(&frame)
    );
}

/// A fault while delivering another one; runs on its own stack (IST), so it
/// works even after a kernel stack overflow.
extern "x86-interrupt" fn double_fault(frame: InterruptStackFrame, code: u64) -> ! {
    panic!(
        "CPU exception: double fault (#DF, error code {:#x}) at {}",
        code,
        Frame(&frame)
    );
}

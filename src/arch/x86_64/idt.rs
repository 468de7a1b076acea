//! The Interrupt Descriptor Table: what the CPU does on an exception.
//!
//! Every exception that signals a kernel bug (page fault, general protection,
//! invalid opcode, double fault, ...) prints the panic screen
//! ([`crate::panic::exception`]) and halts, instead of a silent reset: the
//! exception's name, what the CPU reported decoded into words (for a page
//! fault the address and the error code, for #GP/#TS/#NP/#SS the selector),
//! the state it saved, and a backtrace whose frame 0 is the faulting
//! instruction. A breakpoint (`int3`) prints the same state and backtrace,
//! then returns. Hardware interrupts are not enabled yet, so no IRQ handlers
//! exist.
//!
//! The backtrace needs the interrupted code's frame pointer. An
//! `x86-interrupt` handler built with frame pointers starts with `push rbp;
//! mov rbp, rsp` right after the frame the CPU pushed, so `[rbp]` in the
//! handler is the interrupted RBP, with or without an error code.

use core::fmt;

use spin::Lazy;
use x86_64::registers::control::Cr2;
use x86_64::structures::idt::{InterruptDescriptorTable, InterruptStackFrame, PageFaultErrorCode};

use super::gdt::DOUBLE_FAULT_IST_INDEX;
use crate::debug::{
    self,
    backtrace::{Kind, Start},
    fault::{PageFaultCode, SelectorCode, looks_like_stack_overflow},
};
use crate::panic::Exception;

/// The table; it must live for as long as the CPU may use it (forever).
static IDT: Lazy<InterruptDescriptorTable> = Lazy::new(|| {
    let mut idt = InterruptDescriptorTable::new();
    idt.divide_error.set_handler_fn(divide_error);
    idt.debug.set_handler_fn(debug_exception);
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

/// Where the backtrace of an exception starts: the interrupted instruction
/// (`kind` says whether RIP is the instruction itself, for a fault, or the
/// one after it, for a trap), then the interrupted code's frames, from the
/// RBP the handler saved at `[handler_rbp]`.
fn backtrace_from(frame: &InterruptStackFrame, kind: Kind, handler_rbp: u64) -> Start {
    Start {
        rip: Some((frame.instruction_pointer.as_u64(), kind)),
        pushed_return: None,
        rbp: debug::read_word(handler_rbp).unwrap_or(0),
    }
}

/// Reports a fatal exception and halts.
fn fatal(
    headline: fmt::Arguments,
    details: &[fmt::Arguments],
    frame: &InterruptStackFrame,
    backtrace: Start,
) -> ! {
    crate::panic::exception(Exception {
        headline,
        details,
        frame: format_args!("{}", Frame(frame)),
        backtrace,
    })
}

/// Defines handlers that report the exception's name and the frame.
macro_rules! fatal_exceptions {
    ($($name:ident: $title:literal;)*) => {$(
        extern "x86-interrupt" fn $name(frame: InterruptStackFrame) {
            let rbp = debug::frame_pointer();
            fatal(
                format_args!($title),
                &[],
                &frame,
                backtrace_from(&frame, Kind::Here, rbp),
            );
        }
    )*};
}

/// Defines handlers for exceptions that push a selector error code, which
/// the report decodes.
macro_rules! fatal_exceptions_with_selector {
    ($($name:ident: $title:literal;)*) => {$(
        extern "x86-interrupt" fn $name(frame: InterruptStackFrame, code: u64) {
            let rbp = debug::frame_pointer();
            fatal(
                format_args!($title),
                &[format_args!("error code {:#x}: {}", code, SelectorCode(code))],
                &frame,
                backtrace_from(&frame, Kind::Here, rbp),
            );
        }
    )*};
}

fatal_exceptions! {
    divide_error: "divide error (#DE)";
    debug_exception: "debug (#DB)";
    non_maskable_interrupt: "non-maskable interrupt (NMI)";
    overflow: "overflow (#OF)";
    bound_range_exceeded: "bound range exceeded (#BR)";
    invalid_opcode: "invalid opcode (#UD)";
    device_not_available: "device not available (#NM)";
}

fatal_exceptions_with_selector! {
    invalid_tss: "invalid TSS (#TS)";
    segment_not_present: "segment not present (#NP)";
    stack_segment_fault: "stack-segment fault (#SS)";
}

/// A general protection fault: the selector, if the CPU named one. With
/// none, the usual causes are an address that is not canonical or an
/// instruction the kernel may not execute.
extern "x86-interrupt" fn general_protection_fault(frame: InterruptStackFrame, code: u64) {
    let rbp = debug::frame_pointer();
    let hint = if code == 0 {
        " (e.g. a non-canonical address)"
    } else {
        ""
    };
    fatal(
        format_args!("general protection fault (#GP)"),
        &[format_args!(
            "error code {:#x}: {}{}",
            code,
            SelectorCode(code),
            hint
        )],
        &frame,
        backtrace_from(&frame, Kind::Here, rbp),
    );
}

/// An alignment check: its error code is always 0, so it is not shown.
extern "x86-interrupt" fn alignment_check(frame: InterruptStackFrame, _code: u64) {
    let rbp = debug::frame_pointer();
    fatal(
        format_args!("alignment check (#AC)"),
        &[],
        &frame,
        backtrace_from(&frame, Kind::Here, rbp),
    );
}

/// `int3`: report and carry on, as a debugger breakpoint would. RIP is the
/// instruction after the `int3`.
extern "x86-interrupt" fn breakpoint(frame: InterruptStackFrame) {
    let rbp = debug::frame_pointer();
    println!("breakpoint (#BP) at {}", Frame(&frame));
    debug::print_backtrace(backtrace_from(&frame, Kind::After, rbp), |line| {
        println!("{line}")
    });
}

/// A page fault: CR2 holds the address that was accessed, the error code
/// says how. For an instruction fetch from a bad address (a call through a
/// bad pointer), the word at RSP is the caller's return address, which the
/// frame-pointer walk would miss, so the backtrace shows it after RIP.
extern "x86-interrupt" fn page_fault(frame: InterruptStackFrame, code: PageFaultErrorCode) {
    let rbp = debug::frame_pointer();
    let address = Cr2::read_raw();
    let code = PageFaultCode(code.bits());
    let mut backtrace = backtrace_from(&frame, Kind::Here, rbp);
    if code.is_instruction_fetch() {
        backtrace.pushed_return = debug::read_word(frame.stack_pointer.as_u64());
    }
    let headline = format_args!("page fault (#PF) accessing {address:#x}");
    let words = format_args!("{code} (error code {:#x})", code.0);
    debug::with_symbols(
        |symbols| match symbols.and_then(|found| found.ok()?.resolve(address)) {
            Some(symbol) => fatal(
                headline,
                &[
                    words,
                    format_args!("accessed address: {symbol}+{:#x}", address - symbol.start),
                ],
                &frame,
                backtrace,
            ),
            None => fatal(headline, &[words], &frame, backtrace),
        },
    )
}

/// A fault while delivering another one; runs on its own stack (IST), so it
/// works even after a kernel stack overflow, which it then names: the stack
/// pointer sits right above an unmapped page, where the last page fault
/// (CR2) happened.
extern "x86-interrupt" fn double_fault(frame: InterruptStackFrame, _code: u64) -> ! {
    let rbp = debug::frame_pointer();
    let rsp = frame.stack_pointer.as_u64();
    let cr2 = Cr2::read_raw();
    let backtrace = backtrace_from(&frame, Kind::Here, rbp);
    let headline = format_args!("double fault (#DF)");
    if looks_like_stack_overflow(rsp, cr2, |address| debug::read_word(address & !7).is_some()) {
        fatal(
            headline,
            &[format_args!(
                "stack overflow: the stack ran into the unmapped page at {:#x}",
                cr2 & !0xfff
            )],
            &frame,
            backtrace,
        )
    } else {
        fatal(
            headline,
            &[format_args!("CR2 (the last page-fault address): {cr2:#x}")],
            &frame,
            backtrace,
        )
    }
}

//! The Interrupt Descriptor Table: what the CPU does on an exception.
//!
//! Every exception that signals a kernel bug (page fault, general protection,
//! invalid opcode, double fault, ...) prints the panic screen
//! ([`crate::panic::exception`]) and halts, instead of a silent reset: the
//! exception's name, what the CPU reported decoded into words (for a page
//! fault the address and the error code, for #GP/#TS/#NP/#SS the selector),
//! the state it saved, and a backtrace whose frame 0 is the faulting
//! instruction. A breakpoint (`int3`) prints the same state and backtrace,
//! then returns. Vectors 32–255 (hardware interrupts, and any other vector)
//! go to the interrupt dispatcher through `irq.rs`.
//!
//! The backtrace needs the interrupted code's frame pointer. An
//! `x86-interrupt` handler built with frame pointers starts with `push rbp;
//! mov rbp, rsp` right after the frame the CPU pushed (after one alignment
//! push when there is an error code), so `[rbp]` in the handler is the
//! interrupted RBP, with or without an error code (checked in the
//! disassembly).

use core::fmt;

use spin::Once;
use x86_64::registers::control::Cr2;
use x86_64::structures::idt::{
    InterruptDescriptorTable, InterruptStackFrame, InterruptStackFrameValue, PageFaultErrorCode,
};

use super::gdt::DOUBLE_FAULT_IST_INDEX;
use crate::debug::{
    self,
    backtrace::{Kind, Start},
    fault::{PageFaultCode, SelectorCode, looks_like_stack_overflow},
};
use crate::panic::Exception;

/// The table; it must live for as long as the CPU may use it (forever).
/// Filled in by [`init`]: a `Once` not yet run is zero bits, so the 4 KiB
/// table is in `.bss` rather than initialised data in the kernel file.
static IDT: Once<InterruptDescriptorTable> = Once::new();

/// The table with every exception's handler.
fn table() -> InterruptDescriptorTable {
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
    super::irq::install(&mut idt);
    idt
}

/// Loads the IDT. Requires the GDT and TSS from `gdt::init`.
pub fn init() {
    IDT.call_once(table).load();
}

/// The state the CPU pushed, in one readable line.
struct Frame<'a>(&'a InterruptStackFrameValue);

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
fn backtrace_from(frame: &InterruptStackFrameValue, kind: Kind, handler_rbp: u64) -> Start {
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
    frame: &InterruptStackFrameValue,
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

fatal_exceptions! {
    divide_error: "divide error (#DE)";
    debug_exception: "debug (#DB)";
    non_maskable_interrupt: "non-maskable interrupt (NMI)";
    overflow: "overflow (#OF)";
    bound_range_exceeded: "bound range exceeded (#BR)";
    invalid_opcode: "invalid opcode (#UD)";
    device_not_available: "device not available (#NM)";
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

// --- exceptions with an error code ------------------------------------------
//
// This toolchain's LLVM lays out an `x86-interrupt` handler that takes an
// error code with RSP 8 bytes off the 16-byte alignment the ABI promises
// every call (fixed upstream by llvm/llvm-project#224029: the alignment
// push was counted twice). Release code does not notice; a debug build's
// precondition checks do (a 16-byte-aligned local in compiler_builtins'
// memcmp, under the screen writer, trips one and the report dies in a #UD).
// So these handlers only collect what the CPU gave into an [`ErrorFault`]
// and call its report on a realigned stack. All of them are fatal, so the
// stack is never given back.

/// The exceptions that push an error code.
#[derive(Clone, Copy)]
enum WithCode {
    InvalidTss,
    SegmentNotPresent,
    StackSegment,
    GeneralProtection,
    AlignmentCheck,
    PageFault,
    DoubleFault,
}

/// What a handler with an error code hands to [`report_error_fault`].
struct ErrorFault {
    /// Which exception.
    vector: WithCode,
    /// The state the CPU pushed.
    frame: InterruptStackFrameValue,
    /// The error code it pushed.
    code: u64,
    /// The handler's own RBP: `[handler_rbp]` is the interrupted RBP.
    handler_rbp: u64,
    /// CR2, read first thing (for #PF and #DF).
    cr2: u64,
}

/// Calls [`report_error_fault`] with `fault` on a 16-byte-aligned stack.
/// Inlined, so it runs in the handler's frame, below everything the handler
/// keeps (`fault` included).
#[inline(always)]
fn report_on_aligned_stack(fault: &ErrorFault) -> ! {
    let report: extern "C" fn(&ErrorFault) -> ! = report_error_fault;
    // SAFETY: rounding RSP down only moves it further below the handler's
    // live data (`fault` lies above it, in the handler's frame, and stays
    // valid: nothing ever returns to pop it), so the call gets a fresh,
    // aligned part of the same stack. `report` takes its one argument in RDI
    // as the C ABI says and never returns, so no register or stack state is
    // needed afterwards.
    unsafe {
        core::arch::asm!(
            "and rsp, -16",
            "call {report}",
            report = in(reg) report,
            in("rdi") fault,
            options(noreturn),
        );
    }
}

/// Defines the handlers that take a plain `u64` error code.
macro_rules! with_error_code {
    ($($name:ident: $vector:ident;)*) => {$(
        extern "x86-interrupt" fn $name(frame: InterruptStackFrame, code: u64) {
            let fault = ErrorFault {
                vector: WithCode::$vector,
                frame: *frame,
                code,
                handler_rbp: debug::frame_pointer(),
                cr2: 0,
            };
            report_on_aligned_stack(&fault)
        }
    )*};
}

with_error_code! {
    invalid_tss: InvalidTss;
    segment_not_present: SegmentNotPresent;
    stack_segment_fault: StackSegment;
    general_protection_fault: GeneralProtection;
    alignment_check: AlignmentCheck;
}

/// A page fault: CR2 holds the address that was accessed.
extern "x86-interrupt" fn page_fault(frame: InterruptStackFrame, code: PageFaultErrorCode) {
    let fault = ErrorFault {
        vector: WithCode::PageFault,
        frame: *frame,
        code: code.bits(),
        handler_rbp: debug::frame_pointer(),
        cr2: Cr2::read_raw(),
    };
    report_on_aligned_stack(&fault)
}

/// A fault while delivering another one; runs on its own stack (IST), so it
/// works even after a kernel stack overflow.
extern "x86-interrupt" fn double_fault(frame: InterruptStackFrame, code: u64) -> ! {
    let fault = ErrorFault {
        vector: WithCode::DoubleFault,
        frame: *frame,
        code,
        handler_rbp: debug::frame_pointer(),
        cr2: Cr2::read_raw(),
    };
    report_on_aligned_stack(&fault)
}

/// Reports an exception with an error code and halts: the error code
/// decoded (a selector for #TS/#NP/#SS/#GP; for a page fault CR2, the code
/// in words and the symbol the address lies in; for a double fault whether
/// the stack ran into its guard page).
extern "C" fn report_error_fault(fault: &ErrorFault) -> ! {
    let frame = &fault.frame;
    let code = fault.code;
    let backtrace = backtrace_from(frame, Kind::Here, fault.handler_rbp);
    let selector = format_args!("error code {:#x}: {}", code, SelectorCode(code));
    match fault.vector {
        WithCode::InvalidTss => fatal(
            format_args!("invalid TSS (#TS)"),
            &[selector],
            frame,
            backtrace,
        ),
        WithCode::SegmentNotPresent => fatal(
            format_args!("segment not present (#NP)"),
            &[selector],
            frame,
            backtrace,
        ),
        WithCode::StackSegment => fatal(
            format_args!("stack-segment fault (#SS)"),
            &[selector],
            frame,
            backtrace,
        ),
        // With no selector, the usual causes are an address that is not
        // canonical or an instruction the kernel may not execute.
        WithCode::GeneralProtection => fatal(
            format_args!("general protection fault (#GP)"),
            &[format_args!(
                "{selector}{}",
                if code == 0 {
                    " (e.g. a non-canonical address)"
                } else {
                    ""
                }
            )],
            frame,
            backtrace,
        ),
        // Its error code is always 0, so it is not shown.
        WithCode::AlignmentCheck => {
            fatal(format_args!("alignment check (#AC)"), &[], frame, backtrace)
        }
        WithCode::PageFault => page_fault_report(fault, backtrace),
        WithCode::DoubleFault => double_fault_report(fault, backtrace),
    }
}

/// A page fault's report. For an instruction fetch from a bad address (a
/// call through a bad pointer), the word at RSP is the caller's return
/// address, which the frame-pointer walk would miss, so the backtrace shows
/// it after RIP.
fn page_fault_report(fault: &ErrorFault, mut backtrace: Start) -> ! {
    let (frame, address) = (&fault.frame, fault.cr2);
    let code = PageFaultCode(fault.code);
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
                frame,
                backtrace,
            ),
            None => fatal(headline, &[words], frame, backtrace),
        },
    )
}

/// A double fault's report, which names a stack overflow: the stack
/// pointer sits right above an unmapped page, where the last page fault
/// (CR2) happened.
fn double_fault_report(fault: &ErrorFault, backtrace: Start) -> ! {
    let (frame, cr2) = (&fault.frame, fault.cr2);
    let rsp = frame.stack_pointer.as_u64();
    let headline = format_args!("double fault (#DF)");
    if looks_like_stack_overflow(rsp, cr2, |address| debug::read_word(address & !7).is_some()) {
        fatal(
            headline,
            &[format_args!(
                "stack overflow: the stack ran into the unmapped page at {:#x}",
                cr2 & !0xfff
            )],
            frame,
            backtrace,
        )
    } else {
        fatal(
            headline,
            &[format_args!("CR2 (the last page-fault address): {cr2:#x}")],
            frame,
            backtrace,
        )
    }
}

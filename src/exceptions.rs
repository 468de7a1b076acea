//! What a CPU exception does: the policy above the CPU layer's entry points
//! (`arch`'s IDT), registered at init with [`init`].
//!
//! Every exception that signals a kernel bug (page fault, general
//! protection, invalid opcode, double fault, ...) prints the panic screen
//! ([`crate::panic::exception`]) and halts, instead of a silent reset: the
//! exception's name, what the CPU reported decoded into words (for a page
//! fault the address and the error code, for #GP/#TS/#NP/#SS the selector),
//! the state it saved, and a backtrace whose frame 0 is the faulting
//! instruction. A breakpoint (`int3`) prints the same state and backtrace,
//! then returns.

use core::fmt;

use crate::arch::{CpuException, ExceptionVector as Vector, InterruptStackFrameValue};
use crate::debug::{
    self,
    backtrace::{Kind, Start},
    fault::{PageFaultCode, SelectorCode, looks_like_stack_overflow},
};
use crate::panic::Exception;

/// Registers [`handle`] as what every CPU exception is handed to. Call
/// right after `arch::init`.
pub fn init() {
    crate::arch::set_exception_handler(handle);
}

/// What an exception in ring 3 is handed to: the process layer's, which
/// ends the program and never returns (registered at init, so this layer
/// does not name the one above).
pub type UserFaultHandler = fn(&CpuException, &UserFault) -> !;

/// The registered handler for exceptions in ring 3.
static USER_FAULT: spin::Once<UserFaultHandler> = spin::Once::new();

/// Registers what an exception in ring 3 is handed to (the first call wins).
pub fn set_user_fault_handler(handler: UserFaultHandler) {
    USER_FAULT.call_once(|| handler);
}

/// An exception in ring 3, in words: `Display` gives e.g. `page fault
/// writing 0x10 (a non-present page)` or `general protection fault (error
/// code 0)`, for the line that reports the killed program.
pub struct UserFault<'a>(&'a CpuException);

impl UserFault<'_> {
    /// The address a page fault accessed, for a page fault.
    pub fn address(&self) -> Option<u64> {
        (self.0.vector == Vector::PageFault).then_some(self.0.cr2)
    }
}

impl fmt::Display for UserFault<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exception = self.0;
        let code = exception.error_code.unwrap_or(0);
        match exception.vector {
            Vector::PageFault => {
                let code = PageFaultCode(code);
                let verb = if code.is_instruction_fetch() {
                    "executing"
                } else if code.0 & PAGE_FAULT_WRITE != 0 {
                    "writing"
                } else {
                    "reading"
                };
                let page = if code.0 & PAGE_FAULT_PRESENT == 0 {
                    "not mapped"
                } else {
                    "not allowed"
                };
                write!(f, "page fault {verb} {:#x} ({page})", exception.cr2)
            }
            Vector::GeneralProtection => {
                write!(f, "general protection fault (error code {code:#x})")
            }
            Vector::Breakpoint => f.write_str("breakpoint (int3)"),
            Vector::Debug => f.write_str("debug trap"),
            vector => f.write_str(title(vector).split(" (#").next().unwrap_or(title(vector))),
        }
    }
}

/// Page-fault error code bit 0: the page was present (a rights violation).
const PAGE_FAULT_PRESENT: u64 = 1 << 0;
/// Page-fault error code bit 1: the access was a write.
const PAGE_FAULT_WRITE: u64 = 1 << 1;

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

/// The exception's name in the report, e.g. `page fault (#PF)`.
fn title(vector: Vector) -> &'static str {
    match vector {
        Vector::DivideError => "divide error (#DE)",
        Vector::Debug => "debug (#DB)",
        Vector::NonMaskable => "non-maskable interrupt (NMI)",
        Vector::Breakpoint => "breakpoint (#BP)",
        Vector::Overflow => "overflow (#OF)",
        Vector::BoundRange => "bound range exceeded (#BR)",
        Vector::InvalidOpcode => "invalid opcode (#UD)",
        Vector::DeviceNotAvailable => "device not available (#NM)",
        Vector::DoubleFault => "double fault (#DF)",
        Vector::InvalidTss => "invalid TSS (#TS)",
        Vector::SegmentNotPresent => "segment not present (#NP)",
        Vector::StackSegment => "stack-segment fault (#SS)",
        Vector::GeneralProtection => "general protection fault (#GP)",
        Vector::PageFault => "page fault (#PF)",
        Vector::AlignmentCheck => "alignment check (#AC)",
    }
}

/// Where the backtrace of an exception starts: the interrupted instruction
/// (`kind` says whether RIP is the instruction itself, for a fault, or the
/// one after it, for a trap), then the interrupted code's frames, from the
/// RBP the entry point saved at `[handler_rbp]`.
fn backtrace_from(exception: &CpuException, kind: Kind) -> Start {
    Start {
        rip: Some((exception.frame.instruction_pointer.as_u64(), kind)),
        pushed_return: None,
        rbp: debug::read_word(exception.handler_rbp).unwrap_or(0),
    }
}

/// Reports a fatal exception and halts.
fn fatal(exception: &CpuException, headline: fmt::Arguments, details: &[fmt::Arguments]) -> ! {
    fatal_from(
        exception,
        headline,
        details,
        backtrace_from(exception, Kind::Here),
    )
}

/// Reports a fatal exception with the backtrace `backtrace`, and halts.
fn fatal_from(
    exception: &CpuException,
    headline: fmt::Arguments,
    details: &[fmt::Arguments],
    backtrace: Start,
) -> ! {
    crate::panic::exception(Exception {
        headline,
        details,
        frame: format_args!("{}", Frame(&exception.frame)),
        backtrace,
        fault_address: matches!(exception.vector, Vector::PageFault | Vector::DoubleFault)
            .then_some(exception.cr2),
    })
}

/// What every exception is handed to: a breakpoint is reported and
/// returns; every other exception is reported as fatal (the error code
/// decoded: a selector for #TS/#NP/#SS/#GP; for a page fault CR2, the code
/// in words and the symbol the address lies in; for a double fault whether
/// the stack ran into its guard page).
fn handle(exception: &CpuException) {
    // A program's fault ends the program, not the kernel. (An NMI is the
    // CPU's or another CPU's, whatever ring it interrupted.)
    if exception.frame.code_segment.rpl() == crate::arch::PrivilegeLevel::Ring3
        && exception.vector != Vector::NonMaskable
        && let Some(handler) = USER_FAULT.get()
    {
        handler(exception, &UserFault(exception));
    }
    let name = title(exception.vector);
    let code = exception.error_code.unwrap_or(0);
    let selector = format_args!("error code {:#x}: {}", code, SelectorCode(code));
    match exception.vector {
        Vector::Breakpoint => breakpoint(exception),
        Vector::InvalidTss | Vector::SegmentNotPresent | Vector::StackSegment => {
            fatal(exception, format_args!("{name}"), &[selector])
        }
        // With no selector, the usual causes are an address that is not
        // canonical or an instruction the kernel may not execute.
        Vector::GeneralProtection => fatal(
            exception,
            format_args!("{name}"),
            &[format_args!(
                "{selector}{}",
                if code == 0 {
                    " (e.g. a non-canonical address)"
                } else {
                    ""
                }
            )],
        ),
        Vector::PageFault => page_fault(exception),
        Vector::DoubleFault => double_fault(exception),
        // #AC's error code is always 0, so it is not shown; the others
        // have none.
        _ => fatal(exception, format_args!("{name}"), &[]),
    }
}

/// `int3`: report and carry on, as a debugger breakpoint would. RIP is the
/// instruction after the `int3`.
fn breakpoint(exception: &CpuException) {
    println!(
        "{} at {}",
        title(Vector::Breakpoint),
        Frame(&exception.frame)
    );
    debug::print_backtrace(backtrace_from(exception, Kind::After), |line| {
        println!("{line}")
    });
}

/// A page fault's report. For an instruction fetch from a bad address (a
/// call through a bad pointer), the word at RSP is the caller's return
/// address, which the frame-pointer walk would miss, so the backtrace shows
/// it after RIP.
fn page_fault(exception: &CpuException) -> ! {
    let address = exception.cr2;
    let code = PageFaultCode(exception.error_code.unwrap_or(0));
    let mut backtrace = backtrace_from(exception, Kind::Here);
    if code.is_instruction_fetch() {
        backtrace.pushed_return = debug::read_word(exception.frame.stack_pointer.as_u64());
    }
    let headline = format_args!("{} accessing {address:#x}", title(Vector::PageFault));
    let words = format_args!("{code} (error code {:#x})", code.0);
    // Only a mapped address can hold what a symbol names: the boot code's
    // symbols cover low addresses the kernel no longer maps.
    let mapped = crate::arch::translate(address).is_some();
    debug::with_symbols(|symbols| {
        match symbols.and_then(|found| found.ok()?.resolve(address).filter(|_| mapped)) {
            Some(symbol) => fatal_from(
                exception,
                headline,
                &[
                    words,
                    format_args!("accessed address: {symbol}+{:#x}", address - symbol.start),
                ],
                backtrace,
            ),
            None => fatal_from(exception, headline, &[words], backtrace),
        }
    })
}

/// A double fault's report, which names a stack overflow: the stack
/// pointer sits right above an unmapped page, where the last page fault
/// (CR2) happened.
fn double_fault(exception: &CpuException) -> ! {
    let cr2 = exception.cr2;
    let rsp = exception.frame.stack_pointer.as_u64();
    let headline = format_args!("{}", title(Vector::DoubleFault));
    if looks_like_stack_overflow(rsp, cr2, |address| debug::read_word(address & !7).is_some()) {
        fatal(
            exception,
            headline,
            &[format_args!(
                "stack overflow: the stack ran into the unmapped page at {:#x}",
                cr2 & !0xfff
            )],
        )
    } else {
        fatal(
            exception,
            headline,
            &[format_args!("CR2 (the last page-fault address): {cr2:#x}")],
        )
    }
}

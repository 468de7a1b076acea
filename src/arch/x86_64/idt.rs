//! The Interrupt Descriptor Table: the CPU's entry points for exceptions,
//! and what they hand on.
//!
//! Mechanism only. Each exception's entry point collects what the CPU
//! reported into a [`CpuException`] (which exception, the state it pushed,
//! the error code, CR2, and the handler's frame pointer for a backtrace)
//! and hands it to the handler the kernel registered with
//! [`set_exception_handler`]: the policy (what to report, what happens
//! next) lives above the CPU layer, in `crate::exceptions`. A breakpoint
//! (`int3`) returns to the code after it; every other exception is fatal:
//! if the registered handler returns, or none is registered yet, the CPU
//! halts here for good. Vectors 32–255 (hardware interrupts, and any other
//! vector) go to the registered interrupt dispatcher through `irq.rs`.
//!
//! The backtrace needs the interrupted code's frame pointer. An
//! `x86-interrupt` handler built with frame pointers starts with `push rbp;
//! mov rbp, rsp` right after the frame the CPU pushed (after one alignment
//! push when there is an error code), so `[rbp]` in the handler is the
//! interrupted RBP, with or without an error code (checked in the
//! disassembly).

use spin::Once;
use x86_64::VirtAddr;
use x86_64::registers::control::Cr2;
use x86_64::structures::idt::{
    InterruptDescriptorTable, InterruptStackFrame, InterruptStackFrameValue, PageFaultErrorCode,
};

use super::frame_pointer;
use super::gdt::DOUBLE_FAULT_IST_INDEX;

/// The table; it must live for as long as the CPU may use it (forever).
/// Filled in by [`init`]: a `Once` not yet run is zero bits, so the 4 KiB
/// table is in `.bss` rather than initialised data in the kernel file.
static IDT: Once<InterruptDescriptorTable> = Once::new();

/// The exceptions the kernel installs entry points for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vector {
    /// #DE, vector 0.
    DivideError,
    /// #DB, vector 1.
    Debug,
    /// NMI, vector 2.
    NonMaskable,
    /// #BP, vector 3: `int3`; the only one that returns.
    Breakpoint,
    /// #OF, vector 4.
    Overflow,
    /// #BR, vector 5.
    BoundRange,
    /// #UD, vector 6.
    InvalidOpcode,
    /// #NM, vector 7.
    DeviceNotAvailable,
    /// #DF, vector 8: on its own stack (IST); error code always 0.
    DoubleFault,
    /// #TS, vector 10: a selector error code.
    InvalidTss,
    /// #NP, vector 11: a selector error code.
    SegmentNotPresent,
    /// #SS, vector 12: a selector error code.
    StackSegment,
    /// #GP, vector 13: a selector error code.
    GeneralProtection,
    /// #PF, vector 14: a page-fault error code, the address in CR2.
    PageFault,
    /// #AC, vector 17: error code always 0.
    AlignmentCheck,
}

/// One exception, as its entry point collected it.
pub struct CpuException {
    /// Which exception.
    pub vector: Vector,
    /// The state the CPU pushed: RIP, CS, RFLAGS, RSP, SS.
    pub frame: InterruptStackFrameValue,
    /// The error code the CPU pushed, for the vectors that have one.
    pub error_code: Option<u64>,
    /// CR2, read first thing: the faulting address for #PF, the last one
    /// for #DF; 0 for the others.
    pub cr2: u64,
    /// The entry point's own RBP: `[handler_rbp]` is the interrupted RBP.
    pub handler_rbp: u64,
}

/// What the kernel does with an exception. Runs with interrupts off.
pub type ExceptionHandler = fn(&CpuException);

/// The handler [`set_exception_handler`] registered. Read without a lock
/// (`Once::get` is one atomic load), so an exception inside any locked
/// section still reaches it.
static HANDLER: Once<ExceptionHandler> = Once::new();

/// Registers what every exception is handed to (the first call wins).
pub fn set_exception_handler(handler: ExceptionHandler) {
    HANDLER.call_once(|| handler);
}

/// Hands `exception` to the registered handler, if there is one.
fn deliver(exception: &CpuException) {
    if let Some(handler) = HANDLER.get() {
        handler(exception);
    }
}

/// The table with every exception's entry point: the stubs below, each in
/// front of its handler.
fn table() -> InterruptDescriptorTable {
    let mut idt = InterruptDescriptorTable::new();
    /// Points `$entry` at stub `$stub`.
    macro_rules! point {
        ($($entry:ident: $stub:ident;)*) => {$(
            // SAFETY: the stub is an entry point for this vector (below),
            // in the kernel code segment `set_handler_addr` takes from CS.
            unsafe { idt.$entry.set_handler_addr(stub(&raw const $stub)) };
        )*};
    }
    point! {
        divide_error: kestrel_exception_divide_error;
        debug: kestrel_exception_debug;
        breakpoint: kestrel_exception_breakpoint;
        overflow: kestrel_exception_overflow;
        bound_range_exceeded: kestrel_exception_bound_range;
        invalid_opcode: kestrel_exception_invalid_opcode;
        device_not_available: kestrel_exception_device_not_available;
        invalid_tss: kestrel_exception_invalid_tss;
        segment_not_present: kestrel_exception_segment_not_present;
        stack_segment_fault: kestrel_exception_stack_segment;
        general_protection_fault: kestrel_exception_general_protection;
        page_fault: kestrel_exception_page_fault;
        alignment_check: kestrel_exception_alignment_check;
        non_maskable_interrupt: kestrel_exception_nmi;
    }
    // SAFETY: as above; DOUBLE_FAULT_IST_INDEX names the IST entry that
    // gdt.rs fills with the top of a stack used for nothing else.
    unsafe {
        idt.double_fault
            .set_handler_addr(stub(&raw const kestrel_exception_double_fault))
            .set_stack_index(DOUBLE_FAULT_IST_INDEX);
    }
    super::irq::install(&mut idt);
    idt
}

/// A stub's address, for the table.
fn stub(symbol: *const u8) -> VirtAddr {
    VirtAddr::new(symbol as u64)
}

/// The stub in front of an exception handler: from ring 3 (the saved CS's
/// low bits, `$cs` bytes up the stack: 8 without an error code, 16 with
/// one), it swaps GS to the per-CPU block first (see `user`). A handler
/// never returns to ring 3: the exception policy ends the program.
macro_rules! exception_stubs {
    ($($stub:ident => $handler:ident, $cs:literal;)*) => {
        core::arch::global_asm!($(
            concat!(".global ", stringify!($stub)),
            concat!(stringify!($stub), ":"),
            concat!("test byte ptr [rsp + ", $cs, "], 3"),
            concat!("jz ", stringify!($stub), "_kernel"),
            "swapgs",
            concat!(stringify!($stub), "_kernel:"),
            concat!("jmp {", stringify!($handler), "}"),
        )* $($handler = sym $handler,)*);
        unsafe extern "C" {
            $(static $stub: u8;)*
        }
    };
}

exception_stubs! {
    kestrel_exception_divide_error => divide_error, 8;
    kestrel_exception_debug => debug_exception, 8;
    kestrel_exception_breakpoint => breakpoint, 8;
    kestrel_exception_overflow => overflow, 8;
    kestrel_exception_bound_range => bound_range_exceeded, 8;
    kestrel_exception_invalid_opcode => invalid_opcode, 8;
    kestrel_exception_device_not_available => device_not_available, 8;
    kestrel_exception_invalid_tss => invalid_tss, 16;
    kestrel_exception_segment_not_present => segment_not_present, 16;
    kestrel_exception_stack_segment => stack_segment_fault, 16;
    kestrel_exception_general_protection => general_protection_fault, 16;
    kestrel_exception_alignment_check => alignment_check, 16;
    kestrel_exception_double_fault => double_fault, 16;
}

// A page fault from ring 3 may be a page a program reserved and has not
// touched yet (`user::set_demand_pager`): the stub swaps GS, saves the
// registers a call clobbers, and asks; when the page was mapped it returns
// to the program (the instruction runs again); otherwise, and for a fault
// in the kernel, the handler below reports it.
core::arch::global_asm!(
    ".global kestrel_exception_page_fault",
    "kestrel_exception_page_fault:",
    "test byte ptr [rsp + 16], 3",
    "jz 3f",
    "swapgs",
    "push rax",
    "push rcx",
    "push rdx",
    "push rsi",
    "push rdi",
    "push r8",
    "push r9",
    "push r10",
    "push r11",
    "cld",
    "mov rdi, cr2",
    "mov rsi, [rsp + 72]", // the error code
    "push rbp",            // 10 words on the CPU's 6 (error code included): aligned
    "xor ebp, ebp",
    "call {demand}",
    "pop rbp",
    "test al, al",
    "pop r11",
    "pop r10",
    "pop r9",
    "pop r8",
    "pop rdi",
    "pop rsi",
    "pop rdx",
    "pop rcx",
    "pop rax",
    "jz 3f",
    "add rsp, 8", // the error code
    "swapgs",
    "iretq",
    // Not a page to map: the handler, with the frame as the CPU pushed it
    // (GS already the kernel's for a fault from ring 3).
    "3:",
    "jmp {handler}",
    demand = sym super::user::demand_page,
    handler = sym page_fault,
);

unsafe extern "C" {
    static kestrel_exception_page_fault: u8;
}

/// IA32_GS_BASE: GS's base, the per-CPU block's address in the kernel.
const IA32_GS_BASE: u32 = 0xc000_0101;

// An NMI can arrive anywhere, also between `syscall` and the entry's
// `swapgs`, where CS is the kernel's but GS still the user's: so the NMI
// stub looks at GS itself. The kernel's GS base is an upper-half address
// (its high half negative), a program's never is. The handler never
// returns (it halts this CPU).
core::arch::global_asm!(
    ".global kestrel_exception_nmi",
    "kestrel_exception_nmi:",
    "push rax",
    "push rcx",
    "push rdx",
    "mov ecx, {gs_base}",
    "rdmsr",
    "test edx, edx",
    "js 2f",
    "swapgs",
    "2:",
    "pop rdx",
    "pop rcx",
    "pop rax",
    "jmp {handler}",
    gs_base = const IA32_GS_BASE,
    handler = sym non_maskable_interrupt,
);

unsafe extern "C" {
    static kestrel_exception_nmi: u8;
}

/// Loads the IDT. Requires the GDT and TSS from `gdt::init`.
pub fn init() {
    IDT.call_once(table).load();
}

/// Loads the same table on another CPU (after [`init`]).
pub fn init_this_cpu() {
    IDT.get().expect("idt::init has not run").load();
}

/// Defines the entry points of the fatal exceptions without an error code.
macro_rules! without_error_code {
    ($($name:ident: $vector:ident;)*) => {$(
        extern "x86-interrupt" fn $name(frame: InterruptStackFrame) {
            let exception = CpuException {
                vector: Vector::$vector,
                frame: *frame,
                error_code: None,
                cr2: 0,
                handler_rbp: frame_pointer(),
            };
            deliver(&exception);
            super::halt_forever()
        }
    )*};
}

without_error_code! {
    divide_error: DivideError;
    debug_exception: Debug;
    overflow: Overflow;
    bound_range_exceeded: BoundRange;
    invalid_opcode: InvalidOpcode;
    device_not_available: DeviceNotAvailable;
}

/// `int3`: handed on, then the code after it carries on, as after a
/// debugger breakpoint. RIP is the instruction after the `int3`.
/// An NMI: the stop another CPU sends when the kernel dies there
/// (`smp::stop_others`), which halts this CPU without a report; any other
/// is reported as an exception.
extern "x86-interrupt" fn non_maskable_interrupt(frame: InterruptStackFrame) {
    if super::smp::stopping_by_other() {
        super::smp::halt_for_stop();
    }
    deliver(&CpuException {
        vector: Vector::NonMaskable,
        frame: *frame,
        error_code: None,
        cr2: 0,
        handler_rbp: frame_pointer(),
    });
    super::halt_forever()
}

extern "x86-interrupt" fn breakpoint(frame: InterruptStackFrame) {
    deliver(&CpuException {
        vector: Vector::Breakpoint,
        frame: *frame,
        error_code: None,
        cr2: 0,
        handler_rbp: frame_pointer(),
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
// So these handlers only collect what the CPU gave into a [`CpuException`]
// and hand it on from a realigned stack. All of them are fatal, so the
// stack is never given back.

/// Hands `exception` on, then halts, on a 16-byte-aligned stack. Inlined,
/// so it runs in the entry point's frame, below everything the entry point
/// keeps (`exception` included).
#[inline(always)]
fn deliver_on_aligned_stack(exception: &CpuException) -> ! {
    let fatal: extern "C" fn(&CpuException) -> ! = deliver_fatal;
    // SAFETY: rounding RSP down only moves it further below the handler's
    // live data (`exception` lies above it, in the handler's frame, and
    // stays valid: nothing ever returns to pop it), so the call gets a
    // fresh, aligned part of the same stack. `fatal` takes its one argument
    // in RDI as the C ABI says and never returns, so no register or stack
    // state is needed afterwards.
    unsafe {
        core::arch::asm!(
            "and rsp, -16",
            "call {fatal}",
            fatal = in(reg) fatal,
            in("rdi") exception,
            options(noreturn),
        );
    }
}

/// A fatal exception with an error code: handed on, then a halt.
extern "C" fn deliver_fatal(exception: &CpuException) -> ! {
    deliver(exception);
    super::halt_forever()
}

/// Defines the entry points that take a plain `u64` error code.
macro_rules! with_error_code {
    ($($name:ident: $vector:ident;)*) => {$(
        extern "x86-interrupt" fn $name(frame: InterruptStackFrame, code: u64) {
            let exception = CpuException {
                vector: Vector::$vector,
                frame: *frame,
                error_code: Some(code),
                cr2: 0,
                handler_rbp: frame_pointer(),
            };
            deliver_on_aligned_stack(&exception)
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
extern "x86-interrupt" fn page_fault(mut frame: InterruptStackFrame, code: PageFaultErrorCode) {
    // A copy to or from user memory that hit a missing page: a page the
    // program reserved is mapped and the copy goes on; otherwise it
    // resumes at its fixup, which returns how much was left
    // (`user::copy_user`).
    if frame.code_segment.rpl() == x86_64::PrivilegeLevel::Ring0
        && let Some(fixup) = super::user::fault_fixup(frame.instruction_pointer.as_u64())
    {
        if super::user::demand_page(Cr2::read_raw(), code.bits()) {
            return;
        }
        // SAFETY: the fixup is the same routine's way out, which needs
        // nothing but the registers the fault left; only RIP changes.
        unsafe {
            frame
                .as_mut()
                .update(|value| value.instruction_pointer = VirtAddr::new(fixup));
        }
        return;
    }
    let exception = CpuException {
        vector: Vector::PageFault,
        frame: *frame,
        error_code: Some(code.bits()),
        cr2: Cr2::read_raw(),
        handler_rbp: frame_pointer(),
    };
    deliver_on_aligned_stack(&exception)
}

/// A fault while delivering another one; runs on its own stack (IST), so it
/// works even after a kernel stack overflow.
extern "x86-interrupt" fn double_fault(frame: InterruptStackFrame, code: u64) -> ! {
    let exception = CpuException {
        vector: Vector::DoubleFault,
        frame: *frame,
        error_code: Some(code),
        cr2: Cr2::read_raw(),
        handler_rbp: frame_pointer(),
    };
    deliver_on_aligned_stack(&exception)
}

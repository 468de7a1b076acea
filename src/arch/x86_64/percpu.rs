//! Per-CPU data, found through the GS base: the CPU's number, the thread it
//! runs and its idle thread (as the scheduler names them: opaque words
//! here), the switch a tick asked for, how deep in interrupt handlers it
//! is, and its TSS, whose `rsp0` follows the running thread.
//!
//! The boot CPU's block is a static; each other CPU gets one from
//! [`new_block`] before it starts, and the system-call entry will reach
//! this one with `swapgs`. The block's first word is its own address, so
//! `gs:[0]` turns GS into a pointer.

use core::mem::offset_of;

use x86_64::VirtAddr;
use x86_64::registers::model_specific::GsBase;
use x86_64::structures::tss::TaskStateSegment;

/// One CPU's data. `repr(C)`: the assembly below reads fields at fixed
/// offsets.
#[repr(C)]
pub struct PerCpu {
    /// This block's own address.
    self_pointer: u64,
    /// The CPU's number (0: the boot CPU).
    cpu: u64,
    /// The running thread, as the scheduler names it (0: none yet).
    current: u64,
    /// How many interrupt handlers this CPU is inside (0: normal code).
    interrupt_depth: u64,
    /// This CPU's idle thread, as the scheduler names it.
    idle: u64,
    /// The thread a tick decided to switch to, plus one (0: none).
    pending_switch: u64,
    /// The user stack pointer, held by the system-call entry for the few
    /// instructions between `syscall` and the switch to the kernel stack.
    user_rsp: u64,
    /// The running thread's program, as the process layer names it (0: a
    /// kernel thread): set at each switch.
    user_context: u64,
    /// This CPU's TSS: its IST entries and `rsp0`.
    tss: TaskStateSegment,
}

/// The boot CPU's block (zero until [`init_boot_cpu`]).
static mut BOOT_CPU: PerCpu = PerCpu::new(0);

impl PerCpu {
    /// CPU `cpu`'s block, before [`init_this_cpu`].
    const fn new(cpu: u64) -> PerCpu {
        PerCpu {
            self_pointer: 0,
            cpu,
            current: 0,
            interrupt_depth: 0,
            idle: 0,
            pending_switch: 0,
            user_rsp: 0,
            user_context: 0,
            tss: TaskStateSegment::new(),
        }
    }
}

/// A block for CPU `cpu` (not the boot CPU), for the kernel's life. The CPU
/// itself points GS at it ([`init_this_cpu`]).
pub fn new_block(cpu: u64) -> *mut PerCpu {
    alloc::boxed::Box::leak(alloc::boxed::Box::new(PerCpu::new(cpu)))
}

/// The TSS in `block` (for its CPU's GDT).
pub fn tss_of(block: *mut PerCpu) -> *mut TaskStateSegment {
    // SAFETY: taking a field's address reads and writes nothing.
    unsafe { &raw mut (*block).tss }
}

/// Points GS at `block` ([`new_block`]'s, on the CPU it was made for).
pub fn init_this_cpu(block: *mut PerCpu) {
    // SAFETY: the block lives for the kernel's life and is this CPU's
    // alone; nothing else writes `self_pointer`.
    unsafe { (*block).self_pointer = block as u64 };
    GsBase::write(VirtAddr::from_ptr(block));
}

/// Offset of `current` in [`PerCpu`], for `gs:` accesses.
const CURRENT: usize = offset_of!(PerCpu, current);
/// Offset of `interrupt_depth` in [`PerCpu`].
const INTERRUPT_DEPTH: usize = offset_of!(PerCpu, interrupt_depth);
/// Offset of `cpu` in [`PerCpu`].
const CPU: usize = offset_of!(PerCpu, cpu);
/// Offset of `idle` in [`PerCpu`].
const IDLE: usize = offset_of!(PerCpu, idle);
/// Offset of `user_context` in [`PerCpu`].
const USER_CONTEXT: usize = offset_of!(PerCpu, user_context);
/// Offset of `pending_switch` in [`PerCpu`].
const PENDING_SWITCH: usize = offset_of!(PerCpu, pending_switch);

/// Offset of `user_rsp` in [`PerCpu`], for the system-call entry.
pub const USER_RSP: usize = offset_of!(PerCpu, user_rsp);
/// Offset of the TSS's `rsp0` in [`PerCpu`]: the running thread's kernel
/// stack top, where the system-call entry switches to (the TSS's first
/// field, a 4-byte reserved word, comes before it).
pub const KERNEL_STACK: usize = offset_of!(PerCpu, tss) + TSS_RSP0;
/// Offset of `rsp0` in the TSS (Intel SDM vol. 3A, 8.7: after a reserved
/// 32-bit word).
const TSS_RSP0: usize = 4;

/// The boot CPU's TSS, for its GDT (before GS points anywhere).
pub fn boot_tss() -> *mut TaskStateSegment {
    // SAFETY: taking a field's address reads and writes nothing.
    unsafe { &raw mut BOOT_CPU.tss }
}

/// Points GS at the boot CPU's block. Call once, early, before any other
/// function here.
pub fn init_boot_cpu() {
    init_this_cpu(&raw mut BOOT_CPU);
}

/// Reads word `OFFSET` of this CPU's block.
fn read_word<const OFFSET: usize>() -> u64 {
    let value: u64;
    // SAFETY: GS points at this CPU's block (init_this_cpu), and OFFSET is
    // one of its fields' offsets; reading writes nothing.
    unsafe {
        core::arch::asm!("mov {}, gs:[{off}]", out(reg) value, off = const OFFSET,
            options(nostack, readonly, preserves_flags));
    }
    value
}

/// Writes word `OFFSET` of this CPU's block.
fn write_word<const OFFSET: usize>(value: u64) {
    // SAFETY: as in `read_word`; the field is this CPU's, and its writers
    // (below) run with interrupts off or own it alone.
    unsafe {
        core::arch::asm!("mov gs:[{off}], {}", in(reg) value, off = const OFFSET,
            options(nostack, preserves_flags));
    }
}

/// This CPU's number (0: the boot CPU).
pub fn cpu() -> usize {
    read_word::<CPU>() as usize
}

/// This CPU's idle thread, as the scheduler named it.
pub fn idle() -> u64 {
    read_word::<IDLE>()
}

/// Records this CPU's idle thread (the scheduler, once per CPU).
pub fn set_idle(thread: u64) {
    write_word::<IDLE>(thread);
}

/// Asks this CPU to switch to `thread` on its way out of the interrupt
/// (the tick, with interrupts off).
pub fn request_switch(thread: u64) {
    write_word::<PENDING_SWITCH>(thread + 1);
}

/// The switch a tick asked for, if any, forgotten once read (the exit
/// hook, with interrupts off).
pub fn take_switch_request() -> Option<u64> {
    let pending = read_word::<PENDING_SWITCH>();
    if pending == 0 {
        return None;
    }
    write_word::<PENDING_SWITCH>(0);
    Some(pending - 1)
}

/// This CPU's block.
fn this() -> *mut PerCpu {
    read_word::<0>() as *mut PerCpu
}

/// The running thread, as the scheduler last set it.
pub fn current() -> u64 {
    read_word::<CURRENT>()
}

/// The running thread's program, as the process layer named it (0: none).
pub fn user_context() -> u64 {
    read_word::<USER_CONTEXT>()
}

/// Records the running thread's program (the scheduler, at each switch).
pub fn set_user_context(context: u64) {
    write_word::<USER_CONTEXT>(context);
}

/// Records the running thread (the scheduler, at each switch).
pub fn set_current(thread: u64) {
    write_word::<CURRENT>(thread);
}

/// The stack the CPU switches to on an interrupt from user mode: the
/// running thread's kernel stack top (TSS `rsp0`).
pub fn set_kernel_stack(top: u64) {
    let block = this();
    // SAFETY: the block is this CPU's; the CPU reads `rsp0` only when an
    // interrupt arrives from a lower privilege level, and this runs with
    // interrupts off (at a thread switch), so the write is not torn against
    // a use.
    unsafe { (*block).tss.privilege_stack_table[0] = VirtAddr::new(top) };
}

/// Whether this CPU is inside an interrupt handler.
pub fn in_interrupt() -> bool {
    read_word::<INTERRUPT_DEPTH>() != 0
}

/// An interrupt handler starts (the entry points call this).
pub fn enter_interrupt() {
    // SAFETY: increments this CPU's own counter in place; interrupts are
    // off in a handler, so nothing on this CPU interleaves.
    unsafe {
        core::arch::asm!("inc qword ptr gs:[{off}]", off = const INTERRUPT_DEPTH, options(nostack));
    }
}

/// An interrupt handler ends.
pub fn leave_interrupt() {
    // SAFETY: as in `enter_interrupt`.
    unsafe {
        core::arch::asm!("dec qword ptr gs:[{off}]", off = const INTERRUPT_DEPTH, options(nostack));
    }
}

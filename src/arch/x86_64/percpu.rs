//! Per-CPU data, found through the GS base: the CPU's number, the thread it
//! runs (as the scheduler names it: an opaque word here), how deep in
//! interrupt handlers it is, and its TSS, whose `rsp0` follows the running
//! thread.
//!
//! One CPU runs today (the boot CPU's block is a static); more CPUs get a
//! block each, and the system-call entry will reach this one with `swapgs`.
//! The block's first word is its own address, so `gs:[0]` turns GS into a
//! pointer.

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
    /// This CPU's TSS: its IST entries and `rsp0`.
    tss: TaskStateSegment,
}

/// The boot CPU's block (zero until [`init_boot_cpu`]).
static mut BOOT_CPU: PerCpu = PerCpu {
    self_pointer: 0,
    cpu: 0,
    current: 0,
    interrupt_depth: 0,
    tss: TaskStateSegment::new(),
};

/// Offset of `current` in [`PerCpu`], for `gs:` accesses.
const CURRENT: usize = offset_of!(PerCpu, current);
/// Offset of `interrupt_depth` in [`PerCpu`].
const INTERRUPT_DEPTH: usize = offset_of!(PerCpu, interrupt_depth);

/// The boot CPU's TSS, for its GDT (before GS points anywhere).
pub fn boot_tss() -> *mut TaskStateSegment {
    // SAFETY: taking a field's address reads and writes nothing.
    unsafe { &raw mut BOOT_CPU.tss }
}

/// Points GS at the boot CPU's block. Call once, early, before any other
/// function here.
pub fn init_boot_cpu() {
    let block = &raw mut BOOT_CPU;
    // SAFETY: the block is a static, so its address stays valid; only this
    // CPU uses it, and nothing else writes `self_pointer`.
    unsafe { (*block).self_pointer = block as u64 };
    GsBase::write(VirtAddr::from_ptr(block));
}

/// This CPU's block.
fn this() -> *mut PerCpu {
    let block: u64;
    // SAFETY: reads gs:[0], the block's own address (init_boot_cpu put GS
    // there); no memory is written.
    unsafe {
        core::arch::asm!("mov {}, gs:[0]", out(reg) block, options(nostack, readonly, preserves_flags));
    }
    block as *mut PerCpu
}

/// The running thread, as the scheduler last set it.
pub fn current() -> u64 {
    let current: u64;
    // SAFETY: as in `cpu`.
    unsafe {
        core::arch::asm!("mov {}, gs:[{off}]", out(reg) current, off = const CURRENT,
            options(nostack, readonly, preserves_flags));
    }
    current
}

/// Records the running thread (the scheduler, at each switch).
pub fn set_current(thread: u64) {
    // SAFETY: writes this CPU's own block through GS; only the scheduler
    // writes this field, with interrupts off.
    unsafe {
        core::arch::asm!("mov gs:[{off}], {}", in(reg) thread, off = const CURRENT,
            options(nostack, preserves_flags));
    }
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
    let depth: u64;
    // SAFETY: as in `cpu`.
    unsafe {
        core::arch::asm!("mov {}, gs:[{off}]", out(reg) depth, off = const INTERRUPT_DEPTH,
            options(nostack, readonly, preserves_flags));
    }
    depth != 0
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

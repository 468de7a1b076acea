//! The kernel's Global Descriptor Table and Task State Segment.
//!
//! In long mode segmentation is mostly gone, but the CPU still needs a code
//! segment, and a TSS to find a known-good stack for the double-fault handler
//! (Interrupt Stack Table, Intel SDM vol. 3, 7.7). Without it a kernel stack
//! overflow faults again while pushing the exception frame, and the resulting
//! triple fault resets the machine.

use spin::Lazy;
use x86_64::VirtAddr;
use x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use x86_64::instructions::tables::load_tss;
use x86_64::registers::segmentation::SegmentSelector;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable};

/// The IST slot (0-based, as the `x86_64` crate counts) of the double-fault stack.
pub const DOUBLE_FAULT_IST_INDEX: u16 = 0;

/// Size of the double-fault stack: enough to format and print a panic.
const DOUBLE_FAULT_STACK_SIZE: usize = 16 * 1024;

/// The guard below the stack: one page.
const GUARD_SIZE: usize = crate::arch::PAGE_SIZE as usize;

/// The stack the CPU switches to on a double fault, with a guard page below
/// it that the kernel's page tables leave unmapped.
#[repr(C, align(4096))] // PAGE_SIZE (an attribute takes a literal only)
struct GuardedStack {
    /// Never mapped once the kernel's own page tables are live.
    guard: [u8; GUARD_SIZE],
    /// The stack itself (grows down from its end).
    stack: [u8; DOUBLE_FAULT_STACK_SIZE],
}

/// Backing memory of the double-fault stack (in .bss).
static mut DOUBLE_FAULT_STACK: GuardedStack = GuardedStack {
    guard: [0; GUARD_SIZE],
    stack: [0; DOUBLE_FAULT_STACK_SIZE],
};

/// The address of the double-fault stack's guard page.
pub fn double_fault_stack_guard() -> u64 {
    // SAFETY: taking a field's address reads and writes nothing.
    unsafe { &raw const DOUBLE_FAULT_STACK.guard as u64 }
}

/// The boot CPU's GDT and the selectors of the segments in it. Its TSS is
/// the boot CPU's, in its per-CPU block (`percpu`), mutable: its `rsp0`
/// follows the running thread. Each other CPU gets its own GDT
/// ([`init_this_cpu`]), alike but for the TSS it names.
static GDT: Lazy<(GlobalDescriptorTable, Selectors)> = Lazy::new(|| {
    let tss = super::percpu::boot_tss();
    // SAFETY: taking a field's address reads and writes nothing.
    let start = VirtAddr::from_ptr(unsafe { &raw const DOUBLE_FAULT_STACK.stack });
    // SAFETY: the TSS is the boot CPU's, a static; nothing else uses it yet
    // (the GDT that names it is being built). Stacks grow down: the IST
    // entry is the top of the stack.
    unsafe {
        (*tss).interrupt_stack_table[DOUBLE_FAULT_IST_INDEX as usize] =
            start + DOUBLE_FAULT_STACK_SIZE as u64;
    }
    // SAFETY: the boot CPU's TSS, a static.
    unsafe { table(tss) }
});

/// A GDT naming `tss`, and its selectors.
///
/// # Safety
/// `tss` lives for the kernel's life, and the kernel changes only its
/// `rsp0` (percpu::set_kernel_stack), a field the CPU reads at an
/// interrupt from user mode, never while it is written.
unsafe fn table(
    tss: *mut x86_64::structures::tss::TaskStateSegment,
) -> (GlobalDescriptorTable, Selectors) {
    let mut gdt = GlobalDescriptorTable::new();
    let code = gdt.append(Descriptor::kernel_code_segment());
    let data = gdt.append(Descriptor::kernel_data_segment());
    // The user segments right after, data first: the order `sysret` needs
    // (see the constants).
    let user_data = gdt.append(Descriptor::user_data_segment());
    let user_code = gdt.append(Descriptor::user_code_segment());
    assert!(
        code.0 == KERNEL_CODE
            && data.0 == KERNEL_DATA
            && user_data.0 == USER_DATA
            && user_code.0 == USER_CODE,
        "the GDT's segments are not where STAR says"
    );
    // SAFETY: forwarded from the caller.
    let tss = gdt.append(unsafe { Descriptor::tss_segment_unchecked(tss) });
    (gdt, Selectors { code, data, tss })
}

/// The kernel's code segment selector. `syscall` loads CS from STAR bits
/// 32–47 and SS from the same plus 8: the kernel's data segment follows.
pub const KERNEL_CODE: u16 = 0x08;
/// The kernel's data (and stack) segment selector.
pub const KERNEL_DATA: u16 = 0x10;
/// The user data (and stack) segment selector, requested privilege 3.
/// `sysret` loads SS from STAR bits 48–63 plus 8, and CS from them plus
/// 16: so user data comes right before user code (Intel SDM vol. 2B,
/// SYSRET).
pub const USER_DATA: u16 = 0x18 | 3;
/// The 64-bit user code segment selector, requested privilege 3.
pub const USER_CODE: u16 = 0x20 | 3;
/// STAR bits 48–63 for `sysret`: user data minus 8 (index 2's selector,
/// whose requested privilege `sysret` sets to 3).
pub const SYSRET_BASE: u16 = USER_DATA - 3 - 8;

/// Selectors of the kernel's segments.
struct Selectors {
    code: SegmentSelector,
    data: SegmentSelector,
    tss: SegmentSelector,
}

/// Loads the boot CPU's GDT, reloads the segment registers from it and
/// loads the TSS.
pub fn init() {
    load(&GDT);
}

/// Points `tss`'s double-fault entry at the stack ending at `top` (a CPU's
/// own, before it starts).
pub fn set_double_fault_stack(tss: *mut x86_64::structures::tss::TaskStateSegment, top: u64) {
    // SAFETY: the TSS is a per-CPU block's, whose CPU has not started: no
    // CPU reads it meanwhile.
    unsafe { (*tss).interrupt_stack_table[DOUBLE_FAULT_IST_INDEX as usize] = VirtAddr::new(top) };
}

/// Gives the running CPU (not the boot CPU) a GDT of its own, naming `tss`
/// (its per-CPU block's, which lives for the kernel's life), and loads it.
pub fn init_this_cpu(tss: *mut x86_64::structures::tss::TaskStateSegment) {
    // SAFETY: the TSS is in a per-CPU block, never freed (percpu::new_block).
    let tables = alloc::boxed::Box::leak(alloc::boxed::Box::new(unsafe { table(tss) }));
    load(tables);
}

/// Loads `tables` (for the kernel's life), the segment registers and the TSS.
fn load(tables: &'static (GlobalDescriptorTable, Selectors)) {
    let (gdt, selectors) = tables;
    gdt.load();
    // SAFETY: the selectors index descriptors of the GDT just loaded, which
    // lives in a static for the rest of the kernel's life; the code segment is
    // a 64-bit kernel code segment, so execution continues unchanged.
    unsafe {
        CS::set_reg(selectors.code);
        DS::set_reg(selectors.data);
        ES::set_reg(selectors.data);
        SS::set_reg(selectors.data);
        load_tss(selectors.tss);
    }
}

//! The x86_64 CPU: descriptor tables, exceptions, paging, halting and the
//! QEMU exit device.
//!
//! The assembly trampoline (`asm/`) already put the CPU in long mode with a
//! minimal GDT and identity-mapped page tables; [`init`] replaces that GDT
//! with one that has a TSS (for a safe double-fault stack) and installs the
//! exception handlers.

pub mod gdt;
pub mod idt;
pub mod paging;
pub mod qemu_exit;

/// Loads the kernel's GDT and TSS, then the exception table. Call once, early.
pub fn init() {
    gdt::init();
    idt::init();
}

/// Stops this CPU for good: interrupts off, then `hlt` in a loop (a
/// non-maskable interrupt can still wake `hlt`, so it goes straight back).
pub fn halt_forever() -> ! {
    ::x86_64::instructions::interrupts::disable();
    loop {
        ::x86_64::instructions::hlt();
    }
}

//! The x86_64 CPU and the chips on every PC: descriptor tables, exceptions
//! and interrupt entry points, paging, the interrupt controllers (local
//! APIC, I/O APIC, 8259 PICs), the PIT, halting and the QEMU exit device.
//!
//! The assembly trampoline (`asm/`) already put the CPU in long mode with a
//! minimal GDT and identity-mapped page tables; [`init`] replaces that GDT
//! with one that has a TSS (for a safe double-fault stack) and installs the
//! exception handlers.

pub mod apic;
pub mod cmos;
pub mod cpuid;
pub mod gdt;
pub mod idt;
pub mod ioapic;
pub mod irq;
pub mod isa;
pub mod paging;
pub mod percpu;
pub mod pic;
pub mod pit;
pub mod port;
pub mod qemu_exit;
pub mod smp;
pub mod tlb;
pub mod user;

/// Loads the kernel's GDT and TSS, then the exception table. Call once, early.
pub fn init() {
    percpu::init_boot_cpu();
    gdt::init();
    idt::init();
    let features = cpuid::features();
    user::init_protection(features.smep, features.smap);
    user::init_this_cpu();
    log::debug!("arch: GDT with TSS, and exception handlers, loaded");
}

/// The per-CPU block for CPU `number` (not the boot CPU), before it
/// starts, with its double-fault stack ending at `double_fault_stack_top`.
pub fn new_cpu(number: u64, double_fault_stack_top: u64) -> *mut percpu::PerCpu {
    let block = percpu::new_block(number);
    gdt::set_double_fault_stack(percpu::tss_of(block), double_fault_stack_top);
    block
}

/// What [`init`] does, on another CPU as it starts: its per-CPU block
/// (`percpu::new_block`), a GDT naming its TSS, the shared exception
/// table, and the boot CPU's memory types (PAT).
pub fn init_this_cpu(block: *mut percpu::PerCpu) {
    percpu::init_this_cpu(block);
    gdt::init_this_cpu(percpu::tss_of(block));
    idt::init_this_cpu();
    user::init_this_cpu();
    paging::init_pat(paging::pat_enabled());
}

/// Stops this CPU for good: interrupts off, then `hlt` in a loop (a
/// non-maskable interrupt can still wake `hlt`, so it goes straight back).
pub fn halt_forever() -> ! {
    ::x86_64::instructions::interrupts::disable();
    loop {
        ::x86_64::instructions::hlt();
    }
}

/// The current function's frame pointer (RBP). Always inlined, so it is the
/// caller's own frame record: in an exception handler, `[rbp]` is the
/// interrupted code's RBP (checked on the built kernel: the handlers'
/// prologue starts with `push rbp; mov rbp, rsp`).
#[inline(always)]
pub fn frame_pointer() -> u64 {
    let rbp: u64;
    // SAFETY: copies RBP into a register; reads no memory, touches no stack
    // and keeps the flags.
    unsafe {
        core::arch::asm!("mov {}, rbp", out(reg) rbp, options(nomem, nostack, preserves_flags));
    }
    rbp
}

/// Whether maskable interrupts are on on this CPU (RFLAGS.IF).
pub fn interrupts_enabled() -> bool {
    ::x86_64::instructions::interrupts::are_enabled()
}

/// Turns maskable interrupts on on this CPU (`sti`).
pub fn enable_interrupts() {
    ::x86_64::instructions::interrupts::enable();
}

/// Sleeps until the next interrupt with interrupts on: `sti; hlt`, which
/// the CPU runs as one step (an interrupt right after `sti` still wakes the
/// `hlt`), so code that checked for work with interrupts off cannot miss
/// the interrupt that brings it. Returns with interrupts on.
pub fn enable_and_wait() {
    ::x86_64::instructions::interrupts::enable_and_hlt();
}

/// Resets the CPU the hard way: an empty IDT, then an exception, which
/// cannot be delivered, nor can the double fault after it: a triple fault,
/// which resets the machine (or ends QEMU under `-no-reboot`).
pub fn triple_fault() -> ! {
    use ::x86_64::VirtAddr;
    use ::x86_64::structures::DescriptorTablePointer;
    let empty = DescriptorTablePointer {
        limit: 0,
        base: VirtAddr::zero(),
    };
    disable_interrupts();
    // SAFETY: deliberately loads an IDT with no entries so that the next
    // exception resets the machine; nothing is expected to run afterwards.
    unsafe {
        ::x86_64::instructions::tables::lidt(&empty);
        core::arch::asm!("int3");
    }
    halt_forever()
}

/// Turns maskable interrupts off on this CPU (`cli`).
pub fn disable_interrupts() {
    ::x86_64::instructions::interrupts::disable();
}

/// Runs `f` with maskable interrupts off, restoring the previous state after:
/// a handler can then never wait for a lock `f` holds.
pub fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
    ::x86_64::instructions::interrupts::without_interrupts(f)
}

/// Zeroes the 4 KiB page at kernel address `page` (page-aligned, mapped,
/// writable, and the caller's to overwrite: a fresh frame in the direct
/// map) with `rep stosq`: 512 stores in one instruction, where the
/// compiler's `memset` for this soft-float target loops.
pub fn zero_frame(page: u64) {
    /// Quadwords in a page.
    const QUADWORDS: u64 = crate::arch::PAGE_SIZE / 8;
    debug_assert!(page.is_multiple_of(crate::arch::PAGE_SIZE));
    // SAFETY: the caller's promise: 4096 writable bytes at `page` that no
    // live reference covers; `rep stosq` writes exactly RCX quadwords at
    // RDI upwards (DF is clear in the kernel: the ABI's default).
    unsafe {
        core::arch::asm!(
            "rep stosq",
            inout("rdi") page => _,
            inout("rcx") QUADWORDS => _,
            in("rax") 0u64,
            options(nostack, preserves_flags),
        );
    }
}

/// Copies `count` bytes from `source` to `destination` with `rep movsb`
/// (for page-sized copies, where the compiler's `memcpy` for this target
/// loops word by word).
///
/// # Safety
/// As for `core::ptr::copy_nonoverlapping`: both ranges valid, not
/// overlapping.
pub unsafe fn copy_bytes(destination: *mut u8, source: *const u8, count: usize) {
    // SAFETY: forwarded from the caller; `rep movsb` moves exactly RCX
    // bytes from RSI to RDI upwards (DF clear, as the ABI keeps it).
    unsafe {
        core::arch::asm!(
            "rep movsb",
            inout("rdi") destination => _,
            inout("rsi") source => _,
            inout("rcx") count => _,
            options(nostack, preserves_flags),
        );
    }
}

/// The timestamp counter (`rdtsc`): cycles at a fixed rate since reset.
pub fn read_timestamp() -> u64 {
    // SAFETY: `rdtsc` only reads the timestamp counter; every x86_64 CPU has
    // it and the kernel leaves CR4.TSD clear, so it works at ring 0.
    unsafe { core::arch::x86_64::_rdtsc() }
}

unsafe extern "C" {
    /// The page below the boot stack (asm/boot.asm), left unmapped so that
    /// a stack overflow faults instead of overwriting the page tables.
    static stack_guard: u8;
}

/// The guard page below every kernel stack (the boot stack, the
/// double-fault stack): the kernel's page tables leave each unmapped.
pub fn stack_guard_pages() -> [u64; 2] {
    // Taking the address of a linker symbol reads nothing.
    [
        &raw const stack_guard as u64,
        gdt::double_fault_stack_guard(),
    ]
}

//! The CPU side of running several CPUs: the table of CPUs the kernel runs
//! on (number → APIC ID), waking one through the start page
//! (`asm/ap_start.asm`), interrupting one, and stopping the others when the
//! kernel dies.
//!
//! Policy (which CPUs to start, their stacks, what each runs) is the `smp`
//! module's, above.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use x86_64::registers::control::{Cr0, Cr3, Cr4};
use x86_64::registers::model_specific::Efer;

use super::apic;

/// The most CPUs the kernel runs on (a bit each in [`ONLINE`]).
pub const MAX_CPUS: usize = 64;

/// Vector of the TLB shootdown IPI (`tlb`).
pub const TLB_SHOOTDOWN_VECTOR: u8 = 0xf0;
/// Vector of the IPI that wakes a CPU to look at its run queue.
pub const RESCHEDULE_VECTOR: u8 = 0xf1;

/// The APIC ID of each CPU, by number.
static APIC_IDS: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(0) }; MAX_CPUS];
/// The CPUs that run the kernel, a bit each (bit 0: the boot CPU, once it
/// has an APIC; a machine without one has only it anyway).
static ONLINE: AtomicU64 = AtomicU64::new(1);
/// Set by the first CPU that stops the machine: the others halt at its NMI.
static STOPPING: AtomicBool = AtomicBool::new(false);
/// The CPU that is stopping the machine.
static STOPPED_BY: AtomicU64 = AtomicU64::new(u64::MAX);
/// The CPUs that have halted at the stop NMI, a bit each.
static HALTED: AtomicU64 = AtomicU64::new(0);
/// How long the stopping CPU waits for the others to halt, in timestamp
/// cycles (0.1 s at 2 GHz): a CPU with NMIs blocked (inside an NMI handler)
/// never answers, and the report must come anyway.
const STOP_WAIT_CYCLES: u64 = 200_000_000;

/// TLB shootdown IPIs received, on every CPU.
static SHOOTDOWNS_RECEIVED: AtomicU64 = AtomicU64::new(0);
/// Reschedule IPIs received, on every CPU.
static RESCHEDULES_RECEIVED: AtomicU64 = AtomicU64::new(0);

/// Counts an IPI of the CPU layer's own (the entry points, `irq`).
pub fn count_received(vector: u8) {
    match vector {
        TLB_SHOOTDOWN_VECTOR => SHOOTDOWNS_RECEIVED.fetch_add(1, Ordering::Relaxed),
        _ => RESCHEDULES_RECEIVED.fetch_add(1, Ordering::Relaxed),
    };
}

/// The IPIs received so far, on every CPU: (TLB shootdowns, reschedules).
pub fn received() -> (u64, u64) {
    (
        SHOOTDOWNS_RECEIVED.load(Ordering::Relaxed),
        RESCHEDULES_RECEIVED.load(Ordering::Relaxed),
    )
}

/// Records CPU `cpu` (APIC ID `apic_id`) as running the kernel.
pub fn mark_online(cpu: usize, apic_id: u32) {
    APIC_IDS[cpu].store(apic_id, Ordering::Relaxed);
    ONLINE.fetch_or(1 << cpu, Ordering::Release);
}

/// The CPUs that run the kernel, a bit each.
pub fn online() -> u64 {
    ONLINE.load(Ordering::Acquire)
}

/// How many CPUs run the kernel.
pub fn online_count() -> usize {
    online().count_ones() as usize
}

/// Every online CPU but the running one, a bit each.
pub fn other_cpus() -> u64 {
    online() & !(1 << super::percpu::cpu())
}

/// The numbers of the CPUs whose bits are set in `cpus`.
pub fn cpus_in(cpus: u64) -> impl Iterator<Item = usize> {
    (0..MAX_CPUS).filter(move |cpu| cpus & (1 << cpu) != 0)
}

/// CPU `cpu`'s APIC ID.
pub fn apic_id(cpu: usize) -> u32 {
    APIC_IDS[cpu].load(Ordering::Relaxed)
}

/// Sends interrupt `vector` to CPU `cpu` (not to the sender itself).
pub fn send_ipi(cpu: usize, vector: u8) {
    apic::send_ipi(apic_id(cpu), vector);
}

/// Asks CPU `cpu` to look at its run queue (it may be idle in `hlt`).
pub fn send_reschedule(cpu: usize) {
    send_ipi(cpu, RESCHEDULE_VECTOR);
}

/// What the start page hands to the woken CPU; `repr(C)` in the order of
/// `asm/ap_start.asm`'s parameter block.
#[repr(C)]
struct ApStart {
    /// The kernel's PML4 (physical, below 4 GiB).
    cr3: u64,
    /// The boot CPU's CR4 (PCIDE dropped: real mode cannot set it).
    cr4: u64,
    /// The boot CPU's EFER (no-execute on), LME added by the code.
    efer: u64,
    /// The boot CPU's CR0 (write protection), PG and PE added.
    cr0: u64,
    /// The kernel function the CPU jumps to, with `arg` in RDI.
    entry: u64,
    /// The top of the stack it runs on.
    stack: u64,
    /// The argument for `entry`.
    arg: u64,
}

/// Real mode reaches the first MiB only: the start page lies below.
const REAL_MODE_END: u64 = 1 << 20;
/// The start code loads CR3 from 32 bits: the PML4 lies below 4 GiB.
const CR3_FROM_32_BITS_END: u64 = 1 << 32;

/// Where the parameter block lies in the page (after `cli; jmp short`).
const PARAMS_OFFSET: usize = 8;

unsafe extern "C" {
    /// The start page's code, linked in .rodata: copied, never run there.
    static ap_start: u8;
    /// Its end.
    static ap_start_end: u8;
}

/// The start page's bytes.
fn start_code() -> &'static [u8] {
    let start = &raw const ap_start;
    let end = &raw const ap_start_end;
    // SAFETY: the two symbols delimit the assembled code in .rodata, which
    // stays mapped read-only for the kernel's life.
    unsafe { core::slice::from_raw_parts(start, end as usize - start as usize) }
}

/// Writes the start code and its parameters into the page at `page` (its
/// virtual address, writable), for a CPU that will run `entry(arg)` on the
/// stack ending at `stack_top`.
///
/// # Safety
/// `page` is a writable 4 KiB page nothing else uses, and no CPU runs the
/// start code in it meanwhile.
pub unsafe fn write_start_page(
    page: u64,
    entry: extern "C" fn(u64) -> !,
    stack_top: u64,
    arg: u64,
) {
    let code = start_code();
    let (pml4, _) = Cr3::read_raw();
    let params = ApStart {
        cr3: pml4.start_address().as_u64(),
        cr4: Cr4::read_raw(),
        efer: Efer::read_raw(),
        cr0: Cr0::read_raw(),
        entry: entry as usize as u64,
        stack: stack_top,
        arg,
    };
    // SAFETY: the caller gave the page; the code is under a page
    // (asm/ap_start.asm), and the block lies inside it at PARAMS_OFFSET.
    unsafe {
        core::ptr::copy_nonoverlapping(code.as_ptr(), page as *mut u8, code.len());
        core::ptr::write_volatile((page as usize + PARAMS_OFFSET) as *mut ApStart, params);
    }
}

/// Whether the kernel's PML4 lies where the start code can load it (CR3 is
/// written from 32 bits there).
pub fn tables_reachable_from_real_mode() -> bool {
    let (pml4, _) = Cr3::read_raw();
    pml4.start_address().as_u64() < CR3_FROM_32_BITS_END
}

/// Sends INIT to the CPU with APIC ID `apic_id`: it resets and waits for a
/// start-up IPI (Intel SDM vol. 3A, 9.4.4.1: then wait 10 ms).
pub fn send_init(apic_id: u32) {
    apic::send_init(apic_id);
}

/// Sends a start-up IPI to the CPU with APIC ID `apic_id`, which starts at
/// physical page `page` (below 1 MiB) (SDM: then wait 200 µs, and send a
/// second one if it has not answered).
pub fn send_startup(apic_id: u32, page: u64) {
    debug_assert!(page < REAL_MODE_END && page.is_multiple_of(crate::arch::PAGE_SIZE));
    apic::send_startup(apic_id, (page / crate::arch::PAGE_SIZE) as u8);
}

/// Stops every other CPU the kernel runs on (a panic or fatal fault on
/// this one): an NMI each, whose handler halts for good. Returns whether
/// this CPU is the one stopping: when another CPU got there first, the
/// caller halts too, and that one's report is the one shown.
pub fn stop_others() -> bool {
    let me = super::percpu::cpu() as u64;
    if STOPPING.swap(true, Ordering::AcqRel) {
        return STOPPED_BY.load(Ordering::Acquire) == me;
    }
    STOPPED_BY.store(me, Ordering::Release);
    if apic::enabled() {
        let others = other_cpus();
        for cpu in cpus_in(others) {
            apic::send_nmi(apic_id(cpu));
        }
        // Before the report breaks the console locks: no other CPU still
        // prints, or holds one.
        let deadline = super::read_timestamp() + STOP_WAIT_CYCLES;
        while HALTED.load(Ordering::Acquire) & others != others
            && super::read_timestamp() < deadline
        {
            core::hint::spin_loop();
        }
    }
    true
}

/// The stop NMI's end on the CPUs it stops: say so, then halt for good.
pub fn halt_for_stop() -> ! {
    HALTED.fetch_or(1 << super::percpu::cpu(), Ordering::AcqRel);
    super::halt_forever()
}

/// Whether another CPU is stopping the machine (the NMI handler halts).
pub fn stopping_by_other() -> bool {
    STOPPING.load(Ordering::Acquire)
        && STOPPED_BY.load(Ordering::Acquire) != super::percpu::cpu() as u64
}

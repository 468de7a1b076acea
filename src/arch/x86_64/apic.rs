//! The local APIC of every CPU (Intel SDM vol. 3A, chapter 12): its
//! end-of-interrupt register, its spurious vector, its timer, and the
//! interrupt command register that sends other CPUs INIT, start-up, NMI and
//! fixed-vector interrupts.
//!
//! The registers are reached either as memory (xAPIC mode: a 4 KiB page,
//! usually at 0xfee00000, mapped uncached by the caller) or, when the
//! firmware left the APIC in x2APIC mode, as MSRs 0x800 + offset / 16.
//! Every CPU's APIC sits at the same address (each CPU reaches its own),
//! so one mapping serves them all: the boot CPU's [`enable`] records it,
//! and each other CPU calls [`enable_this_cpu`].
//!
//! Interrupt handlers call [`eoi`], which reads only atomics set once by
//! [`enable`]: no lock.
//!
//! The x2APIC paths (registers as MSRs, 32-bit destinations in one 64-bit
//! ICR write) follow the SDM but are untested: QEMU's TCG has no x2APIC.

use core::arch::x86_64::__cpuid;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use x86_64::registers::model_specific::Msr;

/// CPUID leaf 1.
const LEAF_FEATURES: u32 = 0x1;
/// Leaf 1 EDX bit 9: the CPU has a local APIC.
const EDX_APIC: u32 = 1 << 9;

/// The APIC base MSR.
const IA32_APIC_BASE: u32 = 0x1b;
/// IA32_APIC_BASE bit 11: the APIC is enabled (globally).
const BASE_ENABLE: u64 = 1 << 11;
/// IA32_APIC_BASE bit 10: x2APIC mode (registers as MSRs).
const BASE_X2APIC: u64 = 1 << 10;
/// The first x2APIC register MSR; register at offset `o` is `0x800 + o/16`.
const X2APIC_MSR_BASE: u32 = 0x800;

/// Register offsets in the xAPIC page.
const REG_ID: u32 = 0x20;
/// Task priority: 0 accepts every vector.
const REG_TPR: u32 = 0x80;
/// End of interrupt: write 0.
const REG_EOI: u32 = 0xb0;
/// Spurious-interrupt vector register.
const REG_SVR: u32 = 0xf0;
/// Local vector table: the timer.
const REG_LVT_TIMER: u32 = 0x320;
/// Local vector table: APIC errors.
const REG_LVT_ERROR: u32 = 0x370;
/// Interrupt command register, low half (writing it sends).
const REG_ICR_LOW: u32 = 0x300;
/// Interrupt command register, high half (the destination, xAPIC only).
const REG_ICR_HIGH: u32 = 0x310;
/// The timer's initial count (writing it starts the count).
const REG_TIMER_INITIAL: u32 = 0x380;
/// The timer's current count.
const REG_TIMER_CURRENT: u32 = 0x390;
/// The timer's divide configuration.
const REG_TIMER_DIVIDE: u32 = 0x3e0;

/// SVR bit 8: the APIC is software-enabled.
const SVR_ENABLE: u32 = 1 << 8;
/// LVT bit 16: masked.
const LVT_MASKED: u32 = 1 << 16;
/// LVT timer bit 17: periodic mode (else one-shot).
const LVT_TIMER_PERIODIC: u32 = 1 << 17;
/// ICR delivery modes (bits 8–10).
const ICR_FIXED: u32 = 0b000 << 8;
/// ICR delivery mode: non-maskable interrupt (the vector is ignored).
const ICR_NMI: u32 = 0b100 << 8;
/// ICR delivery mode: INIT.
const ICR_INIT: u32 = 0b101 << 8;
/// ICR delivery mode: start-up (the vector is the start page's number).
const ICR_STARTUP: u32 = 0b110 << 8;
/// ICR bit 12: the previous IPI is still being sent (xAPIC only).
const ICR_PENDING: u32 = 1 << 12;
/// ICR bit 14: level assert (set for everything but an INIT de-assert).
const ICR_ASSERT: u32 = 1 << 14;
/// ICR bit 15: level-triggered (INIT only).
const ICR_LEVEL: u32 = 1 << 15;
/// xAPIC ICR high half: the destination APIC ID sits in bits 24–31.
const ICR_DESTINATION_SHIFT: u32 = 24;
/// xAPIC ID register: the APIC ID sits in bits 24–31.
const ID_SHIFT: u32 = 24;
/// Divide configuration value for "divide by 16" (bits 0,1,3 = 0b011).
const DIVIDE_BY_16: u32 = 0b0011;

/// The virtual address of the xAPIC page, once enabled (0 in x2APIC mode).
static MMIO_BASE: AtomicU64 = AtomicU64::new(0);
/// Whether the registers are MSRs (x2APIC mode).
static X2APIC: AtomicBool = AtomicBool::new(false);
/// Whether [`enable`] ran (so [`eoi`] has somewhere to write).
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether CPUID says this CPU has a local APIC.
pub fn present() -> bool {
    __cpuid(LEAF_FEATURES).edx & EDX_APIC != 0
}

/// Whether the firmware put the APIC in x2APIC mode, where its registers
/// are MSRs and no page needs mapping.
pub fn in_x2apic_mode() -> bool {
    // SAFETY: IA32_APIC_BASE exists on every CPU with an APIC (the caller
    // checked [`present`]); reading it has no side effect.
    let base = unsafe { Msr::new(IA32_APIC_BASE).read() };
    base & BASE_X2APIC != 0
}

/// Reads register `offset`.
fn read(offset: u32) -> u32 {
    if X2APIC.load(Ordering::Relaxed) {
        // SAFETY: in x2APIC mode every register below 0x400 is the MSR
        // 0x800 + offset/16; reading it has no side effect.
        unsafe { Msr::new(X2APIC_MSR_BASE + offset / 16).read() as u32 }
    } else {
        let address = MMIO_BASE.load(Ordering::Relaxed) + u64::from(offset);
        // SAFETY: `enable` stored the address of the APIC page, mapped
        // uncached for as long as the kernel runs; `offset` is one of the
        // aligned 32-bit registers above.
        unsafe { core::ptr::read_volatile(address as *const u32) }
    }
}

/// Writes register `offset`.
fn write(offset: u32, value: u32) {
    if X2APIC.load(Ordering::Relaxed) {
        // SAFETY: as in `read`; the callers write only the documented values
        // of the registers named above.
        unsafe { Msr::new(X2APIC_MSR_BASE + offset / 16).write(u64::from(value)) }
    } else {
        let address = MMIO_BASE.load(Ordering::Relaxed) + u64::from(offset);
        // SAFETY: as in `read`.
        unsafe { core::ptr::write_volatile(address as *mut u32, value) }
    }
}

/// Enables the boot CPU's APIC: registers at `mmio` (the virtual address of
/// its page, uncached; ignored in x2APIC mode), spurious interrupts on
/// `spurious_vector`, every priority accepted, the timer and error entries
/// masked until asked for. Returns the APIC's ID (for the I/O APIC's
/// destination field).
pub fn enable(mmio: u64, spurious_vector: u8) -> u32 {
    X2APIC.store(in_x2apic_mode(), Ordering::Relaxed);
    MMIO_BASE.store(mmio, Ordering::Relaxed);
    let id = enable_this_cpu(spurious_vector);
    ENABLED.store(true, Ordering::Release);
    id
}

/// Enables the running CPU's own APIC as [`enable`] did the boot CPU's (on
/// the other CPUs, after it). Returns its ID.
pub fn enable_this_cpu(spurious_vector: u8) -> u32 {
    let mut base_msr = Msr::new(IA32_APIC_BASE);
    // The boot CPU's mode for every CPU: one that started in xAPIC mode
    // while the boot CPU's firmware chose x2APIC joins it (the registers
    // are then MSRs everywhere).
    let mode = if X2APIC.load(Ordering::Relaxed) {
        BASE_X2APIC
    } else {
        0
    };
    // SAFETY: setting the global enable bit of IA32_APIC_BASE (and the
    // x2APIC bit when the boot CPU uses that mode, which then exists) keeps
    // its address; the firmware normally leaves them set already.
    unsafe {
        let base = base_msr.read();
        base_msr.write(base | BASE_ENABLE | mode);
    }
    write(REG_TPR, 0);
    write(REG_LVT_TIMER, LVT_MASKED);
    write(REG_LVT_ERROR, LVT_MASKED);
    write(REG_SVR, SVR_ENABLE | u32::from(spurious_vector));
    id()
}

/// The running CPU's APIC ID.
pub fn id() -> u32 {
    let id = read(REG_ID);
    if X2APIC.load(Ordering::Relaxed) {
        id
    } else {
        id >> ID_SHIFT
    }
}

/// Whether [`enable`] ran: IPIs can be sent.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Acquire)
}

/// Writes the interrupt command register: `command` to the CPU whose APIC
/// ID is `destination`, then waits until the APIC took it (xAPIC: the
/// delivery-status bit clears; an x2APIC write is taken at once). The
/// caller keeps interrupts off around it when an interrupt handler on this
/// CPU may send too (the two halves of the xAPIC register are two writes).
fn send(destination: u32, command: u32) {
    if X2APIC.load(Ordering::Relaxed) {
        let value = u64::from(destination) << 32 | u64::from(command);
        // SAFETY: the x2APIC ICR is one 64-bit MSR; the callers send only
        // the documented commands below.
        unsafe { Msr::new(X2APIC_MSR_BASE + REG_ICR_LOW / 16).write(value) };
        return;
    }
    write(REG_ICR_HIGH, destination << ICR_DESTINATION_SHIFT);
    write(REG_ICR_LOW, command);
    while read(REG_ICR_LOW) & ICR_PENDING != 0 {
        core::hint::spin_loop();
    }
}

/// Sends interrupt `vector` to the CPU with APIC ID `destination`.
pub fn send_ipi(destination: u32, vector: u8) {
    crate::arch::without_interrupts(|| {
        send(destination, ICR_FIXED | ICR_ASSERT | u32::from(vector));
    });
}

/// Sends a non-maskable interrupt to the CPU with APIC ID `destination`.
pub fn send_nmi(destination: u32) {
    crate::arch::without_interrupts(|| send(destination, ICR_NMI | ICR_ASSERT));
}

/// Sends INIT (assert, then de-assert, as the SDM's start-up sequence
/// does) to the CPU with APIC ID `destination`: it resets and waits for a
/// start-up IPI.
pub fn send_init(destination: u32) {
    crate::arch::without_interrupts(|| {
        send(destination, ICR_INIT | ICR_LEVEL | ICR_ASSERT);
        send(destination, ICR_INIT | ICR_LEVEL);
    });
}

/// Sends a start-up IPI to the CPU with APIC ID `destination`: it starts
/// in real mode at `page_number * 4096` (a page below 1 MiB).
pub fn send_startup(destination: u32, page_number: u8) {
    crate::arch::without_interrupts(|| {
        send(
            destination,
            ICR_STARTUP | ICR_ASSERT | u32::from(page_number),
        );
    });
}

/// Signals the end of the interrupt being handled. Not for the spurious
/// vector, which has none.
pub fn eoi() {
    if ENABLED.load(Ordering::Acquire) {
        write(REG_EOI, 0);
    }
}

/// Starts the timer counting down from `u32::MAX` at bus clock / 16,
/// masked, for calibration: [`timer_current`] then tells how far it went.
pub fn start_calibration_count() {
    write(REG_TIMER_DIVIDE, DIVIDE_BY_16);
    write(REG_LVT_TIMER, LVT_MASKED);
    write(REG_TIMER_INITIAL, u32::MAX);
}

/// The timer's current count.
pub fn timer_current() -> u32 {
    read(REG_TIMER_CURRENT)
}

/// Starts the periodic timer: an interrupt on `vector` every `count`
/// ticks of bus clock / 16.
pub fn start_periodic(vector: u8, count: u32) {
    write(REG_TIMER_DIVIDE, DIVIDE_BY_16);
    write(REG_LVT_TIMER, LVT_TIMER_PERIODIC | u32::from(vector));
    write(REG_TIMER_INITIAL, count.max(1));
}

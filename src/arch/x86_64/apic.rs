//! The local APIC of the boot CPU (Intel SDM vol. 3A, chapter 12): its
//! end-of-interrupt register, its spurious vector, and its timer.
//!
//! The registers are reached either as memory (xAPIC mode: a 4 KiB page,
//! usually at 0xfee00000, mapped uncached by the caller) or, when the
//! firmware left the APIC in x2APIC mode, as MSRs 0x800 + offset / 16.
//! Only the boot CPU's APIC is programmed: the other CPUs are never woken.
//!
//! Interrupt handlers call [`eoi`], which reads only atomics set once by
//! [`enable`]: no lock.

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
    let x2apic = in_x2apic_mode();
    X2APIC.store(x2apic, Ordering::Relaxed);
    MMIO_BASE.store(mmio, Ordering::Relaxed);
    let mut base_msr = Msr::new(IA32_APIC_BASE);
    // SAFETY: setting the global enable bit of IA32_APIC_BASE keeps its
    // address and mode; the firmware normally leaves it set already.
    unsafe {
        let base = base_msr.read();
        base_msr.write(base | BASE_ENABLE);
    }
    write(REG_TPR, 0);
    write(REG_LVT_TIMER, LVT_MASKED);
    write(REG_LVT_ERROR, LVT_MASKED);
    write(REG_SVR, SVR_ENABLE | u32::from(spurious_vector));
    ENABLED.store(true, Ordering::Release);
    let id = read(REG_ID);
    if x2apic { id } else { id >> 24 }
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

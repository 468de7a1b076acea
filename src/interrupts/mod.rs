//! Hardware interrupts: which controller delivers them, which vector each
//! source uses, the dispatcher every vector from 32 up goes through, and
//! the counts the `interrupts` command shows.
//!
//! **Controllers.** Where the ACPI MADT describes an APIC model and the CPU
//! has a local APIC: the local APIC (its timer is the tick) and the I/O APIC
//! that serves the ISA IRQs, with the MADT's interrupt source overrides
//! (on QEMU, ISA IRQ 0 arrives on GSI 2); the two 8259 PICs are remapped to
//! 32–47 and masked, so they never deliver. Otherwise (no ACPI, no MADT, no
//! APIC: QEMU `-machine pc,acpi=off`) the 8259 PICs at 32–47, and the PIT as
//! the tick. [`init`] prints which: `interrupts: apic, ioapic at 0xfec00000
//! (24 pins)` or `interrupts: 8259 pic (no ACPI tables)`.
//!
//! **Vectors.**
//!
//! | vector | source |
//! |---|---|
//! | 32–47 | 8259 IRQ 0–15 (in APIC mode only their spurious IRQ 7/15) |
//! | 48–63 | I/O APIC: ISA IRQ 0–15 |
//! | 64 | local APIC timer |
//! | 255 | local APIC spurious vector |
//!
//! **Spurious interrupts.** The APIC's spurious vector is counted and gets
//! no EOI. An 8259 IRQ 7 or 15 whose bit is clear in the in-service register
//! is spurious: IRQ 7 gets no EOI, IRQ 15 an EOI to the primary only (which
//! did see its cascade input). Any other vector nobody handles is reported
//! once as `unexpected interrupt N` and otherwise ignored; the handler only
//! marks it, and normal code prints the line ([`print_unexpected`], called
//! whenever the CPU wakes from its idle `hlt`).
//!
//! **Handlers** are registered by the drivers themselves, at their init:
//! [`register_irq`] for an ISA IRQ (it also routes or unmasks the line) and
//! [`register_lapic_timer`] for the local APIC timer. The dispatcher names
//! no driver: it reads the handler table, whose slots are `Once`s, read
//! without a lock (one atomic load). Handlers run with interrupts off,
//! never nested, and take no lock at all, so none can wait for one the
//! interrupted code holds: counts and marks are atomics, devices push into
//! lock-free queues, EOIs are plain register writes.

use core::sync::atomic::{AtomicU8, AtomicU16, AtomicU64, Ordering};

use spin::{Mutex, Once};

mod model;

use crate::arch::isa::IRQ_LINES;
use crate::arch::{apic, ioapic, pic};

pub use model::{ApicModel, IsaRoute, NoApic};

/// Vector of 8259 IRQ 0 (IRQ n: + n).
pub const PIC_VECTOR_BASE: u8 = pic::VECTOR_BASE;
/// Vector of I/O APIC ISA IRQ 0 (IRQ n: + n).
pub const IOAPIC_VECTOR_BASE: u8 = 48;
/// The local APIC timer's vector.
pub const LAPIC_TIMER_VECTOR: u8 = 64;
/// The local APIC's spurious vector (its low four bits must be set on old
/// APICs: 0xff qualifies).
pub const APIC_SPURIOUS_VECTOR: u8 = 0xff;
/// The 8259 IRQ that may be spurious on the primary.
const PIC_SPURIOUS_PRIMARY: u8 = 7;
/// The 8259 IRQ that may be spurious on the secondary.
const PIC_SPURIOUS_SECONDARY: u8 = 15;
/// Size of the I/O APIC's register window: one page.
const IOAPIC_PAGE: u64 = crate::arch::PAGE_SIZE;
/// Size of the local APIC's register window: one page.
const LAPIC_PAGE: u64 = crate::arch::PAGE_SIZE;

/// Which controller delivers interrupts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controller {
    /// Local APIC + I/O APIC.
    Apic {
        /// The I/O APIC's physical address.
        io_apic: u64,
        /// Its number of input pins.
        pins: u32,
    },
    /// The 8259 pair, and why not the APIC.
    Pic(NoApic),
}

impl core::fmt::Display for Controller {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Controller::Apic { io_apic, pins } => {
                write!(f, "apic, ioapic at {io_apic:#x} ({pins} pins)")
            }
            Controller::Pic(why) => write!(f, "8259 pic ({why})"),
        }
    }
}

/// [`MODE_APIC`] or [`MODE_PIC`] once [`init`] ran; what the dispatcher
/// reads.
static MODE: AtomicU8 = AtomicU8::new(MODE_NONE);
/// Before [`init`]: every vector is unexpected.
const MODE_NONE: u8 = 0;
/// Local APIC + I/O APIC.
const MODE_APIC: u8 = 1;
/// 8259 PICs.
const MODE_PIC: u8 = 2;

/// The controller chosen by [`init`].
static CONTROLLER: Once<Controller> = Once::new();
/// The I/O APIC, its local APIC ID and the ISA routes, for
/// [`enable_irq`] (init time only, never from a handler).
static ROUTING: Mutex<Option<(ioapic::IoApic, u32, ApicModel)>> = Mutex::new(None);
/// The 8259 IRQs unmasked so far (bit n: IRQ n).
static PIC_ENABLED: AtomicU16 = AtomicU16::new(0);

/// Interrupts taken, per vector.
static COUNTS: [AtomicU64; 256] = [const { AtomicU64::new(0) }; 256];
/// Spurious interrupts (APIC spurious vector, 8259 IRQ 7/15 not in service).
static SPURIOUS: AtomicU64 = AtomicU64::new(0);
/// The vectors seen as unexpected (bit v % 64 of word v / 64).
static UNEXPECTED: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
/// The unexpected vectors already printed.
static PRINTED: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

/// A device's interrupt handler. It runs with interrupts off and must take
/// no lock the interrupted code could hold.
pub type Handler = fn();

/// The handler of each ISA IRQ, registered by its driver.
static ISA_HANDLERS: [Once<Handler>; IRQ_LINES] = [const { Once::new() }; IRQ_LINES];
/// The local APIC timer's handler.
static LAPIC_TIMER_HANDLER: Once<Handler> = Once::new();

/// Why a handler could not be registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterError {
    /// There is no ISA IRQ of that number.
    NoSuchIrq(u8),
    /// The source has a handler already.
    Taken,
}

impl core::fmt::Display for RegisterError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RegisterError::NoSuchIrq(irq) => write!(f, "there is no ISA IRQ {irq}"),
            RegisterError::Taken => f.write_str("it has a handler already"),
        }
    }
}

/// Registers `handler` for ISA IRQ `irq`, then lets the IRQ through (see
/// [`enable_irq`]). A driver calls this from its own init.
pub fn register_irq(irq: u8, handler: Handler) -> Result<(), RegisterError> {
    let slot = ISA_HANDLERS
        .get(usize::from(irq))
        .ok_or(RegisterError::NoSuchIrq(irq))?;
    if slot.is_completed() {
        return Err(RegisterError::Taken);
    }
    slot.call_once(|| handler);
    enable_irq(irq);
    Ok(())
}

/// Registers `handler` for the local APIC timer; returns the vector to
/// program the timer with.
pub fn register_lapic_timer(handler: Handler) -> Result<u8, RegisterError> {
    if LAPIC_TIMER_HANDLER.is_completed() {
        return Err(RegisterError::Taken);
    }
    LAPIC_TIMER_HANDLER.call_once(|| handler);
    Ok(LAPIC_TIMER_VECTOR)
}

/// Chooses and sets up the controller for the interrupt model the firmware
/// described (`apic`, or why there is none), registers the dispatcher with
/// the CPU layer, and prints the `interrupts:` line. Interrupts stay off.
/// Call once, after the heap and ACPI.
pub fn init(apic: Result<ApicModel, NoApic>) -> Controller {
    // The 8259s are remapped in every case: masked when the APIC takes
    // over, so a stray IRQ can never land on an exception vector.
    pic::remap_and_mask_all();
    crate::arch::set_interrupt_dispatcher(dispatch);
    let apic = match apic {
        Ok(_) if !apic::present() => Err(NoApic::NoLocalApic),
        other => other,
    };
    let controller = match apic.and_then(enable_apic) {
        Ok(controller) => {
            MODE.store(MODE_APIC, Ordering::Release);
            controller
        }
        Err(why) => {
            MODE.store(MODE_PIC, Ordering::Release);
            Controller::Pic(why)
        }
    };
    println!("interrupts: {controller}");
    *CONTROLLER.call_once(|| controller)
}

/// Maps and enables the local APIC and the I/O APIC, every pin masked.
fn enable_apic(model: ApicModel) -> Result<Controller, NoApic> {
    use crate::arch::CacheType::Uncached;
    use crate::memory::paging::map_device;
    let lapic = if apic::in_x2apic_mode() {
        0
    } else {
        map_device(model.local_apic, LAPIC_PAGE, Uncached)
            .map_err(|_| NoApic::CannotMapLocalApic)?
    };
    let (io_phys, _) = model.io_apic;
    let io_virt =
        map_device(io_phys, IOAPIC_PAGE, Uncached).map_err(|_| NoApic::CannotMapIoApic)?;
    let apic_id = apic::enable(lapic, APIC_SPURIOUS_VECTOR);
    // SAFETY: `io_virt` maps the I/O APIC the MADT lists, uncached, for
    // good; only this module programs it, at init time.
    let mut io = unsafe { ioapic::IoApic::new(io_virt) };
    io.mask_all();
    let pins = io.pins();
    *crate::arch::without_interrupts(|| ROUTING.lock()) = Some((io, apic_id, model));
    Ok(Controller::Apic {
        io_apic: io_phys,
        pins,
    })
}

/// Enables the running CPU's local APIC as [`init`] did the boot CPU's (a
/// CPU that just started, under the APIC); returns its APIC ID. Device
/// interrupts stay routed to the boot CPU.
pub fn init_this_cpu() -> u32 {
    apic::enable_this_cpu(APIC_SPURIOUS_VECTOR)
}

/// The controller [`init`] chose.
pub fn controller() -> Option<Controller> {
    CONTROLLER.get().copied()
}

/// Whether the local APIC (and its timer) is in use.
pub fn apic_mode() -> bool {
    MODE.load(Ordering::Acquire) == MODE_APIC
}

/// Lets ISA IRQ `irq` through: routed on the I/O APIC (through the MADT's
/// overrides) or unmasked on the 8259s.
fn enable_irq(irq: u8) {
    if apic_mode() {
        crate::arch::without_interrupts(|| {
            if let Some((io, apic_id, model)) = ROUTING.lock().as_mut() {
                let route = model.isa[usize::from(irq & 0xf)];
                // A GSI below this I/O APIC's range belongs to another one,
                // which the kernel does not drive.
                let Some(pin) = route.gsi.checked_sub(model.io_apic.1) else {
                    log::warn!(
                        "interrupts: ISA IRQ {irq} is on GSI {}, not on the I/O APIC",
                        route.gsi
                    );
                    return;
                };
                let mode = ioapic::PinMode {
                    active_low: route.active_low,
                    level: route.level,
                };
                io.route(pin, IOAPIC_VECTOR_BASE + irq, mode, *apic_id);
            }
        });
    } else {
        let enabled = PIC_ENABLED.fetch_or(1 << irq, Ordering::Relaxed) | (1 << irq);
        pic::unmask_only(enabled);
    }
}

/// Called by every vector from 32 up, with interrupts off (registered
/// with the CPU layer by [`init`]).
fn dispatch(vector: u8) {
    COUNTS[usize::from(vector)].fetch_add(1, Ordering::Relaxed);
    match MODE.load(Ordering::Acquire) {
        MODE_APIC => dispatch_apic(vector),
        MODE_PIC => dispatch_pic(vector),
        _ => unexpected(vector),
    }
}

/// A vector under the APIC.
fn dispatch_apic(vector: u8) {
    match vector {
        APIC_SPURIOUS_VECTOR => {
            SPURIOUS.fetch_add(1, Ordering::Relaxed);
        }
        LAPIC_TIMER_VECTOR => {
            if let Some(handler) = LAPIC_TIMER_HANDLER.get() {
                handler();
            }
            apic::eoi();
        }
        IOAPIC_VECTOR_BASE..LAPIC_TIMER_VECTOR => {
            device(vector - IOAPIC_VECTOR_BASE);
            apic::eoi();
        }
        // The masked 8259s can still raise a spurious IRQ 7 or 15; it never
        // went through the local APIC, so no EOI there.
        PIC_VECTOR_BASE..IOAPIC_VECTOR_BASE => {
            let irq = vector - PIC_VECTOR_BASE;
            SPURIOUS.fetch_add(1, Ordering::Relaxed);
            if irq == PIC_SPURIOUS_SECONDARY {
                pic::eoi_primary_only();
            }
        }
        _ => {
            unexpected(vector);
            // Harmless if the vector did not come through the APIC
            // (nothing else is in service: handlers never nest).
            apic::eoi();
        }
    }
}

/// A vector under the 8259s.
fn dispatch_pic(vector: u8) {
    if !(PIC_VECTOR_BASE..PIC_VECTOR_BASE + 16).contains(&vector) {
        unexpected(vector);
        return;
    }
    let irq = vector - PIC_VECTOR_BASE;
    if (irq == PIC_SPURIOUS_PRIMARY || irq == PIC_SPURIOUS_SECONDARY) && !pic::in_service(irq) {
        SPURIOUS.fetch_add(1, Ordering::Relaxed);
        if irq == PIC_SPURIOUS_SECONDARY {
            pic::eoi_primary_only();
        }
        return;
    }
    device(irq);
    pic::eoi(irq);
}

/// Hands ISA IRQ `irq` to the handler its driver registered, if any.
fn device(irq: u8) {
    if let Some(handler) = ISA_HANDLERS.get(usize::from(irq)).and_then(Once::get) {
        handler();
    }
}

/// Marks a vector nobody handles, for [`print_unexpected`].
fn unexpected(vector: u8) {
    let (word, bit) = (usize::from(vector / 64), vector % 64);
    UNEXPECTED[word].fetch_or(1 << bit, Ordering::Relaxed);
}

/// Prints `unexpected interrupt N` for each vector marked since the last
/// call and never printed before. Normal code only (it prints).
pub fn print_unexpected() {
    for word in 0..UNEXPECTED.len() {
        let seen = UNEXPECTED[word].load(Ordering::Relaxed);
        let new = seen & !PRINTED[word].fetch_or(seen, Ordering::Relaxed);
        for bit in 0..64 {
            if new & (1 << bit) != 0 {
                println!("unexpected interrupt {}", word * 64 + bit);
            }
        }
    }
}

/// How many times `vector` was taken.
pub fn count(vector: u8) -> u64 {
    COUNTS[usize::from(vector)].load(Ordering::Relaxed)
}

/// Spurious interrupts so far.
pub fn spurious() -> u64 {
    SPURIOUS.load(Ordering::Relaxed)
}

/// In-kernel tests of interrupt delivery.
pub(crate) mod ktests {
    use core::sync::atomic::Ordering;

    use crate::selftest::{Context, Outcome};
    use crate::{check, check_eq};

    /// A software interrupt on an unused vector is counted and marked, and
    /// the kernel carries on.
    fn an_unexpected_vector_is_survived(_: &Context) -> Outcome {
        const UNUSED: u8 = 200;
        let before = super::count(UNUSED);
        // SAFETY: vector 200 has an IDT entry (irq.rs) whose dispatcher
        // only counts and marks it.
        unsafe { core::arch::asm!("int 200") };
        check_eq!(super::count(UNUSED), before + 1);
        let marked = super::UNEXPECTED[usize::from(UNUSED / 64)].load(Ordering::Relaxed);
        check!(
            marked & (1 << (UNUSED % 64)) != 0,
            "vector {UNUSED} not marked"
        );
        super::print_unexpected();
        Ok(())
    }

    /// Registration refuses an IRQ that does not exist and a source
    /// that has a handler: the tick's, registered by `time` at boot.
    fn registration_refuses_a_bad_or_taken_source(_: &Context) -> Outcome {
        /// A handler that must never run.
        fn never() {}
        check_eq!(
            super::register_irq(16, never),
            Err(super::RegisterError::NoSuchIrq(16))
        );
        let taken = if super::apic_mode() {
            super::register_lapic_timer(never).map(|_| ())
        } else {
            super::register_irq(crate::arch::isa::IRQ_TIMER, never)
        };
        check_eq!(taken, Err(super::RegisterError::Taken));
        Ok(())
    }

    pub(crate) const TESTS: &[crate::selftest::Test] = crate::kernel_tests![
        an_unexpected_vector_is_survived,
        registration_refuses_a_bad_or_taken_source
    ];
}

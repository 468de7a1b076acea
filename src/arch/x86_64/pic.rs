//! The two legacy 8259 interrupt controllers (the `pic8259` crate), chained:
//! the primary takes IRQ 0–7, the secondary IRQ 8–15 through the primary's
//! IRQ 2.
//!
//! Both are always remapped to vectors 32–47, away from the CPU's
//! exceptions (the BIOS leaves IRQ 0–7 on vectors 8–15, where they would
//! look like a double fault). With an I/O APIC they are then masked for
//! good; without one they deliver the IRQs the kernel unmasks.
//!
//! End-of-interrupt and the in-service check are plain port accesses with
//! no shared state, so interrupt handlers call them without a lock.

use pic8259::ChainedPics;

use super::port::Port;

/// The vector of IRQ 0; IRQ n arrives on `VECTOR_BASE + n`.
pub const VECTOR_BASE: u8 = 32;
/// The primary controller's command port.
const PRIMARY_COMMAND: u16 = 0x20;
/// The secondary controller's command port.
const SECONDARY_COMMAND: u16 = 0xa0;
/// OCW2: non-specific end of interrupt.
const EOI: u8 = 0x20;
/// OCW3: the next read of the command port returns the in-service register.
const READ_ISR: u8 = 0x0b;
/// The primary's input the secondary is chained to.
const CASCADE_IRQ: u8 = 2;
/// IRQs 8–15 in an IRQ bit set: the secondary controller's.
const SECONDARY_IRQS: u16 = 0xff00;

/// The pair, remapped to [`VECTOR_BASE`].
fn pics() -> ChainedPics {
    // SAFETY: vectors 32–47 are not CPU exceptions, and the kernel's IDT
    // sends all of them to its interrupt dispatcher.
    unsafe { ChainedPics::new_contiguous(VECTOR_BASE) }
}

/// Remaps both controllers to vectors 32–47 and masks every IRQ.
pub fn remap_and_mask_all() {
    let mut pics = pics();
    // SAFETY: ports 0x20/0x21 and 0xa0/0xa1 are the 8259s on every PC; the
    // caller runs with interrupts off, so no IRQ arrives mid-sequence.
    unsafe {
        pics.initialize();
        pics.disable();
    }
}

/// Unmasks exactly the IRQs in `irqs` (bit n: IRQ n), plus the cascade
/// when any of IRQ 8–15 is among them.
pub fn unmask_only(irqs: u16) {
    let mut wanted = irqs;
    if wanted & SECONDARY_IRQS != 0 {
        wanted |= 1 << CASCADE_IRQ;
    }
    let [primary, secondary] = (!wanted).to_le_bytes();
    // SAFETY: as in `remap_and_mask_all`: writing the two mask registers.
    unsafe { pics().write_masks(primary, secondary) };
}

/// Ends IRQ `irq` on the controllers that saw it (the secondary too for
/// IRQ 8–15).
pub fn eoi(irq: u8) {
    if irq >= 8 {
        eoi_secondary_only();
    }
    eoi_primary_only();
}

/// A non-specific EOI to the primary alone (also what a spurious IRQ 15
/// needs: the primary did see its cascade input).
pub fn eoi_primary_only() {
    // SAFETY: OCW2 to the primary's command port; it only ends the
    // highest-priority IRQ in service.
    unsafe { Port::<u8>::new(PRIMARY_COMMAND).write(EOI) };
}

/// A non-specific EOI to the secondary alone.
fn eoi_secondary_only() {
    // SAFETY: as above, on the secondary.
    unsafe { Port::<u8>::new(SECONDARY_COMMAND).write(EOI) };
}

/// Whether IRQ `irq` is really in service, read from the controller's
/// in-service register: IRQ 7 and 15 also arrive as spurious interrupts,
/// which leave it clear.
pub fn in_service(irq: u8) -> bool {
    let port = if irq >= 8 {
        SECONDARY_COMMAND
    } else {
        PRIMARY_COMMAND
    };
    let mut command = Port::<u8>::new(port);
    // SAFETY: OCW3 selects the in-service register for the next read of the
    // same port; nothing else reads these ports between the two accesses
    // (the caller is an interrupt handler, with interrupts off).
    let isr = unsafe {
        command.write(READ_ISR);
        command.read()
    };
    isr & (1 << (irq % 8)) != 0
}

//! The `interrupts` command's text: the controller, the tick, the count of
//! every source that fired, the IPIs between CPUs, spurious interrupts, input received and dropped
//! per source, how often and how long serial input was throttled, and the
//! serial output's counts (sent, dropped on a stalled line, time stalled).

use core::fmt::{self, Write};

use crate::arch::isa::{IRQ_COM1, IRQ_KEYBOARD, IRQ_TIMER};
use crate::interrupts::{
    self, APIC_SPURIOUS_VECTOR, IOAPIC_VECTOR_BASE, LAPIC_TIMER_VECTOR, PIC_VECTOR_BASE,
};

/// What an ISA IRQ is, for the table.
fn isa_name(irq: u8) -> &'static str {
    match irq {
        IRQ_TIMER => "pit timer",
        IRQ_KEYBOARD => "ps/2 keyboard",
        IRQ_COM1 => "serial (com1)",
        _ => "",
    }
}

/// Writes the report, one fact a line:
///
/// ```text
/// controller: apic, ioapic at 0xfec00000 (24 pins)
/// ticks: 1234 at 100 Hz (uptime 12.345 s)
/// vector  64  lapic timer           1234
/// vector  49  irq 1 ps/2 keyboard     12
/// spurious: 0
/// input received: 40 bytes (serial 28, keyboard 12)
/// dropped input: 0 bytes (serial 0, keyboard 0)
/// ```
pub fn report(out: &mut dyn Write) -> fmt::Result {
    match interrupts::controller() {
        Some(controller) => writeln!(out, "controller: {controller}")?,
        None => writeln!(out, "controller: none yet")?,
    }
    let uptime = crate::time::uptime();
    writeln!(
        out,
        "ticks: {} at {} Hz (uptime {}.{:03} s)",
        crate::time::ticks(),
        crate::time::HZ,
        uptime.as_secs(),
        uptime.subsec_millis()
    )?;
    for vector in 32..=255u8 {
        let count = interrupts::count(vector);
        if count == 0 {
            continue;
        }
        let apic = interrupts::apic_mode();
        let name: (&str, Option<u8>) = match vector {
            LAPIC_TIMER_VECTOR if apic => ("lapic timer", None),
            APIC_SPURIOUS_VECTOR if apic => ("apic spurious", None),
            v if apic && (IOAPIC_VECTOR_BASE..IOAPIC_VECTOR_BASE + 16).contains(&v) => {
                ("", Some(v - IOAPIC_VECTOR_BASE))
            }
            v if (PIC_VECTOR_BASE..PIC_VECTOR_BASE + 16).contains(&v) => {
                if apic {
                    ("8259 spurious", None)
                } else {
                    ("", Some(v - PIC_VECTOR_BASE))
                }
            }
            _ => ("unexpected", None),
        };
        match name {
            (_, Some(irq)) => writeln!(
                out,
                "vector {vector:>3}  irq {irq:<2} {:<16} {count:>8}",
                isa_name(irq)
            )?,
            (what, None) => writeln!(out, "vector {vector:>3}  {what:<23} {count:>8}")?,
        }
    }
    let (shootdowns, reschedules) = crate::arch::smp::received();
    writeln!(
        out,
        "ipis received: {shootdowns} tlb shootdown, {reschedules} reschedule ({} cpus online)",
        crate::arch::smp::online_count()
    )?;
    writeln!(out, "spurious: {}", interrupts::spurious())?;
    let (serial, keyboard) = crate::input::received_totals();
    writeln!(
        out,
        "input received: {} bytes (serial {serial}, keyboard {keyboard})",
        serial + keyboard
    )?;
    let (serial, keyboard) = crate::input::dropped_totals();
    writeln!(
        out,
        "dropped input: {} bytes (serial {serial}, keyboard {keyboard})",
        serial + keyboard
    )?;
    let hz = crate::time::tsc_hz().max(1);
    let (times, cycles) = crate::input::throttle_counts();
    writeln!(
        out,
        "serial input throttled: {times} times, {} ms",
        cycles * 1000 / hz
    )?;
    let sent = crate::console::serial::counts();
    writeln!(
        out,
        "serial output: {} bytes sent, {} dropped, stalled {} ms ({} times)",
        sent.sent,
        sent.dropped,
        sent.stalled_cycles * 1000 / hz,
        sent.stalls
    )
}

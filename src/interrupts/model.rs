//! The interrupt model the firmware describes and the dispatcher routes
//! through: where the APICs are, how each ISA IRQ arrives, and, when the
//! kernel falls back to the 8259s, why.
//!
//! Pure data, filled in by the ACPI layer from the MADT.

#![forbid(unsafe_code)]

use core::fmt;

use crate::arch::isa::IRQ_LINES;

/// How one ISA IRQ reaches the I/O APIC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsaRoute {
    /// The global system interrupt it arrives on.
    pub gsi: u32,
    /// Active low (ISA default: high).
    pub active_low: bool,
    /// Level triggered (ISA default: edge).
    pub level: bool,
}

impl IsaRoute {
    /// ISA IRQ `irq` as the ISA bus raises it without an override: on the
    /// GSI of the same number, active high, edge triggered.
    pub const fn identity(irq: u8) -> IsaRoute {
        IsaRoute {
            gsi: irq as u32,
            active_low: false,
            level: false,
        }
    }
}

/// The APIC interrupt model the MADT describes.
#[derive(Debug, Clone)]
pub struct ApicModel {
    /// Physical address of the local APICs' registers.
    pub local_apic: u64,
    /// The I/O APIC that serves the ISA IRQs: physical address and first
    /// GSI.
    pub io_apic: (u64, u32),
    /// ISA IRQ 0–15, each mapped through the interrupt source overrides.
    pub isa: [IsaRoute; IRQ_LINES],
}

/// Why the kernel drives the 8259s instead of the APIC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoApic {
    /// The boot loader passed no ACPI tables.
    NoAcpiTables,
    /// ACPI has no MADT.
    NoMadt,
    /// The MADT could not be read.
    MadtUnreadable,
    /// The MADT describes no APIC model.
    MadtWithoutApicModel,
    /// The MADT lists no I/O APIC.
    MadtListsNoIoApic,
    /// CPUID says the CPU has no local APIC.
    NoLocalApic,
    /// The local APIC's page could not be mapped.
    CannotMapLocalApic,
    /// The I/O APIC's page could not be mapped.
    CannotMapIoApic,
}

impl fmt::Display for NoApic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NoApic::NoAcpiTables => "no ACPI tables",
            NoApic::NoMadt => "no MADT",
            NoApic::MadtUnreadable => "MADT unreadable",
            NoApic::MadtWithoutApicModel => "MADT lists no APIC",
            NoApic::MadtListsNoIoApic => "MADT lists no I/O APIC",
            NoApic::NoLocalApic => "the CPU has no local APIC",
            NoApic::CannotMapLocalApic => "cannot map the local APIC",
            NoApic::CannotMapIoApic => "cannot map the I/O APIC",
        })
    }
}

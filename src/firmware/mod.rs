//! ACPI, through the `acpi` crate: what the firmware's tables say about the
//! interrupt controllers (MADT), the reset register, the sleep control
//! registers and the 8042 (FADT), and where the DSDT lies.
//!
//! GRUB copies the RSDP into the boot information (the ACPI 2.0 copy is
//! preferred; `-machine acpi=off` gives none). [`init`] reads the tables
//! once, after the heap exists (the crate's MADT model allocates), and keeps
//! a summary in plain types; nothing later touches the crate.
//!
//! Tables are read through the direct map where it covers them (ACPI data
//! is RAM the memory map lists); other pages (e.g. tables in "reserved"
//! memory, as SeaBIOS leaves them) are mapped once, write-back, through
//! `memory::paging::map_device`, and stay mapped. The AML interpreter is
//! not used: [`s5`] finds the one object the kernel needs in the DSDT.
//!
//! Limits: one I/O APIC is used (the one that holds the ISA IRQs; QEMU and
//! most PCs have one); interrupt source overrides are honoured for the
//! ISA IRQs only; AML is never run.

#[cfg(target_os = "none")]
mod handler;
pub mod madt;
pub mod s5;
#[cfg(target_os = "none")]
mod tables;

#[cfg(target_os = "none")]
pub use tables::*;

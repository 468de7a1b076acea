//! Reading the ACPI tables into [`Acpi`] (see the module above).

extern crate alloc;

use alloc::vec::Vec;

use acpi::AcpiTables;
use acpi::address::AddressSpace;
use acpi::platform::interrupt::{InterruptModel, Polarity, TriggerMode};
use acpi::sdt::fadt::Fadt;
use spin::Once;

use crate::arch::isa::IRQ_LINES;
use crate::boot_info::BootInfo;
use crate::interrupts::{ApicModel, IsaRoute, NoApic};

use super::handler::{self, KernelAcpi};
use super::madt::{self, Processor};

/// A register the FADT names (a generic address), in the two address
/// spaces the kernel can reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Register {
    /// An I/O port, `bits` wide.
    Port { port: u16, bits: u8 },
    /// Physical memory, `bits` wide.
    Memory { address: u64, bits: u8 },
}

impl core::fmt::Display for Register {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Register::Port { port, .. } => write!(f, "port {port:#x}"),
            Register::Memory { address, .. } => write!(f, "memory {address:#x}"),
        }
    }
}

/// What the kernel knows from ACPI.
#[derive(Debug, Clone)]
pub struct Acpi {
    /// The APIC model, or why there is none (for the `interrupts:` line).
    pub apic: Result<ApicModel, NoApic>,
    /// The FADT's reset register and the value to write, if it has one.
    pub reset: Option<(Register, u8)>,
    /// PM1a and PM1b control blocks (sleep type and enable).
    pub pm1_control: (Option<Register>, Option<Register>),
    /// The DSDT's physical address and length.
    pub dsdt: Option<(u64, usize)>,
    /// The FADT says there is no 8042 keyboard controller (only meaningful
    /// from FADT revision 2 on; earlier ones leave the flag unset).
    pub no_8042: bool,
    /// The SMI command port and the value that hands the ACPI registers
    /// from the firmware to the OS (ACPI mode), when the machine has one.
    pub acpi_enable: Option<(u16, u8)>,
    /// The processors the MADT lists (empty without a MADT).
    pub processors: Vec<Processor>,
}

/// The summary, once [`init`] ran and found ACPI tables.
static ACPI: Once<Option<Acpi>> = Once::new();

/// FADT offset just past the reset register's value: a FADT shorter than
/// this (ACPI 1.0, 116 bytes) has no reset register.
const FADT_RESET_END: u32 = 129;

/// Reads the ACPI tables the boot information points to (once); `None`
/// without an RSDP.
pub fn init(boot: &BootInfo) -> Option<&'static Acpi> {
    ACPI.call_once(|| read(boot)).as_ref()
}

/// The summary [`init`] made, if there are ACPI tables.
pub fn get() -> Option<&'static Acpi> {
    ACPI.get().and_then(Option::as_ref)
}

/// The physical address of the RSDP copy in the boot information: GRUB
/// passes the firmware's RSDP bytes, so the copy is itself a valid RSDP.
fn rsdp_address(boot: &BootInfo) -> Option<u64> {
    use multiboot2::TagType;
    let payload = boot
        .tag_payload(TagType::AcpiV2)
        .or_else(|| boot.tag_payload(TagType::AcpiV1))?;
    Some(boot.physical_address_of(payload.as_ptr()))
}

/// Reads everything [`Acpi`] holds.
fn read(boot: &BootInfo) -> Option<Acpi> {
    let rsdp = rsdp_address(boot)?;
    // SAFETY: `rsdp` is the RSDP copy GRUB put in the boot information
    // (checked to have the RSDP's size by boot_info::validate); the crate
    // checks its signature before following it.
    let tables = match unsafe { AcpiTables::from_rsdp(KernelAcpi, rsdp as usize) } {
        Ok(tables) => tables,
        Err(error) => {
            log::warn!("acpi: cannot read the tables: {error:?}");
            return None;
        }
    };
    let apic = read_madt(&tables);
    let mut acpi = Acpi {
        apic,
        reset: None,
        pm1_control: (None, None),
        dsdt: None,
        no_8042: false,
        acpi_enable: None,
        processors: read_processors(&tables),
    };
    if let Some(fadt) = tables.find_table::<Fadt>() {
        read_fadt(&fadt, &mut acpi);
    }
    if let Ok(dsdt) = tables.dsdt() {
        acpi.dsdt = Some((dsdt.phys_address as u64, dsdt.length as usize));
    }
    Some(acpi)
}

/// The processors the MADT lists, read from its bytes (see `madt`).
fn read_processors(tables: &AcpiTables<KernelAcpi>) -> Vec<Processor> {
    let Some((phys, header)) = tables
        .table_headers()
        .find(|(_, header)| header.signature == acpi::sdt::Signature::MADT)
    else {
        return Vec::new();
    };
    let length = header.length as usize;
    let virt = map_table(phys as u64, length as u64);
    // SAFETY: map_table made the table's `length` bytes readable at `virt`
    // for good; ACPI tables are never written while the kernel runs.
    let bytes = unsafe { core::slice::from_raw_parts(virt as *const u8, length) };
    madt::processors(bytes)
}

/// The MADT's APIC model, or why it cannot be used.
fn read_madt(tables: &AcpiTables<KernelAcpi>) -> Result<ApicModel, NoApic> {
    let model = match InterruptModel::new(tables) {
        Ok((model, _)) => model,
        Err(acpi::AcpiError::TableNotFound(_)) => return Err(NoApic::NoMadt),
        Err(_) => return Err(NoApic::MadtUnreadable),
    };
    let InterruptModel::Apic(model) = model else {
        return Err(NoApic::MadtWithoutApicModel);
    };
    let mut isa: [IsaRoute; IRQ_LINES] = core::array::from_fn(|irq| IsaRoute::identity(irq as u8));
    for o in &model.interrupt_source_overrides {
        if let Some(route) = isa.get_mut(usize::from(o.isa_source)) {
            *route = IsaRoute {
                gsi: o.global_system_interrupt,
                active_low: matches!(o.polarity, Polarity::ActiveLow),
                level: matches!(o.trigger_mode, TriggerMode::Level),
            };
        }
    }
    // The I/O APIC that serves the ISA IRQs is the one whose range starts
    // lowest (GSI 0 on every PC); the others are ignored.
    let io_apics: Vec<_> = model.io_apics.iter().collect();
    let Some(io_apic) = io_apics
        .iter()
        .min_by_key(|io| io.global_system_interrupt_base)
    else {
        return Err(NoApic::MadtListsNoIoApic);
    };
    Ok(ApicModel {
        local_apic: model.local_apic_address,
        io_apic: (
            u64::from(io_apic.address),
            io_apic.global_system_interrupt_base,
        ),
        isa,
    })
}

/// The FADT's reset register, PM1 control blocks and 8042 flag.
fn read_fadt(fadt: &Fadt, acpi: &mut Acpi) {
    let revision = fadt.header.revision;
    let length = fadt.header.length;
    if revision >= 2 {
        let boot_arch = fadt.iapc_boot_arch;
        acpi.no_8042 = !boot_arch.motherboard_implements_8042();
    }
    // A FADT too short to hold the reset register has none.
    let flags = fadt.flags;
    if length >= FADT_RESET_END && flags.supports_system_reset_via_fadt() {
        let raw = fadt.reset_reg;
        if let Ok(gas) = acpi::address::GenericAddress::from_raw(raw) {
            acpi.reset = register(&gas).map(|reg| (reg, fadt.reset_value));
        }
    }
    let (smi_cmd, enable) = (fadt.smi_cmd_port, fadt.acpi_enable);
    if smi_cmd != 0 && enable != 0 {
        acpi.acpi_enable = u16::try_from(smi_cmd).ok().map(|port| (port, enable));
    }
    let pm1a = fadt.pm1a_control_block().ok();
    let pm1b = fadt.pm1b_control_block().ok().flatten();
    acpi.pm1_control = (
        pm1a.as_ref().and_then(register),
        pm1b.as_ref().and_then(register),
    );
}

/// A generic address the kernel can use, or `None` (address 0, another
/// address space).
fn register(gas: &acpi::address::GenericAddress) -> Option<Register> {
    if gas.address == 0 {
        return None;
    }
    let bits = if gas.bit_width == 0 { 8 } else { gas.bit_width };
    match gas.address_space {
        AddressSpace::SystemIo => Some(Register::Port {
            port: u16::try_from(gas.address).ok()?,
            bits,
        }),
        AddressSpace::SystemMemory => Some(Register::Memory {
            address: gas.address,
            bits,
        }),
        _ => None,
    }
}

/// Makes the physical range `phys..phys + size` readable and returns the
/// virtual address of `phys` (see the module documentation).
pub fn map_table(phys: u64, size: u64) -> u64 {
    handler::map(phys, size)
}

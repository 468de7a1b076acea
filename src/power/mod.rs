//! Restarting and switching off the machine.
//!
//! [`reboot`] tries, in order, each announced on its own line: the ACPI
//! reset register (FADT), the keyboard controller's reset line (0xfe to port
//! 0x64), then a triple fault (an empty IDT and an exception). [`poweroff`]
//! enters ACPI S5 (soft off): SLP_TYPa/b from the DSDT's `\_S5` package
//! ([`crate::firmware::s5`]) with SLP_EN into the PM1a (and PM1b) control
//! registers, after switching the machine to ACPI mode if the firmware has
//! not (the FADT's SMI command). Where that is impossible (no ACPI:
//! `-machine acpi=off`) it says so and halts. Under QEMU's `-no-reboot` (`make run`, the tests) a
//! reset ends QEMU too.
//!
//! Each attempt gets [`SETTLE`] to take effect before the next one.

use core::time::Duration;

use crate::arch::Port;
use crate::firmware::{self, Register};

/// How long an attempt gets before the next one is tried.
const SETTLE: Duration = Duration::from_millis(100);
/// The 8042's command port.
const KBC_COMMAND: u16 = 0x64;
/// 8042 status bit 1: the input buffer is full.
const KBC_INPUT_FULL: u8 = 1 << 1;
/// 8042 command: pulse output line 0, the CPU's reset line.
const KBC_PULSE_RESET: u8 = 0xfe;
/// How many status reads to wait for the 8042's input buffer.
const KBC_WAIT_READS: usize = 100_000;
/// PM1 control: SLP_TYPx sits in bits 10–12.
const SLP_TYP_SHIFT: u16 = 10;
/// PM1 control bit 13: enter the sleep state.
const SLP_EN: u16 = 1 << 13;
/// Size of the DSDT header before its AML.
const SDT_HEADER: usize = 36;
/// PM1 control bit 0: SCI_EN, set once the machine is in ACPI mode.
const SCI_EN: u16 = 1 << 0;
/// How long the firmware gets to switch to ACPI mode.
const ACPI_MODE_TIMEOUT: Duration = Duration::from_millis(300);

/// Reads a FADT register (I/O ports only: the PM1 control blocks are ports
/// on every PC; memory ones read as 0).
fn read_register(register: Register) -> u16 {
    match register {
        // SAFETY: the FADT names this port as a PM1 control register;
        // reading it has no side effect.
        Register::Port { port, .. } => unsafe { Port::<u16>::new(port).read() },
        Register::Memory { .. } => 0,
    }
}

/// Hands the ACPI registers from the firmware to the kernel (ACPI mode)
/// if they are not yet: on real PCs the sleep registers may do nothing
/// before. QEMU starts in ACPI mode.
fn enter_acpi_mode(acpi: &firmware::Acpi, pm1a: Register) {
    let Some((smi_cmd, enable)) = acpi.acpi_enable else {
        return;
    };
    if read_register(pm1a) & SCI_EN != 0 {
        return;
    }
    // SAFETY: the FADT names `smi_cmd` as the SMI command port and `enable`
    // as the value that asks the firmware for ACPI mode.
    unsafe { Port::<u8>::new(smi_cmd).write(enable) };
    let end = crate::time::uptime() + ACPI_MODE_TIMEOUT;
    while read_register(pm1a) & SCI_EN == 0 && crate::time::uptime() < end {
        core::hint::spin_loop();
    }
}

/// Writes `value` to a FADT register.
fn write_register(register: Register, value: u64) {
    match register {
        Register::Port { port, bits } => {
            // SAFETY: the FADT names this port as the register being
            // written (reset or PM1 control); writing it is what ACPI
            // defines it for.
            unsafe {
                match bits {
                    16 => Port::<u16>::new(port).write(value as u16),
                    32 => Port::<u32>::new(port).write(value as u32),
                    _ => Port::<u8>::new(port).write(value as u8),
                }
            }
        }
        Register::Memory { address, bits } => {
            let virt = firmware::map_table(address, 8);
            // SAFETY: the FADT names this physical address as the register;
            // `map_table` mapped it; the access has the register's width.
            unsafe {
                match bits {
                    16 => core::ptr::write_volatile(virt as *mut u16, value as u16),
                    32 => core::ptr::write_volatile(virt as *mut u32, value as u32),
                    _ => core::ptr::write_volatile(virt as *mut u8, value as u8),
                }
            }
        }
    }
}

/// Restarts the machine; never returns.
pub fn reboot() -> ! {
    let reset = firmware::get().and_then(|acpi| acpi.reset);
    let mut tried: Option<&str> = None;
    if let Some((register, value)) = reset {
        println!("reboot: through the ACPI reset register ({register}, value {value:#x})");
        write_register(register, u64::from(value));
        crate::time::spin_for(SETTLE);
        tried = Some("the ACPI reset register");
    }
    match tried {
        Some(what) => println!(
            "reboot: {what} did nothing; trying the keyboard controller (0xfe to port 0x64)"
        ),
        None => println!("reboot: through the keyboard controller (0xfe to port 0x64)"),
    }
    pulse_kbc_reset();
    crate::time::spin_for(SETTLE);
    println!("reboot: the keyboard controller did nothing; trying a triple fault");
    crate::arch::triple_fault()
}

/// Asks the 8042 to pulse the CPU's reset line.
fn pulse_kbc_reset() {
    let mut port = Port::<u8>::new(KBC_COMMAND);
    // SAFETY: port 0x64 is the 8042's status/command port; 0xfe only pulses
    // the reset line, which is the point. With no 8042 the reads give 0xff
    // (bounded wait) and the write goes nowhere.
    unsafe {
        for _ in 0..KBC_WAIT_READS {
            if port.read() & KBC_INPUT_FULL == 0 {
                break;
            }
        }
        port.write(KBC_PULSE_RESET);
    }
}

/// Switches the machine off; never returns.
pub fn poweroff() -> ! {
    let Some(acpi) = firmware::get() else {
        println!("poweroff: no ACPI tables, so no soft-off; halting (switch the machine off)");
        crate::arch::halt_forever()
    };
    let (Some(pm1a), pm1b) = acpi.pm1_control else {
        println!("poweroff: the FADT has no PM1 control register; halting");
        crate::arch::halt_forever()
    };
    let Some((typ_a, typ_b)) = s5_sleep_types(acpi) else {
        println!("poweroff: no \\_S5 package in the DSDT; halting (switch the machine off)");
        crate::arch::halt_forever()
    };
    println!("poweroff: ACPI S5 (PM1a control {pm1a}, SLP_TYPa {typ_a}, SLP_TYPb {typ_b})");
    crate::arch::disable_interrupts();
    enter_acpi_mode(acpi, pm1a);
    write_register(
        pm1a,
        u64::from((u16::from(typ_a) << SLP_TYP_SHIFT) | SLP_EN),
    );
    if let Some(pm1b) = pm1b {
        write_register(
            pm1b,
            u64::from((u16::from(typ_b) << SLP_TYP_SHIFT) | SLP_EN),
        );
    }
    crate::time::spin_for(SETTLE);
    println!("poweroff: the machine is still on; halting (switch it off)");
    crate::arch::halt_forever()
}

/// SLP_TYPa/b from the DSDT's `\_S5`.
fn s5_sleep_types(acpi: &firmware::Acpi) -> Option<(u8, u8)> {
    let (phys, length) = acpi.dsdt?;
    let length = length.checked_sub(SDT_HEADER)?;
    let virt = firmware::map_table(phys + SDT_HEADER as u64, length as u64);
    // SAFETY: `map_table` mapped the DSDT's `length` bytes of AML at
    // `virt`; firmware tables are never written while the kernel runs.
    let aml = unsafe { core::slice::from_raw_parts(virt as *const u8, length) };
    firmware::s5::find(aml)
}

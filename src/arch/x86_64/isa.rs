//! The PC's fixed ISA interrupt lines: which IRQ each legacy device raises,
//! the same on every PC since the AT (and on QEMU's `pc` and `q35`).

/// The PIT's channel 0 (the tick without an APIC).
pub const IRQ_TIMER: u8 = 0;
/// The PS/2 keyboard (the 8042 controller's first port).
pub const IRQ_KEYBOARD: u8 = 1;
/// COM1, the first serial port (0x3f8).
pub const IRQ_COM1: u8 = 4;
/// The lines there are: 0–15, eight on each 8259.
pub const IRQ_LINES: usize = 16;

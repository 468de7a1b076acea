//! COM1's receive interrupt: every byte the UART has goes into
//! [`super::SERIAL_QUEUE`].
//!
//! The transmit side stays with the console's polled driver
//! (`console::serial`); this side touches only the receive buffer, the line
//! status and the interrupt enable register, never the driver's lock, so
//! the handler cannot wait on a lock the interrupted code holds. The UART's
//! FIFO (enabled by the driver) raises the interrupt at its trigger level or
//! after a short pause in the input.

use crate::arch::Port;
use crate::arch::isa::IRQ_COM1;
use crate::interrupts::register_irq;

/// COM1's base port.
const COM1: u16 = 0x3f8;
/// Receive buffer (read, with DLAB clear).
const RBR: u16 = COM1;
/// Interrupt enable register.
const IER: u16 = COM1 + 1;
/// Line status register.
const LSR: u16 = COM1 + 5;
/// IER bit 0: interrupt when received data is available.
const IER_DATA_READY: u8 = 1 << 0;
/// LSR bit 0: a byte waits in the receive buffer.
const LSR_DATA_READY: u8 = 1 << 0;
/// The most bytes one interrupt reads (the FIFO holds 16; the cap keeps a
/// flooding or broken port from holding the CPU forever).
const MAX_PER_INTERRUPT: usize = 64;

/// Registers IRQ 4's handler and turns on the receive interrupt, if there
/// is a serial port. Bytes already waiting are read into the queue. Call
/// with interrupts off.
pub fn init() {
    if !crate::console::serial::present() {
        return;
    }
    if let Err(why) = register_irq(IRQ_COM1, on_interrupt) {
        log::warn!("serial: no input: IRQ 4: {why}");
        return;
    }
    on_interrupt();
    // SAFETY: COM1's IER (DLAB is clear after the driver's init); only the
    // receive bit is set, the driver uses no interrupt.
    unsafe { Port::<u8>::new(IER).write(IER_DATA_READY) };
}

/// IRQ 4: moves every waiting byte into the queue.
fn on_interrupt() {
    let mut lsr = Port::<u8>::new(LSR);
    let mut rbr = Port::<u8>::new(RBR);
    for _ in 0..MAX_PER_INTERRUPT {
        // SAFETY: reading COM1's line status and receive buffer; the
        // polled transmit path never reads the receive buffer, so no byte
        // is taken from under anyone.
        let byte = unsafe {
            if lsr.read() & LSR_DATA_READY == 0 {
                break;
            }
            rbr.read()
        };
        super::SERIAL_QUEUE.push(byte);
    }
}

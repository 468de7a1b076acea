//! COM1's interrupt: every byte the UART has received goes into
//! [`super::SERIAL_QUEUE`], and the transmitter's requests go to the
//! console's transmit ring (`console::serial`), which owns the transmit
//! side and the interrupt enable register. The receive side touches only
//! the receive buffer and the line status, so the handler cannot wait on a
//! lock the interrupted code holds (the ring's is only ever taken with
//! interrupts off). The UART's
//! FIFO (enabled by the driver) raises the interrupt at its trigger level or
//! after a short pause in the input.

use super::throttle::Action;
use crate::arch::isa::IRQ_COM1;
use crate::arch::read_timestamp;
use crate::console::serial::{self, Cause};
use crate::interrupts::register_irq;

/// The most bytes one interrupt reads (the FIFO holds 16; the cap keeps a
/// flooding or broken port from holding the CPU forever).
const MAX_PER_INTERRUPT: usize = 64;

/// Registers IRQ 4's handler and turns on the receive interrupt, if there
/// is a serial port, and hands the transmit side to the interrupt too.
/// Bytes already waiting are read into the queue. Call with interrupts off.
pub fn init() {
    if !serial::present() {
        return;
    }
    if let Err(why) = register_irq(IRQ_COM1, on_interrupt) {
        log::warn!("serial: no input: IRQ 4: {why}");
        return;
    }
    receive();
    serial::enable_receive_interrupt();
    serial::enable_transmit_interrupt();
}

/// The most causes one interrupt serves (a broken port must not hold the
/// CPU forever).
const MAX_CAUSES: usize = 8;

/// IRQ 4: serves every cause the UART reports: received bytes into the
/// queue, and the transmitter's next bytes from the console's ring.
fn on_interrupt() {
    for _ in 0..MAX_CAUSES {
        match serial::on_interrupt_cause() {
            Cause::None => return,
            Cause::Receive => receive(),
            Cause::Transmit => serial::on_transmit_ready(),
            Cause::Other => {}
        }
    }
    // Causes may remain: the UART's line stays raised, and an
    // edge-triggered controller would not call again without a new edge.
    serial::retrigger();
}

/// Moves waiting bytes into the queue, up to its high-water mark: there
/// the throttle holds the line back (the rest waits in the UART) until the
/// shell has drained the queue (`super::poll_key`). Nothing is dropped.
fn receive() {
    for _ in 0..MAX_PER_INTERRUPT {
        if !serial::byte_received() {
            break;
        }
        match super::serial_may_take(read_timestamp()) {
            Ok(()) => {}
            Err(Action::Stop) => {
                serial::hold_receive(true);
                break;
            }
            Err(_) => break,
        }
        super::SERIAL_QUEUE.push(serial::take_received());
    }
    if !super::SERIAL_QUEUE.is_empty() {
        super::INPUT_WAITERS.wake_all();
    }
}

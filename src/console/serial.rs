//! The serial console: COM1, set up (and tested in loopback) through the
//! `uart_16550` crate, written through a transmit ring.
//!
//! If no UART answers (QEMU `-serial none`, or a PC without COM1), the port
//! stays absent and serial output is dropped; the kernel boots regardless.
//! Text goes into the ring as [`super::terminal`] says (`\n` as `\r\n`).
//!
//! **Transmitting.** Once the receive side has registered COM1's interrupt
//! ([`enable_transmit_interrupt`]), the UART's transmit-empty interrupt
//! drains the ring ([`on_transmit_ready`]), 16 bytes (one FIFO) at a time:
//! no code waits on the line with interrupts off. Before that, and
//! whenever the writer runs with interrupts off (the boot until step 7, an
//! exception handler, the panic screen), the writer drains the ring itself,
//! polling the line status with a bounded wait per byte.
//!
//! **A line that stops.** When the ring is full, the writer waits a bounded
//! time for the line to move ([`STALL_WAIT_US`], 50 ms), with interrupts
//! on where they were on. If no byte went out meanwhile,
//! the line counts as stalled: serial output is dropped and counted, and the
//! screen, the keyboard and the shell go on. When the transmitter has
//! drained the ring again, output resumes with one line, `[WARN] serial: N
//! bytes dropped while the line was stalled`. `interrupts` shows the
//! counts ([`counts`]).
//!
//! **Order.** One writer at a time ([`WRITER`]): what one `print!` sends
//! arrives whole, never interleaved with another's. An exception handler
//! that prints while the code it interrupted holds the writer writes
//! anyway (it cannot wait for it); the panic screen breaks both locks.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use spin::Mutex;
use uart_16550::backend::PioBackend;
use uart_16550::spec::registers::FifoTriggerLevel;
use uart_16550::{Config, Uart16550Tty};

use super::tx_ring::{TxCounts, TxRing};
use crate::arch::{Port, interrupts_enabled, read_timestamp, without_interrupts};

/// The I/O port base of COM1 on every PC.
const COM1: u16 = 0x3f8;
/// Transmit holding register (write, with DLAB clear).
const THR: u16 = COM1;
/// Interrupt enable register.
const IER: u16 = COM1 + 1;
/// Interrupt identification register (read).
const IIR: u16 = COM1 + 2;
/// Modem control register.
const MCR: u16 = COM1 + 4;
/// Line status register.
const LSR: u16 = COM1 + 5;
/// MCR bit 1: request to send (asserted: the sender may send).
const MCR_RTS: u8 = 1 << 1;
/// Receive buffer register (read, with DLAB clear).
const RBR: u16 = COM1;
/// LSR bit 0: a byte waits in the receive buffer.
const LSR_DATA_READY: u8 = 1 << 0;
/// IER bit 0: interrupt when received data is available.
const IER_RECEIVE: u8 = 1 << 0;
/// IER bit 1: interrupt when the transmit holding register is empty.
const IER_TRANSMIT: u8 = 1 << 1;
/// IIR bit 0: clear when an interrupt is pending.
const IIR_NONE_PENDING: u8 = 1 << 0;
/// IIR bits 1-3: which interrupt.
const IIR_ID_MASK: u8 = 0b1110;
/// IIR id: the transmit holding register is empty.
const IIR_TRANSMIT_EMPTY: u8 = 0b0010;
/// IIR id: received data available.
const IIR_RECEIVE: u8 = 0b0100;
/// IIR id: a receiver line status change (error or break).
const IIR_LINE_STATUS: u8 = 0b0110;
/// IIR id: the receive FIFO's timeout (bytes below the trigger level).
const IIR_RECEIVE_TIMEOUT: u8 = 0b1100;
/// LSR bit 5: the transmit holding register (and FIFO) is empty.
const LSR_TRANSMIT_EMPTY: u8 = 1 << 5;
/// The transmit FIFO's depth on a 16550A.
const FIFO_DEPTH: usize = 16;
/// How long the writer waits for the line to move before counting it
/// stalled: 50 ms, about 580 characters' time at 115200 baud. A real line
/// that moves at all moves within a few characters' time; the margin is
/// for emulators, whose UART sends only when the host runs the emulator's
/// I/O thread: with the test suite loading both cores of its machine, a
/// bound of 4 characters' time (350 us) counted such pauses as stalls and
/// dropped output that would have gone out.
pub const STALL_WAIT_US: u64 = 50_000;
/// The same bound in status reads, before the timestamp counter's rate is
/// known: each port read takes on the order of a microsecond.
const STALL_WAIT_READS: u32 = 50_000;

/// Whether COM1 answered the crate's set-up and loopback test: after the
/// set-up the registers are driven here, so the crate's port object is not
/// kept.
static PRESENT: AtomicBool = AtomicBool::new(false);
/// The ring and its accounting. Taken only with interrupts off, briefly.
static TX: Mutex<TxRing> = Mutex::new(TxRing::new());
/// One writer at a time, so that one `print!` arrives whole. Taken with
/// interrupts as the writer has them (on: the ring drains meanwhile).
static WRITER: Mutex<()> = Mutex::new(());
/// Whether the transmit-empty interrupt drains the ring (COM1's IRQ is
/// registered and on).
static INTERRUPT_DRIVEN: AtomicBool = AtomicBool::new(false);
/// The interrupt enable register's value, as this module last wrote it.
static IER_VALUE: Mutex<u8> = Mutex::new(0);
/// The timestamp counter's rate, 0 until `time` has calibrated it.
static TSC_HZ: AtomicU64 = AtomicU64::new(0);

/// Probes and initialises COM1 (115200 baud, 8N1, FIFO) and tests it in
/// loopback mode; leaves the port absent if any of that fails.
///
/// The receive FIFO interrupts at its first byte (not the driver's default
/// of 14): a typed key then reaches the kernel at once rather than after the
/// FIFO's timeout (`make bench` measures the difference).
pub fn init() {
    let config = Config {
        fifo_trigger_level: Some(FifoTriggerLevel::One),
        ..Config::default()
    };
    // SAFETY: 0x3f8..0x3f8+8 are COM1's registers on a PC and nothing else in
    // the kernel touches them; the driver sets them up, this module drives
    // them from here on.
    let port = unsafe { Uart16550Tty::<PioBackend>::new_port(COM1, config) };
    PRESENT.store(port.is_ok(), Ordering::Release);
}

/// Whether a working serial port was found.
pub fn present() -> bool {
    PRESENT.load(Ordering::Acquire)
}

/// Tells the writer the timestamp counter's rate, for its bounded waits
/// (`time` calls this once it has calibrated the counter).
pub fn set_timestamp_rate(hz: u64) {
    TSC_HZ.store(hz, Ordering::Relaxed);
}

/// Turns on COM1's receive interrupt (the receive side, which owns the
/// IRQ's handler, calls this).
pub fn enable_receive_interrupt() {
    set_ier(IER_RECEIVE, true);
}

/// Holds the line's input back (`held`: the receive interrupt masked, RTS
/// deasserted, so bytes wait in the UART and, with flow control, at the
/// sender) or lets it come again. For the receive side's throttle; safe in
/// its interrupt handler.
pub fn hold_receive(held: bool) {
    // One interrupts-off section: the handler cannot change the throttle
    // between the two writes.
    without_interrupts(|| {
        set_ier(IER_RECEIVE, !held);
        let mut mcr = Port::<u8>::new(MCR);
        // SAFETY: COM1's modem control register; only this module writes
        // it after the driver's set-up, read-modify-write with interrupts
        // off, keeping its other bits (OUT2 gates the UART's interrupt on a
        // PC).
        unsafe {
            let value = mcr.read();
            mcr.write(if held {
                value & !MCR_RTS
            } else {
                value | MCR_RTS
            });
        }
    });
}

/// From now on the transmit-empty interrupt drains the ring: COM1's IRQ is
/// registered, and its handler calls [`on_interrupt_cause`] and
/// [`on_transmit_ready`].
pub fn enable_transmit_interrupt() {
    INTERRUPT_DRIVEN.store(true, Ordering::Release);
    without_interrupts(|| kick(&TX.lock()));
}

/// Sets or clears `bits` of the interrupt enable register.
fn set_ier(bits: u8, on: bool) {
    without_interrupts(|| {
        let mut value = IER_VALUE.lock();
        let new = if on { *value | bits } else { *value & !bits };
        if new != *value {
            *value = new;
            // SAFETY: COM1's interrupt enable register (DLAB is clear after
            // the driver's set-up); only this module writes it.
            unsafe { Port::<u8>::new(IER).write(new) };
        }
    });
}

/// Makes COM1 raise its interrupt again if a cause is still pending: the
/// interrupt enable register goes to 0 and back, a fresh edge for an
/// edge-triggered controller. For a handler that stopped serving before
/// the UART ran out of causes.
pub fn retrigger() {
    without_interrupts(|| {
        let value = IER_VALUE.lock();
        let mut ier = Port::<u8>::new(IER);
        // SAFETY: COM1's interrupt enable register, written under its
        // shadow's lock with interrupts off; it ends at the shadow's value.
        unsafe {
            ier.write(0);
            ier.write(*value);
        }
    });
}

/// What COM1's interrupt is about, from its identification register
/// (reading it also clears a pending transmit-empty interrupt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Nothing (more) is pending.
    None,
    /// Received bytes wait (or a line status change, read with them).
    Receive,
    /// The transmitter wants more bytes.
    Transmit,
    /// Something this driver does not use (modem status).
    Other,
}

/// The pending interrupt's cause. For COM1's interrupt handler.
pub fn on_interrupt_cause() -> Cause {
    // SAFETY: reading COM1's interrupt identification register; it only
    // acknowledges a transmit-empty interrupt, which the caller then serves.
    let iir = unsafe { Port::<u8>::new(IIR).read() };
    if iir & IIR_NONE_PENDING != 0 {
        return Cause::None;
    }
    match iir & IIR_ID_MASK {
        IIR_TRANSMIT_EMPTY => Cause::Transmit,
        IIR_RECEIVE | IIR_RECEIVE_TIMEOUT | IIR_LINE_STATUS => Cause::Receive,
        _ => Cause::Other,
    }
}

/// Moves up to a FIFO's worth of bytes from the ring to the transmitter,
/// whose FIFO is empty.
fn fill_fifo(tx: &mut TxRing) {
    for _ in 0..FIFO_DEPTH {
        let Some(byte) = tx.pop() else { break };
        write_thr(byte);
    }
}

/// COM1's transmit-empty interrupt: fills the FIFO from the ring; when the
/// ring is empty, turns the interrupt off (the next write turns it on) and
/// ends a stall. Runs in the interrupt handler, with interrupts off.
pub fn on_transmit_ready() {
    let mut tx = TX.lock();
    fill_fifo(&mut tx);
    if tx.is_empty() {
        tx.resume(read_timestamp());
        if tx.is_empty() {
            set_ier(IER_TRANSMIT, false);
        }
    }
}

/// Writes `byte` to the transmit holding register.
fn write_thr(byte: u8) {
    // SAFETY: COM1's transmit holding register; only this module writes it,
    // under the ring's lock.
    unsafe { Port::<u8>::new(THR).write(byte) };
}

/// Whether a received byte waits in the UART (for the receive side, which
/// owns COM1's interrupt handler).
pub fn byte_received() -> bool {
    // SAFETY: reading COM1's line status only reports.
    unsafe { Port::<u8>::new(LSR).read() & LSR_DATA_READY != 0 }
}

/// Takes the received byte that waits (check [`byte_received`] first).
pub fn take_received() -> u8 {
    // SAFETY: reading COM1's receive buffer; only the receive side calls
    // this, from COM1's interrupt handler, so no byte is taken from under
    // anyone.
    unsafe { Port::<u8>::new(RBR).read() }
}

/// Whether the transmitter can take a FIFO's worth of bytes.
fn transmitter_empty() -> bool {
    // SAFETY: reading COM1's line status has no side effect on transmit.
    unsafe { Port::<u8>::new(LSR).read() & LSR_TRANSMIT_EMPTY != 0 }
}

/// Has the ring drained: by the interrupt when interrupt-driven (turning
/// it on), else by nothing here (the writer polls).
fn kick(tx: &TxRing) {
    if !tx.is_empty() && INTERRUPT_DRIVEN.load(Ordering::Acquire) {
        set_ier(IER_TRANSMIT, true);
    }
}

/// A deadline [`STALL_WAIT_US`] from now, as the waits count it.
struct Deadline {
    /// The timestamp to give up at, once the counter's rate is known.
    until: Option<u64>,
    /// Status reads left otherwise.
    reads: u32,
}

impl Deadline {
    /// From now.
    fn start() -> Self {
        let hz = TSC_HZ.load(Ordering::Relaxed);
        Deadline {
            until: (hz != 0).then(|| read_timestamp() + hz * STALL_WAIT_US / 1_000_000),
            reads: STALL_WAIT_READS,
        }
    }

    /// Whether it has passed (each call counts as one read).
    fn passed(&mut self) -> bool {
        self.reads = self.reads.saturating_sub(1);
        match self.until {
            Some(until) => read_timestamp() >= until,
            None => self.reads == 0,
        }
    }
}

/// Sends from the ring by polling the line, with interrupts off: one
/// FIFO's worth each time the transmitter is empty, until the ring is
/// empty or the line makes no progress for [`STALL_WAIT_US`] (it then
/// counts as stalled).
fn drain_polled(tx: &mut TxRing) {
    let mut deadline = Deadline::start();
    loop {
        while !tx.is_empty() {
            if transmitter_empty() {
                fill_fifo(tx);
                deadline = Deadline::start();
            } else if deadline.passed() {
                tx.stall(read_timestamp());
                return;
            }
        }
        // A stall that ends queues its warning: send that too.
        let was_stalled = tx.stalled();
        tx.resume(read_timestamp());
        if !was_stalled || tx.is_empty() {
            return;
        }
    }
}

/// Writes formatted text to the serial port, if there is one (see the
/// module documentation for how it waits, and for how long at most).
pub fn print(args: fmt::Arguments) {
    if !present() {
        return;
    }
    let interruptible = interrupts_enabled();
    // An interrupted writer cannot finish while its interrupter waits, so a
    // writer with interrupts off does not wait for the writer lock.
    let _writer = if interruptible {
        Some(WRITER.lock())
    } else {
        WRITER.try_lock()
    };
    let _ = Writer { interruptible }.write_fmt(args);
}

/// Text into the ring, for one `print`.
struct Writer {
    /// Whether interrupts were on: the transmit interrupt can then drain
    /// the ring while this writer waits.
    interruptible: bool,
}

impl Writer {
    /// Queues `run`, waiting (boundedly) for room.
    fn send(&self, mut run: &[u8]) {
        while !run.is_empty() {
            let taken = without_interrupts(|| {
                let mut tx = TX.lock();
                let polled = !self.interruptible || !INTERRUPT_DRIVEN.load(Ordering::Acquire);
                if tx.stalled() && polled && transmitter_empty() {
                    // The line moves again: send what waits, end the stall.
                    drain_polled(&mut tx);
                }
                if tx.stalled() {
                    // Dropped, at once: the wait was spent when it stalled.
                    // Resuming is the drain's business.
                    tx.drop_bytes(run.len());
                    return run.len();
                }
                let idle = tx.is_empty();
                let taken = tx.push(run);
                if let Some(&last) = run[..taken].last() {
                    MID_LINE.store(last != b'\n', Ordering::Relaxed);
                }
                if polled {
                    drain_polled(&mut tx);
                } else {
                    // An idle line takes the first FIFO-full at once: a
                    // short write (a program's `write` of a few bytes) then
                    // costs one status read, not an interrupt.
                    if idle && transmitter_empty() {
                        fill_fifo(&mut tx);
                    }
                    kick(&tx);
                }
                taken
            });
            run = &run[taken..];
            if !run.is_empty() && taken == 0 && self.interruptible {
                self.wait_for_room();
            }
        }
    }

    /// With interrupts on: waits until the ring has room, or until the
    /// line has made no progress for [`STALL_WAIT_US`], then marks it
    /// stalled.
    fn wait_for_room(&self) {
        let mut deadline = Deadline::start();
        let mut left = without_interrupts(|| TX.lock().len());
        loop {
            core::hint::spin_loop();
            let now_left = without_interrupts(|| TX.lock().len());
            if now_left < left {
                return; // the line moves
            }
            left = now_left;
            if deadline.passed() {
                without_interrupts(|| TX.lock().stall(read_timestamp()));
                return;
            }
        }
    }
}

impl Write for Writer {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        super::terminal::for_terminal(text.as_bytes(), |run| self.send(run));
        Ok(())
    }
}

/// Whether the last byte queued was not a newline: a line is unfinished
/// (a prompt, or a line another CPU is writing).
static MID_LINE: AtomicBool = AtomicBool::new(false);

/// Whether serial is in the middle of a line (see [`MID_LINE`]).
pub fn mid_line() -> bool {
    MID_LINE.load(Ordering::Relaxed)
}

/// The transmit counts: sent, dropped, stalls, time stalled in timestamp
/// cycles.
pub fn counts() -> TxCounts {
    without_interrupts(|| TX.lock().counts(read_timestamp()))
}

/// Runs `f` while holding the port's locks (to test the panic path), with
/// interrupts off as every holder of the ring's lock.
pub fn with_lock_held<R>(f: impl FnOnce() -> R) -> R {
    without_interrupts(|| {
        let _writer = WRITER.lock();
        let _ring = TX.lock();
        f()
    })
}

/// Releases the locks regardless of who holds them.
///
/// # Safety
/// Only for the panic path: the holder must never run again.
pub unsafe fn force_unlock() {
    // SAFETY: forwarded from the caller.
    unsafe {
        WRITER.force_unlock();
        TX.force_unlock();
        IER_VALUE.force_unlock();
    }
}

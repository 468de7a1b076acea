//! The serial console: COM1 through the `uart_16550` crate.
//!
//! If no UART answers (QEMU `-serial none`, or a PC without COM1), the port
//! stays absent and serial output is dropped; the kernel boots regardless.
//! Text goes out as [`super::terminal`] says (`\n` as `\r\n`), in runs that
//! fill the FIFO. The port is polled, so output never waits for an
//! interrupt that might not come.

use core::fmt::{self, Write};

use spin::Mutex;
use uart_16550::backend::PioBackend;
use uart_16550::spec::registers::FifoTriggerLevel;
use uart_16550::{Config, Uart16550, Uart16550Tty};

/// The I/O port base of COM1 on every PC.
const COM1: u16 = 0x3f8;

/// COM1, once initialised; `None` when there is no such port.
static SERIAL: Mutex<Option<Uart16550Tty<PioBackend>>> = Mutex::new(None);

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
    // the kernel touches them; the driver owns them from here on.
    let port = unsafe { Uart16550Tty::new_port(COM1, config) };
    *SERIAL.lock() = port.ok();
}

/// Whether a working serial port was found.
pub fn present() -> bool {
    crate::arch::without_interrupts(|| SERIAL.lock().is_some())
}

/// Writes formatted text to the serial port, if there is one. The lock is
/// taken with interrupts off, so an interrupt handler that prints can never
/// find it held on this CPU.
pub fn print(args: fmt::Arguments) {
    crate::arch::without_interrupts(|| {
        if let Some(port) = SERIAL.lock().as_mut() {
            // Terminal's write_str never fails.
            let _ = Terminal(port.inner_mut()).write_fmt(args);
        }
    });
}

/// Formatted text to the UART, translated for a terminal.
struct Terminal<'a>(&'a mut Uart16550<PioBackend>);

impl Write for Terminal<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        super::terminal::for_terminal(text.as_bytes(), |run| self.0.send_bytes_exact(run));
        Ok(())
    }
}

/// Runs `f` while holding the port's lock (to test the panic path), with
/// interrupts off as every holder of the lock.
pub fn with_lock_held<R>(f: impl FnOnce() -> R) -> R {
    crate::arch::without_interrupts(|| {
        let _guard = SERIAL.lock();
        f()
    })
}

/// Releases the lock regardless of who holds it.
///
/// # Safety
/// Only for the panic path: the holder must never run again.
pub unsafe fn force_unlock() {
    // SAFETY: forwarded from the caller.
    unsafe { SERIAL.force_unlock() };
}

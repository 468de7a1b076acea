//! The PS/2 keyboard behind the 8042 controller: IRQ 1 moves each scancode
//! into [`super::PS2_QUEUE`]; [`decode`] (normal code) turns scancodes into
//! keys with the `pc-keyboard` crate, scancode set 1 (the 8042 translates
//! the keyboard's set 2, as firmware leaves it), in the layout `keymap=`
//! chose.
//!
//! [`init`] believes ACPI when the FADT says there is no 8042, and
//! otherwise asks the controller for its configuration byte: no answer
//! within 10 ms (or a status port reading 0xff, an empty bus) means no
//! controller. It then makes sure IRQ 1 and the translation are on and the
//! keyboard's clock enabled. Unknown scancodes are ignored by the decoder.

use core::time::Duration;

use pc_keyboard::layouts::AnyLayout;
use pc_keyboard::{HandleControl, PS2Keyboard, ScancodeSet1};
use spin::Mutex;

use super::Keymap;
use super::key::Key;
use super::ps2_keys;
use crate::arch::Port;
use crate::arch::isa::IRQ_KEYBOARD;
use crate::interrupts::{RegisterError, register_irq};

/// The 8042's data port.
const DATA: u16 = 0x60;
/// The 8042's status (read) and command (write) port.
const STATUS_COMMAND: u16 = 0x64;
/// Status bit 0: the output buffer holds a byte for the CPU.
const STATUS_OUTPUT_FULL: u8 = 1 << 0;
/// Status bit 1: the input buffer still holds a byte for the controller.
const STATUS_INPUT_FULL: u8 = 1 << 1;
/// Status bit 5: the byte in the output buffer is from the mouse port.
const STATUS_AUX_DATA: u8 = 1 << 5;
/// Command: read the configuration byte.
const READ_CONFIG: u8 = 0x20;
/// Command: write the configuration byte (next byte on the data port).
const WRITE_CONFIG: u8 = 0x60;
/// Config bit 0: IRQ 1 for the keyboard port.
const CONFIG_IRQ1: u8 = 1 << 0;
/// Config bit 4: the keyboard port's clock is disabled.
const CONFIG_CLOCK_OFF: u8 = 1 << 4;
/// Config bit 6: translate to scancode set 1.
const CONFIG_TRANSLATE: u8 = 1 << 6;
/// What a status read returns with nothing on the bus.
const NO_DEVICE: u8 = 0xff;
/// How long the controller gets to answer.
const TIMEOUT: Duration = Duration::from_millis(10);
/// Bytes of stale output flushed at most.
const MAX_FLUSH: usize = 32;

/// The decoder, once [`init`] found a controller; normal code only.
static KEYBOARD: Mutex<Option<PS2Keyboard<AnyLayout, ScancodeSet1>>> = Mutex::new(None);

/// Reads the status port.
fn status() -> u8 {
    // SAFETY: port 0x64 is the 8042's status register on a PC; reading it
    // has no side effect (0xff when nothing answers).
    unsafe { Port::<u8>::new(STATUS_COMMAND).read() }
}

/// Reads the data port.
fn read_data() -> u8 {
    // SAFETY: port 0x60 is the 8042's data register; reading takes the byte
    // the status said is there.
    unsafe { Port::<u8>::new(DATA).read() }
}

/// Waits until `ready(status)` or the timeout; whether it became ready.
fn wait_for(ready: impl Fn(u8) -> bool) -> bool {
    let end = crate::time::uptime() + TIMEOUT;
    loop {
        if ready(status()) {
            return true;
        }
        if crate::time::uptime() >= end {
            return false;
        }
        core::hint::spin_loop();
    }
}

/// Writes `byte` to `port` once the controller's input buffer is free.
fn write(port: u16, byte: u8) -> bool {
    if !wait_for(|s| s & STATUS_INPUT_FULL == 0) {
        return false;
    }
    // SAFETY: ports 0x60/0x64 of the 8042; the callers send only the
    // configuration commands above.
    unsafe { Port::<u8>::new(port).write(byte) };
    true
}

/// Why there is no PS/2 keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoKeyboard {
    /// ACPI's FADT says the machine has no 8042.
    NoControllerPerFadt,
    /// The status port reads as no device.
    NothingAtStatusPort,
    /// The controller did not answer a command in time.
    NoAnswer,
    /// The controller did not take its new configuration.
    ConfigRefused,
    /// IRQ 1 has another handler (a bug in the init order).
    Irq(RegisterError),
}

impl core::fmt::Display for NoKeyboard {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            NoKeyboard::NoControllerPerFadt => f.write_str("the FADT says there is no 8042"),
            NoKeyboard::NothingAtStatusPort => f.write_str("nothing answers at port 0x64"),
            NoKeyboard::NoAnswer => f.write_str("the controller does not answer"),
            NoKeyboard::ConfigRefused => f.write_str("the controller takes no configuration"),
            NoKeyboard::Irq(why) => write!(f, "IRQ 1: {why}"),
        }
    }
}

/// Finds the controller, sets it up for IRQ 1 (see the module
/// documentation) and registers the IRQ's handler, or says why there is
/// none. Call with interrupts off, after the timer's calibration.
pub fn init(keymap: Keymap, no_8042: bool) -> Result<(), NoKeyboard> {
    if no_8042 {
        return Err(NoKeyboard::NoControllerPerFadt);
    }
    if status() == NO_DEVICE {
        return Err(NoKeyboard::NothingAtStatusPort);
    }
    for _ in 0..MAX_FLUSH {
        if status() & STATUS_OUTPUT_FULL == 0 {
            break;
        }
        read_data();
    }
    if !write(STATUS_COMMAND, READ_CONFIG) || !wait_for(|s| s & STATUS_OUTPUT_FULL != 0) {
        return Err(NoKeyboard::NoAnswer);
    }
    let config = read_data();
    let wanted = (config | CONFIG_IRQ1 | CONFIG_TRANSLATE) & !CONFIG_CLOCK_OFF;
    if wanted != config && !(write(STATUS_COMMAND, WRITE_CONFIG) && write(DATA, wanted)) {
        return Err(NoKeyboard::ConfigRefused);
    }
    *KEYBOARD.lock() = Some(PS2Keyboard::new(
        ScancodeSet1::new(),
        ps2_keys::layout(keymap),
        HandleControl::MapLettersToUnicode,
    ));
    register_irq(IRQ_KEYBOARD, on_interrupt).map_err(NoKeyboard::Irq)?;
    log::debug!("keyboard: PS/2, layout {}", keymap.name());
    Ok(())
}

/// IRQ 1: moves the scancode into the queue (mouse bytes are dropped).
fn on_interrupt() {
    let status = status();
    if status & STATUS_OUTPUT_FULL == 0 {
        return;
    }
    let byte = read_data();
    if status & STATUS_AUX_DATA == 0 {
        super::PS2_QUEUE.push(byte);
        super::INPUT_WAITERS.wake_all();
    }
}

/// Feeds one scancode to the decoder; the key it completes, if any.
pub fn decode(scancode: u8) -> Option<Key> {
    let mut keyboard = KEYBOARD.lock();
    let keyboard = keyboard.as_mut()?;
    let event = keyboard.add_byte(scancode).ok()??;
    let shifted = keyboard.get_modifiers().is_shifted();
    let decoded = keyboard.process_keyevent(event)?;
    ps2_keys::key_of(decoded, shifted)
}

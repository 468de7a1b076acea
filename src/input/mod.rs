//! Input: what the user types, from the PS/2 keyboard and the serial port,
//! as [`key::Key`]s for the shell.
//!
//! Data flows one way: the devices' interrupt handlers ([`ps2`],
//! [`serial_rx`]) push raw bytes into a fixed-size lock-free [`queue`] each;
//! [`poll_key`] and [`wait_key`], in normal code, drain them through the
//! decoders ([`ps2_keys`] with the `pc-keyboard` crate, [`ansi`]) into keys.
//! A full queue drops and counts ([`take_dropped`]). [`wait_key`] sleeps in
//! `hlt` with interrupts on while there is nothing to read.
//!
//! Pure pieces (the key type, the decoders, the queue) are host-tested.
//! USB keyboards are out of scope: on a PC without a PS/2 controller (or
//! firmware emulation of one), type on the serial port.

pub mod ansi;
pub mod key;
pub mod keymap;
#[cfg(target_os = "none")]
pub mod ps2;
pub mod ps2_keys;
pub mod queue;
#[cfg(target_os = "none")]
pub mod serial_rx;
pub mod throttle;

#[cfg(target_os = "none")]
pub use self::device::*;
pub use self::keymap::Keymap;

/// The kernel side: the queues, the decoders and the calls the shell uses.
#[cfg(target_os = "none")]
mod device {
    use core::sync::atomic::{AtomicBool, Ordering};

    use spin::Mutex;

    use super::ansi::Decoder;
    use super::key::Key;
    use super::queue::ByteQueue;
    use super::throttle::{Action, Throttle};
    use crate::input::Keymap;
    use crate::sched::WaitQueue;

    /// Bytes from COM1, as received (a pasted line or two fits).
    pub static SERIAL_QUEUE: ByteQueue<SERIAL_QUEUE_SIZE> = ByteQueue::new();

    /// The serial queue's size.
    const SERIAL_QUEUE_SIZE: usize = 1024;

    /// The serial input's throttle: stop taking bytes at three quarters of
    /// the queue, take them again at a quarter (interrupts off to take).
    static THROTTLE: Mutex<Throttle> = Mutex::new(Throttle::new(
        SERIAL_QUEUE_SIZE / 4,
        SERIAL_QUEUE_SIZE * 3 / 4,
    ));

    /// Whether the throttle holds serial input back (read without the lock
    /// on every byte the shell takes).
    static THROTTLED: AtomicBool = AtomicBool::new(false);

    /// For the receive handler: whether it may take one more byte (`Err`
    /// with what to do to the UART when not).
    pub fn serial_may_take(now: u64) -> Result<(), Action> {
        let result = THROTTLE.lock().before_push(SERIAL_QUEUE.len(), now);
        if result.is_err() {
            THROTTLED.store(true, Ordering::Release);
        }
        result
    }

    /// After the shell took serial bytes: ends the throttle at the
    /// low-water mark.
    fn after_serial_pop() {
        if !THROTTLED.load(Ordering::Acquire) {
            return;
        }
        // The decision and the UART's writes in one interrupts-off section:
        // the handler cannot throttle again in between.
        crate::arch::without_interrupts(|| {
            let action = THROTTLE
                .lock()
                .after_pop(SERIAL_QUEUE.len(), crate::arch::read_timestamp());
            if action == Action::Resume {
                THROTTLED.store(false, Ordering::Release);
                crate::console::serial::hold_receive(false);
            }
        });
    }

    /// How many times serial input was throttled, and for how many
    /// timestamp cycles in all.
    pub fn throttle_counts() -> (u64, u64) {
        crate::arch::without_interrupts(|| THROTTLE.lock().counts(crate::arch::read_timestamp()))
    }
    /// Scancodes from the PS/2 keyboard (a press and release take 2–6).
    pub static PS2_QUEUE: ByteQueue<256> = ByteQueue::new();

    /// The serial decoder; only normal code (the consumer) takes the lock.
    static ANSI: Mutex<Decoder> = Mutex::new(Decoder::new());

    /// Starts both devices, each registering its own IRQ handler: COM1's
    /// receive interrupt if there is a serial port; the keyboard unless
    /// ACPI says there is no 8042 (`no_8042`) or the controller does not
    /// answer, which prints `keyboard: no PS/2 controller; type on the
    /// serial port`.
    pub fn init(keymap: Keymap, no_8042: bool) {
        super::serial_rx::init();
        match super::ps2::init(keymap, no_8042) {
            Ok(()) => {}
            Err(why) => {
                log::debug!("keyboard: {why}");
                println!("keyboard: no PS/2 controller; type on the serial port");
            }
        }
    }

    /// The next key, if one is ready; never waits. Serial bytes first, then
    /// keyboard scancodes.
    pub fn poll_key() -> Option<Key> {
        {
            let mut ansi = ANSI.lock();
            while let Some(byte) = SERIAL_QUEUE.pop() {
                after_serial_pop();
                if let Some(key) = ansi.feed(byte) {
                    return Some(key);
                }
            }
        }
        while let Some(scancode) = PS2_QUEUE.pop() {
            if let Some(key) = super::ps2::decode(scancode) {
                return Some(key);
            }
        }
        None
    }

    /// The threads waiting for a key: the devices' handlers wake them
    /// after queueing bytes.
    pub static INPUT_WAITERS: WaitQueue = WaitQueue::new();

    /// The next key: the thread blocks until a device queues bytes (no
    /// polling), while other threads run.
    pub fn wait_key() -> Key {
        loop {
            if let Some(key) = poll_key() {
                return key;
            }
            // Output may stop here for a while: bring the screen up to date.
            crate::console::flush();
            INPUT_WAITERS.wait_until(|| !SERIAL_QUEUE.is_empty() || !PS2_QUEUE.is_empty());
            crate::interrupts::print_unexpected();
        }
    }

    /// Input bytes dropped because a queue was full since the last call.
    pub fn take_dropped() -> usize {
        SERIAL_QUEUE.take_dropped() + PS2_QUEUE.take_dropped()
    }

    /// Bytes received since boot, accepted or not: (serial, keyboard).
    pub fn received_totals() -> (usize, usize) {
        (SERIAL_QUEUE.received(), PS2_QUEUE.received())
    }

    /// Bytes dropped since boot: (serial, keyboard).
    pub fn dropped_totals() -> (usize, usize) {
        (SERIAL_QUEUE.dropped(), PS2_QUEUE.dropped())
    }
}

/// In-kernel tests of the input path.
#[cfg(target_os = "none")]
pub(crate) mod ktests {
    use crate::selftest::{Context, Outcome};
    use crate::{check, check_eq, skip};

    use super::queue::ByteQueue;

    /// A full queue drops what does not fit and counts exactly that.
    fn a_full_queue_counts_its_drops(_: &Context) -> Outcome {
        let queue = ByteQueue::<16>::new();
        let accepted = (0..100u8).filter(|&b| queue.push(b)).count();
        check_eq!(accepted, 16);
        check_eq!(queue.dropped(), queue.received() - accepted);
        check_eq!(queue.take_dropped(), 84);
        check_eq!(queue.take_dropped(), 0);
        Ok(())
    }

    /// Without input, polling finds nothing and never blocks.
    fn polling_an_idle_port_returns_nothing(context: &Context) -> Outcome {
        // The self-test entry boots with nothing typed; anything queued
        // would be a device inventing input. From the shell's `selftest`
        // keys typed ahead may be waiting (and must stay the shell's).
        if !context.options.selftest {
            skip!("run from the shell: typed keys may be waiting");
        }
        check!(super::poll_key().is_none());
        Ok(())
    }

    pub(crate) const TESTS: &[crate::selftest::Test] = crate::kernel_tests![
        a_full_queue_counts_its_drops,
        polling_an_idle_port_returns_nothing
    ];
}

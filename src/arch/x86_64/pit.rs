//! The 8254 programmable interval timer (PIT) as a time reference: its
//! input clock runs at a fixed 1.193182 MHz on every PC, so counting TSC
//! cycles over a known number of PIT ticks gives the TSC's frequency.
//!
//! Channel 2 is used for measuring because its gate is under software
//! control (port 0x61) and its output can be read back there, so no
//! interrupt is needed. Channel 0, wired to IRQ 0, is the periodic tick when
//! there is no local APIC timer.

use super::port::Port;

/// The PIT's input clock, in Hz.
pub const PIT_HZ: u64 = 1_193_182;

/// Channel 2's data port (the count).
const CHANNEL_2: u16 = 0x42;
/// The mode/command register.
const COMMAND: u16 = 0x43;
/// Command: channel 2, low then high byte, mode 0 (interrupt on terminal
/// count: OUT2 goes high when the count reaches zero), binary.
const CHANNEL_2_ONE_SHOT: u8 = 0b1011_0000;
/// The PC's system control port B: channel 2's gate and output.
const PORT_B: u16 = 0x61;
/// Port B bit 0: channel 2's gate (counting while high).
const GATE_2: u8 = 1 << 0;
/// Port B bit 1: the speaker follows OUT2 when set (kept clear: silence).
const SPEAKER: u8 = 1 << 1;
/// Port B bit 5: channel 2's output, read-only.
const OUT_2: u8 = 1 << 5;

/// Channel 0's data port: the counter wired to IRQ 0.
const CHANNEL_0: u16 = 0x40;
/// Command: channel 0, low then high byte, mode 2 (rate generator: one
/// pulse on IRQ 0 every `count` input cycles), binary.
const CHANNEL_0_RATE: u8 = 0b0011_0100;
/// Command: latch channel 2's count, so that two reads of its data port
/// give the count at the moment of the latch (low byte, then high).
const LATCH_2: u8 = 0b1000_0000;
/// The largest count: a window of 65535 / 1.193182 MHz = 54.9 ms.
const FULL_COUNT: u64 = 0xffff;

/// The longest window [`measure`] allows: 50 ms, which keeps the 16-bit
/// count from wrapping (65535 / 1.193182 MHz = 54.9 ms).
const MAX_WINDOW_MS: u64 = 50;

/// Samples `sample` right when channel 2 starts a one-shot count of
/// `millis` milliseconds (1 to 50) and right when it ends, busy-waiting in
/// between, with interrupts as they are. Returns both samples and the
/// window's exact length in PIT cycles (of [`PIT_HZ`]).
///
/// `sample` should be short (it reads counters): its own time counts in the
/// window.
pub fn measure<T>(millis: u64, mut sample: impl FnMut() -> T) -> (T, T, u64) {
    let count = PIT_HZ * millis.clamp(1, MAX_WINDOW_MS) / 1000;
    let control = start_one_shot(count);
    let start = sample();
    let mut port_b = Port::<u8>::new(PORT_B);
    // SAFETY: reading port B has no side effect; writing it back with the
    // gate low stops channel 2 and changes nothing else.
    unsafe {
        while port_b.read() & OUT_2 == 0 {
            core::hint::spin_loop();
        }
        let end = sample();
        port_b.write(control);
        (start, end, count)
    }
}

/// Starts channel 2 on a one-shot count of `count` PIT cycles (at most
/// 65535); returns port B's value with the gate low, to stop it with.
fn start_one_shot(count: u64) -> u8 {
    let mut port_b = Port::<u8>::new(PORT_B);
    let mut command = Port::<u8>::new(COMMAND);
    let mut data = Port::<u8>::new(CHANNEL_2);
    // SAFETY: ports 0x42, 0x43 and 0x61 are the PIT's channel 2 and the
    // system control port on every PC; channel 2 drives only the speaker,
    // which stays off, and port B's other bits are written back unchanged.
    unsafe {
        let control = port_b.read() & !(GATE_2 | SPEAKER);
        port_b.write(control);
        command.write(CHANNEL_2_ONE_SHOT);
        data.write(count as u8);
        data.write((count >> 8) as u8);
        // Raising the gate starts the count.
        port_b.write(control | GATE_2);
        control
    }
}

/// Starts channel 2 on a one-shot count of its full length (54.9 ms), for
/// [`window_elapsed`] to read while other work goes on: the boot's own
/// time then serves as the calibration window.
pub fn start_window() {
    start_one_shot(FULL_COUNT);
}

/// PIT cycles since [`start_window`], or `None` once its count has run out
/// (the window then no longer says how long it lasted).
pub fn window_elapsed() -> Option<u64> {
    let mut port_b = Port::<u8>::new(PORT_B);
    let mut command = Port::<u8>::new(COMMAND);
    let mut data = Port::<u8>::new(CHANNEL_2);
    // SAFETY: latching and reading channel 2's count and reading port B
    // have no effect beyond the PIT's read-back state.
    let (low, high, out) = unsafe {
        command.write(LATCH_2);
        let low = data.read();
        let high = data.read();
        (low, high, port_b.read() & OUT_2)
    };
    let count = u64::from(u16::from_le_bytes([low, high]));
    (out == 0).then_some(FULL_COUNT - count)
}

/// The channel-0 divisor for `hz` interrupts a second, rounded to nearest:
/// 100 Hz gives 11932 (99.998 Hz).
pub fn divisor_for(hz: u32) -> u16 {
    let hz = u64::from(hz.max(19));
    ((PIT_HZ + hz / 2) / hz).min(u64::from(u16::MAX)) as u16
}

/// Makes channel 0 raise IRQ 0 `hz` times a second (mode 2).
pub fn start_periodic(hz: u32) {
    let divisor = divisor_for(hz);
    let mut command = Port::<u8>::new(COMMAND);
    let mut data = Port::<u8>::new(CHANNEL_0);
    // SAFETY: ports 0x40 and 0x43 are the PIT's channel 0 and command
    // register; channel 0 only raises IRQ 0.
    unsafe {
        command.write(CHANNEL_0_RATE);
        data.write(divisor as u8);
        data.write((divisor >> 8) as u8);
    }
}

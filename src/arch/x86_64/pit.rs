//! The 8254 programmable interval timer (PIT) as a time reference: its
//! input clock runs at a fixed 1.193182 MHz on every PC, so counting TSC
//! cycles over a known number of PIT ticks gives the TSC's frequency.
//!
//! Channel 2 is used because its gate is under software control (port 0x61)
//! and its output can be read back there, so no interrupt is needed.

use super::port::Port;
use super::read_timestamp;

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

/// Measures the timestamp counter's frequency over `millis` milliseconds
/// of PIT time (at most 50: the 16-bit count then does not wrap). Takes
/// that long, busy-waiting, with interrupts as they are.
pub fn tsc_hz(millis: u64) -> u64 {
    let count = PIT_HZ * millis.clamp(1, 50) / 1000;
    let mut port_b = Port::<u8>::new(PORT_B);
    let mut command = Port::<u8>::new(COMMAND);
    let mut data = Port::<u8>::new(CHANNEL_2);
    // SAFETY: ports 0x42, 0x43 and 0x61 are the PIT's channel 2 and the
    // system control port on every PC; channel 2 drives only the speaker,
    // which stays off, and port B's other bits are written back unchanged.
    let cycles = unsafe {
        let control = port_b.read() & !(GATE_2 | SPEAKER);
        port_b.write(control);
        command.write(CHANNEL_2_ONE_SHOT);
        data.write(count as u8);
        data.write((count >> 8) as u8);
        // Raising the gate starts the count.
        port_b.write(control | GATE_2);
        let start = read_timestamp();
        while port_b.read() & OUT_2 == 0 {
            core::hint::spin_loop();
        }
        let cycles = read_timestamp() - start;
        port_b.write(control);
        cycles
    };
    cycles * PIT_HZ / count
}

//! The CMOS real-time clock (the MC146818's registers behind ports 0x70
//! and 0x71): the date and time the firmware keeps, read raw. Decoding
//! (BCD or binary, 12- or 24-hour) is the `time` layer's.

use x86_64::instructions::port::Port;

/// The index port: which register the data port reads (bit 7 would mask
/// NMIs; it stays clear).
const INDEX_PORT: u16 = 0x70;
/// The data port.
const DATA_PORT: u16 = 0x71;

/// Register numbers.
const SECONDS: u8 = 0x00;
const MINUTES: u8 = 0x02;
const HOURS: u8 = 0x04;
const DAY: u8 = 0x07;
const MONTH: u8 = 0x08;
const YEAR: u8 = 0x09;
/// Status register A: bit 7 set while the clock updates its registers.
const STATUS_A: u8 = 0x0a;
/// Status register B: bit 1 24-hour mode, bit 2 binary (not BCD).
const STATUS_B: u8 = 0x0b;
/// Status A's update-in-progress bit.
const UPDATE_IN_PROGRESS: u8 = 1 << 7;

/// The clock's registers as read: seconds, minutes, hours, day, month,
/// year (two digits), and status register B (their encoding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawTime {
    /// Seconds, minutes, hours, day, month, year, as stored.
    pub fields: [u8; 6],
    /// Status register B.
    pub status_b: u8,
}

/// Reads register `register`.
fn read(register: u8) -> u8 {
    // SAFETY: ports 0x70/0x71 are the RTC's on every PC; selecting a
    // register and reading it has no other effect (NMIs stay unmasked).
    unsafe {
        Port::<u8>::new(INDEX_PORT).write(register);
        Port::<u8>::new(DATA_PORT).read()
    }
}

/// Reads every field once.
fn read_fields() -> [u8; 6] {
    [SECONDS, MINUTES, HOURS, DAY, MONTH, YEAR].map(read)
}

/// Reads the clock: outside an update, and twice alike (a read that
/// straddles the once-a-second update could mix two times). Gives up on
/// agreement after a few tries and returns the last read.
pub fn read_time() -> RawTime {
    let mut last = [0u8; 6];
    for _ in 0..10 {
        // An update takes under 2 ms; a bound keeps a broken clock from
        // hanging the boot.
        for _ in 0..100_000 {
            if read(STATUS_A) & UPDATE_IN_PROGRESS == 0 {
                break;
            }
            core::hint::spin_loop();
        }
        let fields = read_fields();
        if fields == last {
            break;
        }
        last = fields;
    }
    RawTime {
        fields: last,
        status_b: read(STATUS_B),
    }
}

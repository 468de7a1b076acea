//! Calendar arithmetic for the real-time clock: its raw registers (BCD or
//! binary, 12- or 24-hour) to seconds since the Unix epoch, for
//! `CLOCK_REALTIME`. The CMOS clock keeps local time by convention on
//! machines that boot Windows and UTC on Linux's and QEMU's (`-rtc
//! base=utc`, the default): kestrel reads it as UTC.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

/// Status B bit 1: the hours are 24-hour.
const HOURS_24: u8 = 1 << 1;
/// Status B bit 2: the values are binary, not BCD.
const BINARY: u8 = 1 << 2;
/// The hours register's PM bit in 12-hour mode.
const PM: u8 = 0x80;

/// A BCD byte's value.
fn from_bcd(value: u8) -> u8 {
    (value >> 4) * 10 + (value & 0x0f)
}

/// Days from 1970-01-01 to `year`-`month`-`day` (proleptic Gregorian).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Seconds since the epoch of the clock's `fields` (seconds, minutes,
/// hours, day, month, two-digit year: 2000 + year), read with status
/// register B `status_b`; `None` when they are not a date.
pub fn unix_seconds(fields: [u8; 6], status_b: u8) -> Option<u64> {
    let [seconds, minutes, hours, day, month, year] = fields;
    let pm = hours & PM != 0;
    let hours = hours & !PM;
    let decode = |value: u8| {
        if status_b & BINARY != 0 {
            value
        } else {
            from_bcd(value)
        }
    };
    let (seconds, minutes, mut hours) = (decode(seconds), decode(minutes), decode(hours));
    let (day, month, year) = (decode(day), decode(month), decode(year));
    if status_b & HOURS_24 == 0 {
        hours = match (hours, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (hours, true) => hours + 12,
            (hours, false) => hours,
        };
    }
    if seconds > 59
        || minutes > 59
        || hours > 23
        || !(1..=31).contains(&day)
        || !(1..=12).contains(&month)
        || year > 99
    {
        return None;
    }
    let days = days_from_civil(2000 + i64::from(year), u32::from(month), u32::from(day));
    let seconds =
        days * 86_400 + i64::from(hours) * 3600 + i64::from(minutes) * 60 + i64::from(seconds);
    u64::try_from(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_epoch_and_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        // 2026-12-07 00:00:00 UTC.
        assert_eq!(days_from_civil(2026, 12, 7) * 86_400, 1_796_601_600);
    }

    #[test]
    fn bcd_24_hour() {
        // 2026-12-07 16:25:52, BCD, 24-hour.
        let fields = [0x52, 0x25, 0x16, 0x07, 0x12, 0x26];
        assert_eq!(
            unix_seconds(fields, HOURS_24),
            Some(1_796_601_600 + 16 * 3600 + 25 * 60 + 52)
        );
    }

    #[test]
    fn binary_12_hour() {
        // 2026-12-07 12:00:00 AM is midnight; 4 PM is 16.
        let midnight = [0, 0, 12, 7, 12, 26];
        assert_eq!(unix_seconds(midnight, BINARY), Some(1_796_601_600));
        let four_pm = [0, 0, 4 | PM, 7, 12, 26];
        assert_eq!(
            unix_seconds(four_pm, BINARY),
            Some(1_796_601_600 + 16 * 3600)
        );
    }

    #[test]
    fn nonsense_is_refused() {
        assert_eq!(unix_seconds([0x60, 0, 0, 1, 1, 0], HOURS_24), None);
        assert_eq!(unix_seconds([0, 0, 0, 0, 1, 0], HOURS_24), None);
        assert_eq!(unix_seconds([0, 0, 0, 1, 13, 0], HOURS_24 | BINARY), None);
    }
}

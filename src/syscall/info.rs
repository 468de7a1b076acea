//! `uname`, `clock_gettime` and `getrandom`.

use super::SysResult;
use crate::process::errno::EINVAL;
use crate::process::user_copy;

/// The clocks (Linux's numbers).
const CLOCK_REALTIME: u64 = 0;
const CLOCK_MONOTONIC: u64 = 1;
const CLOCK_PROCESS_CPUTIME_ID: u64 = 2;
const CLOCK_THREAD_CPUTIME_ID: u64 = 3;
const CLOCK_MONOTONIC_RAW: u64 = 4;
const CLOCK_REALTIME_COARSE: u64 = 5;
const CLOCK_MONOTONIC_COARSE: u64 = 6;
const CLOCK_BOOTTIME: u64 = 7;
/// The most bytes one `getrandom` fills (as Linux: 32 MiB - 1; here less).
const GETRANDOM_MAX: u64 = 1 << 16;
/// `getrandom` flags: `GRND_NONBLOCK`, `GRND_RANDOM`, `GRND_INSECURE`.
const GETRANDOM_FLAGS: u64 = 1 | 2 | 4;

/// One `uname` field: 65 bytes, NUL-padded.
const FIELD: usize = 65;

/// `uname(buffer)`: sysname `kestrel`.
pub fn uname(buffer: u64) -> SysResult {
    let fields = [
        "kestrel",
        "kestrel",
        env!("CARGO_PKG_VERSION"),
        "#1",
        "x86_64",
        "(none)",
    ];
    let mut bytes = [0u8; FIELD * 6];
    for (index, field) in fields.iter().enumerate() {
        bytes[index * FIELD..index * FIELD + field.len()].copy_from_slice(field.as_bytes());
    }
    user_copy::write(buffer, &bytes)?;
    Ok(0)
}

/// `clock_gettime(clock, timespec)`: monotonic from the TSC since boot,
/// real time from the CMOS clock read at boot plus that.
pub fn clock_gettime(clock: u64, timespec: u64) -> SysResult {
    let time = match clock {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE => crate::time::realtime(),
        CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_MONOTONIC_COARSE | CLOCK_BOOTTIME => {
            crate::time::uptime()
        }
        // CPU-time clocks are not kept per program: refused, not faked.
        CLOCK_PROCESS_CPUTIME_ID | CLOCK_THREAD_CPUTIME_ID => return Err(EINVAL),
        _ => return Err(EINVAL),
    };
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&time.as_secs().to_le_bytes());
    bytes[8..].copy_from_slice(&u64::from(time.subsec_nanos()).to_le_bytes());
    user_copy::write(timespec, &bytes)?;
    Ok(0)
}

/// `getrandom(buffer, length, flags)`.
pub fn getrandom(buffer: u64, length: u64, flags: u64) -> SysResult {
    if flags & !GETRANDOM_FLAGS != 0 {
        return Err(EINVAL);
    }
    let length = length.min(GETRANDOM_MAX) as usize;
    let mut bytes = alloc::vec![0u8; length];
    crate::process::random::fill(&mut bytes);
    user_copy::write(buffer, &bytes)?;
    Ok(length as u64)
}

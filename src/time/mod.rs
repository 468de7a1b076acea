//! Time: the periodic tick and the calibrated timestamp counter (`tick`),
//! and the calendar the real-time clock is read with (`calendar`, pure,
//! host-tested).

pub mod calendar;
#[cfg(target_os = "none")]
mod tick;

#[cfg(target_os = "none")]
pub use self::tick::*;

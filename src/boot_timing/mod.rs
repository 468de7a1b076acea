//! How long each step of the boot takes: one timestamp-counter reading at
//! the trampoline's first instruction (`asm/boot.asm`, handed to
//! `rust_main`), then [`mark`]`("name")` at the end of each init step in
//! `rust_main`. A new step adds one `mark` line.
//!
//! [`report`] prints each phase's cycles at log level `debug`
//! (`loglevel=debug` on the command line), and microseconds too once the
//! counter's rate is known ([`set_tsc_hz`], from the timer calibration). `make bench` reads these
//! lines. Limits: the counter is read on one CPU; under emulation it is the
//! emulator's clock; the time before the trampoline (firmware, GRUB) is not
//! the kernel's and is not here (`make bench` times the whole boot from
//! outside).

pub mod timeline;

#[cfg(target_os = "none")]
pub use self::glue::*;

/// The kernel's one timeline, behind a lock.
#[cfg(target_os = "none")]
mod glue {
    use core::sync::atomic::{AtomicU64, Ordering};

    use spin::Mutex;

    use super::timeline::{Timeline, micros};
    use crate::arch::{read_timestamp, without_interrupts};

    /// The readings so far (all zero bits: in `.bss`).
    static TIMELINE: Mutex<Timeline> = Mutex::new(Timeline::new());

    /// The counter's rate in Hz, 0 while unknown.
    static TSC_HZ: AtomicU64 = AtomicU64::new(0);

    /// Starts the timeline at `tsc`, the reading the trampoline took.
    pub fn start(tsc: u64) {
        without_interrupts(|| TIMELINE.lock().start(tsc));
    }

    /// Ends the phase `name` now.
    /// Each step also keeps the timer calibration's window from running out
    /// ([`crate::time::keep_calibrating`]).
    pub fn mark(name: &'static str) {
        let now = read_timestamp();
        without_interrupts(|| TIMELINE.lock().mark(name, now));
        crate::time::keep_calibrating();
    }

    /// Records the counter's rate, so [`report`] gives microseconds too:
    /// the counter's rate, once the timer calibration has measured it.
    pub fn set_tsc_hz(hz: u64) {
        TSC_HZ.store(hz, Ordering::Relaxed);
    }

    /// Logs every phase so far, then the total, at level `debug`:
    /// `boot time: <phase>: <N> cycles[, <M> us]`.
    pub fn report() {
        let hz = TSC_HZ.load(Ordering::Relaxed);
        let line = |name: &str, cycles: u64| match hz {
            0 => log::debug!("boot time: {name}: {cycles} cycles"),
            _ => log::debug!(
                "boot time: {name}: {cycles} cycles, {} us",
                micros(cycles, hz)
            ),
        };
        without_interrupts(|| {
            let timeline = TIMELINE.lock();
            if hz != 0 {
                log::debug!("boot time: timestamp counter at {hz} Hz");
            }
            for phase in timeline.phases() {
                line(phase.name, phase.cycles);
            }
            if timeline.dropped() > 0 {
                log::debug!("boot time: {} more marks not kept", timeline.dropped());
            }
            line("total", timeline.total());
        });
    }
}

//! Time: the periodic tick and the calibrated timestamp counter.
//!
//! Calibration overlaps the boot: [`mark_boot`], `rust_main`'s first step,
//! starts a one-shot count of the PIT's channel 2 (polled, no interrupt),
//! and [`init`] reads it: the TSC cycles over the PIT cycles since then
//! give the TSC's frequency. The window is at least [`CALIBRATION_MS`]
//! (one PIT cycle in 11,932 is 0.01 %): when the boot got there sooner,
//! `init` waits for the rest; past 54.9 ms the count has run out and `init`
//! measures a fresh 10 ms window instead. So that a slow boot (an
//! emulator on a busy host, `loglevel=trace`) keeps its window, each boot
//! step ([`keep_calibrating`], from `boot_timing::mark`) banks a window
//! older than a quarter of that and starts a new one. Under the APIC, the local APIC
//! timer is then counted against the calibrated TSC for [`LAPIC_WINDOW_US`].
//! So calibration costs the boot about 1 ms when the boot before it took
//! 10–55 ms (as under QEMU), at most 11 ms otherwise. Then `init` starts
//! the tick at [`HZ`]: the local APIC timer in periodic mode, or the PIT's
//! channel 0 on IRQ 0 without an APIC, and prints `timer: lapic 100 Hz, tsc
//! 2893 MHz` (or `timer: pit 100 Hz, ...`).
//!
//! [`uptime`] comes from the TSC (since [`mark_boot`]), which keeps
//! counting while interrupts are off; ticks can be lost then, so they only
//! wake the CPU and measure coarse timeouts. Assumes an invariant TSC (every
//! CPU of the last 15 years, and QEMU).

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use core::time::Duration;

use crate::arch::isa::IRQ_TIMER;
use crate::arch::{apic, pit, read_timestamp};

/// Ticks per second.
pub const HZ: u32 = 100;

// The PIT fallback divides its input clock by a 16-bit count: a tick much
// slower than 19 Hz could not be programmed.
const _: () = assert!(pit::PIT_HZ / HZ as u64 <= u16::MAX as u64);
/// How long the local APIC timer is counted against the TSC, in
/// microseconds: its count (bus clock / 16, 62,500 a millisecond in QEMU,
/// thousands on real buses) is then exact to about 0.1 %.
pub const LAPIC_WINDOW_US: u64 = 1000;
/// The shortest calibration window, in milliseconds of PIT time.
pub const CALIBRATION_MS: u64 = 10;
/// The fewest local APIC timer counts per tick taken as a working timer
/// (a timer counting under 100 kHz, or stopped, is not used).
const MIN_LAPIC_COUNT: u64 = 1000;
/// Nanoseconds per second.
const NANOS_PER_SECOND: u128 = 1_000_000_000;
/// One tick's length.
const TICK: Duration = Duration::from_nanos(NANOS_PER_SECOND as u64 / HZ as u64);

/// The TSC's frequency in Hz (0 until [`init`]).
static TSC_HZ: AtomicU64 = AtomicU64::new(0);
/// The TSC at [`mark_boot`].
static BOOT_TSC: AtomicU64 = AtomicU64::new(0);
/// The TSC when the PIT's boot window started; 0: no window (not started,
/// or its channel was used for something else since).
static WINDOW_TSC: AtomicU64 = AtomicU64::new(0);
/// TSC cycles the reading around the boot window's start took.
static WINDOW_SLOP: AtomicU64 = AtomicU64::new(0);
/// The TSC readings around the PIT's start and latches must take under
/// 1/64 of the time they measure (each window banked, and the calibration
/// as a whole): an emulator descheduled by a loaded host between starting
/// (or latching) the PIT and reading the TSC made the rate 30 % off (a
/// 14 ms window read 4 ms late), while the readings themselves take tens of
/// microseconds. The rate is then within 1 %; its self-test allows 5 %.
const SLOP_SHARE: u64 = 64;
/// The TSC cycles the readings of the banked windows took.
static BANKED_SLOP: AtomicU64 = AtomicU64::new(0);
/// TSC cycles of the boot windows banked by [`keep_calibrating`].
static BANKED_TSC: AtomicU64 = AtomicU64::new(0);
/// PIT cycles of the boot windows banked by [`keep_calibrating`].
static BANKED_PIT: AtomicU64 = AtomicU64::new(0);
/// The most banked windows whose rates [`boot_window_hz`] compares.
const COMPARED_WINDOWS: usize = 8;
/// Each banked window's TSC rate (Hz), for the comparison (0: none).
static WINDOW_RATES: [AtomicU64; COMPARED_WINDOWS] =
    [const { AtomicU64::new(0) }; COMPARED_WINDOWS];
/// How many windows were banked.
static WINDOWS_BANKED: AtomicU64 = AtomicU64::new(0);
/// How far apart the boot windows' rates may be, in parts per thousand:
/// they agree within a fraction of that when no reading was disturbed.
const WINDOWS_AGREE_PER_MILLE: u64 = 20;
/// The shortest window whose rate is compared (2 ms of PIT cycles):
/// shorter ones are too coarse.
const SHORTEST_COMPARED: u64 = 2_386;
/// Fresh windows measured when the boot's windows disagree (the median
/// counts).
const FRESH_WINDOWS: usize = 3;
/// A boot window this old (in PIT cycles: 13.7 ms, a quarter of the 54.9
/// ms the count lasts) is banked and a new one started; only a boot step
/// longer than 41 ms then loses the window.
const BANK_AFTER: u64 = 0x4000;
/// Ticks since the tick started.
static TICKS: AtomicU64 = AtomicU64::new(0);
/// The local APIC timer's period in its counts, once it is the tick (0:
/// the PIT is): each CPU that starts later runs its own at the same rate.
static LAPIC_COUNT: AtomicU32 = AtomicU32::new(0);

/// Records `tsc`, the timestamp counter at the trampoline's first
/// instruction, as the start of uptime, and starts the PIT window [`init`]
/// calibrates with. Call first thing in `rust_main`.
pub fn mark_boot(tsc: u64) {
    BOOT_TSC.store(tsc, Ordering::Relaxed);
    start_window();
}

/// Starts a boot window: the PIT's channel 2, and the TSC around it.
fn start_window() {
    let before = read_timestamp();
    pit::start_window();
    let after = read_timestamp();
    WINDOW_SLOP.store(after - before, Ordering::Relaxed);
    WINDOW_TSC.store(before / 2 + after / 2, Ordering::Relaxed);
}

/// Reads the TSC around a latch of the boot window: (middle TSC, PIT
/// cycles since the window started, TSC cycles the readings at its start
/// and now took), or `None` if its count ran out.
fn read_window() -> Option<(u64, u64, u64)> {
    let before = read_timestamp();
    let elapsed = pit::window_elapsed()?;
    let after = read_timestamp();
    let slop = WINDOW_SLOP.load(Ordering::Relaxed) + (after - before);
    Some((before / 2 + after / 2, elapsed, slop))
}

/// Whether readings that took `slop` TSC cycles are quick enough for a
/// measurement spanning `cycles`.
fn quick_enough(slop: u64, cycles: u64) -> bool {
    slop.saturating_mul(SLOP_SHARE) <= cycles
}

/// Called at each boot step: banks the boot window once it is a quarter of
/// the way to running out and starts a new one, so the calibration's window lasts as
/// long as the boot does. Does nothing after [`init`].
pub fn keep_calibrating() {
    let start = WINDOW_TSC.load(Ordering::Relaxed);
    if start == 0 {
        return;
    }
    match read_window() {
        Some((_, elapsed, _)) if elapsed < BANK_AFTER => {}
        Some((now, elapsed, slop)) => {
            // A window read too slowly is dropped; the next one starts anyway.
            if quick_enough(slop, now - start) {
                BANKED_TSC.fetch_add(now - start, Ordering::Relaxed);
                BANKED_PIT.fetch_add(elapsed, Ordering::Relaxed);
                BANKED_SLOP.fetch_add(slop, Ordering::Relaxed);
                let index = WINDOWS_BANKED.fetch_add(1, Ordering::Relaxed) as usize;
                if let Some(rate) = WINDOW_RATES.get(index) {
                    rate.store(hz_from(now - start, elapsed), Ordering::Relaxed);
                }
            }
            start_window();
        }
        None => WINDOW_TSC.store(0, Ordering::Relaxed),
    }
}

/// The TSC's frequency from the boot window: waits until it is
/// [`CALIBRATION_MS`] long, then reads it; `None` if there is none or its
/// count ran out.
fn boot_window_hz() -> Option<u64> {
    let start = WINDOW_TSC.swap(0, Ordering::Relaxed);
    if start == 0 {
        return None;
    }
    let least = pit::PIT_HZ * CALIBRATION_MS / 1000;
    let (banked_tsc, banked_pit, banked_slop) = (
        BANKED_TSC.load(Ordering::Relaxed),
        BANKED_PIT.load(Ordering::Relaxed),
        BANKED_SLOP.load(Ordering::Relaxed),
    );
    loop {
        // A reading taken too slowly is simply taken again.
        let (now, elapsed, slop) = read_window()?;
        let elapsed = banked_pit + elapsed;
        let cycles = banked_tsc + now - start;
        if elapsed >= least && quick_enough(banked_slop + slop, cycles) {
            let last = (elapsed - banked_pit >= SHORTEST_COMPARED)
                .then(|| hz_from(now - start, elapsed - banked_pit));
            if !windows_agree(last) {
                log::debug!("timer: the boot's windows disagree; measuring afresh");
                return None;
            }
            log::debug!(
                "timer: calibrated over the boot's first {} us of PIT time",
                elapsed * 1_000_000 / pit::PIT_HZ
            );
            return Some(hz_from(cycles, elapsed));
        }
        core::hint::spin_loop();
    }
}

/// Whether the banked boot windows' rates and `last` (the window read
/// last, if long enough to compare) lie within [`WINDOWS_AGREE_PER_MILLE`]
/// of each other. A reading the emulator was descheduled in the middle of
/// can still pass its own checks; it then disagrees with the others. Under
/// load the boot once calibrated 3.1 GHz for a 2.0 GHz counter.
fn windows_agree(last: Option<u64>) -> bool {
    let banked = (WINDOWS_BANKED.load(Ordering::Relaxed) as usize).min(COMPARED_WINDOWS);
    let rates = WINDOW_RATES[..banked]
        .iter()
        .map(|rate| rate.load(Ordering::Relaxed))
        .chain(last);
    let (low, high) = rates.fold((u64::MAX, 0), |(low, high), rate| {
        (low.min(rate), high.max(rate))
    });
    high == 0 || (high - low).saturating_mul(1000) <= low.saturating_mul(WINDOWS_AGREE_PER_MILLE)
}

/// The TSC's rate from [`FRESH_WINDOWS`] fresh windows of
/// [`CALIBRATION_MS`] each: the median, so one window the emulator was
/// descheduled in does not count.
fn fresh_hz() -> u64 {
    let mut rates = [0; FRESH_WINDOWS];
    for rate in &mut rates {
        let (tsc0, tsc1, pit_cycles) = pit::measure(CALIBRATION_MS, read_timestamp);
        *rate = hz_from(tsc1 - tsc0, pit_cycles);
    }
    rates.sort_unstable();
    rates[FRESH_WINDOWS / 2]
}

/// The local APIC timer's rate (bus clock / 16), counted against the
/// calibrated TSC for [`LAPIC_WINDOW_US`].
fn lapic_hz(tsc_hz: u64) -> u64 {
    apic::start_calibration_count();
    let (tsc0, lapic0) = (read_timestamp(), apic::timer_current());
    let window = tsc_hz * LAPIC_WINDOW_US / 1_000_000;
    while read_timestamp() - tsc0 < window {
        core::hint::spin_loop();
    }
    let (tsc1, lapic1) = (read_timestamp(), apic::timer_current());
    let counted = u128::from(lapic0.saturating_sub(lapic1));
    (counted * u128::from(tsc_hz) / u128::from((tsc1 - tsc0).max(1))) as u64
}

/// Which timer ticks, for the `timer:` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// The local APIC timer; `count` bus/16 cycles per tick.
    Lapic {
        /// The timer's initial count.
        count: u32,
    },
    /// The PIT's channel 0 with this divisor.
    Pit {
        /// The channel's divisor.
        divisor: u16,
    },
}

/// Calibrates the TSC (and the local APIC timer when `apic`), starts the
/// tick, and prints the `timer:` line. Interrupts must still be off; the
/// tick begins once they are turned on. Under the PIT (no APIC, or an APIC
/// timer that does not count), IRQ 0 is enabled here.
pub fn init(apic: bool) -> Tick {
    let started = read_timestamp();
    let hz = boot_window_hz().unwrap_or_else(|| {
        log::debug!(
            "timer: no boot window to calibrate with; measuring {FRESH_WINDOWS} x {CALIBRATION_MS} ms"
        );
        fresh_hz()
    });
    TSC_HZ.store(hz, Ordering::Relaxed);
    crate::console::serial::set_timestamp_rate(hz);
    let lapic = if apic {
        let lapic_hz = lapic_hz(hz);
        let count = lapic_hz / u64::from(HZ);
        // A timer that did not count (or barely) would tick far too fast.
        if count >= MIN_LAPIC_COUNT {
            Some(count.min(u64::from(u32::MAX)) as u32)
        } else {
            log::warn!("timer: the local APIC timer counts at {lapic_hz} Hz; using the PIT");
            None
        }
    } else {
        None
    };
    let tick = match lapic {
        Some(count) => {
            let vector = crate::interrupts::register_lapic_timer(tick)
                .expect("the tick is the local APIC timer's only handler");
            apic::start_periodic(vector, count);
            LAPIC_COUNT.store(count, Ordering::Relaxed);
            Tick::Lapic { count }
        }
        None => {
            pit::start_periodic(HZ);
            crate::interrupts::register_irq(IRQ_TIMER, tick)
                .expect("the tick is the PIT's only handler");
            Tick::Pit {
                divisor: pit::divisor_for(HZ),
            }
        }
    };
    let name = match tick {
        Tick::Lapic { .. } => "lapic",
        Tick::Pit { .. } => "pit",
    };
    println!("timer: {name} {HZ} Hz, tsc {} MHz", tsc_hz() / 1_000_000);
    read_realtime();
    let took = (read_timestamp() - started) as u128 * 1_000_000 / u128::from(tsc_hz().max(1));
    log::debug!("timer: {tick:?}, calibrated in {took} us");
    tick
}

/// The TSC frequency from `cycles` over `pit_cycles` PIT cycles.
fn hz_from(cycles: u64, pit_cycles: u64) -> u64 {
    (u128::from(cycles) * u128::from(pit::PIT_HZ) / u128::from(pit_cycles.max(1))) as u64
}

/// The TSC's frequency in Hz (0 before [`init`]).
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Whether the tick is each CPU's local APIC timer, which [`start_this_cpu`]
/// can start on another CPU (under the PIT, only the boot CPU ticks).
pub fn per_cpu_tick() -> bool {
    LAPIC_COUNT.load(Ordering::Relaxed) != 0
}

/// Starts the running CPU's local APIC timer at the boot CPU's rate (a CPU
/// that just started; its tick drives its own time slices). Needs
/// [`per_cpu_tick`].
pub fn start_this_cpu() {
    let count = LAPIC_COUNT.load(Ordering::Relaxed);
    if count != 0 {
        apic::start_periodic(crate::interrupts::LAPIC_TIMER_VECTOR, count);
    }
}

/// Called by the timer interrupt, on every CPU: the boot CPU's counts the
/// tick (the clock); each tells the scheduler (which wakes sleepers and
/// ends that CPU's time slices).
fn tick() {
    let now = if crate::arch::percpu::cpu() == 0 {
        TICKS.fetch_add(1, Ordering::Relaxed) + 1
    } else {
        TICKS.load(Ordering::Relaxed)
    };
    crate::sched::on_tick(now);
}

/// Puts the running thread to sleep for at least `duration` (whole ticks,
/// so up to one tick more); other threads run meanwhile. Needs the tick
/// ([`init`]).
pub fn sleep(duration: Duration) {
    let end = uptime() + duration;
    loop {
        let left = end.saturating_sub(uptime());
        if left.is_zero() {
            return;
        }
        // The current tick began up to one tick ago: one more makes sure.
        let ticks = left.as_nanos().div_ceil(TICK.as_nanos()) as u64 + 1;
        crate::sched::sleep_until_tick(self::ticks() + ticks);
    }
}

/// Ticks so far.
pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// Seconds since the Unix epoch when the real-time clock was read at
/// [`init`] (0: it could not be read).
static BOOT_REALTIME: AtomicU64 = AtomicU64::new(0);
/// [`uptime`] at that read, in nanoseconds.
static REALTIME_READ_AT: AtomicU64 = AtomicU64::new(0);

/// Reads the CMOS real-time clock once (as UTC), for [`realtime`].
fn read_realtime() {
    let raw = crate::arch::cmos::read_time();
    match super::calendar::unix_seconds(raw.fields, raw.status_b) {
        Some(seconds) => {
            BOOT_REALTIME.store(seconds, Ordering::Relaxed);
            REALTIME_READ_AT.store(uptime().as_nanos() as u64, Ordering::Relaxed);
        }
        None => log::warn!(
            "time: the real-time clock reads {:?}: not a date",
            raw.fields
        ),
    }
}

/// The time of day: since the Unix epoch, from the real-time clock read at
/// boot and the TSC since (the epoch itself when the clock was unreadable).
pub fn realtime() -> Duration {
    let since_read = uptime().saturating_sub(Duration::from_nanos(
        REALTIME_READ_AT.load(Ordering::Relaxed),
    ));
    Duration::from_secs(BOOT_REALTIME.load(Ordering::Relaxed)) + since_read
}

/// Time since [`mark_boot`], from the TSC (zero before [`init`]).
pub fn uptime() -> Duration {
    let hz = tsc_hz();
    if hz == 0 {
        return Duration::ZERO;
    }
    let cycles = read_timestamp().wrapping_sub(BOOT_TSC.load(Ordering::Relaxed));
    let nanos = u128::from(cycles) * NANOS_PER_SECOND / u128::from(hz);
    Duration::from_nanos(nanos.min(u128::from(u64::MAX)) as u64)
}

/// Busy-waits for `duration` (for short hardware delays, with interrupts
/// as they are): on the TSC once calibrated, on the PIT before.
pub fn spin_for(duration: Duration) {
    if tsc_hz() == 0 {
        // The PIT's channel 2 is needed here: the boot window is lost.
        WINDOW_TSC.store(0, Ordering::Relaxed);
        let mut left = duration.as_millis().max(1) as u64;
        while left > 0 {
            let window = left.min(50);
            pit::measure(window, || ());
            left -= window;
        }
        return;
    }
    let end = uptime() + duration;
    while uptime() < end {
        core::hint::spin_loop();
    }
}

/// In-kernel tests of time keeping.
pub(crate) mod ktests {
    use core::time::Duration;

    use crate::selftest::{Context, Outcome};
    use crate::{check, fail};

    /// The rate calibrated over the boot agrees with a fresh 10 ms window
    /// of the PIT to within 5 %: a gross error in the window's arithmetic
    /// shows. An emulator descheduled by a loaded host can stop between
    /// the window's end and its closing reading, for milliseconds: that
    /// window comes out fast, so up to ten are measured and one that agrees
    /// is enough. (With several virtual CPUs per host core, three in a row
    /// were seen to come out fast; a wrong calibration fails all ten.)
    fn tsc_rate_agrees_with_a_fresh_pit_window(_: &Context) -> Outcome {
        let calibrated = super::tsc_hz();
        let mut fresh = [0; 10];
        for rate in &mut fresh {
            // Interrupts off: a handler run inside the window (the shell
            // runs this with them on, maybe under a flood of input) would
            // delay the closing reading.
            let (tsc0, tsc1, pit_cycles) = crate::arch::without_interrupts(|| {
                crate::arch::pit::measure(super::CALIBRATION_MS, crate::arch::read_timestamp)
            });
            *rate = super::hz_from(tsc1 - tsc0, pit_cycles);
            if calibrated.abs_diff(*rate) <= *rate / 20 {
                return Ok(());
            }
        }
        fail!("calibrated {calibrated} Hz, ten fresh windows give {fresh:?} Hz");
    }

    /// Uptime never goes backwards and advances over a busy wait.
    fn uptime_is_monotonic(_: &Context) -> Outcome {
        let mut last = super::uptime();
        for _ in 0..10_000 {
            let now = super::uptime();
            check!(now >= last, "uptime went from {last:?} back to {now:?}");
            last = now;
        }
        let before = super::uptime();
        super::spin_for(Duration::from_millis(5));
        check!(super::uptime() - before >= Duration::from_millis(5));
        Ok(())
    }

    /// The TSC was measured, at a plausible rate (10 MHz to 10 GHz).
    fn tsc_was_calibrated(_: &Context) -> Outcome {
        let hz = super::tsc_hz();
        check!((10_000_000..10_000_000_000).contains(&hz), "tsc {hz} Hz");
        Ok(())
    }

    /// The timer ticks while the CPU waits with interrupts on.
    fn ticks_advance_while_waiting(_: &Context) -> Outcome {
        let start = crate::time::ticks();
        let deadline = crate::time::uptime() + core::time::Duration::from_millis(500);
        while crate::time::ticks() < start + 3 && crate::time::uptime() < deadline {
            crate::arch::enable_and_wait();
        }
        check!(
            crate::time::ticks() >= start + 3,
            "ticks went from {start} to {} in 500 ms",
            crate::time::ticks()
        );
        Ok(())
    }

    pub(crate) const TESTS: &[crate::selftest::Test] = crate::kernel_tests![
        uptime_is_monotonic,
        tsc_was_calibrated,
        tsc_rate_agrees_with_a_fresh_pit_window,
        ticks_advance_while_waiting,
    ];
}

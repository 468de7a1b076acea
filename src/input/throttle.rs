//! When to stop taking bytes from the serial port, and when to take them
//! again: the input queue's high- and low-water marks, and the counts
//! `interrupts` shows.
//!
//! A UART need not lose input: bytes it is not asked for stay in its FIFO,
//! the emulator (or, on a real line, RTS flow control) holds the sender
//! back. So the receive handler stops reading at the high-water mark and
//! masks the receive interrupt; once the shell has drained the queue below
//! the low-water mark it unmasks it, and the bytes come in order. Linux's
//! terminal layer throttles the same way.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

/// What the caller does with the UART after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing changes.
    None,
    /// Stop: mask the receive interrupt, deassert RTS.
    Stop,
    /// Resume: unmask the receive interrupt, assert RTS.
    Resume,
}

/// The throttle's state and counts.
#[derive(Debug, Clone, Copy)]
pub struct Throttle {
    /// Stop at this many queued bytes.
    high: usize,
    /// Resume at this many or fewer.
    low: usize,
    /// When the current throttle began (a timestamp), if throttled.
    since: Option<u64>,
    /// How many times it throttled.
    times: u64,
    /// Timestamp cycles spent throttled (finished throttles).
    cycles: u64,
}

impl Throttle {
    /// A throttle between `low` and `high` queued bytes (`low < high`).
    pub const fn new(low: usize, high: usize) -> Self {
        Throttle {
            high,
            low,
            since: None,
            times: 0,
            cycles: 0,
        }
    }

    /// Whether input is held back now.
    pub fn throttled(&self) -> bool {
        self.since.is_some()
    }

    /// Whether the handler may take one more byte with `queued` bytes in
    /// the queue; if not, the throttle starts at timestamp `now` (say
    /// [`Action::Stop`] to the UART).
    pub fn before_push(&mut self, queued: usize, now: u64) -> Result<(), Action> {
        if queued < self.high && !self.throttled() {
            return Ok(());
        }
        if self.since.is_none() {
            self.since = Some(now);
            self.times += 1;
            return Err(Action::Stop);
        }
        Err(Action::None)
    }

    /// The reader took bytes, leaving `queued`: at the low-water mark or
    /// below, the throttle ends at timestamp `now`.
    pub fn after_pop(&mut self, queued: usize, now: u64) -> Action {
        match self.since {
            Some(since) if queued <= self.low => {
                self.since = None;
                self.cycles += now.saturating_sub(since);
                Action::Resume
            }
            _ => Action::None,
        }
    }

    /// How many times it throttled, and the timestamp cycles throttled
    /// (the current throttle up to `now` included).
    pub fn counts(&self, now: u64) -> (u64, u64) {
        let current = self.since.map_or(0, |since| now.saturating_sub(since));
        (self.times, self.cycles + current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_high_mark_and_resumes_at_the_low_one() {
        let mut throttle = Throttle::new(2, 5);
        for queued in 0..5 {
            assert_eq!(throttle.before_push(queued, 0), Ok(()));
        }
        assert_eq!(throttle.before_push(5, 10), Err(Action::Stop));
        assert_eq!(throttle.before_push(5, 11), Err(Action::None));
        assert!(throttle.throttled());
        assert_eq!(throttle.after_pop(4, 12), Action::None);
        assert_eq!(throttle.after_pop(3, 13), Action::None);
        assert_eq!(
            throttle.before_push(3, 14),
            Err(Action::None),
            "throttled until the low mark"
        );
        assert_eq!(throttle.after_pop(2, 30), Action::Resume);
        assert_eq!(throttle.after_pop(1, 31), Action::None);
        assert_eq!(throttle.before_push(1, 32), Ok(()));
        assert_eq!(throttle.counts(100), (1, 20));
    }

    #[test]
    fn counts_include_the_current_throttle() {
        let mut throttle = Throttle::new(0, 1);
        assert_eq!(throttle.before_push(1, 100), Err(Action::Stop));
        assert_eq!(throttle.counts(150), (1, 50));
        assert_eq!(throttle.after_pop(0, 160), Action::Resume);
        assert_eq!(throttle.before_push(1, 200), Err(Action::Stop));
        assert_eq!(throttle.counts(210), (2, 70));
    }

    #[test]
    fn a_queue_the_reader_keeps_empty_never_throttles() {
        let mut throttle = Throttle::new(256, 960);
        for step in 0..10_000u64 {
            assert_eq!(throttle.before_push((step % 700) as usize, step), Ok(()));
            assert_eq!(throttle.after_pop(0, step), Action::None);
        }
        assert_eq!(throttle.counts(10_000), (0, 0));
    }
}

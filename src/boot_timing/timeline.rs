//! The boot's timeline: timestamp-counter readings at the end of each boot
//! phase, and the phases' lengths from them.
//!
//! The first reading is the trampoline's first instruction (`asm/boot.asm`);
//! each later one ends a phase and names it. Readings are cycles of the
//! timestamp counter, which counts at a fixed rate; in microseconds only
//! once that rate is known (a timer calibration). At most [`MAX_MARKS`]
//! phases: later marks are counted, not kept.
//!
//! Pure logic: no hardware, tested on the host.

#![forbid(unsafe_code)]

/// Phases kept; a boot has about a dozen.
pub const MAX_MARKS: usize = 24;

/// The readings so far. All zero bits when new (a static one is in `.bss`).
pub struct Timeline {
    /// The reading at the trampoline's first instruction.
    start: u64,
    /// The phases' names, in order (`None` past `count`).
    names: [Option<&'static str>; MAX_MARKS],
    /// The reading at the end of each phase.
    ends: [u64; MAX_MARKS],
    /// Phases kept.
    count: usize,
    /// Marks that did not fit.
    dropped: usize,
}

/// One phase: its name and how long it took.
#[derive(Debug, PartialEq, Eq)]
pub struct Phase {
    /// What the boot did in it, e.g. `memory`.
    pub name: &'static str,
    /// Timestamp-counter cycles from the end of the phase before.
    pub cycles: u64,
}

impl Timeline {
    /// An empty timeline.
    pub const fn new() -> Timeline {
        Timeline {
            start: 0,
            names: [None; MAX_MARKS],
            ends: [0; MAX_MARKS],
            count: 0,
            dropped: 0,
        }
    }

    /// Sets the first reading, where the first phase begins.
    pub fn start(&mut self, tsc: u64) {
        self.start = tsc;
    }

    /// Ends the phase `name` at reading `tsc`.
    pub fn mark(&mut self, name: &'static str, tsc: u64) {
        if self.count == MAX_MARKS {
            self.dropped += 1;
            return;
        }
        self.names[self.count] = Some(name);
        self.ends[self.count] = tsc;
        self.count += 1;
    }

    /// The phases in order. A reading below the one before (a counter that
    /// went back) gives a phase of 0 cycles.
    pub fn phases(&self) -> impl Iterator<Item = Phase> + '_ {
        let begins = core::iter::once(self.start).chain(self.ends.iter().copied());
        self.names[..self.count]
            .iter()
            .zip(self.ends.iter().zip(begins))
            .map(|(name, (&end, begin))| Phase {
                name: name.unwrap_or("?"),
                cycles: end.saturating_sub(begin),
            })
    }

    /// Cycles from the first reading to the last mark.
    pub fn total(&self) -> u64 {
        match self.count {
            0 => 0,
            n => self.ends[n - 1].saturating_sub(self.start),
        }
    }

    /// Marks that did not fit (see [`MAX_MARKS`]).
    pub fn dropped(&self) -> usize {
        self.dropped
    }
}

/// `cycles` of a counter running at `hz`, in microseconds (0 if `hz` is 0;
/// at most `u64::MAX`).
pub fn micros(cycles: u64, hz: u64) -> u64 {
    if hz == 0 {
        return 0;
    }
    let micros = u128::from(cycles) * 1_000_000 / u128::from(hz);
    u64::try_from(micros).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_the_gaps_between_readings() {
        let mut timeline = Timeline::new();
        timeline.start(1000);
        timeline.mark("trampoline", 1500);
        timeline.mark("consoles", 1600);
        timeline.mark("memory", 4600);
        let phases: Vec<Phase> = timeline.phases().collect();
        assert_eq!(
            phases,
            [
                Phase {
                    name: "trampoline",
                    cycles: 500
                },
                Phase {
                    name: "consoles",
                    cycles: 100
                },
                Phase {
                    name: "memory",
                    cycles: 3000
                },
            ]
        );
        assert_eq!(timeline.total(), 3600);
        assert_eq!(
            phases.iter().map(|p| p.cycles).sum::<u64>(),
            timeline.total()
        );
    }

    #[test]
    fn an_empty_timeline_has_no_phases() {
        let timeline = Timeline::new();
        assert_eq!(timeline.phases().count(), 0);
        assert_eq!(timeline.total(), 0);
    }

    #[test]
    fn a_counter_going_back_gives_zero_not_a_wrap() {
        let mut timeline = Timeline::new();
        timeline.start(1000);
        timeline.mark("odd", 900);
        assert_eq!(timeline.phases().next().map(|p| p.cycles), Some(0));
        assert_eq!(timeline.total(), 0);
    }

    #[test]
    fn marks_past_the_limit_are_counted_not_kept() {
        let mut timeline = Timeline::new();
        for i in 0..MAX_MARKS as u64 + 3 {
            timeline.mark("step", i);
        }
        assert_eq!(timeline.phases().count(), MAX_MARKS);
        assert_eq!(timeline.dropped(), 3);
    }

    #[test]
    fn micros_from_cycles() {
        assert_eq!(micros(3_000_000, 3_000_000_000), 1000);
        assert_eq!(micros(u64::MAX, 1), u64::MAX);
        assert_eq!(micros(5, 0), 0);
    }
}

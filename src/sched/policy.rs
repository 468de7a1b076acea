//! The scheduler's policy, apart from the machine: which thread runs next,
//! when a time slice is used up, who sleeps until when, and what a wake-up
//! does. The kernel side (`sched::thread`, `sched::switch`) does what this
//! decides.
//!
//! Round robin: runnable threads wait in one queue in the order they became
//! runnable; the one picked runs until it yields, blocks, sleeps, exits or
//! uses up its slice of [`SLICE_TICKS`] ticks, then goes to the back. Sleepers
//! wait in a list ordered by their wake-up tick; each tick wakes those due.
//! When nothing is runnable the caller runs its idle thread, which is not in
//! the queue.
//!
//! A wake-up that comes before the block it is meant for (the waker ran
//! between the sleeper's check and its block) is remembered, and the block
//! returns at once: no wake-up is lost.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

use alloc::collections::{BTreeMap, VecDeque};

/// A thread's number, unique for the kernel's life.
pub type ThreadId = u64;

/// Ticks a thread runs before another runnable one gets the CPU: at 100 Hz,
/// 10 ms.
pub const SLICE_TICKS: u32 = 1;

/// Where a thread is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// In the run queue.
    Runnable,
    /// On the CPU.
    Running,
    /// Waiting for a tick.
    Sleeping {
        /// The tick it wakes at.
        until: u64,
    },
    /// Waiting for a wake-up.
    Blocked,
    /// Finished; its stack may be given back once it is off the CPU.
    Exited,
}

impl State {
    /// The name `ps` shows.
    pub fn name(self) -> &'static str {
        match self {
            State::Runnable => "runnable",
            State::Running => "running",
            State::Sleeping { .. } => "sleeping",
            State::Blocked => "blocked",
            State::Exited => "exited",
        }
    }
}

/// What the policy keeps per thread.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Where it is.
    state: State,
    /// A wake-up came while it was not blocked or sleeping.
    wake_pending: bool,
    /// Ticks left of its slice while it runs.
    slice_left: u32,
}

/// The run queue, the sleepers and every thread's state.
#[derive(Debug, Default)]
pub struct Policy {
    /// Every thread the policy knows, by id.
    threads: BTreeMap<ThreadId, Entry>,
    /// The runnable threads, in the order they run.
    queue: VecDeque<ThreadId>,
    /// The sleepers: (wake-up tick, id), in order.
    sleepers: BTreeMap<(u64, ThreadId), ()>,
    /// The thread on the CPU, unless the idle thread is.
    current: Option<ThreadId>,
}

/// What the policy says after an event on the running thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Keep running the current thread.
    Stay,
    /// Switch: to this thread, or to the idle thread (`None`).
    Switch(Option<ThreadId>),
}

impl Policy {
    /// No threads.
    pub fn new() -> Self {
        Self::default()
    }

    /// The thread on the CPU (`None`: the idle thread).
    #[cfg(test)]
    pub fn current(&self) -> Option<ThreadId> {
        self.current
    }

    /// A thread's state, if the policy knows it.
    pub fn state(&self, id: ThreadId) -> Option<State> {
        self.threads.get(&id).map(|entry| entry.state)
    }

    /// How many threads wait in the run queue.
    #[cfg(test)]
    pub fn runnable(&self) -> usize {
        self.queue.len()
    }

    /// Adds a new thread, runnable, at the back of the queue.
    pub fn add(&mut self, id: ThreadId) {
        self.threads.insert(
            id,
            Entry {
                state: State::Runnable,
                wake_pending: false,
                slice_left: 0,
            },
        );
        self.queue.push_back(id);
    }

    /// Takes the next runnable thread off the queue and makes it current
    /// (`None`: nothing is runnable, the idle thread runs). The thread that
    /// was current must have left the CPU through one of the calls below.
    fn pick(&mut self) -> Option<ThreadId> {
        let next = self.queue.pop_front();
        if let Some(id) = next {
            let entry = self.threads.get_mut(&id).expect("queued threads are known");
            entry.state = State::Running;
            entry.slice_left = SLICE_TICKS;
        }
        self.current = next;
        next
    }

    /// The current thread leaves the CPU in `state`.
    fn leave(&mut self, state: State) {
        if let Some(id) = self.current.take() {
            let entry = self
                .threads
                .get_mut(&id)
                .expect("the current thread is known");
            entry.state = state;
            match state {
                State::Runnable => self.queue.push_back(id),
                State::Sleeping { until } => {
                    self.sleepers.insert((until, id), ());
                }
                _ => {}
            }
        }
    }

    /// The idle thread (or the boot code) asks for work: the next runnable
    /// thread, if any.
    pub fn pick_for_idle(&mut self) -> Next {
        debug_assert!(self.current.is_none());
        match self.queue.is_empty() {
            true => Next::Stay,
            false => Next::Switch(self.pick()),
        }
    }

    /// The current thread yields: it goes to the back of the queue; the
    /// front runs (maybe itself, when it is alone).
    pub fn yield_current(&mut self) -> Next {
        let before = self.current;
        if before.is_some() {
            if self.queue.is_empty() {
                return Next::Stay;
            }
            self.leave(State::Runnable);
        }
        self.switch_from(before)
    }

    /// What to do after the current thread left: run the front of the
    /// queue, or idle.
    fn switch_from(&mut self, before: Option<ThreadId>) -> Next {
        let next = self.pick();
        if next == before {
            Next::Stay
        } else {
            Next::Switch(next)
        }
    }

    /// One timer tick at tick number `now`: sleepers that are due wake (to
    /// the back of the queue), and the current thread's slice shrinks. Says
    /// whether to preempt the current thread (its slice is used up and
    /// another is runnable) or to leave the idle thread.
    pub fn tick(&mut self, now: u64) -> Next {
        self.wake_due(now);
        match self.current {
            None => self.pick_for_idle(),
            Some(id) => {
                let entry = self
                    .threads
                    .get_mut(&id)
                    .expect("the current thread is known");
                entry.slice_left = entry.slice_left.saturating_sub(1);
                if entry.slice_left == 0 && !self.queue.is_empty() {
                    self.leave(State::Runnable);
                    self.switch_from(Some(id))
                } else {
                    Next::Stay
                }
            }
        }
    }

    /// Wakes the sleepers due at tick `now`; returns how many.
    pub fn wake_due(&mut self, now: u64) -> usize {
        let mut woken = 0;
        while let Some((&(until, id), _)) = self.sleepers.first_key_value() {
            if until > now {
                break;
            }
            self.sleepers.remove(&(until, id));
            if let Some(entry) = self.threads.get_mut(&id) {
                entry.state = State::Runnable;
                self.queue.push_back(id);
                woken += 1;
            }
        }
        woken
    }

    /// The tick the first sleeper wakes at.
    #[cfg(test)]
    pub fn next_wakeup(&self) -> Option<u64> {
        self.sleepers
            .first_key_value()
            .map(|(&(until, _), _)| until)
    }

    /// The current thread sleeps until tick `until` (at once runnable again
    /// if that has passed, or a wake-up is pending).
    pub fn sleep_current(&mut self, until: u64, now: u64) -> Next {
        if until <= now {
            return Next::Stay;
        }
        self.wait_current(State::Sleeping { until })
    }

    /// The current thread blocks until [`Policy::wake`]; a wake-up that came
    /// first makes it return at once.
    pub fn block_current(&mut self) -> Next {
        self.wait_current(State::Blocked)
    }

    /// The current thread waits in `state` (sleeping or blocked), unless a
    /// wake-up is pending: then it keeps the CPU, and the wake-up is used.
    fn wait_current(&mut self, state: State) -> Next {
        let Some(id) = self.current else {
            return Next::Stay;
        };
        let entry = self
            .threads
            .get_mut(&id)
            .expect("the current thread is known");
        if core::mem::take(&mut entry.wake_pending) {
            return Next::Stay;
        }
        self.leave(state);
        self.switch_from(Some(id))
    }

    /// Wakes thread `id`: a blocked or sleeping thread goes to the back of
    /// the queue; a runnable or running one remembers the wake-up for its
    /// next block or sleep. Returns whether it was woken now. Unknown or
    /// exited threads: nothing.
    pub fn wake(&mut self, id: ThreadId) -> bool {
        let Some(entry) = self.threads.get_mut(&id) else {
            return false;
        };
        match entry.state {
            State::Blocked | State::Sleeping { .. } => {
                if let State::Sleeping { until } = entry.state {
                    self.sleepers.remove(&(until, id));
                }
                entry.state = State::Runnable;
                self.queue.push_back(id);
                true
            }
            State::Runnable | State::Running => {
                entry.wake_pending = true;
                false
            }
            State::Exited => false,
        }
    }

    /// The current thread has finished.
    pub fn exit_current(&mut self) -> Next {
        self.leave(State::Exited);
        // It cannot stay: it is gone, and it is never picked again.
        Next::Switch(self.pick())
    }

    /// Makes a thread that is not current exit where it is, runnable or
    /// sleeping: `kill`. Returns whether it did. A blocked thread is left
    /// alone: it waits in a queue someone will wake, and may hold a lock.
    pub fn exit_other(&mut self, id: ThreadId) -> bool {
        if self.current == Some(id) {
            return false;
        }
        let Some(entry) = self.threads.get_mut(&id) else {
            return false;
        };
        match entry.state {
            State::Runnable => self.queue.retain(|&queued| queued != id),
            State::Sleeping { until } => {
                self.sleepers.remove(&(until, id));
            }
            State::Blocked | State::Running | State::Exited => return false,
        }
        entry.state = State::Exited;
        true
    }

    /// Forgets an exited thread (its stack was given back).
    pub fn remove(&mut self, id: ThreadId) {
        if self.state(id) == Some(State::Exited) {
            self.threads.remove(&id);
        }
    }

    /// Every thread the policy knows, with its state, by id.
    #[cfg(test)]
    pub fn states(&self) -> impl Iterator<Item = (ThreadId, State)> + '_ {
        self.threads.iter().map(|(&id, entry)| (id, entry.state))
    }
}

#[cfg(test)]
mod tests;

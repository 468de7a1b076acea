//! The scheduler's policy, apart from the machine: which thread runs next
//! on which CPU, when a time slice is used up, who sleeps until when, and
//! what a wake-up does. The kernel side (`sched::thread`, `sched::switch`)
//! does what this decides.
//!
//! Round robin on each CPU: every CPU has its own run queue of the threads
//! that became runnable there, in order; the one picked runs until it
//! yields, blocks, sleeps, exits or uses up its slice of [`SLICE_TICKS`]
//! ticks, then goes to the back. When a CPU's queue is empty it steals from
//! the longest other queue (from its back: the thread that would wait
//! longest there), unless that thread is pinned; when nothing is runnable
//! at all, the CPU runs its idle thread, which is in no queue.
//!
//! A new or woken thread goes to an idle CPU if there is one (the one it
//! last ran on first), else to the least loaded. Placing work on an idle CPU
//! marks it to be kicked ([`Policy::take_kicks`]): the kernel sends it an
//! IPI, so its `hlt` ends. Sleepers wait in one list ordered by their
//! wake-up tick; each tick wakes those due.
//!
//! A wake-up that comes before the block it is meant for (the waker ran
//! between the sleeper's check and its block) is remembered, and the block
//! returns at once: no wake-up is lost.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

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
    /// The CPU it runs on, or last ran or was queued on.
    cpu: usize,
    /// The only CPU it may run on, if it is pinned.
    pinned: Option<usize>,
}

/// One CPU's part of the policy.
#[derive(Debug, Default)]
struct Cpu {
    /// Its runnable threads, in the order they run.
    queue: VecDeque<ThreadId>,
    /// The thread on it, unless its idle thread is.
    current: Option<ThreadId>,
}

/// The run queues, the sleepers and every thread's state.
#[derive(Debug)]
pub struct Policy {
    /// Every thread the policy knows, by id.
    threads: BTreeMap<ThreadId, Entry>,
    /// Each CPU, by number.
    cpus: Vec<Cpu>,
    /// The sleepers: (wake-up tick, id), in order.
    sleepers: BTreeMap<(u64, ThreadId), ()>,
    /// CPUs that got work while idle, a bit each: to be woken.
    kicks: u64,
}

/// What the policy says after an event on a CPU's running thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Keep running the current thread.
    Stay,
    /// Switch: to this thread, or to the CPU's idle thread (`None`).
    Switch(Option<ThreadId>),
}

impl Default for Policy {
    fn default() -> Self {
        Self::new()
    }
}

impl Policy {
    /// No threads, one CPU (number 0, the boot CPU).
    pub fn new() -> Self {
        Policy {
            threads: BTreeMap::new(),
            cpus: alloc::vec![Cpu::default()],
            sleepers: BTreeMap::new(),
            kicks: 0,
        }
    }

    /// Adds a CPU; returns its number (the next one).
    pub fn add_cpu(&mut self) -> usize {
        self.cpus.push(Cpu::default());
        self.cpus.len() - 1
    }

    /// The thread on CPU `cpu` (`None`: its idle thread).
    pub fn current(&self, cpu: usize) -> Option<ThreadId> {
        self.cpus[cpu].current
    }

    /// A thread's state, if the policy knows it.
    pub fn state(&self, id: ThreadId) -> Option<State> {
        self.threads.get(&id).map(|entry| entry.state)
    }

    /// The CPU a thread runs on, or last ran or waited on.
    pub fn cpu_of(&self, id: ThreadId) -> Option<usize> {
        self.threads.get(&id).map(|entry| entry.cpu)
    }

    /// How many threads wait in the run queues.
    #[cfg(test)]
    pub fn runnable(&self) -> usize {
        self.cpus.iter().map(|cpu| cpu.queue.len()).sum()
    }

    /// Whether CPU `cpu` runs its idle thread with nothing queued.
    fn is_idle(&self, cpu: usize) -> bool {
        let cpu = &self.cpus[cpu];
        cpu.current.is_none() && cpu.queue.is_empty()
    }

    /// How busy CPU `cpu` is: queued threads, plus the one running.
    fn load(&self, cpu: usize) -> usize {
        let cpu = &self.cpus[cpu];
        cpu.queue.len() + usize::from(cpu.current.is_some())
    }

    /// Where a thread that becomes runnable goes: its pinned CPU; else an
    /// idle CPU, `preferred` first; else the least loaded, `preferred` on a
    /// tie.
    fn place(&self, preferred: usize, pinned: Option<usize>) -> usize {
        if let Some(cpu) = pinned {
            return cpu;
        }
        let preferred = preferred.min(self.cpus.len() - 1);
        if self.is_idle(preferred) {
            return preferred;
        }
        (0..self.cpus.len())
            .min_by_key(|&cpu| (self.load(cpu), cpu != preferred, cpu))
            .unwrap_or(preferred)
    }

    /// Queues runnable thread `id` on a CPU [`Policy::place`] picks, and
    /// marks that CPU to be kicked if it was idle.
    fn enqueue(&mut self, id: ThreadId) {
        let Some(entry) = self.threads.get(&id) else {
            return;
        };
        let cpu = self.place(entry.cpu, entry.pinned);
        if self.is_idle(cpu) {
            self.kicks |= 1 << cpu;
        }
        self.cpus[cpu].queue.push_back(id);
        if let Some(entry) = self.threads.get_mut(&id) {
            entry.cpu = cpu;
        }
    }

    /// The CPUs that got work while idle since the last call, a bit each
    /// (the caller wakes them, but for itself).
    pub fn take_kicks(&mut self) -> u64 {
        core::mem::take(&mut self.kicks)
    }

    /// Adds a new thread, runnable, placed as a woken one is (`pinned`: it
    /// runs on that CPU only; `from`: the CPU that made it).
    pub fn add(&mut self, id: ThreadId, from: usize, pinned: Option<usize>) {
        let pinned = pinned.filter(|&cpu| cpu < self.cpus.len());
        self.threads.insert(
            id,
            Entry {
                state: State::Runnable,
                wake_pending: false,
                slice_left: 0,
                cpu: from,
                pinned,
            },
        );
        self.enqueue(id);
    }

    /// A thread for CPU `cpu` to run next: its own queue's front, else one
    /// stolen from the back of the longest other queue (not a pinned one).
    fn take_next(&mut self, cpu: usize) -> Option<ThreadId> {
        if let Some(id) = self.cpus[cpu].queue.pop_front() {
            return Some(id);
        }
        let victim = (0..self.cpus.len())
            .filter(|&other| other != cpu && self.stealable(other).is_some())
            .max_by_key(|&other| self.cpus[other].queue.len())?;
        let position = self.stealable(victim)?;
        self.cpus[victim].queue.remove(position)
    }

    /// Where in CPU `cpu`'s queue the thread another CPU may steal is: the
    /// last one not pinned.
    fn stealable(&self, cpu: usize) -> Option<usize> {
        self.cpus[cpu].queue.iter().rposition(|id| {
            self.threads
                .get(id)
                .is_some_and(|entry| entry.pinned.is_none())
        })
    }

    /// Takes the next thread for CPU `cpu` and makes it current there
    /// (`None`: nothing is runnable, the idle thread runs). The thread that
    /// was current must have left the CPU through one of the calls below.
    fn pick(&mut self, cpu: usize) -> Option<ThreadId> {
        let next = self.take_next(cpu);
        if let Some(id) = next {
            let entry = self.threads.get_mut(&id).expect("queued threads are known");
            entry.state = State::Running;
            entry.slice_left = SLICE_TICKS;
            entry.cpu = cpu;
        }
        self.cpus[cpu].current = next;
        next
    }

    /// The current thread of CPU `cpu` leaves it in `state`: a runnable
    /// one to the back of this CPU's queue.
    fn leave(&mut self, cpu: usize, state: State) {
        if let Some(id) = self.cpus[cpu].current.take() {
            let entry = self
                .threads
                .get_mut(&id)
                .expect("the current thread is known");
            entry.state = state;
            match state {
                State::Runnable => self.cpus[cpu].queue.push_back(id),
                State::Sleeping { until } => {
                    self.sleepers.insert((until, id), ());
                }
                _ => {}
            }
        }
    }

    /// CPU `cpu`'s idle thread asks for work: the next runnable thread, if
    /// any (its own, or stolen).
    pub fn pick_for_idle(&mut self, cpu: usize) -> Next {
        debug_assert!(self.cpus[cpu].current.is_none());
        match self.pick(cpu) {
            Some(id) => Next::Switch(Some(id)),
            None => Next::Stay,
        }
    }

    /// CPU `cpu`'s current thread yields: it goes to the back of the CPU's
    /// queue; the front runs (maybe itself, when it is alone).
    pub fn yield_current(&mut self, cpu: usize) -> Next {
        let before = self.cpus[cpu].current;
        if before.is_some() {
            if self.cpus[cpu].queue.is_empty() {
                return Next::Stay;
            }
            self.leave(cpu, State::Runnable);
        }
        self.switch_from(cpu, before)
    }

    /// What CPU `cpu` does after its current thread left: run the next
    /// thread, or idle.
    fn switch_from(&mut self, cpu: usize, before: Option<ThreadId>) -> Next {
        let next = self.pick(cpu);
        if next == before {
            Next::Stay
        } else {
            Next::Switch(next)
        }
    }

    /// One timer tick on CPU `cpu` at tick number `now`: sleepers that are
    /// due wake, and the current thread's slice shrinks. Says whether to
    /// preempt the current thread (its slice is used up and another waits
    /// on this CPU) or to leave the idle thread (work came, or can be
    /// stolen).
    pub fn tick(&mut self, cpu: usize, now: u64) -> Next {
        self.wake_due(now);
        match self.cpus[cpu].current {
            None => self.pick_for_idle(cpu),
            Some(id) => {
                let entry = self
                    .threads
                    .get_mut(&id)
                    .expect("the current thread is known");
                entry.slice_left = entry.slice_left.saturating_sub(1);
                if entry.slice_left == 0 && !self.cpus[cpu].queue.is_empty() {
                    self.leave(cpu, State::Runnable);
                    self.switch_from(cpu, Some(id))
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
                self.enqueue(id);
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

    /// CPU `cpu`'s current thread sleeps until tick `until` (at once
    /// runnable again if that has passed, or a wake-up is pending).
    pub fn sleep_current(&mut self, cpu: usize, until: u64, now: u64) -> Next {
        if until <= now {
            return Next::Stay;
        }
        self.wait_current(cpu, State::Sleeping { until })
    }

    /// CPU `cpu`'s current thread blocks until [`Policy::wake`]; a wake-up
    /// that came first makes it return at once.
    pub fn block_current(&mut self, cpu: usize) -> Next {
        self.wait_current(cpu, State::Blocked)
    }

    /// CPU `cpu`'s current thread waits in `state` (sleeping or blocked),
    /// unless a wake-up is pending: then it keeps the CPU, and the wake-up
    /// is used.
    fn wait_current(&mut self, cpu: usize, state: State) -> Next {
        let Some(id) = self.cpus[cpu].current else {
            return Next::Stay;
        };
        let entry = self
            .threads
            .get_mut(&id)
            .expect("the current thread is known");
        if core::mem::take(&mut entry.wake_pending) {
            return Next::Stay;
        }
        self.leave(cpu, state);
        self.switch_from(cpu, Some(id))
    }

    /// Wakes thread `id`: a blocked or sleeping thread is queued (see
    /// [`Policy::place`]); a runnable or running one remembers the wake-up
    /// for its next block or sleep. Returns whether it was woken now.
    /// Unknown or exited threads: nothing.
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
                self.enqueue(id);
                true
            }
            State::Runnable | State::Running => {
                entry.wake_pending = true;
                false
            }
            State::Exited => false,
        }
    }

    /// CPU `cpu`'s current thread has finished.
    pub fn exit_current(&mut self, cpu: usize) -> Next {
        self.leave(cpu, State::Exited);
        // It cannot stay: it is gone, and it is never picked again.
        Next::Switch(self.pick(cpu))
    }

    /// Makes a thread that is not running exit where it is, runnable or
    /// sleeping: `kill`. Returns whether it did. A blocked thread is left
    /// alone: it waits in a queue someone will wake, and may hold a lock.
    pub fn exit_other(&mut self, id: ThreadId) -> bool {
        let Some(entry) = self.threads.get_mut(&id) else {
            return false;
        };
        match entry.state {
            State::Runnable => {
                for cpu in &mut self.cpus {
                    cpu.queue.retain(|&queued| queued != id);
                }
            }
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

//! Threads on the machine: their records, spawning, joining, exiting,
//! blocking and waking, the switch the policy decides, the tick and the
//! preemption on the way out of an interrupt, the idle loop, and what `ps`
//! and fault reports show (see the module above).

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use spin::Mutex;

use super::policy::{Next, Policy, State, ThreadId};
use super::stack::{Stack, StackError};
use super::switch;
use crate::arch::{self, percpu, read_timestamp, without_interrupts};

/// The idle thread's id: the boot code, which runs when nothing else can.
pub const IDLE: ThreadId = 0;

/// What a thread runs.
type Entry = Box<dyn FnOnce() -> usize + Send>;

/// One thread.
struct Thread {
    /// Its number.
    id: ThreadId,
    /// Its name, for `ps` and fault reports.
    name: String,
    /// Its stack (none for the idle thread, which runs on the boot stack).
    stack: Option<Stack>,
    /// Its stack pointer while it is off the CPU.
    saved_rsp: u64,
    /// What it runs, until it starts.
    entry: Option<Entry>,
    /// What it returned, once it has.
    result: Option<usize>,
    /// The thread waiting in [`JoinHandle::join`], if any.
    joiner: Option<ThreadId>,
    /// Nobody will join it: it is reaped as soon as it has exited.
    detached: bool,
    /// Whether `kill` may stop it (the shell's `spin` threads).
    killable: bool,
    /// Timestamp cycles it has run.
    cycles: u64,
}

/// The scheduler's state.
struct Scheduler {
    /// The policy: states, the run queue, the sleepers.
    policy: Policy,
    /// Every thread but the idle one, by id.
    threads: BTreeMap<ThreadId, Box<Thread>>,
    /// The idle thread.
    idle: Option<Box<Thread>>,
    /// The next id to give.
    next_id: ThreadId,
    /// When the running thread got the CPU (a timestamp).
    switched_in: u64,
    /// The current tick, as `time` last said.
    now: u64,
}

/// The scheduler (spin lock, taken with interrupts off).
static SCHED: Mutex<Option<Scheduler>> = Mutex::new(None);
/// Set by a tick whose policy says to switch: the interrupt's exit hook
/// switches.
static NEED_SWITCH: AtomicBool = AtomicBool::new(false);

/// Runs `f` on the scheduler, with interrupts off. Panics before [`init`].
fn with_sched<R>(f: impl FnOnce(&mut Scheduler) -> R) -> R {
    without_interrupts(|| f(SCHED.lock().as_mut().expect("sched::init has not run")))
}

/// Makes the running code the idle thread and starts scheduling: the tick
/// (registered by `time`) and the interrupt exit hook drive it from here.
pub fn init() {
    let idle = Box::new(Thread {
        id: IDLE,
        name: String::from("idle"),
        stack: None,
        saved_rsp: 0,
        entry: None,
        result: None,
        joiner: None,
        detached: false,
        killable: false,
        cycles: 0,
    });
    percpu::set_current(IDLE);
    without_interrupts(|| {
        *SCHED.lock() = Some(Scheduler {
            policy: Policy::new(),
            threads: BTreeMap::new(),
            idle: Some(idle),
            next_id: IDLE + 1,
            switched_in: read_timestamp(),
            now: 0,
        });
    });
    arch::set_interrupt_exit_hook(preempt_if_needed);
    crate::panic::set_context(describe_current);
    log::debug!("sched: threads on, the boot code is the idle thread");
}

/// The running thread's id.
pub fn current() -> ThreadId {
    percpu::current()
}

/// A thread started by [`spawn`]; [`JoinHandle::join`] waits for its result.
#[must_use = "a thread nobody joins should be detached"]
pub struct JoinHandle {
    /// The thread.
    id: ThreadId,
}

/// Starts a thread called `name` that runs `entry`; it is runnable at once
/// (after the threads before it in the run queue).
pub fn spawn(
    name: &str,
    entry: impl FnOnce() -> usize + Send + 'static,
) -> Result<JoinHandle, StackError> {
    spawn_thread(name, Box::new(entry), false, false).map(|id| JoinHandle { id })
}

/// [`spawn`] for a thread nobody joins; `killable`: `kill` may stop it.
pub fn spawn_detached(
    name: &str,
    killable: bool,
    entry: impl FnOnce() -> usize + Send + 'static,
) -> Result<ThreadId, StackError> {
    spawn_thread(name, Box::new(entry), true, killable)
}

/// Makes the thread and queues it (`detached` from the start: a detached
/// thread may run and exit before its spawner runs again).
fn spawn_thread(
    name: &str,
    entry: Entry,
    detached: bool,
    killable: bool,
) -> Result<ThreadId, StackError> {
    reap();
    let stack = Stack::new()?;
    // SAFETY: the stack was just mapped, 16-byte aligned at its top, and is
    // this thread's alone.
    let saved_rsp = unsafe { switch::initial_stack(stack.top(), thread_start) };
    Ok(with_sched(|sched| {
        let id = sched.next_id;
        sched.next_id += 1;
        sched.threads.insert(
            id,
            Box::new(Thread {
                id,
                name: String::from(name),
                stack: Some(stack),
                saved_rsp,
                entry: Some(entry),
                result: None,
                joiner: None,
                detached,
                killable,
                cycles: 0,
            }),
        );
        sched.policy.add(id);
        id
    }))
}

/// Where a new thread starts: with interrupts off, right after its first
/// switch. Runs its entry with interrupts on, then exits with its result.
extern "C" fn thread_start() -> ! {
    let entry = with_sched(|sched| {
        let id = percpu::current();
        sched
            .threads
            .get_mut(&id)
            .and_then(|thread| thread.entry.take())
    });
    arch::enable_interrupts();
    let result = entry.map_or(0, |entry| entry());
    exit(result)
}

impl JoinHandle {
    /// Waits until the thread has exited; returns its result and gives its
    /// stack back.
    pub fn join(self) -> usize {
        loop {
            let done = with_sched(|sched| {
                let me = percpu::current();
                let thread = sched.threads.get_mut(&self.id)?;
                if sched.policy.state(self.id) == Some(State::Exited) {
                    return Some(thread.result.unwrap_or(0));
                }
                thread.joiner = Some(me);
                None
            });
            if let Some(result) = done {
                reap_one(self.id);
                // Reaped: nothing is left for `Drop` to detach.
                core::mem::forget(self);
                return result;
            }
            block();
        }
    }
}

/// A handle dropped without `join`: the thread goes on, detached, and is
/// reaped once it has exited.
impl Drop for JoinHandle {
    fn drop(&mut self) {
        let id = self.id;
        with_sched(|sched| {
            if let Some(thread) = sched.threads.get_mut(&id) {
                thread.detached = true;
            }
        });
    }
}

/// Ends the running thread with `result` (a thread that returns from its
/// entry does this too). Its stack is given back once it is off the CPU.
pub fn exit(result: usize) -> ! {
    arch::disable_interrupts();
    let next = with_sched(|sched| {
        let me = percpu::current();
        let joiner = sched.threads.get_mut(&me).and_then(|thread| {
            thread.result = Some(result);
            thread.joiner.take()
        });
        if let Some(joiner) = joiner {
            sched.policy.wake(joiner);
        }
        sched.policy.exit_current()
    });
    switch_to(next);
    unreachable!("an exited thread ran again");
}

/// Gives the CPU to the next runnable thread, if any; returns when this
/// thread runs again.
pub fn yield_now() {
    decide_and_switch(|sched| sched.policy.yield_current());
}

/// Blocks the running thread until [`wake`] (returns at once if a wake-up
/// came since it last blocked).
pub fn block() {
    decide_and_switch(|sched| sched.policy.block_current());
}

/// Makes thread `id` runnable if it is blocked or sleeping (or remembers
/// the wake-up for its next block). Callable from interrupt handlers.
pub fn wake(id: ThreadId) {
    with_sched(|sched| {
        sched.policy.wake(id);
    });
}

/// Sleeps until tick `until` (of `time`'s tick count).
pub fn sleep_until_tick(until: u64) {
    decide_and_switch(|sched| {
        let now = sched.now;
        sched.policy.sleep_current(until, now)
    });
}

/// Asks the policy (`decide`) and switches as it says, with interrupts off
/// from the decision to the switch (a tick in between would see the policy
/// ahead of the CPU), restoring them when this thread runs again.
fn decide_and_switch(decide: impl FnOnce(&mut Scheduler) -> Next) {
    without_interrupts(|| {
        let next = decide(SCHED.lock().as_mut().expect("sched::init has not run"));
        switch_to(next);
    });
}

/// Performs the switch `next` decides, interrupts off.
fn switch_to(next: Next) {
    let Next::Switch(to) = next else {
        return;
    };
    let to = to.unwrap_or(IDLE);
    let (save, target, top) = {
        let mut guard = SCHED.lock();
        let sched = guard.as_mut().expect("sched::init has not run");
        let from = percpu::current();
        if from == to {
            return;
        }
        let now = read_timestamp();
        let ran = now.saturating_sub(sched.switched_in);
        sched.switched_in = now;
        let save = match sched.thread_mut(from) {
            Some(thread) => {
                thread.cycles += ran;
                &raw mut thread.saved_rsp
            }
            None => return, // reaped already: cannot happen to the running one
        };
        let Some(next) = sched.thread_mut(to) else {
            return;
        };
        (save, next.saved_rsp, next.stack.as_ref().map(Stack::top))
    };
    if let Some(top) = top {
        percpu::set_kernel_stack(top);
    }
    percpu::set_current(to);
    // SAFETY: interrupts are off; `save` is the running thread's slot in its
    // boxed record, which stays while the thread exists (an exited thread
    // is reaped only after it left the CPU, by another thread); `target` was
    // saved by this function or prepared by `initial_stack` on a stack that
    // stays mapped while its thread exists.
    unsafe { switch::switch(save, target) };
}

impl Scheduler {
    /// The record of `id` (the idle thread's too).
    fn thread_mut(&mut self, id: ThreadId) -> Option<&mut Thread> {
        if id == IDLE {
            self.idle.as_deref_mut()
        } else {
            self.threads.get_mut(&id).map(Box::as_mut)
        }
    }
}

/// The timer's tick number `now` (registered by `time`): wakes the
/// sleepers due, counts down the running thread's slice, and asks for a
/// switch on the way out of the interrupt when the policy says so.
pub fn on_tick(now: u64) {
    let next = with_sched(|sched| {
        sched.now = now;
        sched.policy.tick(now)
    });
    if let Next::Switch(to) = next {
        // The policy has already moved the current thread: remember where
        // to go; the exit hook goes there.
        PENDING.store(to.unwrap_or(IDLE), Ordering::Relaxed);
        NEED_SWITCH.store(true, Ordering::Release);
    }
}

/// The thread a tick decided to switch to.
static PENDING: AtomicU64 = AtomicU64::new(IDLE);

/// The interrupt exit hook: after the handler and its EOI, switches if the
/// tick asked for it. The interrupted thread resumes here later and
/// returns through its interrupt frame.
fn preempt_if_needed() {
    if NEED_SWITCH.swap(false, Ordering::Acquire) {
        let to = PENDING.load(Ordering::Relaxed);
        switch_to(Next::Switch((to != IDLE).then_some(to)));
    }
}

/// The idle thread's loop: runs whatever is runnable, reaps exited threads,
/// and sleeps in `hlt` otherwise (a tick or a device wakes it).
pub fn run_idle() -> ! {
    idle_until(|| false);
    unreachable!("the idle loop ended");
}

/// [`run_idle`] until `done()` holds (checked each time the idle thread
/// runs): for the boot code to wait for a thread it started.
pub fn idle_until(done: impl Fn() -> bool) {
    loop {
        reap();
        if done() {
            return;
        }
        arch::disable_interrupts();
        let next = with_sched(|sched| sched.policy.pick_for_idle());
        match next {
            Next::Stay => arch::enable_and_wait(),
            next => {
                switch_to(next);
                arch::enable_interrupts();
            }
        }
    }
}

/// Gives back the stacks of exited threads nobody will join. Normal code
/// only (it takes the frame allocator and the page tables).
fn reap() {
    let done: Vec<ThreadId> = with_sched(|sched| {
        let current = percpu::current();
        sched
            .threads
            .values()
            .filter(|thread| {
                thread.detached
                    && thread.id != current
                    && sched.policy.state(thread.id) == Some(State::Exited)
            })
            .map(|thread| thread.id)
            .collect()
    });
    for id in done {
        reap_one(id);
    }
}

/// Forgets exited thread `id` and gives its stack back (it is off the CPU:
/// one CPU, and the caller runs).
fn reap_one(id: ThreadId) {
    let thread = with_sched(|sched| {
        if sched.policy.state(id) != Some(State::Exited) || id == percpu::current() {
            return None;
        }
        sched.policy.remove(id);
        sched.threads.remove(&id)
    });
    if let Some(mut thread) = thread
        && let Some(stack) = thread.stack.take()
    {
        stack.free();
    }
}

/// Stops thread `id` where it waits, if `kill` may (a killable thread that
/// is not the caller). Its stack is given back.
pub fn kill(id: ThreadId) -> Result<(), KillError> {
    let stopped = with_sched(|sched| {
        let thread = sched.threads.get(&id).ok_or(KillError::NoSuchThread)?;
        if !thread.killable {
            return Err(KillError::NotKillable);
        }
        match sched.policy.state(id) {
            Some(State::Blocked) => Err(KillError::Blocked),
            _ if sched.policy.exit_other(id) => Ok(()),
            _ => Err(KillError::Running),
        }
    });
    stopped.inspect(|()| reap())
}

/// Why `kill` did not stop a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillError {
    /// No thread has that id.
    NoSuchThread,
    /// A kernel thread: only `spin` threads are stopped from outside.
    NotKillable,
    /// It is the running thread (the caller).
    Running,
    /// It waits for something (it may hold a lock): only runnable or
    /// sleeping threads are stopped.
    Blocked,
}

impl core::fmt::Display for KillError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            KillError::NoSuchThread => "no such thread",
            KillError::NotKillable => "a kernel thread cannot be killed",
            KillError::Running => "it is running",
            KillError::Blocked => "it is blocked, waiting for something",
        })
    }
}

/// One thread as `ps` shows it.
#[derive(Debug, Clone)]
pub struct ThreadInfo {
    /// Its id.
    pub id: ThreadId,
    /// Its name.
    pub name: String,
    /// Its state's name.
    pub state: &'static str,
    /// CPU time, in timestamp cycles.
    pub cycles: u64,
    /// The deepest its stack has been used, in bytes (None: the boot
    /// stack).
    pub stack_used: Option<u64>,
}

/// Every thread, the idle one first.
pub fn threads() -> Vec<ThreadInfo> {
    with_sched(|sched| {
        let now = read_timestamp();
        let current = percpu::current();
        let running = now.saturating_sub(sched.switched_in);
        let info = |thread: &Thread| ThreadInfo {
            id: thread.id,
            name: thread.name.clone(),
            state: if thread.id == IDLE {
                if current == IDLE {
                    "running"
                } else {
                    "runnable"
                }
            } else {
                sched.policy.state(thread.id).map_or("exited", State::name)
            },
            cycles: thread.cycles + if thread.id == current { running } else { 0 },
            stack_used: thread.stack.as_ref().map(Stack::high_water),
        };
        sched
            .idle
            .iter()
            .map(|thread| info(thread))
            .chain(sched.threads.values().map(|thread| info(thread)))
            .collect()
    })
}

/// The running thread as a report's closing line names it: ` in thread N
/// (name)`, or `: stack overflow in thread N (name)` when `fault` lies in
/// its stack's guard page (registered with `panic` by [`init`]).
fn describe_current(out: &mut dyn core::fmt::Write, fault: Option<u64>) -> core::fmt::Result {
    // The scheduler's lock may be held by the code that faulted: try only.
    let Some(guard) = SCHED.try_lock() else {
        return write!(out, " in thread {}", percpu::current());
    };
    let Some(sched) = guard.as_ref() else {
        return Ok(());
    };
    let id = percpu::current();
    let thread = if id == IDLE {
        sched.idle.as_deref()
    } else {
        sched.threads.get(&id).map(Box::as_ref)
    };
    match thread {
        Some(thread) => {
            let overflow = fault.is_some_and(|address| {
                thread
                    .stack
                    .as_ref()
                    .is_some_and(|stack| (stack.guard()..stack.bottom()).contains(&address))
            });
            if overflow {
                write!(out, ": stack overflow in thread {id} ({})", thread.name)
            } else {
                write!(out, " in thread {id} ({})", thread.name)
            }
        }
        None => write!(out, " in thread {id}"),
    }
}

/// The check for the sleeping locks: they may not be taken in an interrupt
/// handler, nor by the idle thread (a block there would spin).
pub fn assert_may_sleep(what: &str) {
    if percpu::in_interrupt() {
        panic!("{what}: a sleeping lock taken in an interrupt handler");
    }
    // The idle thread never blocks: it is what runs when nothing can.
    if percpu::current() == IDLE {
        panic!("{what}: the idle thread (the boot code) cannot block");
    }
}

//! Threads on the machine: their records, spawning, joining, exiting,
//! blocking and waking, the switch the policy decides, the tick and the
//! preemption on the way out of an interrupt, each CPU's idle loop, and
//! what `ps` and fault reports show (see the module above).
//!
//! **The hand-off between CPUs.** A thread that leaves a CPU is visible to
//! the others (queued, or woken) as soon as the policy says so, which is
//! before its registers are saved. Each thread therefore carries `on_cpu`:
//! set by the CPU that switches to it, cleared by the switch that leaves
//! it, right after its stack pointer is saved. A CPU about to run a thread
//! waits until its `on_cpu` is clear, and a thread's stack and record are
//! given back only once it is.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use spin::Mutex;

use super::policy::{Next, Policy, State, ThreadId};
use super::stack::{Stack, StackError};
use super::switch;
use crate::arch::{self, percpu, read_timestamp, without_interrupts};

/// The boot CPU's idle thread's id: the boot code, which runs when nothing
/// else can. Each other CPU's idle thread gets the next id when it starts.
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
    /// A CPU runs it, or has not finished leaving it (see the module).
    on_cpu: AtomicBool,
    /// The CPU whose idle thread it is, for idle threads.
    idle_of: Option<usize>,
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
    /// Set by `kill` while it runs on a CPU: it stops at its next check of
    /// [`stop_flag`].
    stop: Arc<AtomicBool>,
    /// Timestamp cycles it has run.
    cycles: u64,
    /// What a thread that runs a program has besides: its address space,
    /// thread pointer and FPU state, which follow it onto the CPU.
    user: Option<UserThread>,
}

/// The CPU state a program's thread carries across switches.
struct UserThread {
    /// Its address space's root (CR3); the kernel's once it has left it.
    root: u64,
    /// Its FS base (the thread pointer `arch_prctl` sets).
    fs_base: u64,
    /// Its x87/SSE registers while it is off the CPU.
    fpu: Box<arch::user::FpuState>,
    /// Its program, as the process layer names it (an opaque word,
    /// published in the per-CPU block while the thread runs).
    context: u64,
}

/// The scheduler's state.
struct Scheduler {
    /// The policy: states, the run queues, the sleepers.
    policy: Policy,
    /// Every thread, the idle ones too, by id.
    threads: BTreeMap<ThreadId, Box<Thread>>,
    /// The next id to give.
    next_id: ThreadId,
    /// When each CPU's running thread got it (a timestamp), by CPU.
    switched_in: Vec<u64>,
    /// The current tick, as `time` last said.
    now: u64,
}

/// The scheduler (spin lock, taken with interrupts off). One lock for every
/// CPU: the policy's run queues are per CPU, its decisions are not.
static SCHED: Mutex<Option<Scheduler>> = Mutex::new(None);

/// Runs `f` on the scheduler, with interrupts off, then wakes the idle CPUs
/// the policy gave work to. Panics before [`init`].
fn with_sched<R>(f: impl FnOnce(&mut Scheduler) -> R) -> R {
    let (result, kicks) = without_interrupts(|| {
        let mut guard = SCHED.lock();
        let sched = guard.as_mut().expect("sched::init has not run");
        let result = f(sched);
        (result, sched.policy.take_kicks())
    });
    kick(kicks);
    result
}

/// Sends a reschedule IPI to each CPU in `cpus` (a bit each) but this one.
fn kick(cpus: u64) {
    for cpu in arch::smp::cpus_in(cpus & arch::smp::other_cpus()) {
        arch::smp::send_reschedule(cpu);
    }
}

/// A new idle thread's record: the running code, on CPU `cpu`.
fn idle_thread(id: ThreadId, cpu: usize) -> Box<Thread> {
    Box::new(Thread {
        id,
        name: String::from("idle"),
        stack: None,
        saved_rsp: 0,
        on_cpu: AtomicBool::new(true),
        idle_of: Some(cpu),
        entry: None,
        result: None,
        joiner: None,
        detached: false,
        killable: false,
        stop: Arc::new(AtomicBool::new(false)),
        cycles: 0,
        user: None,
    })
}

/// Makes the running code the boot CPU's idle thread and starts
/// scheduling: the tick (registered by `time`) and the interrupt exit hook
/// drive it from here.
pub fn init() {
    percpu::set_current(IDLE);
    percpu::set_idle(IDLE);
    without_interrupts(|| {
        let mut threads = BTreeMap::new();
        threads.insert(IDLE, idle_thread(IDLE, 0));
        *SCHED.lock() = Some(Scheduler {
            policy: Policy::new(),
            threads,
            next_id: IDLE + 1,
            switched_in: alloc::vec![read_timestamp()],
            now: 0,
        });
    });
    arch::set_interrupt_exit_hook(preempt_if_needed);
    crate::panic::set_context(describe_current);
    log::debug!("sched: threads on, the boot code is the idle thread");
}

/// Makes the running code the idle thread of a CPU that just started (its
/// per-CPU block says its number, which must be the next one), and gives
/// the policy a run queue for it. Returns the idle thread's id.
pub fn init_this_cpu() -> ThreadId {
    let cpu = percpu::cpu();
    let id = with_sched(|sched| {
        let added = sched.policy.add_cpu();
        assert_eq!(added, cpu, "CPUs join the scheduler in number order");
        let id = sched.next_id;
        sched.next_id += 1;
        sched.threads.insert(id, idle_thread(id, cpu));
        sched.switched_in.push(read_timestamp());
        id
    });
    percpu::set_idle(id);
    percpu::set_current(id);
    id
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
    spawn_thread(name, Box::new(entry), false, false, None).map(|id| JoinHandle { id })
}

/// [`spawn`] for a thread that runs on CPU `cpu` only (a CPU the scheduler
/// does not have: anywhere).
pub fn spawn_on(
    cpu: usize,
    name: &str,
    entry: impl FnOnce() -> usize + Send + 'static,
) -> Result<JoinHandle, StackError> {
    spawn_thread(name, Box::new(entry), false, false, Some(cpu)).map(|id| JoinHandle { id })
}

/// [`spawn`] for a thread nobody joins; `killable`: `kill` may stop it.
pub fn spawn_detached(
    name: &str,
    killable: bool,
    entry: impl FnOnce() -> usize + Send + 'static,
) -> Result<ThreadId, StackError> {
    spawn_thread(name, Box::new(entry), true, killable, None)
}

/// [`spawn`] for a thread that runs a program in the address space whose
/// root is `root`: it runs `entry` (which enters ring 3) on that space,
/// with a fresh FPU state. `context` names its program for the process
/// layer ([`percpu::user_context`] while it runs).
pub fn spawn_user(
    name: &str,
    root: u64,
    context: u64,
    entry: impl FnOnce() -> usize + Send + 'static,
) -> Result<JoinHandle, StackError> {
    let user = UserThread {
        root,
        context,
        fs_base: 0,
        fpu: Box::new(arch::user::FpuState::initial()),
    };
    spawn_thread_with(name, Box::new(entry), false, false, None, Some(user))
        .map(|id| JoinHandle { id })
}

/// Makes the thread and queues it (`detached` from the start: a detached
/// thread may run and exit before its spawner runs again).
fn spawn_thread(
    name: &str,
    entry: Entry,
    detached: bool,
    killable: bool,
    pinned: Option<usize>,
) -> Result<ThreadId, StackError> {
    spawn_thread_with(name, entry, detached, killable, pinned, None)
}

/// [`spawn_thread`], for a program's thread when `user` is given.
fn spawn_thread_with(
    name: &str,
    entry: Entry,
    detached: bool,
    killable: bool,
    pinned: Option<usize>,
    user: Option<UserThread>,
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
                on_cpu: AtomicBool::new(false),
                idle_of: None,
                entry: Some(entry),
                result: None,
                joiner: None,
                detached,
                killable,
                stop: Arc::new(AtomicBool::new(false)),
                cycles: 0,
                user,
            }),
        );
        sched.policy.add(id, percpu::cpu(), pinned);
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
    /// The thread's id.
    pub fn id(&self) -> ThreadId {
        self.id
    }

    /// Makes the running thread the one woken when the thread exits,
    /// without waiting: a thread that sleeps in short steps while it
    /// watches for something else too (the shell, for keys) learns of the
    /// exit at once.
    pub fn watch(&self) {
        with_sched(|sched| {
            let me = percpu::current();
            if let Some(thread) = sched.threads.get_mut(&self.id) {
                thread.joiner = Some(me);
            }
        });
    }

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
        sched.policy.exit_current(percpu::cpu())
    });
    switch_to(next);
    unreachable!("an exited thread ran again");
}

/// Gives the CPU to the next runnable thread, if any; returns when this
/// thread runs again.
pub fn yield_now() {
    decide_and_switch(|sched| sched.policy.yield_current(percpu::cpu()));
}

/// Blocks the running thread until [`wake`] (returns at once if a wake-up
/// came since it last blocked).
pub fn block() {
    decide_and_switch(|sched| sched.policy.block_current(percpu::cpu()));
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
        sched.policy.sleep_current(percpu::cpu(), until, now)
    });
}

/// Asks the policy (`decide`) and switches as it says, with interrupts off
/// from the decision to the switch (a tick in between would see the policy
/// ahead of the CPU), restoring them when this thread runs again.
fn decide_and_switch(decide: impl FnOnce(&mut Scheduler) -> Next) {
    without_interrupts(|| {
        let next = with_sched(decide);
        switch_to(next);
    });
}

/// Performs the switch `next` decides, interrupts off (`None`: to this
/// CPU's idle thread).
fn switch_to(next: Next) {
    let Next::Switch(to) = next else {
        return;
    };
    let to = to.unwrap_or_else(percpu::idle);
    let cpu = percpu::cpu();
    let (save, leaving, target, arriving, top) = {
        let mut guard = SCHED.lock();
        let sched = guard.as_mut().expect("sched::init has not run");
        let from = percpu::current();
        if from == to {
            return;
        }
        let now = read_timestamp();
        let ran = now.saturating_sub(sched.switched_in[cpu]);
        sched.switched_in[cpu] = now;
        let (save, leaving) = match sched.threads.get_mut(&from) {
            Some(thread) => {
                thread.cycles += ran;
                // A program's FPU registers stay on the CPU while it runs
                // kernel code (the kernel never uses them): saved here.
                if let Some(user) = thread.user.as_mut() {
                    user.fpu.save();
                }
                (&raw mut thread.saved_rsp, &raw const thread.on_cpu)
            }
            None => return, // reaped already: cannot happen to the running one
        };
        let Some(next) = sched.threads.get_mut(&to) else {
            return;
        };
        // The address space, thread pointer and FPU of the thread coming
        // in; a kernel thread runs on the kernel's tables.
        // A kernel thread keeps the tables it finds (lazily, as Linux's
        // kernel threads borrow the last program's: the kernel half is the
        // same in all): a program that sleeps and wakes on the same CPU
        // pays no switch, and its pages stay where a debugger looks. A
        // space being freed makes such CPUs load the kernel's first
        // (`tlb::RELEASE_ROOT`).
        let (root, context) = match next.user.as_ref() {
            Some(user) => {
                user.fpu.restore();
                arch::user::set_fs_base(user.fs_base);
                (Some(user.root), user.context)
            }
            None => (None, 0),
        };
        percpu::set_user_context(context);
        if let Some(root) = root {
            // SAFETY: the root is the kernel's, or a program's address
            // space, which exists while a thread of it does and maps the
            // kernel alike (its thread leaves it before it is dropped:
            // `leave_address_space`).
            unsafe { arch::switch_root(root) };
        }
        (
            save,
            leaving,
            &raw const next.saved_rsp,
            &raw const next.on_cpu,
            next.stack.as_ref().map(Stack::top),
        )
    };
    if let Some(top) = top {
        percpu::set_kernel_stack(top);
    }
    percpu::set_current(to);
    // SAFETY: interrupts are off; `save` and `leaving` are the running
    // thread's fields in its boxed record, which stays while the thread
    // exists (a thread is reaped only once its `on_cpu` is clear, which the
    // switch does after its last use of them); `target` and `arriving` are
    // `to`'s, which the policy made this CPU's current thread, so nothing
    // reaps it; its saved stack pointer was saved by this function or
    // prepared by `initial_stack`, on a stack that stays mapped while its
    // thread exists. The switch waits for `arriving` (see the module).
    unsafe { switch::switch(save, target, leaving, arriving) };
}

/// A timer tick on this CPU, at tick number `now` (registered by `time`;
/// every CPU's timer calls it): wakes the sleepers due, counts down the
/// running thread's slice, and asks for a switch on the way out of the
/// interrupt when the policy says so.
pub fn on_tick(now: u64) {
    let next = with_sched(|sched| {
        sched.now = sched.now.max(now);
        let now = sched.now;
        sched.policy.tick(percpu::cpu(), now)
    });
    if let Next::Switch(to) = next {
        // The policy has already moved the current thread: remember where
        // to go; the exit hook goes there.
        percpu::request_switch(to.unwrap_or_else(percpu::idle));
    }
}

/// The interrupt exit hook: after the handler and its EOI, switches if the
/// tick asked for it. The interrupted thread resumes here later and
/// returns through its interrupt frame.
fn preempt_if_needed() {
    if let Some(to) = percpu::take_switch_request() {
        switch_to(Next::Switch(Some(to)));
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
        let next = with_sched(|sched| sched.policy.pick_for_idle(percpu::cpu()));
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
                    && !thread.on_cpu.load(Ordering::Acquire)
                    && sched.policy.state(thread.id) == Some(State::Exited)
            })
            .map(|thread| thread.id)
            .collect()
    });
    for id in done {
        reap_one(id);
    }
}

/// Forgets exited thread `id` and gives its stack back, once no CPU runs
/// it (its `on_cpu` is clear: the CPU it exited on has left it).
fn reap_one(id: ThreadId) {
    let thread = loop {
        let ready = with_sched(|sched| {
            if sched.policy.state(id) != Some(State::Exited) || id == percpu::current() {
                return Some(None);
            }
            let Some(thread) = sched.threads.get(&id) else {
                return Some(None);
            };
            if thread.on_cpu.load(Ordering::Acquire) {
                return None;
            }
            sched.policy.remove(id);
            Some(sched.threads.remove(&id))
        });
        match ready {
            Some(thread) => break thread,
            // Still leaving its CPU: a few instructions more.
            None => core::hint::spin_loop(),
        }
    };
    if let Some(mut thread) = thread
        && let Some(stack) = thread.stack.take()
    {
        stack.free();
    }
}

/// Stops thread `id` if `kill` may (a killable thread that is not the
/// caller): at once where it waits, runnable or sleeping; when it runs on
/// another CPU, at its next check of its [`stop_flag`], waited for here
/// up to [`KILL_WAIT`]. Its stack is given back.
pub fn kill(id: ThreadId) -> Result<(), KillError> {
    let stopped = with_sched(|sched| {
        let thread = sched.threads.get(&id).ok_or(KillError::NoSuchThread)?;
        if !thread.killable || thread.idle_of.is_some() {
            return Err(KillError::NotKillable);
        }
        match sched.policy.state(id) {
            Some(State::Blocked) => Err(KillError::Blocked),
            _ if sched.policy.exit_other(id) => Ok(true),
            Some(State::Running) if id != percpu::current() => {
                thread.stop.store(true, Ordering::Release);
                Ok(false)
            }
            _ => Err(KillError::Running),
        }
    })?;
    if !stopped {
        let deadline = read_timestamp() + KILL_WAIT_CYCLES;
        while with_sched(|sched| sched.policy.state(id).is_some_and(|s| s != State::Exited)) {
            if read_timestamp() > deadline {
                return Err(KillError::Running);
            }
            yield_now();
        }
    }
    reap();
    Ok(())
}

/// Sets the running program thread's FS base (its thread pointer), now
/// and whenever it runs again. Does nothing for a kernel thread.
pub fn set_fs_base(base: u64) {
    with_sched(|sched| {
        if let Some(user) = sched
            .threads
            .get_mut(&percpu::current())
            .and_then(|thread| thread.user.as_mut())
        {
            user.fs_base = base;
            arch::user::set_fs_base(base);
        }
    });
}

/// The running program thread's FS base (0 for a kernel thread).
pub fn fs_base() -> u64 {
    with_sched(|sched| {
        sched
            .threads
            .get(&percpu::current())
            .and_then(|thread| thread.user.as_ref())
            .map_or(0, |user| user.fs_base)
    })
}

/// Moves the running thread off its program's address space onto the
/// kernel's tables, for good: what a program's exit does before its
/// address space is dropped.
pub fn leave_address_space() {
    with_sched(|sched| {
        if let Some(user) = sched
            .threads
            .get_mut(&percpu::current())
            .and_then(|thread| thread.user.as_mut())
        {
            user.root = arch::kernel_root();
        }
        // SAFETY: the kernel's own tables.
        unsafe { arch::switch_root(arch::kernel_root()) };
    });
}

/// Whether thread `id` has exited (or never existed).
pub fn has_exited(id: ThreadId) -> bool {
    with_sched(|sched| {
        sched
            .policy
            .state(id)
            .is_none_or(|state| state == State::Exited)
    })
}

/// Asks thread `id` to stop (its [`stop_flag`]) and wakes it if it waits,
/// so that it sees the request. For program threads, which stop on their
/// way back to ring 3 or out of a wait. Returns whether the thread exists.
pub fn request_stop(id: ThreadId) -> bool {
    let found = with_sched(|sched| match sched.threads.get(&id) {
        Some(thread) => {
            thread.stop.store(true, Ordering::Release);
            true
        }
        None => false,
    });
    if found {
        wake(id);
        // A thread running on another CPU sees the request at its next
        // interrupt: the tick, or this.
        kick(arch::smp::other_cpus());
    }
    found
}

/// How long `kill` waits for a thread running on another CPU to stop, in
/// timestamp cycles (a second at 3 GHz; longer on slower clocks).
const KILL_WAIT_CYCLES: u64 = 3_000_000_000;

/// The running thread's stop flag: set when `kill` asks it to stop while it
/// runs on another CPU. A killable thread's loop checks it, and returns;
/// the flag is the thread's own, so the check takes no lock.
pub fn stop_flag() -> Arc<AtomicBool> {
    with_sched(|sched| {
        sched.threads.get(&percpu::current()).map_or_else(
            || Arc::new(AtomicBool::new(false)),
            |thread| thread.stop.clone(),
        )
    })
}

/// Why `kill` did not stop a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillError {
    /// No thread has that id.
    NoSuchThread,
    /// A kernel thread: only `spin` threads are stopped from outside.
    NotKillable,
    /// It is the running thread (the caller), or it runs on another CPU
    /// and did not stop in time.
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
            KillError::Running => "it is running and did not stop",
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
    /// The CPU it runs on, or last ran or waited on.
    pub cpu: usize,
    /// CPU time, in timestamp cycles.
    pub cycles: u64,
    /// The deepest its stack has been used, in bytes (None: the boot
    /// stack).
    pub stack_used: Option<u64>,
}

/// Every thread, by id (the boot CPU's idle thread first).
pub fn threads() -> Vec<ThreadInfo> {
    with_sched(|sched| {
        let now = read_timestamp();
        // The CPU each thread is running on right now, if any.
        let running_on = |thread: &Thread| match thread.idle_of {
            Some(cpu) => sched.policy.current(cpu).is_none().then_some(cpu),
            None => match sched.policy.state(thread.id) {
                Some(State::Running) => sched.policy.cpu_of(thread.id),
                _ => None,
            },
        };
        let info = |thread: &Thread| {
            let on = running_on(thread);
            ThreadInfo {
                id: thread.id,
                name: thread.name.clone(),
                state: match (thread.idle_of, on) {
                    (Some(_), Some(_)) => "running",
                    (Some(_), None) => "runnable",
                    (None, _) => sched.policy.state(thread.id).map_or("exited", State::name),
                },
                cpu: thread
                    .idle_of
                    .or_else(|| sched.policy.cpu_of(thread.id))
                    .unwrap_or(0),
                cycles: thread.cycles
                    + on.map_or(0, |cpu| now.saturating_sub(sched.switched_in[cpu])),
                stack_used: thread.stack.as_ref().map(Stack::high_water),
            }
        };
        sched.threads.values().map(|thread| info(thread)).collect()
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
    match sched.threads.get(&id) {
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
    // An idle thread never blocks: it is what runs when nothing can.
    if percpu::current() == percpu::idle() {
        panic!("{what}: the idle thread (the boot code) cannot block");
    }
}

//! Threads: kernel threads with their own stacks, a preemptive round-robin
//! scheduler, and locks that sleep.
//!
//! - [`policy`] — which thread runs next, time slices, sleepers, wake-ups
//!   (pure, host-tested);
//! - `switch` — the context switch (callee-saved registers and the stack
//!   pointer);
//! - `stack` — kernel stacks in their own region, each with a guard page;
//! - `wait` — wait queues; `sync` — [`sync::Mutex`], [`sync::Semaphore`] and
//!   the bounded [`sync::Channel`], which block the thread instead of
//!   spinning.
//!
//! The boot code becomes the idle thread (id 0, `idle`): [`run_idle`]
//! sleeps in `hlt` while nothing is runnable. [`spawn`] starts a thread;
//! [`JoinHandle::join`] waits for its result. The timer's tick
//! ([`on_tick`], from `time`) wakes sleepers and ends time slices; a
//! preemption happens on the way out of the interrupt, after its EOI
//! (`arch::set_interrupt_exit_hook`), so no EOI is ever lost.
//!
//! **Locks.** [`SCHED`], the scheduler's own state, is a spin lock taken
//! with interrupts off, briefly; so are the wait queues'. The sleeping
//! locks of [`sync`] may be held across a block and must not be taken in
//! an interrupt handler (a debug check says so). Lock order, outermost
//! first: a `sync::Mutex` (held by a thread, any number, in the order its
//! users choose), then a wait queue's lock, then [`SCHED`], then the frame
//! allocator and the page tables (inside `spawn`'s stack set-up, never with
//! [`SCHED`] held).
//!
//! Every CPU runs threads: a run queue each, an idle thread each, and an
//! on-CPU hand-off in the switch (see `thread` and docs/smp.md); per-CPU
//! data (the current and idle threads, the switch a tick asked for, the
//! TSS's `rsp0`) is found through GS (`arch::percpu`).

#[cfg(all(target_os = "none", feature = "bench"))]
pub mod bench;
pub mod policy;
#[cfg(target_os = "none")]
mod stack;
#[cfg(target_os = "none")]
mod switch;
#[cfg(target_os = "none")]
pub mod sync;
#[cfg(target_os = "none")]
mod thread;
#[cfg(target_os = "none")]
mod wait;

#[cfg(target_os = "none")]
pub use self::stack::{Stack, StackError};
#[cfg(target_os = "none")]
pub use self::thread::*;
#[cfg(target_os = "none")]
pub use self::wait::WaitQueue;

/// In-kernel tests of threads and the sleeping locks.
#[cfg(target_os = "none")]
pub(crate) mod ktests;

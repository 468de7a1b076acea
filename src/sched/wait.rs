//! Wait queues: threads that block until another thread, or an interrupt
//! handler, wakes them.
//!
//! The queue's lock is a spin lock taken with interrupts off; a waiter
//! checks its condition and enqueues itself under it, then blocks, and a
//! wake-up that lands between the enqueue and the block is remembered by
//! the policy (the block then returns at once), so none is lost, on one
//! CPU or several. Waiters re-check their condition after waking.

use alloc::collections::VecDeque;

use spin::Mutex;

use super::policy::ThreadId;
use crate::arch::without_interrupts;

/// Threads waiting for something.
pub struct WaitQueue {
    /// The waiters, in the order they came.
    waiters: Mutex<VecDeque<ThreadId>>,
}

impl WaitQueue {
    /// Nobody waits.
    pub const fn new() -> Self {
        WaitQueue {
            waiters: Mutex::new(VecDeque::new()),
        }
    }

    /// Blocks the running thread until `ready()` holds, checking it before
    /// each block. `ready` runs with interrupts off and the queue's lock
    /// held, and must not block.
    ///
    /// The check and the enqueue happen under the queue's lock: a waker on
    /// another CPU that makes `ready` hold and then calls [`wake_one`]
    /// either comes before the check (which then sees it) or finds this
    /// thread queued (and wakes it; a wake before the block is remembered).
    ///
    /// [`wake_one`]: WaitQueue::wake_one
    pub fn wait_until(&self, mut ready: impl FnMut() -> bool) {
        super::assert_may_sleep("WaitQueue::wait_until");
        loop {
            let done = without_interrupts(|| {
                let mut waiters = self.waiters.lock();
                if ready() {
                    return true;
                }
                let me = super::current();
                if !waiters.contains(&me) {
                    waiters.push_back(me);
                }
                false
            });
            if done {
                return;
            }
            super::block();
        }
    }

    /// Wakes the longest waiter, if any. Callable from interrupt handlers.
    pub fn wake_one(&self) {
        if let Some(id) = without_interrupts(|| self.waiters.lock().pop_front()) {
            super::wake(id);
        }
    }

    /// Wakes every waiter. Callable from interrupt handlers.
    pub fn wake_all(&self) {
        while let Some(id) = without_interrupts(|| self.waiters.lock().pop_front()) {
            super::wake(id);
        }
    }
}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}

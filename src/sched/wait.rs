//! Wait queues: threads that block until another thread, or an interrupt
//! handler, wakes them.
//!
//! The queue's lock is a spin lock taken with interrupts off; a waiter
//! enqueues itself and blocks, and a wake-up that lands between the two is
//! remembered by the policy (the block then returns at once), so none is
//! lost. Waiters re-check their condition after waking.

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
    /// each block. `ready` runs with interrupts off and must not block.
    pub fn wait_until(&self, mut ready: impl FnMut() -> bool) {
        super::assert_may_sleep("WaitQueue::wait_until");
        loop {
            let done = without_interrupts(|| {
                if ready() {
                    return true;
                }
                let me = super::current();
                let mut waiters = self.waiters.lock();
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

//! Locks that sleep: a [`Mutex`] that blocks the thread instead of
//! spinning, a counting [`Semaphore`], and a bounded [`Channel`].
//!
//! They may be held across a block or a preemption, so they must not be
//! taken in an interrupt handler (a check panics). Spin locks remain for
//! short sections and for data interrupt handlers touch; those are taken
//! with interrupts off. Lock order: see the `sched` module.

use alloc::collections::VecDeque;
use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, Ordering};

use super::WaitQueue;
use crate::arch::without_interrupts;

/// Mutual exclusion that blocks the waiting thread.
pub struct Mutex<T> {
    /// Whether a thread holds it.
    locked: AtomicBool,
    /// Threads waiting for it.
    waiters: WaitQueue,
    /// The data.
    value: UnsafeCell<T>,
}

// SAFETY: the value is reached only through a guard, and one guard exists
// at a time (the `locked` flag), so sharing the mutex shares no `&mut T`.
unsafe impl<T: Send> Sync for Mutex<T> {}
// SAFETY: moving the mutex moves the value, which is Send.
unsafe impl<T: Send> Send for Mutex<T> {}

/// The held [`Mutex`]; dropping it unlocks.
pub struct MutexGuard<'a, T> {
    /// The mutex held.
    mutex: &'a Mutex<T>,
}

impl<T> Mutex<T> {
    /// An unlocked mutex around `value`.
    pub const fn new(value: T) -> Self {
        Mutex {
            locked: AtomicBool::new(false),
            waiters: WaitQueue::new(),
            value: UnsafeCell::new(value),
        }
    }

    /// Takes the mutex, blocking while another thread holds it (not in an
    /// interrupt handler: the wait queue checks).
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.waiters
            .wait_until(|| !self.locked.swap(true, Ordering::Acquire));
        MutexGuard { mutex: self }
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard is the only one (the locked flag), so no
        // `&mut T` exists meanwhile.
        unsafe { &*self.mutex.value.get() }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this the only use.
        unsafe { &mut *self.mutex.value.get() }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.locked.store(false, Ordering::Release);
        self.mutex.waiters.wake_one();
    }
}

/// A counting semaphore.
pub struct Semaphore {
    /// Permits available.
    count: spin::Mutex<usize>,
    /// Threads waiting for one.
    waiters: WaitQueue,
}

impl Semaphore {
    /// A semaphore with `count` permits.
    pub const fn new(count: usize) -> Self {
        Semaphore {
            count: spin::Mutex::new(count),
            waiters: WaitQueue::new(),
        }
    }

    /// Takes a permit, blocking until one is free.
    pub fn acquire(&self) {
        self.waiters.wait_until(|| {
            let mut count = self.count.lock();
            if *count > 0 {
                *count -= 1;
                true
            } else {
                false
            }
        });
    }

    /// Gives a permit back, waking a waiter. Callable from interrupt
    /// handlers.
    pub fn release(&self) {
        without_interrupts(|| *self.count.lock() += 1);
        self.waiters.wake_one();
    }
}

/// A bounded first-in, first-out channel between threads.
pub struct Channel<T> {
    /// The messages in flight.
    queue: spin::Mutex<VecDeque<T>>,
    /// How many it holds at most.
    capacity: usize,
    /// Senders waiting for room.
    senders: WaitQueue,
    /// Receivers waiting for a message.
    receivers: WaitQueue,
}

impl<T> Channel<T> {
    /// An empty channel for at most `capacity` messages (at least 1).
    pub fn new(capacity: usize) -> Self {
        Channel {
            queue: spin::Mutex::new(VecDeque::with_capacity(capacity.max(1))),
            capacity: capacity.max(1),
            senders: WaitQueue::new(),
            receivers: WaitQueue::new(),
        }
    }

    /// Sends `message`, blocking while the channel is full.
    pub fn send(&self, message: T) {
        let mut message = Some(message);
        self.senders.wait_until(|| {
            let mut queue = self.queue.lock();
            if queue.len() < self.capacity {
                queue.extend(message.take());
                true
            } else {
                false
            }
        });
        self.receivers.wake_one();
    }

    /// Receives the oldest message, blocking while there is none.
    pub fn receive(&self) -> T {
        let mut received = None;
        self.receivers.wait_until(|| {
            received = self.queue.lock().pop_front();
            received.is_some()
        });
        self.senders.wake_one();
        received.expect("wait_until returned with a message")
    }
}

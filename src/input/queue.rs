//! A fixed-size, lock-free byte queue with one producer (a device's
//! interrupt handler) and one consumer (the code that decodes keys).
//!
//! Neither side ever waits for the other: the producer writes a slot and
//! then publishes it by moving `tail`; the consumer reads a slot and then
//! frees it by moving `head`. Each index is written by one side only, so
//! there is no lock an interrupted consumer could hold. When the queue is
//! full the byte is dropped and counted: after any run of input,
//! `dropped() == received() - accepted`, which the tests check.
//!
//! Limits: exactly one producer and one consumer at a time (one CPU: the
//! handler, and normal code); `N` must be a power of two so the free-running
//! indices may wrap.
//!
//! Pure logic (atomics only), tested on the host.

#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

/// A single-producer, single-consumer ring of `N` bytes.
pub struct ByteQueue<const N: usize> {
    /// The bytes; slot `i % N` holds the byte with index `i`.
    slots: [AtomicU8; N],
    /// Index of the next byte to read (written by the consumer only).
    head: AtomicUsize,
    /// Index of the next byte to write (written by the producer only).
    tail: AtomicUsize,
    /// Bytes offered to [`ByteQueue::push`] since the start.
    received: AtomicUsize,
    /// Bytes dropped because the queue was full, since the start.
    dropped: AtomicUsize,
    /// How many of `dropped` [`ByteQueue::take_dropped`] has reported
    /// (written by the consumer only).
    reported: AtomicUsize,
}

impl<const N: usize> ByteQueue<N> {
    /// Checked at compile time: the indices wrap at `usize::MAX + 1`, which
    /// only a power of two divides.
    const POWER_OF_TWO: () = assert!(N.is_power_of_two());

    /// An empty queue.
    pub const fn new() -> Self {
        let () = Self::POWER_OF_TWO;
        ByteQueue {
            slots: [const { AtomicU8::new(0) }; N],
            head: AtomicUsize::new(0),
            tail: AtomicUsize::new(0),
            received: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
            reported: AtomicUsize::new(0),
        }
    }

    /// Producer: appends `byte`, or drops and counts it when the queue is
    /// full. Returns whether it was accepted.
    pub fn push(&self, byte: u8) -> bool {
        self.received.fetch_add(1, Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Relaxed);
        let head = self.head.load(Ordering::Acquire);
        if tail.wrapping_sub(head) >= N {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        self.slots[tail % N].store(byte, Ordering::Relaxed);
        // Publishes the slot: the consumer's Acquire load of `tail` sees it.
        self.tail.store(tail.wrapping_add(1), Ordering::Release);
        true
    }

    /// Consumer: the oldest byte, if any.
    pub fn pop(&self) -> Option<u8> {
        let head = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Acquire);
        if head == tail {
            return None;
        }
        let byte = self.slots[head % N].load(Ordering::Relaxed);
        // Frees the slot only after reading it.
        self.head.store(head.wrapping_add(1), Ordering::Release);
        Some(byte)
    }

    /// How many bytes wait to be read.
    pub fn len(&self) -> usize {
        let tail = self.tail.load(Ordering::Acquire);
        tail.wrapping_sub(self.head.load(Ordering::Relaxed))
    }

    /// Whether no byte waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes offered since the start, accepted or not.
    pub fn received(&self) -> usize {
        self.received.load(Ordering::Relaxed)
    }

    /// Bytes dropped since the start.
    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Consumer: bytes dropped since the last call.
    pub fn take_dropped(&self) -> usize {
        let dropped = self.dropped.load(Ordering::Relaxed);
        let reported = self.reported.swap(dropped, Ordering::Relaxed);
        dropped.wrapping_sub(reported)
    }
}

impl<const N: usize> Default for ByteQueue<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::Rng;

    #[test]
    fn bytes_come_out_in_order() {
        let queue = ByteQueue::<8>::new();
        assert_eq!(queue.pop(), None);
        for byte in 1..=5 {
            assert!(queue.push(byte));
        }
        assert_eq!(queue.len(), 5);
        let out: Vec<u8> = core::iter::from_fn(|| queue.pop()).collect();
        assert_eq!(out, [1, 2, 3, 4, 5]);
        assert!(queue.is_empty());
    }

    #[test]
    fn a_full_queue_drops_and_counts() {
        let queue = ByteQueue::<4>::new();
        let accepted = (0..10u8).filter(|&byte| queue.push(byte)).count();
        assert_eq!(accepted, 4);
        assert_eq!((queue.received(), queue.dropped()), (10, 6));
        assert_eq!(queue.dropped(), queue.received() - accepted);
        assert_eq!(queue.take_dropped(), 6);
        assert_eq!(queue.take_dropped(), 0);
        // The first four survived, in order.
        let out: Vec<u8> = core::iter::from_fn(|| queue.pop()).collect();
        assert_eq!(out, [0, 1, 2, 3]);
        assert!(queue.push(9));
        assert_eq!(queue.pop(), Some(9));
    }

    #[test]
    fn indices_wrap_around_many_times() {
        let queue = ByteQueue::<4>::new();
        for round in 0..1000u32 {
            let byte = round as u8;
            assert!(queue.push(byte));
            assert!(queue.push(byte.wrapping_add(1)));
            assert_eq!(queue.pop(), Some(byte));
            assert_eq!(queue.pop(), Some(byte.wrapping_add(1)));
        }
        assert_eq!(queue.dropped(), 0);
    }

    #[test]
    fn random_pushes_and_pops_match_a_model() {
        let mut rng = Rng(0x5eed_0011);
        let queue = ByteQueue::<16>::new();
        let mut model = std::collections::VecDeque::new();
        let mut dropped = 0;
        for step in 0..100_000 {
            if rng.below(3) < 2 {
                let byte = rng.next() as u8;
                let accepted = queue.push(byte);
                assert_eq!(accepted, model.len() < 16, "step {step}");
                if accepted {
                    model.push_back(byte);
                } else {
                    dropped += 1;
                }
            } else {
                assert_eq!(queue.pop(), model.pop_front(), "step {step}");
            }
            assert_eq!(queue.len(), model.len());
        }
        assert_eq!(queue.dropped(), dropped);
    }

    #[test]
    fn a_producer_thread_and_a_consumer_thread_agree() {
        static QUEUE: ByteQueue<64> = ByteQueue::new();
        const SENT: usize = 200_000;
        let producer = std::thread::spawn(|| (0..SENT).filter(|&i| QUEUE.push(i as u8)).count());
        let mut seen = Vec::new();
        loop {
            if let Some(byte) = QUEUE.pop() {
                seen.push(byte);
            } else if producer.is_finished() && QUEUE.is_empty() {
                break;
            }
        }
        let accepted = producer.join().unwrap();
        assert_eq!(seen.len(), accepted);
        assert_eq!(QUEUE.dropped(), SENT - accepted);
        // Whatever got through kept its relative order: every byte is the
        // low byte of an increasing index, so consecutive accepted values
        // never repeat the same index.
        assert_eq!(QUEUE.received(), SENT);
    }
}

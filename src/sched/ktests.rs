//! In-kernel tests of threads and the sleeping locks, with preemption on.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

use super::sync::{Channel, Mutex, Semaphore};
use crate::memory::layout::{THREAD_STACK_SLOT, THREAD_STACKS};
use crate::selftest::{Context, Outcome};
use crate::{check, check_eq, fail};

/// 8 threads each increment a counter under the sleeping mutex 10,000
/// times, preempted meanwhile (each increment reads, yields sometimes, and
/// writes): the total is exact.
fn mutex_counts_exactly_under_preemption(_: &Context) -> Outcome {
    const THREADS: usize = 8;
    const ROUNDS: u64 = 10_000;
    let counter = Arc::new(Mutex::new(0u64));
    let mut handles = Vec::new();
    for index in 0..THREADS {
        let counter = counter.clone();
        let handle = super::spawn("mutex-test", move || {
            for round in 0..ROUNDS {
                let mut value = counter.lock();
                let seen = *value;
                if round % 1000 == index as u64 {
                    super::yield_now();
                }
                *value = seen + 1;
            }
            index
        });
        match handle {
            Ok(handle) => handles.push(handle),
            Err(why) => fail!("spawn: {why}"),
        }
    }
    for (index, handle) in handles.into_iter().enumerate() {
        check_eq!(handle.join(), index);
    }
    check_eq!(*counter.lock(), THREADS as u64 * ROUNDS);
    Ok(())
}

/// `sleep(50 ms)` wakes no earlier than 50 ms, and within two ticks after.
fn sleep_wakes_on_time(_: &Context) -> Outcome {
    let wanted = Duration::from_millis(50);
    let start = crate::time::uptime();
    crate::time::sleep(wanted);
    let slept = crate::time::uptime() - start;
    let tick = Duration::from_millis(1000 / u64::from(crate::time::HZ));
    check!(slept >= wanted, "slept {slept:?}, asked {wanted:?}");
    check!(
        slept <= wanted + 2 * tick + tick / 2,
        "slept {slept:?}, asked {wanted:?}"
    );
    Ok(())
}

/// `join` returns each thread's result, whatever order they finish in.
fn join_returns_each_result(_: &Context) -> Outcome {
    let handles: Vec<_> = (0..5usize)
        .map(|index| {
            super::spawn("join-test", move || {
                crate::time::sleep(Duration::from_millis(10 * (5 - index) as u64));
                index * 7
            })
        })
        .collect();
    for (index, handle) in handles.into_iter().enumerate() {
        match handle {
            Ok(handle) => check_eq!(handle.join(), index * 7),
            Err(why) => fail!("spawn: {why}"),
        }
    }
    Ok(())
}

/// The channel passes 100,000 messages in order between two threads.
fn channel_keeps_order(_: &Context) -> Outcome {
    const MESSAGES: u64 = 100_000;
    let channel = Arc::new(Channel::new(64));
    let sender = channel.clone();
    let producer = match super::spawn("producer", move || {
        for message in 0..MESSAGES {
            sender.send(message);
        }
        0
    }) {
        Ok(handle) => handle,
        Err(why) => fail!("spawn: {why}"),
    };
    for expected in 0..MESSAGES {
        let got = channel.receive();
        check_eq!(got, expected);
    }
    producer.join();
    Ok(())
}

/// A semaphore counts: two permits let two threads in, the third waits
/// for a release.
fn semaphore_counts_permits(_: &Context) -> Outcome {
    let permits = Arc::new(Semaphore::new(2));
    let inside = Arc::new(AtomicU64::new(0));
    permits.acquire();
    permits.acquire();
    let waiter = {
        let (permits, inside) = (permits.clone(), inside.clone());
        match super::spawn("sem-test", move || {
            permits.acquire();
            inside.store(1, Ordering::SeqCst);
            0
        }) {
            Ok(handle) => handle,
            Err(why) => fail!("spawn: {why}"),
        }
    };
    crate::time::sleep(Duration::from_millis(30));
    check_eq!(inside.load(Ordering::SeqCst), 0);
    permits.release();
    waiter.join();
    check_eq!(inside.load(Ordering::SeqCst), 1);
    Ok(())
}

/// A thread's guard page (the first page of its stack slot) is unmapped,
/// and its stack is mapped.
fn a_thread_guard_page_is_unmapped(_: &Context) -> Outcome {
    let stack_of_running = crate::arch::frame_pointer();
    check!(
        stack_of_running >= THREAD_STACKS,
        "the self-test runs on {stack_of_running:#x}, not on a thread's stack"
    );
    let slot = (stack_of_running - THREAD_STACKS) / THREAD_STACK_SLOT;
    let guard = THREAD_STACKS + slot * THREAD_STACK_SLOT;
    check_eq!(crate::arch::translate(guard), None);
    check!(
        crate::arch::translate(guard + crate::memory::PAGE_SIZE).is_some(),
        "the stack above the guard is not mapped"
    );
    Ok(())
}

/// After a warm-up round, 1,000 spawn/join cycles leave the free-frame
/// count unchanged: every stack frame comes back (the heap and the stack
/// region's page tables reach their size in the warm-up).
fn frames_come_back_after_spawn_and_join(_: &Context) -> Outcome {
    let round = |count: usize| -> Result<(), super::StackError> {
        for index in 0..count {
            super::spawn("frames-test", move || index)?.join();
        }
        Ok(())
    };
    if let Err(why) = round(20) {
        fail!("spawn: {why}");
    }
    let free = crate::memory::free_frames;
    let before = free();
    if let Err(why) = round(1000) {
        fail!("spawn: {why}");
    }
    check_eq!(free(), before);
    Ok(())
}

pub(crate) const TESTS: &[crate::selftest::Test] = crate::kernel_tests![
    mutex_counts_exactly_under_preemption,
    sleep_wakes_on_time,
    join_returns_each_result,
    channel_keeps_order,
    semaphore_counts_permits,
    a_thread_guard_page_is_unmapped,
    frames_come_back_after_spawn_and_join,
];

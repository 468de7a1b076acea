//! In-kernel tests of the kernel on every CPU: the CPUs are online with an
//! idle thread each; locks, the heap and the frame allocator hold under
//! threads on all of them; a remapped page is never read through the old
//! frame once the remap has returned (the TLB shootdown); a wake-up sent
//! from another CPU is never lost.
//!
//! With one CPU they still run, on it alone: the threads that would be on
//! other CPUs share the boot CPU, preempted.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::{CpuState, cpus};
use crate::arch::{self, without_interrupts};
use crate::memory::{PAGE_SIZE, frame_cache, paging, with_frames};
use crate::sched::{self, Stack, sync};
use crate::selftest::{Context, Outcome};
use crate::test_rng::Rng;
use crate::{check, check_eq, fail};

/// How many CPUs run the kernel.
fn online() -> usize {
    arch::smp::online_count()
}

/// Starts `entry(cpu, index)` in `per_cpu` threads pinned to each CPU;
/// returns their results, in start order.
fn on_every_cpu(
    per_cpu: usize,
    entry: impl Fn(usize, usize) -> usize + Send + Sync + 'static,
) -> Result<Vec<usize>, ()> {
    let entry = Arc::new(entry);
    let mut handles = Vec::new();
    for cpu in 0..online() {
        for index in 0..per_cpu {
            let entry = entry.clone();
            match sched::spawn_on(cpu, "smp-test", move || entry(cpu, index)) {
                Ok(handle) => handles.push(handle),
                Err(_) => return Err(()),
            }
        }
    }
    Ok(handles.into_iter().map(sched::JoinHandle::join).collect())
}

/// Every CPU `cpus` lists as online is online for the interrupt layer too,
/// and `ps`'s list has one idle thread per CPU, each on its own.
fn every_cpu_online_has_its_idle_thread(_: &Context) -> Outcome {
    let listed: Vec<usize> = cpus()
        .iter()
        .filter_map(|cpu| match cpu.state {
            CpuState::Online { number } => Some(number),
            _ => None,
        })
        .collect();
    check_eq!(listed.len(), online());
    check_eq!(listed, (0..online()).collect::<Vec<_>>());
    let mut idle: Vec<usize> = sched::threads()
        .iter()
        .filter(|thread| thread.name == "idle")
        .map(|thread| thread.cpu)
        .collect();
    idle.sort_unstable();
    check_eq!(idle, listed);
    Ok(())
}

/// 4 threads per CPU each take the sleeping `Mutex`, then a spin lock,
/// 100,000 times, incrementing a counter under each: both totals are exact.
fn locks_count_exactly_on_every_cpu(_: &Context) -> Outcome {
    const PER_CPU: usize = 4;
    const ROUNDS: u64 = 100_000;
    let sleeping = Arc::new(sync::Mutex::new(0u64));
    let spinning = Arc::new(spin::Mutex::new(0u64));
    let (a, b) = (sleeping.clone(), spinning.clone());
    let ran_on = on_every_cpu(PER_CPU, move |_, _| {
        for _ in 0..ROUNDS {
            *a.lock() += 1;
            without_interrupts(|| *b.lock() += 1);
        }
        arch::percpu::cpu()
    });
    let Ok(ran_on) = ran_on else {
        fail!("cannot spawn the test threads");
    };
    let threads = (PER_CPU * online()) as u64;
    check_eq!(*sleeping.lock(), threads * ROUNDS);
    check_eq!(without_interrupts(|| *spinning.lock()), threads * ROUNDS);
    // Pinned: each ended where it was put.
    let expected: Vec<usize> = (0..online()).flat_map(|cpu| [cpu; PER_CPU]).collect();
    check_eq!(ran_on, expected);
    Ok(())
}

/// 2 threads per CPU allocate and free at random, from the heap (boxes of
/// 8 to 4,096 bytes) and frames (one thread of each pair through its CPU's
/// frame cache, the other from the allocator itself), each filling what it got
/// with its own pattern and checking it before the free: no block or frame
/// is handed out twice (a frame freed twice is an error too).
fn heap_and_frames_hold_under_every_cpu(_: &Context) -> Outcome {
    const PER_CPU: usize = 2;
    const STEPS: usize = 3_000;
    const KEEP: usize = 24;
    let failed = Arc::new(AtomicBool::new(false));
    let flag = failed.clone();
    let result = on_every_cpu(PER_CPU, move |cpu, index| {
        let mut rng = Rng(0x5a17_0000 + (cpu * 16 + index) as u64);
        let mark = (cpu * 16 + index + 1) as u64;
        let mut blocks: Vec<Vec<u64>> = Vec::new();
        let mut frames: Vec<u64> = Vec::new();
        let pattern = |word: usize| mark << 32 | word as u64;
        let cached = index % 2 == 0;
        let allocate = || match cached {
            true => frame_cache::allocate(),
            false => with_frames(|all| all.allocate()),
        };
        let free = |frame: u64, flag: &AtomicBool| match cached {
            true => frame_cache::free(frame),
            false => {
                if with_frames(|all| all.free(frame)).is_err() {
                    flag.store(true, Ordering::Relaxed);
                }
            }
        };
        for _ in 0..STEPS {
            if rng.below(2) == 0 {
                if blocks.len() == KEEP || (!blocks.is_empty() && rng.below(2) == 0) {
                    let block = blocks.swap_remove(rng.below(blocks.len()));
                    if block
                        .iter()
                        .enumerate()
                        .any(|(i, &word)| word != pattern(i))
                    {
                        flag.store(true, Ordering::Relaxed);
                    }
                } else {
                    let words = 1 + rng.below(512);
                    blocks.push((0..words).map(pattern).collect());
                }
            } else if frames.len() == KEEP || (!frames.is_empty() && rng.below(2) == 0) {
                let frame = frames.swap_remove(rng.below(frames.len()));
                let page = paging::phys_to_virt(frame) as *const u64;
                // SAFETY: the frame is this thread's (allocated below, not
                // freed yet), reached through the direct map.
                let intact = (0..(PAGE_SIZE / 8) as usize)
                    .all(|i| unsafe { page.add(i).read_volatile() } == pattern(i));
                if !intact {
                    flag.store(true, Ordering::Relaxed);
                }
                free(frame, &flag);
            } else if let Some(frame) = allocate() {
                let page = paging::phys_to_virt(frame) as *mut u64;
                for i in 0..(PAGE_SIZE / 8) as usize {
                    // SAFETY: as above: a fresh frame, this thread's alone.
                    unsafe { page.add(i).write_volatile(pattern(i)) };
                }
                frames.push(frame);
            }
        }
        for frame in frames {
            free(frame, &flag);
        }
        0
    });
    check!(result.is_ok(), "cannot spawn the test threads");
    check!(
        !failed.load(Ordering::Relaxed),
        "a block or frame was corrupted or freed twice"
    );
    Ok(())
}

/// A page that threads on the other CPUs read in a loop is pointed at a
/// new frame 300 times, each holding the round's number; after each remap
/// returns, the round number is published. A reader that saw round `n`
/// published and then read a smaller number read through a stale TLB
/// entry: there must be none, and the readers must have read throughout.
/// (With one CPU, one reader shares it with the remapping thread.)
fn no_read_sees_a_page_after_its_remap(_: &Context) -> Outcome {
    const ROUNDS: u64 = 300;
    // A mapped page of our own: the first of a fresh stack's.
    let Ok(stack) = Stack::new() else {
        fail!("no stack for the test page");
    };
    let page = stack.bottom();
    let round = Arc::new(AtomicU64::new(0));
    let stale = Arc::new(AtomicU64::new(0));
    let reads = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    // SAFETY: the page is mapped, writable, and ours.
    unsafe { (page as *mut u64).write_volatile(0) };
    let mut readers = Vec::new();
    for cpu in (1..online().max(2)).map(|cpu| cpu % online()) {
        let (round, stale, reads, done) =
            (round.clone(), stale.clone(), reads.clone(), done.clone());
        let reader = sched::spawn_on(cpu, "tlb-reader", move || {
            while !done.load(Ordering::Acquire) {
                let published = round.load(Ordering::Acquire);
                // SAFETY: the page stays mapped (remapped, never unmapped)
                // until every reader has been joined.
                let seen = unsafe { (page as *const u64).read_volatile() };
                if seen < published {
                    stale.fetch_add(1, Ordering::Relaxed);
                }
                reads.fetch_add(1, Ordering::Relaxed);
            }
            0
        });
        match reader {
            Ok(handle) => readers.push(handle),
            Err(why) => fail!("spawn: {why}"),
        }
    }
    // The remapping thread runs on CPU 0, the readers on the others.
    let (mapper_round, mapper_reads) = (round.clone(), reads.clone());
    let mapper = sched::spawn_on(0, "tlb-mapper", move || {
        for number in 1..=ROUNDS {
            let Some(frame) = with_frames(|frames| frames.allocate()) else {
                return 0;
            };
            // SAFETY: a fresh frame, reached through the direct map.
            unsafe { (paging::phys_to_virt(frame) as *mut u64).write_volatile(number) };
            match paging::remap(page, frame) {
                Ok(old) => {
                    let _ = with_frames(|frames| frames.free(old));
                }
                Err(_) => return 0,
            }
            mapper_round.store(number, Ordering::Release);
            // Let the readers read this round a while.
            let until = mapper_reads.load(Ordering::Relaxed) + 50;
            while mapper_reads.load(Ordering::Relaxed) < until {
                if online() == 1 {
                    sched::yield_now();
                }
                core::hint::spin_loop();
            }
        }
        1
    });
    let remapped = match mapper {
        Ok(mapper) => mapper.join() == 1,
        Err(_) => false,
    };
    done.store(true, Ordering::Release);
    for reader in readers {
        reader.join();
    }
    stack.free();
    check!(remapped, "a remap failed");
    check_eq!(stale.load(Ordering::Relaxed), 0);
    check!(
        reads.load(Ordering::Relaxed) >= ROUNDS * 50,
        "the readers barely read"
    );
    Ok(())
}

/// Two threads on different CPUs hand a token back and forth 5,000 times
/// through two semaphores, each blocking until the other wakes it: every
/// wake-up crosses CPUs, and none is lost (the test would hang). (With one
/// CPU, both run on it.)
fn wake_ups_across_cpus_are_never_lost(_: &Context) -> Outcome {
    const TRIPS: usize = 5_000;
    let other_cpu = 1 % online();
    let ping = Arc::new(sync::Semaphore::new(0));
    let pong = Arc::new(sync::Semaphore::new(0));
    let (ping2, pong2) = (ping.clone(), pong.clone());
    let other = sched::spawn_on(other_cpu, "pong", move || {
        for _ in 0..TRIPS {
            ping2.acquire();
            pong2.release();
        }
        arch::percpu::cpu()
    });
    let Ok(other) = other else {
        fail!("cannot spawn the other thread");
    };
    let mine = sched::spawn_on(0, "ping", move || {
        for _ in 0..TRIPS {
            ping.release();
            pong.acquire();
        }
        arch::percpu::cpu()
    });
    let Ok(mine) = mine else {
        fail!("cannot spawn the thread");
    };
    check_eq!((mine.join(), other.join()), (0, other_cpu));
    Ok(())
}

pub(crate) const TESTS: &[crate::selftest::Test] = crate::kernel_tests![
    every_cpu_online_has_its_idle_thread,
    locks_count_exactly_on_every_cpu,
    heap_and_frames_hold_under_every_cpu,
    no_read_sees_a_page_after_its_remap,
    wake_ups_across_cpus_are_never_lost,
];

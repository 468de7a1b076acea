//! The multi-CPU benchmarks `make bench` boots (cargo feature `bench`),
//! each printing `bench: smp: <what>: <N> cycles`, the median over its
//! rounds, two things measured in the same run side by side:
//!
//! - `cpu-bound on N CPUs`: one thread pinned to each CPU runs the same
//!   fixed loop; cycles from the first start to the last join (tests/bench.py
//!   boots -smp 1 and -smp 2 and turns two of these into a speed-up);
//! - `tlb shootdown to N CPUs` against `tlb flush, this CPU only`: an
//!   unmap's flush with and without the other CPUs' acknowledgements;
//! - `wake-up across CPUs` against `wake-up on one CPU`: half a round trip
//!   of two threads handing a token through semaphores;
//! - `frame allocate + free, one thread` against `..., a thread per CPU at
//!   once`: the frame allocator's lock under contention; and the same
//!   through the per-CPU frame caches (`memory::frame_cache`).

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::arch::{self, read_timestamp};
use crate::memory::{frame_cache, with_frames};
use crate::sched::bench::median;
use crate::sched::{self, sync::Semaphore};

/// Rounds of each benchmark (the median is printed).
const ROUNDS: usize = 5;
/// Iterations of the CPU-bound loop per thread.
const WORK: u64 = 20_000_000;
/// Shootdowns per round.
const SHOOTDOWNS: u64 = 500;
/// Round trips per wake-up round.
const TRIPS: u64 = 2_000;
/// Frame allocate + free pairs per thread per round.
const PAIRS: u64 = 20_000;

/// How many CPUs run the kernel.
fn cpus() -> usize {
    arch::smp::online_count()
}

/// Runs `entry` in one thread pinned to each of the first `count` CPUs;
/// cycles from before the first start to after the last join.
fn on_cpus(count: usize, entry: impl Fn() + Send + Sync + 'static) -> u64 {
    let entry = Arc::new(entry);
    let start = read_timestamp();
    let handles: Vec<_> = (0..count)
        .filter_map(|cpu| {
            let entry = entry.clone();
            sched::spawn_on(cpu, "bench", move || {
                entry();
                0
            })
            .ok()
        })
        .collect();
    for handle in handles {
        handle.join();
    }
    read_timestamp() - start
}

/// The CPU-bound loop: work the compiler cannot skip.
fn cpu_bound() {
    let mut value = 1u64;
    for round in 0..WORK {
        value = core::hint::black_box(value.wrapping_mul(6364136223846793005).wrapping_add(round));
    }
    core::hint::black_box(value);
}

/// Cycles per flush of one page: to the other CPUs (`others`) or this one
/// only.
fn flush(others: bool) -> u64 {
    // An address nothing maps: flushing it changes nothing but the cost.
    let page = crate::memory::layout::THREAD_STACKS - arch::PAGE_SIZE;
    let targets = if others { arch::smp::other_cpus() } else { 0 };
    let start = read_timestamp();
    for _ in 0..SHOOTDOWNS {
        arch::tlb::shootdown(targets, page, 1);
    }
    (read_timestamp() - start) / SHOOTDOWNS
}

/// Cycles per wake-up: two threads, on `first` and `second`, hand a token
/// back and forth through two semaphores (two wake-ups per round trip).
fn wake_up(first: usize, second: usize) -> u64 {
    let ping = Arc::new(Semaphore::new(0));
    let pong = Arc::new(Semaphore::new(0));
    let (ping2, pong2) = (ping.clone(), pong.clone());
    let start = read_timestamp();
    let (Ok(a), Ok(b)) = (
        sched::spawn_on(second, "pong", move || {
            for _ in 0..TRIPS {
                ping2.acquire();
                pong2.release();
            }
            0
        }),
        sched::spawn_on(first, "ping", move || {
            for _ in 0..TRIPS {
                ping.release();
                pong.acquire();
            }
            0
        }),
    ) else {
        return 0;
    };
    a.join();
    b.join();
    (read_timestamp() - start) / (2 * TRIPS)
}

/// Cycles per frame allocate + free pair, with `threads` threads (one per
/// CPU) doing it at once: from the allocator itself, or through each CPU's
/// frame cache (`cached`).
fn frames(threads: usize, cached: bool) -> u64 {
    let elapsed = on_cpus(threads, move || {
        for _ in 0..PAIRS {
            if cached {
                if let Some(frame) = frame_cache::allocate() {
                    frame_cache::free(frame);
                }
            } else if let Some(frame) = with_frames(|frames| frames.allocate()) {
                let _ = with_frames(|frames| frames.free(frame));
            }
        }
    });
    elapsed / PAIRS
}

/// Runs every benchmark (a warm-up round first) and prints the medians.
/// Runs in a thread: it blocks.
pub fn run() {
    let n = cpus();
    let figure = |what: &str, measure: &dyn Fn() -> u64| {
        measure();
        let value = median((0..ROUNDS).map(|_| measure()).collect());
        println!("bench: smp: {what}: {value} cycles");
    };
    figure(&alloc::format!("cpu-bound on {n} CPUs"), &|| {
        on_cpus(n, cpu_bound)
    });
    figure("tlb flush, this CPU only", &|| flush(false));
    figure("frame allocate + free, one thread", &|| frames(1, false));
    figure("frame allocate + free, one thread, per-CPU cache", &|| {
        frames(1, true)
    });
    figure("wake-up on one CPU", &|| wake_up(0, 0));
    if n > 1 {
        figure(&alloc::format!("tlb shootdown to {} CPUs", n - 1), &|| {
            flush(true)
        });
        figure(
            &alloc::format!("frame allocate + free, {n} threads at once"),
            &|| frames(n, false),
        );
        figure(
            &alloc::format!("frame allocate + free, {n} threads at once, per-CPU cache"),
            &|| frames(n, true),
        );
        figure("wake-up across CPUs", &|| wake_up(0, 1));
    }
}

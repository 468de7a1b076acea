//! The thread benchmarks `make bench` boots (cargo feature `bench`): the
//! cost of a switch, with two threads yielding to each other, and of a
//! spawn plus join. Each prints `bench: threads: <what>: <N> cycles`, the
//! median over its rounds.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::read_timestamp;

/// Rounds of each benchmark (the median is printed).
const ROUNDS: usize = 7;
/// Hand-overs per ping-pong round (each thread takes half).
const SWITCHES: u64 = 10_000;
/// Spawn + join pairs per round.
const PAIRS: u64 = 100;

/// The median of `values` (the smp benchmarks' too).
pub fn median(mut values: Vec<u64>) -> u64 {
    values.sort_unstable();
    values[values.len() / 2]
}

/// One ping-pong round: two threads pass a turn back and forth with
/// `yield_now`; cycles per hand-over.
fn ping_pong() -> u64 {
    let turn = Arc::new(AtomicU64::new(0));
    let player = |me: u64| {
        let turn = turn.clone();
        move || {
            for _ in 0..SWITCHES / 2 {
                while turn.load(Ordering::Acquire) != me {
                    super::yield_now();
                }
                turn.store(1 - me, Ordering::Release);
                super::yield_now();
            }
            0
        }
    };
    let start = read_timestamp();
    let (Ok(first), Ok(second)) = (
        super::spawn("ping", player(0)),
        super::spawn("pong", player(1)),
    ) else {
        return 0;
    };
    first.join();
    second.join();
    (read_timestamp() - start) / SWITCHES
}

/// One round of spawning a thread that returns at once and joining it;
/// cycles per pair.
fn spawn_join() -> u64 {
    let start = read_timestamp();
    for index in 0..PAIRS {
        match super::spawn("bench", move || index as usize) {
            Ok(handle) => {
                handle.join();
            }
            Err(_) => return 0,
        }
    }
    (read_timestamp() - start) / PAIRS
}

/// Runs both benchmarks (a warm-up round first) and prints their medians.
/// Runs in a thread: it blocks.
pub fn run() {
    ping_pong();
    spawn_join();
    let switch = median((0..ROUNDS).map(|_| ping_pong()).collect());
    println!("bench: threads: yield-switch: {switch} cycles");
    let pair = median((0..ROUNDS).map(|_| spawn_join()).collect());
    println!("bench: threads: spawn-join: {pair} cycles");
}

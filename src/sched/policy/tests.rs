//! Host tests of the scheduler's policy.

use std::collections::BTreeSet;

use super::*;
use crate::test_rng::Rng;

/// A policy with threads 1..=count added, none running yet.
fn with_threads(count: u64) -> Policy {
    let mut policy = Policy::new();
    for id in 1..=count {
        policy.add(id);
    }
    policy
}

#[test]
fn round_robin_gives_each_runnable_thread_a_turn_in_order() {
    let mut policy = with_threads(3);
    assert_eq!(policy.pick_for_idle(), Next::Switch(Some(1)));
    let mut order = vec![1];
    for tick in 1..=8 {
        if let Next::Switch(Some(id)) = policy.tick(tick) {
            order.push(id);
        }
    }
    assert_eq!(order, [1, 2, 3, 1, 2, 3, 1, 2, 3]);
    assert_eq!(policy.state(3), Some(State::Running));
    assert_eq!(policy.state(1), Some(State::Runnable));
}

#[test]
fn a_lone_thread_keeps_the_cpu_and_yield_returns_to_it() {
    let mut policy = with_threads(1);
    assert_eq!(policy.pick_for_idle(), Next::Switch(Some(1)));
    assert_eq!(policy.tick(1), Next::Stay);
    assert_eq!(policy.yield_current(), Next::Stay);
    assert_eq!(policy.current(), Some(1));
}

#[test]
fn yield_hands_over_to_the_next_in_line() {
    let mut policy = with_threads(2);
    policy.pick_for_idle();
    assert_eq!(policy.yield_current(), Next::Switch(Some(2)));
    assert_eq!(policy.yield_current(), Next::Switch(Some(1)));
}

#[test]
fn sleepers_wake_in_order_of_their_tick_not_of_their_sleep() {
    let mut policy = with_threads(3);
    policy.pick_for_idle();
    assert_eq!(policy.sleep_current(50, 0), Next::Switch(Some(2)));
    assert_eq!(policy.sleep_current(20, 0), Next::Switch(Some(3)));
    assert_eq!(policy.sleep_current(30, 0), Next::Switch(None));
    assert_eq!(policy.next_wakeup(), Some(20));
    assert_eq!(policy.tick(19), Next::Stay);
    assert_eq!(policy.tick(20), Next::Switch(Some(2)));
    assert_eq!(policy.state(3), Some(State::Sleeping { until: 30 }));
    assert_eq!(policy.wake_due(49), 1);
    assert_eq!(policy.state(1), Some(State::Sleeping { until: 50 }));
    assert_eq!(policy.wake_due(50), 1);
}

#[test]
fn a_sleep_into_the_past_returns_at_once() {
    let mut policy = with_threads(2);
    policy.pick_for_idle();
    assert_eq!(policy.sleep_current(10, 10), Next::Stay);
    assert_eq!(policy.current(), Some(1));
}

#[test]
fn a_blocked_thread_runs_again_only_after_a_wake() {
    let mut policy = with_threads(2);
    policy.pick_for_idle();
    assert_eq!(policy.block_current(), Next::Switch(Some(2)));
    for tick in 1..5 {
        assert_eq!(policy.tick(tick), Next::Stay, "2 is alone in the queue");
    }
    assert!(policy.wake(1));
    assert!(!policy.wake(1), "runnable already");
    assert_eq!(policy.tick(5), Next::Switch(Some(1)));
}

#[test]
fn a_wake_before_the_block_is_not_lost() {
    let mut policy = with_threads(2);
    policy.pick_for_idle();
    assert!(!policy.wake(1), "1 runs: the wake is remembered");
    assert_eq!(policy.block_current(), Next::Stay);
    assert_eq!(
        policy.block_current(),
        Next::Switch(Some(2)),
        "remembered once"
    );
}

#[test]
fn a_wake_ends_a_sleep_early() {
    let mut policy = with_threads(1);
    policy.pick_for_idle();
    assert_eq!(policy.sleep_current(1000, 0), Next::Switch(None));
    assert!(policy.wake(1));
    assert_eq!(policy.next_wakeup(), None);
    assert_eq!(policy.pick_for_idle(), Next::Switch(Some(1)));
}

#[test]
fn exited_threads_never_run_and_can_be_removed() {
    let mut policy = with_threads(2);
    policy.pick_for_idle();
    assert_eq!(policy.exit_current(), Next::Switch(Some(2)));
    assert_eq!(policy.state(1), Some(State::Exited));
    assert!(!policy.wake(1));
    assert_eq!(policy.yield_current(), Next::Stay);
    policy.remove(1);
    assert_eq!(policy.state(1), None);
    assert_eq!(policy.exit_current(), Next::Switch(None));
}

#[test]
fn another_thread_can_be_made_to_exit_wherever_it_waits() {
    let mut policy = with_threads(4);
    policy.pick_for_idle();
    assert_eq!(policy.sleep_current(100, 0), Next::Switch(Some(2)));
    assert_eq!(policy.block_current(), Next::Switch(Some(3)));
    assert!(!policy.exit_other(3), "not the running thread");
    assert!(!policy.exit_other(2), "not a blocked thread");
    assert_eq!(policy.state(2), Some(State::Blocked));
    for id in [1, 4] {
        assert!(policy.exit_other(id), "{id}");
        assert_eq!(policy.state(id), Some(State::Exited));
    }
    assert_eq!(policy.next_wakeup(), None);
    assert_eq!(policy.runnable(), 0);
    assert_eq!(policy.yield_current(), Next::Stay);
}

#[test]
fn random_events_never_lose_a_thread_nor_run_one_twice() {
    for seed in 0..20 {
        let mut rng = Rng(0x5eed_0000 + seed);
        let mut policy = Policy::new();
        let mut next_id = 1;
        let mut now = 0;
        let mut exited = BTreeSet::new();
        for _ in 0..3000 {
            match rng.below(9) {
                0 => {
                    policy.add(next_id);
                    next_id += 1;
                }
                1 => {
                    now += 1;
                    policy.tick(now);
                }
                2 => {
                    policy.yield_current();
                }
                3 => {
                    let ticks = rng.below(5) as u64;
                    policy.sleep_current(now + ticks, now);
                }
                4 => {
                    policy.block_current();
                }
                5 => {
                    let id = 1 + rng.below(next_id as usize) as u64;
                    policy.wake(id);
                }
                6 => {
                    if let Some(id) = policy.current()
                        && rng.below(4) == 0
                    {
                        policy.exit_current();
                        exited.insert(id);
                    }
                }
                7 => {
                    if policy.current().is_none() {
                        policy.pick_for_idle();
                    }
                }
                _ => {
                    let id = 1 + rng.below(next_id as usize) as u64;
                    if policy.exit_other(id) {
                        exited.insert(id);
                    }
                }
            }
            check_invariants(&policy, next_id, &exited);
        }
    }
}

/// Every thread added is in exactly one place: running (at most one),
/// queued once, sleeping once, blocked or exited.
fn check_invariants(policy: &Policy, next_id: u64, exited: &BTreeSet<ThreadId>) {
    let running: Vec<ThreadId> = policy
        .states()
        .filter(|(_, state)| *state == State::Running)
        .map(|(id, _)| id)
        .collect();
    assert!(running.len() <= 1, "two running: {running:?}");
    assert_eq!(running.first().copied(), policy.current());
    let queued: Vec<ThreadId> = policy.queue.iter().copied().collect();
    let unique: BTreeSet<ThreadId> = queued.iter().copied().collect();
    assert_eq!(unique.len(), queued.len(), "queued twice: {queued:?}");
    for id in 1..next_id {
        let state = policy.state(id).expect("no thread is lost");
        assert_eq!(
            queued.contains(&id),
            state == State::Runnable,
            "{id} {state:?}"
        );
        let sleeping = policy.sleepers.keys().any(|&(_, sleeper)| sleeper == id);
        assert_eq!(
            sleeping,
            matches!(state, State::Sleeping { .. }),
            "{id} {state:?}"
        );
        assert_eq!(exited.contains(&id), state == State::Exited, "{id}");
    }
}

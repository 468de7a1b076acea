//! Host tests of the scheduler's policy.

use std::collections::BTreeSet;

use super::*;
use crate::test_rng::Rng;

/// A policy with threads 1..=count added, none running yet.
fn with_threads(count: u64) -> Policy {
    let mut policy = Policy::new();
    for id in 1..=count {
        policy.add(id, 0, None);
    }
    policy
}

#[test]
fn round_robin_gives_each_runnable_thread_a_turn_in_order() {
    let mut policy = with_threads(3);
    assert_eq!(policy.pick_for_idle(0), Next::Switch(Some(1)));
    let mut order = vec![1];
    for tick in 1..=8 {
        if let Next::Switch(Some(id)) = policy.tick(0, tick) {
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
    assert_eq!(policy.pick_for_idle(0), Next::Switch(Some(1)));
    assert_eq!(policy.tick(0, 1), Next::Stay);
    assert_eq!(policy.yield_current(0), Next::Stay);
    assert_eq!(policy.current(0), Some(1));
}

#[test]
fn yield_hands_over_to_the_next_in_line() {
    let mut policy = with_threads(2);
    policy.pick_for_idle(0);
    assert_eq!(policy.yield_current(0), Next::Switch(Some(2)));
    assert_eq!(policy.yield_current(0), Next::Switch(Some(1)));
}

#[test]
fn sleepers_wake_in_order_of_their_tick_not_of_their_sleep() {
    let mut policy = with_threads(3);
    policy.pick_for_idle(0);
    assert_eq!(policy.sleep_current(0, 50, 0), Next::Switch(Some(2)));
    assert_eq!(policy.sleep_current(0, 20, 0), Next::Switch(Some(3)));
    assert_eq!(policy.sleep_current(0, 30, 0), Next::Switch(None));
    assert_eq!(policy.next_wakeup(), Some(20));
    assert_eq!(policy.tick(0, 19), Next::Stay);
    assert_eq!(policy.tick(0, 20), Next::Switch(Some(2)));
    assert_eq!(policy.state(3), Some(State::Sleeping { until: 30 }));
    assert_eq!(policy.wake_due(49), 1);
    assert_eq!(policy.state(1), Some(State::Sleeping { until: 50 }));
    assert_eq!(policy.wake_due(50), 1);
}

#[test]
fn a_sleep_into_the_past_returns_at_once() {
    let mut policy = with_threads(2);
    policy.pick_for_idle(0);
    assert_eq!(policy.sleep_current(0, 10, 10), Next::Stay);
    assert_eq!(policy.current(0), Some(1));
}

#[test]
fn a_blocked_thread_runs_again_only_after_a_wake() {
    let mut policy = with_threads(2);
    policy.pick_for_idle(0);
    assert_eq!(policy.block_current(0), Next::Switch(Some(2)));
    for tick in 1..5 {
        assert_eq!(policy.tick(0, tick), Next::Stay, "2 is alone in the queue");
    }
    assert!(policy.wake(1));
    assert!(!policy.wake(1), "runnable already");
    assert_eq!(policy.tick(0, 5), Next::Switch(Some(1)));
}

#[test]
fn a_wake_before_the_block_is_not_lost() {
    let mut policy = with_threads(2);
    policy.pick_for_idle(0);
    assert!(!policy.wake(1), "1 runs: the wake is remembered");
    assert_eq!(policy.block_current(0), Next::Stay);
    assert_eq!(
        policy.block_current(0),
        Next::Switch(Some(2)),
        "remembered once"
    );
}

#[test]
fn a_wake_ends_a_sleep_early() {
    let mut policy = with_threads(1);
    policy.pick_for_idle(0);
    assert_eq!(policy.sleep_current(0, 1000, 0), Next::Switch(None));
    assert!(policy.wake(1));
    assert_eq!(policy.next_wakeup(), None);
    assert_eq!(policy.pick_for_idle(0), Next::Switch(Some(1)));
}

#[test]
fn exited_threads_never_run_and_can_be_removed() {
    let mut policy = with_threads(2);
    policy.pick_for_idle(0);
    assert_eq!(policy.exit_current(0), Next::Switch(Some(2)));
    assert_eq!(policy.state(1), Some(State::Exited));
    assert!(!policy.wake(1));
    assert_eq!(policy.yield_current(0), Next::Stay);
    policy.remove(1);
    assert_eq!(policy.state(1), None);
    assert_eq!(policy.exit_current(0), Next::Switch(None));
}

#[test]
fn another_thread_can_be_made_to_exit_wherever_it_waits() {
    let mut policy = with_threads(4);
    policy.pick_for_idle(0);
    assert_eq!(policy.sleep_current(0, 100, 0), Next::Switch(Some(2)));
    assert_eq!(policy.block_current(0), Next::Switch(Some(3)));
    assert!(!policy.exit_other(3), "not the running thread");
    assert!(!policy.exit_other(2), "not a blocked thread");
    assert_eq!(policy.state(2), Some(State::Blocked));
    for id in [1, 4] {
        assert!(policy.exit_other(id), "{id}");
        assert_eq!(policy.state(id), Some(State::Exited));
    }
    assert_eq!(policy.next_wakeup(), None);
    assert_eq!(policy.runnable(), 0);
    assert_eq!(policy.yield_current(0), Next::Stay);
}

#[test]
fn new_threads_spread_over_idle_cpus_and_kick_them() {
    let mut policy = Policy::new();
    assert_eq!(policy.add_cpu(), 1);
    assert_eq!(policy.add_cpu(), 2);
    for id in 1..=3 {
        policy.add(id, 0, None);
    }
    let cpus: Vec<usize> = (1..=3).map(|id| policy.cpu_of(id).unwrap()).collect();
    assert_eq!(cpus, [0, 1, 2], "one each, the spawning CPU first");
    assert_eq!(policy.take_kicks(), 0b111);
    assert_eq!(policy.take_kicks(), 0, "taken once");
    for cpu in 0..3 {
        assert_eq!(
            policy.pick_for_idle(cpu),
            Next::Switch(Some(cpu as u64 + 1))
        );
    }
    // All busy: the next goes to the least loaded, the spawner on a tie,
    // and kicks nobody (a busy CPU looks at its queue at its next tick).
    policy.add(4, 2, None);
    assert_eq!(policy.cpu_of(4), Some(2));
    assert_eq!(policy.take_kicks(), 0);
    policy.add(5, 2, None);
    assert_eq!(policy.cpu_of(5), Some(0));
}

#[test]
fn an_idle_cpu_steals_from_the_longest_queue_but_never_a_pinned_thread() {
    let mut policy = Policy::new();
    policy.add_cpu();
    policy.add(1, 0, Some(0));
    policy.add(2, 0, Some(1));
    assert_eq!(policy.pick_for_idle(0), Next::Switch(Some(1)));
    assert_eq!(policy.pick_for_idle(1), Next::Switch(Some(2)));
    policy.add(3, 0, Some(0));
    policy.add(4, 0, None);
    policy.add(5, 0, None);
    // 4 and 5 went to the least loaded CPUs: one each.
    assert_eq!((policy.cpu_of(4), policy.cpu_of(5)), (Some(1), Some(0)));
    // CPU 1's thread blocks: it runs its own 4, then steals 5 (not 3, pinned).
    assert_eq!(policy.block_current(1), Next::Switch(Some(4)));
    assert_eq!(policy.block_current(1), Next::Switch(Some(5)));
    assert_eq!(policy.cpu_of(5), Some(1));
    assert_eq!(
        policy.block_current(1),
        Next::Switch(None),
        "3 is CPU 0's only"
    );
    assert_eq!(policy.pick_for_idle(1), Next::Stay);
    assert_eq!(policy.block_current(0), Next::Switch(Some(3)));
}

#[test]
fn an_idle_cpu_steals_past_a_longer_queue_of_pinned_threads() {
    let mut policy = Policy::new();
    policy.add_cpu();
    policy.add_cpu();
    // CPU 1 runs 1 and queues 2 and 3, pinned there; CPU 2 runs 4 and
    // queues 5, which anyone may run; CPU 0 is idle.
    for (id, pinned) in [(1, 1), (2, 1), (3, 1), (4, 2)] {
        policy.add(id, 0, Some(pinned));
    }
    policy.pick_for_idle(1);
    policy.pick_for_idle(2);
    policy.add(5, 2, Some(2));
    policy.add(6, 2, None);
    policy.exit_other(5);
    assert_eq!(policy.cpu_of(6), Some(0), "placed on the idle CPU");
    // Move 6 to CPU 2's queue by hand: CPU 0 must steal it from there.
    policy.cpus[0].queue.clear();
    policy.cpus[2].queue.push_back(6);
    assert_eq!(policy.pick_for_idle(0), Next::Switch(Some(6)));
    assert_eq!(
        policy.block_current(0),
        Next::Switch(None),
        "nothing else may move"
    );
    assert_eq!(policy.pick_for_idle(0), Next::Stay);
}

#[test]
fn a_wake_goes_to_an_idle_cpu_and_kicks_it() {
    let mut policy = Policy::new();
    policy.add_cpu();
    policy.add(1, 0, None);
    policy.add(2, 0, None);
    policy.take_kicks();
    policy.pick_for_idle(0);
    policy.pick_for_idle(1);
    assert_eq!(policy.block_current(1), Next::Switch(None));
    // Thread 2 last ran on CPU 1, now idle: it goes back there.
    assert!(policy.wake(2));
    assert_eq!(policy.cpu_of(2), Some(1));
    assert_eq!(policy.take_kicks(), 0b10);
    assert_eq!(policy.tick(1, 1), Next::Switch(Some(2)));
}

#[test]
fn random_events_on_three_cpus_never_lose_a_thread_nor_run_one_twice() {
    for seed in 0..20 {
        let mut rng = Rng(0x5eed_3000 + seed);
        let mut policy = Policy::new();
        policy.add_cpu();
        policy.add_cpu();
        let mut next_id = 1;
        let mut now = 0;
        let mut exited = BTreeSet::new();
        for _ in 0..3000 {
            let cpu = rng.below(3);
            match rng.below(9) {
                0 => {
                    let pinned = (rng.below(3) == 0).then(|| rng.below(3));
                    policy.add(next_id, cpu, pinned);
                    next_id += 1;
                }
                1 => {
                    now += 1;
                    policy.tick(cpu, now);
                }
                2 => {
                    policy.yield_current(cpu);
                }
                3 => {
                    let ticks = rng.below(5) as u64;
                    policy.sleep_current(cpu, now + ticks, now);
                }
                4 => {
                    policy.block_current(cpu);
                }
                5 => {
                    let id = 1 + rng.below(next_id as usize) as u64;
                    policy.wake(id);
                }
                6 => {
                    if let Some(id) = policy.current(cpu)
                        && rng.below(4) == 0
                    {
                        policy.exit_current(cpu);
                        exited.insert(id);
                    }
                }
                7 => {
                    if policy.current(cpu).is_none() {
                        policy.pick_for_idle(cpu);
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
                    policy.add(next_id, 0, None);
                    next_id += 1;
                }
                1 => {
                    now += 1;
                    policy.tick(0, now);
                }
                2 => {
                    policy.yield_current(0);
                }
                3 => {
                    let ticks = rng.below(5) as u64;
                    policy.sleep_current(0, now + ticks, now);
                }
                4 => {
                    policy.block_current(0);
                }
                5 => {
                    let id = 1 + rng.below(next_id as usize) as u64;
                    policy.wake(id);
                }
                6 => {
                    if let Some(id) = policy.current(0)
                        && rng.below(4) == 0
                    {
                        policy.exit_current(0);
                        exited.insert(id);
                    }
                }
                7 => {
                    if policy.current(0).is_none() {
                        policy.pick_for_idle(0);
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
    let current: Vec<ThreadId> = policy.cpus.iter().filter_map(|cpu| cpu.current).collect();
    let mut sorted = current.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        current.len(),
        "one thread on two CPUs: {current:?}"
    );
    assert_eq!(sorted, running, "running but on no CPU, or the reverse");
    for (number, cpu) in policy.cpus.iter().enumerate() {
        if let Some(id) = cpu.current {
            assert_eq!(policy.cpu_of(id), Some(number));
        }
        for &id in &cpu.queue {
            let pinned = policy.threads[&id].pinned;
            assert!(
                pinned.is_none_or(|pin| pin == number),
                "{id} pinned to {pinned:?}, queued on {number}"
            );
        }
    }
    let queued: Vec<ThreadId> = policy
        .cpus
        .iter()
        .flat_map(|cpu| cpu.queue.iter().copied())
        .collect();
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

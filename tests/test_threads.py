"""End-to-end tests of threads: the shell is one thread among others,
preemption lets it answer while a thread burns the CPU, sleeping is
time-based, `kill` stops a spinner, a thread's stack overflow is reported
with its name, and spawned threads give their frames back."""

import re
import time

import pytest

from harness import check
from terminal import run, wait_for_prompt

# `ps`: id, name, state, CPU, CPU time in ms, stack KiB.
PS_ROW = re.compile(r"^\s*(\d+) (\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\S+)$")


def shell(qemu, name, **options):
    """A boot at its first prompt, typed on over serial."""
    boot = qemu(name, serial_input=True, **options)
    boot.wait_for_line("ready")
    wait_for_prompt(boot)
    return boot


def ps(boot) -> dict[int, tuple[str, str, int]]:
    """`ps`: id -> (name, state, CPU)."""
    rows = {}
    for line in run(boot, "ps"):
        match = PS_ROW.match(line)
        if match:
            rows[int(match.group(1))] = (match.group(2), match.group(3), int(match.group(4)))
    return rows


def free_frames(boot) -> int:
    """The free frames `mem` reports."""
    for line in run(boot, "mem"):
        match = re.match(r"^frames: (\d+) free of", line)
        if match:
            return int(match.group(1))
    check(boot, False, "no frames: line in `mem`")


@pytest.mark.parametrize("machine", ["pc", "pc-acpi-off"])
def test_ps_spin_sleep_and_kill(qemu, machine):
    """`ps` shows the idle and shell threads; after `spin 5` `echo` answers
    at once and `ps` shows the spinner running or runnable; `sleep 1`
    returns after a second or more; `kill` stops a second spinner, which
    `ps` no longer lists; the first ends on its own. On the local APIC's
    tick and on the PIT's (no ACPI)."""
    args = ["-machine", "pc,acpi=off"] if machine == "pc-acpi-off" else []
    boot = shell(qemu, f"threads-{machine}", qemu_args=args)
    threads = ps(boot)
    check(boot, threads.get(0, ("",))[0] == "idle", f"no idle thread 0: {threads}")
    check(boot, any(name == "shell" and state == "running" for name, state, _ in threads.values()),
          f"no running shell thread: {threads}")

    spun = run(boot, "spin 5")
    match = re.match(r"^spin: thread (\d+), 5 s$", spun[0] if spun else "")
    check(boot, match is not None, f"spin 5 said {spun}")
    spinner = int(match.group(1))
    started = time.monotonic()
    check(boot, run(boot, "echo still-here") == ["still-here"], "echo did not answer")
    check(boot, time.monotonic() - started < 3,
          "echo took longer than the spinner's slices allow")
    threads = ps(boot)
    check(boot, threads.get(spinner, ("", ""))[1] in ("runnable", "running"),
          f"the spinner is not in ps: {threads}")

    before = time.monotonic()
    check(boot, run(boot, "sleep 1") == [], "sleep printed something")
    check(boot, time.monotonic() - before >= 1.0, "sleep 1 returned early")

    second = run(boot, "spin 60")
    victim = int(re.match(r"^spin: thread (\d+)", second[0]).group(1))
    check(boot, run(boot, f"kill {victim}") == [f"kill: thread {victim} stopped"],
          "kill did not stop the spinner")
    check(boot, victim not in ps(boot), "a killed spinner is still listed")
    shell_id = next(i for i, (name, _, _) in ps(boot).items() if name == "shell")
    check(boot, run(boot, f"kill {shell_id}") ==
          [f"kill: thread {shell_id}: a kernel thread cannot be killed"],
          "the shell thread could be killed")

    deadline = time.monotonic() + 30
    while spinner in ps(boot):
        check(boot, time.monotonic() < deadline, "the 5 s spinner never ended")
        time.sleep(0.5)
    boot.check_running()


def test_a_thread_stack_overflow_names_the_thread(qemu):
    """`overflow` starts a thread that recurses into its guard page: the
    report is a double fault whose closing line names the overflow and the
    thread; the machine halts (no reset)."""
    boot = shell(qemu, "threads-overflow")
    boot.send_serial(b"overflow\r")
    boot.wait_for_line(r"^  the kernel has stopped", regex=True)
    lines = boot.serial_lines()
    check(boot, any(l.startswith("KERNEL PANIC: CPU exception: double fault (#DF)")
                    for l in lines), "no double fault report")
    closing = [l for l in lines if l.startswith("  the kernel has stopped")]
    check(boot, len(closing) == 1 and re.fullmatch(
        r"  the kernel has stopped on CPU \d+: stack overflow in thread \d+ \(overflow\); "
        r"restart the machine", closing[0]) is not None,
          f"the report does not name the overflowing thread: {closing}")
    boot.check_running()


def test_spawned_threads_give_their_frames_back(qemu):
    """After a warm-up, 20 `spin 0` leave `mem`'s free frames where they
    were: each thread's stack frames came back."""
    boot = shell(qemu, "threads-frames")
    for _ in range(5):
        run(boot, "spin 0")
    time.sleep(0.5)
    before = free_frames(boot)
    for _ in range(20):
        run(boot, "spin 0")
    time.sleep(0.5)
    run(boot, "ps")  # spawning and ps reap; the last spinner has ended
    after = free_frames(boot)
    check(boot, after == before, f"free frames went from {before} to {after}")

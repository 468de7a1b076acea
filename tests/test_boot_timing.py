"""Boot phase timing (src/boot_timing): with `loglevel=debug` the kernel
prints how many timestamp-counter cycles each init step took, from the
trampoline's first instruction to `ready`, and the total."""

import re

from harness import build_iso

PHASE = re.compile(r"^\[DEBUG\] boot time: (.+): (\d+) cycles(?:, (\d+) us)?$")
# The steps rust_main marks, in order (a new step adds its name here).
FIRST_PHASES = ["trampoline", "serial", "gdt and idt", "boot information", "screen"]
LAST_PHASES = ["frames", "paging", "heap", "report", "interrupts and timer"]


def phases(lines: list[str]) -> list[tuple[str, int]]:
    return [(m.group(1), int(m.group(2))) for m in map(PHASE.match, lines) if m]


def test_debug_log_level_shows_each_phase_and_the_total(qemu):
    boot = qemu("boot-timing", build_iso("boot-timing", cmdline="loglevel=debug"))
    boot.wait_for_line("ready")
    lines = boot.kernel_lines()
    found = phases(lines[:lines.index("ready")])
    names = [name for name, _ in found]
    if not found or names[-1] != "total":
        boot.fail(f"no `boot time: total` line last; phases: {names}")
    steps, total = found[:-1], found[-1][1]
    if names[:len(FIRST_PHASES)] != FIRST_PHASES or \
            [n for n in names if n in LAST_PHASES] != LAST_PHASES:
        boot.fail(f"phases out of order or missing: {names}")
    if sum(cycles for _, cycles in steps) != total:
        boot.fail(f"the phases add up to {sum(c for _, c in steps)} cycles, not the total {total}")
    if any(cycles == 0 for _, cycles in steps):
        boot.fail(f"a phase of 0 cycles (the counter did not move?): {found}")
    # The timer calibration measured the counter's rate: every line also
    # gives microseconds.
    timed = [line for line in lines if PHASE.match(line)]
    if not all(PHASE.match(line).group(3) is not None for line in timed):
        boot.fail(f"a phase without microseconds: {timed}")


def test_default_log_level_prints_no_timing(qemu):
    boot = qemu("ready")
    boot.wait_for_line("ready")
    if any("boot time:" in line for line in boot.kernel_lines()):
        boot.fail("boot time lines at the default log level")

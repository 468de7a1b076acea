"""Boot phase timing (src/boot_timing): with `loglevel=debug` the kernel
prints how many timestamp-counter cycles each init step took, from the
trampoline's first instruction to `ready`, and the total."""

import re

from harness import build_iso, check

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
    check(boot, found and names[-1] == "total",
          f"no `boot time: total` line last; phases: {names}")
    steps, total = found[:-1], found[-1][1]
    check(boot, names[:len(FIRST_PHASES)] == FIRST_PHASES
          and [n for n in names if n in LAST_PHASES] == LAST_PHASES,
          f"phases out of order or missing: {names}")
    check(boot, sum(cycles for _, cycles in steps) == total,
          f"the phases add up to {sum(c for _, c in steps)} cycles, not the total {total}")
    check(boot, not any(cycles == 0 for _, cycles in steps),
          f"a phase of 0 cycles (the counter did not move?): {found}")
    # The timer calibration measured the counter's rate: every line also
    # gives microseconds.
    timed = [line for line in lines if PHASE.match(line)]
    check(boot, all(PHASE.match(line).group(3) is not None for line in timed),
          f"a phase without microseconds: {timed}")


def test_default_log_level_prints_no_timing(qemu):
    boot = qemu("ready")
    boot.wait_for_line("ready")
    check(boot, not any("boot time:" in line for line in boot.kernel_lines()),
          "boot time lines at the default log level")

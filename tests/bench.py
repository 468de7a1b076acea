#!/usr/bin/env python3
"""The benchmarks (not tests): `make bench` runs them.

Builds an ISO exactly like `make iso` with `bench` on the kernel command line
(scripts/mkiso.sh, through the harness), boots it headless in QEMU twice,
under BIOS (the VGA text screen) and under UEFI (OVMF: a framebuffer), waits
for `ready` and prints the kernel's figures: cycles (rdtsc) per printed line
for a scroll-heavy workload through the shipped screen writer and through a
naive one (on the framebuffer also the bytes each wrote and read per line),
and the heap's allocations and frees per second with talc and with
linked_list_allocator, each pair measured in one boot, and their ratios.

A third boot (BIOS, `keytest` on the command line: the kernel idles in
`hlt`, echoing keys) measures the cost of the tick and of input: the host
CPU time QEMU uses over 10 s of idling (a share of one core; the target is
under 5 %), and the time from a key sent on COM1 to its echo coming back,
median (and 90th percentile) over 100 keys.
It boots the benchmark build (build/kernel-bench.bin, cargo feature `bench`). Boots use TCG unless
ACCEL=kvm is set. Exits non-zero only if the boot itself fails.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Boot, TestFailure, build_iso  # noqa: E402

# The naive writer alone takes a few seconds under TCG; this only stops a hang.
TIMEOUT = 600.0
# How long the idle kernel is watched, and how many keys are timed.
IDLE_SECONDS = 10.0
KEYS = 100


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def idle_and_echo(kernel: Path) -> list[str]:
    """Boots `keytest`; returns the idle CPU share and the echo latency."""
    iso = build_iso("bench-keytest", cmdline="keytest", kernel=kernel)
    with Boot("bench-keytest", iso, serial_input=True, timeout=TIMEOUT) as boot:
        boot.wait_for_line(r"^keytest: type keys", regex=True)
        before, start = cpu_seconds(boot.proc.pid), time.monotonic()
        time.sleep(IDLE_SECONDS)
        used = cpu_seconds(boot.proc.pid) - before
        share = used / (time.monotonic() - start)
        latencies = []
        for _ in range(KEYS):
            offset = boot.received_length()
            sent = time.perf_counter()
            boot.send_serial(b"k")
            if not boot.wait_received(b"k", offset):
                boot.fail("a key was not echoed within 10 s")
            latencies.append(time.perf_counter() - sent)
        latencies.sort()
        return [
            f"bench: idle: QEMU used {share * 100:.1f} % of one core over "
            f"{IDLE_SECONDS:.0f} s (target: under 5 %)",
            f"bench: echo: key on serial to its echo: median "
            f"{statistics.median(latencies) * 1000:.2f} ms, 90th percentile "
            f"{latencies[int(len(latencies) * 0.9)] * 1000:.2f} ms over {KEYS} keys",
        ]


def main() -> int:
    try:
        # `make bench` passes the benchmark build (cargo feature `bench`).
        kernel = Path(os.environ.get("BENCH_KERNEL", "build/kernel-bench.bin")).resolve()
        iso = build_iso("bench", cmdline="bench", kernel=kernel)
        figures = {}
        for firmware in ("bios", "uefi"):
            with Boot(f"bench-{firmware}", iso, uefi=firmware == "uefi",
                      timeout=TIMEOUT) as boot:
                boot.wait_for_line("ready")
                figures[firmware] = [l for l in boot.kernel_lines() if l.startswith("bench:")]
        figures["idle"] = idle_and_echo(kernel)
    except TestFailure as failure:
        print(f"bench failed: {failure}", file=sys.stderr)
        return 1
    print(f"accelerator: {os.environ.get('ACCEL', 'tcg')}")
    for firmware, title in (("bios", "BIOS, VGA text screen"), ("uefi", "UEFI, framebuffer"),
                            ("idle", "BIOS, idle kernel and serial echo (keytest)")):
        print(f"-- {title}")
        print("\n".join(figures[firmware]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

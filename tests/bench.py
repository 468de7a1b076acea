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
It boots the benchmark build (build/kernel-bench.bin, cargo feature `bench`). Boots use TCG unless
ACCEL=kvm is set. Exits non-zero only if the boot itself fails.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Boot, TestFailure, build_iso  # noqa: E402

# The naive writer alone takes a few seconds under TCG; this only stops a hang.
TIMEOUT = 600.0


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
    except TestFailure as failure:
        print(f"bench failed: {failure}", file=sys.stderr)
        return 1
    print(f"accelerator: {os.environ.get('ACCEL', 'tcg')}")
    for firmware, title in (("bios", "BIOS, VGA text screen"), ("uefi", "UEFI, framebuffer")):
        print(f"-- {title}")
        print("\n".join(figures[firmware]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

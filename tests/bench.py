#!/usr/bin/env python3
"""The benchmarks (not tests): `make bench` runs them and prints one table of
every figure the project measures, also written to build/bench.json. Each
figure is the median, minimum and maximum over the runs of this invocation.

- boot to `ready` (seconds from QEMU's start to the line on serial, and the
  CPU seconds QEMU used until then, which other work on a shared machine
  hardly changes), under
  BIOS and UEFI, alternating between: the shipped build/os.iso; the same
  kernel and menu in a default `grub-mkrescue` ISO (every module, locale,
  theme and font); the reference kernel (bench/reference/: a Multiboot2
  header that prints `ready`) in that same default ISO and menu. The
  difference between the last two is what this kernel costs; between the
  first two what the ISO's options change;
- the kernel's own boot phases, from the trampoline's first instruction to
  `ready` (`loglevel=debug`, src/boot_timing), in cycles and milliseconds;
- sizes: the ISO, the kernel file, its loaded bytes (PT_LOAD) and what each
  part and dependency contributes, .data and .bss;
- the smallest RAM (MiB) the shipped ISO boots in under BIOS;
- the figures the benchmark build (cargo feature `bench`) prints when booted
  with `bench`: the screen writers against naive ones (VGA under BIOS, the
  framebuffer under UEFI) and the two heap allocators;
- threads, for scale (issue 23): Linux 6.1 (Debian's, tests/debian_linux.py)
  booted RUNS times in the same QEMU with bench/linux/threads.c as /init
  (tests/linux_bench.py): TSC cycles per thread switch (two threads
  ping-ponging with sched_yield) and per pthread_create + pthread_join, the
  median of each boot's rounds; kestrel's own figures and the ratio beside
  them when it has threads (kestrel_thread_figures). Linux's figures include
  a system call;
- several CPUs (issue 25): the benchmark build at -smp 1 and -smp 2 in the
  same run: the speed-up of CPU-bound work with one thread per CPU, the cost
  of a TLB shootdown against a local flush, of a wake-up across CPUs
  against one on the same CPU, and the frame allocator alone against
  contended (smp);
- programs (issue 26): one static binary, user/c/kbench.c, under kestrel
  (from its shell) and under Linux 6.1 (as /init) in the same QEMU: getpid,
  a 1-byte console write, mmap + munmap of 64 KiB, a sched_yield ping-pong
  of two processes, and running a trivial program and waiting for it;
  cycles per operation and the ratio of the medians (tests/user_bench.py);
- the idle kernel and its input (`keytest` on the command line: the kernel
  sleeps in `hlt` between ticks, echoing keys): the host CPU share QEMU uses
  over 10 s of idling (the tick's cost under emulation; the target is under
  5 % of one core) and the time from a key sent on COM1 to its echo, over
  100 keys;
- `make iso` wall time after touching one source file.

Adding a figure is one function taking the `Bench` and calling
`bench.add(...)`, listed in MEASUREMENTS. Boots use TCG unless ACCEL=kvm.
The ratio of this kernel's median to the reference's comes with a 90 %
bootstrap interval: one boot's time moves by 10 % and more from run to run
on a shared machine (QEMU's start, SeaBIOS and GRUB, not the kernel), so a
ratio from a few boots is only good to a few percent.

Environment: BOOTS (boots per image under UEFI, default 10), BIOS_BOOTS
(under BIOS, where a boot takes a second: default 4 x BOOTS), RUNS (boots
of the benchmark build per firmware, boots of Linux and `make iso` runs,
default 3). Exits
non-zero only when something fails to boot or build; never on a figure.
"""

from __future__ import annotations

import json
import os
import random
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import elf_sizes  # noqa: E402
import linux_bench  # noqa: E402
import user_bench  # noqa: E402
from harness import Boot as HarnessBoot  # noqa: E402
from harness import (BUILD, CRATE_NAME, OVMF, ROOT, TestFailure,  # noqa: E402
                     build_iso, check)

BOOTS = int(os.environ.get("BOOTS", "10"))
BIOS_BOOTS = int(os.environ.get("BIOS_BOOTS", str(4 * BOOTS)))
RESAMPLES = 2000        # bootstrap resamples for the ratio's interval
RUNS = int(os.environ.get("RUNS", "3"))
ACCEL = os.environ.get("ACCEL", "tcg")
OUT = BUILD / "bench"
# The line every kernel here prints when it is up (the reference kernel
# starts it with \r\n, so GRUB's or the firmware's output never shares it).
READY = b"\nready\r\n"
# Bounds that only stop a hung boot; they are not timings.
BIOS_TIMEOUT, UEFI_TIMEOUT, BENCH_TIMEOUT = 60.0, 180.0, 900.0
FONT = ROOT / "fonts" / "spleen-8x16.psfu"


@dataclass
class Figure:
    section: str
    name: str
    unit: str
    values: list[float]

    def summary(self) -> dict:
        return {"section": self.section, "name": self.name, "unit": self.unit,
                "median": statistics.median(self.values), "min": min(self.values),
                "max": max(self.values), "runs": len(self.values), "values": self.values}


@dataclass
class Bench:
    """The figures so far, and what the measurements share."""
    shipped_iso: Path
    kernel: Path
    kernel_elf: Path
    bench_kernel: Path
    reference: Path
    figures: list[Figure] = field(default_factory=list)
    tsc_hz: int = 0  # the timestamp counter's rate, from the benchmark build

    def add(self, section: str, name: str, unit: str, values) -> None:
        values = [v for v in values if v is not None]
        if values:
            self.figures.append(Figure(section, name, unit, list(values)))


# --- booting ---------------------------------------------------------------------

def qemu_command(iso: Path, uefi: bool, memory: str = "128M",
                 extra: tuple[str, ...] = ()) -> list[str]:
    """QEMU as the tests run it (tests/harness.py), serial on stdout, with
    `extra` arguments."""
    args = ["qemu-system-x86_64", "-accel", ACCEL, "-m", memory, "-cdrom", str(iso),
            "-display", "none", "-monitor", "none", "-no-reboot", "-serial", "stdio",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-smbios", f"type=1,sku={CRATE_NAME}-entry=0"]
    if uefi:
        args += ["-bios", str(OVMF)]
    return args + list(extra)


@dataclass
class Boot:
    """One timed boot: wall seconds from starting QEMU to `ready` on serial
    and the CPU seconds QEMU used until then (None if `ready` never came),
    and the serial output so far."""
    seconds: float | None
    cpu_seconds: float | None
    output: str


def cpu_seconds(pid: int) -> float:
    """CPU time of every thread of process `pid` so far (the scheduler's
    nanosecond counts): unlike wall time, hardly changed by other work on
    the machine."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            pass  # a thread that just ended
    return total / 1e9


def timed_boot(iso: Path, uefi: bool, memory: str = "128M",
               timeout: float | None = None, extra: tuple[str, ...] = ()) -> Boot:
    """Boots `iso` until `ready` on serial, QEMU exiting or `timeout`.
    QEMU is always killed."""
    timeout = timeout or (UEFI_TIMEOUT if uefi else BIOS_TIMEOUT)
    output = b""
    begin = time.monotonic()
    proc = subprocess.Popen(qemu_command(iso, uefi, memory, extra), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        fd = proc.stdout.fileno()
        while READY not in output:
            left = begin + timeout - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return Boot(None, None, output.decode(errors="replace"))
            chunk = os.read(fd, 1 << 16)
            if not chunk:  # QEMU exited
                return Boot(None, None, output.decode(errors="replace"))
            output += chunk
        seconds = time.monotonic() - begin
        return Boot(seconds, cpu_seconds(proc.pid), output.decode(errors="replace"))
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


def must_boot(what: str, boot: Boot) -> Boot:
    check(None, boot.seconds is not None,
          f"{what}: no `ready` on serial; serial output:\n{boot.output[-3000:]}")
    return boot


def kernel_lines(output: str) -> list[str]:
    return [line.strip("\r") for line in output.split("\n")]


def default_iso(name: str, kernel: Path, cfg: str) -> Path:
    """A default `grub-mkrescue` ISO (no options: every module, locale,
    theme and font) holding `kernel` as /boot/kernel.bin and `cfg`."""
    out = OUT / f"{name}.iso"
    with tempfile.TemporaryDirectory(prefix="kestrel-bench-") as staging:
        (Path(staging) / "boot" / "grub").mkdir(parents=True)
        shutil.copy(kernel, Path(staging) / "boot" / "kernel.bin")
        (Path(staging) / "boot" / "grub" / "grub.cfg").write_text(cfg)
        result = subprocess.run(["grub-mkrescue", "-o", str(out), staging],
                                capture_output=True, text=True)
    check(None, result.returncode == 0, f"grub-mkrescue failed:\n{result.stdout}{result.stderr}")
    return out


def shipped_menu(iso: Path) -> str:
    """The grub.cfg inside the shipped ISO."""
    with tempfile.TemporaryDirectory(prefix="kestrel-bench-") as scratch:
        cfg = Path(scratch) / "grub.cfg"
        subprocess.run(["xorriso", "-osirrox", "on", "-indev", str(iso),
                        "-extract", "/boot/grub/grub.cfg", str(cfg)],
                       capture_output=True, check=True)
        return cfg.read_text()


# --- the measurements ---------------------------------------------------------------

def kernel_benchmarks(bench: Bench) -> None:
    """The benchmark build booted with `bench`: its `bench:` lines (console
    and heap) become figures, and its boot phases give the counter's rate."""
    iso = build_iso("bench", cmdline="bench loglevel=debug", kernel=bench.bench_kernel)
    numbers: dict[tuple[str, str, str], list[float]] = {}
    for run in range(RUNS):
        for firmware in ("bios", "uefi"):
            output = must_boot(f"benchmark build, {firmware}",
                               timed_boot(iso, firmware == "uefi", timeout=BENCH_TIMEOUT)).output
            for line in kernel_lines(output):
                hz = re.search(r"boot time: timestamp counter at (\d+) Hz", line)
                if hz:
                    bench.tsc_hz = int(hz.group(1))
                # `bench: [heap: ]<what>: <N> <unit>, <N> <unit>...`
                match = re.match(r"bench: (heap: )?(.+?): (\d.*)$", line)
                if not match or match.group(2).startswith("smp: "):
                    continue  # smp: several CPUs' figures, measured by smp()
                for figure in match.group(3).split(", "):
                    value = re.match(r"(\d+) ((cycles|bytes|ops|draws)\b.*)$", figure)
                    if value:
                        key = (firmware, (match.group(1) or "") + match.group(2), value.group(2))
                        numbers.setdefault(key, []).append(float(value.group(1)))
    for (firmware, what, unit), values in numbers.items():
        if what.startswith("threads: "):
            bench.add(KESTREL_THREADS + (" (BIOS)" if firmware == "bios" else " (UEFI)"),
                      what.removeprefix("threads: "), unit, values)
            continue
        section = ("heap (" if what.startswith("heap") else "console benchmark (") + \
            ("BIOS, VGA text)" if firmware == "bios" else "UEFI, framebuffer)")
        bench.add(section, what.removeprefix("heap: "), unit, values)


# The benchmark build's thread figures (src/sched/bench.rs), by firmware.
KESTREL_THREADS = "threads: kestrel's kernel threads, cycles"


# --- threads: Linux in the same QEMU, for scale (issue 23) --------------------------

# What each of Linux's figures (bench/linux/threads.c, tests/linux_bench.py)
# is called in the table; kestrel's figures use the same keys.
THREAD_FIGURES = {
    "yield-switch": "thread switch (two threads yielding to each other), per switch",
    "spawn-join": "spawn + join (a thread that returns at once), per pair",
}


def kestrel_thread_figures(bench: Bench) -> dict[str, list[float]]:
    """Kestrel's own thread figures, to stand beside Linux's with a ratio:
    {"yield-switch": [cycles per switch, one value per run], "spawn-join":
    [cycles per spawn + join]}: the benchmark build's (src/sched/bench.rs)
    under BIOS, which kernel_benchmarks (run first) added to `bench`."""
    figures: dict[str, list[float]] = {}
    for figure in bench.figures:
        if figure.section == KESTREL_THREADS + " (BIOS)" and figure.name in THREAD_FIGURES:
            figures[figure.name] = list(figure.values)
    return figures


def add_thread_ratios(bench: Bench, section: str, kestrel: dict[str, list[float]],
                      linux: dict[str, list[float]]) -> None:
    """For each figure both sides have: kestrel's values as a row, and the
    ratio of the medians kestrel / Linux (under 1: kestrel is faster)."""
    for key, name in THREAD_FIGURES.items():
        if kestrel.get(key) and linux.get(key):
            bench.add(section, f"kestrel: {name}", "cycles", kestrel[key])
            bench.add(section, f"kestrel / Linux, medians: {name.split(' (')[0]}", "x",
                      [round(statistics.median(kestrel[key]) / statistics.median(linux[key]), 3)])


def threads(bench: Bench) -> None:
    """Linux booted RUNS times in the same QEMU (TCG, qemu64, 256 MiB, one
    CPU) with bench/linux/threads.c as /init: per boot the median of its
    rounds, TSC cycles (the guest's counter runs at the host's rate, as
    kestrel's does). Then kestrel's own figures beside them, when it has
    them. Linux's figures include a system call; kestrel's kernel threads
    need none: not like for like, for scale only."""
    runs = [linux_bench.boot() for _ in range(RUNS)]
    version = re.match(r"\d+\.\d+", runs[0].release)
    section = (f"threads (Linux {version.group(0) if version else runs[0].release} in the "
               f"same QEMU, for scale: its figures include a system call)")
    linux = {key: [statistics.median(run.figures[key]) for run in runs] for key in THREAD_FIGURES}
    for key, name in THREAD_FIGURES.items():
        bench.add(section, f"Linux: {name}", "cycles", linux[key])
    bench.add(section, "Linux: sched_yield calls per switch (1 if each one switched)", "calls",
              [statistics.median(run.yields_per_switch) for run in runs])
    add_thread_ratios(bench, section, kestrel_thread_figures(bench), linux)


# --- several CPUs (issue 25) ----------------------------------------------------------

SMP_SECTION = "several CPUs: the benchmark build at -smp 1 and -smp 2, cycles"


def smp(bench: Bench) -> None:
    """The benchmark build's `bench: smp:` figures (src/smp/bench.rs), booted
    RUNS times under BIOS at -smp 1 and -smp 2, alternating: the CPU-bound
    work with one thread per CPU (its speed-up at 2 CPUs: twice the work,
    so 2 x the 1-CPU time over the 2-CPU time, per pair of boots; 2 is the
    ceiling on this 2-core host, the target 1.8), a TLB shootdown against a
    local flush, a wake-up across CPUs against one on the same CPU, and the
    frame allocator alone against contended."""
    iso = build_iso("bench", cmdline="bench loglevel=debug", kernel=bench.bench_kernel)
    numbers: dict[tuple[str, str], list[float]] = {}
    speedups = []
    for run in range(RUNS):
        elapsed = {}
        for cpus in (1, 2):
            output = must_boot(f"benchmark build, -smp {cpus}",
                               timed_boot(iso, False, timeout=BENCH_TIMEOUT,
                                          extra=("-smp", str(cpus)))).output
            for line in kernel_lines(output):
                match = re.match(r"bench: smp: (.+): (\d+) cycles$", line)
                if match:
                    numbers.setdefault((f"-smp {cpus}", match.group(1)), []).append(
                        float(match.group(2)))
                    if match.group(1).startswith("cpu-bound"):
                        elapsed[cpus] = float(match.group(2))
        if elapsed.get(1) and elapsed.get(2):
            speedups.append(round(2 * elapsed[1] / elapsed[2], 3))
    for (cpus, what), values in numbers.items():
        bench.add(SMP_SECTION, f"{cpus}: {what}", "cycles", values)
    bench.add(SMP_SECTION, "speed-up of one CPU-bound thread per CPU, 2 CPUs against 1", "x",
              speedups)


def ratio_interval(kernel: list[float], reference: list[float]) -> tuple[float, float]:
    """A 90 % bootstrap interval for median(kernel) / median(reference):
    each list resampled with replacement, RESAMPLES times (a fixed seed, so
    the same boots give the same interval)."""
    rng = random.Random(0)
    ratios = sorted(statistics.median(rng.choices(kernel, k=len(kernel)))
                    / statistics.median(rng.choices(reference, k=len(reference)))
                    for _ in range(RESAMPLES))
    return ratios[RESAMPLES // 20], ratios[RESAMPLES - 1 - RESAMPLES // 20]


def boot_times(bench: Bench) -> None:
    """Boot to `ready`: the three images alternating, BIOS_BOOTS times each
    under BIOS, BOOTS under UEFI; then this kernel against the reference."""
    menu = shipped_menu(bench.shipped_iso)
    images = {
        "shipped build/os.iso": bench.shipped_iso,
        "this kernel, default grub-mkrescue ISO": default_iso("kernel-default", bench.kernel, menu),
        "reference kernel, default grub-mkrescue ISO": default_iso("reference-default",
                                                                   bench.reference, menu),
    }
    kernel, reference = list(images)[1:]
    for firmware in ("bios", "uefi"):
        boots: dict[str, list[Boot]] = {name: [] for name in images}
        for _ in range(BIOS_BOOTS if firmware == "bios" else BOOTS):
            for name, iso in images.items():
                boots[name].append(must_boot(f"{name}, {firmware}",
                                             timed_boot(iso, firmware == "uefi")))
        for name, runs in boots.items():
            bench.add(f"boot to ready ({firmware.upper()}, {ACCEL}), wall time", name, "s",
                      [round(boot.seconds, 3) for boot in runs])
        for name, runs in boots.items():
            bench.add(f"boot to ready ({firmware.upper()}, {ACCEL}), QEMU's CPU time", name, "s",
                      [round(boot.cpu_seconds, 3) for boot in runs])
        cpu = {name: [boot.cpu_seconds for boot in runs] for name, runs in boots.items()}
        section = f"this kernel / the reference kernel ({firmware.upper()}, QEMU's CPU time)"
        low, high = ratio_interval(cpu[kernel], cpu[reference])
        bench.add(section, "ratio of the medians", "x",
                  [round(statistics.median(cpu[kernel]) / statistics.median(cpu[reference]), 3)])
        bench.add(section, "90 % bootstrap interval, low end", "x", [round(low, 3)])
        bench.add(section, "90 % bootstrap interval, high end", "x", [round(high, 3)])


def kernel_phases(bench: Bench) -> None:
    """The shipped kernel's boot phases (`loglevel=debug`), BOOTS boots
    under BIOS: cycles, and milliseconds at the benchmark build's rate."""
    iso = build_iso("bench-phases", cmdline="loglevel=debug", kernel=bench.kernel)
    phases: dict[str, list[int]] = {}
    for _ in range(BOOTS):
        output = must_boot("phases", timed_boot(iso, uefi=False)).output
        for line in kernel_lines(output):
            match = re.search(r"boot time: (.+): (\d+) cycles", line)
            if match:
                phases.setdefault(match.group(1), []).append(int(match.group(2)))
    section = "kernel boot phases (BIOS): trampoline's first instruction to ready"
    for name, cycles in phases.items():
        if bench.tsc_hz:
            bench.add(section, name, "ms", [round(c * 1000 / bench.tsc_hz, 3) for c in cycles])
        else:
            bench.add(section, name, "cycles", cycles)


def sizes(bench: Bench) -> None:
    """The ISO, the kernel file, its loaded bytes by part, .data and .bss."""
    section = "sizes"
    kib = 1024
    bench.add(section, "build/os.iso", "KiB", [bench.shipped_iso.stat().st_size / kib])
    bench.add(section, "kernel file GRUB loads (build/kernel.bin, packed)", "KiB",
              [bench.kernel.stat().st_size / kib])
    bench.add(section, "kernel ELF with debug information (build/kernel.elf)", "KiB",
              [bench.kernel_elf.stat().st_size / kib])
    bench.add(section, "GRUB loads: kernel.bin's PT_LOAD file sizes", "KiB",
              [elf_sizes.loaded_size(bench.kernel) / kib])
    full = elf_sizes.sections(bench.kernel_elf)
    bench.add(section, "unpacked: the image's PT_LOAD file sizes (kernel.elf)", "KiB",
              [elf_sizes.loaded_size(bench.kernel_elf) / kib])
    packed = elf_sizes.sections(bench.kernel)
    bench.add(section, "unpacked: kernel.bin's symbol table (.symtab + .strtab)", "KiB",
              [(packed[".symtab"].size + packed[".strtab"].size) / kib])
    bench.add(section, "in memory, .bss included", "KiB",
              [elf_sizes.memory_size(bench.kernel_elf) / kib])
    for name in (".boot", ".text", ".rodata", ".data", ".bss", ".symtab", ".strtab"):
        if name in full:
            bench.add(section, f"section {name} (kernel.elf)", "KiB", [full[name].size / kib])
    for part, size in elf_sizes.breakdown(bench.kernel_elf, FONT).items():
        bench.add("unpacked image bytes by part and dependency (symbol sizes)", part, "KiB",
                  [size / kib])


IDLE_SECONDS, KEYS = 10.0, 100


def idle_and_echo(bench: Bench) -> None:
    """The shipped kernel booted with `keytest`: QEMU's CPU share over
    IDLE_SECONDS of idling, then the echo time of KEYS keys on serial."""
    iso = build_iso("bench-keytest", cmdline="keytest", kernel=bench.kernel)
    shares, latencies = [], []
    for _ in range(RUNS):
        with HarnessBoot("bench-keytest", iso, serial_input=True,
                         timeout=BENCH_TIMEOUT) as boot:
            boot.wait_for_line(r"^keytest: type keys", regex=True)
            before, start = cpu_seconds(boot.proc.pid), time.monotonic()
            time.sleep(IDLE_SECONDS)
            used = cpu_seconds(boot.proc.pid) - before
            shares.append(round(used / (time.monotonic() - start) * 100, 2))
            for _ in range(KEYS):
                offset = boot.received_length()
                sent = time.perf_counter()
                boot.send_serial(b"k")
                check(boot, boot.wait_received(b"k", offset), "a key was not echoed within 10 s")
                latencies.append(round((time.perf_counter() - sent) * 1000, 3))
    bench.add("idle kernel and input (keytest, BIOS)",
              f"QEMU's CPU over {IDLE_SECONDS:.0f} s idle (target under 5)", "% of a core", shares)
    bench.add("idle kernel and input (keytest, BIOS)",
              f"key on serial to its echo ({KEYS} keys per run)", "ms", latencies)


def smallest_ram(bench: Bench) -> None:
    """The least RAM (whole MiB) the shipped ISO reaches `ready` in, under
    BIOS: a bisection between 1 MiB and 128 MiB."""
    low, high = 1, 128  # low: assumed too little; high: boots
    while high - low > 1:
        middle = (low + high) // 2
        boot = timed_boot(bench.shipped_iso, uefi=False, memory=f"{middle}M", timeout=20)
        low, high = (low, middle) if boot.seconds is not None else (middle, high)
    bench.add("smallest RAM that boots", "shipped build/os.iso, BIOS", "MiB", [high])


def iso_build_time(bench: Bench) -> None:
    """`make iso` after touching one source file (cargo rebuilds the crate,
    ld relinks, grub-mkrescue packs)."""
    values = []
    for _ in range(RUNS):
        (ROOT / "src" / "lib.rs").touch()
        begin = time.monotonic()
        result = subprocess.run(["make", "-s", "--no-print-directory", "iso"], cwd=ROOT,
                                capture_output=True, text=True)
        check(None, result.returncode == 0, f"make iso failed:\n{result.stdout}{result.stderr}")
        values.append(round(time.monotonic() - begin, 2))
    bench.add("build", "make iso after touching src/lib.rs", "s", values)


# In this order: the benchmark build first (the counter's rate for the
# phases, and its figures for the threads' comparison); `make iso` last (it
# rewrites build/os.iso, of which the boots use a copy anyway).
# --- programs: system calls against Linux (issue 26) --------------------------------

def programs(bench: Bench) -> None:
    """user/c/kbench.c under kestrel (the shipped ISO, from the shell) and
    under Linux 6.1 (as /init), alternating, RUNS boots each, both `-cpu
    qemu64 -m 256M -smp 1` (tests/user_bench.py): per boot the median of
    its rounds, TSC cycles per operation; then the ratio of the medians
    (the issue's target: 0.5 or less on every row)."""
    kestrel: dict[str, list[float]] = {name: [] for name in user_bench.FIGURES}
    linux: dict[str, list[float]] = {name: [] for name in user_bench.FIGURES}
    for _ in range(RUNS):
        ours, theirs = user_bench.run(bench.shipped_iso)
        for name in user_bench.FIGURES:
            if ours[name]:
                kestrel[name].append(statistics.median(ours[name]))
            if theirs[name]:
                linux[name].append(statistics.median(theirs[name]))
    section = "programs: one static binary (kbench) under kestrel and Linux 6.1, cycles"
    for name, what in user_bench.FIGURES.items():
        bench.add(section, f"kestrel: {what}", "cycles", kestrel[name])
        bench.add(section, f"Linux: {what}", "cycles", linux[name])
        if kestrel[name] and linux[name]:
            bench.add(section, f"kestrel / Linux, medians: {what}", "x",
                      [round(statistics.median(kestrel[name]) / statistics.median(linux[name]), 3)])


MEASUREMENTS = [kernel_benchmarks, threads, smp, programs, boot_times, kernel_phases, sizes,
                idle_and_echo, smallest_ram, iso_build_time]


# --- the table ---------------------------------------------------------------------

def number(value: float) -> str:
    if value == int(value):
        return f"{int(value)}"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"


def table(figures: list[Figure]) -> str:
    width = max(len(f.name) for f in figures) + 2
    lines = [f"{'figure':<{width}} {'unit':>9} {'median':>12} {'min':>12} {'max':>12} {'runs':>5}"]
    section = None
    for figure in figures:
        if figure.section != section:
            section = figure.section
            lines.append(f"-- {section}")
        s = figure.summary()
        lines.append(f"  {figure.name:<{width - 2}} {figure.unit:>9} {number(s['median']):>12} "
                     f"{number(s['min']):>12} {number(s['max']):>12} {s['runs']:>5}")
    return "\n".join(lines)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    # A copy: `make iso` (the last measurement) rewrites build/os.iso.
    shipped = OUT / "shipped.iso"
    shutil.copy(BUILD / "os.iso", shipped)
    bench = Bench(
        shipped_iso=shipped,
        kernel=BUILD / "kernel.bin",
        kernel_elf=BUILD / "kernel.elf",
        bench_kernel=Path(os.environ.get("BENCH_KERNEL", BUILD / "kernel-bench.bin")).resolve(),
        reference=Path(os.environ.get("REFERENCE", BUILD / "reference.bin")).resolve(),
    )
    only = os.environ.get("ONLY")  # e.g. ONLY=sizes,boot_times while working on one
    try:
        for measure in MEASUREMENTS:
            if only and measure.__name__ not in only.split(","):
                continue
            print(f"bench: {measure.__name__} ...", file=sys.stderr, flush=True)
            measure(bench)
    except TestFailure as failure:
        print(f"bench failed: {failure}", file=sys.stderr)
        return 1
    print(f"accelerator: {ACCEL}; {BIOS_BOOTS} boots per image under BIOS and {BOOTS} under "
          f"UEFI, alternating; "
          f"{RUNS} runs of the benchmark build and of make iso; "
          f"timestamp counter {bench.tsc_hz / 1e6:.0f} MHz")
    print(table(bench.figures))
    (BUILD / "bench.json").write_text(json.dumps({
        "accelerator": ACCEL, "boots": BOOTS, "bios_boots": BIOS_BOOTS, "runs": RUNS,
        "tsc_hz": bench.tsc_hz,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "figures": [f.summary() for f in bench.figures]}, indent=1) + "\n")
    print(f"written to {BUILD / 'bench.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

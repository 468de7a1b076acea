"""Linux in the same QEMU, for scale (issue 23): kestrel's thread figures
beside Linux 6.1's, measured in the same emulator and the same run.

`run()` builds bench/linux/threads.c with `musl-gcc -static -O2` into
build/linux-bench/, packs it as /init of an initramfs (a cpio `newc`
archive, written here), boots Debian's Linux kernel (tests/debian_linux.py
downloads and caches it) straight from QEMU with that initramfs, and
returns the figures the program prints: TSC cycles per thread switch (two
threads handing a turn to each other with sched_yield) and per
pthread_create + pthread_join, one value per round. The program powers the
machine off when done; a bound on the time stops a boot that hangs.

Not like for like: every Linux figure includes a system call.

Used by tests/bench.py (`make bench`); to try it alone:
    /usr/bin/python3 -c 'import sys; sys.path.insert(0, "tests"); \\
        import linux_bench; print(linux_bench.run())'
Failures raise harness.TestFailure with what to do (musl-gcc missing: run
scripts/setup.sh; Linux not downloadable: say so).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import debian_linux
from harness import BUILD, ROOT, TestFailure, check

SOURCE = ROOT / "bench" / "linux" / "threads.c"
OUT = BUILD / "linux-bench"
PROGRAM = OUT / "threads"
INITRAMFS = OUT / "init.cpio"
CFLAGS = ["-static", "-O2", "-Wall", "-Wextra", "-Werror"]

ACCEL = os.environ.get("ACCEL", "tcg")
# As FACTS.md measured it: TCG, the plain 64-bit CPU model, one CPU.
QEMU_MACHINE = ["-cpu", "qemu64", "-m", "256M", "-smp", "1"]
APPEND = "console=ttyS0 quiet panic=-1"
# Only stops a boot that hangs: a whole run takes about 5 s under TCG.
TIMEOUT = 120.0

# The figures the program prints, one line per round; warm-up rounds say
# `warm-up` before the name and are not figures.
FIGURES = ("yield-switch", "spawn-join")
LINE = re.compile(r"^bench: linux (yield-switch|spawn-join) cycles=(\d+)"
                  r"(?: switches=(\d+) yields=(\d+))?", re.M)
DONE = "bench: linux done"
ERROR = re.compile(r"^bench: linux error .*$", re.M)


# --- cpio newc ------------------------------------------------------------------------

NEWC_MAGIC = b"070701"
TRAILER = "TRAILER!!!"


@dataclass
class Entry:
    """One member of a cpio archive: `mode` holds the file type bits too
    (stat.S_IFREG, S_IFDIR, S_IFCHR); `rdev` is (major, minor) of a device."""
    name: str
    mode: int
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)
    mtime: int = 0


def _pad4(length: int) -> bytes:
    return b"\0" * (-length % 4)


def newc(entries: list[Entry]) -> bytes:
    """The entries as a cpio `newc` archive (what `cpio -o -H newc` writes,
    and Linux's initramfs reads): per member a 110-byte header of `070701`
    and 13 eight-digit hex fields, the NUL-terminated name padded to a
    multiple of 4 bytes with the header, the data padded to 4; then a
    `TRAILER!!!` member. Owner root, one link each, distinct inodes."""
    out = bytearray()
    for inode, entry in enumerate([*entries, Entry(TRAILER, 0)], start=1):
        name = entry.name.encode() + b"\0"
        trailer = entry.name == TRAILER
        fields = (0 if trailer else inode, entry.mode, 0, 0,
                  1 if trailer else (2 if stat.S_ISDIR(entry.mode) else 1),
                  entry.mtime, len(entry.data), 0, 0, entry.rdev[0], entry.rdev[1],
                  len(name), 0)
        header = NEWC_MAGIC + b"".join(b"%08X" % field for field in fields)
        out += header + name + _pad4(len(header) + len(name))
        out += entry.data + _pad4(len(entry.data))
    return bytes(out)


def read_newc(archive: bytes) -> list[Entry]:
    """The members of a `newc` archive (the trailer left out): the inverse
    of newc(), for the tests. Raises ValueError on a damaged archive."""
    entries, offset = [], 0
    while True:
        header = archive[offset:offset + 110]
        if len(header) < 110 or header[:6] != NEWC_MAGIC:
            raise ValueError(f"no newc header at byte {offset}")
        fields = [int(header[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        mode, mtime, size = fields[1], fields[5], fields[6]
        rdev, name_size = (fields[9], fields[10]), fields[11]
        name_start = offset + 110
        name = archive[name_start:name_start + name_size]
        if len(name) != name_size or not name.endswith(b"\0"):
            raise ValueError(f"damaged name at byte {name_start}")
        data_start = name_start + name_size + (-(110 + name_size) % 4)
        data = archive[data_start:data_start + size]
        if len(data) != size:
            raise ValueError(f"member {name[:-1]!r} is cut short")
        offset = data_start + size + (-size % 4)
        if name[:-1].decode() == TRAILER:
            return entries
        entries.append(Entry(name[:-1].decode(), mode, data, rdev, mtime))


def initramfs(program: bytes) -> bytes:
    """An initramfs with `program` as /init, and /dev/console (5, 1), which
    the kernel opens as PID 1's stdin, stdout and stderr (Debian's kernel has
    it in its built-in initramfs too; this does not depend on that)."""
    return newc([
        Entry("dev", stat.S_IFDIR | 0o755),
        Entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1)),
        Entry("init", stat.S_IFREG | 0o755, program),
    ])


# --- building and booting ---------------------------------------------------------------

def musl_gcc() -> str:
    path = shutil.which("musl-gcc")
    check(None, path is not None,
          "musl-gcc not found: the Linux comparison builds a static program with it. "
          "Run scripts/setup.sh (it installs Debian's musl-tools), or "
          "`apt-get install musl-tools`")
    return path


def compile_program(source: Path, output: Path) -> None:
    """`musl-gcc -static -O2` of `source` into `output`."""
    output.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([musl_gcc(), *CFLAGS, "-o", str(output), str(source)],
                            capture_output=True, text=True)
    check(None, result.returncode == 0,
          f"musl-gcc could not build {source.relative_to(ROOT)}:\n{result.stdout}{result.stderr}")


def build() -> Path:
    """build/linux-bench/init.cpio, rebuilt when threads.c is newer."""
    if not PROGRAM.exists() or PROGRAM.stat().st_mtime < SOURCE.stat().st_mtime:
        compile_program(SOURCE, PROGRAM)
    if not INITRAMFS.exists() or INITRAMFS.stat().st_mtime < PROGRAM.stat().st_mtime:
        partial = INITRAMFS.with_suffix(".partial")
        partial.write_bytes(initramfs(PROGRAM.read_bytes()))
        partial.rename(INITRAMFS)
    return INITRAMFS


def linux_kernel() -> Path:
    try:
        return debian_linux.vmlinuz()
    except TestFailure as failure:
        raise TestFailure("Linux for the comparison could not be had (Debian's "
                          f"linux-image package, cached in build/linux/): {failure}") from None


def qemu_command(vmlinuz: Path, initrd: Path) -> list[str]:
    return ["qemu-system-x86_64", "-accel", ACCEL, *QEMU_MACHINE,
            "-kernel", str(vmlinuz), "-initrd", str(initrd), "-append", APPEND,
            "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot"]


def parse(output: str) -> dict[str, list[int]]:
    """{"yield-switch": [cycles per round], "spawn-join": [...]} from the
    program's lines (warm-up rounds left out)."""
    figures: dict[str, list[int]] = {name: [] for name in FIGURES}
    for name, cycles, _, _ in LINE.findall(output.replace("\r", "")):
        figures[name].append(int(cycles))
    return figures


def yields_per_switch(output: str) -> list[float]:
    """Per yield-switch round, sched_yield calls per hand-over: 1.0 when
    every call switched to the other thread. More means some calls gave the
    CPU back to the caller (CFS can pick the caller again, e.g. when the
    other thread's virtual runtime is far enough ahead; not looked into
    further); their time is in the round's cycles per switch."""
    return [round(int(yields) / int(switches), 3)
            for name, _, switches, yields in LINE.findall(output.replace("\r", ""))
            if name == "yield-switch" and switches]


@dataclass
class Run:
    """One boot: the figures per round, sched_yield calls per hand-over per
    round, Linux's release, the serial output and the wall seconds from
    QEMU's start to its exit."""
    figures: dict[str, list[int]]
    yields_per_switch: list[float]
    release: str
    output: str
    seconds: float


def boot() -> Run:
    """Boots Linux once with the initramfs; the figures it printed."""
    vmlinuz, initrd = linux_kernel(), build()
    command = qemu_command(vmlinuz, initrd)
    begin = time.monotonic()
    try:
        result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                                timeout=TIMEOUT)
        output, status = result.stdout.decode(errors="replace"), result.returncode
    except subprocess.TimeoutExpired as expired:  # subprocess.run killed QEMU
        output, status = (expired.stdout or b"").decode(errors="replace"), None
    seconds = time.monotonic() - begin
    tail = f"\ncommand: {' '.join(command)}\nserial output (end):\n{output[-3000:]}"
    error = ERROR.search(output.replace("\r", ""))
    check(None, error is None, f"the Linux benchmark program failed: {error and error.group(0)}"
                               + tail)
    check(None, DONE in output,
          (f"Linux did not finish the benchmark within {TIMEOUT:.0f} s" if status is None else
           f"QEMU exited with status {status} before the benchmark program was done") + tail)
    figures = parse(output)
    check(None, all(figures.values()), f"no figure for {[n for n, v in figures.items() if not v]}"
                                       + tail)
    return Run(figures, yields_per_switch(output), debian_linux.version(vmlinuz), output, seconds)


def run() -> dict[str, list[int]]:
    """One boot's figures: {"yield-switch": [...], "spawn-join": [...]},
    TSC cycles per switch and per create + join pair, one per round."""
    return boot().figures

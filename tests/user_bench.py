"""System calls and programs, kestrel against Linux in the same QEMU
(issue 26): one static binary, user/c/kbench.c (musl-gcc -static), run
under both.

- Linux 6.1 (tests/debian_linux.py) boots straight from QEMU with an
  initramfs whose /init is kbench and /true the Rust `true` program; as PID
  1 kbench also forks a partner for the sched_yield ping-pong and times
  posix_spawn + waitpid of /true, then powers off.
- kestrel boots the shipped ISO; over serial the shell runs `kbench`, then
  `kbench pingpong N START &` twice (no fork: the shell starts both, and
  both begin at START on CLOCK_MONOTONIC, read from `uptime`), then `time
  /bin/true` (the shell's spawn path, timed in the kernel: from before the
  program is loaded to after it is reaped).

Both machines: TCG, `-cpu qemu64`, 256 MiB, one CPU. The figures are TSC
cycles per operation (the guest's counter runs at the host's rate on both).
`run()` returns {figure: [values]} per kernel; tests/bench.py (`make
bench`, ONLY=programs) prints the medians and the ratios. Not a test.
"""

from __future__ import annotations

import re
import stat
import subprocess
import time
from pathlib import Path

import linux_bench
from harness import BUILD, Boot, TestFailure, check
from linux_bench import Entry
from terminal import prompts, run as shell_run, shell_lines, wait_for_prompt

KBENCH = BUILD / "user" / "c" / "kbench"
TRUE = BUILD / "user" / "rust" / "true"
OUT = BUILD / "user-bench"
MACHINE = ["-cpu", "qemu64", "-m", "256M", "-smp", "1"]
LINE = re.compile(r"bench: (getpid|write1|mmap64k|pingpong|spawn) cycles=(\d+)")
TIME = re.compile(r"^time: (\d+) cycles", re.M)
# What each figure is, for the table.
FIGURES = {
    "getpid": "getpid round trip",
    "write1": "write of 1 byte to the console",
    "mmap64k": "mmap + munmap of 64 KiB",
    "pingpong": "sched_yield ping-pong of two processes, per yield",
    "spawn": "run a trivial program and wait for it",
}
PINGPONG_YIELDS = 20000
SPAWNS = 7


def parse(text: str) -> dict[str, list[int]]:
    figures: dict[str, list[int]] = {name: [] for name in FIGURES}
    for name, cycles in LINE.findall(text.replace("\r", "")):
        figures[name].append(int(cycles))
    return figures


def linux() -> dict[str, list[int]]:
    """One Linux boot's figures."""
    OUT.mkdir(parents=True, exist_ok=True)
    initrd = OUT / "init.cpio"
    initrd.write_bytes(linux_bench.newc([
        Entry("dev", stat.S_IFDIR | 0o755),
        Entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1)),
        Entry("init", stat.S_IFREG | 0o755, KBENCH.read_bytes()),
        Entry("true", stat.S_IFREG | 0o755, TRUE.read_bytes()),
    ]))
    command = ["qemu-system-x86_64", "-accel", linux_bench.ACCEL, *MACHINE,
               "-kernel", str(linux_bench.linux_kernel()), "-initrd", str(initrd),
               "-append", linux_bench.APPEND, "-display", "none", "-monitor", "none",
               "-serial", "stdio", "-no-reboot"]
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                            timeout=linux_bench.TIMEOUT)
    output = result.stdout.decode(errors="replace")
    check(None, "bench: done" in output, f"Linux did not finish kbench:\n{output[-3000:]}")
    return parse(output)


def kestrel(iso: Path) -> dict[str, list[int]]:
    """One kestrel boot's figures."""
    with Boot("user-bench", iso, serial_input=True, qemu_args=MACHINE, memory="256M") as boot:
        boot.wait_for_line("ready")
        wait_for_prompt(boot)
        shell_run(boot, "kbench")
        # Both ping-pong processes start at the same moment, a second ahead.
        uptime = re.search(r"uptime: (\d+)\.(\d+) s", "\n".join(shell_run(boot, "uptime")))
        start_ms = int(uptime.group(1)) * 1000 + int(uptime.group(2)) + 1500
        count = prompts(boot)
        for _ in range(2):
            boot.send_serial(f"kbench pingpong {PINGPONG_YIELDS} {start_ms} &\r".encode())
            time.sleep(0.2)
        deadline = time.monotonic() + 120
        while len(re.findall(r"bench: pingpong cycles=", boot.serial())) < 2:
            check(boot, time.monotonic() < deadline, "the ping-pong did not finish")
            time.sleep(0.2)
        boot.send_serial(b"\r")
        wait_for_prompt(boot, count + 3)
        for _ in range(SPAWNS):
            shell_run(boot, "time /bin/true")
        text = boot.serial()
    figures = parse(text)
    figures["spawn"] = [int(cycles) for cycles in TIME.findall(text.replace("\r", ""))]
    return figures


def run(iso: Path) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """(kestrel's figures, Linux's), each from one boot."""
    if not KBENCH.exists() or not TRUE.exists():
        raise TestFailure("build/user/ has no kbench or true: run `make iso` first")
    return kestrel(iso), linux()

"""The Linux side of the thread benchmark (tests/linux_bench.py), without
booting Linux (`make bench` does that): the cpio `newc` writer against its
own reader and against GNU cpio, the initramfs it packs, the parsing of the
program's lines, and that bench/linux/threads.c builds with musl-gcc and
runs on the host."""

from __future__ import annotations

import shutil
import stat
import subprocess

import pytest

import linux_bench
from harness import check
from linux_bench import Entry

CPIO = shutil.which("cpio")
MUSL_GCC = shutil.which("musl-gcc")


def sample() -> list[Entry]:
    """Names and sizes that exercise every padding case (name + header and
    data, each 0-3 bytes short of a multiple of 4), a directory, a device."""
    return [
        Entry("dev", stat.S_IFDIR | 0o755, mtime=1_700_000_000),
        Entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1)),
        *(Entry(f"f{'x' * n}", stat.S_IFREG | 0o644, bytes(range(n * 7 % 256)) * (n + 1))
          for n in range(8)),
        Entry("init", stat.S_IFREG | 0o755, b"\x7fELF" + bytes(1001)),
    ]


def test_newc_round_trips():
    """read_newc(newc(x)) == x, and the archive has the fixed layout: every
    member on a 4-byte boundary, ending in the trailer."""
    entries = sample()
    archive = linux_bench.newc(entries)
    check(None, linux_bench.read_newc(archive) == entries, "the archive does not read back")
    check(None, len(archive) % 4 == 0, f"archive length {len(archive)} is not a multiple of 4")
    check(None, b"TRAILER!!!\0" in archive[-128:], "no trailer at the end")
    with pytest.raises(ValueError):
        linux_bench.read_newc(archive[:-200])


@pytest.mark.skipif(CPIO is None, reason="GNU cpio is not installed (scripts/setup.sh installs it)")
def test_gnu_cpio_reads_the_archive(tmp_path):
    """GNU cpio lists the members and extracts each file byte for byte, with
    its mode; what it writes with -H newc reads back with read_newc."""
    entries = [e for e in sample() if not stat.S_ISCHR(e.mode)]  # mknod needs no root here
    archive = linux_bench.newc(entries)
    listing = subprocess.run([CPIO, "-t", "--quiet"], input=archive, capture_output=True)
    check(None, listing.returncode == 0, f"cpio -t failed: {listing.stderr.decode()}")
    check(None, listing.stdout.decode().split() == [e.name for e in entries],
          f"cpio -t lists {listing.stdout.decode().split()}")
    out = tmp_path / "out"
    out.mkdir()
    extract = subprocess.run([CPIO, "-i", "-d", "--quiet", "--no-absolute-filenames"],
                             input=archive, cwd=out, capture_output=True)
    check(None, extract.returncode == 0, f"cpio -i failed: {extract.stderr.decode()}")
    for entry in entries:
        path = out / entry.name
        check(None, stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(entry.mode),
              f"{entry.name}: mode {oct(path.stat().st_mode)}, wrote {oct(entry.mode)}")
        if stat.S_ISREG(entry.mode):
            check(None, path.read_bytes() == entry.data, f"{entry.name}: other bytes")
    # The other way: GNU cpio's own newc archive of the extracted tree.
    written = subprocess.run([CPIO, "-o", "-H", "newc", "--quiet"], cwd=out, capture_output=True,
                             input="\n".join(e.name for e in entries).encode())
    check(None, written.returncode == 0, f"cpio -o failed: {written.stderr.decode()}")
    read = {e.name: e for e in linux_bench.read_newc(written.stdout)}
    for entry in entries:
        check(None, read[entry.name].mode == entry.mode
              and read[entry.name].data == (entry.data if stat.S_ISREG(entry.mode) else b""),
              f"{entry.name}: GNU cpio's archive reads back otherwise")


def test_initramfs_holds_init_and_console():
    """/init with the program, executable; /dev/console as the kernel's
    character device 5:1 (PID 1's stdin, stdout and stderr)."""
    members = {e.name: e for e in linux_bench.read_newc(linux_bench.initramfs(b"program"))}
    check(None, members["init"].data == b"program" and members["init"].mode & 0o111,
          "/init is not the program, executable")
    console = members["dev/console"]
    check(None, stat.S_ISCHR(console.mode) and console.rdev == (5, 1),
          f"/dev/console is mode {oct(console.mode)}, device {console.rdev}")
    check(None, stat.S_ISDIR(members["dev"].mode), "/dev is not a directory")


OUTPUT = """\
[    1.0] some kernel line
bench: linux threads: as /init, 7 rounds of 5000 hand-overs and of 100 pairs\r
bench: linux warm-up yield-switch cycles=99999 switches=1000 yields=1000\r
bench: linux yield-switch cycles=15000 switches=10000 yields=10000\r
bench: linux yield-switch cycles=16000 switches=10000 yields=12500\r
bench: linux warm-up spawn-join cycles=88888 pairs=10\r
bench: linux spawn-join cycles=2000000 pairs=100\r
bench: linux done\r
"""


def test_parse_leaves_warm_up_out():
    check(None, linux_bench.parse(OUTPUT) == {"yield-switch": [15000, 16000],
                                              "spawn-join": [2000000]},
          f"parsed {linux_bench.parse(OUTPUT)}")
    check(None, linux_bench.yields_per_switch(OUTPUT) == [1.0, 1.25],
          f"yields per switch {linux_bench.yields_per_switch(OUTPUT)}")


@pytest.mark.skipif(MUSL_GCC is None, reason="musl-gcc is not installed (scripts/setup.sh "
                                             "installs musl-tools)")
def test_threads_program_builds_and_runs_on_the_host(tmp_path):
    """bench/linux/threads.c builds with `musl-gcc -static -O2` (warnings
    are errors) into a static program; run on the host (not PID 1) it prints
    every figure and `done`, and does not power anything off."""
    program = tmp_path / "threads"
    linux_bench.compile_program(linux_bench.SOURCE, program)
    file_type = subprocess.run(["file", "-b", str(program)], capture_output=True, text=True)
    if file_type.returncode == 0:  # `file` is not everywhere
        check(None, "statically linked" in file_type.stdout or "static-pie" in file_type.stdout,
              f"not a static program: {file_type.stdout}")
    result = subprocess.run([str(program)], capture_output=True, text=True, timeout=120)
    check(None, result.returncode == 0 and linux_bench.DONE in result.stdout,
          f"exit status {result.returncode}:\n{result.stdout}{result.stderr}")
    figures = linux_bench.parse(result.stdout)
    check(None, all(len(values) >= 5 and min(values) > 0 for values in figures.values()),
          f"figures {figures}")

"""End-to-end tests of user mode (issue 26): programs from the initrd run in
ring 3 from the shell, on Linux's system-call ABI, each in its own address
space; a fault kills only the program; hostile system calls get errors;
the terminal reads lines; SMEP and SMAP guard the kernel where the CPU has
them; and one musl binary prints the same under Linux and under kestrel.

Every test boots the real ISO (its initrd is build/initrd.tar, which
`make iso` builds from user/) and types over serial."""

from __future__ import annotations

import re
import stat
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

import linux_bench
from harness import BUILD, ROOT, build_iso, check
from linux_bench import Entry
from terminal import PROMPT, prompts, run, shell_lines, wait_for_prompt

INITRD = BUILD / "initrd.tar"
PROGRAMS = ["cat", "echo", "false", "fault", "hello", "kbench", "ls", "same", "sleep",
            "spin", "sysfuzz", "true"]
# `fault KIND` and what its report must say after `killed: `.
FAULTS = {
    "read": r"page fault reading 0x10 \(not mapped\) at rip 0x4[0-9a-f]+",
    "write": r"page fault writing 0x10 \(not mapped\) at rip 0x4[0-9a-f]+",
    "exec": r"page fault executing 0x[0-9a-f]+ \(not allowed\) at rip 0x[0-9a-f]+",
    "cli": r"general protection fault \(error code 0x0\) at rip 0x4[0-9a-f]+",
    "hlt": r"general protection fault \(error code 0x0\) at rip 0x4[0-9a-f]+",
    "io": r"general protection fault \(error code 0x0\) at rip 0x4[0-9a-f]+",
    "kernel-jump": r"page fault executing 0xffffffff80100000 \(not mapped\) at rip 0xffffffff80100000",
    "kernel-write": r"page fault writing 0xffffffff80100000 \(not (mapped|allowed)\) at rip 0x4[0-9a-f]+",
    "kernel-read": r"page fault reading 0xffffffff80100000 \(not (mapped|allowed)\) at rip 0x4[0-9a-f]+",
    "divide": r"divide error at rip 0x4[0-9a-f]+",
    "opcode": r"invalid opcode at rip 0x4[0-9a-f]+",
    "stack": r"stack overflow: page fault writing 0x7ff[0-9a-f]+ \(not mapped\) at rip 0x4[0-9a-f]+",
    "abort": r"aborted \(SIGABRT\)",
    "assert": r"aborted \(SIGABRT\)",
}
# How long a long-running program may take to give the prompt back.
LONG = 600.0


def shell(qemu, name: str, **options):
    """A boot at its first prompt, typed on over serial."""
    boot = qemu(name, serial_input=True, **options)
    boot.wait_for_line("ready")
    wait_for_prompt(boot)
    return boot


def run_long(boot, line: str, timeout: float = LONG) -> list[str]:
    """`run`, for a program that takes a while."""
    before = prompts(boot)
    count = len(shell_lines(boot))
    boot.send_serial(line.encode() + b"\r")
    wait_for_prompt(boot, before + 1, timeout=timeout)
    return shell_lines(boot)[count:-1]


def background(boot, command: str, first_line: str) -> int:
    """Starts `command &`, waits for the program's `first_line` (which
    lands after the prompt), gets a fresh prompt with an empty line, and
    returns the program's ID (the shell's `[PID] command` line)."""
    count = prompts(boot)
    lines_before = len(shell_lines(boot))
    boot.send_serial(command.encode() + b" &\r")
    deadline = time.monotonic() + 30
    # The program's line may share the new prompt's row (it comes after it).
    while not any(line.endswith(first_line) for line in shell_lines(boot)[lines_before:]):
        check(boot, time.monotonic() < deadline, f"{command} did not start")
        time.sleep(0.1)
    started = [line for line in shell_lines(boot)[lines_before:]
               if re.fullmatch(rf"\[\d+\] {re.escape(command.split()[0])}", line)]
    check(boot, len(started) == 1, f"no [PID] line for {command}")
    boot.send_serial(b"\r")
    wait_for_prompt(boot, count + 2)
    return int(started[0][1:started[0].index("]")])


def free_frames(boot) -> int:
    """The free frames `mem` reports."""
    for line in run(boot, "mem"):
        match = re.match(r"^frames: (\d+) free of", line)
        if match:
            return int(match.group(1))
    check(boot, False, "no frames: line in `mem`")


def initrd_members() -> list[tarfile.TarInfo]:
    with tarfile.open(INITRD) as archive:
        return archive.getmembers()


def test_programs_run_from_the_shell(qemu):
    """The boot report counts the initrd's files; `hello a b c` prints its
    arguments (C), `echo`, `true` and `false` are Rust programs (the shell
    reports a non-zero exit status), `ls /bin` lists the programs, `cat`
    prints an initrd file byte for byte, a path runs the program even when
    a built-in has its name, and a name that is neither says so."""
    boot = shell(qemu, "user-programs")
    files = [m for m in initrd_members() if m.isfile()]
    kib = (sum(m.size for m in files) + 1023) // 1024
    boot.wait_for_line(rf"^initrd: {len(files)} files, {kib} KiB$", regex=True)

    check(boot, run(boot, "hello a b c") ==
          ["hello from kestrel", "argv[1] = a", "argv[2] = b", "argv[3] = c"],
          "hello's arguments")
    check(boot, run(boot, "/bin/echo rust  says hi") == ["rust says hi"], "the Rust echo")
    check(boot, run(boot, "true") == [], "true printed something")
    check(boot, run(boot, "false") == ["false: exit status 1"], "false's exit status")
    check(boot, run(boot, "ls /bin") == PROGRAMS, "ls /bin")
    check(boot, run(boot, "ls /") == ["bin/", "data/", "etc/"], "ls /")
    greeting = (ROOT / "user" / "initrd" / "data" / "greeting.txt").read_text()
    before = len(boot.received_bytes())
    check(boot, run(boot, "cat /data/greeting.txt") == greeting.splitlines(), "cat")
    raw = boot.received_bytes()[before:].replace(b"\r\n", b"\n")
    check(boot, greeting.encode() in raw, "cat's bytes differ from the file's")
    # The built-in `spin` wins over /bin/spin; the path runs the program.
    check(boot, run(boot, "spin") == ["usage: spin SECONDS"], "the built-in spin")
    check(boot, run(boot, "/bin/spin 0") == ["spin: 0"], "/bin/spin")
    check(boot, run(boot, "nosuchthing") == ["unknown command: nosuchthing (try help)"],
          "an unknown name")
    check(boot, run(boot, "/bin/nothing") == ["/bin/nothing: no such file"], "a missing path")
    check(boot, run(boot, "/data/greeting.txt") ==
          ["/data/greeting.txt: cannot run it: not an ELF file"], "a file that is no program")
    check(boot, run(boot, "/data") == ["/data: is a directory"], "a directory")
    check(boot, run(boot, "cat /nothing") == ["cat: /nothing: No such file or directory",
                                              "cat: exit status 1"], "cat of a missing file")


def test_faults_kill_only_the_program(qemu):
    """Every `fault KIND` ends its program with its report and the shell
    answers after each; a system call with a kernel pointer gets -EFAULT;
    after a warm-up round the killed programs give every frame back."""
    boot = shell(qemu, "user-faults")
    for kind in FAULTS:  # warm-up: the heap and the frame caches settle
        run(boot, f"fault {kind}")
    before = free_frames(boot)
    for kind, report in FAULTS.items():
        lines = run(boot, f"fault {kind}")
        check(boot, lines[0] == f"fault: {kind}", f"fault {kind} did not start: {lines}")
        check(boot, re.fullmatch(rf"fault\[\d+\]: killed: {report}", lines[-1]),
              f"fault {kind}'s report: {lines}")
        check(boot, run(boot, "echo alive") == ["alive"], f"no answer after fault {kind}")
    check(boot, run(boot, "fault efault") ==
          ["fault: efault", "efault: write returned -14, read returned -14"], "-EFAULT")
    check(boot, free_frames(boot) == before, "frames lost to killed programs")


@pytest.mark.slow
def test_sysfuzz_two_seeds(qemu):
    """100,000 random, hostile system calls with each of two seeds: the
    kernel answers every one (the program ends with its summary and exit
    status 0) and the shell still works."""
    boot = shell(qemu, "user-sysfuzz")
    for seed in (1, 2):
        lines = run_long(boot, f"sysfuzz {seed} 100000")
        summary = [line for line in lines if line.startswith(f"sysfuzz: seed {seed}:")]
        check(boot, len(summary) == 1 and re.search(r": 100000 calls, \d+ ok", summary[0]),
              f"sysfuzz {seed}: {lines[-5:]}")
        check(boot, not any("exit status" in line or "killed" in line for line in lines),
              f"sysfuzz {seed} did not end well: {lines[-5:]}")
    check(boot, run(boot, "echo alive") == ["alive"], "no answer after sysfuzz")


def test_terminal_lines_eof_and_ctrl_c(qemu):
    """`cat` reads typed lines (echoed, Backspace edits them) and ends at
    Ctrl-D; Ctrl-C ends a program that spins in ring 3 and one that sleeps;
    a program in the background shows in `ps` and `kill` ends it."""
    boot = shell(qemu, "user-terminal")
    start = prompts(boot)
    boot.send_serial(b"cat\r")
    time.sleep(1)
    boot.send_serial(b"first line\r")
    boot.send_serial(b"abx\x7fc\r")
    boot.send_serial(b"\x04")
    wait_for_prompt(boot, start + 1)
    check(boot, shell_lines(boot)[-6:-1] ==
          ["kestrel> cat", "first line", "first line", "abc", "abc"],
          f"cat's lines: {shell_lines(boot)[-7:]}")

    for command in ("/bin/spin", "/bin/sleep 100"):
        count = prompts(boot)
        boot.send_serial(command.encode() + b"\r")
        boot.wait_for_line(r"^(spin: for ever|sleep: 100 s)\r?$", regex=True)
        boot.send_serial(b"\x03")
        wait_for_prompt(boot, count + 1, timeout=30)
        check(boot, re.search(r"^(spin|sleep)\[\d+\]: killed: interrupted\r?$", boot.serial(), re.M),
              f"no report after Ctrl-C of {command}")

    pid = background(boot, "/bin/spin", "spin: for ever")
    check(boot, any(re.match(rf"^\s+{pid} spin\s+\d+\s+\d+$", line) for line in run(boot, "ps")),
          "ps does not list the program")
    lines = run(boot, f"kill {pid}")
    check(boot, f"spin[{pid}]: killed: interrupted" in lines, f"kill {pid}: {lines}")
    check(boot, run(boot, "echo alive") == ["alive"], "no answer after kill")


@pytest.mark.parametrize("cpus", [1, 2])
def test_user_pages_while_a_program_sleeps(qemu, cpus):
    """While `sleep` sleeps, `info tlb` on the CPU that ran it shows its
    pages in the lower half only, user pages nowhere else, and no page both
    writable and executable."""
    boot = shell(qemu, f"user-tlb-{cpus}", qemu_args=["-smp", str(cpus)])
    boot.send_serial(b"/bin/sleep 100\r")
    boot.wait_for_line(r"^sleep: 100 s\r?$", regex=True)
    time.sleep(0.5)
    qmp = boot.qmp()
    lower = []
    for cpu in range(cpus):
        qmp.hmp(f"cpu {cpu}")
        for line in qmp.hmp("info tlb").splitlines():
            match = re.match(r"^([0-9a-f]{16}): [0-9a-f]+ (\S+)$", line.strip())
            if not match:
                continue
            virtual, flags = int(match.group(1), 16), match.group(2)
            user, writable, no_execute = "U" in flags, flags.endswith("W"), flags.startswith("X")
            check(boot, not writable or no_execute, f"writable and executable: {line}")
            check(boot, user == (virtual < 1 << 47), f"user bit and half disagree: {line}")
            if virtual < 1 << 47:
                lower.append(virtual)
    check(boot, any(0x40_0000 <= v < 0x50_0000 for v in lower), "no program pages at 0x400000")
    check(boot, any(v >= 0x7fff_0000_0000 for v in lower), "no stack pages")
    boot.send_serial(b"\x03")
    wait_for_prompt(boot, 2, timeout=30)


@pytest.mark.parametrize("cpu", ["max", "Skylake-Client"])
def test_smap_and_smep_cpus(qemu, cpu):
    """Under CPUs with SMEP and SMAP (and an Intel model, where sysret's
    rules differ from AMD's): the boot says both are on, programs run, a
    kernel pointer gets -EFAULT, faults kill only the program, and a short
    fuzz run is answered."""
    boot = shell(qemu, f"user-{cpu}", qemu_args=["-cpu", cpu])
    boot.wait_for_line(r"user mode: SMEP on, SMAP on;", regex=True)
    check(boot, run(boot, "hello x") == ["hello from kestrel", "argv[1] = x"], "hello")
    check(boot, run(boot, "fault efault")[-1] ==
          "efault: write returned -14, read returned -14", "-EFAULT")
    for kind in ("kernel-read", "read", "stack", "opcode"):
        lines = run(boot, f"fault {kind}")
        check(boot, re.fullmatch(rf"fault\[\d+\]: killed: {FAULTS[kind]}", lines[-1]),
              f"fault {kind}: {lines}")
    lines = run_long(boot, "sysfuzz 3 20000")
    check(boot, any(line.startswith("sysfuzz: seed 3: 20000 calls") for line in lines),
          f"sysfuzz: {lines[-3:]}")
    check(boot, "same: done" in run(boot, "same"), "same")


@pytest.mark.parametrize("kind", ["smap", "smep"])
def test_kernel_touching_a_user_page_faults(qemu, kind):
    """`crash=smap` (a kernel read of a program's page outside the copy
    routines) and `crash=smep` (a kernel call into one) are page faults in
    kernel mode under `-cpu max`: a panic report, not a silent success;
    under qemu64, without the features, a warning says so."""
    iso = build_iso(f"crash-{kind}", f"crash={kind}")
    boot = qemu(f"crash-{kind}-max", iso, qemu_args=["-cpu", "max"])
    boot.wait_for_line(r"^KERNEL PANIC: CPU exception: page fault \(#PF\) accessing 0x10000000", regex=True)
    boot.wait_for_line(r"in kernel mode", regex=True)
    plain = qemu(f"crash-{kind}-qemu64", iso, qemu_args=["-cpu", "qemu64"])
    plain.wait_for_line(rf"crash={kind}: no fault: this CPU has no {kind.upper()}", regex=True)


def test_programs_on_two_cpus(qemu):
    """At -smp 2 two spinning programs run at once, one on each CPU, and the
    shell still answers."""
    boot = shell(qemu, "user-smp", qemu_args=["-smp", "2"])
    pids = [background(boot, "/bin/spin 30", "spin: 30") for _ in range(2)]
    time.sleep(1)
    rows = {}
    for line in run(boot, "ps"):
        match = re.match(r"^\s*(\d+) (\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\S+)$", line)
        if match:
            rows[int(match.group(1))] = (match.group(3), int(match.group(4)))
    cpus = {rows[pid][1] for pid in pids if pid in rows}
    check(boot, cpus == {0, 1}, f"the spinners are not on both CPUs: {rows}")
    check(boot, run(boot, "echo alive") == ["alive"], "no answer while programs spin")
    for pid in pids:
        run(boot, f"kill {pid}")


def test_damaged_initrd_is_reported(qemu, tmp_path):
    """An archive that is not ustar gets a warning at boot, and the kernel
    goes on without programs."""
    damaged = tmp_path / "initrd.tar"
    data = bytearray(INITRD.read_bytes())
    data[148:156] = b"0000000\0"  # the first header's checksum
    damaged.write_bytes(bytes(data))
    iso = build_iso("user-damaged-initrd", files={"boot/initrd.tar": damaged})
    boot = shell(qemu, "user-damaged", iso=iso)
    boot.wait_for_line(r"initrd: damaged, not used: .*checksum", regex=True)
    boot.wait_for_line(r"^initrd: none \(the archive is damaged\): no programs", regex=True)
    check(boot, run(boot, "hello") == ["unknown command: hello (try help)"], "hello ran")


def test_one_binary_on_linux_and_kestrel(qemu, tmp_path):
    """`same` (musl-gcc -static: stdio, malloc, a directory listing,
    clock_gettime) prints the same lines under Linux 6.1, booted in the same
    QEMU with the binary as /init, as under kestrel."""
    binary = BUILD / "user" / "c" / "same"
    data = ROOT / "user" / "initrd" / "data"
    entries = [Entry("dev", stat.S_IFDIR | 0o755),
               Entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1)),
               Entry("data", stat.S_IFDIR | 0o755)]
    entries += [Entry(f"data/{f.name}", stat.S_IFREG | 0o644, f.read_bytes())
                for f in sorted(data.iterdir())]
    entries.append(Entry("init", stat.S_IFREG | 0o755, binary.read_bytes()))
    cpio = tmp_path / "same.cpio"
    cpio.write_bytes(linux_bench.newc(entries))
    vmlinuz = linux_bench.linux_kernel()
    result = subprocess.run(linux_bench.qemu_command(vmlinuz, cpio), capture_output=True,
                            timeout=linux_bench.TIMEOUT)
    output = result.stdout.decode(errors="replace").replace("\r", "")
    start = output.find("same: /data")
    check(None, start >= 0 and "same: done" in output, f"Linux did not run same:\n{output[-2000:]}")
    linux = output[start:output.find("same: done") + len("same: done")].splitlines()

    boot = shell(qemu, "user-same")
    kestrel = run(boot, "same")
    check(boot, kestrel == linux, f"kestrel printed {kestrel}, Linux {linux}")


@pytest.mark.xdist_group("make-run")  # port 1234, as `make debug` there
def test_gdb_loads_a_programs_symbols(qemu):
    """What `make debug` suggests: GDB on the kernel's stub, a program's
    symbols from its unstripped build (`add-symbol-file`), a breakpoint on
    its `main` that stops there, with its arguments, when the shell runs it."""
    # Port 1234, as `make debug`: one such test at a time (xdist_group).
    boot = shell(qemu, "user-gdb", qemu_args=["-s"])
    gdb = subprocess.Popen(
        ["gdb", "-q", "-batch", str(BUILD / "kernel.elf"),
         "-ex", "target remote :1234",
         "-ex", f"add-symbol-file {BUILD / 'user' / 'c' / 'hello'}",
         "-ex", "break main", "-ex", "continue", "-ex", "print argv[1]", "-ex", "kill"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
    try:
        time.sleep(3)  # GDB attaches, sets the breakpoint and continues
        boot.send_serial(b"hello a b\r")
        output, _ = gdb.communicate(timeout=120)
    finally:
        gdb.kill()
    check(boot, re.search(r"Breakpoint 1, main \(argc=3, argv=0x7ff[0-9a-f]+\) at user/c/hello.c",
                          output), f"GDB did not stop in hello's main:\n{output}")
    check(boot, '"a"' in output, f"GDB did not read argv[1]:\n{output}")


def test_kbench_and_time_run(qemu):
    """The benchmark program runs to its end under kestrel with every row
    (the figures themselves are `make bench`'s, not a test's), and `time`
    runs a program and says how long it took."""
    boot = shell(qemu, "user-kbench")
    lines = run_long(boot, "kbench")
    for name in ("getpid", "write1", "mmap64k"):
        check(boot, sum(bool(re.search(rf"bench: {name} cycles=\d+$", line)) for line in lines) == 5,
              f"kbench's {name} rows: {lines}")
    check(boot, lines[-1] == "bench: done", f"kbench did not finish: {lines[-3:]}")
    lines = run(boot, "time /bin/true")
    check(boot, len(lines) == 1 and re.fullmatch(r"time: \d+ cycles \(\d+\.\d{3} ms\)", lines[0]),
          f"time: {lines}")
    check(boot, run(boot, "time") == ["usage: time PROGRAM [ARGS]"], "time alone")

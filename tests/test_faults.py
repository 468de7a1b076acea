"""End-to-end tests of the fault reports (pytest).

`crash=KIND` on the command line makes the CPU raise one fault after
`ready`. The report must name the exception, decode what the CPU reported,
and show a backtrace whose first frame is the function that faulted, walked
all the way to the outermost frame (`higher_half_start`), on serial and, white
on red, on the screen; and the machine must stay halted, not reset (QEMU
runs with -no-reboot, so a reset would end it). A panic prints a backtrace
too; a stripped kernel prints addresses and says why.

The three W^X kinds (write-code, write-rodata, exec-data) fault because the
kernel's page tables map each section with the rights it needs and no more.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass, field

import pytest

from harness import KERNEL_ELF, Boot, build_iso, check, stripped_kernel
from screen_model import PANIC_COLOUR, cut_backtrace, screen_rows

# The closing line, naming the CPU and the thread that ran (`on CPU 0 in
# thread 1 (shell)`).
STOPPED = re.compile(r"^  the kernel has stopped on CPU \d+(?: in thread \d+ \([^)]*\)|: stack overflow "
                     r"in thread \d+ \([^)]*\))?; restart the machine$")
CRASH = "kestrel::debug::crash::"

# The serial line that ends a report, or says a W^X kind did not fault.
REPORT_END = r"^  the kernel has stopped|^\[WARN\] crash=[a-z-]+: no fault"
FRAME_LINE = re.compile(r"^    (\d+)(?:-(\d+))?: (0x[0-9a-f]+) (.+)$")
RIP_LINE = re.compile(r"^  at rip (0x[0-9a-f]+) cs 0x8 rflags 0x[0-9a-f]+ "
                      r"rsp 0x[0-9a-f]+ ss 0x10$")


@dataclass
class Case:
    """What one crash kind's report says."""
    headline: str                # after "KERNEL PANIC: CPU exception: " (regex)
    details: list[str] = field(default_factory=list)  # one regex per line
    frames: list[str] = field(default_factory=list)   # first frames' names


CASES = {
    "divide": Case(r"divide error \(#DE\)", [], [CRASH + "divide"]),
    "invalid-opcode": Case(r"invalid opcode \(#UD\)", [], [CRASH + "invalid_opcode"]),
    "page-fault": Case(
        r"page fault \(#PF\) accessing 0x0",
        [r"read from a non-present page, in kernel mode \(error code 0x0\)"],
        [CRASH + "read_at"]),
    # Where GRUB loaded the kernel: nothing of it is in the lower half.
    "low-half": Case(
        r"page fault \(#PF\) accessing 0x100000",
        [r"read from a non-present page, in kernel mode \(error code 0x0\)"],
        [CRASH + "read_at"]),
    "gp": Case(
        r"general protection fault \(#GP\)",
        [r"error code 0x0: no selector \(e\.g\. a non-canonical address\)"],
        [CRASH + "gp"]),
    "stack-overflow": Case(
        r"double fault \(#DF\)",
        [r"stack overflow: the stack ran into the unmapped page at 0x[0-9a-f]+"],
        # The faulting instruction, then the recursion folded into one line.
        [CRASH + "stack_overflow", CRASH + "stack_overflow"]),
    "write-code": Case(
        r"page fault \(#PF\) accessing 0x[0-9a-f]+",
        [r"write to a read-only page, in kernel mode \(error code 0x3\)",
         r"accessed address: kestrel::debug::crash::write_code\+0x0"],
        [CRASH + "write_code"]),
    "write-rodata": Case(
        r"page fault \(#PF\) accessing 0x[0-9a-f]+",
        [r"write to a read-only page, in kernel mode \(error code 0x3\)",
         r"accessed address: kestrel::debug::crash::CONSTANT\+0x0"],
        [CRASH + "write_rodata"]),
    "exec-data": Case(
        r"page fault \(#PF\) accessing 0x[0-9a-f]+",
        [r"instruction fetch from a no-execute page, in kernel mode \(error code 0x11\)",
         r"accessed address: kestrel::debug::crash::RET_IN_DATA\+0x0"],
        # RIP is the data byte itself; the function that jumped there comes
        # next (its return address, from the stack pointer).
        [CRASH + "RET_IN_DATA", CRASH + "exec_data"]),
}



@dataclass
class Frame:
    first: int
    last: int
    address: int
    name: str  # `?` when unknown, else the function without its offset


def parse_frames(boot: Boot, lines: list[str]) -> list[Frame]:
    """The frame lines of a backtrace (after its header), until the first
    line that is not one; frame numbers must follow on."""
    frames = []
    for line in lines:
        match = FRAME_LINE.match(line)
        if not match:
            break
        first = int(match.group(1))
        last = int(match.group(2) or first)
        expected = frames[-1].last + 1 if frames else 0
        check(boot, first == expected and last >= first, f"frame numbers jump at {line!r}")
        frames.append(Frame(first, last, int(match.group(3), 16),
                            match.group(4).rsplit("+", 1)[0]))
    check(boot, frames, "the backtrace has no frames")
    return frames


def check_complete(boot: Boot, frames: list[Frame]):
    """The walk reached rust_main and ended at the outermost frame, the
    assembly that called it."""
    names = [f.name for f in frames]
    check(boot, "rust_main" in names and names[-1] == "higher_half_start",
          f"the backtrace does not end rust_main ... higher_half_start: {names}")


def report_lines(boot: Boot) -> list[str]:
    """The serial lines from `KERNEL PANIC:` to the closing line."""
    lines = boot.serial_lines()
    starts = [i for i, line in enumerate(lines) if line.startswith("KERNEL PANIC: ")]
    ends = [i for i, line in enumerate(lines) if STOPPED.match(line)]
    check(boot, len(starts) == 1 and any(end > starts[0] for end in ends),
          "not exactly one complete KERNEL PANIC report on serial")
    start = starts[0]
    return lines[start:min(end for end in ends if end > start) + 1]


def check_on_screen(boot: Boot, lines: list[str], colour: int | None = PANIC_COLOUR,
                    timeout: float = 10.0):
    """`lines` are consecutive rows of the visible screen (in `colour`
    across the whole row, if given). Each line reaches serial before the
    screen, so the screen is read again until it shows them all (or the
    timeout, which only stops a screen that never gets there)."""
    # The report's rows as the panic screen shows them: the backtrace's
    # cut to one row each (their colour is checked apart, from `colour`).
    rows = [text for text, _ in screen_rows(cut_backtrace(lines))]
    deadline = time.monotonic() + timeout
    while True:
        screen = boot.screen()
        problem = screen_problem(screen, rows, colour)
        if problem is None:
            return
        check(boot, time.monotonic() <= deadline,
              f"{problem}:\n" + "\n".join(rows))
        time.sleep(0.1)


def screen_problem(screen, rows: list[str], colour: int | None) -> str | None:
    """What is wrong with `screen` showing `rows`, or None."""
    shown = screen.lines()
    for top in range(len(shown) - len(rows) + 1):
        if shown[top:top + len(rows)] == rows:
            break
    else:
        return "the screen does not show these lines"
    if colour is not None:
        for row in range(top, top + len(rows)):
            if any(a != colour for a in screen.attrs[row]):
                return f"row {row} is not in colour {colour:#04x} across the screen"
    return None


def symbol_covers(name: str, address: int) -> bool:
    """Whether `address` lies in the symbol `name` of build/kernel.bin: in
    its size, or for an assembly label (size 0) before the next symbol."""
    out = subprocess.run(["nm", "-C", "-n", "-S", str(KERNEL_ELF)], check=True,
                         capture_output=True, text=True).stdout
    symbols = []
    for line in out.splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4 and parts[2] in set("tTrRdDbB"):
            symbols.append((int(parts[0], 16), int(parts[1], 16), parts[3]))
        elif len(parts) == 3 and parts[1] in ("t", "T"):
            symbols.append((int(parts[0], 16), 0, parts[2]))
    for i, (start, size, symbol) in enumerate(symbols):
        if symbol != name:
            continue
        end = start + size if size else next(
            (s for s, _, _ in symbols[i + 1:] if s > start), start + 1)
        if start <= address < end:
            return True
    return False


def boot_crash(qemu, kind: str) -> Boot:
    """A boot with `crash=KIND` on the command line."""
    return qemu(f"crash-{kind}", build_iso(f"crash-{kind}", cmdline=f"crash={kind}"))


@pytest.mark.parametrize("kind", list(CASES))
def test_crash_kind_reports_the_fault_and_halts(qemu, kind):
    """One boot per kind: exception name, decoded details, `at rip`, and a
    backtrace from the faulting function down to higher_half_start, on
    serial and on screen; then QEMU still runs (halted)."""
    case = CASES[kind]
    boot = boot_crash(qemu, kind)
    boot.wait_for_line("ready")
    boot.wait_for_line(f"crash={kind}: ", regex=True)
    end = boot.wait_for_line(REPORT_END, regex=True)
    check(boot, "no fault" not in end.string, f"the CPU raised no fault: {end.string!r}")
    report = report_lines(boot)

    headline = "KERNEL PANIC: CPU exception: " + case.headline
    check(boot, re.fullmatch(headline, report[0]),
          f"first line {report[0]!r} does not match {headline!r}")
    for i, pattern in enumerate(case.details, 1):
        check(boot, re.fullmatch("  " + pattern, report[i]),
              f"line {report[i]!r} does not match {pattern!r}")
    at = RIP_LINE.match(report[len(case.details) + 1])
    check(boot, at, f"no `at rip ...` line after the details: {report}")
    check(boot, report[len(case.details) + 2] == "  backtrace:",
          f"no `  backtrace:` header (with names): {report}")
    frames = parse_frames(boot, report[len(case.details) + 3:])
    check(boot, frames[0].address == int(at.group(1), 16),
          f"frame 0 {frames[0]} is not the faulting rip {at.group(1)}")
    names = [f.name for f in frames]
    check(boot, names[:len(case.frames)] == case.frames,
          f"the backtrace starts {names}, expected {case.frames}")
    check_complete(boot, frames)
    check(boot, not report[-2].startswith("    (walk ended"),
          f"the walk stopped early: {report[-2]!r}")

    check_on_screen(boot, report)
    boot.check_running()


def test_stack_overflow_folds_the_recursion_into_one_line(qemu):
    """The stack overflow's thousands of identical frames take one line."""
    boot = boot_crash(qemu, "stack-overflow")
    boot.wait_for_line(REPORT_END, regex=True)
    frames = parse_frames(boot, report_lines(boot)[4:])
    check(boot, len(frames) <= 6 and frames[1].last - frames[1].first >= 100,
          f"the recursion is not one line of many frames: {frames}")
    boot.check_running()


def test_breakpoint_is_reported_and_the_kernel_carries_on(qemu):
    """`crash=breakpoint`: `ready`, the breakpoint's state and backtrace
    (frame 0 in the function with the int3), then the kernel carries on
    (no panic screen) and stays running."""
    boot = boot_crash(qemu, "breakpoint")
    boot.wait_for_line("ready")
    boot.wait_for_line("crash=breakpoint: the kernel carried on after the breakpoint")
    lines = boot.serial_lines()
    start = next((i for i, line in enumerate(lines)
                  if line.startswith("breakpoint (#BP) at rip ")), None)
    check(boot, start is not None, "no `breakpoint (#BP) at rip ...` line")
    check(boot, lines[start + 1] == "  backtrace:",
          f"no backtrace after the breakpoint line: {lines[start + 1]!r}")
    frames = parse_frames(boot, lines[start + 2:])
    check(boot, frames[0].name == CRASH + "breakpoint",
          f"frame 0 is {frames[0]}, not the function with the int3")
    check_complete(boot, frames)
    check(boot, not any(line.startswith("KERNEL PANIC") for line in lines),
          "a breakpoint must not stop the kernel")
    report = lines[start:start + 2 + len(frames) + 1]
    check_on_screen(boot, report, colour=None)
    boot.check_running()


def test_panic_prints_a_backtrace(qemu):
    """`panic=test`: the panic screen has a backtrace through the function
    that panicked, down to the outermost frame."""
    iso = build_iso("faults-panic", cmdline="panic=test")
    boot = qemu("faults-panic", iso)
    boot.wait_for_line(REPORT_END, regex=True)
    report = report_lines(boot)
    check(boot, report[2] == "  backtrace:", f"no backtrace header after the location: {report}")
    frames = parse_frames(boot, report[3:])
    names = [f.name for f in frames]
    check(boot, "kestrel::panic::screen::deliberate" in names,
          f"the backtrace misses the panicking function: {names}")
    check_complete(boot, frames)
    check_on_screen(boot, report)
    boot.check_running()


def test_unknown_crash_kind_is_a_warning(qemu):
    """`crash=oops`: the usual warning listing the kinds; the boot goes on
    to `ready` and nothing crashes."""
    iso = build_iso("crash-unknown", cmdline="crash=oops")
    boot = qemu("crash-unknown", iso)
    boot.wait_for_line("ready")
    expected = ("[WARN] ignoring `crash=oops`: expected crash=breakpoint|divide|"
                "invalid-opcode|page-fault|low-half|gp|stack-overflow|write-code|"
                "write-rodata|exec-data|oom|smap|smep")
    check(boot, expected in boot.serial_lines(), f"no line {expected!r}")
    boot.check_running()
    check(boot, not any(line.startswith(("KERNEL PANIC", "crash="))
                        for line in boot.serial_lines()),
          "an unknown kind must not crash")


def test_stripped_kernel_shows_addresses_and_says_why(qemu, tmp_path):
    """A kernel without .symtab: the backtrace header says why there are no
    names, and the frames (addresses, `?`) still go down to the outermost."""
    stripped = stripped_kernel(tmp_path / "kernel-stripped.bin")
    iso = build_iso("crash-stripped", cmdline="crash=page-fault", kernel=stripped)
    boot = qemu("crash-stripped", iso)
    boot.wait_for_line(REPORT_END, regex=True)
    report = report_lines(boot)
    header = "  backtrace (addresses only: the kernel has no symbol table (stripped)):"
    check(boot, header in report, f"no line {header!r}")
    frames = parse_frames(boot, report[report.index(header) + 1:])
    check(boot, all(f.name == "?" for f in frames)
          and not report[-2].startswith("    (walk ended"),
          f"expected unnamed frames and a complete walk: {report}")
    # The same addresses as with names: frame 0 in crash::read_at,
    # the last in higher_half_start (from the unstripped kernel's symbols).
    check(boot, symbol_covers(CRASH + "read_at", frames[0].address)
          and symbol_covers("higher_half_start", frames[-1].address - 1),
          f"frames {frames} are not read_at ... higher_half_start")
    check_on_screen(boot, report)
    boot.check_running()


@pytest.mark.slow
def test_uefi_backtrace_has_names(qemu):
    """Under UEFI GRUB loads .symtab elsewhere; the names are still found.
    (No VGA text screen under UEFI: serial only.)"""
    iso = build_iso("crash-page-fault", cmdline="crash=page-fault")
    boot = qemu("crash-uefi", iso, uefi=True)
    boot.wait_for_line(REPORT_END, regex=True)
    report = report_lines(boot)
    frames = parse_frames(boot, report[report.index("  backtrace:") + 1:])
    check(boot, frames[0].name == CRASH + "read_at", f"frame 0 is {frames[0]}")
    check_complete(boot, frames)
    boot.check_running()


def test_oom_prints_the_size_and_what_is_left(qemu):
    """`crash=oom`: allocating until the heap is exhausted ends in the
    panic screen naming the size that could not be allocated and what the
    heap and the frame allocator have left, with a backtrace through the
    allocating function; no hang, no reset."""
    boot = boot_crash(qemu, "oom")
    boot.wait_for_line("ready")
    boot.wait_for_line(REPORT_END, regex=True)
    report = report_lines(boot)
    pattern = (r"KERNEL PANIC: out of memory: cannot allocate (\d+) bytes \(align \d+\); "
               r"heap (\d+) KiB mapped of its (\d+) KiB limit, .*; (\d+) free frames")
    match = re.fullmatch(pattern, report[0])
    check(boot, match, f"first line {report[0]!r} does not match {pattern!r}")
    size, mapped, limit = (int(match.group(i)) for i in (1, 2, 3))
    check(boot, size >= 1 << 20 and mapped <= limit, f"implausible figures: {report[0]!r}")
    heap = re.search(r"^heap: talc at 0x[0-9a-f]+, \d+ KiB mapped, limit (\d+) KiB$",
                     boot.serial(), re.M)
    check(boot, heap and int(heap.group(1)) == limit,
          f"the report's heap limit, {limit} KiB, is not the `heap:` line's: "
          f"{heap and heap.group(0)!r}")
    check(boot, report[2] == "  backtrace:", f"no backtrace header after the location: {report}")
    names = [f.name for f in parse_frames(boot, report[3:])]
    check(boot, CRASH + "oom" in names, f"the backtrace misses the allocating function: {names}")
    check_on_screen(boot, report)
    boot.check_running()

"""End-to-end tests of the boot chain: GRUB -> trampoline -> rust_main."""

import re
import subprocess

import pytest

from harness import BANNER, KERNEL, Boot, build_iso, check, stripped_kernel

LONG_MODE_ERROR = "boot error: this CPU does not support 64-bit long mode"


def test_kernel_is_multiboot2():
    """GRUB's own check accepts the kernel ELF."""
    result = subprocess.run(["grub-file", "--is-x86-multiboot2", str(KERNEL)])
    check(None, result.returncode == 0, f"grub-file --is-x86-multiboot2 {KERNEL} failed")


def test_boots_to_ready_with_banner(qemu):
    """The shipped ISO boots: banner first on serial, `ready`, banner on screen."""
    boot = qemu("ready")
    boot.wait_for_line("ready")
    lines = [l for l in boot.serial_lines() if l.strip()]
    check(boot, lines[0] == BANNER,
          f"first serial line is {lines[0]!r}, expected the banner {BANNER!r}")
    screen = boot.screen()
    check(boot, screen.find(BANNER) is not None,
          f"banner {BANNER!r} not on the visible screen")
    check(boot, "console: vga text 80x25" in lines,
          "no `console: vga text 80x25` line: under BIOS the screen is VGA text")
    boot.check_running()


def test_no_long_mode_cpu_gets_boot_error_and_halts(qemu):
    """A 32-bit-only CPU: the trampoline reports it on serial and screen, and
    the machine halts instead of resetting."""
    boot = qemu("qemu32", qemu_args=["-cpu", "qemu32"])
    boot.wait_for_line(LONG_MODE_ERROR)
    screen = boot.screen()
    check(boot, screen.lines()[0] == LONG_MODE_ERROR,
          "row 0 of the screen is not the boot error")
    boot.check_running(settle=1.0)
    check(boot, "ready" not in boot.serial_lines(), "the kernel went on after the boot error")


SELFTEST_SUMMARY = r"^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$"
SELFTEST_RESULT = r"^test \S+ \.\.\. (ok|FAILED|skipped\b.*)$"


def run_selftest(boot: Boot) -> tuple[int, int, int]:
    """Waits for the self-test summary (`N passed, N failed`, optionally
    `, N skipped`); checks one result line per test. Returns (passed,
    failed, skipped)."""
    match = boot.wait_for_line(SELFTEST_SUMMARY, regex=True)
    passed, failed = int(match.group(1)), int(match.group(2))
    skipped = int(match.group(3) or 0)
    results = [l for l in boot.serial_lines() if re.match(SELFTEST_RESULT, l)]
    check(boot, len(results) == passed + failed + skipped,
          f"{len(results)} result lines but the summary counts "
          f"{passed + failed + skipped}")
    check(boot, passed != 0, "the self-test ran no test")
    return passed, failed, skipped


def test_selftest_menu_entry_runs_in_kernel_tests(qemu, record_property):
    """The ISO's "self-test" entry runs the in-kernel tests and halts; their
    counts join `make test`'s total (tests/conftest.py sums them)."""
    boot = qemu("selftest", entry=1)
    passed, failed, skipped = run_selftest(boot)
    record_property("kernel_selftest_passed", passed)
    record_property("kernel_selftest_failed", failed)
    record_property("kernel_selftest_skipped", skipped)
    for line in boot.serial_lines():
        if line.endswith("... FAILED"):
            print(f"  in-kernel: {line}")
    check(boot, "serial self-test: line sent through COM1" in boot.serial_lines(),
          "the serial self-test's line did not arrive")
    boot.check_running()
    check(boot, failed == 0, f"{failed} in-kernel tests failed")


def test_selftest_with_qemu_exit_ends_qemu_with_33(qemu):
    """`selftest qemu-exit`: all passed -> QEMU exits with (0x10 << 1) | 1."""
    boot = qemu("qemu-exit", build_iso("qemu-exit", cmdline="qemu-exit"), entry=1)
    run_selftest(boot)
    status = boot.wait_exit()
    check(boot, status == 33, f"QEMU exited with {status}, expected 33")


def test_unknown_command_line_words_warn_once_each_and_boot_goes_on(qemu):
    """`make iso CMDLINE=...` words reach the kernel exactly (GRUB's quoting
    does not eat `$`); each unknown word gets one warning line; still `ready`."""
    words = ["bogus", "a=$HOME", "x=1"]
    boot = qemu("unknown-words", build_iso("unknown-words", cmdline=" ".join(words)))
    boot.wait_for_line("ready")
    for word in words:
        hits = [l for l in boot.serial_lines()
                if l.endswith(f"ignoring unknown kernel option `{word}`")]
        check(boot, len(hits) == 1, f"expected one warning for {word!r}, found {len(hits)}")


def test_selftest_with_a_failure_ends_qemu_with_35(qemu, tmp_path):
    """`selftest qemu-exit` with a stripped kernel: the symbol-table test
    (and the others that need names) fail, since backtraces cannot name
    functions, so QEMU exits with (0x11 << 1) | 1."""
    stripped = stripped_kernel(tmp_path / "kernel-stripped.bin")
    iso = build_iso("qemu-exit-stripped", cmdline="qemu-exit", kernel=stripped)
    boot = qemu("qemu-exit-failure", iso, entry=1)
    passed, failed, skipped = run_selftest(boot)
    status = boot.wait_exit()
    check(boot, status == 35 and failed != 0,
          f"QEMU exited with {status} after {failed} failed, expected 35")
    check(boot, "test debug::ktests::symbol_table_names_kernel_functions ... FAILED"
          in boot.serial_lines(),
          "the failed test is not the symbol-table test")

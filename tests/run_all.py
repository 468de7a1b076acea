#!/usr/bin/env python3
"""Runs every test stage and prints one closing line `N passed, N failed`
(`, N skipped` is added when something was skipped).

Stages:
  1. host unit tests: `cargo test` for the host, on the kernel's pure logic;
  2. end-to-end tests: pytest on tests/test_*.py, in parallel on every core
     (pytest-xdist, -n auto); they boot the real ISO in QEMU (tests/harness.py,
     tests/conftest.py). The in-kernel self-test's counts come back with the
     test that boots it and join the total.

Usage: tests/run_all.py [-k EXPRESSION] [-n WORKERS] [--skip-host] [-- PYTEST-ARGS]
  -k selects end-to-end tests as pytest's -k does (e.g. `-k uefi`,
     `-k "usable_memory and not 4G"`) and skips stage 1.
The Makefile (`make test`, `make test K=EXPRESSION`) builds build/os.iso
first and runs this with an interpreter that has pytest and pytest-xdist
(Debian's python3-pytest and python3-pytest-xdist install them for
/usr/bin/python3). Exits non-zero if anything failed, or if something a
stage started is still running at the end (it is killed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))
import harness  # noqa: E402

ROOT = harness.ROOT
# Set in everything this script starts; whatever carries it at the end was
# left running by a stage.
RUN_TAG = "KESTREL_RUN_ALL_TAG"


def have_pytest() -> bool:
    try:
        import pytest  # noqa: F401
        import xdist  # noqa: F401
    except ImportError:
        return False
    return True


def host_unit_tests() -> tuple[int, int, int]:
    """Runs `cargo test` on the host; returns (passed, failed, ignored)."""
    print("== stage 1: host unit tests (cargo test)", flush=True)
    result = subprocess.run(["cargo", "+nightly", "test", "--quiet"], cwd=ROOT,
                            capture_output=True, text=True)
    output = result.stdout + result.stderr
    passed = failed = ignored = 0
    for match in re.finditer(r"test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored",
                             output):
        passed += int(match.group(1))
        failed += int(match.group(2))
        ignored += int(match.group(3))
    for line in output.splitlines():
        if re.match(r"^test .* \.\.\. FAILED$", line) or line.startswith("---- "):
            print("  " + line)
    if result.returncode != 0 and failed == 0:
        # It did not even build, or crashed: show why, and count it.
        print(output)
        failed = 1
    print(f"   host: {passed} passed, {failed} failed"
          + (f", {ignored} ignored" if ignored else ""), flush=True)
    return passed, failed, ignored


def e2e_tests(expression: str | None, workers: str, extra: list[str]) -> tuple[int, int, int]:
    """Runs the end-to-end tests with pytest; returns (passed, failed,
    skipped), the in-kernel self-test's counts included."""
    print(f"== stage 2: end-to-end tests (pytest -n {workers}; QEMU, real ISO)", flush=True)
    with tempfile.TemporaryDirectory(prefix="kestrel-run-all-") as scratch:
        summary_path = Path(scratch) / "summary.json"
        command = [sys.executable, "-m", "pytest", str(TESTS), "-n", workers,
                   "-v", "--tb=short", "-rfE", "--durations=5",
                   f"--kestrel-summary={summary_path}"]
        if expression:
            command += ["-k", expression]
        status = subprocess.run(command + extra, cwd=ROOT).returncode
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else None

    e2e = summary["e2e"] if summary else {"passed": 0, "failed": 0, "skipped": 0}
    kernel = summary["kernel"] if summary else {"passed": 0, "failed": 0, "skipped": 0}
    failed = e2e["failed"]
    if status == 5 and expression:
        print(f"   no end-to-end test matches -k {expression!r}")
    elif status not in (0, 1) or (status == 1 and failed == 0):
        # pytest itself failed (usage, collection, internal error, nothing
        # collected) or failed without a failed test to show for it.
        print(f"   pytest exited with status {status}")
        failed += 1
    print(f"   e2e: {e2e['passed']} passed, {e2e['failed']} failed"
          + (f", {e2e['skipped']} skipped" if e2e["skipped"] else "")
          + f" (plus in-kernel self-test: {kernel['passed']} passed, {kernel['failed']} failed"
          + (f", {kernel['skipped']} skipped" if kernel["skipped"] else "") + ")",
          flush=True)
    return (e2e["passed"] + kernel["passed"], failed + kernel["failed"],
            e2e["skipped"] + kernel["skipped"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-k", dest="expression",
                        help="run only the end-to-end tests pytest's -k selects (no host tests)")
    parser.add_argument("-n", dest="workers", default="auto",
                        help="pytest-xdist workers (default: auto, one per core; 0: none)")
    parser.add_argument("--skip-host", action="store_true", help="skip the host unit tests")
    parser.add_argument("pytest_args", nargs="*", help="more arguments for pytest (after --)")
    args = parser.parse_args()

    if not have_pytest():
        print(f"run_all: {sys.executable} cannot import pytest and xdist. Install them "
              f"(Debian/Ubuntu: `sudo apt-get install python3-pytest python3-pytest-xdist`, "
              f"for /usr/bin/python3) and run this with that interpreter; "
              f"`make test` picks one that has them.", file=sys.stderr)
        return 2

    tag = uuid.uuid4().hex
    os.environ[RUN_TAG] = tag
    passed = failed = skipped = 0
    if not args.skip_host and not args.expression:
        p, f, s = host_unit_tests()
        passed, failed, skipped = passed + p, failed + f, skipped + s
    p, f, s = e2e_tests(args.expression, args.workers, args.pytest_args)
    passed, failed, skipped = passed + p, failed + f, skipped + s

    survivors = harness.kill_tagged(RUN_TAG, tag)
    if survivors:
        print(f"run_all: {len(survivors)} process(es) a stage started still ran (killed now):")
        for pid, command in sorted(survivors.items()):
            print(f"  pid {pid}: {command}")
        failed += 1
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Runs every test stage and prints one closing line `N passed, N failed`.

Stages:
  1. host unit tests: `cargo test` for the host, on the kernel's pure logic;
  2. end-to-end tests: every @e2e function in tests/test_*.py, booting the
     real ISO in QEMU (see tests/harness.py); the in-kernel self-test's own
     counts are added by the test that boots it.

Usage: tests/run_all.py [-k SUBSTRING] [--skip-host]
The Makefile (`make test`) builds build/os.iso first.
"""

from __future__ import annotations

import argparse
import importlib
import re
import subprocess
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

ROOT = harness.ROOT


def host_unit_tests() -> tuple[int, int]:
    """Runs `cargo test` on the host; returns (passed, failed)."""
    print("== stage 1: host unit tests (cargo test)", flush=True)
    result = subprocess.run(["cargo", "+nightly", "test", "--quiet"], cwd=ROOT,
                            capture_output=True, text=True)
    output = result.stdout + result.stderr
    passed = failed = 0
    for match in re.finditer(r"test result: \w+\. (\d+) passed; (\d+) failed", output):
        passed += int(match.group(1))
        failed += int(match.group(2))
    for line in output.splitlines():
        if re.match(r"^test .* \.\.\. FAILED$", line) or line.startswith("---- "):
            print("  " + line)
    if result.returncode != 0 and failed == 0:
        # It did not even build, or crashed: show why, and count it.
        print(output)
        failed = 1
    print(f"   host: {passed} passed, {failed} failed", flush=True)
    return passed, failed


def e2e_tests(pattern: str | None) -> tuple[int, int]:
    """Runs the registered end-to-end tests; returns (passed, failed)."""
    print("== stage 2: end-to-end tests (QEMU, real ISO)", flush=True)
    for path in sorted(Path(__file__).resolve().parent.glob("test_*.py")):
        importlib.import_module(path.stem)
    passed = failed = 0
    for test in harness.REGISTRY:
        if pattern and pattern not in test.name:
            continue
        started = time.monotonic()
        try:
            test.function()
        except harness.TestFailure as failure:
            failed += 1
            print(f"e2e {test.name} ... FAILED\n  {failure}", flush=True)
        except Exception:  # a bug in the test itself still counts as a failure
            failed += 1
            print(f"e2e {test.name} ... FAILED (error)\n{traceback.format_exc()}", flush=True)
        else:
            passed += 1
            print(f"e2e {test.name} ... ok ({time.monotonic() - started:.1f} s)", flush=True)
    extra = harness.EXTRA
    print(f"   e2e: {passed} passed, {failed} failed"
          f" (plus in-kernel self-test: {extra.passed} passed, {extra.failed} failed)",
          flush=True)
    return passed + extra.passed, failed + extra.failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-k", dest="pattern", help="run only e2e tests whose name contains this")
    parser.add_argument("--skip-host", action="store_true", help="skip the host unit tests")
    args = parser.parse_args()

    passed = failed = 0
    if not args.skip_host and not args.pattern:
        p, f = host_unit_tests()
        passed, failed = passed + p, failed + f
    p, f = e2e_tests(args.pattern)
    passed, failed = passed + p, failed + f
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

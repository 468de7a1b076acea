"""Tests of the test harness itself: nothing a test starts outlives it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from harness import check

HERE = Path(__file__).resolve().parent
LEAKY = HERE / "harness_selftest" / "leaky.py"


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_test_that_leaves_a_process_running_fails_and_the_process_is_killed(tmp_path):
    """tests/harness_selftest/leaky.py, run by a pytest of its own: the two
    tests that leave a `sleep` running (under `script`, and as a daemon of
    its own session) fail, naming it; the clean test passes; afterwards
    neither `sleep` runs."""
    pids = tmp_path / "pids"
    pids.mkdir()
    result = subprocess.run(
        # No cache (so pytest.ini's cache_dir is moot: no warning about it);
        # its temporary files inside this test's.
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
         "-W", "ignore::pytest.PytestConfigWarning", f"--basetemp={tmp_path / 'inner'}",
         "-rA", str(LEAKY)],
        cwd=HERE, env={**os.environ, "LEAK_PID_DIR": str(pids)},
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    check(None, result.returncode == 1, f"the leaky run exited with {result.returncode}, "
                                  f"expected 1 (tests failed):\n{output}")
    for name, test in (("script", "test_leaks_through_script"),
                       ("daemon", "test_leaks_a_daemon")):
        pid_file = pids / name
        check(None, pid_file.exists(), f"{test} did not record what it leaked:\n{output}")
        pid = int(pid_file.read_text())
        report = teardown_error(output, test)
        check(None, report is not None, f"{test} was not failed for its leak:\n{output}")
        check(None, "the test left" in report and f"pid {pid}: sleep 600" in report,
              f"the failure of {test} does not name the leaked `sleep` (pid {pid}):\n{output}")
        check(None, not alive(pid), f"the leaked `sleep` (pid {pid}) still runs")
    check(None, re.search(r"^PASSED \S*leaky\.py::test_cleans_up$", output, re.M)
          and teardown_error(output, "test_cleans_up") is None,
          f"the test that cleans up did not pass, or was reported as leaking:\n{output}")


def teardown_error(output: str, test: str) -> str | None:
    """The text of pytest's "ERROR at teardown of TEST" section, or None."""
    match = re.search(rf"^_+ ERROR at teardown of {test} _+\n(.*?)(?=^_{{3,}} |^=+ )",
                      output, re.S | re.M)
    return match.group(1) if match else None

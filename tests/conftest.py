"""pytest's side of the end-to-end tests (tests/test_*.py).

- Fixtures own every process and directory a test uses: `qemu` starts QEMU
  boots, `make_run` runs `make run`/`make debug`, `xvfb_display` a virtual X
  server; each is stopped when the test ends, whatever its outcome. Files go
  under pytest's `tmp_path` (pytest keeps the last three runs' directories,
  so a failure's serial log can still be read, and removes older ones).
- Nothing a test starts outlives it: every test runs with a variable of
  its own, KESTREL_TEST_TAG_<uuid>, in the environment, which everything it
  starts inherits (also through `setsid`, `script` and `make`). After the
  test and its fixtures' own cleanup, any process still carrying it is
  killed and the test fails, naming it. tests/test_harness.py proves this.
- Runs under pytest-xdist (`-n auto --dist loadgroup`): tests that share a
  fixed resource carry the same `xdist_group` mark and run on one worker;
  ISOs are built under file locks (harness.build_iso); the tests boot a
  copy of build/os.iso taken before any worker starts (`make run`, which
  one of them runs, rebuilds build/os.iso in place); `slow` tests start
  first.
- The summary for tests/run_all.py (--kestrel-summary PATH): per-test
  outcomes, and the in-kernel self-test's counts, which the test that boots
  it reports with record_property("kernel_selftest_passed", N) (and
  _failed, _skipped); under xdist they travel from the worker to the
  controller with the test's report.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

import harness
from harness import Boot, MakeRun, default_iso, kill_tagged

# Not collected by a normal run: tests/test_harness.py runs it in a pytest
# of its own (it leaks processes on purpose).
collect_ignore = ["harness_selftest"]

TAG = "KESTREL_TEST_TAG"
KERNEL_COUNT_PREFIX = "kernel_selftest_"


def pytest_addoption(parser):
    parser.addoption("--kestrel-summary", metavar="PATH",
                     help="write this run's counts as JSON to PATH (tests/run_all.py "
                          "reads it to print the closing line)")


def pytest_configure(config):
    workerinput = getattr(config, "workerinput", None)
    # One id per run, shared by all xdist workers: each run builds its test
    # ISOs afresh, once (see harness.build_iso).
    harness.RUN_ID = workerinput["testrunuid"] if workerinput else uuid.uuid4().hex
    if workerinput is None:  # the controller, or a run without xdist
        config.pluginmanager.register(Summary(config.getoption("kestrel_summary")),
                                      "kestrel-summary")


def pytest_sessionstart(session):
    if hasattr(session.config, "workerinput"):
        return
    # Before any worker starts: the copy of build/os.iso the tests boot.
    if harness.DEFAULT_ISO.exists():
        harness.snapshot_default_iso()
    else:
        harness.DEFAULT_ISO_SNAPSHOT.unlink(missing_ok=True)


# --- nothing left running ------------------------------------------------------------

@pytest.fixture(autouse=True)
def no_process_left_behind():
    """Tags everything this test starts; afterwards kills what still runs and
    fails the test. Autouse and function-scoped, so it is set up before the
    test's other function fixtures and torn down after them: their own
    cleanup has run when it looks. The tag is a variable of its own
    (KESTREL_TEST_TAG_<uuid>=1), so a pytest run inside a test (the harness's
    own test) adds its tags to the outer one's instead of replacing it."""
    variable = f"{TAG}_{uuid.uuid4().hex}"
    os.environ[variable] = "1"
    yield
    del os.environ[variable]
    survivors = kill_tagged(variable, "1")
    if survivors:
        listing = "\n".join(f"  pid {pid}: {command}"
                            for pid, command in sorted(survivors.items()))
        pytest.fail(f"the test left {len(survivors)} process(es) running (killed now); "
                    f"a fixture should own and stop each:\n{listing}", pytrace=False)


# --- fixtures that own processes ---------------------------------------------------------

def _fresh_dir(parent: Path, name: str) -> Path:
    directory, n = parent / name, 1
    while directory.exists():
        n += 1
        directory = parent / f"{name}-{n}"
    return directory


def _stop_all(things) -> None:
    """Stops each (last started first), even if stopping one fails."""
    errors = []
    for thing in reversed(things):
        try:
            thing.stop()
        except Exception as error:  # noqa: BLE001 - re-raised below
            errors.append(error)
    if errors:
        raise errors[0]


@pytest.fixture
def qemu(tmp_path):
    """qemu(name, iso=None, **options) starts a harness.Boot (options as
    Boot's) with its files in tmp_path/name and returns it; every Boot is
    stopped when the test ends."""
    boots: list[Boot] = []

    def start(name: str, iso: Path | None = None, **options) -> Boot:
        boot = Boot(name, iso or default_iso(), dir=_fresh_dir(tmp_path, name), **options)
        boots.append(boot)
        return boot

    yield start
    _stop_all(boots)


@pytest.fixture
def make_run():
    """make_run(command, env) starts `make run` (or any command) as
    harness.MakeRun; each is stopped, with everything it started, when the
    test ends."""
    runs: list[MakeRun] = []

    def start(command: list[str], env: dict[str, str]) -> MakeRun:
        run = MakeRun(command, env)
        runs.append(run)
        return run

    yield start
    _stop_all(runs)


@pytest.fixture
def xvfb_display():
    """A virtual X server (Xvfb) for the test; yields its DISPLAY value."""
    for tool in ("Xvfb", "xwininfo"):
        harness.check(None, shutil.which(tool) is not None,
                      f"{tool} is missing: run scripts/setup.sh (packages xvfb, x11-utils)")
    # -displayfd: Xvfb picks a free display number and writes it to stdout.
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", "1", "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        number = server.stdout.readline().strip()
        harness.check(None, number.isdigit(),
                      f"Xvfb did not report a display (exit {server.poll()})")
        yield f":{number}"
    finally:
        server.kill()
        server.wait()
        server.stdout.close()


# --- the summary for tests/run_all.py ----------------------------------------------------

_RANK = {None: 0, "passed": 1, "skipped": 2, "failed": 3}


class Summary:
    """Counts each test once (failed if any phase failed, e.g. the leak check
    in teardown) and sums the in-kernel self-test's counts."""

    def __init__(self, path: str | None):
        self.path = path
        self.outcomes: dict[str, str | None] = {}
        self.kernel = {"passed": 0, "failed": 0, "skipped": 0}
        self.collection_errors = 0

    def pytest_runtest_logreport(self, report):
        if report.failed:
            outcome = "failed"
        elif report.skipped:
            outcome = "skipped"
        elif report.when == "call":
            outcome = "passed"
        else:
            outcome = None
        if _RANK[outcome] >= _RANK[self.outcomes.get(report.nodeid)]:
            self.outcomes[report.nodeid] = outcome
        if report.when == "call":
            for name, value in report.user_properties:
                if name.startswith(KERNEL_COUNT_PREFIX):
                    self.kernel[name.removeprefix(KERNEL_COUNT_PREFIX)] += int(value)

    def pytest_collectreport(self, report):
        if report.failed:
            self.collection_errors += 1

    def counts(self) -> dict[str, int]:
        values = list(self.outcomes.values())
        return {"passed": values.count("passed"),
                "failed": values.count("failed") + self.collection_errors,
                "skipped": values.count("skipped")}

    def pytest_terminal_summary(self, terminalreporter):
        kernel = self.kernel
        if any(kernel.values()):
            terminalreporter.write_line(
                f"in-kernel self-test: {kernel['passed']} passed, {kernel['failed']} failed"
                + (f", {kernel['skipped']} skipped" if kernel["skipped"] else ""))

    def pytest_sessionfinish(self, session, exitstatus):
        if self.path:
            Path(self.path).write_text(json.dumps(
                {"e2e": self.counts(), "kernel": self.kernel, "exitstatus": int(exitstatus)}))


def pytest_collection_modifyitems(config, items):
    """The slow tests first, so that with -n the run does not end waiting
    for one of them on a single worker while the others sit idle."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)

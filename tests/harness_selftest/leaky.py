"""Tests that leave processes behind on purpose: tests/test_harness.py runs
this file in a pytest of its own and checks that tests/conftest.py catches
each leak, fails the test and kills the process. Not collected by a normal
run (conftest.py's collect_ignore).

Each leaky test writes the pid of what it leaked to $LEAK_PID_DIR/NAME.
"""

import os
import subprocess
import time
from pathlib import Path


def record_pid_of(command: str, name: str) -> str:
    """A shell command that writes its own pid to the pid file, then runs
    `command` in its place."""
    pid_file = Path(os.environ["LEAK_PID_DIR"]) / name
    return f"echo $$ > {pid_file}; exec {command}"


def wait_for_pid(name: str) -> int:
    """The recorded pid, once the shell that wrote it has become the leaked
    command (exec done), so the leak report names that command, not the
    shell: on a loaded machine the exec can lag the write."""
    pid_file = Path(os.environ["LEAK_PID_DIR"]) / name
    deadline = time.monotonic() + 10
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline, f"{pid_file} never written"
        time.sleep(0.05)
    pid = int(pid_file.read_text())
    cmdline = Path(f"/proc/{pid}/cmdline")
    while not cmdline.read_bytes().startswith(b"sleep\0"):
        assert time.monotonic() < deadline, f"pid {pid} never became `sleep`"
        time.sleep(0.01)
    return pid


def test_leaks_through_script():
    """As `make run` under `script` did: `script` starts its command in a
    session of its own; this test then "forgets" it."""
    subprocess.Popen(["script", "-qfec", record_pid_of("sleep 600", "script"), "/dev/null"],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     start_new_session=True)
    wait_for_pid("script")


def test_leaks_a_daemon():
    """A process that detaches itself (setsid --fork: new session, parent
    gone), so no process group or parent leads to it."""
    subprocess.run(["setsid", "--fork", "sh", "-c", record_pid_of("sleep 600", "daemon")],
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)
    wait_for_pid("daemon")


def test_cleans_up():
    """Starts a process and ends it: nothing to report."""
    proc = subprocess.Popen(["sleep", "600"])
    proc.kill()
    proc.wait()

"""End-to-end tests of `make run` itself, in each of the three ways a person
meets it: no terminal (serial on stdout), a terminal without a display (the
VGA screen drawn by QEMU's curses display, serial in build/serial.log), and a
desktop (a QEMU window; here a virtual X server, Xvfb)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from harness import BANNER, BIOS_TIMEOUT, BUILD, ROOT, TestFailure, check, e2e

SERIAL_LOG = BUILD / "serial.log"


class MakeRun:
    """`make run` in its own process group, its output collected in the
    background; stopped (the whole group) on exit."""

    def __init__(self, command: list[str], env: dict[str, str]):
        self.output = b""
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self):
        for chunk in iter(lambda: self.proc.stdout.read1(4096), b""):
            self.output += chunk

    def text(self) -> str:
        return self.output.decode("utf-8", "replace").replace("\r", "")

    def wait_until(self, what: str, condition, timeout: float = BIOS_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not condition():
            if self.proc.poll() is not None:
                raise TestFailure(f"`make run` exited ({self.proc.returncode}) before "
                                  f"{what}; its output:\n{self.text()}")
            if time.monotonic() > deadline:
                raise TestFailure(f"timed out waiting for {what}; output:\n{self.text()}")
            time.sleep(0.1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def run_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell, without a display unless given."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "CMDLINE", "UEFI", "ENTRY")}
    env.update(extra)
    return env


MAKE_RUN = ["make", "-s", "--no-print-directory", "run"]


@e2e
def make_run_without_a_terminal_prints_serial_on_stdout():
    """No terminal, no display (CI, scripts): serial output on stdout."""
    with MakeRun(MAKE_RUN, run_env()) as run:
        run.wait_until("`ready` on stdout", lambda: "\nready\n" in run.text())
        check(f"\n{BANNER}\n" in run.text(), f"banner missing from stdout:\n{run.text()}")
        check("Quit: Ctrl-C" in run.text(), "no hint on how to quit")


@e2e
def make_run_in_a_terminal_draws_the_screen_with_curses():
    """A terminal without a display (e.g. SSH): the VGA screen is drawn in the
    terminal, serial goes to build/serial.log."""
    if SERIAL_LOG.exists():
        SERIAL_LOG.unlink()
    # `script` gives `make run` a pseudo-terminal, as an SSH session would.
    command = ["script", "-qfec", " ".join(MAKE_RUN), "/dev/null"]
    with MakeRun(command, run_env(TERM="xterm")) as run:
        run.wait_until("`ready` in build/serial.log",
                       lambda: SERIAL_LOG.exists() and "ready" in SERIAL_LOG.read_text().split())
        # The screen is drawn with cursor movements between runs of text; the
        # banner is one run.
        run.wait_until("the banner drawn in the terminal", lambda: BANNER in run.text(), 10)
        check("type quit" in run.text(), "no hint on how to quit curses mode")
        check(run.proc.poll() is None, "QEMU stopped")


@e2e
def make_run_with_a_display_opens_a_qemu_window():
    """A desktop ($DISPLAY set): a QEMU window opens; serial on the terminal."""
    for tool in ("Xvfb", "xwininfo"):
        check(shutil.which(tool) is not None,
              f"{tool} is missing: run scripts/setup.sh (packages xvfb, x11-utils)")
    # -displayfd: Xvfb picks a free display number and writes it to stdout.
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "1024x768x24",
                             "-nolisten", "tcp"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    display = f":{xvfb.stdout.readline().strip()}"
    try:
        with MakeRun(MAKE_RUN, run_env(DISPLAY=display)) as run:
            run.wait_until("`ready` on the terminal", lambda: "\nready\n" in run.text())

            def qemu_window() -> bool:
                tree = subprocess.run(["xwininfo", "-root", "-tree", "-display", display],
                                      capture_output=True, text=True).stdout
                return "QEMU" in tree
            run.wait_until("a QEMU window on the display", qemu_window, 20)
            check("close the window" in run.text(), "no hint on how to quit")
    finally:
        xvfb.kill()
        xvfb.wait()


def gdb_port_open() -> bool:
    """Whether QEMU's GDB stub listens on port 1234 yet."""
    try:
        socket.create_connection(("127.0.0.1", 1234), timeout=1).close()
        return True
    except OSError:
        return False


@e2e
def make_debug_waits_for_gdb_and_stops_at_rust_main():
    """`make debug` and the README's gdb command: QEMU waits paused, gdb
    attaches, a hardware breakpoint stops in rust_main."""
    with MakeRun(["make", "-s", "--no-print-directory", "debug"], run_env()) as run:
        run.wait_until("the gdb instructions", lambda: "target remote :1234" in run.text())
        run.wait_until("QEMU's GDB port to open", gdb_port_open, 20)
        check("\nready\n" not in run.text(), "the kernel ran before gdb attached")
        gdb = subprocess.run(
            ["gdb", "-q", "-batch", str(BUILD / "kernel.bin"),
             "-ex", "target remote :1234", "-ex", "hbreak rust_main", "-ex", "continue",
             "-ex", "info symbol $pc"],
            capture_output=True, text=True, timeout=BIOS_TIMEOUT)
        out = gdb.stdout + gdb.stderr
        check("Breakpoint 1," in out and "rust_main" in out.split("Breakpoint 1,")[-1],
              f"gdb did not stop in rust_main:\n{out}")

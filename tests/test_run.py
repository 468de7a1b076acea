"""End-to-end tests of `make run` itself, in each of the three ways a person
meets it: no terminal (serial on stdout), a terminal without a display (the
VGA screen drawn by QEMU's curses display, serial in build/serial.log), and a
desktop (a QEMU window; here a virtual X server, Xvfb); and of `make debug`.
Under UEFI in a terminal, serial takes the curses screen's place.

They share fixed resources, so they run one at a time on one xdist worker
(the `make-run` group): `make run` rebuilds build/os.iso, the terminal mode
writes build/serial.log, and `make debug`'s GDB stub listens on port 1234.
(The other tests boot a snapshot of build/os.iso; see tests/conftest.py.)
"""

from __future__ import annotations

import os
import socket
import subprocess
import time

import pytest

from harness import BANNER, BIOS_TIMEOUT, BUILD, UEFI_TIMEOUT, check
from terminal import PROMPT

pytestmark = pytest.mark.xdist_group("make-run")

SERIAL_LOG = BUILD / "serial.log"
GDB_PORT = 1234


def run_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell, without a display unless given."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "CMDLINE", "UEFI", "ENTRY")}
    env.update(extra)
    return env


MAKE_RUN = ["make", "-s", "--no-print-directory", "run"]


def type_keys(run, data: bytes):
    """Types `data` on `make run`'s standard input (a pipe, or through
    `script` the terminal)."""
    run.proc.stdin.write(data)
    run.proc.stdin.flush()


def test_make_run_without_a_terminal_prints_serial_on_stdout(make_run):
    """No terminal, no display (CI, scripts): serial output on stdout, and
    standard input reaches the shell."""
    run = make_run(MAKE_RUN, run_env())
    run.wait_until("`ready` on stdout", lambda: "\nready\n" in run.text())
    check(run, f"\n{BANNER}\n" in run.text(), "banner missing from stdout")
    check(run, "Quit: Ctrl-C" in run.text(), "no hint on how to quit")
    run.wait_until("the prompt", lambda: run.text().endswith(PROMPT))
    type_keys(run, b"echo from a pipe\r")
    run.wait_until("the shell's answer", lambda: "\nfrom a pipe\n" in run.text())


def test_make_run_in_a_terminal_draws_the_screen_with_curses(make_run):
    """A terminal without a display (e.g. SSH): the VGA screen is drawn in the
    terminal, serial goes to build/serial.log."""
    if SERIAL_LOG.exists():
        SERIAL_LOG.unlink()
    # `script` gives `make run` a pseudo-terminal, as an SSH session would.
    # It runs `make run` in a session of its own: the make_run fixture stops
    # it by its environment tag, not by process group.
    command = ["script", "-qfec", " ".join(MAKE_RUN), "/dev/null"]
    run = make_run(command, run_env(TERM="xterm"))
    run.wait_until("`ready` in build/serial.log",
                   lambda: SERIAL_LOG.exists() and "ready" in SERIAL_LOG.read_text().split())
    # The screen is drawn with cursor movements between runs of text; the
    # banner is one run.
    run.wait_until("the banner drawn in the terminal", lambda: BANNER in run.text(), 10)
    check(run, "type quit" in run.text(), "no hint on how to quit curses mode")
    # Keys typed in the terminal reach the shell through the PS/2 keyboard,
    # Ctrl-C included; the shell answers on serial (and on the screen).
    run.wait_until("the prompt in build/serial.log",
                   lambda: SERIAL_LOG.read_text().endswith(PROMPT))
    type_keys(run, b"echo in curses\r")
    run.wait_until("the shell's answer in build/serial.log",
                   lambda: "\nin curses\n" in SERIAL_LOG.read_text().replace("\r", ""))
    type_keys(run, b"oops\x03")
    run.wait_until("Ctrl-C reaching the shell",
                   lambda: "oops^C" in SERIAL_LOG.read_text(), 10)
    check(run, run.proc.poll() is None, "QEMU stopped")


@pytest.mark.slow
def test_make_run_uefi_in_a_terminal_shows_the_serial_console(make_run):
    """`make run UEFI=1` in a terminal without a display: curses cannot draw
    the framebuffer, so the terminal shows the serial console instead, and
    one line says so."""
    command = ["script", "-qfec", " ".join(MAKE_RUN), "/dev/null"]
    run = make_run(command, run_env(TERM="xterm", UEFI="1"))
    run.wait_until("`ready` in the terminal", lambda: "\nready\n" in run.text(),
                   UEFI_TIMEOUT)
    check(run, f"\n{BANNER}\n" in run.text(), "banner missing from the terminal")
    check(run, "serial console below instead" in run.text(),
          "no line saying the terminal shows serial")
    check(run, "Graphic mode" not in run.text(), "curses was used")


def test_make_run_with_a_display_opens_a_qemu_window(make_run, xvfb_display):
    """A desktop ($DISPLAY set): a QEMU window opens; serial on the terminal,
    where typed keys reach the shell, Ctrl-C too (it does not end QEMU);
    Ctrl-A x ends it."""
    command = ["script", "-qfec", " ".join(MAKE_RUN), "/dev/null"]
    run = make_run(command, run_env(DISPLAY=xvfb_display, TERM="xterm"))
    run.wait_until("`ready` on the terminal", lambda: "\nready\n" in run.text())

    def qemu_window() -> bool:
        tree = subprocess.run(["xwininfo", "-root", "-tree", "-display", xvfb_display],
                              capture_output=True, text=True).stdout
        return "QEMU" in tree
    run.wait_until("a QEMU window on the display", qemu_window, 20)
    check(run, "close the window" in run.text() and "Ctrl-A then x" in run.text(),
          "no hint on how to quit")
    run.wait_until("the prompt", lambda: run.text().endswith(PROMPT))
    type_keys(run, b"echo typed here\r")
    run.wait_until("the shell's answer", lambda: "\ntyped here\n" in run.text())
    type_keys(run, b"abandon\x03")
    run.wait_until("Ctrl-C reaching the shell", lambda: "abandon^C" in run.text(), 10)
    check(run, run.proc.poll() is None, "Ctrl-C ended `make run`")
    type_keys(run, b"\x01x")
    deadline = time.monotonic() + 20
    while run.proc.poll() is None:
        check(run, time.monotonic() < deadline, "Ctrl-A x did not end QEMU")
        time.sleep(0.1)


def gdb_port_open() -> bool:
    """Whether something (QEMU's GDB stub) listens on port 1234."""
    try:
        socket.create_connection(("127.0.0.1", GDB_PORT), timeout=1).close()
        return True
    except OSError:
        return False


def test_make_debug_waits_for_gdb_and_stops_at_rust_main(make_run):
    """`make debug` and docs/development.md's gdb command: QEMU waits paused, gdb
    attaches, a hardware breakpoint stops in rust_main."""
    # Port 1234 is fixed (docs/development.md's command): wait for another user of it
    # (e.g. a `make debug` in another checkout) rather than attach gdb there.
    deadline = time.monotonic() + BIOS_TIMEOUT
    while gdb_port_open():
        check(None, time.monotonic() < deadline,
              f"port {GDB_PORT} stays busy: something else listens there")
        time.sleep(0.5)
    run = make_run(["make", "-s", "--no-print-directory", "debug"], run_env())
    run.wait_until("the gdb instructions", lambda: "target remote :1234" in run.text())
    run.wait_until("QEMU's GDB port to open", gdb_port_open, 20)
    check(run, "\nready\n" not in run.text(), "the kernel ran before gdb attached")
    gdb = subprocess.run(
        ["gdb", "-q", "-batch", str(BUILD / "kernel.elf"),
         "-ex", "target remote :1234", "-ex", "hbreak rust_main", "-ex", "continue",
         "-ex", "info symbol $pc"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=BIOS_TIMEOUT)
    out = gdb.stdout + gdb.stderr
    check(run, "Breakpoint 1," in out and "rust_main" in out.split("Breakpoint 1,")[-1],
          f"gdb did not stop in rust_main:\n{out}")

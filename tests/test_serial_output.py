"""End-to-end tests of serial output that never freezes the machine: a
terminal that stops reading stalls COM1's transmitter, and the kernel must
go on with the screen, the keyboard and the shell, drop serial output and
count it, and say how much it dropped once the line drains again."""

import re
import time

from harness import Boot, check
from terminal import key_names

# More output than the socket between QEMU and the harness buffers (about
# 200 KiB for a Unix socket): each `bootinfo` prints about 1 KiB.
FLOOD_COMMANDS = 400
DROPPED = re.compile(r"^\[WARN\] serial: (\d+) bytes dropped while the line was stalled$",
                     re.M)
SERIAL_COUNTS = re.compile(
    r"^serial output: (\d+) bytes sent, (\d+) dropped, stalled (\d+) ms \((\d+) times\)$", re.M)
PROMPT = "kestrel>"


def wait_screen_settled(boot: Boot, timeout: float) -> list[str]:
    """Waits until the screen's last line starts with the prompt and the
    screen stops changing (the shell has worked through what it was sent;
    input it had to drop may leave a partial line after the prompt)."""
    deadline = time.monotonic() + timeout
    previous = None
    while True:
        lines = [line for line in boot.screen().lines() if line]
        if lines == previous and lines and lines[-1].startswith(PROMPT):
            return lines
        check(boot, time.monotonic() < deadline,
              f"the shell did not settle in {timeout} s: {lines[-5:]}")
        previous = lines
        time.sleep(1.0)


def wait_text(boot: Boot, pattern: re.Pattern, start: int, timeout: float, what: str):
    """Waits until what serial received after byte `start` matches."""
    deadline = time.monotonic() + timeout
    while True:
        text = boot.received_bytes()[start:].decode("utf-8", "replace").replace("\r\n", "\n")
        match = pattern.search(text)
        if match:
            return match
        check(boot, time.monotonic() < deadline, f"no {what} on serial in {timeout} s")
        time.sleep(0.2)


def test_a_stalled_serial_line_freezes_nothing_and_resumes_with_a_count(qemu):
    """A terminal stops reading: 10,000 bytes, Ctrl-C and 400 `bootinfo`
    typed on serial, never read. The shell works through them, PS/2 typing
    still answers on the screen, QEMU keeps running; once the terminal reads
    again, one warning says how many bytes were dropped, the shell answers
    on serial, and `interrupts` counts what was sent and dropped."""
    boot = qemu("serial-stall", serial_input=True)
    boot.wait_for_line("ready")
    check(boot, boot.wait_received(b"kestrel> ", 0, 30), "no prompt on serial")
    boot.pause_serial_reading()
    boot.send_serial(b"x" * 10_000 + b"\x03" + b"bootinfo\r" * FLOOD_COMMANDS)

    # Nothing is read meanwhile: the kernel's transmitter stalls.
    wait_screen_settled(boot, 120)
    boot.check_running()
    boot.sendkey("ctrl-c", *key_names("echo ps2-still-answers"), "ret")
    deadline = time.monotonic() + 20
    while "ps2-still-answers" not in boot.screen().lines():
        check(boot, time.monotonic() < deadline,
              f"PS/2 typing got no answer on the screen: {boot.screen().lines()[-5:]}")
        time.sleep(0.5)

    # The terminal reads again: output resumes with the count of what was lost.
    start = boot.received_length()
    boot.resume_serial_reading()
    dropped = int(wait_text(boot, DROPPED, start, 60, "dropped-bytes warning").group(1))
    check(boot, dropped > 0, f"the warning says {dropped} bytes")
    after = boot.received_length()
    boot.send_serial(b"echo serial-answers-again\r")
    check(boot, boot.wait_received(b"\r\nserial-answers-again\r\n", after, 20),
          "the shell does not answer on serial after the stall")
    boot.send_serial(b"interrupts\r")
    counts = wait_text(boot, SERIAL_COUNTS, after, 20, "serial counts in `interrupts`")
    sent, total_dropped, _, stalls = (int(g) for g in counts.groups())
    check(boot, sent > 0 and total_dropped >= dropped and stalls >= 1,
          f"counts after a stall: {counts.group(0)}")
    boot.check_running()


def test_a_panic_on_a_stalled_serial_line_still_reaches_the_screen(qemu):
    """The same stalled terminal, then `crash gp` typed on PS/2: the panic
    screen's writes to serial wait a bounded time per byte and give up, so
    the report reaches the VGA screen, and the machine halts (no reset)."""
    boot = qemu("serial-stall-panic", serial_input=True)
    boot.wait_for_line("ready")
    check(boot, boot.wait_received(b"kestrel> ", 0, 30), "no prompt on serial")
    boot.pause_serial_reading()
    boot.send_serial(b"bootinfo\r" * FLOOD_COMMANDS)
    wait_screen_settled(boot, 120)
    # The line is stalled: `interrupts` on the screen counts dropped bytes.
    boot.sendkey("ctrl-c", *key_names("interrupts"), "ret")
    deadline = time.monotonic() + 20
    while not (counts := SERIAL_COUNTS.search(boot.screen().text())):
        check(boot, time.monotonic() < deadline, "no serial counts on the screen")
        time.sleep(0.5)
    check(boot, int(counts.group(2)) > 0, f"the line did not stall: {counts.group(0)}")
    boot.sendkey(*key_names("crash gp"), "ret")
    deadline = time.monotonic() + 60
    while not any(line.startswith("KERNEL PANIC: CPU exception: general protection fault")
                  for line in boot.screen().lines()):
        check(boot, time.monotonic() < deadline,
              f"no panic screen: {boot.screen().lines()[-6:]}")
        time.sleep(0.5)
    boot.check_running()

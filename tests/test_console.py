"""End-to-end tests of the console: the screen read from outside QEMU (text
and colours, following the CRTC start address), hardware scrolling, the
serial mirror, log records and levels, a boot without a serial port, and the
panic screen."""

import re

import pytest

from harness import BANNER, Boot, Screen, build_iso, check
from screen_model import (DEFAULT_COLOUR, LEVEL_COLOURS, PANIC_COLOUR, VGA_COLUMNS, VGA_ROWS,
                          rows_diff, screen_rows)
from terminal import PROMPT, wait_for_prompt

# Attribute bytes (background << 4 | foreground) the kernel uses.
DEFAULT = DEFAULT_COLOUR
WARN = LEVEL_COLOURS["[WARN]"]
PANIC = PANIC_COLOUR

UNKNOWN_WORDS = [f"word{i:02d}" for i in range(30)]


def check_row_colour(boot: Boot, screen: Screen, row: int, colour: int, width: int):
    """Cells 0..width of `row` all have attribute `colour`."""
    attrs = screen.attrs[row][:width]
    check(boot, all(a == colour for a in attrs),
          f"row {row} {screen.lines()[row]!r} has attributes "
          f"{[hex(a) for a in attrs]}, expected all {colour:#04x}")


def test_plain_lines_have_no_tag_default_colours_and_the_cursor_follows(qemu):
    """Default boot: banner first and `ready` last, in light grey and with
    no log tag (nothing is logged at the default level on a healthy boot),
    then the shell's prompt (this test expects it); the hardware cursor
    after the prompt, on the row after `ready`."""
    boot = qemu("console-plain")
    boot.wait_for_line("ready")
    wait_for_prompt(boot)
    lines = [l for l in boot.serial_lines() if l.strip()]
    check(boot, lines[0] == BANNER and lines[-2:] == ["ready", PROMPT],
          "serial should start with the banner and end with `ready` and "
          f"the prompt: {lines}")
    tagged = [l for l in lines if re.match(r"\[[A-Z]+\] ", l)]
    check(boot, not tagged, f"log records at the default level on a healthy boot: {tagged}")
    screen = boot.screen()
    ready = screen.find("ready")
    check(boot, screen.lines()[0] == BANNER and ready is not None
          and screen.lines()[ready[0]] == "ready",
          "the banner should be row 0 and `ready` a row of its own")
    check_row_colour(boot, screen, 0, DEFAULT, len(BANNER))
    check_row_colour(boot, screen, ready[0], DEFAULT, len("ready"))
    check(boot, screen.lines()[ready[0] + 1] == PROMPT.rstrip(),
          "the prompt should be the row after `ready`")
    check_row_colour(boot, screen, ready[0] + 1, DEFAULT, len(PROMPT))
    cursor = boot.crtc_cursor()
    expected = screen.start + (ready[0] + 1) * VGA_COLUMNS + len(PROMPT)
    check(boot, cursor == expected,
          f"hardware cursor at cell {cursor}, expected {expected}: the row "
          "after `ready`, after the prompt")
    boot.check_running()


def test_log_lines_scroll_in_hardware_and_screen_shows_the_last_25_lines_in_colour(qemu):
    """`loglevel=trace` and 30 unknown words: more than 25 lines, so the screen
    scrolls. It must show exactly the last 25 rows of what serial got, each in
    its level's colour, with the CRTC start moved (hardware scrolling). Boots
    with `noshell`, so `ready` is the last line and the cursor below it."""
    iso = build_iso("console-trace",
                    cmdline="noshell loglevel=trace " + " ".join(UNKNOWN_WORDS))
    boot = qemu("console-trace", iso)
    boot.wait_for_line("ready")
    serial = boot.serial_lines()
    check(boot, serial[0] == BANNER, f"first serial line is {serial[0]!r}, expected the banner")
    for word in UNKNOWN_WORDS:
        check(boot, f"[WARN] ignoring unknown kernel option `{word}`" in serial,
              f"no warning for the unknown word {word!r}")
    for tag in ("[DEBUG] ", "[TRACE] "):
        check(boot, any(l.startswith(tag) for l in serial),
              f"loglevel=trace printed no {tag.strip()} line")
    # Serial ends with "ready\n": its last, empty line is the cursor row.
    # The report's details go to serial only.
    rows = screen_rows(serial)
    check(boot, len(rows) > VGA_ROWS, f"only {len(rows)} rows printed: nothing scrolled")
    screen = boot.screen()
    expected = [text for text, _ in rows[-VGA_ROWS:]]
    check(boot, screen.lines() == expected, f"the screen is not the last {VGA_ROWS} rows of "
                                            f"serial:\n{rows_diff(screen.lines(), expected)}")
    check(boot, screen.find(BANNER) is None, "the banner is still on screen after scrolling")
    check(boot, screen.start != 0 and screen.start % VGA_COLUMNS == 0,
          f"CRTC start is {screen.start}: not scrolled in hardware by whole rows")
    colours = [colour for _, colour in rows[-VGA_ROWS:]]
    for row, (text, colour) in enumerate(zip(screen.lines(), colours)):
        check_row_colour(boot, screen, row, colour, len(text))
    check(boot, len(set(colours)) >= 2, "the screen should show lines of more than one colour")
    cursor = boot.crtc_cursor()
    check(boot, cursor == screen.start + (VGA_ROWS - 1) * VGA_COLUMNS,
          f"hardware cursor at {cursor}, not on the last row")
    boot.check_running()


def test_loglevel_error_hides_warnings(qemu):
    """`loglevel=error` hides the unknown word's warning."""
    iso = build_iso("console-loglevel-error", cmdline="loglevel=error bogus")
    boot = qemu("console-loglevel-error", iso)
    boot.wait_for_line("ready")
    tagged = [l for l in boot.serial_lines() if l.startswith("[")]
    check(boot, not tagged, f"loglevel=error still printed {tagged}")


def test_bad_loglevel_value_is_reported_and_the_boot_goes_on(qemu):
    """`loglevel=loud` gets a warning naming the accepted values, on serial
    and in the warning colour on screen; the boot goes on to `ready`."""
    boot = qemu("console-loglevel-bad", build_iso("console-loglevel-bad", cmdline="loglevel=loud"))
    boot.wait_for_line("ready")
    expected = "[WARN] ignoring `loglevel=loud`: expected loglevel=error|warn|info|debug|trace"
    check(boot, expected in boot.serial_lines(), f"missing {expected!r}")
    screen = boot.screen()
    position = screen.find(expected)
    check(boot, position is not None, "the warning is not on screen")
    check_row_colour(boot, screen, position[0], WARN, len(expected))


def test_boot_without_serial_port_still_shows_the_screen(qemu):
    """QEMU `-serial none`: no hang; the banner, a warning and `ready` on
    screen."""
    boot = qemu("console-no-serial", serial=False)
    _, screen = boot.wait_for_screen(re.escape("ready"))
    expected = [BANNER, "[WARN] no serial port"]
    check(boot, screen.lines()[:2] == expected, f"rows 0-1 should be {expected}")
    check_row_colour(boot, screen, 1, WARN, len(expected[1]))
    check(boot, "ready" in screen.lines(), "`ready` is not a row of its own")
    boot.check_running()


@pytest.mark.parametrize("cmdline, message", [
    # the panic screen on both consoles; QEMU keeps running
    ("panic=test", "deliberate panic (panic=test on the command line)"),
    # a panic while both console locks are held (as inside a writer) still
    # prints the panic screen instead of deadlocking
    ("panic=locked", "deliberate panic with the console locks held (panic=locked)"),
], ids=["test", "locked"])
def test_panic_shows_the_panic_screen_and_halts(qemu, cmdline, message):
    """`panic=test|locked`: the panic screen: message, location and `stopped`
    line on serial and, white on red across the whole row, on screen; the
    machine halted."""
    name = "console-" + cmdline.replace("=", "-")
    boot = qemu(name, build_iso(name, cmdline=cmdline))
    boot.wait_for_line("ready")
    boot.wait_for_line(r"the kernel has stopped", regex=True)
    serial = boot.serial_lines()
    first = f"KERNEL PANIC: {message}"
    check(boot, first in serial, f"no {first!r} line on serial")
    at = serial[serial.index(first) + 1]
    check(boot, re.fullmatch(r"  at src/\S+\.rs:\d+:\d+", at),
          f"the line after the panic message is {at!r}, not `  at file:line:column`")
    screen = boot.screen()
    position = screen.find(first)
    check(boot, position is not None and position[1] == 0,
          "the panic message is not at the start of a row")
    row = position[0]
    check(boot, screen.lines()[row + 1] == at,
          f"the row after the message is not {at!r}")
    for r in (row, row + 1, row + 2):
        check_row_colour(boot, screen, r, PANIC, VGA_COLUMNS)
    # Halted, not reset: -no-reboot would have ended QEMU.
    boot.check_running(settle=1.0)

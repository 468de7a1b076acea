"""What the screen should show, worked out on the host from what the kernel
wrote to serial: which rows its lines fill, in which colours, and how the
panic screen cuts a backtrace. The tests compare this with the screen QEMU
shows (tests/harness.py reads the VGA text screen, tests/framebuffer.py the
framebuffer's pixels); nothing here starts or reads a QEMU.
"""

from __future__ import annotations

import re

# The VGA text screen: 80 columns, 25 rows.
VGA_COLUMNS, VGA_ROWS = 80, 25

# Attribute bytes (background << 4 | foreground) the kernel uses.
DEFAULT_COLOUR = 0x07   # light grey on black: plain println!, [INFO]
PANIC_COLOUR = 0x4F     # white on red
LEVEL_COLOURS = {"[ERROR]": 0x0C, "[WARN]": 0x0E, "[INFO]": DEFAULT_COLOUR,
                 "[DEBUG]": 0x08, "[TRACE]": 0x08}

# Boot report lines the kernel prints on serial only (docs/boot-report.md).
SERIAL_ONLY = re.compile(
    r"^(mem: \[|kernel: |mbi: |module: |framebuffer: |console: |acpi: |paging: |heap: )")

# The panic screen cuts each backtrace line (`  backtrace...` up to the
# closing `  the kernel has stopped...`) to one row, this mark in its last
# cell when something was cut (src/console/grid.rs, print_band_row).
CUT_MARK = ">"


def colour_of(line: str) -> int:
    """The colour a line's text should have on screen, from its log tag."""
    for tag, colour in LEVEL_COLOURS.items():
        if line.startswith(tag):
            return colour
    return DEFAULT_COLOUR


def screen_rows(lines: list[str], columns: int = VGA_COLUMNS) -> list[tuple[str, int]]:
    """The screen rows that serial `lines` fill, as (text, colour) with the
    colour each should have: long lines wrap at `columns` (each row in the
    line's colour), an empty line is one blank row; trailing blanks
    dropped; the lines serial only gets are left out."""
    rows = []
    for line in lines:
        if SERIAL_ONLY.match(line):
            continue
        line = line.rstrip()
        colour = colour_of(line)
        rows += [(line[i:i + columns].rstrip(), colour)
                 for i in range(0, max(len(line), 1), columns)]
    return rows


def cut_backtrace(lines: list[str], columns: int = VGA_COLUMNS) -> list[str]:
    """Serial `lines` as the screen shows them: a panic report's backtrace
    lines cut to one row each."""
    out, inside = [], False
    for line in lines:
        if line.startswith("  backtrace"):
            inside = True
        elif line.startswith("  the kernel has stopped"):
            inside = False
        if inside and len(line) > columns:
            line = line[:columns - 1] + CUT_MARK
        out.append(line)
    return out


def rows_diff(shown: list[str], expected: list[str]) -> str:
    """The rows where the screen's text differs from what it should show,
    one line each, for a failure message ("" when none does)."""
    return "\n".join(f"  row {i}: screen {s!r} != serial {e!r}"
                     for i, (s, e) in enumerate(zip(shown, expected)) if s != e)

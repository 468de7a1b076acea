"""The shell from outside: what a serial terminal shows of the kernel's
output (a small emulator of exactly the control sequences the line editor
sends), waiting for prompts, and typing through the PS/2 keyboard.

The kernel's serial output after `ready` mixes text with the line editor's
moves: `ESC[nA`, `ESC[nB`, `ESC[nC`, `ESC[nD` (cursor up, down, right,
left, stopping at the edges), CR, `ESC[J` (erase below) and `ESC[2J ESC[H`
(clear the screen, cursor home). `terminal_lines` replays them on a
terminal `width` columns wide (80, the kernel's `serial.cols` default) the
way a VT100 does, a character in the last column waiting to wrap, and
returns the lines a person would read: rows the text wrapped across are
joined back into one line, as a terminal copies them."""

import re
import time

from harness import check

PROMPT = "kestrel> "

# The serial terminal's columns the kernel assumes unless `serial.cols=`.
SERIAL_COLUMNS = 80

_SEQUENCE = re.compile(r"\x1b\[(\d*)([A-Za-z])")

# QEMU `sendkey` names for the characters the tests type on the PS/2 keyboard.
_KEY_NAMES = {" ": "spc", "-": "minus", ".": "dot", "=": "equal", "/": "slash",
              ",": "comma", "\n": "ret", "_": "shift-minus"}


def terminal_lines(text: str, width: int = SERIAL_COLUMNS) -> list[str]:
    """The lines a terminal `width` columns wide shows after `text` (\\r\\n
    already \\n or not), rows wrapped across joined, trailing blanks dropped,
    down to the cursor's row or the last row written, whichever is lower. A
    clear screen drops everything before it."""
    rows: list[list[str]] = [[]]
    wrapped = [False]  # row i continues on row i + 1
    row = column = 0
    pending = False  # a character went into the last column

    def down():
        nonlocal row
        row += 1
        if row == len(rows):
            rows.append([])
            wrapped.append(False)

    def erase_from(r: int, c: int):
        del rows[r][c:]
        wrapped[r] = False

    position = 0
    while position < len(text):
        match = _SEQUENCE.match(text, position)
        if match:
            parameter = match.group(1)
            count = max(1, int(parameter or 1))
            final = match.group(2)
            pending = False
            if final == "A":
                row = max(0, row - count)
            elif final == "B":
                row = min(len(rows) - 1, row + count)
            elif final == "C":
                column = min(width - 1, column + count)
            elif final == "D":
                column = max(0, column - count)
            elif final == "G":
                column = min(width - 1, count - 1)
            elif final == "K":
                erase_from(row, column)
            elif final == "J" and parameter == "2":
                rows, wrapped = [[]], [False]
                row = column = 0
            elif final == "J":
                erase_from(row, column)
                for below in range(row + 1, len(rows)):
                    erase_from(below, 0)
            elif final == "H":
                row = column = 0
            position = match.end()
            continue
        char = text[position]
        position += 1
        if char == "\n":
            down()
            column = 0
            pending = False
        elif char == "\r":
            column = 0
            pending = False
        else:
            if pending:
                wrapped[row] = True
                down()
                column = 0
                pending = False
            line = rows[row]
            if len(line) <= column:
                line.extend(" " * (column - len(line)))
                line.append(char)
            else:
                line[column] = char
            if column == width - 1:
                pending = True
            else:
                column += 1
    last = max([row] + [r for r, line in enumerate(rows) if "".join(line).strip()])
    lines, current = [], ""
    for r in range(last + 1):
        current += "".join(rows[r]).ljust(width) if wrapped[r] else "".join(rows[r])
        if not wrapped[r] or r == last:
            lines.append(current.rstrip())
            current = ""
    return lines


def shell_lines(boot) -> list[str]:
    """What a terminal shows of the serial output from `ready` on (the boot
    report before it is left out)."""
    text = boot.serial().replace("\r\n", "\n")
    ready = text.find("\nready\n")
    return terminal_lines(text[ready + 1:] if ready >= 0 else text)


def prompts(boot) -> int:
    """How many prompts the kernel has printed on serial."""
    return boot.serial().count(PROMPT)


def wait_for_prompt(boot, count: int = 1, timeout: float | None = None):
    """Waits until the kernel has printed its prompt `count` times in all and
    serial ends with it (the shell waits for a key). Fails if QEMU exits."""
    deadline = time.monotonic() + (timeout or boot.timeout)
    while True:
        serial = boot.serial()
        if serial.count(PROMPT) >= count and serial.endswith(PROMPT):
            return
        status = boot.proc.poll()
        check(boot, status is None, f"QEMU exited with status {status} before prompt {count}")
        check(boot, time.monotonic() <= deadline,
              f"timed out waiting for prompt {count} "
              f"({serial.count(PROMPT)} so far)")
        time.sleep(0.05)


def run(boot, line: str) -> list[str]:
    """Types `line` and Enter on serial (the shell waiting at its prompt),
    waits for the next prompt, returns the terminal lines between the
    prompt's line (where `line` was echoed) and the new prompt."""
    before = prompts(boot)
    count = len(shell_lines(boot))
    boot.send_serial(line.encode() + b"\r")
    wait_for_prompt(boot, before + 1)
    return shell_lines(boot)[count:-1]


def key_names(text: str) -> list[str]:
    """QEMU `sendkey` names that type `text` on a US keyboard."""
    names = []
    for char in text:
        if char.isalpha() and char.isupper():
            names.append("shift-" + char.lower())
        elif char.isalnum():
            names.append(char)
        else:
            names.append(_KEY_NAMES[char])
    return names

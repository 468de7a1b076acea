"""The shell from outside: what a serial terminal shows of the kernel's
output (a small emulator of exactly the control sequences the line editor
sends), waiting for prompts, and typing through the PS/2 keyboard.

The kernel's serial output after `ready` mixes text with `ESC[nD`, `ESC[nC`
(cursor left/right), `ESC[K` (erase to the end of the line) and `ESC[2J
ESC[H` (clear the screen, cursor home). `terminal_lines` replays them on an
unbounded terminal and returns the lines a person would read."""

import re
import time

from harness import check

PROMPT = "kestrel> "

_SEQUENCE = re.compile(r"\x1b\[(\d*)([A-Za-z])")

# QEMU `sendkey` names for the characters the tests type on the PS/2 keyboard.
_KEY_NAMES = {" ": "spc", "-": "minus", ".": "dot", "=": "equal", "/": "slash",
              ",": "comma", "\n": "ret", "_": "shift-minus"}


def terminal_lines(text: str) -> list[str]:
    """The lines a terminal shows after `text` (\\r\\n already \\n or not),
    trailing blanks dropped. A clear screen drops everything before it."""
    lines: list[list[str]] = [[]]
    column = 0
    position = 0
    while position < len(text):
        match = _SEQUENCE.match(text, position)
        if match:
            count = int(match.group(1) or 1)
            final = match.group(2)
            line = lines[-1]
            if final == "D":
                column = max(0, column - count)
            elif final == "C":
                column += count
            elif final == "K":
                del line[column:]
            elif final == "J":
                lines = [[]]
                column = 0
            elif final == "H":
                column = 0
            position = match.end()
            continue
        char = text[position]
        position += 1
        if char == "\n":
            lines.append([])
            column = 0
        elif char == "\r":
            column = 0
        else:
            line = lines[-1]
            if len(line) <= column:
                line.extend(" " * (column - len(line)))
                line.append(char)
            else:
                line[column] = char
            column += 1
    return ["".join(line).rstrip() for line in lines]


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

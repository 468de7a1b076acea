"""End-to-end tests of the shell on the real ISO: typing through the serial
port and through the PS/2 keyboard (the monitor's `sendkey`), the echo, the
commands' output on the screen (read from outside) and on serial, the line
editor's keys, history, Tab completion, scrollback, reboot and power off,
`noshell`, and a flood of input."""

import re
import time

import pytest

from harness import BANNER, build_iso, check
from screen_model import VGA_COLUMNS, VGA_ROWS
from terminal import (PROMPT, key_names, prompts, run, shell_lines, terminal_lines,
                      wait_for_prompt)

UP, DOWN, LEFT, RIGHT = "\x1b[A", "\x1b[B", "\x1b[D", "\x1b[C"
HOME, END, DELETE = "\x1b[H", "\x1b[F", "\x1b[3~"
SHIFT_PGUP, SHIFT_PGDN = "\x1b[5;2~", "\x1b[6;2~"


def shell(qemu, name, iso=None, **options):
    """A boot that typed nothing yet, its first prompt on serial."""
    boot = qemu(name, iso, serial_input=True, **options)
    boot.wait_for_line("ready")
    wait_for_prompt(boot)
    return boot


def screen_after(boot, rows: list[str]):
    """The screen, once its last rows read `rows` (the screen is drawn right
    after serial; look again until it shows them, within a bound)."""
    deadline = time.monotonic() + 20
    while True:
        screen = boot.screen()
        lines = screen.lines()
        if lines[-len(rows):] == rows or _last_rows(lines, len(rows)) == rows:
            return screen
        check(boot, time.monotonic() <= deadline,
              f"the screen does not end with {rows}")
        time.sleep(0.1)


def _last_rows(lines: list[str], count: int) -> list[str]:
    """The last `count` rows that are not blank below the text."""
    while lines and not lines[-1]:
        lines = lines[:-1]
    return lines[-count:]


def check_cursor_after_prompt(boot, screen, text: str = ""):
    """The hardware cursor is on the prompt's row, after `text`."""
    row = max(r for r, line in enumerate(screen.lines()) if line.startswith(PROMPT.rstrip()))
    expected = screen.start + row * VGA_COLUMNS + len(PROMPT) + len(text)
    cursor = boot.crtc_cursor()
    check(boot, cursor == expected, f"cursor at {cursor}, expected {expected} (row {row})")


def test_a_command_typed_on_serial_answers_on_both_consoles(qemu):
    """`echo` typed on COM1: echoed, answered and a new prompt, on serial
    and on the VGA screen, the cursor after the new prompt."""
    boot = shell(qemu, "shell-serial")
    output = run(boot, "echo hello   world")
    check(boot, output == ["hello world"], f"echo printed {output}")
    lines = shell_lines(boot)
    check(boot, lines[-3:] == [PROMPT + "echo hello   world", "hello world", PROMPT.rstrip()],
          f"serial shows {lines[-3:]}")
    screen = screen_after(boot, [PROMPT + "echo hello   world", "hello world",
                                 PROMPT.rstrip()])
    check(boot, "ready" in screen.lines(), "`ready` is not a row of its own")
    check_cursor_after_prompt(boot, screen)
    boot.check_running()


def test_a_command_typed_on_the_ps2_keyboard_answers_on_both_consoles(qemu):
    """The same through the PS/2 keyboard (`sendkey`), shifted letters
    included."""
    boot = shell(qemu, "shell-ps2")
    boot.sendkey(*key_names("echo Typed-On PS2\n"))
    wait_for_prompt(boot, 2)
    lines = shell_lines(boot)
    check(boot, lines[-3:] == [PROMPT + "echo Typed-On PS2", "Typed-On PS2", PROMPT.rstrip()],
          f"serial shows {lines[-3:]}")
    screen = screen_after(boot, [PROMPT + "echo Typed-On PS2", "Typed-On PS2",
                                 PROMPT.rstrip()])
    check_cursor_after_prompt(boot, screen)


def test_history_with_the_arrow_keys(qemu):
    """Up twice brings back the line before last; Down past the newest
    brings back what was typed. On serial (ANSI arrows) and PS/2."""
    boot = shell(qemu, "shell-history")
    run(boot, "echo one")
    run(boot, "echo two")
    before = prompts(boot)
    boot.send_serial((UP + UP + "\r").encode())
    wait_for_prompt(boot, before + 1)
    check(boot, shell_lines(boot)[-3:] == [PROMPT + "echo one", "one", PROMPT.rstrip()],
          f"Up Up Enter: {shell_lines(boot)[-3:]}")
    before = prompts(boot)
    boot.send_serial(("ech" + UP + DOWN + "o three\r").encode())
    wait_for_prompt(boot, before + 1)
    check(boot, shell_lines(boot)[-2] == "three",
          f"Down did not bring back the draft: {shell_lines(boot)[-3:]}")
    boot.sendkey("up", "up", "ret")
    wait_for_prompt(boot, before + 2)
    check(boot, shell_lines(boot)[-2] == "one",
          f"PS/2 Up Up Enter: {shell_lines(boot)[-3:]}")
    screen_after(boot, [PROMPT + "echo one", "one", PROMPT.rstrip()])


def test_tab_completes_a_command_or_lists_the_choices(qemu):
    """`upt` Tab completes to `uptime `; `c` Tab lists clear, cpu and crash
    and draws the line again."""
    boot = shell(qemu, "shell-tab")
    output = run(boot, "upt\t")
    check(boot, len(output) == 1 and output[0].startswith("uptime: "),
          f"upt<Tab> ran {output}")
    check(boot, PROMPT + "uptime" in shell_lines(boot), "the completion is not echoed")
    before = prompts(boot)
    boot.send_serial(b"c\t")
    deadline = time.monotonic() + 20
    while "clear  cpu  crash" not in shell_lines(boot):
        check(boot, time.monotonic() < deadline, "no list of choices")
        time.sleep(0.05)
    boot.send_serial(b"pu\r")
    wait_for_prompt(boot, before + 2)
    lines = shell_lines(boot)
    check(boot, any(l.startswith("vendor: ") for l in lines), "`cpu` did not run")
    screen = boot.screen()
    check(boot, screen.find("clear  cpu  crash") is not None, "no choices on screen")


def test_line_editing_keys(qemu):
    """Left, Home, End, Delete, Backspace, Ctrl-U and Ctrl-C, through the
    serial port's terminal sequences."""
    boot = shell(qemu, "shell-editing")
    check(boot, run(boot, "echo abd" + LEFT + "c") == ["abcd"], "insert after Left")
    check(boot, run(boot, "xecho wrong" + HOME + DELETE + END + "\x7f\x7fng") == ["wrong"],
          f"Home/Delete/End/Backspace: {shell_lines(boot)[-4:]}")
    check(boot, run(boot, "garbage\x15echo fresh") == ["fresh"], "Ctrl-U did not clear the line")
    before = prompts(boot)
    boot.send_serial(b"echo abandoned\x03")
    wait_for_prompt(boot, before + 1)
    lines = shell_lines(boot)
    check(boot, lines[-2:] == [PROMPT + "echo abandoned^C", PROMPT.rstrip()],
          f"Ctrl-C: {lines[-3:]}")
    check(boot, "abandoned" not in lines, f"Ctrl-C ran the line: {lines[-4:]}")
    screen_after(boot, [PROMPT + "echo abandoned^C", PROMPT.rstrip()])


def _rows(text: str, width: int) -> list[str]:
    """`text` wrapped onto rows `width` columns wide, as a screen shows it."""
    return [text[i:i + width].rstrip() for i in range(0, max(len(text), 1), width)]


def _type_serial(boot, text: str, chunk: int = 500):
    """Types `text` on serial a chunk at a time, each once the kernel has
    echoed the one before (so the input queue never overflows)."""
    for start in range(0, len(text), chunk):
        part = text[start:start + chunk]
        before = boot.received_length()
        boot.send_serial(part.encode())
        deadline = time.monotonic() + 60
        while boot.received_length() - before < len(part):
            check(boot, time.monotonic() < deadline,
                  f"no echo of characters {start}..{start + len(part)}")
            time.sleep(0.05)


def test_an_over_long_line_is_refused_with_a_message(qemu):
    """More than 4,095 characters: the rest refused, one message, the line
    kept and drawn again; Enter runs what was kept."""
    boot = shell(qemu, "shell-long")
    payload = "0123456789" * 410
    before = prompts(boot)
    count = len(shell_lines(boot))
    _type_serial(boot, "echo " + payload)
    boot.send_serial(b"\r")
    wait_for_prompt(boot, before + 1)
    output = shell_lines(boot)[count:-1]
    kept = payload[:4090]
    message = "line too long: at most 4095 characters"
    check(boot, output == [message, PROMPT + "echo " + kept, kept],
          f"after 4,105 characters: {[line[:100] for line in output]}")
    check(boot, boot.serial().count(message) == 1, "more than one message for one line")
    screen_after(boot, _rows(kept, VGA_COLUMNS)[-5:] + [PROMPT.rstrip()])
    # The message scrolled off the VGA screen (the line takes 52 rows):
    # page back to it, on a row of its own between the line's two drawings.
    rows, pages = boot.screen().lines(), 0
    while message not in rows:
        check(boot, pages < 8, f"{pages} pages back and no message on the screen")
        boot.sendkey("shift-pgup")
        rows = _screen_changed(boot, rows)
        pages += 1
    at = rows.index(message)
    drawn = _rows(PROMPT + "echo " + kept, VGA_COLUMNS)
    check(boot, (at == 0 or rows[at - 1] == drawn[-1])
          and (at == len(rows) - 1 or rows[at + 1] == drawn[0]),
          f"around the message: {rows[max(0, at - 1):at + 2]}")


def test_a_thousand_character_echo_over_serial_comes_back_whole(qemu):
    """A 1,000-character line typed on serial at once: echoed whole (rows
    wrapped on an 80-column terminal, joined again), run, and its output
    whole on serial and wrapped on the VGA screen."""
    boot = shell(qemu, "shell-1000")
    text = " ".join(f"{i:04d}" for i in range(199)) + "!"
    line = "echo " + text
    check(boot, len(line) == 1000, f"the line is {len(line)} characters")
    output = run(boot, line)
    check(boot, output == [text], f"echo printed {[l[:100] for l in output]}")
    check(boot, PROMPT + line in shell_lines(boot), "the typed line is not echoed whole")
    rows = _rows(PROMPT + line, VGA_COLUMNS) + _rows(text, VGA_COLUMNS) + [PROMPT.rstrip()]
    screen = screen_after(boot, rows[-VGA_ROWS:])
    check_cursor_after_prompt(boot, screen)


def _sendkeys_paced(boot, names: list[str]):
    """Presses each key on PS/2 once the kernel has answered the one before
    on serial (every key here echoes or moves the cursor), as a person
    types: QEMU's keyboard holds only a few keys while the kernel draws."""
    for name in names:
        before = boot.received_length()
        boot.sendkey(name)
        deadline = time.monotonic() + 20
        while boot.received_length() == before:
            check(boot, time.monotonic() < deadline, f"no answer to key {name}")
            time.sleep(0.01)


def _edit_a_long_line_on_ps2(boot, columns: int) -> str:
    """Types on PS/2 a line 25 cells longer than a row of `columns` after
    the prompt, then edits it: 30 Left arrows back across the row boundary
    and `XY` typed there, Home, 7 Right arrows and `Z`; Enter. Checks serial
    (80 columns) shows the edited line and its output, and returns the
    edited line."""
    payload = "-".join(f"w{i}" for i in range(columns))[:columns + 11]
    line = "echo " + payload
    names = key_names(line) + ["left"] * 30 + key_names("XY") + ["home"] + ["right"] * 7
    names += key_names("Z") + ["ret"]
    edited = line[:7] + "Z" + line[7:-30] + "XY" + line[-30:]
    before = prompts(boot)
    _sendkeys_paced(boot, names)
    wait_for_prompt(boot, before + 1)
    lines = shell_lines(boot)
    check(boot, lines[-3:] == [PROMPT + edited, edited[5:], PROMPT.rstrip()],
          f"serial shows {lines[-3:]}, expected the edited line {edited!r}")
    return edited


def test_a_line_longer_than_the_screen_is_edited_across_rows_on_ps2(qemu):
    """On the VGA screen: a line that wraps onto a second row, typed on the
    PS/2 keyboard, edited after moving back across the row boundary, runs
    as edited, and the screen shows the edited line wrapped, its output and
    the prompt, the cursor after it."""
    boot = shell(qemu, "shell-ps2-long")
    edited = _edit_a_long_line_on_ps2(boot, VGA_COLUMNS)
    screen = screen_after(boot, _rows(PROMPT + edited, VGA_COLUMNS)
                          + _rows(edited[5:], VGA_COLUMNS) + [PROMPT.rstrip()])
    check_cursor_after_prompt(boot, screen)


def test_a_line_longer_than_the_framebuffer_is_edited_across_rows_on_ps2(qemu):
    """The same on a framebuffer (BIOS, a forced 1024x768x32 mode: 128
    columns, wider than serial's 80): each console wraps at its own width
    and both show the edited line."""
    from framebuffer import Font, Mode, read_text
    from test_framebuffer import forced_framebuffer_iso
    boot = shell(qemu, "shell-fb-long", forced_framebuffer_iso("shell-fb-long"))
    mode = Mode.from_serial(boot.kernel_lines())
    check(boot, mode.columns > VGA_COLUMNS, f"a framebuffer of {mode.columns} columns")
    edited = _edit_a_long_line_on_ps2(boot, mode.columns)
    expected = (_rows(PROMPT + edited, mode.columns) + _rows(edited[5:], mode.columns)
                + [PROMPT.rstrip()])
    font = Font()
    deadline = time.monotonic() + 20
    while _last_rows(read_text(boot.screendump(), mode, font), len(expected)) != expected:
        check(boot, time.monotonic() < deadline,
              f"the framebuffer does not end with {expected}: "
              f"{_last_rows(read_text(boot.screendump(), mode, font), len(expected))}")
        time.sleep(0.1)


def test_serial_cols_sets_where_serial_wraps(qemu):
    """`serial.cols=40` (after a refused `serial.cols=10`, which gets its
    warning): a line typed on serial wraps every 40 cells (a space and CR
    after each full row), an edit back across two row boundaries lands
    where a 40-column terminal shows it, and the line runs as edited."""
    iso = build_iso("shell-cols", cmdline="serial.cols=10 serial.cols=40")
    boot = shell(qemu, "shell-cols", iso)
    check(boot, "[WARN] ignoring `serial.cols=10`: expected serial.cols=N, N from 20 to 1000"
          in boot.kernel_lines(), "no warning for serial.cols=10")
    payload = "-".join(f"c{i}" for i in range(40))[:95]
    line = "echo " + payload
    start = len(boot.serial())
    before = prompts(boot)
    boot.send_serial(line.encode())
    deadline = time.monotonic() + 20
    while len(boot.serial()) - start < len(line):
        check(boot, time.monotonic() < deadline, "no echo")
        time.sleep(0.05)
    echo = boot.serial()[start:]
    wraps = echo.count(" \r")
    check(boot, wraps == (len(PROMPT) + len(line)) // 40,
          f"the echo wraps {wraps} times on 40 columns: {echo!r}")
    boot.send_serial((LEFT * 70 + "AB\r").encode())
    wait_for_prompt(boot, before + 1)
    edited = line[:-70] + "AB" + line[-70:]
    lines = terminal_lines(boot.serial().replace("\r\n", "\n"), width=40)
    check(boot, lines[-3:] == [PROMPT + edited, edited[5:], PROMPT.rstrip()],
          f"a 40-column terminal shows {lines[-3:]}")
    check(boot, "\x1b[A" in boot.serial()[start:], "no move up a row")


def test_uptime_grows_between_two_calls(qemu):
    boot = shell(qemu, "shell-uptime")
    values = []
    for _ in range(2):
        output = run(boot, "uptime")
        match = re.fullmatch(r"uptime: (\d+)\.(\d{3}) s", output[0] if output else "")
        check(boot, match is not None, f"uptime printed {output}")
        values.append(int(match.group(1)) * 1000 + int(match.group(2)))
    check(boot, values[1] > values[0] > 0, f"uptime went {values[0]} ms -> {values[1]} ms")


def test_the_reporting_commands(qemu):
    """help, cpu, mem, bootinfo, interrupts, crash without a kind, an
    unknown command and extra arguments: each prints its lines."""
    boot = shell(qemu, "shell-commands")
    output = run(boot, "help")
    names = [line.split()[0] for line in output if line.startswith("  ")]
    for name in ("help", "clear", "echo", "uptime", "cpu", "mem", "bootinfo",
                 "interrupts", "selftest", "panic", "crash", "ps", "spin", "sleep", "kill",
                 "overflow", "reboot", "poweroff"):
        check(boot, name in names, f"help does not list {name}: {output}")
    cpu = run(boot, "cpu")
    check(boot, cpu[0].startswith("vendor: ") and cpu[1].startswith("brand: ")
          and re.fullmatch(r"family \d+, model \d+, stepping \d+", cpu[2])
          and cpu[3].startswith("has: ") and "long-mode" in cpu[3].split()
          and cpu[4].startswith("lacks: "), f"cpu printed {cpu}")
    mem = run(boot, "mem")
    check(boot, re.fullmatch(r"ram: \d+ KiB usable", mem[0])
          and re.fullmatch(r"frames: \d+ free of \d+ \(\d+ KiB free\)", mem[1])
          and re.fullmatch(r"heap: \d+ bytes in \d+ allocations, \d+ KiB mapped, "
                           r"limit \d+ KiB", mem[2]), f"mem printed {mem}")
    report = run(boot, "bootinfo")
    check(boot, report[0].startswith("loader: ") and any(l.startswith("frames: ") for l in report)
          and any(l.startswith("heap: talc") for l in report), f"bootinfo printed {report}")
    interrupts = run(boot, "interrupts")
    check(boot, any(l.startswith("controller: ") for l in interrupts)
          and any(l.startswith("dropped input: ") for l in interrupts),
          f"interrupts printed {interrupts}")
    check(boot, run(boot, "crash")[0].startswith("usage: crash KIND, KIND one of: breakpoint"),
          "crash without a kind")
    check(boot, run(boot, "frobnicate now") == ["unknown command: frobnicate (try help)"],
          "unknown command")
    check(boot, run(boot, "uptime please") == ["uptime: takes no arguments (try help)"],
          "extra arguments")
    check(boot, run(boot, "") == [], "an empty line prints nothing")
    boot.check_running()


def test_selftest_and_a_breakpoint_come_back_to_the_shell(qemu):
    """`selftest` runs the in-kernel tests without leaving the shell;
    `crash breakpoint` reports and carries on; the shell still answers."""
    boot = shell(qemu, "shell-selftest", timeout=120)
    output = run(boot, "selftest")
    summary = re.fullmatch(r"(\d+) passed, (\d+) failed(, \d+ skipped)?",
                           output[-1] if output else "")
    check(boot, summary is not None and int(summary.group(1)) > 10,
          f"selftest printed {output[-5:]}")
    failed = [l for l in output if l.endswith("FAILED")]
    check(boot, summary.group(2) == "0", f"in-kernel tests failed in the shell: {failed}")
    output = run(boot, "crash breakpoint")
    check(boot, any(l.startswith("breakpoint (#BP) at rip ") for l in output)
          and output[-1] == "crash=breakpoint: the kernel carried on after the breakpoint",
          f"crash breakpoint printed {output}")
    check(boot, run(boot, "echo still here") == ["still here"], "the shell stopped answering")


def test_panic_and_crash_commands_show_the_panic_screen(qemu):
    boot = shell(qemu, "shell-panic")
    boot.send_serial(b"panic\r")
    boot.wait_for_line("KERNEL PANIC: deliberate panic (the shell's panic command)")
    boot.wait_for_line(r"the kernel has stopped", regex=True)
    screen = boot.screen()
    check(boot, screen.find("KERNEL PANIC: deliberate panic") is not None,
          "no panic screen")
    boot.check_running()
    boot = shell(qemu, "shell-crash-gp")
    boot.send_serial(b"crash gp\r")
    boot.wait_for_line("KERNEL PANIC: CPU exception: general protection fault (#GP)")
    boot.check_running()


def _ends_qemu(qemu, name: str, command: str):
    """`command` prints its `command:` line and QEMU ends (-no-reboot), with
    no fallback or panic line before it; returns the boot, that line and
    QEMU's exit status."""
    boot = shell(qemu, name)
    boot.send_serial(command.encode() + b"\r")
    status = boot.wait_exit()
    lines = shell_lines(boot)
    start = lines.index(PROMPT + command)
    after = [l for l in lines[start + 1:] if l]
    check(boot, len(after) == 1 and after[0].startswith(command + ": "),
          f"after `{command}`: {after} (exit status {status})")
    return boot, after[0], status


def test_reboot_prints_its_line_and_ends_qemu(qemu):
    boot, line, status = _ends_qemu(qemu, "shell-reboot", "reboot")
    check(boot, status == 0, f"QEMU exit status {status} after `{line}`")


def test_poweroff_prints_its_line_and_ends_qemu(qemu):
    boot, line, status = _ends_qemu(qemu, "shell-poweroff", "poweroff")
    check(boot, status == 0, f"QEMU exit status {status} after `{line}`")


def _screen_changed(boot, before: list[str]) -> list[str]:
    """The screen's rows once they differ from `before` and have settled
    (two reads alike: a read while the kernel redraws, on another CPU too,
    can catch half a page), within a bound."""
    deadline = time.monotonic() + 20
    while True:
        rows = boot.screen().lines()
        if rows != before:
            time.sleep(0.05)
            again = boot.screen().lines()
            if again == rows:
                return rows
        check(boot, time.monotonic() < deadline, "the screen did not change")
        time.sleep(0.05)


def test_scrollback_pages_back_to_the_banner_and_typing_returns(qemu):
    """After enough output that the banner scrolled off, Shift-PgUp (PS/2)
    pages back a page at a time until the banner is the top row (the first
    line of the boot); Shift-PgDn (the serial terminal's ESC[6;2~) pages
    forward; a typed character returns to the bottom."""
    boot = shell(qemu, "shell-scrollback")
    for _ in range(3):
        run(boot, "help")
    bottom = boot.screen().lines()
    check(boot, BANNER not in bottom, f"the banner is still on screen: {bottom}")
    rows, pages = bottom, 0
    while rows[0] != BANNER:
        check(boot, pages < 10, f"ten pages back and no banner: {rows}")
        boot.sendkey("shift-pgup")
        rows = _screen_changed(boot, rows)
        pages += 1
        check(boot, BANNER not in rows or rows[0] == BANNER,
              f"page {pages}: the banner is not the top row: {rows}")
    check(boot, pages >= 2, f"only {pages} page back to the banner")
    boot.send_serial(SHIFT_PGDN.encode())
    down = _screen_changed(boot, rows)
    check(boot, down[0] == rows[VGA_ROWS - 1], "a page down should start with the last row "
          f"of the page before ({rows[VGA_ROWS - 1]!r}): {down}")
    boot.send_serial(b"x")
    screen = screen_after(boot, [PROMPT + "x"])
    check(boot, screen.lines()[:-1] == bottom[:-1],
          "typing did not return to the bottom")
    check_cursor_after_prompt(boot, screen, "x")


def test_clear_and_ctrl_l_clear_the_screen(qemu):
    """`clear` leaves the prompt on the top row; Ctrl-L too, keeping the
    line being typed; the terminal on serial gets ESC[2J ESC[H."""
    boot = shell(qemu, "shell-clear")
    before = prompts(boot)
    boot.send_serial(b"clear\r")
    wait_for_prompt(boot, before + 1)
    screen = screen_after(boot, [PROMPT.rstrip()])
    check(boot, screen.lines()[0] == PROMPT.rstrip() and not any(screen.lines()[1:]),
          "after clear")
    check(boot, "\x1b[2J\x1b[H" in boot.serial(), "no clear-screen sequence on serial")
    boot.send_serial(b"echo kept\x0c")
    deadline = time.monotonic() + 20
    while boot.screen().lines()[0] != PROMPT + "echo kept":
        check(boot, time.monotonic() < deadline, "Ctrl-L")
        time.sleep(0.05)
    check(boot, run(boot, "") == ["kept"] or shell_lines(boot)[-2] == "kept",
          f"the kept line did not run: {shell_lines(boot)[-3:]}")


def test_noshell_halts_after_ready(qemu):
    """`noshell`: `ready` is the last line; typing gets no answer."""
    boot = qemu("shell-noshell", build_iso("shell-noshell", cmdline="noshell"),
                serial_input=True)
    boot.wait_for_line("ready")
    boot.send_serial(b"help\r")
    boot.check_running(settle=1.0)
    lines = [l for l in boot.serial_lines() if l.strip()]
    check(boot, lines[-1] == "ready", f"serial after ready: {lines[-3:]}")
    check(boot, PROMPT not in boot.serial(), "a prompt with noshell")


def test_ten_thousand_bytes_at_once_all_arrive_and_the_shell_answers(qemu):
    """`selftest` and 10,000 Enter keys sent at once: while the self-test
    runs the shell reads no input, so serial input is throttled (held in
    the UART) instead of dropped; every Enter gives a prompt, nothing is
    dropped, and `echo` still answers."""
    sent = 10_000
    boot = shell(qemu, "shell-flood", timeout=180)
    start = prompts(boot)
    boot.send_serial(b"selftest\r" + b"\r" * sent)
    deadline = time.monotonic() + 180
    while True:
        serial = boot.serial()
        # New prompts: the one after selftest, one per Enter.
        accepted = serial.count(PROMPT) - start - 1
        if accepted >= sent and serial.endswith(PROMPT):
            break
        check(boot, time.monotonic() < deadline, f"after {sent} bytes: {accepted} prompts")
        time.sleep(0.2)
    check(boot, re.search(r"^\d+ passed, 0 failed", serial, re.M) is not None,
          "the self-test failed under the flood")
    check(boot, "bytes dropped" not in serial, "input was dropped")
    check(boot, accepted == sent, f"{accepted} prompts for {sent} Enter keys")
    check(boot, run(boot, "echo alive") == ["alive"], "the shell does not answer after the flood")
    interrupts = run(boot, "interrupts")
    check(boot, any(l.startswith("dropped input: 0 bytes") for l in interrupts),
          f"`interrupts` counts dropped input: {interrupts}")


@pytest.mark.parametrize("spinners", [0, 2])
def test_a_pasted_script_arrives_whole_while_the_shell_is_busy(qemu, spinners):
    """A paste over serial of `selftest` and 300 `echo line-N`, in one
    write, while the shell is busy with the self-test (and, the second
    time, while two `spin` threads burn the CPU): all 300 answers come
    back, in order, and the serial drop counter stays 0."""
    boot = shell(qemu, f"shell-paste-{spinners}", timeout=180)
    for _ in range(spinners):
        run(boot, "spin 60")
    start = len(boot.serial())
    lines = 300
    boot.send_serial(b"selftest\r" + b"".join(b"echo line-%d\r" % n for n in range(lines)))
    deadline = time.monotonic() + 180
    while f"\nline-{lines - 1}\n" not in boot.serial()[start:]:
        check(boot, time.monotonic() < deadline, "the last echo never answered")
        time.sleep(0.5)
    answers = re.findall(r"^line-(\d+)$", boot.serial()[start:], re.M)
    check(boot, answers == [str(n) for n in range(lines)],
          f"answers out of order or missing: {len(answers)} of {lines}")
    interrupts = run(boot, "interrupts")
    check(boot, any(re.match(r"dropped input: 0 bytes \(serial 0,", l) for l in interrupts),
          f"serial input was dropped: {interrupts}")


def test_a_hundred_kilobyte_line_is_refused_and_nothing_is_lost(qemu):
    """100 KB of printable bytes on one line, then Ctrl-C and `echo alive`:
    the line is refused past 4,095 characters (one message), `echo alive`
    answers, and no input was dropped."""
    boot = shell(qemu, "shell-100k", timeout=180)
    start = len(boot.serial())
    boot.send_serial(b"y" * 100_000 + b"\x03" + b"echo alive\r")
    deadline = time.monotonic() + 180
    while "\nalive\n" not in boot.serial()[start:]:
        check(boot, time.monotonic() < deadline, "echo alive never answered")
        time.sleep(0.5)
    tail = boot.serial()[start:]
    check(boot, tail.count("line too long") == 1,
          f"expected one refusal, got {tail.count('line too long')}")
    interrupts = run(boot, "interrupts")
    check(boot, any(l.startswith("dropped input: 0 bytes") for l in interrupts),
          f"input was dropped: {interrupts}")


def test_the_shell_on_a_framebuffer_types_answers_and_scrolls_back(qemu):
    """Under BIOS with a forced 1024x768x32 framebuffer: a command typed on
    serial shows on the framebuffer pixel for pixel as serial has it (the
    cursor after the new prompt); after enough output to scroll the banner
    off, Shift-PgUp pages back until the banner is the top row again, and a
    typed character returns to the bottom."""
    from framebuffer import Font, Mode, check_shows_serial, read_text
    from test_framebuffer import forced_framebuffer_iso
    boot = shell(qemu, "shell-fb", forced_framebuffer_iso("shell-fb"))
    check(boot, run(boot, "echo on the framebuffer") == ["on the framebuffer"], "echo")
    mode = check_shows_serial(boot)
    font = Font()
    for _ in range(4):
        run(boot, "help")
    run(boot, "bootinfo")
    # The prompt on serial can come before the framebuffer's last draw (it
    # is paced): take the screen once two dumps agree.
    bottom = read_text(boot.screendump(), mode, font)
    while (again := read_text(boot.screendump(), mode, font)) != bottom:
        bottom = again
        time.sleep(0.05)
    check(boot, BANNER not in bottom, f"the banner is still on the framebuffer: {bottom}")
    rows, pages = bottom, 0
    while rows[0] != BANNER:
        check(boot, pages < 10, f"ten pages back and no banner: {rows}")
        boot.sendkey("shift-pgup")
        deadline = time.monotonic() + 20
        while (new := read_text(boot.screendump(), mode, font)) == rows:
            check(boot, time.monotonic() < deadline, "Shift-PgUp did not move the view")
            time.sleep(0.05)
        rows, pages = new, pages + 1
    boot.send_serial(b"x")
    deadline = time.monotonic() + 20
    while read_text(boot.screendump(), mode, font)[:-1] != bottom[:-1]:
        check(boot, time.monotonic() < deadline, "typing did not return to the bottom")
        time.sleep(0.05)
    check(boot, read_text(boot.screendump(), mode, font)[-1].rstrip() == PROMPT + "x",
          "the typed character is not after the prompt")

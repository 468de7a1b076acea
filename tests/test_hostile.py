"""End-to-end tests of hostile input, as a hostile tester would try it: each
boot's grub.cfg carries the bytes themselves (newline, carriage return,
backspace, DEL, ESC sequences, bytes that are not UTF-8, a 20,000-character
command line) in the kernel's command line and in a module string. The
kernel must print every outside string on one line, escaped
(docs/boot-report.md), so that no line is forged; warn once for every word it ignores;
and still act on the valid words. Also: options that cannot take effect,
the self-test on a machine without a serial port and under UEFI, and GRUB's
menu on a QEMU that does not say which entry to boot."""

import re

from framebuffer import check_shows_serial
from harness import BANNER, VGA_TEXT_BUFFER, VGA_TEXT_MEMORY, Boot, build_iso, check
from screen_model import VGA_ROWS, rows_diff, screen_rows
from terminal import PROMPT, wait_for_prompt
from test_boot import SELFTEST_SUMMARY, run_selftest

# Words GRUB passes as they are, inside single quotes in grub.cfg.
FORGED_LINES = b"x\nready\nboot error: fake"
HOSTILE_WORDS = [
    FORGED_LINES,
    b"cr\rready\r",
    b"bs\x08 \x08erased\x7fdel",
    b"\x1b[2J\x1b[31mansi\x1b]0;title\x07",
    b"back\\slash\ttab",
    b"\xff\xfe",
    "caf\u00e9".encode(),
]
KERNEL_WHITESPACE = b" \t\n\x0c\r"  # Rust's is_ascii_whitespace: no \x0b


def escape(data: bytes) -> str:
    """The kernel's rule for outside strings (src/console/escape.rs)."""
    named = {0x5C: "\\\\", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}
    return "".join(named.get(b) or (chr(b) if 0x20 <= b <= 0x7E else f"\\x{b:02x}")
                   for b in data)


def kernel_words(cmdline: bytes) -> list[bytes]:
    """The command line's words as the kernel splits them."""
    return [w for w in re.split(b"[" + re.escape(KERNEL_WHITESPACE) + b"]", cmdline) if w]


def warning_for(word: bytes) -> str:
    """The kernel's warning for an ignored word that is no option."""
    try:
        text = word.decode()
    except UnicodeDecodeError:
        return f"[WARN] ignoring kernel option `{escape(word)}`: not UTF-8"
    return f"[WARN] ignoring unknown kernel option `{escape(text.encode())}`"


def grub_passes(words: list[bytes]) -> bytes:
    """The string GRUB hands the kernel (or a module) for `words` quoted in
    grub.cfg: its reader drops every carriage return; then each word gets a
    backslash before `\\`, `'` and `"`, double quotes around it if it
    holds a space, and one space after the one before (GRUB's
    grub_create_loader_cmdline)."""
    passed = []
    for word in words:
        word = word.replace(b"\r", b"")
        word = re.sub(rb"""([\\'"])""", rb"\\\1", word)
        passed.append(b'"' + word + b'"' if b" " in word else word)
    return b" ".join(passed)


def grub_quote(word: bytes) -> bytes:
    """`word` in single quotes for GRUB's script (no `'` inside)."""
    assert b"'" not in word
    return b"'" + word + b"'"


def hostile_cfg(words: list[bytes], module: list[bytes] | None = None) -> bytes:
    """A grub.cfg whose one entry boots the kernel with `words` (each quoted)
    and, with `module`, loads /boot/module.bin with those words."""
    line = b" ".join(grub_quote(w) for w in words)
    lines = [b"set timeout=0", b"set default=0", b"insmod all_video",
             b"menuentry 'hostile' {", b"    multiboot2 /boot/kernel.bin " + line]
    if module is not None:
        lines.append(b"    module2 /boot/module.bin " + b" ".join(grub_quote(w) for w in module))
    lines += [b"    if [ \"$grub_platform\" = pc ]; then set gfxpayload=text; fi",
              b"    boot", b"}", b""]
    return b"\n".join(lines)


def module_file(tmp_path):
    path = tmp_path / "module.bin"
    path.write_bytes(b"module contents\n")
    return {"boot/module.bin": path}


def boot_to_prompt(qemu, tmp_path, name: str, words: list[bytes], module: list[bytes],
                   iso: str | None = None, uefi: bool = False) -> tuple[Boot, list[str]]:
    """Boots the command line `words` with one module whose string is
    `module` (ISO `iso`, default `name`) up to the shell's prompt; returns
    the boot and its kernel lines."""
    iso_path = build_iso(iso or name, cfg=hostile_cfg(words, module=module),
                         files=module_file(tmp_path))
    boot = qemu(name, iso_path, uefi=uefi)
    boot.wait_for_line("ready")
    wait_for_prompt(boot)
    return boot, boot.kernel_lines()


def check_debug_boot_ends_clean(boot: Boot, lines: list[str]):
    """`loglevel=debug` took effect; one `ready` and no `boot error:`;
    serial clean; the VGA screen shows serial; the kernel still runs."""
    check(boot, any(l.startswith("[DEBUG] ") for l in lines), "loglevel=debug took no effect")
    check_one_ready_and_no_boot_error(boot, lines)
    check_clean_serial(boot)
    check_vga_shows_serial(boot)
    boot.check_running()


def check_clean_serial(boot: Boot):
    """From the banner on, serial holds printable ASCII lines ending in
    \\r\\n: no control byte, no lone carriage return, nothing above 0x7e."""
    raw = boot.serial_log.read_bytes()
    start = raw.find(BANNER.encode())
    check(boot, start >= 0, "no banner on serial")
    body = raw[start:].replace(b"\r\n", b"")
    bad = sorted({b for b in body if not 0x20 <= b <= 0x7E})
    check(boot, not bad, f"the kernel sent bytes {[hex(b) for b in bad]} to serial")


def check_vga_shows_serial(boot: Boot):
    """The VGA text screen shows the last rows of what the kernel printed
    (the report's details, serial only, left out): the escaped text alike."""
    rows = [text for text, _ in screen_rows(boot.kernel_lines())]
    expected = (rows[-VGA_ROWS:] + [""] * VGA_ROWS)[:VGA_ROWS]
    screen = boot.screen()
    check(boot, screen.lines() == expected,
          f"the screen does not show what serial got:\n{rows_diff(screen.lines(), expected)}")


def check_one_ready_and_no_boot_error(boot: Boot, lines: list[str]):
    """`ready` once, followed only by the shell's prompt (these tests expect
    it: they wait for it, so that the screen is read once still)."""
    check(boot, lines.count("ready") == 1 and [l for l in lines if l][-2:] == ["ready", PROMPT],
          "`ready` is not exactly one line, followed only by the prompt")
    check(boot, not any(l.startswith("boot error") for l in lines),
          "a `boot error` line appeared")


def test_control_bytes_in_the_command_line_and_a_module_forge_no_line(qemu, tmp_path):
    """Newline, CR, backspace, DEL, ESC sequences, bytes that are not UTF-8,
    in the command line and a module string: one escaped `cmdline:` and
    `module:` line each, one warning per ignored word, exactly one `ready`,
    no `boot error:`, only printable ASCII on serial, the same text on the
    screen; `loglevel=debug` took effect."""
    words = [b"loglevel=debug"] + HOSTILE_WORDS
    boot, lines = boot_to_prompt(qemu, tmp_path, "hostile-bytes", words, HOSTILE_WORDS)
    cmdline = grub_passes(words)
    check(boot, f"cmdline: {escape(cmdline)}" in lines, f"no line `cmdline: {escape(cmdline)}`")
    module = [l for l in lines if l.startswith("module: ")]
    check(boot, len(module) == 1
          and module[0].endswith("] " + escape(grub_passes(HOSTILE_WORDS))),
          f"the module line is not the escaped string: {module}")
    warnings = [l for l in lines if l.startswith("[WARN]")]
    expected = [warning_for(w) for w in kernel_words(cmdline)[1:]]
    check(boot, warnings == expected,
          "warnings differ:\n  got      " + "\n           ".join(warnings)
          + "\n  expected " + "\n           ".join(expected))
    check_debug_boot_ends_clean(boot, lines)


def test_one_word_that_is_not_utf8_loses_nothing_else(qemu):
    """`loglevel=debug selftest qemu-exit '\\xff\\xfe' panic=test`: the bad
    word gets its warning, `panic=test` (which the self-test never reaches)
    its own, and the others act: debug records, the self-test, QEMU's exit
    status 33."""
    words = [b"loglevel=debug", b"selftest", b"qemu-exit", b"\xff\xfe", b"panic=test"]
    boot = qemu("hostile-utf8", build_iso("hostile-utf8", cfg=hostile_cfg(words)))
    passed, failed, skipped = run_selftest(boot)
    check(boot, failed == 0 and skipped == 0,
          f"self-test: {passed} passed, {failed} failed, {skipped} skipped")
    status = boot.wait_exit()
    check(boot, status == 33,
          f"QEMU exited with {status}, expected 33: qemu-exit took no effect")
    lines = boot.kernel_lines()
    # The command line's warnings come before the report (the self-test
    # logs warnings of its own after it).
    report = next(i for i, l in enumerate(lines) if l.startswith("loader: "))
    warnings = [l for l in lines[:report] if l.startswith("[WARN]")]
    expected = ["[WARN] ignoring kernel option `\\xff\\xfe`: not UTF-8",
                "[WARN] ignoring `panic=test`: `selftest` stops the kernel before it would act"]
    check(boot, warnings == expected, f"warnings {warnings}, expected {expected}")
    check(boot, "cmdline: loglevel=debug selftest qemu-exit \\xff\\xfe panic=test" in lines,
          "the cmdline line is not the escaped command line")
    check(boot, any(l.startswith("[DEBUG] ") for l in lines), "loglevel=debug took no effect")
    check(boot, "ready" not in lines, "`ready` after a self-test")


def test_options_that_cannot_act_each_say_so(qemu):
    """`qemu-exit` without `selftest`, and a `loglevel=` a later one
    overrides: one warning each; the last loglevel counts; still `ready`."""
    words = [b"qemu-exit", b"loglevel=trace", b"loglevel=warn"]
    boot = qemu("hostile-ineffective", build_iso("hostile-ineffective", cfg=hostile_cfg(words)))
    boot.wait_for_line("ready")
    wait_for_prompt(boot)
    lines = boot.kernel_lines()
    warnings = [l for l in lines if l.startswith("[")]
    expected = [
        "[WARN] ignoring `loglevel=trace`: `loglevel=warn` later on the command line overrides it",
        "[WARN] ignoring `qemu-exit`: it acts only after `selftest`, which is not on the command line",
    ]
    check(boot, warnings == expected,
          f"log lines {warnings}, expected {expected} (and no INFO or more detailed)")
    check_one_ready_and_no_boot_error(boot, lines)
    check_vga_shows_serial(boot)
    boot.check_running()


def long_command_line() -> list[bytes]:
    """Words that GRUB passes as a 20,000-character command line: 200
    unknown words of up to 99 bytes, each with an ESC sequence and a DEL,
    then `loglevel=debug`. (One word cannot be that long: GRUB's script
    reader stops at a token of a few thousand bytes, `fatal error: token
    too large, exceeds YYLMAX`, before any kernel runs.)"""
    last = b"loglevel=debug"
    words, length = [], len(last)
    while length < 20_000:
        head = b"w%03d\x1b[1m\x7f-" % len(words)
        size = min(99, 20_000 - length - 1)
        words.append(head + b"x" * (size - len(head)))
        length += size + 1
    return words + [last]


def test_a_20000_character_command_line(qemu, tmp_path):
    """A 20,000-character command line, and a module string as long: the
    whole line on one escaped `cmdline:` line, one warning per unknown word
    (none lost), the valid word at its end acts, and the screen shows the
    end of the same text."""
    words = long_command_line()
    cmdline = grub_passes(words)
    check(None, len(cmdline) == 20_000, f"{len(cmdline)} characters")
    boot, lines = boot_to_prompt(qemu, tmp_path, "hostile-long", words, words)
    got = [l[:120] + "..." for l in lines if l.startswith("cmdline: ")]
    check(boot, f"cmdline: {escape(cmdline)}" in lines,
          f"the cmdline line is not the whole escaped line: {got}")
    check(boot, any(l.startswith("module: ") and l.endswith("] " + escape(cmdline))
                    for l in lines),
          "the module line is not the whole escaped string")
    warnings = [l for l in lines if l.startswith("[WARN]")]
    check(boot, warnings == [warning_for(w) for w in words[:-1]],
          f"expected one warning per unknown word ({len(words) - 1}), "
          f"got {len(warnings)}")
    check_debug_boot_ends_clean(boot, lines)


def test_hostile_bytes_under_uefi_on_the_framebuffer(qemu, tmp_path):
    """The same hostile words under UEFI: the framebuffer shows, pixel for
    pixel, the escaped lines serial got."""
    words = [b"loglevel=debug"] + HOSTILE_WORDS
    boot, lines = boot_to_prompt(qemu, tmp_path, "hostile-uefi", words, HOSTILE_WORDS,
                                 iso="hostile-bytes", uefi=True)
    check(boot, f"cmdline: {escape(grub_passes(words))}" in lines, "no escaped cmdline line")
    check_one_ready_and_no_boot_error(boot, lines)
    check_clean_serial(boot)
    check_shows_serial(boot)
    boot.check_running()


def test_selftest_without_a_serial_port_skips_only_the_serial_test(qemu):
    """The self-test entry with `-serial none`: the serial test is skipped,
    with its reason, and nothing fails (read from the screen)."""
    boot = qemu("selftest-no-serial", entry=1, serial=False)
    match, screen = boot.wait_for_screen(SELFTEST_SUMMARY)
    check(boot, match.group(2) == "0" and match.group(3) == "1",
          f"summary {match.group(0)!r}: expected 0 failed, 1 skipped")
    skip = "test console::ktests::serial_port_present_and_writes ... skipped (no serial port at COM1)"
    check(boot, skip in text_memory(boot), f"no {skip!r} in the VGA text memory")
    boot.check_running()


def text_memory(boot: Boot) -> str:
    """The characters of the whole 32 KiB VGA text memory, rows of 80 one
    after the other: the screen and the rows hardware scrolling moved past
    (there until the start address wraps round)."""
    dump = boot.dir / "text-memory.bin"
    dump.unlink(missing_ok=True)
    boot.qmp().execute("pmemsave", val=VGA_TEXT_BUFFER, size=VGA_TEXT_MEMORY,
                       filename=str(dump))
    return dump.read_bytes()[0::2].decode("cp437")


def test_grub_prints_no_error_without_the_entry_sku(qemu):
    """QEMU without `-smbios type=1,sku=...` (a plain `qemu-system-x86_64
    -cdrom`): GRUB's screen shows no error before the menu boots entry 0.
    Under OVMF, GRUB's screen reaches serial too: it is read there."""
    boot = qemu("grub-no-sku", uefi=True, entry=None)
    boot.wait_for_line("ready")
    serial = boot.serial()
    grub = serial[:serial.index(BANNER)]
    check(boot, "Welcome to GRUB!" in grub,
          "GRUB's screen did not reach serial: nothing to check")
    check(boot, "error" not in grub, "GRUB printed an error before the menu")
    check(boot, "cmdline: " in boot.kernel_lines()
          and "selftest" not in serial[serial.index(BANNER):],
          "GRUB did not boot entry 0 (the kernel, empty command line)")

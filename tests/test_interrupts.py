"""End-to-end tests of interrupts, the timer and input (issue 11, part A):
the controller and timer lines on each machine, keys typed on the serial
port and on the PS/2 keyboard reaching `input::wait_key`, an input flood
that overflows the queue, and reboot/poweroff ending QEMU.

The kernels here boot with `keytest` on the command line: after `ready`
they show each decoded key (printable characters as themselves, Enter as a
new line, other keys as `<Name>`); Ctrl-B stops reading input until it
pauses, Ctrl-T prints the interrupt report, Ctrl-R reboots, Ctrl-P powers
off (src/input/keytest.rs)."""

import re
import time

import pytest

from harness import Boot, build_iso, check

KEYTEST_PROMPT = r"^keytest: type keys"
APIC_LINE = "interrupts: apic, ioapic at 0xfec00000 (24 pins)"
PIC_LINE = "interrupts: 8259 pic (no ACPI tables)"
TIMER_LINE = r"^timer: (lapic|pit) 100 Hz, tsc (\d+) MHz$"
REPORT_TICKS = r"^ticks: (\d+) at 100 Hz \(uptime (\d+)\.(\d+) s\)$"
CTRL_B, CTRL_P, CTRL_R, CTRL_T = b"\x02", b"\x10", b"\x12", b"\x14"


def keytest_iso(cmdline: str = "keytest"):
    return build_iso("keytest" if cmdline == "keytest" else cmdline.replace(" ", "-"),
                     cmdline=cmdline)


def start(qemu, name: str, machine: list[str] = (), cmdline: str = "keytest",
          **options) -> Boot:
    """Boots a keytest kernel with COM1 on a socket; waits for its prompt."""
    boot = qemu(name, keytest_iso(cmdline), serial_input=True, qemu_args=list(machine),
                **options)
    boot.wait_for_line(KEYTEST_PROMPT, regex=True)
    return boot


# What the kernel answers is read from the serial socket itself, not the log
# file: QEMU 7.2's chardev log can repeat a byte under load.

def typed(boot: Boot) -> list[str]:
    """The lines the kernel wrote to the serial socket after keytest's
    first line (the echo of what the test typed, and what followed); the
    socket is read from the start of the boot."""
    lines = boot.received_text().split("\n")
    first = next((i for i, line in enumerate(lines) if line.startswith("keytest: type keys")),
                 -1)
    return lines[first + 1:]


def send_and_wait(boot: Boot, data: bytes, line: str, timeout: float = 60.0):
    """Types `data` on COM1 and waits for the kernel to write `line` (a whole
    line) back."""
    start = boot.received_length()
    boot.send_serial(data)
    wait_line(boot, line, start, timeout)


def wait_line(boot: Boot, line: str, start: int = 0, timeout: float = 60.0):
    """Waits for `line`, whole, in what the socket received after byte
    `start`."""
    deadline = time.monotonic() + timeout
    wanted = line.encode()
    while wanted not in boot.received_bytes()[start:].split(b"\r\n")[:-1]:
        check(boot, time.monotonic() <= deadline,
              f"no line {line!r} from the kernel; it sent:\n{boot.received_text()}")
        check(boot, boot.proc.poll() is None, f"QEMU exited before the kernel sent {line!r}")
        time.sleep(0.05)


def report_ticks(boot: Boot) -> tuple[int, float]:
    """Asks for the interrupt report (Ctrl-T); returns its (ticks, uptime in s)."""
    start = boot.received_length()
    boot.send_serial(CTRL_T)
    check(boot, boot.wait_received(b"dropped input:", start, 60), "no interrupt report")
    with_report = boot.received_text()[start:]
    match = re.search(REPORT_TICKS, with_report, re.M)
    check(boot, match, f"no ticks line in the report:\n{with_report}")
    return int(match.group(1)), float(f"{match.group(2)}.{match.group(3)}")


MACHINES = {
    "pc": ([], APIC_LINE, "lapic"),
    "q35": (["-machine", "q35"], APIC_LINE, "lapic"),
    "pc-acpi-off": (["-machine", "pc,acpi=off"], PIC_LINE, "pit"),
}


@pytest.mark.parametrize("smp", [1, 2], ids=["smp1", "smp2"])
@pytest.mark.parametrize("machine", MACHINES)
def test_controller_timer_and_answer(qemu, machine, smp):
    """Each machine says which controller and timer it uses, ticks at 100 Hz
    against the TSC, answers a line typed on serial, and runs on every CPU
    QEMU has: with -smp 2 the second is in long mode in the kernel's upper
    half too, except without ACPI (no MADT), where it stays where the
    firmware parked it."""
    args, controller_line, timer = MACHINES[machine]
    args = args + ["-smp", str(smp)]
    boot = start(qemu, f"{machine}-smp{smp}", args)
    lines = boot.serial_lines()
    check(boot, controller_line in lines, f"no {controller_line!r} line")
    timer_lines = [re.match(TIMER_LINE, l) for l in lines]
    timer_lines = [m for m in timer_lines if m]
    check(boot, len(timer_lines) == 1 and timer_lines[0].group(1) == timer,
          f"expected one `timer: {timer} 100 Hz, ...` line: {lines}")
    check(boot, int(timer_lines[0].group(2)) > 10,
          f"implausible TSC rate: {timer_lines[0].group(0)}")
    send_and_wait(boot, b"ping\r", "ping")
    ticks1, up1 = report_ticks(boot)
    # Two answers can come within one 10 ms tick: ask again until a tick
    # has passed (the bound only stops a clock that never moves).
    deadline = time.monotonic() + 10
    while True:
        time.sleep(0.05)
        send_and_wait(boot, b"ping2\r", "ping2")
        ticks2, up2 = report_ticks(boot)
        if (up2 > up1 and ticks2 > ticks1) or time.monotonic() > deadline:
            break
    check(boot, up2 > up1 and ticks2 > ticks1,
          f"time stood still: ticks {ticks1} -> {ticks2}, uptime {up1} -> {up2}")
    check(boot, not any(l.startswith("unexpected interrupt") for l in boot.serial_lines()),
          "an unexpected interrupt was reported")
    # Without a MADT the kernel knows of no other CPU: it stays where the
    # firmware parked it (halted, in a loop below 1 MiB), never in long mode
    # (EIP, not RIP). With one, every CPU runs the kernel, at its high
    # addresses. Sampled a few times: a snapshot may catch a CPU anywhere.
    parked = machine == "pc-acpi-off"
    for _ in range(3):
        registers = boot.qmp().hmp("info registers -a")
        cpus = re.split(r"^(?=CPU#\d+)", registers, flags=re.M)[1:]
        check(boot, len(cpus) == smp, f"QEMU shows {len(cpus)} CPUs, expected {smp}")
        for number, cpu in enumerate(cpus):
            if number > 0 and parked:
                match = re.search(r"^EIP=([0-9a-f]{8}) ", cpu, re.M)
                check(boot, match is not None and int(match.group(1), 16) < 0x100000,
                      f"CPU {number} runs outside the firmware:\n{cpu[:400]}")
            else:
                match = re.search(r"^RIP=([0-9a-f]{16}) ", cpu, re.M)
                check(boot, match is not None and int(match.group(1), 16) >= 0xffff800000000000,
                      f"CPU {number} does not run the kernel:\n{cpu[:400]}")
    boot.check_running()


def test_serial_keys_and_escape_sequences(qemu):
    """Bytes on COM1 reach wait_key decoded: text, CR/LF/CRLF as one Enter
    each, arrows and Delete from their escape sequences, 0x7f as Backspace;
    an unknown sequence and a lone ESC show nothing, never raw."""
    boot = start(qemu, "serial-keys")
    send_and_wait(boot, b"hello\r\n"
                  b"\x1b[A\x1b[3~\x7f\t\x1b[1~\x1b[4~\x1b[5;2~\x1b[6;2~X\r"
                  b"\x1b[99~\x1b\x03end\n", "<Ctrl(99)>end")
    lines = [l for l in typed(boot) if l]
    expected = ["hello", "<Up><Delete><Backspace><Tab><Home><End><ScrollUp><ScrollDown>X",
                "<Ctrl(99)>end"]
    check(boot, lines == expected, f"keys decoded as {lines}, expected {expected}")
    check(boot, "\x1b" not in boot.received_text(), "an escape byte was echoed raw")
    screen = boot.screen().text()
    check(boot, "hello" in screen and "<Ctrl(99)>end" in screen, "not on screen")


def test_ps2_typing_through_sendkey(qemu):
    """Keys pressed on the PS/2 keyboard (the monitor's sendkey) arrive
    decoded, US layout: letters, Shift, Enter, arrows, Shift-PgUp."""
    boot = start(qemu, "ps2-keys")
    boot.received_length()  # connects the socket, so the echo is captured
    boot.sendkey("h", "i", "shift-a", "spc", "1", "ret", "up", "left", "shift-pgup", "ret")
    wait_line(boot, "<Up><Left><ScrollUp>")
    check(boot, "hiA 1" in typed(boot), f"typed line missing: {typed(boot)}")
    check(boot, "hiA 1" in boot.screen().text(), "typed line not on screen")


def test_keymap_chooses_the_layout(qemu):
    """keymap=de: the key US calls `y` types `z`, and `z` types `y`."""
    boot = start(qemu, "keymap-de", cmdline="keytest keymap=de")
    boot.received_length()
    boot.sendkey("y", "z", "ret")
    wait_line(boot, "zy")


def test_serial_flood_is_throttled_and_nothing_is_lost(qemu):
    """10,000 bytes sent at once while the kernel reads no input: the
    kernel stops taking bytes from the UART at its queue's high-water mark
    (the rest waits in the UART and QEMU) and takes them again once the
    reader drains the queue; every byte arrives, in order, none is
    dropped, and `interrupts` says serial input was throttled."""
    boot = start(qemu, "flood")
    send_and_wait(boot, CTRL_B, "keytest: busy")
    sent = 10_000
    boot.send_serial(b"x" * sent)
    wait_line(boot, "keytest: busy done")
    send_and_wait(boot, b"\rafter\r", "after")
    received = boot.received_text()
    tail = received[received.index("keytest: busy done"):received.index("\nafter\n")]
    check(boot, "dropped" not in tail, f"serial input was dropped: {tail[-200:]!r}")
    accepted = tail.count("x")
    check(boot, accepted == sent, f"{accepted} of {sent} bytes arrived")
    send_and_wait(boot, CTRL_T, "dropped input: 0 bytes (serial 0, keyboard 0)")
    throttled = re.search(r"serial input throttled: (\d+) times", boot.received_text())
    check(boot, throttled is not None and int(throttled.group(1)) >= 1,
          "`interrupts` does not say serial input was throttled")
    boot.check_running()


def test_ps2_flood_is_dropped_and_counted(qemu):
    """The PS/2 keyboard keeps drop-and-count: 200 keys typed while the
    kernel reads no input overflow its 256-scancode queue; `keytest` says
    how many bytes it dropped and `interrupts` counts them as the
    keyboard's, none as serial's."""
    boot = start(qemu, "ps2-flood")
    send_and_wait(boot, CTRL_B, "keytest: busy")
    boot.sendkey(*(["x"] * 200))
    wait_line(boot, "keytest: busy done")
    received = boot.received_text()
    tail = received[received.index("keytest: busy done"):]
    dropped = sum(int(n) for n in re.findall(r"keytest: dropped (\d+)", tail))
    check(boot, dropped > 0, "nothing was dropped: 200 keys did not overflow the PS/2 queue")
    send_and_wait(boot, CTRL_T, f"dropped input: {dropped} bytes (serial 0, keyboard {dropped})")
    boot.check_running()


@pytest.mark.parametrize("machine,method", [
    ("pc", "reboot: through the keyboard controller (0xfe to port 0x64)"),
    ("q35", "reboot: through the ACPI reset register (port 0xcf9, value 0xf)"),
])
def test_reboot_ends_qemu(qemu, machine, method):
    """Ctrl-R reboots: the first method's line, no fallback or panic before
    the reset, and QEMU ends (-no-reboot)."""
    boot = start(qemu, f"reboot-{machine}", MACHINES[machine][0])
    boot.send_serial(CTRL_R)
    status = boot.wait_exit()
    lines = [l for l in typed(boot) if l.strip()]
    check(boot, lines[-1] == method, f"last lines {lines[-3:]}, expected {method!r}")
    check(boot, status == 0, f"QEMU exited with {status}")
    check(boot, not any("PANIC" in l for l in lines), "a panic before the reset")


@pytest.mark.parametrize("machine,why", [
    ("q35", "the FADT says there is no 8042"),
    ("pc", "nothing answers at port 0x64"),
])
def test_no_ps2_controller(qemu, machine, why):
    """Without an 8042 (QEMU i8042=off): the keyboard line, serial input
    still works; q35's FADT says so, the default machine's (ACPI 1.0) cannot,
    so the probe finds out. Rebooting there falls back past the missing
    keyboard controller to a triple fault, which ends QEMU too."""
    boot = start(qemu, f"no-8042-{machine}", ["-machine", f"{machine},i8042=off"],
                 cmdline="keytest loglevel=debug")
    lines = boot.serial_lines()
    for line in ("keyboard: no PS/2 controller; type on the serial port",
                 f"[DEBUG] keyboard: {why}"):
        check(boot, line in lines, f"no line {line!r}")
    send_and_wait(boot, b"typed\r", "typed")
    boot.send_serial(CTRL_R)
    status = boot.wait_exit()
    reboot = [l for l in typed(boot) if l.startswith("reboot:")]
    if machine == "pc":
        expected = ["reboot: through the keyboard controller (0xfe to port 0x64)",
                    "reboot: the keyboard controller did nothing; trying a triple fault"]
    else:
        expected = ["reboot: through the ACPI reset register (port 0xcf9, value 0xf)"]
    check(boot, reboot == expected and status == 0,
          f"reboot lines {reboot}, status {status}; expected {expected}, 0")


@pytest.mark.parametrize("machine,port", [("pc", "0x604"), ("q35", "0x604")])
def test_poweroff_ends_qemu(qemu, machine, port):
    """Ctrl-P powers off through ACPI S5 (sleep type from the DSDT's \\_S5):
    its line, then QEMU ends."""
    boot = start(qemu, f"poweroff-{machine}", MACHINES[machine][0])
    boot.send_serial(CTRL_P)
    status = boot.wait_exit()
    lines = [l for l in typed(boot) if l.strip()]
    expected = f"poweroff: ACPI S5 (PM1a control port {port}, SLP_TYPa 0, SLP_TYPb 0)"
    check(boot, lines[-1] == expected, f"last lines {lines[-3:]}, expected {expected!r}")
    check(boot, status == 0, f"QEMU exited with {status}")


def test_poweroff_without_acpi_halts(qemu):
    """Without ACPI there is no soft-off: the kernel says so and halts."""
    boot = start(qemu, "poweroff-no-acpi", MACHINES["pc-acpi-off"][0])
    send_and_wait(boot, CTRL_P,
                  "poweroff: no ACPI tables, so no soft-off; halting (switch the machine off)")
    boot.check_running(settle=1.0)


@pytest.mark.slow
def test_uefi_interrupts_and_serial_input(qemu):
    """Under OVMF: the APIC path, and serial input reaches the kernel."""
    boot = start(qemu, "uefi", uefi=True)
    check(boot, APIC_LINE in boot.serial_lines(), f"no {APIC_LINE!r} line")
    send_and_wait(boot, b"uefi\r", "uefi", timeout=120)
    boot.check_running()

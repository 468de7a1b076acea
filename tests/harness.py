"""End-to-end test harness: boots the real ISO in QEMU and looks at it.

A test boots an ISO built exactly as users build it (scripts/mkiso.sh), with
QEMU headless (`-display none`), the serial port captured to a file,
`-no-reboot` (a reset ends QEMU, and counts as a failure) and the
`isa-debug-exit` device. It then waits for lines on serial, reads the visible
VGA text screen through QMP, and checks how QEMU ended.

    with Boot("ready", iso=default_iso()) as boot:
        boot.wait_for_line("ready")
        screen = boot.screen()
        check(BANNER in screen.text(), "banner not on screen")

Every failure raises TestFailure with the serial log attached. Tests register
with @e2e and are run by tests/run_all.py.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
KERNEL = BUILD / "kernel.bin"
DEFAULT_ISO = BUILD / "os.iso"
OVMF = Path("/usr/share/ovmf/OVMF.fd")

# Under TCG a BIOS boot reaches `ready` in about a second and a UEFI boot in
# about ten; these bounds only stop a hung boot, they are not timings.
BIOS_TIMEOUT = 60.0
UEFI_TIMEOUT = 180.0

VGA_TEXT_BUFFER = 0xB8000
VGA_COLUMNS, VGA_ROWS = 80, 25
VGA_TEXT_MEMORY = 32 * 1024  # 0xb8000..0xbffff, where hardware scrolling moves
CRTC_INDEX, CRTC_DATA = 0x3D4, 0x3D5
CRTC_START_HIGH, CRTC_START_LOW = 0x0C, 0x0D
CRTC_CURSOR_HIGH, CRTC_CURSOR_LOW = 0x0E, 0x0F


def _cargo_field(name: str) -> str:
    text = (ROOT / "Cargo.toml").read_text()
    return re.search(rf'^{name}\s*=\s*"([^"]*)"', text, re.M).group(1)


CRATE_NAME = _cargo_field("name")
CRATE_VERSION = _cargo_field("version")
BANNER = f"{CRATE_NAME} {CRATE_VERSION}"


class TestFailure(Exception):
    """A failed check; the message says what and shows the evidence."""


def check(condition: bool, message: str) -> None:
    """Fails the current test with `message` unless `condition` holds."""
    if not condition:
        raise TestFailure(message)


# --- registry -----------------------------------------------------------------

@dataclass
class Registered:
    name: str
    function: object


REGISTRY: list[Registered] = []


def e2e(function):
    """Registers an end-to-end test; its name is the function's."""
    REGISTRY.append(Registered(function.__name__, function))
    return function


@dataclass
class Counts:
    """Extra pass/fail counts a test reports (e.g. the kernel's self-test)."""
    passed: int = 0
    failed: int = 0


EXTRA = Counts()


def add_counts(passed: int, failed: int) -> None:
    """Adds counts from a nested test run (the in-kernel self-test)."""
    EXTRA.passed += passed
    EXTRA.failed += failed


# --- ISOs -------------------------------------------------------------------------

def default_iso() -> Path:
    """build/os.iso, as `make iso` built it (the Makefile builds it first)."""
    check(DEFAULT_ISO.exists(), f"{DEFAULT_ISO} is missing: run `make iso`")
    return DEFAULT_ISO


_iso_cache: dict[tuple, Path] = {}


def build_iso(name: str, cmdline: str = "", cfg: str | None = None,
              files: dict[str, Path] | None = None) -> Path:
    """Builds build/test-isos/NAME.iso with scripts/mkiso.sh: the menu from
    grub/grub.cfg.in with CMDLINE, or the grub.cfg text `cfg`; `files` maps
    paths inside the ISO to files to copy there. Cached within one run."""
    key = (name, cmdline, cfg, tuple(sorted((files or {}).items())))
    if key in _iso_cache:
        return _iso_cache[key]
    out = BUILD / "test-isos" / f"{name}.iso"
    out.parent.mkdir(parents=True, exist_ok=True)
    args = ["bash", str(ROOT / "scripts" / "mkiso.sh")]
    if cfg is not None:
        cfg_path = out.with_suffix(".cfg")
        cfg_path.write_text(cfg)
        args += ["--cfg", str(cfg_path)]
    for dest, src in (files or {}).items():
        args += ["--add", f"{src}={dest}"]
    args += [str(out), str(KERNEL), cmdline]
    result = subprocess.run(args, capture_output=True, text=True)
    check(result.returncode == 0, f"mkiso failed:\n{result.stdout}{result.stderr}")
    _iso_cache[key] = out
    return out


# --- the screen ---------------------------------------------------------------------

def _cp437(byte: int) -> str:
    return bytes([byte]).decode("cp437")


@dataclass
class Screen:
    """The 80x25 cells a person sees: characters and colour attributes."""
    chars: list[str] = field(default_factory=list)  # one string per row
    attrs: list[list[int]] = field(default_factory=list)
    start: int = 0  # CRTC start address (in cells) the screen was read at

    @classmethod
    def from_bytes(cls, raw: bytes, start: int) -> "Screen":
        rows, attrs = [], []
        for r in range(VGA_ROWS):
            row = raw[r * VGA_COLUMNS * 2:(r + 1) * VGA_COLUMNS * 2]
            rows.append("".join(_cp437(b) for b in row[0::2]))
            attrs.append(list(row[1::2]))
        return cls(rows, attrs, start)

    def lines(self) -> list[str]:
        """The rows with trailing blanks removed."""
        return [row.rstrip() for row in self.chars]

    def text(self) -> str:
        return "\n".join(self.lines())

    def find(self, needle: str) -> tuple[int, int] | None:
        """(row, column) of the first occurrence of `needle`, or None."""
        for r, row in enumerate(self.chars):
            c = row.find(needle)
            if c >= 0:
                return r, c
        return None

    def __str__(self) -> str:
        border = "+" + "-" * VGA_COLUMNS + "+"
        body = "\n".join(f"|{row}|" for row in self.chars)
        return f"{border}\n{body}\n{border}"


# --- QMP ------------------------------------------------------------------------------

class Qmp:
    """A minimal QEMU Machine Protocol client over a Unix socket."""

    def __init__(self, path: Path, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(str(path))
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise TestFailure(f"cannot connect to QMP at {path}")
                time.sleep(0.05)
        self.sock.settimeout(timeout)
        self.reader = self.sock.makefile("r")
        json.loads(self.reader.readline())  # the greeting
        self.execute("qmp_capabilities")

    def execute(self, command: str, **arguments):
        message = {"execute": command}
        if arguments:
            message["arguments"] = arguments
        self.sock.sendall(json.dumps(message).encode() + b"\n")
        while True:
            reply = json.loads(self.reader.readline())
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise TestFailure(f"QMP {command}: {reply['error']}")
            # anything else is an asynchronous event: skip it

    def hmp(self, command_line: str) -> str:
        """Runs a human-monitor command and returns its output."""
        return self.execute("human-monitor-command", **{"command-line": command_line})

    def close(self):
        self.reader.close()
        self.sock.close()


# --- a QEMU boot --------------------------------------------------------------------------

class Boot:
    """One QEMU run of an ISO, headless, with serial captured and QMP open."""

    def __init__(self, name: str, iso: Path | None = None, *, entry: int | None = 0,
                 uefi: bool = False, memory: str = "128M", serial: bool = True,
                 qemu_args: list[str] | tuple = (), timeout: float | None = None):
        self.name = name
        self.iso = iso or default_iso()
        self.uefi = uefi
        self.timeout = timeout or (UEFI_TIMEOUT if uefi else BIOS_TIMEOUT)
        self.dir = Path(tempfile.mkdtemp(prefix=f"kestrel-{name}-"))
        # Failure messages carry the evidence, so the files can go at exit.
        atexit.register(shutil.rmtree, self.dir, ignore_errors=True)
        self.serial_log = self.dir / "serial.log"
        self.qmp_path = self.dir / "qmp.sock"
        accel = os.environ.get("ACCEL", "tcg")
        args = [
            "qemu-system-x86_64",
            "-accel", accel,
            "-m", memory,
            "-cdrom", str(self.iso),
            "-display", "none",
            "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
            "-monitor", "none",
        ]
        args += ["-serial", f"file:{self.serial_log}"] if serial else ["-serial", "none"]
        if uefi:
            args += ["-bios", str(OVMF)]
        if entry is not None:
            # grub.cfg picks its default entry from this SMBIOS OEM string
            # (entry=None: no OEM string at all, as on a plain QEMU).
            args += ["-smbios", f"type=11,value={CRATE_NAME}-entry={entry}"]
        args += list(qemu_args)
        self.command = args
        self.stderr_path = self.dir / "qemu.stderr"
        self.stderr = open(self.stderr_path, "w")
        self.serial_log.touch()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=self.stderr, stderr=self.stderr)
        self._qmp: Qmp | None = None

    # -- context manager: always stop QEMU --
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self._qmp:
            try:
                self._qmp.close()
            except OSError:
                pass
            self._qmp = None
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()

    # -- evidence --
    def serial(self) -> str:
        """Everything the kernel wrote to serial so far, with \\r\\n as \\n."""
        return self.serial_log.read_bytes().decode("utf-8", "replace").replace("\r\n", "\n")

    def serial_lines(self) -> list[str]:
        """The serial log's lines, without the stray carriage returns that
        firmware and GRUB put around theirs."""
        return [line.strip("\r") for line in self.serial().split("\n")]

    def evidence(self) -> str:
        """What a failure message shows: the command, QEMU's stderr, the log."""
        stderr = self.stderr_path.read_text(errors="replace").strip()
        return (f"\n  qemu: {shlex.join(self.command)}"
                + (f"\n  qemu stderr: {stderr}" if stderr else "")
                + "\n  serial log:\n" + _indent(self.serial() or "(empty)"))

    def fail(self, message: str):
        raise TestFailure(f"[{self.name}] {message}{self.evidence()}")

    # -- waiting --
    def wait_for_line(self, pattern: str, timeout: float | None = None,
                      regex: bool = False) -> re.Match | str:
        """Waits until a serial line equals `pattern` (or matches the regex
        `pattern` anywhere in a line, with regex=True). Fails if QEMU exits
        first (a reset, with -no-reboot, ends QEMU) or on timeout."""
        compiled = re.compile(pattern) if regex else None
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for line in self.serial_lines():
                if compiled:
                    match = compiled.search(line)
                    if match:
                        return match
                elif line.strip() == pattern:
                    return line
            status = self.proc.poll()
            if status is not None:
                # One last look: the line may have landed just before the exit.
                if any((compiled.search(l) if compiled else l.strip() == pattern)
                       for l in self.serial_lines()):
                    continue
                self.fail(f"QEMU exited with status {status} (a reset or a crash) "
                          f"before serial showed {pattern!r}")
            if time.monotonic() > deadline:
                self.fail(f"timed out after {timeout or self.timeout:.0f} s waiting "
                          f"for {pattern!r} on serial")
            time.sleep(0.05)

    def wait_exit(self, timeout: float | None = None) -> int:
        """Waits for QEMU to exit by itself and returns its status."""
        try:
            return self.proc.wait(timeout or self.timeout)
        except subprocess.TimeoutExpired:
            self.fail("QEMU did not exit")

    def check_running(self, settle: float = 0.5):
        """Asserts QEMU is still running (halted, not reset) after `settle` s."""
        time.sleep(settle)
        status = self.proc.poll()
        if status is not None:
            self.fail(f"QEMU exited with status {status}: the machine reset or "
                      f"stopped instead of halting")

    # -- the screen --
    def qmp(self) -> Qmp:
        if self._qmp is None:
            self._qmp = Qmp(self.qmp_path)
        return self._qmp

    def _port_in(self, port: int) -> int:
        out = self.qmp().hmp(f"i /b {port:#x}")
        return int(out.split("=")[1], 16)  # "portb[0x03d5] = 0x00"

    def _paused(self):
        """A context in which the guest CPU is stopped, so that reading the
        screen never interleaves with the kernel's own CRTC accesses."""
        boot = self

        class Paused:
            def __enter__(self):
                self.was_running = boot.qmp().execute("query-status")["running"]
                if self.was_running:
                    boot.qmp().execute("stop")

            def __exit__(self, *exc):
                if self.was_running:
                    boot.qmp().execute("cont")
        return Paused()

    def _crtc_pair(self, high: int, low: int) -> int:
        """A 16-bit value from a high/low pair of VGA CRTC registers, read
        through the monitor's port commands with the guest paused; the CRTC
        index register is put back as the kernel left it."""
        qmp = self.qmp()
        with self._paused():
            index = self._port_in(CRTC_INDEX)
            value = 0
            for register in (high, low):
                qmp.hmp(f"o /b {CRTC_INDEX:#x} {register:#x}")
                value = value << 8 | self._port_in(CRTC_DATA)
            qmp.hmp(f"o /b {CRTC_INDEX:#x} {index:#x}")
        return value

    def crtc_start(self) -> int:
        """The VGA CRTC start address (in cells): where the visible screen
        begins in the text memory."""
        return self._crtc_pair(CRTC_START_HIGH, CRTC_START_LOW)

    def crtc_cursor(self) -> int:
        """The VGA CRTC cursor location (in cells of the text memory, like
        the start address)."""
        return self._crtc_pair(CRTC_CURSOR_HIGH, CRTC_CURSOR_LOW)

    def screen(self) -> Screen:
        """The visible 80x25 text screen: 4000 bytes from 0xb8000 + 2 x the
        CRTC start address (wrapping in the 32 KiB text memory)."""
        dump = self.dir / "vga.bin"
        if dump.exists():
            dump.unlink()
        with self._paused():  # the start address and the cells from one moment
            start = self.crtc_start()
            self.qmp().execute("pmemsave", val=VGA_TEXT_BUFFER, size=VGA_TEXT_MEMORY,
                               filename=str(dump))
        memory = dump.read_bytes()
        offset = (2 * start) % VGA_TEXT_MEMORY
        raw = (memory + memory)[offset:offset + VGA_COLUMNS * VGA_ROWS * 2]
        return Screen.from_bytes(raw, start)

    def screenshot(self, path: Path):
        """A PNG of what QEMU displays (for a person to look at)."""
        self.qmp().execute("screendump", filename=str(path), format="png")


def _indent(text: str) -> str:
    return "\n".join("    | " + line for line in text.rstrip("\n").split("\n"))

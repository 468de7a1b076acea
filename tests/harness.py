"""End-to-end test harness: boots the real ISO in QEMU and looks at it.

A test boots an ISO built exactly as users build it (scripts/mkiso.sh), with
QEMU headless (`-display none`), the serial port captured to a file,
`-no-reboot` (a reset ends QEMU, and counts as a failure) and the
`isa-debug-exit` device. It then waits for lines on serial, reads the visible
VGA text screen through QMP, and checks how QEMU ended.

    boot = qemu("ready")                    # the tests' fixture; or Boot(...)
    boot.wait_for_line("ready")
    screen = boot.screen()
    check(boot, screen.find(BANNER) is not None, "banner not on screen")

Every check is `check(boot, condition, message)`, the one way a test fails:
it raises TestFailure (an AssertionError, so pytest reports it as a failed
check) with the message and the boot's evidence, always: how QEMU ran, the
tail of the serial log and the screen as it is then. `boot` is a `make run`
(MakeRun) for the tests of `make run`, and None where no QEMU runs (a file,
a build); an unconditional failure is `check(boot, False, message)`. What
the screen should show, worked out from serial, is tests/screen_model.py.
The tests are plain pytest tests; tests/conftest.py owns the processes and
directories they use (a `qemu` fixture starts Boots and stops them), and
tests/run_all.py runs them. This module does not import pytest: `make bench`
uses it too.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from screen_model import VGA_COLUMNS, VGA_ROWS

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
KERNEL = BUILD / "kernel.bin"
# The linked kernel, unpacked, with debug information: for nm and GDB (the
# packed kernel.bin has no symbol bytes a tool could read).
KERNEL_ELF = BUILD / "kernel.elf"
DEFAULT_ISO = BUILD / "os.iso"
OVMF = Path("/usr/share/ovmf/OVMF.fd")

# Under TCG a BIOS boot reaches `ready` in about a second and a UEFI boot in
# about ten; these bounds only stop a hung boot, they are not timings.
BIOS_TIMEOUT = 60.0
UEFI_TIMEOUT = 180.0

# A failure shows the serial log's last lines, each cut to so many characters
# (a 20,000-character command line); the whole log stays in the boot's dir.
SERIAL_TAIL_LINES = 50
SERIAL_LINE_CHARS = 400
# ... and a command's output (`make run`) its last characters.
OUTPUT_TAIL_CHARS = 4000

VGA_TEXT_BUFFER = 0xB8000
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


class TestFailure(AssertionError):
    """A failed check; the message says what and shows the evidence."""
    __test__ = False  # not a test class, though its name starts with Test


def check(boot: Boot | MakeRun | None, condition: object, message: str) -> None:
    """The one way a test fails: unless `condition` holds, raises TestFailure
    with `message` and the evidence of `boot`, always: for a Boot, how QEMU
    ran, the tail of the serial log and the screen (Boot.evidence); for a
    MakeRun, its command and the tail of its output. `boot` is None only
    where nothing runs (a file, a build, a host tool): the message then says
    all there is. An unconditional failure is check(boot, False, message)."""
    if condition:
        return
    if boot is None:
        raise TestFailure(message)
    try:
        evidence = boot.evidence()
    except Exception as error:  # noqa: BLE001 - the failure itself must still show
        evidence = f"\n  (no evidence: gathering it failed with {error!r})"
    raise TestFailure(f"[{boot.name}] {message}{evidence}")


def stripped_kernel(path: Path) -> Path:
    """build/kernel.elf packed as `make` packs it, without the symbol table
    (a stripped kernel: backtraces show addresses only), at `path`."""
    subprocess.run([sys.executable, str(ROOT / "scripts" / "pack.py"), "--no-symbols",
                    str(KERNEL_ELF), str(path)], check=True)
    return path


# --- ISOs -------------------------------------------------------------------------

TEST_ISOS = BUILD / "test-isos"
# The copy of build/os.iso the tests boot (see snapshot_default_iso).
DEFAULT_ISO_SNAPSHOT = TEST_ISOS / "os-snapshot.iso"

# Identifies one run, so that each run builds its test ISOs afresh: one per
# process unless set (tests/conftest.py gives all of a run's pytest-xdist
# workers the same one).
RUN_ID = os.urandom(16).hex()


@contextmanager
def file_lock(path: Path):
    """Holds an exclusive lock on `path` (created if missing): one process at
    a time, across pytest-xdist workers. Released when the block ends, or
    when the process dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def replace_atomically(src: Path, dest: Path) -> None:
    """Copies `src` to `dest` through a temporary name in dest's directory, so
    a reader sees the old file or the new one, never a partial one."""
    partial = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    try:
        shutil.copyfile(src, partial)
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)


def snapshot_default_iso() -> Path:
    """Copies build/os.iso to build/test-isos/os-snapshot.iso, which the tests
    boot: the tests of `make run` rebuild build/os.iso in place (its recipe
    always runs), and a QEMU reading it at that moment would see a partial
    file. Called once per run, before any test starts."""
    if not DEFAULT_ISO.exists():
        check(None, False, f"{DEFAULT_ISO} is missing: run `make iso`")
    TEST_ISOS.mkdir(parents=True, exist_ok=True)
    with file_lock(TEST_ISOS / "os-snapshot.lock"):
        replace_atomically(DEFAULT_ISO, DEFAULT_ISO_SNAPSHOT)
    return DEFAULT_ISO_SNAPSHOT


def default_iso() -> Path:
    """The ISO `make iso` built (build/os.iso, as this run's snapshot of it)."""
    check(None, DEFAULT_ISO_SNAPSHOT.exists(),
          f"{DEFAULT_ISO_SNAPSHOT} is missing: run the tests through pytest "
          f"(tests/conftest.py copies {DEFAULT_ISO} there), after `make iso`")
    return DEFAULT_ISO_SNAPSHOT


def grub_entry_chooser() -> str:
    """The block of grub/grub.cfg.in that picks the default menu entry from
    QEMU's `-smbios type=1,sku=<crate>-entry=N` (what Boot(entry=N) passes),
    for the tests' own menus."""
    text = (ROOT / "grub" / "grub.cfg.in").read_text()
    begin, end = "# begin entry chooser\n", "# end entry chooser\n"
    return text[text.index(begin):text.index(end) + len(end)]


def _digest(*parts: bytes) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(len(part).to_bytes(8, "little"))
        sha.update(part)
    return sha.hexdigest()


def build_iso(name: str, cmdline: str = "", cfg: str | bytes | None = None,
              files: dict[str, Path] | None = None, kernel: Path = KERNEL) -> Path:
    """Builds build/test-isos/NAME.iso with scripts/mkiso.sh: the menu from
    grub/grub.cfg.in with CMDLINE, or the grub.cfg `cfg` (text, or bytes
    written as they are, e.g. for hostile input); `files` maps
    paths inside the ISO to files to copy there; `kernel` is the kernel ELF
    (build/kernel.bin unless given).

    Safe in parallel: one process at a time builds NAME (a file lock), into a
    temporary name renamed into place. Built once per run: a later call with
    the same inputs (the kernel, the scripts, the arguments, the files'
    contents, this run's RUN_ID) reuses it, from any worker."""
    files = dict(sorted((files or {}).items()))
    if isinstance(cfg, str):
        cfg = cfg.encode()
    inputs = [RUN_ID.encode(), name.encode(), cmdline.encode(),
              cfg if cfg is not None else b"\0none"]
    for path in (kernel, ROOT / "scripts" / "mkiso.sh", ROOT / "grub" / "grub.cfg.in",
                 ROOT / "Cargo.toml"):
        inputs.append(path.read_bytes())
    for dest, src in files.items():
        inputs += [dest.encode(), Path(src).read_bytes()]
    key = _digest(*inputs)

    TEST_ISOS.mkdir(parents=True, exist_ok=True)
    out = TEST_ISOS / f"{name}.iso"
    stamp = TEST_ISOS / f"{name}.key"
    with file_lock(TEST_ISOS / f"{name}.lock"):
        if out.exists() and stamp.exists() and stamp.read_text() == key:
            return out
        stamp.unlink(missing_ok=True)
        partial = TEST_ISOS / f".{name}.{os.getpid()}.partial.iso"
        with tempfile.TemporaryDirectory(prefix=f"kestrel-iso-{name}-") as scratch:
            args = ["bash", str(ROOT / "scripts" / "mkiso.sh")]
            if cfg is not None:
                cfg_path = Path(scratch) / "grub.cfg"
                cfg_path.write_bytes(cfg)
                args += ["--cfg", str(cfg_path)]
            for dest, src in files.items():
                args += ["--add", f"{src}={dest}"]
            args += [str(partial), str(kernel), cmdline]
            try:
                result = subprocess.run(args, capture_output=True, text=True)
                check(None, result.returncode == 0,
                      f"mkiso failed:\n{result.stdout}{result.stderr}")
                os.replace(partial, out)
            finally:
                partial.unlink(missing_ok=True)
        stamp.write_text(key)
    return out


# --- processes ------------------------------------------------------------------------

def _command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return " ".join(part.decode("utf-8", "replace") for part in raw.split(b"\0") if part)


def tagged_processes(variable: str, value: str) -> dict[int, str]:
    """Every process (but this one) whose environment holds VARIABLE=VALUE,
    as pid -> command line. Children inherit their parent's environment, also
    through `setsid`, `script` and `make`, so a variable set before starting
    something marks all it starts in turn (not through a plain `sudo`, which
    resets the environment). Processes of other users (unreadable) and
    zombies (no environment left) are not listed."""
    needle = f"{variable}={value}".encode()
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = Path(entry.path, "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found[int(entry.name)] = _command_line(int(entry.name))
    return found


def kill_tagged(variable: str, value: str, timeout: float = 10.0) -> dict[int, str]:
    """SIGKILLs every process tagged VARIABLE=VALUE (see tagged_processes),
    again until none is left (a dying parent may have started another);
    returns those it found, pid -> command line."""
    killed: dict[int, str] = {}
    deadline = time.monotonic() + timeout
    while True:
        found = tagged_processes(variable, value)
        if not found:
            return killed
        for pid, command in found.items():
            killed.setdefault(pid, command)
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if time.monotonic() > deadline:
            check(None, False, "could not kill: " + ", ".join(
                f"{pid} {command}" for pid, command in found.items()))
        time.sleep(0.05)


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
                    check(None, False, f"cannot connect to QMP at {path}")
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
                check(None, False, f"QMP {command}: {reply['error']}")
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
                 qemu_args: list[str] | tuple = (), timeout: float | None = None,
                 dir: Path | None = None, serial_input: bool = False):
        """Starts QEMU. Its files (serial log, QMP socket, stderr, screen
        dumps) go to `dir`, which the caller owns (the tests' `qemu` fixture
        passes one under pytest's tmp_path); without one, a temporary
        directory that stop() removes.

        serial_input=True: COM1 is a Unix socket, so the test can type on it
        (send_serial). QEMU waits for the harness to connect before the
        machine starts, and a thread writes everything read from the socket
        to the log: QEMU's own `logfile=` is not exact when the socket's
        reader falls behind (bytes doubled or missing in the file)."""
        self.name = name
        self.iso = iso or default_iso()
        self.uefi = uefi
        self.has_serial = serial
        self.timeout = timeout or (UEFI_TIMEOUT if uefi else BIOS_TIMEOUT)
        self._temporary: list[Path] = []
        if dir is None:
            dir = Path(tempfile.mkdtemp(prefix=f"kestrel-{name}-"))
            self._temporary.append(dir)
        else:
            dir.mkdir(parents=True, exist_ok=True)
        self.dir = dir
        self.serial_log = self.dir / "serial.log"
        self.qmp_path = self.dir / "qmp.sock"
        self.serial_socket_path = self.dir / "serial.sock"
        if len(bytes(self.qmp_path)) > 100:  # a Unix socket path has at most 107 bytes
            short = Path(tempfile.mkdtemp(prefix="kestrel-qmp-"))
            self._temporary.append(short)
            self.qmp_path = short / "qmp.sock"
            self.serial_socket_path = short / "serial.sock"
        self._serial_socket: socket.socket | None = None
        # What the kernel wrote to the socket since it was connected (for
        # timing echoes: the log file lags behind the socket).
        self._received = bytearray()
        self._received_changed = threading.Condition()
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
        if serial and serial_input:
            args += ["-chardev", f"socket,id=com1,path={self.serial_socket_path},server=on,"
                                 f"wait=on",
                     "-serial", "chardev:com1"]
        elif serial:
            args += ["-serial", f"file:{self.serial_log}"]
        else:
            args += ["-serial", "none"]
        if uefi:
            args += ["-bios", str(OVMF)]
        if entry is not None:
            # grub.cfg picks its default entry from the SMBIOS system SKU
            # (entry=None: none, as on a plain QEMU).
            args += ["-smbios", f"type=1,sku={CRATE_NAME}-entry={entry}"]
        # SMP=N in the environment: every boot has N CPUs unless the test
        # chose (`make test SMP=4` runs the whole suite on four).
        smp = os.environ.get("SMP")
        if smp and "-smp" not in qemu_args:
            args += ["-smp", smp]
        args += list(qemu_args)
        self.command = args
        self.stderr_path = self.dir / "qemu.stderr"
        self.stderr = open(self.stderr_path, "w")
        self.serial_log.touch()
        self._qmp: Qmp | None = None
        self._reading = threading.Event()
        self._reading.set()
        try:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                         stdout=self.stderr, stderr=self.stderr)
        except OSError:
            self.stderr.close()
            for path in self._temporary:
                shutil.rmtree(path, ignore_errors=True)
            raise
        if serial and serial_input:
            # QEMU starts the machine once this connects (wait=on).
            try:
                self._serial_connection()
            except BaseException:
                self.stop()
                raise

    # -- context manager: always stop QEMU --
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self._reading.set()
        if self._serial_socket:
            try:
                self._serial_socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._serial_socket.close()
            self._serial_socket = None
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
        for path in self._temporary:
            shutil.rmtree(path, ignore_errors=True)
        self._temporary = []

    # -- evidence --
    def serial(self) -> str:
        """Everything the kernel wrote to serial so far, with \\r\\n as \\n."""
        return self.serial_log.read_bytes().decode("utf-8", "replace").replace("\r\n", "\n")

    def serial_lines(self) -> list[str]:
        """The serial log's lines, without the stray carriage returns that
        firmware and GRUB put around theirs."""
        return [line.strip("\r") for line in self.serial().split("\n")]

    def evidence(self) -> str:
        """What check() appends to a failure of this boot: the QEMU command,
        its stderr and whether it still runs, the last SERIAL_TAIL_LINES
        lines of the serial log (control bytes escaped), and the screen as
        it is now. Reads what it can: a part it cannot get says why."""
        stderr = self.stderr_path.read_text(errors="replace").strip()
        status = self.proc.poll()
        return (f"\n  qemu: {shlex.join(self.command)}"
                + (f"\n  qemu stderr: {stderr}" if stderr else "")
                + ("\n  qemu: still running" if status is None
                   else f"\n  qemu: exited with status {status}")
                + self._serial_evidence() + self._screen_evidence())

    def _serial_evidence(self) -> str:
        if not self.has_serial:
            return "\n  serial: none (-serial none)"
        lines = self.serial().rstrip("\n").split("\n")
        if lines == [""]:
            return "\n  serial log: (empty)"
        tail = lines[-SERIAL_TAIL_LINES:]
        kept = self.dir not in self._temporary  # the caller's: still there after the test
        if len(tail) < len(lines):
            header = f"serial log, its last {len(tail)} of {len(lines)} lines" + (
                f" (all in {self.serial_log})" if kept else "")
        else:
            header = "serial log" + (f" ({self.serial_log})" if kept else "")
        return f"\n  {header}:\n" + _indent("\n".join(_printable(line) for line in tail))

    def _screen_evidence(self) -> str:
        """The screen: the VGA text screen, or the text the framebuffer
        shows when the kernel reported a framebuffer console."""
        if self.proc.poll() is not None:
            return "\n  screen: none (QEMU has ended)"
        try:
            from framebuffer import Mode, read_text
            try:
                mode = Mode.from_serial(self.kernel_lines())
            except ValueError:
                mode = None
            if mode is not None:
                rows = read_text(self.screendump(), mode)
                return (f"\n  screen (the framebuffer console's {mode.columns}x{mode.rows} "
                        "cells, read from QEMU's display):\n" + _indent("\n".join(rows)))
            if self.uefi:
                return ("\n  screen: no framebuffer console on serial, and no VGA text "
                        "screen under UEFI")
            screen = self.screen()
            return (f"\n  screen (VGA text, CRTC start {screen.start}):\n"
                    + _indent(str(screen)))
        except Exception as error:  # noqa: BLE001 - evidence is best effort
            return f"\n  screen: could not be read ({error!r})"

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
                check(self, False, f"QEMU exited with status {status} (a reset or a crash) "
                                   f"before serial showed {pattern!r}")
            check(self, time.monotonic() <= deadline,
                  f"timed out after {timeout or self.timeout:.0f} s waiting for {pattern!r} "
                  "on serial")
            time.sleep(0.05)

    def wait_exit(self, timeout: float | None = None) -> int:
        """Waits for QEMU to exit by itself and returns its status."""
        try:
            return self.proc.wait(timeout or self.timeout)
        except subprocess.TimeoutExpired:
            pass
        check(self, False, "QEMU did not exit")

    def check_running(self, settle: float = 0.5):
        """Asserts QEMU is still running (halted, not reset) after `settle` s."""
        time.sleep(settle)
        status = self.proc.poll()
        check(self, status is None, f"QEMU exited with status {status}: the machine reset or "
                                    "stopped instead of halting")

    # -- typing --
    def _serial_connection(self) -> socket.socket:
        """The socket behind COM1 (serial_input=True), connected when QEMU
        starts, with a thread that appends what the kernel writes to the
        serial log and to `received`."""
        if self._serial_socket is None:
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            deadline = time.monotonic() + 10
            while True:
                try:
                    connection.connect(str(self.serial_socket_path))
                    break
                except (FileNotFoundError, ConnectionRefusedError):
                    if time.monotonic() > deadline:
                        connection.close()
                        check(self, False,
                              "the serial socket never appeared (serial_input=True?)")
                    time.sleep(0.05)

            def drain():
                with open(self.serial_log, "ab") as log:
                    while True:
                        # A test that plays a terminal which stopped reading
                        # pauses this (pause_serial_reading).
                        self._reading.wait()
                        try:
                            data = connection.recv(65536)
                        except OSError:
                            return
                        if not data:
                            return
                        log.write(data)
                        log.flush()
                        with self._received_changed:
                            self._received += data
                            self._received_changed.notify_all()

            threading.Thread(target=drain, daemon=True).start()
            self._serial_socket = connection
        return self._serial_socket

    def pause_serial_reading(self):
        """Stops reading COM1's socket, as a terminal that stopped reading:
        once the socket's buffer is full, the guest's UART cannot send."""
        self._serial_connection()
        self._reading.clear()

    def resume_serial_reading(self):
        """Reads COM1's socket again (see pause_serial_reading)."""
        self._reading.set()

    def send_serial(self, data: bytes):
        """Types `data` on COM1, all at once (needs serial_input=True)."""
        self._serial_connection().sendall(data)

    def received_length(self) -> int:
        """Bytes the kernel wrote to the serial socket so far (connected
        when QEMU started)."""
        self._serial_connection()
        with self._received_changed:
            return len(self._received)

    def received_bytes(self) -> bytes:
        """What the socket received, exactly (see received_text)."""
        with self._received_changed:
            return bytes(self._received)

    def received_text(self) -> str:
        """What the socket received, as text with \\r\\n as \\n. Exact, unlike the
        log file: QEMU 7.2's chardev log can repeat a byte when a write to
        the socket is only partly taken (seen under load)."""
        with self._received_changed:
            return bytes(self._received).decode("utf-8", "replace").replace("\r\n", "\n")

    def wait_received(self, needle: bytes, start: int, timeout: float = 10.0) -> bool:
        """Waits until `needle` appears in what the socket received after
        offset `start`; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._received_changed:
            while needle not in self._received[start:]:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._received_changed.wait(left)
        return True

    def sendkey(self, *keys: str):
        """Presses each key on the PS/2 keyboard through the monitor's
        `sendkey` (QEMU key names: `a`, `shift-a`, `ret`, `up`, `ctrl-c`)."""
        for key in keys:
            self.qmp().hmp(f"sendkey {key}")

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

    def wait_for_screen(self, pattern: str, timeout: float = 60.0) -> tuple[re.Match, Screen]:
        """Polls the screen until a row matches the regex `pattern` (for
        boots without serial); returns the match and the screen. Fails if
        QEMU ends first, or after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            for line in screen.lines():
                match = re.search(pattern, line)
                if match:
                    return match, screen
            status = self.proc.poll()
            # The screen last read: the evidence cannot read one once QEMU ended.
            check(self, status is None, f"QEMU exited with status {status} before the "
                                        f"screen showed {pattern!r}; it last showed:\n{screen}")
            check(self, time.monotonic() <= deadline,
                  f"the screen did not show {pattern!r} within {timeout:.0f} s")
            time.sleep(0.2)

    def screenshot(self, path: Path):
        """A PNG of what QEMU displays (for a person to look at)."""
        self.qmp().execute("screendump", filename=str(path), format="png")

    def screendump(self):
        """What QEMU displays, as an RGB image (framebuffer.Image, from a
        QMP screendump in PPM): the framebuffer console's pixels."""
        from framebuffer import Image
        path = self.dir / "screen.ppm"
        path.unlink(missing_ok=True)
        self.qmp().execute("screendump", filename=str(path))
        return Image.from_ppm(path)

    def kernel_lines(self) -> list[str]:
        """The serial lines from the kernel's banner on (under UEFI, GRUB
        and the firmware write to serial before it)."""
        lines = self.serial_lines()
        return lines[lines.index(BANNER):] if BANNER in lines else []


def _indent(text: str) -> str:
    return "\n".join("    | " + line for line in text.rstrip("\n").split("\n"))


def _printable(line: str, limit: int = SERIAL_LINE_CHARS) -> str:
    """`line` for a failure message: control characters (a forged line
    break, an ANSI sequence) escaped, cut to `limit` characters."""
    line = "".join(c if c.isprintable() or c == "\t" else f"\\x{ord(c):02x}" for c in line)
    return line if len(line) <= limit else f"{line[:limit]}... ({len(line) - limit} more)"


# --- `make run` and other commands that start QEMU ------------------------------------------

class MakeRun:
    """A command (`make run`, `make debug`, `script ... make run`) started in
    the background, its output collected. stop() ends it and everything it
    started: each MakeRun marks its processes with a variable of its own
    (KESTREL_MAKE_RUN), so the ones in another session (`script` starts its
    command in one, out of reach of a process-group kill) are found too."""

    TAG = "KESTREL_MAKE_RUN"

    def __init__(self, command: list[str], env: dict[str, str], cwd: Path = ROOT):
        self.command = command
        self.name = shlex.join(command)
        self.tag = os.urandom(8).hex()
        self.output = b""
        self.proc = subprocess.Popen(command, cwd=cwd, env={**env, self.TAG: self.tag},
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self._reader = threading.Thread(target=self._collect, daemon=True)
        self._reader.start()

    def _collect(self):
        for chunk in iter(lambda: self.proc.stdout.read1(4096), b""):
            self.output += chunk

    def text(self) -> str:
        return self.output.decode("utf-8", "replace").replace("\r", "")

    def evidence(self) -> str:
        """What check() appends to a failure of this command: whether it
        still runs, and the last OUTPUT_TAIL_CHARS characters of its output
        (control bytes, e.g. a terminal's escape sequences, escaped)."""
        status = self.proc.poll()
        text = self.text()
        tail = text[-OUTPUT_TAIL_CHARS:]
        header = (f"its output, the last {len(tail)} of {len(text)} characters"
                  if len(tail) < len(text) else "its output")
        return (("\n  still running" if status is None else f"\n  exited with status {status}")
                + f"\n  {header}:\n"
                + _indent("\n".join(_printable(line, OUTPUT_TAIL_CHARS)
                                    for line in tail.split("\n")) if tail else "(none)"))

    def wait_until(self, what: str, condition, timeout: float = BIOS_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not condition():
            check(self, self.proc.poll() is None,
                  f"exited ({self.proc.returncode}) before {what}")
            check(self, time.monotonic() <= deadline, f"timed out waiting for {what}")
            time.sleep(0.1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        kill_tagged(self.TAG, self.tag)
        self.proc.wait()
        self._reader.join(timeout=5)
        self.proc.stdout.close()
        self.proc.stdin.close()

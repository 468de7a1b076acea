"""End-to-end tests of the boot report: what GRUB handed over, as the kernel
reads, validates and prints it (format: docs/boot-report.md)."""

from __future__ import annotations

import random
import re
import struct
from dataclasses import dataclass, field

import pytest

from harness import BANNER, KERNEL, Boot, build_iso, check, grub_entry_chooser
from test_boot import run_selftest

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
FRAME_SIZE = 4096
KERNEL_LOAD_ADDRESS = 0x100000
# Where everything after the 32-bit boot code is linked: + the load address
# (linker.ld, src/memory/layout.rs).
KERNEL_VIRT_BASE = 0xFFFF_FFFF_8000_0000

RANGE = r"\[0x([0-9a-f]{16})-0x([0-9a-f]{16})\]"
MEM_TYPES = r"usable|reserved|ACPI data|ACPI NVS|unusable|type \d+"

# Every report line, in order: (key, regex, may repeat, must appear).
LINE_FORMS = [
    ("loader", r"^loader: (.*)$", False, True),
    ("cmdline", r"^cmdline: (.*)$", False, True),
    ("mem", rf"^mem: {RANGE} ({MEM_TYPES})$", True, True),
    ("total", r"^mem: total usable (\d+) KiB$", False, True),
    ("kernel", rf"^kernel: {RANGE} at virtual {RANGE}$", False, True),
    ("mbi", rf"^mbi: {RANGE}$", False, True),
    ("module", rf"^module: {RANGE} (.*)$", True, False),
    ("framebuffer", r"^framebuffer: (text|rgb|indexed|type \d+) (\d+)x(\d+)x(\d+) pitch (\d+) at 0x([0-9a-f]+)$", False, False),
    ("acpi", r"^acpi: rsdp v([12]) rsdt 0x([0-9a-f]+)( xsdt 0x([0-9a-f]+))?$", False, False),
    ("frames", r"^frames: (\d+) usable$", False, True),
]

# The lines the screen shows (the summary); the rest are serial only.
SCREEN_KEYS = ("loader", "cmdline", "total", "frames")


@dataclass
class BootReport:
    """The parsed report: one list of regex matches per key."""
    lines: list[str]
    matches: dict[str, list[re.Match]] = field(default_factory=dict)

    def one(self, key: str) -> re.Match | None:
        found = self.matches.get(key, [])
        return found[0] if found else None

    def ranges(self, key: str) -> list[tuple[int, int, str]]:
        """(start, inclusive end, rest) of each line of `key`."""
        return [(int(m.group(1), 16), int(m.group(2), 16), m.group(3) if m.re.groups >= 3 else "")
                for m in self.matches.get(key, [])]

    def usable_kib(self) -> int:
        return int(self.one("total").group(1))

    def frames(self) -> int:
        return int(self.one("frames").group(1))


def read_report(boot: Boot) -> BootReport:
    """Waits for `ready`, then parses the report lines between the banner
    and `ready`: each in the documented form and order, none missing."""
    boot.wait_for_line("ready")
    lines = boot.serial_lines()
    check(boot, BANNER in lines, "no banner on serial")
    start = lines.index(BANNER) + 1
    end = lines.index("ready", start)
    report_lines = lines[start:end]
    report = BootReport(report_lines)
    form = 0
    for line in report_lines:
        if not re.match(r"^(loader|cmdline|mem|kernel|mbi|module|framebuffer|acpi|frames): ", line):
            continue  # e.g. a command-line warning, printed after the report
        while form < len(LINE_FORMS):
            key, pattern, repeats, _ = LINE_FORMS[form]
            match = re.match(pattern, line)
            if match:
                report.matches.setdefault(key, []).append(match)
                if not repeats:
                    form += 1
                break
            form += 1
        else:
            check(boot, False, f"report line out of order or malformed: {line!r}")
    for key, _, _, required in LINE_FORMS:
        check(boot, not required or key in report.matches, f"report has no {key!r} line")
    check(boot, not any("[INFO]" in line for line in report_lines), "report lines carry log tags")
    return report


def check_consistent(boot: Boot, report: BootReport):
    """Cross-checks the report against itself: the total is the sum of the
    usable regions; the frames fit in them; ranges are well-formed."""
    mem = report.ranges("mem")
    for start, end, _ in mem + report.ranges("kernel") + report.ranges("mbi"):
        check(boot, end >= start, f"range end {end:#x} below start {start:#x}")
    usable = sum(end - start + 1 for start, end, typ in mem if typ == "usable")
    check(boot, usable // KIB == report.usable_kib(),
          f"usable regions sum to {usable // KIB} KiB, the total line says "
          f"{report.usable_kib()}")
    check(boot, report.frames() * FRAME_SIZE <= usable,
          f"{report.frames()} frames do not fit in {usable} usable bytes")
    kernel_start, kernel_end, _ = report.ranges("kernel")[0]
    check(boot, kernel_start == KERNEL_LOAD_ADDRESS,
          f"kernel starts at {kernel_start:#x}, loaded at {KERNEL_LOAD_ADDRESS:#x}")
    kernel_line = report.one("kernel")
    virtual_start, virtual_end = int(kernel_line.group(3), 16), int(kernel_line.group(4), 16)
    check(boot,
          KERNEL_VIRT_BASE + kernel_start < virtual_start < virtual_end
          == KERNEL_VIRT_BASE + kernel_end,
          f"the kernel runs at [{virtual_start:#x}-{virtual_end:#x}], not in the top 2 GiB at "
          f"{KERNEL_VIRT_BASE:#x} + its physical [{kernel_start:#x}-{kernel_end:#x}]")
    check(boot, (kernel_end + 1) % FRAME_SIZE == 0,
          f"kernel end {kernel_end:#x} is not page-aligned (linker.ld aligns it)")


def test_boot_report_lists_everything_grub_passed(qemu):
    """Default ISO under BIOS: every report line in form and order, the
    numbers consistent, the EGA text framebuffer and the ACPI RSDP shown, and
    the summary (only) on screen."""
    boot = qemu("report")
    report = read_report(boot)
    check_consistent(boot, report)
    check(boot, report.one("loader").group(1).startswith("GRUB"),
          f"loader is {report.one('loader').group(1)!r}")
    check(boot, report.one("cmdline").group(1) == "",
          "the default entry has an empty command line")
    framebuffer = report.one("framebuffer")
    ega_text = "framebuffer: text 80x25x16 pitch 160 at 0xb8000"
    check(boot, framebuffer is not None and framebuffer.group(0) == ega_text,
          f"expected GRUB's EGA text framebuffer, got {framebuffer and framebuffer.group(0)!r}")
    check(boot, report.one("acpi") is not None, "no acpi line (SeaBIOS has an RSDP)")
    screen = boot.screen()
    for key in SCREEN_KEYS:
        line = report.one(key).group(0)
        check(boot, screen.find(line) is not None,
              f"summary line {line!r} not on screen")
    for detail in ("mem: [", "kernel: [", "mbi: ["):
        check(boot, screen.find(detail) is None,
              f"detail {detail!r} on screen, should be serial only")
    boot.check_running()


def sections_grub_loads_beside_the_image(kernel=KERNEL) -> int:
    """Bytes of frames the kernel ELF's sections without SHF_ALLOC (.symtab,
    .strtab, the debug sections) can take: GRUB loads each into usable RAM
    wherever it finds room, and the frame allocator reserves them. Each is
    counted as its size rounded up to frames, plus one frame for an
    unaligned start."""
    data = kernel.read_bytes()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3a)
    total = 0
    for i in range(shnum):
        _, sh_type, flags, _, _, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
        SHF_ALLOC, SHT_NULL = 2, 0
        if sh_type != SHT_NULL and not flags & SHF_ALLOC and size:
            total += (-(-size // FRAME_SIZE) + 1) * FRAME_SIZE
    return total


@pytest.mark.parametrize("memory, configured", [
    ("64M", 64 * MIB),
    ("512M", 512 * MIB),
    # QEMU puts part of 4 GiB of RAM above 4 GiB: the total and the frames
    # must still count it.
    ("4G", 4 * GIB),
], ids=["64M", "512M", "4G"])
def test_usable_memory(qemu, memory, configured):
    """-m MEMORY: the usable total is 95-100 % of the RAM, and the frames
    cover 95 % of it; usable RAM above 4 GiB exactly when QEMU puts some
    there (it keeps at most 3.5 GiB below)."""
    boot = qemu(f"mem-{memory}", memory=memory)
    report = read_report(boot)
    check_consistent(boot, report)
    usable = report.usable_kib() * KIB
    share = usable / configured
    print(f"  -m {memory}: usable {report.usable_kib()} KiB = {share:.2%}, "
          f"{report.frames()} frames")
    check(boot, 0.95 <= share <= 1.0,
          f"usable {usable} bytes is {share:.2%} of the configured {configured}")
    # All but the kernel, the boot information, page 0, the bitmap and
    # the ELF sections GRUB loaded beside the image is handed out.
    elf_extra = sections_grub_loads_beside_the_image()
    check(boot, report.frames() * FRAME_SIZE >= 0.95 * configured - elf_extra,
          f"only {report.frames()} frames for {configured} bytes of RAM "
          f"(ELF sections beside the image: {elf_extra} bytes)")
    above = [(s, e) for s, e, typ in report.ranges("mem") if typ == "usable" and s >= 4 * GIB]
    if configured > 3 * GIB:
        check(boot, bool(above), f"no usable region above 4 GiB in {report.lines}")
    else:
        check(boot, not above, f"usable regions above 4 GiB with only {memory}: {report.lines}")


# --- command line and modules ------------------------------------------------------

CMDLINE = "kestrel.test=42 hello-world path=/boot/x,y:z"
MODULES = [  # (path in the ISO, size in bytes, module command line)
    ("/boot/mod1", 4099, "first module arg=1"),
    ("/boot/mod2", 12345, "second"),
]


def modules_cfg() -> str:
    """A grub.cfg with the normal and self-test entries, each loading the
    kernel with CMDLINE and both modules."""
    module_lines = "".join(f"    module2 {path} {cmdline}\n" for path, _, cmdline in MODULES)
    entries = ""
    for title, extra in (("modules", ""), ("modules self-test", "selftest ")):
        entries += (f'menuentry "kestrel {title}" {{\n'
                    f"    multiboot2 /boot/kernel.bin {extra}{CMDLINE}\n"
                    f"{module_lines}    boot\n}}\n")
    return "set timeout=0\nset default=0\n" + grub_entry_chooser() + entries


@pytest.fixture
def modules_iso(tmp_path):
    """The ISO of modules_cfg(), with the module files (random bytes, not
    gzip, so GRUB loads them as they are; the same bytes every run)."""
    rng = random.Random(4)
    files = {}
    for path, size, _ in MODULES:
        local = tmp_path / path.rsplit("/", 1)[1]
        local.write_bytes(bytes(rng.randrange(256) for _ in range(size)))
        files[path] = local
    return build_iso("modules", cfg=modules_cfg(), files=files)


def test_command_line_and_modules_shown_exactly(qemu, modules_iso):
    """A custom command line and two module2 files of odd sizes: the
    command line appears exactly, each module with its exact size
    (inclusive end = start + size - 1) and command line, in order, apart
    from each other, the kernel and the boot information."""
    boot = qemu("modules", modules_iso)
    report = read_report(boot)
    check_consistent(boot, report)
    check(boot, report.one("cmdline").group(0) == f"cmdline: {CMDLINE}",
          f"cmdline line is {report.one('cmdline').group(0)!r}, "
          f"expected {'cmdline: ' + CMDLINE!r}")
    modules = report.ranges("module")
    check(boot, len(modules) == len(MODULES),
          f"{len(modules)} module lines, expected {len(MODULES)}")
    taken = report.ranges("kernel") + report.ranges("mbi")
    for (start, end, cmdline), (path, size, expected_cmdline) in zip(modules, MODULES):
        check(boot, end - start + 1 == size,
              f"{path}: [{start:#x}-{end:#x}] is {end - start + 1} bytes, expected {size}")
        check(boot, cmdline == expected_cmdline,
              f"{path}: command line {cmdline!r}, expected {expected_cmdline!r}")
        for other_start, other_end, _ in taken:
            check(boot, start > other_end or other_start > end,
                  f"{path} [{start:#x}-{end:#x}] overlaps [{other_start:#x}-{other_end:#x}]")
        taken.append((start, end, path))
    boot.check_running()


def test_frame_allocator_selftest_with_modules_loaded(qemu, modules_iso):
    """The in-kernel self-test on the modules ISO: the allocated frames must
    also avoid both modules."""
    boot = qemu("modules-selftest", modules_iso, entry=1)
    passed, failed, _ = run_selftest(boot)
    lines = boot.serial_lines()
    for name in ("allocated_frames_are_free_ram", "allocated_frame_holds_data"):
        check(boot, f"test memory::ktests::{name} ... ok" in lines,
              f"memory::ktests::{name} did not pass")
    check(boot, failed == 0, f"{failed} in-kernel tests failed")
    report_modules = [l for l in lines if l.startswith("module: ")]
    check(boot, len(report_modules) == len(MODULES),
          f"expected {len(MODULES)} modules, report shows {report_modules}")


# OVMF keeps part of the RAM for itself (runtime services, ACPI NVS, its own
# reserved pages): about 4.5 % of 128 MiB here, so the UEFI bound is looser.
UEFI_MIN_USABLE_SHARE = 0.90


@pytest.mark.slow
def test_boot_report_under_uefi(qemu):
    """Under UEFI (OVMF) the report is complete and consistent, the boot
    information lies in usable RAM apart from the kernel, and at least 90 %
    of the RAM is usable. Where GRUB puts it depends on what else it loads:
    below 1 MiB while the kernel's ELF sections leave room there, above the
    kernel once they fill the low memory (a 6.5 MB kernel does)."""
    boot = qemu("report-uefi", uefi=True)
    report = read_report(boot)
    check_consistent(boot, report)
    mbi_start = report.ranges("mbi")[0][0]
    types = sorted({typ for _, _, typ in report.ranges("mem")})
    share = report.usable_kib() * KIB / (128 * MIB)
    print(f"  uefi: mbi at {mbi_start:#x}, memory types {types}, usable {share:.2%}")
    mbi_start, mbi_end, _ = report.ranges("mbi")[0]
    kernel_start, kernel_end, _ = report.ranges("kernel")[0]
    check(boot, mbi_start > kernel_end or kernel_start > mbi_end,
          f"boot information at {mbi_start:#x} overlaps the kernel")
    check(boot, any(start <= mbi_start and mbi_end <= end
                    for start, end, typ in report.ranges("mem") if typ == "usable"),
          f"boot information [{mbi_start:#x}-{mbi_end:#x}] is not in one usable region")
    check(boot, UEFI_MIN_USABLE_SHARE <= share <= 1.0, f"usable is {share:.2%} of 128 MiB")
    boot.check_running()

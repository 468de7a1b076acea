"""End-to-end tests of the memory the kernel owns: its page tables read from
outside through QEMU's monitor (`info tlb`), a CPU without NX, and the
self-test on a machine with RAM above 4 GiB."""

import re
import subprocess

import pytest

from harness import KERNEL_ELF, Boot, check

PAGE = 4096
NX_WARNING = "[WARN] this CPU has no NX bit: no-execute protection is off"
PAGING_LINE = re.compile(
    r"^paging: nx (on|off), pat (on|off), 1g pages (on|off), direct map (\d+) KiB at "
    r"0x([0-9a-f]+) in (\d+) x 1 GiB \+ (\d+) x 2 MiB \+ (\d+) x 4 KiB pages$")
MEM_LINE = re.compile(r"^mem: \[0x([0-9a-f]{16})-0x([0-9a-f]{16})\] usable$")
TOTAL_LINE = re.compile(r"^mem: total usable (\d+) KiB$")
HEAP_LINE = re.compile(r"^heap: talc at 0x([0-9a-f]+), (\d+) KiB mapped, limit (\d+) KiB$")
SELFTEST_SUMMARY = r"^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$"


def kernel_symbols() -> dict[str, int]:
    """Every symbol of build/kernel.bin by name (mangled), from `nm`."""
    out = subprocess.run(["nm", str(KERNEL_ELF)], capture_output=True, text=True, check=True).stdout
    symbols = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            symbols[parts[2]] = int(parts[0], 16)
    return symbols


def tlb(boot: Boot) -> dict[int, tuple[int, str]]:
    """QEMU's `info tlb`: every mapped 4 KiB page (large pages as their
    4 KiB parts would be too many: they are keyed by their start) ->
    (physical address, flags such as `XG-DA---W`: X no-execute, W writable)."""
    pages = {}
    for line in boot.qmp().hmp("info tlb").splitlines():
        match = re.match(r"^([0-9a-f]+): ([0-9a-f]+) (\S+)$", line.strip())
        if match:
            pages[int(match.group(1), 16)] = (int(match.group(2), 16), match.group(3))
    return pages


def test_no_page_is_writable_and_executable_seen_from_outside(qemu):
    """W^X from QEMU's monitor on the booted kernel: no page both writable
    and executable; .text mapped, executable, not writable; .rodata neither;
    page 0 and the guard pages below both stacks not mapped; the direct
    map and the heap no-execute."""
    boot = qemu("wx")
    boot.wait_for_line("ready")
    pages = tlb(boot)
    check(boot, len(pages) > 100, f"`info tlb` listed only {len(pages)} pages")
    both = [f"{v:#x} {f}" for v, (_, f) in pages.items() if "W" in f[-1:] and "X" not in f]
    check(boot, not both, f"pages both writable and executable: {both[:10]}")
    symbols = kernel_symbols()
    text = range(symbols["__text_start"], symbols["__text_end"], PAGE)
    for page in text:
        check(boot, page in pages, f".text page {page:#x} is not mapped")
        flags = pages[page][1]
        check(boot, "X" not in flags and not flags.endswith("W"), f".text page {page:#x}: {flags}")
    for page in range(symbols["__rodata_start"], symbols["__rodata_end"], PAGE):
        flags = pages.get(page, (0, "unmapped"))[1]
        check(boot, flags.startswith("X") and not flags.endswith("W"),
              f".rodata page {page:#x}: {flags}")
    check(boot, 0 not in pages, "page 0 is mapped")
    guards = [symbols["stack_guard"]]
    guards += [address for name, address in symbols.items() if "DOUBLE_FAULT_STACK" in name]
    check(boot, len(guards) == 2, f"expected the boot and double-fault stacks, found {guards}")
    for guard in guards:
        check(boot, guard % PAGE == 0 and guard not in pages, f"guard page {guard:#x} is mapped")
    report = [line for line in boot.serial_lines() if line.startswith(("paging:", "heap:"))]
    check(boot, len(report) == 2, f"expected one paging: and one heap: line, got {report}")
    for line in report:
        base = int(line.split(" at 0x")[1].split()[0].rstrip(","), 16)
        check(boot, base in pages and pages[base][1].startswith("X"),
              f"{line!r}: its first page is not mapped no-execute")
    boot.check_running()


LOWER_HALF_END = 0x0000_8000_0000_0000
KERNEL_VIRT_BASE = 0xFFFF_FFFF_8000_0000   # linker.ld, src/memory/layout.rs
DIRECT_MAP_OFFSET = 0xFFFF_8000_0000_0000  # src/memory/layout.rs


def test_nothing_of_the_kernel_is_mapped_in_the_lower_half(qemu):
    """The higher-half kernel from QEMU's monitor at the prompt: no mapping
    below 0x0000800000000000; every page of the image in the top 2 GiB, at
    KERNEL_VIRT_BASE + where it was loaded, .text executable and read-only;
    the direct map at DIRECT_MAP_OFFSET + physical, as before."""
    boot = qemu("lower-half")
    boot.wait_for_line("ready")
    pages = tlb(boot)
    low = sorted(v for v in pages if v < LOWER_HALF_END)
    check(boot, not low, f"mapped in the lower half: {[hex(v) for v in low[:10]]}")
    symbols = kernel_symbols()
    image = range(symbols["__text_start"], symbols["__kernel_end"], PAGE)
    check(boot, image.start >= KERNEL_VIRT_BASE, f".text starts at {image.start:#x}")
    guards = {symbols["stack_guard"]}
    guards |= {a for name, a in symbols.items() if "DOUBLE_FAULT_STACK" in name}
    for page in image:
        if page in guards:
            continue
        check(boot, page in pages, f"image page {page:#x} is not mapped")
        check(boot, pages[page][0] == page - KERNEL_VIRT_BASE,
              f"image page {page:#x} maps {pages[page][0]:#x}, not where it was loaded")
    flags = pages[symbols["__text_start"]][1]
    check(boot, "X" not in flags and not flags.endswith("W"), f".text: {flags}")
    # The direct map: the first usable page above 1 MiB, at its offset.
    check(boot, pages.get(DIRECT_MAP_OFFSET + 0x10_0000, (None,))[0] == 0x10_0000,
          "physical 0x100000 is not in the direct map")
    boot.check_running()


def test_report_lines_for_paging_and_heap(qemu):
    """The boot report's paging: and heap: lines in their documented form,
    consistent with the memory map (the direct map covers the usable RAM)."""
    boot = qemu("paging-report")
    boot.wait_for_line("ready")
    lines = boot.serial_lines()
    paging = [m for m in map(PAGING_LINE.match, lines) if m]
    heap = [m for m in map(HEAP_LINE.match, lines) if m]
    check(boot, len(paging) == 1 and len(heap) == 1, "expected one paging: and one heap: line")
    usable = int(re.search(r"^mem: total usable (\d+) KiB$", "\n".join(lines), re.M).group(1))
    nx, pat, _, mapped_kib = paging[0].group(1, 2, 3, 4)
    check(boot, (nx, pat) == ("on", "on"),
          f"QEMU's default CPU has NX and PAT: {paging[0].group(0)}")
    gib, mib, kib = (int(paging[0].group(i)) for i in (6, 7, 8))
    check(boot, int(mapped_kib) * 1024 == gib * (1 << 30) + mib * (2 << 20) + kib * 4096,
          f"page counts do not add up: {paging[0].group(0)}")
    check(boot, usable - 4 <= int(mapped_kib) <= usable,
          f"direct map {mapped_kib} KiB vs usable {usable}")
    check(boot, mib > 0, "no 2 MiB page in the direct map of 128 MiB")
    mapped, limit = int(heap[0].group(2)), int(heap[0].group(3))
    check(boot, 0 < mapped <= limit <= usable // 2, f"heap figures: {heap[0].group(0)}")


def test_cpu_without_nx_boots_with_one_warning(qemu):
    """A CPU without the NX bit boots to `ready` with exactly one warning
    that no-execute protection is off, and the report says nx off."""
    boot = qemu("no-nx", qemu_args=["-cpu", "qemu64,-nx"])
    boot.wait_for_line("ready")
    lines = boot.serial_lines()
    check(boot, lines.count(NX_WARNING) == 1, f"expected {NX_WARNING!r} once")
    check(boot, any(l.startswith("paging: nx off,") for l in lines), "no `paging: nx off`")
    boot.check_running()


@pytest.mark.parametrize("memory, cpu", [("6G", "qemu64"), ("4G", "max")])
def test_selftest_with_ram_above_4g(qemu, memory, cpu):
    """The in-kernel tests pass with RAM above 4 GiB, where the direct map
    is the only way to reach it, with and without 1 GiB pages (`-cpu max`
    has them, `qemu64` not). QEMU keeps at most 3.5 GiB below 4 GiB and puts
    the rest of `-m` above: 1 GiB of the 4, 3 of the 6 here. The direct map
    covers all usable RAM, so it reaches above 4 GiB, and the console's test
    draws on a framebuffer up there."""
    boot = qemu(f"selftest-{memory}-{cpu}", entry=1, memory=memory, qemu_args=["-cpu", cpu])
    match = boot.wait_for_line(SELFTEST_SUMMARY, regex=True)
    lines = boot.serial_lines()
    failed = [l for l in lines if l.endswith("... FAILED")]
    check(boot, int(match.group(2)) == 0, f"in-kernel tests failed: {failed}")
    drawn = "test console::ktests::a_framebuffer_above_4_gib_is_mapped_and_drawn ... ok"
    check(boot, drawn in lines, f"no {drawn!r}")
    check(boot, not any("drawing part did not run" in l for l in lines),
          "the framebuffer above 4 GiB was not drawn")
    # The usable RAM above 4 GiB, from the report's memory map (KiB).
    usable = int(next(m for m in map(TOTAL_LINE.match, lines) if m).group(1))
    above = sum(int(end, 16) - int(start, 16) + 1
                for start, end in (m.group(1, 2) for m in map(MEM_LINE.match, lines) if m)
                if int(start, 16) >= 4 << 30) // 1024
    configured = int(memory.removesuffix("G")) << 20
    check(boot, above >= configured - (3584 << 10),
          f"only {above} KiB of usable RAM above 4 GiB with -m {memory}")
    paging = next(m for m in map(PAGING_LINE.match, lines) if m)
    mapped = int(paging.group(4))
    check(boot, usable - 4 <= mapped <= usable,
          f"the direct map does not cover the {usable} KiB of usable RAM: {paging.group(0)}")
    check(boot, mapped > usable - above,
          f"the direct map does not reach above 4 GiB: {paging.group(0)}")
    has_1g = {"qemu64": False, "max": True}[cpu]
    check(boot, paging.group(3) == ("on" if has_1g else "off")
          and (int(paging.group(6)) > 0) == has_1g,
          f"-cpu {cpu} {'has' if has_1g else 'lacks'} 1 GiB pages: {paging.group(0)}")
    boot.check_running()

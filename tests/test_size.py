"""The kernel file and the ISO stay lean: what GRUB loads has no debug
information but keeps the symbol table the backtraces read, and is packed
(scripts/pack.py); initialised data stays small; the ISO stays under 5 MiB;
the shipped kernel holds no benchmark code. Checked on the files `make iso`
built (tests/elf_sizes.py reads them); no boot needed except for the
`bench` word."""

import subprocess

from elf_sizes import loaded_size, sections
from harness import DEFAULT_ISO, KERNEL, KERNEL_ELF, build_iso, check

DATA_LIMIT = 4 * 1024
ISO_LIMIT = 5 * 1024 * 1024


def test_kernel_file_has_no_debug_sections_but_keeps_its_symbols():
    """build/kernel.bin (what the ISO and `make install` carry): no .debug_*
    section, .symtab and .strtab present; build/kernel.elf keeps the debug
    information for GDB."""
    shipped = sections(KERNEL)
    debug = [name for name in shipped if name.startswith(".debug")]
    check(None, not debug, f"{KERNEL} carries debug sections: {debug}")
    for name in (".symtab", ".strtab"):
        check(None, name in shipped, f"{KERNEL} has no {name}: backtraces would lose their names")
    check(None, ".debug_info" in sections(KERNEL_ELF), f"{KERNEL_ELF} has no .debug_info for GDB")


def test_kernel_file_is_packed_to_under_60_percent():
    """GRUB reads only the packed file's .boot section and compressed
    chunks: under 60 % of what it would read unpacked (the image's loaded
    bytes and the symbol table)."""
    full = sections(KERNEL_ELF)
    unpacked = loaded_size(KERNEL_ELF) + full[".symtab"].size + full[".strtab"].size
    packed = KERNEL.stat().st_size
    check(None, packed < 0.6 * unpacked,
          f"{KERNEL} is {packed} bytes, not under 60 % of the {unpacked} unpacked")
    check(None, loaded_size(KERNEL) <= packed, f"{KERNEL} has GRUB load more than its size")


def test_initialised_data_is_at_most_4_kib():
    """.data is loaded from the file: zero-initialised state belongs in .bss."""
    data = sections(KERNEL)[".data"].size
    check(None, data <= DATA_LIMIT,
          f".data is {data} bytes, over {DATA_LIMIT}: a static with a non-zero "
          f"initial value? `nm -S --size-sort -C {KERNEL_ELF} | grep ' [dD] '` lists them")


def test_iso_is_at_most_5_mib():
    size = DEFAULT_ISO.stat().st_size
    check(None, size <= ISO_LIMIT, f"{DEFAULT_ISO} is {size} bytes, over 5 MiB ({ISO_LIMIT})")


def test_shipped_kernel_has_no_benchmark_code():
    """The naive writers, the benchmark runners and the second allocator are
    only in the benchmark build."""
    symbols = subprocess.run(["nm", "-C", str(KERNEL_ELF)], capture_output=True, text=True,
                             check=True).stdout
    found = [line for line in symbols.splitlines()
             if any(part in line for part in ("::naive", "::bench::", "heap_bench",
                                              "linked_list_allocator"))]
    check(None, not found, "benchmark code in the shipped kernel:\n" + "\n".join(found[:10]))


def test_bench_word_says_this_build_has_no_benchmarks(qemu):
    """`bench` on the shipped kernel's command line: one warning, then the
    boot goes on."""
    boot = qemu("bench-word", build_iso("bench-word", cmdline="bench"))
    boot.wait_for_line("ready")
    warning = "[WARN] bench: this build has no benchmarks (`make bench` boots the one that has)"
    check(boot, warning in boot.kernel_lines(), f"no {warning!r} line")

"""What the kernel file holds and what GRUB loads of it: sections, the loaded
size (the sum of the PT_LOAD segments' file sizes) and which part of the
kernel or which dependency each loaded byte belongs to.

Reads the ELF headers itself (64-bit little-endian, what the kernel is) and
the symbols through binutils' `nm` (which demangles Rust names). Used by
`make bench` (tests/bench.py) and by tests/test_size.py, which keeps the
limits. No pytest here.
"""

from __future__ import annotations

import re
import struct
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

PT_LOAD = 1
ELF_MAGIC = b"\x7fELF"
ELFCLASS64, ELFDATA2LSB = 2, 1


@dataclass
class Section:
    name: str
    size: int
    allocated: bool  # SHF_ALLOC: in memory at run time
    nobits: bool     # SHT_NOBITS: .bss, no bytes in the file


@dataclass
class Segment:
    type: int
    file_size: int
    memory_size: int


SHF_ALLOC = 0x2
SHT_NOBITS = 8


def _read(path: Path) -> tuple[list[Segment], list[Section]]:
    data = Path(path).read_bytes()
    if data[:4] != ELF_MAGIC or data[4] != ELFCLASS64 or data[5] != ELFDATA2LSB:
        raise ValueError(f"{path} is not a 64-bit little-endian ELF file")
    (phoff, shoff) = struct.unpack_from("<QQ", data, 0x20)
    (phentsize, phnum, shentsize, shnum, shstrndx) = struct.unpack_from("<HHHHH", data, 0x36)
    segments = []
    for i in range(phnum):
        p_type, _flags, _off, _va, _pa, filesz, memsz, _align = struct.unpack_from(
            "<IIQQQQQQ", data, phoff + i * phentsize)
        segments.append(Segment(p_type, filesz, memsz))
    headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
               for i in range(shnum)]
    names_offset = headers[shstrndx][4] if shnum else 0

    def name(offset: int) -> str:
        end = data.index(b"\0", names_offset + offset)
        return data[names_offset + offset:end].decode()

    sections = [Section(name(h[0]), h[5], bool(h[2] & SHF_ALLOC), h[1] == SHT_NOBITS)
                for h in headers[1:]]
    return segments, sections


def sections(path: Path) -> dict[str, Section]:
    """The file's sections by name."""
    return {s.name: s for s in _read(path)[1]}


def loaded_size(path: Path) -> int:
    """Bytes GRUB copies from the file into memory for the kernel image: the
    sum of the PT_LOAD segments' file sizes (.bss is zeroed, not read)."""
    return sum(s.file_size for s in _read(path)[0] if s.type == PT_LOAD)


def memory_size(path: Path) -> int:
    """Bytes the kernel image takes in memory, .bss included."""
    return sum(s.memory_size for s in _read(path)[0] if s.type == PT_LOAD)


# Which part or dependency a symbol belongs to, by the first path its
# demangled name mentions (`<talc::Talc<..> as ..>::f` is talc's). The parts
# the issue asks about first; then the kernel's own modules and the other
# crates by name. Checked in order; the first match wins.
PARTS = [
    ("font (Spleen 8x16 and its parser)", r"^kestrel::console::font\b"),
    ("ACPI", r"^(acpi|aml)::|^kestrel::(arch::x86_64::)?acpi\b"),
    ("keyboard and serial input", r"^(pc_keyboard)::|^kestrel::input\b"),
    ("shell", r"^kestrel::shell\b"),
    ("heap allocator", r"^(talc|linked_list_allocator)::|^kestrel::memory::heap\b"),
    ("backtraces and fault reports", r"^kestrel::debug\b"),
    ("in-kernel self-tests", r"^kestrel::(selftest\b|.*::ktests\b)"),
    ("core, alloc, compiler_builtins",
     r"^(core|alloc|compiler_builtins|__rustc)::|^(mem(cpy|move|set|cmp)|__\w+)$"),
]

UNATTRIBUTED = "unattributed (literals, anonymous constants, alignment)"

# Symbol types nm prints for bytes in the file's loaded sections (code,
# read-only data, initialised data), and for .bss.
LOADED_TYPES = set("tTrRdDvVwW")
BSS_TYPES = set("bB")


# A Rust path of at least two segments (`a::b`), as demangled names show them.
RUST_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_{}#]*)+")
# Symbols of the assembly trampoline (asm/*.asm).
ASSEMBLY = re.compile(r"^(start|long_mode_start|higher_half_start|check_\w+|set_up_page_tables|"
                      r"enable_long_mode_paging|boot_error|gdt64|msg_\w+|serial_\w+|vga_\w+)")


def _first_path(name: str) -> str:
    """The first Rust path a demangled name mentions: `<a::B as c::D>::f`
    -> `a::B`; `<u64 as core::fmt::Display>::fmt` -> `core::fmt::Display`;
    `core::ptr::drop_in_place::<x::Y>` -> `core::ptr::drop_in_place`. Names
    without one: `rust_main` is the kernel's, `anon.*` an anonymous constant,
    methods of primitive types (`<char>::...`) core's."""
    match = RUST_PATH.search(name)
    if match:
        return match.group(0)
    if name == "rust_main":
        return "kestrel::rust_main"
    if name.startswith("anon."):
        return "anon"
    if name.startswith("<"):
        return "core::primitive"
    return name


def part_of(name: str) -> str:
    """The part a demangled symbol name belongs to."""
    path = _first_path(name)
    for part, pattern in PARTS:
        if re.search(pattern, path):
            return part
    if path.startswith("kestrel::"):
        module = path.split("::")[1]
        return f"kestrel::{module}"
    if "::" in path:
        return f"crate {path.split('::')[0]}"
    if path == "anon":
        return UNATTRIBUTED
    if ASSEMBLY.match(path):
        return "assembly trampoline (asm/)"
    return f"other: {path}"


def breakdown(path: Path, font_file: Path | None = None) -> dict[str, int]:
    """Loaded bytes by part: the sizes of the symbols in the loaded sections,
    grouped by `part_of`. The font is a `const` embedded with include_bytes!,
    which has no symbol of its own: its file's size is counted as the font's
    when `font_file` is given. What no symbol covers (string literals and
    other anonymous constants, alignment between sections) is `unattributed`."""
    out = subprocess.run(["nm", "--defined-only", "-S", "-C", str(path)],
                         capture_output=True, text=True, check=True).stdout
    parts: dict[str, int] = defaultdict(int)
    for line in out.splitlines():
        fields = line.split(" ", 3)
        if len(fields) < 4 or fields[2] not in LOADED_TYPES:
            continue
        parts[part_of(fields[3])] += int(fields[1], 16)
    if font_file is not None:
        parts[PARTS[0][0]] += Path(font_file).stat().st_size
    attributed = sum(parts.values())
    parts[UNATTRIBUTED] += max(0, loaded_size(path) - attributed)
    return dict(sorted(parts.items(), key=lambda item: -item[1]))

#!/usr/bin/env python3
"""Packs the kernel: build/kernel.elf in, build/kernel.bin (what GRUB loads)
out.

    scripts/pack.py [--no-symbols] KERNEL_ELF KERNEL_BIN

GRUB's cost of a kernel file grows with its bytes: under QEMU's TCG about
0.2 ms per KiB, whether it reads them or inflates a gzip file
(docs/performance.md). So kernel.bin holds, as GRUB loads it, only the `.boot`
section (the Multiboot2 header and the 32-bit code of asm/boot.asm and
asm/unpack.asm) and, compressed, the rest:

- chunk 1: the kernel's image from __text_start to __data_end (.text,
  .rodata, .data), unpacked where it was linked;
- chunk 2 (without --no-symbols): the symbol table the fault backtraces use,
  .symtab then .strtab, unpacked after __kernel_end. It keeps only what the
  kernel's resolver reads (functions, data objects and assembly labels in
  the kernel's sections), with Rust names demangled here, the way binutils'
  `c++filt -i` writes them (`kestrel::rust_main`, no hashes): 28 % fewer
  bytes than the mangled ones, and no demangler in the kernel.

Each chunk's entry in `unpack_table` (asm/unpack.asm) gives where its
compressed bytes lie and how many, where they unpack to and how many bytes
that makes, and a checksum of the compressed bytes. The unpacker runs before
paging, so these are physical addresses, 32 bits each: everything after
`.boot` is linked at __kernel_virt_base + its load address (linker.ld), and
the packer subtracts that.

Its program headers are (each with its virtual address, and GRUB loads it at
its physical one):

1. the `.boot` section, as it is;
2. from __text_start to the end of the symbol table: no file bytes, so GRUB
   zeroes that memory (.bss included, as before);
3. the compressed chunks, after that, where nothing else lives: GRUB loads
   them there, and `unpack_kernel` decompresses them before the page tables
   exist. The kernel reuses that memory afterwards (no section names it).

Its section headers are the ELF's without the debug sections, in the same
order (so the symbols' section indexes still hold): the packed sections
become NOBITS at their addresses (the file has no bytes for them), and
.symtab and .strtab carry the addresses they unpack to. GRUB passes a
section with an address as it is (it loads only those with none), so the
kernel finds the symbol table through the ELF-sections tag as before.
Tools that read symbols from a file (nm, GDB) want build/kernel.elf.

The format is LZ4's block format (see asm/unpack.asm), compressed greedily
with hash chains. The packer decompresses what it wrote and compares before
writing the file.
"""

from __future__ import annotations

import argparse
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# --- LZ4 blocks ----------------------------------------------------------------

MIN_MATCH = 4          # the shortest match the format can say
MAX_OFFSET = 0xFFFF    # matches reach at most this far back (2-byte offset)
MORE = 15              # a nibble of 15: length bytes follow
CHAIN_TRIES = 48       # earlier places with the same 4 bytes tried per match


def _length_bytes(rest: int) -> bytes:
    """The bytes that add `rest` to a length whose nibble said 15."""
    return b"\xff" * (rest // 255) + bytes([rest % 255])


def compress(data: bytes) -> bytes:
    """`data` as one LZ4 block: greedy, the longest match among the last
    CHAIN_TRIES places that start with the same 4 bytes."""
    out = bytearray()
    size = len(data)
    last_at: dict[bytes, int] = {}   # 4 bytes -> the last place they started
    earlier = [-1] * size            # place -> the previous place with its 4 bytes
    anchor = position = 0

    def remember(place: int) -> None:
        key = data[place:place + MIN_MATCH]
        earlier[place] = last_at.get(key, -1)
        last_at[key] = place

    def sequence(literals: bytes, match_length: int = 0, offset: int = 0) -> None:
        extra = match_length - MIN_MATCH if match_length else 0
        out.append(min(len(literals), MORE) << 4 | min(extra, MORE))
        if len(literals) >= MORE:
            out.extend(_length_bytes(len(literals) - MORE))
        out.extend(literals)
        if match_length:
            out.extend(struct.pack("<H", offset))
            if extra >= MORE:
                out.extend(_length_bytes(extra - MORE))

    while position + MIN_MATCH <= size:
        best_length = best_offset = 0
        candidate, tries = last_at.get(data[position:position + MIN_MATCH], -1), CHAIN_TRIES
        while candidate >= 0 and tries and position - candidate <= MAX_OFFSET:
            length = MIN_MATCH
            while position + length < size and data[candidate + length] == data[position + length]:
                length += 1
            if length > best_length:
                best_length, best_offset = length, position - candidate
            candidate, tries = earlier[candidate], tries - 1
        if best_length:
            sequence(data[anchor:position], best_length, best_offset)
            for place in range(position, min(position + best_length, size - MIN_MATCH + 1)):
                remember(place)
            position += best_length
            anchor = position
        else:
            remember(position)
            position += 1
    sequence(data[anchor:])   # the last sequence: literals only
    return bytes(out)


def checksum(block: bytes) -> int:
    """What asm/unpack.asm checks a chunk's compressed bytes against: over
    each little-endian dword (the last padded with zeros), sum = rol(sum, 1)
    + dword, in 32 bits."""
    total = 0
    for word, in struct.iter_unpack("<I", block + bytes(-len(block) % 4)):
        total = ((total << 1 | total >> 31) + word) & 0xFFFFFFFF
    return total


class Damaged(ValueError):
    """A block that does not decode (what asm/unpack.asm reports too)."""


def decompress(block: bytes, size: int) -> bytes:
    """Decodes an LZ4 block that must unpack to exactly `size` bytes, with
    the checks asm/unpack.asm makes."""
    out = bytearray()
    at = 0

    def next_byte(missing: str) -> int:
        nonlocal at
        if at >= len(block):
            raise Damaged(missing)
        at += 1
        return block[at - 1]

    def more(length: int) -> int:
        while True:
            byte = next_byte("a length runs past the block")
            length += byte
            if byte != 255:
                return length

    while True:
        token = next_byte("the block ends inside a sequence")
        literals = token >> 4
        if literals == MORE:
            literals = more(literals)
        if at + literals > len(block) or len(out) + literals > size:
            raise Damaged("literals run past the block or the destination")
        out += block[at:at + literals]
        at += literals
        if at == len(block):
            break
        if at + 2 > len(block):
            raise Damaged("a match offset runs past the block")
        offset, = struct.unpack_from("<H", block, at)
        at += 2
        length = token & MORE
        if length == MORE:
            length = more(length)
        length += MIN_MATCH
        if offset == 0 or offset > len(out) or len(out) + length > size:
            raise Damaged("a match reaches outside the destination")
        start = len(out) - offset
        for i in range(length):   # byte by byte: an overlapping match repeats
            out.append(out[start + i])
    if len(out) != size:
        raise Damaged(f"unpacks to {len(out)} bytes, not {size}")
    return bytes(out)


# --- ELF64 -------------------------------------------------------------------------

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
SHDR = struct.Struct("<IIQQQQIIQQ")
SYM = struct.Struct("<IBBHQQ")
PT_LOAD = 1
PF_X, PF_W, PF_R = 1, 2, 4
SHT_NULL, SHT_SYMTAB, SHT_STRTAB, SHT_NOBITS = 0, 2, 3, 8
STT_NOTYPE, STT_OBJECT, STT_FUNC = 0, 1, 2
STB_LOCAL = 0
SHF_ALLOC = 0x2
SHN_LORESERVE = 0xFF00
UNPACK_MAGIC = 0x4B434150    # asm/unpack.asm
MAX_CHUNKS = 2
PAGE = 4096
FILE_ALIGN = 16              # within a file, segments start 16-byte aligned


@dataclass
class Section:
    name: str
    type: int
    flags: int
    addr: int
    offset: int
    size: int
    link: int
    info: int
    addralign: int
    entsize: int

    def data(self, elf: bytes) -> bytes:
        return elf[self.offset:self.offset + self.size]


def align_up(value: int, alignment: int) -> int:
    return -(-value // alignment) * alignment


class Elf:
    """The parts of an ELF64 file the packer reads."""

    def __init__(self, data: bytes):
        if data[:4] != b"\x7fELF" or data[4] != 2:
            raise SystemExit("pack: not an ELF64 file")
        self.data = data
        header = EHDR.unpack_from(data)
        self.ident, self.type, self.machine, self.version, self.entry = header[:5]
        phoff, shoff, self.flags = header[5], header[6], header[7]
        phentsize, phnum, shentsize, shnum, shstrndx = header[9:14]
        self.segments = [PHDR.unpack_from(data, phoff + i * phentsize) for i in range(phnum)]
        raw = [SHDR.unpack_from(data, shoff + i * shentsize) for i in range(shnum)]
        names = raw[shstrndx]
        self.sections = []
        for (name, *rest) in raw:
            end = data.index(b"\0", names[4] + name)
            self.sections.append(Section(data[names[4] + name:end].decode(), *rest))

    def section(self, name: str) -> Section:
        return next(s for s in self.sections if s.name == name)

    def symbol(self, name: str) -> int:
        """The value of the symbol `name`."""
        symtab = self.section(".symtab")
        strtab = self.sections[symtab.link]
        for i in range(symtab.size // SYM.size):
            st_name, _, _, _, value, _ = SYM.unpack_from(self.data, symtab.offset + i * SYM.size)
            end = self.data.index(b"\0", strtab.offset + st_name)
            if self.data[strtab.offset + st_name:end] == name.encode():
                return value
        raise SystemExit(f"pack: no symbol {name} in the kernel ELF")

    def image(self, start: int, end: int) -> bytes:
        """Memory from virtual `start` to `end` as the loader makes it: the
        file bytes of the PT_LOAD segments, zeros elsewhere."""
        out = bytearray(end - start)
        for p_type, _, offset, vaddr, _, filesz, _, _ in self.segments:
            if p_type != PT_LOAD:
                continue
            lo, hi = max(start, vaddr), min(end, vaddr + filesz)
            if lo < hi:
                out[lo - start:hi - start] = self.data[offset + lo - vaddr:offset + hi - vaddr]
        return bytes(out)


def demangle(names: list[str]) -> list[str]:
    """`names` with Rust's mangled ones (v0 `_R...`, legacy `_ZN...`)
    demangled by binutils' `c++filt -i`, without hashes; others as they are."""
    mangled = [name for name in names if name.startswith(("_R", "_ZN"))]
    if not mangled:
        return list(names)
    try:
        result = subprocess.run(["c++filt", "-i"], input="\n".join(mangled) + "\n",
                                capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        raise SystemExit(f"pack: c++filt (binutils) failed: {error}")
    plain = result.stdout.splitlines()
    if len(plain) != len(mangled):
        raise SystemExit("pack: c++filt gave a different number of names")
    readable = dict(zip(mangled, plain))
    return [readable.get(name, name) for name in names]


def symbol_tables(elf: Elf, new_index: dict[int, int]) -> tuple[bytes, bytes, int]:
    """The symbol table the kernel gets, its string table and its first
    global entry (`sh_info`): the null entry, then, in the ELF's order,
    each function, data object and label in a kept section (not files,
    sections or absolute values, which the resolver never names), section
    indexes renumbered as kept, Rust names demangled, each name stored once."""
    symtab = elf.section(".symtab")
    strtab = elf.sections[symtab.link]
    entries = []
    for i in range(1, symtab.size // SYM.size):
        name, info, other, shndx, value, size = SYM.unpack_from(elf.data, symtab.offset + i * SYM.size)
        kept = shndx in new_index and 0 < shndx < SHN_LORESERVE
        if not kept or info & 0xF not in (STT_NOTYPE, STT_FUNC, STT_OBJECT):
            continue
        end = elf.data.index(b"\0", strtab.offset + name)
        text = elf.data[strtab.offset + name:end].decode()
        entries.append((text, info, other, new_index[shndx], value, size))
    names = demangle([entry[0] for entry in entries])
    table = bytearray(SYM.size)   # entry 0: the null symbol
    strings = bytearray(b"\0")
    offsets: dict[str, int] = {}
    first_global = 1
    for (_, info, other, shndx, value, size), name in zip(entries, names):
        if name not in offsets:
            offsets[name] = len(strings)
            strings += name.encode() + b"\0"
        table += SYM.pack(offsets[name], info, other, shndx, value, size)
        if info >> 4 == STB_LOCAL:
            first_global = len(table) // SYM.size
    return bytes(table), bytes(strings), first_global


def pack(elf_bytes: bytes, symbols: bool = True) -> bytes:
    """The packed kernel file for the kernel ELF `elf_bytes`."""
    elf = Elf(elf_bytes)
    virt_base = elf.symbol("__kernel_virt_base")

    def phys(address: int) -> int:
        """Where a byte linked at `address` is loaded (linker.ld)."""
        return address - virt_base if address >= virt_base else address

    boot = elf.section(".boot")
    text_start, data_end = elf.symbol("__text_start"), elf.symbol("__data_end")
    kernel_end, table = elf.symbol("__kernel_end"), elf.symbol("unpack_table")
    if not boot.addr <= table < boot.addr + boot.size or phys(text_start) < boot.addr + boot.size:
        raise SystemExit("pack: the unpack table or the kernel image is misplaced (linker.ld)")

    # Sections kept, in their order: the allocated ones, and the symbol
    # table unless left out (the section names are rebuilt, last).
    kept = [s for s in elf.sections
            if s.type == SHT_NULL or s.flags & SHF_ALLOC
            or (symbols and s.name in (".symtab", ".strtab"))]
    new_index = {elf.sections.index(s): i for i, s in enumerate(kept)}
    symtab = elf.section(".symtab") if symbols else None

    # The chunks: (destination, bytes).
    chunks = [(text_start, elf.image(text_start, data_end))]
    unpacked_end = kernel_end
    if symtab:
        entries, strings, first_global = symbol_tables(elf, new_index)
        symtab_addr = align_up(kernel_end, PAGE)
        strtab_addr = align_up(symtab_addr + len(entries), 8)
        chunks.append((symtab_addr, entries + bytes(strtab_addr - symtab_addr - len(entries))
                       + strings))
        unpacked_end = strtab_addr + len(strings)
    blob_addr = align_up(unpacked_end, PAGE)

    blob = bytearray()
    entries_table = bytearray()
    for dest, data in chunks:
        block = compress(data)
        if decompress(block, len(data)) != data:
            raise SystemExit("pack: a chunk does not unpack to what was packed")
        entries_table += struct.pack("<IIIII", phys(blob_addr + len(blob)), len(block),
                                     phys(dest), len(data), checksum(block))
        blob += block
        blob += bytes(align_up(len(blob), 4) - len(blob))
    if phys(blob_addr + len(blob)) > 1 << 32:
        raise SystemExit("pack: the packed kernel must lie below 4 GiB")

    # The .boot bytes, with the table filled in.
    boot_bytes = bytearray(boot.data(elf_bytes))
    at = table - boot.addr
    magic, count = struct.unpack_from("<II", boot_bytes, at)
    if magic != UNPACK_MAGIC or count != 0:
        raise SystemExit("pack: unpack_table is not the one asm/unpack.asm defines")
    boot_bytes[at + 4:at + 8] = struct.pack("<I", len(chunks))
    boot_bytes[at + 8:at + 8 + len(entries_table)] = entries_table

    # The file: ELF header, program headers, .boot, the blob, section names,
    # section headers.
    phnum = 3
    boot_offset = align_up(EHDR.size + phnum * PHDR.size, FILE_ALIGN)
    blob_offset = align_up(boot_offset + len(boot_bytes), FILE_ALIGN)
    names = bytearray(b"\0")
    name_at = {}
    for s in kept + [Section(".shstrtab", 0, 0, 0, 0, 0, 0, 0, 0, 0)]:
        if s.name and s.name not in name_at:
            name_at[s.name] = len(names)
            names += s.name.encode() + b"\0"
    names_offset = blob_offset + len(blob)
    shoff = align_up(names_offset + len(names), 8)

    segments = [
        (PT_LOAD, PF_R | PF_X, boot_offset, boot.addr, len(boot_bytes), len(boot_bytes)),
        (PT_LOAD, PF_R | PF_W | PF_X, 0, text_start, 0, unpacked_end - text_start),
        (PT_LOAD, PF_R, blob_offset, blob_addr, len(blob), len(blob)),
    ]
    headers = bytearray()
    for s in kept:
        if s.type == SHT_NULL:
            headers += SHDR.pack(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            continue
        addr, offset, kind, link = s.addr, 0, s.type, new_index.get(s.link, 0) if s.link else 0
        size, info = s.size, s.info
        if s.name == ".boot":
            offset = boot_offset
        elif s.flags & SHF_ALLOC:
            kind = SHT_NOBITS   # packed (or .bss): no bytes in this file
        elif symtab and s is symtab:
            addr, size, info = symtab_addr, len(entries), first_global
        else:
            addr, size = strtab_addr, len(strings)
        headers += SHDR.pack(name_at[s.name], kind, s.flags, addr, offset, size, link, info,
                             s.addralign, s.entsize)
    headers += SHDR.pack(name_at[".shstrtab"], SHT_STRTAB, 0, 0, names_offset, len(names), 0, 0, 1, 0)
    shnum = len(headers) // SHDR.size

    out = bytearray(EHDR.pack(elf.ident, elf.type, elf.machine, elf.version, elf.entry, EHDR.size,
                              shoff, elf.flags, EHDR.size, PHDR.size, phnum, SHDR.size, shnum,
                              shnum - 1))
    for p_type, flags, offset, addr, filesz, memsz in segments:
        out += PHDR.pack(p_type, flags, offset, addr, phys(addr), filesz, memsz, FILE_ALIGN)
    out += bytes(boot_offset - len(out)) + boot_bytes
    out += bytes(blob_offset - len(out)) + blob
    out += names
    out += bytes(shoff - len(out)) + headers
    return bytes(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-symbols", action="store_true",
                        help="leave the symbol table out (backtraces show addresses only)")
    parser.add_argument("elf", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    packed = pack(args.elf.read_bytes(), symbols=not args.no_symbols)
    args.out.write_bytes(packed)
    return 0


if __name__ == "__main__":
    sys.exit(main())

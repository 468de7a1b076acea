"""The packed kernel file (scripts/pack.py, asm/unpack.asm): the compressor
and its decoder agree on any input and refuse damaged blocks; the shipped
file has the layout GRUB and the unpacker expect; a damaged file says so
and halts; an unpacked file (a table with no chunks) boots too."""

import random
import struct
import subprocess
import sys

import pytest

from harness import KERNEL, KERNEL_ELF, ROOT, build_iso, check

sys.path.insert(0, str(ROOT / "scripts"))
import pack  # noqa: E402

DAMAGED = "boot error: the kernel file is damaged: its packed part does not unpack"


def samples() -> dict[str, bytes]:
    rng = random.Random(0x7061636B)
    text = b"the quick brown fox jumps over the lazy dog " * 40
    return {
        "empty": b"",
        "one byte": b"x",
        "four bytes": b"abcd",
        "short literals": b"hello, kernel",
        "zeros": bytes(70_000),                       # one long match, offset 1
        "text": text,                                 # repeats at distance 44
        "random": bytes(rng.getrandbits(8) for _ in range(5000)),   # literals only
        "mixed": b"".join(rng.choice([text[:rng.randrange(1, 300)], bytes(rng.randrange(600)),
                                      rng.randbytes(rng.randrange(1, 40))])
                          for _ in range(200)),
        "far repeat": rng.randbytes(70_000)[:66_000] + rng.randbytes(10) * 3,
    }


# The samples that repeat themselves, and the bytes their blocks stay under
# (70,000 zeros, 1,760 bytes of text, 30,016 mixed: a quarter of it).
SHRINKS_TO = {"zeros": 400, "text": 100, "mixed": 7_500}


def worst_case_block(size: int) -> int:
    """LZ4's bound on a block of `size` bytes that holds no match at all
    (literals and their length bytes): size + size / 255 + 16."""
    return size + size // 255 + 16


@pytest.mark.parametrize("name", list(samples()))
def test_blocks_round_trip(name):
    """Every sample round-trips, and no block grows past LZ4's worst case;
    the samples that repeat themselves shrink well under their size."""
    data = samples()[name]
    block = pack.compress(data)
    check(None, pack.decompress(block, len(data)) == data, f"{name}: does not round-trip")
    check(None, len(block) <= worst_case_block(len(data)),
          f"{name}: {len(data)} bytes took {len(block)}, over LZ4's worst case "
          f"{worst_case_block(len(data))}")
    if name in SHRINKS_TO:  # the others are random or too short to repeat
        check(None, len(block) < SHRINKS_TO[name],
              f"{name}: {len(data)} bytes took {len(block)}, not under {SHRINKS_TO[name]}")


def test_the_kernel_image_round_trips_and_shrinks():
    elf = pack.Elf(KERNEL_ELF.read_bytes())
    image = elf.image(elf.symbol("__text_start"), elf.symbol("__data_end"))
    block = pack.compress(image)
    check(None, pack.decompress(block, len(image)) == image, "the kernel image does not round-trip")
    check(None, len(block) < 0.6 * len(image), f"{len(image)} bytes packed to only {len(block)}")


def test_damaged_blocks_are_refused():
    data = samples()["mixed"]
    block = pack.compress(data)
    cases = {
        "truncated": (block[:-3], len(data)),
        "one byte short of the size": (block, len(data) - 1),
        "one byte more than the size": (block, len(data) + 1),
        "an offset before the start": (bytes([0x10]) + b"a" + b"\x05\x00" + bytes([0x00]), 100),
        "offset zero": (bytes([0x10]) + b"a" + b"\x00\x00" + bytes([0x00]), 100),
        "a length past the end": (bytes([0xF0]) + b"\xff\xff", 1000),
    }
    for what, (bad, size) in cases.items():
        with pytest.raises(pack.Damaged):
            pack.decompress(bad, size)
            raise AssertionError(f"{what}: accepted")


def layout(data: bytes):
    """The packed file as an ELF, and its PT_LOAD segments (offset,
    physical address, file size, memory size, virtual address)."""
    elf = pack.Elf(data)
    loads = [(off, paddr, filesz, memsz, vaddr)
             for p_type, _, off, vaddr, paddr, filesz, memsz, _ in elf.segments
             if p_type == pack.PT_LOAD]
    return elf, loads


def loaded_at(full: pack.Elf, address: int) -> int:
    """Where a byte linked at `address` is loaded: everything after .boot
    is linked __kernel_virt_base higher (linker.ld)."""
    base = full.symbol("__kernel_virt_base")
    return address - base if address >= base else address


TABLE_HEADER = struct.Struct("<II")       # unpack_table: magic, chunk count
CHUNK_ENTRY = struct.Struct("<IIIII")     # source, its size, destination, its size, checksum


def unpack_table(data: bytes, loads) -> tuple[int, list[tuple[bytes, int, int, int]]]:
    """The magic of `unpack_table` in the packed file `data` (segments
    `loads`, from `layout`), and per chunk: its compressed bytes, where they
    unpack to, how many bytes that makes, and their checksum."""
    boot, _, chunks = loads
    table = pack.Elf(KERNEL_ELF.read_bytes()).symbol("unpack_table") - boot[1] + boot[0]
    magic, count = TABLE_HEADER.unpack_from(data, table)
    entries = []
    for i in range(count):
        src, src_len, dest, dest_len, total = CHUNK_ENTRY.unpack_from(
            data, table + TABLE_HEADER.size + CHUNK_ENTRY.size * i)
        at = src - chunks[1] + chunks[0]
        entries.append((data[at:at + src_len], dest, dest_len, total))
    return magic, entries


def test_shipped_file_layout():
    """Three PT_LOADs: .boot as linked, the kernel's places with no file
    bytes, the chunks; the table lists two chunks whose checksums hold; the
    symbol table's section headers point after the kernel image."""
    full = pack.Elf(KERNEL_ELF.read_bytes())
    data = KERNEL.read_bytes()
    elf, loads = layout(data)
    check(None, len(loads) == 3, f"segments: {loads}")
    boot_part, places, chunks = loads
    check(None, boot_part[1] == boot_part[4] == full.section(".boot").addr
          and boot_part[2] == boot_part[3], f".boot: {boot_part}")
    text = full.symbol("__text_start")
    check(None, places[4] == text and places[1] == loaded_at(full, text) < text and places[2] == 0,
          f"image: {places}")
    check(None, chunks[1] >= places[1] + places[3] and chunks[4] - chunks[1] == text - places[1],
          f"chunks inside the image: {chunks}")
    magic, entries = unpack_table(data, loads)
    count = len(entries)
    check(None, magic == pack.UNPACK_MAGIC and count == 2, f"table: {magic:#x}, {count} chunks")
    for i, (block, _, dest_len, total) in enumerate(entries):
        check(None, pack.checksum(block) == total, f"chunk {i}: checksum")
        check(None, len(pack.decompress(block, dest_len)) == dest_len, f"chunk {i}: size")
    symtab = elf.section(".symtab")
    check(None, symtab.addr >= full.symbol("__kernel_end"), f".symtab at {symtab.addr:#x}")
    for i, (_, dest, dest_len, _) in enumerate(entries):
        check(None, dest + dest_len <= 1 << 32, f"chunk {i}: {dest:#x} is not a physical address")


def symbols_of(symtab: bytes, strtab: bytes) -> list[tuple[str, int, int, int]]:
    """(name, type, address, size) of each entry of a symbol table after
    the null one."""
    out = []
    for i in range(pack.SYM.size, len(symtab), pack.SYM.size):
        name, info, _, _, value, size = pack.SYM.unpack_from(symtab, i)
        out.append((strtab[name:strtab.index(b"\0", name)].decode(), info & 0xF, value, size))
    return out


def test_packed_symbol_table_has_every_function_and_object_demangled():
    """The table kernel.bin unpacks holds every sized function and data
    object of kernel.elf at the same address and size, named as
    `c++filt -i` names it, and nothing the resolver never names (files,
    sections, absolute values, mangled names)."""
    full = pack.Elf(KERNEL_ELF.read_bytes())
    symtab = full.section(".symtab")
    strtab = full.sections[symtab.link]
    linked = symbols_of(symtab.data(full.data), strtab.data(full.data))
    data = KERNEL.read_bytes()
    elf, loads = layout(data)
    _, entries = unpack_table(data, loads)
    block, dest, dest_len, _ = entries[1]
    unpacked = pack.decompress(block, dest_len)
    packed_symtab, packed_strtab = elf.section(".symtab"), elf.section(".strtab")
    # The section headers hold link addresses; the table, where they load.
    symtab_at = loaded_at(full, packed_symtab.addr) - dest
    strtab_at = loaded_at(full, packed_strtab.addr) - dest
    packed = symbols_of(unpacked[symtab_at:][:packed_symtab.size],
                        unpacked[strtab_at:][:packed_strtab.size])
    kinds = {pack.STT_NOTYPE, pack.STT_OBJECT, pack.STT_FUNC}
    check(None, all(kind in kinds for _, kind, _, _ in packed), "only functions, objects, labels")
    check(None, not any(name.startswith(("_R", "_ZN")) for name, _, _, _ in packed),
          "a mangled name")
    sized = [(name, kind, value, size) for name, kind, value, size in linked
             if kind in (pack.STT_FUNC, pack.STT_OBJECT) and size]
    names = pack.demangle([name for name, _, _, _ in sized])
    want = sorted((name, kind, value, size) for name, (_, kind, value, size) in zip(names, sized))
    have = sorted(entry for entry in packed if entry[1] != pack.STT_NOTYPE and entry[3])
    check(None, want == have, f"{len(want)} sized symbols in kernel.elf, {len(have)} in kernel.bin")
    check(None, ("kestrel::debug::crash::write_code", pack.STT_FUNC) in
          {(name, kind) for name, kind, _, _ in packed}, "kestrel::debug::crash::write_code")


def damaged_copy(tmp_path, flip_at_fraction: float):
    """build/kernel.bin with one byte of its compressed chunks flipped."""
    data = bytearray(KERNEL.read_bytes())
    _, loads = layout(bytes(data))
    offset, _, size, _, _ = loads[2]
    data[offset + int(size * flip_at_fraction)] ^= 0x5A
    path = tmp_path / "kernel-damaged.bin"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("fraction", [0.1, 0.9], ids=["image", "symbols"])
def test_damaged_file_says_so_and_halts(qemu, tmp_path, fraction):
    """One byte flipped in the compressed chunks: the boot error on serial
    and on the first row of the screen, then a halt (no reset, no Rust)."""
    iso = build_iso(f"damaged-{fraction}", kernel=damaged_copy(tmp_path, fraction))
    boot = qemu(f"damaged-{fraction}", iso)
    boot.wait_for_line(DAMAGED)
    check(boot, boot.screen().lines()[0].rstrip() == DAMAGED,
          "row 0 of the screen is not the boot error")
    boot.check_running(settle=1.0)
    check(boot, "ready" not in boot.serial_lines(), "the kernel went on")


def test_an_unpacked_file_boots_too(qemu, tmp_path):
    """kernel.elf without debug sections, not packed (its table lists no
    chunks): the unpack step does nothing, and the kernel boots."""
    plain = tmp_path / "kernel-plain.bin"
    subprocess.run(["objcopy", "--strip-debug", str(KERNEL_ELF), str(plain)], check=True)
    boot = qemu("unpacked", build_iso("unpacked", kernel=plain))
    boot.wait_for_line("ready")

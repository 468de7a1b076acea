"""The framebuffer console seen from outside: what QEMU displays (its
`screendump`, as a PPM image), the kernel's font read from the same file the
kernel embeds (fonts/spleen-8x16.psfu), and the cells a person sees, drawn
on the host and compared with the screen pixel for pixel.

    mode = Mode.from_serial(boot.serial_lines())      # framebuffer: / console:
    image = boot.screendump()
    expected = render_screen(mode, rows, cursor=(r, c))  # rows of (text, colour)
    problem = compare(image, expected, mode)

The kernel's rules, restated here independently of its code: cell (row,
column) is the glyph-sized block at (column * 8 * scale, row * 16 * scale);
a set glyph bit is the foreground colour, a clear one the background (both
from the 16-colour VGA palette); the cursor is the last two glyph rows of
its cell in the foreground colour; pixels right of and below the grid are
black. No pytest here: `make screenshot` uses it too.
"""

from __future__ import annotations

import re
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from harness import check
from screen_model import PANIC_COLOUR, cut_backtrace, screen_rows

ROOT = Path(__file__).resolve().parent.parent
FONT_FILE = ROOT / "fonts" / "spleen-8x16.psfu"

# The classic VGA palette, by attribute value.
PALETTE = [
    (0x00, 0x00, 0x00), (0x00, 0x00, 0xAA), (0x00, 0xAA, 0x00), (0x00, 0xAA, 0xAA),
    (0xAA, 0x00, 0x00), (0xAA, 0x00, 0xAA), (0xAA, 0x55, 0x00), (0xAA, 0xAA, 0xAA),
    (0x55, 0x55, 0x55), (0x55, 0x55, 0xFF), (0x55, 0xFF, 0x55), (0x55, 0xFF, 0xFF),
    (0xFF, 0x55, 0x55), (0xFF, 0x55, 0xFF), (0xFF, 0xFF, 0x55), (0xFF, 0xFF, 0xFF),
]
GLYPH_WIDTH = 8
CURSOR_ROWS = 2
SQUARE = "\u25a0"  # ■: what every unprintable byte and non-ASCII char shows as


class Font:
    """A PSF1 font: glyph rows (one int per row, bit 7 the leftmost pixel)
    per character, through its Unicode table."""

    def __init__(self, path: Path = FONT_FILE):
        data = path.read_bytes()
        if data[:2] != b"\x36\x04":
            raise ValueError(f"{path} is not a PSF1 font")
        mode, self.height = data[2], data[3]
        count = 512 if mode & 1 else 256
        glyphs = data[4:4 + count * self.height]
        self.glyphs = [tuple(glyphs[i * self.height:(i + 1) * self.height]) for i in range(count)]
        self.index: dict[str, int] = {}
        table, glyph, at, in_sequence = data[4 + count * self.height:], 0, 0, False
        while glyph < count and at + 1 < len(table):
            (code,) = struct.unpack_from("<H", table, at)
            at += 2
            if code == 0xFFFF:
                glyph, in_sequence = glyph + 1, False
            elif code == 0xFFFE:
                in_sequence = True
            elif not in_sequence:
                self.index.setdefault(chr(code), glyph)

    def rows(self, char: str) -> tuple[int, ...]:
        """The glyph of `char` as the kernel shows it: printable ASCII as
        itself, anything else as ■."""
        if not (len(char) == 1 and 0x20 <= ord(char) <= 0x7E):
            char = SQUARE
        return self.glyphs[self.index[char]]


@dataclass
class Image:
    """An RGB image: `pixels` holds 3 bytes per pixel, row by row."""
    width: int
    height: int
    pixels: bytes

    @classmethod
    def from_ppm(cls, path: Path) -> "Image":
        """Reads a binary PPM (P6, maxval 255), as QEMU's screendump writes."""
        data = path.read_bytes()
        fields, at = [], 0
        while len(fields) < 4:
            while data[at:at + 1].isspace():
                at += 1
            if data[at:at + 1] == b"#":
                at = data.index(b"\n", at)
                continue
            end = at
            while not data[end:end + 1].isspace():
                end += 1
            fields.append(data[at:end])
            at = end
        magic, width, height, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
        if magic != b"P6" or maxval != 255:
            raise ValueError(f"{path}: not a binary 8-bit PPM")
        pixels = data[at + 1:at + 1 + width * height * 3]
        return cls(width, height, pixels)

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        at = (y * self.width + x) * 3
        return tuple(self.pixels[at:at + 3])


@dataclass
class Mode:
    """The framebuffer and the console's grid, as the boot report says."""
    width: int
    height: int
    bpp: int
    pitch: int
    address: int
    columns: int
    rows: int
    scale: int

    FRAMEBUFFER = re.compile(r"^framebuffer: rgb (\d+)x(\d+)x(\d+) pitch (\d+) at (0x[0-9a-f]+)$")
    CONSOLE = re.compile(r"^console: framebuffer (\d+)x(\d+)x(\d+) pitch (\d+) at (0x[0-9a-f]+), "
                         r"(\d+)x(\d+) cells(?:, font scaled (\d+)x)?$")

    @classmethod
    def from_serial(cls, lines: list[str]) -> "Mode":
        """The mode from the `console:` line (printed right after the
        banner), checked against the boot report's `framebuffer:` line when
        the boot got that far (raises ValueError when the console line is
        missing or they disagree)."""
        fb = next((m for m in map(cls.FRAMEBUFFER.match, lines) if m), None)
        console = next((m for m in map(cls.CONSOLE.match, lines) if m), None)
        if console is None:
            raise ValueError("no `console: framebuffer ...` line")
        if fb is not None and fb.groups() != console.groups()[:5]:
            raise ValueError(f"{fb.group(0)!r} and {console.group(0)!r} disagree")
        width, height, bpp, pitch = map(int, console.groups()[:4])
        columns, rows = int(console.group(6)), int(console.group(7))
        return cls(width, height, bpp, pitch, int(console.group(5), 16), columns, rows,
                   int(console.group(8) or 1))

    def expected_console_line(self, font: Font) -> str:
        """The `console:` line the kernel must print for this framebuffer,
        from the rule: the smallest scale that leaves at most 240x90 cells."""
        scale = 1
        while (self.width // (GLYPH_WIDTH * scale) > 240
               or self.height // (font.height * scale) > 90):
            scale += 1
        line = (f"console: framebuffer {self.width}x{self.height}x{self.bpp} pitch {self.pitch} "
                f"at {self.address:#x}, {self.width // (GLYPH_WIDTH * scale)}x"
                f"{self.height // (font.height * scale)} cells")
        return line + (f", font scaled {scale}x" if scale > 1 else "")


def render_screen(mode: Mode, rows: list[tuple[str, int]], cursor: tuple[int, int] | None,
                  font: Font | None = None, bands: set[int] = frozenset()) -> Image:
    """The image the screen must show: `rows` (text, attribute byte) from
    the top, each text in its attribute and the rest of the row blank in the
    default colours (light grey on black), or in the row's own colours for
    the rows in `bands` (the panic screen's full-width bands); the cursor on
    cell `cursor`; black margins."""
    font = font or Font()
    cell_w, cell_h = GLYPH_WIDTH * mode.scale, font.height * mode.scale
    black = bytes(PALETTE[0])
    pixels = bytearray(black * (mode.width * mode.height))
    for r in range(mode.rows):
        text, attribute = rows[r] if r < len(rows) else ("", 0x07)
        for c in range(mode.columns):
            char = text[c] if c < len(text) else " "
            cell_attribute = attribute if c < len(text) or r in bands else 0x07
            fg, bg = bytes(PALETTE[cell_attribute & 0xF]), bytes(PALETTE[cell_attribute >> 4 & 7])
            glyph = list(font.rows(char))
            if cursor == (r, c):
                for i in range(font.height - CURSOR_ROWS, font.height):
                    glyph[i] = 0xFF
            for gy, bits in enumerate(glyph):
                line = b"".join((fg if bits & (0x80 >> bit) else bg) * mode.scale
                                for bit in range(GLYPH_WIDTH))
                for repeat in range(mode.scale):
                    y = r * cell_h + gy * mode.scale + repeat
                    at = (y * mode.width + c * cell_w) * 3
                    pixels[at:at + len(line)] = line
    return Image(mode.width, mode.height, bytes(pixels))


def compare(actual: Image, expected: Image, mode: Mode, font: Font | None = None) -> str | None:
    """None if the images are equal pixel for pixel; else which pixel (and
    cell) differs first, and the text both show."""
    if (actual.width, actual.height) != (expected.width, expected.height):
        return (f"the screen is {actual.width}x{actual.height} pixels, "
                f"expected {expected.width}x{expected.height}")
    if actual.pixels == expected.pixels:
        return None
    font = font or Font()
    at = next(i for i in range(len(actual.pixels)) if actual.pixels[i] != expected.pixels[i])
    x, y = at // 3 % actual.width, at // 3 // actual.width
    cell_w, cell_h = GLYPH_WIDTH * mode.scale, font.height * mode.scale
    return (f"pixel ({x}, {y}) in cell ({y // cell_h}, {x // cell_w}) is "
            f"{actual.pixel(x, y)}, expected {expected.pixel(x, y)}\n"
            f"  screen shows:\n{indent(read_text(actual, mode, font))}\n"
            f"  expected:\n{indent(read_text(expected, mode, font))}")


def indent(lines: list[str]) -> str:
    return "\n".join(f"    |{line}" for line in lines)


def read_text(image: Image, mode: Mode, font: Font | None = None) -> list[str]:
    """The text a person reads on the screen (trailing blanks dropped):
    each cell matched against the font's glyphs in the cell's two colours;
    `?` where no glyph matches. For failure messages and for finding lines."""
    font = font or Font()
    by_bitmap: dict[tuple[int, ...], str] = {}
    for char in [chr(c) for c in range(0x20, 0x7F)] + [SQUARE]:
        by_bitmap.setdefault(font.rows(char), char)
    cell_w, cell_h = GLYPH_WIDTH * mode.scale, font.height * mode.scale
    lines = []
    for r in range(mode.rows):
        line = ""
        for c in range(mode.columns):
            glyph = []
            for gy in range(font.height):
                y = r * cell_h + gy * mode.scale
                glyph.append([image.pixel(c * cell_w + bit * mode.scale, y)
                              for bit in range(GLYPH_WIDTH)])
            line += _match(glyph, by_bitmap, font)
        lines.append(line.rstrip())
    return lines


def _match(glyph: list[list[tuple]], by_bitmap: dict, font: Font) -> str:
    """The character a cell's pixels show, whichever of its colours is the
    foreground; a cursor underline is ignored."""
    colours = {p for row in glyph for p in row}
    if len(colours) == 1:
        return " "
    if len(colours) > 2:
        return "?"
    for fg in colours:
        bits = tuple(sum(0x80 >> i for i, p in enumerate(row) if p == fg) for row in glyph)
        if bits in by_bitmap:
            return by_bitmap[bits]
        if all(b == 0xFF for b in bits[-CURSOR_ROWS:]):
            head = bits[:-CURSOR_ROWS]
            for known, char in by_bitmap.items():
                if known[:-CURSOR_ROWS] == head:
                    return char
    return "?"


def check_shows_serial(boot, *, bands_from: str | None = None) -> Mode:
    """Fails `boot` (a harness.Boot, QEMU still running) unless the kernel
    reported a framebuffer console (the `console:` line, as the layout rule
    says for the framebuffer it names, and agreeing with the report's
    `framebuffer:` line) and the screen shows, pixel for pixel,
    the last rows of what the kernel printed on serial (what serial only
    gets left out), each in its log colour, the cursor on the empty row after
    the last line, or after the shell's prompt (wait for it first). With `bands_from`, the lines from the first one starting
    with it on are the panic screen's white-on-red bands. Returns the mode."""
    lines = boot.kernel_lines()
    try:
        mode = Mode.from_serial(lines)
    except ValueError as error:
        check(boot, False, str(error))
    font = Font()
    expected_line = mode.expected_console_line(font)
    check(boot, expected_line in lines, f"no {expected_line!r} line for this framebuffer")
    if bands_from is not None:
        lines = cut_backtrace(lines, mode.columns)
    rows, bands = [], set()
    for i, line in enumerate(lines):
        banded = (bands_from is not None and i < len(lines) - 1
                  and any(l.startswith(bands_from) for l in lines[:i + 1]))
        new = screen_rows([line], mode.columns)
        if banded:
            bands.update(range(len(rows), len(rows) + len(new)))
            new = [(text, PANIC_COLOUR) for text, _ in new]
        rows += new
    # Serial's last line is the cursor row: empty after a line break, or
    # the shell's prompt, the cursor after it.
    first = max(0, len(rows) - mode.rows)
    shown = rows[first:]
    bands = {row - first for row in bands if row >= first}
    cursor = (len(shown) - 1, len(lines[-1]) % mode.columns if lines else 0)
    expected = render_screen(mode, shown, cursor, font, bands)
    # The panic screen reaches serial before the screen: look again until
    # it is drawn (or the bound passes; this is no timing).
    deadline = time.monotonic() + 20
    while True:
        problem = compare(boot.screendump(), expected, mode, font)
        if problem is None:
            return mode
        check(boot, time.monotonic() <= deadline,
              f"the framebuffer does not show the last {mode.rows} rows of serial: {problem}")
        time.sleep(0.2)

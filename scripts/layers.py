#!/usr/bin/env python3
"""Checks that the kernel's modules depend on each other in one direction.

    scripts/layers.py [--src DIR] [--graph]

The top-level modules of src/ ("rooms": `src/NAME.rs` or `src/NAME/`) are
ordered in layers, stated once in the module doc of src/lib.rs:

    //! ```layers
    //! text bytes test_rng      leaves anyone may use
    //! arch                     the CPU
    //! ...
    //! shell
    //! ```

one layer a line, the bottom layer first; a line is one or more room names,
then optionally two or more spaces and a description. A room may use the
rooms of earlier lines only: not its peers on its own line, not later lines,
and not the crate root (`crate`, src/lib.rs, which is above everything).

A use is a path in code (comments and string literals do not count):

- `crate::NAME...`, in `use` lines (groups `use crate::{a, b::{c, d}}`
  included) or inline (`crate::interrupts::dispatch(v)`); NAME is a room, or
  a macro (`crate::check!`: the room of the file defining `macro_rules!
  check`), or an item of lib.rs itself (room `crate`); `$crate::` inside
  macros is not a use;
- `super::...` and `self::...`, resolved from the module they are written in
  (`src/a/b.rs` is `a::b`, `src/a/mod.rs` is `a`, and inline `mod x { }`
  blocks add a level).

Test code is exempt: files named tests.rs, ktests.rs or test_support.rs,
inline `mod tests { }` / `mod ktests { }`, items under `#[cfg(test)]`, and
paths that name such a module (the self-test suites' entries, e.g.
`memory::ktests::TESTS`). The console's print macros need no path, so they
are no uses. ALLOWED below names the room pairs let through anyway, each
with its reason.

Checks:

1. direction: every use from room A to another room B needs B on an earlier
   line than A: `src/f.rs:LINE: A (layer i) uses B (layer j): crate::b::x`;
   every room in src/ must be in the block, and every name in the block must
   be a room;
2. no file circles: between files, a use points at the file of the module it
   names (the deepest module along the path that has a file of its own,
   following named `pub use` re-exports); uses between a module file and its
   own ancestors or descendants are left out. Each circle is printed as
   `circle: src/x.rs -> src/y.rs -> src/x.rs`, with the uses that make it.

Exit status 0 when clean, 1 when anything is reported, 2 when it cannot
check (no src/lib.rs, no layers block). `--graph` also prints the rooms'
dependencies, layer by layer.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

# Room pairs (user, used) allowed to point upward, each with its reason.
# Keep it empty or nearly so: an entry here is a known exception to the
# layering, named and explained in one place.
ALLOWED: dict[tuple[str, str], str] = {
    # ("memory", "console"): "why memory may print through the console ...",
}

ROOT = "crate"                       # the crate root's room (src/lib.rs)
TEST_FILES = {"tests.rs", "ktests.rs", "test_support.rs"}
TEST_MODULES = {"tests", "ktests", "test_support"}
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


# --- Lexing -----------------------------------------------------------------

@dataclass
class Tok:
    text: str
    line: int
    ident: bool


def lex(src: str) -> list[Tok]:
    """Rust source to tokens: identifiers, `::`, single punctuation
    characters; no comments, no string, char or number literals."""
    toks: list[Tok] = []
    i, n, line = 0, len(src), 1
    ident_start = re.compile(r"[A-Za-z_]")
    ident_rest = re.compile(r"[A-Za-z0-9_]*")

    def skip_string(j: int) -> int:
        """j is just past the opening quote of a "..." literal."""
        nonlocal line
        while j < n:
            c = src[j]
            if c == "\\":
                if j + 1 < n and src[j + 1] == "\n":
                    line += 1
                j += 2
                continue
            if c == "\n":
                line += 1
            if c == '"':
                return j + 1
            j += 1
        return n

    def skip_raw(j: int) -> int | None:
        """j is at the `r` of r"..."/r#"..."#; None if it is not one."""
        nonlocal line
        k = j + 1
        hashes = 0
        while k < n and src[k] == "#":
            hashes += 1
            k += 1
        if k >= n or src[k] != '"':
            return None
        end = '"' + "#" * hashes
        stop = src.find(end, k + 1)
        stop = n if stop < 0 else stop + len(end)
        line += src.count("\n", k, stop)
        return stop

    while i < n:
        c = src[i]
        if c == "\n":
            line += 1
            i += 1
        elif c in " \t\r":
            i += 1
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    if src[j] == "\n":
                        line += 1
                    j += 1
            i = j
        elif c == '"':
            i = skip_string(i + 1)
        elif c in "bcr" and _literal_prefix(src, i):
            # b"..", c"..", r"..", br"..", cr"..", b'x'
            j = i + 1 if c in "bc" else i
            if c in "bc" and j < n and src[j] == "'":
                i = _skip_char(src, j)
            elif j < n and src[j] == '"':
                i = skip_string(j + 1)
            else:
                end = skip_raw(j)
                i = end if end is not None else i + 1
        elif c == "'":
            # A char literal ('a', '\n', '\u{..}', '\'') or a lifetime ('a).
            if i + 1 < n and src[i + 1] == "\\":
                i = _skip_char(src, i)
            elif i + 2 < n and src[i + 2] == "'":
                i += 3
            else:
                i += 1           # a lifetime or a label: its name follows
        elif ident_start.match(c):
            m = ident_rest.match(src, i + 1)
            word = src[i:m.end()]
            if word == "r" and m.end() < n and src[m.end()] == "#" \
                    and ident_start.match(src, m.end() + 1):
                m = ident_rest.match(src, m.end() + 2)
                word = src[i + 2:m.end()]
            toks.append(Tok(word, line, True))
            i = m.end()
        elif c.isdigit():
            j = i + 1
            while j < n and (src[j].isalnum() or src[j] == "_"):
                j += 1
            i = j
        elif src.startswith("::", i):
            toks.append(Tok("::", line, False))
            i += 2
        elif c.isspace():
            i += 1
        else:
            toks.append(Tok(c, line, False))
            i += 1
    return toks


def _literal_prefix(src: str, i: int) -> bool:
    """Whether src[i:] starts a prefixed literal (b"", b'', c"", r"", r#"",
    br"", cr#"") rather than an identifier that starts with b, c or r."""
    if i > 0 and (src[i - 1].isalnum() or src[i - 1] == "_"):
        return False
    m = re.compile(r'(b|c)?(r#*")|(b|c)"|b\'').match(src, i)
    return m is not None


def _skip_char(src: str, i: int) -> int:
    """i is at the opening quote of a char literal; returns past its end."""
    j = i + 1
    if j < len(src) and src[j] == "\\":
        j += 2
    else:
        j += 1
    while j < len(src) and src[j] != "'" and src[j] != "\n":
        j += 1
    return j + 1


# --- Finding the paths in one file -------------------------------------------

@dataclass
class Use:
    """One path: `segs` as written (`crate`/`super`/`self` first), written
    in module `module` (the file's module path plus inline modules)."""
    segs: list[str]
    line: int
    module: tuple[str, ...]
    macro: bool = False
    public_use: bool = False      # a leaf of `pub use`: a re-export
    top_level: bool = True        # not inside an inline module


@dataclass
class SourceFile:
    path: Path                    # relative to the source directory
    module: tuple[str, ...]
    exempt: bool
    uses: list[Use] = field(default_factory=list)
    macros: set[str] = field(default_factory=set)       # macro_rules! NAME
    items: set[str] = field(default_factory=set)        # top-level item names
    mods: set[str] = field(default_factory=set)         # top-level `mod NAME`
    extern_crates: set[str] = field(default_factory=set)
    test_mods: set[tuple[str, ...]] = field(default_factory=set)  # `#[cfg(test)] mod x;`


ITEM_KEYWORDS = {"fn", "const", "static", "struct", "enum", "union", "type", "trait", "mod"}


def _test_only_cfg(toks: list[Tok], i: int) -> tuple[bool, int]:
    """Evaluates a cfg predicate starting at toks[i]: whether it holds only
    in test builds. Returns (test_only, index past the predicate)."""
    t = toks[i].text
    if t in ("all", "any", "not") and i + 1 < len(toks) and toks[i + 1].text == "(":
        j = i + 2
        parts = []
        while j < len(toks) and toks[j].text != ")":
            if toks[j].text == ",":
                j += 1
                continue
            part, j = _test_only_cfg(toks, j)
            parts.append(part)
        j += 1
        if t == "all":
            return any(parts), j
        if t == "any":
            return bool(parts) and all(parts), j
        return False, j
    # A bare word, or `key = "value"` (the string is not a token).
    j = i + 1
    if j < len(toks) and toks[j].text == "=":
        j += 1
    return t == "test", j


def _attribute(toks: list[Tok], i: int) -> tuple[bool, int]:
    """toks[i] is `#` of `#[...]` or `#![...]`: returns (test_only, index
    past the attribute)."""
    j = i + 1
    if toks[j].text == "!":
        j += 1
    start = j            # at `[`
    depth, j = 0, start
    while j < len(toks):
        if toks[j].text in "([{":
            depth += 1
        elif toks[j].text in ")]}":
            depth -= 1
            if depth == 0:
                break
        j += 1
    test_only = False
    if start + 2 < len(toks) and toks[start + 1].text == "cfg" and toks[start + 2].text == "(":
        test_only, _ = _test_only_cfg(toks, start + 3)
    return test_only, j + 1


def _skip_item(toks: list[Tok], i: int) -> int:
    """Returns the index past the item starting at toks[i]: up to a `;` at
    its own level or the `}` closing its first block."""
    depth = 0
    while i < len(toks):
        t = toks[i].text
        if t in "([{":
            depth += 1
        elif t in ")]}":
            depth -= 1
            if depth == 0 and t == "}":
                return i + 1
            if depth < 0:
                return i
        elif t == ";" and depth == 0:
            return i + 1
        i += 1
    return i


def _use_tree(toks: list[Tok], i: int, prefix: list[str]) -> tuple[list[tuple[list[str], int]], int]:
    """Parses a use tree at toks[i] (after `prefix::`): returns its leaves
    as (full path, line) and the index past it."""
    out: list[tuple[list[str], int]] = []
    if toks[i].text == "{":
        i += 1
        while i < len(toks) and toks[i].text != "}":
            if toks[i].text == ",":
                i += 1
                continue
            leaves, j = _use_tree(toks, i, prefix)
            out += leaves
            i = j if j > i else i + 1
        return out, i + 1
    if toks[i].text == "*":
        return [(prefix + ["*"], toks[i].line)], i + 1
    if not toks[i].ident:
        return [], i
    line = toks[i].line
    segs = list(prefix)
    if toks[i].text == "self" and prefix:      # `{self, ...}`: the prefix itself
        i += 1
    else:
        segs.append(toks[i].text)
        i += 1
    while i + 1 < len(toks) and toks[i].text == "::":
        nxt = toks[i + 1]
        if nxt.text == "{" or nxt.text == "*":
            sub, i = _use_tree(toks, i + 1, segs)
            return out + sub, i
        if not nxt.ident:
            break
        segs.append(nxt.text)
        i += 2
    if i + 1 < len(toks) and toks[i].text == "as":
        i += 2
    return out + [(segs, line)], i


def scan(path: Path, rel: Path, module: tuple[str, ...]) -> SourceFile:
    exempt = rel.name in TEST_FILES or any(part in TEST_MODULES for part in module)
    f = SourceFile(rel, module, exempt)
    toks = lex(path.read_text(encoding="utf-8", errors="replace"))
    n = len(toks)
    # Inline modules: (name, brace depth at which its block closes).
    stack: list[tuple[str, int]] = []
    depth = 0
    i = 0
    in_use = False           # inside a `use` declaration (until its `;`)
    pub_use = False
    prev_pub = -10           # index of the last `pub` token
    while i < n:
        t = toks[i]
        x = t.text
        if x == "#" and i + 1 < n and toks[i + 1].text in ("[", "!"):
            inner = toks[i + 1].text == "!"
            test_only, j = _attribute(toks, i)
            if test_only and inner and not stack and depth == 0:
                f.exempt = True
                return f
            if test_only:
                # Skip further attributes, then the item they belong to; a
                # `mod NAME;` makes NAME's file test code.
                while j < n and toks[j].text == "#":
                    _, j = _attribute(toks, j)
                k = j
                if k < n and toks[k].text == "pub":
                    k += 1
                    if k < n and toks[k].text == "(":
                        while k < n and toks[k].text != ")":
                            k += 1
                        k += 1
                if k + 2 < n and toks[k].text == "mod" and toks[k + 2].text == ";":
                    here = module + tuple(name for name, _ in stack)
                    f.test_mods.add(here + (toks[k + 1].text,))
                i = _skip_item(toks, j)
            else:
                i = j
            continue
        if x == "{":
            depth += 1
        elif x == "}":
            depth -= 1
            if stack and depth == stack[-1][1]:
                stack.pop()
        elif x == ";":
            in_use = False
        elif x == "pub":
            prev_pub = i
        elif x == "macro_rules" and i + 2 < n and toks[i + 1].text == "!":
            f.macros.add(toks[i + 2].text)
        elif x == "extern" and i + 2 < n and toks[i + 1].text == "crate":
            f.extern_crates.add(toks[i + 2].text)
            if i + 4 < n and toks[i + 3].text == "as":
                f.extern_crates.add(toks[i + 4].text)
            i += 3
            continue
        elif x == "use" and t.ident:
            in_use = True
            # `pub use`, `pub(crate) use`, `pub(in path) use`
            pub_use = prev_pub >= 0 and (prev_pub == i - 1 or
                                          (toks[prev_pub + 1].text == "(" and toks[i - 1].text == ")"))
        elif x in ITEM_KEYWORDS and t.ident and i + 1 < n and toks[i + 1].ident \
                and (i == 0 or toks[i - 1].text != "::"):
            name = toks[i + 1].text
            if not stack and depth == 0:
                f.items.add(name)
            if x == "mod":
                if not stack and depth == 0:
                    f.mods.add(name)
                if i + 2 < n and toks[i + 2].text == "{":
                    if name in TEST_MODULES:
                        i = _skip_item(toks, i + 2)
                        continue
                    stack.append((name, depth))
                    depth += 1
                    i += 3
                    continue
        elif x in ("crate", "super", "self") and i + 1 < n and toks[i + 1].text == "::" \
                and (i == 0 or toks[i - 1].text not in ("::", "$")) \
                and not (i > 0 and toks[i - 1].text == "in"):
            here = module + tuple(name for name, _ in stack)
            leaves, j = _use_tree(toks, i, [])
            for segs, line in leaves:
                macro = j < n and toks[j].text == "!" and not in_use and len(leaves) == 1 \
                    and not (j + 1 < n and toks[j + 1].text == "=")
                f.uses.append(Use(segs, line, here, macro, in_use and pub_use, not stack))
            i = max(j, i + 1)
            continue
        i += 1
    return f


# --- The tree ----------------------------------------------------------------

def module_of(rel: Path) -> tuple[str, ...] | None:
    parts = list(rel.with_suffix("").parts)
    if parts in (["lib"], ["main"]):
        return ()
    if parts[-1] == "mod":
        parts.pop()
    if not all(IDENT.match(p) for p in parts):
        return None
    return tuple(parts)


@dataclass
class Layers:
    rooms: list[list[str]]        # one list a layer, bottom first
    lines: list[int]              # each layer's line in lib.rs
    start: int                    # the block's first line


def read_layers(lib: Path, shown: str) -> tuple[Layers | None, list[str]]:
    """The layers block of lib.rs (`shown` in messages), and what is wrong
    with it."""
    errors: list[str] = []
    rooms: list[list[str]] = []
    lines: list[int] = []
    start = None
    for number, text in enumerate(lib.read_text(encoding="utf-8").splitlines(), 1):
        stripped = text.strip()
        if not stripped.startswith("//!"):
            if start is not None:
                errors.append(f"{shown}:{start}: the layers block is not closed")
                return None, errors
            continue
        body = stripped[3:]
        body = body[1:] if body.startswith(" ") else body
        if start is None:
            if body.strip() == "```layers":
                start = number
            continue
        if body.strip().startswith("```"):
            return Layers(rooms, lines, start), errors
        if not body.strip():
            continue
        names = re.split(r"\s{2,}", body.strip(), maxsplit=1)[0].split()
        bad = [name for name in names if not IDENT.match(name)]
        if bad:
            errors.append(f"{shown}:{number}: not a room name in the layers block: {' '.join(bad)}")
            names = [name for name in names if IDENT.match(name)]
        rooms.append(names)
        lines.append(number)
    if start is None:
        errors.append(f"{shown}: no layers block (a `//! ```layers` line, one layer a line, "
                      "bottom first, then `//! ````)")
    else:
        errors.append(f"{shown}:{start}: the layers block is not closed")
    return None, errors


class Tree:
    def __init__(self, src: Path):
        self.src = src
        self.files: dict[Path, SourceFile] = {}
        self.module_files: dict[tuple[str, ...], Path] = {}
        for path in sorted(src.rglob("*.rs")):
            rel = path.relative_to(src)
            module = module_of(rel)
            if module is None:
                continue
            f = scan(path, rel, module)
            self.files[rel] = f
            if module not in self.module_files or rel.name == "mod.rs":
                self.module_files[module] = rel
        test_mods = {m for f in self.files.values() for m in f.test_mods}
        for f in self.files.values():
            if any(f.module[:len(m)] == m for m in test_mods):
                f.exempt = True
        root = self.files.get(Path("lib.rs"))
        self.root = root
        # Rooms: top-level files and directories of src/, and lib.rs's `mod`s.
        self.rooms: dict[str, Path] = {}
        for rel, f in self.files.items():
            if len(f.module) >= 1 and not f.exempt and f.module[0] not in TEST_MODULES:
                top = f.module[0]
                if top not in self.rooms or len(f.module) == 1:
                    self.rooms[top] = self.module_files.get((top,), rel)
        if root:
            for name in root.mods - TEST_MODULES:
                self.rooms.setdefault(name, Path("lib.rs"))
        # Macros by name: the file that defines each.
        self.macros: dict[str, SourceFile] = {}
        for f in self.files.values():
            for name in f.macros:
                if name not in self.macros or self.macros[name].exempt:
                    self.macros[name] = f
        # Named re-exports: module file -> name -> absolute path.
        self.reexports: dict[Path, dict[str, list[str]]] = defaultdict(dict)
        for f in self.files.values():
            for use in f.uses:
                if use.public_use and use.top_level and use.segs[-1] != "*":
                    target = absolute(use)
                    if target:
                        self.reexports[f.path][use.segs[-1]] = target

    def room_of_target(self, target: list[str], use: Use) -> str | None:
        """The room an absolute path leads into; None for an external crate."""
        if not target:
            return ROOT
        head = target[0]
        if head in self.rooms:
            return head
        if use.macro and len(target) == 1 and head in self.macros:
            definer = self.macros[head]
            return definer.module[0] if definer.module else ROOT
        if self.root and head in self.root.extern_crates:
            return None
        if self.root and head not in self.root.items:
            again = self.reexports.get(Path("lib.rs"), {}).get(head)
            if again and again[0] != head:
                return self.room_of_target(again + target[1:], use)
            if head in self.macros:          # `use crate::{check, ...}`
                definer = self.macros[head]
                return definer.module[0] if definer.module else ROOT
        return ROOT

    def file_of_target(self, target: list[str], macro: bool) -> Path | None:
        """The file of the module a path names: the deepest module along it
        that has a file, following named `pub use` re-exports."""
        for _ in range(16):
            segs = [s for s in target if s != "*"]
            if macro and len(segs) == 1 and segs[0] in self.macros:
                return self.macros[segs[0]].path
            k = len(segs)
            while k > 0 and tuple(segs[:k]) not in self.module_files:
                k -= 1
            found = self.module_files.get(tuple(segs[:k]))
            if found is None:
                return None
            again = self.reexports.get(found, {}).get(segs[k]) if k < len(segs) else None
            if again is None or again == segs[:k + 1]:
                return found
            target = again + segs[k + 1:]
        return None


def absolute(use: Use) -> list[str] | None:
    """A path's segments from the crate root, or None if it climbs above it."""
    segs = use.segs
    if segs[0] == "crate":
        base: list[str] = []
        rest = segs[1:]
    else:
        base = list(use.module)
        rest = segs
        if rest[0] == "self":
            rest = rest[1:]
        while rest and rest[0] == "super":
            if not base:
                return None
            base.pop()
            rest = rest[1:]
    return base + list(rest)


def names_test_code(segs: list[str]) -> bool:
    return any(s in TEST_MODULES for s in segs)


# --- The checks ---------------------------------------------------------------

def strongly_connected(graph: dict[Path, set[Path]]) -> list[list[Path]]:
    index: dict[Path, int] = {}
    low: dict[Path, int] = {}
    on_stack: set[Path] = set()
    stack: list[Path] = []
    out: list[list[Path]] = []
    counter = [0]
    nodes = sorted(set(graph) | {v for vs in graph.values() for v in vs})

    def visit(root: Path) -> None:
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            advanced = False
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))

    for v in nodes:
        if v not in index:
            visit(v)
    return out


def circles(graph: dict[Path, set[Path]]) -> list[list[Path]]:
    """Circles covering every edge that lies on one: for each edge u -> v in
    a strongly connected set, u -> v then the shortest way back to u."""
    found: dict[tuple[Path, ...], list[Path]] = {}
    for comp in strongly_connected(graph):
        if len(comp) < 2:
            continue
        members = set(comp)
        for u in comp:
            for v in sorted(graph.get(u, ()) & members):
                # Shortest path v -> u inside the set.
                prev: dict[Path, Path | None] = {v: None}
                queue = deque([v])
                while queue and u not in prev:
                    a = queue.popleft()
                    for b in sorted(graph.get(a, ()) & members):
                        if b not in prev:
                            prev[b] = a
                            queue.append(b)
                way = [u]
                node: Path | None = u
                while node != v:
                    node = prev[node]
                    way.append(node)
                # way is the path v -> u backwards: the circle is u -> v -> ... -> u.
                cycle = [u] + list(reversed(way))[:-1]
                start = cycle.index(min(cycle))
                canon = tuple(cycle[start:] + cycle[:start])
                found.setdefault(canon, list(canon))
    return [found[key] for key in sorted(found)]


def related(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether one module is the other or an ancestor of it."""
    k = min(len(a), len(b))
    return a[:k] == b[:k]


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, default=here.parent / "src",
                        help="the kernel's source directory (default: %(default)s)")
    parser.add_argument("--graph", action="store_true",
                        help="also print which rooms each room uses, layer by layer")
    args = parser.parse_args(argv)
    src: Path = args.src
    lib = src / "lib.rs"
    if not lib.is_file():
        print(f"layers: no {lib}", file=sys.stderr)
        return 2
    show = lambda rel: f"{src.name}/{rel.as_posix()}"   # noqa: E731
    layers, problems = read_layers(lib, show(Path("lib.rs")))
    if layers is None:
        for problem in problems:
            print(problem)
        print("layers: cannot check without the layers block", file=sys.stderr)
        return 2

    tree = Tree(src)

    # The order, checked against the tree.
    level: dict[str, int] = {}
    for number, (names, line) in enumerate(zip(layers.rooms, layers.lines), 1):
        for name in names:
            if name in level:
                problems.append(f"{show(Path('lib.rs'))}:{line}: {name} is in the layers block twice")
            elif name == ROOT:
                problems.append(f"{show(Path('lib.rs'))}:{line}: `crate` is the root, above every layer: "
                                "not a room to list")
            else:
                level[name] = number
                if name not in tree.rooms:
                    problems.append(f"{show(Path('lib.rs'))}:{line}: {name} is in the layers block "
                                    f"but {src.name}/ has no such module")
    top = len(layers.rooms) + 1
    level[ROOT] = top
    for name, rel in sorted(tree.rooms.items()):
        if name not in level:
            problems.append(f"{show(rel)}: room {name} is not in the layers block "
                            f"({show(Path('lib.rs'))}:{layers.start})")

    # Every use, checked.
    violations: list[str] = []
    checked = 0
    room_edges: dict[tuple[str, str], int] = defaultdict(int)
    edges: dict[tuple[Path, Path], tuple[int, str]] = {}
    unresolved: list[str] = []
    for rel, f in sorted(tree.files.items()):
        if f.exempt:
            continue
        seen: set[tuple[int, str]] = set()
        for use in f.uses:
            written = "::".join(use.segs)
            if (use.line, written) in seen:
                continue
            seen.add((use.line, written))
            if names_test_code(use.segs) or names_test_code(list(use.module)):
                continue
            target = absolute(use)
            if target is None:
                unresolved.append(f"{show(rel)}:{use.line}: {written} climbs above the crate root")
                continue
            to = tree.file_of_target(target, use.macro)
            if to is not None and tree.files[to].exempt:
                continue                       # it names test code
            shown = written + ("!" if use.macro else "")
            if use.segs[0] != "crate":
                shown += f" (= {'::'.join(['crate'] + target)})"
            checked += 1
            user = f.module[0] if f.module and f.module[0] in tree.rooms else ROOT
            used = tree.room_of_target(target, use)
            if used is not None and used != user:
                room_edges[(user, used)] += 1
                if user in level and used in level and level[used] >= level[user] \
                        and (user, used) not in ALLOWED:
                    violations.append(f"{show(rel)}:{use.line}: {user} (layer {level[user]}) "
                                      f"uses {used} (layer {level[used]}): {shown}")
            if to is not None and to != rel and not related(f.module, tree.files[to].module):
                edges.setdefault((rel, to), (use.line, shown))

    graph: dict[Path, set[Path]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    found = circles(graph)

    if args.graph:
        print("rooms, top layer first (! marks a use that is not downward):")
        for number in range(len(layers.rooms), 0, -1):
            for name in layers.rooms[number - 1]:
                deps = sorted(((used, count) for (user, used), count in room_edges.items()
                               if user == name), key=lambda d: (-level.get(d[0], 0), d[0]))
                words = [f"{'!' if level.get(used, top) >= number and (name, used) not in ALLOWED else ''}"
                         f"{used}({count})" for used, count in deps]
                print(f"  {number:>2} {name:<14} -> {' '.join(words) or '-'}")
        stray = sorted({user for user, _ in room_edges if user not in level})
        for name in stray:
            deps = sorted((used, c) for (user, used), c in room_edges.items() if user == name)
            print(f"   ? {name:<14} -> {' '.join(f'{u}({c})' for u, c in deps)}")
        print()

    for line in problems + unresolved + violations:
        print(line)
    for cycle in found:
        print("circle: " + " -> ".join(show(p) for p in cycle + [cycle[0]]))
        for a, b in zip(cycle, cycle[1:] + [cycle[0]]):
            line, shown = edges[(a, b)]
            print(f"    {show(a)}:{line}: {shown}")
    bad = len(problems) + len(unresolved) + len(violations)
    print(f"layers: {len(tree.rooms)} rooms, {checked} uses checked, "
          f"{bad} violations, {len(found)} circles")
    return 1 if bad or found else 0


if __name__ == "__main__":
    sys.exit(main())

"""The documentation's links hold: README.md and docs/*.md.

Every relative link and image in these files names a file or directory that
exists, and every `#anchor` (in the same file, or after another Markdown
file's name) names one of that file's headings, slugged as GitHub slugs
them. Links out of the repository (http, https, mailto) are not followed.
No QEMU: this runs on the sources alone, in stage 2 of tests/run_all.py.

The checker is `broken_links(root)`; the tests below run it on the
repository, and on small trees made to break, so that it is known to fail
when it should."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from harness import ROOT

# The front door stays a front door (issue 20): the reference is in docs/.
README_MAX_LINES = 250

FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^\s{0,3}(#{1,6})(?:\s+(.*?))?\s*#*\s*$")
# Inline code spans: their text is never a link, and `[..]` in it is no
# link text. A run of N backticks closes only on N backticks.
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
# [text](target) and ![alt](target); the target ends at whitespace or the
# closing parenthesis (a title after a space is allowed and ignored).
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def doc_files(root: Path) -> list[Path]:
    """The files whose links are checked: README.md and docs/*.md."""
    files = [root / "README.md"] if (root / "README.md").exists() else []
    return files + sorted((root / "docs").glob("*.md"))


def _prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks."""
    lines, fence = [], None
    for number, line in enumerate(text.splitlines(), 1):
        match = FENCE.match(line)
        if fence is None:
            if match:
                fence = match.group(1)
                continue
            lines.append((number, line))
        elif match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) \
                and not line.strip()[len(match.group(1)):].strip():
            fence = None
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text: the text as shown (code spans'
    backticks, link targets and emphasis marks gone), lowercased, every
    character but letters, digits, spaces, `-` and `_` dropped, and each
    space a `-`."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links: their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("`", "")
    text = re.sub(r"(\*+)(\S.*?\S|\S)\1", r"\2", text)  # *emphasis*, **strong**
    text = text.strip().lower()
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading's anchor; a repeated slug gets `-1`, `-2`, ... as on
    GitHub."""
    seen: Counter[str] = Counter()
    result = set()
    for _, line in _prose_lines(text):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2) or "")
        name = base if seen[base] == 0 else f"{base}-{seen[base]}"
        seen[base] += 1
        result.add(name)
    return result


def links(text: str) -> list[tuple[int, str]]:
    """(line number, target) of every inline link and image outside code."""
    found = []
    for number, line in _prose_lines(text):
        line = CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)
        for match in LINK.finditer(line):
            found.append((number, match.group(1)))
    return found


def broken_links(root: Path) -> list[str]:
    """Every link in README.md and docs/*.md under `root` that does not
    resolve, as `file:line: target: why`; empty when all do."""
    problems = []
    anchor_cache: dict[Path, set[str]] = {}

    def anchors_of(path: Path) -> set[str]:
        if path not in anchor_cache:
            anchor_cache[path] = anchors(path.read_text(encoding="utf-8"))
        return anchor_cache[path]

    for source in doc_files(root):
        where = source.relative_to(root)
        for number, target in links(source.read_text(encoding="utf-8")):
            if EXTERNAL.match(target):
                continue
            path_part, _, anchor = target.partition("#")
            if not path_part and not anchor:
                problems.append(f"{where}:{number}: {target!r}: empty link")
                continue
            destination = (source.parent / path_part).resolve() if path_part else source
            if not destination.exists():
                problems.append(f"{where}:{number}: {target}: no such file")
                continue
            try:
                destination.relative_to(root.resolve())
            except ValueError:
                problems.append(f"{where}:{number}: {target}: outside the repository")
                continue
            if anchor:
                if destination.suffix != ".md":
                    problems.append(f"{where}:{number}: {target}: an anchor into a "
                                    f"file that is not Markdown")
                elif anchor not in anchors_of(destination):
                    problems.append(f"{where}:{number}: {target}: no heading "
                                    f"#{anchor} in {destination.name}")
    return problems


# --- the repository's documentation ------------------------------------------------------

def test_every_link_and_anchor_in_the_docs_resolves():
    problems = broken_links(ROOT)
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_readme_links_every_reference_file():
    """Each file in docs/ can be found from the front door."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = {target.partition("#")[0] for _, target in links(readme)}
    missing = [f"docs/{path.name}" for path in sorted((ROOT / "docs").glob("*.md"))
               if f"docs/{path.name}" not in targets]
    assert not missing, f"README.md links none of: {', '.join(missing)}"


def test_readme_stays_short():
    lines = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, (
        f"README.md has {lines} lines (at most {README_MAX_LINES}): reference text "
        f"belongs in a file of docs/")


# --- the checker itself ------------------------------------------------------------------

def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_slugs_follow_github():
    assert slug("Interrupts, time and input") == "interrupts-time-and-input"
    assert slug("`make run`'s modes") == "make-runs-modes"
    assert slug("The `forbid(unsafe_code)` modules") == "the-forbidunsafe_code-modules"
    assert slug("Layout and boot path") == "layout-and-boot-path"
    assert slug("A [link](x.md) and **bold**") == "a-link-and-bold"
    assert slug("Spaces  twice - and dash") == "spaces--twice---and-dash"
    text = "# Notes\n## Notes\n## Notes\n#not-a-heading\n```\n# in code\n```\n"
    assert anchors(text) == {"notes", "notes-1", "notes-2"}


def test_checker_accepts_good_links(tmp_path):
    root = _tree(tmp_path, {
        "README.md": "# Top\nSee [memory](docs/memory.md#the-heap), [top](#top),\n"
                     "![shot](docs/shot.png), [code](src/lib.rs), [dir](src/),\n"
                     "[web](https://example.org/#nowhere), `[not](a-link.md)`.\n",
        "docs/memory.md": "# Memory\n## The heap\nBack to [README](../README.md#top);\n"
                          "[again](#the-heap), [shot](shot.png).\n"
                          "```\n[in a code block](missing.md)\n```\n",
        "docs/shot.png": "",
        "src/lib.rs": "",
    })
    assert broken_links(root) == []


def test_checker_reports_broken_links_and_anchors(tmp_path):
    root = _tree(tmp_path, {
        "README.md": "# Top\n[gone](docs/gone.md)\n[bad anchor](docs/a.md#nowhere)\n"
                     "[bad here](#bottom)\n![image](screen.png)\n",
        "docs/a.md": "# A\n## Dup\n## Dup\n[ok](#dup-1) [bad](#dup-2)\n"
                     "[file](../src/missing.rs) [not md](../README.md#top)\n",
    })
    problems = broken_links(root)
    expected = [
        "README.md:2: docs/gone.md: no such file",
        "README.md:3: docs/a.md#nowhere: no heading #nowhere in a.md",
        "README.md:4: #bottom: no heading #bottom in README.md",
        "README.md:5: screen.png: no such file",
        "docs/a.md:4: #dup-2: no heading #dup-2 in a.md",
        "docs/a.md:5: ../src/missing.rs: no such file",
    ]
    assert problems == expected


def layers_in_lib_rs(root: Path) -> list[str]:
    """The lines of the `layers` block in src/lib.rs's module comment."""
    lines = (root / "src" / "lib.rs").read_text().splitlines()
    start = lines.index("//! ```layers") + 1
    end = lines.index("//! ```", start)
    return [line.removeprefix("//!").strip() for line in lines[start:end]]


def layers_in_layout_md(root: Path) -> list[str]:
    """The lines of the code block under `## Layers` in docs/layout.md."""
    text = (root / "docs" / "layout.md").read_text()
    section = text.split("\n## Layers\n", 1)[1]
    block = section.split("```\n", 2)[1]
    return [line.strip() for line in block.splitlines()]


def test_the_layout_doc_states_the_layers_lib_rs_states():
    from_code = layers_in_lib_rs(ROOT)
    assert from_code, "src/lib.rs has no layers block"
    assert layers_in_layout_md(ROOT) == from_code

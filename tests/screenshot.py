#!/usr/bin/env python3
"""`make screenshot`: boots the kernel headless and writes PNG pictures of
what a person sees to docs/, for the README:

  docs/screen-bios.png      the VGA text screen under BIOS, after `ready`
  docs/screen-uefi.png      the framebuffer under UEFI (OVMF), after `ready`
  docs/screen-scrolled.png  the framebuffer after a boot that scrolled
                            (loglevel=trace and many unknown words)

Boots build/os.iso (and one ISO built the same way with that command line)
through the test harness, takes each picture with QEMU's screendump once the
line it waits for is on serial (the console draws before serial gets the
line), and stops QEMU. Exits non-zero if a boot fails.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import DEFAULT_ISO, ROOT, Boot, TestFailure, build_iso  # noqa: E402

DOCS = ROOT / "docs"
SCROLLING = "loglevel=trace " + " ".join(f"word{i:02d}" for i in range(50))


def shoot(name: str, iso: Path, uefi: bool, out: Path) -> None:
    with Boot(name, iso, uefi=uefi) as boot:
        boot.wait_for_line("ready")
        boot.screenshot(out)
    print(f"screenshot: {out.relative_to(ROOT)}")


def main() -> int:
    DOCS.mkdir(exist_ok=True)
    try:
        shoot("shot-bios", DEFAULT_ISO, False, DOCS / "screen-bios.png")
        shoot("shot-uefi", DEFAULT_ISO, True, DOCS / "screen-uefi.png")
        scrolled = build_iso("screenshot-scrolled", cmdline=SCROLLING)
        shoot("shot-scrolled", scrolled, True, DOCS / "screen-scrolled.png")
    except TestFailure as failure:
        print(f"screenshot failed: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""End-to-end tests of the framebuffer console: what QEMU displays (its
screendump) compared pixel for pixel with the kernel's serial output drawn
on the host with the kernel's own font (tests/framebuffer.py), under UEFI
(OVMF, GRUB's 24-bit Bochs mode) and under BIOS with a grub.cfg that forces
a 32-bit graphics mode, so both screen back ends run on both firmwares.
The VGA text screen under BIOS is tests/test_console.py's."""

import re

import pytest

from framebuffer import Mode, check_shows_serial
from harness import BANNER, build_iso, check
from terminal import wait_for_prompt
from test_boot import run_selftest

# loglevel=trace and more unknown words than the screen has rows: a boot
# that prints more rows than fit, so the console scrolls.
SCROLLING = "loglevel=trace " + " ".join(f"word{i:02d}" for i in range(50))

# A menu that forces a framebuffer under BIOS: `set gfxpayload` after the
# multiboot2 line (which sets it from the kernel's request).
FORCED_FRAMEBUFFER_CFG = """\
set timeout=0
insmod all_video
menuentry "{banner} on a framebuffer" {{
    multiboot2 /boot/kernel.bin {cmdline}
    set gfxpayload=1024x768x32
    boot
}}
"""


def forced_framebuffer_iso(name: str, cmdline: str = ""):
    """An ISO whose one entry boots the kernel with `cmdline` in a
    1024x768x32 graphics mode, also under BIOS."""
    return build_iso(name, cfg=FORCED_FRAMEBUFFER_CFG.format(banner=BANNER, cmdline=cmdline))


@pytest.mark.slow
def test_uefi_boot_draws_the_banner_and_ready_on_the_framebuffer(qemu):
    """The shipped ISO under UEFI: GRUB hands over a framebuffer; the kernel
    reports it and its console (`console:` as the layout rule says), and the
    screen shows the banner, the report's summary, `ready` and the shell's
    prompt, pixel for pixel, with the cursor after it."""
    boot = qemu("fb-uefi", uefi=True)
    boot.wait_for_line("ready")
    wait_for_prompt(boot)
    lines = boot.kernel_lines()
    check(boot, "ready" in lines, "banner not followed by `ready` on serial")
    check(boot, any(l.startswith("framebuffer: rgb ") for l in lines),
          "the boot report has no `framebuffer: rgb ...` line")
    mode = check_shows_serial(boot)
    check(boot, mode.bpp in (24, 32), f"unexpected depth {mode.bpp}")
    boot.check_running()


@pytest.mark.slow
def test_uefi_boot_that_scrolls_shows_exactly_the_last_rows(qemu):
    """More rows than the screen has: it shows exactly the last ones, each
    in its log colour; the banner has scrolled away; the prompt last."""
    boot = qemu("fb-uefi-scroll", build_iso("fb-scroll", cmdline=SCROLLING), uefi=True)
    boot.wait_for_line("ready")
    wait_for_prompt(boot)
    mode = Mode.from_serial(boot.kernel_lines())
    check(boot, len(boot.kernel_lines()) > mode.rows, "nothing scrolled")
    check_shows_serial(boot)


@pytest.mark.slow
def test_a_boot_error_under_uefi_reaches_the_framebuffer(qemu, tmp_path):
    """One boot module more than the kernel tracks stops the boot with a
    `boot error:` line: under UEFI on the framebuffer too, since the screen
    is chosen from the boot information before anything is printed."""
    module = tmp_path / "module.txt"
    module.write_text("a boot module\n")
    modules = "".join(f"    module2 /boot/module.txt copy{i}\n" for i in range(63))
    cfg = ("set timeout=0\ninsmod all_video\n"
           f"menuentry \"{BANNER} with 63 modules\" {{\n"
           f"    multiboot2 /boot/kernel.bin\n{modules}    boot\n}}\n")
    iso = build_iso("fb-boot-error", cfg=cfg, files={"boot/module.txt": module})
    boot = qemu("fb-boot-error", iso, uefi=True)
    boot.wait_for_line(r"^boot error: too many boot modules", regex=True)
    check_shows_serial(boot)
    boot.check_running()
    check(boot, "ready" not in boot.kernel_lines(), "the kernel went on after the boot error")


def test_bios_with_a_forced_framebuffer_uses_the_framebuffer_console(qemu):
    """Under BIOS with a graphics mode forced in grub.cfg, the same kernel
    draws on the framebuffer (32 bpp, another pitch) instead of the VGA
    text screen."""
    boot = qemu("fb-bios", forced_framebuffer_iso("fb-bios"))
    boot.wait_for_line("ready")
    wait_for_prompt(boot)
    mode = check_shows_serial(boot)
    check(boot, (mode.width, mode.height, mode.bpp) == (1024, 768, 32),
          f"GRUB set {mode.width}x{mode.height}x{mode.bpp}, not the forced 1024x768x32")


@pytest.mark.parametrize("cmdline, message", [
    ("panic=test", "deliberate panic (panic=test on the command line)"),
    # a panic while the console's lock is held, as inside the writer
    ("panic=locked", "deliberate panic with the console locks held (panic=locked)"),
], ids=["test", "locked"])
def test_panic_screen_on_the_framebuffer(qemu, cmdline, message):
    """The panic screen on a framebuffer: every panic line a white-on-red
    band across the whole row, pixel for pixel; the machine halted."""
    name = "fb-" + cmdline.replace("=", "-")
    boot = qemu(name, forced_framebuffer_iso(name, cmdline))
    boot.wait_for_line(r"the kernel has stopped", regex=True)
    check(boot, f"KERNEL PANIC: {message}" in boot.kernel_lines(),
          f"no `KERNEL PANIC: {message}` line")
    check_shows_serial(boot, bands_from="KERNEL PANIC: ")
    boot.check_running(settle=1.0)


@pytest.mark.parametrize("firmware", [
    "bios", pytest.param("uefi", marks=pytest.mark.slow)])
def test_in_kernel_console_tests_pass_on_a_framebuffer(qemu, firmware):
    """The self-test's console tests read back whichever screen is active:
    here the framebuffer's pixels (BIOS: forced 32 bpp; UEFI: the shipped
    ISO's self-test entry)."""
    if firmware == "uefi":
        boot = qemu("fb-selftest-uefi", uefi=True, entry=1)
    else:
        boot = qemu("fb-selftest-bios", forced_framebuffer_iso("fb-selftest", "selftest"))
    passed, failed, skipped = run_selftest(boot)
    console_tests = [l for l in boot.kernel_lines() if re.match(r"test console::", l)]
    check(boot, len(console_tests) >= 5 and all(l.endswith("... ok") for l in console_tests),
          f"console self-tests: {console_tests}")
    check(boot, failed == 0, f"{failed} in-kernel tests failed")
    check(boot, skipped == 0, f"{skipped} in-kernel tests skipped: this machine has a screen "
                        "and a serial port")
    check(boot, any(l.startswith("console: framebuffer ") for l in boot.kernel_lines()),
          "the self-test ran on another screen")

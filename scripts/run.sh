#!/usr/bin/env bash
# Boots an ISO in QEMU the way a person wants to see it (called by `make run`
# and `make debug`):
#   - with a display ($DISPLAY or $WAYLAND_DISPLAY): a QEMU window; serial on
#     this terminal, keys typed here reach the kernel's shell, Ctrl-C
#     included (signal=off); QEMU's mux keys Ctrl-A x quit, Ctrl-A c the
#     monitor;
#   - in a terminal without one (e.g. over SSH): the VGA text screen drawn in
#     the terminal (QEMU's curses display); serial to build/serial.log. Under
#     UEFI the screen is a graphics framebuffer, which curses cannot draw
#     (it shows only "Graphic mode"): the terminal shows the serial console
#     instead, and says so (keys as with a window);
#   - with no terminal (CI, scripts): no display; serial on stdout.
# Always -no-reboot: a triple fault stops QEMU instead of looping.
#
#   scripts/run.sh [--debug] ISO
# Environment: UEFI=1, ACCEL=tcg|kvm, MEMORY (default 128M), SMP (CPUs,
# default 2), ENTRY (menu
# entry to boot: 0 = the kernel, 1 = the self-test; default 0).
set -euo pipefail

debug=""
if [ "${1:-}" = "--debug" ]; then debug=1; shift; fi
iso=${1:?usage: scripts/run.sh [--debug] ISO}
here=$(cd "$(dirname "$0")/.." && pwd)

args=(
    -accel "${ACCEL:-tcg}"
    -m "${MEMORY:-128M}"
    -smp "${SMP:-2}"
    -cdrom "$iso"
    -no-reboot
    # For `selftest qemu-exit`: QEMU exits with the test result.
    -device isa-debug-exit,iobase=0xf4,iosize=0x04
    # grub.cfg boots menu entry ENTRY (0: the kernel, 1: the self-test),
    # read from the SMBIOS system SKU.
    -smbios "type=1,sku=kestrel-entry=${ENTRY:-0}"
)
if [ -n "${UEFI:-}" ]; then
    args+=(-bios /usr/share/ovmf/OVMF.fd)
fi

# Serial and the monitor share this terminal (QEMU's mux: Ctrl-A x quits,
# Ctrl-A c switches to the monitor and back); signal=off passes Ctrl-C to
# the kernel's shell instead of ending QEMU.
serial_here=(-chardev stdio,id=console,mux=on,signal=off
             -serial chardev:console -mon chardev=console)

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    mode="window"
    args+=("${serial_here[@]}")
elif [ -t 0 ] && [ -t 1 ] && [ -n "${UEFI:-}" ]; then
    mode="terminal-serial"
    args+=(-display none "${serial_here[@]}")
elif [ -t 0 ] && [ -t 1 ]; then
    mode="terminal"
    mkdir -p "$here/build"
    args+=(-display curses -serial "file:$here/build/serial.log")
else
    mode="headless"
    args+=(-display none -serial stdio)
fi

if [ -n "$debug" ]; then
    args+=(-s -S)
    cat <<MSG
QEMU is paused with a GDB stub on localhost:1234. In another terminal:
  gdb build/kernel.elf -ex 'target remote :1234' -ex 'hbreak rust_main' -ex continue
(use hbreak for the first breakpoint: GRUB overwrites a software breakpoint
when it loads the kernel into memory). A program's symbols too, from its
unstripped build (linked at fixed addresses, so no address is needed):
  add-symbol-file build/user/c/hello
  break main       (then run hello at the kestrel prompt)
MSG
fi

case "$mode" in
    window)   echo "run: QEMU window; serial below, type here for the shell. Quit: close the window, or Ctrl-A then x here (Ctrl-C goes to the shell)." ;;
    terminal) echo "run: VGA screen in this terminal; serial in build/serial.log."
              echo "     Quit: Esc then 2 (the QEMU monitor), type quit, Enter."
              sleep 1 ;;
    terminal-serial)
              echo "run: UEFI draws on a framebuffer, which this terminal cannot show: serial console below instead. Quit: Ctrl-A then x (Ctrl-C goes to the shell)." ;;
    headless) echo "run: no display; serial below. Quit: Ctrl-C (or kill QEMU)." ;;
esac
exec qemu-system-x86_64 "${args[@]}"

#!/usr/bin/env bash
# Installs what building, booting and testing kestrel needs, if it is missing:
#   - Debian/Ubuntu packages: nasm, GRUB (BIOS and UEFI), xorriso, mtools,
#     QEMU, OVMF, gdb, python3 with pytest and pytest-xdist, binutils,
#     musl-tools (the static program `make bench` times on Linux) and cpio
#     (the test that reads back the initramfs it is packed in)
#   - the nightly toolchain's rust-src (for -Z build-std), rustfmt and clippy
# Needs root (or sudo) only when something has to be installed; says exactly
# what to run when it cannot do it itself.
set -euo pipefail

# Each package with a file that proves it is installed.
declare -A checks=(
    [nasm]=/usr/bin/nasm
    [grub-pc-bin]=/usr/lib/grub/i386-pc/multiboot2.mod
    [grub-efi-amd64-bin]=/usr/lib/grub/x86_64-efi/multiboot2.mod
    [grub-common]=/usr/bin/grub-mkrescue
    [xorriso]=/usr/bin/xorriso
    [mtools]=/usr/bin/mformat
    [qemu-system-x86]=/usr/bin/qemu-system-x86_64
    [ovmf]=/usr/share/ovmf/OVMF.fd
    [gdb]=/usr/bin/gdb
    [python3]=/usr/bin/python3
    # the test runner, for /usr/bin/python3 (`make test` runs it with that
    # interpreter unless python3 on PATH has pytest and xdist itself)
    [python3-pytest]=/usr/lib/python3/dist-packages/pytest/__init__.py
    [python3-pytest-xdist]=/usr/lib/python3/dist-packages/xdist/__init__.py
    [binutils]=/usr/bin/ld
    # `make bench` compares with Linux in the same QEMU: musl-gcc -static
    # builds its /init (tests/linux_bench.py); cpio reads that initramfs
    # back in tests/test_linux_bench.py
    [musl-tools]=/usr/bin/musl-gcc
    [cpio]=/usr/bin/cpio
    # only for the tests of `make run` with a display:
    [xvfb]=/usr/bin/Xvfb
    [x11-utils]=/usr/bin/xwininfo
)

missing=()
for package in "${!checks[@]}"; do
    [ -e "${checks[$package]}" ] || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: missing packages: ${missing[*]}"
    if [ "$(id -u)" -eq 0 ]; then
        sudo=""
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo="sudo"
    else
        echo "setup: not root, cannot install them. Run:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "setup: apt-get update && apt-get install -y ${missing[*]}"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
fi

if ! command -v rustup >/dev/null; then
    echo "setup: rustup is not installed. Install rustup (see the Rust website)," >&2
    echo "  then: rustup toolchain install nightly --component rust-src" >&2
    exit 1
fi
if ! rustup toolchain list | grep -q '^nightly'; then
    echo "setup: the nightly toolchain is missing. Run:" >&2
    echo "  rustup toolchain install nightly --component rust-src" >&2
    exit 1
fi
# rust-src for -Z build-std; rustfmt and clippy for `make lint` (make test).
installed=$(rustup component list --toolchain nightly --installed)
for component in rust-src rustfmt clippy; do
    if ! grep -q "^$component" <<<"$installed"; then
        echo "setup: rustup component add $component --toolchain nightly"
        rustup component add "$component" --toolchain nightly
    fi
done
echo "setup: all build and test requirements are present"

#!/usr/bin/env bash
# Packs a bootable ISO (BIOS and UEFI) with GRUB, the kernel and a grub.cfg.
#
#   scripts/mkiso.sh [--cfg FILE] [--add SRC=DEST]... [--initrd FILE|none]
#                    OUT.iso KERNEL [CMDLINE]
#
# The boot archive (the programs, a ustar file) goes in as /boot/initrd.tar
# and each menu entry loads it as the Multiboot2 module named `initrd`:
# build/initrd.tar unless --initrd names another file, or `none`.
#
# Without --cfg, grub.cfg is made from grub/grub.cfg.in with CMDLINE and the
# crate's name and version filled in. --add copies extra files (e.g. GRUB
# modules for module2) to DEST inside the ISO. Used by the Makefile and by the
# test harness, so tests boot ISOs built exactly like the one users boot.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cfg=""
adds=()
initrd="$here/build/initrd.tar"
while [ $# -gt 0 ]; do
    case "$1" in
        --cfg) cfg=$2; shift 2 ;;
        --add) adds+=("$2"); shift 2 ;;
        --initrd) initrd=$2; shift 2 ;;
        *) break ;;
    esac
done
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 [--cfg FILE] [--add SRC=DEST]... OUT.iso KERNEL [CMDLINE]" >&2
    exit 2
fi
out=$1 kernel=$2 cmdline=${3:-}

# The crate's name and version, for the menu titles.
name=$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$here/Cargo.toml" | head -n 1)
version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$here/Cargo.toml" | head -n 1)

staging=$(mktemp -d)          # becomes the ISO's file tree
log=$(mktemp)                 # grub-mkrescue's output, shown only on failure
trap 'rm -rf "$staging" "$log"' EXIT
mkdir -p "$staging/boot/grub"
cp "$kernel" "$staging/boot/kernel.bin"
if [ -n "$cfg" ]; then
    cp "$cfg" "$staging/boot/grub/grub.cfg"
else
    # GRUB's script language would expand $ and eat quotes: single-quote
    # every word that is not plainly safe, so the kernel gets what was typed.
    grub_cmdline=""
    read -r -a words <<< "$cmdline"
    for word in "${words[@]+"${words[@]}"}"; do
        if [[ ! $word =~ ^[A-Za-z0-9=,._/:+@%-]+$ ]]; then
            word="'${word//\'/\'\\\'\'}'"
        fi
        grub_cmdline+="${grub_cmdline:+ }$word"
    done
    # Escape what sed would interpret in the replacement text.
    esc_cmdline=$(printf '%s' "$grub_cmdline" | sed 's/[\\&|]/\\&/g')
    if [ -f "$initrd" ]; then
        module="module2 /boot/initrd.tar initrd"
    else
        module="# no initrd"
    fi
    sed -e "s|@NAME@|$name|g" -e "s|@VERSION@|$version|g" \
        -e "s|@CMDLINE@|$esc_cmdline|g" -e "s|@INITRD@|$module|g" \
        "$here/grub/grub.cfg.in" > "$staging/boot/grub/grub.cfg"
fi
if [ -f "$initrd" ]; then
    cp "$initrd" "$staging/boot/initrd.tar"
fi
for add in "${adds[@]+"${adds[@]}"}"; do
    src=${add%%=*} dest=${add#*=}
    mkdir -p "$staging/$(dirname "$dest")"
    cp "$src" "$staging/$dest"
done

# Only the GRUB modules the menu uses (plus every partition-map module, which
# GRUB's UEFI image loads at start): a smaller ISO that still boots under BIOS
# and UEFI. No fonts, themes or translations. The modules gzip-compressed:
# the ISO stays under 5 MiB (2.8 MiB of it is the fixed-size FAT image UEFI
# boots from), and GRUB unpacks gzip about as fast as it reads the bytes
# saved (xz is slower to unpack: `make bench` measured about 0.1 s more).
partmaps="part_acorn part_amiga part_apple part_bsd part_dfly part_dvh part_gpt part_msdos part_plan part_sun part_sunpc"
mkdir -p "$(dirname "$out")"
grub-mkrescue --output="$out" \
    --install-modules="normal configfile test echo regexp smbios multiboot2 linux iso9660 search all_video serial terminal $partmaps" \
    --locales= --fonts= --themes= --compress=gz \
    "$staging" > "$log" 2>&1 || {
        cat "$log" >&2
        echo "mkiso: grub-mkrescue failed" >&2
        exit 1
    }
echo "mkiso: $out ($(du -h "$out" | cut -f1), cmdline: '${cmdline}')"

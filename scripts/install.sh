#!/usr/bin/env bash
# Installs the kernel beside Linux as a GRUB menu entry, or removes it again.
#
#   scripts/install.sh install KERNEL [INITRD]  (what `make install` runs)
#   scripts/install.sh uninstall                (what `make uninstall` runs)
#
# install copies KERNEL to /boot/<crate>.bin, INITRD (the programs' boot
# archive) to /boot/<crate>-initrd.tar, and writes the executable
# /etc/grub.d/45_<crate> from grub/45_<crate>.in; grub-mkconfig runs that
# script and puts its menuentry into grub.cfg. uninstall removes exactly those
# files. Neither ever edits grub.cfg or touches another entry: after a
# change to the real root the config is regenerated with update-grub (or
# grub-mkconfig), and only when /boot/grub/grub.cfg exists; otherwise this
# prints the command to run.
#
# Environment:
#   CMDLINE   kernel command line for the entry (install only)
#   DESTDIR   stage the files under this root instead of /; never regenerates
#   DRY_RUN=1 print each step instead of doing it
#
# Limits: the entry is for a GRUB that can load multiboot2 (see
# docs/install.md, "Pitfalls", for Secure Boot). Installing to the real root
# needs root.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
GRUB_CFG=/boot/grub/grub.cfg

die() {
    echo "install: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 install KERNEL [INITRD] | $0 uninstall" >&2
    exit 2
}

# --- what the crate is called -----------------------------------------------

cargo_field() {
    sed -n "s/^$1 *= *\"\(.*\)\"/\1/p" "$here/Cargo.toml" | head -n 1
}
name=$(cargo_field name)
version=$(cargo_field version)
# Both end up in file names and, unquoted, in a GRUB script.
[[ $name =~ ^[a-z0-9_-]+$ ]] || die "unexpected crate name '$name' in Cargo.toml"
[[ $version =~ ^[A-Za-z0-9.+-]+$ ]] || die "unexpected version '$version' in Cargo.toml"

# Paths as the installed system sees them (without DESTDIR).
KERNEL_PATH=/boot/$name.bin
INITRD_PATH=/boot/$name-initrd.tar
SCRIPT_PATH=/etc/grub.d/45_$name
TEMPLATE=$here/grub/45_$name.in

destdir=${DESTDIR:-}
destdir=${destdir%/}
dry_run=${DRY_RUN:-}
[ "$dry_run" = "" ] || [ "$dry_run" = 0 ] || [ "$dry_run" = 1 ] ||
    die "DRY_RUN must be 1 or 0, not '$dry_run'"
[ "$dry_run" = 1 ] || dry_run=""

# Runs a step, or with DRY_RUN=1 only shows it.
step() {
    if [ -n "$dry_run" ]; then
        echo "would run: $*"
    else
        echo "+ $*"
        "$@"
    fi
}

# --- quoting for GRUB's script language ----------------------------------------

# One word as GRUB's shell-like parser reads it back unchanged: as it is when
# it holds only plain characters, otherwise in single quotes (in which GRUB
# expands nothing), each ' written as '\''.
grub_word() {
    local word=$1
    if [[ $word =~ ^[A-Za-z0-9_./:=,+@%-]+$ ]]; then
        printf '%s' "$word"
    else
        printf "'%s'" "${word//\'/\'\\\'\'}"
    fi
}

# The command line's words (split at blanks and newlines), each quoted, each
# after one space: what follows the kernel path on the multiboot2 line. GRUB
# joins the words with spaces into the command line the kernel receives.
grub_args() {
    local words word out=""
    read -r -d '' -a words <<< "$1" || true
    for word in "${words[@]+"${words[@]}"}"; do
        out+=" $(grub_word "$word")"
    done
    printf '%s' "$out"
}

# Where GRUB finds /boot/<crate>.bin on its partition: /boot/<crate>.bin when
# /boot is a directory of the root file system, /<crate>.bin when /boot is a
# partition of its own, /@/boot/... on a btrfs subvolume. grub-mkrelpath
# knows; a staging root (DESTDIR) has no partition yet, so there it is the
# plain path.
grub_boot_dir() {
    local dir=/boot
    if [ -z "$destdir" ] && command -v grub-mkrelpath > /dev/null; then
        dir=$(grub-mkrelpath /boot) || die "grub-mkrelpath /boot failed"
    fi
    printf '%s' "${dir%/}"
}
grub_kernel_path() {
    printf '%s/%s.bin' "$(grub_boot_dir)" "$name"
}
grub_initrd_path() {
    printf '%s/%s-initrd.tar' "$(grub_boot_dir)" "$name"
}

# Text for sed's replacement part: \, & and the | delimiter escaped.
sed_escape() {
    printf '%s' "$1" | sed 's/[\\&|]/\\&/g'
}

# The grub.d script, from the template, on stdout.
render_script() {
    local path initrd args
    # One substitution per assignment, so a failure stops the script (set -e).
    path=$(grub_kernel_path)
    path=$(grub_word "$path")
    initrd=$(grub_initrd_path)
    initrd=$(grub_word "$initrd")
    args=$(grub_args "${CMDLINE:-}")
    sed -e "s|@NAME@|$name|g" -e "s|@VERSION@|$version|g" \
        -e "s|@KERNEL@|$KERNEL_PATH|g" \
        -e "s|@INITRD@|$INITRD_PATH|g" \
        -e "s|@GRUB_INITRD@|$(sed_escape "$initrd")|g" \
        -e "s|@GRUB_PATH@|$(sed_escape "$path")|g" \
        -e "s|@ARGS@|$(sed_escape "$args")|g" \
        "$TEMPLATE"
}

# --- regenerating grub.cfg -------------------------------------------------------

# After a change to the real root: regenerate grub.cfg the distribution's way,
# only where it lives at the usual place; otherwise say what to run.
regenerate() {
    if [ -n "$destdir" ]; then
        echo "install: staged under $destdir; grub.cfg is not regenerated for a staging root"
        return
    fi
    if [ -f "$GRUB_CFG" ]; then
        if command -v update-grub > /dev/null; then
            step update-grub
        else
            step grub-mkconfig -o "$GRUB_CFG"
        fi
    elif [ -f /boot/grub2/grub.cfg ] && command -v grub2-mkconfig > /dev/null; then
        echo "install: this system keeps GRUB's config in /boot/grub2. Run, as root:"
        echo "  grub2-mkconfig -o /boot/grub2/grub.cfg"
    else
        echo "install: $GRUB_CFG does not exist, so the GRUB menu is not regenerated."
        echo "  Once GRUB is installed on this machine, run, as root:"
        echo "  grub-mkconfig -o $GRUB_CFG"
    fi
}

# Refuses to change the real root without being root (DESTDIR and DRY_RUN need
# no privileges).
need_root() {
    if [ -z "$destdir" ] && [ -z "$dry_run" ] && [ "$(id -u)" -ne 0 ]; then
        die "installing to / needs root: run \`sudo make $1\` (or set DESTDIR to stage the files)"
    fi
}

# --- the two actions ---------------------------------------------------------------

do_install() {
    local kernel=$1 initrd=${2:-}
    [ -f "$kernel" ] || die "no kernel at $kernel: run \`make\` first"
    grub-file --is-x86-multiboot2 "$kernel" ||
        die "$kernel is not a Multiboot2 kernel; GRUB would refuse it"
    [ -z "$initrd" ] || [ -f "$initrd" ] || die "no boot archive at $initrd: run \`make\` first"
    [ -f "$TEMPLATE" ] || die "missing template $TEMPLATE"
    need_root install
    if [ -z "$destdir" ] && [ ! -d /etc/grub.d ]; then
        die "/etc/grub.d does not exist: this system does not use GRUB 2's grub-mkconfig (see docs/install.md for the manual way)"
    fi

    script=$(mktemp)  # global: the EXIT trap runs after this function returns
    trap 'rm -f "$script"' EXIT
    render_script > "$script"
    sh -n "$script" || die "the generated grub.d script is not valid sh"

    # A staging root may lack the directories; the real root's are left as
    # they are (their owners and modes are the distribution's).
    [ -z "$destdir" ] || step mkdir -p "$destdir/boot" "$destdir/etc/grub.d"
    step install -m 0644 "$kernel" "$destdir$KERNEL_PATH"
    [ -z "$initrd" ] || step install -m 0644 "$initrd" "$destdir$INITRD_PATH"
    if [ -n "$dry_run" ]; then
        echo "would write $destdir$SCRIPT_PATH (mode 0755), printing this entry:"
        sed -n '/^menuentry /,/^}/p' "$script" | sed 's/^/    /'
    fi
    step install -m 0755 "$script" "$destdir$SCRIPT_PATH"
    regenerate
}

# Removes exactly the two installed files; a file at SCRIPT_PATH that this
# installer did not write is left alone.
do_uninstall() {
    need_root uninstall
    local script=$destdir$SCRIPT_PATH kernel=$destdir$KERNEL_PATH initrd=$destdir$INITRD_PATH
    if [ -e "$script" ]; then
        grep -q "^# Installed as /etc/grub.d/45_$name by \`make install\`" "$script" ||
            die "$script was not written by this installer; not removing it"
        step rm -f "$script"
    else
        echo "install: $script is not there; nothing to remove"
    fi
    if [ -e "$kernel" ]; then
        step rm -f "$kernel"
    else
        echo "install: $kernel is not there; nothing to remove"
    fi
    [ ! -e "$initrd" ] || step rm -f "$initrd"
    regenerate
}

case "${1:-}" in
    install) [ $# -eq 2 ] || [ $# -eq 3 ] || usage; do_install "$2" "${3:-}" ;;
    uninstall) [ $# -eq 1 ] || usage; do_uninstall ;;
    *) usage ;;
esac

# kestrel: build, boot and test the kernel.
#
#   make run      build everything and boot it in QEMU
#   make test     build everything and run every test (K=EXPR: only the
#                 end-to-end tests pytest's -k EXPR selects)
#   make iso      build/os.iso (GRUB + kernel), bootable under BIOS and UEFI
#   make debug    boot paused with a GDB stub on :1234 (GDB reads build/kernel.elf)
#   make install  (as root) add the kernel to the GRUB menu beside Linux
#   make uninstall  remove it again
#   make lint     rustfmt and clippy (host and kernel target), as make test does
#   make bench    boot times, in-kernel phases, sizes, console, heap, idle and
#                 input figures: one table, also written to build/bench.json
#   make screenshot  boot headless, write PNG pictures of the screen to docs/
#   make clean    remove build/ and cargo's target directory
#
# Variables (e.g. `make run CMDLINE="loglevel=debug" UEFI=1`):
#   CMDLINE   kernel command line written into the generated grub.cfg
#   UEFI=1    boot with OVMF (UEFI firmware) instead of SeaBIOS
#   ACCEL     QEMU accelerator: tcg (default) or kvm
#   PROFILE   release (default) or debug (no optimisation)
#   MEMORY    guest RAM for QEMU (default 128M)
#   SMP       CPUs for QEMU: `make run` boots 2 unless told; `make test SMP=4`
#             runs every test that does not choose its own count on 4
#   ENTRY     menu entry `make run` boots: 0 the kernel (default), 1 the self-test
#   DESTDIR   install/uninstall: stage under this root instead of /
#   DRY_RUN=1 install/uninstall: print each step without doing it
#   K         test: a pytest -k expression; runs only the e2e tests it selects
#   PYTHON    test/bench: the interpreter (default: python3 if it has pytest
#             and pytest-xdist, else /usr/bin/python3, where Debian's
#             python3-pytest and python3-pytest-xdist install them)

CMDLINE ?=
UEFI    ?=
ACCEL   ?= tcg
PROFILE ?= release
MEMORY  ?= 128M
ENTRY   ?= 0
SMP     ?=
export CMDLINE UEFI ACCEL PROFILE MEMORY ENTRY SMP

# Expanded when a recipe uses it, so after setup has installed pytest.
PYTHON ?= $(shell for p in python3 /usr/bin/python3; do \
            $$p -c 'import pytest, xdist' 2>/dev/null && { echo $$p; exit; }; \
          done; echo /usr/bin/python3)

TARGET      := x86_64-kernel
BUILD       := build
# The kernel GRUB loads (the ISO, `make install`): no debug sections, but
# .symtab/.strtab, which the fault backtraces read. GRUB loads every section
# of the file into RAM, debug information included, and reading megabytes of
# it off a CD is most of a boot's time. The full ELF, for GDB, is KERNEL_ELF.
KERNEL      := $(BUILD)/kernel.bin
KERNEL_ELF  := $(BUILD)/kernel.elf
ISO         := $(BUILD)/os.iso
CARGO       := cargo +nightly
CARGO_FLAGS := -Z build-std=core,compiler_builtins,alloc \
               -Z build-std-features=compiler-builtins-mem \
               -Z json-target-spec --target $(TARGET).json

ifeq ($(PROFILE),release)
  CARGO_FLAGS += --release
  CARGO_DIR   := release
else ifeq ($(PROFILE),debug)
  CARGO_DIR   := debug
else
  $(error PROFILE must be release or debug, not '$(PROFILE)')
endif

RUST_LIB    := target/$(TARGET)/$(CARGO_DIR)/libkestrel.a
# The benchmark build (`make bench`): the same kernel with the cargo feature
# `bench` (the second heap allocator it measures), in its own target dir.
BENCH_LIB   := target/bench/$(TARGET)/$(CARGO_DIR)/libkestrel.a
BENCH_KERNEL := $(BUILD)/kernel-bench.bin
BENCH_ELF   := $(BUILD)/kernel-bench.elf
# The reference kernel the benchmark compares boot times with (bench/reference/).
REFERENCE   := $(BUILD)/reference.bin
ASM_SRC     := $(wildcard asm/*.asm)
ASM_OBJ     := $(patsubst asm/%.asm,$(BUILD)/asm/%.o,$(ASM_SRC))
SETUP_STAMP := $(BUILD)/.setup-done
# User space: the programs and the initrd archive (INITRD, build/initrd.tar).
include user/user.mk

.PHONY: all setup kernel iso run debug test lint bench screenshot clean install uninstall FORCE

all: iso

# Install what is missing (apt packages, rust-src): checked once per build
# tree before the first build; `make setup` checks again.
setup:
	@bash scripts/setup.sh
	@mkdir -p $(BUILD) && touch $(SETUP_STAMP)
$(SETUP_STAMP): scripts/setup.sh
	@bash scripts/setup.sh
	@mkdir -p $(BUILD) && touch $@

kernel: $(KERNEL)

# Cargo knows when the library is stale; always ask it.
$(RUST_LIB): FORCE | $(SETUP_STAMP)
	$(CARGO) build $(CARGO_FLAGS)

$(BUILD)/asm/%.o: asm/%.asm | $(SETUP_STAMP)
	@mkdir -p $(dir $@)
	nasm -f elf64 -w+all -o $@ $<

# A stamp per profile, so that switching PROFILE relinks the kernel even when
# the other profile's library is older than build/kernel.bin.
PROFILE_STAMP := $(BUILD)/.profile-$(PROFILE)
$(PROFILE_STAMP):
	@mkdir -p $(BUILD) && rm -f $(BUILD)/.profile-* && touch $@

# The kernel ELF: the trampoline's objects and the Rust library, laid out by
# linker.ld. --gc-sections drops unused code (the Multiboot2 header is KEPT).
LINK = ld -n --gc-sections -z noexecstack -z max-page-size=0x1000 -T linker.ld
$(KERNEL_ELF): $(ASM_OBJ) $(RUST_LIB) linker.ld $(PROFILE_STAMP)
	$(LINK) -o $@ $(ASM_OBJ) $(RUST_LIB)

# The file GRUB loads: no debug sections, the symbol table kept (names in
# backtraces), everything after the 32-bit boot code compressed; the boot
# code unpacks it (scripts/pack.py, asm/unpack.asm).
PACK = $(PYTHON) scripts/pack.py
$(KERNEL): $(KERNEL_ELF) scripts/pack.py
	$(PACK) $< $@
	grub-file --is-x86-multiboot2 $@

$(BENCH_LIB): FORCE | $(SETUP_STAMP)
	$(CARGO) build $(CARGO_FLAGS) --features bench --target-dir target/bench

$(BENCH_ELF): $(ASM_OBJ) $(BENCH_LIB) linker.ld $(PROFILE_STAMP)
	$(LINK) -o $@ $(ASM_OBJ) $(BENCH_LIB)

$(BENCH_KERNEL): $(BENCH_ELF) scripts/pack.py
	$(PACK) $< $@

# Multiboot2 header, `ready` on COM1, halt: what a boot costs without us.
$(REFERENCE): bench/reference/reference.asm bench/reference/reference.ld | $(SETUP_STAMP)
	@mkdir -p $(dir $@)
	nasm -f elf32 -w+all -o $(BUILD)/reference.o $<
	ld -m elf_i386 -n -T bench/reference/reference.ld -o $@ $(BUILD)/reference.o
	grub-file --is-x86-multiboot2 $@

iso: $(ISO)

# The ISO depends on CMDLINE too: scripts/mkiso.sh regenerates grub.cfg.
$(ISO): $(KERNEL) $(INITRD) grub/grub.cfg.in scripts/mkiso.sh FORCE
	@bash scripts/mkiso.sh $@ $(KERNEL) "$(CMDLINE)"

run: $(ISO)
	@bash scripts/run.sh $(ISO)

debug: $(ISO)
	@bash scripts/run.sh --debug $(ISO)

# K is passed through the environment (make exports command-line
# variables), so any expression survives the shell's quoting.
test: lint $(ISO)
	@$(PYTHON) tests/run_all.py $(if $(K),-k "$$K")

# The rules the build keeps: the modules' one dependency direction (the
# layers block in src/lib.rs) and no import circle between files; rustfmt's
# layout, and no clippy warning on the host (the pure modules and their
# tests) or the kernel target (everything, with the crate's own lints such
# as undocumented unsafe blocks).
lint: | $(SETUP_STAMP)
	$(PYTHON) scripts/layers.py
	$(CARGO) fmt --check
	$(CARGO) clippy --quiet --tests -- -D warnings
	$(CARGO) clippy --quiet $(CARGO_FLAGS) -- -D warnings
	$(CARGO) clippy --quiet $(CARGO_FLAGS) --features bench --target-dir target/bench -- -D warnings

# Beside Linux: /boot/<crate>.bin, the programs' archive /boot/<crate>-initrd.tar
# and /etc/grub.d/45_<crate> (scripts/install.sh).
# The kernel and the archive are built only when missing, so `make && sudo make install` does
# not need root to have a Rust toolchain.
export DESTDIR DRY_RUN
install:
	@[ -f $(KERNEL) ] || $(MAKE) --no-print-directory kernel
	@[ -f $(INITRD) ] || $(MAKE) --no-print-directory initrd
	@bash scripts/install.sh install $(KERNEL) $(INITRD)

uninstall:
	@bash scripts/install.sh uninstall

# Not a test: every figure the project measures, in one table (and
# build/bench.json). It boots the shipped ISO, this kernel and the reference
# kernel in default grub-mkrescue ISOs, and the benchmark build (cargo
# feature `bench`: the naive writers, the second allocator).
bench: $(ISO) $(BENCH_KERNEL) $(REFERENCE)
	@BENCH_KERNEL=$(BENCH_KERNEL) REFERENCE=$(REFERENCE) $(PYTHON) tests/bench.py

# The README's pictures: the VGA text screen under BIOS, the framebuffer
# under UEFI, and a boot that scrolled (docs/*.png).
screenshot: $(ISO)
	@$(PYTHON) tests/screenshot.py

clean:
	rm -rf $(BUILD) target

FORCE:

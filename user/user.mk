# User space: the programs of the initrd and the archive itself.
# Included by the top Makefile (which defines BUILD, CARGO, SETUP_STAMP).
#
#   make build/initrd.tar   (or `make initrd`) the ustar archive the kernel
#                           loads: bin/<program>, data/, etc/
#   make user               every program, unstripped, under build/user/
#
# C programs: user/c/NAME.c, one file each, built with musl-gcc into static
# executables (add NAME to USER_C_PROGRAMS). Rust programs: crates of the
# workspace user/rust/ (add the crate to its members and the binary's name
# to USER_RUST_PROGRAMS). Files copied as they are: user/initrd/.

# Included before the top Makefile's first rule: keep its default goal.
USER_DEFAULT_GOAL := $(.DEFAULT_GOAL)

INITRD           := $(BUILD)/initrd.tar
USER_BUILD       := $(BUILD)/user
USER_C_PROGRAMS  := hello ls cat fault sysfuzz kbench same sleep spin
USER_RUST_PROGRAMS := echo true false

USER_CC          := musl-gcc
USER_CFLAGS      := -static -O2 -g -Wall -Wextra -Werror -std=gnu11
USER_LDFLAGS     := -Wl,-z,noexecstack
USER_CHECK       := sh user/check-elf.sh

USER_RUST_TARGET := x86_64-user
USER_CARGO_DIR   := $(USER_BUILD)/rust-target
USER_CARGO_FLAGS := --release -Z build-std=core \
                    -Z build-std-features=compiler-builtins-mem \
                    -Z json-target-spec --target $(USER_RUST_TARGET).json \
                    --target-dir $(abspath $(USER_CARGO_DIR))

USER_C_BINS      := $(addprefix $(USER_BUILD)/c/,$(USER_C_PROGRAMS))
USER_RUST_BINS   := $(addprefix $(USER_BUILD)/rust/,$(USER_RUST_PROGRAMS))
USER_FILES       := $(shell find user/initrd -type f 2>/dev/null | sort)

.PHONY: user initrd

user: $(USER_C_BINS) $(USER_RUST_BINS)
initrd: $(INITRD)

$(USER_BUILD)/c/%: user/c/%.c user/user.mk | $(SETUP_STAMP)
	@mkdir -p $(dir $@)
	$(USER_CC) $(USER_CFLAGS) -o $@ $< $(USER_LDFLAGS)
	@$(USER_CHECK) $@

# Cargo knows when the programs are stale; always ask it, and copy only
# what changed, so that the archive is rebuilt only then.
$(USER_RUST_BINS) &: FORCE | $(SETUP_STAMP)
	cd user/rust && $(CARGO) build $(USER_CARGO_FLAGS)
	@mkdir -p $(USER_BUILD)/rust
	@for p in $(USER_RUST_PROGRAMS); do \
	    from=$(USER_CARGO_DIR)/$(USER_RUST_TARGET)/release/$$p; \
	    cmp -s $$from $(USER_BUILD)/rust/$$p || cp $$from $(USER_BUILD)/rust/$$p; \
	done
	@$(USER_CHECK) $(USER_RUST_BINS)

# The archive: POSIX ustar (never GNU tar's default format), stripped
# programs, owner 0, mtime 0, sorted names: the same bytes every build.
$(INITRD): $(USER_C_BINS) $(USER_RUST_BINS) $(USER_FILES) user/user.mk
	@rm -rf $(USER_BUILD)/root
	@mkdir -p $(USER_BUILD)/root/bin
	@cp -R user/initrd/. $(USER_BUILD)/root/
	@for f in $(USER_C_BINS) $(USER_RUST_BINS); do \
	    strip -o $(USER_BUILD)/root/bin/$${f##*/} $$f || exit 1; \
	done
	@chmod -R u=rwX,go=rX $(USER_BUILD)/root
	@chmod 755 $(USER_BUILD)/root/bin/*
	tar --format=ustar --owner=0 --group=0 --numeric-owner --mtime=@0 \
	    --sort=name -C $(USER_BUILD)/root -cf $@.tmp bin data etc
	@mv $@.tmp $@

.DEFAULT_GOAL := $(USER_DEFAULT_GOAL)

//! kestrel: a small x86_64 kernel in Rust, booted by GRUB through Multiboot2.
//!
//! The boot path, in the order it runs:
//!
//! 1. `asm/` — the 32-bit trampoline GRUB jumps to: checks, page tables, long
//!    mode, then `call rust_main`.
//! 2. [`rust_main`] (below) — an ordered list of init steps.
//! 3. [`arch`] — the CPU: GDT and TSS, the exception table, paging, halting.
//! 4. [`console`] — VGA text screen and serial port, `println!`.
//! 5. [`boot_info`] — what GRUB handed over, validated and reported.
//! 6. [`memory`] — physical memory: the frame allocator.
//!
//! Pure logic (command-line parsing, and everything else that does not touch
//! hardware) compiles on the host too, where `cargo test` runs its unit tests.
//! Hardware modules exist only when building for the kernel target
//! (`target_os = "none"`).

#![cfg_attr(not(test), no_std)]
#![cfg_attr(target_os = "none", feature(abi_x86_interrupt))]

#[macro_use]
pub mod console;

#[cfg(target_os = "none")]
pub mod arch;
pub mod boot_info;
pub mod cmdline;
#[cfg(test)]
mod test_rng;
pub mod memory;
#[cfg(target_os = "none")]
mod panic;
#[cfg(target_os = "none")]
pub mod selftest;

/// The banner: the crate's name and version, the first line on every console.
pub const BANNER: &str = concat!(env!("CARGO_PKG_NAME"), " ", env!("CARGO_PKG_VERSION"));

/// Stops the boot: prints `boot error: <what>` on both consoles and halts.
/// For input the kernel cannot go on with (bad boot information); the
/// trampoline's own checks print the same prefix.
#[cfg(target_os = "none")]
pub fn boot_error(what: core::fmt::Arguments) -> ! {
    println!("boot error: {what}");
    arch::halt_forever()
}

/// The kernel's entry from `asm/long_mode.asm`, in 64-bit mode with the first
/// 4 GiB identity-mapped, interrupts off, on the boot stack.
///
/// `mbi_addr` is the physical address of the Multiboot2 boot information and
/// `magic` the value GRUB left in EAX (already checked by the assembly).
#[cfg(target_os = "none")]
#[unsafe(no_mangle)]
pub extern "C" fn rust_main(mbi_addr: usize, magic: u32) -> ! {
    // 1. Consoles first, so every later step can report what goes wrong:
    //    the serial port (if there is one) and the VGA text screen.
    console::init();
    println!("{}", BANNER);
    if !console::serial::present() {
        log::warn!("no serial port");
    }

    // 2. Our own GDT with a TSS, and the exception table, so that a CPU fault
    //    prints what happened and halts instead of resetting the machine.
    arch::init();

    // 3. The boot information: where GRUB put it, checked tag by tag; the
    //    frame allocator over its memory map; the boot report (a summary on
    //    screen, every line on serial).
    let boot = boot_info::load(mbi_addr, magic);
    let free_frames = memory::init(boot);
    let kernel = memory::kernel_range();
    boot_info::print_report(&boot_info::report::Report { boot, kernel, free_frames });

    // 4. The kernel command line. The log level is set before the line's
    //    own warnings are printed, so that `loglevel=error` silences them too.
    let options = cmdline::Options::parse(boot.cmdline(), |_| {});
    console::logger::set_level(options.loglevel.0);
    cmdline::Options::parse(boot.cmdline(), |problem| log::warn!("{problem}"));
    log_boot_details(boot);

    // 5. `selftest` on the command line: run the in-kernel tests, then stop.
    if options.selftest {
        selftest::run(&selftest::Context { boot, options: &options });
    }

    // 6. `bench` on the command line: time the screen writer, then go on.
    if options.bench {
        console::bench::run();
    }

    // 7. Done: tests and users wait for this exact line.
    println!("ready");

    // 8. `panic=...` on the command line: show the panic screen on purpose.
    if let Some(kind) = options.panic {
        panic::deliberate(kind);
    }
    arch::halt_forever()
}

/// What the init steps before the command line did, for `loglevel=debug`
/// (each step) and `loglevel=trace` (details, such as every boot-information
/// tag); logged once the level is known. The boot report says the rest.
#[cfg(target_os = "none")]
fn log_boot_details(boot: &boot_info::BootInfo) {
    use console::screen::{HEIGHT, MEMORY_ROWS, WIDTH};
    log::debug!(
        "console: VGA text {WIDTH}x{HEIGHT} at {:#x}, serial {}",
        console::vga::VGA_TEXT_BUFFER,
        if console::serial::present() { "on COM1" } else { "absent" }
    );
    log::trace!("console: hardware scrolling through {MEMORY_ROWS} rows of text memory");
    log::debug!("arch: GDT with TSS, and exception handlers, loaded");
    log::debug!("boot info: checked, memory map handed to the frame allocator");
    for tag in boot.mbi.tags() {
        let header = tag.header();
        log::trace!(
            "boot info: tag {:?}, {} bytes",
            multiboot2::TagType::from(header.typ),
            header.size
        );
    }
    log::debug!("log level: {}", log::max_level());
}

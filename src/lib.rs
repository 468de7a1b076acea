//! kestrel: a small x86_64 kernel in Rust, booted by GRUB through Multiboot2.
//!
//! ## The boot path, in the order it runs
//!
//! - `asm/` — the 32-bit trampoline GRUB jumps to: checks, page tables, long
//!   mode, then `call rust_main` (its step 0).
//! - [`rust_main`] (below), whose numbered steps are the one list of the
//!   init order: the serial port
//!   ([`console`]); the GDT, TSS and exception table ([`arch`], with the
//!   policy of [`exceptions`]); the boot information ([`boot_info`]); the
//!   screen it describes; the symbol table ([`debug`]); the command line
//!   ([`cmdline`]); frames, page tables and the heap ([`memory`]); the boot
//!   report ([`report`]); ACPI ([`firmware`]), the interrupt controller
//!   ([`interrupts`]), the tick ([`time`]) and the keyboard and serial
//!   input ([`input`]); then interrupts on; after `ready`, the [`shell`],
//!   on both consoles.
//!
//! Pure logic (command-line parsing, and everything else that does not touch
//! hardware) compiles on the host too, where `cargo test` runs its unit tests.
//! Hardware modules exist only when building for the kernel target
//! (`target_os = "none"`).
//!
//! ## One direction
//!
//! The modules depend on each other in one direction, stated here one layer a
//! line, the bottom layer first: a module may use those on earlier lines only
//! (not its peers on its own line), and none uses the crate root. A lower
//! layer reaches a higher one only through what the higher one registered at
//! init: the exception policy ([`arch::set_exception_handler`]) and each
//! driver's interrupt handler ([`interrupts::register_irq`]). Test-only code
//! (`tests`, `ktests`) and the `println!`/`log` macros are exempt.
//! `scripts/layers.py` (`make lint`) checks it.
//!
//! ```layers
//! text bytes test_rng   leaves: pure helpers anyone may use
//! arch                  the CPU and the PC's chips: mechanism, no policy
//! memory                frames, page tables, the heap
//! console               the screens and the serial port, println!
//! boot_info             what GRUB handed over, validated
//! debug                 fault details in words, symbols, backtraces
//! panic                 the panic screen
//! exceptions            what a CPU exception does: report, then stop
//! interrupts            controllers, vectors, the handler table
//! sched                 threads, the scheduler, locks that sleep
//! time                  the tick and the clock
//! boot_timing firmware  boot phase times; ACPI tables
//! smp                   the other CPUs: started, each with its idle thread
//! power                 reboot and power off
//! input                 keyboard and serial keys
//! process               address spaces, ELF loading, the initrd, programs
//! syscall               Linux's system calls, for programs
//! cmdline               the kernel command line
//! selftest              the in-kernel test runner
//! report                the boot report, across every layer below
//! shell                 the prompt and its commands
//! ```
//!
//! Why this order: the CPU layer is a leaf, so threads, more CPUs and user
//! mode can extend it without tangling; memory sits right above it, because
//! everything else (the framebuffer, the boot information's views, ACPI's
//! tables) is reached through its mappings; the console comes next, so every
//! layer above can print and the panic path needs nothing higher; the
//! policies (panic, exceptions) sit below the devices, which can fail into
//! them; drivers sit above the interrupt table they register with.

#![cfg_attr(not(test), no_std)]
#![cfg_attr(target_os = "none", feature(abi_x86_interrupt))]
// `#[optimize(speed)]` on the few hot loops (the framebuffer renderer) in a
// kernel otherwise built for size (Cargo.toml).
#![feature(optimize_attribute)]
// Every `unsafe` block says why it is sound, in a `// SAFETY:` comment.
#![deny(clippy::undocumented_unsafe_blocks)]
// The kernel is a static library whose one entry point is `rust_main`, so
// its modules are private and the compiler reports code nothing calls. On the
// host only the pure modules' tests are built, and the kernel glue that uses
// the rest is absent, so that report would be noise there.
#![cfg_attr(not(target_os = "none"), allow(dead_code))]

// On the host too: the shell's pure line editor and history, and the
// scheduler's policy, use the heap's collections.
extern crate alloc;

#[macro_use]
mod console;

mod arch;
mod boot_info;
mod boot_timing;
mod bytes;
mod cmdline;
mod debug;
#[cfg(target_os = "none")]
mod exceptions;
mod firmware;
mod input;
#[cfg(target_os = "none")]
mod interrupts;
mod memory;
mod panic;
#[cfg(target_os = "none")]
mod power;
pub mod process;
mod report;
mod sched;
#[cfg(target_os = "none")]
mod selftest;
mod shell;
#[cfg(target_os = "none")]
mod smp;
#[cfg(target_os = "none")]
mod syscall;
mod test_rng;
mod text;
mod time;

/// The banner: the crate's name and version, the first line on every console.
pub const BANNER: &str = concat!(env!("CARGO_PKG_NAME"), " ", env!("CARGO_PKG_VERSION"));

/// Every module's in-kernel test suite, in the order `selftest` runs them.
/// A module's `ktests::TESTS` is `pub(crate)`: one left out of this list is
/// never used, and the compiler says so (`dead_code`), so no suite can be
/// forgotten silently.
#[cfg(target_os = "none")]
const SELF_TEST_SUITES: &[&[selftest::Test]] = &[
    cmdline::ktests::TESTS,
    console::ktests::TESTS,
    boot_info::ktests::TESTS,
    debug::ktests::TESTS,
    memory::ktests::TESTS,
    memory::ktests::paging::TESTS,
    memory::ktests::heap::TESTS,
    arch::ktests::TESTS,
    interrupts::ktests::TESTS,
    time::ktests::TESTS,
    input::ktests::TESTS,
    sched::ktests::TESTS,
    smp::ktests::TESTS,
];

/// Stops the boot: prints `boot error: <what>` on both consoles and halts.
/// For input the kernel cannot go on with (bad boot information); the
/// trampoline's own checks print the same prefix.
#[cfg(target_os = "none")]
pub fn boot_error(what: core::fmt::Arguments) -> ! {
    println!("boot error: {what}");
    console::flush();
    arch::halt_forever()
}

/// The kernel's entry from `asm/long_mode.asm`, in 64-bit mode at its high
/// address, with the boot page tables (the image high, the first 4 GiB in
/// the direct map and identity-mapped), interrupts off, on the boot stack.
///
/// `mbi_addr` is the physical address of the Multiboot2 boot information,
/// `magic` the value GRUB left in EAX (already checked by the assembly) and
/// `boot_tsc` the timestamp counter at the trampoline's first instruction.
///
/// Each step ends with a [`boot_timing::mark`], so `loglevel=debug` shows
/// how long each took (`make bench` too); a new step adds one.
///
/// Each step logs what it did where it does it. Until step 4 has read the
/// log level from the command line, those records are held back, then
/// printed after the banner (or dropped, as the level says).
#[cfg(target_os = "none")]
#[unsafe(no_mangle)]
pub extern "C" fn rust_main(mbi_addr: usize, magic: u32, boot_tsc: u64) -> ! {
    // 0. The trampoline: its checks, the boot page tables, long mode. Its
    //    first instruction read the timestamp counter: the boot's time zero,
    //    for the boot times and for uptime.
    boot_timing::start(boot_tsc);
    time::mark_boot(boot_tsc);
    boot_timing::mark("trampoline");

    // 1. The serial port (if there is one) and the log facade. Nothing is
    //    printed yet: the screen depends on the boot information (step 3).
    console::init_early();
    boot_timing::mark("serial");

    // 2. Our own GDT with a TSS, and the exception table, so that a CPU fault
    //    prints what happened and halts instead of resetting the machine;
    //    what the report says is the exception policy's, registered with
    //    the CPU layer here.
    arch::init();
    exceptions::init();
    //    Then the lower half is left to programs: the boot tables' identity
    //    map, which only the jump into long mode needed, goes; the kernel
    //    runs in the top 2 GiB and reaches physical memory through the
    //    direct map from here on.
    memory::paging::leave_lower_half();
    boot_timing::mark("gdt and idt");

    // 3. The boot information: where GRUB put it, checked tag by tag without
    //    printing; then the screen it describes (VGA text, a framebuffer, or
    //    none), and the banner on it, or the `boot error:` line and a halt;
    //    then the kernel's symbol table it points to, so that backtraces
    //    name functions.
    let loaded = boot_info::load(mbi_addr, magic);
    boot_timing::mark("boot information");
    let screen = console::init_screen(match &loaded {
        Ok(boot) => boot.framebuffer(),
        Err(failed) => failed.framebuffer,
    });
    println!("{}", BANNER);
    serial_println!("console: {screen}");
    boot_timing::mark("screen");
    let boot = loaded.unwrap_or_else(|failed| boot_error(format_args!("{}", failed.error)));
    debug::init(boot);
    boot_timing::mark("symbols");

    // 4. The kernel command line. Its log level applies from here on, to
    //    the records held so far and to the line's own warnings, which a
    //    second pass prints once the level is set: held back, the warnings
    //    of a long line would overflow the backlog.
    let options = cmdline::Options::parse(boot.cmdline(), |_| {});
    console::logger::set_level(options.loglevel.0);
    cmdline::Options::parse(boot.cmdline(), |problem| log::warn!("{problem}"));
    boot_timing::mark("cmdline");

    // 5. Memory: the reserved list and the frame allocator over the memory
    //    map; the kernel's own page tables (W^X, the direct map of all RAM),
    //    replacing the boot tables; the heap, so `alloc` works from here on.
    let reserved = boot_info::reserved_ranges(boot, memory::kernel_range())
        .unwrap_or_else(|error| boot_error(format_args!("{error}")));
    let free_frames = memory::init(boot.memory_areas(), reserved)
        .unwrap_or_else(|error| boot_error(format_args!("{error}")));
    boot_timing::mark("frames");
    let paging = memory::paging::init(boot.memory_areas(), boot.mbi_range())
        .unwrap_or_else(|error| boot_error(format_args!("{error}")));
    boot_timing::mark("paging");
    let usable = report::total_usable_bytes(boot.memory_areas());
    let heap = memory::heap::init(memory::layout::heap_limit(usable));
    boot_timing::mark("heap");
    //    Threads: the running code becomes the idle thread; the tick (step
    //    7) drives the scheduler from then on.
    sched::init();

    // 6. The boot report: a summary on screen, every line on serial.
    let report = report::Report {
        boot,
        kernel: memory::kernel_range(),
        kernel_virtual: memory::kernel_virtual_range(),
        free_frames,
        paging,
        heap,
    };
    report::print_report(&report);
    boot_timing::mark("report");

    // 6b. Programs: the boot archive GRUB loaded as the module `initrd`,
    //     read as a file tree (`initrd: N files, N KiB`, or why not); what
    //     a fault in ring 3 does; the system calls.
    let archive = boot.initrd().map(|range| {
        // SAFETY: the module is reserved RAM (never handed out), in the
        // direct map, and nothing writes it: read-only for the kernel's
        // life.
        unsafe {
            core::slice::from_raw_parts(
                memory::phys_to_virt(range.start) as *const u8,
                range.size() as usize,
            )
        }
    });
    report::initrd(&process::program::init(archive));
    syscall::init();

    // 7. Interrupts: ACPI's tables, the controller they describe (or the
    //    8259s), the tick calibrated against the PIT, keyboard and serial
    //    input; then interrupts on. Prints `interrupts:`, `timer:` and,
    //    without a PS/2 controller, `keyboard:`.
    let acpi = firmware::init(boot);
    let controller = interrupts::init(acpi.map_or(Err(interrupts::NoApic::NoAcpiTables), |acpi| {
        acpi.apic.clone()
    }));
    time::init(matches!(controller, interrupts::Controller::Apic { .. }));
    input::init(options.keymap, acpi.is_some_and(|acpi| acpi.no_8042));
    arch::enable_interrupts();
    boot_timing::set_tsc_hz(time::tsc_hz());
    boot_timing::mark("interrupts and timer");

    // 7b. The other CPUs the MADT lists, one at a time, each to its own
    //     idle thread and tick; from here threads run on every CPU. Prints
    //     `cpus: N online (apic ids ...)`.
    smp::start_others(acpi.map_or(&[], |acpi| acpi.processors.as_slice()));
    boot_timing::mark("cpus");

    // 8. `selftest` on the command line: run the in-kernel tests, then stop.
    //    The options live on for the shell's thread.
    let options = keep(options);
    let tests = keep(selftest::Context { boot, options });
    //    They run in a thread of their own, as under the shell (the threads'
    //    tests block, which the idle thread cannot); it stops the kernel.
    if options.selftest {
        run_in_thread("selftest", move || selftest::run(SELF_TEST_SUITES, tests));
    }

    // 9. `bench` on the command line: time the screen writer and the heap,
    //    then go on. The benchmarks are only in the benchmark build (cargo
    //    feature `bench`, which `make bench` boots); this word says so in
    //    any other.
    if options.bench {
        #[cfg(feature = "bench")]
        {
            console::bench::run();
            memory::heap_bench::run(time::tsc_hz());
            // The thread benchmarks block: in a thread, the boot code idle
            // until it is done.
            static DONE: core::sync::atomic::AtomicBool =
                core::sync::atomic::AtomicBool::new(false);
            let started = sched::spawn_detached("bench", false, || {
                sched::bench::run();
                smp::bench::run();
                DONE.store(true, core::sync::atomic::Ordering::Release);
                0
            });
            if started.is_ok() {
                sched::idle_until(|| DONE.load(core::sync::atomic::Ordering::Acquire));
            }
        }
        #[cfg(not(feature = "bench"))]
        log::warn!("bench: this build has no benchmarks (`make bench` boots the one that has)");
        boot_timing::mark("bench");
    }

    // 10. How long each step took (`loglevel=debug`), up to here.
    boot_timing::report();

    // 11. Done: tests and users wait for this exact line.
    println!("ready");

    // 12. `crash=...` or `panic=...` on the command line: fault or panic on
    //     purpose, to show the report. (`crash=breakpoint` carries on.)
    if let Some(kind) = options.crash {
        debug::crash(kind);
    }
    if let Some(kind) = options.panic {
        panic::deliberate(kind);
    }
    console::flush();
    //     `keytest` instead of the shell: in a thread too, since it blocks
    //     for keys (the boot code becomes the idle thread either way).
    if options.keytest {
        run_in_thread("keytest", || shell::keytest::run());
    }

    // 13. The shell, on both consoles, in a thread of its own, for good;
    //     `noshell`: halt as before. The boot code then is the idle thread.
    if options.noshell {
        arch::halt_forever()
    }
    shell::programs::init(options.serial_columns.0);
    let context = keep(shell::Context {
        report: keep(report),
        tests,
        suites: SELF_TEST_SUITES,
        serial_columns: options.serial_columns.0,
    });
    run_in_thread("shell", move || shell::run(context))
}

/// `value`, kept for the kernel's life: what the boot code hands to the
/// threads it starts (the boot code itself never returns).
#[cfg(target_os = "none")]
fn keep<T>(value: T) -> &'static T {
    alloc::boxed::Box::leak(alloc::boxed::Box::new(value))
}

/// Runs `entry` in a thread called `name`, which never ends, and makes the
/// boot code the idle thread; or the `boot error:` line when the thread
/// cannot start.
#[cfg(target_os = "none")]
fn run_in_thread(name: &str, entry: impl FnOnce() -> usize + Send + 'static) -> ! {
    if let Err(why) = sched::spawn_detached(name, false, entry) {
        boot_error(format_args!("cannot start the {name} thread: {why}"));
    }
    sched::run_idle()
}

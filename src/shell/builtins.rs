//! What each shell command does, on the running kernel. The table, the
//! parser and the descriptions are [`super::commands`]; this file is the
//! glue to the rest of the kernel: consoles, memory, CPU, interrupts, time,
//! power, the self-test and the crash kinds.

use alloc::string::String;
use core::fmt::Write;

use super::commands::{self, Command, Parsed, TABLE};
use super::cpu::CpuInfo;
use super::{Consoles, Context};
use crate::debug::Crash;
use crate::memory::{self, PAGE_SIZE};
use crate::report::total_usable_bytes;

/// The width `help` pads a command and its arguments to.
const HELP_COLUMN: usize = 16;

/// Runs the command on an entered `line`; prints what it has to say and
/// returns (except `panic`, `crash` with a fatal kind, `reboot` and
/// `poweroff`).
pub fn execute(line: &str, context: &Context, consoles: &mut Consoles) {
    let (command, arguments) = match commands::parse(line) {
        Parsed::Empty => return,
        Parsed::Unknown(name) => {
            if !super::programs::run(line) {
                println!("unknown command: {name} (try help)");
            }
            return;
        }
        Parsed::Run(command, arguments) => (command, arguments),
    };
    // The table says which commands take arguments (an `arguments` text).
    let entry = TABLE.iter().find(|e| e.command == command);
    let takes_arguments = entry.is_some_and(|e| !e.arguments.is_empty());
    if !takes_arguments && !arguments.is_empty() {
        let name = entry.map_or("", |e| e.name);
        println!("{name}: takes no arguments (try help)");
        return;
    }
    match command {
        Command::Help => help(),
        Command::Clear => crate::console::clear_screen(),
        Command::Echo => echo(arguments),
        Command::Uptime => {
            let up = crate::time::uptime();
            println!("uptime: {}.{:03} s", up.as_secs(), up.subsec_millis());
        }
        Command::Cpu => {
            print!("{}", CpuInfo::read(crate::arch::cpuid));
            cpu_list();
        }
        Command::Mem => mem(context),
        Command::Bootinfo => crate::report::print_report(context.report),
        Command::Interrupts => {
            let _ = crate::report::interrupts::report(consoles);
        }
        Command::Selftest => {
            crate::selftest::run_and_return(context.suites, context.tests);
        }
        Command::Panic => panic!("deliberate panic (the shell's panic command)"),
        Command::Crash => crash(arguments),
        Command::Ps => ps(),
        Command::Spin => spin(arguments),
        Command::Sleep => sleep(arguments),
        Command::Kill => kill(arguments),
        Command::Overflow => overflow(),
        Command::Time => super::programs::time(arguments),
        Command::Reboot => crate::power::reboot(),
        Command::Poweroff => crate::power::poweroff(),
    }
}

/// `help`: every command, its arguments and description; then the keys.
fn help() {
    for entry in TABLE {
        let mut usage = String::from(entry.name);
        if !entry.arguments.is_empty() {
            usage.push(' ');
            usage.push_str(entry.arguments);
        }
        println!("  {usage:<HELP_COLUMN$}{}", entry.description);
    }
    println!(
        "keys: Left/Right Home/End Backspace Delete, Up/Down history, Tab completes,\n  \
         Ctrl-U clears the line, Ctrl-C abandons it, Ctrl-L clears the screen,\n  \
         Shift-PgUp/Shift-PgDn scroll the screen back and forth"
    );
}

/// The end of `cpu`: every CPU the kernel knows of, by number, with its
/// APIC ID, and those not running (hotplug slots, CPUs that did not
/// answer).
fn cpu_list() {
    use crate::smp::CpuState;
    let cpus = crate::smp::cpus();
    let online = cpus
        .iter()
        .filter(|cpu| matches!(cpu.state, CpuState::Online { .. }))
        .count();
    println!("cpus: {online} online");
    for cpu in cpus {
        match cpu.state {
            CpuState::Online { number } => println!(
                "  cpu {number}: apic id {}{}",
                cpu.apic_id,
                if number == 0 { ", the boot CPU" } else { "" }
            ),
            CpuState::Hotplug => println!("  apic id {}: hotplug slot, not started", cpu.apic_id),
            CpuState::NoAnswer => println!("  apic id {}: did not answer, left out", cpu.apic_id),
            CpuState::Beyond => println!("  apic id {}: beyond the kernel's 64 CPUs", cpu.apic_id),
            CpuState::Unreachable => {
                println!(
                    "  apic id {}: beyond xAPIC's 8-bit IDs, left out",
                    cpu.apic_id
                )
            }
            CpuState::NotStarted => println!("  apic id {}: not started", cpu.apic_id),
        }
    }
}

/// `ps`: every thread, with the CPU it runs (or last ran) on, its CPU
/// time and how deep its stack went; then every running program (its
/// thread has the same ID), who started it and the memory it holds.
fn ps() {
    let hz = crate::time::tsc_hz().max(1);
    println!("   ID NAME             STATE     CPU  TIME ms  STACK KiB");
    for thread in crate::sched::threads() {
        let stack = thread.stack_used.map_or(String::from("boot"), |used| {
            alloc::format!("{}", used / 1024)
        });
        println!(
            "{:>5} {:<16} {:<9} {:>3} {:>8} {:>10}",
            thread.id,
            thread.name,
            thread.state,
            thread.cpu,
            thread.cycles * 1000 / hz,
            stack
        );
    }
    let programs = crate::process::program::processes();
    if !programs.is_empty() {
        println!("  PID NAME             PARENT  MEMORY KiB");
        for program in programs {
            println!(
                "{:>5} {:<16} {:>6} {:>11}",
                program.pid,
                program.name,
                program.parent,
                program.frames * PAGE_SIZE / 1024
            );
        }
    }
}

/// The one argument of `spin`, `sleep` and `kill`: a whole number, or a
/// usage line.
fn number(command: &str, what: &str, arguments: &str) -> Option<u64> {
    let mut words = commands::words(arguments);
    match (words.next().map(str::parse::<u64>), words.next()) {
        (Some(Ok(number)), None) => Some(number),
        _ => {
            println!("usage: {command} {what}");
            None
        }
    }
}

/// The longest `spin` and `sleep` take: a day.
const MAX_SECONDS: u64 = 24 * 60 * 60;

/// `spin SECONDS`: a thread that burns the CPU for that long; the prompt
/// comes back at once.
fn spin(arguments: &str) {
    let Some(seconds) = number("spin", "SECONDS", arguments) else {
        return;
    };
    if seconds > MAX_SECONDS {
        println!("spin: at most {MAX_SECONDS} seconds");
        return;
    }
    let spun = crate::sched::spawn_detached("spin", true, move || {
        let end = crate::time::uptime() + core::time::Duration::from_secs(seconds);
        let stop = crate::sched::stop_flag();
        let mut rounds = 0usize;
        while crate::time::uptime() < end && !stop.load(core::sync::atomic::Ordering::Relaxed) {
            rounds = rounds.wrapping_add(1);
            core::hint::spin_loop();
        }
        rounds
    });
    match spun {
        Ok(id) => println!("spin: thread {id}, {seconds} s"),
        Err(why) => println!("spin: {why}"),
    }
}

/// `sleep SECONDS`: the shell sleeps; other threads go on.
fn sleep(arguments: &str) {
    let Some(seconds) = number("sleep", "SECONDS", arguments) else {
        return;
    };
    if seconds > MAX_SECONDS {
        println!("sleep: at most {MAX_SECONDS} seconds");
        return;
    }
    crate::time::sleep(core::time::Duration::from_secs(seconds));
}

/// `kill ID`: stops a `spin` thread.
fn kill(arguments: &str) {
    let Some(id) = number("kill", "ID", arguments) else {
        return;
    };
    // A program's ID: ask it to stop (it ends at its next return to ring
    // 3, or out of a wait), as Ctrl-C does.
    if crate::process::program::request_stop(id) {
        // It stops at its next tick at the latest: wait up to a second.
        for _ in 0..100 {
            if crate::sched::has_exited(id) {
                break;
            }
            crate::time::sleep(core::time::Duration::from_millis(10));
        }
        println!("kill: program {id} asked to stop");
        return;
    }
    match crate::sched::kill(id) {
        Ok(()) => println!("kill: thread {id} stopped"),
        Err(why) => println!("kill: thread {id}: {why}"),
    }
}

/// `overflow`: a thread that recurses into its stack's guard page; the
/// double fault's report says `stack overflow in thread N (overflow)`.
fn overflow() {
    let started = crate::sched::spawn_detached("overflow", false, || {
        crate::debug::crash(crate::debug::Crash::StackOverflow);
        0
    });
    match started {
        Ok(id) => {
            println!("overflow: thread {id}");
            // Let it run now: its report is the last thing the kernel does.
            crate::sched::yield_now();
        }
        Err(why) => println!("overflow: {why}"),
    }
}

/// `echo WORDS`: the words, one space between each.
fn echo(arguments: &str) {
    let mut line = String::new();
    for (i, word) in commands::words(arguments).enumerate() {
        if i > 0 {
            line.push(' ');
        }
        line.push_str(word);
    }
    println!("{line}");
}

/// `mem`: usable RAM, free frames, heap use.
fn mem(context: &Context) {
    let usable = total_usable_bytes(context.report.boot.memory_areas());
    let free = memory::free_frames();
    let total = memory::with_frames(|frames| frames.total_frames());
    let heap = memory::heap::usage();
    println!("ram: {} KiB usable", usable / 1024);
    println!(
        "frames: {free} free of {total} ({} KiB free)",
        free * PAGE_SIZE / 1024
    );
    println!(
        "heap: {} bytes in {} allocations, {} KiB mapped, limit {} KiB",
        heap.allocated,
        heap.allocations,
        heap.mapped / 1024,
        heap.limit / 1024
    );
}

/// `crash KIND`: the fault (see `debug::crash`); without a known kind, the
/// list of kinds.
fn crash(arguments: &str) {
    let mut words = commands::words(arguments);
    let kind = words.next();
    match (kind.and_then(Crash::parse), words.next()) {
        (Some(kind), None) => crate::debug::crash(kind),
        _ => {
            let mut kinds = String::new();
            for kind in Crash::CHOICES.values() {
                let _ = write!(kinds, " {}", kind.name());
            }
            println!("usage: crash KIND, KIND one of:{kinds}");
        }
    }
}

//! The system calls: Linux's x86_64 ABI for the subset kestrel implements
//! (docs/user-mode.md has the table). `syscall` puts the number in RAX and
//! the arguments in RDI, RSI, RDX, R10, R8 and R9; the result comes back in
//! RAX, an error as `-errno`. A number outside the subset returns
//! `-ENOSYS`, logged once per program and number.
//!
//! Every pointer, length, descriptor and number a program passes is
//! hostile: pointers go only through `process::user_copy`, lengths are
//! bounded before anything is allocated for them, and no argument can make
//! the kernel touch its own memory, fault, wait forever or panic.
//!
//! - `table` — the numbers, and which function handles each;
//! - `io` — read, write, their vector forms, ioctl;
//! - `fs` — open, stat, getdents64, fcntl, the working directory;
//! - `mm` — brk, mmap, munmap, mprotect;
//! - `task` — exit, IDs, signals to oneself, arch_prctl, yield, sleep;
//! - `info` — uname, clock_gettime, getrandom.

mod fs;
mod info;
mod io;
mod mm;
mod table;
mod task;

use core::sync::atomic::Ordering;

use crate::arch::user::{UserRegisters, is_user_canonical, set_syscall_handler};
use crate::process::errno::Errno;
use crate::process::program::{self, Process};

/// What a system call returns: a value, or an error number.
type SysResult = Result<u64, Errno>;

/// Registers the system-call handler with the CPU layer, and the check a
/// program's thread makes on its way back to ring 3 from an interrupt.
pub fn init() {
    set_syscall_handler(handle);
    crate::arch::set_user_return_hook(stop_if_asked);
}

/// One system call, with interrupts on, on the program's thread.
fn handle(registers: &mut UserRegisters) {
    let Some(process) = program::current() else {
        registers.rax = (-crate::process::errno::ENOSYS) as u64;
        return;
    };
    let arguments = [
        registers.rdi,
        registers.rsi,
        registers.rdx,
        registers.r10,
        registers.r8,
        registers.r9,
    ];
    let result = table::call(process, registers.rax, arguments);
    registers.rax = match result {
        Ok(value) => value,
        Err(errno) => (-errno) as u64,
    };
    stop_if_asked();
    // `sysret` to a non-canonical address faults in ring 0 on Intel: the
    // program is ended instead (the entry takes `iretq` for it too).
    if !is_user_canonical(registers.rip) {
        program::kill_current(format_args!(
            "return to the non-canonical address {:#x}",
            registers.rip
        ));
    }
}

/// Ends the running program if it was asked to stop (Ctrl-C).
fn stop_if_asked() {
    if let Some(process) = program::current()
        && process
            .stop
            .get()
            .is_some_and(|stop| stop.load(Ordering::Acquire))
    {
        crate::arch::enable_interrupts();
        program::kill_current(format_args!("interrupted"));
    }
}

/// How many different unimplemented numbers are logged per program: a
/// program that tries thousands (a fuzzer) gets a line saying the rest
/// are not, and the record stays small.
const UNIMPLEMENTED_LOGGED: usize = 16;

/// Logs, once per program and number, a call outside the subset.
fn unimplemented(process: &Process, number: u64) -> SysResult {
    let mut logged = process.unimplemented_logged.lock();
    if logged.len() <= UNIMPLEMENTED_LOGGED && !logged.contains(&number) {
        logged.push(number);
        let count = logged.len();
        drop(logged);
        if count <= UNIMPLEMENTED_LOGGED {
            log::warn!(
                "{}[{}]: system call {number} is not implemented: -ENOSYS",
                process.name,
                process.pid()
            );
        } else {
            log::warn!(
                "{}[{}]: more system calls are not implemented; not logged",
                process.name,
                process.pid()
            );
        }
    }
    Err(crate::process::errno::ENOSYS)
}

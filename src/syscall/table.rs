//! Linux x86_64 system-call numbers (`arch/x86/entry/syscalls/
//! syscall_64.tbl`) to the functions that handle them.

use super::{SysResult, fs, info, io, mm, task, unimplemented};
use crate::process::program::Process;

/// Calls the handler of system call `number`.
pub fn call(process: &Process, number: u64, a: [u64; 6]) -> SysResult {
    match number {
        0 => io::read(process, a[0], a[1], a[2]),
        1 => io::write(process, a[0], a[1], a[2]),
        2 => fs::open(process, fs::AT_FDCWD, a[0], a[1]),
        3 => fs::close(process, a[0]),
        4 => fs::stat(process, fs::AT_FDCWD, a[0], a[1], 0),
        5 => fs::fstat(process, a[0], a[1]),
        6 => fs::stat(process, fs::AT_FDCWD, a[0], a[1], 0),
        8 => fs::lseek(process, a[0], a[1], a[2]),
        9 => mm::mmap(process, a[0], a[1], a[2], a[3], a[4], a[5]),
        10 => mm::mprotect(process, a[0], a[1], a[2]),
        11 => mm::munmap(process, a[0], a[1]),
        12 => mm::brk(process, a[0]),
        14 => task::rt_sigprocmask(a[0], a[1], a[2], a[3]),
        16 => io::ioctl(process, a[0], a[1], a[2]),
        19 => io::readv(process, a[0], a[1], a[2]),
        20 => io::writev(process, a[0], a[1], a[2]),
        24 => task::sched_yield(),
        // Not implemented, by design and without a log line: musl's
        // realloc copies instead (docs/user-mode.md).
        25 => Err(crate::process::errno::ENOSYS),
        28 => mm::madvise(process, a[0], a[1], a[2]),
        35 => task::nanosleep(process, a[0], a[1]),
        39 => Ok(process.pid()),
        60 | 231 => task::exit(a[0]),
        62 => task::kill(process, a[0], a[1]),
        63 => info::uname(a[0]),
        72 => fs::fcntl(process, a[0], a[1], a[2]),
        79 => fs::getcwd(process, a[0], a[1]),
        80 => fs::chdir(process, a[0]),
        110 => Ok(process.parent),
        158 => task::arch_prctl(a[0], a[1]),
        186 => Ok(process.pid()),
        200 => task::tkill(process, a[0], a[1]),
        218 => task::set_tid_address(process, a[0]),
        228 => info::clock_gettime(a[0], a[1]),
        234 => task::tgkill(process, a[0], a[1], a[2]),
        257 => fs::openat(process, a[0], a[1], a[2]),
        217 => fs::getdents64(process, a[0], a[1], a[2]),
        262 => fs::stat(process, a[0], a[1], a[2], a[3]),
        318 => info::getrandom(a[0], a[1], a[2]),
        _ => unimplemented(process, number),
    }
}

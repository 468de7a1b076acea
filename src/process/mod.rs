//! Processes: user address spaces, loading ELF executables into them, the
//! initrd the programs come from, and the programs themselves.
//!
//! The pure parts, tested on the host: `elf` (is a file a static x86-64
//! executable we can run, and where does each of its segments go),
//! `initrd` (the boot archive as a read-only file tree), `user_range`
//! (which addresses belong to user space, and the page rounding of a range
//! of them) and `errno` (Linux's error numbers).
//!
//! The kernel side: `memory` (a program's pages: `brk`, `mmap`, ...),
//! `exec` (loading a program and its initial stack), `program` (starting,
//! waiting for and ending programs), `files` (the initrd's tree and the
//! open-file tables), `user_copy` (the only way the kernel touches a
//! program's memory), `terminal` (the terminal the shell registers) and
//! `random` (`getrandom`).

pub mod elf;
pub mod errno;
pub mod initrd;
pub mod user_range;

#[cfg(target_os = "none")]
pub mod exec;
#[cfg(target_os = "none")]
pub mod files;
#[cfg(target_os = "none")]
pub mod memory;
#[cfg(target_os = "none")]
pub mod program;
#[cfg(target_os = "none")]
pub mod random;
#[cfg(target_os = "none")]
pub mod terminal;
#[cfg(target_os = "none")]
pub mod user_copy;

//! Linux's error numbers (x86_64, `asm-generic/errno-base.h` and
//! `errno.h`) that the system calls return, negated, in RAX.

#![forbid(unsafe_code)]

/// An error number (positive; a system call returns it negated).
pub type Errno = i64;

/// Operation not permitted.
pub const EPERM: Errno = 1;
/// No such file or directory.
pub const ENOENT: Errno = 2;
/// No such process.
pub const ESRCH: Errno = 3;
/// Interrupted system call.
pub const EINTR: Errno = 4;
/// Bad file descriptor.
pub const EBADF: Errno = 9;
/// Out of memory.
pub const ENOMEM: Errno = 12;
/// Permission denied.
pub const EACCES: Errno = 13;
/// Bad address.
pub const EFAULT: Errno = 14;
/// File exists.
pub const EEXIST: Errno = 17;
/// Not a directory.
pub const ENOTDIR: Errno = 20;
/// Is a directory.
pub const EISDIR: Errno = 21;
/// Invalid argument.
pub const EINVAL: Errno = 22;
/// Too many open files.
pub const EMFILE: Errno = 24;
/// Not a terminal.
pub const ENOTTY: Errno = 25;
/// Illegal seek.
pub const ESPIPE: Errno = 29;
/// Read-only file system.
pub const EROFS: Errno = 30;
/// Result too large.
pub const ERANGE: Errno = 34;
/// File name too long.
pub const ENAMETOOLONG: Errno = 36;
/// Function not implemented.
pub const ENOSYS: Errno = 38;
/// No such device.
pub const ENODEV: Errno = 19;

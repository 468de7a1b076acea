//! Raw Linux x86_64 system calls: the number in rax, arguments in rdi, rsi,
//! rdx, r10, r8, r9; the result in rax, -errno on failure. The kernel
//! clobbers rcx and r11.

use core::arch::asm;

pub const READ: usize = 0;
pub const WRITE: usize = 1;
pub const CLOSE: usize = 3;
pub const GETPID: usize = 39;
pub const EXIT: usize = 60;
pub const EXIT_GROUP: usize = 231;
pub const OPENAT: usize = 257;

/// # Safety
/// The call must not break memory the program relies on.
pub unsafe fn syscall0(n: usize) -> isize {
    let r: isize;
    // SAFETY: the caller's.
    unsafe {
        asm!("syscall", inlateout("rax") n as isize => r, out("rcx") _, out("r11") _,
             options(nostack));
    }
    r
}

/// # Safety
/// The call must not break memory the program relies on.
pub unsafe fn syscall1(n: usize, a: usize) -> isize {
    let r: isize;
    // SAFETY: the caller's.
    unsafe {
        asm!("syscall", inlateout("rax") n as isize => r, in("rdi") a,
             out("rcx") _, out("r11") _, options(nostack));
    }
    r
}

/// # Safety
/// The call must not break memory the program relies on.
pub unsafe fn syscall3(n: usize, a: usize, b: usize, c: usize) -> isize {
    let r: isize;
    // SAFETY: the caller's.
    unsafe {
        asm!("syscall", inlateout("rax") n as isize => r, in("rdi") a, in("rsi") b,
             in("rdx") c, out("rcx") _, out("r11") _, options(nostack));
    }
    r
}

/// # Safety
/// The call must not break memory the program relies on.
pub unsafe fn syscall6(
    n: usize,
    a: usize,
    b: usize,
    c: usize,
    d: usize,
    e: usize,
    f: usize,
) -> isize {
    let r: isize;
    // SAFETY: the caller's.
    unsafe {
        asm!("syscall", inlateout("rax") n as isize => r, in("rdi") a, in("rsi") b,
             in("rdx") c, in("r10") d, in("r8") e, in("r9") f,
             out("rcx") _, out("r11") _, options(nostack));
    }
    r
}

/// write(2): bytes written or -errno.
pub fn write(fd: i32, bytes: &[u8]) -> isize {
    // SAFETY: the kernel only reads the slice.
    unsafe { syscall3(WRITE, fd as usize, bytes.as_ptr() as usize, bytes.len()) }
}

/// read(2): bytes read or -errno.
pub fn read(fd: i32, buffer: &mut [u8]) -> isize {
    // SAFETY: the kernel writes within the slice.
    unsafe {
        syscall3(
            READ,
            fd as usize,
            buffer.as_mut_ptr() as usize,
            buffer.len(),
        )
    }
}

/// getpid(2).
pub fn getpid() -> isize {
    // SAFETY: no memory involved.
    unsafe { syscall0(GETPID) }
}

/// exit_group(2): ends the program with `status`.
pub fn exit_group(status: i32) -> ! {
    // SAFETY: does not return; exit as a fallback.
    unsafe {
        syscall1(EXIT_GROUP, status as usize);
        syscall1(EXIT, status as usize);
    }
    loop {
        core::hint::spin_loop();
    }
}

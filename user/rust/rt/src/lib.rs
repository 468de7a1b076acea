//! The runtime of kestrel's Rust user programs (`#![no_std]`, `#![no_main]`).
//!
//! - `_start` (below): the kernel enters it with `rsp` at the Linux initial
//!   stack (`argc`, the `argv` pointers, NULL, the `envp` pointers, NULL,
//!   the auxiliary vector). It calls the program's `main(Args) -> i32`,
//!   named with [`entry!`], then `exit_group` with what main returned.
//! - [`sys`]: raw Linux x86_64 system calls.
//! - [`print!`], [`println!`] (fd 1), [`eprint!`], [`eprintln!`] (fd 2).
//! - A panic prints `panic: <message>` on fd 2 and exits with status 101.
#![no_std]

pub mod sys;

use core::fmt::{self, Write};

/// The program's arguments, `argv[0]` first: each without its NUL.
#[derive(Clone, Copy)]
pub struct Args {
    argc: usize,
    argv: *const *const u8,
}

impl Args {
    /// How many there are (`argc`).
    pub fn len(&self) -> usize {
        self.argc
    }

    /// Whether there are none (a kernel may start a program so).
    pub fn is_empty(&self) -> bool {
        self.argc == 0
    }

    /// Argument `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&'static [u8]> {
        if i >= self.argc {
            return None;
        }
        // SAFETY: the kernel put argc valid pointers to NUL-terminated
        // strings at argv; they live as long as the program.
        unsafe {
            let p = *self.argv.add(i);
            if p.is_null() {
                return None;
            }
            let mut n = 0;
            while *p.add(n) != 0 {
                n += 1;
            }
            Some(core::slice::from_raw_parts(p, n))
        }
    }

    /// All of them, in order.
    pub fn iter(&self) -> impl Iterator<Item = &'static [u8]> + '_ {
        (0..self.argc).filter_map(move |i| self.get(i))
    }
}

// The entry point. The kernel leaves rsp 16-byte aligned at argc (the
// System V ABI's process entry); the call below keeps the alignment a
// function expects however the kernel left it.
core::arch::global_asm!(
    ".globl _start",
    ".type _start, @function",
    "_start:",
    "    xor ebp, ebp",
    "    mov rdi, rsp",
    "    and rsp, -16",
    "    call {start}",
    "    ud2",
    ".size _start, . - _start",
    start = sym start,
);

extern "Rust" {
    /// The program's main, defined by [`entry!`].
    fn __rt_main(args: Args) -> i32;
}

/// From `_start`: `stack` points at argc.
unsafe extern "C" fn start(stack: *const usize) -> ! {
    // SAFETY: the initial stack starts with argc, then argv[0..argc].
    let args = unsafe {
        Args {
            argc: *stack,
            argv: stack.add(1) as *const *const u8,
        }
    };
    // SAFETY: entry! defined it with this signature.
    let status = unsafe { __rt_main(args) };
    sys::exit_group(status)
}

/// Names the program's main: `rt::entry!(main);` with
/// `fn main(args: rt::Args) -> i32`.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[no_mangle]
        fn __rt_main(args: $crate::Args) -> i32 {
            let main: fn($crate::Args) -> i32 = $main;
            main(args)
        }
    };
}

/// Writes everything to `fd`; gives up silently on an error (nowhere to
/// report it).
pub fn write_all(fd: i32, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let n = sys::write(fd, bytes);
        if n <= 0 {
            return;
        }
        bytes = &bytes[n as usize..];
    }
}

/// Formatted output to an fd through a 256-byte buffer: one write a
/// `print!` unless it is longer.
pub struct Output {
    fd: i32,
    len: usize,
    buffer: [u8; 256],
}

impl Output {
    pub fn new(fd: i32) -> Self {
        Output {
            fd,
            len: 0,
            buffer: [0; 256],
        }
    }

    pub fn flush(&mut self) {
        write_all(self.fd, &self.buffer[..self.len]);
        self.len = 0;
    }

    /// Raw bytes, e.g. an argument that need not be UTF-8.
    pub fn bytes(&mut self, bytes: &[u8]) {
        if self.len + bytes.len() > self.buffer.len() {
            self.flush();
        }
        if bytes.len() > self.buffer.len() {
            write_all(self.fd, bytes);
        } else {
            self.buffer[self.len..self.len + bytes.len()].copy_from_slice(bytes);
            self.len += bytes.len();
        }
    }
}

impl Write for Output {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.bytes(s.as_bytes());
        Ok(())
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        self.flush();
    }
}

#[doc(hidden)]
pub fn _print(fd: i32, args: fmt::Arguments) {
    let mut out = Output::new(fd);
    let _ = out.write_fmt(args);
}

/// Like std's print!, to fd 1.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::_print(1, format_args!($($arg)*)) };
}

/// Like std's println!, to fd 1.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::_print(1, format_args!("{}\n", format_args!($($arg)*))) };
}

/// Like std's eprint!, to fd 2.
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::_print(2, format_args!($($arg)*)) };
}

/// Like std's eprintln!, to fd 2.
#[macro_export]
macro_rules! eprintln {
    () => { $crate::eprint!("\n") };
    ($($arg:tt)*) => { $crate::_print(2, format_args!("{}\n", format_args!($($arg)*))) };
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    eprintln!("panic: {}", info);
    sys::exit_group(101)
}

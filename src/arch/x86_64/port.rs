//! I/O ports (`in`/`out`): the `x86_64` crate's typed port, under the name
//! the rest of the kernel uses. Every access is `unsafe`, and each caller
//! names the port and says why touching it is sound.

pub use x86_64::instructions::port::Port;

//! Faults that explain themselves: decoded fault details, backtraces with
//! function names, and `crash=KIND` to see each report on purpose.
//!
//! - [`fault`] — a page fault's error code and the selector error code in
//!   words (pure, host-tested);
//! - [`backtrace`] — the frame-pointer walk and its lines (pure);
//! - [`symbols`] — addresses to names through the kernel's own `.symtab`,
//!   as GRUB loaded it, names demangled when the kernel was packed (pure);
//! - `load` — finds the symbol table at boot ([`init`]) and maps it for
//!   each use ([`with_symbols`]);
//! - `print` — reads the stack safely and prints a backtrace
//!   ([`print_backtrace`]), for the exception handlers and the panic handler;
//! - `crash` — the faults `crash=KIND` raises ([`crash`]).

pub mod backtrace;
mod crash_kind;
pub mod fault;
pub mod symbols;

#[cfg(target_os = "none")]
mod crash;
#[cfg(target_os = "none")]
pub(crate) mod ktests;
#[cfg(target_os = "none")]
mod load;
#[cfg(target_os = "none")]
mod print;

#[cfg(target_os = "none")]
pub use crash::run as crash;
pub use crash_kind::Crash;
#[cfg(target_os = "none")]
pub use load::{init, with_symbols};
#[cfg(target_os = "none")]
pub use print::{print_backtrace, read_word};

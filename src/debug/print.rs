//! Printing a backtrace in the kernel: the stack read safely, the names from
//! the symbol table.
//!
//! The walk ([`super::backtrace`]) reads each word through [`read_word`],
//! which checks that the address is 8-byte aligned, canonical, in the
//! kernel's half and mapped before it reads, so a corrupt frame pointer ends
//! the walk with a note instead of faulting inside the fault report, and
//! the walk stops at a program's frames (the lower half: a program's stack
//! is its own business, and SMAP would fault on it).

use core::fmt;

use super::backtrace::{self, Start, is_canonical};
use super::load::with_symbols;
use super::symbols::Symbol;
use crate::arch::translate;

/// The first address of the kernel's half: below it, a program's memory.
const KERNEL_HALF: u64 = 0xffff_8000_0000_0000;

/// The u64 at `address`, if it is 8-byte aligned, canonical, in the
/// kernel's half and mapped;
/// `None` otherwise. Never faults.
pub fn read_word(address: u64) -> Option<u64> {
    if !address.is_multiple_of(8) || !is_canonical(address) || address < KERNEL_HALF {
        return None;
    }
    // Aligned to 8, so all 8 bytes lie in the page just checked.
    translate(address)?;
    // SAFETY: the address is aligned for a u64 and its page is mapped
    // (checked just above), so the read cannot fault. Interrupts are off in
    // every caller (exception and panic handlers) and there is one CPU, so
    // nothing changes the mapping in between. Volatile: it may be any
    // memory, never assumed to hold a Rust value.
    Some(unsafe { (address as *const u64).read_volatile() })
}

/// Prints a backtrace from `start`, one line per call to `line`: a header
/// (`  backtrace:`, or why there are only addresses), then the frames.
pub fn print_backtrace(start: Start, mut line: impl FnMut(fmt::Arguments)) {
    with_symbols(|symbols| match symbols {
        Some(Ok(symbols)) => {
            line(format_args!("  backtrace:"));
            backtrace::print(
                start,
                read_word,
                |address| {
                    symbols
                        .resolve(address)
                        .map(|symbol| (symbol, symbol.start))
                },
                line,
            );
        }
        Some(Err(why)) => {
            line(format_args!("  backtrace (addresses only: {why}):"));
            backtrace::print(start, read_word, no_names, line);
        }
        None => {
            line(format_args!(
                "  backtrace (addresses only: the symbol table is not read yet):"
            ));
            backtrace::print(start, read_word, no_names, line);
        }
    })
}

/// The resolver when there is no symbol table.
fn no_names(_: u64) -> Option<(Symbol<'static>, u64)> {
    None
}

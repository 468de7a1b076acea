//! In-kernel tests of the debugging aids on the real machine: the symbol
//! table GRUB loaded, the careful stack reader, and a backtrace from here.

use core::fmt::{self, Write};

use super::backtrace::Start;
use super::load::with_symbols;
use super::print::{print_backtrace, read_word};
use crate::arch::frame_pointer;
use crate::selftest::{Context, Outcome};
use crate::{check, check_eq, fail};

/// GRUB loaded `.symtab` and `.strtab`; functions resolve to their names,
/// demangled by the packer, and their start addresses.
fn symbol_table_names_kernel_functions(_: &Context) -> Outcome {
    let main = crate::rust_main as *const () as u64;
    let this = symbol_table_names_kernel_functions as *const () as u64;
    with_symbols(|symbols| {
        let symbols = match symbols {
            Some(Ok(symbols)) => symbols,
            Some(Err(why)) => fail!("no symbols: {why}"),
            None => fail!("debug::init has not run"),
        };
        check!(symbols.len() > 100, "{} symbols", symbols.len());
        let Some(symbol) = symbols.resolve(main + 1) else {
            fail!("rust_main at {main:#x} has no name");
        };
        check_eq!((symbol.name, symbol.start), ("rust_main", main));
        let Some(symbol) = symbols.resolve(this) else {
            fail!("this test at {this:#x} has no name");
        };
        let mut name = Line::new();
        let _ = write!(name, "{symbol}");
        check_eq!(
            name.as_str(),
            "kestrel::debug::ktests::symbol_table_names_kernel_functions"
        );
        Ok(())
    })
}

/// The stack reader reads mapped, aligned, canonical words and refuses the
/// rest without faulting.
fn read_word_checks_before_reading(_: &Context) -> Outcome {
    let word: u64 = 0x6b65_7374_7265_6c21;
    let address = &raw const word as u64;
    check_eq!(read_word(address), Some(word));
    check_eq!(read_word(address + 1), None);
    check_eq!(read_word(0), None);
    check_eq!(read_word(0x8000_0000_0000_0000), None);
    check_eq!(read_word(u64::MAX - 7), None);
    Ok(())
}

/// A backtrace from this function walks, with names, to the outermost
/// frame, and stops nowhere else: `higher_half_start` after `rust_main` on
/// the boot stack, or `thread_start` in a thread (the self-test runs in
/// one).
fn backtrace_from_here_reaches_the_outermost_frame(_: &Context) -> Outcome {
    let start = Start {
        rip: None,
        pushed_return: None,
        rbp: frame_pointer(),
    };
    let (mut lines, mut rust_main, mut last_outermost, mut ended_early) = (0, false, false, false);
    let mut header = Line::new();
    print_backtrace(start, |args| {
        let mut line = Line::new();
        let _ = line.write_fmt(args);
        if lines == 0 {
            header = line;
        }
        lines += 1;
        rust_main |= line.as_str().contains(" rust_main+")
            || line
                .as_str()
                .contains(" kestrel::sched::thread::thread_start+");
        last_outermost = line.as_str().contains(" higher_half_start+")
            || line
                .as_str()
                .contains(" kestrel::sched::thread::thread_start+");
        ended_early |= line.as_str().contains("(walk ended");
    });
    check_eq!(header.as_str(), "  backtrace:");
    check!(
        rust_main,
        "no rust_main or thread_start frame in {lines} lines"
    );
    check!(
        last_outermost,
        "the last line is not higher_half_start or thread_start"
    );
    check!(!ended_early, "the walk ended early");
    Ok(())
}

/// One line of text in a fixed buffer (longer lines are cut).
#[derive(Clone, Copy)]
struct Line {
    bytes: [u8; 160],
    len: usize,
}

impl Line {
    fn new() -> Self {
        Line {
            bytes: [0; 160],
            len: 0,
        }
    }

    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("<not UTF-8>")
    }
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.bytes.len() - self.len;
        let take = s.len().min(room);
        self.bytes[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

pub(crate) const TESTS: &[crate::selftest::Test] = crate::kernel_tests![
    symbol_table_names_kernel_functions,
    read_word_checks_before_reading,
    backtrace_from_here_reaches_the_outermost_frame,
];

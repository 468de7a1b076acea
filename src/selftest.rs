//! The in-kernel self-test: `selftest` on the kernel command line runs every
//! registered test case on the real machine (or QEMU) and reports on serial.
//!
//! Output, one line per test, then a summary:
//!
//! ```text
//! test console::vga_write_reads_back ... ok
//! test arch::page_zero_is_unmapped ... FAILED
//! 12 passed, 1 failed
//! ```
//!
//! With `qemu-exit` also on the command line, the result goes to QEMU's
//! `isa-debug-exit` device afterwards (QEMU exits 33 when all passed, 35
//! otherwise); without it the kernel halts. The shell's `selftest` command
//! runs the same tests through [`run_and_return`] and comes back.
//!
//! This file is only the runner. A module lists its tests with
//! [`kernel_tests!`] in a `ktests` submodule, and `lib.rs` hands every
//! module's list to [`run`] (`SELF_TEST_SUITES`); counts are never kept by
//! hand. A test returns [`Outcome`]; the [`check!`], [`check_eq!`] and
//! [`fail!`] macros print what failed, and where, before returning the
//! failure.

use core::fmt;

use crate::arch::{ExitCode, exit_qemu, halt_forever};
use crate::boot_info::BootInfo;
use crate::cmdline::Options;

/// What a test may look at: the machine as this boot found it.
pub struct Context<'a> {
    /// The boot information GRUB passed.
    pub boot: &'a BootInfo<'a>,
    /// The parsed kernel command line.
    pub options: &'a Options,
}

/// A failed test; the details were printed when the failure was found.
#[derive(Debug)]
pub struct Failure;

/// What a test returns.
pub type Outcome = Result<(), Failure>;

/// One registered test case.
pub struct Test {
    /// `module::function`, as printed.
    pub name: &'static str,
    /// The test itself.
    pub run: fn(&Context) -> Outcome,
}

/// Runs every test of every suite in `suites`, prints the summary, then
/// exits QEMU or halts (`selftest` on the command line).
pub fn run(suites: &[&[Test]], context: &Context) -> ! {
    let failed = run_and_return(suites, context);
    if context.options.qemu_exit {
        exit_qemu(if failed == 0 {
            ExitCode::Success
        } else {
            ExitCode::Failed
        });
    }
    halt_forever()
}

/// Runs every test of every suite in `suites` and prints the summary, then
/// returns the number that failed (the shell's `selftest` command).
pub fn run_and_return(suites: &[&[Test]], context: &Context) -> usize {
    let (mut passed, mut failed) = (0usize, 0usize);
    for test in suites.iter().flat_map(|suite| suite.iter()) {
        let name = test.name.strip_prefix("kestrel::").unwrap_or(test.name);
        match (test.run)(context) {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok");
            }
            Err(Failure) => {
                failed += 1;
                println!("test {name} ... FAILED");
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    failed
}

/// Prints why a check failed. Used by the check macros.
#[doc(hidden)]
pub fn report_failure(what: fmt::Arguments, file: &str, line: u32) {
    println!("    {what}\n    at {file}:{line}");
}

/// Builds a module's list of tests from its test functions, naming each after
/// the module and function.
#[macro_export]
macro_rules! kernel_tests {
    ($($test:ident),* $(,)?) => {
        &[$($crate::selftest::Test {
            name: concat!(module_path!(), "::", stringify!($test)),
            run: $test,
        }),*]
    };
}

/// Fails the test: prints the message and where, and returns the failure.
#[macro_export]
macro_rules! fail {
    ($($message:tt)+) => {{
        $crate::selftest::report_failure(format_args!($($message)+), file!(), line!());
        return Err($crate::selftest::Failure);
    }};
}

/// Fails the test unless the condition holds.
#[macro_export]
macro_rules! check {
    ($cond:expr) => {
        $crate::check!($cond, "check failed: {}", stringify!($cond))
    };
    ($cond:expr, $($message:tt)+) => {
        if !$cond {
            $crate::fail!($($message)+);
        }
    };
}

/// Fails the test unless both values are equal, printing both.
#[macro_export]
macro_rules! check_eq {
    ($left:expr, $right:expr) => {
        match (&$left, &$right) {
            (left, right) => $crate::check!(
                left == right,
                "check failed: {} == {}\n      left: {:?}\n     right: {:?}",
                stringify!($left),
                stringify!($right),
                left,
                right
            ),
        }
    };
}

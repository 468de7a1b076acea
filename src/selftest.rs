//! The in-kernel self-test: `selftest` on the kernel command line runs every
//! registered test case on the real machine (or QEMU) and reports on serial.
//!
//! Output, one line per test, then a summary:
//!
//! ```text
//! test console::vga_write_reads_back ... ok
//! test arch::page_zero_is_unmapped ... FAILED
//! test console::serial_port_present_and_writes ... skipped (no serial port at COM1)
//! 11 passed, 1 failed, 1 skipped
//! ```
//!
//! A test that needs hardware this machine lacks (a serial port, a screen)
//! says so with [`skip!`]: it is counted apart, neither passed nor failed,
//! and `, N skipped` joins the summary when there is one.
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
//! failure; [`skip!`] returns a skip with its reason.

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

/// Why a test did not pass.
#[derive(Debug)]
pub enum NotPassed {
    /// It failed; the details were printed when the failure was found.
    Failed,
    /// It cannot run on this machine, for this reason (printed with the
    /// result): it needs hardware the machine lacks.
    Skipped(&'static str),
}

/// What a test returns.
pub type Outcome = Result<(), NotPassed>;

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
    let (mut passed, mut failed, mut skipped) = (0usize, 0usize, 0usize);
    for test in suites.iter().flat_map(|suite| suite.iter()) {
        let name = test.name.strip_prefix("kestrel::").unwrap_or(test.name);
        match (test.run)(context) {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok");
            }
            Err(NotPassed::Failed) => {
                failed += 1;
                println!("test {name} ... FAILED");
            }
            Err(NotPassed::Skipped(why)) => {
                skipped += 1;
                println!("test {name} ... skipped ({why})");
            }
        }
    }
    if skipped == 0 {
        println!("{passed} passed, {failed} failed");
    } else {
        println!("{passed} passed, {failed} failed, {skipped} skipped");
    }
    crate::console::flush();
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
        return Err($crate::selftest::NotPassed::Failed);
    }};
}

/// Skips the test: it needs hardware this machine lacks (`$why` says
/// which), so it is counted apart, neither passed nor failed.
#[macro_export]
macro_rules! skip {
    ($why:expr) => {
        return Err($crate::selftest::NotPassed::Skipped($why))
    };
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

//! The shell: after `ready`, a prompt (`kestrel> `) on both consoles, a
//! line editor with history and Tab completion, and a table of commands
//! (`help` lists them). `noshell` on the command line leaves it out.
//!
//! The pure pieces, host-tested: [`line`] (the line editor, drawing through
//! a small `Terminal` trait), [`history`] (the last lines entered),
//! [`commands`] (the command table, the parser, Tab completion) and [`cpu`]
//! (the `cpu` command's CPUID decoding). The kernel's side: `run` (the loop:
//! keys in, the consoles as the editor's terminal, the scroll keys) and
//! `builtins` (what each command does).
//!
//! Limits: one line of at most 70 characters (the prompt and the line fit
//! an 80-column row); ASCII only; no pipes, quoting or variables.

pub mod commands;
pub mod cpu;
pub mod history;
pub mod line;

#[cfg(target_os = "none")]
mod builtins;
#[cfg(target_os = "none")]
pub mod keytest;
#[cfg(target_os = "none")]
mod run;
#[cfg(target_os = "none")]
pub use run::run;

/// The most characters a line may hold (the line editor's and the
/// history's limit).
pub const MAX_LINE: usize = 70;

/// What the commands may look at.
#[cfg(target_os = "none")]
pub struct Context<'a> {
    /// The boot report as printed at boot (for `bootinfo`, `mem`).
    pub report: &'a crate::report::Report<'a, 'a>,
    /// What the in-kernel tests look at.
    pub tests: &'a crate::selftest::Context<'a>,
    /// The in-kernel test suites (`selftest`).
    pub suites: &'a [&'a [crate::selftest::Test]],
}

/// Both consoles, as the line editor's terminal and as a `fmt::Write`.
#[cfg(target_os = "none")]
pub struct Consoles;

#[cfg(target_os = "none")]
impl line::Terminal for Consoles {
    fn print(&mut self, text: &str) {
        print!("{text}");
    }
    fn left(&mut self, count: usize) {
        crate::console::cursor_left(count);
    }
    fn right(&mut self, count: usize) {
        crate::console::cursor_right(count);
    }
    fn erase_to_end(&mut self) {
        crate::console::erase_to_end_of_line();
    }
    fn clear_screen(&mut self) {
        crate::console::clear_screen();
    }
}

#[cfg(target_os = "none")]
impl core::fmt::Write for Consoles {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        print!("{text}");
        Ok(())
    }
}

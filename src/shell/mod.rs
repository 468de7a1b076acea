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
mod run;
#[cfg(target_os = "none")]
pub use run::{Context, run};

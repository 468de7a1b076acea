//! The shell: after `ready`, a prompt (`kestrel> `) on both consoles, a
//! line editor, and a table of commands.
//!
//! The pure pieces, host-tested: [`line`] (the line editor, drawing through
//! a small `Terminal` trait), [`history`] (the last lines entered) and
//! [`commands`] (the command table, the parser, Tab completion).

pub mod commands;
pub mod history;
pub mod line;

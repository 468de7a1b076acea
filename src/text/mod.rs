//! Pure text helpers any layer may use: how a string from outside the
//! kernel is shown ([`escape`]), and named choices such as `keymap=de`
//! ([`choices`]).
//!
//! A leaf: it uses no other module of the kernel.

#![forbid(unsafe_code)]

pub mod choices;
pub mod escape;

pub use choices::Choices;
pub use escape::Escaped;

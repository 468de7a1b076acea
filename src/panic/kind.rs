//! The panics `panic=KIND` asks for on purpose after the boot, by name.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

use crate::text::Choices;

/// How `panic=` asks the kernel to panic after the boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliberatePanic {
    /// `panic=test`: a plain panic.
    Test,
    /// `panic=locked`: a panic while the console locks are held.
    Locked,
}

impl DeliberatePanic {
    /// Every kind with its `panic=` name.
    pub const CHOICES: Choices<DeliberatePanic> = Choices(&[
        ("test", DeliberatePanic::Test),
        ("locked", DeliberatePanic::Locked),
    ]);

    /// The accepted values, for messages: the names of
    /// [`DeliberatePanic::CHOICES`] (a host test checks that they agree).
    pub const EXPECTED: &'static str = "test|locked";

    /// The kind named `value`.
    pub fn parse(value: &str) -> Option<DeliberatePanic> {
        Self::CHOICES.parse(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_lists_every_name_in_order() {
        assert_eq!(
            DeliberatePanic::EXPECTED,
            DeliberatePanic::CHOICES.to_string()
        );
        assert_eq!(
            DeliberatePanic::parse("locked"),
            Some(DeliberatePanic::Locked)
        );
    }
}

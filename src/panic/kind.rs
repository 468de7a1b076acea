//! The panics `panic=KIND` asks for on purpose after the boot, by name.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

use crate::text::choices::named_values;

/// How `panic=` asks the kernel to panic after the boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliberatePanic {
    /// `panic=test`: a plain panic.
    Test,
    /// `panic=locked`: a panic while the console locks are held.
    Locked,
}

named_values! {
    DeliberatePanic:
    "test" => Test,
    "locked" => Locked,
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

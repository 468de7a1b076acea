//! The PS/2 keyboard layouts `keymap=` chooses from: every layout of the
//! `pc-keyboard` crate, by name.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

use crate::text::Choices;

/// The keyboard layouts `keymap=` offers: every layout of the
/// `pc-keyboard` crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Keymap {
    /// `us`: US 104-key (the default).
    #[default]
    Us,
    /// `uk`: UK 105-key.
    Uk,
    /// `de`: German 105-key.
    De,
    /// `fr`: French AZERTY.
    Fr,
    /// `no`: Norwegian 105-key.
    No,
    /// `fi-se`: Finnish/Swedish 105-key.
    FiSe,
    /// `jp`: Japanese 109-key.
    Jp,
    /// `dvorak`: US Dvorak.
    Dvorak,
    /// `dvorak-programmer`: Programmer Dvorak.
    DvorakProgrammer,
    /// `colemak`: Colemak.
    Colemak,
}

impl Keymap {
    /// Every value with its name, in the order documented.
    pub const CHOICES: Choices<Keymap> = Choices(&[
        ("us", Keymap::Us),
        ("uk", Keymap::Uk),
        ("de", Keymap::De),
        ("fr", Keymap::Fr),
        ("no", Keymap::No),
        ("fi-se", Keymap::FiSe),
        ("jp", Keymap::Jp),
        ("dvorak", Keymap::Dvorak),
        ("dvorak-programmer", Keymap::DvorakProgrammer),
        ("colemak", Keymap::Colemak),
    ]);

    /// The accepted values, for messages: the names of [`Keymap::CHOICES`]
    /// (a host test checks that they agree).
    pub const EXPECTED: &'static str = "us|uk|de|fr|no|fi-se|jp|dvorak|dvorak-programmer|colemak";

    /// The value named `value`.
    pub fn parse(value: &str) -> Option<Keymap> {
        Self::CHOICES.parse(value)
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        Self::CHOICES.name(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_lists_every_name_in_order() {
        assert_eq!(Keymap::EXPECTED, Keymap::CHOICES.to_string());
        for (name, value) in Keymap::CHOICES.0 {
            assert_eq!((Keymap::parse(name), value.name()), (Some(*value), *name));
        }
    }
}

//! The PS/2 keyboard layouts `keymap=` chooses from: every layout of the
//! `pc-keyboard` crate, by name.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

use crate::text::choices::named_values;

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

named_values! {
    Keymap:
    "us" => Us,
    "uk" => Uk,
    "de" => De,
    "fr" => Fr,
    "no" => No,
    "fi-se" => FiSe,
    "jp" => Jp,
    "dvorak" => Dvorak,
    "dvorak-programmer" => DvorakProgrammer,
    "colemak" => Colemak,
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

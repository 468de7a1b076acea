//! A fixed set of named values, as a command line or a shell command
//! names them (`keymap=de`, `crash=gp`): parse a name, name a value, and
//! list the accepted names for a message, all from one table.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

use core::fmt;

/// Every value of a set with its name, in the order messages list them.
#[derive(Debug)]
pub struct Choices<T: 'static>(pub &'static [(&'static str, T)]);

impl<T: Copy + PartialEq> Choices<T> {
    /// The value named `name`, if any.
    pub fn parse(&self, name: &str) -> Option<T> {
        self.0
            .iter()
            .find(|(candidate, _)| *candidate == name)
            .map(|&(_, value)| value)
    }

    /// The name of `value` (`?` for a value the table lacks).
    pub fn name(&self, value: T) -> &'static str {
        self.0
            .iter()
            .find(|(_, candidate)| *candidate == value)
            .map_or("?", |(name, _)| name)
    }

    /// Every value, in order.
    pub fn values(&self) -> impl Iterator<Item = T> + '_ {
        self.0.iter().map(|&(_, value)| value)
    }
}

/// The accepted names, separated by `|`: `us|uk|de`.
impl<T> fmt::Display for Choices<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, (name, _)) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("|")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

/// Gives `$type` its names: `CHOICES` (every value with its name, in
/// order), `EXPECTED` (the names joined by `|`, for messages, built from
/// the same list at compile time), `parse` and `name`.
macro_rules! named_values {
    ($type:ident: $first:literal => $first_value:ident $(, $name:literal => $value:ident)* $(,)?) => {
        impl $type {
            /// Every value with its name, in the order documented.
            pub const CHOICES: $crate::text::Choices<$type> = $crate::text::Choices(&[
                ($first, $type::$first_value),
                $(($name, $type::$value),)*
            ]);

            /// The accepted names, for messages: `a|b|c`.
            pub const EXPECTED: &'static str = concat!($first $(, "|", $name)*);

            /// The value named `name`, if any.
            pub fn parse(name: &str) -> Option<$type> {
                Self::CHOICES.parse(name)
            }

            /// Its name.
            #[allow(dead_code)]
            pub fn name(self) -> &'static str {
                Self::CHOICES.name(self)
            }
        }
    };
}
pub(crate) use named_values;

#[cfg(test)]
mod tests {
    use super::*;

    static COLOURS: Choices<u8> = Choices(&[("red", 1), ("green", 2), ("blue", 3)]);

    #[test]
    fn parses_names_and_names_values_from_one_table() {
        assert_eq!(COLOURS.parse("green"), Some(2));
        assert_eq!(COLOURS.parse("Green"), None);
        assert_eq!(COLOURS.parse(""), None);
        assert_eq!(COLOURS.name(3), "blue");
        assert_eq!(COLOURS.name(9), "?");
        assert_eq!(COLOURS.values().collect::<Vec<_>>(), [1, 2, 3]);
    }

    #[test]
    fn lists_the_names_for_a_message() {
        assert_eq!(COLOURS.to_string(), "red|green|blue");
        assert_eq!(Choices::<u8>(&[]).to_string(), "");
    }
}

//! PS/2 keys: what the `pc-keyboard` crate decodes (a character or a raw
//! key code, in the chosen layout) turned into the shell's [`Key`]s, and
//! the command line's layout names turned into the crate's layouts.
//!
//! ASCII characters are keys; control characters become Enter, Tab,
//! Backspace, Delete or Ctrl + letter as on serial; arrows, Home and End are
//! raw keys; PageUp/PageDown count only with Shift held (scrollback).
//! Escape, function keys, and characters outside ASCII (the screen shows
//! only ASCII) are dropped.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

use pc_keyboard::layouts::{
    AnyLayout, Azerty, Colemak, DVP104Key, De105Key, Dvorak104Key, FiSe105Key, Jis109Key, No105Key,
    Uk105Key, Us104Key,
};
use pc_keyboard::{DecodedKey, KeyCode};

use super::Keymap;
use super::key::Key;

/// Backspace, as the crate decodes it.
const BACKSPACE: char = '\u{8}';
/// Delete, as the crate decodes it.
const DELETE: char = '\u{7f}';
/// Escape.
const ESCAPE: char = '\u{1b}';

/// The crate's layout for `keymap`.
pub fn layout(keymap: Keymap) -> AnyLayout {
    match keymap {
        Keymap::Us => AnyLayout::Us104Key(Us104Key),
        Keymap::Uk => AnyLayout::Uk105Key(Uk105Key),
        Keymap::De => AnyLayout::De105Key(De105Key),
        Keymap::Fr => AnyLayout::Azerty(Azerty),
        Keymap::No => AnyLayout::No105Key(No105Key),
        Keymap::FiSe => AnyLayout::FiSe105Key(FiSe105Key),
        Keymap::Jp => AnyLayout::Jis109Key(Jis109Key),
        Keymap::Dvorak => AnyLayout::Dvorak104Key(Dvorak104Key),
        Keymap::DvorakProgrammer => AnyLayout::DVP104Key(DVP104Key),
        Keymap::Colemak => AnyLayout::Colemak(Colemak),
    }
}

/// The shell's key for a decoded key; `shifted`: Shift is held.
pub fn key_of(decoded: DecodedKey, shifted: bool) -> Option<Key> {
    match decoded {
        DecodedKey::Unicode(c) => match c {
            '\n' | '\r' => Some(Key::Enter),
            '\t' => Some(Key::Tab),
            BACKSPACE => Some(Key::Backspace),
            DELETE => Some(Key::Delete),
            ESCAPE => None,
            '\u{1}'..='\u{1a}' => Some(Key::Ctrl(b'a' + c as u8 - 1)),
            ' '..='~' => Some(Key::Char(c)),
            _ => None,
        },
        DecodedKey::RawKey(code) => match code {
            KeyCode::ArrowUp => Some(Key::Up),
            KeyCode::ArrowDown => Some(Key::Down),
            KeyCode::ArrowLeft => Some(Key::Left),
            KeyCode::ArrowRight => Some(Key::Right),
            KeyCode::Home => Some(Key::Home),
            KeyCode::End => Some(Key::End),
            KeyCode::Delete => Some(Key::Delete),
            KeyCode::PageUp if shifted => Some(Key::ScrollUp),
            KeyCode::PageDown if shifted => Some(Key::ScrollDown),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pc_keyboard::{HandleControl, PS2Keyboard, ScancodeSet1};

    /// Feeds set-1 scancodes through the crate in `keymap`; the keys out.
    fn type_codes(keymap: Keymap, codes: &[u8]) -> Vec<Key> {
        let mut keyboard = PS2Keyboard::new(
            ScancodeSet1::new(),
            layout(keymap),
            HandleControl::MapLettersToUnicode,
        );
        let mut keys = Vec::new();
        for &code in codes {
            if let Ok(Some(event)) = keyboard.add_byte(code) {
                let shifted = keyboard.get_modifiers().is_shifted();
                if let Some(decoded) = keyboard.process_keyevent(event) {
                    keys.extend(key_of(decoded, shifted));
                }
            }
        }
        keys
    }

    #[test]
    fn letters_shift_enter_and_backspace() {
        // h, i, Shift+a, Enter, Backspace (presses and releases).
        let codes = [
            0x23, 0xa3, 0x17, 0x97, 0x2a, 0x1e, 0x9e, 0xaa, 0x1c, 0x9c, 0x0e, 0x8e,
        ];
        assert_eq!(
            type_codes(Keymap::Us, &codes),
            [
                Key::Char('h'),
                Key::Char('i'),
                Key::Char('A'),
                Key::Enter,
                Key::Backspace
            ]
        );
    }

    #[test]
    fn ctrl_letters_arrows_and_shift_page_keys() {
        // Ctrl+C; E0-prefixed Up, Left, Home, End, Delete; Shift+PgUp,
        // Shift+PgDn; a plain PgUp (dropped).
        let codes = [
            0x1d, 0x2e, 0xae, 0x9d, 0xe0, 0x48, 0xe0, 0xc8, 0xe0, 0x4b, 0xe0, 0xcb, 0xe0, 0x47,
            0xe0, 0xc7, 0xe0, 0x4f, 0xe0, 0xcf, 0xe0, 0x53, 0xe0, 0xd3, 0x2a, 0xe0, 0x49, 0xe0,
            0xc9, 0xe0, 0x51, 0xe0, 0xd1, 0xaa, 0xe0, 0x49, 0xe0, 0xc9,
        ];
        assert_eq!(
            type_codes(Keymap::Us, &codes),
            [
                Key::Ctrl(b'c'),
                Key::Up,
                Key::Left,
                Key::Home,
                Key::End,
                Key::Delete,
                Key::ScrollUp,
                Key::ScrollDown
            ]
        );
    }

    #[test]
    fn layouts_differ_where_they_should() {
        // The key US calls `q` (scancode 0x10).
        assert_eq!(type_codes(Keymap::Us, &[0x10, 0x90]), [Key::Char('q')]);
        assert_eq!(type_codes(Keymap::Fr, &[0x10, 0x90]), [Key::Char('a')]);
        // The key US calls `y` (0x15) is `z` in German.
        assert_eq!(type_codes(Keymap::De, &[0x15, 0x95]), [Key::Char('z')]);
        for keymap in Keymap::CHOICES.values() {
            assert_eq!(type_codes(keymap, &[0x1c, 0x9c]), [Key::Enter]);
        }
    }

    #[test]
    fn unknown_scancodes_and_escape_are_ignored() {
        let keys = type_codes(
            Keymap::Us,
            &[0x01, 0x81, 0x7f, 0xe0, 0x00, 0xff, 0x1e, 0x9e],
        );
        assert_eq!(keys, [Key::Char('a')]);
    }
}

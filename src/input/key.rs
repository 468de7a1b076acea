//! The keys the shell understands, whatever device they came from: the
//! PS/2 keyboard (decoded scancodes) and the serial port (bytes and ANSI
//! escape sequences) both produce these.
//!
//! Pure data, shared by the input decoders and the line editor.

#![forbid(unsafe_code)]
// The devices that produce keys and the shell that reads them arrive in
// issue 11; until both use it, parts of this type have no user.
#![allow(dead_code)]

/// One key press, already decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    /// A printable character (for now ASCII 0x20..=0x7e; the screen shows
    /// anything else as ■).
    Char(char),
    /// Enter / Return (CR, LF or CRLF on serial count as one).
    Enter,
    /// Backspace (0x08 or 0x7f on serial): delete left of the cursor.
    Backspace,
    /// Delete (`ESC[3~`): delete under the cursor.
    Delete,
    /// Cursor left.
    Left,
    /// Cursor right.
    Right,
    /// History: older line.
    Up,
    /// History: newer line.
    Down,
    /// Start of line.
    Home,
    /// End of line.
    End,
    /// Tab: complete a command name.
    Tab,
    /// A control chord, Ctrl + the lowercase ASCII letter given (`b'c'` for
    /// Ctrl-C, `b'l'` for Ctrl-L, `b'u'` for Ctrl-U).
    Ctrl(u8),
    /// Shift-PageUp: scroll the screen back through earlier lines.
    ScrollUp,
    /// Shift-PageDown: scroll toward the newest lines.
    ScrollDown,
}

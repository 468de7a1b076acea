//! The terminal programs read and write (file descriptors 0, 1 and 2): the
//! shell registers it at init ([`set_terminal`]), since the line editor
//! and the consoles it draws on belong to the layer above.

use spin::Once;

/// What a terminal read ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadEnd {
    /// `n` bytes were read (0: end of file, Ctrl-D on an empty line).
    Bytes(usize),
    /// The program was asked to stop while it waited.
    Interrupted,
}

/// The terminal, in canonical mode: reads give whole lines, edited with
/// the line editor's keys, echoed as typed.
pub trait Terminal: Sync {
    /// Reads up to `buffer.len()` bytes of the current line (waiting for
    /// Enter, or Ctrl-D); the rest of a longer line stays for the next
    /// read. Returns early when `stop` says the program is to stop.
    fn read(&self, buffer: &mut [u8], stop: &dyn Fn() -> bool) -> ReadEnd;
    /// Writes a program's bytes to both consoles.
    fn write(&self, bytes: &[u8]);
    /// The console's size: (rows, columns).
    fn size(&self) -> (u16, u16);
}

/// The registered terminal.
static TERMINAL: Once<&'static dyn Terminal> = Once::new();

/// Registers the terminal (the first call wins).
pub fn set_terminal(terminal: &'static dyn Terminal) {
    TERMINAL.call_once(|| terminal);
}

/// The terminal, if one is registered.
pub fn terminal() -> Option<&'static dyn Terminal> {
    TERMINAL.get().copied()
}

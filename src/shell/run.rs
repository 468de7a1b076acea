//! The shell's loop on the running kernel: keys from the input queue into
//! the line editor, entered lines to the commands, output on both consoles.
//!
//! The consoles ([`Consoles`]) are the editor's terminal, each at its own
//! width: text and the cursor moves and erases through the screen's
//! line-editor API, and as text and the matching ANSI sequences on serial. Shift-PgUp/Shift-PgDn page the screen
//! through its scrollback; any other key returns it to the bottom first.
//! When the input queue is empty the shell reports input dropped since it
//! last looked (`[WARN] input: N bytes dropped`), then sleeps until a key
//! arrives.

use super::commands::NAMES;
use super::line::{Event, LineEditor};
use super::{Consoles, Context, builtins};
use crate::console::{self, grid::Scroll};
use crate::input::{self, key::Key};

/// The prompt: the crate's name.
pub const PROMPT: &str = concat!(env!("CARGO_PKG_NAME"), "> ");

/// Runs the shell for good.
pub fn run(context: &Context) -> ! {
    let mut editor = LineEditor::new(PROMPT, &NAMES);
    let consoles = &mut Consoles::new(context.serial_columns);
    editor.start(consoles);
    loop {
        let key = next_key(&editor, consoles);
        match key {
            Key::ScrollUp => console::scroll_view(Scroll::PageUp),
            Key::ScrollDown => console::scroll_view(Scroll::PageDown),
            key => {
                console::view_bottom();
                let done = match editor.handle(key, consoles) {
                    Event::Nothing => false,
                    Event::Cancelled => true,
                    Event::Line(line) => {
                        builtins::execute(line, context, consoles);
                        true
                    }
                };
                if done {
                    super::programs::reap_background();
                    editor.start(consoles);
                }
            }
        }
    }
}

/// The next key: one waiting, or, once the queue is empty, the drop count
/// reported (on a line of its own, the prompt and line drawn again) and a
/// sleep until the next key.
fn next_key(editor: &LineEditor, consoles: &mut Consoles) -> Key {
    if let Some(key) = input::poll_key() {
        return key;
    }
    let dropped = input::take_dropped();
    if dropped > 0 {
        editor.leave(consoles);
        log::warn!("input: {dropped} bytes dropped");
        editor.redraw(consoles);
    }
    input::wait_key()
}

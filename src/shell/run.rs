//! The shell's loop on the running kernel: keys from the input queue into
//! the line editor, entered lines to the commands, output on both consoles.
//!
//! The consoles are the editor's [`Terminal`]: text through `print!`, the
//! cursor moves and erases through the screen's line-editor API and the
//! matching ANSI sequences on serial. Shift-PgUp/Shift-PgDn page the screen
//! through its scrollback; any other key returns it to the bottom first.
//! When the input queue is empty the shell reports input dropped since it
//! last looked (`[WARN] input: N bytes dropped`), then sleeps until a key
//! arrives.

use alloc::boxed::Box;
use core::fmt;

use super::builtins;
use super::commands::NAMES;
use super::line::{Event, LineEditor, Terminal};
use crate::boot_info::report::Report;
use crate::console::{self, grid::Scroll};
use crate::input::{self, key::Key};
use crate::selftest;

/// The prompt: the crate's name.
pub const PROMPT: &str = concat!(env!("CARGO_PKG_NAME"), "> ");

/// What the commands may look at.
pub struct Context<'a> {
    /// The boot report as printed at boot (for `bootinfo`, `mem`).
    pub report: &'a Report<'a, 'a>,
    /// What the in-kernel tests look at.
    pub tests: &'a selftest::Context<'a>,
    /// The in-kernel test suites (`selftest`).
    pub suites: &'a [&'a [selftest::Test]],
}

/// Both consoles, as the line editor's terminal and as a `fmt::Write`.
pub struct Consoles;

impl Terminal for Consoles {
    fn print(&mut self, text: &str) {
        print!("{text}");
    }
    fn left(&mut self, count: usize) {
        console::cursor_left(count);
    }
    fn right(&mut self, count: usize) {
        console::cursor_right(count);
    }
    fn erase_to_end(&mut self) {
        console::erase_to_end_of_line();
    }
    fn clear_screen(&mut self) {
        console::clear_screen();
    }
}

impl fmt::Write for Consoles {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        print!("{text}");
        Ok(())
    }
}

/// Runs the shell for good.
pub fn run(context: &Context) -> ! {
    // On the heap: the editor holds its history (a few KiB).
    let mut editor = Box::new(LineEditor::new(PROMPT, &NAMES));
    let consoles = &mut Consoles;
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
        consoles.right(editor.line().len() - editor.cursor());
        println!();
        log::warn!("input: {dropped} bytes dropped");
        editor.redraw(consoles);
    }
    input::wait_key()
}

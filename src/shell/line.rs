//! The line editor: keys in, one line of text out, drawn as it is edited.
//!
//! It keeps the line being typed (at most [`MAX_LINE`] printable ASCII
//! characters) and a cursor in it, and draws every change through a
//! [`Terminal`]: text printed at the cursor, the cursor moved left or right
//! within the line, the rest of the line erased, the screen cleared. The
//! kernel's terminal is both consoles at once (the screen's line-editor API
//! and ANSI sequences on serial); the host tests' is a fake screen.
//!
//! Keys (see [`Key`]):
//!
//! | key | effect |
//! |---|---|
//! | a printable character | inserted at the cursor; refused once the line holds [`MAX_LINE`], with one message per line |
//! | Backspace / Delete | delete left of / under the cursor |
//! | Left / Right, Home / End | move the cursor one character / to the start or end |
//! | Up / Down | older / newer line from the [`History`]; Down past the newest brings back what was being typed |
//! | Tab | complete a command name (the first word, cursor at the end): the rest of the one match, or what all matches share, or the list of matches |
//! | Ctrl-U | clear the line |
//! | Ctrl-C | abandon the line (`^C`, a new line) |
//! | Ctrl-L | clear the screen and draw the prompt and line again at the top |
//! | Enter | the line is done: a new line, the text returned, kept in the history |
//!
//! Anything else (other Ctrl chords, non-ASCII characters, the scroll keys,
//! which the shell handles before the editor) is ignored. The prompt and the
//! longest line fit in an 80-column row (9 + 70 characters, the cursor on
//! the last cell), so the line never wraps on the VGA screen or an
//! 80-column terminal: moving within the line needs no knowledge of the
//! screen's width. On a narrower screen a long line wraps and the cursor
//! cannot follow it back up (a limit of moves "within the line").
//!
//! Pure logic: no hardware, tested on the host.

#![forbid(unsafe_code)]

use super::commands::{Completion, complete};
use super::history::History;
use crate::input::key::Key;

pub use super::MAX_LINE;

/// What the editor draws with: the current line of a screen, a terminal.
/// Moves and erases never leave the cursor's line.
pub trait Terminal {
    /// Prints `text` at the cursor (`\n` starts a new line).
    fn print(&mut self, text: &str);
    /// Moves the cursor `count` characters left.
    fn left(&mut self, count: usize);
    /// Moves the cursor `count` characters right.
    fn right(&mut self, count: usize);
    /// Erases from the cursor to the end of its line.
    fn erase_to_end(&mut self);
    /// Clears the screen; the cursor goes top left.
    fn clear_screen(&mut self);
}

/// What a key did, for the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// Nothing more than what the editor drew.
    Nothing,
    /// Enter: this line is done (the cursor is on a new line).
    Line(&'a str),
    /// Ctrl-C: the line was abandoned (the cursor is on a new line).
    Cancelled,
}

/// The message shown when the line is full.
pub const TOO_LONG: &str = "line too long: at most 70 characters";
const _: () = assert!(MAX_LINE == 70, "TOO_LONG names the limit");

/// The line editor and its history.
pub struct LineEditor {
    /// Printed before the line.
    prompt: &'static str,
    /// What Tab completes.
    names: &'static [&'static str],
    /// The line: `buffer[..len]`, printable ASCII.
    buffer: [u8; MAX_LINE],
    /// Characters in the line.
    len: usize,
    /// The cursor, `0..=len`.
    cursor: usize,
    /// Lines entered before.
    history: History,
    /// Which history line is shown (0 the newest), while browsing.
    age: Option<usize>,
    /// What was being typed when browsing began.
    draft: [u8; MAX_LINE],
    /// Its length.
    draft_len: usize,
    /// Whether this line has had its "too long" message.
    warned: bool,
}

impl LineEditor {
    /// An editor printing `prompt`, completing `names` with Tab.
    pub const fn new(prompt: &'static str, names: &'static [&'static str]) -> LineEditor {
        LineEditor {
            prompt,
            names,
            buffer: [0; MAX_LINE],
            len: 0,
            cursor: 0,
            history: History::new(),
            age: None,
            draft: [0; MAX_LINE],
            draft_len: 0,
            warned: false,
        }
    }

    /// Starts a new, empty line: prints the prompt.
    pub fn start(&mut self, terminal: &mut dyn Terminal) {
        self.len = 0;
        self.cursor = 0;
        self.age = None;
        self.warned = false;
        terminal.print(self.prompt);
    }

    /// Draws the prompt and the line again, cursor where it was: after
    /// something else printed (the caller starts a fresh line first).
    pub fn redraw(&self, terminal: &mut dyn Terminal) {
        terminal.print(self.prompt);
        terminal.print(self.line());
        terminal.left(self.len - self.cursor);
    }

    /// The line as typed so far.
    pub fn line(&self) -> &str {
        // Only printable ASCII is ever stored.
        core::str::from_utf8(&self.buffer[..self.len]).unwrap_or("")
    }

    /// The cursor's position in the line.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Handles one key, drawing what it changes.
    pub fn handle(&mut self, key: Key, terminal: &mut dyn Terminal) -> Event<'_> {
        match key {
            Key::Char(c) if c.is_ascii() && !c.is_ascii_control() => {
                self.insert(&[c as u8], terminal);
            }
            Key::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                terminal.left(1);
                self.delete_at_cursor(terminal);
            }
            Key::Delete if self.cursor < self.len => self.delete_at_cursor(terminal),
            Key::Left if self.cursor > 0 => {
                self.cursor -= 1;
                terminal.left(1);
            }
            Key::Right if self.cursor < self.len => {
                self.cursor += 1;
                terminal.right(1);
            }
            Key::Home => {
                terminal.left(self.cursor);
                self.cursor = 0;
            }
            Key::End => {
                terminal.right(self.len - self.cursor);
                self.cursor = self.len;
            }
            Key::Up => self.older(terminal),
            Key::Down => self.newer(terminal),
            Key::Tab => self.complete(terminal),
            Key::Ctrl(b'u') => {
                terminal.left(self.cursor);
                terminal.erase_to_end();
                self.len = 0;
                self.cursor = 0;
                self.age = None;
            }
            Key::Ctrl(b'c') => {
                terminal.right(self.len - self.cursor);
                terminal.print("^C\n");
                self.len = 0;
                self.cursor = 0;
                return Event::Cancelled;
            }
            Key::Ctrl(b'l') => {
                terminal.clear_screen();
                self.redraw(terminal);
            }
            Key::Enter => {
                terminal.right(self.len - self.cursor);
                terminal.print("\n");
                self.history.push(&self.buffer[..self.len]);
                self.cursor = self.len;
                return Event::Line(self.line());
            }
            _ => {}
        }
        Event::Nothing
    }

    /// Inserts `text` (printable ASCII) at the cursor, as much as fits; says
    /// once per line when some did not.
    fn insert(&mut self, text: &[u8], terminal: &mut dyn Terminal) {
        let room = MAX_LINE - self.len;
        let taken = text.len().min(room);
        if taken > 0 {
            let at = self.cursor;
            self.buffer.copy_within(at..self.len, at + taken);
            self.buffer[at..at + taken].copy_from_slice(&text[..taken]);
            self.len += taken;
            self.cursor += taken;
            self.age = None;
            terminal.print(self.text(at, self.len));
            terminal.left(self.len - self.cursor);
        }
        if taken < text.len() && !self.warned {
            self.warned = true;
            terminal.right(self.len - self.cursor);
            terminal.print("\n");
            terminal.print(TOO_LONG);
            terminal.print("\n");
            self.redraw(terminal);
        }
    }

    /// Deletes the character under the cursor and draws the rest again.
    fn delete_at_cursor(&mut self, terminal: &mut dyn Terminal) {
        self.buffer
            .copy_within(self.cursor + 1..self.len, self.cursor);
        self.len -= 1;
        self.age = None;
        terminal.print(self.text(self.cursor, self.len));
        terminal.erase_to_end();
        terminal.left(self.len - self.cursor);
    }

    /// `buffer[from..to]` as text.
    fn text(&self, from: usize, to: usize) -> &str {
        core::str::from_utf8(&self.buffer[from..to]).unwrap_or("")
    }

    /// Up: the next older history line.
    fn older(&mut self, terminal: &mut dyn Terminal) {
        let age = self.age.map_or(0, |age| age + 1);
        let Some(line) = self.history.get(age) else {
            return;
        };
        if self.age.is_none() {
            self.draft[..self.len].copy_from_slice(&self.buffer[..self.len]);
            self.draft_len = self.len;
        }
        let (copy, len) = copied(line);
        self.replace(&copy[..len], terminal);
        self.age = Some(age);
    }

    /// Down: the next newer history line, or the draft after the newest.
    fn newer(&mut self, terminal: &mut dyn Terminal) {
        match self.age {
            None => {}
            Some(0) => {
                let draft = self.draft;
                self.replace(&draft[..self.draft_len], terminal);
                self.age = None;
            }
            Some(age) => {
                let (copy, len) = copied(self.history.get(age - 1).unwrap_or(&[]));
                self.replace(&copy[..len], terminal);
                self.age = Some(age - 1);
            }
        }
    }

    /// Replaces the whole line with `text` (at most `MAX_LINE`), cursor at
    /// its end.
    fn replace(&mut self, text: &[u8], terminal: &mut dyn Terminal) {
        terminal.left(self.cursor);
        self.len = text.len().min(MAX_LINE);
        self.buffer[..self.len].copy_from_slice(&text[..self.len]);
        self.cursor = self.len;
        terminal.print(self.text(0, self.len));
        terminal.erase_to_end();
    }

    /// Tab: completes the command name before the cursor (at the line's
    /// end only).
    fn complete(&mut self, terminal: &mut dyn Terminal) {
        if self.cursor != self.len {
            return;
        }
        match complete(self.names, self.text(0, self.len)) {
            Completion::None => {}
            Completion::Insert { text, space } => {
                self.insert(text.as_bytes(), terminal);
                if space {
                    self.insert(b" ", terminal);
                }
            }
            Completion::Choices(choices) => {
                terminal.print("\n");
                for (i, name) in choices.names().enumerate() {
                    if i > 0 {
                        terminal.print("  ");
                    }
                    terminal.print(name);
                }
                terminal.print("\n");
                self.redraw(terminal);
            }
        }
    }
}

/// A copy of a history line, so the history can be borrowed again.
fn copied(line: &[u8]) -> ([u8; MAX_LINE], usize) {
    let mut copy = [0; MAX_LINE];
    let len = line.len().min(MAX_LINE);
    copy[..len].copy_from_slice(&line[..len]);
    (copy, len)
}

#[cfg(test)]
mod tests;

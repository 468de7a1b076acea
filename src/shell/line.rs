//! The line editor: keys in, one line of text out, drawn as it is edited.
//!
//! It keeps the line being typed (at most [`MAX_LINE`] printable ASCII
//! characters, as Linux's terminal line discipline) and a cursor in it, and
//! draws every change through a [`Terminal`]. What it draws is one run of
//! cells, the prompt then the line, from the first column of a row; a
//! longer line wraps onto as many rows as it needs. The editor speaks of
//! places in that run as offsets (0 is the prompt's first character): it
//! prints at an offset, moves the cursor from one offset to another, erases
//! from the cursor to the end. Turning an offset into a row and a column is
//! the terminal's business, because only it knows its width
//! ([`super::wrap`]): the kernel's terminal is both consoles, each with its
//! own width; the host tests' is a model screen of any width.
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
//! which the shell handles before the editor) is ignored.
//!
//! Pure logic: no hardware, tested on the host.

#![forbid(unsafe_code)]

use alloc::vec::Vec;

use super::commands::{Completion, complete};
use super::history::History;
use crate::input::key::Key;

pub use super::MAX_LINE;

/// What the editor draws with. Offsets count cells from the start of what
/// the editor draws (the prompt's first character, in a row's first
/// column); the cursor is always at an offset the editor knows, and a row
/// is as wide as the terminal makes it.
pub trait Terminal {
    /// Prints `text` (printable ASCII) with the cursor at offset `at`; the
    /// cursor ends at `at + text.len()`, on the next row's first cell when
    /// the text filled a row. The editor prints only where nothing it drew
    /// lies after the text, so a terminal may write a blank there (to wrap
    /// onto the next row without waiting, see [`super::wrap`]).
    fn print(&mut self, at: usize, text: &str);
    /// Moves the cursor from offset `from` to offset `to`.
    fn move_to(&mut self, from: usize, to: usize);
    /// Erases from the cursor to the end of what was drawn: the rest of its
    /// row and every row below.
    fn erase_to_end(&mut self);
    /// Starts a fresh row after what was drawn, the cursor at its end
    /// (offset `at`): what comes next (output, a message, a new prompt)
    /// starts in its first column, at offset 0.
    fn new_line(&mut self, at: usize);
    /// Clears the screen; the cursor goes top left, at offset 0.
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
pub const TOO_LONG: &str = "line too long: at most 4095 characters";
const _: () = assert!(MAX_LINE == 4095, "TOO_LONG names the limit");

/// What Ctrl-C leaves after the abandoned line.
const CANCEL_MARK: &str = "^C";

/// Between the names Tab lists.
const CHOICE_GAP: &str = "  ";

/// The line editor and its history.
pub struct LineEditor {
    /// Printed before the line.
    prompt: &'static str,
    /// What Tab completes.
    names: &'static [&'static str],
    /// The line, printable ASCII, at most `MAX_LINE` bytes.
    buffer: Vec<u8>,
    /// The cursor, `0..=buffer.len()`.
    cursor: usize,
    /// Lines entered before.
    history: History,
    /// Which history line is shown (0 the newest), while browsing.
    age: Option<usize>,
    /// What was being typed when browsing began.
    draft: Vec<u8>,
    /// Whether this line has had its "too long" message.
    warned: bool,
}

impl LineEditor {
    /// An editor printing `prompt`, completing `names` with Tab; its
    /// buffers allocated once, whole.
    pub fn new(prompt: &'static str, names: &'static [&'static str]) -> LineEditor {
        LineEditor {
            prompt,
            names,
            buffer: Vec::with_capacity(MAX_LINE),
            cursor: 0,
            history: History::new(),
            age: None,
            draft: Vec::with_capacity(MAX_LINE),
            warned: false,
        }
    }

    /// Starts a new, empty line: prints the prompt.
    pub fn start(&mut self, terminal: &mut dyn Terminal) {
        self.buffer.clear();
        self.cursor = 0;
        self.age = None;
        self.warned = false;
        terminal.print(0, self.prompt);
    }

    /// Draws the prompt and the line again, cursor where it was: after
    /// something else printed (the caller starts a fresh row first).
    pub fn redraw(&self, terminal: &mut dyn Terminal) {
        terminal.print(0, self.prompt);
        terminal.print(self.at(0), self.line());
        terminal.move_to(self.at(self.len()), self.at(self.cursor));
    }

    /// Leaves the line for something else to print: the cursor to its end,
    /// then a fresh row. [`LineEditor::redraw`] brings it back.
    pub fn leave(&self, terminal: &mut dyn Terminal) {
        terminal.move_to(self.at(self.cursor), self.at(self.len()));
        terminal.new_line(self.at(self.len()));
    }

    /// The line as typed so far.
    pub fn line(&self) -> &str {
        // Only printable ASCII is ever stored.
        core::str::from_utf8(&self.buffer).unwrap_or("")
    }

    /// The cursor's position in the line.
    #[cfg(test)]
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Characters in the line.
    fn len(&self) -> usize {
        self.buffer.len()
    }

    /// The offset of the line's character `index` (after the prompt).
    fn at(&self, index: usize) -> usize {
        self.prompt.len() + index
    }

    /// Moves the cursor to `index` in the line.
    fn move_cursor(&mut self, index: usize, terminal: &mut dyn Terminal) {
        terminal.move_to(self.at(self.cursor), self.at(index));
        self.cursor = index;
    }

    /// Handles one key, drawing what it changes.
    pub fn handle(&mut self, key: Key, terminal: &mut dyn Terminal) -> Event<'_> {
        match key {
            Key::Char(c) if c.is_ascii() && !c.is_ascii_control() => {
                self.insert(&[c as u8], terminal);
            }
            Key::Backspace if self.cursor > 0 => {
                self.move_cursor(self.cursor - 1, terminal);
                self.delete_at_cursor(terminal);
            }
            Key::Delete if self.cursor < self.len() => self.delete_at_cursor(terminal),
            Key::Left if self.cursor > 0 => self.move_cursor(self.cursor - 1, terminal),
            Key::Right if self.cursor < self.len() => self.move_cursor(self.cursor + 1, terminal),
            Key::Home => self.move_cursor(0, terminal),
            Key::End => self.move_cursor(self.len(), terminal),
            Key::Up => self.older(terminal),
            Key::Down => self.newer(terminal),
            Key::Tab => self.complete(terminal),
            Key::Ctrl(b'u') => {
                self.move_cursor(0, terminal);
                terminal.erase_to_end();
                self.buffer.clear();
                self.age = None;
            }
            Key::Ctrl(b'c') => {
                self.move_cursor(self.len(), terminal);
                terminal.print(self.at(self.len()), CANCEL_MARK);
                terminal.new_line(self.at(self.len()) + CANCEL_MARK.len());
                self.buffer.clear();
                self.cursor = 0;
                return Event::Cancelled;
            }
            Key::Ctrl(b'l') => {
                terminal.clear_screen();
                self.redraw(terminal);
            }
            Key::Enter => {
                self.leave(terminal);
                self.history.push(&self.buffer);
                self.cursor = self.len();
                return Event::Line(self.line());
            }
            _ => {}
        }
        Event::Nothing
    }

    /// Prints `text` on rows of its own, between the line (left first) and
    /// the line drawn again.
    fn message<'a>(&self, text: impl Iterator<Item = &'a str>, terminal: &mut dyn Terminal) {
        self.leave(terminal);
        let mut at = 0;
        for part in text {
            terminal.print(at, part);
            at += part.len();
        }
        terminal.new_line(at);
        self.redraw(terminal);
    }

    /// Inserts `text` (printable ASCII) at the cursor, as much as fits; says
    /// once per line when some did not.
    fn insert(&mut self, text: &[u8], terminal: &mut dyn Terminal) {
        let room = MAX_LINE - self.len();
        let taken = text.len().min(room);
        if taken > 0 {
            let at = self.cursor;
            self.buffer.splice(at..at, text[..taken].iter().copied());
            self.cursor += taken;
            self.age = None;
            terminal.print(self.at(at), self.text(at, self.len()));
            terminal.move_to(self.at(self.len()), self.at(self.cursor));
        }
        if taken < text.len() && !self.warned {
            self.warned = true;
            self.message([TOO_LONG].into_iter(), terminal);
        }
    }

    /// Deletes the character under the cursor and draws the rest again.
    fn delete_at_cursor(&mut self, terminal: &mut dyn Terminal) {
        self.buffer.remove(self.cursor);
        self.age = None;
        terminal.print(self.at(self.cursor), self.text(self.cursor, self.len()));
        terminal.erase_to_end();
        terminal.move_to(self.at(self.len()), self.at(self.cursor));
    }

    /// `buffer[from..to]` as text.
    fn text(&self, from: usize, to: usize) -> &str {
        core::str::from_utf8(&self.buffer[from..to]).unwrap_or("")
    }

    /// Up: the next older history line.
    fn older(&mut self, terminal: &mut dyn Terminal) {
        let age = self.age.map_or(0, |age| age + 1);
        if self.history.get(age).is_none() {
            return;
        }
        if self.age.is_none() {
            self.draft.clear();
            self.draft.extend_from_slice(&self.buffer);
        }
        self.show_history(age, terminal);
    }

    /// Down: the next newer history line, or the draft after the newest.
    fn newer(&mut self, terminal: &mut dyn Terminal) {
        match self.age {
            None => {}
            Some(0) => {
                self.begin_replace(terminal);
                self.buffer.extend_from_slice(&self.draft);
                self.end_replace(terminal);
                self.age = None;
            }
            Some(age) => self.show_history(age - 1, terminal),
        }
    }

    /// Replaces the line with the history line `age` back (which exists).
    fn show_history(&mut self, age: usize, terminal: &mut dyn Terminal) {
        self.begin_replace(terminal);
        self.buffer
            .extend_from_slice(self.history.get(age).unwrap_or(&[]));
        self.buffer.truncate(MAX_LINE);
        self.end_replace(terminal);
        self.age = Some(age);
    }

    /// Replacing the whole line, first half: the cursor to the start, the
    /// buffer emptied.
    fn begin_replace(&mut self, terminal: &mut dyn Terminal) {
        self.move_cursor(0, terminal);
        self.buffer.clear();
    }

    /// Second half, once the buffer holds the new line: drawn over the old
    /// one, the cursor at its end.
    fn end_replace(&mut self, terminal: &mut dyn Terminal) {
        self.cursor = self.len();
        terminal.print(self.at(0), self.line());
        terminal.erase_to_end();
    }

    /// Tab: completes the command name before the cursor (at the line's
    /// end only).
    fn complete(&mut self, terminal: &mut dyn Terminal) {
        if self.cursor != self.len() {
            return;
        }
        match complete(self.names, self.line()) {
            Completion::None => {}
            Completion::Insert { text, space } => {
                self.insert(text.as_bytes(), terminal);
                if space {
                    self.insert(b" ", terminal);
                }
            }
            Completion::Choices(choices) => {
                let parts = choices
                    .names()
                    .enumerate()
                    .flat_map(|(i, name)| [if i > 0 { CHOICE_GAP } else { "" }, name]);
                self.message(parts, terminal);
            }
        }
    }
}

#[cfg(test)]
mod tests;

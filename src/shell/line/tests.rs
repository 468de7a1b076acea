//! Host tests of the line editor, drawn through [`Wrapped`] on two model
//! screens at once, as the kernel draws on its two consoles: a VT100-like
//! terminal fed the very bytes serial would get, and the screens' own
//! [`TextGrid`], each of its own width. Every key, across row boundaries,
//! the history, completion, the length limit, and random key sequences;
//! after every key both screens must show what the editor believes it drew.

use super::*;
use crate::console::edit::Edit;
use crate::console::grid::TextGrid;
use crate::console::terminal::for_terminal;
use crate::shell::commands::NAMES;
use crate::shell::wrap::{Console, Wrapped};
use crate::test_rng::Rng;

const PROMPT: &str = "kestrel> ";

/// ESC, which starts a control sequence.
const ESC: u8 = 0x1b;

/// A VT100 as far as the editor uses one, strictly: a character in the
/// last column leaves the cursor there, waiting to wrap (the next
/// character goes to the next row's first column); CUU/CUD/CUF/CUB stop at
/// the edges and never wrap; CHA; CR; LF; EL; ED; clear and home. Its
/// screen has no fixed height: it grows as LF or a wrap go below its last
/// row, and that last row is the bottom, which CUD does not pass (as on a
/// terminal whose output reached the bottom).
struct Vt {
    width: usize,
    rows: Vec<Vec<u8>>,
    row: usize,
    column: usize,
    /// A character went into the last column: the cursor waits to wrap.
    pending: bool,
    /// A control sequence being read: its bytes after ESC.
    sequence: Option<Vec<u8>>,
    clears: usize,
}

impl Vt {
    fn new(width: usize) -> Vt {
        Vt {
            width,
            rows: vec![vec![b' '; width]],
            row: 0,
            column: 0,
            pending: false,
            sequence: None,
            clears: 0,
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.byte(byte);
        }
    }

    fn down_one(&mut self) {
        self.row += 1;
        if self.row == self.rows.len() {
            self.rows.push(vec![b' '; self.width]);
        }
    }

    fn byte(&mut self, byte: u8) {
        if let Some(sequence) = &mut self.sequence {
            sequence.push(byte);
            if byte.is_ascii_alphabetic() {
                let sequence = self.sequence.take().unwrap();
                self.control(&sequence);
            }
            return;
        }
        match byte {
            ESC => self.sequence = Some(vec![]),
            b'\r' => {
                self.column = 0;
                self.pending = false;
            }
            b'\n' => {
                self.down_one();
                self.pending = false;
            }
            0x20..=0x7e => {
                if self.pending {
                    self.column = 0;
                    self.down_one();
                    self.pending = false;
                }
                self.rows[self.row][self.column] = byte;
                if self.column + 1 == self.width {
                    self.pending = true;
                } else {
                    self.column += 1;
                }
            }
            _ => panic!("the editor sent byte {byte:#x}"),
        }
    }

    /// `sequence`: `[`, the parameter, the final letter.
    fn control(&mut self, sequence: &[u8]) {
        assert_eq!(sequence[0], b'[', "a CSI sequence");
        let (&last, parameter) = sequence[1..].split_last().unwrap();
        let parameter = core::str::from_utf8(parameter).unwrap();
        let count = if parameter.is_empty() {
            None
        } else {
            Some(parameter.parse::<usize>().unwrap())
        };
        let n = count.unwrap_or(1).max(1);
        self.pending = false;
        match last {
            b'A' => self.row = self.row.saturating_sub(n),
            b'B' => self.row = (self.row + n).min(self.rows.len() - 1),
            b'C' => self.column = (self.column + n).min(self.width - 1),
            b'D' => self.column = self.column.saturating_sub(n),
            b'G' => self.column = (n - 1).min(self.width - 1),
            b'K' => self.rows[self.row][self.column..].fill(b' '),
            b'J' if count.is_none() => {
                let (row, column) = (self.row, self.column);
                self.rows[row][column..].fill(b' ');
                for below in &mut self.rows[row + 1..] {
                    below.fill(b' ');
                }
            }
            b'J' if count == Some(2) => {
                self.rows = vec![vec![b' '; self.width]];
                self.clears += 1;
            }
            b'H' if count.is_none() => {
                self.row = 0;
                self.column = 0;
            }
            _ => panic!(
                "unexpected sequence ESC{:?}",
                String::from_utf8_lossy(sequence)
            ),
        }
    }
}

/// The VT100 on serial: text as the serial driver sends it (`\n` as CR
/// LF), edits as their ANSI sequences.
impl Console for Vt {
    fn print(&mut self, text: &str) {
        for_terminal(text.as_bytes(), |run| self.feed(run));
    }
    fn edit(&mut self, edit: Edit) {
        self.feed(edit.to_string().as_bytes());
    }
}

/// Scrollback rows of the model grid.
const GRID_HISTORY: usize = 8;

/// The screens' grid, tall enough for the longest line at the narrowest
/// width and the messages around it.
type Grid = TextGrid<Vec<u16>, Vec<bool>>;

fn grid(width: usize, height: usize) -> Grid {
    let mut grid = TextGrid::new(
        vec![0; width * (height + GRID_HISTORY)],
        vec![false; height + GRID_HISTORY],
        (width, height),
        GRID_HISTORY,
    );
    grid.clear();
    grid
}

/// The grid as the screen console drives it.
struct GridConsole(Grid);

impl Console for GridConsole {
    fn print(&mut self, text: &str) {
        core::fmt::Write::write_str(&mut self.0, text).unwrap();
    }
    fn edit(&mut self, edit: Edit) {
        self.0.edit(edit);
    }
}

/// What both models show: rows as text, the cursor's cell, whether it
/// waits to wrap.
trait Shown {
    /// The rows from `from` down, as text.
    fn rows(&self, from: usize) -> Vec<String>;
    fn cursor(&self) -> (usize, usize);
    fn pending(&self) -> bool;
}

impl Shown for Wrapped<Vt> {
    fn rows(&self, from: usize) -> Vec<String> {
        let vt = &self.console;
        vt.rows[from.min(vt.rows.len())..]
            .iter()
            .map(|r| String::from_utf8(r.clone()).unwrap())
            .collect()
    }
    fn cursor(&self) -> (usize, usize) {
        (self.console.row, self.console.column)
    }
    fn pending(&self) -> bool {
        self.console.pending
    }
}

impl Shown for Wrapped<GridConsole> {
    fn rows(&self, from: usize) -> Vec<String> {
        let grid = &self.console.0;
        (from..grid.height())
            .map(|row| {
                grid.line(row)
                    .iter()
                    .map(|&cell| cell as u8 as char)
                    .collect()
            })
            .collect()
    }
    fn cursor(&self) -> (usize, usize) {
        self.console.0.cursor_cell()
    }
    fn pending(&self) -> bool {
        self.console.0.cursor().1 == self.console.0.width()
    }
}

/// The kernel's terminal in the tests: a serial terminal and a screen,
/// each its own width.
struct Both {
    serial: Wrapped<Vt>,
    screen: Wrapped<GridConsole>,
}

impl Both {
    fn new(serial_width: usize, screen_width: usize) -> Both {
        // Rows for the longest line at this width, and a few more.
        let height = (PROMPT.len() + MAX_LINE) / screen_width + 8;
        Both {
            serial: Wrapped::new(Vt::new(serial_width), serial_width),
            screen: Wrapped::new(GridConsole(grid(screen_width, height)), screen_width),
        }
    }
}

impl Terminal for Both {
    fn print(&mut self, at: usize, text: &str) {
        self.serial.print(at, text);
        self.screen.print(at, text);
    }
    fn move_to(&mut self, from: usize, to: usize) {
        self.serial.move_to(from, to);
        self.screen.move_to(from, to);
    }
    fn erase_to_end(&mut self) {
        self.serial.erase_to_end();
        self.screen.erase_to_end();
    }
    fn new_line(&mut self, at: usize) {
        self.serial.new_line(at);
        self.screen.new_line(at);
    }
    fn clear_screen(&mut self) {
        self.serial.clear_screen();
        self.screen.clear_screen();
    }
}

/// What the editor believes it drew, on one screen `width` wide: the
/// prompt and the line, wrapped, from the first column of a row, the
/// cursor on its cell and not waiting to wrap, nothing below. Returns the
/// row the prompt starts on.
fn check_drawn(editor: &LineEditor, screen: &dyn Shown, width: usize, what: &str) -> usize {
    let drawn = format!("{PROMPT}{}", editor.line());
    let offset = PROMPT.len() + editor.cursor();
    let (row, column) = screen.cursor();
    assert!(!screen.pending(), "{what}: the cursor waits to wrap");
    assert_eq!(column, offset % width, "{what}: the cursor's column");
    assert!(
        row >= offset / width,
        "{what}: the line's start scrolled off"
    );
    let start = row - offset / width;
    let rows = screen.rows(start);
    let chunks: Vec<&[u8]> = drawn.as_bytes().chunks(width).collect();
    for (i, shown) in rows.iter().enumerate() {
        let expected = chunks.get(i).copied().unwrap_or(b"");
        let expected = format!("{:width$}", String::from_utf8_lossy(expected));
        assert_eq!(shown, &expected, "{what}: row {i} of the line");
    }
    start
}

/// Both screens show the prompt and the line, the cursor where the
/// editor's is.
fn assert_drawn(editor: &LineEditor, t: &Both) {
    let width = t.serial.width();
    check_drawn(editor, &t.serial, width, "serial");
    let width = t.screen.width();
    check_drawn(editor, &t.screen, width, "screen");
}

/// An editor with the shell's prompt and commands, started on a serial
/// terminal `serial` wide and a screen `screen` wide.
fn editor_on(serial: usize, screen: usize) -> (LineEditor, Both) {
    let mut editor = LineEditor::new(PROMPT, &NAMES);
    let mut t = Both::new(serial, screen);
    editor.start(&mut t);
    (editor, t)
}

/// An editor on 80-column screens.
fn editor() -> (LineEditor, Both) {
    editor_on(80, 80)
}

fn typed(editor: &mut LineEditor, t: &mut Both, text: &str) {
    for c in text.chars() {
        assert_eq!(editor.handle(Key::Char(c), t), Event::Nothing);
    }
    assert_drawn(editor, t);
}

fn keys(editor: &mut LineEditor, t: &mut Both, keys: &[Key]) {
    for &key in keys {
        editor.handle(key, t);
        assert_drawn(editor, t);
    }
}

/// Enter, returning the line.
fn enter(editor: &mut LineEditor, t: &mut Both) -> String {
    match editor.handle(Key::Enter, t) {
        Event::Line(line) => line.to_string(),
        other => panic!("Enter gave {other:?}"),
    }
}

/// The serial terminal's rows, trailing blanks and blank rows at the end
/// dropped.
fn serial_rows(t: &Both) -> Vec<String> {
    let mut rows: Vec<String> = t
        .serial
        .rows(0)
        .iter()
        .map(|r| r.trim_end().to_string())
        .collect();
    while rows.len() > 1 && rows.last().is_some_and(String::is_empty) {
        rows.pop();
    }
    rows
}

/// Whether both screens' cursors are in the first column of a row with
/// nothing on it or below it.
fn on_a_fresh_row(t: &Both) -> bool {
    let fresh = |screen: &dyn Shown| {
        let (row, column) = screen.cursor();
        column == 0 && !screen.pending() && screen.rows(row).iter().all(|r| r.trim().is_empty())
    };
    fresh(&t.serial) && fresh(&t.screen)
}

#[test]
fn typing_echoes_and_enter_returns_the_line_on_a_new_row() {
    let (mut e, mut t) = editor();
    typed(&mut e, &mut t, "echo hi");
    assert_eq!(enter(&mut e, &mut t), "echo hi");
    assert_eq!(serial_rows(&t), ["kestrel> echo hi"]);
    assert!(on_a_fresh_row(&t));
    assert_eq!(t.serial.cursor(), (1, 0));
    e.start(&mut t);
    assert_drawn(&e, &t);
    assert_eq!(e.line(), "");
}

#[test]
fn insert_in_the_middle_backspace_and_delete() {
    let (mut e, mut t) = editor();
    typed(&mut e, &mut t, "helo");
    keys(&mut e, &mut t, &[Key::Left]);
    typed(&mut e, &mut t, "l");
    assert_eq!((e.line(), e.cursor()), ("hello", 4));
    keys(&mut e, &mut t, &[Key::Home, Key::Delete]);
    assert_eq!((e.line(), e.cursor()), ("ello", 0));
    keys(&mut e, &mut t, &[Key::Backspace]);
    assert_eq!(e.line(), "ello", "Backspace at the start does nothing");
    keys(&mut e, &mut t, &[Key::End, Key::Delete]);
    assert_eq!(e.line(), "ello", "Delete at the end does nothing");
    keys(&mut e, &mut t, &[Key::Left, Key::Left, Key::Backspace]);
    assert_eq!((e.line(), e.cursor()), ("elo", 1));
    keys(
        &mut e,
        &mut t,
        &[Key::Right, Key::Right, Key::Right, Key::Right],
    );
    assert_eq!(e.cursor(), 3, "Right stops at the end");
    keys(&mut e, &mut t, &[Key::Home, Key::Left]);
    assert_eq!(e.cursor(), 0, "Left stops at the start");
    // Enter with the cursor inside still returns the whole line.
    assert_eq!(enter(&mut e, &mut t), "elo");
    assert_eq!(serial_rows(&t), ["kestrel> elo"]);
}

/// Width 20: the prompt and 11 characters fill the first row, then 20 a
/// row.
const NARROW: usize = 20;

/// 40 characters on 20 columns: rows of 11, 20 and 9.
const LONG: &str = "echo abcdefghijklmnopqrstuvwxyz0123456789";

#[test]
fn left_and_right_cross_row_boundaries_both_ways() {
    let (mut e, mut t) = editor_on(NARROW, NARROW);
    typed(&mut e, &mut t, &LONG[..36]);
    // From row 2 back to row 0, one key at a time.
    for _ in 0..36 {
        keys(&mut e, &mut t, &[Key::Left]);
    }
    assert_eq!(e.cursor(), 0);
    assert_eq!(t.serial.cursor(), (0, 9));
    for _ in 0..36 {
        keys(&mut e, &mut t, &[Key::Right]);
    }
    assert_eq!(t.serial.cursor(), (2, 5));
    // Home and End jump between the first and last rows.
    keys(&mut e, &mut t, &[Key::Home]);
    assert_eq!(t.serial.cursor(), (0, 9));
    keys(&mut e, &mut t, &[Key::End]);
    assert_eq!(t.serial.cursor(), (2, 5));
}

#[test]
fn insert_and_delete_in_an_earlier_row_move_the_rest_across_rows() {
    let (mut e, mut t) = editor_on(NARROW, NARROW);
    typed(&mut e, &mut t, "echo abcdefghijklmnopqrstuvwxyz");
    keys(&mut e, &mut t, &[Key::Home]);
    for _ in 0..5 {
        keys(&mut e, &mut t, &[Key::Right]);
    }
    typed(&mut e, &mut t, "XYZ");
    assert_eq!(e.line(), "echo XYZabcdefghijklmnopqrstuvwxyz");
    assert_eq!(
        serial_rows(&t),
        ["kestrel> echo XYZabc", "defghijklmnopqrstuvw", "xyz"]
    );
    // Three deletions pull the last row's characters back up; a fourth
    // empties it.
    keys(&mut e, &mut t, &[Key::Delete; 4]);
    assert_eq!(e.line(), "echo XYZefghijklmnopqrstuvwxyz");
    assert_eq!(
        serial_rows(&t),
        ["kestrel> echo XYZefg", "hijklmnopqrstuvwxyz"]
    );
    // Backspace from the first column of a row joins across the boundary.
    keys(&mut e, &mut t, &[Key::End]);
    for _ in 0..19 {
        keys(&mut e, &mut t, &[Key::Left]);
    }
    assert_eq!(t.serial.cursor(), (1, 0));
    keys(&mut e, &mut t, &[Key::Backspace]);
    assert_eq!(e.line(), "echo XYZefhijklmnopqrstuvwxyz");
    assert_eq!(t.serial.cursor(), (0, 19));
}

#[test]
fn a_line_that_fills_its_last_row_leaves_the_cursor_on_the_next() {
    // 11 + 20 characters: the prompt and the line end exactly at the
    // second row's end.
    let (mut e, mut t) = editor_on(NARROW, NARROW);
    typed(&mut e, &mut t, &LONG[..31]);
    assert_eq!(t.serial.cursor(), (2, 0));
    assert!(!t.serial.pending());
    keys(&mut e, &mut t, &[Key::Backspace]);
    assert_eq!(t.serial.cursor(), (1, 19));
    typed(&mut e, &mut t, "X");
    assert_eq!(t.serial.cursor(), (2, 0));
    // Enter there starts the output on that row: no blank row between.
    assert_eq!(enter(&mut e, &mut t), format!("{}X", &LONG[..30]));
    assert_eq!(t.serial.cursor(), (2, 0));
    assert!(on_a_fresh_row(&t));
}

#[test]
fn ctrl_u_clears_every_row_and_ctrl_c_abandons() {
    let (mut e, mut t) = editor_on(NARROW, NARROW);
    typed(&mut e, &mut t, LONG);
    keys(&mut e, &mut t, &[Key::Left, Key::Left, Key::Ctrl(b'u')]);
    assert_eq!((e.line(), e.cursor()), ("", 0));
    assert_eq!(serial_rows(&t), ["kestrel>"]);
    typed(&mut e, &mut t, "poweroff and then some more");
    keys(&mut e, &mut t, &[Key::Home]);
    assert_eq!(e.handle(Key::Ctrl(b'c'), &mut t), Event::Cancelled);
    assert_eq!(
        serial_rows(&t),
        ["kestrel> poweroff an", "d then some more^C"]
    );
    assert!(on_a_fresh_row(&t));
    e.start(&mut t);
    assert_eq!(e.line(), "");
    // An abandoned line is not in the history.
    keys(&mut e, &mut t, &[Key::Up]);
    assert_eq!(e.line(), "");
}

#[test]
fn ctrl_l_clears_the_screen_and_draws_a_wrapped_line_again() {
    let (mut e, mut t) = editor_on(NARROW, NARROW + 7);
    typed(&mut e, &mut t, LONG);
    keys(&mut e, &mut t, &[Key::Home, Key::Right, Key::Ctrl(b'l')]);
    assert_eq!(t.serial.console.clears, 1);
    assert_eq!(
        serial_rows(&t),
        ["kestrel> echo abcdef", "ghijklmnopqrstuvwxyz", "0123456789"]
    );
    assert_eq!(e.cursor(), 1);
    assert_eq!(t.serial.cursor(), (0, 10));
    assert_eq!(t.screen.cursor(), (0, 10));
}

#[test]
fn history_recalls_long_lines_over_short_ones_and_back() {
    let (mut e, mut t) = editor_on(NARROW, 33);
    let long = format!("echo {}", "0123456789".repeat(30));
    for line in ["help", long.as_str(), "uptime"] {
        typed(&mut e, &mut t, line);
        enter(&mut e, &mut t);
        e.start(&mut t);
    }
    typed(&mut e, &mut t, "ec");
    keys(&mut e, &mut t, &[Key::Up]);
    assert_eq!(e.line(), "uptime");
    keys(&mut e, &mut t, &[Key::Up]);
    assert_eq!(e.line(), long, "a long line, kept whole");
    keys(&mut e, &mut t, &[Key::Up]);
    assert_eq!(e.line(), "help", "a short line over the long one's rows");
    keys(&mut e, &mut t, &[Key::Up]);
    assert_eq!(e.line(), "help", "Up stops at the oldest");
    keys(&mut e, &mut t, &[Key::Down, Key::Down]);
    assert_eq!(e.line(), "uptime");
    keys(&mut e, &mut t, &[Key::Down]);
    assert_eq!(e.line(), "ec", "past the newest: what was being typed");
    keys(&mut e, &mut t, &[Key::Down]);
    assert_eq!(e.line(), "ec");
    // A recalled line can be edited in its middle and entered.
    keys(&mut e, &mut t, &[Key::Up, Key::Up, Key::Home]);
    for _ in 0..5 {
        keys(&mut e, &mut t, &[Key::Right]);
    }
    typed(&mut e, &mut t, "X ");
    assert_eq!(enter(&mut e, &mut t), format!("echo X {}", &long[5..]));
}

#[test]
fn the_history_holds_at_least_32_lines() {
    let (mut e, mut t) = editor();
    for i in 0..40 {
        typed(&mut e, &mut t, &format!("echo {i}"));
        enter(&mut e, &mut t);
        e.start(&mut t);
    }
    for _ in 0..32 {
        keys(&mut e, &mut t, &[Key::Up]);
    }
    assert_eq!(e.line(), "echo 8");
}

#[test]
fn tab_completes_a_command_name() {
    let (mut e, mut t) = editor();
    typed(&mut e, &mut t, "upt");
    keys(&mut e, &mut t, &[Key::Tab]);
    assert_eq!(e.line(), "uptime ");
    // Only at the end of the first word.
    keys(&mut e, &mut t, &[Key::Tab]);
    assert_eq!(e.line(), "uptime ");
    let (mut e, mut t) = editor();
    typed(&mut e, &mut t, "cr");
    keys(&mut e, &mut t, &[Key::Left, Key::Tab]);
    assert_eq!(e.line(), "cr", "not with the cursor inside");
}

#[test]
fn tab_completes_onto_the_next_row() {
    // `kestrel> interr` is 15 cells; `upts ` takes the line to 20, the end
    // of the first row.
    let (mut e, mut t) = editor_on(NARROW, NARROW);
    typed(&mut e, &mut t, "interr");
    keys(&mut e, &mut t, &[Key::Tab]);
    assert_eq!(e.line(), "interrupts ");
    assert_eq!(t.serial.cursor(), (1, 0));
    typed(&mut e, &mut t, "x");
    assert_eq!(serial_rows(&t), ["kestrel> interrupts", "x"]);
}

#[test]
fn tab_lists_the_choices_and_draws_the_line_again() {
    let (mut e, mut t) = editor();
    typed(&mut e, &mut t, "c");
    keys(&mut e, &mut t, &[Key::Tab]);
    assert_eq!(
        serial_rows(&t),
        ["kestrel> c", "clear  cpu  crash", "kestrel> c"]
    );
    assert_eq!(e.line(), "c");
}

#[test]
fn a_full_line_refuses_more_once_with_a_message() {
    let (mut e, mut t) = editor_on(80, 100);
    typed(&mut e, &mut t, &"x".repeat(MAX_LINE + 5));
    assert_eq!(e.line().len(), MAX_LINE);
    let drawn = format!("{PROMPT}{}", "x".repeat(MAX_LINE));
    let rows: Vec<String> = drawn
        .as_bytes()
        .chunks(80)
        .map(|row| String::from_utf8(row.to_vec()).unwrap())
        .collect();
    let mut expected = rows.clone();
    expected.push(TOO_LONG.to_string());
    expected.extend(rows);
    assert_eq!(serial_rows(&t), expected);
    assert_drawn(&e, &t);
    // Room again after a Backspace; no second message for this line.
    keys(&mut e, &mut t, &[Key::Backspace]);
    typed(&mut e, &mut t, "yz");
    assert!(e.line().ends_with('y'));
    assert_eq!(serial_rows(&t).iter().filter(|r| *r == TOO_LONG).count(), 1);
    // Completion is refused the same way.
    let (mut e, mut t) = editor();
    typed(&mut e, &mut t, &"i".repeat(MAX_LINE - 1));
    keys(&mut e, &mut t, &[Key::Tab]);
    assert!(e.line().len() <= MAX_LINE);
}

#[test]
fn the_limit_is_linuxs_and_the_message_names_it() {
    assert_eq!(MAX_LINE, 4095);
    assert!(TOO_LONG.ends_with(&format!("at most {MAX_LINE} characters")));
}

#[test]
fn the_two_consoles_may_differ_in_width() {
    let (mut e, mut t) = editor_on(23, 300);
    typed(&mut e, &mut t, &LONG.repeat(8));
    keys(&mut e, &mut t, &[Key::Home, Key::Right, Key::Right]);
    typed(&mut e, &mut t, "!");
    keys(&mut e, &mut t, &[Key::End, Key::Backspace, Key::Up]);
    assert_drawn(&e, &t);
}

#[test]
fn other_keys_are_ignored() {
    let (mut e, mut t) = editor();
    typed(&mut e, &mut t, "ab");
    for key in [
        Key::Ctrl(b'x'),
        Key::ScrollUp,
        Key::ScrollDown,
        Key::Char('é'),
        Key::Char('\u{7}'),
        Key::Down,
    ] {
        assert_eq!(e.handle(key, &mut t), Event::Nothing);
    }
    assert_eq!(e.line(), "ab");
    assert_drawn(&e, &t);
}

#[test]
fn leaving_and_redrawing_a_wrapped_line() {
    // What the shell does around a message (dropped input).
    let (mut e, mut t) = editor_on(NARROW, NARROW);
    typed(&mut e, &mut t, LONG);
    keys(&mut e, &mut t, &[Key::Home]);
    e.leave(&mut t);
    assert!(on_a_fresh_row(&t));
    t.print(0, "[WARN] input: 5 bytes dropped");
    t.new_line(29);
    e.redraw(&mut t);
    assert_drawn(&e, &t);
    assert_eq!(e.cursor(), 0);
}

/// A random key: every kind, printable characters most often, now and
/// then a burst of them; with `long`, no key that ends or clears the line,
/// so lines grow long and reach the limit.
fn random_key(rng: &mut Rng, long: bool) -> Vec<Key> {
    let one = match rng.below(31) {
        0..=11 => Key::Char(char::from(0x20 + rng.below(0x5f) as u8)),
        12 => Key::Char(['é', '\u{1b}', '\0', '日'][rng.below(4)]),
        13 | 26 if long => return vec![],
        13 => Key::Enter,
        14 | 15 => Key::Backspace,
        16 => Key::Delete,
        17 | 18 => Key::Left,
        19 => Key::Right,
        20 => Key::Home,
        21 => Key::End,
        22 | 23 => Key::Up,
        24 => Key::Down,
        25 => Key::Tab,
        26 => Key::Ctrl(b"uclaz"[rng.below(5)]),
        27 => Key::ScrollUp,
        28 => Key::ScrollDown,
        29 => {
            let burst = rng.below(400);
            return (0..burst)
                .map(|_| Key::Char(char::from(b'a' + rng.below(26) as u8)))
                .collect();
        }
        _ => Key::Char(['h', 'e', 'c', 'p', ' '][rng.below(5)]),
    };
    vec![one]
}

#[test]
fn random_keys_on_any_widths_keep_both_screens_showing_the_line() {
    let mut full = 0;
    for seed in 1..=16u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let serial = 20 + rng.below(281);
        let screen = [20, 40, 80, 100, 128, 300][rng.below(6)];
        let (mut e, mut t) = editor_on(serial, screen);
        for step in 0..1000 {
            let what = format!("seed {seed} ({serial}/{screen} columns), step {step}");
            for key in random_key(&mut rng, seed % 2 == 0) {
                let done = !matches!(e.handle(key, &mut t), Event::Nothing);
                assert!(e.line().len() <= MAX_LINE, "{what}");
                full += usize::from(e.line().len() == MAX_LINE);
                assert!(e.cursor() <= e.line().len(), "{what}");
                if done {
                    assert!(on_a_fresh_row(&t), "{what}: on a fresh row");
                    e.start(&mut t);
                }
            }
            check_drawn(&e, &t.serial, serial, &what);
            check_drawn(&e, &t.screen, screen, &what);
            // The model terminal grows without bound: keep it short.
            if t.serial.console.rows.len() > 1000 {
                e.handle(Key::Ctrl(b'l'), &mut t);
            }
        }
    }
    assert!(full > 0, "no seed filled a line: the limit went untested");
}

//! Host tests of the line editor against a fake screen: every key, the
//! history, completion, the length limit, and random key sequences.

use super::*;
use crate::shell::commands::NAMES;
use crate::test_rng::Rng;

const PROMPT: &str = "kestrel> ";

/// A screen of unlimited width: rows of characters and a cursor, moved and
/// erased exactly as the trait says (never off its row).
#[derive(Default)]
struct Fake {
    rows: Vec<Vec<char>>,
    column: usize,
    clears: usize,
}

impl Fake {
    fn new() -> Fake {
        Fake {
            rows: vec![vec![]],
            ..Fake::default()
        }
    }

    fn row(&self) -> &Vec<char> {
        self.rows.last().unwrap()
    }

    /// The cursor's row, as text.
    fn current(&self) -> String {
        self.row().iter().collect()
    }

    /// Every row, as text.
    fn all(&self) -> Vec<String> {
        self.rows.iter().map(|r| r.iter().collect()).collect()
    }
}

impl Terminal for Fake {
    fn print(&mut self, text: &str) {
        for c in text.chars() {
            if c == '\n' {
                self.rows.push(vec![]);
                self.column = 0;
                continue;
            }
            let column = self.column;
            let row = self.rows.last_mut().unwrap();
            if row.len() <= column {
                row.resize(column, ' ');
                row.push(c);
            } else {
                row[column] = c;
            }
            self.column += 1;
        }
    }
    fn left(&mut self, count: usize) {
        assert!(count <= self.column, "moved left past the row's start");
        self.column -= count;
    }
    fn right(&mut self, count: usize) {
        self.column += count;
    }
    fn erase_to_end(&mut self) {
        let column = self.column;
        self.rows.last_mut().unwrap().truncate(column);
    }
    fn clear_screen(&mut self) {
        self.rows = vec![vec![]];
        self.column = 0;
        self.clears += 1;
    }
}

/// An editor with the shell's prompt and commands, started on a fake.
fn editor() -> (LineEditor, Fake) {
    let mut editor = LineEditor::new(PROMPT, &NAMES);
    let mut fake = Fake::new();
    editor.start(&mut fake);
    (editor, fake)
}

/// The screen's cursor row shows the prompt and the line, the cursor where
/// the editor's is.
fn assert_drawn(editor: &LineEditor, fake: &Fake) {
    assert_eq!(
        fake.current().trim_end(),
        format!("{PROMPT}{}", editor.line()).trim_end(),
        "the row shows the line"
    );
    assert_eq!(
        fake.column,
        PROMPT.len() + editor.cursor(),
        "cursor in {:?}",
        fake.current()
    );
}

fn typed(editor: &mut LineEditor, fake: &mut Fake, text: &str) {
    for c in text.chars() {
        assert_eq!(editor.handle(Key::Char(c), fake), Event::Nothing);
    }
}

fn keys(editor: &mut LineEditor, fake: &mut Fake, keys: &[Key]) {
    for &key in keys {
        editor.handle(key, fake);
        assert_drawn(editor, fake);
    }
}

/// Enter, returning the line.
fn enter(editor: &mut LineEditor, fake: &mut Fake) -> String {
    match editor.handle(Key::Enter, fake) {
        Event::Line(line) => line.to_string(),
        other => panic!("Enter gave {other:?}"),
    }
}

#[test]
fn typing_echoes_and_enter_returns_the_line_on_a_new_row() {
    let (mut e, mut f) = editor();
    typed(&mut e, &mut f, "echo hi");
    assert_drawn(&e, &f);
    assert_eq!(enter(&mut e, &mut f), "echo hi");
    assert_eq!(f.all(), ["kestrel> echo hi", ""]);
    e.start(&mut f);
    assert_drawn(&e, &f);
    assert_eq!(e.line(), "");
}

#[test]
fn insert_in_the_middle_backspace_and_delete() {
    let (mut e, mut f) = editor();
    typed(&mut e, &mut f, "helo");
    keys(&mut e, &mut f, &[Key::Left]);
    typed(&mut e, &mut f, "l");
    assert_drawn(&e, &f);
    assert_eq!((e.line(), e.cursor()), ("hello", 4));
    keys(&mut e, &mut f, &[Key::Home, Key::Delete]);
    assert_eq!((e.line(), e.cursor()), ("ello", 0));
    keys(&mut e, &mut f, &[Key::Backspace]);
    assert_eq!(e.line(), "ello", "Backspace at the start does nothing");
    keys(&mut e, &mut f, &[Key::End, Key::Delete]);
    assert_eq!(e.line(), "ello", "Delete at the end does nothing");
    keys(&mut e, &mut f, &[Key::Left, Key::Left, Key::Backspace]);
    assert_eq!((e.line(), e.cursor()), ("elo", 1));
    keys(
        &mut e,
        &mut f,
        &[Key::Right, Key::Right, Key::Right, Key::Right],
    );
    assert_eq!(e.cursor(), 3, "Right stops at the end");
    keys(&mut e, &mut f, &[Key::Home, Key::Left]);
    assert_eq!(e.cursor(), 0, "Left stops at the start");
    // Enter with the cursor inside still returns the whole line.
    assert_eq!(enter(&mut e, &mut f), "elo");
    assert_eq!(f.all()[0], "kestrel> elo");
}

#[test]
fn ctrl_u_clears_and_ctrl_c_abandons() {
    let (mut e, mut f) = editor();
    typed(&mut e, &mut f, "reboot");
    keys(&mut e, &mut f, &[Key::Left, Key::Ctrl(b'u')]);
    assert_eq!((e.line(), e.cursor()), ("", 0));
    assert_eq!(f.current(), PROMPT);
    typed(&mut e, &mut f, "poweroff");
    keys(&mut e, &mut f, &[Key::Home]);
    assert_eq!(e.handle(Key::Ctrl(b'c'), &mut f), Event::Cancelled);
    assert_eq!(f.all(), ["kestrel> poweroff^C", ""]);
    e.start(&mut f);
    assert_eq!(e.line(), "");
    // An abandoned line is not in the history.
    keys(&mut e, &mut f, &[Key::Up]);
    assert_eq!(e.line(), "");
}

#[test]
fn ctrl_l_clears_the_screen_and_keeps_the_line() {
    let (mut e, mut f) = editor();
    typed(&mut e, &mut f, "uptime");
    keys(&mut e, &mut f, &[Key::Left, Key::Ctrl(b'l')]);
    assert_eq!(f.clears, 1);
    assert_eq!(f.all(), ["kestrel> uptime"]);
    assert_eq!(e.cursor(), 5);
}

#[test]
fn history_up_and_down_with_the_draft_kept() {
    let (mut e, mut f) = editor();
    for line in ["help", "uptime", "echo a"] {
        typed(&mut e, &mut f, line);
        enter(&mut e, &mut f);
        e.start(&mut f);
    }
    typed(&mut e, &mut f, "ec");
    keys(&mut e, &mut f, &[Key::Up]);
    assert_eq!(e.line(), "echo a");
    keys(&mut e, &mut f, &[Key::Up, Key::Up]);
    assert_eq!(e.line(), "help");
    keys(&mut e, &mut f, &[Key::Up]);
    assert_eq!(e.line(), "help", "Up stops at the oldest");
    keys(&mut e, &mut f, &[Key::Down]);
    assert_eq!(e.line(), "uptime");
    keys(&mut e, &mut f, &[Key::Down, Key::Down]);
    assert_eq!(e.line(), "ec", "past the newest: what was being typed");
    keys(&mut e, &mut f, &[Key::Down]);
    assert_eq!(e.line(), "ec");
    // A recalled line can be edited and entered.
    keys(&mut e, &mut f, &[Key::Up, Key::Backspace]);
    typed(&mut e, &mut f, "b");
    assert_eq!(enter(&mut e, &mut f), "echo b");
}

#[test]
fn the_history_holds_at_least_32_lines() {
    let (mut e, mut f) = editor();
    for i in 0..40 {
        typed(&mut e, &mut f, &format!("echo {i}"));
        enter(&mut e, &mut f);
        e.start(&mut f);
    }
    for _ in 0..32 {
        keys(&mut e, &mut f, &[Key::Up]);
    }
    assert_eq!(e.line(), "echo 8");
}

#[test]
fn tab_completes_a_command_name() {
    let (mut e, mut f) = editor();
    typed(&mut e, &mut f, "upt");
    keys(&mut e, &mut f, &[Key::Tab]);
    assert_eq!(e.line(), "uptime ");
    // Only at the end of the first word.
    keys(&mut e, &mut f, &[Key::Tab]);
    assert_eq!(e.line(), "uptime ");
    let (mut e, mut f) = editor();
    typed(&mut e, &mut f, "cr");
    keys(&mut e, &mut f, &[Key::Left, Key::Tab]);
    assert_eq!(e.line(), "cr", "not with the cursor inside");
}

#[test]
fn tab_lists_the_choices_and_draws_the_line_again() {
    let (mut e, mut f) = editor();
    typed(&mut e, &mut f, "c");
    keys(&mut e, &mut f, &[Key::Tab]);
    assert_eq!(f.all(), ["kestrel> c", "clear  cpu  crash", "kestrel> c"]);
    assert_eq!(e.line(), "c");
}

#[test]
fn a_full_line_refuses_more_once_with_a_message() {
    let (mut e, mut f) = editor();
    typed(&mut e, &mut f, &"x".repeat(MAX_LINE + 5));
    assert_eq!(e.line().len(), MAX_LINE);
    assert_eq!(
        f.all(),
        [
            format!("{PROMPT}{}", "x".repeat(MAX_LINE)),
            TOO_LONG.to_string(),
            format!("{PROMPT}{}", "x".repeat(MAX_LINE)),
        ]
    );
    assert_drawn(&e, &f);
    // Room again after a Backspace.
    keys(&mut e, &mut f, &[Key::Backspace]);
    typed(&mut e, &mut f, "y");
    assert!(e.line().ends_with('y'));
    // Completion is refused the same way.
    let (mut e, mut f) = editor();
    typed(&mut e, &mut f, &"i".repeat(MAX_LINE - 1));
    keys(&mut e, &mut f, &[Key::Tab]);
    assert!(e.line().len() <= MAX_LINE);
}

#[test]
fn the_prompt_and_the_longest_line_fit_an_80_column_row() {
    assert!(PROMPT.len() + MAX_LINE < 80);
}

#[test]
fn other_keys_are_ignored() {
    let (mut e, mut f) = editor();
    typed(&mut e, &mut f, "ab");
    for key in [
        Key::Ctrl(b'x'),
        Key::ScrollUp,
        Key::ScrollDown,
        Key::Char('é'),
        Key::Char('\u{7}'),
        Key::Down,
    ] {
        assert_eq!(e.handle(key, &mut f), Event::Nothing);
    }
    assert_eq!(e.line(), "ab");
    assert_drawn(&e, &f);
}

/// A random key: every kind, printable characters most often.
fn random_key(rng: &mut Rng) -> Key {
    match rng.below(30) {
        0..=11 => Key::Char(char::from(0x20 + rng.below(0x5f) as u8)),
        12 => Key::Char(['é', '\u{1b}', '\0', '日'][rng.below(4)]),
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
        _ => Key::Char(['h', 'e', 'c', 'p', ' '][rng.below(5)]),
    }
}

#[test]
fn random_keys_never_panic_never_exceed_the_limit_and_draw_the_line() {
    for seed in 1..=20u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let (mut e, mut f) = editor();
        for step in 0..5000 {
            let key = random_key(&mut rng);
            let done = !matches!(e.handle(key, &mut f), Event::Nothing);
            assert!(e.line().len() <= MAX_LINE, "seed {seed}, step {step}");
            assert!(e.cursor() <= e.line().len(), "seed {seed}, step {step}");
            assert!(
                f.row().len() <= PROMPT.len() + MAX_LINE,
                "seed {seed}, step {step}: row {:?}",
                f.current()
            );
            if done {
                assert_eq!(f.column, 0, "seed {seed}, step {step}: on a new row");
                e.start(&mut f);
            }
            assert_drawn(&e, &f);
        }
    }
}

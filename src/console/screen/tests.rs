//! Host tests of the screen writer over an in-RAM text memory, and a plain
//! reference screen (every scroll copies every row) it must always match.

use core::fmt::Write;

use super::*;
use crate::console::color::{Color, ColorCode, ScreenChar};
use crate::console::edit::Edit;
use crate::console::grid::{REPLACEMENT, Scroll};
use crate::console::test_support::{Action, Plain, apply_to_screen, random_action};
use crate::test_rng::Rng;

/// Text memory in RAM that remembers the start and cursor registers and
/// counts writes.
struct Ram {
    cells: Vec<u16>,
    start: usize,
    cursor: usize,
    writes: usize,
    runs: Vec<(usize, usize)>,
}

impl Ram {
    fn new() -> Ram {
        // Garbage, like a real screen left by the boot loader.
        Ram {
            cells: vec![0x4e58; MEMORY_CELLS],
            start: 1234,
            cursor: 99,
            writes: 0,
            runs: vec![],
        }
    }
}

impl TextMemory for Ram {
    fn write(&mut self, index: usize, cell: u16) {
        self.cells[index] = cell;
        self.writes += 1;
    }
    fn write_run(&mut self, index: usize, cells: &[u16]) {
        self.runs.push((index, cells.len()));
        for (offset, &cell) in cells.iter().enumerate() {
            self.write(index + offset, cell);
        }
    }
    fn set_start(&mut self, start: usize, _: Option<usize>) {
        self.start = start;
    }
    fn set_cursor(&mut self, index: usize, _: Option<usize>) {
        self.cursor = index;
    }
}

/// A fresh writer over garbage memory, reset.
fn screen() -> Box<Screen<'static, Ram>> {
    let storage = Box::leak(Box::new(Storage::new()));
    let mut screen = Box::new(Screen::new(Ram::new(), storage));
    screen.reset();
    screen
}

/// What a person sees: HEIGHT rows of WIDTH cells from the start address
/// (read the way the test harness reads QEMU: wrapping at 32 KiB).
fn visible(memory: &Ram) -> Vec<Vec<u16>> {
    (0..HEIGHT)
        .map(|r| {
            (0..WIDTH)
                .map(|c| memory.cells[(memory.start + r * WIDTH + c) % MEMORY_CELLS])
                .collect()
        })
        .collect()
}

/// The visible text, trailing blanks removed, one string per row.
fn text(screen: &mut Screen<'_, Ram>) -> Vec<String> {
    screen.flush();
    visible(screen.memory())
        .iter()
        .map(|row| {
            row.iter()
                .map(|&c| char::from(c as u8))
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect()
}

/// The cursor (row, column) as the hardware shows it.
fn hardware_cursor(screen: &mut Screen<'_, Ram>) -> (usize, usize) {
    screen.flush();
    let memory = screen.memory();
    let offset = memory.cursor - memory.start;
    (offset / WIDTH, offset % WIDTH)
}

/// A fresh screen after `input`: its text and its cursor.
fn after(input: &str) -> (Vec<String>, (usize, usize)) {
    let mut s = screen();
    s.write_str(input).unwrap();
    (text(&mut s), s.grid().cursor())
}

fn rows(lines: &[&str]) -> Vec<String> {
    let mut rows: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    rows.resize(HEIGHT, String::new());
    rows
}

#[test]
fn reset_blanks_the_rows_shown_and_writes_no_others() {
    let s = screen();
    let shown = WIDTH * HEIGHT;
    assert!(s.memory().cells[..shown].iter().all(|&c| c == 0x0720));
    // The boot loader's garbage below stays, out of sight, unwritten.
    assert!(s.memory().cells[shown..].iter().all(|&c| c == 0x4e58));
    assert_eq!(s.memory().writes, shown);
    assert_eq!((s.memory().start, s.memory().cursor), (0, 0));
}

#[test]
fn text_and_new_lines() {
    let mut s = screen();
    write!(s, "hello\nworld").unwrap();
    assert_eq!(text(&mut s), rows(&["hello", "world"]));
    assert_eq!(hardware_cursor(&mut s), (1, 5));
}

#[test]
fn long_lines_wrap_and_eighty_characters_then_newline_make_one_line() {
    let mut s = screen();
    let eighty = "0123456789".repeat(8);
    write!(s, "{eighty}\n{eighty}x").unwrap();
    assert_eq!(text(&mut s), rows(&[&eighty, &eighty, "x"]));
    assert_eq!(s.grid().cursor(), (2, 1));
}

#[test]
fn full_line_shows_the_cursor_on_its_last_cell() {
    let mut s = screen();
    s.write_bytes(&[b'a'; WIDTH]);
    assert_eq!(s.grid().cursor(), (0, WIDTH));
    assert_eq!(hardware_cursor(&mut s), (0, WIDTH - 1));
}

#[test]
fn carriage_return_overwrites_from_column_zero() {
    let (text, cursor) = after("abcdef\rXY");
    assert_eq!((text[0].as_str(), cursor), ("XYcdef", (0, 2)));
}

#[test]
fn tabs_go_to_the_next_multiple_of_eight() {
    assert_eq!(
        after("\tA\tB\t\tC").0[0],
        "        A       B               C"
    );
    assert_eq!(after("12345678\tX").0[0], "12345678        X");
    // A tab in the last stop fills the line; the next character wraps.
    let (text, cursor) = after(&format!("{}\tZ", ".".repeat(75)));
    assert_eq!((text[1].as_str(), cursor), ("Z", (1, 1)));
}

#[test]
fn backspace_moves_back_one_cell_but_not_past_column_zero() {
    let (text, cursor) = after("abc\x08\x08X");
    assert_eq!((text[0].as_str(), cursor), ("aXc", (0, 2)));
    assert_eq!(after("abc\n\x08\x08Y").0[1], "Y");
}

#[test]
fn non_ascii_and_control_bytes_show_as_a_square() {
    let mut s = screen();
    write!(s, "é✓\x01\x7f|").unwrap();
    s.write_bytes(&[0x80, 0xff, 0x1b]);
    s.flush();
    let row: Vec<u8> = visible(s.memory())[0]
        .iter()
        .take(8)
        .map(|&c| c as u8)
        .collect();
    assert_eq!(
        row,
        [
            REPLACEMENT,
            REPLACEMENT,
            REPLACEMENT,
            REPLACEMENT,
            b'|',
            REPLACEMENT,
            REPLACEMENT,
            REPLACEMENT
        ]
    );
}

#[test]
fn colours_apply_to_what_follows_and_to_blanks() {
    let mut s = screen();
    write!(s, "a").unwrap();
    let warn = ColorCode::new(Color::Yellow, Color::Black);
    s.grid_mut().set_color(warn);
    write!(s, "b").unwrap();
    s.grid_mut().set_color(ColorCode::DEFAULT);
    write!(s, "c").unwrap();
    s.flush();
    let row = &visible(s.memory())[0];
    assert_eq!(
        ScreenChar::from_cell(row[0]),
        ScreenChar {
            ascii: b'a',
            color: ColorCode::DEFAULT
        }
    );
    assert_eq!(
        ScreenChar::from_cell(row[1]),
        ScreenChar {
            ascii: b'b',
            color: warn
        }
    );
    assert_eq!(
        ScreenChar::from_cell(row[2]),
        ScreenChar {
            ascii: b'c',
            color: ColorCode::DEFAULT
        }
    );
    let panic = ColorCode::new(Color::White, Color::Red);
    s.grid_mut().set_color(panic);
    s.clear();
    s.flush();
    assert!(
        visible(s.memory())
            .iter()
            .flatten()
            .all(|&c| c == ScreenChar::blank(panic).to_cell())
    );
}

#[test]
fn scrolling_drops_the_top_line_and_blanks_the_last() {
    let mut s = screen();
    for i in 0..HEIGHT + 3 {
        writeln!(s, "line {i}").unwrap();
    }
    let expected: Vec<String> = (4..HEIGHT + 3)
        .map(|i| format!("line {i}"))
        .chain([String::new()])
        .collect();
    assert_eq!(text(&mut s), expected);
    assert_eq!(hardware_cursor(&mut s), (HEIGHT - 1, 0));
}

#[test]
fn a_scroll_moves_the_start_and_writes_about_one_line() {
    let mut s = screen();
    for _ in 0..HEIGHT - 1 {
        writeln!(s, "{}", "x".repeat(79)).unwrap();
    }
    s.flush();
    assert_eq!(s.memory().start, 0);
    // Fill the last line and scroll: one line of text (whole groups), and
    // the new last row, shown for the first time, in full.
    s.memory_mut().writes = 0;
    writeln!(s, "{}", "y".repeat(79)).unwrap();
    s.flush();
    assert_eq!(s.memory().start, WIDTH);
    assert_eq!(s.memory().writes, 2 * WIDTH);
    assert_eq!(text(&mut s)[HEIGHT - 1], "");
    // The next scroll shows another new row: in full again.
    s.memory_mut().writes = 0;
    writeln!(s, "{}", "w".repeat(79)).unwrap();
    s.flush();
    assert_eq!(s.memory().writes, 2 * WIDTH);
    // Past the end of the text memory the window moves back to row 0: a
    // full-screen rewrite there, once per pass, and the screen reads right.
    for i in 0..LAST_START_ROW * 2 {
        writeln!(s, "{}{i}", "z".repeat(70)).unwrap();
        s.flush();
        assert!(s.memory().start + HEIGHT * WIDTH <= MEMORY_CELLS);
    }
    assert_eq!(
        text(&mut s)[HEIGHT - 2],
        format!("{}{}", "z".repeat(70), LAST_START_ROW * 2 - 1)
    );
}

#[test]
fn nothing_reaches_memory_before_flush_and_unchanged_cells_are_not_rewritten() {
    let mut s = screen();
    s.memory_mut().writes = 0;
    s.memory_mut().runs.clear();
    write!(s, "abc").unwrap();
    assert_eq!(s.memory().writes, 0);
    s.flush();
    assert_eq!(s.memory().runs, [(0, RUN_GROUP)]);
    // The same text again: nothing new goes out.
    write!(s, "\rabc").unwrap();
    s.flush();
    assert_eq!(s.memory().runs, [(0, RUN_GROUP)]);
}

#[test]
fn changed_cells_go_out_in_runs_of_whole_groups() {
    let mut s = screen();
    write!(s, "abcdefghijklmn").unwrap();
    s.flush();
    write!(s, "\rxbcyzfghijklM").unwrap();
    s.memory_mut().runs.clear();
    s.flush();
    // "a" -> "x", "de" -> "yz" (groups 0 and 1, one run) and "m" -> "M"
    // (group 2 unchanged, group 3 alone).
    assert_eq!(
        s.memory().runs,
        [(0, 2 * RUN_GROUP), (3 * RUN_GROUP, RUN_GROUP)]
    );
    assert_eq!(text(&mut s)[0], "xbcyzfghijklMn");
}

#[test]
fn rewrite_memory_repairs_what_others_wrote() {
    let mut s = screen();
    write!(s, "kept").unwrap();
    s.flush();
    s.memory_mut().cells.fill(0x1f41);
    s.memory_mut().start = 4000;
    s.rewrite_memory();
    assert_eq!(text(&mut s), rows(&["kept"]));
    // Rows out of sight are written only when they come into view.
    assert!(
        s.memory().cells[WIDTH * HEIGHT..]
            .iter()
            .all(|&c| c == 0x1f41)
    );
    for line in 0..HEIGHT + 3 {
        writeln!(s, "{line}").unwrap();
    }
    let mut expected = vec![String::new(); HEIGHT];
    for (row, line) in (4..HEIGHT + 3).enumerate() {
        expected[row] = line.to_string();
    }
    assert_eq!(text(&mut s), expected);
}

#[test]
fn repair_rewrites_every_visible_row_whatever_was_interrupted() {
    let mut s = screen();
    writeln!(s, "before").unwrap();
    s.flush();
    // As if a panic stopped a flush after the mirror was updated and
    // before the cells went out.
    s.memory_mut().cells[..WIDTH].fill(0x1f41);
    s.repair();
    s.memory_mut().writes = 0;
    write!(s, "after").unwrap();
    s.flush();
    assert_eq!(s.memory().writes, WIDTH * HEIGHT);
    assert_eq!(text(&mut s), rows(&["before", "after"]));
}

// --- the reference: a plain screen that copies every row to scroll ----------

/// One random step applied to both writers.
fn random_step(rng: &mut Rng, s: &mut Screen<'_, Ram>, plain: &mut Plain) {
    let action = random_action(rng);
    match &action {
        Action::Byte(b) => s.write_byte(*b),
        Action::Clear => s.clear(),
        other => apply_to_screen(s, other),
    }
    plain.apply(&action);
}

/// The hardware-scrolled screen shows exactly what the plain one holds.
fn assert_same(s: &mut Screen<'_, Ram>, plain: &Plain, context: &str) {
    s.flush();
    let shown = visible(s.memory());
    for (r, (row, expected)) in shown.iter().zip(&plain.view()).enumerate() {
        assert_eq!(row, expected, "row {r} differs ({context})");
    }
    assert_eq!(
        s.grid().cursor(),
        (plain.row, plain.column),
        "cursor differs ({context})"
    );
    assert_eq!(
        hardware_cursor(s),
        plain.visible_cursor().unwrap_or((HEIGHT, 0)),
        "({context})"
    );
}

#[test]
fn hardware_scrolling_equals_plain_scrolling_for_random_input() {
    for seed in 1..=40u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut s = screen();
        let mut plain = Plain::new(WIDTH, HEIGHT);
        // Enough steps to scroll through the text memory several times.
        for step in 0..3000 {
            random_step(&mut rng, &mut s, &mut plain);
            if step % 97 == 0 {
                assert_same(&mut s, &plain, &format!("seed {seed}, step {step}"));
            }
        }
        assert_same(&mut s, &plain, &format!("seed {seed}, end"));
    }
}

#[test]
fn a_mebibyte_of_random_bytes_never_panics_and_matches_the_reference() {
    let mut rng = Rng(0x5eed_f00d_c0de);
    let mut s = screen();
    let mut plain = Plain::new(WIDTH, HEIGHT);
    let mut chunk = [0u8; 4096];
    for i in 0..(1 << 20) / chunk.len() {
        for b in chunk.iter_mut() {
            *b = rng.next() as u8;
        }
        s.write_bytes(&chunk);
        for &b in &chunk {
            plain.byte(b);
        }
        if i % 16 == 0 {
            assert_same(&mut s, &plain, &format!("chunk {i}"));
        }
    }
    assert_same(&mut s, &plain, "end");
}

#[test]
fn erase_to_end_of_line_blanks_in_the_current_colour() {
    let mut s = screen();
    write!(s, "abcdef\rab").unwrap();
    let band = ColorCode::new(Color::White, Color::Red);
    s.grid_mut().set_color(band);
    s.grid_mut().erase_to_end_of_line();
    assert_eq!(s.grid().cursor(), (0, 2));
    s.flush();
    let row = &visible(s.memory())[0];
    assert_eq!(row[1], 0x0700 | u16::from(b'b'));
    assert!(
        row[2..]
            .iter()
            .all(|&c| c == ScreenChar::blank(band).to_cell())
    );
}

// --- scrollback and the line editor's API ---------------------------------------

#[test]
fn scrollback_pages_back_through_two_hundred_lines_and_typing_returns() {
    let mut s = screen();
    for i in 0..400 {
        writeln!(s, "line {i}").unwrap();
    }
    // The screen shows lines 376..=399 and the empty cursor row.
    assert_eq!(text(&mut s)[0], "line 376");
    let mut pages = 0;
    loop {
        let before = s.grid.view_back();
        s.grid_mut().scroll_view(Scroll::PageUp);
        if s.grid.view_back() == before {
            break;
        }
        pages += 1;
    }
    // SCROLLBACK lines above the screen, a page (HEIGHT - 1 lines) at a time.
    assert_eq!(s.grid.view_back(), SCROLLBACK);
    assert_eq!(pages, SCROLLBACK.div_ceil(HEIGHT - 1));
    assert_eq!(text(&mut s)[0], format!("line {}", 376 - SCROLLBACK));
    assert_eq!(hardware_cursor(&mut s), (HEIGHT, 0), "cursor hidden");
    s.grid_mut().scroll_view(Scroll::PageDown);
    assert_eq!(
        text(&mut s)[0],
        format!("line {}", 376 - SCROLLBACK + HEIGHT - 1)
    );
    // Anything written returns the view to the bottom.
    write!(s, "x").unwrap();
    assert_eq!(s.grid.view_back(), 0);
    let shown = text(&mut s);
    assert_eq!(
        (shown[0].as_str(), shown[HEIGHT - 1].as_str()),
        ("line 376", "x")
    );
    assert_eq!(hardware_cursor(&mut s), (HEIGHT - 1, 1));
}

#[test]
fn scrollback_views_equal_the_reference_at_every_page() {
    for seed in 1..=6u64 {
        let mut rng = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1);
        let mut s = screen();
        let mut plain = Plain::new(WIDTH, HEIGHT);
        let mut deepest = 0;
        for step in 0..4000 {
            let action = random_action(&mut rng);
            let view = matches!(action, Action::View(_));
            match &action {
                Action::Byte(b) => s.write_byte(*b),
                Action::Clear => s.clear(),
                other => apply_to_screen(&mut *s, other),
            }
            plain.apply(&action);
            if view {
                deepest = deepest.max(plain.back);
                assert_same(&mut s, &plain, &format!("seed {seed}, step {step}"));
            }
        }
        assert!(
            deepest > HEIGHT,
            "seed {seed} paged only {deepest} lines back"
        );
    }
}

#[test]
fn clear_screen_keeps_what_it_cleared_in_the_scrollback() {
    let mut s = screen();
    write!(s, "one\ntwo\nkestrel> abc").unwrap();
    s.grid_mut().edit(Edit::ClearScreen);
    assert_eq!(s.grid().cursor(), (0, 0));
    assert_eq!(text(&mut s), rows(&[]));
    s.grid_mut().scroll_view(Scroll::PageUp);
    assert_eq!(
        text(&mut s),
        rows(&["one", "two", "kestrel> abc"]),
        "the three lines are back, the blank screen below them"
    );
}

#[test]
fn cursor_moves_stay_within_the_line() {
    let mut s = screen();
    write!(s, "first\nkestrel> hello").unwrap();
    s.grid_mut().edit(Edit::Left(3));
    assert_eq!(s.grid().cursor(), (1, 11));
    s.grid_mut().edit(Edit::Left(100));
    assert_eq!(s.grid().cursor(), (1, 0), "never onto the line above");
    s.grid_mut().edit(Edit::Right(5));
    assert_eq!(s.grid().cursor(), (1, 5));
    s.grid_mut().edit(Edit::Right(1000));
    assert_eq!(
        s.grid().cursor(),
        (1, WIDTH - 1),
        "never past the last cell"
    );
    s.grid_mut().edit(Edit::Left(0));
    s.grid_mut().edit(Edit::Right(0));
    assert_eq!(s.grid().cursor(), (1, WIDTH - 1));
    // Insert in the middle, the way the line editor redraws: the tail
    // again, erase what is left, then back to the cursor.
    s.grid_mut().edit(Edit::Left(WIDTH - 1 - 11));
    write!(s, "X").unwrap();
    write!(s, "llo").unwrap();
    s.grid_mut().erase_to_end_of_line();
    s.grid_mut().edit(Edit::Left(3));
    assert_eq!(text(&mut s)[1], "kestrel> heXllo");
    assert_eq!(hardware_cursor(&mut s), (1, 12));
}

#[test]
fn a_full_line_counts_moves_from_its_last_cell() {
    let mut s = screen();
    write!(s, "{}", "a".repeat(WIDTH)).unwrap();
    assert_eq!(s.grid().cursor(), (0, WIDTH));
    s.grid_mut().edit(Edit::Left(1));
    assert_eq!(s.grid().cursor(), (0, WIDTH - 2));
    let mut full = screen();
    write!(full, "{}", "a".repeat(WIDTH)).unwrap();
    full.grid_mut().edit(Edit::Right(3));
    assert_eq!(full.grid().cursor(), (0, WIDTH), "right stays put");
}

#[test]
fn up_and_down_stay_in_the_column_and_on_the_screen() {
    let mut s = screen();
    write!(s, "one\ntwo\nthree\nfour").unwrap();
    s.grid_mut().edit(Edit::Up(2));
    assert_eq!(s.grid().cursor(), (1, 4));
    s.grid_mut().edit(Edit::Up(100));
    assert_eq!(s.grid().cursor(), (0, 4), "never above the top row");
    s.grid_mut().edit(Edit::Down(3));
    assert_eq!(s.grid().cursor(), (3, 4));
    s.grid_mut().edit(Edit::Down(1000));
    assert_eq!(
        s.grid().cursor(),
        (HEIGHT - 1, 4),
        "never past the bottom row"
    );
    assert_eq!(
        text(&mut s),
        rows(&["one", "two", "three", "four"]),
        "and never scrolls"
    );
    s.grid_mut().edit(Edit::Up(0));
    s.grid_mut().edit(Edit::Return);
    assert_eq!(hardware_cursor(&mut s), (HEIGHT - 1, 0));
}

#[test]
fn a_wrapped_line_is_reached_row_by_row() {
    // What the line editor does on a line two rows and a bit long: up a
    // row, then within it; the pending wrap of a full row ends with a line
    // break, never a move.
    let mut s = screen();
    let line = format!("kestrel> {}", "x".repeat(2 * WIDTH - 9));
    writeln!(s, "{line}").unwrap();
    assert_eq!(s.grid().cursor(), (2, 0));
    write!(s, "yz").unwrap();
    s.grid_mut().edit(Edit::Up(2));
    s.grid_mut().edit(Edit::Right(7));
    assert_eq!(hardware_cursor(&mut s), (0, 9));
    write!(s, "A").unwrap();
    s.grid_mut().edit(Edit::Down(1));
    s.grid_mut().edit(Edit::Left(10));
    assert_eq!(s.grid().cursor(), (1, 0));
}

#[test]
fn a_full_line_moves_up_and_down_from_its_last_cell() {
    let mut s = screen();
    write!(s, "a\n{}", "b".repeat(WIDTH)).unwrap();
    assert_eq!(s.grid().cursor(), (1, WIDTH));
    s.grid_mut().edit(Edit::Up(1));
    assert_eq!(s.grid().cursor(), (0, WIDTH - 1));
    write!(s, "\n{}", "c".repeat(WIDTH)).unwrap();
    s.grid_mut().edit(Edit::Down(1));
    assert_eq!(s.grid().cursor(), (2, WIDTH - 1));
}

#[test]
fn erase_below_blanks_the_rest_of_the_row_and_every_row_below() {
    let mut s = screen();
    write!(s, "keep\nkestrel> abcdef\nsecond row\nthird").unwrap();
    s.grid_mut().edit(Edit::Up(2));
    s.grid_mut().edit(Edit::Return);
    s.grid_mut().edit(Edit::Right(12));
    s.grid_mut().edit(Edit::EraseBelow);
    assert_eq!(s.grid().cursor(), (1, 12), "the cursor stays");
    assert_eq!(text(&mut s), rows(&["keep", "kestrel> abc"]));
}

#[test]
fn band_rows_are_cut_to_one_row_with_a_mark() {
    let band = ColorCode::new(Color::White, Color::Red);
    let mut s = screen();
    s.write_str("before").unwrap();
    let long = "x".repeat(WIDTH + 30);
    s.print_band_row(band, format_args!("{long}"));
    s.print_band_row(band, format_args!("fits"));
    let exact = "y".repeat(WIDTH);
    s.print_band_row(band, format_args!("{exact}"));
    s.print_band_row(band, format_args!("two\nlines"));
    let mut cut = "x".repeat(WIDTH - 1);
    cut.push(crate::console::grid::CUT_MARK);
    assert_eq!(
        text(&mut s),
        rows(&["before", &cut, "fits", &exact, "two>"])
    );
    assert_eq!(s.grid().cursor(), (5, 0));
}

//! Host tests of the framebuffer console over framebuffers in RAM, checked
//! pixel by pixel against a plain reference drawing (every pixel computed on
//! its own from the font's bits and the palette) of what a plain screen
//! holds.

use core::fmt::Write;

use super::*;
use crate::console::color::{Color, ColorCode, PALETTE, ScreenChar};
use crate::console::font::{BUILTIN, GLYPH_WIDTH};
use crate::console::grid::{REPLACEMENT, SCROLLBACK, Scroll};
use crate::console::pixels::ColorField;
use crate::console::render::{CURSOR_ROWS, PixelFormat};
use crate::console::test_support::{Action, Plain, apply_to_screen, random_action};
use crate::test_rng::Rng;

/// What padding and untouched bytes hold: never a byte the console writes
/// for the palette in the formats below... except by chance, so the tests
/// that rely on it also count writes.
const GARBAGE: u8 = 0x5a;

/// A framebuffer in RAM that counts how often each byte was written.
struct Ram {
    bytes: Vec<u8>,
    writes: Vec<u32>,
    calls: usize,
}

impl Ram {
    fn new(size: usize) -> Ram {
        Ram {
            bytes: vec![GARBAGE; size],
            writes: vec![0; size],
            calls: 0,
        }
    }

    fn forget_writes(&mut self) {
        self.writes.fill(0);
        self.calls = 0;
    }
}

impl PixelTarget for Ram {
    fn write(&mut self, offset: usize, bytes: &[u8]) {
        self.bytes[offset..offset + bytes.len()].copy_from_slice(bytes);
        for count in &mut self.writes[offset..offset + bytes.len()] {
            *count += 1;
        }
        self.calls += 1;
    }
}

/// 32 bpp, red in bits 16-23 (what OVMF's GOP and GRUB's VBE give).
fn rgb32() -> PixelFormat {
    PixelFormat {
        bytes_per_pixel: 4,
        red: ColorField::new(16, 8),
        green: ColorField::new(8, 8),
        blue: ColorField::new(0, 8),
    }
}

/// 32 bpp, red in bits 0-7.
fn bgr32() -> PixelFormat {
    PixelFormat {
        red: ColorField::new(0, 8),
        blue: ColorField::new(16, 8),
        ..rgb32()
    }
}

/// 24 bpp as QEMU's std VGA under OVMF with GRUB's Bochs driver.
fn rgb24() -> PixelFormat {
    PixelFormat {
        bytes_per_pixel: 3,
        ..rgb32()
    }
}

/// 24 bpp, red in the low byte.
fn bgr24() -> PixelFormat {
    PixelFormat {
        bytes_per_pixel: 3,
        ..bgr32()
    }
}

/// 16 bpp, 5-6-5.
fn rgb565() -> PixelFormat {
    PixelFormat {
        bytes_per_pixel: 2,
        red: ColorField::new(11, 5),
        green: ColorField::new(5, 6),
        blue: ColorField::new(0, 5),
    }
}

/// A mode: pixel size, pitch (bytes) and scale.
#[derive(Clone, Copy)]
struct Mode {
    format: PixelFormat,
    width: usize,
    height: usize,
    pitch: usize,
    scale: usize,
}

impl Mode {
    fn new(format: PixelFormat, width: usize, height: usize) -> Mode {
        Mode {
            format,
            width,
            height,
            pitch: width * format.bytes_per_pixel,
            scale: 1,
        }
    }

    fn columns(&self) -> usize {
        self.width / (GLYPH_WIDTH * self.scale)
    }

    fn rows(&self) -> usize {
        self.height / (BUILTIN.height() * self.scale)
    }
}

/// A console over a fresh RAM framebuffer of `mode`, reset.
struct Fixture {
    mode: Mode,
    screen: FbScreen<'static, Ram>,
}

fn console(mode: Mode) -> Fixture {
    let count = mode.columns() * mode.rows();
    let lines = mode.rows() + SCROLLBACK;
    let cells = Vec::leak(vec![0x1234; mode.columns() * lines + 7]);
    let dirty = Vec::leak(vec![false; lines + 3]);
    let shown = Vec::leak(vec![0x4321; count + 7]);
    let renderer = Renderer::new(BUILTIN, mode.format, mode.pitch, mode.scale);
    let mut screen = FbScreen::new(
        Ram::new(mode.pitch * mode.height),
        renderer,
        (mode.columns(), mode.rows()),
        (mode.width, mode.height),
        (cells, dirty, shown),
    );
    screen.reset();
    Fixture { mode, screen }
}

/// The pixel bytes of colour `index` in `format`, computed field by field.
fn encode(format: &PixelFormat, index: u8) -> Vec<u8> {
    let [r, g, b] = PALETTE[usize::from(index)];
    let scale = |value: u8, field: ColorField| {
        let max = (1u32 << field.size) - 1;
        ((f64::from(value) * f64::from(max) / 255.0).round() as u32) << field.position
    };
    let value = scale(r, format.red) | scale(g, format.green) | scale(b, format.blue);
    value.to_le_bytes()[..format.bytes_per_pixel].to_vec()
}

/// The whole framebuffer as it must look when the screen shows `rows`
/// (cell values) with the cursor on `cursor`: each pixel on its own.
fn reference(mode: &Mode, rows: &[Vec<u16>], cursor: Option<(usize, usize)>) -> Vec<u8> {
    let mut bytes = vec![GARBAGE; mode.pitch * mode.height];
    let (cell_w, cell_h) = (GLYPH_WIDTH * mode.scale, BUILTIN.height() * mode.scale);
    let bpp = mode.format.bytes_per_pixel;
    for y in 0..mode.height {
        for x in 0..mode.width {
            let (row, column) = (y / cell_h, x / cell_w);
            let color = if row < mode.rows() && column < mode.columns() {
                let cell = ScreenChar::from_cell(rows[row][column]);
                let glyph_row = (y % cell_h) / mode.scale;
                let bit = (x % cell_w) / mode.scale;
                let on = BUILTIN.row(cell.ascii, glyph_row) & (0x80 >> bit) != 0
                    || (Some((row, column)) == cursor
                        && glyph_row >= BUILTIN.height() - CURSOR_ROWS);
                if on {
                    cell.color.foreground()
                } else {
                    cell.color.background()
                }
            } else {
                Color::Black as u8
            };
            let at = y * mode.pitch + x * bpp;
            bytes[at..at + bpp].copy_from_slice(&encode(&mode.format, color));
        }
    }
    bytes
}

/// Checks the framebuffer against the reference of `plain`, naming the
/// first pixel that differs.
fn assert_shows(fixture: &mut Fixture, plain: &Plain, context: &str) {
    fixture.screen.flush();
    let mode = fixture.mode;
    let expected = reference(&mode, &plain.view(), plain.visible_cursor());
    let actual = &fixture.screen.target().bytes;
    if let Some(at) = (0..expected.len()).find(|&i| expected[i] != actual[i]) {
        let (y, x) = (
            at / mode.pitch,
            at % mode.pitch / mode.format.bytes_per_pixel,
        );
        panic!(
            "{context}: byte {at} (pixel {x},{y}, cell {},{}) is {:#04x}, expected {:#04x}",
            y / (BUILTIN.height() * mode.scale),
            x / (GLYPH_WIDTH * mode.scale),
            actual[at],
            expected[at]
        );
    }
    assert_eq!(
        fixture.screen.grid().cursor(),
        (plain.row, plain.column),
        "{context}"
    );
}

/// Writes `text` to both the console and a plain reference.
fn write_both(fixture: &mut Fixture, plain: &mut Plain, text: &str) {
    fixture.screen.write_str(text).unwrap();
    plain.apply(&Action::Text(text.to_string()));
}

fn plain(mode: &Mode) -> Plain {
    Plain::new(mode.columns(), mode.rows())
}

/// Every printable character, then ■ (for a non-ASCII char and a control
/// byte), in every format: pixel for pixel.
#[test]
fn every_printable_character_and_the_square_draw_their_glyphs_in_every_format() {
    for (name, format) in [
        ("rgb32", rgb32()),
        ("bgr32", bgr32()),
        ("rgb24", rgb24()),
        ("bgr24", bgr24()),
        ("rgb565", rgb565()),
    ] {
        let mode = Mode::new(format, 800, 600);
        let mut fixture = console(mode);
        let mut plain = plain(&mode);
        let printable: String = (0x20..=0x7eu8).map(char::from).collect();
        write_both(&mut fixture, &mut plain, &printable);
        write_both(&mut fixture, &mut plain, "é\x01|");
        assert_eq!(plain.cells[0][95] as u8, REPLACEMENT);
        assert_eq!(plain.cells[0][96] as u8, REPLACEMENT);
        assert_shows(&mut fixture, &plain, name);
    }
}

/// The palette reaches the framebuffer in the order its fields say: yellow
/// (ff ff 55) is 55 ff ff in memory for RGB and ff ff 55 for BGR.
#[test]
fn colour_fields_go_where_the_mode_puts_them() {
    let yellow = ColorCode::new(Color::Yellow, Color::Blue);
    for (format, fg, bg) in [
        (rgb32(), vec![0x55, 0xff, 0xff, 0], vec![0xaa, 0, 0, 0]),
        (bgr32(), vec![0xff, 0xff, 0x55, 0], vec![0, 0, 0xaa, 0]),
        (rgb24(), vec![0x55, 0xff, 0xff], vec![0xaa, 0, 0]),
        (bgr24(), vec![0xff, 0xff, 0x55], vec![0, 0, 0xaa]),
        // 5-6-5: yellow is 31, 63, 10; blue 0, 0, 21.
        (
            rgb565(),
            (31u16 << 11 | 63 << 5 | 10).to_le_bytes().to_vec(),
            vec![21, 0],
        ),
    ] {
        let mode = Mode::new(format, 64, 32);
        let mut fixture = console(mode);
        fixture.screen.grid_mut().set_color(yellow);
        fixture.screen.write_str("\u{2588}").unwrap(); // ■: a solid middle
        fixture.screen.flush();
        let bytes = &fixture.screen.target().bytes;
        let bpp = format.bytes_per_pixel;
        // Spleen's ■ covers columns 1-5 of rows 4-10; pixel (0, 0) is
        // background.
        let at = |x: usize, y: usize| &bytes[y * mode.pitch + x * bpp..][..bpp];
        assert_eq!(at(3, 7), &fg[..], "{format:?}");
        assert_eq!(at(0, 0), &bg[..], "{format:?}");
    }
}

/// Every foreground on every background, in a 24 bpp mode with a pitch
/// larger than its width: pixel for pixel, and the padding never written.
#[test]
fn all_colours_and_a_pitch_wider_than_the_width() {
    let mut mode = Mode::new(bgr24(), 640, 480);
    mode.pitch = 640 * 3 + 100;
    let mut fixture = console(mode);
    let mut plain = plain(&mode);
    for background in 0..8u8 {
        for foreground in 0..16u8 {
            let color = ColorCode(background << 4 | foreground);
            fixture.screen.grid_mut().set_color(color);
            plain.color = color;
            write_both(&mut fixture, &mut plain, "Ag");
        }
        write_both(&mut fixture, &mut plain, "\n");
    }
    assert_shows(&mut fixture, &plain, "colours");
    let ram = fixture.screen.target();
    for y in 0..mode.height {
        let padding = y * mode.pitch + 640 * 3..(y + 1) * mode.pitch;
        assert!(ram.writes[padding].iter().all(|&n| n == 0), "line {y}");
    }
}

/// Random input, flushed at random points, scrolling hundreds of times:
/// the framebuffer always equals a drawing from scratch of what a plain
/// screen holds (so a scroll that redraws only changed cells leaves nothing
/// stale).
#[test]
fn drawing_only_what_changed_equals_a_redraw_from_scratch_for_random_input() {
    for (seed, mode) in [
        (1u64, Mode::new(rgb32(), 160, 96)),
        (2, Mode::new(rgb24(), 200, 100)),
        (3, Mode::new(rgb565(), 128, 64)),
        (4, {
            let mut mode = Mode::new(bgr32(), 330, 170);
            mode.scale = 2;
            mode.pitch += 12;
            mode
        }),
    ] {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut fixture = console(mode);
        let mut plain = plain(&mode);
        for step in 0..1500 {
            let action = random_action(&mut rng);
            let screen = &mut fixture.screen;
            match &action {
                Action::Byte(b) => screen.write_byte(*b),
                Action::Clear => screen.clear(),
                other => apply_to_screen(screen, other),
            }
            plain.apply(&action);
            if step % 101 == 0 {
                assert_shows(&mut fixture, &plain, &format!("seed {seed}, step {step}"));
            }
        }
        assert_shows(&mut fixture, &plain, &format!("seed {seed}, end"));
    }
}

/// The cursor: an underline in the foreground colour on the cell where the
/// next character goes; the cell it leaves is drawn again without it; a full
/// line shows it on its last cell.
#[test]
fn the_cursor_is_drawn_where_the_next_character_goes() {
    let mode = Mode::new(rgb32(), 80, 64);
    let mut fixture = console(mode);
    let mut plain = plain(&mode);
    assert_shows(&mut fixture, &plain, "empty");
    let grey = encode(&mode.format, Color::LightGray as u8);
    let pixel = |fixture: &Fixture, x: usize, y: usize| {
        fixture.screen.target().bytes[y * mode.pitch + x * 4..][..4].to_vec()
    };
    // The cursor at (0, 0): row 15 of the cell is lit, row 13 not.
    assert_eq!(pixel(&fixture, 0, 15), grey);
    assert_ne!(pixel(&fixture, 0, 13), grey);
    write_both(&mut fixture, &mut plain, "abc");
    assert_shows(&mut fixture, &plain, "abc");
    assert_eq!(fixture.screen.shown_cursor(), Some((0, 3)));
    assert_eq!(pixel(&fixture, 3 * 8, 14), grey);
    write_both(&mut fixture, &mut plain, "defghij");
    assert_eq!(fixture.screen.grid().cursor(), (0, 10));
    assert_shows(&mut fixture, &plain, "full line");
    assert_eq!(fixture.screen.shown_cursor(), Some((0, 9)));
    write_both(&mut fixture, &mut plain, "\n\n\n\nxy");
    assert_shows(&mut fixture, &plain, "scrolled");
    assert_eq!(fixture.screen.shown_cursor(), Some((3, 2)));
}

/// One flush writes each pixel at most once, and many lines printed before
/// it (scrolling many times) cost at most one screen's worth of pixels.
#[test]
fn a_flush_writes_each_pixel_at_most_once_however_much_scrolled() {
    let mode = Mode::new(rgb24(), 800, 600);
    let mut fixture = console(mode);
    for i in 0..500 {
        writeln!(fixture.screen, "line {i}: {}", "x".repeat(i % 90)).unwrap();
    }
    fixture.screen.target_mut().forget_writes();
    fixture.screen.flush();
    let ram = fixture.screen.target();
    assert!(ram.writes.iter().all(|&n| n <= 1));
    let screen_bytes = 800 * 592 * 3;
    let written = ram.writes.iter().filter(|&&n| n == 1).count();
    assert!(written <= screen_bytes, "{written} bytes");
    // A line's worth of writes per changed run, not one per pixel.
    assert!(ram.calls <= 37 * 16 * 8, "{} writes", ram.calls);
    // Nothing changed: the next flush writes nothing.
    fixture.screen.target_mut().forget_writes();
    fixture.screen.flush();
    assert_eq!(fixture.screen.target().calls, 0);
}

/// Reset writes every pixel of the screen exactly once, margins black.
#[test]
fn reset_draws_every_pixel_once_and_blackens_the_margins() {
    let mode = Mode::new(rgb32(), 805, 603);
    let mut fixture = console(mode);
    let ram = fixture.screen.target();
    assert!(ram.writes.iter().all(|&n| n == 1));
    assert_eq!((mode.columns(), mode.rows()), (100, 37));
    let plain = plain(&mode);
    assert_shows(&mut fixture, &plain, "reset");
}

/// Panic-path repair: after the state was forgotten, the next flush draws
/// every cell again (and still matches).
#[test]
fn repair_redraws_everything() {
    let mode = Mode::new(rgb32(), 160, 64);
    let mut fixture = console(mode);
    let mut plain = plain(&mode);
    write_both(&mut fixture, &mut plain, "before\nthe panic");
    fixture.screen.flush();
    fixture.screen.target_mut().bytes.fill(0);
    fixture.screen.repair();
    assert_shows(&mut fixture, &plain, "repaired");
}

/// The band the panic screen prints: white on red to the end of the row.
#[test]
fn a_band_fills_its_row_in_its_colour() {
    let mode = Mode::new(rgb24(), 160, 64);
    let mut fixture = console(mode);
    let mut plain = plain(&mode);
    write_both(&mut fixture, &mut plain, "ok");
    let band = ColorCode::new(Color::White, Color::Red);
    fixture
        .screen
        .print_band(band, format_args!("KERNEL PANIC: x"));
    plain.color = band;
    plain.apply(&Action::Text("\nKERNEL PANIC: x".to_string()));
    for column in 15..20 {
        plain.cells[1][column] = ScreenChar::blank(band).to_cell();
    }
    plain.apply(&Action::Text("\n".to_string()));
    assert_shows(&mut fixture, &plain, "band");
}

/// After a scroll only the glyph rows whose pixels change are written:
/// letters share their blank rows, so a scrolled screen of lines that
/// differ in every letter costs well under a full redraw of those cells.
#[test]
fn a_scroll_writes_only_the_glyph_rows_that_change() {
    let mode = Mode::new(rgb24(), 800, 600);
    let mut fixture = console(mode);
    let mut plain = plain(&mode);
    for n in 0..60usize {
        let line: String = (0..79)
            .map(|i| char::from(b'a' + ((i + n) % 26) as u8))
            .collect();
        write_both(&mut fixture, &mut plain, &format!("{line}\n"));
        if n == 58 {
            fixture.screen.flush();
            fixture.screen.target_mut().forget_writes();
        }
    }
    assert_shows(&mut fixture, &plain, "scrolled");
    let written = fixture
        .screen
        .target()
        .writes
        .iter()
        .filter(|&&n| n > 0)
        .count();
    let redrawn_cells = 79 * 37 * 8 * 16 * 3;
    assert!(
        written < redrawn_cells * 3 / 4,
        "{written} bytes written for {redrawn_cells} bytes of changed cells"
    );
}

/// Paging through the scrollback (and back to the bottom by writing) draws
/// exactly what a redraw from scratch of the plain screen's view would,
/// the cursor hidden while the view is moved back past it.
#[test]
fn scrollback_pages_draw_like_a_redraw_from_scratch() {
    let mode = Mode::new(rgb32(), 160, 96);
    let mut rng = Rng(0x5c20_11ba_c4d3);
    let mut fixture = console(mode);
    let mut plain = plain(&mode);
    let mut deepest = 0;
    for step in 0..2500 {
        let action = random_action(&mut rng);
        let view = matches!(action, Action::View(_) | Action::Left(_));
        match &action {
            Action::Byte(b) => fixture.screen.write_byte(*b),
            Action::Clear => fixture.screen.clear(),
            other => apply_to_screen(&mut fixture.screen, other),
        }
        plain.apply(&action);
        if view {
            deepest = deepest.max(plain.back);
            assert_shows(&mut fixture, &plain, &format!("step {step}"));
        }
    }
    assert!(deepest > mode.rows(), "paged only {deepest} lines back");
    for i in 0..300 {
        write_both(&mut fixture, &mut plain, &format!("line {i}\n"));
    }
    while plain.back < SCROLLBACK {
        apply_to_screen(&mut fixture.screen, &Action::View(Scroll::PageUp));
        plain.apply(&Action::View(Scroll::PageUp));
    }
    assert_shows(&mut fixture, &plain, "the oldest page");
    write_both(&mut fixture, &mut plain, "x");
    assert_shows(&mut fixture, &plain, "back at the bottom");
}

thread_local! {
    /// The fake clock the pacing tests move by hand.
    static NOW: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Reads [`NOW`].
fn fake_clock() -> u64 {
    NOW.with(|now| now.get())
}

/// A small console paced at 100 ticks per frame, its last draw at tick 0.
fn paced_console() -> (Fixture, Plain) {
    let mode = Mode::new(rgb32(), 160, 64);
    let mut fixture = console(mode);
    NOW.with(|now| now.set(0));
    fixture.screen.set_pacing(Some(Pacing {
        clock: fake_clock,
        frame: 100,
        last: 0,
    }));
    (fixture, plain(&mode))
}

/// Scrolls within a frame of the last draw are not drawn; the pending
/// flush then draws exactly what a redraw from scratch would.
#[test]
fn scrolls_within_a_frame_are_put_off_and_drawn_by_flush_pending() {
    let (mut fixture, mut plain) = paced_console();
    NOW.with(|now| now.set(50));
    // Fill the four rows: no scroll yet, so drawn at once.
    write_both(&mut fixture, &mut plain, "a\nb\nc\n");
    fixture.screen.flush();
    assert!(!fixture.screen.is_pending());
    for n in 0..9 {
        write_both(&mut fixture, &mut plain, &format!("line {n}\n"));
        fixture.screen.target_mut().forget_writes();
        fixture.screen.flush();
        assert_eq!(fixture.screen.target().calls, 0, "line {n} drawn");
        assert!(fixture.screen.is_pending());
    }
    fixture.screen.flush_pending();
    assert!(!fixture.screen.is_pending());
    assert_shows(&mut fixture, &plain, "after flush_pending");
    // Nothing is pending any more: a second call draws nothing.
    fixture.screen.target_mut().forget_writes();
    fixture.screen.flush_pending();
    assert_eq!(fixture.screen.target().calls, 0);
}

/// Once a frame has passed since the last draw, the next flush draws, put
/// off lines included.
#[test]
fn the_first_flush_after_a_frame_draws_everything_put_off() {
    let (mut fixture, mut plain) = paced_console();
    NOW.with(|now| now.set(10));
    write_both(&mut fixture, &mut plain, "one\ntwo\nthree\nfour\nfive\n");
    fixture.screen.flush();
    assert!(fixture.screen.is_pending());
    NOW.with(|now| now.set(110));
    write_both(&mut fixture, &mut plain, "six\n");
    fixture.screen.flush();
    assert!(!fixture.screen.is_pending());
    assert_shows(&mut fixture, &plain, "after a frame");
}

/// Text that does not scroll (typing, a status line) is drawn at once,
/// even within a frame of the last draw.
#[test]
fn a_flush_without_a_scroll_is_never_put_off() {
    let (mut fixture, mut plain) = paced_console();
    NOW.with(|now| now.set(1));
    write_both(&mut fixture, &mut plain, "typed");
    fixture.screen.flush();
    assert!(!fixture.screen.is_pending());
    assert_shows(&mut fixture, &plain, "typed");
}

/// The panic path's repair turns pacing off: the panic screen is drawn at
/// once, however recent the last draw.
#[test]
fn repair_turns_pacing_off() {
    let (mut fixture, mut plain) = paced_console();
    NOW.with(|now| now.set(1));
    write_both(&mut fixture, &mut plain, "a\nb\nc\nd\ne\n");
    fixture.screen.flush();
    assert!(fixture.screen.is_pending());
    fixture.screen.repair();
    write_both(&mut fixture, &mut plain, "panic\n");
    fixture.screen.flush();
    assert!(!fixture.screen.is_pending());
    assert_shows(&mut fixture, &plain, "repaired");
}

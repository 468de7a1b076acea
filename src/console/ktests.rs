//! In-kernel tests of the consoles, on the real (or emulated) hardware: what
//! the writer printed is read back from the text memory at the start address
//! the CRTC really has, as a person would see it.

use crate::selftest::{Context, Outcome};
use crate::{check, check_eq};

use super::color::{ColorCode, ScreenChar};
use super::screen::{HEIGHT, REPLACEMENT, WIDTH};
use super::{crtc, logger, serial, vga};

/// The characters of visible row `row`, as read from the text memory.
fn row_text(row: usize) -> [u8; WIDTH] {
    vga::read_row(row)
}

/// Whether visible row `row` starts with `text` and is blank after it.
fn row_shows(row: usize, text: &[u8]) -> bool {
    let shown = row_text(row);
    shown.starts_with(text) && shown[text.len()..].iter().all(|&b| b == b' ')
}

/// A line printed with `println!` is on the screen, in the default colours,
/// on the row above the cursor; a non-ASCII char shows as ■.
fn println_reads_back_with_colours(_: &Context) -> Outcome {
    const LINE: &str = "vga self-test: The quick brown fox 0123456789 é";
    println!("{LINE}");
    let row = vga::cursor().0 - 1;
    let mut expected = [0u8; 47];
    expected[..46].copy_from_slice(&LINE.as_bytes()[..46]);
    expected[46] = REPLACEMENT;
    check!(
        row_shows(row, &expected),
        "row {row} does not show the line: {:?}",
        row_text(row)
    );
    for column in 0..expected.len() {
        check_eq!(vga::read_cell(row, column).color, ColorCode::DEFAULT);
    }
    Ok(())
}

/// The hardware cursor sits where the next character goes.
fn hardware_cursor_follows_the_writer(_: &Context) -> Outcome {
    print!("cursor self-test: abc");
    let (row, column) = vga::cursor();
    let cursor = crtc::cursor();
    println!();
    check_eq!(column, 21);
    check_eq!(cursor, crtc::start() + row * WIDTH + column);
    check_eq!(crtc::cursor(), crtc::start() + vga::cursor().0 * WIDTH);
    Ok(())
}

/// Printing more lines than the screen has scrolls in hardware: the CRTC
/// start moves (by whole rows) and the screen read at it shows the last
/// lines, in order, with a blank line for the cursor.
fn hardware_scroll_moves_crtc_start_and_screen_reads_right(_: &Context) -> Outcome {
    const LINES: usize = HEIGHT + 5;
    let before = crtc::start();
    for i in 0..LINES {
        println!("scroll self-test line {i:02}");
    }
    let after = crtc::start();
    check!(
        after != before,
        "the CRTC start stayed at {before} after {LINES} lines"
    );
    check_eq!(after % WIDTH, 0);
    check_eq!(after, vga::start());
    check_eq!(vga::cursor(), (HEIGHT - 1, 0));
    check!(row_shows(HEIGHT - 1, b""), "the last row is not blank");
    for row in 0..HEIGHT - 1 {
        let mut expected = *b"scroll self-test line 00";
        let number = LINES - (HEIGHT - 1) + row;
        expected[22] = b'0' + (number / 10) as u8;
        expected[23] = b'0' + (number % 10) as u8;
        check!(
            row_shows(row, &expected),
            "row {row} shows {:?}",
            row_text(row)
        );
    }
    Ok(())
}

/// Each log level prints `[LEVEL] message` in its colour.
fn log_records_are_tagged_and_coloured(_: &Context) -> Outcome {
    let level = log::max_level();
    logger::set_level(log::LevelFilter::Trace);
    let levels = [
        log::Level::Error,
        log::Level::Warn,
        log::Level::Info,
        log::Level::Debug,
        log::Level::Trace,
    ];
    for record_level in levels {
        log::log!(record_level, "log self-test");
    }
    logger::set_level(level);
    let last = vga::cursor().0;
    for (i, record_level) in levels.into_iter().enumerate() {
        let row = last - levels.len() + i;
        let tag = record_level.as_str().as_bytes();
        let shown = row_text(row);
        check!(
            shown[0] == b'['
                && shown[1..].starts_with(tag)
                && shown[1 + tag.len()..].starts_with(b"] log self-test"),
            "row {row} shows {:?}",
            shown
        );
        check_eq!(
            vga::read_cell(row, 0),
            ScreenChar {
                ascii: b'[',
                color: logger::color_of(record_level)
            }
        );
    }
    check!(logger::color_of(log::Level::Error) != logger::color_of(log::Level::Info));
    Ok(())
}

/// The serial port was found and takes output (the harness checks that this
/// line arrives).
fn serial_port_present_and_writes(_: &Context) -> Outcome {
    check!(serial::present(), "no serial port found at COM1");
    serial_println!("serial self-test: line sent through COM1");
    Ok(())
}

/// The console tests, in order.
pub(crate) const TESTS: &[crate::selftest::Test] = crate::kernel_tests![
    println_reads_back_with_colours,
    hardware_cursor_follows_the_writer,
    hardware_scroll_moves_crtc_start_and_screen_reads_right,
    log_records_are_tagged_and_coloured,
    serial_port_present_and_writes,
];

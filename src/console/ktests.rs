//! In-kernel tests of the consoles, on the real (or emulated) hardware,
//! whichever screen the console chose: what the writer printed is read back
//! as a person would see it, from the VGA text memory at the start address
//! the CRTC really has, or from the framebuffer's pixels (each cell checked
//! against its glyph, colours and cursor, see [`fb::read_cell`]).

use alloc::vec::Vec;
use core::fmt::Write;

use crate::memory::layout::DIRECT_MAP_OFFSET;
use crate::selftest::{Context, Outcome};
use crate::{check, check_eq, fail, skip};

use super::choice::Choice;
use super::color::{ColorCode, ScreenChar};
use super::grid::REPLACEMENT;
use super::screen::WIDTH;
use super::{crtc, fb, logger, serial, vga};

/// The cell a person sees at (`row`, `column`), or a failure naming the
/// framebuffer byte that does not show it.
fn cell(row: usize, column: usize) -> Result<ScreenChar, crate::selftest::NotPassed> {
    match super::read_cell(row, column) {
        Ok(cell) => Ok(cell),
        Err(offset) => fail!(
            "cell ({row}, {column}): the framebuffer's byte {offset} does not show what the console drew there"
        ),
    }
}

/// The characters of visible row `row`.
fn row_text(row: usize) -> Result<Vec<u8>, crate::selftest::NotPassed> {
    let columns = super::screen_size().0;
    (0..columns)
        .map(|column| Ok(cell(row, column)?.ascii))
        .collect()
}

/// Fails unless visible row `row` starts with `text` and is blank after it.
fn check_row_shows(row: usize, text: &[u8]) -> Outcome {
    let shown = row_text(row)?;
    check!(
        shown.starts_with(text) && shown[text.len()..].iter().all(|&b| b == b' '),
        "row {row} shows {:?}, not {:?}",
        core::str::from_utf8(&shown),
        core::str::from_utf8(text)
    );
    Ok(())
}

/// Skips a test that reads the screen back where there is no screen to
/// read: a serial-only console, or the VGA text screen chosen on a machine
/// without VGA text memory (UEFI without a framebuffer).
fn needs_a_screen() -> Outcome {
    match super::choice() {
        Some(Choice::SerialOnly(_)) => skip!("no screen: the console is serial only"),
        Some(Choice::VgaText) | None if !vga::text_memory_present() => {
            skip!("no VGA text memory at 0xb8000 and no framebuffer")
        }
        _ => Ok(()),
    }
}

/// A line printed with `println!` is on the screen, in the default colours,
/// on the row above the cursor; a non-ASCII char shows as ■.
fn println_reads_back_with_colours(_: &Context) -> Outcome {
    needs_a_screen()?;
    const LINE: &str = "console self-test: The quick brown fox 0123456789 é";
    println!("{LINE}");
    let row = super::cursor().0 - 1;
    let mut expected = [0u8; 51];
    expected[..50].copy_from_slice(&LINE.as_bytes()[..50]);
    expected[50] = REPLACEMENT;
    check_row_shows(row, &expected)?;
    for column in 0..expected.len() {
        check_eq!(cell(row, column)?.color, ColorCode::DEFAULT);
    }
    Ok(())
}

/// The cursor is shown where the next character goes: the VGA's hardware
/// cursor, or the framebuffer's underline, drawn on that cell.
fn cursor_follows_the_writer(_: &Context) -> Outcome {
    needs_a_screen()?;
    print!("cursor self-test: abc");
    // The VGA's hardware cursor moves at a flush (each move is two port
    // writes), as the consoles flush before waiting for input.
    super::flush();
    let (row, column) = super::cursor();
    let shown = match super::choice() {
        Some(Choice::Framebuffer(_)) => {
            // read_cell checks the pixels with the underline where the
            // console says it drew it.
            cell(row, column)?;
            fb::with_console(|screen| screen.shown_cursor()).flatten()
        }
        _ => {
            let offset = crtc::cursor() - crtc::start();
            Some((offset / WIDTH, offset % WIDTH))
        }
    };
    println!();
    check_eq!(column, 21);
    check_eq!(shown, Some((row, column)));
    Ok(())
}

/// Printing more lines than the screen has scrolls: the screen shows the
/// last lines, in order, with a blank line for the cursor. On the VGA this
/// is hardware scrolling: the CRTC start moves, by whole rows.
fn scrolling_shows_the_last_lines(_: &Context) -> Outcome {
    needs_a_screen()?;
    let rows = super::screen_size().1;
    let lines = rows + 5;
    let vga = matches!(super::choice(), Some(Choice::VgaText));
    let before = if vga { crtc::start() } else { 0 };
    for i in 0..lines {
        println!("scroll self-test line {i:03}");
    }
    if vga {
        let after = crtc::start();
        check!(
            after != before,
            "the CRTC start stayed at {before} after {lines} lines"
        );
        check_eq!(after % WIDTH, 0);
        check_eq!(after, vga::start());
    }
    check_eq!(super::cursor(), (rows - 1, 0));
    check_row_shows(rows - 1, b"")?;
    for row in 0..rows - 1 {
        let mut expected = *b"scroll self-test line 000";
        let number = lines - (rows - 1) + row;
        expected[22] = b'0' + (number / 100) as u8;
        expected[23] = b'0' + (number / 10 % 10) as u8;
        expected[24] = b'0' + (number % 10) as u8;
        check_row_shows(row, &expected)?;
    }
    Ok(())
}

/// Each log level prints `[LEVEL] message` in its colour.
fn log_records_are_tagged_and_coloured(_: &Context) -> Outcome {
    needs_a_screen()?;
    // The filter alone: `logger::set_level` logs the new level itself, a
    // line more to count at `loglevel=debug`.
    let level = log::max_level();
    log::set_max_level(log::LevelFilter::Trace);
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
    log::set_max_level(level);
    let last = super::cursor().0;
    for (i, record_level) in levels.into_iter().enumerate() {
        let row = last - levels.len() + i;
        let tag = record_level.as_str().as_bytes();
        let shown = row_text(row)?;
        check!(
            shown[0] == b'['
                && shown[1..].starts_with(tag)
                && shown[1 + tag.len()..].starts_with(b"] log self-test"),
            "row {row} shows {:?}",
            core::str::from_utf8(&shown)
        );
        check_eq!(
            cell(row, 0)?,
            ScreenChar {
                ascii: b'[',
                color: logger::color_of(record_level)
            }
        );
    }
    check!(logger::color_of(log::Level::Error) != logger::color_of(log::Level::Info));
    Ok(())
}

/// The console chose the screen the boot information describes; a
/// framebuffer is mapped, whole, at its place in the direct-map window
/// (where the console draws), and its grid fills it.
fn the_screen_is_the_one_the_boot_information_describes(context: &Context) -> Outcome {
    let Some(&chosen) = super::choice() else {
        fail!("no screen was chosen");
    };
    check_eq!(chosen, super::choice::choose(context.boot.framebuffer()));
    if let Choice::Framebuffer(layout) = chosen {
        let fb = &layout.framebuffer;
        for offset in [0, layout.size() / 2, layout.size() - 1] {
            check_eq!(
                crate::memory::paging::translate(DIRECT_MAP_OFFSET + fb.address + offset),
                Some(fb.address + offset)
            );
        }
        let (cell_width, cell_height) = (8 * layout.scale, 16 * layout.scale);
        let (width, height) = (fb.width as usize, fb.height as usize);
        check!(layout.columns * cell_width <= width && width < (layout.columns + 1) * cell_width);
        check!(layout.rows * cell_height <= height && height < (layout.rows + 1) * cell_height);
    }
    Ok(())
}

/// The serial port takes output (the harness checks that this line
/// arrives); skipped on a machine without one.
fn serial_port_present_and_writes(_: &Context) -> Outcome {
    if !serial::present() {
        skip!("no serial port at COM1");
    }
    serial_println!("serial self-test: line sent through COM1");
    Ok(())
}

/// Physical addresses from here up lie above 4 GiB, beyond the boot page
/// tables' identity map.
const FOUR_GIB: u64 = 1 << 32;

/// The console draws on a framebuffer above 4 GiB, where no PC in QEMU puts
/// one (its display devices' memory sits below 4 GiB), so the test makes
/// one of its own: a 640x480x32 framebuffer with a pitch wider than its
/// width, BGR, in RAM frames above 4 GiB mapped through the mapping API at
/// the test window. What the console draws there is read back through the
/// direct map (another virtual address of the same frames) and compared
/// byte for byte with the same text drawn into the heap. Then device memory
/// at 64 GiB (no RAM: nothing to read back) maps at its place in the
/// direct-map window as the console maps a framebuffer, write-combining.
/// Needs RAM above 4 GiB for the drawing part (the test entry boots with
/// `-m 5G`; with less it says the drawing part did not run).
fn a_framebuffer_above_4_gib_is_mapped_and_drawn(_: &Context) -> Outcome {
    use super::fbscreen::FbScreen;
    use super::font::BUILTIN;
    use super::grid::{SCROLLBACK, TextScreen};
    use super::render::{PixelFormat, PixelTarget, Renderer};
    use crate::arch::{Access, CacheType};
    use crate::console::pixels::ColorField;
    use crate::memory::layout::TEST_WINDOW;
    use crate::memory::paging::{map, map_device, phys_to_virt, translate, unmap};
    use crate::memory::{PAGE_SIZE, with_frames};
    use alloc::vec;

    /// A framebuffer in the heap.
    struct Ram(Vec<u8>);
    impl PixelTarget for Ram {
        fn write(&mut self, offset: usize, bytes: &[u8]) {
            self.0[offset..offset + bytes.len()].copy_from_slice(bytes);
        }
    }

    let (width, height) = (640usize, 480usize);
    let pitch = width * 4 + 256;
    let size = pitch * height;
    let format = PixelFormat {
        bytes_per_pixel: 4,
        red: ColorField::new(0, 8),
        green: ColorField::new(8, 8),
        blue: ColorField::new(16, 8),
    };
    /// The test's text on a fresh console over `target`.
    fn draw<T: PixelTarget>(target: T, format: PixelFormat, pitch: usize) -> T {
        let (width, height) = (640usize, 480usize);
        let grid = (width / 8, height / BUILTIN.height());
        // Room for the scrollback too (see `FbScreen::new`).
        let lines = grid.1 + SCROLLBACK;
        let (mut cells, mut dirty, mut shown) = (
            vec![0u16; grid.0 * lines],
            vec![false; lines],
            vec![0u16; grid.0 * grid.1],
        );
        let storage = (&mut cells[..], &mut dirty[..], &mut shown[..]);
        let renderer = Renderer::new(BUILTIN, format, pitch, 1);
        let mut screen = FbScreen::new(target, renderer, grid, (width, height), storage);
        screen.reset();
        for line in 0..40 {
            let _ = writeln!(screen, "line {line}: kestrel above 4 GiB, scrolled");
        }
        screen.print(format_args!("the end"));
        screen.into_target()
    }

    let frames = (size as u64).div_ceil(PAGE_SIZE);
    match with_frames(|allocator| allocator.allocate_contiguous(frames, FOUR_GIB)) {
        None => println!("    no {frames} free frames above 4 GiB: the drawing part did not run"),
        Some(phys) => {
            let virt = TEST_WINDOW;
            let mapped = map(
                virt,
                phys,
                frames * PAGE_SIZE,
                Access::READ_WRITE,
                CacheType::WriteBack,
            );
            check_eq!(mapped, Ok(()));
            check_eq!(
                translate(virt + size as u64 - 1),
                Some(phys + size as u64 - 1)
            );
            let expected = draw(Ram(vec![0; size]), format, pitch).0;
            let _ = draw(
                fb::FramebufferMemory::new(virt as usize, size),
                format,
                pitch,
            );
            // SAFETY: the frames are RAM taken from the allocator for this
            // test, in the direct map; nothing else uses them.
            let seen =
                unsafe { core::slice::from_raw_parts(phys_to_virt(phys) as *const u8, size) };
            let differs = seen.iter().zip(&expected).position(|(a, b)| a != b);
            check_eq!(unmap(virt, frames * PAGE_SIZE), Ok(()));
            for frame in 0..frames {
                check!(with_frames(|allocator| allocator.free(phys + frame * PAGE_SIZE)).is_ok());
            }
            check!(
                differs.is_none(),
                "framebuffer at {phys:#x}: byte {:?} differs from the same text drawn in RAM",
                differs
            );
        }
    }

    let device = 64 * FOUR_GIB;
    let virt = match map_device(device, size as u64, CacheType::WriteCombining) {
        Ok(virt) => virt,
        Err(error) => fail!("map_device({device:#x}): {error}"),
    };
    check_eq!(virt, DIRECT_MAP_OFFSET + device);
    check_eq!(
        translate(virt + size as u64 - 1),
        Some(device + size as u64 - 1)
    );
    check_eq!(
        unmap(virt, (size as u64).next_multiple_of(PAGE_SIZE)),
        Ok(())
    );
    Ok(())
}

/// The console tests, in order.
pub(crate) const TESTS: &[crate::selftest::Test] = crate::kernel_tests![
    println_reads_back_with_colours,
    cursor_follows_the_writer,
    scrolling_shows_the_last_lines,
    log_records_are_tagged_and_coloured,
    the_screen_is_the_one_the_boot_information_describes,
    serial_port_present_and_writes,
    a_framebuffer_above_4_gib_is_mapped_and_drawn,
];

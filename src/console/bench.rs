//! The console benchmark (`bench` on the kernel command line; `make bench`
//! boots it; only in the benchmark build, cargo feature `bench`): cycles
//! per printed line of a scroll-heavy workload through the shipped screen
//! writer and through [`super::naive::NaiveWriter`].
//!
//! Both print the same [`LINES`] lines of [`LINE_LENGTH`] characters, each
//! line different (so no writer can skip cells that happen to be unchanged),
//! nearly all of them scrolling the screen. Only the screen is measured:
//! serial output would cost the same for both and blur the comparison. The
//! timestamp counter (`rdtsc`) counts at a fixed rate; under emulation it is
//! the emulator's virtual clock, so only ratios between runs of one boot mean
//! much. Each writer runs [`ROUNDS`] times, alternately, and its fastest
//! round counts. The figures go to both consoles, then the boot goes on.
//!
//! The screen measured is the one the console chose: the VGA text screen,
//! or a framebuffer. There the naive writer is [`super::naive_fb`], and
//! besides cycles the figures give the bytes each writer wrote to and read
//! from the framebuffer per line:
//! in QEMU the framebuffer is plain RAM, so cycles flatter the naive writer;
//! on real hardware reads of video memory are very slow and writes go over
//! the bus, so the bytes say more.

use core::fmt::Write;

use super::choice::Choice;
use super::crtc;
use super::naive::NaiveWriter;
use super::vga;

/// Lines each writer prints.
pub const LINES: usize = 2000;
/// Rounds of each writer; the best counts, as the host's other work can
/// only make a round slower.
pub const ROUNDS: usize = 3;
/// Characters per line (one less than the screen width, as text usually is).
pub const LINE_LENGTH: usize = 79;

/// Line `number` of the workload: its number, then letters shifted by it.
fn line(number: usize) -> [u8; LINE_LENGTH] {
    let mut text = [b' '; LINE_LENGTH];
    let mut label = [0u8; 12];
    let mut n = number;
    for digit in label[..6].iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
    }
    label[6..].copy_from_slice(b": line");
    text[..label.len()].copy_from_slice(&label);
    for (i, byte) in text[label.len()..].iter_mut().enumerate() {
        *byte = b'a' + ((i + number) % 26) as u8;
    }
    text
}

/// Cycles per line for printing the workload's lines `first..first +
/// LINES` with `print_line`, then `finish` (what brings the screen up to
/// date). Each run starts at another line, so no run ends on the screen
/// an earlier one left.
fn measure(first: usize, mut print_line: impl FnMut(&str), finish: impl FnOnce()) -> u64 {
    let begin = crate::arch::read_timestamp();
    for number in first..first + LINES {
        let text = line(number);
        // The line is ASCII by construction.
        print_line(core::str::from_utf8(&text).unwrap_or(""));
    }
    finish();
    (crate::arch::read_timestamp() - begin) / LINES as u64
}

/// Runs the benchmark of the screen the console chose.
pub fn run() {
    match super::choice() {
        Some(Choice::Framebuffer(layout)) => run_framebuffer(layout),
        Some(Choice::SerialOnly(_)) => println!("bench: no screen to measure"),
        _ => run_vga(),
    }
}

/// Runs both VGA writers [`ROUNDS`] times, alternately, and prints the best
/// cycles per line of each and their ratio.
fn run_vga() {
    println!(
        "bench: {LINES} lines of {LINE_LENGTH} characters through each screen writer, best of {ROUNDS} rounds"
    );
    let (mut shipped_cycles, mut naive_cycles) = (u64::MAX, u64::MAX);
    for round in 0..ROUNDS {
        let first = round * 2 * LINES;
        // The naive writer works on the first screen of the text memory.
        crtc::set_start(0, None);
        let mut naive = NaiveWriter::new();
        naive_cycles = naive_cycles.min(measure(
            first,
            |text| {
                let _ = writeln!(naive, "{text}");
            },
            || {},
        ));
        // Put back what the naive writer overwrote, then run the shipped one.
        vga::rewrite();
        shipped_cycles = shipped_cycles.min(measure(
            first + LINES,
            |text| vga::print(format_args!("{text}\n")),
            || {},
        ));
    }
    let tenths = naive_cycles * 10 / shipped_cycles.max(1);
    println!("bench: shipped writer: {shipped_cycles} cycles/line");
    println!("bench: naive writer: {naive_cycles} cycles/line");
    println!(
        "bench: shipped writer is {}.{}x faster",
        tenths / 10,
        tenths % 10
    );
}

/// The framebuffer console against the naive framebuffer writer, each
/// [`ROUNDS`] times, alternately: the naive writer, the console drawing
/// every line (pacing off), and the console as shipped (paced: one draw
/// per frame at most). For each, the best cycles per line, the bytes
/// written to and read from the framebuffer per line, and the draws.
fn run_framebuffer(layout: &super::choice::Layout) {
    use super::fb;
    use super::naive_fb::NaiveFbWriter;

    /// One writer's figures.
    #[derive(Clone, Copy)]
    struct Figures {
        /// Best cycles per line.
        cycles: u64,
        /// Bytes written per line (in the last round).
        written: u64,
        /// Draws for the whole workload (in the last round).
        draws: u64,
    }
    let fb = &layout.framebuffer;
    println!(
        "bench: framebuffer {}x{}x{}: {LINES} lines of {LINE_LENGTH} characters through each \
         framebuffer writer, best of {ROUNDS} rounds",
        fb.width, fb.height, fb.bpp
    );
    let lines = LINES as u64;
    let counters =
        || fb::with_console(|screen| (screen.target().written, screen.draws())).unwrap_or((0, 0));
    // The console with `paced` pacing (or none), from lines `first` on.
    let console = |first: usize, paced: bool, best: &mut Figures| {
        let pacing = fb::with_console(|screen| {
            let pacing = screen.pacing();
            // Draw again what the naive writer overwrote.
            screen.redraw();
            if !paced {
                screen.set_pacing(None);
            }
            pacing
        })
        .flatten();
        let (written, draws) = counters();
        let cycles = measure(
            first,
            |text| fb::print(format_args!("{text}\n")),
            fb::flush_pending,
        );
        let (written_after, draws_after) = counters();
        fb::with_console(|screen| screen.set_pacing(pacing));
        *best = Figures {
            cycles: best.cycles.min(cycles),
            written: (written_after - written) / lines,
            draws: draws_after - draws,
        };
    };
    let start = Figures {
        cycles: u64::MAX,
        written: 0,
        draws: 0,
    };
    let (mut naive, mut every_line, mut paced) = (start, start, start);
    let mut naive_read = 0;
    for round in 0..ROUNDS {
        let first = round * 3 * LINES;
        let mut writer = NaiveFbWriter::new(layout);
        let cycles = measure(
            first,
            |text| {
                let _ = writeln!(writer, "{text}");
            },
            || {},
        );
        naive = Figures {
            cycles: naive.cycles.min(cycles),
            written: writer.written / lines,
            draws: lines,
        };
        naive_read = writer.read / lines;
        console(first + LINES, false, &mut every_line);
        console(first + 2 * LINES, true, &mut paced);
    }
    for (name, figures, read) in [
        ("naive framebuffer writer", naive, naive_read),
        ("framebuffer console, every line drawn", every_line, 0),
        ("framebuffer console, paced (as shipped)", paced, 0),
    ] {
        println!(
            "bench: {name}: {} cycles/line, {} bytes written/line, {read} bytes read/line, \
             {} draws",
            figures.cycles, figures.written, figures.draws
        );
    }
    // Under emulation the framebuffer is plain RAM and the naive writer's
    // block copies are cheap; on real hardware its reads of video memory
    // are what costs, and the bytes say more than the cycles.
    for (name, figures) in [("every line drawn", every_line), ("paced", paced)] {
        let (naive_cycles, cycles) = (naive.cycles.max(1), figures.cycles.max(1));
        let (tenths, word) = if naive_cycles >= cycles {
            (naive_cycles * 10 / cycles, "faster")
        } else {
            (cycles * 10 / naive_cycles, "slower")
        };
        println!(
            "bench: framebuffer console, {name}, is {}.{}x {word} in cycles than the naive \
             writer, writes {}% of its bytes and reads none",
            tenths / 10,
            tenths % 10,
            figures.written * 100 / naive.written.max(1)
        );
    }
}

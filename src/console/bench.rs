//! The console benchmark (`bench` on the kernel command line; `make bench`
//! boots it; only in the benchmark build, cargo feature `bench`): cycles per printed line of a scroll-heavy workload through the
//! shipped screen writer and through [`super::naive::NaiveWriter`].
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
//! or a framebuffer. There the naive writer is [`super::naive_fb`], and besides cycles the figures give
//! the bytes each writer wrote to and read from the framebuffer per line:
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

/// Cycles per line for printing the workload with `print_line`.
fn measure(mut print_line: impl FnMut(&str)) -> u64 {
    let begin = crate::arch::read_timestamp();
    for number in 0..LINES {
        let text = line(number);
        // The line is ASCII by construction.
        print_line(core::str::from_utf8(&text).unwrap_or(""));
    }
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
    for _ in 0..ROUNDS {
        // The naive writer works on the first screen of the text memory.
        crtc::set_start(0, None);
        let mut naive = NaiveWriter::new();
        naive_cycles = naive_cycles.min(measure(|text| {
            let _ = writeln!(naive, "{text}");
        }));
        // Put back what the naive writer overwrote, then run the shipped one.
        vga::rewrite();
        shipped_cycles = shipped_cycles.min(measure(|text| vga::print(format_args!("{text}\n"))));
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

/// The framebuffer console against the naive framebuffer writer: both
/// [`ROUNDS`] times, alternately; the best cycles per line of each, the
/// bytes each wrote and read per line, and the ratio.
fn run_framebuffer(layout: &super::choice::Layout) {
    use super::fb;
    use super::naive_fb::NaiveFbWriter;

    let fb = &layout.framebuffer;
    println!(
        "bench: framebuffer {}x{}x{}: {LINES} lines of {LINE_LENGTH} characters through each \
         framebuffer writer, best of {ROUNDS} rounds",
        fb.width, fb.height, fb.bpp
    );
    let written = || fb::with_console(|screen| screen.target().written).unwrap_or(0);
    let lines = LINES as u64;
    let (mut shipped_cycles, mut naive_cycles) = (u64::MAX, u64::MAX);
    let (mut shipped_written, mut naive_written, mut naive_read) = (0, 0, 0);
    for _ in 0..ROUNDS {
        let mut naive = NaiveFbWriter::new(layout);
        naive_cycles = naive_cycles.min(measure(|text| {
            let _ = writeln!(naive, "{text}");
        }));
        (naive_written, naive_read) = (naive.written / lines, naive.read / lines);
        // Draw again what the naive writer overwrote, then run the console.
        fb::with_console(|screen| screen.redraw());
        let before = written();
        shipped_cycles = shipped_cycles.min(measure(|text| fb::print(format_args!("{text}\n"))));
        shipped_written = (written() - before) / lines;
    }
    println!(
        "bench: framebuffer console: {shipped_cycles} cycles/line, {shipped_written} bytes \
         written/line, 0 bytes read/line"
    );
    println!(
        "bench: naive framebuffer writer: {naive_cycles} cycles/line, {naive_written} bytes \
         written/line, {naive_read} bytes read/line"
    );
    // Under emulation the framebuffer is plain RAM and the naive writer's
    // block copies are cheap; on real hardware its reads of video memory
    // are what costs, and the bytes say more than the cycles.
    let (faster, slower) = (naive_cycles.max(1), shipped_cycles.max(1));
    let (tenths, word) = if faster >= slower {
        (faster * 10 / slower, "faster")
    } else {
        (slower * 10 / faster, "slower")
    };
    println!(
        "bench: framebuffer console is {}.{}x {word} in cycles, writes {}% of the naive \
         writer's bytes and reads none",
        tenths / 10,
        tenths % 10,
        shipped_written * 100 / naive_written.max(1)
    );
}

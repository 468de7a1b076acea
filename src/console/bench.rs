//! The console benchmark (`bench` on the kernel command line; `make bench`
//! boots it): cycles per printed line of a scroll-heavy workload through the
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

use core::fmt::Write;

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

/// Runs both writers [`ROUNDS`] times, alternately, and prints the best
/// cycles per line of each and their ratio.
pub fn run() {
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

//! A bounded fuzz loop over the boot-information path (host tests only):
//! thousands of random and mutated structures go through validation, and
//! every accepted one through the crate, the report and the frame allocator.
//! Nothing may panic or read out of bounds (the test would abort), and a
//! structure that passes validation must be fully readable.
//!
//! The generator is our own small seeded PRNG, so every run is the same and
//! a failure names the iteration that reproduces it.

use super::BootInfo;
use super::reserved::reserved_ranges;
use super::test_support::{Aligned, typical};
use crate::memory::frame_allocator::{FrameAllocator, bitmap_placement};
use crate::memory::range::PhysRange;
use crate::report::boot::Report;
use crate::test_rng::Rng;

/// Values that sit on the validator's edges.
const INTERESTING: [u32; 12] = [
    0,
    1,
    7,
    8,
    9,
    16,
    24,
    28,
    44,
    0x7fff_ffff,
    0xffff_fff8,
    0xffff_ffff,
];

/// A structure built from `rng`: a mutated typical one, or random bytes.
fn generate(rng: &mut Rng) -> Vec<u8> {
    let mut bytes = typical().build().bytes().to_vec();
    match rng.below(4) {
        // Overwrite a few aligned words with edge values or random ones.
        0 | 1 => {
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(bytes.len() / 4) * 4;
                let value = if rng.below(2) == 0 {
                    INTERESTING[rng.below(INTERESTING.len())]
                } else {
                    rng.next() as u32
                };
                bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
            }
        }
        // Flip random bytes, then maybe truncate or extend.
        2 => {
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(bytes.len());
                bytes[at] ^= 1 << rng.below(8);
            }
            match rng.below(3) {
                0 => bytes.truncate(rng.below(bytes.len() + 1)),
                1 => bytes.extend((0..rng.below(64)).map(|_| rng.next() as u8)),
                _ => {}
            }
        }
        // Random bytes whose header claims the real length (so the walk runs).
        _ => {
            let len = 8 + 8 * rng.below(32);
            bytes = (0..len).map(|_| rng.next() as u8).collect();
            bytes[..4].copy_from_slice(&(len as u32).to_le_bytes());
        }
    }
    bytes
}

/// Uses everything the kernel reads from an accepted structure.
fn exercise(boot: &BootInfo) {
    let kernel = PhysRange::new(0x10_0000, 0x20_0000);
    let mut out = String::new();
    Report {
        boot,
        kernel,
        kernel_virtual: (0xffff_ffff_8010_1000, 0xffff_ffff_8020_0000),
        free_frames: 0,
        paging: Default::default(),
        heap: Default::default(),
    }
    .write_all(&mut out)
    .unwrap();
    assert!(out.contains("frames: 0 usable\n"));
    let _ = boot.cmdline();
    let _ = boot.loader_name();
    if let Ok(reserved) = reserved_ranges(boot, kernel) {
        let areas = boot.memory_areas();
        let words = FrameAllocator::bitmap_words(areas);
        let _ = bitmap_placement(areas, &reserved, words, 4 << 30);
        // A mutated map can claim exabytes of RAM: at most 32 KiB of bitmap
        // (8 GiB of frames) here; the allocator leaves out what does not fit.
        let mut storage = vec![0; words.min(1 << 12)];
        let mut frames = FrameAllocator::new(areas, &reserved, &mut storage);
        let free = frames.free_frames();
        assert_eq!(free, frames.total_frames());
        let mut taken = Vec::new();
        for _ in 0..free.min(16) {
            let frame = frames.allocate().expect("counted as free");
            assert!(taken.last().is_none_or(|&last| frame > last));
            assert!(frame != 0 && frame.is_multiple_of(4096));
            assert!(
                reserved
                    .overlapping(&PhysRange::from_size(frame, 4096))
                    .is_none()
            );
            taken.push(frame);
        }
        for &frame in taken.iter().rev() {
            assert_eq!(frames.free(frame), Ok(()));
        }
        assert_eq!(frames.free_frames(), free);
    }
}

/// 30 000 generated structures: no panic, and both outcomes occur.
#[test]
fn random_and_mutated_structures_never_panic() {
    const ITERATIONS: u32 = 30_000;
    let mut rng = Rng(0x6b65_7374_7265_6c21); // "kestrel!"
    let (mut accepted, mut rejected) = (0, 0);
    for iteration in 0..ITERATIONS {
        let bytes = generate(&mut rng);
        let buffer = Aligned::from_bytes(&bytes);
        let result = std::panic::catch_unwind(|| match BootInfo::from_bytes(buffer.bytes()) {
            Ok(boot) => {
                exercise(&boot);
                true
            }
            Err(problem) => {
                assert!(!problem.to_string().is_empty());
                false
            }
        });
        match result {
            Ok(true) => accepted += 1,
            Ok(false) => rejected += 1,
            Err(_) => panic!("iteration {iteration} panicked on {bytes:02x?}"),
        }
    }
    // Both paths must have been exercised for the loop to mean anything.
    assert!(accepted > 1000, "only {accepted} structures accepted");
    assert!(rejected > 1000, "only {rejected} structures rejected");
}

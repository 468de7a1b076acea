//! In-kernel tests of `memory::heap`.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::memory::heap::usage;
use crate::selftest::{Context, Outcome};
use crate::{check, check_eq};

/// Thousands of random-sized allocations and frees, each block filled
/// with its own pattern and checked before it is freed; afterwards the
/// heap holds exactly what it held before.
fn random_allocations_keep_their_contents_and_all_come_back(_: &Context) -> Outcome {
    let before = usage();
    let mut rng = crate::test_rng::Rng(0x6b65_7374_7265_6c21);
    let mut live: Vec<(Box<[u8]>, u8)> = Vec::with_capacity(512);
    for step in 0..6000u32 {
        if live.len() == 512 || (!live.is_empty() && rng.below(3) == 0) {
            let (block, fill) = live.swap_remove(rng.below(live.len()));
            check!(
                block.iter().all(|&b| b == fill),
                "block of {} bytes corrupted",
                block.len()
            );
        } else {
            let size = match rng.below(10) {
                0 => 4096 + rng.below(60_000),
                1..=3 => 256 + rng.below(4096),
                _ => 1 + rng.below(256),
            };
            let fill = step as u8;
            live.push((alloc::vec![fill; size].into_boxed_slice(), fill));
        }
    }
    for (block, fill) in live.drain(..) {
        check!(
            block.iter().all(|&b| b == fill),
            "block of {} bytes corrupted",
            block.len()
        );
    }
    drop(live);
    let after = usage();
    check_eq!(
        (after.allocated, after.allocations),
        (before.allocated, before.allocations)
    );
    Ok(())
}

/// A block larger than the heap has mapped grows it, within its limit.
fn heap_grows_on_demand(_: &Context) -> Outcome {
    let before = usage();
    let size = (before.mapped + (1 << 20)) as usize;
    check!(
        size as u64 <= before.limit,
        "limit {} too small for the test",
        before.limit
    );
    let block = alloc::vec![0x5au8; size];
    check!(usage().mapped > before.mapped, "the heap did not grow");
    check!(block.iter().all(|&b| b == 0x5a));
    check!(usage().mapped <= usage().limit);
    Ok(())
}

pub(crate) const TESTS: &[crate::selftest::Test] = crate::kernel_tests![
    random_allocations_keep_their_contents_and_all_come_back,
    heap_grows_on_demand,
];

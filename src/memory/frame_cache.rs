//! A small cache of free frames per CPU in front of the frame allocator:
//! taking a frame from, or giving one back to, the running CPU's cache
//! takes that CPU's own lock, which no other CPU contends for; the
//! allocator's one lock is taken once per [`BATCH`] frames.
//!
//! Cached frames are free: [`free_frames`] counts them. A frame freed
//! twice into the same cache is refused and logged (the allocator's bitmap
//! catches the rest when the cache gives frames back).
//!
//! With interrupts off while a cache is used, the thread stays on its CPU.

use spin::Mutex;

use super::with_frames;
use crate::arch::{self, smp::MAX_CPUS};

/// The most frames a CPU keeps.
const CAPACITY: usize = 64;
/// How many frames move between a cache and the allocator at once.
const BATCH: usize = 32;

/// One CPU's cached frames.
struct Cache {
    /// The frames, `len` of them.
    frames: [u64; CAPACITY],
    /// How many are cached.
    len: usize,
}

/// Every CPU's cache, by CPU number.
static CACHES: [Mutex<Cache>; MAX_CPUS] = [const {
    Mutex::new(Cache {
        frames: [0; CAPACITY],
        len: 0,
    })
}; MAX_CPUS];

/// A free frame (its physical address), or `None` when the allocator has
/// none left.
pub fn allocate() -> Option<u64> {
    arch::without_interrupts(|| {
        let mut cache = CACHES[arch::percpu::cpu()].lock();
        if cache.len == 0 {
            with_frames(|frames| {
                while cache.len < BATCH {
                    let Some(frame) = frames.allocate() else {
                        break;
                    };
                    let len = cache.len;
                    cache.frames[len] = frame;
                    cache.len += 1;
                }
            });
        }
        if cache.len == 0 {
            return None;
        }
        cache.len -= 1;
        Some(cache.frames[cache.len])
    })
}

/// Gives `frame` back (one [`allocate`] handed out, on any CPU).
pub fn free(frame: u64) {
    arch::without_interrupts(|| {
        let mut cache = CACHES[arch::percpu::cpu()].lock();
        let len = cache.len;
        if cache.frames[..len].contains(&frame) {
            log::error!("memory: frame {frame:#x} freed twice; kept once");
            return;
        }
        if len == CAPACITY {
            with_frames(|frames| {
                for &cached in &cache.frames[CAPACITY - BATCH..] {
                    if frames.free(cached).is_err() {
                        log::error!("memory: frame {cached:#x} was not allocated");
                    }
                }
            });
            cache.len -= BATCH;
        }
        let len = cache.len;
        cache.frames[len] = frame;
        cache.len += 1;
    })
}

/// The free frames: the allocator's and every cache's.
pub fn free_frames() -> u64 {
    let cached: usize = CACHES
        .iter()
        .map(|cache| arch::without_interrupts(|| cache.lock().len))
        .sum();
    with_frames(|frames| frames.free_frames()) + cached as u64
}

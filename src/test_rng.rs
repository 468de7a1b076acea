//! The tests' pseudo-random numbers: xorshift64*, small, seeded, so every
//! run is the same and a failure names the seed and step that reproduce it.
//! No crate needed. Used by the host tests, the in-kernel heap test and the
//! heap benchmark (the same workload in every round).

#![forbid(unsafe_code)]

/// xorshift64* (state: the last value); the seed must not be zero.
pub struct Rng(pub u64);

impl Rng {
    /// The next pseudo-random value.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

//! A range of physical addresses, and how the boot report prints one.
//!
//! Ranges are half-open (`start..end`) inside the kernel, which makes sizes
//! and overlaps simple, and printed with an inclusive end as
//! `[0x%016x-0x%016x]`, the way Linux prints the firmware memory map, so the
//! two can be compared line by line.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

use core::fmt;

/// Physical addresses `start..end` (end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhysRange {
    /// The first address in the range.
    pub start: u64,
    /// The first address after the range.
    pub end: u64,
}

impl PhysRange {
    /// The range `start..end`.
    pub const fn new(start: u64, end: u64) -> Self {
        Self { start, end }
    }

    /// The range of `size` bytes from `start`, cut at the top of the 64-bit
    /// address space.
    pub const fn from_size(start: u64, size: u64) -> Self {
        Self {
            start,
            end: start.saturating_add(size),
        }
    }

    /// Its size in bytes (0 if `end` is not above `start`).
    pub const fn size(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// True when it holds no address.
    pub const fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// True when the two ranges share an address.
    pub const fn overlaps(&self, other: &PhysRange) -> bool {
        !self.is_empty() && !other.is_empty() && self.start < other.end && other.start < self.end
    }

    /// True when every address of `inner` is in this range.
    pub const fn contains_range(&self, inner: &PhysRange) -> bool {
        self.start <= inner.start && inner.end <= self.end
    }
}

/// `[0x0000000000100000-0x00000000001fffff]`: inclusive end, 16 hex digits.
/// An empty range has no last address and prints as `[empty at 0x...]`.
impl fmt::Display for PhysRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            write!(f, "[empty at {:#018x}]", self.start)
        } else {
            write!(f, "[{:#018x}-{:#018x}]", self.start, self.end - 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PhysRange;

    #[test]
    fn prints_inclusive_end_with_16_digits() {
        let range = PhysRange::new(0x10_0000, 0x20_0000);
        assert_eq!(range.to_string(), "[0x0000000000100000-0x00000000001fffff]");
        assert_eq!(
            PhysRange::from_size(0, 1).to_string(),
            "[0x0000000000000000-0x0000000000000000]"
        );
    }

    #[test]
    fn prints_empty_range_without_a_last_address() {
        assert_eq!(
            PhysRange::new(0x5000, 0x5000).to_string(),
            "[empty at 0x0000000000005000]"
        );
    }

    #[test]
    fn from_size_saturates_at_the_top() {
        let range = PhysRange::from_size(u64::MAX - 10, 100);
        assert_eq!(range.end, u64::MAX);
        assert_eq!(range.to_string(), "[0xfffffffffffffff5-0xfffffffffffffffe]");
    }

    #[test]
    fn overlap_and_containment() {
        let a = PhysRange::new(0x1000, 0x3000);
        assert!(a.overlaps(&PhysRange::new(0x2fff, 0x4000)));
        assert!(!a.overlaps(&PhysRange::new(0x3000, 0x4000)));
        assert!(!a.overlaps(&PhysRange::new(0x2000, 0x2000)));
        assert!(a.contains_range(&PhysRange::new(0x1000, 0x3000)));
        assert!(!a.contains_range(&PhysRange::new(0x1000, 0x3001)));
    }
}

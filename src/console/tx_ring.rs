//! The serial port's transmit ring and its accounting: what waits to go
//! out, what was sent, what was dropped while the line was stalled, and
//! when to say so.
//!
//! The ring is a fixed array (no heap: the console works from the first
//! line). Writers push what fits; the transmitter takes bytes from the
//! front. When the line stops taking bytes (a terminal that stopped
//! reading, XOFF, CTS held low), the writer marks it stalled: from then on
//! output is dropped and counted instead of waited for, until the
//! transmitter has drained the ring again. Then [`TxRing::resume`] puts one
//! line saying how much was lost at the front of what goes out next.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

use core::fmt::Write;

/// The ring's size: 16 KiB, about 1.4 s of output at 115200 baud.
pub const TX_RING_SIZE: usize = 16 * 1024;

/// The counts `interrupts` shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxCounts {
    /// Bytes handed to the UART.
    pub sent: u64,
    /// Bytes dropped because the line was stalled.
    pub dropped: u64,
    /// How many times the line stalled.
    pub stalls: u64,
    /// Timestamp-counter cycles spent stalled (the current stall included
    /// once it ends).
    pub stalled_cycles: u64,
}

/// The ring, its stall state and its counts.
pub struct TxRing {
    /// The bytes, `len` of them from `head` on (wrapping).
    bytes: [u8; TX_RING_SIZE],
    /// Index of the oldest byte.
    head: usize,
    /// Bytes waiting.
    len: usize,
    /// When the current stall began (a timestamp), if the line is stalled.
    stalled_since: Option<u64>,
    /// Bytes dropped in the current stall.
    dropped_in_stall: u64,
    /// Whether the last byte queued left a line open (not a newline). False
    /// at first, so that the ring is all zeros and lives in .bss.
    mid_line: bool,
    /// The totals.
    counts: TxCounts,
}

impl TxRing {
    /// An empty ring, the line not stalled.
    pub const fn new() -> Self {
        TxRing {
            bytes: [0; TX_RING_SIZE],
            head: 0,
            len: 0,
            stalled_since: None,
            dropped_in_stall: 0,
            mid_line: false,
            counts: TxCounts {
                sent: 0,
                dropped: 0,
                stalls: 0,
                stalled_cycles: 0,
            },
        }
    }

    /// Bytes waiting to go out.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Room left.
    pub fn free(&self) -> usize {
        TX_RING_SIZE - self.len
    }

    /// Whether the line is stalled (output is being dropped).
    pub fn stalled(&self) -> bool {
        self.stalled_since.is_some()
    }

    /// Appends as much of `bytes` as fits; returns how many. A stalled line
    /// takes nothing: use [`TxRing::drop_bytes`].
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        if self.stalled() {
            return 0;
        }
        let count = bytes.len().min(self.free());
        for (index, &byte) in bytes[..count].iter().enumerate() {
            self.bytes[(self.head + self.len + index) % TX_RING_SIZE] = byte;
        }
        self.len += count;
        if let Some(&last) = bytes[..count].last() {
            self.mid_line = last != b'\n';
        }
        count
    }

    /// Takes the oldest byte, for the transmitter, and counts it as sent.
    pub fn pop(&mut self) -> Option<u8> {
        if self.len == 0 {
            return None;
        }
        let byte = self.bytes[self.head];
        self.head = (self.head + 1) % TX_RING_SIZE;
        self.len -= 1;
        self.counts.sent += 1;
        Some(byte)
    }

    /// Marks the line stalled at timestamp `now` (the writer waited its
    /// bounded time and the ring stayed full, or the transmitter never
    /// emptied). Nothing if it is stalled already.
    pub fn stall(&mut self, now: u64) {
        if self.stalled_since.is_none() {
            self.stalled_since = Some(now);
            self.counts.stalls += 1;
        }
    }

    /// Counts `count` bytes of output dropped on a stalled line.
    pub fn drop_bytes(&mut self, count: usize) {
        self.dropped_in_stall += count as u64;
        self.counts.dropped += count as u64;
    }

    /// The transmitter drained the ring on a stalled line, at timestamp
    /// `now`: the stall ends, and unless nothing was dropped, the line
    /// `[WARN] serial: N bytes dropped while the line was stalled` is queued
    /// first, on a line of its own. Nothing if the line is not stalled or bytes still wait.
    pub fn resume(&mut self, now: u64) {
        let Some(since) = self.stalled_since else {
            return;
        };
        if self.len != 0 {
            return;
        }
        self.stalled_since = None;
        self.counts.stalled_cycles += now.saturating_sub(since);
        let dropped = core::mem::take(&mut self.dropped_in_stall);
        if dropped > 0 {
            if self.mid_line {
                // The stall cut a line: the warning starts a new one.
                self.push(b"\r\n");
            }
            let mut line = Line::default();
            let _ = write!(
                line,
                "[WARN] serial: {dropped} bytes dropped while the line was stalled\r\n"
            );
            self.push(line.as_bytes());
        }
    }

    /// The totals; `now` completes the current stall's time, if any.
    pub fn counts(&self, now: u64) -> TxCounts {
        let mut counts = self.counts;
        if let Some(since) = self.stalled_since {
            counts.stalled_cycles += now.saturating_sub(since);
        }
        counts
    }
}

impl Default for TxRing {
    fn default() -> Self {
        Self::new()
    }
}

/// The resume line, formatted without the heap.
struct Line {
    /// Its bytes (the longest line is about 70).
    bytes: [u8; 96],
    /// How many are used.
    len: usize,
}

impl Default for Line {
    fn default() -> Self {
        Line {
            bytes: [0; 96],
            len: 0,
        }
    }
}

impl Line {
    /// The text so far.
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl Write for Line {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        let end = self.len + text.len();
        let room = self.bytes.get_mut(self.len..end).ok_or(core::fmt::Error)?;
        room.copy_from_slice(text.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::Rng;

    fn drain(ring: &mut TxRing) -> Vec<u8> {
        core::iter::from_fn(|| ring.pop()).collect()
    }

    #[test]
    fn bytes_come_out_in_order_across_the_wrap() {
        let mut ring = TxRing::new();
        assert_eq!(ring.push(&[7; TX_RING_SIZE - 3]), TX_RING_SIZE - 3);
        assert_eq!(drain(&mut ring).len(), TX_RING_SIZE - 3);
        assert_eq!(ring.push(b"abcdef"), 6);
        assert_eq!(drain(&mut ring), b"abcdef");
        assert_eq!(ring.counts(0).sent, TX_RING_SIZE as u64 + 3);
    }

    #[test]
    fn a_full_ring_takes_what_fits() {
        let mut ring = TxRing::new();
        assert_eq!(ring.push(&[1; TX_RING_SIZE - 2]), TX_RING_SIZE - 2);
        assert_eq!(ring.push(b"xyz"), 2);
        assert_eq!(ring.free(), 0);
        assert_eq!(ring.push(b"z"), 0);
    }

    #[test]
    fn a_stall_drops_and_counts_then_resumes_with_one_warning() {
        let mut ring = TxRing::new();
        ring.push(b"before\n");
        ring.stall(100);
        ring.stall(150); // already stalled: no second stall
        assert!(ring.stalled());
        assert_eq!(ring.push(b"lost"), 0);
        ring.drop_bytes(4);
        ring.drop_bytes(6);
        ring.resume(200); // bytes still wait: the stall goes on
        assert!(ring.stalled());
        assert_eq!(drain(&mut ring), b"before\n");
        ring.resume(300);
        assert!(!ring.stalled());
        assert_eq!(
            drain(&mut ring),
            b"[WARN] serial: 10 bytes dropped while the line was stalled\r\n"
        );
        let counts = ring.counts(1000);
        assert_eq!(
            (counts.dropped, counts.stalls, counts.stalled_cycles),
            (10, 1, 200)
        );
    }

    #[test]
    fn the_warning_starts_a_line_of_its_own() {
        let mut ring = TxRing::new();
        ring.push(b"mem: total usable ");
        ring.stall(0);
        ring.drop_bytes(3);
        drain(&mut ring);
        ring.resume(1);
        assert_eq!(
            drain(&mut ring),
            b"\r\n[WARN] serial: 3 bytes dropped while the line was stalled\r\n"
        );
    }

    #[test]
    fn a_stall_with_nothing_dropped_resumes_silently() {
        let mut ring = TxRing::new();
        ring.stall(5);
        assert_eq!(ring.counts(15).stalled_cycles, 10);
        ring.resume(20);
        assert!(ring.is_empty() && !ring.stalled());
        assert_eq!(ring.counts(99).stalled_cycles, 15);
    }

    #[test]
    fn random_pushes_and_pops_match_a_queue() {
        let mut rng = Rng(0x7478_7269_6e67);
        let mut ring = TxRing::new();
        let mut model = std::collections::VecDeque::new();
        for step in 0..20_000 {
            if rng.below(2) == 0 {
                let count = rng.below(3000);
                let chunk: Vec<u8> = (0..count).map(|i| (step + i) as u8).collect();
                let taken = ring.push(&chunk);
                assert_eq!(taken, count.min(TX_RING_SIZE - model.len()));
                model.extend(&chunk[..taken]);
            } else {
                for _ in 0..rng.below(3000) {
                    assert_eq!(ring.pop(), model.pop_front());
                }
            }
            assert_eq!(ring.len(), model.len());
        }
    }
}

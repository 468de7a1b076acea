//! Random bytes for programs (`getrandom`, `AT_RANDOM`): from the CPU's
//! RDRAND where it has one, else from a xorshift generator seeded at first
//! use with the timestamp counter. Neither is a cryptographic source here
//! (RDRAND under QEMU's TCG comes from the host's generator; the fallback
//! is predictable): docs/user-mode.md says so.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch;

/// The fallback generator's state (0: not seeded yet).
static STATE: AtomicU64 = AtomicU64::new(0);

/// Whether the CPU has RDRAND (asked once).
static RDRAND: spin::Once<bool> = spin::Once::new();

/// Where `getrandom` bytes come from, in words (for the boot report).
pub fn source() -> &'static str {
    if *RDRAND.call_once(|| arch::features().rdrand) {
        "rdrand"
    } else {
        "a seeded xorshift generator (no RDRAND)"
    }
}

/// One RDRAND value, if the CPU gave one (it may fail when drained).
fn rdrand() -> Option<u64> {
    let value: u64;
    let ok: u8;
    // SAFETY: RDRAND exists (checked by the caller); it writes a register
    // and CF, nothing else.
    unsafe {
        core::arch::asm!("rdrand {}", "setc {}", out(reg) value, out(reg_byte) ok,
            options(nomem, nostack));
    }
    (ok != 0).then_some(value)
}

/// One value of the fallback generator.
fn xorshift() -> u64 {
    let mut state = STATE.load(Ordering::Relaxed);
    if state == 0 {
        state = arch::read_timestamp() | 1;
    }
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    STATE.store(state, Ordering::Relaxed);
    state
}

/// Fills `bytes` with random bytes.
pub fn fill(bytes: &mut [u8]) {
    let hardware = *RDRAND.call_once(|| arch::features().rdrand);
    for chunk in bytes.chunks_mut(8) {
        let value = hardware
            .then(|| (0..10).find_map(|_| rdrand()))
            .flatten()
            .unwrap_or_else(xorshift);
        chunk.copy_from_slice(&value.to_le_bytes()[..chunk.len()]);
    }
}

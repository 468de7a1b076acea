//! Which addresses are user space, and the page rounding of a range of them:
//! the check every system call makes on a pointer and length it is handed
//! before it touches the memory, and the arithmetic the loader and the
//! mapping calls share.
//!
//! User space is `[0, USER_END)`. Every address there is canonical (the
//! lower half ends at `0x0000_8000_0000_0000`) and below the kernel's half.
//! The last page of the lower half stays unmapped, as on Linux, whose
//! `TASK_SIZE_MAX` is `0x7fff_ffff_f000` for the same reason: a `syscall`
//! in the last bytes of the lower half would return to the first
//! non-canonical address, and on Intel CPUs `sysret` to a non-canonical
//! address faults in the kernel (ring 0, on the user's stack), not in the
//! program.
//!
//! Every sum is checked: a range whose end overflows `u64` is refused, never
//! wrapped round to a small address.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

use core::fmt;

/// The size of a page, in bytes.
pub const PAGE_SIZE: u64 = 4096;

/// The exclusive end of user space: the first address a program may not
/// use. The page below the non-canonical hole (`0x7fff_ffff_f000` up to
/// `0x8000_0000_0000`) is never mapped.
pub const USER_END: u64 = 0x0000_7fff_ffff_f000;

/// Why a range is not wholly in user space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeError {
    /// `addr + len` does not fit in 64 bits.
    Overflow {
        /// The range's start.
        addr: u64,
        /// Its length in bytes.
        len: u64,
    },
    /// The range reaches `USER_END` or beyond: the unmapped top page, the
    /// non-canonical hole or the kernel's half.
    OutsideUser {
        /// The range's start.
        addr: u64,
        /// Its length in bytes.
        len: u64,
    },
}

impl fmt::Display for RangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RangeError::Overflow { addr, len } => {
                write!(f, "the range {addr:#x} + {len:#x} overflows")
            }
            RangeError::OutsideUser { addr, len } => write!(
                f,
                "the range {addr:#x} + {len:#x} is not in user space (which ends at {USER_END:#x})"
            ),
        }
    }
}

/// Checks that the `len` bytes from `addr` all lie in user space,
/// `[0, USER_END)`. An empty range is accepted at any address up to and
/// including `USER_END` (it touches nothing, as for `write(fd, p, 0)`), and
/// refused beyond it.
pub fn check(addr: u64, len: u64) -> Result<(), RangeError> {
    let end = addr
        .checked_add(len)
        .ok_or(RangeError::Overflow { addr, len })?;
    if end > USER_END {
        return Err(RangeError::OutsideUser { addr, len });
    }
    Ok(())
}

/// The pages the `len` bytes from `addr` touch: the address of the first
/// (`addr` rounded down to a page) and how many there are (none for an
/// empty range). `None` when the end, rounded up to a page, overflows
/// `u64`. Only arithmetic: whether the pages are user space is
/// [`check`]'s question.
pub fn pages(addr: u64, len: u64) -> Option<(u64, u64)> {
    let first = addr & !(PAGE_SIZE - 1);
    if len == 0 {
        return Some((first, 0));
    }
    let end = round_up(addr.checked_add(len)?)?;
    Some((first, (end - first) / PAGE_SIZE))
}

/// `addr` rounded up to a page boundary, or `None` if that overflows.
pub fn round_up(addr: u64) -> Option<u64> {
    Some(addr.checked_add(PAGE_SIZE - 1)? & !(PAGE_SIZE - 1))
}

/// `addr` rounded down to a page boundary.
pub fn round_down(addr: u64) -> u64 {
    addr & !(PAGE_SIZE - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_inside_user_space_pass() {
        assert_eq!(check(0x40_0000, 0x1000), Ok(()));
        assert_eq!(check(0, 1), Ok(()));
        assert_eq!(check(USER_END - 1, 1), Ok(()));
        assert_eq!(check(0, USER_END), Ok(()));
    }

    #[test]
    fn the_boundary_at_user_end() {
        assert_eq!(
            check(USER_END - 1, 2),
            Err(RangeError::OutsideUser {
                addr: USER_END - 1,
                len: 2
            })
        );
        assert!(check(USER_END, 1).is_err());
        assert!(check(0, USER_END + 1).is_err());
        // The top page of the lower half is not user space.
        assert!(check(0x7fff_ffff_f000, 8).is_err());
        assert!(check(0x7fff_ffff_fff8, 8).is_err());
    }

    #[test]
    fn empty_ranges_pass_up_to_user_end_only() {
        assert_eq!(check(0, 0), Ok(()));
        assert_eq!(check(0x1234, 0), Ok(()));
        assert_eq!(check(USER_END, 0), Ok(()));
        assert!(check(USER_END + 1, 0).is_err());
        assert!(check(u64::MAX, 0).is_err());
    }

    #[test]
    fn kernel_and_non_canonical_addresses_fail() {
        assert!(check(0xffff_ffff_8000_0000, 16).is_err());
        assert!(check(0xffff_8000_0000_0000, 1).is_err());
        assert!(check(0x0000_8000_0000_0000, 1).is_err());
        assert!(check(0x1234_5678_9abc_def0, 1).is_err());
    }

    #[test]
    fn overflowing_ranges_fail_without_wrapping() {
        // Wrapped, this would end at 0xfff: a user address.
        assert_eq!(
            check(0x1000, u64::MAX - 0x1),
            Err(RangeError::Overflow {
                addr: 0x1000,
                len: u64::MAX - 0x1
            })
        );
        assert!(matches!(
            check(u64::MAX, 2),
            Err(RangeError::Overflow { .. })
        ));
        assert!(matches!(
            check(u64::MAX, u64::MAX),
            Err(RangeError::Overflow { .. })
        ));
        // A huge length from a user address, without overflow, is outside.
        assert!(matches!(
            check(0x1000, u64::MAX - 0x1000),
            Err(RangeError::OutsideUser { .. })
        ));
    }

    #[test]
    fn pages_rounds_out_to_whole_pages() {
        assert_eq!(pages(0x1000, 0x1000), Some((0x1000, 1)));
        assert_eq!(pages(0x1000, 1), Some((0x1000, 1)));
        assert_eq!(pages(0x1fff, 1), Some((0x1000, 1)));
        assert_eq!(pages(0x1fff, 2), Some((0x1000, 2)));
        assert_eq!(pages(0x1234, 0x2000), Some((0x1000, 3)));
        assert_eq!(pages(0, USER_END), Some((0, USER_END / PAGE_SIZE)));
    }

    #[test]
    fn pages_of_an_empty_range_is_none_counted() {
        assert_eq!(pages(0x1234, 0), Some((0x1000, 0)));
        assert_eq!(pages(u64::MAX, 0), Some((0xffff_ffff_ffff_f000, 0)));
    }

    #[test]
    fn pages_refuses_overflow() {
        assert_eq!(pages(u64::MAX, 1), None);
        assert_eq!(pages(1, u64::MAX), None);
        // The end fits, but rounding it up to a page does not.
        assert_eq!(pages(u64::MAX - 0x10, 0x8), None);
        // The last whole page of the address space still rounds.
        assert_eq!(
            pages(0xffff_ffff_ffff_e000, 0x1000),
            Some((0xffff_ffff_ffff_e000, 1))
        );
    }

    #[test]
    fn rounding() {
        assert_eq!(round_up(0), Some(0));
        assert_eq!(round_up(1), Some(0x1000));
        assert_eq!(round_up(0x1000), Some(0x1000));
        assert_eq!(round_up(u64::MAX), None);
        assert_eq!(round_down(0x1fff), 0x1000);
        assert_eq!(round_down(u64::MAX), 0xffff_ffff_ffff_f000);
    }

    #[test]
    fn errors_say_what_range() {
        let text = alloc::format!("{}", check(USER_END, 16).unwrap_err());
        assert_eq!(
            text,
            "the range 0x7ffffffff000 + 0x10 is not in user space (which ends at 0x7ffffffff000)"
        );
    }
}

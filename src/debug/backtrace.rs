//! Backtraces by frame pointers: the walk, and the lines it prints.
//!
//! The kernel (and `core`, built with it) keeps a frame pointer in every
//! function (`"frame-pointer": "always"` in the target JSON): each function
//! starts with `push rbp; mov rbp, rsp`, so RBP points at a two-word record,
//! the caller's RBP and then the return address into the caller:
//!
//! ```text
//! [rbp]     the caller's rbp       -> the next record
//! [rbp + 8] the return address     -> a place in the caller
//! ```
//!
//! [`Walk`] follows that chain from a starting RBP. `asm/long_mode.asm`
//! zeroes RBP before `call rust_main`, so the chain ends with a 0. The walk
//! also stops, and says why, at a frame pointer that is misaligned, that the
//! reader cannot read, or that is not above the previous one (stacks grow
//! down, so callers' records lie at higher addresses; this also makes every
//! walk finite), and after [`MAX_FRAMES`] frames.
//!
//! [`print`] turns a walk into lines: the address where it started (the
//! faulting instruction, or nothing for a panic), then one line per return
//! address, each with the function it lies in. Runs of the same return
//! address (deep recursion, as in a stack overflow) take one line, so the
//! outer frames still show; at most [`MAX_LINES`] frame lines are printed.
//!
//! Pure logic: memory comes through a "read the u64 at this address, if it
//! is readable" closure and names through a resolver, so host tests walk
//! fake stacks in a `Vec`.

#![forbid(unsafe_code)]

use core::fmt;

/// The most frames a walk follows before it gives up (a 64 KiB stack of
/// the smallest, 16-byte, frames holds 4,096).
pub const MAX_FRAMES: usize = 16 * 1024;

/// The most frame lines [`print`] prints (a line may stand for a run of
/// identical frames): the panic screen has 25 rows.
pub const MAX_LINES: usize = 12;

/// Why a walk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// A frame pointer or return address of 0: the outermost frame.
    Outermost,
    /// A frame pointer that is not 8-byte aligned.
    Misaligned(u64),
    /// A frame pointer whose record cannot be read (unmapped, not canonical).
    Unreadable(u64),
    /// A frame pointer not above the previous one.
    NotAbove { rbp: u64, previous: u64 },
    /// [`MAX_FRAMES`] frames walked.
    Limit,
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            End::Outermost => write!(f, "reached the outermost frame"),
            End::Misaligned(rbp) => write!(f, "frame pointer {rbp:#x} is not 8-byte aligned"),
            End::Unreadable(rbp) => write!(f, "frame pointer {rbp:#x} points at unreadable memory"),
            End::NotAbove { rbp, previous } => write!(
                f,
                "frame pointer {rbp:#x} is not above the previous one {previous:#x}"
            ),
            End::Limit => write!(f, "stopped after {MAX_FRAMES} frames"),
        }
    }
}

/// The return addresses along a chain of frame records, innermost first.
/// After the iterator ends, [`Walk::end`] says why.
pub struct Walk<R> {
    /// The next frame record to read (0 when the walk is over).
    rbp: u64,
    /// Reads the u64 at an address, if it is readable.
    read: R,
    /// Frames yielded so far.
    frames: usize,
    /// Why the walk ended, once it has.
    end: Option<End>,
}

impl<R: FnMut(u64) -> Option<u64>> Walk<R> {
    /// A walk from the frame record at `rbp`, reading memory through `read`.
    pub fn new(rbp: u64, read: R) -> Self {
        Walk {
            rbp,
            read,
            frames: 0,
            end: None,
        }
    }

    /// Why the walk ended (`None` while it has not).
    pub fn end(&self) -> Option<End> {
        self.end
    }

    /// Ends the walk for `reason`.
    fn stop(&mut self, reason: End) -> Option<u64> {
        self.end = Some(reason);
        None
    }
}

impl<R: FnMut(u64) -> Option<u64>> Iterator for Walk<R> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        if self.end.is_some() {
            return None;
        }
        let rbp = self.rbp;
        if rbp == 0 {
            return self.stop(End::Outermost);
        }
        if self.frames == MAX_FRAMES {
            return self.stop(End::Limit);
        }
        if !rbp.is_multiple_of(8) {
            return self.stop(End::Misaligned(rbp));
        }
        let Some(return_address) = rbp.checked_add(8) else {
            return self.stop(End::Unreadable(rbp));
        };
        let (Some(next), Some(return_address)) = ((self.read)(rbp), (self.read)(return_address))
        else {
            return self.stop(End::Unreadable(rbp));
        };
        if return_address == 0 {
            return self.stop(End::Outermost);
        }
        if next != 0 && next <= rbp {
            // The caller's return address is still worth showing; the walk
            // ends at the next step.
            self.end = Some(End::NotAbove {
                rbp: next,
                previous: rbp,
            });
        }
        self.rbp = next;
        self.frames += 1;
        Some(return_address)
    }
}

/// Whether `address` is canonical with 4-level paging (bits 63..47 all
/// equal): any other address faults (#GP) when used, so the kernel's stack
/// reader checks this before anything else.
pub fn is_canonical(address: u64) -> bool {
    let top = address >> 47;
    top == 0 || top == (1 << 17) - 1
}

/// How an address in a backtrace relates to the instruction it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The instruction itself (a fault's RIP): looked up as is.
    Here,
    /// The address after an instruction: a return address, or the RIP of a
    /// trap such as `int3`. Looked up one byte earlier, so a call that ends a
    /// function is named after that function, not the next one.
    After,
}

impl Kind {
    /// The address to look up for `address`.
    pub fn lookup(self, address: u64) -> u64 {
        match self {
            Kind::Here => address,
            Kind::After => address.saturating_sub(1),
        }
    }
}

/// Where a backtrace starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Start {
    /// The interrupted instruction (a fault's RIP), shown as frame 0, or
    /// `None` (a panic: the walk's first return address is frame 0).
    pub rip: Option<(u64, Kind)>,
    /// For a fault on an instruction fetch: the word at the interrupted RSP,
    /// which is the return address a `call` to the bad address pushed, shown
    /// as the next frame (the walk would miss that caller).
    pub pushed_return: Option<u64>,
    /// The frame record the walk starts from.
    pub rbp: u64,
}

/// Prints a backtrace, one line per call to `line`, each starting with four
/// spaces: frame lines `N: 0xADDRESS name+0xOFFSET` (`N-M:` for a run of
/// identical frames), then, if the walk did not reach the outermost frame,
/// a note saying why it stopped; frames beyond [`MAX_LINES`] lines are
/// counted in a note. `read` reads memory for the walk; `name` gives the
/// name and start address of the function an address lies in, if known.
pub fn print<R, N, D>(start: Start, read: R, name: N, mut line: impl FnMut(fmt::Arguments))
where
    R: FnMut(u64) -> Option<u64>,
    N: Fn(u64) -> Option<(D, u64)>,
    D: fmt::Display,
{
    let first = start.rip.into_iter();
    let pushed = start.pushed_return.map(|address| (address, Kind::After));
    let mut walk = Walk::new(start.rbp, read);
    let mut frames = first
        .chain(pushed)
        .chain((&mut walk).map(|address| (address, Kind::After)))
        .peekable();

    let mut index = 0;
    let mut lines = 0;
    let mut hidden = 0;
    while let Some((address, kind)) = frames.next() {
        let mut repeats = 0;
        while frames.peek() == Some(&(address, kind)) {
            frames.next();
            repeats += 1;
        }
        if lines == MAX_LINES {
            hidden += 1 + repeats;
            continue;
        }
        let entry = Entry {
            address,
            kind,
            name: &name,
        };
        if repeats == 0 {
            line(format_args!("    {index}: {entry}"));
        } else {
            line(format_args!("    {index}-{}: {entry}", index + repeats));
        }
        lines += 1;
        index += 1 + repeats;
    }
    if hidden > 0 {
        line(format_args!("    ... {hidden} more frames not shown"));
    }
    match walk.end() {
        Some(End::Outermost) | None => {}
        Some(end) => line(format_args!("    (walk ended: {end})")),
    }
}

/// One frame's address and name, as [`print`] shows it.
struct Entry<'a, N> {
    /// The address the frame is at.
    address: u64,
    /// How to look it up.
    kind: Kind,
    /// The resolver.
    name: &'a N,
}

impl<N, D> fmt::Display for Entry<'_, N>
where
    N: Fn(u64) -> Option<(D, u64)>,
    D: fmt::Display,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.name)(self.kind.lookup(self.address)) {
            // The offset is from the address shown, which for a return
            // address may be one past the function's last byte.
            Some((name, start)) => write!(
                f,
                "{:#x} {name}+{:#x}",
                self.address,
                self.address.wrapping_sub(start)
            ),
            None => write!(f, "{:#x} ?", self.address),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A fake stack: words at addresses; anything else is unreadable.
    struct Stack(HashMap<u64, u64>);

    impl Stack {
        /// Frame records at `rbps` (innermost first), each pointing at the
        /// next, the last at `last_next`, with return addresses `returns`.
        fn chain(rbps: &[u64], returns: &[u64], last_next: u64) -> Stack {
            let mut words = HashMap::new();
            for (i, (&rbp, &ret)) in rbps.iter().zip(returns).enumerate() {
                let next = rbps.get(i + 1).copied().unwrap_or(last_next);
                words.insert(rbp, next);
                words.insert(rbp + 8, ret);
            }
            Stack(words)
        }

        fn reader(&self) -> impl FnMut(u64) -> Option<u64> + '_ {
            |address| self.0.get(&address).copied()
        }
    }

    /// The walk's return addresses and its end.
    fn walk(stack: &Stack, rbp: u64) -> (Vec<u64>, Option<End>) {
        let mut walk = Walk::new(rbp, stack.reader());
        let addresses: Vec<u64> = (&mut walk).collect();
        (addresses, walk.end())
    }

    #[test]
    fn walks_to_the_zero_frame_pointer() {
        let stack = Stack::chain(&[0x1000, 0x1020, 0x1100], &[0xa1, 0xa2, 0xa3], 0);
        assert_eq!(
            walk(&stack, 0x1000),
            (vec![0xa1, 0xa2, 0xa3], Some(End::Outermost))
        );
    }

    #[test]
    fn zero_start_and_zero_return_address_end_the_walk() {
        let stack = Stack::chain(&[0x1000, 0x1020], &[0xa1, 0], 0x2000);
        assert_eq!(walk(&stack, 0), (vec![], Some(End::Outermost)));
        assert_eq!(walk(&stack, 0x1000), (vec![0xa1], Some(End::Outermost)));
    }

    #[test]
    fn stops_at_a_misaligned_frame_pointer() {
        let stack = Stack::chain(&[0x1000], &[0xa1], 0x1234);
        assert_eq!(
            walk(&stack, 0x1000),
            (vec![0xa1], Some(End::Misaligned(0x1234)))
        );
        assert_eq!(
            walk(&stack, 0x1001),
            (vec![], Some(End::Misaligned(0x1001)))
        );
    }

    #[test]
    fn stops_at_an_unreadable_record_either_word() {
        let stack = Stack::chain(&[0x1000], &[0xa1], 0x3000);
        assert_eq!(
            walk(&stack, 0x1000),
            (vec![0xa1], Some(End::Unreadable(0x3000)))
        );
        // Only the saved rbp is readable, not the return address.
        let mut half = Stack::chain(&[0x1000], &[0xa1], 0x1010);
        half.0.insert(0x1010, 0);
        assert_eq!(
            walk(&half, 0x1000),
            (vec![0xa1], Some(End::Unreadable(0x1010)))
        );
        // The last possible aligned address: rbp + 8 overflows.
        let top = u64::MAX - 7;
        assert_eq!(walk(&half, top), (vec![], Some(End::Unreadable(top))));
    }

    #[test]
    fn stops_at_a_frame_pointer_that_does_not_go_up() {
        // A loop: the second record points back at the first.
        let looping = Stack::chain(&[0x1000, 0x1020], &[0xa1, 0xa2], 0x1000);
        assert_eq!(
            walk(&looping, 0x1000),
            (
                vec![0xa1, 0xa2],
                Some(End::NotAbove {
                    rbp: 0x1000,
                    previous: 0x1020
                })
            )
        );
        // A record pointing at itself.
        let own = Stack::chain(&[0x1000], &[0xa1], 0x1000);
        assert_eq!(
            walk(&own, 0x1000),
            (
                vec![0xa1],
                Some(End::NotAbove {
                    rbp: 0x1000,
                    previous: 0x1000
                })
            )
        );
    }

    #[test]
    fn is_bounded() {
        let rbps: Vec<u64> = (0..MAX_FRAMES as u64 + 10)
            .map(|i| 0x10_0000 + 16 * i)
            .collect();
        let returns = vec![0xa1; rbps.len()];
        let stack = Stack::chain(&rbps, &returns, 0);
        let (addresses, end) = walk(&stack, rbps[0]);
        assert_eq!((addresses.len(), end), (MAX_FRAMES, Some(End::Limit)));
    }

    #[test]
    fn canonical_addresses() {
        for address in [0, 0x7fff_ffff_ffff, 0xffff_8000_0000_0000, u64::MAX] {
            assert!(is_canonical(address), "{address:#x}");
        }
        for address in [
            0x8000_0000_0000,
            0x8000_0000_0000_0000,
            0xffff_7fff_ffff_ffff,
        ] {
            assert!(!is_canonical(address), "{address:#x}");
        }
    }

    /// A resolver for tests: functions `f1` at 0xa0..0xb0, `f2` at 0xb0..0xc0.
    fn name(address: u64) -> Option<(&'static str, u64)> {
        match address {
            0xa0..0xb0 => Some(("f1", 0xa0)),
            0xb0..0xc0 => Some(("f2", 0xb0)),
            _ => None,
        }
    }

    /// What `print` prints.
    fn printed(start: Start, stack: &Stack) -> Vec<String> {
        let mut lines = Vec::new();
        print(start, stack.reader(), name, |args| {
            lines.push(args.to_string())
        });
        lines
    }

    #[test]
    fn prints_the_faulting_instruction_then_the_callers() {
        let stack = Stack::chain(&[0x1000, 0x1020], &[0xa5, 0xb0], 0);
        let start = Start {
            rip: Some((0xb0, Kind::Here)),
            pushed_return: None,
            rbp: 0x1000,
        };
        // 0xb0 as a return address lies after a call at the end of f1.
        assert_eq!(
            printed(start, &stack),
            [
                "    0: 0xb0 f2+0x0",
                "    1: 0xa5 f1+0x5",
                "    2: 0xb0 f1+0x10"
            ]
        );
    }

    #[test]
    fn a_panic_starts_with_the_first_return_address() {
        let stack = Stack::chain(&[0x1000], &[0xb3], 0);
        let start = Start {
            rip: None,
            pushed_return: None,
            rbp: 0x1000,
        };
        assert_eq!(printed(start, &stack), ["    0: 0xb3 f2+0x3"]);
    }

    #[test]
    fn unknown_addresses_show_a_question_mark_and_the_pushed_return_follows_rip() {
        let stack = Stack::chain(&[0x1000], &[0xa9], 0);
        let start = Start {
            rip: Some((0x5000, Kind::Here)),
            pushed_return: Some(0xb4),
            rbp: 0x1000,
        };
        assert_eq!(
            printed(start, &stack),
            [
                "    0: 0x5000 ?",
                "    1: 0xb4 f2+0x4",
                "    2: 0xa9 f1+0x9"
            ]
        );
    }

    #[test]
    fn runs_of_one_return_address_share_a_line() {
        // Deep recursion: 1000 frames returning into f2, then f1.
        let rbps: Vec<u64> = (0..1002).map(|i| 0x10_0000 + 16 * i).collect();
        let mut returns = vec![0xb8; 1000];
        returns.extend([0xa4, 0xa6]);
        let stack = Stack::chain(&rbps, &returns, 0);
        let start = Start {
            rip: Some((0xb2, Kind::Here)),
            pushed_return: None,
            rbp: rbps[0],
        };
        assert_eq!(
            printed(start, &stack),
            [
                "    0: 0xb2 f2+0x2",
                "    1-1000: 0xb8 f2+0x8",
                "    1001: 0xa4 f1+0x4",
                "    1002: 0xa6 f1+0x6",
            ]
        );
    }

    #[test]
    fn at_most_max_lines_then_a_count() {
        let rbps: Vec<u64> = (0..20).map(|i| 0x1000 + 16 * i).collect();
        // Alternating addresses: no runs to fold.
        let returns: Vec<u64> = (0..20).map(|i| 0xa1 + (i % 2)).collect();
        let stack = Stack::chain(&rbps, &returns, 0);
        let start = Start {
            rip: None,
            pushed_return: None,
            rbp: rbps[0],
        };
        let lines = printed(start, &stack);
        assert_eq!(lines.len(), MAX_LINES + 1);
        assert_eq!(
            lines.last().unwrap(),
            &format!("    ... {} more frames not shown", 20 - MAX_LINES)
        );
    }

    #[test]
    fn says_why_an_incomplete_walk_ended() {
        let stack = Stack::chain(&[0x1000], &[0xa1], 0x2001);
        let start = Start {
            rip: None,
            pushed_return: None,
            rbp: 0x1000,
        };
        assert_eq!(
            printed(start, &stack),
            [
                "    0: 0xa1 f1+0x1",
                "    (walk ended: frame pointer 0x2001 is not 8-byte aligned)"
            ]
        );
        let start = Start {
            rbp: 0x8000,
            ..start
        };
        assert_eq!(
            printed(start, &stack),
            ["    (walk ended: frame pointer 0x8000 points at unreadable memory)"]
        );
    }
}

//! The faults `crash=KIND` (and the shell's `crash KIND`) can ask the CPU
//! to raise on purpose, by name; `crash.rs` raises them.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

use crate::text::choices::named_values;

/// Which fault `crash=` asks the CPU to raise after the boot (each done in
/// `debug::crash`, by the CPU rather than by a Rust panic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crash {
    /// `int3`: reported, then the kernel carries on.
    Breakpoint,
    /// A division by zero (#DE).
    Divide,
    /// An undefined instruction, `ud2` (#UD).
    InvalidOpcode,
    /// A read through a null pointer (#PF).
    PageFault,
    /// A read from 0x100000, where GRUB loaded the kernel, which runs in
    /// the top 2 GiB and maps nothing in the lower half (#PF).
    LowHalf,
    /// A read from a non-canonical address (#GP).
    Gp,
    /// Unbounded recursion into the stack's guard page (#DF on its own
    /// stack).
    StackOverflow,
    /// A store into the kernel's code, `.text` (#PF: W^X).
    WriteCode,
    /// A store into a constant in `.rodata` (#PF: read-only).
    WriteRodata,
    /// A jump into `.data` (#PF: no-execute).
    ExecData,
    /// Allocation until the heap is exhausted (the out-of-memory panic).
    Oom,
    /// A kernel read of a program's page outside the copy routines (#PF
    /// under SMAP).
    Smap,
    /// A kernel jump into a program's page (#PF under SMEP).
    Smep,
}

named_values! {
    Crash:
    "breakpoint" => Breakpoint,
    "divide" => Divide,
    "invalid-opcode" => InvalidOpcode,
    "page-fault" => PageFault,
    "low-half" => LowHalf,
    "gp" => Gp,
    "stack-overflow" => StackOverflow,
    "write-code" => WriteCode,
    "write-rodata" => WriteRodata,
    "exec-data" => ExecData,
    "oom" => Oom,
    "smap" => Smap,
    "smep" => Smep,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_lists_every_name_in_order() {
        assert_eq!(Crash::EXPECTED, Crash::CHOICES.to_string());
        for (name, value) in Crash::CHOICES.0 {
            assert_eq!((Crash::parse(name), value.name()), (Some(*value), *name));
        }
    }
}

//! Loading a program: a new address space with the ELF file's segments
//! (copied, since the archive's data is only 512-byte aligned), the stack
//! with its guard page, and the initial stack Linux's ABI describes
//! (System V x86_64 ABI 3.4.1): `argc`, the `argv` pointers, a null, the
//! `envp` pointers, a null, the auxiliary vector, then the strings and the
//! 16 random bytes `AT_RANDOM` points to.
//!
//! The kernel writes the new pages through the direct map, never through
//! the program's addresses (the space is not loaded yet, and SMAP would
//! forbid it anyway).

use alloc::vec::Vec;

use super::elf::{self, ElfError, Plan};
use super::memory::{Memory, STACK_SIZE, STACK_TOP};
use super::user_range::{PAGE_SIZE, USER_END};
use crate::arch::{Access, MapError};
use crate::memory::address_space::AddressSpace;

/// The environment every program starts with.
pub const ENVIRONMENT: [&str; 3] = ["PATH=/bin", "HOME=/", "TERM=linux"];

/// Auxiliary vector keys (Linux's `elf.h`).
mod auxv {
    pub const AT_NULL: u64 = 0;
    pub const AT_PHDR: u64 = 3;
    pub const AT_PHENT: u64 = 4;
    pub const AT_PHNUM: u64 = 5;
    pub const AT_PAGESZ: u64 = 6;
    pub const AT_BASE: u64 = 7;
    pub const AT_ENTRY: u64 = 9;
    pub const AT_UID: u64 = 11;
    pub const AT_EUID: u64 = 12;
    pub const AT_GID: u64 = 13;
    pub const AT_EGID: u64 = 14;
    pub const AT_CLKTCK: u64 = 17;
    pub const AT_SECURE: u64 = 23;
    pub const AT_RANDOM: u64 = 25;
    pub const AT_EXECFN: u64 = 31;
}

/// Clock ticks per second `times` would count in (`AT_CLKTCK`).
const CLOCK_TICKS: u64 = 100;

/// Why a program could not be loaded.
#[derive(Debug)]
pub enum ExecError {
    /// The file is not an executable we run.
    Elf(ElfError),
    /// Memory ran out.
    OutOfMemory,
    /// The arguments do not fit the stack.
    ArgumentsTooLong,
}

impl core::fmt::Display for ExecError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ExecError::Elf(error) => write!(f, "{error}"),
            ExecError::OutOfMemory => f.write_str("out of memory"),
            ExecError::ArgumentsTooLong => f.write_str("argument list too long"),
        }
    }
}

impl From<MapError> for ExecError {
    fn from(_: MapError) -> ExecError {
        ExecError::OutOfMemory
    }
}

/// A loaded program, ready to enter.
pub struct Loaded {
    /// Its memory.
    pub memory: Memory,
    /// Where it starts.
    pub entry: u64,
    /// Its initial stack pointer (at `argc`).
    pub stack_pointer: u64,
}

/// Copies `bytes` into the program's pages at `address` onwards, through
/// the direct map; a reserved page (the stack's) is mapped first.
fn fill(memory: &mut Memory, mut address: u64, mut bytes: &[u8]) -> Result<(), ExecError> {
    while !bytes.is_empty() {
        let at = address & !(PAGE_SIZE - 1);
        if memory.space.page(at).is_none() {
            memory.demand(at, true, false);
        }
        let page = memory.space.page(at).ok_or(ExecError::OutOfMemory)?;
        let offset = address % PAGE_SIZE;
        let count = bytes.len().min((PAGE_SIZE - offset) as usize);
        // SAFETY: the frame is this space's page (just looked up), in the
        // direct map; nothing else uses it (the program has not run), and
        // `offset + count` stays inside the frame.
        unsafe {
            crate::arch::copy_bytes(
                AddressSpace::frame_bytes(page.frame).add(offset as usize),
                bytes.as_ptr(),
                count,
            );
        }
        address += count as u64;
        bytes = &bytes[count..];
    }
    Ok(())
}

/// Loads `image` with `args` (`args[0]`: the program's name as run) and
/// `random` for `AT_RANDOM`.
pub fn load(image: &[u8], args: &[&str], random: [u8; 16]) -> Result<Loaded, ExecError> {
    let plan: Plan = elf::plan(image, USER_END).map_err(ExecError::Elf)?;
    let image_end = plan
        .segments
        .iter()
        .map(|segment| segment.end())
        .max()
        .unwrap_or(0);
    let mut memory = Memory::new(AddressSpace::new()?, image_end);
    for segment in &plan.segments {
        let access = Access {
            writable: segment.writable,
            executable: segment.executable,
        };
        let pages = (segment.page_end() - segment.page_start()) / PAGE_SIZE;
        for page in 0..pages {
            memory
                .space
                .map_zeroed(segment.page_start() + page * PAGE_SIZE, access, true)?;
        }
        let start = segment.file_offset as usize;
        fill(
            &mut memory,
            segment.vaddr,
            &image[start..start + segment.filesz as usize],
        )?;
    }
    // The stack is reserved, mapped as it is touched (the initial stack's
    // pages now).
    memory.reserve(
        STACK_TOP - STACK_SIZE,
        STACK_SIZE / PAGE_SIZE,
        Access::READ_WRITE,
        true,
    );
    let stack_pointer = initial_stack(&mut memory, &plan, args, random)?;
    Ok(Loaded {
        memory,
        entry: plan.entry,
        stack_pointer,
    })
}

/// Writes the initial stack below [`STACK_TOP`]; returns the stack
/// pointer (16-byte aligned, at `argc`).
fn initial_stack(
    memory: &mut Memory,
    plan: &Plan,
    args: &[&str],
    random: [u8; 16],
) -> Result<u64, ExecError> {
    // The strings and the random bytes at the top, then the vectors.
    let mut strings: Vec<u8> = Vec::new();
    let mut offsets = Vec::new();
    for text in args.iter().chain(ENVIRONMENT.iter()) {
        offsets.push(strings.len() as u64);
        strings.extend_from_slice(text.as_bytes());
        strings.push(0);
    }
    let random_offset = strings.len() as u64;
    strings.extend_from_slice(&random);
    // One page of the stack at most for the strings: the rest is the
    // program's.
    if strings.len() as u64 > STACK_SIZE / 4 {
        return Err(ExecError::ArgumentsTooLong);
    }
    let strings_start = (STACK_TOP - strings.len() as u64) & !15;
    let string_at = |index: usize| strings_start + offsets[index];
    let execfn = string_at(0);

    let mut words: Vec<u64> = Vec::new();
    words.push(args.len() as u64);
    words.extend((0..args.len()).map(string_at));
    words.push(0);
    words.extend((args.len()..args.len() + ENVIRONMENT.len()).map(string_at));
    words.push(0);
    let mut aux = |key: u64, value: u64| {
        words.push(key);
        words.push(value);
    };
    if let Some(phdr) = plan.phdr_vaddr {
        aux(auxv::AT_PHDR, phdr);
    }
    aux(auxv::AT_PHENT, plan.phent);
    aux(auxv::AT_PHNUM, plan.phnum);
    aux(auxv::AT_PAGESZ, PAGE_SIZE);
    aux(auxv::AT_BASE, 0);
    aux(auxv::AT_ENTRY, plan.entry);
    aux(auxv::AT_UID, 0);
    aux(auxv::AT_EUID, 0);
    aux(auxv::AT_GID, 0);
    aux(auxv::AT_EGID, 0);
    aux(auxv::AT_CLKTCK, CLOCK_TICKS);
    aux(auxv::AT_SECURE, 0);
    aux(auxv::AT_RANDOM, strings_start + random_offset);
    aux(auxv::AT_EXECFN, execfn);
    aux(auxv::AT_NULL, 0);

    let stack_pointer = (strings_start - words.len() as u64 * 8) & !15;
    let bytes: Vec<u8> = words.iter().flat_map(|word| word.to_le_bytes()).collect();
    fill(memory, stack_pointer, &bytes)?;
    fill(memory, strings_start, &strings)?;
    Ok(stack_pointer)
}

//! Files for programs: the initrd's tree (read-only, from the boot
//! archive) and each program's table of open file descriptors: 0, 1 and 2
//! the terminal, then initrd files and directories it opens.

use alloc::vec::Vec;

use spin::Once;

use super::errno::{EBADF, EMFILE, Errno};
use super::initrd::{Initrd, Inode};

/// The boot archive's tree, once read (an empty tree without one).
static INITRD: Once<Initrd<'static>> = Once::new();

/// Takes the boot archive's tree (the first call wins).
pub fn set_initrd(initrd: Initrd<'static>) {
    INITRD.call_once(|| initrd);
}

/// The boot archive's tree: empty when there was none, or it was damaged.
pub fn initrd() -> &'static Initrd<'static> {
    INITRD.call_once(Initrd::empty)
}

/// The most file descriptors one program may have open.
pub const MAX_FILES: usize = 256;

/// What an open file descriptor refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open {
    /// The terminal: reads take a line, writes go to both consoles.
    Terminal,
    /// An initrd file, read from `offset`.
    File {
        /// The file.
        ino: Inode,
        /// Where the next read starts.
        offset: u64,
    },
    /// An initrd directory, listed from entry `offset`.
    Dir {
        /// The directory.
        ino: Inode,
        /// The next entry `getdents64` returns, counting `.` and `..`.
        offset: u64,
    },
}

/// One file descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Descriptor {
    /// What it refers to.
    pub open: Open,
    /// Its status flags (`open`'s flags, `F_GETFL`/`F_SETFL`).
    pub status_flags: u64,
    /// Close on `exec` (`FD_CLOEXEC`; kept for `F_GETFD`, no exec here).
    pub close_on_exec: bool,
}

/// A program's open files, by number.
pub struct FdTable {
    /// Slot `n` is descriptor `n`.
    slots: Vec<Option<Descriptor>>,
}

/// `O_RDWR`: the terminal is open for reading and writing.
const O_RDWR: u64 = 2;

impl FdTable {
    /// 0, 1 and 2 open on the terminal.
    pub fn new() -> FdTable {
        let terminal = Descriptor {
            open: Open::Terminal,
            status_flags: O_RDWR,
            close_on_exec: false,
        };
        FdTable {
            slots: alloc::vec![Some(terminal); 3],
        }
    }

    /// Descriptor `fd`, if open.
    pub fn get(&self, fd: u64) -> Result<Descriptor, Errno> {
        usize::try_from(fd)
            .ok()
            .and_then(|fd| self.slots.get(fd).copied().flatten())
            .ok_or(EBADF)
    }

    /// Descriptor `fd`, to change, if open.
    pub fn get_mut(&mut self, fd: u64) -> Result<&mut Descriptor, Errno> {
        usize::try_from(fd)
            .ok()
            .and_then(|fd| self.slots.get_mut(fd))
            .and_then(Option::as_mut)
            .ok_or(EBADF)
    }

    /// Opens `descriptor` at the lowest free number.
    pub fn insert(&mut self, descriptor: Descriptor) -> Result<u64, Errno> {
        if let Some(free) = self.slots.iter().position(Option::is_none) {
            self.slots[free] = Some(descriptor);
            return Ok(free as u64);
        }
        if self.slots.len() >= MAX_FILES {
            return Err(EMFILE);
        }
        self.slots.push(Some(descriptor));
        Ok(self.slots.len() as u64 - 1)
    }

    /// Closes `fd`.
    pub fn close(&mut self, fd: u64) -> Result<(), Errno> {
        let slot = usize::try_from(fd)
            .ok()
            .and_then(|fd| self.slots.get_mut(fd))
            .filter(|slot| slot.is_some())
            .ok_or(EBADF)?;
        *slot = None;
        Ok(())
    }

    /// Closes every descriptor (the program's exit).
    pub fn close_all(&mut self) {
        self.slots.clear();
    }
}

impl Default for FdTable {
    fn default() -> Self {
        FdTable::new()
    }
}

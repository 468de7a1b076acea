//! The initrd's files for programs: `open`, `openat`, `close`, `lseek`,
//! `stat` and its forms, `getdents64`, `fcntl`, `getcwd` and `chdir`. The
//! tree is read-only: opening for writing or creating fails with `EROFS`.

use alloc::string::String;
use alloc::vec::Vec;

use super::SysResult;
use crate::process::errno::{
    EEXIST, EINVAL, ENAMETOOLONG, ENOENT, ENOTDIR, ERANGE, EROFS, ESPIPE, Errno,
};
use crate::process::files::{self, Descriptor, Open};
use crate::process::initrd::{Inode, Kind, Node};
use crate::process::program::Process;
use crate::process::user_copy;

/// `dirfd` meaning the working directory (`-100`).
pub const AT_FDCWD: u64 = -100i64 as u64;
/// The longest path a program may pass, NUL included (Linux's `PATH_MAX`).
const PATH_MAX: usize = 4096;
/// `open` flags (Linux x86_64 values).
const O_ACCMODE: u64 = 3;
const O_CREAT: u64 = 0o100;
const O_EXCL: u64 = 0o200;
const O_TRUNC: u64 = 0o1000;
const O_DIRECTORY: u64 = 0o200000;
const O_CLOEXEC: u64 = 0o2000000;
/// `fstatat` flags.
const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
const AT_NO_AUTOMOUNT: u64 = 0x800;
const AT_EMPTY_PATH: u64 = 0x1000;
/// `fcntl` commands.
const F_GETFD: u64 = 1;
const F_SETFD: u64 = 2;
const F_GETFL: u64 = 3;
const F_SETFL: u64 = 4;
/// `FD_CLOEXEC`.
const FD_CLOEXEC: u64 = 1;
/// The status flags `F_SETFL` may change: `O_APPEND`, `O_NONBLOCK`,
/// `O_ASYNC`, `O_DIRECT`, `O_NOATIME`.
const SETFL_MASK: u64 = 0o2000 | 0o4000 | 0o20000 | 0o40000 | 0o1000000;
/// `lseek` origins.
const SEEK_SET: u64 = 0;
const SEEK_CUR: u64 = 1;
const SEEK_END: u64 = 2;
/// `d_type` values.
const DT_DIR: u8 = 4;
const DT_REG: u8 = 8;
/// `st_mode` file types.
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;
const S_IFCHR: u32 = 0o020000;

/// The absolute path of directory `ino`, from its parents.
fn path_of(ino: Inode) -> String {
    let initrd = files::initrd();
    let mut names = Vec::new();
    let mut at = ino;
    while at != Inode::ROOT {
        let Some(parent) = initrd.parent(at) else {
            break;
        };
        if let Some(entries) = initrd.entries(parent)
            && let Some(entry) = entries.into_iter().find(|entry| entry.ino == at)
        {
            names.push(String::from(entry.name));
        }
        at = parent;
    }
    let mut path = String::new();
    for name in names.iter().rev() {
        path.push('/');
        path.push_str(name);
    }
    if path.is_empty() {
        path.push('/');
    }
    path
}

/// The directory relative paths start from: the working directory, or the
/// directory `dirfd` is open on.
fn base(process: &Process, dirfd: u64) -> Result<String, Errno> {
    if dirfd == AT_FDCWD || dirfd as u32 == AT_FDCWD as u32 {
        return Ok(process.cwd.lock().clone());
    }
    match process.files.lock().get(dirfd)?.open {
        Open::Dir { ino, .. } => Ok(path_of(ino)),
        _ => Err(ENOTDIR),
    }
}

/// Reads a path argument.
fn path_argument(address: u64) -> Result<String, Errno> {
    user_copy::read_string(address, PATH_MAX - 1, ENAMETOOLONG)
}

/// Looks `path` up from `dirfd`.
fn lookup(process: &Process, dirfd: u64, path: &str) -> Result<Inode, Errno> {
    if path.is_empty() {
        return Err(ENOENT);
    }
    let base = if path.starts_with('/') {
        String::from("/")
    } else {
        base(process, dirfd)?
    };
    files::initrd()
        .resolve(&base, path)
        .map(|resolved| resolved.ino)
        .ok_or(ENOENT)
}

/// `open(path, flags, mode)`, as `openat(AT_FDCWD, ...)`.
pub fn open(process: &Process, dirfd: u64, path: u64, flags: u64) -> SysResult {
    openat(process, dirfd, path, flags)
}

/// `openat(dirfd, path, flags, mode)`.
pub fn openat(process: &Process, dirfd: u64, path: u64, flags: u64) -> SysResult {
    let path = path_argument(path)?;
    let found = lookup(process, dirfd, &path);
    let ino = match found {
        Ok(_) if flags & O_CREAT != 0 && flags & O_EXCL != 0 => return Err(EEXIST),
        Ok(ino) => ino,
        Err(ENOENT) if flags & O_CREAT != 0 => return Err(EROFS),
        Err(error) => return Err(error),
    };
    if flags & O_ACCMODE != 0 || flags & O_TRUNC != 0 {
        return Err(EROFS);
    }
    let open = match files::initrd().kind(ino) {
        Some(Kind::Dir) => Open::Dir { ino, offset: 0 },
        Some(Kind::File) if flags & O_DIRECTORY != 0 => return Err(ENOTDIR),
        Some(Kind::File) => Open::File { ino, offset: 0 },
        None => return Err(ENOENT),
    };
    process.files.lock().insert(Descriptor {
        open,
        status_flags: flags & !(O_CLOEXEC | O_CREAT | O_EXCL | O_TRUNC),
        close_on_exec: flags & O_CLOEXEC != 0,
    })
}

/// `close(fd)`.
pub fn close(process: &Process, fd: u64) -> SysResult {
    process.files.lock().close(fd).map(|()| 0)
}

/// `lseek(fd, offset, whence)`.
pub fn lseek(process: &Process, fd: u64, offset: u64, whence: u64) -> SysResult {
    let mut table = process.files.lock();
    let descriptor = table.get_mut(fd)?;
    let (position, size) = match &mut descriptor.open {
        Open::Terminal => return Err(ESPIPE),
        Open::File { ino, offset } => (
            offset,
            files::initrd().file(*ino).map_or(0, <[u8]>::len) as u64,
        ),
        Open::Dir { offset, .. } => (offset, 0),
    };
    let from = match whence {
        SEEK_SET => 0,
        SEEK_CUR => *position as i64,
        SEEK_END => size as i64,
        _ => return Err(EINVAL),
    };
    let target = from
        .checked_add(offset as i64)
        .filter(|&target| target >= 0)
        .ok_or(EINVAL)?;
    *position = target as u64;
    Ok(target as u64)
}

/// Linux's `struct stat` on x86_64 (144 bytes).
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Stat {
    dev: u64,
    ino: u64,
    nlink: u64,
    mode: u32,
    uid: u32,
    gid: u32,
    pad: u32,
    rdev: u64,
    size: i64,
    blksize: i64,
    blocks: i64,
    times: [u64; 6],
    unused: [i64; 3],
}

/// The `stat` of what `open` refers to.
fn stat_of(open: Open) -> Stat {
    match open {
        Open::Terminal => Stat {
            mode: S_IFCHR | 0o620,
            nlink: 1,
            rdev: 0x0400, // tty0: major 4, minor 0
            blksize: 1024,
            ..Stat::default()
        },
        Open::File { ino, .. } | Open::Dir { ino, .. } => stat_of_node(ino),
    }
}

/// The `stat` of initrd node `ino`.
fn stat_of_node(ino: Inode) -> Stat {
    let (mode, size, nlink) = match files::initrd().node(ino) {
        Some(Node::File { data, mode }) => (S_IFREG | u32::from(*mode), data.len() as i64, 1),
        _ => (S_IFDIR | 0o755, 0, 2),
    };
    Stat {
        dev: 1,
        ino: u64::from(ino.0),
        nlink,
        mode,
        size,
        blksize: 4096,
        blocks: (size + 511) / 512,
        ..Stat::default()
    }
}

/// `fstat(fd, buffer)`.
pub fn fstat(process: &Process, fd: u64, buffer: u64) -> SysResult {
    let open = process.files.lock().get(fd)?.open;
    user_copy::write_value(buffer, &stat_of(open))?;
    Ok(0)
}

/// `stat`, `lstat` (no links here) and `newfstatat(dirfd, path, buffer,
/// flags)`.
pub fn stat(process: &Process, dirfd: u64, path: u64, buffer: u64, flags: u64) -> SysResult {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH) != 0 {
        return Err(EINVAL);
    }
    let path = path_argument(path)?;
    if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
        if dirfd == AT_FDCWD || dirfd as u32 == AT_FDCWD as u32 {
            let cwd = process.cwd.lock().clone();
            let ino = files::initrd().lookup(&cwd).ok_or(ENOENT)?;
            user_copy::write_value(buffer, &stat_of_node(ino))?;
            return Ok(0);
        }
        return fstat(process, dirfd, buffer);
    }
    let ino = lookup(process, dirfd, &path)?;
    user_copy::write_value(buffer, &stat_of_node(ino))?;
    Ok(0)
}

/// `getdents64(fd, buffer, count)`: `.` and `..`, then the entries.
pub fn getdents64(process: &Process, fd: u64, buffer: u64, count: u64) -> SysResult {
    let descriptor = process.files.lock().get(fd)?;
    let Open::Dir { ino, offset } = descriptor.open else {
        return Err(ENOTDIR);
    };
    let initrd = files::initrd();
    let parent = initrd.parent(ino).unwrap_or(Inode::ROOT);
    let mut all: Vec<(&str, Inode, u8)> = alloc::vec![(".", ino, DT_DIR), ("..", parent, DT_DIR)];
    if let Some(entries) = initrd.entries(ino) {
        all.extend(entries.map(|entry| {
            let kind = if entry.kind == Kind::Dir {
                DT_DIR
            } else {
                DT_REG
            };
            (entry.name, entry.ino, kind)
        }));
    }
    let limit = count.min(64 * 1024) as usize;
    let mut out = Vec::new();
    let mut next = offset;
    for (index, (name, ino, kind)) in all.iter().enumerate().skip(offset as usize) {
        // d_ino, d_off, d_reclen, d_type, the name and its NUL, padded to 8.
        let length = (8 + 8 + 2 + 1 + name.len() + 1).next_multiple_of(8);
        if out.len() + length > limit {
            break;
        }
        let start = out.len();
        out.extend_from_slice(&u64::from(ino.0).to_le_bytes());
        out.extend_from_slice(&(index as u64 + 1).to_le_bytes());
        out.extend_from_slice(&(length as u16).to_le_bytes());
        out.push(*kind);
        out.extend_from_slice(name.as_bytes());
        out.resize(start + length, 0);
        next = index as u64 + 1;
    }
    if out.is_empty() && (offset as usize) < all.len() {
        return Err(EINVAL); // the buffer is too small for one entry
    }
    user_copy::write(buffer, &out)?;
    if let Ok(descriptor) = process.files.lock().get_mut(fd)
        && let Open::Dir { offset, .. } = &mut descriptor.open
    {
        *offset = next;
    }
    Ok(out.len() as u64)
}

/// `fcntl(fd, command, argument)`.
pub fn fcntl(process: &Process, fd: u64, command: u64, argument: u64) -> SysResult {
    let mut table = process.files.lock();
    let descriptor = table.get_mut(fd)?;
    match command {
        F_GETFD => Ok(u64::from(descriptor.close_on_exec)),
        F_SETFD => {
            descriptor.close_on_exec = argument & FD_CLOEXEC != 0;
            Ok(0)
        }
        F_GETFL => Ok(descriptor.status_flags),
        F_SETFL => {
            descriptor.status_flags =
                (descriptor.status_flags & !SETFL_MASK) | (argument & SETFL_MASK);
            Ok(0)
        }
        _ => Err(EINVAL),
    }
}

/// `getcwd(buffer, size)`: the length written, NUL included.
pub fn getcwd(process: &Process, buffer: u64, size: u64) -> SysResult {
    let mut cwd = process.cwd.lock().clone().into_bytes();
    cwd.push(0);
    if (cwd.len() as u64) > size {
        return Err(ERANGE);
    }
    user_copy::write(buffer, &cwd)?;
    Ok(cwd.len() as u64)
}

/// `chdir(path)`.
pub fn chdir(process: &Process, path: u64) -> SysResult {
    let path = path_argument(path)?;
    if path.is_empty() {
        return Err(ENOENT);
    }
    let cwd = process.cwd.lock().clone();
    let resolved = files::initrd().resolve(&cwd, &path).ok_or(ENOENT)?;
    if files::initrd().kind(resolved.ino) != Some(Kind::Dir) {
        return Err(ENOTDIR);
    }
    *process.cwd.lock() = resolved.path;
    Ok(0)
}

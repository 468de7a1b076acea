//! `read`, `write`, `readv`, `writev` and `ioctl`.

use super::SysResult;
use crate::process::errno::{EBADF, EFAULT, EINTR, EINVAL, EISDIR, ENOTTY};
use crate::process::files::{self, Open};
use crate::process::program::Process;
use crate::process::terminal::{self, ReadEnd};
use crate::process::user_copy;

/// Bytes moved through the kernel's own buffer at a time.
const CHUNK: usize = 4096;
/// The most vectors `readv`/`writev` take (Linux's `IOV_MAX`).
const IOV_MAX: u64 = 1024;
/// `ioctl` request: the terminal's size.
const TIOCGWINSZ: u64 = 0x5413;
/// The flags `open` keeps that say a descriptor may not be read or
/// written: `O_WRONLY` for read, `O_RDONLY` (0) for write on files.
const O_ACCMODE: u64 = 3;
/// `O_WRONLY`.
const O_WRONLY: u64 = 1;

/// `read(fd, buffer, count)`.
pub fn read(process: &Process, fd: u64, buffer: u64, count: u64) -> SysResult {
    let descriptor = process.files.lock().get(fd)?;
    if descriptor.status_flags & O_ACCMODE == O_WRONLY {
        return Err(EBADF);
    }
    match descriptor.open {
        Open::Terminal => read_terminal(process, buffer, count),
        Open::Dir { .. } => Err(EISDIR),
        Open::File { ino, offset } => {
            let data = files::initrd().file(ino).unwrap_or(&[]);
            let start = (offset as usize).min(data.len());
            let take = (count as usize).min(data.len() - start);
            user_copy::write(buffer, &data[start..start + take])?;
            if let Ok(descriptor) = process.files.lock().get_mut(fd)
                && let Open::File { offset, .. } = &mut descriptor.open
            {
                *offset += take as u64;
            }
            Ok(take as u64)
        }
    }
}

/// A read of the terminal: one line (or what fits of it).
fn read_terminal(process: &Process, buffer: u64, count: u64) -> SysResult {
    if count == 0 {
        return Ok(0);
    }
    // Check the whole range first: a line typed then refused would be lost.
    crate::process::user_range::check(buffer, count.min(CHUNK as u64)).map_err(|_| EFAULT)?;
    let Some(terminal) = terminal::terminal().filter(|_| !process.background) else {
        return Ok(0);
    };
    let mut line = [0u8; CHUNK];
    let want = (count as usize).min(CHUNK);
    let stop = || process.stop_requested();
    match terminal.read(&mut line[..want], &stop) {
        ReadEnd::Bytes(n) => {
            user_copy::write(buffer, &line[..n])?;
            Ok(n as u64)
        }
        ReadEnd::Interrupted => Err(EINTR),
    }
}

/// `write(fd, buffer, count)`: the terminal only (initrd files are
/// read-only: `EBADF`, as for a descriptor opened read-only).
pub fn write(process: &Process, fd: u64, buffer: u64, count: u64) -> SysResult {
    let descriptor = process.files.lock().get(fd)?;
    if descriptor.open != Open::Terminal {
        return Err(EBADF);
    }
    let mut written = 0u64;
    let mut chunk = [0u8; CHUNK];
    while written < count {
        let take = ((count - written) as usize).min(CHUNK);
        let Some(address) = buffer.checked_add(written) else {
            break;
        };
        if let Err(error) = user_copy::read(address, &mut chunk[..take]) {
            if written == 0 {
                return Err(error);
            }
            break;
        }
        match terminal::terminal() {
            Some(terminal) => terminal.write(&chunk[..take]),
            None => crate::print!("{}", alloc::string::String::from_utf8_lossy(&chunk[..take])),
        }
        written += take as u64;
    }
    Ok(written)
}

/// The (address, length) pairs of an `iovec` array, checked.
fn vectors(vector: u64, count: u64) -> Result<alloc::vec::Vec<(u64, u64)>, i64> {
    if count > IOV_MAX {
        return Err(EINVAL);
    }
    let mut pairs = alloc::vec::Vec::new();
    let mut total: u64 = 0;
    for index in 0..count {
        let at = vector.checked_add(index * 16).ok_or(EFAULT)?;
        let base = user_copy::read_u64(at)?;
        let length = user_copy::read_u64(at + 8)?;
        total = total
            .checked_add(length)
            .filter(|&total| total <= isize::MAX as u64)
            .ok_or(EINVAL)?;
        pairs.push((base, length));
    }
    Ok(pairs)
}

/// `readv(fd, vector, count)`: one read per vector until one comes short.
pub fn readv(process: &Process, fd: u64, vector: u64, count: u64) -> SysResult {
    each_vector(vector, count, |base, length| {
        read(process, fd, base, length)
    })
}

/// `writev(fd, vector, count)`.
pub fn writev(process: &Process, fd: u64, vector: u64, count: u64) -> SysResult {
    each_vector(vector, count, |base, length| {
        write(process, fd, base, length)
    })
}

/// `transfer` on each non-empty vector in turn, until one moves less than
/// it asked (or fails after others moved bytes): the bytes moved in all,
/// or the first vector's error.
fn each_vector(
    vector: u64,
    count: u64,
    mut transfer: impl FnMut(u64, u64) -> SysResult,
) -> SysResult {
    let mut total = 0;
    for (base, length) in vectors(vector, count)? {
        if length == 0 {
            continue;
        }
        match transfer(base, length) {
            Ok(n) => {
                total += n;
                if n < length {
                    break;
                }
            }
            Err(error) if total == 0 => return Err(error),
            Err(_) => break,
        }
    }
    Ok(total)
}

/// `ioctl(fd, request, argument)`: `TIOCGWINSZ` on the terminal.
pub fn ioctl(process: &Process, fd: u64, request: u64, argument: u64) -> SysResult {
    let descriptor = process.files.lock().get(fd)?;
    if descriptor.open != Open::Terminal {
        return Err(ENOTTY);
    }
    match request {
        TIOCGWINSZ => {
            let (rows, columns) = terminal::terminal().map_or((25, 80), |terminal| terminal.size());
            // struct winsize: rows, columns, then the pixel sizes (0).
            let mut bytes = [0u8; 8];
            bytes[0..2].copy_from_slice(&rows.to_le_bytes());
            bytes[2..4].copy_from_slice(&columns.to_le_bytes());
            user_copy::write(argument, &bytes)?;
            Ok(0)
        }
        _ => Err(ENOTTY),
    }
}

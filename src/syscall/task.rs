//! The program itself: `exit`, `exit_group`, signals to oneself (`kill`,
//! `tkill`, `tgkill`: enough for `abort()`), `rt_sigprocmask`,
//! `arch_prctl`, `set_tid_address`, `sched_yield` and `nanosleep`.

use core::sync::atomic::Ordering;
use core::time::Duration;

use super::SysResult;
use crate::process::errno::{EFAULT, EINTR, EINVAL, EPERM, ESRCH};
use crate::process::program::{self, Process, Status};
use crate::process::user_copy;

/// `arch_prctl` codes.
const ARCH_SET_GS: u64 = 0x1001;
const ARCH_SET_FS: u64 = 0x1002;
const ARCH_GET_FS: u64 = 0x1003;
const ARCH_GET_GS: u64 = 0x1004;
/// The highest signal number.
const SIGNAL_MAX: u64 = 64;
/// SIGABRT.
const SIGABRT: u64 = 6;
/// `rt_sigprocmask`'s `how`.
const SIG_SETMASK: u64 = 2;
/// The size of the signal set the kernel takes.
const SIGSET_SIZE: u64 = 8;

/// `exit(code)` and `exit_group(code)`: one thread per program, so alike.
pub fn exit(code: u64) -> SysResult {
    program::exit_current(Status::Exited(code as u8))
}

/// A signal's name, for the report.
fn signal_name(signal: u64) -> &'static str {
    match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => "a signal",
    }
}

/// A signal sent to the program itself: no handlers exist, so every signal
/// ends it (0 only checks that it exists).
fn signal_self(signal: u64) -> SysResult {
    match signal {
        0 => Ok(0),
        SIGABRT => program::kill_current(format_args!("aborted (SIGABRT)")),
        1..=SIGNAL_MAX => {
            program::kill_current(format_args!("signal {signal} ({})", signal_name(signal)))
        }
        _ => Err(EINVAL),
    }
}

/// `kill(pid, signal)`: only to itself (another program: `EPERM`, none:
/// `ESRCH`).
pub fn kill(process: &Process, pid: u64, signal: u64) -> SysResult {
    if signal > SIGNAL_MAX {
        return Err(EINVAL);
    }
    if pid == process.pid() || pid == 0 {
        signal_self(signal)
    } else if program::exists(pid) {
        Err(EPERM)
    } else {
        Err(ESRCH)
    }
}

/// `tkill(tid, signal)`.
pub fn tkill(process: &Process, tid: u64, signal: u64) -> SysResult {
    kill(process, tid, signal).map_err(|error| if tid as i64 <= 0 { EINVAL } else { error })
}

/// `tgkill(tgid, tid, signal)`.
pub fn tgkill(process: &Process, tgid: u64, tid: u64, signal: u64) -> SysResult {
    if tgid as i64 <= 0 || tid as i64 <= 0 {
        return Err(EINVAL);
    }
    if tgid != process.pid() {
        return kill(process, tgid, signal);
    }
    tkill(process, tid, signal)
}

/// `rt_sigprocmask(how, set, old, size)`: there are no handlers, so the
/// mask is only checked and reported (an empty old mask).
pub fn rt_sigprocmask(how: u64, set: u64, old: u64, size: u64) -> SysResult {
    if size != SIGSET_SIZE || (set != 0 && how > SIG_SETMASK) {
        return Err(EINVAL);
    }
    if set != 0 {
        user_copy::read_u64(set)?;
    }
    if old != 0 {
        user_copy::write(old, &0u64.to_le_bytes())?;
    }
    Ok(0)
}

/// `arch_prctl(code, address)`: the FS base (the thread pointer). GS is
/// the kernel's (`EINVAL` to set it).
pub fn arch_prctl(code: u64, address: u64) -> SysResult {
    match code {
        ARCH_SET_FS => {
            if !crate::arch::user::is_user_canonical(address) {
                return Err(EPERM);
            }
            crate::sched::set_fs_base(address);
            Ok(0)
        }
        ARCH_GET_FS => {
            let base = crate::sched::fs_base();
            user_copy::write(address, &base.to_le_bytes())?;
            Ok(0)
        }
        ARCH_GET_GS => {
            user_copy::write(address, &0u64.to_le_bytes())?;
            Ok(0)
        }
        ARCH_SET_GS => Err(EINVAL),
        _ => Err(EINVAL),
    }
}

/// `set_tid_address(pointer)`: kept (one thread: nothing ever clears it);
/// returns the thread ID.
pub fn set_tid_address(process: &Process, pointer: u64) -> SysResult {
    process.clear_child_tid.store(pointer, Ordering::Relaxed);
    Ok(process.pid())
}

/// `sched_yield()`.
pub fn sched_yield() -> SysResult {
    crate::sched::yield_now();
    Ok(0)
}

/// The longest sleep taken in one piece, so a stop request is seen.
const SLEEP_SLICE: Duration = Duration::from_millis(50);

/// `nanosleep(request, remaining)`.
pub fn nanosleep(process: &Process, request: u64, remaining: u64) -> SysResult {
    let seconds = user_copy::read_u64(request)?;
    let nanos = user_copy::read_u64(request.checked_add(8).ok_or(EFAULT)?)?;
    if seconds as i64 <= -1 || nanos >= 1_000_000_000 {
        return Err(EINVAL);
    }
    let total = Duration::new(seconds, nanos as u32);
    let end = crate::time::uptime().saturating_add(total);
    loop {
        let left = end.saturating_sub(crate::time::uptime());
        if left.is_zero() {
            return Ok(0);
        }
        if process.stop_requested() {
            if remaining != 0 {
                let mut bytes = [0u8; 16];
                bytes[..8].copy_from_slice(&left.as_secs().to_le_bytes());
                bytes[8..].copy_from_slice(&u64::from(left.subsec_nanos()).to_le_bytes());
                user_copy::write(remaining, &bytes)?;
            }
            return Err(EINTR);
        }
        crate::time::sleep(left.min(SLEEP_SLICE));
    }
}

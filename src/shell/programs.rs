//! Programs from the initrd, run from the prompt: a first word that names
//! no built-in runs `/bin/WORD` (a word with a `/` runs that path), with
//! the line's words as its arguments; the shell waits for it and says how
//! it ended when that is not `exit 0`.
//!
//! While a program runs, the shell thread owns the keyboard: it passes keys
//! on to the program's terminal reads (the typeahead below) and turns
//! Ctrl-C into a stop request for the program. It looks for keys each
//! tick, and the program's exit wakes it at once. The program's reads edit a
//! line with the shell's line editor (echo, the editing keys, Enter
//! delivers it; Ctrl-D on an empty line is the end of file): the terminal
//! registered with the process layer ([`init`]).

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use spin::{Mutex, Once};

use super::Consoles;
use super::commands;
use super::line::{Event, LineEditor};
use crate::input::{self, key::Key};
use crate::process::program::{self, Status};
use crate::process::terminal::{ReadEnd, Terminal};
use crate::sched::WaitQueue;

/// Keys typed for the program, in order.
static TYPEAHEAD: Mutex<VecDeque<Key>> = Mutex::new(VecDeque::new());
/// The program's thread, waiting for a key.
static KEYS: WaitQueue = WaitQueue::new();

/// The terminal programs get: the consoles, with the shell's line editor.
struct ProgramTerminal {
    /// The serial console's columns.
    serial_columns: usize,
    /// The rest of a line a read did not take.
    pending: Mutex<Vec<u8>>,
}

/// The one terminal.
static TERMINAL: Once<ProgramTerminal> = Once::new();

/// Registers the terminal programs read and write, serial
/// `serial_columns` wide.
pub fn init(serial_columns: usize) {
    let terminal = TERMINAL.call_once(|| ProgramTerminal {
        serial_columns,
        pending: Mutex::new(Vec::new()),
    });
    crate::process::terminal::set_terminal(terminal);
}

/// Takes up to `buffer.len()` bytes of `pending` into `buffer`.
fn take_pending(pending: &mut Vec<u8>, buffer: &mut [u8]) -> usize {
    let count = pending.len().min(buffer.len());
    buffer[..count].copy_from_slice(&pending[..count]);
    pending.drain(..count);
    count
}

impl Terminal for ProgramTerminal {
    fn read(&self, buffer: &mut [u8], stop: &dyn Fn() -> bool) -> ReadEnd {
        {
            let mut pending = self.pending.lock();
            if !pending.is_empty() {
                return ReadEnd::Bytes(take_pending(&mut pending, buffer));
            }
        }
        let mut editor = LineEditor::new("", &[]);
        let consoles = &mut Consoles::new(self.serial_columns);
        editor.start(consoles);
        crate::console::flush();
        loop {
            let mut key = None;
            KEYS.wait_until(|| {
                key = crate::arch::without_interrupts(|| TYPEAHEAD.lock().pop_front());
                key.is_some() || stop()
            });
            let Some(key) = key else {
                return ReadEnd::Interrupted;
            };
            // Ctrl-D: the end of the file on an empty line, else the line
            // so far, without a newline (as Linux's terminal does).
            if key == Key::Ctrl(b'd') {
                if editor.line().is_empty() {
                    return ReadEnd::Bytes(0);
                }
                let mut pending = self.pending.lock();
                pending.extend_from_slice(editor.line().as_bytes());
                return ReadEnd::Bytes(take_pending(&mut pending, buffer));
            }
            if let Event::Line(line) = editor.handle(key, consoles) {
                let mut pending = self.pending.lock();
                pending.extend_from_slice(line.as_bytes());
                pending.push(b'\n');
                return ReadEnd::Bytes(take_pending(&mut pending, buffer));
            }
            crate::console::flush();
        }
    }

    fn write(&self, bytes: &[u8]) {
        crate::print!("{}", String::from_utf8_lossy(bytes));
    }

    fn size(&self) -> (u16, u16) {
        let (columns, rows) = crate::console::screen_size();
        if columns == 0 {
            (25, self.serial_columns as u16)
        } else {
            (rows as u16, columns as u16)
        }
    }
}

/// Programs started with `&`, not waited for yet.
static BACKGROUND: Mutex<Vec<program::Running>> = Mutex::new(Vec::new());

/// Reports background programs that have ended (`[PID] NAME: done`, or
/// their exit status), and forgets them. The shell calls it before each
/// prompt.
pub fn reap_background() {
    loop {
        let done = {
            let mut background = BACKGROUND.lock();
            let index = background
                .iter()
                .position(|running| crate::sched::has_exited(running.pid()));
            index.map(|index| background.swap_remove(index))
        };
        let Some(running) = done else {
            return;
        };
        let (pid, name) = (running.pid(), String::from(running.name()));
        match running.wait() {
            Status::Exited(0) => println!("[{pid}] {name}: done"),
            Status::Exited(code) => println!("[{pid}] {name}: exit status {code}"),
            // Its report said why, when it happened.
            Status::Killed(_) => {}
        }
    }
}

/// `time PROGRAM [ARGS]`: runs the program as the prompt would, then prints
/// the time from before it was loaded to after it was reaped (TSC cycles
/// and milliseconds): what `make bench` compares with Linux's `fork`,
/// `execve` and `wait4`.
pub fn time(line: &str) {
    if line.is_empty() {
        println!("usage: time PROGRAM [ARGS]");
        return;
    }
    let start = crate::arch::read_timestamp();
    if !run(line) {
        let name = commands::words(line).next().unwrap_or("");
        println!("time: no program {name}");
        return;
    }
    let cycles = crate::arch::read_timestamp() - start;
    let hz = crate::time::tsc_hz().max(1);
    println!(
        "time: {cycles} cycles ({}.{:03} ms)",
        cycles * 1000 / hz,
        cycles * 1_000_000 / hz % 1000
    );
}

/// Runs the program a line names, if there is one: returns false when
/// there is no such program (the caller says the command is unknown). A
/// last word `&` runs it in the background: the shell prompts at once,
/// `ps` lists it, `kill PID` stops it, and its terminal reads get the end
/// of the file.
pub fn run(line: &str) -> bool {
    let mut words: Vec<&str> = commands::words(line).collect();
    let background = words.last() == Some(&"&");
    if background {
        words.pop();
    }
    let Some(&name) = words.first() else {
        return true;
    };
    let path = if name.contains('/') {
        String::from(name)
    } else {
        alloc::format!("/bin/{name}")
    };
    if !name.contains('/') && crate::process::files::initrd().lookup(&path).is_none() {
        return false;
    }
    let running = match program::spawn(&path, &words, "/", background) {
        Ok(running) => running,
        Err(error) => {
            println!("{name}: {error}");
            return true;
        }
    };
    let pid = running.pid();
    if background {
        println!("[{pid}] {name}");
        BACKGROUND.lock().push(running);
        return true;
    }
    crate::arch::without_interrupts(|| TYPEAHEAD.lock().clear());
    if let Some(terminal) = TERMINAL.get() {
        terminal.pending.lock().clear();
    }
    // The program's exit wakes the shell at once; keys are looked for
    // each tick.
    running.watch();
    while !crate::sched::has_exited(pid) {
        let mut woke = false;
        while let Some(key) = input::poll_key() {
            if key == Key::Ctrl(b'c') {
                println!("^C");
                program::request_stop(pid);
            } else {
                crate::arch::without_interrupts(|| TYPEAHEAD.lock().push_back(key));
                woke = true;
            }
        }
        if woke {
            KEYS.wake_all();
        }
        crate::sched::sleep_until_tick(crate::time::ticks() + 1);
    }
    let name = String::from(running.name());
    match running.wait() {
        Status::Exited(0) => {}
        Status::Exited(code) => println!("{name}: exit status {code}"),
        // The report said why already.
        Status::Killed(_) => {}
    }
    true
}

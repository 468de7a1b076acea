//! The shell: after `ready`, a prompt (`kestrel> `) on both consoles, a
//! line editor with history and Tab completion, and a table of commands
//! (`help` lists them). `noshell` on the command line leaves it out.
//!
//! The pure pieces, host-tested: [`line`] (the line editor, drawing through
//! a small `Terminal` trait), [`wrap`] (that trait on one console of a
//! known width), [`history`] (the last lines entered),
//! [`commands`] (the command table, the parser, Tab completion) and [`cpu`]
//! (the `cpu` command's CPUID decoding). The kernel's side: `run` (the loop:
//! keys in, the consoles as the editor's terminal, the scroll keys) and
//! `builtins` (what each command does).
//!
//! Limits: one line of at most 4,095 characters (Linux's terminal line
//! discipline takes as many), wrapping over as many rows as it needs on
//! each console ([`wrap`]); ASCII only; no pipes, quoting or variables.

pub mod commands;
pub mod cpu;
pub mod history;
pub mod line;
pub mod wrap;

#[cfg(target_os = "none")]
mod builtins;
#[cfg(target_os = "none")]
pub mod keytest;
#[cfg(target_os = "none")]
pub mod programs;
#[cfg(target_os = "none")]
mod run;
#[cfg(target_os = "none")]
pub use run::run;

/// The most characters a line may hold (the line editor's and the
/// history's limit): as many as Linux's terminal line discipline takes.
pub const MAX_LINE: usize = 4095;

/// What the commands may look at.
#[cfg(target_os = "none")]
pub struct Context<'a> {
    /// The boot report as printed at boot (for `bootinfo`, `mem`).
    pub report: &'a crate::report::Report<'a, 'a>,
    /// What the in-kernel tests look at.
    pub tests: &'a crate::selftest::Context<'a>,
    /// The in-kernel test suites (`selftest`).
    pub suites: &'a [&'a [crate::selftest::Test]],
    /// The serial terminal's columns (`serial.cols=`).
    pub serial_columns: usize,
}

/// The screen, alone, as [`wrap::Wrapped`] drives it.
#[cfg(target_os = "none")]
pub struct Screen;

#[cfg(target_os = "none")]
impl wrap::Console for Screen {
    fn print(&mut self, text: &str) {
        crate::console::print_screen(format_args!("{text}"));
    }
    fn edit(&mut self, edit: crate::console::edit::Edit) {
        crate::console::edit_screen(edit);
    }
}

/// The serial port, alone, as [`wrap::Wrapped`] drives it.
#[cfg(target_os = "none")]
pub struct Serial;

#[cfg(target_os = "none")]
impl wrap::Console for Serial {
    fn print(&mut self, text: &str) {
        serial_print!("{text}");
    }
    fn edit(&mut self, edit: crate::console::edit::Edit) {
        crate::console::edit_serial(edit);
    }
}

/// Both consoles: the line editor's terminal, each console at its own
/// width (the screen's columns, `serial.cols=` for serial), and a
/// `fmt::Write` that prints on both.
#[cfg(target_os = "none")]
pub struct Consoles {
    /// The screen, if there is one.
    screen: Option<wrap::Wrapped<Screen>>,
    /// The serial port (output to it is dropped when there is none).
    serial: wrap::Wrapped<Serial>,
}

#[cfg(target_os = "none")]
impl Consoles {
    /// The consoles, serial `serial_columns` wide.
    pub fn new(serial_columns: usize) -> Consoles {
        let columns = crate::console::screen_size().0;
        Consoles {
            screen: (columns > 0).then(|| wrap::Wrapped::new(Screen, columns)),
            serial: wrap::Wrapped::new(Serial, serial_columns),
        }
    }

    /// Does `draw` on each console's terminal.
    fn each(&mut self, mut draw: impl FnMut(&mut dyn line::Terminal)) {
        if let Some(screen) = &mut self.screen {
            draw(screen);
        }
        draw(&mut self.serial);
    }
}

#[cfg(target_os = "none")]
impl line::Terminal for Consoles {
    fn print(&mut self, at: usize, text: &str) {
        self.each(|t| t.print(at, text));
    }
    fn move_to(&mut self, from: usize, to: usize) {
        self.each(|t| t.move_to(from, to));
    }
    fn erase_to_end(&mut self) {
        self.each(|t| t.erase_to_end());
    }
    fn new_line(&mut self, at: usize) {
        self.each(|t| t.new_line(at));
    }
    fn clear_screen(&mut self) {
        self.each(|t| t.clear_screen());
    }
}

#[cfg(target_os = "none")]
impl core::fmt::Write for Consoles {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        print!("{text}");
        Ok(())
    }
}

//! The kernel command line: what the user typed after the kernel's path in
//! GRUB's `multiboot2` line, parsed into a typed [`Options`] struct.
//!
//! The line is read as bytes and split into words at ASCII whitespace
//! (space, tab, newline, form feed, carriage return). A word is either a
//! flag (`selftest`) or `key=value` (split at the first `=`). Nothing on the
//! line stops the boot, and nothing is ignored without a word: each of
//! these is reported once through a callback ([`Problem`]) and otherwise
//! ignored, while every other word still takes effect:
//!
//! - a word that is not valid UTF-8;
//! - an unknown word, or a known key with a bad value;
//! - an option given again later (the last one counts);
//! - an option another one makes ineffective: `qemu-exit` without
//!   `selftest`; `panic=`, `crash=`, `bench`, `noshell` or `keytest` with
//!   `selftest` (the self-test stops the kernel before them); `panic=` after a `crash=`
//!   kind that stops the kernel (all but `breakpoint`).
//!
//! Words appear in messages through [`Escaped`], byte for byte where they
//! are printable ASCII. New options get a field in [`Options`], a [`Key`]
//! and an arm in [`Options::apply`].
//!
//! Pure logic: no hardware, tested on the host.

#![forbid(unsafe_code)]

use core::fmt;

use crate::debug::Crash;
use crate::input::Keymap;
use crate::panic::DeliberatePanic;
use crate::text::Escaped;

/// Everything the kernel command line can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// `selftest`: run the in-kernel tests instead of the normal boot.
    pub selftest: bool,
    /// `qemu-exit`: after the self-test, report the result to QEMU's
    /// `isa-debug-exit` device (port 0xf4), which ends QEMU. Only for QEMU:
    /// on a real PC that port belongs to other hardware.
    pub qemu_exit: bool,
    /// `loglevel=error|warn|info|debug|trace`: the most detailed log records
    /// shown; `info` unless set.
    pub loglevel: LogLevel,
    /// `panic=test|locked`: panic on purpose after the boot, to show the
    /// panic screen (`locked`: while holding the console locks).
    pub panic: Option<DeliberatePanic>,
    /// `bench`: time the screen writer against a naive one after the boot
    /// and print cycles per line (see `make bench`).
    pub bench: bool,
    /// `crash=KIND`: make the CPU raise one fault on purpose after the boot,
    /// to show (and test) its report.
    pub crash: Option<Crash>,
    /// `noshell`: halt after `ready` instead of starting the shell.
    pub noshell: bool,
    /// `keymap=NAME`: the PS/2 keyboard's layout (US unless set).
    pub keymap: Keymap,
    /// `keytest`: after the boot, show each key as it is decoded instead of
    /// running the shell (to see what the keyboard and the serial port
    /// send; what the input tests boot).
    pub keytest: bool,
    /// `serial.cols=N`: the columns of the terminal on the serial port,
    /// where the shell's line editor wraps a long line (80 unless set).
    pub serial_columns: SerialColumns,
}

/// The serial terminal's columns (`serial.cols=`, 80 by default): nothing
/// asks the terminal, so the serial log holds only what the kernel printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SerialColumns(pub usize);

impl Default for SerialColumns {
    fn default() -> SerialColumns {
        SerialColumns(SerialColumns::DEFAULT)
    }
}

impl SerialColumns {
    /// A VT100's width, and most terminals' default.
    pub const DEFAULT: usize = 80;
    /// The fewest columns taken: a prompt and a few characters a row.
    pub const MIN: usize = 20;
    /// The most columns taken: wider than any screen shows legibly.
    pub const MAX: usize = 1000;
    /// The accepted values, for messages.
    const EXPECTED: &'static str = "N, N from 20 to 1000";

    /// Parses a decimal number of columns in `MIN..=MAX`.
    fn parse(value: &str) -> Option<SerialColumns> {
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let columns: usize = value.parse().ok()?;
        (SerialColumns::MIN..=SerialColumns::MAX)
            .contains(&columns)
            .then_some(SerialColumns(columns))
    }
}

/// The log level the command line chose (`info` by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLevel(pub log::LevelFilter);

impl Default for LogLevel {
    fn default() -> LogLevel {
        LogLevel(log::LevelFilter::Info)
    }
}

impl LogLevel {
    /// The accepted values, for messages.
    const EXPECTED: &'static str = "error|warn|info|debug|trace";

    /// Parses one of [`LogLevel::EXPECTED`].
    fn parse(value: &str) -> Option<LogLevel> {
        use log::LevelFilter::*;
        let level = match value {
            "error" => Error,
            "warn" => Warn,
            "info" => Info,
            "debug" => Debug,
            "trace" => Trace,
            _ => return None,
        };
        Some(LogLevel(level))
    }
}

/// One word of the command line: a flag (`value` is `None`) or `key=value`
/// (split at the first `=`; the value may be empty and may contain `=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word<'a> {
    /// The whole word as typed, for messages.
    pub text: &'a str,
    /// The flag, or the part before the first `=`.
    pub key: &'a str,
    /// The part after the first `=`, if there is one.
    pub value: Option<&'a str>,
}

impl<'a> Word<'a> {
    /// Splits `text` into key and value.
    pub fn new(text: &'a str) -> Word<'a> {
        match text.split_once('=') {
            Some((key, value)) => Word {
                text,
                key,
                value: Some(value),
            },
            None => Word {
                text,
                key: text,
                value: None,
            },
        }
    }
}

/// Declares [`Key`] and [`KEYS`], its number of variants, from one list,
/// so that a new option cannot leave the count behind.
macro_rules! keys {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// Each option the command line knows, as the parser tracks which
        /// word set it (for the warnings about overridden and ineffective
        /// options).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Key {
            $($(#[$doc])* $name,)*
        }

        /// How many [`Key`]s there are.
        const KEYS: usize = [$(Key::$name),*].len();
    };
}

keys! {
    /// `selftest`.
    Selftest,
    /// `qemu-exit`.
    QemuExit,
    /// `bench`.
    Bench,
    /// `loglevel=`.
    Loglevel,
    /// `panic=`.
    Panic,
    /// `crash=`.
    Crash,
    /// `noshell`.
    Noshell,
    /// `keymap=`.
    Keymap,
    /// `keytest`.
    Keytest,
    /// `serial.cols=`.
    SerialColumns,
}

/// Something on the command line that was ignored, and why. Displayed as
/// one line; every word in it is shown through [`Escaped`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem<'a> {
    /// A word that is not valid UTF-8.
    NotUtf8(&'a [u8]),
    /// A word no option matches.
    Unknown(&'a str),
    /// A known key with a value it does not accept; `expected` lists the
    /// accepted values.
    BadValue {
        key: &'a str,
        value: &'a str,
        expected: &'static str,
    },
    /// An option given again later: the later word counts.
    Overridden { earlier: &'a str, later: &'a str },
    /// An option that cannot act because of another one (`because`).
    Ineffective {
        word: &'a str,
        because: Ineffective<'a>,
    },
}

/// Why an option cannot take effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ineffective<'a> {
    /// `qemu-exit` reports the self-test's result, and there is none.
    NeedsSelftest,
    /// This word (`selftest`, or a `crash=` kind that does not return)
    /// stops the kernel before the option would act.
    StoppedBy(&'a str),
}

impl fmt::Display for Problem<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Problem::NotUtf8(word) => {
                write!(f, "ignoring kernel option `{}`: not UTF-8", Escaped(word))
            }
            Problem::Unknown(word) => {
                write!(f, "ignoring unknown kernel option `{}`", shown(word))
            }
            Problem::BadValue {
                key,
                value,
                expected,
            } => write!(
                f,
                "ignoring `{}={}`: expected {}={expected}",
                shown(key),
                shown(value),
                shown(key)
            ),
            Problem::Overridden { earlier, later } if earlier == later => write!(
                f,
                "ignoring `{}`: repeated later on the command line",
                shown(earlier)
            ),
            Problem::Overridden { earlier, later } => write!(
                f,
                "ignoring `{}`: `{}` later on the command line overrides it",
                shown(earlier),
                shown(later)
            ),
            Problem::Ineffective {
                word,
                because: Ineffective::NeedsSelftest,
            } => write!(
                f,
                "ignoring `{}`: it acts only after `selftest`, which is not on the command line",
                shown(word)
            ),
            Problem::Ineffective {
                word,
                because: Ineffective::StoppedBy(other),
            } => write!(
                f,
                "ignoring `{}`: `{}` stops the kernel before it would act",
                shown(word),
                shown(other)
            ),
        }
    }
}

/// A word of the command line as messages show it (see [`Escaped`]).
fn shown(text: &str) -> Escaped<'_> {
    Escaped(text.as_bytes())
}

/// Splits a command line into its words (runs of bytes between ASCII
/// whitespace).
pub fn words(cmdline: &[u8]) -> impl Iterator<Item = &[u8]> {
    cmdline
        .split(|byte| byte.is_ascii_whitespace())
        .filter(|word| !word.is_empty())
}

impl Options {
    /// Parses `cmdline`, calling `report` once for every word that is
    /// ignored or cannot take effect.
    pub fn parse<'a>(cmdline: &'a [u8], mut report: impl FnMut(Problem<'a>)) -> Options {
        let mut options = Options::default();
        // The word that set each option, last one first.
        let mut set_by: [Option<&'a str>; KEYS] = [None; KEYS];
        for bytes in words(cmdline) {
            let Ok(text) = core::str::from_utf8(bytes) else {
                report(Problem::NotUtf8(bytes));
                continue;
            };
            match options.apply(Word::new(text)) {
                Ok(key) => {
                    if let Some(earlier) = set_by[key as usize].replace(text) {
                        report(Problem::Overridden {
                            earlier,
                            later: text,
                        });
                    }
                }
                Err(problem) => report(problem),
            }
        }
        options.drop_ineffective(&set_by, report);
        options
    }

    /// Turns off, with a report each, the options another one makes
    /// ineffective; `set_by` holds the word that set each option.
    fn drop_ineffective<'a>(
        &mut self,
        set_by: &[Option<&'a str>; KEYS],
        mut report: impl FnMut(Problem<'a>),
    ) {
        let word = |key: Key| set_by[key as usize].unwrap_or("");
        let mut ineffective = |word: &'a str, because| {
            report(Problem::Ineffective { word, because });
        };
        if self.selftest {
            let selftest = Ineffective::StoppedBy(word(Key::Selftest));
            if self.bench {
                ineffective(word(Key::Bench), selftest);
                self.bench = false;
            }
            if self.crash.is_some() {
                ineffective(word(Key::Crash), selftest);
                self.crash = None;
            }
            if self.panic.is_some() {
                ineffective(word(Key::Panic), selftest);
                self.panic = None;
            }
            if self.noshell {
                ineffective(word(Key::Noshell), selftest);
                self.noshell = false;
            }
            if self.keytest {
                ineffective(word(Key::Keytest), selftest);
                self.keytest = false;
            }
        } else if self.qemu_exit {
            ineffective(word(Key::QemuExit), Ineffective::NeedsSelftest);
            self.qemu_exit = false;
        }
        if self.panic.is_some() && self.crash.is_some_and(|kind| kind != Crash::Breakpoint) {
            ineffective(word(Key::Panic), Ineffective::StoppedBy(word(Key::Crash)));
            self.panic = None;
        }
    }

    /// Applies one word and says which option it set; the last occurrence
    /// of an option wins.
    fn apply<'a>(&mut self, word: Word<'a>) -> Result<Key, Problem<'a>> {
        let key = match (word.key, word.value) {
            ("selftest", None) => {
                self.selftest = true;
                Key::Selftest
            }
            ("qemu-exit", None) => {
                self.qemu_exit = true;
                Key::QemuExit
            }
            ("bench", None) => {
                self.bench = true;
                Key::Bench
            }
            ("noshell", None) => {
                self.noshell = true;
                Key::Noshell
            }
            ("keytest", None) => {
                self.keytest = true;
                Key::Keytest
            }
            ("keymap", Some(value)) => {
                self.keymap = Keymap::parse(value).ok_or(Problem::BadValue {
                    key: "keymap",
                    value,
                    expected: Keymap::EXPECTED,
                })?;
                Key::Keymap
            }
            ("serial.cols", Some(value)) => {
                self.serial_columns = SerialColumns::parse(value).ok_or(Problem::BadValue {
                    key: "serial.cols",
                    value,
                    expected: SerialColumns::EXPECTED,
                })?;
                Key::SerialColumns
            }
            ("loglevel", Some(value)) => {
                self.loglevel = LogLevel::parse(value).ok_or(Problem::BadValue {
                    key: "loglevel",
                    value,
                    expected: LogLevel::EXPECTED,
                })?;
                Key::Loglevel
            }
            ("panic", Some(value)) => {
                self.panic = Some(DeliberatePanic::parse(value).ok_or(Problem::BadValue {
                    key: "panic",
                    value,
                    expected: DeliberatePanic::EXPECTED,
                })?);
                Key::Panic
            }
            ("crash", Some(value)) => {
                self.crash = Some(Crash::parse(value).ok_or(Problem::BadValue {
                    key: "crash",
                    value,
                    expected: Crash::EXPECTED,
                })?);
                Key::Crash
            }
            _ => return Err(Problem::Unknown(word.text)),
        };
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses and collects the problems as strings.
    fn parse(cmdline: impl AsRef<[u8]>) -> (Options, Vec<String>) {
        let mut problems = Vec::new();
        let options = Options::parse(cmdline.as_ref(), |p| problems.push(p.to_string()));
        (options, problems)
    }

    #[test]
    fn empty_command_line_gives_defaults() {
        assert_eq!(parse(""), (Options::default(), vec![]));
        assert_eq!(parse("  \t \n "), (Options::default(), vec![]));
    }

    #[test]
    fn flags_are_recognised() {
        let (options, problems) = parse("selftest qemu-exit");
        assert!(options.selftest && options.qemu_exit);
        assert!(problems.is_empty());
    }

    #[test]
    fn words_split_on_any_ascii_whitespace() {
        let (options, problems) = parse("\tselftest\n\r  qemu-exit ");
        assert!(options.selftest && options.qemu_exit);
        assert!(problems.is_empty());
    }

    #[test]
    fn unknown_words_are_reported_once_each_and_ignored() {
        let (options, problems) = parse("foo selftest bar=1 =x selftest=yes");
        assert!(options.selftest);
        assert_eq!(
            problems,
            [
                "ignoring unknown kernel option `foo`",
                "ignoring unknown kernel option `bar=1`",
                "ignoring unknown kernel option `=x`",
                "ignoring unknown kernel option `selftest=yes`",
            ]
        );
    }

    #[test]
    fn key_value_splits_at_the_first_equals_sign() {
        let all: Vec<Word> = words(b"a=b=c d= e")
            .map(|word| Word::new(core::str::from_utf8(word).unwrap()))
            .collect();
        assert_eq!(
            all[0],
            Word {
                text: "a=b=c",
                key: "a",
                value: Some("b=c")
            }
        );
        assert_eq!(
            all[1],
            Word {
                text: "d=",
                key: "d",
                value: Some("")
            }
        );
        assert_eq!(
            all[2],
            Word {
                text: "e",
                key: "e",
                value: None
            }
        );
    }

    #[test]
    fn non_ascii_input_never_panics() {
        let (options, problems) = parse("sélftest ünïcode=✓ selftest");
        assert!(options.selftest);
        assert_eq!(problems.len(), 2);
    }

    #[test]
    fn loglevel_defaults_to_info_and_takes_each_level() {
        assert_eq!(parse("").0.loglevel, LogLevel(log::LevelFilter::Info));
        for (word, level) in [
            ("error", log::LevelFilter::Error),
            ("warn", log::LevelFilter::Warn),
            ("info", log::LevelFilter::Info),
            ("debug", log::LevelFilter::Debug),
            ("trace", log::LevelFilter::Trace),
        ] {
            let (options, problems) = parse(format!("loglevel={word}"));
            assert_eq!(
                (options.loglevel, problems.len()),
                (LogLevel(level), 0),
                "{word}"
            );
        }
    }

    #[test]
    fn bad_loglevel_is_reported_and_keeps_the_previous_level() {
        let (options, problems) = parse("loglevel=debug loglevel=loud loglevel");
        assert_eq!(options.loglevel, LogLevel(log::LevelFilter::Debug));
        assert_eq!(
            problems,
            [
                "ignoring `loglevel=loud`: expected loglevel=error|warn|info|debug|trace",
                "ignoring unknown kernel option `loglevel`",
            ]
        );
    }

    #[test]
    fn noshell_is_a_flag() {
        let (options, problems) = parse("noshell");
        assert!(options.noshell && problems.is_empty());
        assert!(!parse("").0.noshell);
        let (_, problems) = parse("noshell=1");
        assert_eq!(problems, ["ignoring unknown kernel option `noshell=1`"]);
        let (options, problems) = parse("noshell keytest selftest");
        assert!(!options.noshell && !options.keytest && options.selftest);
        assert_eq!(
            problems,
            [
                "ignoring `noshell`: `selftest` stops the kernel before it would act",
                "ignoring `keytest`: `selftest` stops the kernel before it would act",
            ]
        );
    }

    #[test]
    fn panic_and_bench_options() {
        let (options, problems) = parse("panic=test bench");
        assert_eq!(
            (options.panic, options.bench),
            (Some(DeliberatePanic::Test), true)
        );
        assert!(problems.is_empty());
        assert_eq!(parse("panic=locked").0.panic, Some(DeliberatePanic::Locked));
        let (options, problems) = parse("panic=now panic");
        assert_eq!(options.panic, None);
        assert_eq!(
            problems,
            [
                "ignoring `panic=now`: expected panic=test|locked",
                "ignoring unknown kernel option `panic`"
            ]
        );
    }

    #[test]
    fn crash_takes_every_kind_by_name() {
        for &(name, kind) in Crash::CHOICES.0 {
            let (options, problems) = parse(format!("crash={name}"));
            assert_eq!((options.crash, problems.len()), (Some(kind), 0), "{name}");
            assert_eq!(kind.name(), name);
        }
        assert_eq!(parse("").0.crash, None);
        // The last one wins, as for every option.
        assert_eq!(parse("crash=gp crash=divide").0.crash, Some(Crash::Divide));
    }

    #[test]
    fn crash_message_lists_every_kind() {
        let names = Crash::CHOICES.to_string();
        assert_eq!(Crash::EXPECTED, names);
        let (options, problems) = parse("crash=gp crash=oops crash");
        assert_eq!(options.crash, Some(Crash::Gp));
        assert_eq!(
            problems,
            [
                format!("ignoring `crash=oops`: expected crash={names}"),
                "ignoring unknown kernel option `crash`".to_string(),
            ]
        );
    }

    #[test]
    fn a_word_that_is_not_utf8_is_reported_and_the_others_take_effect() {
        let (options, problems) = parse(b"loglevel=debug selftest \xff\xfe x\xc3 bench");
        assert_eq!(options.loglevel, LogLevel(log::LevelFilter::Debug));
        assert!(options.selftest);
        assert_eq!(
            problems,
            [
                "ignoring kernel option `\\xff\\xfe`: not UTF-8",
                "ignoring kernel option `x\\xc3`: not UTF-8",
                "ignoring `bench`: `selftest` stops the kernel before it would act",
            ]
        );
    }

    #[test]
    fn hostile_bytes_in_words_are_escaped_in_messages() {
        let (options, problems) =
            parse(b"x\x08 \x08\x7f\x1b[2J sel\\ftest loglevel=\x1b[0m \xc3\xa9");
        assert_eq!(options, Options::default());
        assert_eq!(
            problems,
            [
                "ignoring unknown kernel option `x\\x08`",
                "ignoring unknown kernel option `\\x08\\x7f\\x1b[2J`",
                "ignoring unknown kernel option `sel\\\\ftest`",
                "ignoring `loglevel=\\x1b[0m`: expected loglevel=error|warn|info|debug|trace",
                "ignoring unknown kernel option `\\xc3\\xa9`",
            ]
        );
        // Newlines separate words: a forged line is only more words.
        let (_, problems) = parse(b"x\nready\nboot error: fake");
        assert_eq!(problems.len(), 5);
        for problem in problems {
            assert!(!problem.contains('\n') && problem.starts_with("ignoring "));
        }
    }

    #[test]
    fn an_option_given_again_is_reported_and_the_last_counts() {
        let (options, problems) = parse("loglevel=debug selftest loglevel=trace selftest");
        assert_eq!(options.loglevel, LogLevel(log::LevelFilter::Trace));
        assert!(options.selftest);
        assert_eq!(
            problems,
            [
                "ignoring `loglevel=debug`: `loglevel=trace` later on the command line overrides it",
                "ignoring `selftest`: repeated later on the command line",
            ]
        );
        // A bad value overrides nothing.
        let (options, problems) = parse("crash=gp crash=oops");
        assert_eq!(options.crash, Some(Crash::Gp));
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn options_the_self_test_would_never_reach_are_reported_and_dropped() {
        let (options, problems) = parse("panic=test selftest crash=gp bench qemu-exit");
        assert_eq!(
            options,
            Options {
                selftest: true,
                qemu_exit: true,
                ..Options::default()
            }
        );
        assert_eq!(
            problems,
            [
                "ignoring `bench`: `selftest` stops the kernel before it would act",
                "ignoring `crash=gp`: `selftest` stops the kernel before it would act",
                "ignoring `panic=test`: `selftest` stops the kernel before it would act",
            ]
        );
    }

    #[test]
    fn qemu_exit_without_selftest_is_reported_and_dropped() {
        let (options, problems) = parse("qemu-exit loglevel=warn");
        assert!(!options.qemu_exit);
        assert_eq!(options.loglevel, LogLevel(log::LevelFilter::Warn));
        assert_eq!(
            problems,
            [
                "ignoring `qemu-exit`: it acts only after `selftest`, which is not on the command line"
            ]
        );
    }

    #[test]
    fn panic_after_a_crash_that_stops_the_kernel_is_reported() {
        let (options, problems) = parse("panic=locked crash=divide");
        assert_eq!((options.panic, options.crash), (None, Some(Crash::Divide)));
        assert_eq!(
            problems,
            ["ignoring `panic=locked`: `crash=divide` stops the kernel before it would act"]
        );
        // The breakpoint carries on, so the panic follows it.
        let (options, problems) = parse("panic=test crash=breakpoint");
        assert_eq!(
            (options.panic, options.crash),
            (Some(DeliberatePanic::Test), Some(Crash::Breakpoint))
        );
        assert!(problems.is_empty());
    }

    #[test]
    fn a_long_command_line_is_parsed_whole() {
        let mut line = vec![b'a'; 20_000];
        line.extend_from_slice(b" loglevel=debug");
        let (options, problems) = parse(&line);
        assert_eq!(options.loglevel, LogLevel(log::LevelFilter::Debug));
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn bad_value_message_names_the_accepted_values() {
        let p = Problem::BadValue {
            key: "loglevel",
            value: "loud",
            expected: "error|warn|info",
        };
        assert_eq!(
            p.to_string(),
            "ignoring `loglevel=loud`: expected loglevel=error|warn|info"
        );
    }

    #[test]
    fn keymap_takes_every_layout_and_keytest_is_a_flag() {
        assert_eq!(parse("").0.keymap, Keymap::Us);
        for &(name, map) in Keymap::CHOICES.0 {
            let (options, problems) = parse(format!("keymap={name}"));
            assert_eq!((options.keymap, problems.len()), (map, 0), "{name}");
            assert_eq!(map.name(), name);
        }
        assert_eq!(Keymap::EXPECTED, Keymap::CHOICES.to_string());
        let (options, problems) = parse("keymap=de keymap=klingon keytest");
        assert_eq!((options.keymap, options.keytest), (Keymap::De, true));
        assert_eq!(
            problems,
            [format!(
                "ignoring `keymap=klingon`: expected keymap={}",
                Keymap::EXPECTED
            )]
        );
    }

    #[test]
    fn serial_cols_takes_20_to_1000_columns_and_warns_otherwise() {
        assert_eq!(parse("").0.serial_columns, SerialColumns(80));
        for columns in [20, 80, 132, 1000] {
            let (options, problems) = parse(format!("serial.cols={columns}"));
            assert_eq!(options.serial_columns, SerialColumns(columns));
            assert!(problems.is_empty(), "{columns}: {problems:?}");
        }
        for value in [
            "19",
            "1001",
            "0",
            "",
            "80x",
            "-80",
            "+80",
            "99999999999999999999999",
        ] {
            let (options, problems) = parse(format!("serial.cols=132 serial.cols={value}"));
            assert_eq!(options.serial_columns, SerialColumns(132), "{value:?}");
            assert_eq!(
                problems,
                [format!(
                    "ignoring `serial.cols={value}`: expected serial.cols=N, N from 20 to 1000"
                )],
                "{value:?}"
            );
        }
        let (options, problems) = parse("serial.cols=100 serial.cols=120");
        assert_eq!(options.serial_columns, SerialColumns(120));
        assert_eq!(
            problems,
            [
                "ignoring `serial.cols=100`: `serial.cols=120` later on the command line overrides it"
            ]
        );
        assert_eq!(
            parse("serial.cols").1,
            ["ignoring unknown kernel option `serial.cols`"]
        );
    }
}

/// In-kernel tests: the parser on the machine, with the real command line.
#[cfg(target_os = "none")]
pub(crate) mod ktests {
    use super::*;
    use crate::check_eq;
    use crate::selftest::{Context, Outcome};

    /// The options the kernel runs with are GRUB's line parsed: the
    /// self-test entry runs because `selftest` is on it (the shell's
    /// `selftest` command runs the same tests from a boot without it).
    fn boot_command_line_gives_the_options(context: &Context) -> Outcome {
        let mut problems = 0;
        let options = Options::parse(context.boot.cmdline(), |_| problems += 1);
        check_eq!(options, *context.options);
        check_eq!(
            words(context.boot.cmdline()).any(|word| word == b"selftest"),
            options.selftest
        );
        Ok(())
    }

    pub(crate) const TESTS: &[crate::selftest::Test] =
        crate::kernel_tests![boot_command_line_gives_the_options];
}

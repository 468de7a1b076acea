//! The shell's commands: their names and one-line descriptions (what
//! `help` prints), the parser that turns an entered line into a command and
//! its arguments, and Tab completion of command names.
//!
//! What each command does is the kernel's business (`shell::builtins`);
//! this file only knows the table, so it is tested on the host.
//!
//! Pure logic: no hardware, tested on the host.

#![forbid(unsafe_code)]

/// Every command the shell knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `help`: every command with its description.
    Help,
    /// `clear`: clear the screen.
    Clear,
    /// `echo WORDS`: print the words.
    Echo,
    /// `uptime`: time since boot.
    Uptime,
    /// `cpu`: the processor and its features.
    Cpu,
    /// `mem`: RAM, free frames, heap use.
    Mem,
    /// `bootinfo`: the boot report again.
    Bootinfo,
    /// `interrupts`: controller, ticks, counts per IRQ, dropped input.
    Interrupts,
    /// `selftest`: the in-kernel tests, back to the shell afterwards.
    Selftest,
    /// `panic`: the panic screen.
    Panic,
    /// `crash KIND`: raise one CPU fault on purpose.
    Crash,
    /// `reboot`: restart the machine.
    Reboot,
    /// `poweroff`: switch it off.
    Poweroff,
    /// `ps`: every thread.
    Ps,
    /// `spin SECONDS`: a thread that burns the CPU.
    Spin,
    /// `sleep SECONDS`: the shell sleeps.
    Sleep,
    /// `kill ID`: stop a spin thread.
    Kill,
    /// `overflow`: a thread that overflows its stack.
    Overflow,
    /// `time PROGRAM [ARGS]`: run a program, then say how long it took.
    Time,
}

/// One row of the command table.
pub struct Entry {
    /// What the user types.
    pub name: &'static str,
    /// The arguments it takes, for `help` (empty: none).
    pub arguments: &'static str,
    /// One line saying what it does.
    pub description: &'static str,
    /// The command.
    pub command: Command,
}

/// The table, in the order `help` lists it.
pub const TABLE: &[Entry] = &[
    entry("help", "", "list the commands", Command::Help),
    entry("clear", "", "clear the screen (Ctrl-L too)", Command::Clear),
    entry("echo", "WORDS", "print WORDS", Command::Echo),
    entry(
        "uptime",
        "",
        "time since the kernel started",
        Command::Uptime,
    ),
    entry(
        "cpu",
        "",
        "the processor: vendor, model, features",
        Command::Cpu,
    ),
    entry("mem", "", "usable RAM, free frames, heap use", Command::Mem),
    entry("bootinfo", "", "the boot report again", Command::Bootinfo),
    entry(
        "interrupts",
        "",
        "controller, ticks, counts per IRQ, dropped input, serial output",
        Command::Interrupts,
    ),
    entry(
        "selftest",
        "",
        "run the in-kernel tests, then come back",
        Command::Selftest,
    ),
    entry(
        "panic",
        "",
        "panic on purpose (the panic screen)",
        Command::Panic,
    ),
    entry(
        "crash",
        "KIND",
        "raise a CPU fault on purpose (crash alone lists the kinds)",
        Command::Crash,
    ),
    entry(
        "ps",
        "",
        "every thread (id, name, state, CPU time, stack used), then every program",
        Command::Ps,
    ),
    entry(
        "spin",
        "SECONDS",
        "a thread that burns the CPU that long, in the background",
        Command::Spin,
    ),
    entry(
        "sleep",
        "SECONDS",
        "the shell sleeps that long while other threads go on",
        Command::Sleep,
    ),
    entry(
        "kill",
        "ID",
        "stop a spin thread or a program",
        Command::Kill,
    ),
    entry(
        "overflow",
        "",
        "a thread that overflows its stack (the report names it)",
        Command::Overflow,
    ),
    entry(
        "time",
        "PROGRAM [ARGS]",
        "run a program, then print how long from start to exit",
        Command::Time,
    ),
    entry("reboot", "", "restart the machine", Command::Reboot),
    entry("poweroff", "", "switch the machine off", Command::Poweroff),
];

/// A table row (a `const fn`, so the table stays a constant).
const fn entry(
    name: &'static str,
    arguments: &'static str,
    description: &'static str,
    command: Command,
) -> Entry {
    Entry {
        name,
        arguments,
        description,
        command,
    }
}

/// What an entered line asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// Nothing (an empty or blank line).
    Empty,
    /// A known command and the rest of the line after its name, trimmed
    /// (split it with [`words`]).
    Run(Command, &'a str),
    /// A first word no command has.
    Unknown(&'a str),
}

/// Parses an entered line: its first word (words are separated by spaces
/// and tabs) names the command.
pub fn parse(line: &str) -> Parsed<'_> {
    let line = line.trim_matches(is_blank);
    if line.is_empty() {
        return Parsed::Empty;
    }
    let (name, rest) = line.split_once(is_blank).unwrap_or((line, ""));
    match TABLE.iter().find(|entry| entry.name == name) {
        Some(entry) => Parsed::Run(entry.command, rest.trim_matches(is_blank)),
        None => Parsed::Unknown(name),
    }
}

/// The words of a command's arguments.
pub fn words(arguments: &str) -> impl Iterator<Item = &str> {
    arguments.split(is_blank).filter(|word| !word.is_empty())
}

/// Whether `c` separates words.
fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Every command's name, in table order: what Tab completes.
pub const NAMES: [&str; TABLE.len()] = {
    let mut names = [""; TABLE.len()];
    let mut i = 0;
    while i < TABLE.len() {
        names[i] = TABLE[i].name;
        i += 1;
    }
    names
};

/// What Tab can do with a name being typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// No name starts with it: nothing to do.
    None,
    /// Add `text`: the rest of the one matching name (then `space` is set:
    /// a space follows), or what all matching names share beyond what is
    /// typed.
    Insert {
        /// The characters to add.
        text: &'static str,
        /// Whether the name is complete, so a space follows.
        space: bool,
    },
    /// Several names match and share nothing more: show them.
    Choices(Choices),
}

/// The names that start with what was typed, in their list's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choices {
    /// The list the names come from.
    names: &'static [&'static str],
    /// Bit `i` set: `names[i]` matches.
    matches: u64,
}

impl Choices {
    /// The matching names.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.names
            .iter()
            .enumerate()
            .filter(|(i, _)| self.matches & 1 << i != 0)
            .map(|(_, name)| *name)
    }
}

/// Completes `typed` (the line up to the cursor) as one of `names` (at most
/// 64): only the first word can be completed, so a line holding a blank
/// gets [`Completion::None`].
pub fn complete(names: &'static [&'static str], typed: &str) -> Completion {
    assert!(names.len() <= 64, "at most 64 names to complete");
    if typed.contains(is_blank) {
        return Completion::None;
    }
    let matches = names
        .iter()
        .enumerate()
        .filter(|(_, name)| name.starts_with(typed))
        .fold(0u64, |mask, (i, _)| mask | 1 << i);
    let choices = Choices { names, matches };
    let mut matching = choices.names();
    let Some(first) = matching.next() else {
        return Completion::None;
    };
    let rest = &first[typed.len()..];
    if matches.count_ones() == 1 {
        return Completion::Insert {
            text: rest,
            space: true,
        };
    }
    let shared = matching.fold(rest.len(), |shared, name| {
        rest.bytes()
            .zip(name[typed.len()..].bytes())
            .take(shared)
            .take_while(|(a, b)| a == b)
            .count()
    });
    if shared > 0 {
        Completion::Insert {
            text: &rest[..shared],
            space: false,
        }
    } else {
        Completion::Choices(choices)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_word_names_the_command_and_the_rest_is_its_arguments() {
        assert_eq!(parse(""), Parsed::Empty);
        assert_eq!(parse(" \t "), Parsed::Empty);
        assert_eq!(parse("help"), Parsed::Run(Command::Help, ""));
        assert_eq!(parse("  uptime  "), Parsed::Run(Command::Uptime, ""));
        assert_eq!(
            parse("echo  hello   world "),
            Parsed::Run(Command::Echo, "hello   world")
        );
        assert_eq!(parse("crash\tgp"), Parsed::Run(Command::Crash, "gp"));
        assert_eq!(parse("frobnicate now"), Parsed::Unknown("frobnicate"));
        assert_eq!(
            parse("HELP"),
            Parsed::Unknown("HELP"),
            "names are lowercase"
        );
        assert_eq!(parse("helpme"), Parsed::Unknown("helpme"));
    }

    #[test]
    fn words_split_at_runs_of_blanks() {
        let split: Vec<&str> = words("hello   world\tagain").collect();
        assert_eq!(split, ["hello", "world", "again"]);
        assert_eq!(words("").count(), 0);
    }

    #[test]
    fn every_command_is_in_the_table_once_and_parses_back() {
        for entry in TABLE {
            assert_eq!(parse(entry.name), Parsed::Run(entry.command, ""));
            assert_eq!(
                TABLE.iter().filter(|e| e.command == entry.command).count(),
                1
            );
            assert!(!entry.description.is_empty());
        }
    }

    /// Completion over the real table.
    fn names(typed: &str) -> Completion {
        complete(&NAMES, typed)
    }

    fn insert(text: &'static str, space: bool) -> Completion {
        Completion::Insert { text, space }
    }

    fn choices(completion: Completion) -> Vec<&'static str> {
        match completion {
            Completion::Choices(choices) => choices.names().collect(),
            other => panic!("expected choices, got {other:?}"),
        }
    }

    #[test]
    fn tab_completes_one_match_with_a_space() {
        assert_eq!(names("upt"), insert("ime", true));
        assert_eq!(names("se"), insert("lftest", true));
        assert_eq!(names("o"), insert("verflow", true));
        assert_eq!(names("cr"), insert("ash", true));
        assert_eq!(names("interrupts"), insert("", true));
    }

    #[test]
    fn tab_lists_several_matches_that_share_nothing_more() {
        assert_eq!(choices(names("p")), ["panic", "ps", "poweroff"]);
        assert_eq!(choices(names("s")), ["selftest", "spin", "sleep"]);
        assert_eq!(choices(names("c")), ["clear", "cpu", "crash"]);
        assert_eq!(choices(names("")).len(), TABLE.len());
    }

    #[test]
    fn tab_adds_what_several_matches_share() {
        static LIST: [&str; 4] = ["interrupts", "interval", "input", "echo"];
        assert_eq!(complete(&LIST, "i"), insert("n", false));
        assert_eq!(complete(&LIST, "int"), insert("er", false));
        assert_eq!(
            choices(complete(&LIST, "inter")),
            ["interrupts", "interval"]
        );
        assert_eq!(complete(&LIST, "interv"), insert("al", true));
    }

    #[test]
    fn tab_does_nothing_for_no_match_or_after_the_first_word() {
        assert_eq!(names("x"), Completion::None);
        assert_eq!(names("echo he"), Completion::None);
        assert_eq!(names("help "), Completion::None);
    }
}

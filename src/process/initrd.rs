//! The initrd: the ustar archive GRUB loads as a boot module, read once at
//! boot into a read-only tree of directories and files whose bytes stay in
//! the module's memory (nothing is copied).
//!
//! The `tar-no-std` crate checks the archive's structure up front (every
//! header's checksum and type, every size, the two zero blocks at the end)
//! and walks its headers; the tree is ours:
//!
//! - a name is its ustar `prefix`, a `/`, then its `name` field, when the
//!   header is POSIX ustar (magic `ustar\0`, version `00`); just `name`
//!   otherwise (GNU tar's own format puts other fields where the prefix
//!   is). So names of up to 256 bytes work. GNU long-name entries (type
//!   `L`, what `tar` writes for longer names in its default format) are
//!   refused by the crate as an unknown type: build the archive with
//!   `tar --format=ustar` (which refuses names it cannot store) or
//!   `--format=pax`: the `path` and `linkpath` records of a PAX extended
//!   header (type `x`) replace the next entry's name and link name (the
//!   crate's own iterator ignores them, and yields a truncated name);
//!   other PAX records, and global ones (type `g`), are passed over;
//! - names are normalised: a leading `/` or `./`, empty components (`//`)
//!   and `.` go, `..` removes the component before it (at the top, it stays
//!   at the top); a name not valid UTF-8 is skipped;
//! - every directory a file's name passes through exists, whether or not
//!   the archive has an entry for it; a directory entry (type `5`, or an
//!   old-style regular entry whose name ends in `/`) makes an empty one;
//! - regular files (types `0`, `\0` and `7`) are files; a hard link (type
//!   `1`) to a file earlier in the archive is another file with the same
//!   bytes (and its own inode number); symbolic links, devices and FIFOs,
//!   and hard links to nothing, are skipped and counted
//!   ([`Initrd::skipped`]);
//! - the same path twice: the later entry wins, as when `tar -x` extracts
//!   an archive appended to with `tar -r`;
//! - a path that is both a file and a directory (a file `a` and a file
//!   `a/b`, in either order): the directory wins, and the file is skipped
//!   and counted. `tar -x` would fail on one of the two; keeping what the
//!   other files need is the more useful answer.
//!
//! Inode numbers are small: the root is 1, the others follow in path order
//! (a parent before its children). Paths looked up walk the tree the way
//! Linux walks a path: `..` is the parent, every component but the last
//! must be a directory, and a trailing `/` or `/.` only follows a
//! directory.
//!
//! Pure logic over the archive's bytes, tested on the host with hand-made
//! archives. No input makes it panic.

#![forbid(unsafe_code)]

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use tar_no_std::{CorruptDataError, PosixHeader, TarArchiveRef, TypeFlag};

/// The size of an archive block (a header, or a piece of a file's data).
const BLOCK: usize = 512;

/// Where the type flag is in a header.
const TYPE_FLAG_OFFSET: usize = 156;

/// The permission bits a file gets when its header's mode cannot be read.
const DEFAULT_MODE: u16 = 0o644;

/// A node's number, unique in its tree; the root's is 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Inode(pub u32);

impl Inode {
    /// The root directory.
    pub const ROOT: Inode = Inode(1);
}

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
}

/// A file or a directory of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node<'a> {
    /// A regular file.
    File {
        /// Its bytes, in the archive.
        data: &'a [u8],
        /// Its permission bits (`0o7777` at most), from its header.
        mode: u16,
    },
    /// A directory.
    Dir {
        /// Its entries, by name (in byte order), each a child's inode;
        /// without `.` and `..`.
        entries: BTreeMap<String, Inode>,
        /// The directory it is in (the root's is the root).
        parent: Inode,
    },
}

impl Node<'_> {
    /// What it is.
    pub fn kind(&self) -> Kind {
        match self {
            Node::File { .. } => Kind::File,
            Node::Dir { .. } => Kind::Dir,
        }
    }
}

/// One entry of a directory, as [`Initrd::entries`] lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirEntry<'t> {
    /// Its name in the directory.
    pub name: &'t str,
    /// Its node.
    pub ino: Inode,
    /// What it is.
    pub kind: Kind,
}

/// A path looked up: its node, and the normalised absolute path that leads
/// there (`/` for the root; no `.`, `..`, `//` or trailing `/`), what
/// `chdir` keeps and `getcwd` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The node.
    pub ino: Inode,
    /// Its absolute path.
    pub path: String,
}

/// Why an archive cannot be read. Block numbers count 512-byte blocks from
/// the start of the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitrdError {
    /// No bytes at all.
    Empty,
    /// The length is not a whole number of blocks.
    PartialBlock {
        /// The archive's length in bytes.
        len: usize,
    },
    /// Too short to hold even the end-of-archive marker.
    TooShort {
        /// The archive's length in bytes.
        len: usize,
    },
    /// A header's checksum is wrong (or the bytes are not a tar archive).
    BadChecksum {
        /// The header's block.
        block: usize,
    },
    /// A header's entry type is not one tar-no-std knows.
    UnsupportedType {
        /// The header's block.
        block: usize,
        /// The type flag.
        flag: u8,
    },
    /// A header's size field is not an octal number.
    BadSize {
        /// The header's block.
        block: usize,
    },
    /// An entry's data runs past the end of the archive.
    EntryBeyondEnd {
        /// The header's block.
        block: usize,
    },
    /// No end-of-archive marker (two zero blocks) before the end.
    MissingEnd,
    /// More nodes than inode numbers.
    TooManyNodes,
}

impl fmt::Display for InitrdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            InitrdError::Empty => f.write_str("the archive is empty (0 bytes)"),
            InitrdError::PartialBlock { len } => write!(
                f,
                "truncated: {len} bytes is not a whole number of {BLOCK}-byte blocks"
            ),
            InitrdError::TooShort { len } => {
                write!(f, "truncated: {len} bytes is too short for a tar archive")
            }
            InitrdError::BadChecksum { block: 0 } => {
                f.write_str("bad header checksum in block 0 (not a tar archive?)")
            }
            InitrdError::BadChecksum { block } => {
                write!(f, "bad header checksum in block {block}")
            }
            InitrdError::UnsupportedType { block, flag } => {
                write!(f, "unsupported entry type ")?;
                if flag.is_ascii_graphic() {
                    write!(f, "'{}'", flag as char)?;
                } else {
                    write!(f, "{flag:#04x}")?;
                }
                write!(f, " in block {block}")?;
                if matches!(flag, b'L' | b'K') {
                    f.write_str(" (a GNU long name: pack with tar --format=ustar)")?;
                }
                Ok(())
            }
            InitrdError::BadSize { block } => write!(f, "bad size field in block {block}"),
            InitrdError::EntryBeyondEnd { block } => write!(
                f,
                "truncated: the entry in block {block} runs past the end of the archive"
            ),
            InitrdError::MissingEnd => {
                f.write_str("truncated: no end-of-archive marker (two zero blocks)")
            }
            InitrdError::TooManyNodes => f.write_str("too many files and directories"),
        }
    }
}

/// The initrd's file tree. `'a` is the archive's memory, which in the
/// kernel lives for good (`'static`).
#[derive(Debug, Clone)]
pub struct Initrd<'a> {
    /// The nodes; inode `n` is `nodes[n - 1]`.
    nodes: Vec<Node<'a>>,
    /// How many files.
    files: usize,
    /// Their bytes, together.
    total_bytes: u64,
    /// Entries left out: links, devices, FIFOs, unreadable names, files
    /// where a directory is.
    skipped: usize,
}

/// What a path in the archive is, before the tree is built.
#[derive(Debug, Clone, Copy)]
enum Item<'a> {
    /// A file: its bytes and permission bits.
    File(&'a [u8], u16),
    /// A directory.
    Dir,
}

impl<'a> Initrd<'a> {
    /// A tree with only the root directory: no initrd.
    pub fn empty() -> Initrd<'a> {
        Initrd {
            nodes: alloc::vec![Node::Dir {
                entries: BTreeMap::new(),
                parent: Inode::ROOT,
            }],
            files: 0,
            total_bytes: 0,
            skipped: 0,
        }
    }

    /// Reads the ustar archive `bytes` into a tree, or says why it cannot.
    /// An archive of nothing but its end marker (1024 zero bytes, or more)
    /// is an empty tree.
    pub fn parse(bytes: &'a [u8]) -> Result<Initrd<'a>, InitrdError> {
        // tar-no-std wants three blocks at least; two zero blocks are a
        // whole archive all the same.
        if bytes.len() == 2 * BLOCK && bytes.iter().all(|&byte| byte == 0) {
            return Ok(Initrd::empty());
        }
        let archive = TarArchiveRef::new(bytes).map_err(|error| corrupt(error, bytes))?;

        let mut items: BTreeMap<String, Item<'a>> = BTreeMap::new();
        let mut skipped = 0;
        // The `path` and `linkpath` of the PAX header before an entry.
        let mut pax = Pax::default();
        for (block, header) in archive.headers() {
            let flag = header.typeflag.try_to_type_flag();
            match flag {
                Ok(TypeFlag::XHDTYPE) => {
                    pax = Pax::read(entry_data(bytes, block, header)?);
                    continue;
                }
                // Global PAX records: nothing the tree uses.
                Ok(TypeFlag::XGLTYPE) => continue,
                _ => {}
            }
            let pax = core::mem::take(&mut pax);
            let Some(name) = pax.path.map(String::from).or_else(|| entry_name(header)) else {
                skipped += 1;
                continue;
            };
            let is_dir_name = name.ends_with('/');
            let path = normalise(&name);
            match flag {
                Ok(TypeFlag::REGTYPE | TypeFlag::AREGTYPE) if is_dir_name => {
                    add_dir(&mut items, path, &mut skipped);
                }
                Ok(TypeFlag::REGTYPE | TypeFlag::AREGTYPE | TypeFlag::CONTTYPE) => {
                    let data = entry_data(bytes, block, header)?;
                    let mode = header
                        .mode
                        .to_flags()
                        .map_or(DEFAULT_MODE, |flags| (flags.bits() & 0o7777) as u16);
                    add_file(&mut items, path, Item::File(data, mode), &mut skipped);
                }
                Ok(TypeFlag::DIRTYPE) => add_dir(&mut items, path, &mut skipped),
                Ok(TypeFlag::LINK) => {
                    let target = pax
                        .linkpath
                        .or_else(|| header.linkname.as_str().ok())
                        .map(normalise);
                    match target.and_then(|target| items.get(&target).copied()) {
                        Some(file @ Item::File(..)) => {
                            add_file(&mut items, path, file, &mut skipped);
                        }
                        _ => skipped += 1,
                    }
                }
                _ => skipped += 1,
            }
        }
        add_parents(&mut items, &mut skipped);
        build(items, skipped)
    }

    /// The root directory's inode.
    pub fn root(&self) -> Inode {
        Inode::ROOT
    }

    /// The node numbered `ino`, if there is one.
    pub fn node(&self, ino: Inode) -> Option<&Node<'a>> {
        let index = usize::try_from(ino.0).ok()?.checked_sub(1)?;
        self.nodes.get(index)
    }

    /// What the node numbered `ino` is, if there is one.
    pub fn kind(&self, ino: Inode) -> Option<Kind> {
        self.node(ino).map(Node::kind)
    }

    /// The bytes of the file numbered `ino`; `None` for a directory or a
    /// number with no node.
    pub fn file(&self, ino: Inode) -> Option<&'a [u8]> {
        match self.node(ino)? {
            Node::File { data, .. } => Some(data),
            Node::Dir { .. } => None,
        }
    }

    /// The node at the absolute `path` (see the module's rules), or `None`
    /// when there is none, or `path` is empty or relative.
    pub fn lookup(&self, path: &str) -> Option<Inode> {
        if !path.starts_with('/') {
            return None;
        }
        let mut trail = Vec::new();
        self.walk(&mut trail, path)?;
        Some(trail.last().map_or(Inode::ROOT, |&(ino, _)| ino))
    }

    /// The node at `path`, absolute or relative to the directory `cwd` (an
    /// absolute path, itself walked the same way), with its normalised
    /// absolute path; `None` when there is none, `path` is empty, or `cwd`
    /// is not an absolute path to a directory.
    pub fn resolve(&self, cwd: &str, path: &str) -> Option<Resolved> {
        if path.is_empty() {
            return None;
        }
        let mut trail = Vec::new();
        if !path.starts_with('/') {
            if !cwd.starts_with('/') {
                return None;
            }
            // The trailing `/` makes the walk check that `cwd` is a
            // directory, even when `path` is only `..`.
            self.walk(&mut trail, cwd)?;
            self.walk(&mut trail, "/")?;
        }
        self.walk(&mut trail, path)?;
        let ino = trail.last().map_or(Inode::ROOT, |&(ino, _)| ino);
        let mut absolute = String::new();
        for (_, name) in &trail {
            absolute.push('/');
            absolute.push_str(name);
        }
        if absolute.is_empty() {
            absolute.push('/');
        }
        Some(Resolved {
            ino,
            path: absolute,
        })
    }

    /// The entries of the directory numbered `dir`, by name in byte order
    /// (without `.` and `..`); `None` when it is a file or no node.
    pub fn entries(&self, dir: Inode) -> Option<impl Iterator<Item = DirEntry<'_>> + '_> {
        let Node::Dir { entries, .. } = self.node(dir)? else {
            return None;
        };
        Some(entries.iter().map(|(name, &ino)| DirEntry {
            name,
            ino,
            kind: self.kind(ino).unwrap_or(Kind::File),
        }))
    }

    /// The directory the directory `dir` is in (the root's is the root).
    pub fn parent(&self, dir: Inode) -> Option<Inode> {
        match self.node(dir)? {
            Node::Dir { parent, .. } => Some(*parent),
            Node::File { .. } => None,
        }
    }

    /// How many files there are.
    pub fn files(&self) -> usize {
        self.files
    }

    /// How many directories there are, the root included.
    pub fn dirs(&self) -> usize {
        self.nodes.len() - self.files
    }

    /// The files' sizes, together.
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// How many archive entries were left out (see the module's rules).
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Walks `path` from where `trail` (the inodes and names from the root
    /// down) ends, extending it; `None` at a missing name, or a component
    /// after a file (a trailing `/` is an empty component, so it is one).
    fn walk<'p>(&self, trail: &mut Vec<(Inode, &'p str)>, path: &'p str) -> Option<()> {
        for component in path.split('/') {
            let here = trail.last().map_or(Inode::ROOT, |&(ino, _)| ino);
            let Node::Dir { entries, .. } = self.node(here)? else {
                return None;
            };
            match component {
                "" | "." => {}
                ".." => {
                    trail.pop();
                }
                name => trail.push((*entries.get(name)?, name)),
            }
        }
        Some(())
    }
}

/// The crate's complaint in our words.
fn corrupt(error: CorruptDataError, bytes: &[u8]) -> InitrdError {
    match error {
        CorruptDataError::EmptyArchive => InitrdError::Empty,
        CorruptDataError::InvalidBlockSize => InitrdError::PartialBlock { len: bytes.len() },
        CorruptDataError::TooShort { byte_count, .. } => InitrdError::TooShort { len: byte_count },
        CorruptDataError::InvalidChecksum { block_index } => {
            InitrdError::BadChecksum { block: block_index }
        }
        CorruptDataError::InvalidTypeFlag { block_index } => InitrdError::UnsupportedType {
            block: block_index,
            flag: block_index
                .checked_mul(BLOCK)
                .and_then(|start| bytes.get(start.checked_add(TYPE_FLAG_OFFSET)?))
                .copied()
                .unwrap_or(0),
        },
        CorruptDataError::InvalidPayloadSize { block_index } => {
            InitrdError::BadSize { block: block_index }
        }
        CorruptDataError::PayloadExtendsBeyondArchive { block_index } => {
            InitrdError::EntryBeyondEnd { block: block_index }
        }
        CorruptDataError::MissingTerminator => InitrdError::MissingEnd,
    }
}

/// What a PAX extended header (type `x`) says about the entry after it,
/// as far as the tree cares.
#[derive(Debug, Default, Clone, Copy)]
struct Pax<'a> {
    /// The entry's path, in place of its header's name.
    path: Option<&'a str>,
    /// A link's target, in place of its header's link name.
    linkpath: Option<&'a str>,
}

impl<'a> Pax<'a> {
    /// The `path` and `linkpath` records of a PAX header's data: records
    /// `LENGTH KEY=VALUE\n`, the length (decimal) counting the whole record.
    /// A record that is not UTF-8 is passed over; a malformed length ends
    /// the reading, keeping what came before.
    fn read(mut data: &'a [u8]) -> Pax<'a> {
        let mut pax = Pax::default();
        while let Some(space) = data.iter().position(|&byte| byte == b' ') {
            let Some(len) = core::str::from_utf8(&data[..space])
                .ok()
                .and_then(|digits| digits.parse::<usize>().ok())
            else {
                break;
            };
            let Some(record) = data.get(space + 1..len).and_then(|r| r.strip_suffix(b"\n")) else {
                break;
            };
            if let Some((key, value)) = core::str::from_utf8(record)
                .ok()
                .and_then(|record| record.split_once('='))
            {
                match key {
                    "path" => pax.path = Some(value),
                    "linkpath" => pax.linkpath = Some(value),
                    _ => {}
                }
            }
            data = &data[len..];
        }
        pax
    }
}

/// A header's name: `prefix/name` for POSIX ustar with a prefix, else
/// `name`; `None` if either is not UTF-8.
fn entry_name(header: &PosixHeader) -> Option<String> {
    let name = header.name.as_str().ok()?;
    let ustar = header.magic.as_str() == Ok("ustar") && header.version.as_str() == Ok("00");
    let mut full = String::new();
    if ustar && !header.prefix.is_empty() {
        full.push_str(header.prefix.as_str().ok()?);
        full.push('/');
    }
    full.push_str(name);
    Some(full)
}

/// The data of the file whose header is in `block`.
fn entry_data<'a>(
    bytes: &'a [u8],
    block: usize,
    header: &PosixHeader,
) -> Result<&'a [u8], InitrdError> {
    let size: usize = header
        .size
        .as_number()
        .map_err(|_| InitrdError::BadSize { block })?;
    block
        .checked_add(1)
        .and_then(|first| first.checked_mul(BLOCK))
        .and_then(|start| bytes.get(start..start.checked_add(size)?))
        .ok_or(InitrdError::EntryBeyondEnd { block })
}

/// `name` as a path from the root without a leading `/`: no empty or `.`
/// components, each `..` taking the one before it away (none at the top).
/// The root is the empty string.
fn normalise(name: &str) -> String {
    let mut components: Vec<&str> = Vec::new();
    for component in name.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                components.pop();
            }
            other => components.push(other),
        }
    }
    components.join("/")
}

/// Records the file `item` at `path`, unless a directory is there, which
/// wins; a file there already is replaced.
fn add_file<'a>(
    items: &mut BTreeMap<String, Item<'a>>,
    path: String,
    item: Item<'a>,
    skipped: &mut usize,
) {
    if path.is_empty() || matches!(items.get(&path), Some(Item::Dir)) {
        *skipped += 1;
        return;
    }
    items.insert(path, item);
}

/// Records a directory at `path`, replacing a file there (skipped).
fn add_dir(items: &mut BTreeMap<String, Item<'_>>, path: String, skipped: &mut usize) {
    if path.is_empty() {
        return;
    }
    if let Some(Item::File(..)) = items.insert(path, Item::Dir) {
        *skipped += 1;
    }
}

/// Makes every path's parents directories: added where missing, replacing
/// files (skipped) where there are files.
fn add_parents(items: &mut BTreeMap<String, Item<'_>>, skipped: &mut usize) {
    let mut parents: Vec<String> = Vec::new();
    for path in items.keys() {
        let mut rest = path.as_str();
        while let Some(slash) = rest.rfind('/') {
            rest = &rest[..slash];
            if !matches!(items.get(rest), Some(Item::Dir)) {
                parents.push(String::from(rest));
            }
        }
    }
    for parent in parents {
        add_dir(items, parent, skipped);
    }
}

/// The tree of `items` (every parent a directory), numbered in path order:
/// a parent's path is a prefix of its children's, so it comes first.
fn build<'a>(items: BTreeMap<String, Item<'a>>, skipped: usize) -> Result<Initrd<'a>, InitrdError> {
    let mut tree = Initrd::empty();
    tree.skipped = skipped;
    let mut numbers: BTreeMap<String, Inode> = BTreeMap::new();
    for (path, item) in items {
        let ino = u32::try_from(tree.nodes.len() + 1)
            .map(Inode)
            .map_err(|_| InitrdError::TooManyNodes)?;
        let (parent_path, name) = match path.rfind('/') {
            Some(slash) => (&path[..slash], &path[slash + 1..]),
            None => ("", path.as_str()),
        };
        let parent = match parent_path {
            "" => Inode::ROOT,
            parent_path => *numbers.get(parent_path).ok_or(InitrdError::TooManyNodes)?,
        };
        let index = parent.0 as usize - 1;
        if let Some(Node::Dir { entries, .. }) = tree.nodes.get_mut(index) {
            entries.insert(String::from(name), ino);
        }
        match item {
            Item::File(data, mode) => {
                tree.files += 1;
                tree.total_bytes += data.len() as u64;
                tree.nodes.push(Node::File { data, mode });
            }
            Item::Dir => {
                tree.nodes.push(Node::Dir {
                    entries: BTreeMap::new(),
                    parent,
                });
                numbers.insert(path, ino);
            }
        }
    }
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::Rng;
    use alloc::string::ToString;
    use alloc::vec;
    use alloc::vec::Vec;

    /// One archive entry to write.
    struct Entry<'e> {
        /// The `prefix` field.
        prefix: &'e str,
        /// The `name` field.
        name: &'e str,
        /// The type flag.
        flag: u8,
        /// The data (regular files only).
        data: &'e [u8],
        /// The `linkname` field.
        link: &'e str,
        /// The mode field.
        mode: u32,
    }

    /// A regular file.
    fn file<'e>(name: &'e str, data: &'e [u8]) -> Entry<'e> {
        Entry {
            prefix: "",
            name,
            flag: b'0',
            data,
            link: "",
            mode: 0o644,
        }
    }

    /// An entry of another type, without data.
    fn special<'e>(name: &'e str, flag: u8, link: &'e str) -> Entry<'e> {
        Entry {
            prefix: "",
            name,
            flag,
            data: &[],
            link,
            mode: 0o755,
        }
    }

    /// Writes `text` into `field`, NUL-padded (no NUL when it fills it).
    fn put(field: &mut [u8], text: &[u8]) {
        field[..text.len()].copy_from_slice(text);
    }

    /// A POSIX ustar header for `entry`, its checksum right.
    fn header(entry: &Entry, magic: &[u8; 8]) -> [u8; BLOCK] {
        let mut block = [0u8; BLOCK];
        put(&mut block[0..100], entry.name.as_bytes());
        put(
            &mut block[100..108],
            format!("{:07o}\0", entry.mode).as_bytes(),
        );
        put(&mut block[108..116], b"0000000\0");
        put(&mut block[116..124], b"0000000\0");
        put(
            &mut block[124..136],
            format!("{:011o}\0", entry.data.len()).as_bytes(),
        );
        put(&mut block[136..148], b"00000000000\0");
        block[TYPE_FLAG_OFFSET] = entry.flag;
        put(&mut block[157..257], entry.link.as_bytes());
        put(&mut block[257..265], magic);
        put(&mut block[345..500], entry.prefix.as_bytes());
        set_checksum(&mut block);
        block
    }

    /// Fills in a header's checksum: the sum of its bytes, the checksum
    /// field counted as spaces.
    fn set_checksum(block: &mut [u8]) {
        block[148..156].fill(b' ');
        let sum: u32 = block.iter().map(|&byte| u32::from(byte)).sum();
        put(&mut block[148..156], format!("{sum:06o}\0 ").as_bytes());
    }

    /// A ustar archive of `entries`, data padded to blocks, with the two
    /// zero blocks at the end.
    fn archive_with(entries: &[Entry], magic: &[u8; 8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for entry in entries {
            bytes.extend_from_slice(&header(entry, magic));
            bytes.extend_from_slice(entry.data);
            bytes.resize(bytes.len().next_multiple_of(BLOCK), 0);
        }
        bytes.resize(bytes.len() + 2 * BLOCK, 0);
        bytes
    }

    /// A POSIX ustar archive of `entries`.
    fn archive(entries: &[Entry]) -> Vec<u8> {
        archive_with(entries, b"ustar\x0000")
    }

    /// The names in directory `path`, in order.
    fn names(tree: &Initrd, path: &str) -> Vec<String> {
        let dir = tree.lookup(path).unwrap();
        tree.entries(dir)
            .unwrap()
            .map(|entry| entry.name.to_string())
            .collect()
    }

    /// The bytes of the file at `path`.
    fn read<'a>(tree: &Initrd<'a>, path: &str) -> Option<&'a [u8]> {
        tree.file(tree.lookup(path)?)
    }

    #[test]
    fn plain_files() {
        let bytes = archive(&[file("hello", b"hello, world\n"), file("init", &[0x7f; 600])]);
        let tree = Initrd::parse(&bytes).unwrap();
        assert_eq!(tree.files(), 2);
        assert_eq!(tree.dirs(), 1);
        assert_eq!(tree.total_bytes(), 13 + 600);
        assert_eq!(tree.skipped(), 0);
        assert_eq!(read(&tree, "/hello"), Some(&b"hello, world\n"[..]));
        assert_eq!(read(&tree, "/init").map(<[u8]>::len), Some(600));
        assert_eq!(names(&tree, "/"), ["hello", "init"]);
        assert_eq!(tree.lookup("/"), Some(Inode::ROOT));
        assert_eq!(tree.root(), Inode(1));
    }

    #[test]
    fn nested_directories_exist_without_entries() {
        let bytes = archive(&[
            file("bin/sh", b"sh"),
            file("usr/share/doc/README", b"read me"),
            file("bin/cat", b"cat"),
            file("a.txt", b"a"),
        ]);
        let tree = Initrd::parse(&bytes).unwrap();
        assert_eq!(tree.files(), 4);
        assert_eq!(tree.dirs(), 5);
        assert_eq!(names(&tree, "/"), ["a.txt", "bin", "usr"]);
        assert_eq!(names(&tree, "/bin"), ["cat", "sh"]);
        assert_eq!(names(&tree, "/usr/share"), ["doc"]);
        assert_eq!(read(&tree, "/usr/share/doc/README"), Some(&b"read me"[..]));
        let usr = tree.lookup("/usr").unwrap();
        let share = tree.lookup("/usr/share").unwrap();
        assert_eq!(tree.parent(share), Some(usr));
        assert_eq!(tree.parent(usr), Some(Inode::ROOT));
        assert_eq!(tree.parent(Inode::ROOT), Some(Inode::ROOT));
        let kinds: Vec<(&str, Kind)> = tree
            .entries(Inode::ROOT)
            .unwrap()
            .map(|entry| (entry.name, entry.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                ("a.txt", Kind::File),
                ("bin", Kind::Dir),
                ("usr", Kind::Dir)
            ]
        );
    }

    #[test]
    fn inode_numbers_are_small_parents_first() {
        let bytes = archive(&[file("b/x", b"x"), file("a", b"a")]);
        let tree = Initrd::parse(&bytes).unwrap();
        assert_eq!(tree.lookup("/a"), Some(Inode(2)));
        assert_eq!(tree.lookup("/b"), Some(Inode(3)));
        assert_eq!(tree.lookup("/b/x"), Some(Inode(4)));
        assert_eq!(tree.node(Inode(0)), None);
        assert_eq!(tree.node(Inode(5)), None);
        assert_eq!(tree.kind(Inode(3)), Some(Kind::Dir));
        assert_eq!(tree.file(Inode(3)), None);
        assert!(tree.entries(Inode(2)).is_none());
        assert!(tree.entries(Inode(99)).is_none());
        assert_eq!(tree.parent(Inode(2)), None);
    }

    #[test]
    fn dot_slash_prefixes_and_explicit_directories() {
        // What `tar -C root -cf x.tar .` writes: `./`, then each entry.
        let bytes = archive(&[
            special("./", b'5', ""),
            special("./bin/", b'5', ""),
            file("./bin/init", b"init"),
            special("./empty/", b'5', ""),
            special("/abs/", b'5', ""),
        ]);
        let tree = Initrd::parse(&bytes).unwrap();
        assert_eq!(names(&tree, "/"), ["abs", "bin", "empty"]);
        assert_eq!(read(&tree, "/bin/init"), Some(&b"init"[..]));
        assert_eq!(names(&tree, "/empty"), Vec::<String>::new());
        assert_eq!(tree.dirs(), 4);
        assert_eq!(tree.skipped(), 0);
    }

    #[test]
    fn old_style_directory_entries() {
        // V7 tar: type `\0`, the name ending in `/`.
        let mut dir = file("etc/", b"");
        dir.flag = 0;
        let bytes = archive(&[dir, file("etc/motd", b"hi")]);
        let tree = Initrd::parse(&bytes).unwrap();
        assert_eq!(tree.kind(tree.lookup("/etc").unwrap()), Some(Kind::Dir));
        assert_eq!(tree.files(), 1);
    }

    #[test]
    fn a_name_of_exactly_100_bytes() {
        let name = "n".repeat(100);
        let bytes = archive(&[file(&name, b"long")]);
        let tree = Initrd::parse(&bytes).unwrap();
        assert_eq!(read(&tree, &format!("/{name}")), Some(&b"long"[..]));
    }

    #[test]
    fn long_names_use_the_prefix_field() {
        // 155 + '/' + 99 = 255 bytes, and 155 + '/' + 100 = 256.
        let prefix = format!("{}/{}", "p".repeat(100), "q".repeat(54));
        assert_eq!(prefix.len(), 155);
        let name99 = "m".repeat(99);
        let name100 = "n".repeat(100);
        let mut first = file(&name99, b"255");
        first.prefix = &prefix;
        let mut second = file(&name100, b"256");
        second.prefix = &prefix;
        let bytes = archive(&[first, second]);
        let tree = Initrd::parse(&bytes).unwrap();
        let path255 = format!("/{prefix}/{name99}");
        assert_eq!(path255.len(), 256);
        assert_eq!(read(&tree, &path255), Some(&b"255"[..]));
        assert_eq!(
            read(&tree, &format!("/{prefix}/{name100}")),
            Some(&b"256"[..])
        );
        assert_eq!(
            names(&tree, &format!("/{}", "p".repeat(100))),
            ["q".repeat(54)]
        );
    }

    #[test]
    fn gnu_format_headers_have_no_prefix() {
        // GNU tar's own magic: the prefix field's bytes mean something else.
        let mut entry = file("name", b"x");
        entry.prefix = "notaprefix";
        let bytes = archive_with(&[entry], b"ustar  \0");
        let tree = Initrd::parse(&bytes).unwrap();
        assert_eq!(read(&tree, "/name"), Some(&b"x"[..]));
        assert_eq!(tree.lookup("/notaprefix"), None);
    }

    /// One PAX record, its length prefix right.
    fn pax_record(key: &str, value: &str) -> String {
        let body = format!(" {key}={value}\n");
        let mut len = body.len() + 1;
        while format!("{len}").len() + body.len() != len {
            len += 1;
        }
        format!("{len}{body}")
    }

    #[test]
    fn pax_headers_give_long_names_and_link_targets() {
        let long = format!("{}/{}", "d".repeat(150), "f".repeat(150));
        let records = format!(
            "{}{}{}",
            pax_record("mtime", "1700000000.5"),
            pax_record("path", &long),
            pax_record("SCHILY.xattr.user.x", "y")
        );
        let link_records = pax_record("linkpath", &long);
        let bytes = archive(&[
            special("./PaxHeaders/x", b'g', ""),
            Entry {
                data: records.as_bytes(),
                ..special("./PaxHeaders/f", b'x', "")
            },
            file("truncated-name", b"long"),
            Entry {
                data: link_records.as_bytes(),
                ..special("./PaxHeaders/l", b'x', "")
            },
            special("link", b'1', "truncated-link"),
            file("plain", b"p"),
        ]);
        let tree = Initrd::parse(&bytes).unwrap();
        assert_eq!(read(&tree, &format!("/{long}")), Some(&b"long"[..]));
        assert_eq!(read(&tree, "/link"), Some(&b"long"[..]));
        assert_eq!(tree.lookup("/truncated-name"), None);
        // The records apply to the next entry only.
        assert_eq!(read(&tree, "/plain"), Some(&b"p"[..]));
        assert_eq!(tree.files(), 3);
        assert_eq!(tree.skipped(), 0);
    }

    #[test]
    fn malformed_pax_records_are_passed_over() {
        assert_eq!(Pax::read(b"").path, None);
        assert_eq!(Pax::read(b"12 path=abc\n").path, Some("abc"));
        // A length too long, too short, or not a number: nothing more.
        assert_eq!(Pax::read(b"99 path=abc\n").path, None);
        assert_eq!(Pax::read(b"5 path=abc\n").path, None);
        assert_eq!(Pax::read(b"0 path=abc\n").path, None);
        assert_eq!(Pax::read(b"x2 path=abc\n").path, None);
        assert_eq!(Pax::read(b"12 path=abc!").path, None);
        // A record that is not UTF-8 is skipped, the next still read.
        assert_eq!(Pax::read(b"7 k=\xff\xfe\n12 path=abc\n").path, Some("abc"));
        assert_eq!(Pax::read(b"12 path=abc\n11 path=de\n").path, Some("de"));
        let bytes = archive(&[
            Entry {
                data: b"garbage",
                ..special("./PaxHeaders/f", b'x', "")
            },
            file("name", b"n"),
        ]);
        let tree = Initrd::parse(&bytes).unwrap();
        assert_eq!(read(&tree, "/name"), Some(&b"n"[..]));
    }

    #[test]
    fn modes_come_from_the_headers() {
        let mut tool = file("bin/tool", b"\x7fELF");
        tool.mode = 0o755;
        let bytes = archive(&[tool, file("etc/conf", b"")]);
        let tree = Initrd::parse(&bytes).unwrap();
        let mode = |path| match tree.node(tree.lookup(path).unwrap()) {
            Some(Node::File { mode, .. }) => *mode,
            _ => panic!("{path} is not a file"),
        };
        assert_eq!(mode("/bin/tool"), 0o755);
        assert_eq!(mode("/etc/conf"), 0o644);
        assert_eq!(read(&tree, "/etc/conf"), Some(&b""[..]));
    }

    #[test]
    fn the_later_of_two_entries_wins() {
        let bytes = archive(&[file("etc/motd", b"old"), file("./etc//motd", b"new")]);
        let tree = Initrd::parse(&bytes).unwrap();
        assert_eq!(read(&tree, "/etc/motd"), Some(&b"new"[..]));
        assert_eq!(tree.files(), 1);
        assert_eq!(tree.total_bytes(), 3);
    }

    #[test]
    fn a_directory_wins_over_a_file_at_its_path() {
        for entries in [
            [file("a", b"file"), file("a/b", b"b")],
            [file("a/b", b"b"), file("a", b"file")],
        ] {
            let tree_bytes = archive(&entries);
            let tree = Initrd::parse(&tree_bytes).unwrap();
            assert_eq!(tree.kind(tree.lookup("/a").unwrap()), Some(Kind::Dir));
            assert_eq!(read(&tree, "/a/b"), Some(&b"b"[..]));
            assert_eq!(tree.files(), 1);
            assert_eq!(tree.skipped(), 1);
        }
        let bytes = archive(&[special("d/", b'5', ""), file("d", b"file")]);
        let tree = Initrd::parse(&bytes).unwrap();
        assert_eq!(tree.kind(tree.lookup("/d").unwrap()), Some(Kind::Dir));
        assert_eq!(tree.skipped(), 1);
    }

    #[test]
    fn links_devices_and_fifos() {
        let bytes = archive(&[
            file("bin/busybox", b"bb"),
            special("bin/ls", b'1', "bin/busybox"),
            special("./bin/cat", b'1', "./bin/busybox"),
            special("bin/sh", b'2', "busybox"),
            special("dev/null", b'3', ""),
            special("dev/sda", b'4', ""),
            special("run/fifo", b'6', ""),
            special("bin/gone", b'1', "bin/missing"),
        ]);
        let tree = Initrd::parse(&bytes).unwrap();
        assert_eq!(read(&tree, "/bin/ls"), Some(&b"bb"[..]));
        assert_eq!(read(&tree, "/bin/cat"), Some(&b"bb"[..]));
        assert_ne!(tree.lookup("/bin/ls"), tree.lookup("/bin/busybox"));
        assert_eq!(tree.lookup("/bin/sh"), None);
        assert_eq!(tree.lookup("/dev"), None);
        assert_eq!(tree.lookup("/bin/gone"), None);
        assert_eq!(tree.files(), 3);
        assert_eq!(tree.skipped(), 5);
    }

    #[test]
    fn names_that_are_not_utf8_are_skipped() {
        let bytes = archive(&[file("ok", b"1"), file("bad", b"2")]);
        let mut bytes = bytes;
        // Make the second name invalid UTF-8, keeping the checksum right.
        let second = 2 * BLOCK;
        bytes[second + 1] = 0xff;
        set_checksum(&mut bytes[second..second + BLOCK]);
        let tree = Initrd::parse(&bytes).unwrap();
        assert_eq!(tree.files(), 1);
        assert_eq!(tree.skipped(), 1);
    }

    #[test]
    fn empty_archives() {
        assert_eq!(Initrd::parse(&[]).unwrap_err(), InitrdError::Empty);
        for len in [2 * BLOCK, 3 * BLOCK, 20 * BLOCK] {
            let zeros = vec![0u8; len];
            let tree = Initrd::parse(&zeros).unwrap();
            assert_eq!(tree.files(), 0);
            assert_eq!(tree.dirs(), 1);
            assert_eq!(names(&tree, "/"), Vec::<String>::new());
        }
        assert_eq!(
            Initrd::parse(&[0; BLOCK]).unwrap_err(),
            InitrdError::TooShort { len: BLOCK }
        );
        let tree = Initrd::empty();
        assert_eq!(tree.lookup("/"), Some(Inode::ROOT));
        assert_eq!(tree.lookup("/x"), None);
    }

    #[test]
    fn truncated_archives() {
        let bytes = archive(&[file("a", &[1; 700]), file("b", b"b")]);
        // Cut mid-block.
        assert_eq!(
            Initrd::parse(&bytes[..1000]).unwrap_err(),
            InitrdError::PartialBlock { len: 1000 }
        );
        // Two blocks: too short even for an empty archive.
        assert_eq!(
            Initrd::parse(&bytes[..2 * BLOCK]).unwrap_err(),
            InitrdError::TooShort { len: 2 * BLOCK }
        );
        let cut = archive(&[file("a", &[1; 2000])]);
        assert_eq!(
            Initrd::parse(&cut[..3 * BLOCK]).unwrap_err(),
            InitrdError::EntryBeyondEnd { block: 0 }
        );
        // Cut before the end marker.
        assert_eq!(
            Initrd::parse(&bytes[..5 * BLOCK]).unwrap_err(),
            InitrdError::MissingEnd
        );
        // One zero block only.
        assert_eq!(
            Initrd::parse(&bytes[..6 * BLOCK]).unwrap_err(),
            InitrdError::MissingEnd
        );
        assert!(Initrd::parse(&bytes).is_ok());
    }

    #[test]
    fn damaged_headers() {
        let good = archive(&[file("a", b"a"), file("b", b"b")]);
        let mut bytes = good.clone();
        bytes[2 * BLOCK + 1] = b'x';
        assert_eq!(
            Initrd::parse(&bytes).unwrap_err(),
            InitrdError::BadChecksum { block: 2 }
        );
        let mut bytes = good.clone();
        bytes[0] ^= 1;
        let error = Initrd::parse(&bytes).unwrap_err();
        assert_eq!(error, InitrdError::BadChecksum { block: 0 });
        assert_eq!(
            error.to_string(),
            "bad header checksum in block 0 (not a tar archive?)"
        );
        let mut bytes = good.clone();
        put(&mut bytes[124..136], b"zzzzzzzzzzz\0");
        set_checksum(&mut bytes[..BLOCK]);
        assert_eq!(
            Initrd::parse(&bytes).unwrap_err(),
            InitrdError::BadSize { block: 0 }
        );
        let mut bytes = good;
        bytes[TYPE_FLAG_OFFSET] = b'L';
        set_checksum(&mut bytes[..BLOCK]);
        let error = Initrd::parse(&bytes).unwrap_err();
        assert_eq!(
            error,
            InitrdError::UnsupportedType {
                block: 0,
                flag: b'L'
            }
        );
        assert_eq!(
            error.to_string(),
            "unsupported entry type 'L' in block 0 (a GNU long name: pack with tar --format=ustar)"
        );
    }

    #[test]
    fn not_a_tar_archive() {
        let elf = [0x7f_u8; 4 * BLOCK];
        assert_eq!(
            Initrd::parse(&elf).unwrap_err(),
            InitrdError::BadChecksum { block: 0 }
        );
    }

    #[test]
    fn paths_are_normalised_in_lookups() {
        let bytes = archive(&[file("a/b/c", b"c"), file("a/f", b"f")]);
        let tree = Initrd::parse(&bytes).unwrap();
        let c = tree.lookup("/a/b/c");
        assert!(c.is_some());
        for path in [
            "//a/b/c",
            "/a/./b/c",
            "/a/b/../b/c",
            "/../a/b/c",
            "/../../a//b///c",
            "/a/f/../b/c/../c",
        ] {
            let expected = if path.contains("f/..") { None } else { c };
            assert_eq!(tree.lookup(path), expected, "{path}");
        }
        assert_eq!(tree.lookup("/.."), Some(Inode::ROOT));
        assert_eq!(tree.lookup("/./."), Some(Inode::ROOT));
        assert_eq!(tree.lookup("//"), Some(Inode::ROOT));
        // A trailing slash (or `/.`) only after a directory.
        assert_eq!(tree.lookup("/a/b/"), tree.lookup("/a/b"));
        assert_eq!(tree.lookup("/a/b/."), tree.lookup("/a/b"));
        assert_eq!(tree.lookup("/a/f/"), None);
        assert_eq!(tree.lookup("/a/f/."), None);
        assert_eq!(tree.lookup("/a/f/.."), None);
    }

    #[test]
    fn missing_and_malformed_paths() {
        let bytes = archive(&[file("a/f", b"f")]);
        let tree = Initrd::parse(&bytes).unwrap();
        assert_eq!(tree.lookup("/b"), None);
        assert_eq!(tree.lookup("/a/g"), None);
        assert_eq!(tree.lookup("/a/f/g"), None);
        assert_eq!(tree.lookup("/A/f"), None);
        assert_eq!(tree.lookup("a/f"), None);
        assert_eq!(tree.lookup(""), None);
        assert_eq!(tree.lookup("/a/f\0"), None);
    }

    #[test]
    fn relative_paths_resolve_against_the_working_directory() {
        let bytes = archive(&[file("usr/bin/tool", b"t"), file("etc/motd", b"m")]);
        let tree = Initrd::parse(&bytes).unwrap();
        let resolved = |cwd, path| tree.resolve(cwd, path).map(|r| r.path);
        assert_eq!(
            resolved("/usr", "bin/tool").as_deref(),
            Some("/usr/bin/tool")
        );
        assert_eq!(
            resolved("/usr/bin", "../../etc/motd").as_deref(),
            Some("/etc/motd")
        );
        assert_eq!(resolved("/usr/bin", "..").as_deref(), Some("/usr"));
        assert_eq!(resolved("/", "..").as_deref(), Some("/"));
        assert_eq!(resolved("/", "../../usr/").as_deref(), Some("/usr"));
        assert_eq!(resolved("/usr", ".").as_deref(), Some("/usr"));
        assert_eq!(
            resolved("/usr/./bin/", "tool").as_deref(),
            Some("/usr/bin/tool")
        );
        // An absolute path ignores the working directory.
        assert_eq!(
            resolved("/usr/bin", "/etc//motd").as_deref(),
            Some("/etc/motd")
        );
        assert_eq!(resolved("not absolute", "/etc").as_deref(), Some("/etc"));
        assert_eq!(resolved("/", "/").as_deref(), Some("/"));
        assert_eq!(
            tree.resolve("/usr", "bin").map(|r| r.ino),
            tree.lookup("/usr/bin")
        );
        // Nothing there, or nowhere to start from.
        assert_eq!(resolved("/usr", "tool"), None);
        assert_eq!(resolved("/usr", ""), None);
        assert_eq!(resolved("usr", "bin"), None);
        assert_eq!(resolved("/missing", "."), None);
        assert_eq!(resolved("/missing", ".."), None);
        // The working directory must be a directory.
        assert_eq!(resolved("/etc/motd", ".."), None);
        assert_eq!(resolved("/etc/motd", "x"), None);
    }

    #[test]
    fn normalised_archive_names() {
        assert_eq!(normalise("./a//b/./c/"), "a/b/c");
        assert_eq!(normalise("/a/../../b"), "b");
        assert_eq!(normalise("./"), "");
        assert_eq!(normalise(".."), "");
        let bytes = archive(&[file("../../escape", b"e"), file("x/../y", b"y")]);
        let tree = Initrd::parse(&bytes).unwrap();
        assert_eq!(names(&tree, "/"), ["escape", "y"]);
        // A file whose name is the root itself is left out.
        let bytes = archive(&[file("x/..", b"")]);
        let tree = Initrd::parse(&bytes).unwrap();
        assert_eq!(tree.files(), 0);
        assert_eq!(tree.skipped(), 1);
    }

    #[test]
    fn damaged_archives_never_panic() {
        let good = archive(&[
            file("bin/init", &[0x90; 1500]),
            special("etc/", b'5', ""),
            file("etc/motd", b"hello"),
            special("bin/sh", b'1', "bin/init"),
        ]);
        let mut rng = Rng(0x7a5);
        for _ in 0..5_000 {
            let mut bytes = good.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(bytes.len());
                bytes[at] = rng.next() as u8;
            }
            // Half the time, keep the damaged header's checksum right, so
            // the damage reaches the fields behind it.
            if rng.below(2) == 0 {
                for header in [0, 4 * BLOCK, 5 * BLOCK, 7 * BLOCK] {
                    set_checksum(&mut bytes[header..header + BLOCK]);
                }
            }
            let len = if rng.below(8) == 0 {
                rng.below(bytes.len())
            } else {
                bytes.len()
            };
            if let Ok(tree) = Initrd::parse(&bytes[..len]) {
                assert!(tree.files() + tree.dirs() >= 1);
                for n in 1..=(tree.files() + tree.dirs()) as u32 {
                    if let Some(entries) = tree.entries(Inode(n)) {
                        for entry in entries {
                            assert!(tree.node(entry.ino).is_some());
                        }
                    }
                }
            }
        }
    }
}

"""scripts/layers.py, the layering checker (`make lint`), on small made-up
source trees: it passes a tree that keeps the order, and names each use that
breaks it, each file circle, and each room the order leaves out. No kernel
build, no QEMU."""

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "layers.py"

LIB = '''\
//! A made-up kernel.
//!
//! ```layers
//! util text      leaves
//! mem            memory
//! shell
//! ```

mod mem;
mod shell;
mod text;
mod util;

pub const BANNER: &str = "made up";
'''

# A tree that keeps the order: each room uses rooms below it only, and
# files use their own module's children and parents freely.
CLEAN = {
    "lib.rs": LIB,
    "util.rs": '''\
        pub fn f() {}
        ''',
    "text.rs": '''\
        pub fn words() {}
        ''',
    "mem/mod.rs": '''\
        pub mod alloc;
        pub mod frames;
        pub use self::alloc::Alloc;
        use crate::util;
        pub fn init() { alloc::start(); util::f(); }
        ''',
    "mem/alloc.rs": '''\
        use super::frames::Frame;
        pub struct Alloc;
        pub fn start() { super::init(); crate::text::words(); }
        ''',
    "mem/frames.rs": '''\
        use crate::util::f;
        pub struct Frame;
        ''',
    "shell/mod.rs": '''\
        use crate::{util, mem::{alloc::Alloc, frames}};
        use crate::mem::Alloc as A;
        pub fn run() { crate::mem::init(); crate::text::words(); }
        ''',
}


def make(tmp_path: Path, files: dict[str, str]) -> Path:
    src = tmp_path / "src"
    for name, text in files.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return src


def check(src: Path, *args: str) -> tuple[int, list[str]]:
    done = subprocess.run([sys.executable, str(SCRIPT), "--src", str(src), *args],
                          capture_output=True, text=True, timeout=60)
    return done.returncode, (done.stdout + done.stderr).splitlines()


def with_(changes: dict[str, str]) -> dict[str, str]:
    return {**CLEAN, **changes}


def test_a_clean_tree_passes(tmp_path):
    code, out = check(make(tmp_path, CLEAN))
    assert out[-1].startswith("layers: 4 rooms, ") and out[-1].endswith(", 0 violations, 0 circles"), out
    assert code == 0, out
    assert len(out) == 1, out


def test_an_inline_upward_path_fails(tmp_path):
    src = make(tmp_path, with_({"util.rs": '''\
        pub fn f() {
            let x = 1;
            crate::mem::alloc::start();
        }
        '''}))
    code, out = check(src)
    assert code == 1
    assert "src/util.rs:3: util (layer 1) uses mem (layer 2): crate::mem::alloc::start" in out
    assert ", 1 violations, " in out[-1], out


def test_every_leaf_of_a_use_group_is_checked(tmp_path):
    src = make(tmp_path, with_({"mem/frames.rs": '''\
        use crate::{
            util::f,
            shell::{self, run as go},
        };
        '''}))
    code, out = check(src)
    assert code == 1
    assert "src/mem/frames.rs:3: mem (layer 2) uses shell (layer 3): crate::shell" in out
    assert "src/mem/frames.rs:3: mem (layer 2) uses shell (layer 3): crate::shell::run" in out
    assert not any("crate::util" in line for line in out), out


def test_an_upward_super_super_path_fails(tmp_path):
    src = make(tmp_path, with_({"mem/alloc.rs": '''\
        pub fn start() {
            super::super::shell::run();
        }
        '''}))
    code, out = check(src)
    assert code == 1
    assert ("src/mem/alloc.rs:2: mem (layer 2) uses shell (layer 3): "
            "super::super::shell::run (= crate::shell::run)") in out


def test_super_from_an_inline_module_climbs_one_more_level(tmp_path):
    # In `mod device { }` of mem/mod.rs, `super::super` is the crate root.
    src = make(tmp_path, with_({"mem/mod.rs": CLEAN["mem/mod.rs"] + '''\
        mod device {
            use super::super::shell::run;
            use super::alloc::Alloc;
        }
        '''}))
    code, out = check(src)
    assert code == 1
    assert any(line.startswith("src/mem/mod.rs:7: mem (layer 2) uses shell (layer 3): "
                               "super::super::shell::run") for line in out), out
    assert ", 1 violations, " in out[-1], out


def test_peers_on_one_line_may_not_use_each_other(tmp_path):
    src = make(tmp_path, with_({"text.rs": "pub fn words() { crate::util::f(); }\n"}))
    code, out = check(src)
    assert code == 1
    assert "src/text.rs:1: text (layer 1) uses util (layer 1): crate::util::f" in out


def test_items_of_the_crate_root_are_above_every_room(tmp_path):
    src = make(tmp_path, with_({"util.rs": "pub fn f() -> &'static str { crate::BANNER }\n"}))
    code, out = check(src)
    assert code == 1
    assert "src/util.rs:1: util (layer 1) uses crate (layer 4): crate::BANNER" in out


def test_a_macro_path_is_a_use_of_the_room_defining_the_macro(tmp_path):
    src = make(tmp_path, with_({
        "shell/mod.rs": '''\
            #[macro_export]
            macro_rules! say { () => {}; }
            ''',
        "util.rs": "pub fn f() { crate::say!(); }\n",
        "mem/frames.rs": "pub fn g() { crate::text::words(); }\n",
    }))
    code, out = check(src)
    assert code == 1
    assert "src/util.rs:1: util (layer 1) uses shell (layer 3): crate::say!" in out
    assert out[-1].endswith(", 1 violations, 0 circles"), out


def test_comments_strings_and_test_code_are_ignored(tmp_path):
    src = make(tmp_path, with_({
        "util.rs": '''\
            //! crate::shell::run in the module doc
            /// crate::shell::run in a doc comment
            // crate::shell::run in a comment
            /* crate::shell::run /* nested */ crate::mem::init() */
            pub fn f() -> (&'static str, char, &'static [u8], &'static str) {
                let _q = '"';
                ("crate::shell::run \\" crate::mem::init()", '\\'', b"crate::mem::x",
                 r#"crate::shell::run " crate::mem"#)
            }

            #[cfg(test)]
            mod tests {
                use crate::shell::run;
                use super::super::mem::init;
                fn nested() { if true { crate::mem::init(); } }
            }

            pub(crate) mod ktests {
                pub(crate) const TESTS: &[crate::shell::Test] = crate::say![one];
                fn one() { crate::mem::init(); }
            }

            #[cfg(test)]
            fn helper() { crate::shell::run(); }

            #[cfg(all(test, target_os = "none"))]
            use crate::shell::run;

            #[cfg(test)]
            mod fuzz;

            pub fn g() {}
            ''',
        "util/tests.rs": "use crate::shell::run;\n",
        "util/fuzz.rs": "use crate::shell::run;\n",
        "mem/ktests.rs": "use crate::shell::run;\n",
        "mem/test_support.rs": "use crate::shell::run;\n",
    }))
    code, out = check(src)
    assert code == 0, out
    assert out[-1].endswith(", 0 violations, 0 circles"), out


def test_code_after_test_blocks_is_still_checked(tmp_path):
    src = make(tmp_path, with_({"util.rs": '''\
        #[cfg(test)]
        mod tests {
            fn t() { let s = "}"; }
        }
        #[cfg(not(test))]
        pub fn f() { crate::mem::init(); }
        '''}))
    code, out = check(src)
    assert code == 1
    assert "src/util.rs:6: util (layer 1) uses mem (layer 2): crate::mem::init" in out


def test_a_circle_between_two_siblings_fails(tmp_path):
    src = make(tmp_path, with_({
        "mem/alloc.rs": '''\
            use super::frames::Frame;
            pub fn start() {}
            ''',
        "mem/frames.rs": '''\
            pub struct Frame;
            pub fn take() { crate::mem::alloc::start(); }
            ''',
    }))
    code, out = check(src)
    assert code == 1
    assert "circle: src/mem/alloc.rs -> src/mem/frames.rs -> src/mem/alloc.rs" in out
    assert out[-1].endswith(", 0 violations, 1 circles"), out


def test_a_circle_through_a_reexport_is_found(tmp_path):
    # shell uses mem::Alloc, which mem/mod.rs re-exports from mem/alloc.rs.
    src = make(tmp_path, with_({
        "shell/mod.rs": "pub mod cmd;\n",
        "shell/cmd.rs": "use crate::mem::Alloc;\npub fn go() {}\n",
        "mem/alloc.rs": "pub struct Alloc;\npub fn start() { crate::shell::cmd::go(); }\n",
    }))
    code, out = check(src)
    assert code == 1
    assert "circle: src/mem/alloc.rs -> src/shell/cmd.rs -> src/mem/alloc.rs" in out


def test_a_module_and_its_children_are_no_circle(tmp_path):
    # mem/mod.rs uses its child alloc, and alloc uses super::init: allowed.
    code, out = check(make(tmp_path, CLEAN))
    assert code == 0 and not any(line.startswith("circle:") for line in out), out


def test_a_room_missing_from_the_order_is_an_error(tmp_path):
    src = make(tmp_path, with_({
        "lib.rs": LIB.replace("mod util;", "mod util;\nmod extra;"),
        "extra.rs": "pub fn x() {}\n",
    }))
    code, out = check(src)
    assert code == 1
    assert any(line.startswith("src/extra.rs: room extra is not in the layers block") for line in out), out


def test_a_name_in_the_order_without_a_module_is_an_error(tmp_path):
    src = make(tmp_path, with_({"lib.rs": LIB.replace("//! shell\n", "//! shell report\n")}))
    code, out = check(src)
    assert code == 1
    assert "src/lib.rs:6: report is in the layers block but src/ has no such module" in out


def test_no_layers_block_cannot_be_checked(tmp_path):
    src = make(tmp_path, with_({"lib.rs": "mod util;\n"}))
    code, out = check(src)
    assert code == 2
    assert any("no layers block" in line for line in out), out


def test_graph_prints_the_rooms_uses(tmp_path):
    src = make(tmp_path, with_({"util.rs": "pub fn f() { crate::mem::init(); }\n"}))
    code, out = check(src, "--graph")
    assert code == 1
    shell = next(line for line in out if " shell " in line)
    assert "mem(" in shell and "util(" in shell and "!" not in shell
    util = next(line for line in out if " util " in line and "->" in line)
    assert "!mem(1)" in util

//! Everything that depends on the processor architecture. Only x86_64 exists;
//! the rest of the kernel uses these re-exports, not the submodule directly.

pub mod x86_64;

pub use self::x86_64::{halt_forever, init};

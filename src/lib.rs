//! craft: a raw-socket packet crafting toolkit for Linux.
//!
//! See ARCHITECTURE.md for how the modules fit together.

pub mod wire;
pub mod lang;
pub mod render;
pub mod engine;
pub mod repl;
pub mod link;

//! craft: a raw-socket packet crafting toolkit for Linux.
//!
//! See ARCHITECTURE.md for how the modules fit together.

pub mod commands;
pub mod drill;
pub mod engine;
pub mod host;
pub mod lang;
pub mod link;
pub mod live;
pub mod outcome;
pub mod output;
pub mod render;
pub mod repl;
pub mod session;
pub mod wire;

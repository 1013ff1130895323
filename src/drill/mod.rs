//! `craft drill`: packetdrill scripts run against the local kernel over lo.
//! `parse` reads a script into `ast` events; `run` plays them: system calls
//! on kernel sockets (`sys`), packets injected as the remote peer and the
//! kernel's packets captured and compared field by field (`packet`), TCP_INFO
//! asserts (`info`), each against the script's clock. `recipe` writes a
//! script as a commented craft recipe.

pub mod ast;
pub mod info;
pub mod packet;
pub mod parse;
pub mod recipe;
pub mod run;
pub mod symbols;

//! One-shot commands: small programs over the same engine and live link.

pub mod doctor;
pub mod flood;
pub mod handshake;
pub mod read;
pub mod syn;

use crate::engine::{Error, ErrorKind};
use crate::live::LiveError;

/// Exit code and message for a live failure at the top of a command.
pub fn live_exit(e: LiveError) -> i32 {
    match e {
        LiveError::NotPermitted(m) => {
            eprintln!("craft: {m}");
            4
        }
        LiveError::Interrupted => 130,
        LiveError::Other(m) => {
            eprintln!("craft: {m}");
            2
        }
    }
}

/// Exit code for an engine error, printing it once.
pub fn report(e: &Error) -> i32 {
    match e.kind {
        ErrorKind::Expect => eprintln!("{e}"),
        ErrorKind::Interrupted => eprintln!("craft: interrupted"),
        _ => eprintln!("craft: {e}"),
    }
    e.kind.exit_code()
}

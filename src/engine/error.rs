//! Errors of the language and the runtime, with where they happened and the
//! outcome (exit code) they lead to.

use crate::lang::{Pos, SyntaxError};
use crate::live::LiveError;
use crate::outcome::Outcome;
use crate::output::OutputError;
use std::fmt;

/// What kind of failure stopped a statement; decides the outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad syntax (exit 2).
    Syntax,
    /// Unknown name, wrong type, value out of range, ... (exit 2).
    Eval,
    /// An `expect` did not hold (exit 1).
    Expect,
    /// Not permitted: a capability is missing (exit 4).
    Permission,
    /// Interrupted by Ctrl-C (exit 130).
    Interrupted,
    /// Standard output was closed (`| head`): stop quietly (exit 0).
    OutputClosed,
}

impl ErrorKind {
    /// The outcome this failure leads to.
    pub fn outcome(self) -> Outcome {
        match self {
            ErrorKind::Syntax | ErrorKind::Eval => Outcome::Error,
            ErrorKind::Expect => Outcome::CheckFailed,
            ErrorKind::Permission => Outcome::NotPermitted,
            ErrorKind::Interrupted => Outcome::Interrupted,
            ErrorKind::OutputClosed => Outcome::OutputClosed,
        }
    }

    /// The process exit code for this failure.
    pub fn exit_code(self) -> i32 {
        self.outcome().exit_code().into()
    }
}

/// A failure with where it happened.
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    /// What kind.
    pub kind: ErrorKind,
    /// File name, or "" for the REPL and CLI arguments.
    pub file: String,
    /// Line and column (line 0: no position, e.g. a command-line flag).
    pub pos: Pos,
    /// The message, possibly several lines.
    pub msg: String,
}

impl Error {
    /// An evaluation error at `pos`.
    pub fn eval(pos: Pos, msg: impl Into<String>) -> Error {
        Error::new(ErrorKind::Eval, pos, msg)
    }

    /// An error of `kind` at `pos`.
    pub fn new(kind: ErrorKind, pos: Pos, msg: impl Into<String>) -> Error {
        Error {
            kind,
            file: String::new(),
            pos,
            msg: msg.into(),
        }
    }

    /// A usage error with no position (a command-line flag, say).
    pub fn usage(msg: impl Into<String>) -> Error {
        Error::eval(Pos::default(), msg)
    }

    /// A syntax error.
    pub fn syntax(e: SyntaxError) -> Error {
        Error::new(ErrorKind::Syntax, e.pos, format!("syntax error: {}", e.msg))
    }

    /// The error, placed in `file` unless it already names one.
    pub fn in_file(mut self, file: &str) -> Error {
        if self.file.is_empty() {
            self.file = file.to_string();
        }
        self
    }

    /// The outcome this error leads to.
    pub fn outcome(&self) -> Outcome {
        self.kind.outcome()
    }

    /// Prints the error once, to stderr, in the form every way in uses: a
    /// failed expect as it is, a closed stdout not at all, anything else
    /// after `craft: `.
    pub fn report(&self) {
        match self.kind {
            ErrorKind::OutputClosed => {}
            ErrorKind::Expect => crate::output::warn(&self.to_string()),
            ErrorKind::Interrupted => crate::output::warn("craft: interrupted"),
            _ => crate::output::warn(&format!("craft: {self}")),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.file.is_empty() {
            write!(f, "{}:", self.file)?;
        }
        if self.pos.line > 0 {
            write!(f, "{}: ", self.pos)?;
        } else if !self.file.is_empty() {
            write!(f, " ")?;
        }
        write!(f, "{}", self.msg)
    }
}

impl std::error::Error for Error {}

/// Result of evaluation.
pub type EvalResult<T> = Result<T, Error>;

/// Turns a live failure into an error with the right outcome.
pub fn live_error(e: LiveError, pos: Pos) -> Error {
    match e {
        LiveError::NotPermitted(m) => Error::new(ErrorKind::Permission, pos, m),
        LiveError::Interrupted => Error::new(ErrorKind::Interrupted, pos, "interrupted"),
        LiveError::Other(m) => Error::eval(pos, m),
    }
}

/// Turns an output failure into an error: a closed pipe ends the run quietly.
pub fn output_error(e: OutputError) -> Error {
    match e {
        OutputError::Closed => Error::new(ErrorKind::OutputClosed, Pos::default(), e.to_string()),
        OutputError::Failed(_) => Error::usage(e.to_string()),
    }
}

impl From<OutputError> for Error {
    fn from(e: OutputError) -> Self {
        output_error(e)
    }
}

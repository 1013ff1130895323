//! The one output sink: everything a command or the language prints to
//! stdout goes through it. A closed pipe (`craft read x.pcap | head -1`) is
//! noticed once, here, and ends the run quietly; any other write failure
//! (`> /dev/full`) is an error naming what failed.

use std::fmt;
use std::io::{self, Write};

/// Why output could not be written.
#[derive(Debug)]
pub enum OutputError {
    /// The reader went away (EPIPE): stop, quietly.
    Closed,
    /// Anything else (a full disk, say).
    Failed(io::Error),
}

impl fmt::Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutputError::Closed => write!(f, "standard output was closed"),
            OutputError::Failed(e) => write!(f, "writing standard output: {e}"),
        }
    }
}

impl std::error::Error for OutputError {}

/// Where printed text goes, line by line.
pub struct Output {
    w: Box<dyn Write>,
    closed: bool,
}

impl Output {
    /// Standard output.
    pub fn stdout() -> Output {
        Output::to(Box::new(io::stdout()))
    }

    /// Standard error (human lines beside a JSON stdout).
    pub fn stderr() -> Output {
        Output::to(Box::new(io::stderr()))
    }

    /// Any writer (tests: a buffer or a sink).
    pub fn to(w: Box<dyn Write>) -> Output {
        Output { w, closed: false }
    }

    /// Nowhere.
    pub fn sink() -> Output {
        Output::to(Box::new(io::sink()))
    }

    /// True once a write found the reader gone.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Writes `s`, adding a newline unless it ends with one, and flushes.
    pub fn line(&mut self, s: &str) -> Result<(), OutputError> {
        if s.ends_with('\n') {
            self.text(s)
        } else {
            self.write_parts(&[s.as_bytes(), b"\n"])
        }
    }

    /// Writes `s` as it is, and flushes.
    pub fn text(&mut self, s: &str) -> Result<(), OutputError> {
        self.write_parts(&[s.as_bytes()])
    }

    fn write_parts(&mut self, parts: &[&[u8]]) -> Result<(), OutputError> {
        if self.closed {
            return Err(OutputError::Closed);
        }
        let r = parts
            .iter()
            .try_for_each(|p| self.w.write_all(p))
            .and_then(|()| self.w.flush());
        r.map_err(|e| {
            if e.kind() == io::ErrorKind::BrokenPipe {
                self.closed = true;
                OutputError::Closed
            } else {
                OutputError::Failed(e)
            }
        })
    }
}

/// Whether `--color auto` colours: on a terminal, unless `NO_COLOR` is set
/// to something (no-color.org: an empty value counts as unset) or `TERM` is
/// `dumb`.
pub fn auto_color(
    terminal: bool,
    no_color: Option<&std::ffi::OsStr>,
    term: Option<&std::ffi::OsStr>,
) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty()) && term.is_none_or(|t| t != "dumb")
}

/// Writes a diagnostic line to stderr (host notes, warnings, errors). A
/// closed stderr is ignored: diagnostics never stop a run.
pub fn warn(s: &str) {
    let mut e = io::stderr().lock();
    let _ = e.write_all(s.as_bytes());
    if !s.ends_with('\n') {
        let _ = e.write_all(b"\n");
    }
}

/// Writes to stderr without a newline (a progress line redrawn with `\r`).
pub fn warn_partial(s: &str) {
    let _ = io::stderr().lock().write_all(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Refuses(io::ErrorKind);

    impl Write for Refuses {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(self.0))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn colour_follows_no_color_org_and_term() {
        use std::ffi::OsStr;
        assert!(auto_color(true, None, Some(OsStr::new("xterm"))));
        assert!(!auto_color(false, None, None), "not a terminal");
        assert!(!auto_color(true, Some(OsStr::new("1")), None));
        assert!(
            auto_color(true, Some(OsStr::new("")), None),
            "an empty NO_COLOR is unset"
        );
        assert!(!auto_color(true, None, Some(OsStr::new("dumb"))));
    }

    #[test]
    fn a_closed_pipe_is_noticed_once_and_stays_closed() {
        let mut o = Output::to(Box::new(Refuses(io::ErrorKind::BrokenPipe)));
        assert!(matches!(o.line("x"), Err(OutputError::Closed)));
        assert!(o.is_closed());
        assert!(matches!(o.text("y"), Err(OutputError::Closed)));
    }

    #[test]
    fn other_failures_say_what_failed() {
        let mut o = Output::to(Box::new(Refuses(io::ErrorKind::StorageFull)));
        let e = o.line("x").unwrap_err();
        assert!(matches!(e, OutputError::Failed(_)));
        assert!(!o.is_closed());
        assert!(e.to_string().starts_with("writing standard output"));
    }
}

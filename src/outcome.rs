//! How a run ended, and the one place that turns it into an exit code
//! (ripgrep's `main() -> ExitCode` boundary): 0 ok, 1 a check failed, 2
//! usage, syntax or evaluation error, 3 no reply in time, 4 not permitted,
//! 130 interrupted. A closed stdout is a quiet success.

/// The outcome of a command, a recipe or a statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Everything went as asked.
    Success,
    /// The reader of our output went away (`| head`): stop quietly, exit 0.
    OutputClosed,
    /// A check failed: an `expect`, a RST to `craft syn`, a failed doctor check.
    CheckFailed,
    /// No reply in time.
    NoReply,
    /// Bad usage, syntax or evaluation error, or an I/O failure.
    Error,
    /// Not permitted: a capability is missing.
    NotPermitted,
    /// Ctrl-C or SIGTERM.
    Interrupted,
}

impl Outcome {
    /// The process exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success | Outcome::OutputClosed => 0,
            Outcome::CheckFailed => 1,
            Outcome::Error => 2,
            Outcome::NoReply => 3,
            Outcome::NotPermitted => 4,
            Outcome::Interrupted => 130,
        }
    }

    /// The worse of two outcomes of one run (several recipe files): an
    /// interruption or a refusal outweighs an error, which outweighs a failed
    /// check; success counts least.
    pub fn worst(self, other: Outcome) -> Outcome {
        self.max(other)
    }

    /// A word for JSON reports.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Success | Outcome::OutputClosed => "passed",
            Outcome::CheckFailed => "failed",
            Outcome::NoReply | Outcome::Error | Outcome::NotPermitted => "error",
            Outcome::Interrupted => "interrupted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_documented_ones() {
        let codes: Vec<u8> = [
            Outcome::Success,
            Outcome::OutputClosed,
            Outcome::CheckFailed,
            Outcome::NoReply,
            Outcome::Error,
            Outcome::NotPermitted,
            Outcome::Interrupted,
        ]
        .iter()
        .map(|o| o.exit_code())
        .collect();
        assert_eq!(codes, [0, 0, 1, 3, 2, 4, 130]);
        assert_eq!(Outcome::CheckFailed.worst(Outcome::Error), Outcome::Error);
        assert_eq!(
            Outcome::Interrupted.worst(Outcome::Error),
            Outcome::Interrupted
        );
    }
}

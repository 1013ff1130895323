//! One-shot commands: each takes a plan (its flags, parsed and checked by
//! main) and runs it on the same runtime and engine the language uses,
//! printing through the runtime's one output and ending in an [`Outcome`].

pub mod doctor;
pub mod drill;
pub mod handshake;
pub mod listen;
pub mod read;
pub mod run;
pub mod scan;
pub mod send;
pub mod show;
pub mod sniff;
pub mod syn;

use crate::engine::burst::BurstReport;
use crate::engine::{EvalResult, Runtime};
use crate::outcome::Outcome;
use crate::render::json::{J, object};

/// Prints what a burst did (a line, or a JSON object); interrupted, the
/// outcome says so after the numbers.
pub fn report_burst(rt: &mut Runtime, r: &BurstReport, json: bool) -> EvalResult<Outcome> {
    let line = if json {
        object(&[
            ("sent", J::Int(r.sent as i64)),
            ("seconds", J::Num(r.secs)),
            ("pps", J::Num(r.pps())),
            ("kernel_queued", J::Int(r.kernel_queued.into())),
            ("kernel_drops", J::Int(r.kernel_drops.into())),
        ])
    } else {
        format!(
            "sent {} frames in {:.3} s: {:.0} pps ({}); kernel drops: {}",
            r.sent,
            r.secs,
            r.pps(),
            crate::render::summary(&r.first),
            r.kernel_drops
        )
    };
    rt.print(&line)?;
    Ok(if r.interrupted {
        Outcome::Interrupted
    } else {
        Outcome::Success
    })
}

/// Draws a session's ladder as it happens (`craft handshake`, `craft
/// listen`): each call prints the segments not shown yet, the client on the
/// left whichever side craft plays.
pub(crate) struct LadderPrinter {
    /// The ladder, learning the other side's ISN from its first segment.
    pub ladder: crate::render::flow::Ladder,
    /// Segments of the session's log already printed.
    pub shown: usize,
    /// JSON objects instead of rows.
    pub json: bool,
}

impl LadderPrinter {
    /// Prints the segments not shown yet.
    pub fn flush(
        &mut self,
        c: &mut crate::session::conn::Conn,
        out: &mut crate::output::Output,
    ) -> Result<(), crate::output::OutputError> {
        use crate::session::conn::Dir;
        let _ = c.take_events();
        // Craft's own segments go left to right when it is the client.
        let client_dir = if c.server { Dir::In } else { Dir::Out };
        for e in &c.log[self.shown..] {
            let fe = crate::render::flow::FlowEntry {
                ts: e.ts,
                from_client: e.dir == client_dir,
                pkt: &e.pkt,
                note: e.note,
            };
            if self.json {
                out.line(&self.ladder.json_row(&fe))?;
            } else {
                out.text(&self.ladder.row(&fe))?;
            }
        }
        self.shown = c.log.len();
        Ok(())
    }
}

/// Why a session command's conversation stopped early: the session failed,
/// or the output did (a closed pipe).
pub(crate) enum Step {
    /// The session.
    Conn(crate::session::conn::ConnError),
    /// The output.
    Output(crate::output::OutputError),
}

impl From<crate::session::conn::ConnError> for Step {
    fn from(e: crate::session::conn::ConnError) -> Self {
        Step::Conn(e)
    }
}

impl From<crate::output::OutputError> for Step {
    fn from(e: crate::output::OutputError) -> Self {
        Step::Output(e)
    }
}

//! `craft send EXPR`: one frame, as the language's `send()` sends it; with
//! `--count`, `--rate`, `--vary` or `--json`, a burst (the runtime's one
//! "send many"), each frame built anew.

use super::report_burst;
use crate::engine::builtins::{packet_arg, sendable};
use crate::engine::burst::{Burst, Vary, send_many};
use crate::engine::{Engine, Error, EvalResult};
use crate::lang::Pos;
use crate::outcome::Outcome;

/// What to send.
#[derive(Clone, Debug)]
pub struct SendOptions {
    /// A packet expression.
    pub expr: String,
    /// How many frames.
    pub count: u64,
    /// Frames per second.
    pub rate: Option<f64>,
    /// `layer.field=LO-HI` specs.
    pub vary: Vec<String>,
    /// A JSON summary.
    pub json: bool,
    /// Send an odd stack as it is.
    pub raw: bool,
}

impl SendOptions {
    /// True when this is a burst rather than one frame.
    fn is_burst(&self) -> bool {
        self.count > 1 || self.rate.is_some() || !self.vary.is_empty() || self.json
    }
}

/// Sends.
pub fn run(eng: &mut Engine, o: &SendOptions) -> EvalResult<Outcome> {
    if let Some(r) = o.rate.filter(|r| !(r.is_finite() && *r > 0.0)) {
        return Err(Error::usage(format!(
            "--rate {r}: give frames per second, more than 0"
        )));
    }
    if !o.is_burst() {
        eng.rt.opts.report_expects = false;
        let raw = if o.raw { ", raw=true" } else { "" };
        eng.run_source("", &format!("send({}{raw})", o.expr))?;
        return Ok(Outcome::Success);
    }
    let pos = Pos::default();
    // A burst reads no replies and ends with the process: there is no
    // conversation for the kernel's RSTs to break, and an nftables rule
    // looked at for every one of them costs a sixth of the rate. (syn --flood
    // does the same.)
    let live = eng.rt.live(pos)?;
    live.guard_rst = false;
    // Nor does it read anything: its socket opens for sending alone.
    live.send_only = true;
    let v = eng.eval_str(&o.expr)?;
    let pkt = packet_arg("send", v, pos)?.to_packet();
    sendable("send", &pkt, o.raw, pos)?;
    // Defaults (Ether layer, source port) first, so --vary can name every layer.
    let full = eng.rt.with_link(pos, |live| live.ready(&pkt))?;
    let vary = o
        .vary
        .iter()
        .map(|v| Vary::parse(v, &full))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::usage)?;
    let burst = Burst {
        count: o.count,
        rate: o.rate,
        vary,
        keep_receiving: false,
    };
    let r = eng
        .rt
        .with_link(pos, |live| send_many(live, &full, &burst))?;
    report_burst(&mut eng.rt, &r, o.json)
}

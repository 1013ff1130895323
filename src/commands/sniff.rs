//! `craft sniff`: packets seen on the interface, one line each, kept nowhere
//! (a long capture stays flat in memory).

use crate::engine::{Error, EvalResult, Runtime, live_error};
use crate::lang::Pos;
use crate::outcome::Outcome;
use crate::output::warn;
use crate::wire::bpf::Filter;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// What to sniff.
#[derive(Clone, Debug, Default)]
pub struct SniffOptions {
    /// Stop after this many packets.
    pub count: Option<usize>,
    /// Stop after this long.
    pub timeout: Option<Duration>,
    /// tcpdump-like filter ("" for everything).
    pub filter: String,
}

/// Sniffs until the count, the timeout, Ctrl-C (exit 130) or a closed stdout.
pub fn run(rt: &mut Runtime, o: &SniffOptions) -> EvalResult<Outcome> {
    let pos = Pos::default();
    let filter = Filter::parse(&o.filter).map_err(|m| Error::usage(format!("--filter: {m}")))?;
    let (live, out) = rt.link_and_output(pos)?;
    // The socket is this command's alone: the kernel filters, and user space
    // checks again only what was queued before the filter was in place.
    live.filter_in_kernel(&filter)
        .map_err(|e| live_error(e, pos))?;
    let mut printed = Ok(());
    live.sniff(
        o.count,
        o.timeout,
        false,
        |f| filter.matches_captured(&f.data, f.orig_len),
        |r| {
            printed = out.line(&crate::render::timed_summary(r.frame.ts, &r.pkt));
            printed.is_ok()
        },
    )
    .map_err(|e| live_error(e, pos))?;
    if let Ok((_, drops)) = live.link_mut().map_err(|e| live_error(e, pos))?.stats()
        && drops > 0
    {
        warn(&format!(
            "craft: the kernel dropped {drops} frames: the receive queue overflowed"
        ));
    }
    printed?;
    Ok(if crate::link::interrupted().load(Ordering::SeqCst) {
        Outcome::Interrupted
    } else {
        Outcome::Success
    })
}

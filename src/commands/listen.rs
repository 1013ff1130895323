//! `craft listen`: craft as the server in one command. It waits for a
//! client's SYN on the port (guarded against the kernel's RSTs), answers with
//! crafted segments, draws the ladder as it happens, sends `--data` after the
//! handshake, echoes what comes with `--echo`, and closes after the client's
//! FIN. `--once` ends after the first connection.

use super::Step;
use crate::engine::{EvalResult, Runtime, live_error};
use crate::lang::Pos;
use crate::outcome::Outcome;
use crate::output::Output;
use crate::render::flow::{Ends, Ladder};
use crate::render::json::{J, object};
use crate::session::conn::{Conn, ConnConfig, ConnError, State, wait_syn};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// What to do.
#[derive(Clone, Debug)]
pub struct ListenOptions {
    /// The address clients connect to (127.0.0.0/8).
    pub addr: IpAddr,
    /// The port.
    pub port: u16,
    /// Sent after the handshake.
    pub data: Option<Vec<u8>>,
    /// Send back what the client sends.
    pub echo: bool,
    /// End after the first connection.
    pub once: bool,
    /// JSON lines instead of the ladder.
    pub json: bool,
    /// How long to wait for a client, and for its data and FIN.
    pub timeout: Duration,
}

/// Serves clients until `--once` is done or none comes in `--timeout`: exit
/// 0 after clean closes, 3 when no client came at all.
pub fn run(rt: &mut Runtime, o: &ListenOptions) -> EvalResult<Outcome> {
    let pos = Pos::default();
    if !o.addr.is_loopback() {
        return Err(crate::engine::Error::usage(format!(
            "--addr: craft listens on 127.0.0.0/8 and ::1 only, not {}",
            o.addr
        )));
    }
    rt.with_link(pos, |live| {
        live.session_port(Some(o.port))?;
        live.link_mut()?;
        Ok(())
    })?;
    rt.flush_notes();
    if !o.json {
        rt.print(&format!(
            "craft: listening on {} (craft answers the SYN itself; Ctrl-C ends)",
            std::net::SocketAddr::new(o.addr, o.port)
        ))?;
    }
    let mut seen = Vec::new();
    let mut outcome = Outcome::NoReply;
    loop {
        let deadline = Instant::now() + o.timeout;
        let (live, out) = rt.link_and_output(pos)?;
        let syn =
            wait_syn(live, o.addr, o.port, deadline, &seen).map_err(|e| live_error(e, pos))?;
        let Some(syn) = syn else {
            if !o.json && outcome == Outcome::NoReply {
                out.line(&format!("no client in {}s", o.timeout.as_secs_f64()))?;
            }
            return Ok(outcome);
        };
        let tcp = syn.pkt.tcp().cloned().unwrap_or_default();
        let client = syn.pkt.ip_ends().and_then(|(s, _)| s).unwrap_or(o.addr);
        let cport = tcp.sport.unwrap_or(0);
        seen.push((client, cport, tcp.seq.unwrap_or(0)));
        let cfg = ConnConfig {
            dst: client,
            dport: cport,
            sport: o.port,
            iss: crate::session::isn::initial_seq(),
            window: 65535,
            mss: if live.iface() == "lo" { 65495 } else { 1460 },
            wscale: Some(7),
            rto: Duration::from_millis(200),
            retries: 3,
            segment: None,
            flight: None,
            sack: false,
            timestamps: false,
            verbose: false,
        };
        let mut c = Conn::accepted(cfg, o.addr, &syn.pkt, syn.frame.ts);
        let mut p = super::LadderPrinter {
            ladder: Ladder::learning(Ends {
                client: (client, cport),
                server: (o.addr, o.port),
                client_isn: c.irs.unwrap_or(0),
                server_isn: c.cfg.iss,
            }),
            shown: 0,
            json: o.json,
        };
        if !o.json {
            out.text(&p.ladder.header())?;
        }
        let r = serve(live, out, &mut c, &mut p, o);
        p.flush(&mut c, out)?;
        let ok = match r {
            Ok(ok) => ok,
            Err(Step::Output(e)) => return Err(e.into()),
            Err(Step::Conn(ConnError::Live(e))) => return Err(live_error(e, pos)),
            Err(Step::Conn(ConnError::State(m))) => {
                crate::output::warn(&format!("craft: {m}"));
                false
            }
        };
        let received = c.received();
        if o.json {
            out.line(&object(&[
                ("summary", J::Bool(true)),
                ("client", J::Str(format!("{client}:{cport}"))),
                ("state", J::Str(c.state.name().into())),
                ("received_bytes", J::Int(received.len() as i64)),
                (
                    "received",
                    J::Str(String::from_utf8_lossy(&received).into_owned()),
                ),
                ("reason", c.reason().map_or(J::Null, |r| J::Str(r.into()))),
            ]))?;
        } else {
            out.line(&format!(
                "received {} bytes: {}",
                received.len(),
                crate::lang::escape_bytes(&received)
            ))?;
            out.line(&format!("state {}", c.state_line()))?;
        }
        outcome = match (outcome, ok) {
            (Outcome::CheckFailed, _) | (_, false) => Outcome::CheckFailed,
            _ => Outcome::Success,
        };
        if o.once {
            return Ok(outcome);
        }
    }
}

/// One connection: handshake, data, close. True when it ended cleanly.
fn serve(
    live: &mut crate::live::Live,
    out: &mut Output,
    c: &mut Conn,
    p: &mut super::LadderPrinter,
    o: &ListenOptions,
) -> Result<bool, Step> {
    let done = c.syn_ack(live)?;
    p.flush(c, out)?;
    if !done {
        crate::output::warn("craft: the client never acknowledged the SYN-ACK");
        return Ok(false);
    }
    if let Some(d) = &o.data {
        c.send(live, d)?;
        p.flush(c, out)?;
    }
    // The client's data (echoed with --echo) until its FIN or --timeout of quiet.
    let end_idle = o.timeout;
    let mut quiet_since = Instant::now();
    while c.state == State::Established && !c.reset {
        let got = c.recv(live, Duration::from_millis(100))?;
        p.flush(c, out)?;
        if !got.is_empty() {
            quiet_since = Instant::now();
            if o.echo && matches!(c.state, State::Established | State::CloseWait) {
                c.send(live, &got)?;
                p.flush(c, out)?;
            }
        } else if quiet_since.elapsed() >= end_idle {
            break;
        }
    }
    if c.reset {
        return Ok(false);
    }
    c.close(live, o.timeout.min(Duration::from_secs(5)))?;
    p.flush(c, out)?;
    Ok(!c.reset && matches!(c.state, State::Closed | State::TimeWait))
}

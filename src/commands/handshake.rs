//! `craft handshake`: a TCP conversation in one command, printed as a ladder
//! as it happens. With no `--dport` it starts its own listener on a free `lo`
//! port inside the process (an echo server), so it works on a fresh machine.

use super::Step;
use crate::engine::{EvalResult, Runtime, live_error};
use crate::lang::Pos;
use crate::live::{Live, LiveError};
use crate::outcome::Outcome;
use crate::output::Output;
use crate::render::flow::{Ends, Ladder};
use crate::render::json::{J, object};
use crate::session::conn::{Conn, ConnConfig, ConnError};
use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener};
use std::time::Duration;

/// What to do.
#[derive(Clone, Debug)]
pub struct HandshakeOptions {
    /// Server address (IPv4 or IPv6).
    pub dst: IpAddr,
    /// Server port; None starts craft's own echo listener.
    pub dport: Option<u16>,
    /// Data to send after the handshake.
    pub data: Option<Vec<u8>>,
    /// Wait for and print the peer's data.
    pub recv: bool,
    /// Close gracefully (FIN both ways); otherwise the connection is aborted with RST.
    pub close: bool,
    /// JSON lines instead of the ladder.
    pub json: bool,
    /// How long `--recv` waits for more data, and close for the peer's FIN.
    pub timeout: Duration,
}

/// Starts an echo listener on a free port of `addr` (127.0.0.1 or ::1);
/// returns the port.
fn start_listener(addr: IpAddr) -> Result<u16, LiveError> {
    let l = TcpListener::bind((addr, 0))
        .map_err(|e| LiveError::Other(format!("starting a listener on {addr}: {e}")))?;
    let port = l
        .local_addr()
        .map_err(|e| LiveError::Other(e.to_string()))?
        .port();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = l.accept() {
            let mut buf = [0u8; 65536];
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 || s.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    });
    Ok(port)
}

/// Runs the conversation: success when it went as asked, a failed check on
/// RST, no reply when the SYN got no answer.
pub fn run(rt: &mut Runtime, o: &HandshakeOptions) -> EvalResult<Outcome> {
    let pos = Pos::default();
    let own = o.dport.is_none();
    let dport = match o.dport {
        Some(p) => p,
        None => start_listener(crate::engine::session::loopback_like(o.dst))
            .map_err(|e| live_error(e, pos))?,
    };
    let sport = rt.with_link(pos, |live| live.session_port(None))?;
    if own && !o.json {
        rt.print(&format!(
            "craft: no --dport given: listening on {} (an echo server inside craft)",
            std::net::SocketAddr::new(crate::engine::session::loopback_like(o.dst), dport)
        ))?;
    }
    let cfg = ConnConfig {
        dst: o.dst,
        dport,
        sport,
        iss: crate::session::isn::initial_seq(),
        window: 65535,
        mss: 65495,
        wscale: None,
        rto: Duration::from_millis(200),
        retries: 3,
        segment: None,
        flight: None,
        sack: false,
        timestamps: false,
        verbose: false,
    };
    let mut c = Conn::new(cfg);
    let mut p = super::LadderPrinter {
        ladder: Ladder::learning(Ends {
            client: (crate::engine::session::loopback_like(o.dst), sport),
            server: (o.dst, dport),
            client_isn: c.cfg.iss,
            server_isn: 0,
        }),
        shown: 0,
        json: o.json,
    };
    let (live, out) = rt.link_and_output(pos)?;
    if !o.json {
        out.text(&p.ladder.header())?;
    }
    let r = conversation(live, out, &mut c, &mut p, o);
    p.flush(&mut c, out)?;
    let outcome = match r {
        Ok(outcome) => outcome,
        Err(Step::Output(e)) => return Err(e.into()),
        Err(Step::Conn(ConnError::Live(e))) => return Err(live_error(e, pos)),
        Err(Step::Conn(ConnError::State(m))) => {
            crate::output::warn(&format!("craft: {m}"));
            if c.reset {
                Outcome::CheckFailed
            } else {
                Outcome::Error
            }
        }
    };
    let bytes = c.received();
    let received = String::from_utf8_lossy(&bytes).into_owned();
    if o.json {
        out.line(&object(&[
            ("summary", J::Bool(true)),
            ("state", J::Str(c.state.name().into())),
            ("sent_bytes", J::Int(c.sent_bytes() as i64)),
            ("received_bytes", J::Int(bytes.len() as i64)),
            ("received", J::Str(received)),
            ("reason", c.reason().map_or(J::Null, |r| J::Str(r.into()))),
        ]))?;
    } else {
        if o.recv {
            out.line(&format!(
                "received {} bytes: {}",
                bytes.len(),
                crate::lang::escape_bytes(&bytes)
            ))?;
        }
        out.line(&format!("state {}", c.state_line()))?;
    }
    Ok(outcome)
}

fn conversation(
    live: &mut Live,
    out: &mut Output,
    c: &mut Conn,
    p: &mut super::LadderPrinter,
    o: &HandshakeOptions,
) -> Result<Outcome, Step> {
    let answer = c.syn(live)?;
    p.flush(c, out)?;
    match answer {
        None => return Ok(Outcome::NoReply),
        Some(_) if c.reset => return Ok(Outcome::CheckFailed),
        Some(_) => {}
    }
    c.ack(live)?;
    p.flush(c, out)?;
    if let Some(d) = &o.data {
        c.send(live, d)?;
        p.flush(c, out)?;
    }
    if o.recv {
        // craft's own echo listener answers at once: no need to wait long.
        let idle = if o.dport.is_none() {
            o.timeout.min(Duration::from_millis(200))
        } else {
            o.timeout
        };
        c.recv(live, idle)?;
        p.flush(c, out)?;
    }
    if o.close {
        c.close(live, o.timeout)?;
    } else if !c.reset {
        c.rst(live)?;
        if !o.json {
            p.flush(c, out)?;
            out.line(
                "(aborted with RST so the peer is not left waiting; --close closes gracefully)",
            )?;
        }
    }
    p.flush(c, out)?;
    Ok(if c.reset {
        Outcome::CheckFailed
    } else {
        Outcome::Success
    })
}

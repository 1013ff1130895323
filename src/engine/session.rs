//! Sessions in the language: `connect()`, the helpers `c.syn()`, `c.ack()`,
//! `c.send()`, `c.recv()`, `c.close()`, `c.rst()`, their attributes, and
//! `flow(c)` / `follow(c)`.

use super::args::Args;
use super::value::{PacketView, SessionRef, Value};
use super::{Engine, Error, EvalResult, live_error};
use crate::lang::Pos;
use crate::render::flow::{Ends, FlowEntry, ladder};
use crate::session::conn::{Conn, ConnConfig, ConnError, Dir};
use std::cell::RefCell;
use std::net::Ipv4Addr;
use std::rc::Rc;
use std::time::Duration;

fn conn_error(e: ConnError, pos: Pos) -> Error {
    match e {
        ConnError::State(m) => Error::eval(pos, m),
        ConnError::Live(l) => live_error(l, pos),
    }
}

/// `connect(dst, dport, sport=, iss=, window=, mss=, wscale=, rto=, retries=, verbose=)`:
/// reserves and guards a source port; sends nothing.
pub fn connect(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let dst = match a.req("dst")? {
        Value::Ip(ip) => ip,
        Value::Str(s) => {
            let t = String::from_utf8_lossy(&s).into_owned();
            if t == "localhost" {
                Ipv4Addr::LOCALHOST
            } else {
                t.parse().map_err(|_| {
                    Error::eval(pos, format!("connect(): \"{t}\" is not an IPv4 address"))
                })?
            }
        }
        v => {
            return Err(Error::eval(
                pos,
                format!(
                    "connect(): dst is an address like \"127.0.0.1\", not {}",
                    v.repr()
                ),
            ));
        }
    };
    let dport = a.int("dport", 65535)?.ok_or_else(|| {
        Error::eval(
            pos,
            "connect() needs dport, e.g. connect(\"127.0.0.1\", 1234)",
        )
    })? as u16;
    let sport = a.int("sport", 65535)?.map(|p| p as u16);
    let iss = a.int("iss", u32::MAX.into())?.map(|v| v as u32);
    let window = a.int("window", 1 << 30)?.map(|v| v as u32);
    let mss = a.int("mss", 65535)?.map(|v| v as u16);
    let wscale = a.int("wscale", 14)?.map(|v| v as u8);
    let rto = a.secs("rto")?;
    let retries = a.int("retries", 100)?;
    let verbose = a.given("verbose").is_none_or(|v| v.truthy());
    let (lo, sport) = eng.rt.with_link(pos, |live| {
        let lo = live.iface() == "lo";
        Ok((lo, live.session_port(sport)?))
    })?;
    let cfg = ConnConfig {
        dst,
        dport,
        sport,
        iss: iss.unwrap_or_else(crate::session::isn::initial_seq),
        window: window.unwrap_or(65535),
        mss: mss.unwrap_or(if lo { 65495 } else { 1460 }),
        wscale,
        rto: Duration::from_secs_f64(rto.unwrap_or(0.2).clamp(0.001, 60.0)),
        retries: retries.unwrap_or(5) as u32,
        verbose,
    };
    let r = SessionRef(Rc::new(RefCell::new(Conn::new(cfg))));
    eng.rt.track(&r.0);
    Ok(Value::Session(r))
}

/// What a helper did, shown after its segments.
enum After {
    Nothing,
    /// The SYN got no answer after all retries.
    NoAnswer,
    /// The final state.
    State,
}

/// Runs one helper on the session, shows the segments it sent and received,
/// and returns its result.
fn step(
    eng: &mut Engine,
    s: &SessionRef,
    pos: Pos,
    after: After,
    shows_result: bool,
    f: impl FnOnce(&mut Conn, &mut crate::live::Live) -> Result<Value, ConnError>,
) -> EvalResult<Value> {
    let live = eng.rt.live(pos)?;
    let mut c = s.0.borrow_mut();
    let r = f(&mut c, live);
    let events = c.take_events();
    let lines: Vec<String> = if c.cfg.verbose {
        events
            .iter()
            .filter_map(crate::render::events::line)
            .collect()
    } else {
        Vec::new()
    };
    let extra = match (after, &r) {
        (After::NoAnswer, Ok(Value::None)) => Some(format!(
            "no answer to the SYN after {} tries",
            c.cfg.retries + 1
        )),
        (After::State, _) if !c.reset => Some(format!("state {}", c.state_name())),
        _ => None,
    };
    let verbose = c.cfg.verbose;
    drop(c);
    eng.rt.flush_notes();
    for l in lines {
        eng.print(&l)?;
    }
    if let (Some(x), true) = (extra, eng.rt.opts.echo) {
        eng.print(&x)?;
    }
    // The segments were shown as they went: the REPL need not echo the result.
    eng.interp.shown = shows_result && verbose;
    r.map_err(|e| conn_error(e, pos))
}

/// `c.syn()`.
pub fn syn(eng: &mut Engine, s: &SessionRef, a: &mut Args) -> EvalResult<Value> {
    step(eng, s, a.pos(), After::NoAnswer, true, |c, l| {
        c.syn(l).map(opt_packet)
    })
}

/// `c.ack()`.
pub fn ack(eng: &mut Engine, s: &SessionRef, a: &mut Args) -> EvalResult<Value> {
    step(eng, s, a.pos(), After::Nothing, true, |c, l| {
        c.ack(l).map(packet)
    })
}

/// `c.send(data)`.
pub fn send(eng: &mut Engine, s: &SessionRef, a: &mut Args) -> EvalResult<Value> {
    let data = match a.req("data")? {
        Value::Str(b) => b,
        v => {
            return Err(Error::eval(
                a.pos(),
                format!("send() takes the data as a string, not {}", v.repr()),
            ));
        }
    };
    step(eng, s, a.pos(), After::Nothing, true, |c, l| {
        c.send(l, &data).map(opt_packet)
    })
}

fn timeout(a: &mut Args) -> EvalResult<Duration> {
    Ok(Duration::from_secs_f64(
        a.secs("timeout")?.unwrap_or(2.0).min(86400.0),
    ))
}

/// `c.recv(timeout=2)`.
pub fn recv(eng: &mut Engine, s: &SessionRef, a: &mut Args) -> EvalResult<Value> {
    let t = timeout(a)?;
    step(eng, s, a.pos(), After::Nothing, false, |c, l| {
        c.recv(l, t).map(Value::Str)
    })
}

/// `c.close(timeout=2)`.
pub fn close(eng: &mut Engine, s: &SessionRef, a: &mut Args) -> EvalResult<Value> {
    let t = timeout(a)?;
    step(eng, s, a.pos(), After::State, true, |c, l| {
        c.close(l, t).map(opt_packet)
    })
}

/// `c.rst()`.
pub fn rst(eng: &mut Engine, s: &SessionRef, a: &mut Args) -> EvalResult<Value> {
    step(eng, s, a.pos(), After::Nothing, true, |c, l| {
        c.rst(l).map(packet)
    })
}

fn packet(p: crate::wire::Packet) -> Value {
    Value::Packet(PacketView::whole(p))
}

fn opt_packet(p: Option<crate::wire::Packet>) -> Value {
    p.map_or(Value::None, packet)
}

fn ends(c: &Conn) -> Ends {
    Ends {
        client: (
            c.log
                .iter()
                .find(|e| e.dir == Dir::Out)
                .and_then(|e| e.pkt.ip())
                .and_then(|i| i.src)
                .unwrap_or(Ipv4Addr::LOCALHOST),
            c.cfg.sport,
        ),
        server: (c.cfg.dst, c.cfg.dport),
        client_isn: c.cfg.iss,
        server_isn: c.irs.unwrap_or(0),
    }
}

/// `flow(c)`: the ladder of a session.
pub fn flow_text(s: &SessionRef) -> String {
    let c = s.0.borrow();
    let entries: Vec<FlowEntry<'_>> = c
        .log
        .iter()
        .map(|e| FlowEntry {
            ts: e.ts,
            from_client: e.dir == Dir::Out,
            pkt: &e.pkt,
            note: e.note,
        })
        .collect();
    ladder(&ends(&c), &entries)
}

/// `follow(c)`: the data both ways.
pub fn follow_text(s: &SessionRef, color: bool) -> String {
    let c = s.0.borrow();
    let stream: Vec<(bool, &[u8])> = c
        .stream
        .iter()
        .map(|(d, b)| (*d == Dir::Out, b.as_slice()))
        .collect();
    crate::render::flow::follow(&ends(&c), &stream, color)
}

fn session_arg(a: &mut Args) -> EvalResult<SessionRef> {
    match a.req("session")? {
        Value::Session(s) => Ok(s),
        v => Err(Error::eval(
            a.pos(),
            format!(
                "{}() takes a session from connect(), not {}",
                a.name(),
                v.type_name()
            ),
        )),
    }
}

/// `flow(session)`.
pub fn flow(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let s = session_arg(a)?;
    eng.print(&flow_text(&s))?;
    Ok(Value::None)
}

/// `follow(session)`.
pub fn follow(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let s = session_arg(a)?;
    let text = follow_text(&s, eng.rt.opts.color);
    eng.print(&text)?;
    Ok(Value::None)
}

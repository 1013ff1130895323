//! Sessions in the language: `connect()`, the helpers `c.syn()`, `c.ack()`,
//! `c.send()`, `c.recv()`, `c.close()`, `c.rst()`, their attributes, and
//! `flow(c)` / `follow(c)`.

use super::builtins::Args;
use super::value::{PacketView, SessionRef, Value};
use super::{Engine, Error, EvalResult, live_error};
use crate::lang::Pos;
use crate::render::flow::{Ends, FlowEntry, follow, ladder};
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

fn int_arg(a: &mut Args, i: usize, key: &str, max: i64) -> EvalResult<Option<i64>> {
    match a.opt(i, key) {
        None | Some(Value::None) => Ok(None),
        Some(Value::Int(n)) if (0..=max).contains(&n) => Ok(Some(n)),
        Some(v) => Err(Error::eval(
            a.pos(),
            format!(
                "connect(): {key} must be an integer in 0..={max}, not {}",
                v.repr()
            ),
        )),
    }
}

/// `connect(dst, dport, sport=, iss=, window=, mss=, wscale=, rto=, retries=, verbose=)`:
/// reserves and guards a source port; sends nothing.
pub(super) fn connect(eng: &mut Engine, mut a: Args) -> EvalResult<Value> {
    let pos = a.pos();
    let dst = match a.req(0, "dst")? {
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
    let dport = int_arg(&mut a, 1, "dport", 65535)?.ok_or_else(|| {
        Error::eval(
            pos,
            "connect() needs dport, e.g. connect(\"127.0.0.1\", 1234)",
        )
    })? as u16;
    let sport = int_arg(&mut a, 2, "sport", 65535)?.map(|p| p as u16);
    let iss = int_arg(&mut a, 3, "iss", u32::MAX.into())?.map(|v| v as u32);
    let window = int_arg(&mut a, 4, "window", 1 << 30)?.map(|v| v as u32);
    let mss = int_arg(&mut a, 5, "mss", 65535)?.map(|v| v as u16);
    let wscale = int_arg(&mut a, 6, "wscale", 14)?.map(|v| v as u8);
    let rto = a.secs(7, "rto")?;
    let retries = int_arg(&mut a, 8, "retries", 100)?;
    let verbose = a.opt(9, "verbose").is_none_or(|v| v.truthy());
    a.finish()?;
    let live = eng.live(pos)?;
    let lo = live.iface() == "lo";
    let sport = live.session_port(sport).map_err(|e| live_error(e, pos))?;
    eng.flush_notes();
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
    eng.sessions.push(Rc::downgrade(&r.0));
    Ok(Value::Session(r))
}

/// A method call on a session: `c.syn()`, ...
pub(super) fn method(
    eng: &mut Engine,
    s: &SessionRef,
    name: &str,
    args: Vec<Value>,
    kwargs: Vec<(String, Value, Pos)>,
    pos: Pos,
) -> EvalResult<Value> {
    let known = METHODS;
    let Some(&mname) = known.iter().find(|m| **m == name) else {
        return Err(Error::eval(
            pos,
            format!(
                "a session has no method '{name}' (methods: {})",
                known.join(", ")
            ),
        ));
    };
    let mut a = Args::new(mname, pos, args, kwargs);
    let data = if mname == "send" {
        match a.req(0, "data")? {
            Value::Str(b) => Some(b),
            v => {
                return Err(Error::eval(
                    pos,
                    format!("send() takes the data as a string, not {}", v.repr()),
                ));
            }
        }
    } else {
        None
    };
    let timeout = if matches!(mname, "recv" | "close") {
        a.secs(0, "timeout")?.unwrap_or(2.0)
    } else {
        0.0
    };
    a.finish()?;
    let timeout = Duration::from_secs_f64(timeout.min(86400.0));
    let live = eng.live(pos)?;
    let mut c = s.0.borrow_mut();
    let r = match mname {
        "syn" => c.syn(live).map(opt_packet),
        "ack" => c.ack(live).map(packet),
        "send" => c.send(live, &data.unwrap_or_default()).map(opt_packet),
        "recv" => c.recv(live, timeout).map(Value::Str),
        "close" => c.close(live, timeout).map(opt_packet),
        _ => c.rst(live).map(packet),
    };
    let events = c.take_events();
    let lines: Vec<String> = if c.cfg.verbose {
        events
            .iter()
            .filter_map(crate::render::events::line)
            .collect()
    } else {
        Vec::new()
    };
    let extra = match (mname, &r) {
        ("syn", Ok(Value::None)) => Some(format!(
            "no answer to the SYN after {} tries",
            c.cfg.retries + 1
        )),
        ("close", _) if !c.reset => Some(format!("state {}", c.state_name())),
        _ => None,
    };
    drop(c);
    eng.flush_notes();
    for l in lines {
        eng.print(&l);
    }
    if let (Some(x), true) = (extra, eng.echo) {
        eng.print(&x);
    }
    // The segments were shown as they went: the REPL need not echo the result.
    eng.shown = mname != "recv" && c_verbose(s);
    r.map_err(|e| conn_error(e, pos))
}

fn c_verbose(s: &SessionRef) -> bool {
    s.0.borrow().cfg.verbose
}

fn packet(p: crate::wire::Packet) -> Value {
    Value::Packet(PacketView::whole(p))
}

fn opt_packet(p: Option<crate::wire::Packet>) -> Value {
    p.map_or(Value::None, packet)
}

/// A session's methods, for errors and completion.
pub const METHODS: &[&str] = &["syn", "ack", "send", "recv", "close", "rst"];

/// Names readable on a session, for errors and completion.
pub const ATTRS: &[&str] = &[
    "seq",
    "ack_no",
    "state",
    "mss",
    "peer_window",
    "window",
    "sport",
    "dport",
    "dst",
    "iss",
    "irs",
    "last_sent",
    "last_recv",
    "received",
    "packets",
];

/// Reads `c.name`.
pub(super) fn attr(s: &SessionRef, name: &str, pos: Pos) -> EvalResult<Value> {
    let c = s.0.borrow();
    Ok(match name {
        "seq" => Value::Int(c.snd_nxt.into()),
        "ack_no" => Value::Int(c.rcv_nxt.into()),
        "state" => Value::Str(c.state_name().into_bytes()),
        "mss" => Value::Int(c.peer_mss.into()),
        "peer_window" => Value::Int(c.peer_window.into()),
        "window" => Value::Int(c.cfg.window.into()),
        "sport" => Value::Int(c.cfg.sport.into()),
        "dport" => Value::Int(c.cfg.dport.into()),
        "dst" => Value::Ip(c.cfg.dst),
        "iss" => Value::Int(c.cfg.iss.into()),
        "irs" => c.irs.map_or(Value::None, |v| Value::Int(v.into())),
        "last_sent" => c.last(Dir::Out).cloned().map_or(Value::None, packet),
        "last_recv" => c.last(Dir::In).cloned().map_or(Value::None, packet),
        "received" => Value::Str(c.received.clone()),
        "packets" => Value::List(c.log.iter().map(|e| packet(e.pkt.clone())).collect()),
        _ => {
            return Err(Error::eval(
                pos,
                format!(
                    "a session has no attribute '{name}' (attributes: {})",
                    ATTRS.join(", ")
                ),
            ));
        }
    })
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
    follow(&ends(&c), &stream, color)
}

impl Engine {
    /// Keeps sessions in step with a segment sent by hand (`send`, `sr1`).
    pub(super) fn observe_sent(&mut self, pkt: &crate::wire::Packet, ts: std::time::SystemTime) {
        self.sessions.retain(|w| w.strong_count() > 0);
        for w in &self.sessions {
            if let Some(c) = w.upgrade() {
                let mut c = c.borrow_mut();
                if c.is_to_peer(pkt) {
                    c.observe_sent(pkt, ts);
                }
            }
        }
    }

    /// Keeps sessions in step with a segment received by `sr1`.
    pub(super) fn observe_received(
        &mut self,
        pkt: &crate::wire::Packet,
        ts: std::time::SystemTime,
    ) {
        for w in &self.sessions {
            if let Some(c) = w.upgrade() {
                let mut c = c.borrow_mut();
                if c.is_from_peer(pkt) {
                    let _ = c.absorb(pkt, ts);
                    let _ = c.take_events();
                }
            }
        }
    }
}

//! Sessions in the language: `connect()`, the helpers `c.syn()`, `c.ack()`,
//! `c.send()`, `c.recv()`, `c.close()`, `c.rst()`, their attributes, and
//! `flow(c)` / `follow(c)`.

use super::args::Args;
use super::value::{Listener, ListenerRef, PacketView, SessionRef, Value};
use super::{Engine, Error, EvalResult, live_error};
use crate::lang::Pos;
use crate::render::flow::{Ends, FlowEntry, ladder};
use crate::session::conn::{Conn, ConnConfig, ConnError, Dir};
use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use std::time::Duration;

fn conn_error(e: ConnError, pos: Pos) -> Error {
    match e {
        ConnError::State(m) => Error::eval(pos, m),
        ConnError::Live(l) => live_error(l, pos),
    }
}

/// `segment=N` (bytes a segment at most) and `flight=K` (segments
/// unacknowledged at most), for `connect()`, `listen()` and `c.send()`.
fn send_limits(a: &mut Args) -> EvalResult<(Option<u16>, Option<u32>)> {
    let pos = a.pos();
    let from_one = |n: Option<i64>, what: &str| match n {
        Some(0) => Err(Error::eval(
            pos,
            format!("{what} is at least 1 (leave it out for no limit)"),
        )),
        n => Ok(n),
    };
    let segment = from_one(a.int("segment", 65495)?, "segment")?.map(|n| n as u16);
    let flight = from_one(a.int("flight", 1 << 20)?, "flight")?.map(|n| n as u32);
    Ok((segment, flight))
}

/// `sack=true`, `timestamps=true`: the options offered in the SYN (or
/// answered in the SYN-ACK), for `connect()` and `listen()`.
fn offers(a: &mut Args) -> (bool, bool) {
    let on = |v: Option<Value>| v.is_some_and(|v| v.truthy());
    (on(a.given("sack")), on(a.given("timestamps")))
}

/// `connect(dst, dport, sport=, iss=, window=, mss=, wscale=, rto=, retries=,
/// segment=, flight=, verbose=)`: reserves and guards a source port; sends nothing.
pub fn connect(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let dst = super::fields::address_ip("connect", "dst is an address", a.req("dst")?)
        .map_err(|m| Error::eval(pos, m))?;
    if !dst.is_loopback() {
        return Err(Error::eval(
            pos,
            format!("connect(): craft connects to 127.0.0.0/8 and ::1 only, not {dst}"),
        ));
    }
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
    let (segment, flight) = send_limits(a)?;
    let (sack, timestamps) = offers(a);
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
        segment,
        flight,
        sack,
        timestamps,
        verbose,
    };
    let r = SessionRef(Rc::new(RefCell::new(Conn::new(cfg))));
    eng.rt.track(&r.0);
    Ok(Value::Session(r))
}

/// `listen(port)` or `listen(addr, port)`, with `window=`, `mss=`,
/// `wscale=`, `rto=`, `retries=`, `verbose=` for the sessions it accepts:
/// reserves the port and guards it against the kernel's RSTs (as
/// `connect()` guards its source port), opens the link so that SYNs are
/// queued from now on, and sends nothing.
pub fn listen(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    // listen(1234) or listen("127.0.0.1", 1234).
    let (addr, port) = match (a.req("addr")?, a.opt("port")) {
        (Value::Int(p), None) => (IpAddr::V4(Ipv4Addr::LOCALHOST), Value::Int(p)),
        (addr, Some(port)) => (listen_addr(addr, pos)?, port),
        (v, None) => {
            return Err(Error::eval(
                pos,
                format!(
                    "listen() takes a port, e.g. listen(1234) or listen(\"127.0.0.1\", 1234), not {}",
                    v.repr()
                ),
            ));
        }
    };
    let port = match port {
        Value::Int(p) if (1..=65535).contains(&p) => p as u16,
        v => {
            return Err(Error::eval(
                pos,
                format!("listen(): the port is 1 to 65535, not {}", v.repr()),
            ));
        }
    };
    let window = a.int("window", 1 << 30)?.map_or(65535, |v| v as u32);
    let mss = a.int("mss", 65535)?.map(|v| v as u16);
    let wscale = match a.opt("wscale") {
        Some(Value::None) => None,
        _ => Some(a.int("wscale", 14)?.map_or(7, |v| v as u8)),
    };
    let rto = Duration::from_secs_f64(a.secs("rto")?.unwrap_or(0.2).clamp(0.001, 60.0));
    let retries = a.int("retries", 100)?.map_or(5, |v| v as u32);
    let (segment, flight) = send_limits(a)?;
    let (sack, timestamps) = offers(a);
    let verbose = a.given("verbose").is_none_or(|v| v.truthy());
    eng.rt.with_link(pos, |live| {
        live.session_port(Some(port))?;
        // Open the link now: SYNs that come before accept() wait in its queue.
        live.link_mut()?;
        Ok(())
    })?;
    eng.rt.flush_notes();
    Ok(Value::Listener(ListenerRef(Rc::new(RefCell::new(
        Listener {
            addr,
            port,
            window,
            mss,
            wscale,
            rto,
            retries,
            segment,
            flight,
            sack,
            timestamps,
            verbose,
            accepted: Vec::new(),
        },
    )))))
}

fn listen_addr(v: Value, pos: Pos) -> EvalResult<IpAddr> {
    let ip = super::fields::address_ip("listen", "the address is", v)
        .map_err(|m| Error::eval(pos, m))?;
    if !ip.is_loopback() {
        return Err(Error::eval(
            pos,
            format!("listen(): craft listens on 127.0.0.0/8 and ::1 only, not {ip}"),
        ));
    }
    Ok(ip)
}

/// `l.accept(timeout=10)`: the first SYN to the listener's port (one that
/// came before the call too, kept in the link's backlog or queue), answered
/// with a SYN-ACK; the client's ACK completes it. Returns the session (a
/// session like `connect()`'s, started from the server side), or none when
/// no SYN came in time.
pub fn accept(eng: &mut Engine, l: &ListenerRef, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let t = Duration::from_secs_f64(a.secs("timeout")?.unwrap_or(10.0).min(86400.0));
    let (addr, port) = {
        let l = l.0.borrow();
        (l.addr, l.port)
    };
    let deadline = std::time::Instant::now() + t;
    let got = {
        let seen = l.0.borrow().accepted.clone();
        let live = eng.rt.live(pos)?;
        crate::session::conn::wait_syn(live, addr, port, deadline, &seen)
            .map_err(|e| live_error(e, pos))?
    };
    let Some(syn) = got else {
        eng.rt.flush_notes();
        if l.0.borrow().verbose && eng.rt.opts.echo {
            eng.print(&format!(
                "no SYN to {} in {}s",
                std::net::SocketAddr::new(addr, port),
                t.as_secs_f64()
            ))?;
        }
        return Ok(Value::None);
    };
    let tcp = syn.pkt.tcp().cloned().unwrap_or_default();
    let client = syn.pkt.ip_ends().and_then(|(s, _)| s).unwrap_or(addr);
    let cport = tcp.sport.unwrap_or(0);
    let lo = eng.rt.live(pos)?.iface() == "lo";
    let cfg = {
        let mut l = l.0.borrow_mut();
        l.accepted.push((client, cport, tcp.seq.unwrap_or(0)));
        ConnConfig {
            dst: client,
            dport: cport,
            sport: port,
            iss: crate::session::isn::initial_seq(),
            window: l.window,
            mss: l.mss.unwrap_or(if lo { 65495 } else { 1460 }),
            wscale: l.wscale,
            rto: l.rto,
            retries: l.retries,
            segment: l.segment,
            flight: l.flight,
            sack: l.sack,
            timestamps: l.timestamps,
            verbose: l.verbose,
        }
    };
    let r = SessionRef(Rc::new(RefCell::new(Conn::accepted(
        cfg,
        addr,
        &syn.pkt,
        syn.frame.ts,
    ))));
    eng.rt.track(&r.0);
    let done = step(eng, &r, pos, After::State, true, |c, l| {
        c.syn_ack(l).map(Value::Bool)
    })?;
    if done != Value::Bool(true) {
        let c = r.0.borrow();
        let why = if c.reset {
            "the client reset the connection".to_string()
        } else {
            format!("no ACK of the SYN-ACK after {} tries", c.cfg.retries + 1)
        };
        return Err(Error::eval(
            pos,
            format!(
                "accept(): {} connected, but {why}",
                std::net::SocketAddr::new(client, cport)
            ),
        ));
    }
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
    let verbose = c.cfg.verbose;
    // A quiet session (verbose=false) prints nothing of its own.
    let extra = match (after, &r) {
        _ if !verbose => None,
        (After::NoAnswer, Ok(Value::None)) => Some(format!(
            "no answer to the SYN after {} tries",
            c.cfg.retries + 1
        )),
        (After::State, _) if !c.reset => Some(format!("state {}", c.state_line())),
        _ => None,
    };
    drop(c);
    eng.rt.flush_notes();
    for l in lines {
        eng.print(&l)?;
    }
    if let (Some(x), true) = (extra, eng.rt.opts.echo) {
        eng.print(&x)?;
    }
    // The segments were shown as they went: the REPL need not echo the
    // result. A quiet session's results are not echoed either.
    eng.interp.shown = shows_result || !verbose;
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

/// `c.send(data, segment=, flight=)`.
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
    let (segment, flight) = send_limits(a)?;
    step(eng, s, a.pos(), After::Nothing, true, |c, l| {
        let segment = segment.or(c.cfg.segment);
        let flight = flight.or(c.cfg.flight);
        c.send_with(l, &data, segment, flight).map(opt_packet)
    })
}

fn timeout(a: &mut Args) -> EvalResult<Duration> {
    Ok(Duration::from_secs_f64(
        a.secs("timeout")?.unwrap_or(2.0).min(86400.0),
    ))
}

/// `c.recv(timeout=2, until=none, size=none)`.
pub fn recv(eng: &mut Engine, s: &SessionRef, a: &mut Args) -> EvalResult<Value> {
    let t = timeout(a)?;
    let until = match a.given("until") {
        None => None,
        Some(Value::Str(u)) if !u.is_empty() => Some(u),
        Some(v) => {
            return Err(Error::eval(
                a.pos(),
                format!(
                    "recv(): until is the bytes to stop after, e.g. \"\\r\\n\\r\\n\", not {}",
                    v.repr()
                ),
            ));
        }
    };
    let size = match a.given("size") {
        None => None,
        Some(Value::Int(n)) if n >= 1 => Some(n as usize),
        Some(v) => {
            return Err(Error::eval(
                a.pos(),
                format!("recv(): size is a number of bytes from 1, not {}", v.repr()),
            ));
        }
    };
    step(eng, s, a.pos(), After::Nothing, false, |c, l| {
        c.recv_upto(l, t, until.as_deref(), size).map(Value::Str)
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

/// `c.rel(p)`: a copy of the segment `p` (of this session, either way) with
/// seq and ack relative to the initial sequence numbers, as the live lines
/// and `flow(c)` show them; the checksum is computed again for the copy.
pub fn rel(_eng: &mut Engine, s: &SessionRef, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let mut p = super::builtins::packet_arg("rel", a.req("packet")?, pos)?.to_packet();
    let c = s.0.borrow();
    let dir = if c.is_to_peer(&p) {
        Dir::Out
    } else if c.is_from_peer(&p) {
        Dir::In
    } else {
        return Err(Error::eval(
            pos,
            format!(
                "rel(): not a segment of this session (port {} to {}:{}, either way)",
                c.cfg.sport, c.cfg.dst, c.cfg.dport
            ),
        ));
    };
    let base = c.relative(dir);
    if let Some(t) = p.tcp_mut() {
        t.seq = t.seq.map(|v| v.wrapping_sub(base.seq_base));
        if t.flag_bits() & crate::wire::tcp::flags::ACK != 0 {
            t.ack = t.ack.map(|v| v.wrapping_sub(base.ack_base));
        }
        t.chksum = None;
    }
    Ok(packet(p))
}

fn packet(p: crate::wire::Packet) -> Value {
    Value::Packet(PacketView::whole(p))
}

fn opt_packet(p: Option<crate::wire::Packet>) -> Value {
    p.map_or(Value::None, packet)
}

fn ends(c: &Conn) -> Ends {
    if c.server {
        return Ends {
            client: (c.cfg.dst, c.cfg.dport),
            server: (c.local.unwrap_or(loopback_like(c.cfg.dst)), c.cfg.sport),
            client_isn: c.irs.unwrap_or(0),
            server_isn: c.cfg.iss,
        };
    }
    Ends {
        client: (
            c.log
                .iter()
                .find(|e| e.dir == Dir::Out)
                .and_then(|e| e.pkt.ip_ends())
                .and_then(|(s, _)| s)
                .unwrap_or(loopback_like(c.cfg.dst)),
            c.cfg.sport,
        ),
        server: (c.cfg.dst, c.cfg.dport),
        client_isn: c.cfg.iss,
        server_isn: c.irs.unwrap_or(0),
    }
}

/// The loopback address of `a`'s family (the IP layer's default source).
pub fn loopback_like(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
        IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
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
            from_client: (e.dir == Dir::Out) != c.server,
            pkt: &e.pkt,
            note: e.note,
        })
        .collect();
    ladder(&ends(&c), &entries)
}

/// `follow(c)`: the data both ways.
pub fn follow_text(s: &SessionRef, color: bool) -> String {
    let c = s.0.borrow();
    let runs = c.stream();
    let stream: Vec<(bool, &[u8])> = runs
        .iter()
        .map(|(d, b)| ((*d == Dir::Out) != c.server, b.as_slice()))
        .collect();
    crate::render::flow::follow(&ends(&c), &stream, color)
}

#[cfg(test)]
mod tests {
    use super::super::{Engine, Runtime};
    use crate::link::MemLink;
    use crate::live::Live;
    use crate::output::Output;
    use crate::wire::tcp::{TcpOption, encode_options, flags};
    use crate::wire::{Ipv4, Packet, Tcp};
    use std::cell::RefCell;
    use std::io::Write;
    use std::net::Ipv4Addr;
    use std::rc::Rc;

    #[derive(Clone, Default)]
    struct Buf(Rc<RefCell<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Buf {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.borrow()).into_owned()
        }
    }

    /// How the scripted peer on 127.0.0.1:1234 (and [::1]:1234: it answers
    /// in the family it is spoken to) answers.
    #[derive(Clone, Copy, PartialEq)]
    enum Peer {
        /// SYN-ACK (ISN 5000), ACKs data and answers "ok", FIN/ACK for a FIN.
        Server,
        /// As Server, but data gets a RST.
        ResetsData,
        /// Nothing at all.
        Silent,
    }

    fn peer(kind: Peer) -> MemLink {
        let mut rcv_nxt = 0u32;
        let mut sent = 0u32;
        MemLink::with_responder(move |frame: &[u8]| {
            let p = Packet::parse(frame);
            let Some(t) = p.tcp().cloned() else {
                return vec![];
            };
            let v6 = p.ipv6().is_some();
            if kind == Peer::Silent || t.dport != Some(1234) {
                return vec![];
            }
            let mk = |fl: u16, seq: u32, ack: u32, opts: Vec<u8>, data: &[u8]| {
                let ip = Ipv4 {
                    src: Some(Ipv4Addr::LOCALHOST),
                    dst: Some(Ipv4Addr::LOCALHOST),
                    ..Ipv4::default()
                };
                let tcp = Tcp {
                    sport: t.dport,
                    dport: t.sport,
                    seq: Some(seq),
                    ack: Some(ack),
                    flags: Some(fl),
                    window: Some(65535),
                    options: opts,
                    ..Tcp::default()
                };
                if v6 {
                    return Packet::ether_ip6_tcp(crate::wire::Ipv6::default(), tcp, data).emit();
                }
                Packet::ether_ip_tcp(ip, tcp, data).emit()
            };
            let fl = t.flag_bits();
            let seq = t.seq.unwrap_or(0);
            if fl & flags::SYN != 0 {
                rcv_nxt = seq.wrapping_add(1);
                let opts = encode_options(&[TcpOption::Mss(1460)]);
                return vec![mk(flags::SYN | flags::ACK, 5000, rcv_nxt, opts, &[])];
            }
            let data = p.payload();
            let mut out = vec![];
            if !data.is_empty() {
                if kind == Peer::ResetsData {
                    return vec![mk(flags::RST, 5001, 0, vec![], &[])];
                }
                rcv_nxt = rcv_nxt.wrapping_add(data.len() as u32);
                out.push(mk(
                    flags::PSH | flags::ACK,
                    5001 + sent,
                    rcv_nxt,
                    vec![],
                    b"ok",
                ));
                sent += 2;
            }
            if fl & flags::FIN != 0 {
                rcv_nxt = rcv_nxt.wrapping_add(1);
                out.push(mk(
                    flags::FIN | flags::ACK,
                    5001 + sent,
                    rcv_nxt,
                    vec![],
                    &[],
                ));
            }
            out
        })
    }

    fn engine(kind: Peer) -> (Engine, Buf) {
        let buf = Buf::default();
        let rt = Runtime::with_live(
            Output::to(Box::new(buf.clone())),
            Live::with_link(Box::new(peer(kind))),
        );
        (Engine::on(rt), buf)
    }

    const CONNECT: &str =
        "c = connect(\"127.0.0.1\", 1234, sport=40000, iss=1000, rto=0.001, retries=1";

    #[test]
    fn a_listener_with_no_client_accepts_none_and_says_what_it_has() {
        let (mut eng, out) = engine(Peer::Silent);
        eng.run_source(
            "t",
            "l = listen(4321)\nexpect l.port == 4321\nexpect l.addr == 127.0.0.1\n\
             expect l.accept(timeout=0) == none\nexpect l.accepted == 0\nprint(l)\nhelp(l)",
        )
        .unwrap();
        let text = out.text();
        assert!(
            text.contains("<listener 127.0.0.1:4321 accepted=0>"),
            "{text}"
        );
        assert!(text.contains("l.accept(timeout=10)"), "{text}");
        let e = eng.run_source("t", "l.acept()").unwrap_err();
        assert!(e.to_string().contains("did you mean 'accept'"), "{e}");
        let e = eng.run_source("t", "listen(\"10.0.0.1\", 80)").unwrap_err();
        assert!(e.to_string().contains("127.0.0.0/8 and ::1 only"), "{e}");
        let e = eng
            .run_source("t", "listen(\"2001:db8::1\", 80)")
            .unwrap_err();
        assert!(e.to_string().contains("127.0.0.0/8 and ::1 only"), "{e}");
        let e = eng
            .run_source("t", "connect(\"2001:db8::1\", 80)")
            .unwrap_err();
        assert!(e.to_string().contains("127.0.0.0/8 and ::1 only"), "{e}");
        let e = eng.run_source("t", "connect(\"::g\", 80)").unwrap_err();
        assert!(e.to_string().contains("not an IPv4 or IPv6 address"), "{e}");
        eng.run_source(
            "t",
            "l6 = listen(\"::1\", 4322)\nexpect l6.addr == \"::1\"\nprint(l6)",
        )
        .unwrap();
        assert!(out.text().contains("<listener [::1]:4322 accepted=0>"));
        let e = eng.run_source("t", "listen(0)").unwrap_err();
        assert!(e.to_string().contains("1 to 65535"), "{e}");
        let e = eng
            .run_source("t", "tcp_connect(\"10.0.0.1\", 80)")
            .unwrap_err();
        assert!(e.to_string().contains("within 127.0.0.0/8"), "{e}");
        let e = eng
            .run_source("t", "tcp_listen(\"1.2.3.4\", 80)")
            .unwrap_err();
        assert!(e.to_string().contains("within 127.0.0.0/8"), "{e}");
    }

    #[test]
    fn a_session_to_v6_loopback_talks_ipv6_and_shows_its_addresses() {
        let (mut eng, out) = engine(Peer::Server);
        eng.run_source(
            "t",
            "c = connect(\"::1\", 1234, sport=40000, iss=1000, verbose=false)\n\
             expect c.dst == \"::1\"\n\
             c.syn()\nc.ack()\nc.send(\"hi\")\nexpect c.recv(timeout=0) == \"ok\"\n\
             c.close(timeout=0.01)\nexpect c.state == \"TIME-WAIT\"\n\
             print(flow(c))\nprint(follow(c))",
        )
        .unwrap();
        let text = out.text();
        assert!(text.contains("[::1]:40000"), "{text}");
        assert!(text.contains("[::1]:1234"), "{text}");
        // The segments went over IPv6, both ways.
        eng.run_source(
            "t",
            "expect c.last_sent.ipv6.dst == \"::1\"\nexpect c.last_recv.ipv6.src == \"::1\"",
        )
        .unwrap();
    }

    #[test]
    fn a_quiet_session_prints_nothing() {
        let (mut eng, out) = engine(Peer::Server);
        let src = format!(
            "{CONNECT}, verbose=false)\nc.syn()\nc.ack()\nc.send(\"hi\")\nc.recv(timeout=0)\nc.close(timeout=0.01)\n"
        );
        eng.run_source("t", &src).unwrap();
        assert_eq!(out.text(), "");
        // It did go through: the peer's data came, and the state moved.
        eng.run_source(
            "t",
            "expect c.received == \"ok\"\nexpect c.state == \"TIME-WAIT\"",
        )
        .unwrap();
        // And a SYN nobody answers says nothing either.
        let (mut eng, out) = engine(Peer::Silent);
        eng.run_source("t", &format!("{CONNECT}, verbose=false)\nc.syn()\n"))
            .unwrap();
        assert_eq!(out.text(), "");
        // The same session, verbose, shows its segments and the final lines.
        let (mut eng, out) = engine(Peer::Silent);
        eng.run_source("t", &format!("{CONNECT})\nc.syn()\n"))
            .unwrap();
        assert!(
            out.text().contains("no answer to the SYN after 2 tries"),
            "{}",
            out.text()
        );
    }

    #[test]
    fn state_is_the_plain_rfc_name_and_the_reason_is_apart() {
        let (mut eng, out) = engine(Peer::ResetsData);
        eng.run_source(
            "t",
            &format!("{CONNECT})\nc.syn()\nc.ack()\nexpect c.reason == none\n"),
        )
        .unwrap();
        let e = eng.run_source("t", "c.send(\"x\")").unwrap_err();
        assert!(e.to_string().contains("reset by the peer"), "{e}");
        eng.run_source(
            "t",
            "expect c.state == \"CLOSED\"\nexpect c.reason == \"reset by peer\"\nprint(c)",
        )
        .unwrap();
        // Printed lines keep the reason.
        assert!(
            out.text().contains("CLOSED (reset by peer)"),
            "{}",
            out.text()
        );
        // Our own RST is a reason too.
        let (mut eng, _) = engine(Peer::Server);
        eng.run_source(
            "t",
            &format!("{CONNECT})\nc.syn()\nc.ack()\nc.rst()\nexpect c.state == \"CLOSED\"\nexpect c.reason == \"reset by us\""),
        )
        .unwrap();
    }

    #[test]
    fn relative_numbers_are_offered_beside_the_absolute_ones() {
        let (mut eng, _) = engine(Peer::Server);
        eng.run_source(
            "t",
            &format!(
                "{CONNECT})\nexpect c.rel_ack == none\ns = c.syn()\nc.ack()\na = c.send(\"hello\")\n\
                 expect c.seq == 1006\nexpect c.rel_seq == 6\nexpect c.ack_no == 5003\nexpect c.rel_ack == 3\n\
                 expect a.tcp.ack == 1006\nexpect c.rel(a).tcp.ack == 6\nexpect c.rel(a).tcp.seq == 1\n\
                 expect c.rel(s).tcp.seq == 0\nexpect c.rel(s).tcp.ack == 1\n\
                 expect c.rel(c.last_sent).tcp.seq == 6\nexpect c.rel(c.packets[0]).tcp.seq == 0\n\
                 expect c.packets[0].tcp.seq == 1000\n"
            ),
        )
        .unwrap();
        let e = eng
            .run_source("t", "c.rel(Ether()/IP()/TCP(sport=1, dport=2))")
            .unwrap_err();
        assert!(
            e.to_string().contains("not a segment of this session"),
            "{e}"
        );
    }
}

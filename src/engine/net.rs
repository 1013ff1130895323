//! The builtins that touch the link (their rows are in `table.rs`): send,
//! sendp, sr1, sniff, expect_packet.

use super::args::Args;
use super::builtins::packet_arg;
use super::burst::{Burst, send_many};
use super::set::PacketSet;
use super::value::{PacketView, Value};
use super::{Engine, Error, ErrorKind, EvalResult};
use crate::render;
use crate::wire::Packet;
use crate::wire::bpf::Filter;
use std::time::Duration;

/// Default wait for a reply.
pub const DEFAULT_TIMEOUT: f64 = 2.0;

/// `send(packet, count=1)` and `sendp`: one frame, or a burst of `count`.
pub fn send(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let name = a.name();
    let v = a.req("packet")?;
    if let Value::Set(set) = v {
        return send_set(eng, a, set);
    }
    if let Value::List(items) = v {
        return send_list(eng, a, items);
    }
    let p = packet_arg(name, v, pos)?;
    let count = match a.given("count") {
        None => 1,
        Some(Value::Int(n)) if (1..=100_000_000).contains(&n) => n as u64,
        Some(v) => {
            return Err(Error::eval(
                pos,
                format!("{name}(): count must be 1..=100000000, not {}", v.repr()),
            ));
        }
    };
    let pkt = p.to_packet();
    let raw = a.given("raw").is_some_and(|v| v.truthy());
    super::builtins::sendable(name, &pkt, raw, pos)?;
    if count == 1 {
        let sent = eng.rt.with_link(pos, |live| live.send(&pkt))?;
        eng.rt.observe_sent(&sent.pkt, sent.ts);
        if eng.rt.opts.echo {
            eng.print(&format!("-> {}", render::summary(&sent.pkt)))?;
        }
        return Ok(Value::None);
    }
    let burst = Burst {
        count,
        keep_receiving: true,
        ..Burst::default()
    };
    burst_of(eng, pos, &pkt, &burst)
}

/// Sends a burst for the language (the first frame and the count echoed);
/// interrupted, an error once the frames sent are counted.
fn burst_of(
    eng: &mut Engine,
    pos: crate::lang::Pos,
    pkt: &Packet,
    burst: &Burst,
) -> EvalResult<Value> {
    let r = eng.rt.with_link(pos, |live| send_many(live, pkt, burst))?;
    eng.rt.observe_sent(&r.first, r.ts);
    if eng.rt.opts.echo {
        eng.print(&format!("-> {}", render::summary(&r.first)))?;
        eng.print(&format!("sent {} frames", r.sent))?;
    }
    if r.interrupted {
        return Err(super::live_error(crate::live::LiveError::Interrupted, pos));
    }
    Ok(Value::None)
}

/// `send(set)`: every packet of the set, once each, as one burst.
fn send_set(eng: &mut Engine, a: &mut Args, set: PacketSet) -> EvalResult<Value> {
    let pos = a.pos();
    let name = a.name();
    if a.given("count").is_some_and(|c| c != Value::Int(1)) {
        return Err(Error::eval(
            pos,
            format!("{name}(): count= is for one packet; a set sends each of its packets once"),
        ));
    }
    if set.is_empty() {
        return Ok(Value::None);
    }
    let raw = a.given("raw").is_some_and(|v| v.truthy());
    super::builtins::sendable(name, &set.get(0), raw, pos)?;
    let burst = Burst {
        count: set.len(),
        vary: set.varies(),
        keep_receiving: true,
        ..Burst::default()
    };
    burst_of(eng, pos, &set.base, &burst)
}

/// `send(list)`: every packet of a list (fragments, say), once each, in order.
fn send_list(eng: &mut Engine, a: &mut Args, items: Vec<Value>) -> EvalResult<Value> {
    let pos = a.pos();
    let name = a.name();
    if a.given("count").is_some_and(|c| c != Value::Int(1)) {
        return Err(Error::eval(
            pos,
            format!("{name}(): count= is for one packet; a list sends each of its packets once"),
        ));
    }
    let raw = a.given("raw").is_some_and(|v| v.truthy());
    let mut pkts = Vec::with_capacity(items.len());
    for it in items {
        let p = eng.as_sent(packet_arg(name, it, pos)?, pos)?.to_packet();
        super::builtins::sendable(name, &p, raw, pos)?;
        pkts.push(p);
    }
    for pkt in &pkts {
        let sent = eng.rt.with_link(pos, |live| live.send(pkt))?;
        eng.rt.observe_sent(&sent.pkt, sent.ts);
        if eng.rt.opts.echo {
            eng.print(&format!("-> {}", render::summary(&sent.pkt)))?;
        }
    }
    Ok(Value::None)
}

/// The probes of `sr()`: a set, a list of packets, or one packet.
fn probes(name: &str, v: Value, pos: crate::lang::Pos) -> EvalResult<Vec<Packet>> {
    match v {
        Value::Set(set) => Ok(set.iter().collect()),
        Value::List(items) => items
            .into_iter()
            .map(|i| packet_arg(name, i, pos).map(|p| p.to_packet()))
            .collect(),
        other => Ok(vec![packet_arg(name, other, pos)?.to_packet()]),
    }
}

/// `ans, unans = sr(packets, timeout=2, retry=0, inter=0, raw=false)`.
pub fn sr(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let pkts = probes("sr", a.req("packets")?, pos)?;
    let timeout = a.secs("timeout")?.unwrap_or(DEFAULT_TIMEOUT);
    let inter = a.secs("inter")?.unwrap_or(0.0);
    let retry = match a.given("retry") {
        None => 0,
        Some(Value::Int(n)) if (0..=100).contains(&n) => n as usize,
        Some(v) => {
            return Err(Error::eval(
                pos,
                format!(
                    "sr(): retry is 0..=100 more rounds for the unanswered, not {}",
                    v.repr()
                ),
            ));
        }
    };
    let raw = a.given("raw").is_some_and(|v| v.truthy());
    if let Some(first) = pkts.first() {
        super::builtins::sendable("sr", first, raw, pos)?;
    }
    let wait = Duration::from_secs_f64(timeout.min(86400.0));
    let gap = Duration::from_secs_f64(inter.min(60.0));
    let mut results = eng
        .rt
        .with_link(pos, |live| live.sr(&pkts, wait, gap, true))?;
    // Each retry sends the still unanswered probes again.
    for _ in 0..retry {
        let todo: Vec<usize> = (0..results.len())
            .filter(|&i| results[i].1.is_none())
            .collect();
        if todo.is_empty() {
            break;
        }
        let again: Vec<Packet> = todo.iter().map(|&i| pkts[i].clone()).collect();
        let round = eng
            .rt
            .with_link(pos, |live| live.sr(&again, wait, gap, true))?;
        for (i, r) in todo.into_iter().zip(round) {
            results[i] = r;
        }
    }
    let mut ans = Vec::new();
    let mut unans = Vec::new();
    for (sent, reply) in results {
        eng.rt.observe_sent(&sent.pkt, sent.ts);
        match reply {
            Some((r, _)) => {
                eng.rt.observe_received(&r.pkt, r.frame.ts);
                ans.push(Value::Tuple(vec![
                    Value::Packet(PacketView::captured(sent.pkt, sent.ts)),
                    Value::Packet(PacketView::captured(r.pkt, r.frame.ts)),
                ]));
            }
            None => unans.push(Value::Packet(PacketView::captured(sent.pkt, sent.ts))),
        }
    }
    if eng.rt.opts.echo {
        eng.print(&format!(
            "sent {} probes: {} answered, {} unanswered",
            ans.len() + unans.len(),
            ans.len(),
            unans.len()
        ))?;
    }
    Ok(Value::Tuple(vec![Value::List(ans), Value::List(unans)]))
}

/// `sr1(packet, timeout=2, raw=false)`.
pub fn sr1(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let p = packet_arg("sr1", a.req("packet")?, pos)?;
    let timeout = a.secs("timeout")?.unwrap_or(DEFAULT_TIMEOUT);
    let pkt = p.to_packet();
    let raw = a.given("raw").is_some_and(|v| v.truthy());
    super::builtins::sendable("sr1", &pkt, raw, pos)?;
    let wait = Duration::from_secs_f64(timeout.min(86400.0));
    let (sent, reply) = eng.rt.with_link(pos, |live| live.sr1(&pkt, wait))?;
    eng.rt.observe_sent(&sent.pkt, sent.ts);
    if let Some((r, _)) = &reply {
        eng.rt.observe_received(&r.pkt, r.frame.ts);
    }
    let echo = eng.rt.opts.echo;
    if echo {
        eng.print(&format!("-> {}", render::summary(&sent.pkt)))?;
    }
    Ok(match reply {
        Some((r, rtt)) => {
            if echo {
                eng.print(&format!(
                    "<- {}  (rtt {})",
                    render::summary(&r.pkt),
                    render::ms(rtt)
                ))?;
            }
            Value::Packet(PacketView::captured(r.pkt, r.frame.ts))
        }
        None => {
            if echo {
                let hint = eng.rt.no_reply_hint();
                eng.print(&format!("no reply within {timeout} s{hint}"))?;
            }
            Value::None
        }
    })
}

/// `sniff(count=none, timeout=none, filter=none, stop_after=none)`.
pub fn sniff(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let count = match a.given("count") {
        None => None,
        Some(Value::Int(n)) if n >= 1 => Some(n as usize),
        Some(v) => {
            return Err(Error::eval(
                pos,
                format!("sniff(): count must be ≥ 1, not {}", v.repr()),
            ));
        }
    };
    let timeout = a.secs("timeout")?;
    let filter_arg = |name: &str, v: Option<Value>| -> EvalResult<Option<Filter>> {
        match v {
            None => Ok(None),
            Some(Value::Str(s)) => Filter::parse(&String::from_utf8_lossy(&s))
                .map(Some)
                .map_err(|m| Error::eval(pos, format!("sniff(): {name}: {m}"))),
            Some(v) => Err(Error::eval(
                pos,
                format!(
                    "sniff(): {name} is a tcpdump filter like \"tcp port 1234\", not {}",
                    v.repr()
                ),
            )),
        }
    };
    let filter = filter_arg("filter", a.given("filter"))?.unwrap_or_else(Filter::any);
    // The first packet this takes is the last one sniffed (scapy's stop_filter).
    let stop_after = filter_arg("stop_after", a.given("stop_after"))?;
    let echo = eng.rt.opts.echo;
    if count.is_none() && timeout.is_none() && echo {
        eng.print("sniffing until Ctrl-C (give count= or timeout= to stop by itself)")?;
    }
    let (live, out) = eng.rt.link_and_output(pos)?;
    let mut printed = Ok(());
    let got = live.sniff(
        count,
        timeout.map(Duration::from_secs_f64),
        true,
        |f| filter.matches_captured(&f.data, f.orig_len),
        |r| {
            if echo && printed.is_ok() {
                printed = out.line(&render::timed_summary(r.frame.ts, &r.pkt));
            }
            let stop = stop_after
                .as_ref()
                .is_some_and(|f| f.matches_captured(&r.frame.data, r.frame.orig_len));
            printed.is_ok() && !stop
        },
    );
    eng.rt.flush_notes();
    printed?;
    let got = got.map_err(|e| super::live_error(e, pos))?;
    Ok(Value::List(
        got.into_iter()
            .map(|r| Value::Packet(PacketView::captured(r.pkt, r.frame.ts)))
            .collect(),
    ))
}

/// `expect_packet(pattern, timeout=1, after=0, session=none)`: waits for a
/// received packet whose fields match those the pattern sets. With a session,
/// only its segments count and seq/ack in the pattern are relative to it.
pub fn expect_packet(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    use crate::render::pattern::{describe, difference};
    use crate::session::pattern::{Difference, mismatch};
    let pos = a.pos();
    let mut pat = packet_arg("expect_packet", a.req("pattern")?, pos)?.to_packet();
    let timeout = a.secs("timeout")?.unwrap_or(1.0);
    let after = a.secs("after")?.unwrap_or(0.0);
    let session = match a.given("session") {
        None => None,
        Some(Value::Session(s)) => Some(s),
        Some(v) => {
            return Err(Error::eval(
                pos,
                format!(
                    "expect_packet(): session is a session from connect(), not {}",
                    v.type_name()
                ),
            ));
        }
    };
    let mut shown = describe(&pat);
    if let Some(s) = &session {
        let c = s.0.borrow();
        let rel = c.relative(crate::session::conn::Dir::In);
        if let Some(t) = pat.tcp_mut() {
            t.seq = t.seq.map(|v| v.wrapping_add(rel.seq_base));
            t.ack = t.ack.map(|v| v.wrapping_add(rel.ack_base));
        }
        shown = format!("{shown} (seq/ack relative to the session)");
    }
    let start = std::time::SystemTime::now();
    let deadline = std::time::Instant::now() + Duration::from_secs_f64(timeout.min(86400.0));
    let mut near: Vec<(crate::wire::Packet, crate::session::pattern::Diff)> = Vec::new();
    let sess = session.clone();
    let got = eng.rt.with_link(pos, |live| {
        // Whatever it waits for must reach this socket.
        live.open_filter()?;
        live.recv_matching(
            deadline,
            |_| true,
            |p| {
                if let Some(s) = &sess
                    && !s.0.borrow().is_from_peer(p)
                {
                    return false;
                }
                match mismatch(&pat, p) {
                    None => true,
                    Some(d) => {
                        if d.iter().all(|x| !matches!(x, Difference::MissingLayer(_))) {
                            near.push((p.clone(), d));
                            if near.len() > 3 {
                                near.remove(0);
                            }
                        }
                        false
                    }
                }
            },
        )
    })?;
    let fail = |msg: String| Error::new(ErrorKind::Expect, pos, msg);
    let Some(r) = got else {
        let mut msg = format!("expect_packet failed: no packet like {shown} within {timeout} s");
        for (p, d) in &near {
            msg.push_str(&format!("\n  seen:     {}", render::summary(p)));
            for (layer, field, want, got) in d.iter().map(difference) {
                msg.push_str(&format!(
                    "\n    {layer}.{field:<8} expected {want:<12} got {got}"
                ));
            }
        }
        return Err(fail(msg));
    };
    let at = r
        .frame
        .ts
        .duration_since(start)
        .unwrap_or_default()
        .as_secs_f64();
    if at < after {
        return Err(fail(format!(
            "expect_packet failed: {} arrived at {at:.6} s, before the window opened at {after} s",
            render::summary(&r.pkt)
        )));
    }
    if let Some(s) = &session {
        let _ = s.0.borrow_mut().absorb(&r.pkt, r.frame.ts);
        let _ = s.0.borrow_mut().take_events();
    } else {
        eng.rt.observe_received(&r.pkt, r.frame.ts);
    }
    if eng.rt.opts.echo {
        eng.print(&format!(
            "<- {}  (matched {shown} at {at:.6} s)",
            render::summary(&r.pkt)
        ))?;
    }
    let ts = r.frame.ts;
    Ok(Value::Packet(PacketView::captured(r.pkt, ts)))
}

//! Builtins that touch the link: send, sendp, sr1, sniff.

use super::builtins::{Args, packet_arg};
use super::value::{PacketView, Value};
use super::{Engine, Error, EvalResult, live_error};
use crate::render;
use crate::session::filter::Filter;
use std::time::Duration;

/// Default wait for a reply.
pub const DEFAULT_TIMEOUT: f64 = 2.0;

/// Formats a round-trip time in milliseconds with microsecond precision.
pub fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

pub(super) fn call(eng: &mut Engine, name: &'static str, mut a: Args) -> EvalResult<Value> {
    let pos = a.pos();
    match name {
        "send" | "sendp" => {
            let p = packet_arg(name, a.req(0, "packet")?, pos)?;
            let count = match a.opt(1, "count") {
                None => 1,
                Some(Value::Int(n)) if (1..=100_000_000).contains(&n) => n as u64,
                Some(v) => {
                    return Err(Error::eval(
                        pos,
                        format!("{name}(): count must be 1..=100000000, not {}", v.repr()),
                    ));
                }
            };
            a.finish()?;
            let pkt = p.to_packet();
            for i in 0..count {
                let sent = eng.live(pos)?.send(&pkt).map_err(|e| live_error(e, pos));
                eng.flush_notes();
                let sent = sent?;
                eng.observe_sent(&sent.pkt, sent.ts);
                if i == 0 && eng.echo {
                    eng.print(&format!("-> {}", render::summary(&sent.pkt)));
                }
            }
            if count > 1 && eng.echo {
                eng.print(&format!("sent {count} frames"));
            }
            Ok(Value::None)
        }
        "sr1" => {
            let p = packet_arg(name, a.req(0, "packet")?, pos)?;
            let timeout = a.secs(1, "timeout")?.unwrap_or(DEFAULT_TIMEOUT);
            a.finish()?;
            let pkt = p.to_packet();
            let r = eng
                .live(pos)?
                .sr1(&pkt, Duration::from_secs_f64(timeout.min(86400.0)))
                .map_err(|e| live_error(e, pos));
            eng.flush_notes();
            let (sent, reply) = r?;
            eng.observe_sent(&sent.pkt, sent.ts);
            if let Some((r, _)) = &reply {
                eng.observe_received(&r.pkt, r.frame.ts);
            }
            if eng.echo {
                eng.print(&format!("-> {}", render::summary(&sent.pkt)));
            }
            Ok(match reply {
                Some((r, rtt)) => {
                    if eng.echo {
                        eng.print(&format!(
                            "<- {}  (rtt {})",
                            render::summary(&r.pkt),
                            ms(rtt)
                        ));
                    }
                    Value::Packet(PacketView::whole(r.pkt))
                }
                None => {
                    if eng.echo {
                        eng.print(&format!("no reply within {timeout} s"));
                    }
                    Value::None
                }
            })
        }
        "expect_packet" => expect_packet(eng, a),
        "sniff" => {
            let count = match a.opt(0, "count") {
                None | Some(Value::None) => None,
                Some(Value::Int(n)) if n >= 1 => Some(n as usize),
                Some(v) => {
                    return Err(Error::eval(
                        pos,
                        format!("sniff(): count must be ≥ 1, not {}", v.repr()),
                    ));
                }
            };
            let timeout = a.secs(1, "timeout")?;
            let filter = match a.opt(2, "filter") {
                None | Some(Value::None) => Filter::Any,
                Some(Value::Str(s)) => {
                    Filter::parse(&String::from_utf8_lossy(&s)).map_err(|m| Error::eval(pos, m))?
                }
                Some(v) => {
                    return Err(Error::eval(
                        pos,
                        format!(
                            "sniff(): filter is a string like \"tcp port 1234\", not {}",
                            v.repr()
                        ),
                    ));
                }
            };
            a.finish()?;
            if count.is_none() && timeout.is_none() && eng.echo {
                eng.print("sniffing until Ctrl-C (give count= or timeout= to stop by itself)");
            }
            eng.live(pos)?;
            let mut live = eng.live.take().expect("checked");
            let got = live.sniff(
                count,
                timeout.map(Duration::from_secs_f64),
                true,
                |p| filter.matches(p),
                |r| {
                    if eng.echo {
                        eng.print(&render::summary(&r.pkt));
                    }
                },
            );
            eng.live = Some(live);
            eng.flush_notes();
            let got = got.map_err(|e| live_error(e, pos))?;
            Ok(Value::List(
                got.into_iter()
                    .map(|r| Value::Packet(PacketView::whole(r.pkt)))
                    .collect(),
            ))
        }
        _ => unreachable!("only live builtins come here"),
    }
}

/// `expect_packet(pattern, timeout=1, after=0, session=none)`: waits for a
/// received packet whose fields match those the pattern sets. With a session,
/// only its segments count and seq/ack in the pattern are relative to it.
fn expect_packet(eng: &mut Engine, mut a: Args) -> EvalResult<Value> {
    use crate::render::pattern::{describe, difference};
    use crate::session::pattern::{Difference, mismatch};
    let pos = a.pos();
    let pat = packet_arg("expect_packet", a.req(0, "pattern")?, pos)?.to_packet();
    let timeout = a.secs(1, "timeout")?.unwrap_or(1.0);
    let after = a.secs(2, "after")?.unwrap_or(0.0);
    let session = match a.opt(3, "session") {
        None | Some(Value::None) => None,
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
    a.finish()?;
    let mut pat = pat;
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
    let got = eng
        .live(pos)?
        .recv_matching(
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
        .map_err(|e| live_error(e, pos))?;
    eng.flush_notes();
    let fail = |msg: String| Error {
        kind: super::ErrorKind::Expect,
        file: String::new(),
        pos,
        msg,
    };
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
        eng.observe_received(&r.pkt, r.frame.ts);
    }
    if eng.echo {
        eng.print(&format!(
            "<- {}  (matched {shown} at {at:.6} s)",
            render::summary(&r.pkt)
        ));
    }
    Ok(Value::Packet(PacketView::whole(r.pkt)))
}

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

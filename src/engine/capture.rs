//! Packets as captures: `rdpcap`/`wrpcap`, and `flow`/`follow` of any
//! packets (a sniffed list, `sr()`'s answers, a read pcap) as well as of a
//! session. The ladder and stream renderers are the ones `craft read --flow`
//! and sessions use.

use super::args::Args;
use super::session::{flow_text, follow_text};
use super::value::{PacketView, Value};
use super::{Engine, Error, EvalResult};
use crate::link::pcap::{PcapReader, PcapWriter};
use crate::render;
use crate::wire::Packet;
use std::time::{Duration, SystemTime};

/// The packets of a list (pairs from `sr()` give both packets), with their
/// capture times; a packet with none gets one a microsecond after the last.
fn timed_packets(
    name: &str,
    v: Value,
    pos: crate::lang::Pos,
) -> EvalResult<Vec<(SystemTime, Packet)>> {
    let items = match v {
        Value::List(items) => items,
        Value::Packet(p) => vec![Value::Packet(p)],
        other => {
            return Err(Error::eval(
                pos,
                format!(
                    "{name}() takes a session, or packets (a list from sniff(), sr() or rdpcap()), not {}",
                    other.type_name()
                ),
            ));
        }
    };
    let mut out = Vec::with_capacity(items.len());
    let mut last = SystemTime::UNIX_EPOCH;
    let mut push = |p: PacketView, out: &mut Vec<(SystemTime, Packet)>| {
        let ts = p.ts.unwrap_or(last + Duration::from_micros(1));
        last = ts;
        out.push((ts, p.to_packet()));
    };
    for it in items {
        match it {
            Value::Packet(p) => push(p, &mut out),
            Value::Tuple(pair) => {
                for x in pair {
                    if let Value::Packet(p) = x {
                        push(p, &mut out);
                    }
                }
            }
            other => {
                return Err(Error::eval(
                    pos,
                    format!(
                        "{name}(): the list holds {}, not only packets",
                        other.type_name()
                    ),
                ));
            }
        }
    }
    // A ladder runs in time order, as the frames crossed the link.
    out.sort_by_key(|(ts, _)| *ts);
    Ok(out)
}

/// `flow(of, stream=0)` and `follow(of, stream=0)`.
fn conversation_view(eng: &mut Engine, a: &mut Args, follow: bool) -> EvalResult<Value> {
    let pos = a.pos();
    let name = a.name();
    let v = a.req("of")?;
    let stream = match a.given("stream") {
        None => 0,
        Some(Value::Int(n)) if n >= 0 => n as usize,
        Some(v) => {
            return Err(Error::eval(
                pos,
                format!(
                    "{name}(): stream is a conversation number from 0, not {}",
                    v.repr()
                ),
            ));
        }
    };
    if let Value::Session(s) = v {
        let text = if follow {
            follow_text(&s, eng.rt.opts.color)
        } else {
            flow_text(&s)
        };
        eng.print(&text)?;
        return Ok(Value::None);
    }
    let frames = timed_packets(name, v, pos)?;
    let Some((ends, entries)) = render::flow::conversation(&frames, stream) else {
        let n = render::flow::conversation_count(&frames);
        return Err(Error::eval(
            pos,
            if n == 0 {
                format!(
                    "{name}(): no TCP conversation among {} packets",
                    frames.len()
                )
            } else {
                format!(
                    "{name}(): no conversation number {stream} (there are {n}: 0 to {})",
                    n - 1
                )
            },
        ));
    };
    let text = if follow {
        render::flow::follow(
            &ends,
            &render::flow::stream_data(&entries),
            eng.rt.opts.color,
        )
    } else {
        render::flow::ladder(&ends, &entries)
    };
    eng.print(text.trim_end_matches('\n'))?;
    Ok(Value::None)
}

/// `flow(of, stream=0)`: a session or packets as a ladder diagram.
pub fn flow(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    conversation_view(eng, a, false)
}

/// `follow(of, stream=0)`: a session's or packets' data both ways.
pub fn follow(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    conversation_view(eng, a, true)
}

fn path_arg(a: &mut Args) -> EvalResult<String> {
    match a.req("path")? {
        Value::Str(s) => Ok(String::from_utf8_lossy(&s).into_owned()),
        other => Err(Error::eval(
            a.pos(),
            format!(
                "{}(): path is a string, not {}",
                a.name(),
                other.type_name()
            ),
        )),
    }
}

/// The largest file `read_file` takes: more is an error, not a stall.
const READ_FILE_MAX: u64 = 1 << 30;

/// `read_file(path)`: a file's bytes as a string, read once (cheap to send:
/// `c.send(read_file("big.bin"))` builds no string in the language).
pub fn read_file(_: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let path = path_arg(a)?;
    let err = |e: String| Error::eval(pos, format!("read_file(): {path}: {e}"));
    let meta = std::fs::metadata(&path).map_err(|e| err(e.to_string()))?;
    if meta.is_dir() {
        return Err(err("is a directory".into()));
    }
    if meta.len() > READ_FILE_MAX {
        return Err(err(format!(
            "{} bytes, over the limit of {READ_FILE_MAX} (1 GiB)",
            meta.len()
        )));
    }
    std::fs::read(&path)
        .map(|b| Value::Str(b.into()))
        .map_err(|e| err(e.to_string()))
}

/// `rdpcap(path)`: every frame of a pcap or pcapng file, with its time.
pub fn rdpcap(_: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let path = path_arg(a)?;
    let err = |e: String| Error::eval(pos, format!("rdpcap(): {path}: {e}"));
    let mut rd = PcapReader::open(&path).map_err(|e| err(e.to_string()))?;
    let mut out = Vec::new();
    while let Some((ts, data, _)) = rd
        .next_frame()
        .map_err(|e| err(format!("{e} (after {} frames)", out.len())))?
    {
        if out.len() >= super::set::MAX_SET as usize {
            return Err(err(format!(
                "more than {} frames: read it in parts (craft read shows any size)",
                super::set::MAX_SET
            )));
        }
        out.push(Value::Packet(PacketView::captured(
            Packet::parse(&data),
            ts,
        )));
    }
    Ok(Value::List(out))
}

/// `wrpcap(path, packets)`: writes packets (a list, a set, pairs from sr(),
/// or one packet) as a pcap, each at its capture time or now.
pub fn wrpcap(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let path = path_arg(a)?;
    let v = a.req("packets")?;
    let frames: Vec<(SystemTime, Packet)> = match v {
        Value::Set(set) => {
            let now = SystemTime::now();
            set.iter().map(|p| (now, p)).collect()
        }
        other => timed_packets("wrpcap", other, pos)?
            .into_iter()
            .map(|(ts, p)| {
                let ts = if ts < SystemTime::UNIX_EPOCH + Duration::from_secs(1) {
                    SystemTime::now()
                } else {
                    ts
                };
                (ts, p)
            })
            .collect(),
    };
    let err = |e: std::io::Error| Error::eval(pos, format!("wrpcap(): {path}: {e}"));
    let mut w = PcapWriter::create(&path).map_err(err)?;
    w.set_flush_each(false);
    for (ts, p) in &frames {
        let p = eng.as_sent(PacketView::whole(p.clone()), pos)?.to_packet();
        let bytes = p.emit();
        w.write_frame(*ts, &bytes, bytes.len()).map_err(err)?;
    }
    w.flush().map_err(err)?;
    Ok(Value::Int(frames.len() as i64))
}

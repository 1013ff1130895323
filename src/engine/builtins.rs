//! The offline builtins (their rows are in `table.rs`) and layer constructors.

use super::args::Args;
use super::fields::{bytes_of, to_field};
use super::suggest::no_field;
use super::value::{PacketView, Value};
use super::{Engine, Error, EvalResult, live_error};
use crate::lang::Pos;
use crate::live::LiveError;
use crate::render;
use crate::wire::{Layer, LayerKind, Packet};

/// Calls a layer constructor: `TCP(dport=80, flags="S")`, `Raw("bytes")`, or
/// `Ether(bytes)` to decode a frame from bytes.
pub fn construct(
    kind: LayerKind,
    args: Vec<Value>,
    kwargs: Vec<(String, Value, Pos)>,
    pos: Pos,
) -> EvalResult<Value> {
    let mut layer = Layer::new(kind);
    if let Some(first) = args.first() {
        if args.len() > 1 {
            return Err(Error::eval(
                pos,
                format!("{}() takes at most one positional argument", kind.name()),
            ));
        }
        match (kind, first) {
            (LayerKind::Raw | LayerKind::Padding, v) => {
                let b = bytes_of(v).ok_or_else(|| {
                    Error::eval(pos, format!("Raw() takes a string, not {}", v.type_name()))
                })?;
                layer.put(
                    crate::wire::raw::field::LOAD,
                    Some(crate::wire::FieldValue::Bytes(b)),
                );
            }
            (_, Value::Str(b)) => {
                if !kwargs.is_empty() {
                    return Err(Error::eval(
                        pos,
                        format!("{}(bytes) decodes; set fields afterwards", kind.name()),
                    ));
                }
                let (pkt, _) = Packet::decode_from(kind, b);
                return Ok(Value::Packet(PacketView::whole(pkt)));
            }
            (_, v) => {
                return Err(Error::eval(
                    pos,
                    format!(
                        "{}() takes fields by name, e.g. {}({}=...), not a {} first",
                        kind.name(),
                        kind.name(),
                        kind.fields()[0].name,
                        v.type_name()
                    ),
                ));
            }
        }
    }
    let mut set_fields = Vec::new();
    for (name, v, kpos) in kwargs {
        let Some(fi) = kind.field_index(&name) else {
            return Err(Error::eval(kpos, no_field(kind, &name)));
        };
        if v == Value::None {
            continue;
        }
        // A list or a (lo, hi) range makes the layer a set of packets.
        if let Some(values) = super::fields::field_values(&v, kind, fi) {
            let values = values.map_err(|m| Error::eval(kpos, m))?;
            layer.put(fi, values.first().cloned());
            set_fields.push(super::set::SetField {
                layer: 0,
                field: fi,
                values: values.into(),
            });
            continue;
        }
        let fv = to_field(&v, &kind.fields()[fi], kind).map_err(|m| Error::eval(kpos, m))?;
        layer.put(fi, Some(fv));
    }
    if !set_fields.is_empty() {
        let set = super::set::PacketSet {
            base: Packet::of(layer),
            fields: set_fields,
        };
        return Ok(Value::Set(set.checked().map_err(|m| Error::eval(pos, m))?));
    }
    Ok(Value::Packet(PacketView::whole(Packet::of(layer))))
}

/// A packet argument, or an error naming the builtin.
pub fn packet_arg(name: &str, v: Value, pos: Pos) -> EvalResult<PacketView> {
    match v {
        Value::Packet(p) => Ok(p),
        Value::Layer(k) => Ok(PacketView::whole(Packet::of(Layer::new(k)))),
        Value::None => Err(Error::eval(
            pos,
            format!("{name}(): got none instead of a packet (nothing answered in time?)"),
        )),
        Value::Set(s) => Err(Error::eval(
            pos,
            format!(
                "{name}() takes one packet, not a set of {} (send(set) sends them all; sr(set) sends them and matches the answers)",
                s.len()
            ),
        )),
        other => Err(Error::eval(
            pos,
            format!("{name}() takes a packet, not {}", other.type_name()),
        )),
    }
}

/// Refuses a packet that cannot go out as built, naming why: a length or a
/// computed field that would not fit (see [`Packet::check_build`]), or, unless
/// `raw`, a transport layer with no network layer below it (the kernel would
/// have nothing to deliver it to; `raw=true` sends the odd stack as it is).
pub fn sendable(name: &str, pkt: &Packet, raw: bool, pos: Pos) -> EvalResult<()> {
    pkt.check_build()
        .map_err(|m| Error::eval(pos, format!("{name}(): {m}")))?;
    if raw {
        return Ok(());
    }
    if let Some((kind, below)) = pkt.bare_transport() {
        let t = kind.name();
        let where_ = match below {
            Some(b) => format!("{t} sits on {} with no IP layer between", b.name()),
            None => format!("{t} starts the packet, with no IP layer below it"),
        };
        return Err(Error::eval(
            pos,
            format!(
                "{name}(): {where_}, so nothing on the other side would take it; build Ether()/IP()/{t}(...), or send the odd stack as it is with {name}(p, raw=true)"
            ),
        ));
    }
    Ok(())
}

/// A packet argument `name` as it will be sent.
fn sent_packet(eng: &mut Engine, a: &mut Args, name: &str) -> EvalResult<Packet> {
    let pos = a.pos();
    let p = packet_arg(a.name(), a.req(name)?, pos)?;
    Ok(eng.as_sent(p, pos)?.to_packet())
}

/// Prints one summary line per packet of a set or a list of packets; false
/// when `v` is neither (a single packet: the caller shows it its own way).
fn print_each(eng: &mut Engine, v: &Value, pos: Pos) -> EvalResult<bool> {
    let line = |eng: &mut Engine, p: Packet| -> EvalResult<()> {
        let p = eng.as_sent(PacketView::whole(p), pos)?.to_packet();
        eng.print(&render::summary(&p))
    };
    match v {
        Value::Set(set) => {
            for p in set.iter() {
                line(eng, p)?;
            }
        }
        // sr()'s answers: (sent, received) pairs, one line each.
        Value::List(items) if !items.is_empty() && items.iter().all(is_pair) => {
            for i in items {
                if let Value::Tuple(pair) = i
                    && let [Value::Packet(s), Value::Packet(r)] = pair.as_slice()
                {
                    let line = format!(
                        "{} ==> {}",
                        render::summary(&s.to_packet()),
                        render::summary(&r.to_packet())
                    );
                    eng.print(&line)?;
                }
            }
        }
        Value::List(items) if items.iter().all(|i| matches!(i, Value::Packet(_))) => {
            for i in items {
                if let Value::Packet(p) = i {
                    line(eng, p.to_packet())?;
                }
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// A (sent, received) pair of packets, as `sr()` answers.
fn is_pair(v: &Value) -> bool {
    matches!(v, Value::Tuple(p) if matches!(p.as_slice(), [Value::Packet(_), Value::Packet(_)]))
}

/// `table(pairs, row, col, cell)`: scapy's make_table. Rows are the values of
/// the sent packets' field `row`, columns those of `col`, and each cell the
/// received packet's field `cell` (fields named like "tcp.dport" or "dst").
pub fn table(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let pairs = match a.req("pairs")? {
        Value::List(items) if items.iter().all(is_pair) => items,
        other => {
            return Err(Error::eval(
                pos,
                format!(
                    "table() takes sr()'s answers, a list of (sent, received) pairs, not {}",
                    other.type_name()
                ),
            ));
        }
    };
    let path = |a: &mut Args, name: &str| -> EvalResult<String> {
        match a.req(name)? {
            Value::Str(s) => Ok(String::from_utf8_lossy(&s).into_owned()),
            other => Err(Error::eval(
                pos,
                format!(
                    "table(): {name} names a field, like \"tcp.dport\", not {}",
                    other.type_name()
                ),
            )),
        }
    };
    let (row, col, cell) = (path(a, "row")?, path(a, "col")?, path(a, "cell")?);
    let read = |v: &PacketView, f: &str| -> EvalResult<String> {
        let field = f.rsplit('.').next().unwrap_or(f);
        let view = match f.split_once('.') {
            Some((layer, _)) => {
                let kind = LayerKind::from_name(layer).ok_or_else(|| {
                    Error::eval(pos, format!("table(): no layer '{layer}' in \"{f}\""))
                })?;
                match v.pkt.find(kind) {
                    Some(i) => PacketView {
                        start: i,
                        ..v.clone()
                    },
                    None => return Ok("-".into()),
                }
            }
            None => v.clone(),
        };
        Ok(super::fields::read_field(&view, field).map_or_else(
            || "-".to_string(),
            |x| match x {
                Value::Str(s) => String::from_utf8_lossy(&s).into_owned(),
                other => other.repr().trim_matches('"').to_string(),
            },
        ))
    };
    let mut rows: Vec<String> = Vec::new();
    let mut cols: Vec<String> = Vec::new();
    let mut cells = std::collections::HashMap::new();
    for p in &pairs {
        let Value::Tuple(pair) = p else { continue };
        let (Value::Packet(s), Value::Packet(r)) = (&pair[0], &pair[1]) else {
            continue;
        };
        let (rk, ck) = (read(s, &row)?, read(s, &col)?);
        if !rows.contains(&rk) {
            rows.push(rk.clone());
        }
        if !cols.contains(&ck) {
            cols.push(ck.clone());
        }
        cells.insert((rk, ck), read(r, &cell)?);
    }
    let w0 = rows.iter().map(String::len).max().unwrap_or(0);
    let widths: Vec<usize> = cols
        .iter()
        .map(|c| {
            rows.iter()
                .filter_map(|r| cells.get(&(r.clone(), c.clone())))
                .map(String::len)
                .chain([c.len()])
                .max()
                .unwrap_or(1)
        })
        .collect();
    let mut out = format!("{:w0$}", "");
    for (c, w) in cols.iter().zip(&widths) {
        out.push_str(&format!("  {c:>w$}"));
    }
    for r in &rows {
        out.push_str(&format!("\n{r:<w0$}"));
        for (c, w) in cols.iter().zip(&widths) {
            let v = cells
                .get(&(r.clone(), c.clone()))
                .map_or("-", String::as_str);
            out.push_str(&format!("  {v:>w$}"));
        }
    }
    eng.print(&out)?;
    Ok(Value::None)
}

/// `show(packet)`: every field; of a set or a list, one line per packet.
pub fn show(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let v = a.req("packet")?;
    if print_each(eng, &v, pos)? {
        return Ok(Value::None);
    }
    let p = eng.as_sent(packet_arg(a.name(), v, pos)?, pos)?.to_packet();
    eng.print(&render::show(&p))?;
    Ok(Value::None)
}

/// `hexdump(packet)`.
pub fn hexdump(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let p = sent_packet(eng, a, "packet")?;
    let text = render::hexdump(&p, eng.rt.opts.color);
    eng.print(&text)?;
    Ok(Value::None)
}

/// `summary(packet)`: one line; of a set or a list, one line per packet.
pub fn summary(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let v = a.req("packet")?;
    if print_each(eng, &v, pos)? {
        return Ok(Value::None);
    }
    let p = eng.as_sent(packet_arg(a.name(), v, pos)?, pos)?.to_packet();
    eng.print(&render::summary(&p))?;
    Ok(Value::None)
}

/// `ls(layer=none)`.
pub fn ls(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let text = match a.given("layer") {
        None => LayerKind::ALL
            .iter()
            .map(|k| format!("{:<8} {}", k.name(), layer_doc(*k)))
            .collect::<Vec<_>>()
            .join("\n"),
        Some(Value::Layer(k)) => ls_layer(k),
        Some(Value::Packet(p)) => ls_packet(&p),
        Some(v) => {
            return Err(Error::eval(
                a.pos(),
                format!(
                    "ls() takes a layer like TCP or a packet, not {}",
                    v.type_name()
                ),
            ));
        }
    };
    eng.print(&text)?;
    Ok(Value::None)
}

/// `len(value)`.
pub fn len(_: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    Ok(Value::Int(match a.req("value")? {
        Value::Packet(p) => p.bytes().len() as i64,
        Value::Str(s) => s.len() as i64,
        Value::List(v) | Value::Tuple(v) => v.len() as i64,
        Value::Set(s) => s.len() as i64,
        other => {
            return Err(Error::eval(
                a.pos(),
                format!("len() of {} is not defined", other.type_name()),
            ));
        }
    }))
}

/// `bytes(packet)`.
pub fn bytes(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let p = packet_arg("bytes", a.req("packet")?, pos)?;
    Ok(Value::Str(eng.as_sent(p, pos)?.bytes().into()))
}

/// `hex(value)`.
pub fn hex(_: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let text = match a.req("value")? {
        Value::Int(n) if n < 0 => format!("-0x{:x}", n.unsigned_abs()),
        Value::Int(n) => format!("0x{n:x}"),
        Value::Flags(b, _) => format!("0x{b:x}"),
        Value::Str(s) => hex::encode(s),
        Value::Packet(p) => hex::encode(p.bytes()),
        other => {
            return Err(Error::eval(
                a.pos(),
                format!("hex() of {} is not defined", other.type_name()),
            ));
        }
    };
    Ok(Value::Str(text.into()))
}

/// A value as `print` shows it: strings without quotes, the rest as written.
fn text_of(v: Value) -> String {
    match v {
        Value::Str(s) => String::from_utf8_lossy(&s).into_owned(),
        // Flags read as their letters, as they compare ("SA").
        f @ Value::Flags(..) => f.repr().trim_matches('"').to_string(),
        other => other.repr(),
    }
}

/// `str(value)`.
pub fn str(_: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    Ok(match a.req("value")? {
        Value::Str(s) => Value::Str(s),
        v => Value::Str(text_of(v).into()),
    })
}

/// `print(values...)`.
pub fn print(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let parts: Vec<String> = a.rest().into_iter().map(text_of).collect();
    eng.print(&parts.join(" "))?;
    Ok(Value::None)
}

/// `param(name, default)`.
pub fn param(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let name = match a.req("name")? {
        Value::Str(n) => String::from_utf8_lossy(&n).into_owned(),
        v => {
            return Err(Error::eval(
                a.pos(),
                format!("param() takes a name in quotes, not {}", v.repr()),
            ));
        }
    };
    let default = a.req("default")?;
    Ok(eng.param(&name).unwrap_or(default))
}

/// `range(start, stop=none)`.
pub fn range(_: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let ints = |v: Option<Value>| match v {
        None => Ok(None),
        Some(Value::Int(n)) => Ok(Some(n)),
        Some(v) => Err(Error::eval(
            pos,
            format!("range() takes integers, not {}", v.repr()),
        )),
    };
    let (lo, hi) = match (ints(a.given("start"))?, ints(a.given("stop"))?) {
        (Some(x), Some(y)) => (x, y),
        (Some(y), None) => (0, y),
        _ => {
            return Err(Error::eval(
                pos,
                "range() needs a stop: range(10) or range(1, 10)",
            ));
        }
    };
    if hi.saturating_sub(lo) > 1_000_000 {
        return Err(Error::eval(
            pos,
            format!("range({lo}, {hi}) is too long (at most 1000000 items)"),
        ));
    }
    Ok(Value::List((lo..hi).map(Value::Int).collect()))
}

/// `save(path, data)`.
pub fn save(_: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let path = match a.req("path")? {
        Value::Str(p) => String::from_utf8_lossy(&p).into_owned(),
        v => {
            return Err(Error::eval(
                pos,
                format!("save(): path is a string, not {}", v.type_name()),
            ));
        }
    };
    let data = match a.req("data")? {
        Value::Packet(p) => p.bytes(),
        v => bytes_of(&v).ok_or_else(|| {
            Error::eval(
                pos,
                format!("save(): data is a string or packet, not {}", v.type_name()),
            )
        })?,
    };
    std::fs::write(&path, &data).map_err(|e| Error::eval(pos, format!("save(): {path}: {e}")))?;
    Ok(Value::None)
}

/// `sleep(seconds)`.
pub fn sleep(_: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let s = a.secs("seconds")?.unwrap_or(0.0);
    crate::link::sleep_interruptible(std::time::Duration::from_secs_f64(s.min(86400.0)))
        .map_err(|_| live_error(LiveError::Interrupted, a.pos()))?;
    Ok(Value::None)
}

/// One line on a layer, for `ls()` and `help()`.
pub fn layer_doc(k: LayerKind) -> &'static str {
    match k {
        LayerKind::Ether => "Ethernet II: dst, src, type",
        LayerKind::Ip => "IPv4: src, dst, ttl, id, flags, options, ...",
        LayerKind::Tcp => "TCP: sport, dport, seq, ack, flags, window, options, ...",
        LayerKind::Udp => "UDP: sport, dport, len, chksum",
        LayerKind::Icmp => "ICMP: type, code, id, seq",
        LayerKind::Dot1q => "802.1Q VLAN tag: prio, dei, vlan, type",
        LayerKind::Arp => "ARP: op, hwsrc, psrc, hwdst, pdst, ...",
        LayerKind::Ipv6 => "IPv6: src, dst, hlim, tc, fl, nh, plen",
        LayerKind::HopByHop => "IPv6 hop-by-hop options: nh, len, options",
        LayerKind::DestOpt => "IPv6 destination options: nh, len, options",
        LayerKind::Routing => "IPv6 routing header: addresses, segleft, type, ...",
        LayerKind::Fragment => "IPv6 fragment header: offset, m, id, ...",
        LayerKind::Icmp6(m) => match m {
            crate::wire::icmp6::Msg::EchoRequest => "ICMPv6 echo request: id, seq, data",
            crate::wire::icmp6::Msg::EchoReply => "ICMPv6 echo reply: id, seq, data",
            crate::wire::icmp6::Msg::DestUnreach => {
                "ICMPv6 destination unreachable: code, then the quoted IPv6 datagram"
            }
            crate::wire::icmp6::Msg::PacketTooBig => {
                "ICMPv6 packet too big: mtu, then the quoted IPv6 datagram"
            }
            crate::wire::icmp6::Msg::TimeExceeded => {
                "ICMPv6 time exceeded: code, then the quoted IPv6 datagram"
            }
            crate::wire::icmp6::Msg::ParamProblem => {
                "ICMPv6 parameter problem: code, ptr, then the quoted IPv6 datagram"
            }
            crate::wire::icmp6::Msg::RouterSolicit => "ICMPv6 router solicitation (options follow)",
            crate::wire::icmp6::Msg::RouterAdvert => {
                "ICMPv6 router advertisement: chlim, M, O, routerlifetime, ... (options follow)"
            }
            crate::wire::icmp6::Msg::NeighborSolicit => {
                "ICMPv6 neighbour solicitation: tgt (options follow)"
            }
            crate::wire::icmp6::Msg::NeighborAdvert => {
                "ICMPv6 neighbour advertisement: R, S, O, tgt (options follow)"
            }
            crate::wire::icmp6::Msg::Redirect => "ICMPv6 redirect: tgt, dst (options follow)",
            crate::wire::icmp6::Msg::Unknown => "any other ICMPv6 message: type, code, msgbody",
        },
        LayerKind::NdOpt(o) => match o {
            crate::wire::icmp6::Opt::SrcLLAddr => {
                "neighbour discovery option: source link-layer address (lladdr)"
            }
            crate::wire::icmp6::Opt::DstLLAddr => {
                "neighbour discovery option: target link-layer address (lladdr)"
            }
            crate::wire::icmp6::Opt::PrefixInfo => {
                "neighbour discovery option: prefix information (prefix, prefixlen, L, A, lifetimes)"
            }
            crate::wire::icmp6::Opt::Mtu => "neighbour discovery option: MTU (mtu)",
            crate::wire::icmp6::Opt::Unknown => {
                "any other neighbour discovery option: type, len, data"
            }
        },
        LayerKind::Raw => "payload bytes: Raw(\"hello\") or a string at the end of a stack",
        LayerKind::Padding => "bytes after the IP datagram",
    }
}

/// `ls(TCP)`: the fields of a layer with types and defaults.
pub fn ls_layer(k: LayerKind) -> String {
    let mut s = format!("{}: {}\n", k.name(), layer_doc(k));
    let w = crate::render::name_width(k);
    for f in k.fields() {
        s.push_str(&format!(
            "  {:<w$} {:<12} = {:<18} {}\n",
            f.name,
            f.kind.name(),
            f.default,
            f.doc
        ));
    }
    s
}

fn ls_packet(p: &PacketView) -> String {
    let pkt = p.to_packet();
    let mut s = String::new();
    for l in &pkt.layers {
        s.push_str(&format!("{}:\n", l.kind().name()));
        let w = render::name_width(l.kind());
        for (i, f) in l.kind().fields().iter().enumerate() {
            let v = l.slot(i).map_or_else(
                || format!("({})", f.default),
                |v| render::field_str(f.kind, &v),
            );
            s.push_str(&format!("  {:<w$} = {v}\n", f.name));
        }
    }
    s
}

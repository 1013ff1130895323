//! Conversion between language values and header fields, with range checks.

use super::set::MAX_SET;
use super::value::{FlagSet, PacketView, Value, parse_flags};
use crate::wire::tcp::{TcpOption, decode_options, encode_options};
use crate::wire::{FieldKind, FieldSpec, FieldValue, LayerKind};
use std::net::Ipv4Addr;

/// Converts `v` for field `spec` of layer `layer`, or says why it does not fit.
pub fn to_field(v: &Value, spec: &FieldSpec, layer: LayerKind) -> Result<FieldValue, String> {
    let what = format!("{}.{}", layer.name(), spec.name);
    let wrong = || {
        format!(
            "{what} takes {}, not {} {}",
            kind_phrase(spec.kind),
            v.type_name(),
            v.repr()
        )
    };
    match spec.kind {
        FieldKind::UInt(bits) => {
            let n = match v {
                Value::Int(n) => *n,
                Value::Flags(b, _) => i64::from(*b),
                Value::Bool(b) => i64::from(*b),
                _ => return Err(wrong()),
            };
            let max = spec.kind.max().unwrap_or(0);
            if bits == 32 && matches!(spec.name, "seq" | "ack") {
                // Sequence space is modulo 2^32: r.tcp.seq + 1 may wrap.
                return Ok(FieldValue::Int(n.rem_euclid(1 << 32) as u64));
            }
            if n < 0 || n as u64 > max {
                return Err(format!("{what} = {n} is out of range (0..={max})"));
            }
            Ok(FieldValue::Int(n as u64))
        }
        FieldKind::Mac => match v {
            Value::Mac(m) => Ok(FieldValue::Mac(*m)),
            Value::Str(s) => parse_mac(&String::from_utf8_lossy(s))
                .map(FieldValue::Mac)
                .ok_or_else(wrong),
            _ => Err(wrong()),
        },
        FieldKind::Ipv4 => match v {
            Value::Ip(a) => Ok(FieldValue::Ip(*a)),
            Value::Str(s) => {
                let t = String::from_utf8_lossy(s);
                parse_ipv4(&t).map(FieldValue::Ip).ok_or_else(|| {
                    format!("{what}: \"{t}\" is not an IPv4 address (write it like 127.0.0.1)")
                })
            }
            _ => Err(wrong()),
        },
        FieldKind::Ipv6 => match v {
            Value::Ip6(a) => Ok(FieldValue::Ip6(*a)),
            Value::Str(s) => {
                let t = String::from_utf8_lossy(s);
                parse_ipv6(&t).map(FieldValue::Ip6).ok_or_else(|| {
                    format!("{what}: \"{t}\" is not an IPv6 address (write it like \"::1\")")
                })
            }
            _ => Err(wrong()),
        },
        FieldKind::Ipv6List => {
            let Value::List(items) = v else {
                return Err(wrong());
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, it) in items.iter().enumerate() {
                let a = match it {
                    Value::Ip6(a) => Some(*a),
                    Value::Str(s) => parse_ipv6(&String::from_utf8_lossy(s)),
                    _ => None,
                };
                out.push(a.ok_or_else(|| {
                    format!(
                        "{what}[{i}]: {} is not an IPv6 address (write it like \"::1\")",
                        it.repr()
                    )
                })?);
            }
            Ok(FieldValue::Ip6List(out))
        }
        FieldKind::TcpFlags | FieldKind::IpFlags => {
            let set = if spec.kind == FieldKind::TcpFlags {
                FlagSet::Tcp
            } else {
                FlagSet::Ip
            };
            let bits = match v {
                Value::Str(s) => parse_flags(s, set).map_err(|e| format!("{what}: {e}"))?,
                Value::Flags(b, _) => *b,
                Value::Int(n) => {
                    let max = spec.kind.max().unwrap_or(0) as i64;
                    if *n < 0 || *n > max {
                        return Err(format!("{what} = {n} is out of range (0..={max})"));
                    }
                    *n as u16
                }
                _ => return Err(wrong()),
            };
            Ok(FieldValue::Flags(bits))
        }
        FieldKind::Bytes => bytes_of(v).map(FieldValue::Bytes).ok_or_else(wrong),
        FieldKind::TcpOptions => match v {
            Value::Str(s) => Ok(FieldValue::Bytes(s.to_vec())),
            Value::List(items) => {
                let mut opts = Vec::new();
                for it in items {
                    opts.push(tcp_option(it).map_err(|e| format!("{what}: {e}"))?);
                }
                Ok(FieldValue::Bytes(encode_options(&opts)))
            }
            _ => Err(wrong()),
        },
    }
}

fn kind_phrase(k: FieldKind) -> String {
    match k {
        FieldKind::UInt(b) => format!("an integer of {b} bits"),
        FieldKind::Mac => "a MAC address (00:00:00:00:00:00)".into(),
        FieldKind::Ipv4 => "an IPv4 address (127.0.0.1 or \"127.0.0.1\")".into(),
        FieldKind::Ipv6 => "an IPv6 address (\"::1\")".into(),
        FieldKind::Ipv6List => "a list of IPv6 addresses ([\"::1\"])".into(),
        FieldKind::TcpFlags => "TCP flags (\"S\", \"SA\", \"PA\", \"FA\", \"R\")".into(),
        FieldKind::IpFlags => "IP flags (\"DF\", \"MF\")".into(),
        FieldKind::Bytes => "bytes (a string)".into(),
        FieldKind::TcpOptions => "TCP options (a list like [(\"MSS\", 1460)] or raw bytes)".into(),
    }
}

/// An IPv4 address written as text: dotted quad, or `localhost`.
pub fn parse_ipv4(t: &str) -> Option<Ipv4Addr> {
    if t == "localhost" {
        return Some(Ipv4Addr::LOCALHOST);
    }
    t.parse().ok()
}

/// An IPv6 address written as text: `::1`, `::ffff:127.0.0.1`, or `localhost`.
pub fn parse_ipv6(t: &str) -> Option<std::net::Ipv6Addr> {
    if t == "localhost" {
        return Some(std::net::Ipv6Addr::LOCALHOST);
    }
    t.parse().ok()
}

/// An address argument of builtin `name`, IPv4 or IPv6: an address value
/// or its text (`localhost` is 127.0.0.1).
pub fn address_ip(name: &str, what: &str, v: Value) -> Result<std::net::IpAddr, String> {
    match v {
        Value::Ip(ip) => Ok(ip.into()),
        Value::Ip6(ip) => Ok(ip.into()),
        Value::Str(s) => {
            let t = String::from_utf8_lossy(&s);
            parse_ipv4(&t)
                .map(Into::into)
                .or_else(|| parse_ipv6(&t).map(Into::into))
                .ok_or_else(|| format!("{name}(): \"{t}\" is not an IPv4 or IPv6 address"))
        }
        v => Err(format!(
            "{name}(): {what} like \"127.0.0.1\" or \"::1\", not {}",
            v.repr()
        )),
    }
}

/// An address argument of builtin `name`: an address value or its text.
/// `what` begins the message for another type ("dst is an address").
pub fn address(name: &str, what: &str, v: Value) -> Result<Ipv4Addr, String> {
    match v {
        Value::Ip(ip) => Ok(ip),
        Value::Str(s) => {
            let t = String::from_utf8_lossy(&s);
            parse_ipv4(&t).ok_or_else(|| format!("{name}(): \"{t}\" is not an IPv4 address"))
        }
        v => Err(format!(
            "{name}(): {what} like \"127.0.0.1\", not {}",
            v.repr()
        )),
    }
}

/// Bytes from a string or a list of byte values.
pub fn bytes_of(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Str(s) => Some(s.to_vec()),
        Value::List(items) => items
            .iter()
            .map(|i| match i {
                Value::Int(n) if (0..=255).contains(n) => Some(*n as u8),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    if parts.len() != 6 {
        return None;
    }
    let mut m = [0u8; 6];
    for (b, p) in m.iter_mut().zip(parts) {
        if p.len() != 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    Some(m)
}

/// Option names by kind number (RFC 9293 3.2, RFC 7323, RFC 2018): a kind
/// given as a number is the same option as its name, with the same arguments.
const OPTION_KINDS: [(u8, &str); 7] = [
    (0, "eol"),
    (1, "nop"),
    (2, "mss"),
    (3, "wscale"),
    (4, "sackok"),
    (5, "sack"),
    (8, "timestamp"),
];

fn tcp_option(v: &Value) -> Result<TcpOption, String> {
    let (name, args): (&Value, &[Value]) = match v {
        Value::Tuple(items) | Value::List(items) if !items.is_empty() => (&items[0], &items[1..]),
        Value::Str(_) => (v, &[]),
        _ => {
            return Err(format!(
                "an option is a tuple like (\"MSS\", 1460), not {}",
                v.repr()
            ));
        }
    };
    let int = |i: usize, max: i64| -> Result<i64, String> {
        match args.get(i) {
            Some(Value::Int(n)) if (0..=max).contains(n) => Ok(*n),
            Some(other) => Err(format!(
                "option value {} is not an integer in 0..={max}",
                other.repr()
            )),
            None => Err("option needs a value".into()),
        }
    };
    let lower = match name {
        Value::Str(n) => String::from_utf8_lossy(n).to_ascii_lowercase(),
        Value::Int(kind) => {
            let kind = u8::try_from(*kind)
                .map_err(|_| format!("option kind {kind} is out of range (0..=255)"))?;
            let known = OPTION_KINDS.iter().find(|(k, _)| *k == kind);
            match (known, args.first()) {
                // A known kind with raw bytes: sent as given, kind, length, data.
                (Some(_), Some(Value::Str(data))) if kind > 1 => {
                    return Ok(TcpOption::Unknown(kind, data.to_vec()));
                }
                (Some((_, name)), _) => (*name).to_string(),
                (None, None) => return Ok(TcpOption::Unknown(kind, Vec::new())),
                (None, Some(data)) => {
                    let data = bytes_of(data).ok_or_else(|| {
                        format!(
                            "option kind {kind} takes its data as bytes (a string), not {}",
                            data.repr()
                        )
                    })?;
                    return Ok(TcpOption::Unknown(kind, data));
                }
            }
        }
        _ => {
            return Err(format!(
                "an option starts with its name or kind number, not {}",
                name.repr()
            ));
        }
    };
    let u32_of = |v: &Value, what: &str| -> Result<u32, String> {
        match v {
            Value::Int(n) => u32::try_from(*n)
                .map_err(|_| format!("{what} = {n} is out of range (0..=4294967295: 32 bits)")),
            other => Err(format!("{what} takes an integer, not {}", other.repr())),
        }
    };
    Ok(match lower.as_str() {
        "eol" => TcpOption::Eol,
        "nop" => TcpOption::Nop,
        "mss" => TcpOption::Mss(int(0, 0xffff)? as u16),
        "wscale" => TcpOption::WScale(int(0, 255)? as u8),
        "sackok" => TcpOption::SackOk,
        "sack" => {
            if args.len() > 4 {
                return Err(format!(
                    "SAck takes at most 4 blocks (they fill 34 of the 40 option bytes), not {}",
                    args.len()
                ));
            }
            let mut blocks = Vec::new();
            for b in args {
                match b {
                    Value::Tuple(p) | Value::List(p) if p.len() == 2 => blocks.push((
                        u32_of(&p[0], "SAck left edge")?,
                        u32_of(&p[1], "SAck right edge")?,
                    )),
                    _ => return Err("SAck blocks are (left, right) integer pairs".into()),
                }
            }
            TcpOption::Sack(blocks)
        }
        "timestamp" | "ts" => {
            let pair = match args {
                [Value::Tuple(p)] | [Value::List(p)] if p.len() == 2 => (&p[0], &p[1]),
                [a, b] => (a, b),
                _ => return Err("Timestamp takes (value, echo reply)".into()),
            };
            TcpOption::Timestamp(
                u32_of(pair.0, "Timestamp value")?,
                u32_of(pair.1, "Timestamp echo reply")?,
            )
        }
        _ => {
            return Err(format!(
                "unknown option \"{lower}\" (known: EOL NOP MSS WScale SAckOK SAck Timestamp, or a kind number)"
            ));
        }
    })
}

/// Converts a field value to a language value.
pub fn from_field(v: FieldValue, kind: FieldKind) -> Value {
    match (v, kind) {
        (FieldValue::Flags(b), FieldKind::IpFlags) => Value::Flags(b, FlagSet::Ip),
        (FieldValue::Flags(b), _) => Value::Flags(b, FlagSet::Tcp),
        (FieldValue::Bytes(b), FieldKind::TcpOptions) => {
            let (opts, _) = decode_options(&b);
            Value::List(opts.iter().map(option_value).collect())
        }
        (FieldValue::Int(n), _) => Value::Int(n as i64),
        (FieldValue::Mac(m), _) => Value::Mac(m),
        (FieldValue::Ip(a), _) => Value::Ip(a),
        (FieldValue::Ip6(a), _) => Value::Ip6(a),
        (FieldValue::Ip6List(a), _) => Value::List(a.into_iter().map(Value::Ip6).collect()),
        (FieldValue::Bytes(b), _) => Value::Str(b.into()),
    }
}

fn option_value(o: &TcpOption) -> Value {
    let s = |t: &str| Value::Str(t.as_bytes().to_vec().into());
    match o {
        TcpOption::Eol => Value::Tuple(vec![s("EOL")]),
        TcpOption::Nop => Value::Tuple(vec![s("NOP")]),
        TcpOption::Mss(v) => Value::Tuple(vec![s("MSS"), Value::Int((*v).into())]),
        TcpOption::WScale(v) => Value::Tuple(vec![s("WScale"), Value::Int((*v).into())]),
        TcpOption::SackOk => Value::Tuple(vec![s("SAckOK")]),
        TcpOption::Sack(b) => {
            let mut v = vec![s("SAck")];
            v.extend(b.iter().map(|(l, r)| {
                Value::Tuple(vec![Value::Int((*l).into()), Value::Int((*r).into())])
            }));
            Value::Tuple(v)
        }
        TcpOption::Timestamp(a, b) => Value::Tuple(vec![
            s("Timestamp"),
            Value::Tuple(vec![Value::Int((*a).into()), Value::Int((*b).into())]),
        ]),
        TcpOption::Unknown(k, d) => {
            Value::Tuple(vec![Value::Int((*k).into()), Value::Str(d.clone().into())])
        }
    }
}

/// Reads field `name` from the packet in view: the first layer from the view's
/// start that has it. Unset fields read as they will be sent (computed).
pub fn read_field(view: &PacketView, name: &str) -> Option<Value> {
    for i in view.start..view.pkt.layers.len() {
        let kind = view.pkt.layers[i].kind();
        if let Some(fi) = kind.field_index(name) {
            let spec = kind.fields()[fi];
            let v = match view.pkt.layers[i].slot(fi) {
                Some(v) => v,
                None => view.pkt.resolved().layers.get(i)?.slot(fi)?,
            };
            return Some(from_field(v, spec.kind));
        }
    }
    None
}

/// The values of a field given as a list (`[22, 80]`) or, for integer fields,
/// an inclusive `(lo, hi)` pair as scapy takes it. None when `v` is a single
/// value (or a list the field itself takes: TCP options, bytes, a routing
/// header's addresses).
pub fn field_values(
    v: &Value,
    kind: LayerKind,
    field: usize,
) -> Option<Result<Vec<FieldValue>, String>> {
    let spec = &kind.fields()[field];
    if matches!(
        spec.kind,
        FieldKind::Bytes | FieldKind::TcpOptions | FieldKind::Ipv6List
    ) {
        return None;
    }
    let what = format!("{}.{}", kind.name(), spec.name);
    match v {
        Value::List(items) => {
            if items.len() as u64 > MAX_SET {
                return Some(Err(format!(
                    "{what}: {} values, over the limit of {MAX_SET}",
                    items.len()
                )));
            }
            Some(
                items
                    .iter()
                    .map(|i| to_field(i, spec, kind))
                    .collect::<Result<Vec<_>, _>>(),
            )
        }
        Value::Tuple(p) if p.len() == 2 && matches!(spec.kind, FieldKind::UInt(_)) => {
            let (Value::Int(lo), Value::Int(hi)) = (&p[0], &p[1]) else {
                return Some(Err(format!(
                    "{what}: a range is (low, high) integers, not {}",
                    v.repr()
                )));
            };
            if lo > hi {
                return Some(Err(format!(
                    "{what}: the range ({lo}, {hi}) is empty (write it low to high)"
                )));
            }
            if (hi - lo) as u64 >= MAX_SET {
                return Some(Err(format!(
                    "{what}: the range ({lo}, {hi}) holds {} values, over the limit of {MAX_SET}",
                    hi - lo + 1
                )));
            }
            Some(
                (*lo..=*hi)
                    .map(|n| to_field(&Value::Int(n), spec, kind))
                    .collect(),
            )
        }
        _ => None,
    }
}

//! Values of the language.

use crate::lang::escape_bytes;
use crate::wire::{
    LayerKind, Mac, Packet, ip_flags_str, mac_str, parse_ip_flags, parse_tcp_flags, tcp_flags_str,
};
use bytes::Bytes;
use std::net::Ipv4Addr;

/// A packet value: a whole packet seen from one of its layers (`p.tcp` is `p`
/// seen from its TCP layer), so computed fields still see the layers around it.
#[derive(Clone, Debug, PartialEq)]
pub struct PacketView {
    /// The whole packet.
    pub pkt: Packet,
    /// Index of the first layer in view.
    pub start: usize,
    /// When it crossed the link (kernel time), for packets sniffed, answered or read from a pcap.
    pub ts: Option<std::time::SystemTime>,
}

impl PacketView {
    /// A view of the whole packet.
    pub fn whole(pkt: Packet) -> PacketView {
        PacketView {
            pkt,
            start: 0,
            ts: None,
        }
    }

    /// A packet that crossed the link at `ts`.
    pub fn captured(pkt: Packet, ts: std::time::SystemTime) -> PacketView {
        PacketView {
            pkt,
            start: 0,
            ts: Some(ts),
        }
    }

    /// The layers in view, as a packet of their own.
    pub fn to_packet(&self) -> Packet {
        if self.start == 0 {
            return self.pkt.clone();
        }
        Packet {
            layers: self.pkt.layers[self.start.min(self.pkt.layers.len())..].to_vec(),
        }
    }

    /// The bytes of the layers in view, cut from the whole packet's frame.
    pub fn bytes(&self) -> Vec<u8> {
        if self.start == 0 {
            return self.pkt.emit();
        }
        let mut out = Vec::new();
        let spans = self.pkt.emit_with_spans(&mut out);
        let from = spans.get(self.start).map_or(out.len(), |s| s.start);
        out[from..].to_vec()
    }
}

/// A TCP session (shared: every copy of the value is the same conversation).
#[derive(Clone)]
pub struct SessionRef(pub std::rc::Rc<std::cell::RefCell<crate::session::conn::Conn>>);

impl PartialEq for SessionRef {
    fn eq(&self, other: &Self) -> bool {
        std::rc::Rc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for SessionRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = self.0.borrow();
        write!(
            f,
            "Session(:{} > {}:{})",
            c.cfg.sport, c.cfg.dst, c.cfg.dport
        )
    }
}

/// A TCP listener from `listen()`: the port craft answers SYNs on, and the
/// settings of the sessions `accept()` starts there.
#[derive(Debug)]
pub struct Listener {
    /// The address clients connect to (127.0.0.0/8).
    pub addr: std::net::IpAddr,
    /// The port (reserved and guarded against the kernel's RSTs).
    pub port: u16,
    /// Our receive window in bytes.
    pub window: u32,
    /// The MSS we advertise (None: 65495 on lo, 1460 elsewhere).
    pub mss: Option<u16>,
    /// The window scale we answer with when the client offers one.
    pub wscale: Option<u8>,
    /// First retransmission timeout.
    pub rto: std::time::Duration,
    /// Retransmissions before giving up.
    pub retries: u32,
    /// At most this many bytes a segment, by default.
    pub segment: Option<u16>,
    /// At most this many segments unacknowledged, by default.
    pub flight: Option<u32>,
    /// Answer a client's SACK offer.
    pub sack: bool,
    /// Answer a client's timestamps.
    pub timestamps: bool,
    /// Show each segment.
    pub verbose: bool,
    /// The clients accepted so far: (address, port, initial sequence number),
    /// so that a SYN they send again starts no second session.
    pub accepted: Vec<(std::net::IpAddr, u16, u32)>,
}

/// A listener (shared: every copy of the value is the same listener).
#[derive(Clone)]
pub struct ListenerRef(pub std::rc::Rc<std::cell::RefCell<Listener>>);

impl PartialEq for ListenerRef {
    fn eq(&self, other: &Self) -> bool {
        std::rc::Rc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for ListenerRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let l = self.0.borrow();
        write!(f, "Listener({}:{})", l.addr, l.port)
    }
}

/// A kernel TCP socket from `tcp_connect()` (shared: every copy is the same socket).
#[derive(Clone)]
pub struct SocketRef(pub std::rc::Rc<std::cell::RefCell<crate::host::ksock::KernelSocket>>);

impl PartialEq for SocketRef {
    fn eq(&self, other: &Self) -> bool {
        std::rc::Rc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for SocketRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Socket({})", self.0.borrow().peer())
    }
}

/// A kernel TCP listener from `tcp_listen()`.
#[derive(Clone)]
pub struct KListenerRef(pub std::rc::Rc<std::cell::RefCell<crate::host::ksock::KernelListener>>);

impl PartialEq for KListenerRef {
    fn eq(&self, other: &Self) -> bool {
        std::rc::Rc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for KListenerRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KernelListener({})", self.0.borrow().addr())
    }
}

/// Which flag set a flags value belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagSet {
    /// TCP flags.
    Tcp,
    /// IPv4 flags.
    Ip,
}

/// A value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Nothing (`none`): e.g. no reply in time.
    None,
    /// `true` / `false`.
    Bool(bool),
    /// Integer.
    Int(i64),
    /// Decimal.
    Float(f64),
    /// Bytes (strings are bytes), shared: reading a variable or a session's
    /// stream does not copy them.
    Str(Bytes),
    /// IPv4 address.
    Ip(Ipv4Addr),
    /// IPv6 address (a field's: `p.ipv6.src`).
    Ip6(std::net::Ipv6Addr),
    /// MAC address.
    Mac(Mac),
    /// Flag bits, compared with strings as sets: `"SA" == "AS"`.
    Flags(u16, FlagSet),
    /// A packet.
    Packet(PacketView),
    /// A set of packets (a field given several values).
    Set(super::set::PacketSet),
    /// A layer constructor (`TCP`), callable.
    Layer(LayerKind),
    /// A builtin function, callable.
    Builtin(&'static str),
    /// A keyword named where a value goes (`help(expect)`).
    Keyword(&'static str),
    /// A TCP session from `connect()` or a listener's `accept()`.
    Session(SessionRef),
    /// A TCP listener from `listen()`.
    Listener(ListenerRef),
    /// A kernel TCP socket from `tcp_connect()` or a kernel listener's `accept()`.
    Socket(SocketRef),
    /// A kernel TCP listener from `tcp_listen()`.
    KernelListener(KListenerRef),
    /// Named values, read as attributes (`k.info().rtt`).
    Record(Vec<(&'static str, Value)>),
    /// A list.
    List(Vec<Value>),
    /// A tuple.
    Tuple(Vec<Value>),
}

impl Value {
    /// The type's name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "none",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Ip(_) | Value::Ip6(_) => "address",
            Value::Mac(_) => "MAC address",
            Value::Flags(..) => "flags",
            Value::Packet(_) => "packet",
            Value::Set(_) => "packet set",
            Value::Layer(_) => "layer",
            Value::Builtin(_) => "function",
            Value::Keyword(_) => "keyword",
            Value::Session(_) => "session",
            Value::Listener(_) => "listener",
            Value::Socket(_) => "kernel socket",
            Value::KernelListener(_) => "kernel listener",
            Value::Record(_) => "record",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
        }
    }

    /// Truth value for `expect`, `and`, `or`, `not`.
    pub fn truthy(&self) -> bool {
        match self {
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(n) => *n != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Flags(b, _) => *b != 0,
            Value::List(v) | Value::Tuple(v) => !v.is_empty(),
            Value::Set(s) => !s.is_empty(),
            _ => true,
        }
    }

    /// How the REPL prints it.
    pub fn repr(&self) -> String {
        match self {
            Value::None => "none".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(n) => n.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Str(s) => format!("\"{}\"", escape_bytes(s)),
            Value::Ip(a) => a.to_string(),
            Value::Ip6(a) => a.to_string(),
            Value::Mac(m) => mac_str(m),
            Value::Flags(b, FlagSet::Tcp) => format!("\"{}\"", tcp_flags_str(*b)),
            Value::Flags(b, FlagSet::Ip) => format!("\"{}\"", ip_flags_str(*b)),
            Value::Packet(v) => crate::render::summary(&v.to_packet()),
            Value::Set(set) => set_repr(set),
            Value::Layer(k) => format!("<layer {}>", k.name()),
            Value::Builtin(n) => format!("<function {n}>"),
            Value::Keyword(k) => format!("<keyword {k}>"),
            Value::KernelListener(l) => {
                let l = l.0.borrow();
                let st = if l.is_closed() { " closed" } else { "" };
                format!("<kernel listener {}{st}>", l.addr())
            }
            Value::Socket(k) => {
                let k = k.0.borrow();
                let st = if k.is_closed() {
                    "closed"
                } else if k.is_connected() {
                    "connected"
                } else {
                    "connecting"
                };
                format!("<kernel socket to {} {st}>", k.peer())
            }
            Value::Listener(l) => {
                let l = l.0.borrow();
                format!(
                    "<listener {} accepted={}>",
                    std::net::SocketAddr::new(l.addr, l.port),
                    l.accepted.len()
                )
            }
            Value::Session(s) => {
                let c = s.0.borrow();
                format!(
                    "<session :{} > {}:{} {} seq={} ack={}>",
                    c.cfg.sport,
                    c.cfg.dst,
                    c.cfg.dport,
                    c.state_line(),
                    c.snd_nxt.wrapping_sub(c.cfg.iss),
                    c.rcv_nxt.wrapping_sub(c.irs.unwrap_or(0))
                )
            }
            Value::Record(fields) => format!(
                "{{{}}}",
                fields
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", v.repr()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Value::List(v) => format!(
                "[{}]",
                v.iter().map(Value::repr).collect::<Vec<_>>().join(", ")
            ),
            Value::Tuple(v) if v.len() == 1 => format!("({},)", v[0].repr()),
            Value::Tuple(v) => format!(
                "({})",
                v.iter().map(Value::repr).collect::<Vec<_>>().join(", ")
            ),
        }
    }

    /// Equality as the language defines it: flags compare with strings as sets,
    /// addresses with their text, numbers across int and decimal.
    pub fn equals(&self, other: &Value) -> Result<bool, String> {
        use Value as V;
        Ok(match (self, other) {
            (V::Flags(b, set), V::Str(s)) | (V::Str(s), V::Flags(b, set)) => {
                *b == parse_flags(s, *set)?
            }
            (V::Flags(a, _), V::Flags(b, _)) => a == b,
            (V::Flags(b, _), V::Int(n)) | (V::Int(n), V::Flags(b, _)) => i64::from(*b) == *n,
            (V::Int(a), V::Int(b)) => a == b,
            (V::Int(a), V::Float(b)) | (V::Float(b), V::Int(a)) => (*a as f64) == *b,
            (V::Float(a), V::Float(b)) => a == b,
            (V::Ip(a), V::Str(s)) | (V::Str(s), V::Ip(a)) => {
                std::str::from_utf8(s).ok().and_then(|t| t.parse().ok()) == Some(*a)
            }
            (V::Ip6(a), V::Str(s)) | (V::Str(s), V::Ip6(a)) => {
                std::str::from_utf8(s).ok().and_then(|t| t.parse().ok()) == Some(*a)
            }
            (V::Mac(a), V::Str(s)) | (V::Str(s), V::Mac(a)) => {
                mac_str(a).eq_ignore_ascii_case(&String::from_utf8_lossy(s))
            }
            (V::Packet(a), V::Packet(b)) => a.bytes() == b.bytes(),
            (V::List(a), V::List(b)) | (V::Tuple(a), V::Tuple(b)) => {
                if a.len() != b.len() {
                    return Ok(false);
                }
                for (x, y) in a.iter().zip(b) {
                    if !x.equals(y)? {
                        return Ok(false);
                    }
                }
                true
            }
            (a, b) => a == b,
        })
    }
}

/// `<set of 6 packets: IP.ttl=[1, 2] TCP.dport=[22, 80, 443]; first: ...>`,
/// long value lists cut in the middle.
fn set_repr(set: &super::set::PacketSet) -> String {
    let fields: Vec<String> = set
        .fields
        .iter()
        .map(|f| {
            let kind = set
                .base
                .layers
                .get(f.layer)
                .map_or(LayerKind::Raw, |l| l.kind());
            let spec = &kind.fields()[f.field];
            let show = |v: &crate::wire::FieldValue| crate::render::field_str(spec.kind, v);
            let vals: Vec<String> = if f.values.len() > 6 {
                let n = f.values.len();
                let mut v: Vec<String> = f.values[..3].iter().map(show).collect();
                v.push(format!("... ({n} values)"));
                v.push(show(&f.values[n - 1]));
                v
            } else {
                f.values.iter().map(show).collect()
            };
            format!("{}.{}=[{}]", kind.name(), spec.name, vals.join(", "))
        })
        .collect();
    let first = if set.is_empty() {
        "none".to_string()
    } else {
        crate::render::summary(&set.get(0))
    };
    format!(
        "<set of {} packets: {}; first: {first}>",
        set.len(),
        fields.join(" ")
    )
}

/// Parses a flag string of the given set.
pub fn parse_flags(s: &[u8], set: FlagSet) -> Result<u16, String> {
    let s = String::from_utf8_lossy(s);
    match set {
        FlagSet::Tcp => parse_tcp_flags(&s),
        FlagSet::Ip => parse_ip_flags(&s),
    }
}

/// An address as a value: `Value::Ip` or `Value::Ip6` by its family.
pub fn ip_value(a: std::net::IpAddr) -> Value {
    match a {
        std::net::IpAddr::V4(a) => Value::Ip(a),
        std::net::IpAddr::V6(a) => Value::Ip6(a),
    }
}

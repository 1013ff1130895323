//! A packet is a stack of layers. Emitting fills in what the user left unset
//! (lengths, protocol numbers, checksums) from the layers above; parsing keeps
//! every field so that a parsed frame emits to the same bytes.

use super::checksum;
use super::raw::Raw;
use super::{DecodeError, Ether, FieldSpec, FieldValue, Icmp, Ipv4, Tcp, Udp, icmp};
use std::net::Ipv4Addr;

/// Which protocol a layer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LayerKind {
    /// Ethernet II.
    Ether,
    /// IPv4.
    Ip,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP.
    Icmp,
    /// Payload bytes.
    Raw,
    /// Link-layer padding after the IP datagram.
    Padding,
}

impl LayerKind {
    /// Every kind, in the order `help` lists them.
    pub const ALL: [LayerKind; 7] = [
        LayerKind::Ether,
        LayerKind::Ip,
        LayerKind::Tcp,
        LayerKind::Udp,
        LayerKind::Icmp,
        LayerKind::Raw,
        LayerKind::Padding,
    ];

    /// The constructor name: `Ether`, `IP`, `TCP`, ...
    pub fn name(self) -> &'static str {
        match self {
            LayerKind::Ether => "Ether",
            LayerKind::Ip => "IP",
            LayerKind::Tcp => "TCP",
            LayerKind::Udp => "UDP",
            LayerKind::Icmp => "ICMP",
            LayerKind::Raw => "Raw",
            LayerKind::Padding => "Padding",
        }
    }

    /// The attribute name on a packet: `p.ether`, `p.ip`, `p.tcp`, ...
    pub fn attr(self) -> &'static str {
        match self {
            LayerKind::Ether => "ether",
            LayerKind::Ip => "ip",
            LayerKind::Tcp => "tcp",
            LayerKind::Udp => "udp",
            LayerKind::Icmp => "icmp",
            LayerKind::Raw => "raw",
            LayerKind::Padding => "padding",
        }
    }

    /// Looks a kind up by constructor or attribute name.
    pub fn from_name(s: &str) -> Option<LayerKind> {
        let l = s.to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|k| k.attr() == l)
            .or(match l.as_str() {
                "ipv4" => Some(LayerKind::Ip),
                "eth" | "ethernet" => Some(LayerKind::Ether),
                _ => None,
            })
    }

    /// The IPv4 protocol number of this kind above an IPv4 header (0 for
    /// none). The inverse of [`LayerKind::over_ip`]; a test keeps them so.
    #[inline]
    pub fn ip_proto(self) -> u8 {
        match self {
            LayerKind::Tcp => 6,
            LayerKind::Udp => 17,
            LayerKind::Icmp => 1,
            LayerKind::Ip => 4,
            _ => 0,
        }
    }

    /// The kind an IPv4 protocol number carries, if craft decodes it: the
    /// one table of protocol numbers that emit ([`LayerKind::ip_proto`]) and
    /// decode read.
    #[inline]
    pub fn over_ip(proto: u8) -> Option<LayerKind> {
        match proto {
            6 => Some(LayerKind::Tcp),
            17 => Some(LayerKind::Udp),
            1 => Some(LayerKind::Icmp),
            4 => Some(LayerKind::Ip),
            _ => None,
        }
    }

    /// True when a layer of this kind belongs directly above one of `below`:
    /// what a view calls an ordinary stack. Raw and Padding go anywhere;
    /// the first layer of a packet can be anything.
    pub fn can_sit_on(self, below: LayerKind) -> bool {
        use LayerKind::*;
        match self {
            Raw | Padding => true,
            Ether => false,
            // IP over Ethernet, IP in IP, and the datagram an ICMP error quotes.
            Ip => matches!(below, Ether | Ip | Icmp),
            Tcp | Udp | Icmp => below == Ip,
        }
    }

    /// True for the transport layers, which need a network layer below them.
    pub fn is_transport(self) -> bool {
        matches!(self, LayerKind::Tcp | LayerKind::Udp | LayerKind::Icmp)
    }

    /// The field table of this kind.
    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            LayerKind::Ether => Ether::FIELDS,
            LayerKind::Ip => Ipv4::FIELDS,
            LayerKind::Tcp => Tcp::FIELDS,
            LayerKind::Udp => Udp::FIELDS,
            LayerKind::Icmp => Icmp::FIELDS,
            LayerKind::Raw | LayerKind::Padding => Raw::FIELDS,
        }
    }

    /// Index of a field by name.
    pub fn field_index(self, name: &str) -> Option<usize> {
        self.fields().iter().position(|f| f.name == name)
    }
}

/// One layer of a packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layer {
    /// Ethernet II header.
    Ether(Ether),
    /// IPv4 header.
    Ip(Ipv4),
    /// TCP header.
    Tcp(Tcp),
    /// UDP header.
    Udp(Udp),
    /// ICMP header.
    Icmp(Icmp),
    /// Payload.
    Raw(Raw),
    /// Trailing padding.
    Padding(Raw),
}

impl Layer {
    /// A layer of this kind with every field unset.
    pub fn new(kind: LayerKind) -> Layer {
        match kind {
            LayerKind::Ether => Layer::Ether(Ether::default()),
            LayerKind::Ip => Layer::Ip(Ipv4::default()),
            LayerKind::Tcp => Layer::Tcp(Tcp::default()),
            LayerKind::Udp => Layer::Udp(Udp::default()),
            LayerKind::Icmp => Layer::Icmp(Icmp::default()),
            LayerKind::Raw => Layer::Raw(Raw::default()),
            LayerKind::Padding => Layer::Padding(Raw::default()),
        }
    }

    /// A payload layer holding `bytes`.
    pub fn raw(bytes: impl Into<Vec<u8>>) -> Layer {
        Layer::Raw(Raw { load: bytes.into() })
    }

    /// Its kind.
    pub fn kind(&self) -> LayerKind {
        match self {
            Layer::Ether(_) => LayerKind::Ether,
            Layer::Ip(_) => LayerKind::Ip,
            Layer::Tcp(_) => LayerKind::Tcp,
            Layer::Udp(_) => LayerKind::Udp,
            Layer::Icmp(_) => LayerKind::Icmp,
            Layer::Raw(_) => LayerKind::Raw,
            Layer::Padding(_) => LayerKind::Padding,
        }
    }

    /// Field `i` as set (or parsed); `None` when left to be computed or defaulted.
    pub fn slot(&self, i: usize) -> Option<FieldValue> {
        match self {
            Layer::Ether(l) => l.slot(i),
            Layer::Ip(l) => l.slot(i),
            Layer::Tcp(l) => l.slot(i),
            Layer::Udp(l) => l.slot(i),
            Layer::Icmp(l) => l.slot(i),
            Layer::Raw(l) | Layer::Padding(l) => l.slot(i),
        }
    }

    /// Sets field `i` (the value already checked against its [`super::FieldKind`]),
    /// or unsets it with `None`.
    pub fn put(&mut self, i: usize, v: Option<FieldValue>) {
        match self {
            Layer::Ether(l) => l.put(i, v),
            Layer::Ip(l) => l.put(i, v),
            Layer::Tcp(l) => l.put(i, v),
            Layer::Udp(l) => l.put(i, v),
            Layer::Icmp(l) => l.put(i, v),
            Layer::Raw(l) | Layer::Padding(l) => l.put(i, v),
        }
    }

    #[inline(always)]
    fn parse_as(kind: LayerKind, b: &[u8]) -> Result<(Layer, usize), DecodeError> {
        Ok(match kind {
            LayerKind::Ether => {
                let (h, n) = Ether::parse(b)?;
                (Layer::Ether(h), n)
            }
            LayerKind::Ip => {
                let (h, n) = Ipv4::parse(b)?;
                (Layer::Ip(h), n)
            }
            LayerKind::Tcp => {
                let (h, n) = Tcp::parse(b)?;
                (Layer::Tcp(h), n)
            }
            LayerKind::Udp => {
                let (h, n) = Udp::parse(b)?;
                (Layer::Udp(h), n)
            }
            LayerKind::Icmp => {
                let (h, n) = Icmp::parse(b)?;
                (Layer::Icmp(h), n)
            }
            LayerKind::Raw => (Layer::raw(b), b.len()),
            LayerKind::Padding => (Layer::Padding(Raw { load: b.to_vec() }), b.len()),
        })
    }
}

/// A packet: layers from the outermost (usually Ether) inwards.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Packet {
    /// The layers, outermost first.
    pub layers: Vec<Layer>,
}

/// Where each layer landed in an emitted frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// First byte of the layer's header.
    pub start: usize,
    /// End of its header (start of its payload).
    pub header_end: usize,
    /// End of its payload (excludes trailing padding).
    pub end: usize,
}

impl Packet {
    /// A packet of one layer.
    pub fn of(layer: Layer) -> Packet {
        Packet {
            layers: vec![layer],
        }
    }

    /// Ether (defaults) / `ip` / `tcp`, with `payload` as a Raw layer when not empty.
    pub fn ether_ip_tcp(ip: Ipv4, tcp: Tcp, payload: &[u8]) -> Packet {
        let mut layers = Vec::with_capacity(4);
        layers.extend([
            Layer::Ether(Ether::default()),
            Layer::Ip(ip),
            Layer::Tcp(tcp),
        ]);
        if !payload.is_empty() {
            layers.push(Layer::raw(payload.to_vec()));
        }
        Packet { layers }
    }

    /// The frame's bytes.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        self.emit_into(&mut out);
        out
    }

    /// Emits into `out` (cleared first), reusing its allocation.
    pub fn emit_into(&self, out: &mut Vec<u8>) {
        let n = self.layers.len();
        if n <= 8 {
            let mut starts = [0usize; 8];
            let mut hends = [0usize; 8];
            self.emit_spans(out, &mut starts[..n], &mut hends[..n]);
        } else {
            let mut starts = vec![0usize; n];
            let mut hends = vec![0usize; n];
            self.emit_spans(out, &mut starts, &mut hends);
        }
    }

    /// Emits and returns each layer's span in the frame.
    pub fn emit_with_spans(&self, out: &mut Vec<u8>) -> Vec<Span> {
        let n = self.layers.len();
        let mut starts = vec![0usize; n];
        let mut hends = vec![0usize; n];
        self.emit_spans(out, &mut starts, &mut hends);
        let end = self.payload_end(&starts, out.len());
        (0..n)
            .map(|i| Span {
                start: starts[i],
                header_end: hends[i],
                end: if self.layers[i].kind() == LayerKind::Padding {
                    out.len()
                } else {
                    end.max(hends[i])
                },
            })
            .collect()
    }

    fn payload_end(&self, starts: &[usize], total: usize) -> usize {
        self.layers
            .iter()
            .position(|l| l.kind() == LayerKind::Padding)
            .map_or(total, |i| starts[i])
    }

    fn emit_spans(&self, out: &mut Vec<u8>, starts: &mut [usize], hends: &mut [usize]) {
        out.clear();
        for (i, layer) in self.layers.iter().enumerate() {
            starts[i] = out.len();
            let next = self.layers.get(i + 1).map(Layer::kind);
            match layer {
                Layer::Ether(h) => h.emit(
                    out,
                    if next == Some(LayerKind::Ip) {
                        0x0800
                    } else {
                        0x9000
                    },
                ),
                Layer::Ip(h) => h.emit(out, next.map_or(0, LayerKind::ip_proto)),
                Layer::Tcp(h) => h.emit(out),
                Layer::Udp(h) => h.emit(out),
                Layer::Icmp(h) => h.emit(out),
                Layer::Raw(r) | Layer::Padding(r) => out.extend_from_slice(&r.load),
            }
            hends[i] = out.len();
        }
        let end = self.payload_end(starts, out.len());
        for i in (0..self.layers.len()).rev() {
            let (s, h) = (starts[i], hends[i]);
            if s >= end {
                continue;
            }
            match &self.layers[i] {
                Layer::Ip(ip) => ip.finalize(&mut out[s..end], h - s),
                Layer::Tcp(t) => {
                    let addrs = Self::enclosing_addrs(&self.layers[..i], starts, out);
                    t.finalize(&mut out[s..end], addrs)
                }
                Layer::Udp(u) => {
                    let addrs = Self::enclosing_addrs(&self.layers[..i], starts, out);
                    u.finalize(&mut out[s..end], addrs)
                }
                Layer::Icmp(c) => c.finalize(&mut out[s..end]),
                _ => {}
            }
        }
    }

    /// The pseudo-header addresses of the nearest IPv4 layer before the given
    /// ones, as emitted (see [`pseudo_addrs_before`]).
    fn enclosing_addrs(
        before: &[Layer],
        starts: &[usize],
        out: &[u8],
    ) -> Option<(Ipv4Addr, Ipv4Addr)> {
        let j = before.iter().rposition(|l| l.kind() == LayerKind::Ip)?;
        let end = starts.get(j + 1).copied().unwrap_or(out.len());
        super::ipv4::pseudo_addrs(out.get(starts[j]..end)?)
    }

    /// The first layer that does not belong on the one below it, and that
    /// one: `Ether()/TCP()/IP()` gives (TCP, Ether). None for an ordinary stack.
    pub fn odd_pair(&self) -> Option<(LayerKind, LayerKind)> {
        self.layers
            .windows(2)
            .map(|w| (w[1].kind(), w[0].kind()))
            .find(|(above, below)| !above.can_sit_on(*below))
    }

    /// A transport layer (TCP, UDP, ICMP) with no network layer directly
    /// below it, and what is below (None when it starts the packet). An
    /// Ethernet header whose type is set explicitly says what follows it,
    /// so it does not count.
    pub fn bare_transport(&self) -> Option<(LayerKind, Option<LayerKind>)> {
        self.layers.iter().enumerate().find_map(|(i, l)| {
            if !l.kind().is_transport() {
                return None;
            }
            match i.checked_sub(1).map(|j| &self.layers[j]) {
                None => Some((l.kind(), None)),
                Some(Layer::Ip(_)) => None,
                Some(Layer::Ether(e)) if e.ethertype.is_some() => None,
                Some(below) => Some((l.kind(), Some(below.kind()))),
            }
        })
    }

    /// Why this packet cannot be built as set, naming the field: a length
    /// that would not fit its field (a datagram over 65,535 bytes, more than
    /// 40 bytes of options), or a computed field of a layer after `Padding`
    /// (past the datagram's end, where nothing is computed). Emitting never
    /// fails; sending calls this first so nothing wraps silently.
    pub fn check_build(&self) -> Result<(), String> {
        let mut out = Vec::new();
        let spans = self.emit_with_spans(&mut out);
        let end = self.payload_end(
            &spans.iter().map(|s| s.start).collect::<Vec<_>>(),
            out.len(),
        );
        for (l, sp) in self.layers.iter().zip(&spans) {
            let name = l.kind().name();
            if sp.start >= end && l.kind() != LayerKind::Padding {
                let computed = computed_fields(l);
                if let Some(f) = computed.first() {
                    return Err(format!(
                        "{name}.{f} cannot be computed: the {name} layer comes after Padding, past the datagram's end (set {f}= explicitly, or put the layer before Padding)"
                    ));
                }
                continue;
            }
            let datagram = end.saturating_sub(sp.start);
            match l {
                Layer::Ip(h) => {
                    h.check_len(datagram)?;
                    if h.ihl.is_none() && sp.header_end - sp.start > 60 {
                        return Err(format!(
                            "IP.options: {} bytes of options, over IPv4's 40",
                            h.options.len()
                        ));
                    }
                }
                Layer::Udp(h) => h.check_len(datagram)?,
                Layer::Tcp(h) if h.dataofs.is_none() && sp.header_end - sp.start > 60 => {
                    return Err(format!(
                        "TCP.options: {} bytes of options, over TCP's 40",
                        h.options.len()
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Decodes a frame starting at Ethernet. Never fails: what cannot be decoded
    /// stays as a Raw layer, and the first problem is returned beside the packet.
    pub fn decode(bytes: &[u8]) -> (Packet, Option<DecodeError>) {
        Self::decode_from(LayerKind::Ether, bytes)
    }

    /// Decodes bytes that start with a layer of `first` kind.
    pub fn decode_from(first: LayerKind, bytes: &[u8]) -> (Packet, Option<DecodeError>) {
        let mut layers = Vec::with_capacity(4);
        let mut padding = Vec::new();
        let err = decode_chain(first, bytes, 0, 0, &mut layers, &mut padding);
        // Most frames have no padding: skip the (not inlined) empty extend.
        if !padding.is_empty() {
            layers.extend(padding.into_iter().rev());
        }
        (Packet { layers }, err)
    }

    /// Decodes a frame, keeping what it can (see [`Packet::decode`]).
    pub fn parse(bytes: &[u8]) -> Packet {
        Self::decode(bytes).0
    }

    /// Every field filled in, as it would be sent (scapy's show2): emits the
    /// packet and reads each layer back from its own bytes.
    pub fn resolved(&self) -> Packet {
        let mut out = Vec::new();
        let spans = self.emit_with_spans(&mut out);
        let layers = self
            .layers
            .iter()
            .zip(&spans)
            .map(|(l, sp)| {
                match Layer::parse_as(l.kind(), &out[sp.start..sp.end.max(sp.header_end)]) {
                    Ok((mut parsed, _)) => {
                        // Payload-carrying layers keep only their own header fields.
                        if let (Layer::Raw(r), Layer::Raw(orig))
                        | (Layer::Padding(r), Layer::Padding(orig)) = (&mut parsed, l)
                        {
                            r.load = orig.load.clone();
                        }
                        parsed
                    }
                    Err(_) => l.clone(),
                }
            })
            .collect();
        Packet { layers }
    }

    /// Index of the first layer of `kind`.
    pub fn find(&self, kind: LayerKind) -> Option<usize> {
        self.layers.iter().position(|l| l.kind() == kind)
    }

    /// The first IPv4 header.
    pub fn ip(&self) -> Option<&Ipv4> {
        self.layers.iter().find_map(|l| match l {
            Layer::Ip(h) => Some(h),
            _ => None,
        })
    }

    /// The first TCP header.
    pub fn tcp(&self) -> Option<&Tcp> {
        self.layers.iter().find_map(|l| match l {
            Layer::Tcp(h) => Some(h),
            _ => None,
        })
    }

    /// The first TCP header, mutable.
    pub fn tcp_mut(&mut self) -> Option<&mut Tcp> {
        self.layers.iter_mut().find_map(|l| match l {
            Layer::Tcp(h) => Some(h),
            _ => None,
        })
    }

    /// The first UDP header.
    pub fn udp(&self) -> Option<&Udp> {
        self.layers.iter().find_map(|l| match l {
            Layer::Udp(h) => Some(h),
            _ => None,
        })
    }

    /// The first ICMP header.
    pub fn icmp(&self) -> Option<&Icmp> {
        self.layers.iter().find_map(|l| match l {
            Layer::Icmp(h) => Some(h),
            _ => None,
        })
    }

    /// The payload: the first Raw layer's bytes (empty when there is none).
    pub fn payload(&self) -> &[u8] {
        self.layers
            .iter()
            .find_map(|l| match l {
                Layer::Raw(r) => Some(r.load.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }
}

/// The checksum status of layer `i` of an emitted packet (`bytes`, with the
/// `spans` emit gave each of `layers`): IPv4 header, TCP and UDP (over the
/// pseudo header of the nearest IPv4 header before it) and ICMP. None for
/// layers without a checksum, a UDP checksum of 0 (none sent), or a layer whose
/// bytes or addresses are missing.
pub fn layer_status(
    layers: &[Layer],
    spans: &[Span],
    bytes: &[u8],
    i: usize,
) -> Option<checksum::ChecksumStatus> {
    let sp = spans.get(i)?;
    let addrs = || -> Option<(Ipv4Addr, Ipv4Addr)> {
        let j = layers
            .get(..i)?
            .iter()
            .rposition(|l| l.kind() == LayerKind::Ip)?;
        let ip = spans.get(j)?;
        super::ipv4::pseudo_addrs(bytes.get(ip.start..ip.header_end)?)
    };
    let seg = bytes.get(sp.start..sp.end)?;
    match layers.get(i)? {
        Layer::Ip(_) => Some(checksum::verify_ip_header(
            bytes.get(sp.start..sp.header_end)?,
        )),
        Layer::Tcp(_) => {
            let (s, d) = addrs()?;
            Some(checksum::verify_transport(s, d, 6, seg, 16))
        }
        Layer::Udp(u) if u.chksum == Some(0) => None,
        Layer::Udp(u) => {
            let (s, d) = addrs()?;
            let seg = &seg[..u.covered_len(seg.len())];
            Some(checksum::verify_transport(s, d, 17, seg, 6))
        }
        Layer::Icmp(_) => Some(checksum::verify_icmp(seg)),
        _ => None,
    }
}

/// The fields of `l` that emitting computes after the payload is known
/// (lengths and checksums) and that are unset.
fn computed_fields(l: &Layer) -> Vec<&'static str> {
    let unset = |pairs: &[(&'static str, bool)]| -> Vec<&'static str> {
        pairs.iter().filter(|(_, u)| *u).map(|(n, _)| *n).collect()
    };
    match l {
        Layer::Ip(h) => unset(&[("len", h.len.is_none()), ("chksum", h.chksum.is_none())]),
        Layer::Tcp(h) => unset(&[("chksum", h.chksum.is_none())]),
        Layer::Udp(h) => unset(&[("len", h.len.is_none()), ("chksum", h.chksum.is_none())]),
        Layer::Icmp(h) => unset(&[("chksum", h.chksum.is_none())]),
        _ => Vec::new(),
    }
}

/// Where a UDP datagram at `off` ends: a UDP length shorter than what
/// follows (`rest`) ends it there (RFC 768), the rest kept as trailing bytes.
/// Out of line: TCP frames, the common case, do not pay for it.
#[inline(never)]
fn udp_end(h: &Udp, rest: &[u8], off: usize, padding: &mut Vec<Layer>) -> usize {
    let covered = h.covered_len(rest.len());
    if covered < rest.len() {
        padding.push(Layer::Padding(Raw {
            load: rest[covered..].to_vec(),
        }));
    }
    off + covered
}

/// How many ICMP quotes deep decoding goes before keeping the rest raw.
const MAX_QUOTE_DEPTH: usize = 4;

/// Decodes `b` as a chain starting at `kind`, appending layers; trailing padding
/// (bytes past an IP datagram's total length) is collected separately so it
/// ends the packet. Returns the first decode error, offsets relative to the frame.
fn decode_chain(
    mut kind: LayerKind,
    b: &[u8],
    base: usize,
    depth: usize,
    layers: &mut Vec<Layer>,
    padding: &mut Vec<Layer>,
) -> Option<DecodeError> {
    let mut off = 0;
    let mut end = b.len();
    loop {
        let rest = &b[off..end];
        if rest.is_empty() && kind != LayerKind::Ether {
            return None;
        }
        let (layer, hlen) = match Layer::parse_as(kind, rest) {
            Ok(x) => x,
            Err(mut e) => {
                e.offset += base + off;
                if !rest.is_empty() {
                    layers.push(Layer::raw(rest));
                }
                return Some(e);
            }
        };
        let next = match &layer {
            Layer::Ether(h) => match h.ethertype {
                Some(0x0800) => LayerKind::Ip,
                _ => LayerKind::Raw,
            },
            Layer::Ip(h) => {
                let total = usize::from(h.len.unwrap_or(0));
                if total >= hlen && total < rest.len() {
                    padding.push(Layer::Padding(Raw {
                        load: rest[total..].to_vec(),
                    }));
                    end = off + total;
                }
                let fragment = h.frag.unwrap_or(0) != 0 || h.flags.unwrap_or(0) & 1 != 0;
                match h.proto {
                    _ if fragment => LayerKind::Raw,
                    Some(p) => LayerKind::over_ip(p).unwrap_or(LayerKind::Raw),
                    None => LayerKind::Raw,
                }
            }
            Layer::Udp(h) => {
                end = udp_end(h, rest, off, padding);
                LayerKind::Raw
            }
            Layer::Icmp(h) if icmp::is_error_type(h.type_num()) => {
                layers.push(layer);
                off += hlen;
                // The quoted datagram: decode what is there; a cut-short quote stays raw.
                let quoted = &b[off..end];
                // An ICMP error about an ICMP error is never sent (RFC 1122), so
                // deeper nesting is hostile: keep it raw rather than recurse.
                if depth >= MAX_QUOTE_DEPTH && !quoted.is_empty() {
                    layers.push(Layer::raw(quoted));
                } else if !quoted.is_empty() {
                    let mut inner = Vec::new();
                    let mut inner_pad = Vec::new();
                    let e = decode_chain(
                        LayerKind::Ip,
                        quoted,
                        base + off,
                        depth + 1,
                        &mut inner,
                        &mut inner_pad,
                    );
                    if e.is_none() || inner.first().is_some_and(|l| l.kind() == LayerKind::Ip) {
                        layers.extend(inner);
                        // Padding inside a quote is part of the quote, kept raw.
                        layers.extend(inner_pad.into_iter().rev().map(|p| match p {
                            Layer::Padding(r) => Layer::Raw(r),
                            other => other,
                        }));
                    } else {
                        layers.push(Layer::raw(quoted));
                    }
                }
                return None;
            }
            _ => LayerKind::Raw,
        };
        let is_raw = matches!(layer, Layer::Raw(_));
        layers.push(layer);
        off += hlen;
        if is_raw || off >= end {
            return None;
        }
        kind = next;
    }
}

#[cfg(test)]
mod kind_tests {
    use super::LayerKind;

    #[test]
    fn protocol_numbers_go_both_ways() {
        for p in 0..=255u8 {
            if let Some(k) = LayerKind::over_ip(p) {
                assert_eq!(k.ip_proto(), p);
            }
        }
        for k in LayerKind::ALL {
            let p = k.ip_proto();
            assert!(p == 0 || LayerKind::over_ip(p) == Some(k), "{k:?}");
        }
    }
}

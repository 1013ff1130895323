//! ICMPv6 messages (RFC 4443, RFC 4861), one layer per message as scapy has
//! them: `ICMPv6EchoRequest`/`ICMPv6EchoReply` (id, seq, data), the errors
//! `ICMPv6DestUnreach`, `ICMPv6PacketTooBig`, `ICMPv6TimeExceeded`,
//! `ICMPv6ParamProblem` (their quoted datagram follows as the next layers,
//! IPv6 first), the neighbour discovery messages `ICMPv6ND_RS`, `_RA`,
//! `_NS`, `_NA`, `_Redirect` (their options follow as `ICMPv6NDOpt*`
//! layers) and `ICMPv6Unknown` for any other type. The checksum covers the
//! IPv6 pseudo header (next header 58).
//!
//! Each message and option is a [`Layout`] table: fields, where each lives,
//! defaults; [`super::packed`] reads and writes them.

use super::checksum::{self, Pseudo};
use super::packed::{Layout, Part, auto, int, spec};
use super::{DecodeError, FieldKind, FieldSpec, FieldValue, put16};
use std::net::Ipv6Addr;

/// Which ICMPv6 message a layer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    /// Echo request (type 128).
    EchoRequest,
    /// Echo reply (type 129).
    EchoReply,
    /// Destination unreachable (type 1).
    DestUnreach,
    /// Packet too big (type 2).
    PacketTooBig,
    /// Time exceeded (type 3).
    TimeExceeded,
    /// Parameter problem (type 4).
    ParamProblem,
    /// Router solicitation (type 133).
    RouterSolicit,
    /// Router advertisement (type 134).
    RouterAdvert,
    /// Neighbour solicitation (type 135).
    NeighborSolicit,
    /// Neighbour advertisement (type 136).
    NeighborAdvert,
    /// Redirect (type 137).
    Redirect,
    /// Any other type: the body kept as bytes.
    Unknown,
}

/// Which neighbour discovery option a layer is (RFC 4861 4.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Opt {
    /// Source link-layer address (type 1).
    SrcLLAddr,
    /// Target link-layer address (type 2).
    DstLLAddr,
    /// Prefix information (type 3).
    PrefixInfo,
    /// MTU (type 5).
    Mtu,
    /// Any other option: its data kept as bytes.
    Unknown,
}

/// Indices of the fields every message starts with.
pub mod field {
    /// `type`.
    pub const TYPE: usize = 0;
    /// `code`.
    pub const CODE: usize = 1;
    /// `cksum`.
    pub const CKSUM: usize = 2;
}

const TYPE_DOC: &str = "128 echo-request, 129 echo-reply, 1 dest-unreach, 2 packet-too-big, 3 time-exceeded, 4 param-problem, 133-137 neighbour discovery";
const CKSUM: FieldSpec = spec(
    "cksum",
    FieldKind::UInt(16),
    "auto",
    "checksum over the IPv6 pseudo header and the message",
);
const CODE: FieldSpec = spec("code", FieldKind::UInt(8), "0", "code");
const RES32: FieldSpec = spec("res", FieldKind::UInt(32), "0", "reserved");
const TGT: FieldSpec = spec("tgt", FieldKind::Ipv6, "::", "target address");

/// The parts of type, code and checksum, with the message's type.
macro_rules! head {
    ($t:expr) => {
        [int(0, 8, $t), int(8, 8, 0), auto(16, 16)]
    };
}

const fn concat<const A: usize, const B: usize, const N: usize>(
    a: [Part; A],
    b: [Part; B],
) -> [Part; N] {
    let mut out = [Part::Data; N];
    let mut i = 0;
    while i < A {
        out[i] = a[i];
        i += 1;
    }
    while i < N {
        out[i] = b[i - A];
        i += 1;
    }
    out
}

static ECHO_REQUEST: Layout = Layout {
    name: "ICMPv6EchoRequest",
    len: 8,
    fields: &[
        spec("type", FieldKind::UInt(8), "128", TYPE_DOC),
        CODE,
        CKSUM,
        spec("id", FieldKind::UInt(16), "0", "identifier"),
        spec("seq", FieldKind::UInt(16), "0", "sequence number"),
        spec("data", FieldKind::Bytes, "\"\"", "echo data"),
    ],
    parts: &concat::<3, 3, 6>(head!(128), [int(32, 16, 0), int(48, 16, 0), Part::Data]),
};
static ECHO_REPLY: Layout = Layout {
    name: "ICMPv6EchoReply",
    len: 8,
    fields: &[
        spec("type", FieldKind::UInt(8), "129", TYPE_DOC),
        CODE,
        CKSUM,
        spec("id", FieldKind::UInt(16), "0", "identifier"),
        spec("seq", FieldKind::UInt(16), "0", "sequence number"),
        spec("data", FieldKind::Bytes, "\"\"", "echo data"),
    ],
    parts: &concat::<3, 3, 6>(head!(129), [int(32, 16, 0), int(48, 16, 0), Part::Data]),
};
const LENGTH: FieldSpec = spec(
    "length",
    FieldKind::UInt(8),
    "0",
    "length of the quoted datagram in 8-byte units (RFC 4884), 0 for none",
);
const UNUSED: FieldSpec = spec("unused", FieldKind::UInt(24), "0", "unused");
static DEST_UNREACH: Layout = Layout {
    name: "ICMPv6DestUnreach",
    len: 8,
    fields: &[
        spec("type", FieldKind::UInt(8), "1", TYPE_DOC),
        spec(
            "code",
            FieldKind::UInt(8),
            "0",
            "0 no route, 1 prohibited, 3 address unreachable, 4 port unreachable",
        ),
        CKSUM,
        LENGTH,
        UNUSED,
    ],
    parts: &concat::<3, 2, 5>(head!(1), [int(32, 8, 0), int(40, 24, 0)]),
};
static PACKET_TOO_BIG: Layout = Layout {
    name: "ICMPv6PacketTooBig",
    len: 8,
    fields: &[
        spec("type", FieldKind::UInt(8), "2", TYPE_DOC),
        CODE,
        CKSUM,
        spec("mtu", FieldKind::UInt(32), "1280", "the next hop's MTU"),
    ],
    parts: &concat::<3, 1, 4>(head!(2), [int(32, 32, 1280)]),
};
static TIME_EXCEEDED: Layout = Layout {
    name: "ICMPv6TimeExceeded",
    len: 8,
    fields: &[
        spec("type", FieldKind::UInt(8), "3", TYPE_DOC),
        spec(
            "code",
            FieldKind::UInt(8),
            "0",
            "0 hop limit exceeded, 1 reassembly time exceeded",
        ),
        CKSUM,
        LENGTH,
        UNUSED,
    ],
    parts: &concat::<3, 2, 5>(head!(3), [int(32, 8, 0), int(40, 24, 0)]),
};
static PARAM_PROBLEM: Layout = Layout {
    name: "ICMPv6ParamProblem",
    len: 8,
    fields: &[
        spec("type", FieldKind::UInt(8), "4", TYPE_DOC),
        spec(
            "code",
            FieldKind::UInt(8),
            "0",
            "0 bad header field, 1 unknown next header, 2 unknown option",
        ),
        CKSUM,
        spec(
            "ptr",
            FieldKind::UInt(32),
            "6",
            "offset of the problem in the quoted datagram",
        ),
    ],
    parts: &concat::<3, 1, 4>(head!(4), [int(32, 32, 6)]),
};
static ROUTER_SOLICIT: Layout = Layout {
    name: "ICMPv6ND_RS",
    len: 8,
    fields: &[
        spec("type", FieldKind::UInt(8), "133", TYPE_DOC),
        CODE,
        CKSUM,
        RES32,
    ],
    parts: &concat::<3, 1, 4>(head!(133), [int(32, 32, 0)]),
};
static ROUTER_ADVERT: Layout = Layout {
    name: "ICMPv6ND_RA",
    len: 16,
    fields: &[
        spec("type", FieldKind::UInt(8), "134", TYPE_DOC),
        CODE,
        CKSUM,
        spec("chlim", FieldKind::UInt(8), "0", "current hop limit"),
        spec(
            "M",
            FieldKind::UInt(1),
            "0",
            "managed address configuration",
        ),
        spec("O", FieldKind::UInt(1), "0", "other configuration"),
        spec("H", FieldKind::UInt(1), "0", "home agent"),
        spec(
            "prf",
            FieldKind::UInt(2),
            "1",
            "router preference (1 high, 0 medium, 3 low)",
        ),
        spec("P", FieldKind::UInt(1), "0", "proxy"),
        spec("res", FieldKind::UInt(2), "0", "reserved"),
        spec(
            "routerlifetime",
            FieldKind::UInt(16),
            "1800",
            "router lifetime (s)",
        ),
        spec(
            "reachabletime",
            FieldKind::UInt(32),
            "0",
            "reachable time (ms)",
        ),
        spec(
            "retranstimer",
            FieldKind::UInt(32),
            "0",
            "retransmission timer (ms)",
        ),
    ],
    parts: &concat::<3, 10, 13>(
        head!(134),
        [
            int(32, 8, 0),
            int(40, 1, 0),
            int(41, 1, 0),
            int(42, 1, 0),
            int(43, 2, 1),
            int(45, 1, 0),
            int(46, 2, 0),
            int(48, 16, 1800),
            int(64, 32, 0),
            int(96, 32, 0),
        ],
    ),
};
static NEIGHBOR_SOLICIT: Layout = Layout {
    name: "ICMPv6ND_NS",
    len: 24,
    fields: &[
        spec("type", FieldKind::UInt(8), "135", TYPE_DOC),
        CODE,
        CKSUM,
        RES32,
        TGT,
    ],
    parts: &concat::<3, 2, 5>(head!(135), [int(32, 32, 0), Part::Addr6(8)]),
};
static NEIGHBOR_ADVERT: Layout = Layout {
    name: "ICMPv6ND_NA",
    len: 24,
    fields: &[
        spec("type", FieldKind::UInt(8), "136", TYPE_DOC),
        CODE,
        CKSUM,
        spec("R", FieldKind::UInt(1), "1", "router"),
        spec("S", FieldKind::UInt(1), "0", "solicited"),
        spec("O", FieldKind::UInt(1), "1", "override"),
        spec("res", FieldKind::UInt(29), "0", "reserved"),
        TGT,
    ],
    parts: &concat::<3, 5, 8>(
        head!(136),
        [
            int(32, 1, 1),
            int(33, 1, 0),
            int(34, 1, 1),
            int(35, 29, 0),
            Part::Addr6(8),
        ],
    ),
};
static REDIRECT: Layout = Layout {
    name: "ICMPv6ND_Redirect",
    len: 40,
    fields: &[
        spec("type", FieldKind::UInt(8), "137", TYPE_DOC),
        CODE,
        CKSUM,
        RES32,
        spec("tgt", FieldKind::Ipv6, "::", "the better first hop"),
        spec("dst", FieldKind::Ipv6, "::", "the destination redirected"),
    ],
    parts: &concat::<3, 3, 6>(
        head!(137),
        [int(32, 32, 0), Part::Addr6(8), Part::Addr6(24)],
    ),
};
static UNKNOWN: Layout = Layout {
    name: "ICMPv6Unknown",
    len: 4,
    fields: &[
        spec("type", FieldKind::UInt(8), "1", TYPE_DOC),
        CODE,
        CKSUM,
        spec(
            "msgbody",
            FieldKind::Bytes,
            "\"\"",
            "the message after the checksum",
        ),
    ],
    parts: &concat::<3, 1, 4>(head!(1), [Part::Data]),
};

const OPT_LEN: FieldSpec = spec(
    "len",
    FieldKind::UInt(8),
    "auto",
    "length in 8-byte units, type and length included",
);
static SRC_LLADDR: Layout = Layout {
    name: "ICMPv6NDOptSrcLLAddr",
    len: 8,
    fields: &[
        spec("type", FieldKind::UInt(8), "1", "option type"),
        OPT_LEN,
        spec(
            "lladdr",
            FieldKind::Mac,
            "00:00:00:00:00:00",
            "the sender's link-layer address",
        ),
    ],
    parts: &[int(0, 8, 1), auto(8, 8), Part::Mac(2)],
};
static DST_LLADDR: Layout = Layout {
    name: "ICMPv6NDOptDstLLAddr",
    len: 8,
    fields: &[
        spec("type", FieldKind::UInt(8), "2", "option type"),
        OPT_LEN,
        spec(
            "lladdr",
            FieldKind::Mac,
            "00:00:00:00:00:00",
            "the target's link-layer address",
        ),
    ],
    parts: &[int(0, 8, 2), auto(8, 8), Part::Mac(2)],
};
static PREFIX_INFO: Layout = Layout {
    name: "ICMPv6NDOptPrefixInfo",
    len: 32,
    fields: &[
        spec("type", FieldKind::UInt(8), "3", "option type"),
        OPT_LEN,
        spec("prefixlen", FieldKind::UInt(8), "64", "prefix length"),
        spec("L", FieldKind::UInt(1), "1", "on-link"),
        spec(
            "A",
            FieldKind::UInt(1),
            "1",
            "autonomous address configuration",
        ),
        spec("R", FieldKind::UInt(1), "0", "router address"),
        spec("res1", FieldKind::UInt(5), "0", "reserved"),
        spec(
            "validlifetime",
            FieldKind::UInt(32),
            "4294967295",
            "valid lifetime (s)",
        ),
        spec(
            "preferredlifetime",
            FieldKind::UInt(32),
            "4294967295",
            "preferred lifetime (s)",
        ),
        spec("res2", FieldKind::UInt(32), "0", "reserved"),
        spec("prefix", FieldKind::Ipv6, "::", "the prefix"),
    ],
    parts: &[
        int(0, 8, 3),
        auto(8, 8),
        int(16, 8, 64),
        int(24, 1, 1),
        int(25, 1, 1),
        int(26, 1, 0),
        int(27, 5, 0),
        int(32, 32, u32::MAX),
        int(64, 32, u32::MAX),
        int(96, 32, 0),
        Part::Addr6(16),
    ],
};
static MTU: Layout = Layout {
    name: "ICMPv6NDOptMTU",
    len: 8,
    fields: &[
        spec("type", FieldKind::UInt(8), "5", "option type"),
        OPT_LEN,
        spec("res", FieldKind::UInt(16), "0", "reserved"),
        spec("mtu", FieldKind::UInt(32), "1280", "the link's MTU"),
    ],
    parts: &[int(0, 8, 5), auto(8, 8), int(16, 16, 0), int(32, 32, 1280)],
};
static OPT_UNKNOWN: Layout = Layout {
    name: "ICMPv6NDOptUnknown",
    len: 2,
    fields: &[
        spec("type", FieldKind::UInt(8), "0", "option type"),
        OPT_LEN,
        spec(
            "data",
            FieldKind::Bytes,
            "\"\"",
            "the option's data (padded with zeros to 8 bytes)",
        ),
    ],
    parts: &[int(0, 8, 0), auto(8, 8), Part::Data],
};

impl Msg {
    /// Every message, in the order `help` lists them.
    pub const ALL: [Msg; 12] = [
        Msg::EchoRequest,
        Msg::EchoReply,
        Msg::DestUnreach,
        Msg::PacketTooBig,
        Msg::TimeExceeded,
        Msg::ParamProblem,
        Msg::RouterSolicit,
        Msg::RouterAdvert,
        Msg::NeighborSolicit,
        Msg::NeighborAdvert,
        Msg::Redirect,
        Msg::Unknown,
    ];

    /// The layout table.
    pub fn layout(self) -> &'static Layout {
        match self {
            Msg::EchoRequest => &ECHO_REQUEST,
            Msg::EchoReply => &ECHO_REPLY,
            Msg::DestUnreach => &DEST_UNREACH,
            Msg::PacketTooBig => &PACKET_TOO_BIG,
            Msg::TimeExceeded => &TIME_EXCEEDED,
            Msg::ParamProblem => &PARAM_PROBLEM,
            Msg::RouterSolicit => &ROUTER_SOLICIT,
            Msg::RouterAdvert => &ROUTER_ADVERT,
            Msg::NeighborSolicit => &NEIGHBOR_SOLICIT,
            Msg::NeighborAdvert => &NEIGHBOR_ADVERT,
            Msg::Redirect => &REDIRECT,
            Msg::Unknown => &UNKNOWN,
        }
    }

    /// The constructor name, scapy's: `ICMPv6EchoRequest`, ...
    pub fn name(self) -> &'static str {
        self.layout().name
    }

    /// The field table.
    pub fn fields(self) -> &'static [FieldSpec] {
        self.layout().fields
    }

    /// The type a message of this kind has unless set.
    pub fn default_type(self) -> u8 {
        self.layout().int(&[], field::TYPE) as u8
    }

    /// The message a type number is decoded as.
    pub fn of_type(t: u8) -> Msg {
        Msg::ALL
            .into_iter()
            .find(|m| *m != Msg::Unknown && m.default_type() == t)
            .unwrap_or(Msg::Unknown)
    }

    /// True for the errors, which quote the datagram that caused them.
    pub fn is_error(self) -> bool {
        matches!(
            self,
            Msg::DestUnreach | Msg::PacketTooBig | Msg::TimeExceeded | Msg::ParamProblem
        )
    }

    /// For the neighbour discovery messages, which options follow: the
    /// IPv6 hop limit (255, RFC 4861) and destination scapy gives the IPv6
    /// header below when unset (all routers for a solicitation, all nodes
    /// otherwise).
    pub fn nd_defaults(self) -> Option<(u8, Ipv6Addr)> {
        let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
        match self {
            Msg::RouterSolicit => Some((255, Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2))),
            Msg::RouterAdvert | Msg::NeighborSolicit | Msg::NeighborAdvert | Msg::Redirect => {
                Some((255, all_nodes))
            }
            _ => None,
        }
    }
}

impl Opt {
    /// Every option, in the order `help` lists them.
    pub const ALL: [Opt; 5] = [
        Opt::SrcLLAddr,
        Opt::DstLLAddr,
        Opt::PrefixInfo,
        Opt::Mtu,
        Opt::Unknown,
    ];

    /// The layout table.
    pub fn layout(self) -> &'static Layout {
        match self {
            Opt::SrcLLAddr => &SRC_LLADDR,
            Opt::DstLLAddr => &DST_LLADDR,
            Opt::PrefixInfo => &PREFIX_INFO,
            Opt::Mtu => &MTU,
            Opt::Unknown => &OPT_UNKNOWN,
        }
    }

    /// The option a type number is decoded as.
    pub fn of_type(t: u8) -> Opt {
        Opt::ALL
            .into_iter()
            .find(|o| *o != Opt::Unknown && o.layout().int(&[], 0) == u64::from(t))
            .unwrap_or(Opt::Unknown)
    }
}

/// An ICMPv6 message: its kind, and every field as set (`None`: default or
/// computed), in its layout's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Icmp6 {
    /// Which message.
    pub msg: Msg,
    /// The fields.
    pub vals: Vec<Option<FieldValue>>,
}

impl Icmp6 {
    /// A message with every field unset.
    pub fn new(msg: Msg) -> Icmp6 {
        Icmp6 {
            msg,
            vals: vec![None; msg.layout().fields.len()],
        }
    }

    /// The type, defaulting to the message's.
    pub fn type_num(&self) -> u8 {
        self.int(field::TYPE) as u8
    }

    /// The code as set or parsed.
    pub fn code(&self) -> Option<u8> {
        self.slot(field::CODE)
            .and_then(|v| v.as_int())
            .map(|v| v as u8)
    }

    /// The checksum as set or parsed.
    pub fn cksum(&self) -> Option<u16> {
        self.slot(field::CKSUM)
            .and_then(|v| v.as_int())
            .map(|v| v as u16)
    }

    /// Integer field `i` as set or its default: for echo, id is 3 and seq 4.
    pub fn int(&self, i: usize) -> u64 {
        self.msg.layout().int(&self.vals, i)
    }

    /// Field `name`'s value as set or its default.
    pub fn get(&self, name: &str) -> Option<FieldValue> {
        let lay = self.msg.layout();
        lay.value(&self.vals, lay.index(name)?)
    }

    /// Parses a message; the type picks the layout (a message too short for
    /// its type's is an `ICMPv6Unknown`, as scapy does).
    pub fn parse(b: &[u8]) -> Result<(Icmp6, usize), DecodeError> {
        if b.len() < 4 {
            return Err(DecodeError {
                layer: "ICMPv6",
                offset: 0,
                msg: format!("truncated: {} of 4 header bytes", b.len()),
            });
        }
        let mut msg = Msg::of_type(b[0]);
        if b.len() < msg.layout().len {
            msg = Msg::Unknown;
        }
        let lay = msg.layout();
        let has_data = lay.parts.iter().any(|p| matches!(p, Part::Data));
        let n = if has_data { b.len() } else { lay.len };
        Ok((
            Icmp6 {
                msg,
                vals: lay.parse(&b[..n]),
            },
            n,
        ))
    }

    /// Appends the message with a provisional checksum.
    pub fn emit(&self, out: &mut Vec<u8>) {
        self.msg.layout().emit(&self.vals, out);
    }

    /// Fills in the checksum over `msg` (header to end of message), with the
    /// pseudo header of the IPv6 layer below (loopback when there is none).
    pub fn finalize(&self, msg: &mut [u8], pseudo: Option<Pseudo>) {
        if self.cksum().is_none() && msg.len() >= 4 {
            let p = pseudo.unwrap_or(Pseudo::V6(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST));
            put16(msg, 2, 0);
            let c = checksum::checksum_with(p, 58, msg);
            put16(msg, 2, c);
        }
    }

    /// Reads field `i` as set or parsed.
    pub fn slot(&self, i: usize) -> Option<FieldValue> {
        self.vals.get(i).cloned().flatten()
    }

    /// Sets (or with `None` unsets) field `i`; the value was checked against its kind.
    pub fn put(&mut self, i: usize, v: Option<FieldValue>) {
        if let Some(s) = self.vals.get_mut(i) {
            *s = v;
        }
    }
}

/// A neighbour discovery option (RFC 4861 4.6): type, length in 8-byte
/// units, and its layout's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NdOpt {
    /// Which option.
    pub opt: Opt,
    /// The fields.
    pub vals: Vec<Option<FieldValue>>,
}

impl NdOpt {
    /// An option with every field unset.
    pub fn new(opt: Opt) -> NdOpt {
        NdOpt {
            opt,
            vals: vec![None; opt.layout().fields.len()],
        }
    }

    /// Parses one option: its length field says how long it is. A known
    /// type of another length than its layout's reads as unknown (so every
    /// byte is kept).
    pub fn parse(b: &[u8]) -> Result<(NdOpt, usize), DecodeError> {
        let err = |offset, msg: String| DecodeError {
            layer: "ICMPv6NDOpt",
            offset,
            msg,
        };
        let [t, len, ..] = *b else {
            return Err(err(0, format!("truncated: {} of 2 bytes", b.len())));
        };
        if len == 0 {
            return Err(err(
                1,
                "length 0 (RFC 4861 4.6: such a message is discarded)".into(),
            ));
        }
        let total = usize::from(len) * 8;
        let Some(body) = b.get(..total) else {
            return Err(err(
                1,
                format!(
                    "length {len} ({total} bytes) runs past the end ({} bytes)",
                    b.len()
                ),
            ));
        };
        let mut opt = Opt::of_type(t);
        if opt.layout().len != total {
            opt = Opt::Unknown;
        }
        Ok((
            NdOpt {
                opt,
                vals: opt.layout().parse(body),
            },
            total,
        ))
    }

    /// Appends the option; a computed length pads it with zeros to 8 bytes.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let start = out.len();
        self.opt.layout().emit(&self.vals, out);
        if self.slot(1).is_none() {
            let n = out.len() - start;
            out.resize(start + n.div_ceil(8) * 8, 0);
            out[start + 1] = ((out.len() - start) / 8).min(255) as u8;
        }
    }

    /// Reads field `i` as set or parsed.
    pub fn slot(&self, i: usize) -> Option<FieldValue> {
        self.vals.get(i).cloned().flatten()
    }

    /// Sets (or with `None` unsets) field `i`.
    pub fn put(&mut self, i: usize, v: Option<FieldValue>) {
        if let Some(s) = self.vals.get_mut(i) {
            *s = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_agree() {
        for m in Msg::ALL {
            let lay = m.layout();
            lay.check().unwrap();
            assert_eq!(lay.fields[0].name, "type");
            assert_eq!(lay.fields[2].name, "cksum");
            assert_eq!(lay.fields[0].default, m.default_type().to_string());
            if m != Msg::Unknown {
                assert_eq!(Msg::of_type(m.default_type()), m);
            }
        }
        for o in Opt::ALL {
            o.layout().check().unwrap();
            assert_eq!(o.layout().fields[1].name, "len");
            if o != Opt::Unknown {
                assert_eq!(Opt::of_type(o.layout().int(&[], 0) as u8), o);
            }
        }
    }

    #[test]
    fn defaults_emit_scapys_bytes() {
        // scapy 2.8: bytes(ICMPv6PacketTooBig()), bytes(ICMPv6ND_RA()), ...
        for (m, hex) in [
            (Msg::PacketTooBig, "0200000000000500"),
            (Msg::ParamProblem, "0400000000000006"),
            (Msg::EchoReply, "8100000000000000"),
            (Msg::DestUnreach, "0100000000000000"),
            (Msg::RouterSolicit, "8500000000000000"),
            (Msg::RouterAdvert, "86000000000807080000000000000000"),
            (
                Msg::NeighborSolicit,
                "870000000000000000000000000000000000000000000000",
            ),
            (
                Msg::NeighborAdvert,
                "88000000a000000000000000000000000000000000000000",
            ),
        ] {
            let mut out = Vec::new();
            Icmp6::new(m).emit(&mut out);
            assert_eq!(hex::encode(&out), hex, "{m:?}");
            let (back, _) = Icmp6::parse(&out).unwrap();
            assert_eq!(back.msg, m);
        }
        for (o, hex) in [
            (Opt::SrcLLAddr, "0101000000000000"),
            (Opt::Mtu, "0501000000000500"),
            (
                Opt::PrefixInfo,
                "030440c0ffffffffffffffff0000000000000000000000000000000000000000",
            ),
        ] {
            let mut out = Vec::new();
            NdOpt::new(o).emit(&mut out);
            assert_eq!(hex::encode(&out), hex, "{o:?}");
            let (back, n) = NdOpt::parse(&out).unwrap();
            assert_eq!((back.opt, n), (o, out.len()));
        }
        // scapy 2.8: bytes(ICMPv6NDOptUnknown(type=99, data="abc")).
        let mut u = NdOpt::new(Opt::Unknown);
        u.put(0, Some(FieldValue::Int(99)));
        u.put(2, Some(FieldValue::Bytes(b"abc".to_vec())));
        let mut out = Vec::new();
        u.emit(&mut out);
        assert_eq!(hex::encode(&out), "6301616263000000");
        // Too short for an echo: unknown, body kept.
        let (m, n) = Icmp6::parse(&[128, 0, 0, 0, 1]).unwrap();
        assert_eq!((m.msg, n), (Msg::Unknown, 5));
        assert_eq!(m.slot(3), Some(FieldValue::Bytes(vec![1])));
        // An option of length 0 or past the end is refused.
        assert!(NdOpt::parse(&[1, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(NdOpt::parse(&[1, 2, 0, 0, 0, 0, 0, 0]).is_err());
        // A source link-layer option of 16 bytes (another link) reads as unknown.
        let (o, n) = NdOpt::parse(&[1, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]).unwrap();
        assert_eq!((o.opt, n), (Opt::Unknown, 16));
    }
}

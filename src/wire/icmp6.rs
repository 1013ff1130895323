//! ICMPv6 messages (RFC 4443), one layer per message as scapy has them:
//! `ICMPv6EchoRequest`/`ICMPv6EchoReply` (id, seq, data), the errors
//! `ICMPv6DestUnreach`, `ICMPv6PacketTooBig`, `ICMPv6TimeExceeded`,
//! `ICMPv6ParamProblem` (their quoted datagram follows as the next layers,
//! IPv6 first) and `ICMPv6Unknown` for any other type. The checksum covers
//! the IPv6 pseudo header (next header 58).
//!
//! Every message is type, code, checksum, then what [`Msg`]'s table says:
//! up to two fields packed into the 32-bit word after the checksum, and for
//! echo and unknown messages the bytes after it as a field of the layer.

use super::checksum::{self, Pseudo};
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
    /// Any other type: the body kept as bytes.
    Unknown,
}

/// A field packed into the word after the checksum: bits above `shift`.
#[derive(Clone, Copy, Debug)]
struct Word {
    shift: u8,
    bits: u8,
    default: u32,
}

/// One message's layout.
struct Layout {
    name: &'static str,
    type_num: u8,
    fields: &'static [FieldSpec],
    words: &'static [Word],
    /// True when the bytes after the word (or after the checksum, with no
    /// words) are the layer's last field rather than the next layers.
    data: bool,
}

const fn spec(
    name: &'static str,
    kind: FieldKind,
    default: &'static str,
    doc: &'static str,
) -> FieldSpec {
    FieldSpec {
        name,
        kind,
        default,
        doc,
    }
}

const TYPE_DOC: &str = "128 echo-request, 129 echo-reply, 1 dest-unreach, 2 packet-too-big, 3 time-exceeded, 4 param-problem";
const CKSUM: FieldSpec = spec(
    "cksum",
    FieldKind::UInt(16),
    "auto",
    "checksum over the IPv6 pseudo header and the message",
);

const ECHO_REQUEST: &[FieldSpec] = &[
    spec("type", FieldKind::UInt(8), "128", TYPE_DOC),
    spec("code", FieldKind::UInt(8), "0", "code"),
    CKSUM,
    spec("id", FieldKind::UInt(16), "0", "identifier"),
    spec("seq", FieldKind::UInt(16), "0", "sequence number"),
    spec("data", FieldKind::Bytes, "\"\"", "echo data"),
];
const ECHO_REPLY: &[FieldSpec] = &[
    spec("type", FieldKind::UInt(8), "129", TYPE_DOC),
    spec("code", FieldKind::UInt(8), "0", "code"),
    CKSUM,
    spec("id", FieldKind::UInt(16), "0", "identifier"),
    spec("seq", FieldKind::UInt(16), "0", "sequence number"),
    spec("data", FieldKind::Bytes, "\"\"", "echo data"),
];
const DEST_UNREACH: &[FieldSpec] = &[
    spec("type", FieldKind::UInt(8), "1", TYPE_DOC),
    spec(
        "code",
        FieldKind::UInt(8),
        "0",
        "0 no route, 1 prohibited, 3 address unreachable, 4 port unreachable",
    ),
    CKSUM,
    spec(
        "length",
        FieldKind::UInt(8),
        "0",
        "length of the quoted datagram in 8-byte units (RFC 4884), 0 for none",
    ),
    spec("unused", FieldKind::UInt(24), "0", "unused"),
];
const PACKET_TOO_BIG: &[FieldSpec] = &[
    spec("type", FieldKind::UInt(8), "2", TYPE_DOC),
    spec("code", FieldKind::UInt(8), "0", "code"),
    CKSUM,
    spec("mtu", FieldKind::UInt(32), "1280", "the next hop's MTU"),
];
const TIME_EXCEEDED: &[FieldSpec] = &[
    spec("type", FieldKind::UInt(8), "3", TYPE_DOC),
    spec(
        "code",
        FieldKind::UInt(8),
        "0",
        "0 hop limit exceeded, 1 reassembly time exceeded",
    ),
    CKSUM,
    spec(
        "length",
        FieldKind::UInt(8),
        "0",
        "length of the quoted datagram in 8-byte units (RFC 4884), 0 for none",
    ),
    spec("unused", FieldKind::UInt(24), "0", "unused"),
];
const PARAM_PROBLEM: &[FieldSpec] = &[
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
];
const UNKNOWN: &[FieldSpec] = &[
    spec("type", FieldKind::UInt(8), "1", TYPE_DOC),
    spec("code", FieldKind::UInt(8), "0", "code"),
    CKSUM,
    spec(
        "msgbody",
        FieldKind::Bytes,
        "\"\"",
        "the message after the checksum",
    ),
];

const ECHO_WORDS: &[Word] = &[
    Word {
        shift: 16,
        bits: 16,
        default: 0,
    },
    Word {
        shift: 0,
        bits: 16,
        default: 0,
    },
];
const ERROR_WORDS: &[Word] = &[
    Word {
        shift: 24,
        bits: 8,
        default: 0,
    },
    Word {
        shift: 0,
        bits: 24,
        default: 0,
    },
];

impl Msg {
    /// Every message, in the order `help` lists them.
    pub const ALL: [Msg; 7] = [
        Msg::EchoRequest,
        Msg::EchoReply,
        Msg::DestUnreach,
        Msg::PacketTooBig,
        Msg::TimeExceeded,
        Msg::ParamProblem,
        Msg::Unknown,
    ];

    fn layout(self) -> Layout {
        let (name, type_num, fields, words, data): (_, _, _, &'static [Word], _) = match self {
            Msg::EchoRequest => ("ICMPv6EchoRequest", 128, ECHO_REQUEST, ECHO_WORDS, true),
            Msg::EchoReply => ("ICMPv6EchoReply", 129, ECHO_REPLY, ECHO_WORDS, true),
            Msg::DestUnreach => ("ICMPv6DestUnreach", 1, DEST_UNREACH, ERROR_WORDS, false),
            Msg::PacketTooBig => (
                "ICMPv6PacketTooBig",
                2,
                PACKET_TOO_BIG,
                &[Word {
                    shift: 0,
                    bits: 32,
                    default: 1280,
                }],
                false,
            ),
            Msg::TimeExceeded => ("ICMPv6TimeExceeded", 3, TIME_EXCEEDED, ERROR_WORDS, false),
            Msg::ParamProblem => (
                "ICMPv6ParamProblem",
                4,
                PARAM_PROBLEM,
                &[Word {
                    shift: 0,
                    bits: 32,
                    default: 6,
                }],
                false,
            ),
            Msg::Unknown => ("ICMPv6Unknown", 1, UNKNOWN, &[], true),
        };
        Layout {
            name,
            type_num,
            fields,
            words,
            data,
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
        self.layout().type_num
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
}

/// An ICMPv6 message header (and, for echo and unknown messages, its body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Icmp6 {
    /// Which message.
    pub msg: Msg,
    /// Type (the message's own unless set).
    pub icmp_type: Option<u8>,
    /// Code.
    pub code: Option<u8>,
    /// Checksum.
    pub cksum: Option<u16>,
    /// The fields packed into the word after the checksum, in table order.
    pub words: [Option<u32>; 2],
    /// The bytes after the word: echo data, or an unknown message's body.
    pub data: Vec<u8>,
}

impl Icmp6 {
    /// A message with every field unset.
    pub fn new(msg: Msg) -> Icmp6 {
        Icmp6 {
            msg,
            icmp_type: None,
            code: None,
            cksum: None,
            words: [None; 2],
            data: Vec::new(),
        }
    }

    /// The type, defaulting to the message's.
    pub fn type_num(&self) -> u8 {
        self.icmp_type.unwrap_or(self.msg.default_type())
    }

    /// Word field `i` (0 or 1) as set or its default: for echo, id and seq.
    pub fn word(&self, i: usize) -> u32 {
        let words = self.msg.layout().words;
        match (words.get(i), self.words.get(i).copied().flatten()) {
            (Some(_), Some(v)) => v,
            (Some(w), None) => w.default,
            (None, _) => 0,
        }
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
        let mut lay = msg.layout();
        if !lay.words.is_empty() && b.len() < 8 {
            msg = Msg::Unknown;
            lay = msg.layout();
        }
        let mut h = Icmp6::new(msg);
        h.icmp_type = Some(b[0]);
        h.code = Some(b[1]);
        h.cksum = Some(u16::from_be_bytes([b[2], b[3]]));
        let mut n = 4;
        if !lay.words.is_empty() {
            let word = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
            for (slot, w) in h.words.iter_mut().zip(lay.words) {
                *slot = Some((word >> w.shift) & mask(w.bits));
            }
            n = 8;
        }
        if lay.data {
            h.data = b[n..].to_vec();
            n = b.len();
        }
        Ok((h, n))
    }

    /// Appends the message with a provisional checksum.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let lay = self.msg.layout();
        out.push(self.type_num());
        out.push(self.code.unwrap_or(0));
        out.extend_from_slice(&self.cksum.unwrap_or(0).to_be_bytes());
        if !lay.words.is_empty() {
            let mut word = 0u32;
            for (i, w) in lay.words.iter().enumerate() {
                word |= (self.word(i) & mask(w.bits)) << w.shift;
            }
            out.extend_from_slice(&word.to_be_bytes());
        }
        out.extend_from_slice(&self.data);
    }

    /// Fills in the checksum over `msg` (header to end of message), with the
    /// pseudo header of the IPv6 layer below (loopback when there is none).
    pub fn finalize(&self, msg: &mut [u8], pseudo: Option<Pseudo>) {
        if self.cksum.is_none() && msg.len() >= 4 {
            let p = pseudo.unwrap_or(Pseudo::V6(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST));
            put16(msg, 2, 0);
            let c = checksum::checksum_with(p, 58, msg);
            put16(msg, 2, c);
        }
    }

    /// Reads field `i` of the message's table.
    pub fn slot(&self, i: usize) -> Option<FieldValue> {
        let lay = self.msg.layout();
        let int = |v: Option<u64>| v.map(FieldValue::Int);
        match i {
            0 => int(self.icmp_type.map(u64::from)),
            1 => int(self.code.map(u64::from)),
            2 => int(self.cksum.map(u64::from)),
            _ if i - 3 < lay.words.len() => int(self.words[i - 3].map(u64::from)),
            _ if lay.data && i == 3 + lay.words.len() => Some(FieldValue::Bytes(self.data.clone())),
            _ => None,
        }
    }

    /// Sets (or with `None` unsets) field `i`; the value was checked against its kind.
    pub fn put(&mut self, i: usize, v: Option<FieldValue>) {
        let lay = self.msg.layout();
        let n = v.as_ref().and_then(FieldValue::as_int);
        match i {
            0 => self.icmp_type = n.map(|x| x as u8),
            1 => self.code = n.map(|x| x as u8),
            2 => self.cksum = n.map(|x| x as u16),
            _ if i - 3 < lay.words.len() => self.words[i - 3] = n.map(|x| x as u32),
            _ if lay.data && i == 3 + lay.words.len() => {
                self.data = match v {
                    Some(FieldValue::Bytes(b)) => b,
                    _ => Vec::new(),
                }
            }
            _ => {}
        }
    }
}

fn mask(bits: u8) -> u32 {
    if bits >= 32 {
        u32::MAX
    } else {
        (1 << bits) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_agree_with_layouts() {
        for m in Msg::ALL {
            let lay = m.layout();
            assert_eq!(
                lay.fields.len(),
                3 + lay.words.len() + usize::from(lay.data),
                "{}",
                lay.name
            );
            assert_eq!(lay.fields[0].name, "type");
            assert_eq!(lay.fields[2].name, "cksum");
            assert_eq!(lay.fields[0].default, lay.type_num.to_string());
            if m != Msg::Unknown {
                assert_eq!(Msg::of_type(lay.type_num), m);
            }
            for (i, w) in lay.words.iter().enumerate() {
                assert_eq!(lay.fields[3 + i].kind, FieldKind::UInt(w.bits));
                assert_eq!(lay.fields[3 + i].default, w.default.to_string());
            }
        }
    }

    #[test]
    fn defaults_emit_scapys_bytes() {
        // scapy 2.8: bytes(ICMPv6PacketTooBig()), bytes(ICMPv6ParamProblem()).
        for (m, hex) in [
            (Msg::PacketTooBig, "0200000000000500"),
            (Msg::ParamProblem, "0400000000000006"),
            (Msg::EchoReply, "8100000000000000"),
            (Msg::DestUnreach, "0100000000000000"),
        ] {
            let mut out = Vec::new();
            Icmp6::new(m).emit(&mut out);
            assert_eq!(hex::encode(&out), hex, "{m:?}");
            let (back, _) = Icmp6::parse(&out).unwrap();
            assert_eq!(back.msg, m);
        }
        // Too short for an echo: unknown, body kept.
        let (u, n) = Icmp6::parse(&[128, 0, 0, 0, 1]).unwrap();
        assert_eq!((u.msg, n, u.data.as_slice()), (Msg::Unknown, 5, &[1u8][..]));
    }
}

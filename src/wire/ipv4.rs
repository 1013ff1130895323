//! IPv4 header, options kept as raw bytes.

use super::checksum;
use super::{DecodeError, FieldKind, FieldSpec, FieldValue, be16, put16};
use std::net::Ipv4Addr;

/// An IPv4 header. `None` fields are computed (ihl, len, proto, chksum) or
/// take defaults (ttl 64, id 1, src and dst 127.0.0.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ipv4 {
    /// Version (4 bits).
    pub version: Option<u8>,
    /// Header length in 32-bit words (4 bits).
    pub ihl: Option<u8>,
    /// Type of service / DSCP+ECN.
    pub tos: Option<u8>,
    /// Total length.
    pub len: Option<u16>,
    /// Identification.
    pub id: Option<u16>,
    /// Flags (3 bits: evil, DF, MF).
    pub flags: Option<u8>,
    /// Fragment offset in 8-byte units (13 bits).
    pub frag: Option<u16>,
    /// Time to live.
    pub ttl: Option<u8>,
    /// Protocol of the payload.
    pub proto: Option<u8>,
    /// Header checksum.
    pub chksum: Option<u16>,
    /// Source address.
    pub src: Option<Ipv4Addr>,
    /// Destination address.
    pub dst: Option<Ipv4Addr>,
    /// Options, raw (padded with zeros to 4 bytes when ihl is computed).
    pub options: Vec<u8>,
}

/// Default address for src and dst: loopback.
pub const DEFAULT_ADDR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);

impl Ipv4 {
    /// Header length without options.
    pub const MIN_LEN: usize = 20;

    /// Field table, in wire order.
    pub const FIELDS: &'static [FieldSpec] = &[
        FieldSpec {
            name: "version",
            kind: FieldKind::UInt(4),
            default: "4",
            doc: "IP version",
        },
        FieldSpec {
            name: "ihl",
            kind: FieldKind::UInt(4),
            default: "auto",
            doc: "header length in 32-bit words",
        },
        FieldSpec {
            name: "tos",
            kind: FieldKind::UInt(8),
            default: "0",
            doc: "type of service (DSCP, ECN)",
        },
        FieldSpec {
            name: "len",
            kind: FieldKind::UInt(16),
            default: "auto",
            doc: "total length, header and payload",
        },
        FieldSpec {
            name: "id",
            kind: FieldKind::UInt(16),
            default: "1",
            doc: "identification",
        },
        FieldSpec {
            name: "flags",
            kind: FieldKind::IpFlags,
            default: "",
            doc: "DF, MF, evil",
        },
        FieldSpec {
            name: "frag",
            kind: FieldKind::UInt(13),
            default: "0",
            doc: "fragment offset (8-byte units)",
        },
        FieldSpec {
            name: "ttl",
            kind: FieldKind::UInt(8),
            default: "64",
            doc: "time to live",
        },
        FieldSpec {
            name: "proto",
            kind: FieldKind::UInt(8),
            default: "auto",
            doc: "payload protocol: 6 TCP, 17 UDP, 1 ICMP",
        },
        FieldSpec {
            name: "chksum",
            kind: FieldKind::UInt(16),
            default: "auto",
            doc: "header checksum",
        },
        FieldSpec {
            name: "src",
            kind: FieldKind::Ipv4,
            default: "127.0.0.1",
            doc: "source address",
        },
        FieldSpec {
            name: "dst",
            kind: FieldKind::Ipv4,
            default: "127.0.0.1",
            doc: "destination address",
        },
        FieldSpec {
            name: "options",
            kind: FieldKind::Bytes,
            default: "\"\"",
            doc: "options, raw bytes",
        },
    ];

    /// Parses the header; returns it and its length (ihl * 4).
    #[inline(always)]
    pub fn parse(b: &[u8]) -> Result<(Ipv4, usize), DecodeError> {
        let err = |offset, msg: String| DecodeError {
            layer: "IP",
            offset,
            msg,
        };
        if b.len() < Self::MIN_LEN {
            return Err(err(0, format!("truncated: {} of 20 header bytes", b.len())));
        }
        let version = b[0] >> 4;
        if version != 4 {
            return Err(err(0, format!("version {version}, expected 4")));
        }
        let ihl = b[0] & 0x0f;
        let hlen = usize::from(ihl) * 4;
        if hlen < Self::MIN_LEN {
            return Err(err(0, format!("ihl {ihl} is below the minimum of 5")));
        }
        if hlen > b.len() {
            return Err(err(
                0,
                format!(
                    "ihl {ihl} ({hlen} bytes) runs past the end ({} bytes)",
                    b.len()
                ),
            ));
        }
        Ok((
            Ipv4 {
                version: Some(version),
                ihl: Some(ihl),
                tos: Some(b[1]),
                len: Some(be16(b, 2)),
                id: Some(be16(b, 4)),
                flags: Some(b[6] >> 5),
                frag: Some(be16(b, 6) & 0x1fff),
                ttl: Some(b[8]),
                proto: Some(b[9]),
                chksum: Some(be16(b, 10)),
                src: Some(Ipv4Addr::new(b[12], b[13], b[14], b[15])),
                dst: Some(Ipv4Addr::new(b[16], b[17], b[18], b[19])),
                options: b[20..hlen].to_vec(),
            },
            hlen,
        ))
    }

    /// Header length this header will have on the wire.
    pub fn header_len(&self) -> usize {
        let opts = if self.ihl.is_none() {
            self.options.len().div_ceil(4) * 4
        } else {
            self.options.len()
        };
        Self::MIN_LEN + opts
    }

    /// Appends the header with provisional (zero) length and checksum when those
    /// are computed; [`Ipv4::finalize`] fills them in.
    pub fn emit(&self, out: &mut Vec<u8>, next_proto: u8) {
        let hlen = self.header_len();
        let ihl = self.ihl.unwrap_or((hlen / 4).min(15) as u8);
        let flags_frag =
            (u16::from(self.flags.unwrap_or(0) & 7) << 13) | (self.frag.unwrap_or(0) & 0x1fff);
        let src = self.src.unwrap_or(DEFAULT_ADDR).octets();
        let dst = self.dst.unwrap_or(DEFAULT_ADDR).octets();
        let len = self.len.unwrap_or(0).to_be_bytes();
        let id = self.id.unwrap_or(1).to_be_bytes();
        let ff = flags_frag.to_be_bytes();
        let ck = self.chksum.unwrap_or(0).to_be_bytes();
        out.extend_from_slice(&[
            (self.version.unwrap_or(4) << 4) | (ihl & 0x0f),
            self.tos.unwrap_or(0),
            len[0],
            len[1],
            id[0],
            id[1],
            ff[0],
            ff[1],
            self.ttl.unwrap_or(64),
            self.proto.unwrap_or(next_proto),
            ck[0],
            ck[1],
            src[0],
            src[1],
            src[2],
            src[3],
            dst[0],
            dst[1],
            dst[2],
            dst[3],
        ]);
        out.extend_from_slice(&self.options);
        if self.ihl.is_none() {
            out.resize(out.len() + (hlen - Self::MIN_LEN - self.options.len()), 0);
        }
    }

    /// Fills in computed length and checksum. `buf` runs from this header's first
    /// byte to the end of its payload; `hlen` is what [`Ipv4::header_len`] gave.
    pub fn finalize(&self, buf: &mut [u8], hlen: usize) {
        if self.len.is_none() {
            put16(buf, 2, buf.len().min(0xffff) as u16);
        }
        if self.chksum.is_none() {
            let c = checksum::checksum(&buf[..hlen]);
            put16(buf, 10, c);
        }
    }

    /// Reads field `i` of [`Self::FIELDS`].
    pub fn slot(&self, i: usize) -> Option<FieldValue> {
        let int = |v: Option<u64>| v.map(FieldValue::Int);
        match i {
            0 => int(self.version.map(u64::from)),
            1 => int(self.ihl.map(u64::from)),
            2 => int(self.tos.map(u64::from)),
            3 => int(self.len.map(u64::from)),
            4 => int(self.id.map(u64::from)),
            5 => self.flags.map(|f| FieldValue::Flags(f.into())),
            6 => int(self.frag.map(u64::from)),
            7 => int(self.ttl.map(u64::from)),
            8 => int(self.proto.map(u64::from)),
            9 => int(self.chksum.map(u64::from)),
            10 => self.src.map(FieldValue::Ip),
            11 => self.dst.map(FieldValue::Ip),
            12 => Some(FieldValue::Bytes(self.options.clone())),
            _ => None,
        }
    }

    /// Sets (or with `None` unsets) field `i`; the value was checked against its kind.
    pub fn put(&mut self, i: usize, v: Option<FieldValue>) {
        let n = v.as_ref().and_then(FieldValue::as_int);
        let ip = match &v {
            Some(FieldValue::Ip(a)) => Some(*a),
            _ => None,
        };
        match i {
            0 => self.version = n.map(|x| x as u8),
            1 => self.ihl = n.map(|x| x as u8),
            2 => self.tos = n.map(|x| x as u8),
            3 => self.len = n.map(|x| x as u16),
            4 => self.id = n.map(|x| x as u16),
            5 => self.flags = n.map(|x| x as u8),
            6 => self.frag = n.map(|x| x as u16),
            7 => self.ttl = n.map(|x| x as u8),
            8 => self.proto = n.map(|x| x as u8),
            9 => self.chksum = n.map(|x| x as u16),
            10 => self.src = ip,
            11 => self.dst = ip,
            12 => {
                self.options = match v {
                    Some(FieldValue::Bytes(b)) => b,
                    _ => Vec::new(),
                }
            }
            _ => {}
        }
    }
}

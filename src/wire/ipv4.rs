//! IPv4 header, options kept as raw bytes.

use super::checksum;
use super::{DecodeError, FieldKind, FieldSpec, FieldValue, put16};
use pnet_packet::ipv4::Ipv4Packet;
use std::net::Ipv4Addr;

/// Indices of [`Ipv4::FIELDS`], for [`Ipv4::slot`] and [`Ipv4::put`].
pub mod field {
    /// `version`: IP version.
    pub const VERSION: usize = 0;
    /// `ihl`: header length in words.
    pub const IHL: usize = 1;
    /// `tos`: type of service.
    pub const TOS: usize = 2;
    /// `len`: total length.
    pub const LEN: usize = 3;
    /// `id`: identification.
    pub const ID: usize = 4;
    /// `flags`: DF, MF, evil.
    pub const FLAGS: usize = 5;
    /// `frag`: fragment offset.
    pub const FRAG: usize = 6;
    /// `ttl`: time to live.
    pub const TTL: usize = 7;
    /// `proto`: payload protocol.
    pub const PROTO: usize = 8;
    /// `chksum`: header checksum.
    pub const CHKSUM: usize = 9;
    /// `src`: source address.
    pub const SRC: usize = 10;
    /// `dst`: destination address.
    pub const DST: usize = 11;
    /// `options`: raw option bytes.
    pub const OPTIONS: usize = 12;
}

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
    /// Options, raw (padded with zeros to a 4-byte boundary on the wire).
    pub options: Vec<u8>,
}

/// Default address for src and dst: loopback.
pub const DEFAULT_ADDR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);

impl Ipv4 {
    /// Header length without options.
    pub const MIN_LEN: usize = 20;

    /// Field table, in wire order.
    pub const FIELDS: &'static [FieldSpec] = &{
        let mut t = [FieldSpec::UNSET; 13];
        t[field::VERSION] = FieldSpec {
            name: "version",
            kind: FieldKind::UInt(4),
            default: "4",
            doc: "IP version",
        };
        t[field::IHL] = FieldSpec {
            name: "ihl",
            kind: FieldKind::UInt(4),
            default: "auto",
            doc: "header length in 32-bit words",
        };
        t[field::TOS] = FieldSpec {
            name: "tos",
            kind: FieldKind::UInt(8),
            default: "0",
            doc: "type of service (DSCP, ECN)",
        };
        t[field::LEN] = FieldSpec {
            name: "len",
            kind: FieldKind::UInt(16),
            default: "auto",
            doc: "total length, header and payload",
        };
        t[field::ID] = FieldSpec {
            name: "id",
            kind: FieldKind::UInt(16),
            default: "1",
            doc: "identification",
        };
        t[field::FLAGS] = FieldSpec {
            name: "flags",
            kind: FieldKind::IpFlags,
            default: "",
            doc: "DF, MF, evil",
        };
        t[field::FRAG] = FieldSpec {
            name: "frag",
            kind: FieldKind::UInt(13),
            default: "0",
            doc: "fragment offset (8-byte units)",
        };
        t[field::TTL] = FieldSpec {
            name: "ttl",
            kind: FieldKind::UInt(8),
            default: "64",
            doc: "time to live",
        };
        t[field::PROTO] = FieldSpec {
            name: "proto",
            kind: FieldKind::UInt(8),
            default: "auto",
            doc: "payload protocol: 6 TCP, 17 UDP, 1 ICMP",
        };
        t[field::CHKSUM] = FieldSpec {
            name: "chksum",
            kind: FieldKind::UInt(16),
            default: "auto",
            doc: "header checksum",
        };
        t[field::SRC] = FieldSpec {
            name: "src",
            kind: FieldKind::Ipv4,
            default: "127.0.0.1",
            doc: "source address",
        };
        t[field::DST] = FieldSpec {
            name: "dst",
            kind: FieldKind::Ipv4,
            default: "127.0.0.1",
            doc: "destination address",
        };
        t[field::OPTIONS] = FieldSpec {
            name: "options",
            kind: FieldKind::Bytes,
            default: "\"\"",
            doc: "options, raw bytes",
        };
        t
    };

    /// Parses the header; returns it and its length (ihl * 4).
    #[inline(always)]
    pub fn parse(b: &[u8]) -> Result<(Ipv4, usize), DecodeError> {
        let err = |offset, msg: String| DecodeError {
            layer: "IP",
            offset,
            msg,
        };
        let truncated = || err(0, format!("truncated: {} of 20 header bytes", b.len()));
        // Craft's bounds check first: the whole fixed header is there. pnet
        // gets it as a fixed-size array, so its `new` cannot fail and its
        // getters read within it.
        let Some(fixed) = b.first_chunk::<{ Self::MIN_LEN }>() else {
            return Err(truncated());
        };
        let Some(p) = Ipv4Packet::new(fixed) else {
            return Err(truncated());
        };
        let version = p.get_version();
        if version != 4 {
            return Err(err(0, format!("version {version}, expected 4")));
        }
        let ihl = p.get_header_length();
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
        // 20 <= ihl * 4 <= b.len(), so the options are exactly b[20..hlen]
        // (sliced here: pnet's get_options_raw re-derives that length).
        Ok((
            Ipv4 {
                version: Some(version),
                ihl: Some(ihl),
                tos: Some((p.get_dscp() << 2) | p.get_ecn()),
                len: Some(p.get_total_length()),
                id: Some(p.get_identification()),
                flags: Some(p.get_flags()),
                frag: Some(p.get_fragment_offset()),
                ttl: Some(p.get_ttl()),
                proto: Some(p.get_next_level_protocol().0),
                chksum: Some(p.get_checksum()),
                src: Some(p.get_source()),
                dst: Some(p.get_destination()),
                options: b[Self::MIN_LEN..hlen].to_vec(),
            },
            hlen,
        ))
    }

    /// Header length this header will have on the wire: options are padded
    /// to the 4-byte boundary even when `ihl` is set (which is sent as set).
    pub fn header_len(&self) -> usize {
        Self::MIN_LEN + self.options.len().div_ceil(4) * 4
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
        if !self.options.is_empty() {
            out.extend_from_slice(&self.options);
            out.resize(out.len() + (hlen - Self::MIN_LEN - self.options.len()), 0);
        }
    }

    /// Total length this datagram gets when `len` is computed, or why it cannot
    /// have one: `datagram` is its header and payload length in bytes.
    pub fn check_len(&self, datagram: usize) -> Result<(), String> {
        if self.len.is_none() && datagram > usize::from(u16::MAX) {
            return Err(format!(
                "IP.len: the datagram is {datagram} bytes, over IPv4's 65,535 (send less data, or fragment it)"
            ));
        }
        Ok(())
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
            field::VERSION => int(self.version.map(u64::from)),
            field::IHL => int(self.ihl.map(u64::from)),
            field::TOS => int(self.tos.map(u64::from)),
            field::LEN => int(self.len.map(u64::from)),
            field::ID => int(self.id.map(u64::from)),
            field::FLAGS => self.flags.map(|f| FieldValue::Flags(f.into())),
            field::FRAG => int(self.frag.map(u64::from)),
            field::TTL => int(self.ttl.map(u64::from)),
            field::PROTO => int(self.proto.map(u64::from)),
            field::CHKSUM => int(self.chksum.map(u64::from)),
            field::SRC => self.src.map(FieldValue::Ip),
            field::DST => self.dst.map(FieldValue::Ip),
            field::OPTIONS => Some(FieldValue::Bytes(self.options.clone())),
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
            field::VERSION => self.version = n.map(|x| x as u8),
            field::IHL => self.ihl = n.map(|x| x as u8),
            field::TOS => self.tos = n.map(|x| x as u8),
            field::LEN => self.len = n.map(|x| x as u16),
            field::ID => self.id = n.map(|x| x as u16),
            field::FLAGS => self.flags = n.map(|x| x as u8),
            field::FRAG => self.frag = n.map(|x| x as u16),
            field::TTL => self.ttl = n.map(|x| x as u8),
            field::PROTO => self.proto = n.map(|x| x as u8),
            field::CHKSUM => self.chksum = n.map(|x| x as u16),
            field::SRC => self.src = ip,
            field::DST => self.dst = ip,
            field::OPTIONS => {
                self.options = match v {
                    Some(FieldValue::Bytes(b)) => b,
                    _ => Vec::new(),
                }
            }
            _ => {}
        }
    }
}

/// Option types of the source routes (RFC 791 3.1): loose and strict.
const LSRR: u8 = 0x83;
const SSRR: u8 = 0x89;

/// The source and destination a transport checksum covers for the IPv4 header
/// `h` (its whole header, options included): `ip.dst`, or with an unfinished
/// loose or strict source route the route's final destination (RFC 9293 3.1,
/// RFC 768: the pseudo header carries the final destination). None when `h`
/// is shorter than 20 bytes.
pub fn pseudo_addrs(h: &[u8]) -> Option<(Ipv4Addr, Ipv4Addr)> {
    let a = h.get(12..20)?;
    let src = Ipv4Addr::new(a[0], a[1], a[2], a[3]);
    let dst = Ipv4Addr::new(a[4], a[5], a[6], a[7]);
    // Most headers have no options: no route to look for.
    if h.len() == 20 {
        return Some((src, dst));
    }
    Some((src, route_final_destination(&h[20..]).unwrap_or(dst)))
}

/// The last address of an unfinished source route among `options`.
fn route_final_destination(options: &[u8]) -> Option<Ipv4Addr> {
    let mut i = 0;
    while i < options.len() {
        let kind = options[i];
        match kind {
            0 => return None,
            1 => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let len = usize::from(*options.get(i + 1)?);
        if len < 2 || i + len > options.len() {
            return None;
        }
        if matches!(kind, LSRR | SSRR) && len >= 7 {
            // The pointer (1-based, from the option's start) names the next
            // address; past the last one the route is finished.
            let pointer = usize::from(options[i + 2]);
            let last = i + 3 + (len - 3) / 4 * 4 - 4;
            // The smallest legal pointer is 4 (RFC 791); a smaller one makes
            // the option malformed, which the kernel refuses, not a route.
            if (4..=len - 3).contains(&pointer) {
                let b = &options[last..last + 4];
                return Some(Ipv4Addr::new(b[0], b[1], b[2], b[3]));
            }
            return None;
        }
        i += len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unfinished_source_route_ends_at_its_last_address() {
        let mut h = vec![0u8; 20];
        h[12..16].copy_from_slice(&[127, 0, 0, 1]);
        h[16..20].copy_from_slice(&[127, 0, 0, 2]);
        assert_eq!(
            pseudo_addrs(&h),
            Some((Ipv4Addr::new(127, 0, 0, 1), Ipv4Addr::new(127, 0, 0, 2)))
        );
        // NOP, then LSRR len 11, pointer 4: two addresses still to visit.
        let mut r = h.clone();
        r.extend_from_slice(&[1, LSRR, 11, 4, 127, 0, 0, 3, 127, 0, 0, 9]);
        assert_eq!(pseudo_addrs(&r).unwrap().1, Ipv4Addr::new(127, 0, 0, 9));
        // Strict route, pointer past the end (12 > 11): finished, ip.dst counts.
        let mut done = h.clone();
        done.extend_from_slice(&[SSRR, 11, 12, 127, 0, 0, 3, 127, 0, 0, 9, 0]);
        assert_eq!(pseudo_addrs(&done).unwrap().1, Ipv4Addr::new(127, 0, 0, 2));
        // Pointer at the last address (8): still unfinished.
        let mut last = h.clone();
        last.extend_from_slice(&[SSRR, 11, 8, 127, 0, 0, 3, 127, 0, 0, 9, 0]);
        assert_eq!(pseudo_addrs(&last).unwrap().1, Ipv4Addr::new(127, 0, 0, 9));
        // A pointer below 4 is malformed: no route.
        let mut zero = h.clone();
        zero.extend_from_slice(&[LSRR, 7, 0, 127, 0, 0, 9, 0]);
        assert_eq!(pseudo_addrs(&zero).unwrap().1, Ipv4Addr::new(127, 0, 0, 2));
        // A malformed option list is no route.
        let mut bad = h;
        bad.extend_from_slice(&[LSRR, 40, 4, 127]);
        assert_eq!(pseudo_addrs(&bad).unwrap().1, Ipv4Addr::new(127, 0, 0, 2));
    }

    #[test]
    fn options_pad_to_four_bytes_even_with_ihl_set() {
        let ip = Ipv4 {
            ihl: Some(6),
            options: vec![1],
            ..Ipv4::default()
        };
        let mut out = Vec::new();
        ip.emit(&mut out, 6);
        assert_eq!(out.len(), 24);
        assert_eq!(out[0], 0x46);
        assert_eq!(&out[20..], &[1, 0, 0, 0]);
    }

    #[test]
    fn field_constants_name_their_fields() {
        for (i, name) in [
            (field::VERSION, "version"),
            (field::IHL, "ihl"),
            (field::TOS, "tos"),
            (field::LEN, "len"),
            (field::ID, "id"),
            (field::FLAGS, "flags"),
            (field::FRAG, "frag"),
            (field::TTL, "ttl"),
            (field::PROTO, "proto"),
            (field::CHKSUM, "chksum"),
            (field::SRC, "src"),
            (field::DST, "dst"),
            (field::OPTIONS, "options"),
        ] {
            assert_eq!(Ipv4::FIELDS[i].name, name);
        }
        assert!(Ipv4::FIELDS.iter().all(|f| !f.name.is_empty()));
    }
}

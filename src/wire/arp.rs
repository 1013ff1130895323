//! ARP (RFC 826) for Ethernet and IPv4, scapy's fields: hwtype, ptype,
//! hwlen, plen, op, hwsrc, psrc, hwdst, pdst.

use super::{DecodeError, FieldKind, FieldSpec, FieldValue, Mac};
use std::net::Ipv4Addr;

/// An ARP message. Defaults: Ethernet (1) and IPv4 (0x0800), lengths 6 and
/// 4, op 1 (who-has), hwsrc and hwdst 00:00:00:00:00:00, psrc 127.0.0.1
/// (lo's; scapy takes the route's), pdst 0.0.0.0.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Arp {
    /// Hardware type.
    pub hwtype: Option<u16>,
    /// Protocol type.
    pub ptype: Option<u16>,
    /// Hardware address length.
    pub hwlen: Option<u8>,
    /// Protocol address length.
    pub plen: Option<u8>,
    /// Operation: 1 request (who-has), 2 reply (is-at).
    pub op: Option<u16>,
    /// Sender hardware address.
    pub hwsrc: Option<Mac>,
    /// Sender protocol address.
    pub psrc: Option<Ipv4Addr>,
    /// Target hardware address.
    pub hwdst: Option<Mac>,
    /// Target protocol address.
    pub pdst: Option<Ipv4Addr>,
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

impl Arp {
    /// Length of an Ethernet/IPv4 ARP message.
    pub const LEN: usize = 28;

    /// Field table, in wire order.
    pub const FIELDS: &'static [FieldSpec] = &[
        spec(
            "hwtype",
            FieldKind::UInt(16),
            "1",
            "hardware type (1 Ethernet)",
        ),
        spec(
            "ptype",
            FieldKind::UInt(16),
            "0x0800",
            "protocol type (IPv4)",
        ),
        spec(
            "hwlen",
            FieldKind::UInt(8),
            "auto",
            "hardware address length (6)",
        ),
        spec(
            "plen",
            FieldKind::UInt(8),
            "auto",
            "protocol address length (4)",
        ),
        spec(
            "op",
            FieldKind::UInt(16),
            "1",
            "1 who-has (request), 2 is-at (reply)",
        ),
        spec("hwsrc", FieldKind::Mac, "00:00:00:00:00:00", "sender MAC"),
        spec("psrc", FieldKind::Ipv4, "127.0.0.1", "sender IPv4 address"),
        spec("hwdst", FieldKind::Mac, "00:00:00:00:00:00", "target MAC"),
        spec("pdst", FieldKind::Ipv4, "0.0.0.0", "target IPv4 address"),
    ];

    /// Parses a message with 6-byte hardware and 4-byte protocol addresses
    /// (others stay raw).
    pub fn parse(b: &[u8]) -> Result<(Arp, usize), DecodeError> {
        let err = |offset, msg: String| DecodeError {
            layer: "ARP",
            offset,
            msg,
        };
        let Some(f) = b.first_chunk::<{ Self::LEN }>() else {
            return Err(err(0, format!("truncated: {} of 28 bytes", b.len())));
        };
        if (f[4], f[5]) != (6, 4) {
            return Err(err(
                4,
                format!(
                    "address lengths {} and {}: only 6 (MAC) and 4 (IPv4) are decoded",
                    f[4], f[5]
                ),
            ));
        }
        let mac = |i: usize| -> Mac { [f[i], f[i + 1], f[i + 2], f[i + 3], f[i + 4], f[i + 5]] };
        let ip = |i: usize| Ipv4Addr::new(f[i], f[i + 1], f[i + 2], f[i + 3]);
        Ok((
            Arp {
                hwtype: Some(u16::from_be_bytes([f[0], f[1]])),
                ptype: Some(u16::from_be_bytes([f[2], f[3]])),
                hwlen: Some(f[4]),
                plen: Some(f[5]),
                op: Some(u16::from_be_bytes([f[6], f[7]])),
                hwsrc: Some(mac(8)),
                psrc: Some(ip(14)),
                hwdst: Some(mac(18)),
                pdst: Some(ip(24)),
            },
            Self::LEN,
        ))
    }

    /// The operation, defaulting to 1 (who-has).
    pub fn op_num(&self) -> u16 {
        self.op.unwrap_or(1)
    }

    /// Appends the message.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.hwtype.unwrap_or(1).to_be_bytes());
        out.extend_from_slice(&self.ptype.unwrap_or(0x0800).to_be_bytes());
        out.push(self.hwlen.unwrap_or(6));
        out.push(self.plen.unwrap_or(4));
        out.extend_from_slice(&self.op_num().to_be_bytes());
        out.extend_from_slice(&self.hwsrc.unwrap_or_default());
        out.extend_from_slice(&self.psrc.unwrap_or(Ipv4Addr::LOCALHOST).octets());
        out.extend_from_slice(&self.hwdst.unwrap_or_default());
        out.extend_from_slice(&self.pdst.unwrap_or(Ipv4Addr::UNSPECIFIED).octets());
    }

    /// Reads field `i` of [`Self::FIELDS`].
    pub fn slot(&self, i: usize) -> Option<FieldValue> {
        let int = |v: Option<u64>| v.map(FieldValue::Int);
        match i {
            0 => int(self.hwtype.map(u64::from)),
            1 => int(self.ptype.map(u64::from)),
            2 => int(self.hwlen.map(u64::from)),
            3 => int(self.plen.map(u64::from)),
            4 => int(self.op.map(u64::from)),
            5 => self.hwsrc.map(FieldValue::Mac),
            6 => self.psrc.map(FieldValue::Ip),
            7 => self.hwdst.map(FieldValue::Mac),
            8 => self.pdst.map(FieldValue::Ip),
            _ => None,
        }
    }

    /// Sets (or with `None` unsets) field `i`; the value was checked against its kind.
    pub fn put(&mut self, i: usize, v: Option<FieldValue>) {
        let n = v.as_ref().and_then(FieldValue::as_int);
        let mac = match &v {
            Some(FieldValue::Mac(m)) => Some(*m),
            _ => None,
        };
        let ip = match &v {
            Some(FieldValue::Ip(a)) => Some(*a),
            _ => None,
        };
        match i {
            0 => self.hwtype = n.map(|x| x as u16),
            1 => self.ptype = n.map(|x| x as u16),
            2 => self.hwlen = n.map(|x| x as u8),
            3 => self.plen = n.map(|x| x as u8),
            4 => self.op = n.map(|x| x as u16),
            5 => self.hwsrc = mac,
            6 => self.psrc = ip,
            7 => self.hwdst = mac,
            8 => self.pdst = ip,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_address_lengths() {
        let a = Arp {
            op: Some(2),
            hwsrc: Some([2, 0, 0, 0, 0, 1]),
            psrc: Some(Ipv4Addr::new(192, 0, 2, 1)),
            ..Arp::default()
        };
        let mut out = Vec::new();
        a.emit(&mut out);
        // scapy 2.8: bytes(ARP(op=2, hwsrc="02:00:00:00:00:01", psrc="192.0.2.1",
        // hwdst="00:00:00:00:00:00", pdst="0.0.0.0")).
        assert_eq!(
            hex::encode(&out),
            "0001080006040002020000000001c000020100000000000000000000"
        );
        let (back, n) = Arp::parse(&out).unwrap();
        assert_eq!((n, back.op, back.psrc), (28, Some(2), a.psrc));
        out[4] = 8;
        assert!(Arp::parse(&out).is_err());
        assert!(Arp::parse(&out[..27]).is_err());
    }
}

//! UDP header.

use super::checksum;
use super::{DecodeError, FieldKind, FieldSpec, FieldValue, put16};
use pnet_packet::udp::UdpPacket;

/// Indices of [`Udp::FIELDS`], for [`Udp::slot`] and [`Udp::put`].
pub mod field {
    /// `sport`: source port.
    pub const SPORT: usize = 0;
    /// `dport`: destination port.
    pub const DPORT: usize = 1;
    /// `len`: length of header and data.
    pub const LEN: usize = 2;
    /// `chksum`: checksum.
    pub const CHKSUM: usize = 3;
}

/// A UDP header. `len` and `chksum` are computed unless set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Udp {
    /// Source port.
    pub sport: Option<u16>,
    /// Destination port.
    pub dport: Option<u16>,
    /// Length of header and data.
    pub len: Option<u16>,
    /// Checksum (0 = none; a computed 0 is sent as 0xffff).
    pub chksum: Option<u16>,
}

impl Udp {
    /// Header length.
    pub const LEN: usize = 8;

    /// Field table, in wire order.
    pub const FIELDS: &'static [FieldSpec] = &{
        let mut t = [FieldSpec::UNSET; 4];
        t[field::SPORT] = FieldSpec {
            name: "sport",
            kind: FieldKind::UInt(16),
            default: "53",
            doc: "source port",
        };
        t[field::DPORT] = FieldSpec {
            name: "dport",
            kind: FieldKind::UInt(16),
            default: "53",
            doc: "destination port",
        };
        t[field::LEN] = FieldSpec {
            name: "len",
            kind: FieldKind::UInt(16),
            default: "auto",
            doc: "length of header and data",
        };
        t[field::CHKSUM] = FieldSpec {
            name: "chksum",
            kind: FieldKind::UInt(16),
            default: "auto",
            doc: "checksum (0 means none)",
        };
        t
    };

    /// Parses the header.
    #[inline(always)]
    pub fn parse(b: &[u8]) -> Result<(Udp, usize), DecodeError> {
        let truncated = || DecodeError {
            layer: "UDP",
            offset: 0,
            msg: format!("truncated: {} of 8 header bytes", b.len()),
        };
        // Craft's bounds check first: the whole fixed header is there. pnet
        // gets it as a fixed-size array, so its `new` cannot fail and its
        // getters read within it.
        let Some(fixed) = b.first_chunk::<{ Self::LEN }>() else {
            return Err(truncated());
        };
        let Some(u) = UdpPacket::new(fixed) else {
            return Err(truncated());
        };
        Ok((
            Udp {
                sport: Some(u.get_source()),
                dport: Some(u.get_destination()),
                len: Some(u.get_length()),
                chksum: Some(u.get_checksum()),
            },
            Self::LEN,
        ))
    }

    /// Appends the header with provisional length and checksum.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.sport.unwrap_or(53).to_be_bytes());
        out.extend_from_slice(&self.dport.unwrap_or(53).to_be_bytes());
        out.extend_from_slice(&self.len.unwrap_or(0).to_be_bytes());
        out.extend_from_slice(&self.chksum.unwrap_or(0).to_be_bytes());
    }

    /// Fills in length and checksum over `seg` (header to end of datagram).
    /// A `len` set shorter than `seg` ends the UDP datagram there (RFC 768):
    /// the checksum covers only that much.
    pub fn finalize(&self, seg: &mut [u8], pseudo: Option<checksum::Pseudo>) {
        if self.len.is_none() {
            put16(seg, 4, seg.len().min(0xffff) as u16);
        }
        if self.chksum.is_none() {
            let p = pseudo.unwrap_or(checksum::LOOPBACK_V4);
            let covered = self.covered_len(seg.len());
            put16(seg, 6, 0);
            let c = checksum::checksum_with(p, 17, &seg[..covered]);
            put16(seg, 6, if c == 0 { 0xffff } else { c });
        }
    }

    /// How much of `available` bytes (header and what follows) the datagram
    /// is: its length field when that is between 8 and `available`.
    pub fn covered_len(&self, available: usize) -> usize {
        match self.len.map(usize::from) {
            Some(l) if (Self::LEN..available).contains(&l) => l,
            _ => available,
        }
    }

    /// Why the length cannot be computed, for a datagram of `datagram` bytes.
    pub fn check_len(&self, datagram: usize) -> Result<(), String> {
        if self.len.is_none() && datagram > usize::from(u16::MAX) {
            return Err(format!(
                "UDP.len: the datagram is {datagram} bytes, over UDP's 65,535"
            ));
        }
        Ok(())
    }

    /// Reads field `i` of [`Self::FIELDS`].
    pub fn slot(&self, i: usize) -> Option<FieldValue> {
        let v = match i {
            field::SPORT => self.sport,
            field::DPORT => self.dport,
            field::LEN => self.len,
            field::CHKSUM => self.chksum,
            _ => None,
        };
        v.map(|v| FieldValue::Int(v.into()))
    }

    /// Sets (or with `None` unsets) field `i`.
    pub fn put(&mut self, i: usize, v: Option<FieldValue>) {
        let n = v.as_ref().and_then(FieldValue::as_int).map(|x| x as u16);
        match i {
            field::SPORT => self.sport = n,
            field::DPORT => self.dport = n,
            field::LEN => self.len = n,
            field::CHKSUM => self.chksum = n,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_constants_name_their_fields() {
        for (i, name) in [
            (field::SPORT, "sport"),
            (field::DPORT, "dport"),
            (field::LEN, "len"),
            (field::CHKSUM, "chksum"),
        ] {
            assert_eq!(Udp::FIELDS[i].name, name);
        }
        assert!(Udp::FIELDS.iter().all(|f| !f.name.is_empty()));
    }
}

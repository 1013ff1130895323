//! ICMP header: type, code, checksum and the 4-byte rest of header, read as
//! id and seq (echo) or as the unused/MTU word of errors. An error's quoted
//! datagram follows as the next layers (IP, then a possibly truncated TCP/UDP).

use super::checksum;
use super::{DecodeError, FieldKind, FieldSpec, FieldValue, put16};
use pnet_packet::icmp::IcmpPacket;
use pnet_packet::icmp::echo_request::EchoRequestPacket;

/// Indices of [`Icmp::FIELDS`], for [`Icmp::slot`] and [`Icmp::put`].
pub mod field {
    /// `type`: message type.
    pub const TYPE: usize = 0;
    /// `code`: code.
    pub const CODE: usize = 1;
    /// `chksum`: checksum.
    pub const CHKSUM: usize = 2;
    /// `id`: identifier (echo).
    pub const ID: usize = 3;
    /// `seq`: sequence (echo).
    pub const SEQ: usize = 4;
}

/// An ICMP header. Defaults: echo request (type 8, code 0), id 0, seq 0.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Icmp {
    /// Message type (8 echo request, 0 echo reply, 3 unreachable, 11 time exceeded).
    pub icmp_type: Option<u8>,
    /// Code.
    pub code: Option<u8>,
    /// Checksum over the whole message.
    pub chksum: Option<u16>,
    /// Identifier (first half of the rest of header).
    pub id: Option<u16>,
    /// Sequence number (second half of the rest of header).
    pub seq: Option<u16>,
}

/// Type numbers that carry a quoted datagram.
pub fn is_error_type(t: u8) -> bool {
    matches!(t, 3 | 4 | 5 | 11 | 12)
}

impl Icmp {
    /// Header length.
    pub const LEN: usize = 8;

    /// Field table, in wire order.
    pub const FIELDS: &'static [FieldSpec] = &{
        let mut t = [FieldSpec::UNSET; 5];
        t[field::TYPE] = FieldSpec {
            name: "type",
            kind: FieldKind::UInt(8),
            default: "8",
            doc: "8 echo-request, 0 echo-reply, 3 dest-unreach, 11 time-exceeded",
        };
        t[field::CODE] = FieldSpec {
            name: "code",
            kind: FieldKind::UInt(8),
            default: "0",
            doc: "code (for type 3: 3 port unreachable)",
        };
        t[field::CHKSUM] = FieldSpec {
            name: "chksum",
            kind: FieldKind::UInt(16),
            default: "auto",
            doc: "checksum",
        };
        t[field::ID] = FieldSpec {
            name: "id",
            kind: FieldKind::UInt(16),
            default: "0",
            doc: "identifier (echo); unused word (errors)",
        };
        t[field::SEQ] = FieldSpec {
            name: "seq",
            kind: FieldKind::UInt(16),
            default: "0",
            doc: "sequence (echo); next-hop MTU (frag needed)",
        };
        t
    };

    /// Parses the header.
    #[inline(always)]
    pub fn parse(b: &[u8]) -> Result<(Icmp, usize), DecodeError> {
        let truncated = || DecodeError {
            layer: "ICMP",
            offset: 0,
            msg: format!("truncated: {} of 8 header bytes", b.len()),
        };
        // Craft's bounds check first: the whole fixed header is there. pnet
        // gets it as a fixed-size array, so its `new` cannot fail and its
        // getters read within it.
        let Some(fixed) = b.first_chunk::<{ Self::LEN }>() else {
            return Err(truncated());
        };
        let Some(i) = IcmpPacket::new(fixed) else {
            return Err(truncated());
        };
        let Some(rest) = EchoRequestPacket::new(fixed) else {
            return Err(truncated());
        };
        Ok((
            Icmp {
                icmp_type: Some(i.get_icmp_type().0),
                code: Some(i.get_icmp_code().0),
                chksum: Some(i.get_checksum()),
                id: Some(rest.get_identifier()),
                seq: Some(rest.get_sequence_number()),
            },
            Self::LEN,
        ))
    }

    /// The type, defaulting to echo request.
    pub fn type_num(&self) -> u8 {
        self.icmp_type.unwrap_or(8)
    }

    /// Appends the header with a provisional checksum.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.push(self.type_num());
        out.push(self.code.unwrap_or(0));
        out.extend_from_slice(&self.chksum.unwrap_or(0).to_be_bytes());
        out.extend_from_slice(&self.id.unwrap_or(0).to_be_bytes());
        out.extend_from_slice(&self.seq.unwrap_or(0).to_be_bytes());
    }

    /// Fills in the checksum over `msg` (header to end of message).
    pub fn finalize(&self, msg: &mut [u8]) {
        if self.chksum.is_none() {
            put16(msg, 2, 0);
            let c = checksum::checksum(msg);
            put16(msg, 2, c);
        }
    }

    /// Reads field `i` of [`Self::FIELDS`].
    pub fn slot(&self, i: usize) -> Option<FieldValue> {
        let v: Option<u64> = match i {
            field::TYPE => self.icmp_type.map(u64::from),
            field::CODE => self.code.map(u64::from),
            field::CHKSUM => self.chksum.map(u64::from),
            field::ID => self.id.map(u64::from),
            field::SEQ => self.seq.map(u64::from),
            _ => None,
        };
        v.map(FieldValue::Int)
    }

    /// Sets (or with `None` unsets) field `i`.
    pub fn put(&mut self, i: usize, v: Option<FieldValue>) {
        let n = v.as_ref().and_then(FieldValue::as_int);
        match i {
            field::TYPE => self.icmp_type = n.map(|x| x as u8),
            field::CODE => self.code = n.map(|x| x as u8),
            field::CHKSUM => self.chksum = n.map(|x| x as u16),
            field::ID => self.id = n.map(|x| x as u16),
            field::SEQ => self.seq = n.map(|x| x as u16),
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
            (field::TYPE, "type"),
            (field::CODE, "code"),
            (field::CHKSUM, "chksum"),
            (field::ID, "id"),
            (field::SEQ, "seq"),
        ] {
            assert_eq!(Icmp::FIELDS[i].name, name);
        }
        assert!(Icmp::FIELDS.iter().all(|f| !f.name.is_empty()));
    }
}

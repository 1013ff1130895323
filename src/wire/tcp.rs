//! TCP header. Options are kept as raw bytes (lossless, even when malformed)
//! and decoded on demand into [`TcpOption`]s.

use super::checksum;
use super::{DecodeError, FieldKind, FieldSpec, FieldValue, be16, be32, put16};
use pnet_packet::tcp::TcpPacket;

/// Indices of [`Tcp::FIELDS`], for [`Tcp::slot`] and [`Tcp::put`].
pub mod field {
    /// `sport`: source port.
    pub const SPORT: usize = 0;
    /// `dport`: destination port.
    pub const DPORT: usize = 1;
    /// `seq`: sequence number.
    pub const SEQ: usize = 2;
    /// `ack`: acknowledgment number.
    pub const ACK: usize = 3;
    /// `dataofs`: header length in words.
    pub const DATAOFS: usize = 4;
    /// `reserved`: reserved bits.
    pub const RESERVED: usize = 5;
    /// `flags`: FSRPAUECN.
    pub const FLAGS: usize = 6;
    /// `window`: receive window.
    pub const WINDOW: usize = 7;
    /// `chksum`: checksum.
    pub const CHKSUM: usize = 8;
    /// `urgptr`: urgent pointer.
    pub const URGPTR: usize = 9;
    /// `options`: options.
    pub const OPTIONS: usize = 10;
}

/// A TCP header. `None` fields are computed (dataofs, chksum) or take
/// defaults (sport 20, dport 80, flags S, window 8192, everything else 0).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tcp {
    /// Source port.
    pub sport: Option<u16>,
    /// Destination port.
    pub dport: Option<u16>,
    /// Sequence number.
    pub seq: Option<u32>,
    /// Acknowledgment number.
    pub ack: Option<u32>,
    /// Data offset: header length in 32-bit words (4 bits).
    pub dataofs: Option<u8>,
    /// Reserved bits (3 bits).
    pub reserved: Option<u8>,
    /// Flags (9 bits, FSRPAUECN).
    pub flags: Option<u16>,
    /// Receive window.
    pub window: Option<u16>,
    /// Checksum.
    pub chksum: Option<u16>,
    /// Urgent pointer.
    pub urgptr: Option<u16>,
    /// Options, raw bytes (padded with EOL to a 4-byte boundary on the wire).
    pub options: Vec<u8>,
}

/// Flag bits.
pub mod flags {
    /// FIN.
    pub const FIN: u16 = 0x01;
    /// SYN.
    pub const SYN: u16 = 0x02;
    /// RST.
    pub const RST: u16 = 0x04;
    /// PSH.
    pub const PSH: u16 = 0x08;
    /// ACK.
    pub const ACK: u16 = 0x10;
}

/// Default source port when none is set and none was assigned (scapy's).
pub const DEFAULT_SPORT: u16 = 20;

impl Tcp {
    /// Header length without options.
    pub const MIN_LEN: usize = 20;

    /// Field table, in wire order.
    pub const FIELDS: &'static [FieldSpec] = &{
        let mut t = [FieldSpec::UNSET; 11];
        t[field::SPORT] = FieldSpec {
            name: "sport",
            kind: FieldKind::UInt(16),
            default: "20",
            doc: "source port (a reserved free port when sending)",
        };
        t[field::DPORT] = FieldSpec {
            name: "dport",
            kind: FieldKind::UInt(16),
            default: "80",
            doc: "destination port",
        };
        t[field::SEQ] = FieldSpec {
            name: "seq",
            kind: FieldKind::UInt(32),
            default: "0",
            doc: "sequence number (modulo 2^32)",
        };
        t[field::ACK] = FieldSpec {
            name: "ack",
            kind: FieldKind::UInt(32),
            default: "0",
            doc: "acknowledgment number (modulo 2^32)",
        };
        t[field::DATAOFS] = FieldSpec {
            name: "dataofs",
            kind: FieldKind::UInt(4),
            default: "auto",
            doc: "header length in 32-bit words",
        };
        t[field::RESERVED] = FieldSpec {
            name: "reserved",
            kind: FieldKind::UInt(3),
            default: "0",
            doc: "reserved bits",
        };
        t[field::FLAGS] = FieldSpec {
            name: "flags",
            kind: FieldKind::TcpFlags,
            default: "S",
            doc: "F S R P A U E C N",
        };
        t[field::WINDOW] = FieldSpec {
            name: "window",
            kind: FieldKind::UInt(16),
            default: "8192",
            doc: "receive window",
        };
        t[field::CHKSUM] = FieldSpec {
            name: "chksum",
            kind: FieldKind::UInt(16),
            default: "auto",
            doc: "checksum over pseudo header, header, data",
        };
        t[field::URGPTR] = FieldSpec {
            name: "urgptr",
            kind: FieldKind::UInt(16),
            default: "0",
            doc: "urgent pointer",
        };
        t[field::OPTIONS] = FieldSpec {
            name: "options",
            kind: FieldKind::TcpOptions,
            default: "[]",
            doc: "[(\"MSS\",1460), (\"NOP\",), (\"WScale\",7), (\"SAckOK\",), (\"Timestamp\",(1,0))] or raw bytes",
        };
        t
    };

    /// Parses the header; returns it and its length (dataofs * 4).
    #[inline(always)]
    pub fn parse(b: &[u8]) -> Result<(Tcp, usize), DecodeError> {
        let err = |offset, msg: String| DecodeError {
            layer: "TCP",
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
        let Some(p) = TcpPacket::new(fixed) else {
            return Err(truncated());
        };
        let dataofs = p.get_data_offset();
        let hlen = usize::from(dataofs) * 4;
        if hlen < Self::MIN_LEN {
            return Err(err(
                12,
                format!("data offset {dataofs} is below the minimum of 5"),
            ));
        }
        if hlen > b.len() {
            return Err(err(
                12,
                format!(
                    "data offset {dataofs} ({hlen} bytes) runs past the end ({} bytes)",
                    b.len()
                ),
            ));
        }
        // pnet splits byte 12-13 as data offset (4), reserved (4), flags (8);
        // craft as data offset, reserved (3), flags (9: NS is reserved's low bit).
        let reserved4 = p.get_reserved();
        // 20 <= dataofs * 4 <= b.len(), so the options are exactly b[20..hlen]
        // (sliced here: pnet's get_options_raw re-derives that length).
        Ok((
            Tcp {
                sport: Some(p.get_source()),
                dport: Some(p.get_destination()),
                seq: Some(p.get_sequence()),
                ack: Some(p.get_acknowledgement()),
                dataofs: Some(dataofs),
                reserved: Some(reserved4 >> 1),
                flags: Some((u16::from(reserved4 & 1) << 8) | u16::from(p.get_flags())),
                window: Some(p.get_window()),
                chksum: Some(p.get_checksum()),
                urgptr: Some(p.get_urgent_ptr()),
                options: b[Self::MIN_LEN..hlen].to_vec(),
            },
            hlen,
        ))
    }

    /// Header length this header will have on the wire.
    /// Options are padded to the 4-byte boundary even when `dataofs` is set
    /// (which is sent as set).
    pub fn header_len(&self) -> usize {
        Self::MIN_LEN + self.options.len().div_ceil(4) * 4
    }

    /// The flags, defaulting to SYN.
    pub fn flag_bits(&self) -> u16 {
        self.flags.unwrap_or(flags::SYN)
    }

    /// Appends the header, checksum provisional when computed.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let hlen = self.header_len();
        let dataofs = self.dataofs.unwrap_or((hlen / 4).min(15) as u8);
        let fl = self.flag_bits();
        let sp = self.sport.unwrap_or(DEFAULT_SPORT).to_be_bytes();
        let dp = self.dport.unwrap_or(80).to_be_bytes();
        let seq = self.seq.unwrap_or(0).to_be_bytes();
        let ack = self.ack.unwrap_or(0).to_be_bytes();
        let win = self.window.unwrap_or(8192).to_be_bytes();
        let ck = self.chksum.unwrap_or(0).to_be_bytes();
        let up = self.urgptr.unwrap_or(0).to_be_bytes();
        out.extend_from_slice(&[
            sp[0],
            sp[1],
            dp[0],
            dp[1],
            seq[0],
            seq[1],
            seq[2],
            seq[3],
            ack[0],
            ack[1],
            ack[2],
            ack[3],
            (dataofs << 4) | ((self.reserved.unwrap_or(0) & 7) << 1) | ((fl >> 8) as u8 & 1),
            fl as u8,
            win[0],
            win[1],
            ck[0],
            ck[1],
            up[0],
            up[1],
        ]);
        if !self.options.is_empty() {
            out.extend_from_slice(&self.options);
            out.resize(out.len() + (hlen - Self::MIN_LEN - self.options.len()), 0);
        }
    }

    /// Fills in the computed checksum. `seg` runs from this header to the end of
    /// the segment; `addrs` are the enclosing IPv4 source and destination.
    pub fn finalize(&self, seg: &mut [u8], pseudo: Option<checksum::Pseudo>) {
        if self.chksum.is_none() {
            let p = pseudo.unwrap_or(checksum::LOOPBACK_V4);
            put16(seg, 16, 0);
            let c = checksum::checksum_with(p, 6, seg);
            put16(seg, 16, c);
        }
    }

    /// Reads field `i` of [`Self::FIELDS`].
    pub fn slot(&self, i: usize) -> Option<FieldValue> {
        let int = |v: Option<u64>| v.map(FieldValue::Int);
        match i {
            field::SPORT => int(self.sport.map(u64::from)),
            field::DPORT => int(self.dport.map(u64::from)),
            field::SEQ => int(self.seq.map(u64::from)),
            field::ACK => int(self.ack.map(u64::from)),
            field::DATAOFS => int(self.dataofs.map(u64::from)),
            field::RESERVED => int(self.reserved.map(u64::from)),
            field::FLAGS => self.flags.map(FieldValue::Flags),
            field::WINDOW => int(self.window.map(u64::from)),
            field::CHKSUM => int(self.chksum.map(u64::from)),
            field::URGPTR => int(self.urgptr.map(u64::from)),
            field::OPTIONS => Some(FieldValue::Bytes(self.options.clone())),
            _ => None,
        }
    }

    /// Sets (or with `None` unsets) field `i`; the value was checked against its kind.
    pub fn put(&mut self, i: usize, v: Option<FieldValue>) {
        let n = v.as_ref().and_then(FieldValue::as_int);
        match i {
            field::SPORT => self.sport = n.map(|x| x as u16),
            field::DPORT => self.dport = n.map(|x| x as u16),
            field::SEQ => self.seq = n.map(|x| x as u32),
            field::ACK => self.ack = n.map(|x| x as u32),
            field::DATAOFS => self.dataofs = n.map(|x| x as u8),
            field::RESERVED => self.reserved = n.map(|x| x as u8),
            field::FLAGS => self.flags = n.map(|x| x as u16),
            field::WINDOW => self.window = n.map(|x| x as u16),
            field::CHKSUM => self.chksum = n.map(|x| x as u16),
            field::URGPTR => self.urgptr = n.map(|x| x as u16),
            field::OPTIONS => {
                self.options = match v {
                    Some(FieldValue::Bytes(b)) => b,
                    _ => Vec::new(),
                }
            }
            _ => {}
        }
    }

    /// Decodes the options; a malformed one ends the list with an error.
    pub fn decoded_options(&self) -> (Vec<TcpOption>, Option<String>) {
        decode_options(&self.options)
    }

    /// The MSS option's value, if present.
    pub fn mss(&self) -> Option<u16> {
        self.decoded_options().0.iter().find_map(|o| match o {
            TcpOption::Mss(v) => Some(*v),
            _ => None,
        })
    }

    /// The timestamps option's (TSval, TSecr), if present.
    pub fn timestamp(&self) -> Option<(u32, u32)> {
        self.decoded_options().0.iter().find_map(|o| match o {
            TcpOption::Timestamp(v, e) => Some((*v, *e)),
            _ => None,
        })
    }

    /// The SACK option's blocks (left, right edges), if present.
    pub fn sack_blocks(&self) -> Vec<(u32, u32)> {
        self.decoded_options()
            .0
            .into_iter()
            .find_map(|o| match o {
                TcpOption::Sack(b) => Some(b),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// The window scale option's shift, if present.
    pub fn wscale(&self) -> Option<u8> {
        self.decoded_options().0.iter().find_map(|o| match o {
            TcpOption::WScale(v) => Some(*v),
            _ => None,
        })
    }
}

/// Bases for relative sequence numbers (as Wireshark shows them): a segment's
/// seq counts from its sender's initial sequence number, its ack from the
/// other side's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Relative {
    /// Initial sequence number of the sender of this segment.
    pub seq_base: u32,
    /// Initial sequence number of the other side.
    pub ack_base: u32,
}

impl Relative {
    /// `seq` relative to the sender's initial sequence number.
    pub fn seq(self, seq: u32) -> u32 {
        seq.wrapping_sub(self.seq_base)
    }

    /// `ack` relative to the other side's initial sequence number.
    pub fn ack(self, ack: u32) -> u32 {
        ack.wrapping_sub(self.ack_base)
    }
}

/// One TCP option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpOption {
    /// End of option list (kind 0).
    Eol,
    /// No operation (kind 1).
    Nop,
    /// Maximum segment size (kind 2).
    Mss(u16),
    /// Window scale shift (kind 3).
    WScale(u8),
    /// SACK permitted (kind 4).
    SackOk,
    /// SACK blocks (kind 5): (left, right) edges.
    Sack(Vec<(u32, u32)>),
    /// Timestamps (kind 8): value, echo reply.
    Timestamp(u32, u32),
    /// Any other kind, data kept as bytes.
    Unknown(u8, Vec<u8>),
}

impl TcpOption {
    /// Appends the option's wire form.
    pub fn emit(&self, out: &mut Vec<u8>) {
        match self {
            TcpOption::Eol => out.push(0),
            TcpOption::Nop => out.push(1),
            TcpOption::Mss(v) => {
                out.extend_from_slice(&[2, 4]);
                out.extend_from_slice(&v.to_be_bytes());
            }
            TcpOption::WScale(v) => out.extend_from_slice(&[3, 3, *v]),
            TcpOption::SackOk => out.extend_from_slice(&[4, 2]),
            TcpOption::Sack(blocks) => {
                out.extend_from_slice(&[5, (2 + 8 * blocks.len()).min(255) as u8]);
                for (l, r) in blocks {
                    out.extend_from_slice(&l.to_be_bytes());
                    out.extend_from_slice(&r.to_be_bytes());
                }
            }
            TcpOption::Timestamp(v, e) => {
                out.extend_from_slice(&[8, 10]);
                out.extend_from_slice(&v.to_be_bytes());
                out.extend_from_slice(&e.to_be_bytes());
            }
            TcpOption::Unknown(k, d) => {
                out.extend_from_slice(&[*k, (2 + d.len()).min(255) as u8]);
                out.extend_from_slice(d);
            }
        }
    }

    /// tcpdump-like short form: `mss 65495`, `nop`, `wscale 7`, `TS val 1 ecr 0`.
    pub fn short(&self) -> String {
        match self {
            TcpOption::Eol => "eol".into(),
            TcpOption::Nop => "nop".into(),
            TcpOption::Mss(v) => format!("mss {v}"),
            TcpOption::WScale(v) => format!("wscale {v}"),
            TcpOption::SackOk => "sackOK".into(),
            TcpOption::Sack(b) => {
                let blocks: Vec<String> = b.iter().map(|(l, r)| format!("{l}:{r}")).collect();
                format!("sack {{{}}}", blocks.join(" "))
            }
            TcpOption::Timestamp(v, e) => format!("TS val {v} ecr {e}"),
            TcpOption::Unknown(k, d) => format!("opt-{k} {}", hex::encode(d)),
        }
    }
}

/// Encodes options, padding with EOL bytes to a multiple of 4.
pub fn encode_options(opts: &[TcpOption]) -> Vec<u8> {
    let mut out = Vec::new();
    for o in opts {
        o.emit(&mut out);
    }
    out.resize(out.len().div_ceil(4) * 4, 0);
    out
}

/// Decodes raw option bytes. Stops at EOL (the rest is padding) or at the first
/// malformed option, which it describes.
pub fn decode_options(b: &[u8]) -> (Vec<TcpOption>, Option<String>) {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let kind = b[i];
        match kind {
            0 => {
                out.push(TcpOption::Eol);
                return (out, None);
            }
            1 => {
                out.push(TcpOption::Nop);
                i += 1;
                continue;
            }
            _ => {}
        }
        let Some(&len) = b.get(i + 1) else {
            return (
                out,
                Some(format!("option kind {kind} at byte {i} has no length byte")),
            );
        };
        let len = usize::from(len);
        if len < 2 {
            return (
                out,
                Some(format!(
                    "option kind {kind} at byte {i} has length {len} (minimum 2)"
                )),
            );
        }
        if i + len > b.len() {
            return (
                out,
                Some(format!(
                    "option kind {kind} at byte {i} has length {len}, past the end of the options"
                )),
            );
        }
        let d = &b[i + 2..i + len];
        let bad_len = |want: &str| {
            Some(format!(
                "option kind {kind} at byte {i} has length {len}, expected {want}"
            ))
        };
        let opt = match kind {
            2 if d.len() == 2 => TcpOption::Mss(be16(d, 0)),
            3 if d.len() == 1 => TcpOption::WScale(d[0]),
            4 if d.is_empty() => TcpOption::SackOk,
            5 if d.len().is_multiple_of(8) => TcpOption::Sack(
                d.chunks_exact(8)
                    .map(|c| (be32(c, 0), be32(c, 4)))
                    .collect(),
            ),
            8 if d.len() == 8 => TcpOption::Timestamp(be32(d, 0), be32(d, 4)),
            2 => return (out, bad_len("4")),
            3 => return (out, bad_len("3")),
            4 => return (out, bad_len("2")),
            5 => return (out, bad_len("2 + 8n")),
            8 => return (out, bad_len("10")),
            _ => TcpOption::Unknown(kind, d.to_vec()),
        };
        out.push(opt);
        i += len;
    }
    (out, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_constants_name_their_fields() {
        for (i, name) in [
            (field::SPORT, "sport"),
            (field::DPORT, "dport"),
            (field::SEQ, "seq"),
            (field::ACK, "ack"),
            (field::DATAOFS, "dataofs"),
            (field::RESERVED, "reserved"),
            (field::FLAGS, "flags"),
            (field::WINDOW, "window"),
            (field::CHKSUM, "chksum"),
            (field::URGPTR, "urgptr"),
            (field::OPTIONS, "options"),
        ] {
            assert_eq!(Tcp::FIELDS[i].name, name);
        }
        assert!(Tcp::FIELDS.iter().all(|f| !f.name.is_empty()));
    }

    #[test]
    fn options_round_trip() {
        let opts = vec![
            TcpOption::Mss(65495),
            TcpOption::SackOk,
            TcpOption::Timestamp(1, 0),
            TcpOption::Nop,
            TcpOption::WScale(7),
        ];
        let raw = encode_options(&opts);
        assert_eq!(raw.len(), 20);
        assert_eq!(&raw[..4], &[2, 4, 0xff, 0xd7]);
        assert_eq!(decode_options(&raw), (opts, None));
    }

    #[test]
    fn malformed_options_are_reported_not_panicked() {
        for raw in [
            &[2u8][..],
            &[2, 0],
            &[2, 1, 0, 0],
            &[2, 40, 1, 2],
            &[3, 2],
            &[8, 4, 0, 0],
            &[5, 3, 0],
        ] {
            let (_, err) = decode_options(raw);
            assert!(err.is_some(), "{raw:?}");
        }
        let (opts, err) = decode_options(&[1, 1, 99, 3, 7, 0, 0xff]);
        assert_eq!(
            opts,
            vec![
                TcpOption::Nop,
                TcpOption::Nop,
                TcpOption::Unknown(99, vec![7]),
                TcpOption::Eol
            ]
        );
        assert_eq!(err, None);
    }
}

//! The wire layer: packets as layers, parsed from and emitted to bytes.
//!
//! Pure: no I/O, no printing. Every header keeps every field as the user set it
//! or as it was parsed (`Some`), or leaves it to be computed (`None`: lengths,
//! protocol numbers, checksums, or a default). A parsed frame therefore emits to
//! the same bytes, odd ones included (SYN+FIN, reserved bits, wrong checksums).
//!
//! Nothing here panics on input: parsing bounds-checks every read and keeps what
//! it cannot decode as raw bytes, with a [`DecodeError`] saying what and where.

pub mod arp;
pub mod bpf;
pub mod checksum;
pub mod dot1q;
pub mod ethernet;
pub mod fragment;
pub mod icmp;
pub mod icmp6;
pub mod ipv4;
pub mod ipv6;
pub mod ipv6ext;
pub mod matcher;
pub mod packed;
pub mod patch;
pub mod raw;
pub mod stack;
pub mod tcp;
pub mod udp;
pub mod view;

pub use ethernet::Ether;
pub use icmp::Icmp;
pub use ipv4::Ipv4;
pub use ipv6::Ipv6;
pub use stack::{Layer, LayerKind, Packet};
pub use tcp::{Tcp, TcpOption};
pub use udp::Udp;

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A 48-bit Ethernet address.
pub type Mac = [u8; 6];

/// What went wrong while decoding a frame, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Layer being decoded ("IP", "TCP", ...).
    pub layer: &'static str,
    /// Byte offset in the frame where the problem is.
    pub offset: usize,
    /// What was wrong.
    pub msg: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}: {}", self.layer, self.offset, self.msg)
    }
}

impl std::error::Error for DecodeError {}

/// The type of a header field, for conversion, range checks and `ls()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// An unsigned integer of this many bits.
    UInt(u8),
    /// An Ethernet address.
    Mac,
    /// An IPv4 address.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
    /// A list of IPv6 addresses (a routing header's).
    Ipv6List,
    /// TCP flags (FSRPAUECN).
    TcpFlags,
    /// IPv4 flags (MF, DF, evil).
    IpFlags,
    /// Raw bytes (options, payload).
    Bytes,
    /// TCP options: raw bytes, or a list of named options.
    TcpOptions,
}

impl FieldKind {
    /// A short type name for `ls()` and error messages.
    pub fn name(self) -> String {
        match self {
            FieldKind::UInt(b) => format!("int{b}"),
            FieldKind::Mac => "mac".into(),
            FieldKind::Ipv4 => "ipv4".into(),
            FieldKind::Ipv6 => "ipv6".into(),
            FieldKind::Ipv6List => "ipv6 list".into(),
            FieldKind::TcpFlags => "tcp flags".into(),
            FieldKind::IpFlags => "ip flags".into(),
            FieldKind::Bytes => "bytes".into(),
            FieldKind::TcpOptions => "tcp options".into(),
        }
    }

    /// Largest integer value the field holds, for integer kinds.
    pub fn max(self) -> Option<u64> {
        match self {
            FieldKind::UInt(b) => Some(if b >= 64 { u64::MAX } else { (1u64 << b) - 1 }),
            FieldKind::TcpFlags => Some(0x1ff),
            FieldKind::IpFlags => Some(0x7),
            _ => None,
        }
    }
}

/// One field of a header: its name, type, default and meaning.
#[derive(Clone, Copy, Debug)]
pub struct FieldSpec {
    /// Name as written in the language (`seq`, `ttl`, ...).
    pub name: &'static str,
    /// Type.
    pub kind: FieldKind,
    /// Default as shown by `ls()`; "auto" for computed fields.
    pub default: &'static str,
    /// One line on what it is.
    pub doc: &'static str,
}

impl FieldSpec {
    /// A placeholder while a layer's `FIELDS` table is filled in by index.
    pub(crate) const UNSET: FieldSpec = FieldSpec {
        name: "",
        kind: FieldKind::Bytes,
        default: "",
        doc: "",
    };
}

/// A field's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldValue {
    /// Any integer field.
    Int(u64),
    /// An Ethernet address.
    Mac(Mac),
    /// An IPv4 address.
    Ip(Ipv4Addr),
    /// An IPv6 address.
    Ip6(Ipv6Addr),
    /// IPv6 addresses.
    Ip6List(Vec<Ipv6Addr>),
    /// TCP or IP flag bits.
    Flags(u16),
    /// Raw bytes.
    Bytes(Vec<u8>),
}

impl FieldValue {
    /// The integer inside, if any (flags count as integers).
    pub fn as_int(&self) -> Option<u64> {
        match self {
            FieldValue::Int(v) => Some(*v),
            FieldValue::Flags(v) => Some(u64::from(*v)),
            _ => None,
        }
    }
}

/// TCP flag letters in bit order (bit 0 = F), scapy's order.
pub const TCP_FLAG_LETTERS: &[u8; 9] = b"FSRPAUECN";

/// Formats TCP flag bits as letters in bit order: 0x12 → "SA".
pub fn tcp_flags_str(bits: u16) -> String {
    let mut s = String::new();
    for (i, c) in TCP_FLAG_LETTERS.iter().enumerate() {
        if bits & (1 << i) != 0 {
            s.push(*c as char);
        }
    }
    s
}

/// Parses TCP flag letters in any order: "AS" → 0x12. Errors name the bad letter.
pub fn parse_tcp_flags(s: &str) -> Result<u16, String> {
    let mut bits = 0u16;
    for ch in s.chars() {
        match TCP_FLAG_LETTERS
            .iter()
            .position(|&c| c as char == ch.to_ascii_uppercase())
        {
            Some(i) => bits |= 1 << i,
            None if ch == '.' => bits |= 0x10, // tcpdump writes ACK as "."
            None => {
                return Err(format!(
                    "'{ch}' is not a TCP flag (use letters of FSRPAUECN: F=FIN S=SYN R=RST P=PSH A=ACK U=URG E=ECE C=CWR N=NS)"
                ));
            }
        }
    }
    Ok(bits)
}

/// Formats IPv4 flag bits: 0x2 → "DF", 0x3 → "DF+MF".
pub fn ip_flags_str(bits: u16) -> String {
    let mut parts = Vec::new();
    if bits & 0x4 != 0 {
        parts.push("evil");
    }
    if bits & 0x2 != 0 {
        parts.push("DF");
    }
    if bits & 0x1 != 0 {
        parts.push("MF");
    }
    parts.join("+")
}

/// Parses IPv4 flags written as "DF", "MF", "DF+MF", "evil" (also "" for none).
pub fn parse_ip_flags(s: &str) -> Result<u16, String> {
    let mut bits = 0u16;
    for part in s.split(['+', ',', '|', ' ']).filter(|p| !p.is_empty()) {
        bits |= match part.to_ascii_uppercase().as_str() {
            "MF" => 0x1,
            "DF" => 0x2,
            "EVIL" | "RESERVED" => 0x4,
            _ => return Err(format!("'{part}' is not an IP flag (use DF, MF, evil)")),
        };
    }
    Ok(bits)
}

/// Formats a MAC address as `aa:bb:cc:dd:ee:ff`.
pub fn mac_str(m: &Mac) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

/// Reads a big-endian u16 at `i` (caller checked bounds).
#[inline]
pub(crate) fn be16(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([b[i], b[i + 1]])
}

/// Reads a big-endian u32 at `i` (caller checked bounds).
#[inline]
pub(crate) fn be32(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// Writes a big-endian u16 at `i` (caller checked bounds).
#[inline]
pub(crate) fn put16(b: &mut [u8], i: usize, v: u16) {
    b[i..i + 2].copy_from_slice(&v.to_be_bytes());
}

//! What a parsed filter says, before it becomes BPF.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A boolean expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// Every one holds (`and`, left to right).
    All(Vec<Expr>),
    /// At least one holds (`or`, left to right).
    Any(Vec<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// A primitive such as `tcp`, `src host A`, `portrange 1-2`.
    Prim(Prim),
    /// `arith relop arith`.
    Rel(Arith, Rel, Arith),
}

/// Which addresses or ports a primitive looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// The source.
    Src,
    /// The destination.
    Dst,
    /// Either (`src or dst`, the default).
    Either,
    /// Both (`src and dst`).
    Both,
}

/// A protocol named in a filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// Ethernet (`ether`, `link`).
    Ether,
    /// IPv4.
    Ip,
    /// IPv6.
    Ip6,
    /// ARP.
    Arp,
    /// RARP.
    Rarp,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
    /// ICMP (IPv4).
    Icmp,
    /// ICMPv6.
    Icmp6,
    /// IGMP.
    Igmp,
}

impl Proto {
    /// The IP protocol number of a transport, if it is one.
    pub fn ip_proto(self) -> Option<u8> {
        match self {
            Proto::Tcp => Some(6),
            Proto::Udp => Some(17),
            Proto::Sctp => Some(132),
            Proto::Icmp => Some(1),
            Proto::Icmp6 => Some(58),
            Proto::Igmp => Some(2),
            _ => None,
        }
    }
}

/// An address to compare with, and how many leading bits count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Net {
    /// IPv4 address and mask.
    V4(Ipv4Addr, u32),
    /// IPv6 address and prefix length.
    V6(Ipv6Addr, u8),
}

/// A primitive.
#[derive(Clone, Debug, PartialEq)]
pub enum Prim {
    /// The frame carries this protocol (`tcp`, `ip6`, `arp`, ...).
    Proto(Proto),
    /// `[ip|ip6] proto N`: the IP protocol (or IPv6 next header) is `N`.
    IpProto(Option<Proto>, u8),
    /// `ether proto N`: the ethertype is `N`.
    EtherProto(u16),
    /// `[ip|ip6|arp|rarp] [dir] host|net A`: `proto` narrows the families.
    Net(Option<Proto>, Dir, Net),
    /// `ether [dir] host MAC`.
    EtherHost(Dir, [u8; 6]),
    /// `[tcp|udp|sctp] [dir] port|portrange lo-hi` (`ip`/`ip6` narrow the family).
    Port(Option<Proto>, Dir, u16, u16),
    /// `greater N` (length ≥ N) and `less N` (length ≤ N), as `true` and `false`.
    Len(bool, u32),
}

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rel {
    /// `==` or `=`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

/// A binary arithmetic operator (32-bit unsigned, as BPF computes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%`.
    Mod,
    /// `&`.
    And,
    /// `|`.
    Or,
    /// `^`.
    Xor,
    /// `<<`.
    Shl,
    /// `>>`.
    Shr,
}

/// An arithmetic expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Arith {
    /// A constant.
    Num(u32),
    /// The frame's length on the wire.
    Len,
    /// `proto[index : size]`.
    Load(Proto, Box<Arith>, u8),
    /// Negation.
    Neg(Box<Arith>),
    /// A binary operation; `col` is the operator's column (for errors).
    Bin(Op, Box<Arith>, Box<Arith>, usize),
}

//! An nftables table owned by our own netlink socket, dropping the kernel's
//! RSTs for craft's source ports (LOOPBACK.md §2, §3, §5).
//!
//! The table is created with `flags owner` over a
//! `socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER)`; the kernel
//! deletes it when that socket closes, including when the process is killed
//! with `-9`. No `nft` binary is used.
//!
//! Encoding and reply parsing are plain functions over byte slices so they can
//! be tested without privileges; parsing never panics on malformed input.

use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use super::HostError;

// ---- netlink / nfnetlink / nf_tables constants (linux/netlink.h, linux/netfilter/*) ----

const NETLINK_NETFILTER: libc::c_int = 12;
const SOL_NETLINK: libc::c_int = 270;
const NETLINK_CAP_ACK: libc::c_int = 10;
const NETLINK_EXT_ACK: libc::c_int = 11;

const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;

const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_MULTI: u16 = 0x2;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_ECHO: u16 = 0x8;
const NLM_F_DUMP: u16 = 0x300;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_APPEND: u16 = 0x800;
/// In an NLMSG_ERROR: the original payload was not echoed back.
const NLM_F_CAPPED: u16 = 0x100;
/// In an NLMSG_ERROR: extended-ack TLVs follow.
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;

const NLA_F_NESTED: u16 = 0x8000;
const NLA_TYPE_MASK: u16 = 0x3fff;

const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;
const NFNL_SUBSYS_NFTABLES: u16 = 10;

const NFT_MSG_NEWTABLE: u16 = 0;
const NFT_MSG_GETTABLE: u16 = 1;
const NFT_MSG_DELTABLE: u16 = 2;
const NFT_MSG_NEWCHAIN: u16 = 3;
const NFT_MSG_NEWRULE: u16 = 6;
const NFT_MSG_DELRULE: u16 = 8;

const NFPROTO_UNSPEC: u8 = 0;
const NFPROTO_INET: u8 = 1;

const NFT_TABLE_F_OWNER: u32 = 2;

// table attributes
const NFTA_TABLE_NAME: u16 = 1;
const NFTA_TABLE_FLAGS: u16 = 2;
const NFTA_TABLE_OWNER: u16 = 7;
// chain attributes
const NFTA_CHAIN_TABLE: u16 = 1;
const NFTA_CHAIN_NAME: u16 = 3;
const NFTA_CHAIN_HOOK: u16 = 4;
const NFTA_CHAIN_POLICY: u16 = 5;
const NFTA_CHAIN_TYPE: u16 = 7;
const NFTA_HOOK_HOOKNUM: u16 = 1;
const NFTA_HOOK_PRIORITY: u16 = 2;
const NF_INET_LOCAL_OUT: u32 = 3;
const NF_ACCEPT: u32 = 1;
// rule attributes
const NFTA_RULE_TABLE: u16 = 1;
const NFTA_RULE_CHAIN: u16 = 2;
const NFTA_RULE_HANDLE: u16 = 3;
const NFTA_RULE_EXPRESSIONS: u16 = 4;
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_EXPR_NAME: u16 = 1;
const NFTA_EXPR_DATA: u16 = 2;

/// Name of the base chain craft creates in its table.
pub const CHAIN_NAME: &str = "out";

fn msg_type(nft_msg: u16) -> u16 {
    (NFNL_SUBSYS_NFTABLES << 8) | nft_msg
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

/// A buffer of netlink messages under construction (host-order headers,
/// attributes padded to 4 bytes, nla_len excluding the padding).
#[derive(Default)]
pub(crate) struct MsgBuf {
    buf: Vec<u8>,
}

impl MsgBuf {
    fn pad(&mut self) {
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    /// Starts a message: nlmsghdr (length patched by `end_msg`) + nfgenmsg.
    fn begin_msg(&mut self, ty: u16, flags: u16, seq: u32, family: u8, res_id: u16) -> usize {
        let start = self.buf.len();
        self.buf.extend_from_slice(&0u32.to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(&flags.to_ne_bytes());
        self.buf.extend_from_slice(&seq.to_ne_bytes());
        self.buf.extend_from_slice(&0u32.to_ne_bytes());
        self.buf.push(family);
        self.buf.push(0); // version
        self.buf.extend_from_slice(&res_id.to_be_bytes());
        start
    }

    fn end_msg(&mut self, start: usize) {
        self.pad();
        let len = (self.buf.len() - start) as u32;
        self.buf[start..start + 4].copy_from_slice(&len.to_ne_bytes());
    }

    fn attr(&mut self, ty: u16, data: &[u8]) {
        let len = (4 + data.len()) as u16;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.pad();
    }

    fn attr_str(&mut self, ty: u16, s: &str) {
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s.as_bytes());
        v.push(0);
        self.attr(ty, &v);
    }

    fn attr_be32(&mut self, ty: u16, v: u32) {
        self.attr(ty, &v.to_be_bytes());
    }

    fn attr_be64(&mut self, ty: u16, v: u64) {
        self.attr(ty, &v.to_be_bytes());
    }

    fn nest_start(&mut self, ty: u16) -> usize {
        let start = self.buf.len();
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf
            .extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
        start
    }

    fn nest_end(&mut self, start: usize) {
        let len = (self.buf.len() - start) as u16;
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
    }

    /// One expression: LIST_ELEM{EXPR_NAME, EXPR_DATA{...}}.
    fn expr(&mut self, name: &str, data: impl FnOnce(&mut MsgBuf)) {
        let elem = self.nest_start(NFTA_LIST_ELEM);
        self.attr_str(NFTA_EXPR_NAME, name);
        let d = self.nest_start(NFTA_EXPR_DATA);
        data(self);
        self.nest_end(d);
        self.nest_end(elem);
    }

    /// A `cmp` expression: register 1 OP value.
    fn expr_cmp(&mut self, op: u32, value: &[u8]) {
        self.expr("cmp", |m| {
            m.attr_be32(1, 1); // SREG
            m.attr_be32(2, op); // OP
            let d = m.nest_start(3); // DATA
            m.attr(1, value); // VALUE
            m.nest_end(d);
        });
    }

    /// A `payload` load into register 1 from the transport header.
    fn expr_payload_th(&mut self, offset: u32, len: u32) {
        self.expr("payload", |m| {
            m.attr_be32(1, 1); // DREG
            m.attr_be32(2, 2); // BASE = transport header
            m.attr_be32(3, offset);
            m.attr_be32(4, len);
        });
    }

    fn batch_begin(&mut self, seq: u32) {
        let s = self.begin_msg(
            NFNL_MSG_BATCH_BEGIN,
            NLM_F_REQUEST,
            seq,
            NFPROTO_UNSPEC,
            NFNL_SUBSYS_NFTABLES,
        );
        self.end_msg(s);
    }

    fn batch_end(&mut self, seq: u32) {
        let s = self.begin_msg(
            NFNL_MSG_BATCH_END,
            NLM_F_REQUEST,
            seq,
            NFPROTO_UNSPEC,
            NFNL_SUBSYS_NFTABLES,
        );
        self.end_msg(s);
    }

    fn new_table(&mut self, seq: u32, table: &str) {
        let s = self.begin_msg(
            msg_type(NFT_MSG_NEWTABLE),
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE,
            seq,
            NFPROTO_INET,
            0,
        );
        self.attr_str(NFTA_TABLE_NAME, table);
        self.attr_be32(NFTA_TABLE_FLAGS, NFT_TABLE_F_OWNER);
        self.end_msg(s);
    }

    fn new_chain(&mut self, seq: u32, table: &str, chain: &str) {
        let s = self.begin_msg(
            msg_type(NFT_MSG_NEWCHAIN),
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE,
            seq,
            NFPROTO_INET,
            0,
        );
        self.attr_str(NFTA_CHAIN_TABLE, table);
        self.attr_str(NFTA_CHAIN_NAME, chain);
        self.attr_str(NFTA_CHAIN_TYPE, "filter");
        self.attr_be32(NFTA_CHAIN_POLICY, NF_ACCEPT);
        let h = self.nest_start(NFTA_CHAIN_HOOK);
        self.attr_be32(NFTA_HOOK_HOOKNUM, NF_INET_LOCAL_OUT);
        self.attr(NFTA_HOOK_PRIORITY, &0i32.to_be_bytes());
        self.nest_end(h);
        self.end_msg(s);
    }

    /// `tcp sport PORT tcp flags rst drop`, expression list of LOOPBACK.md §5.
    fn new_rule_rst_drop(&mut self, seq: u32, table: &str, chain: &str, port: u16) {
        let s = self.begin_msg(
            msg_type(NFT_MSG_NEWRULE),
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO | NLM_F_CREATE | NLM_F_APPEND,
            seq,
            NFPROTO_INET,
            0,
        );
        self.attr_str(NFTA_RULE_TABLE, table);
        self.attr_str(NFTA_RULE_CHAIN, chain);
        let exprs = self.nest_start(NFTA_RULE_EXPRESSIONS);
        // 1. meta l4proto -> reg 1
        self.expr("meta", |m| {
            m.attr_be32(2, 16); // KEY = NFT_META_L4PROTO
            m.attr_be32(1, 1); // DREG
        });
        // 2. cmp reg1 == 6 (tcp)
        self.expr_cmp(0, &[libc::IPPROTO_TCP as u8]);
        // 3. payload th[0..2] (source port)
        self.expr_payload_th(0, 2);
        // 4. cmp reg1 == port
        self.expr_cmp(0, &port.to_be_bytes());
        // 5. payload th[13] (flags)
        self.expr_payload_th(13, 1);
        // 6. bitwise reg1 = (reg1 & 0x04) ^ 0x00
        self.expr("bitwise", |m| {
            m.attr_be32(1, 1); // SREG
            m.attr_be32(2, 1); // DREG
            m.attr_be32(3, 1); // LEN
            let mask = m.nest_start(4);
            m.attr(1, &[0x04]);
            m.nest_end(mask);
            let xor = m.nest_start(5);
            m.attr(1, &[0x00]);
            m.nest_end(xor);
        });
        // 7. cmp reg1 != 0
        self.expr_cmp(1, &[0x00]);
        // 8. immediate verdict drop
        self.expr("immediate", |m| {
            m.attr_be32(1, 0); // DREG = verdict
            let data = m.nest_start(2);
            let verdict = m.nest_start(2);
            m.attr(1, &0i32.to_be_bytes()); // CODE = NF_DROP
            m.nest_end(verdict);
            m.nest_end(data);
        });
        self.nest_end(exprs);
        self.end_msg(s);
    }

    fn del_rule(&mut self, seq: u32, table: &str, chain: &str, handle: u64) {
        let s = self.begin_msg(
            msg_type(NFT_MSG_DELRULE),
            NLM_F_REQUEST | NLM_F_ACK,
            seq,
            NFPROTO_INET,
            0,
        );
        self.attr_str(NFTA_RULE_TABLE, table);
        self.attr_str(NFTA_RULE_CHAIN, chain);
        self.attr_be64(NFTA_RULE_HANDLE, handle);
        self.end_msg(s);
    }

    fn del_table(&mut self, seq: u32, table: &str) {
        let s = self.begin_msg(
            msg_type(NFT_MSG_DELTABLE),
            NLM_F_REQUEST | NLM_F_ACK,
            seq,
            NFPROTO_INET,
            0,
        );
        self.attr_str(NFTA_TABLE_NAME, table);
        self.end_msg(s);
    }
}

/// BATCH_BEGIN, DELTABLE, BATCH_END with seqs `seq..seq+2`.
pub(crate) fn encode_deltable_batch(table: &str, seq: u32) -> Vec<u8> {
    let mut m = MsgBuf::default();
    m.batch_begin(seq);
    m.del_table(seq.wrapping_add(1), table);
    m.batch_end(seq.wrapping_add(2));
    m.buf
}

/// BATCH_BEGIN, NEWTABLE (owner), NEWCHAIN `out`, BATCH_END with seqs `seq..seq+3`.
pub(crate) fn encode_create_batch(table: &str, seq: u32) -> Vec<u8> {
    let mut m = MsgBuf::default();
    m.batch_begin(seq);
    m.new_table(seq.wrapping_add(1), table);
    m.new_chain(seq.wrapping_add(2), table, CHAIN_NAME);
    m.batch_end(seq.wrapping_add(3));
    m.buf
}

/// BATCH_BEGIN, NEWRULE `tcp sport PORT tcp flags rst drop`, BATCH_END, seqs `seq..seq+2`.
pub(crate) fn encode_rule_batch(table: &str, port: u16, seq: u32) -> Vec<u8> {
    let mut m = MsgBuf::default();
    m.batch_begin(seq);
    m.new_rule_rst_drop(seq.wrapping_add(1), table, CHAIN_NAME, port);
    m.batch_end(seq.wrapping_add(2));
    m.buf
}

/// BATCH_BEGIN, DELRULE by handle, BATCH_END, seqs `seq..seq+2`.
pub(crate) fn encode_delrule_batch(table: &str, handle: u64, seq: u32) -> Vec<u8> {
    let mut m = MsgBuf::default();
    m.batch_begin(seq);
    m.del_rule(seq.wrapping_add(1), table, CHAIN_NAME, handle);
    m.batch_end(seq.wrapping_add(2));
    m.buf
}

/// A GETTABLE dump over all families (not batched).
pub(crate) fn encode_gettable_dump(seq: u32) -> Vec<u8> {
    let mut m = MsgBuf::default();
    let s = m.begin_msg(
        msg_type(NFT_MSG_GETTABLE),
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        NFPROTO_UNSPEC,
        0,
    );
    m.end_msg(s);
    m.buf
}

// ---------------------------------------------------------------------------
// Parsing (bounds-checked, never panics)
// ---------------------------------------------------------------------------

/// One parsed netlink message from a reply datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// NLMSG_ERROR: `errno` is the positive errno, 0 for an ack.
    Error {
        seq: u32,
        errno: i32,
        msg: Option<String>,
    },
    /// NLMSG_DONE (end of a dump).
    Done { seq: u32 },
    /// Any other message: type, flags, seq and the payload after nlmsghdr.
    Data {
        ty: u16,
        flags: u16,
        seq: u32,
        payload: Vec<u8>,
    },
}

fn rd_u16(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_ne_bytes([s[0], s[1]]))
}

fn rd_u32(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
}

fn align4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

/// Iterates over netlink attributes; yields `(type & 0x3fff, payload)`, stops
/// at the first malformed attribute.
pub(crate) struct Attrs<'a> {
    buf: &'a [u8],
}

impl<'a> Attrs<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Attrs { buf }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = (u16, &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        let len = rd_u16(self.buf, 0)? as usize;
        let ty = rd_u16(self.buf, 2)?;
        if len < 4 || len > self.buf.len() {
            self.buf = &[];
            return None;
        }
        let data = &self.buf[4..len];
        let next = align4(len).min(self.buf.len());
        self.buf = &self.buf[next..];
        Some((ty & NLA_TYPE_MASK, data))
    }
}

fn find_attr(buf: &[u8], ty: u16) -> Option<&[u8]> {
    Attrs::new(buf).find(|(t, _)| *t == ty).map(|(_, d)| d)
}

fn attr_string(data: &[u8]) -> String {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    String::from_utf8_lossy(&data[..end]).into_owned()
}

fn attr_be32(data: &[u8]) -> Option<u32> {
    let s: [u8; 4] = data.get(..4)?.try_into().ok()?;
    Some(u32::from_be_bytes(s))
}

fn attr_be64(data: &[u8]) -> Option<u64> {
    let s: [u8; 8] = data.get(..8)?.try_into().ok()?;
    Some(u64::from_be_bytes(s))
}

/// Parses every netlink message in one received datagram. A message whose
/// header is cut short or whose length is impossible ends parsing with an error
/// that carries the messages parsed so far.
pub(crate) fn parse_replies(buf: &[u8]) -> Result<Vec<Reply>, (Vec<Reply>, String)> {
    let mut out = Vec::new();
    let mut off = 0usize;
    while off < buf.len() {
        let rest = &buf[off..];
        let (Some(len), Some(ty), Some(flags), Some(seq)) = (
            rd_u32(rest, 0),
            rd_u16(rest, 4),
            rd_u16(rest, 6),
            rd_u32(rest, 8),
        ) else {
            return Err((
                out,
                format!("truncated netlink header ({} bytes)", rest.len()),
            ));
        };
        let len = len as usize;
        if len < NLMSG_HDRLEN || len > rest.len() {
            return Err((
                out,
                format!(
                    "bad netlink message length {len} ({} bytes left)",
                    rest.len()
                ),
            ));
        }
        let payload = &rest[NLMSG_HDRLEN..len];
        match ty {
            NLMSG_ERROR => {
                let Some(err) = rd_u32(payload, 0) else {
                    return Err((out, "truncated NLMSG_ERROR".to_string()));
                };
                let errno = (err as i32).checked_neg().unwrap_or(i32::MAX);
                out.push(Reply::Error {
                    seq,
                    errno,
                    msg: ext_ack_msg(payload, flags, errno),
                });
            }
            NLMSG_DONE => out.push(Reply::Done { seq }),
            _ => out.push(Reply::Data {
                ty,
                flags,
                seq,
                payload: payload.to_vec(),
            }),
        }
        off = off.saturating_add(align4(len));
    }
    Ok(out)
}

/// The extended-ack message string of an NLMSG_ERROR payload, if any.
fn ext_ack_msg(payload: &[u8], flags: u16, errno: i32) -> Option<String> {
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    // error i32 + original nlmsghdr (+ original payload unless capped or an ack)
    let mut off = 4 + NLMSG_HDRLEN;
    if flags & NLM_F_CAPPED == 0 && errno != 0 {
        let orig_len = rd_u32(payload, 4)? as usize;
        off = 4usize.checked_add(align4(orig_len))?;
    }
    let tlvs = payload.get(off..)?;
    find_attr(tlvs, NLMSGERR_ATTR_MSG)
        .map(attr_string)
        .filter(|s| !s.is_empty())
}

/// The rule handle from an echoed NEWRULE message payload (nfgenmsg + attrs).
pub(crate) fn rule_handle(payload: &[u8]) -> Option<u64> {
    find_attr(payload.get(4..)?, NFTA_RULE_HANDLE).and_then(attr_be64)
}

/// An nftables table as listed by a GETTABLE dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    /// Address family: 1 inet, 2 ip, 10 ip6, ...
    pub family: u8,
    /// Table name.
    pub name: String,
    /// NFT_TABLE_F_* flags (2 = owner).
    pub flags: u32,
    /// Netlink port id of the owning socket, for owner tables.
    pub owner: Option<u32>,
}

impl TableInfo {
    /// True when the table has `flags owner` (deleted with its socket).
    pub fn is_owned(&self) -> bool {
        self.flags & NFT_TABLE_F_OWNER != 0
    }

    /// The nft family keyword.
    pub fn family_name(&self) -> &'static str {
        match self.family {
            1 => "inet",
            2 => "ip",
            3 => "arp",
            5 => "netdev",
            7 => "bridge",
            10 => "ip6",
            _ => "unknown",
        }
    }
}

pub(crate) fn parse_table(payload: &[u8]) -> Option<TableInfo> {
    let family = *payload.first()?;
    let attrs = payload.get(4..)?;
    let name = attr_string(find_attr(attrs, NFTA_TABLE_NAME)?);
    let flags = find_attr(attrs, NFTA_TABLE_FLAGS)
        .and_then(attr_be32)
        .unwrap_or(0);
    let owner = find_attr(attrs, NFTA_TABLE_OWNER).and_then(attr_be32);
    Some(TableInfo {
        family,
        name,
        flags,
        owner,
    })
}

// ---------------------------------------------------------------------------
// Socket
// ---------------------------------------------------------------------------

fn errno_of(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(0)
}

/// Opens and binds a NETLINK_NETFILTER socket (CLOEXEC: a child must not keep
/// the owner table alive after we exit).
fn open_socket() -> Result<OwnedFd, HostError> {
    // SAFETY: socket() takes no pointers; the result is checked.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            NETLINK_NETFILTER,
        )
    };
    if fd < 0 {
        let e = io::Error::last_os_error();
        return Err(match errno_of(&e) {
            libc::EPROTONOSUPPORT => HostError::NfnetlinkMissing,
            libc::EPERM | libc::EACCES => HostError::NeedsNetAdmin {
                what: "opening a netfilter netlink socket",
            },
            _ => HostError::io("socket(AF_NETLINK, NETLINK_NETFILTER)", e),
        });
    }
    // SAFETY: socket() just returned this descriptor and nothing else owns
    // it, so the OwnedFd may close it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: zeroed sockaddr_nl is valid; only family set (pid 0 = kernel assigns).
    let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    sa.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    // SAFETY: pointer and length describe `sa`.
    let r = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            &sa as *const libc::sockaddr_nl as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(HostError::io("bind(netlink)", io::Error::last_os_error()));
    }
    for opt in [NETLINK_EXT_ACK, NETLINK_CAP_ACK] {
        let one: libc::c_int = 1;
        // SAFETY: valid fd, pointer/len to a c_int. Failure is harmless (older kernels).
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                SOL_NETLINK,
                opt,
                &one as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
    Ok(fd)
}

fn send_all(fd: &OwnedFd, buf: &[u8]) -> Result<(), HostError> {
    // SAFETY: pointer/len describe `buf`.
    let n = unsafe { libc::send(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        let e = io::Error::last_os_error();
        if matches!(errno_of(&e), libc::EPERM | libc::EACCES) {
            return Err(HostError::NeedsNetAdmin {
                what: "changing nftables",
            });
        }
        return Err(HostError::io("send(netlink)", e));
    }
    if n as usize != buf.len() {
        return Err(HostError::Protocol(format!(
            "netlink send was short ({n} of {} bytes)",
            buf.len()
        )));
    }
    Ok(())
}

/// Waits up to `timeout` for one datagram and parses it. `Ok(None)` on timeout.
fn recv_replies(fd: &OwnedFd, timeout: Duration) -> Result<Option<Vec<Reply>>, HostError> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
    // SAFETY: one valid pollfd.
    let r = unsafe { libc::poll(&mut pfd, 1, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(Some(Vec::new()));
        }
        return Err(HostError::io("poll(netlink)", e));
    }
    if r == 0 {
        return Ok(None);
    }
    let mut buf = vec![0u8; 1 << 16];
    // SAFETY: pointer/len describe `buf`.
    let n = unsafe {
        libc::recv(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT | libc::MSG_TRUNC,
        )
    };
    if n < 0 {
        let e = io::Error::last_os_error();
        return match errno_of(&e) {
            libc::EAGAIN | libc::EINTR => Ok(Some(Vec::new())),
            _ => Err(HostError::io("recv(netlink)", e)),
        };
    }
    let n = n as usize;
    if n > buf.len() {
        return Err(HostError::Protocol(format!(
            "netlink reply of {n} bytes was truncated"
        )));
    }
    parse_replies(&buf[..n])
        .map(Some)
        .map_err(|(_, why)| HostError::Protocol(format!("malformed netlink reply: {why}")))
}

/// What one message in a batch is, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Begin,
    End,
    NewTable,
    NewChain,
    NewRule,
    DelRule,
    DelTable,
}

impl Op {
    fn describe(self) -> &'static str {
        match self {
            Op::Begin | Op::End => "nf_tables batch",
            Op::NewTable => "creating the nftables table",
            Op::NewChain => "creating the nftables chain",
            Op::NewRule => "adding the nftables rule",
            Op::DelRule => "deleting the nftables rule",
            Op::DelTable => "deleting the nftables table",
        }
    }
}

/// Maps the error of one batch message to a HostError.
fn map_error(op: Op, errno: i32, msg: Option<String>, table: &str) -> HostError {
    match (op, errno) {
        (Op::Begin, libc::EPERM) | (Op::Begin, libc::EACCES) => HostError::NeedsNetAdmin {
            what: "creating the nftables table",
        },
        (Op::Begin, libc::EOPNOTSUPP) | (Op::Begin, libc::ENOENT) => HostError::NfTablesMissing,
        (Op::NewTable, libc::EEXIST) => HostError::TableExists {
            name: table.to_string(),
            owned_by_other: false,
        },
        (Op::NewTable, libc::EPERM) => HostError::TableExists {
            name: table.to_string(),
            owned_by_other: true,
        },
        (_, libc::EOPNOTSUPP) => HostError::NfTablesMissing,
        _ => HostError::Netlink {
            op: op.describe(),
            errno,
            detail: msg,
        },
    }
}

/// Sends a batch and collects its replies. `ops[i]` describes the message
/// with seq `seq + i` (index 0 = BATCH_BEGIN). Returns the non-error messages
/// (echoes) on success; any non-zero error fails the whole batch (the kernel
/// rolls back everything, even the messages that were acked 0).
fn transact(
    fd: &OwnedFd,
    batch: &[u8],
    seq: u32,
    ops: &[Op],
    table: &str,
) -> Result<Vec<Reply>, HostError> {
    send_all(fd, batch)?;
    // Messages that asked for an ack (all but BATCH_BEGIN and BATCH_END).
    let mut pending: Vec<u32> = (0..ops.len() as u32)
        .filter(|&i| !matches!(ops[i as usize], Op::Begin | Op::End))
        .map(|i| seq.wrapping_add(i))
        .collect();
    let mut first_err: Option<(usize, i32, Option<String>)> = None;
    let mut data = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        // The kernel answers the whole batch inside send(); once it is fully
        // answered (or has failed) drain what is queued without waiting.
        let finished = pending.is_empty() || first_err.is_some();
        let now = Instant::now();
        let wait = if finished {
            Duration::ZERO
        } else {
            deadline.saturating_duration_since(now)
        };
        let Some(replies) = recv_replies(fd, wait)? else {
            if finished {
                break;
            }
            return Err(HostError::Protocol(
                "no answer from nf_tables within 3 s".to_string(),
            ));
        };
        for r in replies {
            match r {
                Reply::Error { seq: s, errno, msg } => {
                    let idx = s.wrapping_sub(seq) as usize;
                    if idx >= ops.len() {
                        continue; // a stale reply of an earlier exchange
                    }
                    pending.retain(|p| *p != s);
                    if errno != 0 && first_err.as_ref().is_none_or(|(i, _, _)| idx < *i) {
                        first_err = Some((idx, errno, msg));
                    }
                }
                Reply::Done { .. } => {}
                d @ Reply::Data { .. } => data.push(d),
            }
        }
    }
    if let Some((idx, errno, msg)) = first_err {
        return Err(map_error(ops[idx], errno, msg, table));
    }
    if !pending.is_empty() {
        return Err(HostError::Protocol(
            "nf_tables did not acknowledge every message".to_string(),
        ));
    }
    Ok(data)
}

fn initial_seq() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(1)
}

fn check_table_name(name: &str) -> Result<(), HostError> {
    if name.is_empty() || name.len() > 255 || name.bytes().any(|b| b == 0) {
        return Err(HostError::InvalidName {
            what: "nftables table",
            name: name.to_string(),
        });
    }
    Ok(())
}

/// An owner-flagged `inet` table with an output chain whose rules drop the
/// kernel's own RST segments from given TCP source ports.
///
/// Dropping the guard closes its netlink socket; the kernel then deletes the
/// table and its rules (also on `kill -9`).
#[derive(Debug)]
pub struct RstGuard {
    fd: OwnedFd,
    table: String,
    seq: u32,
    /// port -> rule handle (None if the kernel did not echo one).
    rules: BTreeMap<u16, Option<u64>>,
}

impl RstGuard {
    /// Creates table `inet <table_name>` (flags owner) with chain `out`
    /// (filter, hook output, priority 0, policy accept) in one batch.
    pub fn new(table_name: &str) -> Result<RstGuard, HostError> {
        check_table_name(table_name)?;
        let fd = open_socket()?;
        let seq = initial_seq();
        let batch = encode_create_batch(table_name, seq);
        transact(
            &fd,
            &batch,
            seq,
            &[Op::Begin, Op::NewTable, Op::NewChain, Op::End],
            table_name,
        )?;
        Ok(RstGuard {
            fd,
            table: table_name.to_string(),
            seq: seq.wrapping_add(4),
            rules: BTreeMap::new(),
        })
    }

    fn next_seq(&mut self, n: u32) -> u32 {
        let s = self.seq;
        self.seq = self.seq.wrapping_add(n);
        s
    }

    /// Adds `tcp sport PORT tcp flags rst drop`; does nothing if the port is
    /// already guarded.
    pub fn guard_port(&mut self, port: u16) -> Result<(), HostError> {
        if self.rules.contains_key(&port) {
            return Ok(());
        }
        let seq = self.next_seq(3);
        let batch = encode_rule_batch(&self.table, port, seq);
        let data = transact(
            &self.fd,
            &batch,
            seq,
            &[Op::Begin, Op::NewRule, Op::End],
            &self.table,
        )?;
        let rule_seq = seq.wrapping_add(1);
        let handle = data.iter().find_map(|r| match r {
            Reply::Data {
                ty,
                seq: s,
                payload,
                ..
            } if *ty == msg_type(NFT_MSG_NEWRULE) && *s == rule_seq => rule_handle(payload),
            _ => None,
        });
        // The rule is committed either way; remember the port.
        self.rules.insert(port, handle);
        if handle.is_none() {
            return Err(HostError::Protocol(format!(
                "nf_tables did not echo the handle of the rule for port {port}; it stays until exit"
            )));
        }
        Ok(())
    }

    /// Deletes the rule for `port` by its handle; does nothing if the port
    /// is not guarded.
    pub fn unguard_port(&mut self, port: u16) -> Result<(), HostError> {
        let Some(&entry) = self.rules.get(&port) else {
            return Ok(());
        };
        let Some(handle) = entry else {
            return Err(HostError::Protocol(format!(
                "no handle known for the rule of port {port}; it stays until exit"
            )));
        };
        let seq = self.next_seq(3);
        let batch = encode_delrule_batch(&self.table, handle, seq);
        transact(
            &self.fd,
            &batch,
            seq,
            &[Op::Begin, Op::DelRule, Op::End],
            &self.table,
        )?;
        self.rules.remove(&port);
        Ok(())
    }

    /// The table's name (family `inet`).
    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// The guarded source ports, ascending.
    pub fn guarded_ports(&self) -> Vec<u16> {
        self.rules.keys().copied().collect()
    }

    /// Deletes the table now (a batch the kernel commits at once, freeing
    /// the table later in the background), then hands over the owner
    /// socket, whose close waits for the kernel either way. When the delete
    /// fails, closing the socket still removes the table (owner flag).
    pub fn delete_into_socket(mut self) -> OwnedFd {
        let seq = self.next_seq(3);
        let batch = encode_deltable_batch(&self.table, seq);
        let _ = transact(
            &self.fd,
            &batch,
            seq,
            &[Op::Begin, Op::DelTable, Op::End],
            &self.table,
        );
        self.fd
    }
}

/// Lists every nftables table in this network namespace (GETTABLE dump).
pub fn list_tables() -> Result<Vec<TableInfo>, HostError> {
    let fd = open_socket()?;
    let seq = initial_seq();
    send_all(&fd, &encode_gettable_dump(seq))?;
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut tables = Vec::new();
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(HostError::Protocol(
                "nf_tables table dump timed out".to_string(),
            ));
        }
        let Some(replies) = recv_replies(&fd, deadline - now)? else {
            return Err(HostError::Protocol(
                "nf_tables table dump timed out".to_string(),
            ));
        };
        for r in replies {
            match r {
                Reply::Done { .. } => return Ok(tables),
                Reply::Error { errno: 0, .. } => return Ok(tables),
                Reply::Error { errno, msg, .. } => {
                    return Err(match errno {
                        libc::EPERM | libc::EACCES => HostError::NeedsNetAdmin {
                            what: "listing nftables tables",
                        },
                        libc::EOPNOTSUPP => HostError::NfTablesMissing,
                        _ => HostError::Netlink {
                            op: "listing nftables tables",
                            errno,
                            detail: msg,
                        },
                    });
                }
                Reply::Data {
                    ty, flags, payload, ..
                } => {
                    if ty == msg_type(NFT_MSG_NEWTABLE)
                        && let Some(t) = parse_table(&payload)
                    {
                        tables.push(t);
                    }
                    if flags & NLM_F_MULTI == 0 {
                        return Ok(tables);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Payloads (nfgenmsg + attributes) that `nft --debug=mnl -f` (nft 1.0.6)
    /// sends for `table inet craft { flags owner; chain out { type filter hook
    /// output priority 0; policy accept; tcp sport 40000 tcp flags rst drop } }`.
    const NFT_TABLE: &str = "010000000a00010063726166740000000800020000000002";
    const NFT_CHAIN: &str = "010000000a0001006372616674000000080003006f7574000b00070066696c746572000008000500000000011400048008000100000000030800020000000000";
    const NFT_RULE: &str = "010000000a0001006372616674000000080002006f7574008801048024000180090001006d6574610000000014000280080002000000001008000100000000012c00018008000100636d700020000280080001000000000108000200000000000c0003800500010006000000340001800c0001007061796c6f6164002400028008000100000000010800020000000002080003000000000008000400000000022c00018008000100636d700020000280080001000000000108000200000000000c000380060001009c400000340001800c0001007061796c6f6164002400028008000100000000010800020000000002080003000000000d0800040000000001440001800c0001006269747769736500340002800800010000000001080002000000000108000300000000010c00048005000100040000000c00058005000100000000002c00018008000100636d700020000280080001000000000108000200000000010c0003800500010000000000300001800e000100696d6d6564696174650000001c0002800800010000000000100002800c0002800800010000000000";

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Splits a buffer into (type, flags, seq, payload) without the parser under test.
    fn split(buf: &[u8]) -> Vec<(u16, u16, u32, Vec<u8>)> {
        let mut out = Vec::new();
        let mut off = 0;
        while off < buf.len() {
            let len = u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap()) as usize;
            assert_eq!(len % 4, 0, "messages are padded");
            let ty = u16::from_ne_bytes(buf[off + 4..off + 6].try_into().unwrap());
            let fl = u16::from_ne_bytes(buf[off + 6..off + 8].try_into().unwrap());
            let seq = u32::from_ne_bytes(buf[off + 8..off + 12].try_into().unwrap());
            let pid = u32::from_ne_bytes(buf[off + 12..off + 16].try_into().unwrap());
            assert_eq!(pid, 0);
            out.push((ty, fl, seq, buf[off + 16..off + len].to_vec()));
            off += len;
        }
        out
    }

    const R: u16 = NLM_F_REQUEST;
    const A: u16 = NLM_F_ACK;

    #[test]
    fn create_batch_matches_nft() {
        let b = encode_create_batch("craft", 100);
        let m = split(&b);
        assert_eq!(m.len(), 4);
        // BATCH_BEGIN: family 0, version 0, res_id be16 10
        assert_eq!((m[0].0, m[0].1, m[0].2), (0x10, R, 100));
        assert_eq!(m[0].3, [0, 0, 0, 10]);
        assert_eq!(b.len(), 20 + 40 + 80 + 20);
        // NEWTABLE
        assert_eq!(
            (m[1].0, m[1].1, m[1].2),
            (0x0a00, R | A | NLM_F_EXCL | NLM_F_CREATE, 101)
        );
        assert_eq!(m[1].3, unhex(NFT_TABLE));
        // NEWCHAIN
        assert_eq!(
            (m[2].0, m[2].1, m[2].2),
            (0x0a03, R | A | NLM_F_CREATE, 102)
        );
        assert_eq!(m[2].3, unhex(NFT_CHAIN));
        // BATCH_END
        assert_eq!((m[3].0, m[3].1, m[3].2), (0x11, R, 103));
        assert_eq!(m[3].3, [0, 0, 0, 10]);
    }

    #[test]
    fn rule_batch_matches_nft_for_port_40000() {
        let b = encode_rule_batch("craft", 40000, 7);
        let m = split(&b);
        assert_eq!(m.len(), 3);
        assert_eq!((m[0].0, m[0].2), (0x10, 7));
        assert_eq!(
            (m[1].0, m[1].1, m[1].2),
            (0x0a06, R | A | NLM_F_ECHO | NLM_F_CREATE | NLM_F_APPEND, 8)
        );
        assert_eq!(m[1].3.len(), 416);
        assert_eq!(m[1].3, unhex(NFT_RULE));
        assert_eq!((m[2].0, m[2].2), (0x11, 9));

        // Key offsets, independently of the golden bytes: after the 16-byte
        // nlmsghdr of the rule message (at 20), nfgenmsg family 1 = inet.
        let rule = &b[20..20 + 16 + 416];
        assert_eq!(rule[16], 1);
        // The port compare data: `9c 40`.
        let pos = rule
            .windows(6)
            .position(|w| w == [6, 0, 1, 0, 0x9c, 0x40])
            .unwrap();
        assert!(pos > 0);
        // Nested attributes carry NLA_F_NESTED; the expression list is attr 4.
        let attrs: Vec<(u16, &[u8])> = Attrs::new(&rule[20..]).collect();
        assert_eq!(attrs.iter().map(|a| a.0).collect::<Vec<_>>(), [1, 2, 4]);
        let raw_ty = u16::from_ne_bytes([rule[20 + 12 + 8 + 2], rule[20 + 12 + 8 + 3]]);
        assert_eq!(raw_ty, 4 | NLA_F_NESTED);
        let names: Vec<String> = Attrs::new(attrs[2].1)
            .map(|(t, e)| {
                assert_eq!(t, NFTA_LIST_ELEM);
                attr_string(find_attr(e, NFTA_EXPR_NAME).unwrap())
            })
            .collect();
        assert_eq!(
            names,
            [
                "meta",
                "cmp",
                "payload",
                "cmp",
                "payload",
                "bitwise",
                "cmp",
                "immediate"
            ]
        );
    }

    #[test]
    fn other_ports_only_change_the_compare_bytes() {
        let a = encode_rule_batch("craft", 40000, 1);
        let b = encode_rule_batch("craft", 1234, 1);
        let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
        assert_eq!(diff.len(), 2);
        assert_eq!(&b[diff[0]..=diff[1]], &1234u16.to_be_bytes());
    }

    #[test]
    fn delrule_and_dump_layout() {
        let b = encode_delrule_batch("craft", 0x0102_0304_0506_0708, 50);
        let m = split(&b);
        assert_eq!(m.len(), 3);
        assert_eq!((m[1].0, m[1].1, m[1].2), (0x0a08, R | A, 51));
        let p = &m[1].3;
        assert_eq!(&p[..4], &[1, 0, 0, 0]);
        let attrs: Vec<(u16, &[u8])> = Attrs::new(&p[4..]).collect();
        assert_eq!(attrs[0], (1, &b"craft\0"[..]));
        assert_eq!(attrs[1], (2, &b"out\0"[..]));
        assert_eq!(attrs[2], (3, &[1, 2, 3, 4, 5, 6, 7, 8][..]));

        let d = split(&encode_gettable_dump(9));
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].0, d[0].1, d[0].2), (0x0a01, R | NLM_F_DUMP, 9));
        assert_eq!(d[0].3, [0, 0, 0, 0]);
    }

    /// An NLMSG_ERROR as the kernel sends it with CAP_ACK (+ optional ext-ack msg).
    fn err_msg(seq: u32, errno: i32, ext: Option<&str>) -> Vec<u8> {
        let mut p = Vec::new();
        p.extend_from_slice(&(-errno).to_ne_bytes());
        // original header (capped)
        p.extend_from_slice(&20u32.to_ne_bytes());
        p.extend_from_slice(&0x0a00u16.to_ne_bytes());
        p.extend_from_slice(&5u16.to_ne_bytes());
        p.extend_from_slice(&seq.to_ne_bytes());
        p.extend_from_slice(&0u32.to_ne_bytes());
        let mut flags = NLM_F_CAPPED;
        if let Some(s) = ext {
            flags |= NLM_F_ACK_TLVS;
            let mut m = MsgBuf::default();
            m.attr_str(NLMSGERR_ATTR_MSG, s);
            p.extend_from_slice(&m.buf);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&((16 + p.len()) as u32).to_ne_bytes());
        out.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        out.extend_from_slice(&flags.to_ne_bytes());
        out.extend_from_slice(&seq.to_ne_bytes());
        out.extend_from_slice(&1234u32.to_ne_bytes());
        out.extend_from_slice(&p);
        out
    }

    /// An echoed NEWRULE carrying a handle.
    fn echo_rule(seq: u32, handle: u64) -> Vec<u8> {
        let mut m = MsgBuf::default();
        let s = m.begin_msg(msg_type(NFT_MSG_NEWRULE), 0, seq, NFPROTO_INET, 0);
        m.attr_str(NFTA_RULE_TABLE, "craft");
        m.attr_str(NFTA_RULE_CHAIN, "out");
        m.attr_be64(NFTA_RULE_HANDLE, handle);
        m.end_msg(s);
        m.buf
    }

    #[test]
    fn parse_acks_errors_and_echo() {
        let mut buf = echo_rule(8, 42);
        buf.extend(err_msg(8, 0, None));
        buf.extend(err_msg(9, libc::EPERM, Some("owned by another socket")));
        let r = parse_replies(&buf).unwrap();
        assert_eq!(r.len(), 3);
        match &r[0] {
            Reply::Data {
                ty, seq, payload, ..
            } => {
                assert_eq!((*ty, *seq), (0x0a06, 8));
                assert_eq!(rule_handle(payload), Some(42));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            r[1],
            Reply::Error {
                seq: 8,
                errno: 0,
                msg: None
            }
        );
        assert_eq!(
            r[2],
            Reply::Error {
                seq: 9,
                errno: libc::EPERM,
                msg: Some("owned by another socket".into())
            }
        );
    }

    #[test]
    fn parse_table_dump_entry() {
        let mut m = MsgBuf::default();
        let s = m.begin_msg(msg_type(NFT_MSG_NEWTABLE), NLM_F_MULTI, 1, NFPROTO_INET, 0);
        m.attr_str(NFTA_TABLE_NAME, "craft_1");
        m.attr_be32(NFTA_TABLE_FLAGS, 2);
        m.attr_be32(3, 1); // USE
        m.attr_be32(NFTA_TABLE_OWNER, 777);
        m.end_msg(s);
        let r = parse_replies(&m.buf).unwrap();
        let Reply::Data { payload, .. } = &r[0] else {
            panic!()
        };
        let t = parse_table(payload).unwrap();
        assert_eq!(t.name, "craft_1");
        assert!(t.is_owned());
        assert_eq!(t.owner, Some(777));
    }

    #[test]
    fn error_mapping() {
        assert!(matches!(
            map_error(Op::Begin, libc::EPERM, None, "t"),
            HostError::NeedsNetAdmin { .. }
        ));
        assert!(matches!(
            map_error(Op::Begin, libc::EOPNOTSUPP, None, "t"),
            HostError::NfTablesMissing
        ));
        assert!(matches!(
            map_error(Op::NewTable, libc::EEXIST, None, "t"),
            HostError::TableExists {
                owned_by_other: false,
                ..
            }
        ));
        assert!(matches!(
            map_error(Op::NewTable, libc::EPERM, None, "t"),
            HostError::TableExists {
                owned_by_other: true,
                ..
            }
        ));
        assert!(matches!(
            map_error(Op::NewRule, libc::ENOENT, None, "t"),
            HostError::Netlink {
                errno: libc::ENOENT,
                ..
            }
        ));
        assert!(check_table_name("").is_err());
        assert!(check_table_name("a\0b").is_err());
        assert!(check_table_name(&"x".repeat(256)).is_err());
        assert!(check_table_name("craft_1").is_ok());
    }

    #[test]
    fn truncated_and_garbage_replies_do_not_panic() {
        let mut good = echo_rule(8, 42);
        good.extend(err_msg(8, 0, None));
        good.extend(err_msg(9, libc::EINVAL, Some("bad")));
        // Every truncation: either parses a prefix or reports an error.
        for n in 0..good.len() {
            let _ = parse_replies(&good[..n]);
        }
        // Explicit odd cases.
        assert!(parse_replies(&[1, 2, 3]).is_err());
        let mut zero_len = good.clone();
        zero_len[..4].copy_from_slice(&0u32.to_ne_bytes());
        assert!(parse_replies(&zero_len).is_err());
        let mut huge = good.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert!(parse_replies(&huge).is_err());
        // An error message with only 2 payload bytes.
        let mut short_err = vec![0u8; 18];
        short_err[..4].copy_from_slice(&18u32.to_ne_bytes());
        short_err[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        assert!(parse_replies(&short_err).is_err());
        // An error claiming ext-ack TLVs and an uncapped huge original length.
        let mut e = err_msg(3, libc::EINVAL, None);
        e[6..8].copy_from_slice(&NLM_F_ACK_TLVS.to_ne_bytes());
        e[20..24].copy_from_slice(&u32::MAX.to_ne_bytes());
        let r = parse_replies(&e).unwrap();
        assert!(matches!(
            r[0],
            Reply::Error {
                errno: libc::EINVAL,
                msg: None,
                ..
            }
        ));
        // i32::MIN as the error value.
        let mut e = err_msg(3, 0, None);
        e[16..20].copy_from_slice(&i32::MIN.to_ne_bytes());
        let _ = parse_replies(&e);
        // Attribute walkers on junk.
        assert_eq!(rule_handle(&[]), None);
        assert_eq!(rule_handle(&[1, 0, 0, 0, 0xff, 0xff, 3, 0]), None);
        assert_eq!(rule_handle(&[1, 0, 0, 0, 8, 0, 3, 0, 1, 2, 3, 4]), None);
        assert_eq!(parse_table(&[1]), None);
        // Pseudo-random bytes (xorshift), many lengths.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..2000usize {
            let mut v = Vec::with_capacity(len % 300);
            for _ in 0..len % 300 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                v.push(x as u8);
            }
            // Sometimes make the first header plausible.
            if v.len() >= 20 && len % 3 == 0 {
                let l = (v.len() as u32).min(20 + (x as u32 % 64));
                v[..4].copy_from_slice(&l.to_ne_bytes());
                v[4..6].copy_from_slice(&((x >> 8) as u16 % 4).to_ne_bytes());
            }
            if let Ok(replies) = parse_replies(&v) {
                for r in replies {
                    if let Reply::Data { payload, .. } = r {
                        let _ = rule_handle(&payload);
                        let _ = parse_table(&payload);
                    }
                }
            }
            let _ = Attrs::new(&v).count();
        }
    }
}

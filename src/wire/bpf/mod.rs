//! Capture filters as tcpdump means them: pcap-filter syntax compiled to
//! classic BPF (`struct sock_filter` programs), and an interpreter that runs
//! such a program in user space the way the kernel and libpcap do.
//!
//! Pure: no I/O. [`parse`] turns text into an [`ast::Expr`] (errors name the
//! column), [`compile`] turns that into a [`Program`] for Ethernet frames
//! (DLT_EN10MB; `lo`'s AF_PACKET frames have an all-zero Ethernet header), and
//! [`Program::run`] runs it. [`Filter`] is the three together, the one type the
//! rest of craft uses: the same program is attached to the live socket (the
//! kernel filters) and run over capture files and queued frames.
//!
//! Semantics follow libpcap 1.10 (`tcpdump -d` shows its programs): `and` and
//! `or` have equal precedence and associate left to right; `host A` is IPv4,
//! ARP and RARP (or IPv6 for an IPv6 address); ports are TCP, UDP and SCTP, and
//! on IPv4 only the first fragment has them; `tcp[i]` (and `udp[i]`, `icmp[i]`)
//! is IPv4 only, from a variable IHL, first fragment only; a load past the end
//! of the frame rejects the frame, as it does in the kernel.

pub mod ast;
pub mod compile;
pub mod parse;
pub mod vm;

pub use vm::Program;

/// One classic BPF instruction, laid out as the kernel's `struct sock_filter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    /// Opcode: class | size | mode (or op | source).
    pub code: u16,
    /// Jump offset if true (conditional jumps).
    pub jt: u8,
    /// Jump offset if false.
    pub jf: u8,
    /// The constant operand.
    pub k: u32,
}

impl Insn {
    /// A statement (no jumps).
    pub const fn stmt(code: u16, k: u32) -> Insn {
        Insn {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }
}

/// Opcode parts, as in `<linux/filter.h>` and libpcap's `bpf.h`.
pub mod op {
    /// Classes.
    pub const LD: u16 = 0x00;
    pub const LDX: u16 = 0x01;
    pub const ST: u16 = 0x02;
    pub const STX: u16 = 0x03;
    pub const ALU: u16 = 0x04;
    pub const JMP: u16 = 0x05;
    pub const RET: u16 = 0x06;
    pub const MISC: u16 = 0x07;
    /// Sizes.
    pub const W: u16 = 0x00;
    pub const H: u16 = 0x08;
    pub const B: u16 = 0x10;
    /// Modes.
    pub const IMM: u16 = 0x00;
    pub const ABS: u16 = 0x20;
    pub const IND: u16 = 0x40;
    pub const MEM: u16 = 0x60;
    pub const LEN: u16 = 0x80;
    pub const MSH: u16 = 0xa0;
    /// ALU operations.
    pub const ADD: u16 = 0x00;
    pub const SUB: u16 = 0x10;
    pub const MUL: u16 = 0x20;
    pub const DIV: u16 = 0x30;
    pub const OR: u16 = 0x40;
    pub const AND: u16 = 0x50;
    pub const LSH: u16 = 0x60;
    pub const RSH: u16 = 0x70;
    pub const NEG: u16 = 0x80;
    pub const MOD: u16 = 0x90;
    pub const XOR: u16 = 0xa0;
    /// Jumps.
    pub const JA: u16 = 0x00;
    pub const JEQ: u16 = 0x10;
    pub const JGT: u16 = 0x20;
    pub const JGE: u16 = 0x30;
    pub const JSET: u16 = 0x40;
    /// Operand source: the constant k or the X register.
    pub const K: u16 = 0x00;
    pub const X: u16 = 0x08;
    /// Return the accumulator (`RET | A`).
    pub const RVAL_A: u16 = 0x10;
    /// `MISC`: A into X, X into A.
    pub const TAX: u16 = 0x00;
    pub const TXA: u16 = 0x80;
}

/// Scratch memory words (`M[0]`..`M[15]`).
pub const MEMWORDS: usize = 16;

/// What an accepting program returns: libpcap's default snapshot length.
pub const ACCEPT: u32 = 262_144;

/// Longest program the kernel attaches (`BPF_MAXINSNS`). Longer ones run in
/// user space only.
pub const KERNEL_MAX_INSNS: usize = 4096;

/// Words (tokens) a filter may have: parsing and compiling recurse along
/// `and`/`or` chains of arithmetic, so the length bounds that depth.
pub const MAX_WORDS: usize = 4096;

/// Brackets, `not`s and unary minus nest at most this deep (parsing recurses
/// once per level).
pub const MAX_DEPTH: usize = 100;

/// A filter: its text, as parsed and compiled.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    text: String,
    prog: Program,
}

impl Filter {
    /// Parses and compiles a pcap-filter expression ("" passes everything).
    /// Errors start with "filter: " and name the column.
    pub fn parse(s: &str) -> Result<Filter, String> {
        let e = parse::parse(s)?;
        let prog = compile::compile(&e)?;
        Ok(Filter {
            text: s.trim().to_string(),
            prog,
        })
    }

    /// The filter that passes every frame.
    pub fn any() -> Filter {
        Filter {
            text: String::new(),
            prog: Program::accept_all(),
        }
    }

    /// True when the filter passes every frame (an empty expression).
    pub fn is_any(&self) -> bool {
        self.text.is_empty()
    }

    /// The expression as given (trimmed).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The compiled program.
    pub fn program(&self) -> &Program {
        &self.prog
    }

    /// True when the whole frame `frame` passes.
    pub fn matches(&self, frame: &[u8]) -> bool {
        self.prog.run(frame, frame.len()) != 0
    }

    /// True when a frame of `wire_len` bytes, of which `captured` were kept,
    /// passes (`len`, `greater` and `less` see `wire_len`; a load past the
    /// captured bytes rejects, as in libpcap).
    pub fn matches_captured(&self, captured: &[u8], wire_len: usize) -> bool {
        self.prog.run(captured, wire_len) != 0
    }
}

#[cfg(test)]
mod tests;

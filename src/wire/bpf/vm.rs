//! The classic BPF interpreter: runs a [`Program`] over a frame as the
//! kernel's and libpcap's `bpf_filter` do. A load past the captured bytes, a
//! division by zero, a jump out of the program or an unknown opcode ends the
//! run returning 0 (reject); nothing here panics, and every run ends (jumps only
//! go forward).

use super::op::*;
use super::{ACCEPT, Insn, MEMWORDS};
use std::fmt::Write as _;

/// A classic BPF program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program(pub Vec<Insn>);

impl Program {
    /// `ret #262144`: accepts everything.
    pub fn accept_all() -> Program {
        Program(vec![Insn::stmt(RET | K, ACCEPT)])
    }

    /// The instructions.
    pub fn insns(&self) -> &[Insn] {
        &self.0
    }

    /// The instructions as the kernel's `struct sock_filter` fields (code,
    /// jt, jf, k), for `SO_ATTACH_FILTER`.
    pub fn kernel_code(&self) -> Vec<(u16, u8, u8, u32)> {
        self.0.iter().map(|i| (i.code, i.jt, i.jf, i.k)).collect()
    }

    /// Runs the program over `pkt` (the captured bytes) of a frame `wire_len`
    /// bytes long; returns what it returns (0 = reject, else bytes to keep).
    pub fn run(&self, pkt: &[u8], wire_len: usize) -> u32 {
        let code = &self.0;
        let mut a: u32 = 0;
        let mut x: u32 = 0;
        let mut mem = [0u32; MEMWORDS];
        let mut pc = 0usize;
        let wire_len = u32::try_from(wire_len).unwrap_or(u32::MAX);
        let load = |off: u32, size: usize| -> Option<u32> {
            let off = usize::try_from(off).ok()?;
            let b = pkt.get(off..off.checked_add(size)?)?;
            Some(b.iter().fold(0u32, |v, &c| (v << 8) | u32::from(c)))
        };
        loop {
            let Some(i) = code.get(pc) else { return 0 };
            pc += 1;
            let k = i.k;
            match i.code {
                c if c == LD | W | ABS => match load(k, 4) {
                    Some(v) => a = v,
                    None => return 0,
                },
                c if c == LD | H | ABS => match load(k, 2) {
                    Some(v) => a = v,
                    None => return 0,
                },
                c if c == LD | B | ABS => match load(k, 1) {
                    Some(v) => a = v,
                    None => return 0,
                },
                c if c == LD | W | IND || c == LD | H | IND || c == LD | B | IND => {
                    let size = match c & 0x18 {
                        W => 4,
                        H => 2,
                        _ => 1,
                    };
                    let Some(off) = x.checked_add(k) else {
                        return 0;
                    };
                    match load(off, size) {
                        Some(v) => a = v,
                        None => return 0,
                    }
                }
                c if c == LD | W | LEN => a = wire_len,
                c if c == LDX | W | LEN => x = wire_len,
                c if c == LD | IMM => a = k,
                c if c == LDX | IMM => x = k,
                c if c == LD | MEM => match mem.get(k as usize) {
                    Some(&v) => a = v,
                    None => return 0,
                },
                c if c == LDX | MEM => match mem.get(k as usize) {
                    Some(&v) => x = v,
                    None => return 0,
                },
                c if c == LDX | B | MSH => match load(k, 1) {
                    Some(v) => x = (v & 0xf) << 2,
                    None => return 0,
                },
                ST => match mem.get_mut(k as usize) {
                    Some(m) => *m = a,
                    None => return 0,
                },
                STX => match mem.get_mut(k as usize) {
                    Some(m) => *m = x,
                    None => return 0,
                },
                c if c == RET | K => return k,
                c if c == RET | RVAL_A => return a,
                c if c == MISC | TAX => x = a,
                c if c == MISC | TXA => a = x,
                c if c == JMP | JA => {
                    pc = match pc.checked_add(k as usize) {
                        Some(p) => p,
                        None => return 0,
                    }
                }
                c if c & 0x07 == JMP => {
                    let v = if c & X != 0 { x } else { k };
                    let yes = match c & 0xf0 {
                        JEQ => a == v,
                        JGT => a > v,
                        JGE => a >= v,
                        JSET => a & v != 0,
                        _ => return 0,
                    };
                    pc += usize::from(if yes { i.jt } else { i.jf });
                }
                c if c & 0x07 == ALU => {
                    if c & 0xf0 == NEG {
                        a = a.wrapping_neg();
                        continue;
                    }
                    let v = if c & X != 0 { x } else { k };
                    a = match c & 0xf0 {
                        ADD => a.wrapping_add(v),
                        SUB => a.wrapping_sub(v),
                        MUL => a.wrapping_mul(v),
                        DIV => match a.checked_div(v) {
                            Some(r) => r,
                            None => return 0,
                        },
                        MOD => match a.checked_rem(v) {
                            Some(r) => r,
                            None => return 0,
                        },
                        OR => a | v,
                        AND => a & v,
                        XOR => a ^ v,
                        LSH => a.checked_shl(v).unwrap_or(0),
                        RSH => a.checked_shr(v).unwrap_or(0),
                        _ => return 0,
                    };
                }
                _ => return 0,
            }
        }
    }

    /// The program as `tcpdump -d` prints it.
    pub fn dump(&self) -> String {
        let mut s = String::new();
        for (n, i) in self.0.iter().enumerate() {
            let _ = writeln!(s, "({n:03}) {}", disasm(i, n));
        }
        s
    }
}

fn disasm(i: &Insn, n: usize) -> String {
    let k = i.k;
    let size = |c: u16| match c & 0x18 {
        W => "ld",
        H => "ldh",
        _ => "ldb",
    };
    let (name, arg) = match i.code {
        c if c & 0x07 == LD && c & 0xe0 == ABS => (size(c).to_string(), format!("[{k}]")),
        c if c & 0x07 == LD && c & 0xe0 == IND => (size(c).to_string(), format!("[x + {k}]")),
        c if c == LD | W | LEN => ("ld".into(), "#pktlen".into()),
        c if c == LDX | W | LEN => ("ldx".into(), "#pktlen".into()),
        c if c == LD | IMM => ("ld".into(), format!("#0x{k:x}")),
        c if c == LDX | IMM => ("ldx".into(), format!("#0x{k:x}")),
        c if c == LD | MEM => ("ld".into(), format!("M[{k}]")),
        c if c == LDX | MEM => ("ldx".into(), format!("M[{k}]")),
        c if c == LDX | B | MSH => ("ldxb".into(), format!("4*([{k}]&0xf)")),
        ST => ("st".into(), format!("M[{k}]")),
        STX => ("stx".into(), format!("M[{k}]")),
        c if c == RET | K => ("ret".into(), format!("#{k}")),
        c if c == RET | RVAL_A => ("ret".into(), "a".into()),
        c if c == MISC | TAX => ("tax".into(), String::new()),
        c if c == MISC | TXA => ("txa".into(), String::new()),
        c if c == JMP | JA => ("ja".into(), format!("{}", n as u64 + 1 + u64::from(k))),
        c if c & 0x07 == JMP => {
            let name = match c & 0xf0 {
                JEQ => "jeq",
                JGT => "jgt",
                JGE => "jge",
                JSET => "jset",
                _ => "j?",
            };
            let v = if c & X != 0 {
                "x".to_string()
            } else {
                format!("#0x{k:x}")
            };
            return format!(
                "{name:<8} {v:<16} jt {}\tjf {}",
                n + 1 + usize::from(i.jt),
                n + 1 + usize::from(i.jf)
            );
        }
        c if c & 0x07 == ALU => {
            let name = match c & 0xf0 {
                ADD => "add",
                SUB => "sub",
                MUL => "mul",
                DIV => "div",
                MOD => "mod",
                OR => "or",
                AND => "and",
                XOR => "xor",
                LSH => "lsh",
                RSH => "rsh",
                NEG => return "neg      ".to_string(),
                _ => "alu?",
            };
            let v = if c & X != 0 {
                "x".to_string()
            } else {
                format!("#0x{k:x}")
            };
            (name.to_string(), v)
        }
        c => (format!("unimp 0x{c:x}"), String::new()),
    };
    format!("{name:<8} {arg}")
}

//! [`Expr`] to classic BPF for Ethernet frames.
//!
//! First each primitive becomes a tree of [`Node`]s (tests of the accumulator
//! after a few loads), the checks libpcap makes included (`tcp[i]` is IPv4
//! TCP, not a later fragment; ports are the first fragment's); then the tree is
//! laid out back to front, so that every jump's target is already placed and
//! its distance known: a target more than 255 instructions on gets a `ja`
//! beside the jump.

use super::ast::{Arith, Dir, Expr, Net, Op, Prim, Proto, Rel};
use super::op::*;
use super::{ACCEPT, Insn, MEMWORDS, Program};

/// Ethernet header length: the network layer's offset.
const NL: u32 = 14;
const ETHERTYPE_IP: u32 = 0x0800;
const ETHERTYPE_IPV6: u32 = 0x86dd;
const ETHERTYPE_ARP: u32 = 0x0806;
const ETHERTYPE_RARP: u32 = 0x8035;
/// IPv6 fragment header.
const IPPROTO_FRAGMENT: u32 = 44;

/// A condition.
#[derive(Clone, Debug)]
enum Node {
    True,
    All(Vec<Node>),
    Any(Vec<Node>),
    Not(Box<Node>),
    /// Run `stmts`, then jump on `A <code> k` (or `A <code> X`).
    Test(Vec<Insn>, u16, u32),
    /// The frame is rejected here (a load that can never be in the frame).
    Reject,
}

fn ld_abs(size: u16, off: u32) -> Insn {
    Insn::stmt(LD | size | ABS, off)
}

fn test(size: u16, off: u32, jop: u16, k: u32) -> Node {
    Node::Test(vec![ld_abs(size, off)], JMP | jop | K, k)
}

fn ethertype(t: u32) -> Node {
    test(H, 12, JEQ, t)
}

/// IPv4 with this protocol.
fn v4_proto(p: u32) -> Node {
    Node::All(vec![ethertype(ETHERTYPE_IP), test(B, NL + 9, JEQ, p)])
}

/// IPv6 with this next header, directly or after a fragment header.
fn v6_proto(p: u32) -> Node {
    Node::All(vec![
        ethertype(ETHERTYPE_IPV6),
        Node::Any(vec![
            test(B, NL + 6, JEQ, p),
            Node::All(vec![
                test(B, NL + 6, JEQ, IPPROTO_FRAGMENT),
                test(B, NL + 40, JEQ, p),
            ]),
        ]),
    ])
}

/// Not a later IPv4 fragment (offset 0).
fn first_fragment() -> Node {
    Node::Not(Box::new(test(H, NL + 6, JSET, 0x1fff)))
}

fn proto_node(p: Proto) -> Node {
    match p {
        Proto::Ether => Node::True,
        Proto::Ip => ethertype(ETHERTYPE_IP),
        Proto::Ip6 => ethertype(ETHERTYPE_IPV6),
        Proto::Arp => ethertype(ETHERTYPE_ARP),
        Proto::Rarp => ethertype(ETHERTYPE_RARP),
        Proto::Icmp | Proto::Igmp => v4_proto(u32::from(p.ip_proto().unwrap_or(0))),
        Proto::Icmp6 => v6_proto(58),
        Proto::Tcp | Proto::Udp | Proto::Sctp => {
            let n = u32::from(p.ip_proto().unwrap_or(0));
            Node::Any(vec![v4_proto(n), v6_proto(n)])
        }
    }
}

fn by_dir(dir: Dir, src: Node, dst: Node) -> Node {
    match dir {
        Dir::Src => src,
        Dir::Dst => dst,
        Dir::Either => Node::Any(vec![src, dst]),
        Dir::Both => Node::All(vec![src, dst]),
    }
}

/// The port at `off` (behind the IPv4 header when `v4`) is in lo..=hi.
fn port_in(v4: bool, off: u32, lo: u16, hi: u16) -> Node {
    let load = || {
        if v4 {
            vec![
                Insn::stmt(LDX | B | MSH, NL),
                Insn::stmt(LD | H | IND, NL + off),
            ]
        } else {
            vec![ld_abs(H, NL + 40 + off)]
        }
    };
    if lo == hi {
        Node::Test(load(), JMP | JEQ | K, u32::from(lo))
    } else {
        Node::All(vec![
            Node::Test(load(), JMP | JGE | K, u32::from(lo)),
            Node::Not(Box::new(Node::Test(load(), JMP | JGT | K, u32::from(hi)))),
        ])
    }
}

fn port(proto: Option<Proto>, dir: Dir, lo: u16, hi: u16) -> Node {
    let transports: Vec<u32> = match proto.and_then(Proto::ip_proto) {
        Some(n) => vec![u32::from(n)],
        None => vec![132, 6, 17],
    };
    let v4 = proto != Some(Proto::Ip6);
    let v6 = proto != Some(Proto::Ip);
    let mut fams = Vec::new();
    if v4 {
        fams.push(Node::All(vec![
            ethertype(ETHERTYPE_IP),
            Node::Any(
                transports
                    .iter()
                    .map(|&p| test(B, NL + 9, JEQ, p))
                    .collect(),
            ),
            first_fragment(),
            by_dir(dir, port_in(true, 0, lo, hi), port_in(true, 2, lo, hi)),
        ]));
    }
    if v6 {
        fams.push(Node::All(vec![
            ethertype(ETHERTYPE_IPV6),
            Node::Any(
                transports
                    .iter()
                    .map(|&p| test(B, NL + 6, JEQ, p))
                    .collect(),
            ),
            by_dir(dir, port_in(false, 0, lo, hi), port_in(false, 2, lo, hi)),
        ]));
    }
    Node::Any(fams)
}

fn v4_addr_at(off: u32, a: u32, m: u32) -> Node {
    if m == u32::MAX {
        test(W, off, JEQ, a)
    } else {
        Node::Test(
            vec![ld_abs(W, off), Insn::stmt(ALU | AND | K, m)],
            JMP | JEQ | K,
            a & m,
        )
    }
}

fn v6_addr_at(off: u32, a: u128, plen: u8) -> Node {
    let mut v = Vec::new();
    for w in 0..4u32 {
        let bits = (u32::from(plen)).saturating_sub(32 * w).min(32);
        if bits == 0 {
            break;
        }
        let word = (a >> (96 - 32 * w)) as u32;
        let m = if bits == 32 {
            u32::MAX
        } else {
            u32::MAX << (32 - bits)
        };
        v.push(v4_addr_at(off + 4 * w, word, m));
    }
    Node::All(v)
}

fn net(proto: Option<Proto>, dir: Dir, n: Net) -> Node {
    match n {
        Net::V4(a, m) => {
            let a = u32::from(a);
            let mut fams = Vec::new();
            if matches!(proto, None | Some(Proto::Ip)) {
                fams.push(Node::All(vec![
                    ethertype(ETHERTYPE_IP),
                    by_dir(dir, v4_addr_at(NL + 12, a, m), v4_addr_at(NL + 16, a, m)),
                ]));
            }
            for (p, t) in [(Proto::Arp, ETHERTYPE_ARP), (Proto::Rarp, ETHERTYPE_RARP)] {
                if proto.is_none() || proto == Some(p) {
                    fams.push(Node::All(vec![
                        ethertype(t),
                        by_dir(dir, v4_addr_at(NL + 14, a, m), v4_addr_at(NL + 24, a, m)),
                    ]));
                }
            }
            Node::Any(fams)
        }
        Net::V6(a, plen) => {
            let a = u128::from(a);
            Node::All(vec![
                ethertype(ETHERTYPE_IPV6),
                by_dir(
                    dir,
                    v6_addr_at(NL + 8, a, plen),
                    v6_addr_at(NL + 24, a, plen),
                ),
            ])
        }
    }
}

fn prim(p: &Prim) -> Node {
    match *p {
        Prim::Proto(p) => proto_node(p),
        Prim::IpProto(fam, n) => {
            let n = u32::from(n);
            match fam {
                Some(Proto::Ip) => v4_proto(n),
                Some(Proto::Ip6) => v6_proto(n),
                _ => Node::Any(vec![v4_proto(n), v6_proto(n)]),
            }
        }
        Prim::EtherProto(t) => ethertype(u32::from(t)),
        Prim::Net(proto, dir, n) => net(proto, dir, n),
        Prim::EtherHost(dir, m) => {
            let at = |off: u32| {
                Node::All(vec![
                    test(
                        W,
                        off + 2,
                        JEQ,
                        u32::from_be_bytes([m[2], m[3], m[4], m[5]]),
                    ),
                    test(H, off, JEQ, u32::from(u16::from_be_bytes([m[0], m[1]]))),
                ])
            };
            by_dir(dir, at(6), at(0))
        }
        Prim::Port(proto, dir, lo, hi) => port(proto, dir, lo, hi),
        Prim::Len(true, n) => Node::Test(vec![Insn::stmt(LD | W | LEN, 0)], JMP | JGE | K, n),
        Prim::Len(false, n) => Node::Not(Box::new(Node::Test(
            vec![Insn::stmt(LD | W | LEN, 0)],
            JMP | JGT | K,
            n,
        ))),
    }
}

fn node(e: &Expr) -> Result<Node, String> {
    Ok(match e {
        Expr::All(v) => Node::All(v.iter().map(node).collect::<Result<_, _>>()?),
        Expr::Any(v) => Node::Any(v.iter().map(node).collect::<Result<_, _>>()?),
        Expr::Not(e) => Node::Not(Box::new(node(e)?)),
        Expr::Prim(p) => prim(p),
        Expr::Rel(l, r, rhs) => relation(l, *r, rhs)?,
    })
}

fn err(col: usize, msg: impl std::fmt::Display) -> String {
    format!("filter: at column {col}: {msg}")
}

/// The checks a load from `p` needs first (libpcap's: the protocol is there;
/// for a transport, IPv4 and not a later fragment).
fn guards(a: &Arith, out: &mut Vec<Node>) {
    match a {
        Arith::Num(_) | Arith::Len => {}
        Arith::Neg(a) => guards(a, out),
        // libpcap (gen_arth) keeps only the left operand's checks: in
        // `ip[2] - tcp[12]` a frame need not be TCP. tcpdump selects so, and so does craft.
        Arith::Bin(_, l, _, _) => guards(l, out),
        Arith::Load(p, idx, _) => {
            guards(idx, out);
            match p {
                Proto::Ether => {}
                Proto::Ip | Proto::Ip6 | Proto::Arp | Proto::Rarp => out.push(proto_node(*p)),
                Proto::Icmp6 => out.push(Node::All(vec![
                    ethertype(ETHERTYPE_IPV6),
                    test(B, NL + 6, JEQ, 58),
                ])),
                Proto::Tcp | Proto::Udp | Proto::Sctp | Proto::Icmp | Proto::Igmp => {
                    out.push(v4_proto(u32::from(p.ip_proto().unwrap_or(0))));
                    out.push(first_fragment());
                }
            }
        }
    }
}

fn constant(a: &Arith) -> Result<Option<u32>, String> {
    Ok(match a {
        Arith::Num(n) => Some(*n),
        Arith::Neg(a) => constant(a)?.map(u32::wrapping_neg),
        Arith::Bin(op, l, r, col) => match (constant(l)?, constant(r)?) {
            (Some(l), Some(r)) => Some(fold(*op, l, r, *col)?),
            _ => None,
        },
        Arith::Len | Arith::Load(..) => None,
    })
}

fn fold(op: Op, l: u32, r: u32, col: usize) -> Result<u32, String> {
    check_k(op, r, col)?;
    Ok(match op {
        Op::Add => l.wrapping_add(r),
        Op::Sub => l.wrapping_sub(r),
        Op::Mul => l.wrapping_mul(r),
        Op::Div => l / r,
        Op::Mod => l % r,
        Op::And => l & r,
        Op::Or => l | r,
        Op::Xor => l ^ r,
        Op::Shl => l << r,
        Op::Shr => l >> r,
    })
}

/// What the kernel's checker refuses: division by a constant 0, shifts of 32 or more.
fn check_k(op: Op, k: u32, col: usize) -> Result<(), String> {
    match op {
        Op::Div | Op::Mod if k == 0 => Err(err(col, "division by zero")),
        Op::Shl | Op::Shr if k > 31 => Err(err(
            col,
            format!("a shift of {k} bits (BPF shifts by 0 to 31)"),
        )),
        _ => Ok(()),
    }
}

fn alu(op: Op) -> u16 {
    ALU | match op {
        Op::Add => ADD,
        Op::Sub => SUB,
        Op::Mul => MUL,
        Op::Div => DIV,
        Op::Mod => MOD,
        Op::And => AND,
        Op::Or => OR,
        Op::Xor => XOR,
        Op::Shl => LSH,
        Op::Shr => RSH,
    }
}

fn size_code(size: u8) -> u16 {
    match size {
        4 => W,
        2 => H,
        _ => B,
    }
}

fn slot(d: usize, col: usize) -> Result<u32, String> {
    if d >= MEMWORDS {
        return Err(err(
            col,
            format!("arithmetic nested too deeply for BPF's {MEMWORDS} scratch words"),
        ));
    }
    Ok(d as u32)
}

/// Code leaving `a` in the accumulator, using scratch words from `d` on.
/// Ok(false) when a constant load can never be in the frame (the frame is rejected).
fn arith(a: &Arith, d: usize, col: usize, out: &mut Vec<Insn>) -> Result<bool, String> {
    if let Some(k) = constant(a)? {
        out.push(Insn::stmt(LD | IMM, k));
        return Ok(true);
    }
    match a {
        Arith::Num(k) => out.push(Insn::stmt(LD | IMM, *k)),
        Arith::Len => out.push(Insn::stmt(LD | W | LEN, 0)),
        Arith::Neg(a) => {
            if !arith(a, d, col, out)? {
                return Ok(false);
            }
            out.push(Insn::stmt(ALU | NEG, 0));
        }
        Arith::Load(p, idx, size) => {
            let sz = size_code(*size);
            let transport = matches!(
                p,
                Proto::Tcp | Proto::Udp | Proto::Sctp | Proto::Icmp | Proto::Igmp
            );
            let base = match p {
                Proto::Ether => 0,
                Proto::Icmp6 => NL + 40,
                _ => NL,
            };
            if let Some(c) = constant(idx)? {
                let Some(off) = base.checked_add(c).filter(|&o| o < 0x8000_0000) else {
                    // Past any frame (and, as a negative offset, the kernel's
                    // ancillary loads): the load would reject the frame.
                    return Ok(false);
                };
                if transport {
                    out.push(Insn::stmt(LDX | B | MSH, NL));
                    out.push(Insn::stmt(LD | sz | IND, off));
                } else {
                    out.push(ld_abs(sz, off));
                }
            } else {
                if !arith(idx, d, col, out)? {
                    return Ok(false);
                }
                if transport {
                    let m = slot(d, col)?;
                    out.push(Insn::stmt(ST, m));
                    out.push(Insn::stmt(LDX | B | MSH, NL));
                    out.push(Insn::stmt(LD | MEM, m));
                    out.push(Insn::stmt(ALU | ADD | X, 0));
                }
                out.push(Insn::stmt(MISC | TAX, 0));
                out.push(Insn::stmt(LD | sz | IND, base));
            }
        }
        Arith::Bin(op, l, r, col) => {
            if !arith(l, d, *col, out)? {
                return Ok(false);
            }
            if let Some(k) = constant(r)? {
                check_k(*op, k, *col)?;
                out.push(Insn::stmt(alu(*op) | K, k));
            } else {
                let m = slot(d, *col)?;
                out.push(Insn::stmt(ST, m));
                if !arith(r, d + 1, *col, out)? {
                    return Ok(false);
                }
                out.push(Insn::stmt(MISC | TAX, 0));
                out.push(Insn::stmt(LD | MEM, m));
                out.push(Insn::stmt(alu(*op) | X, 0));
            }
        }
    }
    Ok(true)
}

fn relation(l: &Arith, rel: Rel, r: &Arith) -> Result<Node, String> {
    let (jop, negate) = match rel {
        Rel::Eq => (JEQ, false),
        Rel::Ne => (JEQ, true),
        Rel::Gt => (JGT, false),
        Rel::Ge => (JGE, false),
        Rel::Lt => (JGE, true),
        Rel::Le => (JGT, true),
    };
    let col = match (l, r) {
        (Arith::Bin(.., c), _) | (_, Arith::Bin(.., c)) => *c,
        _ => 0,
    };
    let mut all = Vec::new();
    guards(l, &mut all);
    guards(r, &mut all);
    let mut stmts = Vec::new();
    let cmp = if let (Some(a), Some(b)) = (constant(l)?, constant(r)?) {
        let yes = match jop {
            JEQ => a == b,
            JGT => a > b,
            _ => a >= b,
        };
        if yes {
            Node::True
        } else {
            Node::Not(Box::new(Node::True))
        }
    } else if let Some(k) = constant(r)? {
        if !arith(l, 0, col, &mut stmts)? {
            all.push(Node::Reject);
            return Ok(Node::All(all));
        }
        Node::Test(stmts, JMP | jop | K, k)
    } else {
        if !arith(l, 0, col, &mut stmts)? {
            all.push(Node::Reject);
            return Ok(Node::All(all));
        }
        stmts.push(Insn::stmt(ST, 0));
        if !arith(r, 1, col, &mut stmts)? {
            all.push(Node::Reject);
            return Ok(Node::All(all));
        }
        stmts.push(Insn::stmt(MISC | TAX, 0));
        stmts.push(Insn::stmt(LD | MEM, 0));
        Node::Test(stmts, JMP | jop | X, 0)
    };
    all.push(if negate {
        Node::Not(Box::new(cmp))
    } else {
        cmp
    });
    Ok(Node::All(all))
}

/// Lays code out back to front: `rev[i]` is the instruction `i` places from the end.
struct Gen {
    rev: Vec<Insn>,
}

impl Gen {
    /// Places `n` before what is placed, jumping to `t` if it holds, else to
    /// `f` (labels are `rev` indices); returns the label of its first instruction.
    fn emit(&mut self, n: &Node, t: usize, f: usize) -> usize {
        match n {
            Node::True => t,
            Node::All(v) => v.iter().rev().fold(t, |next, n| self.emit(n, next, f)),
            Node::Any(v) => v.iter().rev().fold(f, |next, n| self.emit(n, t, next)),
            Node::Not(n) => self.emit(n, f, t),
            Node::Reject => {
                self.rev.push(Insn::stmt(RET | K, 0));
                self.rev.len() - 1
            }
            Node::Test(stmts, code, k) => {
                let far = |at: usize, to: usize| at - to - 1 > 255;
                let at = self.rev.len();
                let (jt, jf) = if far(at, t) || far(at, f) {
                    // The jump falls through to `ja t` (jt 0) or skips to `ja f` (jf 1).
                    self.ja(f);
                    self.ja(t);
                    (0, 1)
                } else {
                    ((at - t - 1) as u8, (at - f - 1) as u8)
                };
                self.rev.push(Insn {
                    code: *code,
                    jt,
                    jf,
                    k: *k,
                });
                for s in stmts.iter().rev() {
                    self.rev.push(*s);
                }
                self.rev.len() - 1
            }
        }
    }

    fn ja(&mut self, to: usize) {
        let at = self.rev.len();
        self.rev.push(Insn::stmt(
            JMP | JA,
            u32::try_from(at - to - 1).unwrap_or(u32::MAX),
        ));
    }
}

/// Compiles a parsed filter.
pub fn compile(e: &Expr) -> Result<Program, String> {
    let root = node(e)?;
    let mut g = Gen {
        rev: vec![Insn::stmt(RET | K, 0), Insn::stmt(RET | K, ACCEPT)],
    };
    let entry = g.emit(&root, 1, 0);
    if entry != g.rev.len() - 1 {
        g.ja(entry);
    }
    g.rev.reverse();
    Ok(Program(g.rev))
}

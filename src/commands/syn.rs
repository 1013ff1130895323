//! `craft syn`: SYN probes with RTT statistics, like hping3 -S / nping --tcp.

use crate::engine::net::ms;
use crate::live::{Live, LiveError};
use crate::render::json::{J, object};
use crate::session::isn::initial_seq;
use crate::wire::tcp::{Tcp, flags};
use crate::wire::{Ipv4, Packet};
use std::net::Ipv4Addr;
use std::time::Duration;

/// What to probe and how.
#[derive(Clone, Debug)]
pub struct SynOptions {
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Destination port.
    pub dport: u16,
    /// Source port (default: a free port craft reserves).
    pub sport: Option<u16>,
    /// Number of probes.
    pub count: u32,
    /// Time between probes.
    pub interval: Duration,
    /// Wait for each reply.
    pub timeout: Duration,
    /// One JSON object per probe, then a summary.
    pub json: bool,
}

/// Runs the probes; returns the exit code: 0 a SYN-ACK came back, 1 only RSTs, 3 no reply.
pub fn run(live: &mut Live, o: &SynOptions) -> Result<i32, LiveError> {
    let sport = match o.sport {
        Some(p) => p,
        None => live.default_sport()?,
    };
    let mut rtts = Vec::new();
    let (mut synacks, mut rsts) = (0u32, 0u32);
    let iss_base = initial_seq();
    for i in 0..o.count {
        if i > 0 {
            crate::link::sleep_interruptible(o.interval).map_err(|_| LiveError::Interrupted)?;
        }
        let seq = iss_base.wrapping_add(i.wrapping_mul(0x0100_0000));
        let probe = syn_packet(o.dst, sport, o.dport, seq);
        let (_, reply) = live.sr1(&probe, o.timeout)?;
        for n in live.take_notes() {
            eprintln!("{n}");
        }
        match reply {
            Some((r, rtt)) => {
                let t = r.pkt.tcp().cloned().unwrap_or_default();
                let fl = t.flag_bits();
                rtts.push(rtt);
                if fl & flags::RST != 0 {
                    rsts += 1;
                } else if fl & (flags::SYN | flags::ACK) == flags::SYN | flags::ACK
                    && !live.guard_rst
                {
                    // The kernel answers the SYN-ACK with a RST (nothing listens
                    // on our port), which ends the half-open connection.
                    synacks += 1;
                } else if fl & (flags::SYN | flags::ACK) == flags::SYN | flags::ACK {
                    synacks += 1;
                    // Tear the half-open connection down: the kernel's RST is dropped for us.
                    let mut rst = syn_packet(o.dst, sport, o.dport, t.ack.unwrap_or(0));
                    if let Some(tt) = rst.tcp_mut() {
                        tt.flags = Some(flags::RST);
                        tt.window = Some(0);
                        tt.options.clear();
                    }
                    live.send(&rst)?;
                }
                let opts: Vec<String> = t.decoded_options().0.iter().map(|o| o.short()).collect();
                let fl_s = crate::wire::tcp_flags_str(fl);
                if o.json {
                    println!(
                        "{}",
                        object(&[
                            ("probe", J::Int(i64::from(i) + 1)),
                            ("dst", J::Str(o.dst.to_string())),
                            ("dport", J::Int(o.dport.into())),
                            ("sport", J::Int(sport.into())),
                            ("flags", J::Str(fl_s)),
                            ("seq", J::Int(t.seq.unwrap_or(0).into())),
                            ("ack", J::Int(t.ack.unwrap_or(0).into())),
                            ("window", J::Int(t.window.unwrap_or(0).into())),
                            ("options", J::Arr(opts.into_iter().map(J::Str).collect())),
                            ("rtt_us", J::Num(rtt.as_secs_f64() * 1e6)),
                        ])
                    );
                } else {
                    let opts_s = if opts.is_empty() {
                        String::new()
                    } else {
                        format!(" options [{}]", opts.join(","))
                    };
                    println!(
                        "{}:{} flags={fl_s} seq={} ack={} win={}{opts_s} rtt={}",
                        o.dst,
                        o.dport,
                        t.seq.unwrap_or(0),
                        t.ack.unwrap_or(0),
                        t.window.unwrap_or(0),
                        ms(rtt)
                    );
                }
            }
            None => {
                if o.json {
                    println!(
                        "{}",
                        object(&[
                            ("probe", J::Int(i64::from(i) + 1)),
                            ("flags", J::Null),
                            ("timeout", J::Bool(true))
                        ])
                    );
                } else {
                    println!(
                        "{}:{} no reply within {} s",
                        o.dst,
                        o.dport,
                        o.timeout.as_secs_f64()
                    );
                }
            }
        }
    }
    let received = rtts.len() as u32;
    let loss = if o.count == 0 {
        0.0
    } else {
        100.0 * f64::from(o.count - received) / f64::from(o.count)
    };
    let us = |d: &Duration| d.as_secs_f64() * 1e6;
    let min = rtts.iter().min();
    let max = rtts.iter().max();
    let avg = (!rtts.is_empty()).then(|| rtts.iter().map(us).sum::<f64>() / rtts.len() as f64);
    if o.json {
        println!(
            "{}",
            object(&[
                ("summary", J::Bool(true)),
                ("sent", J::Int(o.count.into())),
                ("received", J::Int(received.into())),
                ("synack", J::Int(synacks.into())),
                ("rst", J::Int(rsts.into())),
                ("loss_pct", J::Num(loss)),
                ("rtt_min_us", min.map_or(J::Null, |d| J::Num(us(d)))),
                ("rtt_avg_us", avg.map_or(J::Null, J::Num)),
                ("rtt_max_us", max.map_or(J::Null, |d| J::Num(us(d)))),
            ])
        );
    } else {
        println!("--- {}:{} ---", o.dst, o.dport);
        print!(
            "{} sent, {received} received ({synacks} SYN-ACK, {rsts} RST), {loss:.0}% loss",
            o.count
        );
        match (min, avg, max) {
            (Some(mn), Some(a), Some(mx)) => {
                println!(
                    ", rtt min/avg/max = {:.3}/{:.3}/{:.3} ms",
                    us(mn) / 1000.0,
                    a / 1000.0,
                    us(mx) / 1000.0
                )
            }
            _ => println!(),
        }
    }
    Ok(if synacks > 0 {
        0
    } else if rsts > 0 {
        1
    } else {
        3
    })
}

/// Ether/IP/TCP SYN from `sport` to `dst:dport` with sequence number `seq`.
pub fn syn_packet(dst: Ipv4Addr, sport: u16, dport: u16, seq: u32) -> Packet {
    let ip = Ipv4 {
        dst: Some(dst),
        ..Ipv4::default()
    };
    let tcp = Tcp {
        sport: Some(sport),
        dport: Some(dport),
        seq: Some(seq),
        flags: Some(flags::SYN),
        window: Some(64240),
        options: crate::wire::tcp::encode_options(&[crate::wire::TcpOption::Mss(1460)]),
        ..Tcp::default()
    };
    Packet::ether_ip_tcp(ip, tcp, &[])
}

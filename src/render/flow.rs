//! A TCP conversation as a ladder diagram (client left, server right, time
//! down, relative seq/ack), and its data both ways like "Follow TCP stream".

use crate::wire::{Packet, tcp_flags_str};
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::time::SystemTime;

/// One segment of the ladder.
#[derive(Clone, Debug)]
pub struct FlowEntry<'a> {
    /// When.
    pub ts: SystemTime,
    /// True from client to server.
    pub from_client: bool,
    /// The segment.
    pub pkt: &'a Packet,
    /// A remark ("retransmission", ...).
    pub note: Option<&'a str>,
}

/// The two ends and their initial sequence numbers (for relative numbers).
#[derive(Clone, Copy, Debug)]
pub struct Ends {
    /// Client address and port.
    pub client: (Ipv4Addr, u16),
    /// Server address and port.
    pub server: (Ipv4Addr, u16),
    /// Client's initial sequence number.
    pub client_isn: u32,
    /// Server's initial sequence number (0 when unknown).
    pub server_isn: u32,
}

const WIDTH: usize = 56;

/// The ladder diagram.
pub fn ladder(ends: &Ends, entries: &[FlowEntry<'_>]) -> String {
    let mut s = header(ends);
    let t0 = entries.first().map(|e| e.ts);
    for e in entries {
        s.push_str(&row(ends, e, t0));
    }
    s
}

/// The two header lines of a ladder: the ends' addresses over their columns.
pub fn header(ends: &Ends) -> String {
    let mut s = String::new();
    let left = format!("{}:{}", ends.client.0, ends.client.1);
    let right = format!("{}:{}", ends.server.0, ends.server.1);
    let _ = writeln!(
        s,
        "{:>10}  {left}{right:>w$}",
        "time (s)",
        w = WIDTH.saturating_sub(left.len())
    );
    let _ = writeln!(
        s,
        "{:>10}  client{:>w$}",
        "",
        "server",
        w = WIDTH - "client".len()
    );
    s
}

/// One line of a ladder; `t0` is the time of the first segment.
pub fn row(ends: &Ends, e: &FlowEntry<'_>, t0: Option<SystemTime>) -> String {
    let rel = t0
        .and_then(|t| e.ts.duration_since(t).ok())
        .unwrap_or_default()
        .as_secs_f64();
    let body = WIDTH - 2;
    let mut text = label(e, ends);
    text.truncate(body - 6);
    let dashes = body - text.len() - 2;
    let (l, r) = (dashes / 2, dashes - dashes / 2);
    let line = if e.from_client {
        format!("|{} {text} {}>|", "-".repeat(l), "-".repeat(r - 1))
    } else {
        format!("|<{} {text} {}|", "-".repeat(l - 1), "-".repeat(r))
    };
    let note = e.note.map(|n| format!("  ({n})")).unwrap_or_default();
    format!("{rel:>10.6}  {line}{note}\n")
}

fn label(e: &FlowEntry<'_>, ends: &Ends) -> String {
    let Some(t) = e.pkt.tcp() else {
        return "not TCP".into();
    };
    let (sb, ab) = if e.from_client {
        (ends.client_isn, ends.server_isn)
    } else {
        (ends.server_isn, ends.client_isn)
    };
    let fl = t.flag_bits();
    let len = e.pkt.payload().len();
    let seq = t.seq.unwrap_or(0).wrapping_sub(sb);
    let mut s = format!("[{}] seq={seq}", tcp_flags_str(fl));
    if fl & crate::wire::tcp::flags::ACK != 0 {
        let _ = write!(s, " ack={}", t.ack.unwrap_or(0).wrapping_sub(ab));
    }
    let _ = write!(s, " win={}", t.window.unwrap_or(0));
    if len > 0 {
        let _ = write!(s, " len={len}");
    }
    s
}

/// The data both ways, in order, each direction marked: coloured on a
/// terminal (client red, server blue, as Wireshark does), headed otherwise.
pub fn follow(ends: &Ends, stream: &[(bool, &[u8])], color: bool) -> String {
    let mut s = String::new();
    let (mut to_server, mut to_client) = (0usize, 0usize);
    for (from_client, data) in stream {
        let (from, to) = if *from_client {
            (ends.client, ends.server)
        } else {
            (ends.server, ends.client)
        };
        if *from_client {
            to_server += data.len();
        } else {
            to_client += data.len();
        }
        let text = printable(data);
        if color {
            let c = if *from_client { "\x1b[31m" } else { "\x1b[34m" };
            let _ = write!(s, "{c}{text}\x1b[0m");
            if !text.ends_with('\n') {
                s.push('\n');
            }
        } else {
            let _ = writeln!(
                s,
                "--- {}:{} > {}:{} ({} bytes) ---",
                from.0,
                from.1,
                to.0,
                to.1,
                data.len()
            );
            s.push_str(&text);
            if !text.ends_with('\n') {
                s.push('\n');
            }
        }
    }
    let _ = writeln!(
        s,
        "=== client sent {to_server} bytes, server sent {to_client} bytes ==="
    );
    s
}

fn printable(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len());
    for chunk in data.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() && c != '\n' && c != '\t' && c != '\r' {
                let _ = write!(s, "\\x{:02x}", c as u32);
            } else {
                s.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(s, "\\x{b:02x}");
        }
    }
    s
}

/// The first TCP conversation in a capture: its ends and its segments.
pub fn conversation(frames: &[(SystemTime, Packet)]) -> Option<(Ends, Vec<FlowEntry<'_>>)> {
    let tuple = |p: &Packet| -> Option<((Ipv4Addr, u16), (Ipv4Addr, u16))> {
        let ip = p.ip()?;
        let t = p.tcp()?;
        Some(((ip.src?, t.sport?), (ip.dst?, t.dport?)))
    };
    // The client is whoever sent the first SYN without ACK, else the first sender.
    let first = frames
        .iter()
        .find(|(_, p)| p.tcp().is_some_and(|t| t.flag_bits() & 0x12 == 0x02))
        .or_else(|| frames.iter().find(|(_, p)| p.tcp().is_some()))?;
    let (client, server) = tuple(&first.1)?;
    let mut ends = Ends {
        client,
        server,
        client_isn: first.1.tcp()?.seq.unwrap_or(0),
        server_isn: 0,
    };
    let mut server_isn = None;
    let mut entries = Vec::new();
    for (ts, p) in frames {
        let Some((a, b)) = tuple(p) else { continue };
        let from_client = (a, b) == (client, server);
        if !from_client && (a, b) != (server, client) {
            continue;
        }
        if !from_client && server_isn.is_none() {
            server_isn = p.tcp().and_then(|t| t.seq).map(|s| {
                if p.tcp().is_some_and(|t| t.flag_bits() & 0x02 != 0) {
                    s
                } else {
                    s.wrapping_sub(1)
                }
            });
        }
        entries.push(FlowEntry {
            ts: *ts,
            from_client,
            pkt: p,
            note: None,
        });
    }
    ends.server_isn = server_isn.unwrap_or(0);
    Some((ends, entries))
}

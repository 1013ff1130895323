//! A TCP conversation as a ladder diagram (client left, server right, time
//! down, relative seq/ack), drawn whole or a row at a time ([`Ladder`]), and
//! its data both ways like "Follow TCP stream".

use super::json::{J, object};
use crate::wire::tcp::{Relative, flags};
use crate::wire::{Packet, Tcp, tcp_flags_str};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

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
    pub client: (IpAddr, u16),
    /// Server address and port.
    pub server: (IpAddr, u16),
    /// Client's initial sequence number.
    pub client_isn: u32,
    /// Server's initial sequence number (0 when unknown).
    pub server_isn: u32,
}

impl Ends {
    /// Relative-number bases for a segment from the client (`from_client`) or the server.
    pub fn relative(&self, from_client: bool) -> Relative {
        if from_client {
            Relative {
                seq_base: self.client_isn,
                ack_base: self.server_isn,
            }
        } else {
            Relative {
                seq_base: self.server_isn,
                ack_base: self.client_isn,
            }
        }
    }
}

const WIDTH: usize = 56;

/// A ladder diagram drawn a row at a time, as the segments come, or all at
/// once ([`ladder`]): the same rows either way. Times count from the first row.
#[derive(Clone, Debug)]
pub struct Ladder {
    ends: Ends,
    learn_server_isn: bool,
    t0: Option<SystemTime>,
}

impl Ladder {
    /// A ladder over `ends` as given (the server's ISN known, or 0).
    pub fn new(ends: Ends) -> Ladder {
        Ladder {
            ends,
            learn_server_isn: false,
            t0: None,
        }
    }

    /// A ladder for a conversation still going: the server's ISN (0 until
    /// then) is learnt from the first SYN it sends.
    pub fn learning(ends: Ends) -> Ladder {
        Ladder {
            ends,
            learn_server_isn: true,
            t0: None,
        }
    }

    /// The two ends as known so far.
    pub fn ends(&self) -> &Ends {
        &self.ends
    }

    /// The two header lines: the ends' addresses over their columns.
    pub fn header(&self) -> String {
        let mut s = String::new();
        let left = std::net::SocketAddr::from(self.ends.client).to_string();
        let right = std::net::SocketAddr::from(self.ends.server).to_string();
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

    /// Takes `e` in: the time since the first row, and its relative-number bases.
    fn step(&mut self, e: &FlowEntry<'_>) -> (Duration, Relative) {
        let t0 = *self.t0.get_or_insert(e.ts);
        if self.learn_server_isn
            && !e.from_client
            && let Some(t) = e.pkt.tcp()
            && t.flag_bits() & flags::SYN != 0
        {
            self.ends.server_isn = t.seq.unwrap_or(0);
            self.learn_server_isn = false;
        }
        (
            e.ts.duration_since(t0).unwrap_or_default(),
            self.ends.relative(e.from_client),
        )
    }

    /// The ladder's line for the next segment.
    pub fn row(&mut self, e: &FlowEntry<'_>) -> String {
        let (at, rel) = self.step(e);
        let body = WIDTH - 2;
        let mut text = label(e, rel);
        text.truncate(body - 6);
        let dashes = body - text.len() - 2;
        let (l, r) = (dashes / 2, dashes - dashes / 2);
        let line = if e.from_client {
            format!("|{} {text} {}>|", "-".repeat(l), "-".repeat(r - 1))
        } else {
            format!("|<{} {text} {}|", "-".repeat(l - 1), "-".repeat(r))
        };
        let note = e.note.map(|n| format!("  ({n})")).unwrap_or_default();
        format!("{:>10.6}  {line}{note}\n", at.as_secs_f64())
    }

    /// The next segment as one JSON object (`craft handshake --json`), without a newline.
    pub fn json_row(&mut self, e: &FlowEntry<'_>) -> String {
        let (at, rel) = self.step(e);
        segment_json(e, rel, at)
    }
}

/// The whole ladder diagram: header and every row.
pub fn ladder(ends: &Ends, entries: &[FlowEntry<'_>]) -> String {
    let mut l = Ladder::new(*ends);
    let mut s = l.header();
    for e in entries {
        s.push_str(&l.row(e));
    }
    s
}

fn label(e: &FlowEntry<'_>, rel: Relative) -> String {
    let Some(t) = e.pkt.tcp() else {
        return "not TCP".into();
    };
    let fl = t.flag_bits();
    let len = e.pkt.payload().len();
    let seq = rel.seq(t.seq.unwrap_or(0));
    let mut s = format!("[{}] seq={seq}", tcp_flags_str(fl));
    if fl & flags::ACK != 0 {
        let _ = write!(s, " ack={}", rel.ack(t.ack.unwrap_or(0)));
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

type Tuple = ((IpAddr, u16), (IpAddr, u16));

/// A TCP segment's (source, destination) address and port (IPv4 or IPv6).
fn tuple(p: &Packet) -> Option<Tuple> {
    let (src, dst) = p.ip_ends()?;
    let t = p.tcp()?;
    Some(((src?, t.sport?), (dst?, t.dport?)))
}

/// How many TCP conversations a capture holds (as Wireshark's tcp.stream counts them).
pub fn conversation_count(frames: &[(SystemTime, Packet)]) -> usize {
    stream_tuples(frames).len()
}

/// Each conversation's first segment's tuple, in order of first appearance.
fn stream_tuples(frames: &[(SystemTime, Packet)]) -> Vec<Tuple> {
    let mut seen: Vec<Tuple> = Vec::new();
    for (_, p) in frames {
        if let Some((a, b)) = tuple(p)
            && !seen
                .iter()
                .any(|&(x, y)| (x, y) == (a, b) || (x, y) == (b, a))
        {
            seen.push((a, b));
        }
    }
    seen
}

/// TCP conversation number `stream` (0 = the first, as Wireshark numbers
/// them) of a capture: its ends and its segments.
pub fn conversation(
    frames: &[(SystemTime, Packet)],
    stream: usize,
) -> Option<(Ends, Vec<FlowEntry<'_>>)> {
    let (a, b) = *stream_tuples(frames).get(stream)?;
    let ours = |p: &Packet| tuple(p).is_some_and(|(x, y)| (x, y) == (a, b) || (x, y) == (b, a));
    // The client is whoever sent the first SYN without ACK, else the first sender.
    let first = frames
        .iter()
        .find(|(_, p)| ours(p) && p.tcp().is_some_and(|t| t.flag_bits() & 0x12 == 0x02))
        .or_else(|| frames.iter().find(|(_, p)| ours(p)))?;
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
    mark(&mut entries);
    Some((ends, entries))
}

/// What each side has sent and acknowledged so far, for [`mark`].
#[derive(Clone, Copy, Default)]
struct SideState {
    /// One past the highest sequence number sent.
    next: Option<u32>,
    /// The last segment's ack, window and whether it carried nothing.
    last_ack: Option<(u32, u16)>,
}

/// Wireshark-style remarks on a capture's segments, in the order they
/// crossed the link: RST, zero window, retransmission (data below what the
/// side already sent), out of order (data past a gap), duplicate ACK (the
/// same ack and window again, with no data, SYN or FIN).
fn mark(entries: &mut [FlowEntry<'_>]) {
    let mut sides = [SideState::default(); 2];
    for e in entries.iter_mut() {
        let Some(t) = e.pkt.tcp() else { continue };
        let side = &mut sides[usize::from(e.from_client)];
        let fl = t.flag_bits();
        let seq = t.seq.unwrap_or(0);
        let len = crate::wire::matcher::seg_len(t, e.pkt.payload().len());
        let ahead = |a: u32, b: u32| (a.wrapping_sub(b) as i32) > 0;
        let mut note = None;
        if fl & flags::RST != 0 {
            note = Some("RST");
        } else if t.window == Some(0) {
            note = Some("zero window");
        }
        if len > 0
            && let Some(next) = side.next
        {
            if ahead(next, seq) && note.is_none() {
                note = Some("retransmission");
            } else if ahead(seq, next) && note.is_none() {
                note = Some("out of order");
            }
        }
        if len == 0 && fl & (flags::SYN | flags::FIN | flags::RST) == 0 && fl & flags::ACK != 0 {
            let now = (t.ack.unwrap_or(0), t.window.unwrap_or(0));
            if side.last_ack == Some(now) && note.is_none() {
                note = Some("duplicate ACK");
            }
            side.last_ack = Some(now);
        } else if fl & flags::ACK != 0 {
            side.last_ack = None;
        }
        let end = seq.wrapping_add(len);
        if side.next.is_none_or(|n| ahead(end, n)) {
            side.next = Some(end);
        }
        if e.note.is_none() {
            e.note = note;
        }
    }
}

/// The data of a conversation's segments, in order, each with its direction
/// (true: from the client), for [`follow`]. Empty segments are left out.
pub fn stream_data<'a>(entries: &[FlowEntry<'a>]) -> Vec<(bool, &'a [u8])> {
    entries
        .iter()
        .filter(|e| !e.pkt.payload().is_empty())
        .map(|e| (e.from_client, e.pkt.payload()))
        .collect()
}

/// One TCP segment of a conversation: microseconds since its start (`at`),
/// direction, flags, seq and ack relative to `rel` (ack null without the ACK
/// flag), window and payload length.
fn segment_json(e: &FlowEntry<'_>, rel: Relative, at: Duration) -> String {
    let none = Tcp::default();
    let t = e.pkt.tcp().unwrap_or(&none);
    let fl = t.flag_bits();
    object(&[
        ("t_us", J::Num(at.as_secs_f64() * 1e6)),
        (
            "dir",
            J::Str(if e.from_client { "out" } else { "in" }.into()),
        ),
        ("flags", J::Str(tcp_flags_str(fl))),
        ("seq", J::Int(rel.seq(t.seq.unwrap_or(0)).into())),
        (
            "ack",
            if fl & flags::ACK != 0 {
                J::Int(rel.ack(t.ack.unwrap_or(0)).into())
            } else {
                J::Null
            },
        ),
        ("win", J::Int(t.window.unwrap_or(0).into())),
        ("len", J::Int(e.pkt.payload().len() as i64)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::tcp::{TcpOption, encode_options};
    use crate::wire::{Ipv4, Tcp};

    const T0: u64 = 1_700_000_000;

    /// A conversation as captured: handshake, data (once retransmitted), the
    /// answer, FIN both ways. Client 127.0.0.1:40000 (ISN 1000), server
    /// 127.0.0.2:1234 (ISN 5000); times in microseconds.
    fn frames() -> Vec<(SystemTime, Packet)> {
        let c = (std::net::Ipv4Addr::new(127, 0, 0, 1), 40000u16);
        let s = (std::net::Ipv4Addr::new(127, 0, 0, 2), 1234u16);
        let (ci, si) = (1000u32, 5000u32);
        let seg = |from_client: bool, fl: u16, seq: u32, ack: u32, data: &[u8], opts: Vec<u8>| {
            let (a, b) = if from_client { (c, s) } else { (s, c) };
            let ip = Ipv4 {
                src: Some(a.0),
                dst: Some(b.0),
                ..Ipv4::default()
            };
            let t = Tcp {
                sport: Some(a.1),
                dport: Some(b.1),
                flags: Some(fl),
                seq: Some(seq),
                ack: Some(ack),
                window: Some(if from_client { 65535 } else { 65483 }),
                options: opts,
                ..Tcp::default()
            };
            Packet::ether_ip_tcp(ip, t, data).resolved()
        };
        let at =
            |us: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(T0) + Duration::from_micros(us);
        let mss = || encode_options(&[TcpOption::Mss(65495)]);
        let (a, p, sy, f) = (flags::ACK, flags::PSH, flags::SYN, flags::FIN);
        let answer = b"hello there, a longer line of data\n";
        vec![
            (at(0), seg(true, sy, ci, 0, b"", mss())),
            (at(83), seg(false, sy | a, si, ci + 1, b"", mss())),
            (at(117), seg(true, a, ci + 1, si + 1, b"", vec![])),
            (
                at(263),
                seg(true, p | a, ci + 1, si + 1, b"hello\n", vec![]),
            ),
            (
                at(200_263),
                seg(true, p | a, ci + 1, si + 1, b"hello\n", vec![]),
            ),
            (at(200_300), seg(false, a, si + 1, ci + 7, b"", vec![])),
            (
                at(200_310),
                seg(false, p | a, si + 1, ci + 7, answer, vec![]),
            ),
            (at(200_400), seg(true, f | a, ci + 7, si + 36, b"", vec![])),
            (
                at(1_200_400),
                seg(false, f | a, si + 36, ci + 8, b"", vec![]),
            ),
            (at(1_200_500), seg(true, a, ci + 8, si + 37, b"", vec![])),
        ]
    }

    /// The ladder as `ladder()` drew it before it was made incremental.
    const GOLDEN: &str = concat!(
        "  time (s)  127.0.0.1:40000                           127.0.0.2:1234\n",
        "            client                                            server\n",
        "  0.000000  |---------------- [S] seq=0 win=65535 ---------------->|\n",
        "  0.000083  |<------------ [SA] seq=0 ack=1 win=65483 -------------|\n",
        "  0.000117  |------------- [A] seq=1 ack=1 win=65535 ------------->|\n",
        "  0.000263  |---------- [PA] seq=1 ack=1 win=65535 len=6 --------->|\n",
        "  0.200263  |---------- [PA] seq=1 ack=1 win=65535 len=6 --------->|  (retransmission)\n",
        "  0.200300  |<------------ [A] seq=1 ack=7 win=65483 --------------|\n",
        "  0.200310  |<-------- [PA] seq=1 ack=7 win=65483 len=35 ----------|\n",
        "  0.200400  |------------ [FA] seq=7 ack=36 win=65535 ------------>|\n",
        "  1.200400  |<----------- [FA] seq=36 ack=8 win=65483 -------------|\n",
        "  1.200500  |------------- [A] seq=8 ack=37 win=65535 ------------>|\n",
    );

    fn entries(frames: &[(SystemTime, Packet)]) -> (Ends, Vec<FlowEntry<'_>>) {
        let (ends, mut entries) = conversation(frames, 0).unwrap();
        entries[4].note = Some("retransmission");
        (ends, entries)
    }

    #[test]
    fn a_capture_gets_wireshark_marks() {
        let mut frames = frames();
        let notes = |frames: &[(SystemTime, Packet)]| -> Vec<Option<String>> {
            conversation(frames, 0)
                .unwrap()
                .1
                .iter()
                .map(|e| e.note.map(str::to_string))
                .collect()
        };
        // The second "hello" is below what the client already sent.
        let n = notes(&frames);
        assert_eq!(n[4].as_deref(), Some("retransmission"));
        assert_eq!(n.iter().filter(|x| x.is_some()).count(), 1, "{n:?}");
        // The server's ACK of the data, twice more: duplicate ACKs.
        let ack = frames[5].clone();
        frames.insert(6, ack.clone());
        frames.insert(7, ack);
        // Data past a gap, a zero window, a RST.
        let mut gap = frames[3].clone();
        if let Some(t) = gap.1.tcp_mut() {
            t.seq = Some(1000 + 1 + 500);
        }
        let mut zero = frames[2].clone();
        let mut rst = frames[2].clone();
        if let Some(t) = zero.1.tcp_mut() {
            t.window = Some(0);
        }
        if let Some(t) = rst.1.tcp_mut() {
            t.flags = Some(flags::RST);
        }
        frames.extend([gap, zero, rst]);
        let n = notes(&frames);
        let n: Vec<Option<&str>> = n.iter().map(|x| x.as_deref()).collect();
        assert_eq!(n[6], Some("duplicate ACK"));
        assert_eq!(n[7], Some("duplicate ACK"));
        assert_eq!(
            &n[n.len() - 3..],
            [Some("out of order"), Some("zero window"), Some("RST")]
        );
    }

    #[test]
    fn the_whole_ladder_is_as_it_was() {
        let frames = frames();
        let (ends, entries) = entries(&frames);
        assert_eq!((ends.client_isn, ends.server_isn), (1000, 5000));
        assert_eq!(ladder(&ends, &entries), GOLDEN);
    }

    #[test]
    fn incremental_rows_learning_the_server_isn_equal_the_whole_ladder() {
        let frames = frames();
        let (ends, entries) = entries(&frames);
        let mut live = Ladder::learning(Ends {
            server_isn: 0,
            ..ends
        });
        let mut s = live.header();
        for e in &entries {
            s.push_str(&live.row(e));
        }
        assert_eq!(s, ladder(&ends, &entries));
        assert_eq!(live.ends().server_isn, 5000);
        // Without learning, the server's numbers stay absolute.
        let mut fixed = Ladder::new(Ends {
            server_isn: 0,
            ..ends
        });
        assert!(fixed.row(&entries[1]).contains("[SA] seq=5000 ack=1 "));
    }

    #[test]
    fn json_rows_count_from_the_first_segment_with_relative_numbers() {
        let frames = frames();
        let (ends, entries) = entries(&frames);
        let mut l = Ladder::learning(Ends {
            server_isn: 0,
            ..ends
        });
        let rows: Vec<String> = entries.iter().map(|e| l.json_row(e)).collect();
        assert_eq!(
            rows[0],
            r#"{"t_us":0.000,"dir":"out","flags":"S","seq":0,"ack":null,"win":65535,"len":0}"#
        );
        assert_eq!(
            rows[1],
            r#"{"t_us":83.000,"dir":"in","flags":"SA","seq":0,"ack":1,"win":65483,"len":0}"#
        );
        assert_eq!(
            rows[6],
            r#"{"t_us":200310.000,"dir":"in","flags":"PA","seq":1,"ack":7,"win":65483,"len":35}"#
        );
    }
}

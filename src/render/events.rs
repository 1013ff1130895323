//! A session's events as the lines shown while it runs: `-> ` for a segment
//! sent, `<- ` for one received, its summary with relative seq/ack, and the
//! session's remark in brackets.

use super::summary_rel;
use crate::session::conn::Dir;
use crate::session::event::Event;

/// The live line for `e`, or None for events shown only through the segments
/// they lead to (a retransmission's segment is noted as one; states are asked for).
pub fn line(e: &Event) -> Option<String> {
    match e {
        Event::Segment {
            dir,
            pkt,
            rel,
            note,
            ..
        } => {
            let arrow = match dir {
                Dir::Out => "->",
                Dir::In => "<-",
            };
            let mut line = format!("{arrow} {}", summary_rel(pkt, Some(*rel)));
            if let Some(n) = note {
                line.push_str("  (");
                line.push_str(n);
                line.push(')');
            }
            Some(line)
        }
        Event::Retransmission { .. } | Event::StateChange { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::conn::State;
    use crate::wire::tcp::{Relative, flags};
    use crate::wire::{Ipv4, Packet, Tcp};
    use std::net::Ipv4Addr;
    use std::time::{Duration, SystemTime};

    fn seg(sport: u16, dport: u16, fl: u16, seq: u32, ack: u32, data: &[u8]) -> Packet {
        let ip = Ipv4 {
            src: Some(Ipv4Addr::LOCALHOST),
            dst: Some(Ipv4Addr::LOCALHOST),
            ..Ipv4::default()
        };
        let t = Tcp {
            sport: Some(sport),
            dport: Some(dport),
            flags: Some(fl),
            seq: Some(seq),
            ack: Some(ack),
            window: Some(65535),
            ..Tcp::default()
        };
        Packet::ether_ip_tcp(ip, t, data).resolved()
    }

    #[test]
    fn segments_read_as_relative_summaries_with_their_note() {
        let out = Event::Segment {
            dir: Dir::Out,
            ts: SystemTime::UNIX_EPOCH,
            pkt: seg(40000, 1234, flags::PSH | flags::ACK, 1001, 5001, b"hello\n").into(),
            rel: Relative {
                seq_base: 1000,
                ack_base: 5000,
            },
            note: Some("retransmission"),
        };
        assert_eq!(
            line(&out).unwrap(),
            "-> IP 127.0.0.1.40000 > 127.0.0.1.1234: Flags [PA], seq 1:7, ack 1, win 65535, \
             length 6  (retransmission)"
        );
        let inb = Event::Segment {
            dir: Dir::In,
            ts: SystemTime::UNIX_EPOCH,
            pkt: seg(1234, 40000, flags::ACK, 5001, 1007, b"").into(),
            rel: Relative {
                seq_base: 5000,
                ack_base: 1000,
            },
            note: None,
        };
        assert_eq!(
            line(&inb).unwrap(),
            "<- IP 127.0.0.1.1234 > 127.0.0.1.40000: Flags [A], seq 1, ack 7, win 65535, length 0"
        );
    }

    #[test]
    fn other_events_show_no_line_of_their_own() {
        let r = Event::Retransmission {
            what: "SYN",
            rto: Duration::from_millis(200),
            attempt: 1,
        };
        let s = Event::StateChange {
            from: State::SynSent,
            to: State::Established,
        };
        assert_eq!((line(&r), line(&s)), (None, None));
    }
}

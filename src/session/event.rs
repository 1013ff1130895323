//! What a conversation reports as it goes: segments sent and received, the
//! retransmissions it decides on, the state moving. A [`super::conn::Conn`]
//! collects these and the caller takes them (`take_events`) to show or keep;
//! turning them into text is `render::events`' job, not the session's.

use crate::wire::Packet;
use crate::wire::tcp::Relative;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Direction of a logged segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// From us to the peer (client to server for `connect()`'s sessions).
    Out,
    /// From the peer to us.
    In,
}

/// Connection states (RFC 793 names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Nothing sent yet, or over.
    Closed,
    /// SYN sent (and possibly the SYN-ACK received, not yet acknowledged).
    SynSent,
    /// SYN received and SYN-ACK sent (server side), waiting for the ACK.
    SynReceived,
    /// Handshake done.
    Established,
    /// Our FIN sent, not yet acknowledged.
    FinWait1,
    /// Our FIN acknowledged; waiting for the peer's.
    FinWait2,
    /// Both FINs crossed; waiting for the ACK of ours.
    Closing,
    /// Both sides closed.
    TimeWait,
    /// The peer closed; we may still send.
    CloseWait,
    /// We closed after the peer; waiting for the ACK of our FIN.
    LastAck,
}

impl State {
    /// The RFC name: `ESTABLISHED`, `FIN-WAIT-1`, ...
    pub fn name(self) -> &'static str {
        match self {
            State::Closed => "CLOSED",
            State::SynSent => "SYN-SENT",
            State::SynReceived => "SYN-RECEIVED",
            State::Established => "ESTABLISHED",
            State::FinWait1 => "FIN-WAIT-1",
            State::FinWait2 => "FIN-WAIT-2",
            State::Closing => "CLOSING",
            State::TimeWait => "TIME-WAIT",
            State::CloseWait => "CLOSE-WAIT",
            State::LastAck => "LAST-ACK",
        }
    }
}

/// One thing that happened in a conversation.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A segment went out (`Dir::Out`, stamped when the kernel saw our frame)
    /// or came in (stamped when the kernel received it).
    Segment {
        /// Which way.
        dir: Dir,
        /// Kernel timestamp.
        ts: SystemTime,
        /// The segment, every field filled in (shared with the session's log).
        pkt: Arc<Packet>,
        /// Relative-number bases in effect when it went (the peer's initial
        /// sequence number counts as 0 until its SYN-ACK is taken).
        rel: Relative,
        /// "retransmission", "duplicate", "out of order: held", ...
        note: Option<&'static str>,
    },
    /// Nothing acknowledged `what` within `rto`: it is sent again, retry
    /// number `attempt` (from 1). The segment follows as a `Segment` noted
    /// "retransmission".
    Retransmission {
        /// "SYN", "data" or "FIN".
        what: &'static str,
        /// The timeout that ran out.
        rto: Duration,
        /// Which retry this is, from 1.
        attempt: u32,
    },
    /// The connection state moved (RFC 793 names).
    StateChange {
        /// Before.
        from: State,
        /// After.
        to: State,
    },
}

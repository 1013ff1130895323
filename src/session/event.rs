//! What a conversation reports as it goes: segments sent and received, the
//! retransmissions it decides on, the state moving. A [`super::conn::Conn`]
//! collects these and the caller takes them (`take_events`) to show or keep;
//! turning them into text is `render::events`' job, not the session's.

use super::conn::{Dir, State};
use crate::wire::Packet;
use crate::wire::tcp::Relative;
use std::time::{Duration, SystemTime};

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
        /// The segment, every field filled in.
        pkt: Packet,
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

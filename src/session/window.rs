//! What the sender may put on the wire now: at most a segment, within the
//! peer's window and the flight limit, and no silly small segments (sender
//! side SWS avoidance, RFC 9293 3.8.6.2.1): a segment goes when it is full,
//! when it carries the rest of the data, when it is at least half the
//! largest window the peer has offered, or when the override timer ran out
//! with nothing in flight.

/// The sender's answer for the next segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Send this many bytes now.
    Send(usize),
    /// The window is full (or zero): wait for an ACK, or probe it.
    WindowFull,
    /// `flight` segments are unacknowledged: wait for an ACK.
    FlightFull,
    /// Only a silly small segment fits: wait for the window to open more
    /// (or, with nothing in flight, for the override timer).
    TooSmall,
}

/// The sender's situation, in bytes.
#[derive(Clone, Copy, Debug)]
pub struct Sending {
    /// Data not yet sent.
    pub remaining: usize,
    /// Sent and not yet acknowledged.
    pub in_flight: usize,
    /// The peer's window now.
    pub window: usize,
    /// The largest window the peer has offered.
    pub max_window: usize,
    /// The largest segment: the peer's MSS, or smaller on request.
    pub segment: usize,
    /// At most this many segments unacknowledged, when limited.
    pub flight: Option<u32>,
    /// The SWS override timer ran out.
    pub override_due: bool,
}

/// Decides the next segment.
pub fn next(s: Sending) -> Next {
    let usable = s.window.saturating_sub(s.in_flight);
    if s.remaining == 0 || usable == 0 {
        return Next::WindowFull;
    }
    let segment = s.segment.max(1);
    if let Some(k) = s.flight
        && s.in_flight.div_ceil(segment) >= k.max(1) as usize
    {
        return Next::FlightFull;
    }
    let n = segment.min(s.remaining).min(usable);
    let full = n == segment;
    let rest = n == s.remaining;
    let half_offer = n >= s.max_window.div_ceil(2).max(1);
    if full || rest || half_offer || (s.override_due && s.in_flight == 0) {
        Next::Send(n)
    } else {
        Next::TooSmall
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(remaining: usize, in_flight: usize, window: usize) -> Sending {
        Sending {
            remaining,
            in_flight,
            window,
            max_window: 65535,
            segment: 1000,
            flight: None,
            override_due: false,
        }
    }

    #[test]
    fn full_segments_and_the_last_piece_go() {
        assert_eq!(next(at(4500, 0, 65535)), Next::Send(1000));
        assert_eq!(next(at(500, 4000, 65535)), Next::Send(500));
    }

    #[test]
    fn a_sliver_of_window_waits_unless_it_is_half_the_offer_or_the_timer_ran_out() {
        // 40 bytes of window left of a 65535 offer: no 40-byte segment.
        assert_eq!(next(at(4500, 65495, 65535)), Next::TooSmall);
        // A small receiver whose whole offer is small: half of it is fine.
        let small = Sending {
            max_window: 600,
            ..at(4500, 300, 600)
        };
        assert_eq!(next(small), Next::Send(300));
        // Nothing in flight and the override timer ran out: send what fits.
        let stuck = Sending {
            override_due: true,
            ..at(4500, 0, 40)
        };
        assert_eq!(next(stuck), Next::Send(40));
        assert_eq!(next(at(4500, 0, 40)), Next::TooSmall);
    }

    #[test]
    fn zero_window_and_flight_limits_wait() {
        assert_eq!(next(at(4500, 0, 0)), Next::WindowFull);
        assert_eq!(next(at(4500, 65535, 65535)), Next::WindowFull);
        let stop_and_wait = Sending {
            flight: Some(1),
            ..at(4500, 1000, 65535)
        };
        assert_eq!(next(stop_and_wait), Next::FlightFull);
        let two = Sending {
            flight: Some(2),
            ..at(4500, 1000, 65535)
        };
        assert_eq!(next(two), Next::Send(1000));
    }
}

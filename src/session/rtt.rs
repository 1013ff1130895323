//! The retransmission timeout of RFC 6298, estimated from measured round
//! trips: the first sample R sets SRTT = R and RTTVAR = R/2, each later one
//! RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R| and SRTT = 7/8 SRTT + 1/8 R, and
//! RTO = SRTT + max(G, 4 RTTVAR), kept between a floor and 60 s and doubled
//! on each timeout (5.5) until a new sample comes. Samples come only from
//! segments sent once (Karn's rule: the caller does not time retransmissions).

use std::time::Duration;

/// The longest timeout (RFC 6298 2.5 allows a maximum of at least 60 s).
pub const RTO_MAX: Duration = Duration::from_secs(60);

/// The floor the kernel uses (TCP_RTO_MIN); RFC 6298 2.4's 1 s is a SHOULD
/// written for paths much slower than loopback.
pub const RTO_MIN: Duration = Duration::from_millis(200);

/// Clock granularity G: the timers here run on the monotonic clock.
const GRANULARITY: Duration = Duration::from_micros(100);

/// SRTT, RTTVAR and the current timeout of one connection.
#[derive(Clone, Debug)]
pub struct Rtt {
    srtt: Option<Duration>,
    rttvar: Duration,
    /// The timeout before backing off: the initial one until a sample comes.
    base: Duration,
    /// The floor: [`RTO_MIN`], or a smaller initial timeout the user chose.
    floor: Duration,
    /// Timeouts since the last sample (each doubles the RTO).
    backoff: u32,
}

impl Rtt {
    /// Before any sample the timeout is `initial` (RFC 6298 2.1); a smaller
    /// `initial` than [`RTO_MIN`] also lowers the floor, so `rto=0.01` means it.
    pub fn new(initial: Duration) -> Rtt {
        let initial = initial.clamp(Duration::from_micros(1), RTO_MAX);
        Rtt {
            srtt: None,
            rttvar: Duration::ZERO,
            base: initial,
            floor: initial.min(RTO_MIN),
            backoff: 0,
        }
    }

    /// Takes one measured round trip; the backoff ends (RFC 6298 5.7).
    pub fn sample(&mut self, r: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                let diff = srtt.abs_diff(r);
                self.rttvar = self.rttvar * 3 / 4 + diff / 4;
                self.srtt = Some(srtt * 7 / 8 + r / 8);
            }
        }
        let srtt = self.srtt.unwrap_or(r);
        self.base = (srtt + GRANULARITY.max(self.rttvar * 4)).clamp(self.floor, RTO_MAX);
        self.backoff = 0;
    }

    /// The timeout now.
    pub fn rto(&self) -> Duration {
        let factor = 1u32 << self.backoff.min(16);
        self.base.saturating_mul(factor).min(RTO_MAX)
    }

    /// A timeout ran out: the next one is twice as long (RFC 6298 5.5).
    pub fn back_off(&mut self) {
        self.backoff = self.backoff.saturating_add(1);
    }

    /// A timeout that does not carry over a backoff: an ACK of new data
    /// after a retransmission (RFC 6298 5.7 lets the RTO stay backed off
    /// until a sample, but a peer that acknowledges is alive).
    pub fn reset_backoff(&mut self) {
        self.backoff = 0;
    }

    /// The smoothed round-trip time, once measured.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// The round-trip variation, once measured.
    pub fn rttvar(&self) -> Duration {
        self.rttvar
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn before_a_sample_the_initial_timeout_doubles_on_each_timeout() {
        let mut r = Rtt::new(Duration::from_secs(1));
        assert_eq!(r.rto(), Duration::from_secs(1));
        r.back_off();
        r.back_off();
        assert_eq!(r.rto(), Duration::from_secs(4));
        for _ in 0..40 {
            r.back_off();
        }
        assert_eq!(r.rto(), RTO_MAX);
    }

    #[test]
    fn samples_follow_rfc6298_arithmetic() {
        let mut r = Rtt::new(Duration::from_secs(1));
        // First sample: SRTT = 500, RTTVAR = 250, RTO = 500 + 4*250 = 1500.
        r.sample(ms(500));
        assert_eq!(
            (r.srtt(), r.rttvar(), r.rto()),
            (Some(ms(500)), ms(250), ms(1500))
        );
        // Second, 300: RTTVAR = 3/4*250 + 1/4*200 = 237.5; SRTT = 7/8*500 + 1/8*300 = 475.
        r.sample(ms(300));
        assert_eq!(r.srtt(), Some(Duration::from_micros(475_000)));
        assert_eq!(r.rttvar(), Duration::from_micros(237_500));
        assert_eq!(r.rto(), Duration::from_micros(475_000 + 950_000));
        // A sample ends the backoff.
        r.back_off();
        assert_eq!(r.rto(), Duration::from_micros(2 * 1_425_000));
        r.sample(ms(475));
        assert!(r.rto() < Duration::from_micros(1_425_000), "{:?}", r.rto());
    }

    #[test]
    fn loopback_round_trips_keep_the_kernels_floor() {
        let mut r = Rtt::new(ms(200));
        for _ in 0..10 {
            r.sample(Duration::from_micros(40));
        }
        assert_eq!(r.rto(), RTO_MIN);
        // A user's smaller initial timeout is also the floor.
        let mut quick = Rtt::new(ms(2));
        quick.sample(Duration::from_micros(40));
        assert_eq!(quick.rto(), ms(2));
    }
}

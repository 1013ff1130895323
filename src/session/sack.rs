//! The sender's SACK scoreboard (RFC 2018, RFC 6675): the ranges above the
//! cumulative ACK that the peer says it holds, so that retransmissions
//! skip them; and the receiver's blocks for the out-of-order data it holds.

/// True when `a` comes before `b` in sequence space.
fn lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// Ranges `[left, right)` of sequence space the peer has SACKed, sorted and
/// merged, all above the cumulative ACK.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scoreboard {
    ranges: Vec<(u32, u32)>,
}

impl Scoreboard {
    /// Takes the blocks of one ACK (ignoring ones at or below `una`, or
    /// empty, or past `nxt`: a peer cannot hold what was never sent).
    pub fn add(&mut self, blocks: &[(u32, u32)], una: u32, nxt: u32) {
        for &(l, r) in blocks {
            if !lt(l, r) || !lt(una, r) || lt(nxt, r) {
                continue;
            }
            let l = if lt(l, una) { una } else { l };
            self.ranges.push((l, r));
        }
        self.ranges.sort_by(|a, b| {
            if a.0 == b.0 {
                std::cmp::Ordering::Equal
            } else if lt(a.0, b.0) {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Greater
            }
        });
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(self.ranges.len());
        for &(l, r) in &self.ranges {
            match merged.last_mut() {
                Some(last) if !lt(last.1, l) => {
                    if lt(last.1, r) {
                        last.1 = r;
                    }
                }
                _ => merged.push((l, r)),
            }
        }
        self.ranges = merged;
    }

    /// Forgets what the cumulative ACK `una` now covers.
    pub fn advance(&mut self, una: u32) {
        self.ranges.retain(|&(_, r)| lt(una, r));
        for r in &mut self.ranges {
            if lt(r.0, una) {
                r.0 = una;
            }
        }
    }

    /// Where the SACKed range holding `seq` ends, if one does.
    pub fn covers(&self, seq: u32) -> Option<u32> {
        self.ranges
            .iter()
            .find(|&&(l, r)| !lt(seq, l) && lt(seq, r))
            .map(|&(_, r)| r)
    }

    /// The SACKed ranges, lowest first.
    pub fn ranges(&self) -> &[(u32, u32)] {
        &self.ranges
    }

    /// Forgets everything (the connection's state changed under it).
    pub fn clear(&mut self) {
        self.ranges.clear();
    }
}

/// The receiver's SACK blocks for held out-of-order data (`held`: start
/// and length of each segment, any order): merged, the most recent
/// arrival's block first as RFC 2018 asks, at most `max` blocks.
pub fn blocks(held: &[(u32, usize)], latest: Option<u32>, max: usize) -> Vec<(u32, u32)> {
    let mut b = Scoreboard::default();
    let spans: Vec<(u32, u32)> = held
        .iter()
        .map(|&(s, n)| (s, s.wrapping_add(n as u32)))
        .collect();
    if let Some(min) = spans
        .iter()
        .map(|s| s.0)
        .reduce(|a, c| if lt(c, a) { c } else { a })
    {
        let max_end = spans
            .iter()
            .map(|s| s.1)
            .reduce(|a, c| if lt(a, c) { c } else { a })
            .unwrap_or(min);
        b.add(&spans, min.wrapping_sub(1), max_end);
    }
    let mut out: Vec<(u32, u32)> = b.ranges().to_vec();
    if let Some(seq) = latest
        && let Some(i) = out.iter().position(|&(l, r)| !lt(seq, l) && lt(seq, r))
    {
        let first = out.remove(i);
        out.insert(0, first);
    }
    out.truncate(max);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_merge_and_the_cumulative_ack_trims_them() {
        let mut s = Scoreboard::default();
        s.add(&[(3000, 4000), (1000, 2000)], 500, 10_000);
        s.add(&[(2000, 2500), (9000, 20_000)], 500, 10_000); // past nxt: ignored
        assert_eq!(s.ranges(), &[(1000, 2500), (3000, 4000)]);
        assert_eq!(s.covers(1500), Some(2500));
        assert_eq!(s.covers(2500), None);
        s.advance(3500);
        assert_eq!(s.ranges(), &[(3500, 4000)]);
        s.advance(4000);
        assert!(s.ranges().is_empty());
    }

    #[test]
    fn blocks_work_across_the_sequence_wrap() {
        let mut s = Scoreboard::default();
        s.add(&[(5, 100)], u32::MAX - 1000, 200);
        s.add(&[(u32::MAX - 10, 5)], u32::MAX - 1000, 200);
        assert_eq!(s.ranges(), &[(u32::MAX - 10, 100)]);
        assert_eq!(s.covers(0), Some(100));
    }

    #[test]
    fn a_receiver_reports_its_latest_block_first() {
        let held = [(1000, 500), (1500, 500), (4000, 100), (8000, 10)];
        assert_eq!(
            blocks(&held, Some(4000), 3),
            [(4000, 4100), (1000, 2000), (8000, 8010)]
        );
        assert_eq!(blocks(&held, None, 2), [(1000, 2000), (4000, 4100)]);
        assert!(blocks(&[], None, 3).is_empty());
    }
}

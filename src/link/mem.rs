//! A scripted in-memory [`Link`] for unit tests of the code above it.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::time::{Instant, SystemTime};

use crate::link::{Direction, Frame, Link};

/// Called on every send; each returned frame becomes receivable (as [`Direction::Host`]).
pub type Responder = Box<dyn FnMut(&[u8]) -> Vec<Vec<u8>> + Send>;

/// An in-memory link: a queue of frames to be received, a record of sent
/// frames, and an optional responder that answers sends.
///
/// `recv` never sleeps: with nothing queued it returns `Ok(None)` at once,
/// whatever the deadline (even `None`), so tests cannot hang.
#[derive(Default)]
pub struct MemLink {
    rx: VecDeque<Frame>,
    sent: Vec<Vec<u8>>,
    responder: Option<Responder>,
}

impl fmt::Debug for MemLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemLink")
            .field("rx", &self.rx.len())
            .field("sent", &self.sent.len())
            .field("responder", &self.responder.is_some())
            .finish()
    }
}

impl MemLink {
    /// An empty link: nothing to receive, no responder.
    pub fn new() -> MemLink {
        MemLink::default()
    }

    /// A link whose `responder` is called on every send.
    pub fn with_responder(
        responder: impl FnMut(&[u8]) -> Vec<Vec<u8>> + Send + 'static,
    ) -> MemLink {
        MemLink {
            responder: Some(Box::new(responder)),
            ..MemLink::default()
        }
    }

    /// Queues `data` to be received as an incoming ([`Direction::Host`]) frame.
    pub fn push_rx(&mut self, data: impl Into<Vec<u8>>) {
        let data = data.into();
        self.rx.push_back(Frame {
            orig_len: data.len(),
            data,
            direction: Direction::Host,
            ts: SystemTime::now(),
        });
    }

    /// Queues a whole frame (any direction, timestamp, length) to be received.
    pub fn push_frame(&mut self, frame: Frame) {
        self.rx.push_back(frame);
    }

    /// Frames sent so far, oldest first.
    pub fn sent(&self) -> &[Vec<u8>] {
        &self.sent
    }

    /// Takes the record of sent frames, leaving it empty.
    pub fn take_sent(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.sent)
    }

    /// Number of frames waiting to be received.
    pub fn pending(&self) -> usize {
        self.rx.len()
    }
}

impl Link for MemLink {
    fn send(&mut self, frame: &[u8]) -> io::Result<SystemTime> {
        let now = SystemTime::now();
        self.sent.push(frame.to_vec());
        if let Some(responder) = self.responder.as_mut() {
            for reply in responder(frame) {
                self.push_rx(reply);
            }
        }
        Ok(now)
    }

    fn recv(&mut self, _deadline: Option<Instant>) -> io::Result<Option<Frame>> {
        Ok(self.rx.pop_front())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_and_responder() {
        let mut link = MemLink::with_responder(|f: &[u8]| {
            if f.first() == Some(&1) {
                vec![vec![2, 2], vec![3]]
            } else {
                vec![]
            }
        });
        link.push_rx(vec![9]);
        link.send(&[1, 0]).unwrap();
        link.send(&[7]).unwrap();
        assert_eq!(link.sent(), &[vec![1, 0], vec![7]]);
        assert_eq!(link.pending(), 3);
        let got: Vec<_> = std::iter::from_fn(|| link.recv(None).unwrap()).collect();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].data, vec![9]);
        assert_eq!(got[1].data, vec![2, 2]);
        assert_eq!(got[1].direction, Direction::Host);
        assert_eq!(got[1].orig_len, 2);
        assert_eq!(got[2].data, vec![3]);
        assert!(link.recv(Some(Instant::now())).unwrap().is_none());
        assert_eq!(link.take_sent().len(), 2);
        assert!(link.sent().is_empty());
    }

    #[test]
    fn usable_as_dyn_link() {
        let mut boxed: Box<dyn Link> = Box::new(MemLink::new());
        boxed.send(&[1]).unwrap();
        assert!(boxed.recv(None).unwrap().is_none());
    }
}

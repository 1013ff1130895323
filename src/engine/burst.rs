//! Sending many frames: each frame built (not copied) with the fields given
//! by `--vary` changed, sent in sendmmsg batches, at a steady rate or as fast
//! as the kernel takes them. The one "send many" of craft: `send(p, count=N)`
//! in the language, `craft send --count`, and `craft syn --flood` all run it.

use crate::live::{Live, LiveError};
use crate::output::warn_partial;
use crate::wire::patch::Patch;
use crate::wire::stack::Span;
use crate::wire::{FieldValue, LayerKind, Packet};
use std::io::IsTerminal;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

/// One varied field: `tcp.seq=1-100000` cycles seq through the range.
#[derive(Clone, Debug)]
pub struct Vary {
    layer: usize,
    field: usize,
    lo: u64,
    span: u64,
    /// Stride through the range (1: in order; a large odd one: scattered).
    stride: u64,
    /// Frames per step: the field moves on every `period` frames (a packet
    /// set's outer fields move slower than its inner ones).
    period: u64,
    /// The values themselves, when they are not a range of integers.
    values: Option<Rc<[FieldValue]>>,
}

impl Vary {
    /// Parses `layer.field=LO-HI` (or `=N` for one value) against `pkt`.
    pub fn parse(spec: &str, pkt: &Packet) -> Result<Vary, String> {
        let (path, range) = spec.split_once('=').ok_or_else(|| {
            format!("--vary {spec}: write it as layer.field=LO-HI, e.g. tcp.seq=1-100000")
        })?;
        let (lname, fname) = path
            .split_once('.')
            .ok_or_else(|| format!("--vary {spec}: name the layer and field, e.g. tcp.sport"))?;
        let kind = LayerKind::from_name(lname)
            .ok_or_else(|| format!("--vary {spec}: no layer '{lname}'"))?;
        let (layer, field) =
            Self::locate(pkt, kind, fname).map_err(|m| format!("--vary {spec}: {m}"))?;
        let max = kind.fields()[field]
            .kind
            .max()
            .ok_or_else(|| format!("--vary {spec}: {}.{fname} is not a number", kind.name()))?;
        let num = |t: &str| {
            t.trim()
                .parse::<u64>()
                .map_err(|_| format!("--vary {spec}: '{t}' is not a number"))
        };
        let (lo, hi) = match range.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => (num(range)?, num(range)?),
        };
        if lo > hi || hi > max {
            return Err(format!(
                "--vary {spec}: the range must be LO-HI within 0..={max}"
            ));
        }
        Ok(Vary {
            layer,
            field,
            lo,
            span: hi - lo + 1,
            stride: 1,
            period: 1,
            values: None,
        })
    }

    /// Field `field` of layer `layer` taking each of `values` in turn, each
    /// for `period` frames (a packet set's field, see `set::PacketSet::varies`).
    pub fn values(layer: usize, field: usize, values: Rc<[FieldValue]>, period: u64) -> Vary {
        Vary {
            layer,
            field,
            lo: 0,
            span: (values.len() as u64).max(1),
            stride: 1,
            period: period.max(1),
            values: Some(values),
        }
    }

    /// A field varied pseudo-randomly over `bits` bits (syn --flood's seq).
    pub fn scattered(
        pkt: &Packet,
        kind: LayerKind,
        field: &str,
        bits: u32,
    ) -> Result<Vary, String> {
        let (layer, field) = Self::locate(pkt, kind, field)?;
        Ok(Vary {
            layer,
            field,
            lo: 0,
            span: 1u64 << bits.min(63),
            stride: 2_654_435_761,
            period: 1,
            values: None,
        })
    }

    /// Which layer of `pkt` and which of its fields `kind.field` is.
    fn locate(pkt: &Packet, kind: LayerKind, field: &str) -> Result<(usize, usize), String> {
        let layer = pkt
            .find(kind)
            .ok_or_else(|| format!("the packet has no {} layer", kind.name()))?;
        let field = kind
            .field_index(field)
            .ok_or_else(|| format!("{} has no field '{field}'", kind.name()))?;
        Ok((layer, field))
    }

    /// Which of its values frame `i` takes.
    fn step(&self, i: u64) -> u64 {
        (i / self.period).wrapping_mul(self.stride) % self.span
    }

    /// Sets the field as frame `i` has it.
    pub fn apply(&self, pkt: &mut Packet, i: u64) {
        let k = self.step(i);
        let v = match &self.values {
            Some(vs) => match vs.get(k as usize) {
                Some(v) => v.clone(),
                None => return,
            },
            None => FieldValue::Int(self.lo + k),
        };
        if let Some(l) = pkt.layers.get_mut(self.layer) {
            l.put(self.field, Some(v));
        }
    }

    /// Writes this field straight into `pkt`'s frame, if it has a fixed
    /// place there and every value it takes fits.
    fn patcher(&self, pkt: &Packet, spans: &[Span]) -> Option<Patcher> {
        let patch = Patch::new(pkt, spans, self.layer, self.field)?;
        let values = match &self.values {
            Some(vs) => Some(
                vs.iter()
                    .map(|v| patch.value(v))
                    .collect::<Option<Rc<[u64]>>>()?,
            ),
            None => {
                patch.value(&FieldValue::Int(self.lo + self.span - 1))?;
                None
            }
        };
        Some(Patcher {
            vary: self.clone(),
            patch,
            values,
        })
    }

    /// The same field after `n` layers were put in front of the packet.
    fn shifted(&self, n: usize) -> Vary {
        Vary {
            layer: self.layer + n,
            ..self.clone()
        }
    }
}

/// One varied field written into a copy of the first frame (RFC 1624
/// checksum updates) instead of the packet emitted again.
struct Patcher {
    vary: Vary,
    patch: Patch,
    /// The values as the field's bytes hold them (a packet set's).
    values: Option<Rc<[u64]>>,
}

impl Patcher {
    fn write(&self, frame: &mut [u8], i: u64) {
        let k = self.vary.step(i);
        let v = match &self.values {
            Some(vs) => vs.get(k as usize).copied().unwrap_or(0),
            None => self.vary.lo + k,
        };
        self.patch.write(frame, v);
    }
}

/// The first frame and how to write each varied field into a copy of it,
/// when every one has a fixed place (`wire::patch`).
fn template(pkt: &Packet, vary: &[Vary]) -> Option<(Vec<u8>, Vec<Patcher>)> {
    let mut frame = Vec::new();
    let spans = pkt.emit_with_spans(&mut frame);
    let patchers = vary
        .iter()
        .map(|v| v.patcher(pkt, &spans))
        .collect::<Option<Vec<_>>>()?;
    Some((frame, patchers))
}

/// How to send many.
#[derive(Clone, Debug, Default)]
pub struct Burst {
    /// Frames to send.
    pub count: u64,
    /// Frames per second; None = as fast as possible.
    pub rate: Option<f64>,
    /// Fields to vary per frame.
    pub vary: Vec<Vary>,
    /// Keep receiving while sending (the language: replies may be read
    /// afterwards). Off, the socket drops every frame for itself (one-shots).
    pub keep_receiving: bool,
}

/// What a burst did.
#[derive(Clone, Debug)]
pub struct BurstReport {
    /// The first frame, as sent.
    pub first: Packet,
    /// When the first batch went.
    pub ts: SystemTime,
    /// Frames sent.
    pub sent: u64,
    /// Seconds it took.
    pub secs: f64,
    /// Frames the kernel queued for our socket meanwhile, and dropped.
    pub kernel_queued: u32,
    /// Frames the kernel dropped for our socket.
    pub kernel_drops: u32,
    /// Stopped by Ctrl-C before the count.
    pub interrupted: bool,
}

impl BurstReport {
    /// Frames per second.
    pub fn pps(&self) -> f64 {
        self.sent as f64 / self.secs.max(1e-9)
    }
}

const BATCH: usize = 256;

/// Sends `b.count` frames of `pkt` (defaults filled, host prepared once).
pub fn send_many(live: &mut Live, pkt: &Packet, b: &Burst) -> Result<BurstReport, LiveError> {
    let given = pkt.layers.len();
    let mut pkt = live.ready(pkt)?;
    // Readying only puts layers in front (a missing Ether): the varied
    // fields' layers move by as many.
    let shift = pkt.layers.len().saturating_sub(given);
    let vary: Vec<Vary> = b.vary.iter().map(|v| v.shifted(shift)).collect();
    let first = pkt.clone();
    for n in live.take_notes() {
        crate::output::warn(&n);
    }
    let tap = live.tapping();
    if !b.keep_receiving {
        live.link_mut()?
            .stop_receiving()
            .map_err(|e| LiveError::Other(format!("stopping receive: {e}")))?;
    }
    let _ = live.link_mut()?.stats();
    let progress = std::io::stderr().is_terminal() && b.count > 1000;
    let batch = match b.rate {
        Some(r) => ((r / 1000.0) as usize).clamp(1, BATCH),
        None => BATCH,
    };
    let mut bufs: Vec<Vec<u8>> = (0..batch).map(|_| Vec::with_capacity(128)).collect();
    // Fields with a fixed place are written into a copy of the first frame
    // (with none varied, each frame is that copy); any other makes every
    // frame emitted whole.
    let fast = template(&pkt, &vary);
    let start = Instant::now();
    let ts = SystemTime::now();
    let mut sent: u64 = 0;
    let mut last_progress = start;
    let mut interrupted = false;
    while sent < b.count {
        if crate::link::interrupted().load(std::sync::atomic::Ordering::SeqCst) {
            interrupted = true;
            break;
        }
        let n = batch.min((b.count - sent) as usize);
        for (k, buf) in bufs.iter_mut().take(n).enumerate() {
            let i = sent + k as u64;
            match &fast {
                Some((frame, patchers)) => {
                    buf.clear();
                    buf.extend_from_slice(frame);
                    for p in patchers {
                        p.write(buf, i);
                    }
                }
                None => {
                    for v in &vary {
                        v.apply(&mut pkt, i);
                    }
                    pkt.emit_into(buf);
                }
            }
        }
        if let Some(r) = b.rate {
            // Hold the rate: this batch is due when the frames before it would have gone.
            let due = start + Duration::from_secs_f64(sent as f64 / r);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        let frames: Vec<&[u8]> = bufs[..n].iter().map(Vec::as_slice).collect();
        let went = live
            .link_mut()?
            .send_batch(&frames)
            .map_err(|e| LiveError::Other(format!("sending: {e}")))?;
        if tap {
            let now = SystemTime::now();
            for f in &frames[..went] {
                live.tap(now, f)?;
            }
        }
        if b.keep_receiving {
            // Our looped-back copies are ours, not frames to show or match;
            // different frames each have their own, read before the next batch.
            if vary.is_empty() {
                live.expect_echo(&bufs[0], went as u64);
            } else {
                for f in &frames[..went] {
                    live.expect_echo(f, 1);
                }
                live.take_queued()?;
            }
        }
        sent += went as u64;
        if progress && last_progress.elapsed() >= Duration::from_millis(500) {
            last_progress = Instant::now();
            let secs = start.elapsed().as_secs_f64();
            warn_partial(&format!(
                "\rsent {sent} of {} ({:.0} pps)   ",
                b.count,
                sent as f64 / secs
            ));
        }
    }
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    let (kernel_queued, kernel_drops) = live.link_mut()?.stats().unwrap_or((0, 0));
    if progress {
        warn_partial("\r");
    }
    Ok(BurstReport {
        first: first.resolved(),
        ts,
        sent,
        secs,
        kernel_queued,
        kernel_drops,
        interrupted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::MemLink;
    use crate::wire::{Ipv4, Tcp};
    use std::sync::{Arc, Mutex};

    /// The frames a burst of `count` sends with `specs` varied, and the
    /// same frames built one by one (each packet set and emitted whole).
    fn sent_and_expected(specs: &[&str], count: u64) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let pkt = Packet::ether_ip_tcp(
            Ipv4 {
                src: Some("127.0.0.1".parse().unwrap()),
                dst: Some("127.0.0.1".parse().unwrap()),
                ..Ipv4::default()
            },
            Tcp {
                sport: Some(40000),
                dport: Some(9),
                flags: Some(2),
                ..Tcp::default()
            },
            b"",
        );
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        let link = MemLink::with_responder(move |f: &[u8]| {
            s2.lock().unwrap().push(f.to_vec());
            vec![]
        });
        let mut live = Live::with_link(Box::new(link));
        let vary: Vec<Vary> = specs
            .iter()
            .map(|s| Vary::parse(s, &pkt).unwrap())
            .collect();
        let burst = Burst {
            count,
            vary: vary.clone(),
            ..Burst::default()
        };
        let r = send_many(&mut live, &pkt, &burst).unwrap();
        assert_eq!(r.sent, count);
        let mut one = live.ready(&pkt).unwrap();
        assert_eq!(
            template(&one, &vary).is_some(),
            specs.iter().all(|s| !s.contains("reserved")),
            "which path the burst took"
        );
        let expected = (0..count)
            .map(|i| {
                for v in &vary {
                    v.apply(&mut one, i);
                }
                one.emit()
            })
            .collect();
        let sent = seen.lock().unwrap().clone();
        (sent, expected)
    }

    #[test]
    fn fields_written_into_the_first_frame_give_the_frames_emitted_whole() {
        let (sent, expected) = sent_and_expected(
            &[
                "tcp.seq=4294967000-4294967295",
                "ip.ttl=1-5",
                "tcp.sport=1-65535",
            ],
            700,
        );
        assert_eq!(sent.len(), 700);
        assert_eq!(sent, expected);
    }

    #[test]
    fn a_field_without_a_fixed_place_makes_every_frame_emitted_whole() {
        let pkt = Packet::ether_ip_tcp(Ipv4::default(), Tcp::default(), b"");
        let v = Vary::parse("tcp.reserved=0-3", &pkt).unwrap();
        let mut frame = Vec::new();
        let spans = pkt.emit_with_spans(&mut frame);
        assert!(v.patcher(&pkt, &spans).is_none());
        let (sent, expected) = sent_and_expected(&["tcp.seq=1-300", "tcp.reserved=0-3"], 300);
        assert_eq!(sent, expected);
    }
}

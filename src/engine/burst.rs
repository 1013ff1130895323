//! Sending many frames: each frame built (not copied) with the fields given
//! by `--vary` changed, sent in sendmmsg batches, at a steady rate or as fast
//! as the kernel takes them. The one "send many" of craft: `send(p, count=N)`
//! in the language, `craft send --count`, and `craft syn --flood` all run it.

use crate::live::{Live, LiveError};
use crate::output::warn_partial;
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

    /// Sets the field as frame `i` has it.
    pub fn apply(&self, pkt: &mut Packet, i: u64) {
        let k = (i / self.period).wrapping_mul(self.stride) % self.span;
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

    /// The same field after `n` layers were put in front of the packet.
    fn shifted(&self, n: usize) -> Vary {
        Vary {
            layer: self.layer + n,
            ..self.clone()
        }
    }
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
            for v in &vary {
                v.apply(&mut pkt, sent + k as u64);
            }
            pkt.emit_into(buf);
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

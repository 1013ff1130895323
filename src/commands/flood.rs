//! Rate mode: many frames, each built (not copied) with the fields given by
//! `--vary` changed, sent in batches with sendmmsg, at a steady `--rate` or as
//! fast as the kernel takes them. Reports sent, rate and kernel drops.

use crate::live::{Live, LiveError};
use crate::wire::{FieldValue, LayerKind, Packet};
use std::io::IsTerminal;
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
        let layer = pkt
            .find(kind)
            .ok_or_else(|| format!("--vary {spec}: the packet has no {} layer", kind.name()))?;
        let field = kind
            .field_index(fname)
            .ok_or_else(|| format!("--vary {spec}: {} has no field '{fname}'", kind.name()))?;
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
        })
    }

    /// A field varied pseudo-randomly over its whole range (syn --flood's seq).
    pub fn scattered(layer: usize, field: usize, bits: u32) -> Vary {
        Vary {
            layer,
            field,
            lo: 0,
            span: 1u64 << bits,
            stride: 2_654_435_761,
        }
    }

    fn apply(&self, pkt: &mut Packet, i: u64) {
        let v = self.lo + (i.wrapping_mul(self.stride) % self.span);
        if let Some(l) = pkt.layers.get_mut(self.layer) {
            l.put(self.field, Some(FieldValue::Int(v)));
        }
    }
}

/// How to send.
#[derive(Clone, Debug)]
pub struct FloodOptions {
    /// Frames to send.
    pub count: u64,
    /// Frames per second; None = as fast as possible.
    pub rate: Option<f64>,
    /// Fields to vary per frame.
    pub vary: Vec<Vary>,
    /// Print a JSON summary.
    pub json: bool,
}

const BATCH: usize = 256;

/// Sends; returns exit code 0, or the interruption as an error after the stats.
pub fn run(live: &mut Live, pkt: &Packet, o: &FloodOptions) -> Result<i32, LiveError> {
    // Defaults and host preparation once; the replies are not read.
    let mut pkt = live.ready(pkt)?;
    for n in live.take_notes() {
        eprintln!("{n}");
    }
    let tap = live.tapping();
    live.link_mut()?
        .stop_receiving()
        .map_err(|e| LiveError::Other(format!("stopping receive: {e}")))?;
    let _ = live.link_mut()?.stats();
    let progress = std::io::stderr().is_terminal();
    let batch = match o.rate {
        Some(r) => ((r / 1000.0) as usize).clamp(1, BATCH),
        None => BATCH,
    };
    let mut bufs: Vec<Vec<u8>> = (0..batch).map(|_| Vec::with_capacity(128)).collect();
    let start = Instant::now();
    let mut sent: u64 = 0;
    let mut last_progress = start;
    let mut interrupted = false;
    while sent < o.count {
        if crate::link::interrupted().load(std::sync::atomic::Ordering::SeqCst) {
            interrupted = true;
            break;
        }
        let n = batch.min((o.count - sent) as usize);
        for (k, buf) in bufs.iter_mut().take(n).enumerate() {
            for v in &o.vary {
                v.apply(&mut pkt, sent + k as u64);
            }
            pkt.emit_into(buf);
        }
        if let Some(r) = o.rate {
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
        sent += went as u64;
        if progress && last_progress.elapsed() >= Duration::from_millis(500) {
            last_progress = Instant::now();
            let secs = start.elapsed().as_secs_f64();
            eprint!(
                "\rsent {sent} of {} ({:.0} pps)   ",
                o.count,
                sent as f64 / secs
            );
        }
    }
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    let (queued, drops) = live.link_mut()?.stats().unwrap_or((0, 0));
    if progress {
        eprint!("\r");
    }
    let pps = sent as f64 / secs;
    if o.json {
        println!(
            "{}",
            crate::render::json::object(&[
                ("sent", crate::render::json::J::Int(sent as i64)),
                ("seconds", crate::render::json::J::Num(secs)),
                ("pps", crate::render::json::J::Num(pps)),
                ("kernel_queued", crate::render::json::J::Int(queued.into())),
                ("kernel_drops", crate::render::json::J::Int(drops.into())),
            ])
        );
    } else {
        println!(
            "sent {sent} frames in {secs:.3} s: {pps:.0} pps ({}); kernel drops: {drops}",
            crate::render::summary(&pkt)
        );
    }
    if interrupted {
        return Err(LiveError::Interrupted);
    }
    Ok(0)
}

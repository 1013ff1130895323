//! `craft read FILE.pcap`: decode a capture (tcpdump's or craft's own).

use crate::engine::{Error, EvalResult, Runtime};
use crate::link::pcap::PcapReader;
use crate::outcome::Outcome;
use crate::render;
use crate::wire::Packet;
use crate::wire::bpf::Filter;
use std::path::Path;

/// How to print each frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadStyle {
    /// One summary line per frame.
    Summary,
    /// The layered field view.
    Show,
    /// Hexdump.
    Hex,
    /// TCP conversation `stream` (0 = the first) as a ladder diagram, or
    /// with `follow` its data both ways.
    Flow {
        /// Which conversation, as Wireshark's tcp.stream numbers them.
        stream: usize,
        /// The data (Follow TCP Stream) instead of the ladder.
        follow: bool,
    },
}

fn unreadable(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::usage(format!("{}: {e}", path.display()))
}

/// Prints every frame `filter` passes (numbered as in the whole file, times
/// from its first frame); an unreadable file is an error.
pub fn run(
    rt: &mut Runtime,
    path: &Path,
    style: ReadStyle,
    filter: &Filter,
) -> EvalResult<Outcome> {
    let mut rd = PcapReader::open(path).map_err(|e| unreadable(path, e))?;
    if let ReadStyle::Flow { stream, follow } = style {
        return flow(rt, path, &mut rd, stream, follow, filter);
    }
    let color = rt.opts.color;
    let mut n = 0u64;
    let mut first: Option<std::time::SystemTime> = None;
    while let Some((ts, data, orig_len)) = rd
        .next_frame()
        .map_err(|e| unreadable(path, format!("{e} (after {n} frames)")))?
    {
        n += 1;
        let t0 = *first.get_or_insert(ts);
        if !filter.matches_captured(&data, orig_len) {
            continue;
        }
        let rel = ts.duration_since(t0).unwrap_or_default().as_secs_f64();
        let (p, err) = Packet::decode(&data);
        match style {
            ReadStyle::Summary => {
                rt.print(&format!("{n:>5} {rel:>10.6}  {}", render::summary(&p)))?
            }
            ReadStyle::Show => rt.print_raw(&format!(
                "--- frame {n} at {rel:.6} s ---\n{}",
                render::show(&p)
            ))?,
            ReadStyle::Hex | ReadStyle::Flow { .. } => rt.print_raw(&format!(
                "--- frame {n} at {rel:.6} s ---\n{}",
                render::hexdump(&p, color)
            ))?,
        }
        if let Some(e) = err {
            rt.print(&format!("      (decode stopped: {e})"))?;
        }
    }
    Ok(Outcome::Success)
}

fn flow<R: std::io::Read>(
    rt: &mut Runtime,
    path: &Path,
    rd: &mut PcapReader<R>,
    stream: usize,
    follow: bool,
    filter: &Filter,
) -> EvalResult<Outcome> {
    let mut frames = Vec::new();
    while let Some((ts, data, orig_len)) = rd
        .next_frame()
        .map_err(|e| unreadable(path, format!("{e} (after {} frames)", frames.len())))?
    {
        if !filter.matches_captured(&data, orig_len) {
            continue;
        }
        frames.push((ts, Packet::parse(&data)));
    }
    match render::flow::conversation(&frames, stream) {
        Some((ends, entries)) => {
            let text = if follow {
                let data = render::flow::stream_data(&entries);
                render::flow::follow(&ends, &data, rt.opts.color)
            } else {
                render::flow::ladder(&ends, &entries)
            };
            rt.print_raw(&text)?;
            Ok(Outcome::Success)
        }
        None => {
            let n = render::flow::conversation_count(&frames);
            let what = if n == 0 {
                "no TCP conversation".to_string()
            } else {
                format!(
                    "no TCP conversation number {stream} (it holds {n}: 0 to {})",
                    n - 1
                )
            };
            crate::output::warn(&format!(
                "craft: {}: {what} in {} frames",
                path.display(),
                frames.len()
            ));
            Ok(Outcome::CheckFailed)
        }
    }
}

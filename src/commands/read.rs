//! `craft read FILE.pcap`: decode a capture (tcpdump's or craft's own).

use crate::link::pcap::PcapReader;
use crate::render;
use crate::wire::Packet;

/// How to print each frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadStyle {
    /// One summary line per frame.
    Summary,
    /// The layered field view.
    Show,
    /// Hexdump.
    Hex,
    /// The first TCP conversation as a ladder diagram.
    Flow,
}

/// Prints every frame; returns the exit code (2 for an unreadable file).
pub fn run(path: &std::path::Path, style: ReadStyle, color: bool) -> i32 {
    let mut rd = match PcapReader::open(path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("craft: {}: {e}", path.display());
            return 2;
        }
    };
    if style == ReadStyle::Flow {
        return flow(path, &mut rd);
    }
    let mut n = 0u64;
    let mut first: Option<std::time::SystemTime> = None;
    loop {
        match rd.next_frame() {
            Ok(Some((ts, data, _))) => {
                n += 1;
                let t0 = *first.get_or_insert(ts);
                let rel = ts.duration_since(t0).unwrap_or_default().as_secs_f64();
                let (p, err) = Packet::decode(&data);
                match style {
                    ReadStyle::Summary => println!("{n:>5} {rel:>10.6}  {}", render::summary(&p)),
                    ReadStyle::Show => {
                        print!("--- frame {n} at {rel:.6} s ---\n{}", render::show(&p))
                    }
                    ReadStyle::Hex | ReadStyle::Flow => print!(
                        "--- frame {n} at {rel:.6} s ---\n{}",
                        render::hexdump(&p, color)
                    ),
                }
                if let Some(e) = err {
                    println!("      (decode stopped: {e})");
                }
            }
            Ok(None) => return 0,
            Err(e) => {
                eprintln!("craft: {}: {e} (after {n} frames)", path.display());
                return 2;
            }
        }
    }
}

fn flow<R: std::io::Read>(path: &std::path::Path, rd: &mut PcapReader<R>) -> i32 {
    let mut frames = Vec::new();
    loop {
        match rd.next_frame() {
            Ok(Some((ts, data, _))) => frames.push((ts, Packet::parse(&data))),
            Ok(None) => break,
            Err(e) => {
                eprintln!(
                    "craft: {}: {e} (after {} frames)",
                    path.display(),
                    frames.len()
                );
                return 2;
            }
        }
    }
    match render::flow::conversation(&frames) {
        Some((ends, entries)) => {
            print!("{}", render::flow::ladder(&ends, &entries));
            0
        }
        None => {
            eprintln!(
                "craft: {}: no TCP conversation in {} frames",
                path.display(),
                frames.len()
            );
            1
        }
    }
}

//! `fragment(p, size)` and `defragment(pkts)`: IPv4 fragments as lists of
//! packets, cut and put together by [`crate::wire::fragment`].

use super::args::Args;
use super::builtins::packet_arg;
use super::value::{PacketView, Value};
use super::{Engine, Error, EvalResult};
use crate::wire::fragment as wf;
use crate::wire::{Layer, LayerKind, Packet};
use std::hash::{BuildHasher, RandomState};

/// A datagram's bytes in its frame: the layers before IP, and IP onwards.
fn split(pkt: &Packet) -> Option<(Vec<u8>, Vec<u8>)> {
    let i = pkt.find(LayerKind::Ip)?;
    let mut out = Vec::new();
    let spans = pkt.emit_with_spans(&mut out);
    let sp = spans.get(i)?;
    let end = sp.end.max(sp.header_end).min(out.len());
    Some((out[..sp.start].to_vec(), out[sp.start..end].to_vec()))
}

/// Decodes `prefix` + `datagram` as a packet starting like `like` did. The
/// IP length and checksum are left to compute (the same bytes), so a field
/// changed on a fragment afterwards still goes out with a good checksum.
fn rebuild(like: &Packet, prefix: &[u8], datagram: &[u8]) -> Packet {
    let first = like.layers.first().map_or(LayerKind::Ip, Layer::kind);
    let mut b = prefix.to_vec();
    b.extend_from_slice(datagram);
    let mut pkt = Packet::decode_from(first, &b).0;
    if let Some(i) = pkt.find(LayerKind::Ip)
        && let Some(Layer::Ip(h)) = pkt.layers.get_mut(i)
    {
        h.len = None;
        h.chksum = None;
    }
    pkt
}

/// `fragment(packet, size)`: the IPv4 fragments of a packet, as a list.
pub fn fragment(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let p = packet_arg("fragment", a.req("packet")?, pos)?;
    let size = match a.req("size")? {
        Value::Int(n) if (8..=65_535).contains(&n) => n as usize,
        v => {
            return Err(Error::eval(
                pos,
                format!(
                    "fragment(): size is the bytes of payload a fragment carries, 8..=65535 (a multiple of 8), not {}",
                    v.repr()
                ),
            ));
        }
    };
    let mut pkt = eng.as_sent(p, pos)?.to_packet();
    let Some(i) = pkt.find(LayerKind::Ip) else {
        return Err(Error::eval(
            pos,
            "fragment(): the packet has no IP layer to fragment (IPv4 only; IPv6 uses IPv6ExtHdrFragment)",
        ));
    };
    if let Some(Layer::Ip(h)) = pkt.layers.get_mut(i) {
        // One id for every fragment, so they reassemble into one datagram.
        h.id.get_or_insert_with(|| (RandomState::new().hash_one(0u8) as u16).max(1));
    }
    pkt.check_build()
        .map_err(|m| Error::eval(pos, format!("fragment(): {m}")))?;
    let Some((prefix, datagram)) = split(&pkt) else {
        return Err(Error::eval(pos, "fragment(): the IP layer emits no bytes"));
    };
    let frags =
        wf::fragment(&datagram, size).map_err(|m| Error::eval(pos, format!("fragment(): {m}")))?;
    Ok(Value::List(
        frags
            .iter()
            .map(|f| Value::Packet(PacketView::whole(rebuild(&pkt, &prefix, f))))
            .collect(),
    ))
}

/// `defragment(packets)`: the list with every fragmented datagram reassembled.
pub fn defragment(_: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let items = match a.req("packets")? {
        Value::List(items) => items,
        v => {
            return Err(Error::eval(
                pos,
                format!(
                    "defragment() takes a list of packets (from fragment(), sniff() or rdpcap()), not {}",
                    v.type_name()
                ),
            ));
        }
    };
    let mut views = Vec::with_capacity(items.len());
    for it in items {
        views.push(packet_arg("defragment", it, pos)?);
    }
    // Packets with no IPv4 layer pass through at their place.
    let mut out: Vec<(usize, Value)> = Vec::new();
    let mut parts = Vec::new();
    let mut at = Vec::new();
    for (n, v) in views.iter().enumerate() {
        let pkt = v.to_packet();
        match split(&pkt) {
            Some((prefix, d)) => {
                at.push((n, pkt, prefix));
                parts.push(d);
            }
            None => out.push((n, Value::Packet(v.clone()))),
        }
    }
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    let whole =
        wf::defragment(&refs).map_err(|m| Error::eval(pos, format!("defragment(): {m}")))?;
    for (k, d) in whole {
        let (n, like, prefix) = &at[k];
        let mut view = PacketView::whole(rebuild(like, prefix, &d));
        view.ts = views[*n].ts;
        out.push((*n, Value::Packet(view)));
    }
    out.sort_by_key(|x| x.0);
    Ok(Value::List(out.into_iter().map(|x| x.1).collect()))
}

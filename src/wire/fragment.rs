//! IPv4 fragmentation and reassembly, on datagram bytes (header and payload).
//!
//! [`fragment`] cuts a datagram's payload in pieces (offsets in 8-byte units,
//! MF on all but the last, the id and the header copied, options included, as
//! scapy does); [`defragment`] puts fragments back together by (src, dst,
//! proto, id) and offset. Both recompute the IPv4 header checksum.

use super::checksum;
use std::collections::HashMap;
use std::net::Ipv4Addr;

/// MF (more fragments) in the flags/offset word.
const MF: u16 = 0x2000;
/// The 13-bit offset in the flags/offset word.
const OFFSET: u16 = 0x1fff;

/// A datagram's header length, total length and flags/offset word, checked.
fn header(d: &[u8]) -> Result<(usize, usize, u16), String> {
    if d.len() < 20 || d[0] >> 4 != 4 {
        return Err(format!("not an IPv4 datagram ({} bytes)", d.len()));
    }
    let hlen = usize::from(d[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([d[2], d[3]]));
    if hlen < 20 || hlen > d.len() {
        return Err(format!(
            "IP header length {hlen} does not fit the {} bytes",
            d.len()
        ));
    }
    // A length field shorter than the header or longer than the bytes: use the bytes.
    let total = if total < hlen || total > d.len() {
        d.len()
    } else {
        total
    };
    Ok((hlen, total, u16::from_be_bytes([d[6], d[7]])))
}

/// Writes total length and flags/offset into a header and recomputes its checksum.
fn finish(h: &mut [u8], total: usize, flags_frag: u16) {
    h[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    h[6..8].copy_from_slice(&flags_frag.to_be_bytes());
    h[10..12].fill(0);
    let c = checksum::checksum(h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
}

/// Cuts `datagram` into fragments carrying at most `size` bytes of payload
/// each, rounded down to a multiple of 8. A datagram that is already a
/// fragment is cut further (its offset and MF carried on); one whose payload
/// fits is returned as it is.
pub fn fragment(datagram: &[u8], size: usize) -> Result<Vec<Vec<u8>>, String> {
    let (hlen, total, ff) = header(datagram)?;
    let chunk = size / 8 * 8;
    if chunk == 0 {
        return Err(format!(
            "a fragment carries a multiple of 8 bytes: size {size} is under 8"
        ));
    }
    let payload = &datagram[hlen..total];
    if payload.len() <= chunk {
        return Ok(vec![datagram[..total].to_vec()]);
    }
    let base = ff & OFFSET;
    let keep = ff & !(OFFSET | MF);
    let last_mf = ff & MF;
    let pieces = payload.len().div_ceil(chunk);
    if usize::from(base) + (payload.len() - 1) / 8 > usize::from(OFFSET) {
        return Err("the fragment offsets would pass 8191 (65,528 bytes)".into());
    }
    let mut out = Vec::with_capacity(pieces);
    for (i, piece) in payload.chunks(chunk).enumerate() {
        let mut f = Vec::with_capacity(hlen + piece.len());
        f.extend_from_slice(&datagram[..hlen]);
        f.extend_from_slice(piece);
        let mf = if i + 1 < pieces { MF } else { last_mf };
        let off = base + (i * chunk / 8) as u16;
        finish(&mut f[..hlen], hlen + piece.len(), keep | mf | off);
        out.push(f);
    }
    Ok(out)
}

/// What identifies a datagram's fragments: (src, dst, proto, id).
type Key = (Ipv4Addr, Ipv4Addr, u8, u16);

/// A fragment: byte offset, MF, index in the input, header, payload.
type Piece<'a> = (usize, bool, usize, &'a [u8], &'a [u8]);

fn key(d: &[u8]) -> Key {
    (
        Ipv4Addr::new(d[12], d[13], d[14], d[15]),
        Ipv4Addr::new(d[16], d[17], d[18], d[19]),
        d[9],
        u16::from_be_bytes([d[4], d[5]]),
    )
}

fn name(k: &Key) -> String {
    format!("{} > {} proto {} id {}", k.0, k.1, k.2, k.3)
}

/// Reassembles the fragments among `datagrams`, returning every datagram whole
/// (those that are not fragments pass through) beside the index of the input
/// whose header it keeps: the first fragment's (offset 0), MF and offset
/// cleared. They come in the order of those indices. An overlap (other than
/// an exact repeat) or a missing piece is an error naming the datagram.
pub fn defragment(datagrams: &[&[u8]]) -> Result<Vec<(usize, Vec<u8>)>, String> {
    enum Slot {
        Whole(usize, Vec<u8>),
        Pieces(Key),
    }
    let mut slots = Vec::new();
    let mut groups: HashMap<Key, Vec<Piece>> = HashMap::new();
    for (n, d) in datagrams.iter().enumerate() {
        let (hlen, total, ff) = header(d).map_err(|e| format!("packet {n}: {e}"))?;
        if ff & (MF | OFFSET) == 0 {
            slots.push(Slot::Whole(n, d[..total].to_vec()));
            continue;
        }
        let k = key(d);
        let g = groups.entry(k).or_default();
        if g.is_empty() {
            slots.push(Slot::Pieces(k));
        }
        let off = usize::from(ff & OFFSET) * 8;
        g.push((off, ff & MF != 0, n, &d[..hlen], &d[hlen..total]));
    }
    let mut out = Vec::with_capacity(slots.len());
    for s in slots {
        let k = match s {
            Slot::Whole(n, d) => {
                out.push((n, d));
                continue;
            }
            Slot::Pieces(k) => k,
        };
        let mut g = groups.remove(&k).unwrap_or_default();
        g.sort_by_key(|p| (p.0, p.4.len()));
        g.dedup_by(|b, a| a.0 == b.0 && a.4 == b.4);
        let who = name(&k);
        let Some(first) = g.first().filter(|p| p.0 == 0) else {
            return Err(format!("{who}: the first fragment (offset 0) is missing"));
        };
        let (n, mut h) = (first.2, first.3.to_vec());
        let mut payload = Vec::new();
        let mut ended = false;
        for &(off, more, _, _, data) in &g {
            if ended {
                return Err(format!(
                    "{who}: a fragment at byte {off} follows the last one (MF clear)"
                ));
            }
            if off < payload.len() {
                return Err(format!(
                    "{who}: fragments overlap at byte {off} (bytes up to {} already there)",
                    payload.len()
                ));
            }
            if off > payload.len() {
                return Err(format!("{who}: bytes {}..{off} are missing", payload.len()));
            }
            if more && data.len() % 8 != 0 {
                return Err(format!(
                    "{who}: the fragment at byte {off} has MF set but {} bytes, not a multiple of 8",
                    data.len()
                ));
            }
            payload.extend_from_slice(data);
            ended = !more;
        }
        if !ended {
            return Err(format!(
                "{who}: the last fragment (MF clear) is missing after byte {}",
                payload.len()
            ));
        }
        let total = h.len() + payload.len();
        if total > 65_535 {
            return Err(format!(
                "{who}: reassembled it is {total} bytes, over 65,535"
            ));
        }
        let ff = u16::from_be_bytes([h[6], h[7]]) & !(MF | OFFSET);
        let hl = h.len();
        finish(&mut h[..hl], total, ff);
        h.extend_from_slice(&payload);
        out.push((n, h));
    }
    out.sort_by_key(|d| d.0);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::defrag::IpDefragPool;
    use etherparse::{PacketBuilder, SlicedPacket};

    /// 127.0.0.1 > 127.0.0.1 UDP 1000 > 2000 with `n` bytes of data, id 0x1234, no DF.
    fn udp(n: usize) -> Vec<u8> {
        let data: Vec<u8> = (0..n).map(|i| i as u8).collect();
        let b = PacketBuilder::ipv4([127, 0, 0, 1], [127, 0, 0, 1], 64).udp(1000, 2000);
        let mut out = Vec::new();
        b.write(&mut out, &data).unwrap();
        out[4..6].copy_from_slice(&0x1234u16.to_be_bytes());
        out[6] = 0; // etherparse sets DF
        out[10..12].fill(0);
        let c = checksum::checksum(&out[..20]);
        out[10..12].copy_from_slice(&c.to_be_bytes());
        out
    }

    #[test]
    fn fragments_reassemble_with_etherparse() {
        let d = udp(40); // 48 bytes of IP payload
        let frags = fragment(&d, 20).unwrap(); // 16-byte pieces
        assert_eq!(frags.len(), 3);
        let mut pool = IpDefragPool::<(), ()>::new();
        let mut whole = None;
        for (i, f) in frags.iter().enumerate() {
            let s = SlicedPacket::from_ip(f).unwrap();
            let etherparse::NetSlice::Ipv4(ip) = s.net.as_ref().unwrap() else {
                panic!("not IPv4");
            };
            let h = ip.header();
            assert_eq!(h.identification(), 0x1234);
            assert_eq!(h.fragments_offset().value(), (i * 2) as u16);
            assert_eq!(h.more_fragments(), i < 2);
            assert_eq!(
                checksum::verify_ip_header(&f[..20]),
                checksum::ChecksumStatus::Good
            );
            whole = pool.process_sliced_packet(&s, (), ()).unwrap();
        }
        assert_eq!(whole.unwrap().payload, d[20..]);
        let refs: Vec<&[u8]> = frags.iter().map(Vec::as_slice).collect();
        assert_eq!(defragment(&refs).unwrap(), vec![(0, d)]);
    }

    #[test]
    fn known_bytes_of_a_second_fragment() {
        let frags = fragment(&udp(40), 16).unwrap();
        // Second piece: len 36, MF and offset 2 (0x2002), the header checksum recomputed.
        assert_eq!(&frags[1][..8], &[0x45, 0, 0, 36, 0x12, 0x34, 0x20, 0x02]);
        let mut h = frags[1][..20].to_vec();
        h[10..12].fill(0);
        assert_eq!(
            u16::from_be_bytes([frags[1][10], frags[1][11]]),
            checksum::checksum(&h)
        );
        assert_eq!(&frags[2][6..8], &[0x00, 0x04]);
    }

    #[test]
    fn size_rounds_down_and_small_payloads_stay_whole() {
        let d = udp(40);
        assert_eq!(fragment(&d, 17).unwrap(), fragment(&d, 16).unwrap());
        assert_eq!(fragment(&d, 100).unwrap(), vec![d.clone()]);
        assert!(fragment(&d, 7).unwrap_err().contains("under 8"));
    }

    #[test]
    fn defragment_names_overlaps_and_gaps() {
        let d = udp(40);
        let f = fragment(&d, 16).unwrap();
        let e = defragment(&[&f[0], &f[2]]).unwrap_err();
        assert!(
            e.contains("id 4660") && e.contains("16..32 are missing"),
            "{e}"
        );
        let e = defragment(&[&f[0], &f[1]]).unwrap_err();
        assert!(e.contains("last fragment"), "{e}");
        let e = defragment(&[&f[1], &f[2]]).unwrap_err();
        assert!(e.contains("offset 0"), "{e}");
        let big = fragment(&d, 24).unwrap();
        let e = defragment(&[&f[0], &big[0], &f[2]]).unwrap_err();
        assert!(e.contains("overlap"), "{e}");
        // An exact repeat and an unfragmented datagram are fine, in order.
        let other = udp(4);
        let out = defragment(&[&f[2], &other, &f[0], &f[1], &f[1]]).unwrap();
        assert_eq!(out, vec![(1, other), (2, d)]);
    }

    #[test]
    fn bad_bytes_are_errors() {
        assert!(fragment(&[0x45, 0, 0], 8).is_err());
        assert!(defragment(&[&[0x60; 40]]).unwrap_err().contains("packet 0"));
    }
}

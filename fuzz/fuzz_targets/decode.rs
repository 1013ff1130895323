//! Any bytes as an Ethernet frame: decoding never panics, re-emits byte for
//! byte, and every renderer copes with what came out.
#![no_main]

use craft::render;
use craft::wire::Packet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (p, _err) = Packet::decode(data);
    assert_eq!(p.emit(), data, "decode must be lossless");
    let _ = render::show(&p);
    let _ = render::summary(&p);
    let _ = render::hexdump(&p, false);
    let _ = render::hex_line(&p);
    let r = p.resolved();
    let _ = render::show(&r);
});

//! Any bytes as a pcap or pcapng file: reading never panics, and every frame
//! read decodes losslessly.
#![no_main]

use craft::link::pcap::read_all;
use craft::render;
use craft::wire::Packet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(records) = read_all(data) {
        for (_ts, frame, _orig_len) in &records {
            let (p, _err) = Packet::decode(frame);
            assert_eq!(&p.emit(), frame, "decode must be lossless");
            let _ = render::summary(&p);
        }
    }
});

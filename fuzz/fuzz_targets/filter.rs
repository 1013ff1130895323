//! Any text as a capture filter: parsing never panics or overflows the stack,
//! and a filter that parses matches a packet without panicking.
#![no_main]

use craft::session::filter::Filter;
use craft::wire::Packet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(f) = Filter::parse(&text) {
        let syn = Packet::parse(&hex::decode(SYN).unwrap_or_default());
        let _ = f.matches(&syn);
    }
});

/// A SYN captured on lo.
const SYN: &str = "00000000000000000000000008004500003cc03e400040067c7b7f0000017f000001dbf004d2f8dea4d900000000a002ffd7fe3000000204ffd70402080a29657126000000000103030a";

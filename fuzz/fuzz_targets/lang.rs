//! Any text as a program: parsing it never panics, and neither does evaluating
//! it offline (`live: None`: send, sr1, sniff and the rest just error).
//!
//! Skipped: inputs over 4 KiB (strings repeat up to 16 MiB with `*`). Parsed but
//! not evaluated: inputs naming `sleep` (stalls the fuzzer), `for` (loops of a
//! million items nest), `include` (reads files) or `save` (writes them).
#![no_main]

use craft::engine::Engine;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > 4096 {
        return;
    }
    let src = String::from_utf8_lossy(data);
    let _ = craft::lang::parse_program(&src);
    let _ = craft::lang::parse_expr(&src);
    if ["sleep", "for", "include", "save"]
        .iter()
        .any(|w| src.contains(w))
    {
        return;
    }
    let mut eng = Engine::new(Box::new(std::io::sink()));
    let _ = eng.run_source("", &src);
});

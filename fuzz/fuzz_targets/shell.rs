//! Any keystrokes in the shell: completion and the hint, asked at every
//! cursor position of any UTF-8 line, never panic (they run on each key).
#![no_main]

use craft::engine::Engine;
use craft::engine::complete::{complete, hint};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > 512 {
        return;
    }
    let line = String::from_utf8_lossy(data);
    let mut eng = Engine::new(Box::new(std::io::sink()));
    let _ = eng.run_source("", "p = Ether()/IP()/TCP(dport=80)/\"hi\"\nport = 1234");
    for pos in 0..=line.len() + 1 {
        let _ = complete(&eng, &line, pos);
        let _ = hint(&eng, &line, pos);
    }
});

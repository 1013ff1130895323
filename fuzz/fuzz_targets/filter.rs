//! Any text as a capture filter: parsing and compiling to BPF never panic or
//! overflow the stack (depth and length are bounded), and a filter that
//! compiles runs over frames (a SYN, the same cut short, junk made of the
//! input) without panicking, its program well formed.
#![no_main]

use craft::wire::bpf::Filter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(f) = Filter::parse(&text) {
        let syn = hex::decode(SYN).unwrap_or_default();
        let _ = f.matches(&syn);
        let _ = f.matches_captured(&syn[..34], syn.len());
        let _ = f.matches(data);
        let code = f.program().insns();
        // Every jump lands inside the program.
        for (i, ins) in code.iter().enumerate() {
            if ins.code & 0x07 == 0x05 {
                let far = if ins.code == 0x05 {
                    ins.k as usize
                } else {
                    usize::from(ins.jt.max(ins.jf))
                };
                assert!(i + 1 + far < code.len(), "jump out of the program at {i}");
            }
        }
    }
});

/// A SYN captured on lo.
const SYN: &str = "00000000000000000000000008004500003cc03e400040067c7b7f0000017f000001dbf004d2f8dea4d900000000a002ffd7fe3000000204ffd70402080a29657126000000000103030a";

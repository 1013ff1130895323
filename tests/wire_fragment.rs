//! IPv4 fragments as others read them: fragment()'s pieces written to a pcap
//! and read by `tcpdump -vv` (header checksums checked, offsets and MF as
//! tcpdump prints them), then put back together by defragment() byte for byte.

use craft::engine::Engine;
use std::process::Command;

mod common;
use common::Buf;

#[test]
fn tcpdump_reads_the_fragments_and_defragment_restores_the_datagram() {
    common::need("tcpdump");
    let path = std::env::temp_dir().join(format!("craft-frag-{}.pcap", std::process::id()));
    let src = format!(
        r#"
p = Ether()/IP(id=4242, ttl=9)/TCP(sport=40000, dport=1234, flags="PA", seq=1, ack=1)/"hello fragments\n"
fs = fragment(p, 16)
expect len(fs) == 3
wrpcap("{}", fs)
w = defragment(fs)
expect bytes(w[0]) == bytes(p)
"#,
        path.display()
    );
    let mut e = Engine::new(Box::new(Buf::default()));
    let r = e.run_source("t.craft", &src);
    assert!(r.is_ok(), "{r:?}");
    let out = Command::new("tcpdump")
        .args(["-nn", "-vv", "-r"])
        .arg(&path)
        .output()
        .expect("tcpdump");
    let _ = std::fs::remove_file(&path);
    let text = String::from_utf8_lossy(&out.stdout);
    let heads: Vec<&str> = text.lines().filter(|l| !l.starts_with(' ')).collect();
    let want = [
        "id 4242, offset 0, flags [+], proto TCP (6), length 36",
        "id 4242, offset 16, flags [+], proto TCP (6), length 36",
        "id 4242, offset 32, flags [none], proto TCP (6), length 24",
    ];
    assert_eq!(heads.len(), 3, "{text}");
    for (h, w) in heads.iter().zip(want) {
        assert!(h.contains(w), "{h} should say {w}\n{text}");
    }
    assert!(!text.contains("bad cksum"), "{text}");
}

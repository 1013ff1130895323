//! Faults and hostile input on the wire, as root in private network
//! namespaces: a flood of malformed frames during a 1 MiB transfer, Ctrl-C and
//! SIGTERM during a send loop and a sniff, the interface going down, a full
//! disk for --pcap, and a second craft at the same time. After each: no
//! nftables table, the lo sysctls as they were.

mod common;
use common::*;

/// Shell: prints `STATE TABLES=... RL=.. AL=..` for the after-checks.
const STATE: &str = "state() { echo \"$1 TABLES=$(nft list tables | tr '\\n' ' ') RL=$(sysctl -n net.ipv4.conf.lo.route_localnet) AL=$(sysctl -n net.ipv4.conf.lo.accept_local)\"; }\n";

fn clean(out: &str, key: &str) {
    let line = out
        .lines()
        .find(|l| l.starts_with(key))
        .unwrap_or_else(|| panic!("no {key}: {out}"));
    assert!(
        line.ends_with("TABLES= RL=0 AL=0"),
        "{key} left something: {out}"
    );
}

#[test]
fn a_1_mib_transfer_survives_a_flood_of_malformed_frames() {
    if !privileged("a_1_mib_transfer_survives_a_flood_of_malformed_frames") {
        return;
    }
    need("nc");
    need("nft");
    let recipe = r#"
c = connect("127.0.0.1", 1234, sport=41000, verbose=false)
c.syn()
c.ack()
sleep(0.3)
data = "0123456789abcdef" * 65536
a = c.send(data)
expect a.tcp.ack == c.seq
c.close()
"#;
    // Malformed frames aimed at the session's ports and elsewhere, from
    // processes that touch nothing on the host (--no-setup).
    let hostile = [
        // wrong checksums on segments that look like the peer's: data, ACK, RST
        r#"Ether()/IP()/TCP(sport=1234, dport=41000, flags="PA", seq=1, ack=1, chksum=0xdead)/"evil""#,
        r#"Ether()/IP()/TCP(sport=1234, dport=41000, flags="R", seq=1, chksum=0xbeef)"#,
        r#"Ether()/IP()/TCP(sport=1234, dport=41000, flags="A", ack=7, chksum=1)"#,
        // truncated and bogus lengths
        r#"Ether()/IP(len=1500)/TCP(sport=1234, dport=41000, flags="A")"#,
        r#"Ether()/IP(ihl=2)/TCP(sport=1234, dport=41000)"#,
        r#"Ether()/IP(ihl=15)/"short""#,
        r#"Ether()/IP()/TCP(sport=1234, dport=41000, dataofs=15, flags="A")"#,
        r#"Ether()/IP(proto=6)/"\x04\xd2\xa0""#,
        // option loops: zero and one length, overlong
        r#"Ether()/IP()/TCP(sport=1234, dport=41000, flags="A", options="\x02\x00\x02\x00", chksum=7)"#,
        r#"Ether()/IP()/TCP(sport=1234, dport=41000, flags="A", options="\x08\x01\x00\x00", chksum=7)"#,
        r#"Ether()/IP()/TCP(sport=1234, dport=41000, flags="A", options="\x05\xff\x00\x00", chksum=7)"#,
        // other ports, other protocols, not IP at all
        r#"Ether()/IP()/TCP(sport=999, dport=41000, flags="SA")"#,
        r#"Ether()/IP()/UDP(dport=41000)/"x""#,
        r#"Ether()/IP()/ICMP(type=3, code=3)/IP(len=9)"#,
        r#"Ether(type=0x86dd)/"\x60\x00""#,
    ];
    let mut senders = String::new();
    for h in hostile {
        senders.push_str(&format!(
            "\"$CRAFT\" --no-setup send '{h}' --count 20000 --rate 4000 > /dev/null 2>&1 &\n"
        ));
    }
    let script = format!(
        "cat > /tmp/r.$$ <<'EOF'\n{recipe}EOF\n{nc}\"$CRAFT\" run /tmp/r.$$ > /tmp/out.$$ 2>&1 &\nR=$!\nsleep 0.15\n{senders}\
         wait $R\necho EXIT=$?\nwait $NC\n\
         echo GOT=$(sha256sum < /tmp/file.$$ | cut -c1-64)\n\
         echo WANT=$(python3 -c 'import sys; sys.stdout.write(\"0123456789abcdef\" * 65536)' | sha256sum | cut -c1-64)\n\
         cat /tmp/out.$$\n",
        nc = nc_listen(1234, "> /tmp/file.$$ < /dev/null")
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(var(&out, "GOT"), var(&out, "WANT"), "byte-identical: {out}");
}

#[test]
fn ctrl_c_and_sigterm_during_a_send_loop_and_a_sniff_leave_nothing() {
    if !privileged("ctrl_c_and_sigterm_during_a_send_loop_and_a_sniff_leave_nothing") {
        return;
    }
    need("nft");
    let script = format!(
        "{STATE}wait_table() {{ for i in $(seq 100); do nft list tables | grep -q craft_ && break; sleep 0.05; done; }}\n\
         \"$CRAFT\" send 'Ether()/IP()/TCP(dport=9, flags=\"S\")' --count 100000000 --rate 1000 > /dev/null 2>&1 &\n\
         P=$!; wait_table; sleep 0.2; kill -INT $P; wait $P; echo SEND_INT=$?; state AFTER_SEND_INT\n\
         \"$CRAFT\" send 'Ether()/IP()/TCP(dport=9, flags=\"S\")' --count 100000000 --rate 1000 > /dev/null 2>&1 &\n\
         P=$!; wait_table; sleep 0.2; kill -TERM $P; wait $P; echo SEND_TERM=$?; state AFTER_SEND_TERM\n\
         printf 's = sr1(Ether()/IP()/TCP(dport=9, flags=\"S\"), timeout=0.2)\\nx = sniff(timeout=30)\\n' | \"$CRAFT\" > /dev/null 2>&1 &\n\
         P=$!; wait_table; sleep 0.3; kill -INT $P; wait $P; echo SNIFF_INT=$?; state AFTER_SNIFF_INT\n"
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    assert_eq!(
        var(&out, "SEND_INT").as_deref(),
        Some("130"),
        "{out}\n{err}"
    );
    assert_eq!(
        var(&out, "SEND_TERM").as_deref(),
        Some("130"),
        "{out}\n{err}"
    );
    // Ctrl-C ends a sniff; the run then goes on to its end.
    assert_eq!(var(&out, "SNIFF_INT").as_deref(), Some("0"), "{out}\n{err}");
    for k in ["AFTER_SEND_INT", "AFTER_SEND_TERM", "AFTER_SNIFF_INT"] {
        clean(&out, k);
    }
}

#[test]
fn the_interface_going_down_mid_session_is_a_clear_error_and_cleans_up() {
    if !privileged("the_interface_going_down_mid_session_is_a_clear_error_and_cleans_up") {
        return;
    }
    need("nc");
    let recipe =
        "c = connect(\"127.0.0.1\", 1234)\nc.syn()\nc.ack()\nsleep(0.6)\nc.send(\"after\\n\")\n";
    let script = format!(
        "{STATE}cat > /tmp/r.$$ <<'EOF'\n{recipe}EOF\n{nc}\"$CRAFT\" run /tmp/r.$$ > /tmp/out.$$ 2>&1 &\nR=$!\nsleep 0.3\nip link set lo down\nwait $R\necho EXIT=$?\nip link set lo up\nstate AFTER\ncat /tmp/out.$$\n",
        nc = nc_listen(1234, "> /dev/null")
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("2"), "{out}\n{err}");
    assert!(
        out.contains("r.") && out.contains(":5:"),
        "the error names the line: {out}"
    );
    assert!(!out.contains("panicked"), "{out}");
    clean(&out, "AFTER");
}

#[test]
fn a_full_disk_for_pcap_keeps_every_whole_frame() {
    if !privileged("a_full_disk_for_pcap_keeps_every_whole_frame") {
        return;
    }
    need("tcpdump");
    let script = format!(
        "{STATE}mkdir -p /tmp/full.$$\n\
         unshare -m bash -c 'mount -t tmpfs -o size=12k tmpfs /tmp/full.'$$' && \"$CRAFT\" --pcap /tmp/full.'$$'/p.pcap send \"Ether()/IP()/TCP(dport=9, flags=\\\"S\\\")/\\\"payload payload\\\"\" --count 5000 --rate 20000 > /tmp/o.'$$' 2>&1; echo EXIT=$?; cat /tmp/o.'$$'; \
           echo SIZE=$(stat -c %s /tmp/full.'$$'/p.pcap); tcpdump -nn -r /tmp/full.'$$'/p.pcap 2>&1 | tail -2; echo FRAMES=$(tcpdump -nn -r /tmp/full.'$$'/p.pcap 2>/dev/null | wc -l)'\n\
         state AFTER\n"
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("2"), "{out}\n{err}");
    assert!(out.contains("No space left on device"), "{out}");
    assert!(
        !out.contains("truncated"),
        "tcpdump reads the file to its end: {out}"
    );
    let size: u64 = var(&out, "SIZE").unwrap().parse().unwrap();
    let frames: u64 = var(&out, "FRAMES").unwrap().parse().unwrap();
    // 24-byte header, then records of 16 + 69 bytes.
    assert!(frames > 50, "{out}");
    assert_eq!(size, 24 + frames * (16 + 69), "{out}");
    clean(&out, "AFTER");
}

#[test]
fn a_second_craft_at_the_same_time_does_not_disturb_the_first() {
    if !privileged("a_second_craft_at_the_same_time_does_not_disturb_the_first") {
        return;
    }
    need("nc");
    let recipe = "c = connect(\"127.0.0.1\", 1234)\nc.syn()\nc.ack()\nsleep(1)\nexpect c.send(\"late\\n\").tcp.ack == c.seq\nc.close()\n";
    let script = format!(
        "{STATE}cat > /tmp/r.$$ <<'EOF'\n{recipe}EOF\n{nc}\"$CRAFT\" run /tmp/r.$$ > /tmp/out.$$ 2>&1 &\nR=$!\nsleep 0.3\n\
         \"$CRAFT\" syn --dport 1235 > /dev/null 2>&1; echo B_EXIT=$?\n\
         \"$CRAFT\" handshake > /dev/null 2>&1; echo C_EXIT=$?\n\
         state WHILE_A\nwait $R\necho A_EXIT=$?\nsleep 0.2\necho NC=$(cat /tmp/nc.$$)\nstate AFTER\ncat /tmp/out.$$\n",
        nc = nc_listen(1234, "> /tmp/nc.$$ < /dev/null")
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    assert_eq!(
        var(&out, "B_EXIT").as_deref(),
        Some("1"),
        "RST from the closed port: {out}\n{err}"
    );
    assert_eq!(var(&out, "C_EXIT").as_deref(), Some("0"), "{out}");
    // The others came and went; A's sysctls and table are still there.
    let during = out.lines().find(|l| l.starts_with("WHILE_A")).unwrap();
    assert!(
        during.contains("table inet craft_") && during.ends_with("RL=1 AL=1"),
        "{out}"
    );
    assert_eq!(var(&out, "A_EXIT").as_deref(), Some("0"), "{out}");
    assert_eq!(var(&out, "NC").as_deref(), Some("late"), "{out}");
    clean(&out, "AFTER");
}

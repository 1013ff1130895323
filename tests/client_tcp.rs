//! craft's sender against the kernel's receiver, as root in private network
//! namespaces: a window shut for seconds (probed, then resumed from the
//! first byte not acknowledged), segments lost on the way in (fast
//! retransmit on duplicate ACKs, no timeouts), no silly small segments in a
//! large upload, and stop-and-wait segments against plain nc.

mod common;
use common::*;

/// Runs `recipe` with craft against a server started by `server` (shell),
/// with tcpdump capturing lo; prints EXIT=, the server's output file
/// (/tmp/srv.$$), RSTS= (RSTs in the capture) and craft's output. A
/// server still running 30 s after craft is killed.
fn run(recipe: &str, server: &str, setup: &str) -> (String, String) {
    let script = format!(
        "cat > /tmp/r.$$ <<'EOF'\n{recipe}EOF\n{setup}\n{}{{ {server}; }} > /tmp/srv.$$ &\nSRV=$!\n\
         for i in $(seq 50); do ss -ltn | grep -q ':1234 ' && break; sleep 0.05; done\n\
         \"$CRAFT\" run /tmp/r.$$ > /tmp/out.$$ 2>&1\necho EXIT=$?\n\
         for i in $(seq 300); do kill -0 $SRV 2>/dev/null || break; sleep 0.1; done\nkill $SRV 2>/dev/null\nsleep 0.2\nkill $TD; wait $TD\n\
         echo RSTS=$(tcpdump -r /tmp/cap.$$ -nn 'tcp[tcpflags] & tcp-rst != 0' 2>/dev/null | wc -l)\n\
         cat /tmp/srv.$$\ncat /tmp/out.$$\n",
        tcpdump_start("/tmp/cap.$$")
    );
    let o = netns(&script);
    text(&o)
}

#[test]
fn a_window_shut_for_seconds_is_probed_and_the_upload_completes_byte_exact() {
    if !privileged("a_window_shut_for_seconds_is_probed_and_the_upload_completes_byte_exact") {
        return;
    }
    need("python3");
    need("tcpdump");
    // retries=2: the window stays shut through more probes than retries, as
    // long as the receiver answers them (RFC 1122 4.2.2.17).
    let recipe = r#"c = connect("127.0.0.1", 1234, verbose=false, retries=2)
c.syn()
c.ack()
c.send(read_file("/tmp/zw.bin"))
probes = 0
for p in c.packets {
    if p.tcp.sport == c.sport and len(p.payload) == 1 { probes = probes + 1 }
}
expect probes > 2                 # more probes than retries
c.close()
"#;
    let server = format!(
        "python3 {}/tests/servers/slow_reader.py 1234 2.5 4096",
        env!("CARGO_MANIFEST_DIR")
    );
    let (out, err) = run(
        recipe,
        &server,
        "head -c 1048576 /dev/urandom > /tmp/zw.bin\necho WANT=$(sha256sum < /tmp/zw.bin | cut -c1-64)",
    );
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    let got = out.split("sha256=").nth(1).map(|s| s[..64].to_string());
    assert_eq!(got, var(&out, "WANT"), "byte-exact\n{out}");
    assert_eq!(var(&out, "RSTS").as_deref(), Some("0"), "{out}");
}

#[test]
fn lost_segments_are_sent_again_on_duplicate_acks_not_timeouts() {
    if !privileged("lost_segments_are_sent_again_on_duplicate_acks_not_timeouts") {
        return;
    }
    need("nc");
    need("nft");
    // Three of craft's data segments (the 11th, 101st and 301st, by
    // sequence number: iss is fixed) never reach the kernel the first time
    // (dropped at prerouting, once each); the kernel answers the segments
    // after each with duplicate ACKs.
    let setup = "nft add table inet loss\n\
                 nft add chain inet loss pre '{ type filter hook prerouting priority -300; }'\n\
                 for k in 10 100 300; do nft add rule inet loss pre tcp dport 1234 \
                 tcp sequence $((1001 + 8000 * k)) quota until 9000 bytes drop; done\n\
                 head -c 4194304 /dev/urandom > /tmp/m4.bin\necho WANT=$(sha256sum < /tmp/m4.bin | cut -c1-64)";
    let recipe = r#"c = connect("127.0.0.1", 1234, iss=1000, wscale=7, window=1048576)
c.syn()
c.ack()
c.send(read_file("/tmp/m4.bin"), segment=8000)
c.close()
"#;
    let (out, err) = run(
        recipe,
        "nc -l 127.0.0.1 1234 > /tmp/m4.out < /dev/null; echo GOT=$(sha256sum < /tmp/m4.out | cut -c1-64)",
        setup,
    );
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(var(&out, "GOT"), var(&out, "WANT"), "byte-exact\n{out}");
    let fast = out.matches("(fast retransmission)").count();
    let timeouts = out.matches("  (retransmission)").count();
    assert_eq!(fast, 3, "fast retransmissions\n{out}");
    assert_eq!(
        timeouts, 0,
        "no retransmission waited for the timeout\n{out}"
    );
}

#[test]
fn with_sack_and_timestamps_the_kernel_agrees_and_losses_recover_without_timeouts() {
    if !privileged("with_sack_and_timestamps_the_kernel_agrees_and_losses_recover_without_timeouts")
    {
        return;
    }
    need("nc");
    need("nft");
    need("tcpdump");
    // Four segments lost once each, two of them back to back.
    let setup = "nft add table inet loss\n\
                 nft add chain inet loss pre '{ type filter hook prerouting priority -300; }'\n\
                 for k in 10 11 100 300; do nft add rule inet loss pre tcp dport 1234 \
                 tcp sequence $((1001 + 8000 * k)) quota until 9000 bytes drop; done\n\
                 head -c 4194304 /dev/urandom > /tmp/s4.bin\necho WANT=$(sha256sum < /tmp/s4.bin | cut -c1-64)";
    let recipe = r#"c = connect("127.0.0.1", 1234, iss=1000, wscale=7, window=1048576, sack=true, timestamps=true)
c.syn()
c.ack()
expect c.sack and c.timestamps
c.send(read_file("/tmp/s4.bin"), segment=8000)
c.close()
"#;
    let (out, err) = run(
        recipe,
        "nc -l 127.0.0.1 1234 > /tmp/s4.out < /dev/null; echo GOT=$(sha256sum < /tmp/s4.out | cut -c1-64)",
        setup,
    );
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(var(&out, "GOT"), var(&out, "WANT"), "byte-exact\n{out}");
    assert_eq!(out.matches("(fast retransmission)").count(), 4, "{out}");
    assert_eq!(out.matches("  (retransmission)").count(), 0, "{out}");
}

#[test]
fn a_large_upload_has_no_silly_small_segments() {
    if !privileged("a_large_upload_has_no_silly_small_segments") {
        return;
    }
    need("nc");
    let recipe = r#"c = connect("127.0.0.1", 1234, verbose=false, wscale=7, window=1048576)
c.syn()
c.ack()
c.send(read_file("/tmp/up.bin"))
small = 0
n = 0
for p in c.packets {
    if p.tcp.sport == c.sport and len(p.payload) > 0 {
        n = n + 1
        if len(p.payload) < 1000 { small = small + 1 }
    }
}
expect n > 100
expect small * 100 < n            # fewer than 1 % under 1000 bytes
c.close()
"#;
    let (out, err) = run(
        recipe,
        "nc -l 127.0.0.1 1234 > /tmp/up.out < /dev/null; echo GOT=$(sha256sum < /tmp/up.out | cut -c1-64)",
        "head -c 10485760 /dev/urandom > /tmp/up.bin\necho WANT=$(sha256sum < /tmp/up.bin | cut -c1-64)",
    );
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(var(&out, "GOT"), var(&out, "WANT"), "byte-exact\n{out}");
}

#[test]
fn a_sessions_socket_takes_only_its_own_ports_until_something_wants_more() {
    if !privileged("a_sessions_socket_takes_only_its_own_ports_until_something_wants_more") {
        return;
    }
    need("nc");
    // While the session sleeps, the kernel filter on craft's socket names
    // its port; after an sr1 to another port it lets everything through.
    let o = netns(&format!(
        "{}cat > /tmp/f.$$ <<'EOF'\n\
         c = connect(\"127.0.0.1\", 1234, sport=40123, verbose=false)\nc.syn()\nc.ack()\nsleep(0.6)\n\
         r = sr1(IP(dst=\"127.0.0.1\")/TCP(dport=9, flags=\"S\"), timeout=1)\nexpect r.tcp.flags == \"RA\"\n\
         sleep(0.6)\nc.close()\nEOF\n\
         \"$CRAFT\" run /tmp/f.$$ > /tmp/o.$$ 2>&1 &\nC=$!\n\
         sleep 0.4\necho NARROW=$(ss -0 -b | grep -c 'bpf filter.* 40123,')\n\
         sleep 0.6\necho OPEN=$(ss -0 -b | grep -c '0x06 0 0 4294967295')\n\
         wait $C\necho EXIT=$?\ncat /tmp/o.$$\n",
        nc_listen(1234, "> /dev/null")
    ));
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(var(&out, "NARROW").as_deref(), Some("1"), "{out}");
    assert_eq!(var(&out, "OPEN").as_deref(), Some("1"), "{out}");
}

#[test]
fn ten_sessions_at_once_each_get_their_download_and_the_kernel_drops_nothing() {
    if !privileged("ten_sessions_at_once_each_get_their_download_and_the_kernel_drops_nothing") {
        return;
    }
    need("socat");
    // Each process's socket takes only its own session's frames, so ten
    // downloads do not overflow each other's queues (drops are reported).
    let o = netns(
        "head -c 2097152 /dev/urandom > /tmp/d.$$\n\
         { printf 'HTTP/1.0 200 OK\\r\\n\\r\\n'; cat /tmp/d.$$; } > /tmp/resp.$$\n\
         socat TCP-LISTEN:8081,reuseaddr,fork SYSTEM:\"cat /tmp/resp.$$\" &\n\
         for i in $(seq 50); do ss -ltn | grep -q ':8081 ' && break; sleep 0.05; done\n\
         cat > /tmp/g.$$ <<EOF\n\
         c = connect(\"127.0.0.1\", 8081, verbose=false, wscale=7, window=4194304)\nc.syn()\nc.ack()\n\
         c.send(\"GET / HTTP/1.0\\\\r\\\\n\\\\r\\\\n\")\n\
         expect c.recv(timeout=2) == read_file(\"/tmp/resp.$$\")\nc.close(timeout=0.5)\nEOF\n\
         pids=\"\"\nfor i in $(seq 10); do \"$CRAFT\" run /tmp/g.$$ > /tmp/o.$$.$i 2>&1 & pids=\"$pids $!\"; done\n\
         ok=0\nfor p in $pids; do wait $p && ok=$((ok + 1)); done\necho OK=$ok\n\
         echo DROPS=$(cat /tmp/o.$$.* | grep -c 'kernel dropped')\ncat /tmp/o.$$.*\n",
    );
    let (out, err) = text(&o);
    assert_eq!(var(&out, "OK").as_deref(), Some("10"), "{out}\n{err}");
    assert_eq!(var(&out, "DROPS").as_deref(), Some("0"), "{out}");
}

#[test]
fn frames_the_kernel_drops_for_a_run_are_reported_at_its_end() {
    if !privileged("frames_the_kernel_drops_for_a_run_are_reported_at_its_end") {
        return;
    }
    // An sr1 opens the socket to every frame; while the run sleeps, a flood
    // overflows its queue (the check the ten-sessions test relies on).
    let o = netns(
        "printf 'r = sr1(IP(dst=\"127.0.0.1\")/TCP(dport=9, flags=\"S\"), timeout=1)\\nsleep(1.5)\\n' > /tmp/i.$$\n\
         \"$CRAFT\" run /tmp/i.$$ > /tmp/o.$$ 2>&1 &\nC=$!\nsleep 0.3\n\
         \"$CRAFT\" send 'IP(dst=\"127.0.0.1\")/UDP(dport=9)' --count 100000 > /dev/null 2>&1\n\
         wait $C\necho EXIT=$?\ncat /tmp/o.$$\n",
    );
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert!(
        out.contains("craft: the kernel dropped ") && out.contains("receive queue overflowed"),
        "{out}"
    );
}

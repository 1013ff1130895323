//! Sessions against real servers, as root in private network namespaces:
//! nc both ways, python's http.server, a 1 MiB upload, flow() against the
//! capture, `craft handshake` with nothing listening, and a segment sent as fragments.

mod common;
use common::*;

/// tcpdump's flags as craft writes them: "S." -> "SA", "P." -> "PA", "." -> "A".
fn tcpdump_flags(line: &str) -> Option<String> {
    let f = line.split("Flags [").nth(1)?.split(']').next()?;
    let mut out = String::new();
    for c in f.chars() {
        match c {
            '.' => out.push('A'),
            c => out.push(c),
        }
    }
    // craft orders letters FSRPAUECN.
    let order = "FSRPAUECN";
    let mut v: Vec<char> = out.chars().collect();
    v.sort_by_key(|c| order.find(*c).unwrap_or(99));
    Some(v.into_iter().collect())
}

#[test]
fn nc_both_ways_and_a_graceful_close_without_rst() {
    if !privileged("nc_both_ways_and_a_graceful_close_without_rst") {
        return;
    }
    need("nc");
    need("tcpdump");
    let recipe = r#"
c = connect("127.0.0.1", 1234)
s = c.syn()
expect s.tcp.flags == "SA"
c.ack()
expect c.state == "ESTABLISHED"
a = c.send("hello\n")
expect a.tcp.ack == c.seq
d = c.recv(timeout=1)
expect d == "from nc\n"
expect c.ack_no == c.irs + 1 + 8
f = c.close()
expect "F" in f.tcp.flags
expect c.state == "TIME-WAIT"
flow(c)
follow(c)
"#;
    let script = format!(
        "cat > /tmp/r.$$ <<'EOF'\n{recipe}EOF\n{}\
         mkfifo /tmp/in.$$\n\
         (sleep 0.3; printf 'from nc\\n'; sleep 1.5) > /tmp/in.$$ &\n\
         {}\"$CRAFT\" run /tmp/r.$$ > /tmp/out.$$ 2>&1\necho EXIT=$?\nsleep 0.3\nkill $TD; wait $TD 2>/dev/null\n\
         echo NC=$(cat /tmp/nc.$$)\ncat /tmp/out.$$\necho =====\ntcpdump -nn -r /tmp/cap.$$ 2>/dev/null\n",
        tcpdump_start("/tmp/cap.$$"),
        nc_listen(1234, "< /tmp/in.$$ > /tmp/nc.$$")
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(var(&out, "NC").as_deref(), Some("hello"), "{out}");
    let capture: Vec<&str> = out
        .split("=====")
        .nth(1)
        .unwrap()
        .lines()
        .filter(|l| l.contains(" IP "))
        .collect();
    assert!(
        capture.iter().all(|l| !l.contains("Flags [R")),
        "no RST: {out}"
    );
    // Handshake, data both ways with their ACKs, FIN both ways, last ACK.
    let flags: Vec<String> = capture.iter().filter_map(|l| tcpdump_flags(l)).collect();
    assert_eq!(
        flags,
        ["S", "SA", "A", "PA", "A", "PA", "A", "FA", "FA", "A"],
        "{out}"
    );
    // flow(c) lists the same segments in the same order, with relative numbers.
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("|-") || l.contains("|<"))
        .collect();
    assert_eq!(rows.len(), capture.len(), "{out}");
    for (row, (cap, fl)) in rows.iter().zip(capture.iter().zip(&flags)) {
        assert!(row.contains(&format!("[{fl}]")), "{row} vs {cap}");
        let outbound = cap.contains(" > 127.0.0.1.1234:");
        assert_eq!(row.contains("->|"), outbound, "{row} vs {cap}");
        if let Some(len) = cap
            .split("length ")
            .nth(1)
            .and_then(|l| l.trim().parse::<usize>().ok())
            .filter(|n| *n > 0)
        {
            assert!(row.contains(&format!("len={len}")), "{row} vs {cap}");
        }
    }
    assert!(rows[0].contains("[S] seq=0"), "{out}");
    assert!(rows[1].contains("[SA] seq=0 ack=1"), "{out}");
    assert!(
        out.contains("hello\n") && out.contains("from nc\n"),
        "follow shows both: {out}"
    );
}

#[test]
fn http_get_of_a_large_page_through_a_session() {
    if !privileged("http_get_of_a_large_page_through_a_session") {
        return;
    }
    need("python3");
    let recipe = r#"
c = connect("127.0.0.1", 8000, verbose=false)
c.syn()
c.ack()
c.send("GET /page.txt HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
r = c.recv(timeout=3)
expect "200 OK" in r
expect c.state == "CLOSE-WAIT"
save(out, r)
c.close()
expect c.state == "CLOSED"
"#;
    let script = format!(
        "mkdir -p /tmp/www.$$\n\
         python3 -c 'import sys; sys.stdout.write(\"\".join(\"line %06d of a page big enough for many segments\\n\" % i for i in range(12000)))' > /tmp/www.$$/page.txt\n\
         python3 -m http.server 8000 --bind 127.0.0.1 --directory /tmp/www.$$ > /dev/null 2>&1 &\n\
         for i in $(seq 100); do ss -ltn | grep -q ':8000 ' && break; sleep 0.05; done\n\
         cat > /tmp/r.$$ <<'EOF'\n{recipe}EOF\n\
         \"$CRAFT\" run --var \"out='/tmp/got.$$'\" /tmp/r.$$ > /tmp/out.$$ 2>&1\necho EXIT=$?\n\
         echo SIZE=$(stat -c %s /tmp/www.$$/page.txt)\n\
         echo BODY=$(sed '1,/^\\r$/d' /tmp/got.$$ | sha256sum | cut -c1-64)\n\
         echo WANT=$(sha256sum < /tmp/www.$$/page.txt | cut -c1-64)\ncat /tmp/out.$$\n"
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    let size: usize = var(&out, "SIZE").unwrap().parse().unwrap();
    assert!(size > 500_000, "a page of several hundred KB: {size}");
    assert_eq!(
        var(&out, "BODY"),
        var(&out, "WANT"),
        "the whole page arrived: {out}"
    );
}

#[test]
fn a_1_mib_upload_arrives_byte_identical() {
    if !privileged("a_1_mib_upload_arrives_byte_identical") {
        return;
    }
    need("nc");
    let recipe = r#"
c = connect("127.0.0.1", 1234, verbose=false)
c.syn()
c.ack()
data = "0123456789abcdef" * 65536
expect len(data) == 1048576
a = c.send(data)
expect a.tcp.ack == c.seq
c.close()
"#;
    let script = format!(
        "cat > /tmp/r.$$ <<'EOF'\n{recipe}EOF\n{}\"$CRAFT\" run /tmp/r.$$ > /tmp/out.$$ 2>&1\necho EXIT=$?\nwait $NC\n\
         echo GOT=$(sha256sum < /tmp/file.$$ | cut -c1-64)\n\
         echo WANT=$(python3 -c 'import sys; sys.stdout.write(\"0123456789abcdef\" * 65536)' | sha256sum | cut -c1-64)\ncat /tmp/out.$$\n",
        nc_listen(1234, "> /tmp/file.$$ < /dev/null")
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(var(&out, "GOT"), var(&out, "WANT"), "{out}");
}

#[test]
fn handshake_with_no_arguments_works_with_nothing_listening() {
    if !privileged("handshake_with_no_arguments_works_with_nothing_listening") {
        return;
    }
    let o = netns("\"$CRAFT\" handshake\necho EXIT=$?\nnft list tables | grep -c craft_ || true\n");
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert!(out.contains("listening on 127.0.0.1:"), "{out}");
    assert!(out.contains("[S] seq=0"), "{out}");
    assert!(out.contains("[SA] seq=0 ack=1"), "{out}");
    assert!(out.contains("received 6 bytes: hello\\n"), "{out}");
    assert!(out.contains("state TIME-WAIT"), "{out}");
    assert!(out.trim_end().ends_with('0'), "no table left: {out}");
}

#[test]
fn handshake_json_against_nc() {
    if !privileged("handshake_json_against_nc") {
        return;
    }
    need("nc");
    let o = netns(&format!(
        "{}\"$CRAFT\" handshake --dport 1234 --data 'hi\\n' --close --json > /tmp/j.$$\necho EXIT=$?\ncat /tmp/j.$$\necho NC=$(cat /tmp/nc.$$)\n",
        nc_listen(1234, "> /tmp/nc.$$ < /dev/null")
    ));
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(var(&out, "NC").as_deref(), Some("hi"), "{out}");
    let objs: Vec<&str> = out.lines().filter(|l| l.starts_with('{')).collect();
    assert!(
        objs[0].contains("\"dir\":\"out\",\"flags\":\"S\",\"seq\":0,\"ack\":null"),
        "{out}"
    );
    assert!(
        objs[1].contains("\"dir\":\"in\",\"flags\":\"SA\",\"seq\":0,\"ack\":1"),
        "{out}"
    );
    assert!(
        objs.iter()
            .any(|l| l.contains("\"flags\":\"PA\"") && l.contains("\"len\":3")),
        "{out}"
    );
    assert!(
        objs.last()
            .unwrap()
            .contains("\"summary\":true,\"state\":\"TIME-WAIT\",\"sent_bytes\":3"),
        "{out}"
    );
}

/// tcpdump's lines of a capture without their timestamps.
fn untimed(lines: &str) -> Vec<String> {
    lines
        .lines()
        .filter(|l| l.contains(" IP "))
        .map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest).to_string())
        .collect()
}

#[test]
fn flow_and_pcap_keep_the_order_frames_crossed_lo_in() {
    if !privileged("flow_and_pcap_keep_the_order_frames_crossed_lo_in") {
        return;
    }
    need("nc");
    need("tcpdump");
    // With an MTU of 1500 the 5000 bytes go as four segments, and the peer's
    // ACK for each is on the wire before the next segment.
    let recipe = r#"
c = connect("127.0.0.1", 1234)
c.syn()
c.ack()
c.send("x" * 5000)
flow(c)
"#;
    let script = format!(
        "ip link set lo mtu 1500\ncat > /tmp/r.$$ <<'EOF'\n{recipe}EOF\n{}{}\
         \"$CRAFT\" run --pcap /tmp/craft.$$ /tmp/r.$$ > /tmp/out.$$ 2>&1\necho EXIT=$?\nsleep 0.3\nkill $TD; wait $TD 2>/dev/null\n\
         cat /tmp/out.$$\necho =====\ntcpdump -nn -tt -r /tmp/cap.$$ 2>/dev/null\necho =====\ntcpdump -nn -tt -r /tmp/craft.$$ 2>/dev/null\n",
        tcpdump_start("/tmp/cap.$$"),
        nc_listen(1234, "> /dev/null < /dev/null")
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    let parts: Vec<&str> = out.split("=====").collect();
    let tcpdump = untimed(parts[1]);
    let ours = untimed(parts[2]);
    assert!(
        tcpdump.iter().filter(|l| l.contains("length 1460")).count() >= 3,
        "several segments: {out}"
    );
    // The data segments and their ACKs alternate on the wire.
    assert!(
        tcpdump
            .windows(2)
            .any(|w| w[0].contains("length 1460") && w[1].contains("ack 1461")),
        "{out}"
    );
    assert_eq!(ours, tcpdump, "craft's --pcap in tcpdump's order: {out}");
    // craft's capture's times never go backwards.
    let times: Vec<f64> = parts[2]
        .lines()
        .filter_map(|l| l.split(' ').next()?.parse().ok())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{out}");
    // The ladder has the same rows in the same order, its times going down.
    let rows: Vec<&str> = parts[0]
        .lines()
        .filter(|l| l.contains("|-") || l.contains("|<"))
        .collect();
    assert_eq!(rows.len(), tcpdump.len(), "{out}");
    for (row, cap) in rows.iter().zip(&tcpdump) {
        let outbound = cap.contains(" > 127.0.0.1.1234:");
        assert_eq!(row.contains("->|"), outbound, "{row} vs {cap}");
        let len = cap.rsplit("length ").next().unwrap().trim();
        assert_eq!(
            row.contains("len="),
            len != "0",
            "{row} vs {cap} (length {len})"
        );
    }
    let row_times: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.split_whitespace().next()?.parse().ok())
        .collect();
    assert_eq!(row_times.len(), rows.len(), "{out}");
    assert!(row_times.windows(2).all(|w| w[0] <= w[1]), "{out}");
}

#[test]
fn a_file_read_with_read_file_arrives_byte_exact() {
    if !privileged("a_file_read_with_read_file_arrives_byte_exact") {
        return;
    }
    need("nc");
    let recipe = "c = connect(\"127.0.0.1\", 1234, verbose=false)\nc.syn()\nc.ack()\nc.send(read_file(\"/tmp/craft-rf.bin\"))\nc.close()\nexpect c.state == \"TIME-WAIT\" or c.state == \"CLOSED\"\n";
    std::fs::write("/tmp/craft-rf.craft", recipe).unwrap();
    let o = netns(
        "head -c 1048576 /dev/urandom > /tmp/craft-rf.bin\n\
         nc -l 127.0.0.1 1234 > /tmp/craft-rf.out &\nNC=$!\n\
         for i in $(seq 50); do ss -ltn | grep -q ':1234 ' && break; sleep 0.05; done\n\
         \"$CRAFT\" run /tmp/craft-rf.craft; echo EXIT=$?\n\
         wait $NC\n\
         echo SENT=$(sha256sum < /tmp/craft-rf.bin)\n\
         echo GOT=$(sha256sum < /tmp/craft-rf.out)\n",
    );
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(var(&out, "SENT"), var(&out, "GOT"), "{out}");
}

#[test]
fn a_segment_sent_as_three_fragments_is_reassembled_by_the_kernel() {
    if !privileged("a_segment_sent_as_three_fragments_is_reassembled_by_the_kernel") {
        return;
    }
    need("nc");
    need("tcpdump");
    // 20 bytes of TCP header and 16 of data, cut in 16-byte pieces: 16, 16, 4.
    let recipe = r#"
c = connect("127.0.0.1", 1234)
s = c.syn()
expect s.tcp.flags == "SA"
c.ack()
fs = fragment(IP(dst="127.0.0.1")/TCP(sport=c.sport, dport=1234, flags="PA", seq=c.seq, ack=c.ack_no)/"hello fragments\n", 16)
expect len(fs) == 3
expect fs[0].ip.id == fs[2].ip.id
send(fs)
a = expect_packet(TCP(sport=1234, dport=c.sport, flags="A"), timeout=1)
expect a.tcp.ack - c.seq == 16
"#;
    let script = format!(
        "cat > /tmp/r.$$ <<'EOF'\n{recipe}EOF\n{}\
         {}\"$CRAFT\" run /tmp/r.$$ > /tmp/out.$$ 2>&1\necho EXIT=$?\nsleep 0.3\nkill $TD; wait $TD 2>/dev/null\n\
         echo NC=$(cat /tmp/nc.$$)\ncat /tmp/out.$$\necho =====\ntcpdump -nn -v -r /tmp/cap.$$ 2>/dev/null\n",
        tcpdump_start("/tmp/cap.$$"),
        nc_listen(1234, "> /tmp/nc.$$")
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(var(&out, "NC").as_deref(), Some("hello fragments"), "{out}");
    let capture = out.split("=====").nth(1).unwrap();
    // Three fragments on the wire, one id, offsets 0, 16 and 32 bytes, MF on the first two.
    let frags: Vec<&str> = capture
        .lines()
        .filter(|l| l.contains("proto TCP") && !l.contains("offset 0, flags [DF]"))
        .filter(|l| !l.contains("offset 0, flags [none]"))
        .collect();
    assert_eq!(frags.len(), 3, "{out}");
    let id = frags[0]
        .split("id ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    for (f, (off, fl)) in frags
        .iter()
        .zip([("0", "[+]"), ("16", "[+]"), ("32", "[none]")])
    {
        assert!(
            f.contains(&format!("id {id}, offset {off}, flags {fl}")),
            "{f}\n{out}"
        );
    }
    // nc is left to the exit trap, after tcpdump stopped: its close is not in the capture.
    assert!(!capture.contains("Flags [R"), "no RST: {out}");
}

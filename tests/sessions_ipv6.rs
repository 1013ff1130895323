//! TCP over IPv6 on ::1, as root in private network namespaces: the
//! README's by-hand handshake, a session, `craft syn` and `craft handshake`
//! against `nc -6 -l ::1`, each capture free of RSTs where none belongs.

mod common;
use common::*;

/// The README's by-hand handshake, over IPv6.
const HANDSHAKE6: &str = r#"
p = Ether() / IPv6(dst="::1") / TCP(sport=40000, dport=1234, flags="S", seq=2000)
r = sr1(p, timeout=2)
expect r.tcp.flags == "SA"
a = Ether()/IPv6(dst="::1")/TCP(sport=40000, dport=1234, flags="A", seq=r.tcp.ack, ack=r.tcp.seq + 1)
send(a)
d = sr1(Ether()/IPv6(dst="::1")/TCP(sport=40000, dport=1234, flags="PA", seq=r.tcp.ack, ack=r.tcp.seq + 1)/"hello\n")
expect d.tcp.ack == r.tcp.ack + 6
"#;

/// Shell snippet: start `nc -6 -l ::1 port` and wait until it listens.
fn nc6_listen(port: u16, extra: &str) -> String {
    format!(
        "nc -6 -l ::1 {port} {extra} &\nNC=$!\nfor i in $(seq 50); do ss -ltn 2>/dev/null | grep -q ':{port} ' && break; sleep 0.05; done\n"
    )
}

/// tcpdump's lines of a capture (they start with a timestamp; craft's own
/// with -> or <-) between IPv6 endpoints.
fn captured(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()) && l.contains(" IP6 ::1."))
        .collect()
}

#[test]
fn handshake_by_hand_on_v6_loopback_makes_nc_print_hello_without_rst() {
    if !privileged("handshake_by_hand_on_v6_loopback_makes_nc_print_hello_without_rst") {
        return;
    }
    need("nc");
    need("tcpdump");
    let script = format!(
        "cat > /tmp/hs.$$ <<'EOF'\n{HANDSHAKE6}EOF\n{}{}\"$CRAFT\" < /tmp/hs.$$\necho EXIT=$?\nsleep 0.3\n\
         kill $TD; wait $TD 2>/dev/null\nkill $NC 2>/dev/null\necho NC=$(cat /tmp/nc.$$)\n\
         tcpdump -nn -r /tmp/cap.$$ 2>/dev/null\nrm -f /tmp/hs.$$ /tmp/nc.$$ /tmp/cap.$$\n",
        tcpdump_start("/tmp/cap.$$"),
        nc6_listen(1234, "> /tmp/nc.$$")
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(var(&out, "NC").as_deref(), Some("hello"), "{out}\n{err}");
    let capture = captured(&out);
    assert!(
        capture.len() >= 5,
        "SYN, SYN-ACK, ACK, PSH, ACK captured: {out}"
    );
    assert!(
        capture.iter().all(|l| !l.contains("Flags [R")),
        "no RST on the wire: {out}"
    );
    assert!(
        capture[0].contains("::1.40000 > ::1.1234: Flags [S], seq 2000"),
        "{out}"
    );
    assert!(
        capture[1].contains("::1.1234 > ::1.40000: Flags [S.]"),
        "{out}"
    );
}

#[test]
fn a_session_on_v6_loopback_sends_receives_and_closes_without_rst() {
    if !privileged("a_session_on_v6_loopback_sends_receives_and_closes_without_rst") {
        return;
    }
    need("nc");
    need("tcpdump");
    let recipe = r#"
c = connect("::1", 1234)
expect c.dst == "::1"
s = c.syn()
expect s.tcp.flags == "SA"
expect s.ipv6.src == "::1"
c.ack()
expect c.state == "ESTABLISHED"
c.send("hello\n")
d = c.recv(timeout=1)
expect d == "from nc\n"
f = c.close()
expect c.state == "TIME-WAIT"
flow(c)
follow(c)
"#;
    let script = format!(
        "cat > /tmp/r.$$ <<'EOF'\n{recipe}EOF\n{}\
         mkfifo /tmp/in.$$\n\
         (sleep 0.3; printf 'from nc\\n'; sleep 1.5) > /tmp/in.$$ &\n\
         {}\"$CRAFT\" run /tmp/r.$$ > /tmp/out.$$ 2>&1\necho EXIT=$?\nsleep 0.3\nkill $TD; wait $TD 2>/dev/null\n\
         echo NC=$(cat /tmp/nc.$$)\ncat /tmp/out.$$\necho =====\ntcpdump -nn -r /tmp/cap.$$ 2>/dev/null\n\
         rm -f /tmp/r.$$ /tmp/in.$$ /tmp/out.$$ /tmp/nc.$$ /tmp/cap.$$\n",
        tcpdump_start("/tmp/cap.$$"),
        nc6_listen(1234, "< /tmp/in.$$ > /tmp/nc.$$")
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(var(&out, "NC").as_deref(), Some("hello"), "{out}");
    let (shown, cap) = out.split_once("=====").unwrap();
    // flow(c) names both ends by their IPv6 addresses.
    assert!(shown.contains("[::1]:1234"), "{out}");
    let capture = captured(cap);
    assert!(capture.len() >= 8, "{out}");
    assert!(
        capture.iter().all(|l| !l.contains("Flags [R")),
        "no RST: {out}"
    );
    assert!(
        capture.iter().any(|l| l.contains("Flags [F.]")),
        "FIN on the wire: {out}"
    );
}

#[test]
fn syn_to_v6_loopback_gets_synack_from_nc_and_rst_from_a_closed_port() {
    if !privileged("syn_to_v6_loopback_gets_synack_from_nc_and_rst_from_a_closed_port") {
        return;
    }
    need("nc");
    let o = netns(&format!(
        "{}\"$CRAFT\" syn --dst ::1 --dport 1234\necho EXIT=$?\n\
         \"$CRAFT\" syn --dst ::1 --dport 1235 --json\necho EXIT2=$?\n",
        nc6_listen(1234, "")
    ));
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert!(out.contains("[::1]:1234 flags=SA"), "{out}");
    assert!(out.contains("--- [::1]:1234 ---"), "{out}");
    // A closed port: the kernel's RST (exit 1, a failed check).
    assert_eq!(var(&out, "EXIT2").as_deref(), Some("1"), "{out}\n{err}");
    assert!(
        out.contains(r#""dst":"::1","dport":1235"#) && out.contains(r#""flags":"RA""#),
        "{out}"
    );
}

#[test]
fn craft_handshake_to_v6_loopback_talks_to_nc_and_to_its_own_listener() {
    if !privileged("craft_handshake_to_v6_loopback_talks_to_nc_and_to_its_own_listener") {
        return;
    }
    need("nc");
    let o = netns(&format!(
        "{}\"$CRAFT\" handshake --dst ::1 --dport 1234 --data 'hello\\n' --close\necho EXIT=$?\n\
         sleep 0.2\necho NC=$(cat /tmp/nc.$$)\n\
         \"$CRAFT\" handshake --dst ::1\necho EXIT2=$?\nrm -f /tmp/nc.$$\n",
        nc6_listen(1234, "> /tmp/nc.$$")
    ));
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(var(&out, "NC").as_deref(), Some("hello"), "{out}\n{err}");
    assert!(out.contains("[::1]:1234"), "{out}");
    // No --dport: craft's own echo server, on ::1.
    assert_eq!(var(&out, "EXIT2").as_deref(), Some("0"), "{out}\n{err}");
    assert!(out.contains("listening on [::1]:"), "{out}");
}

#[test]
fn craft_serves_nc_over_v6_loopback_by_recipe_and_in_one_command() {
    if !privileged("craft_serves_nc_over_v6_loopback_by_recipe_and_in_one_command") {
        return;
    }
    need("nc");
    need("tcpdump");
    let recipe = r#"
l = listen("::1", 1234)
print(l)
s = l.accept(timeout=5)
expect s.dst == "::1"
expect s.recv(until="\n") == "hello from nc\n"
s.send("hello from craft\n")
s.close()
flow(s)
"#;
    let script = format!(
        "cat > /tmp/r.$$ <<'EOF'\n{recipe}EOF\n{}\
         \"$CRAFT\" run /tmp/r.$$ > /tmp/craft.$$ 2>&1 &\nCR=$!\n\
         for i in $(seq 100); do grep -q listener /tmp/craft.$$ && break; sleep 0.05; done\n\
         (printf 'hello from nc\\n'; sleep 1) | timeout 5 nc -6 ::1 1234 > /tmp/nc.$$\n\
         wait $CR; echo CRAFT=$?\nsleep 0.2; kill $TD; wait $TD 2>/dev/null\n\
         echo NC=$(cat /tmp/nc.$$)\ncat /tmp/craft.$$\n\
         echo RSTS=$(tcpdump -nr /tmp/cap.$$ 2>/dev/null | grep 'Flags \\[R' | grep -c '::1.1234 >')\n\
         \"$CRAFT\" listen --addr ::1 --port 1235 --data 'hi\\n' --once --timeout 1 > /tmp/l.$$ 2>&1 &\nCR=$!\n\
         for i in $(seq 100); do grep -q listening /tmp/l.$$ && break; sleep 0.05; done\n\
         (echo ping; sleep 0.5) | timeout 5 nc -6 ::1 1235 > /tmp/nc2.$$\n\
         wait $CR; echo LISTEN=$?\necho NC2=$(cat /tmp/nc2.$$)\ncat /tmp/l.$$\n\
         rm -f /tmp/r.$$ /tmp/craft.$$ /tmp/nc.$$ /tmp/cap.$$ /tmp/l.$$ /tmp/nc2.$$\n",
        tcpdump_start("/tmp/cap.$$"),
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    assert_eq!(var(&out, "CRAFT").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(
        var(&out, "NC").as_deref(),
        Some("hello from craft"),
        "{out}"
    );
    assert!(out.contains("<listener [::1]:1234 accepted=0>"), "{out}");
    assert_eq!(var(&out, "RSTS").as_deref(), Some("0"), "{out}");
    assert_eq!(var(&out, "LISTEN").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(var(&out, "NC2").as_deref(), Some("hi"), "{out}");
    assert!(out.contains("listening on [::1]:1235"), "{out}");
}

//! Live tests: the real binary, as root, in a private network namespace,
//! against a real `nc -l`. See tests/common for the harness.

mod common;
use common::*;

const HANDSHAKE: &str = r#"
p = Ether() / IP(dst="127.0.0.1") / TCP(sport=40000, dport=1234, flags="S", seq=1000)
show(p)
hexdump(p)
p.tcp.seq = 2000
r = sr1(p, timeout=2)
expect r.tcp.flags == "SA"
a = Ether()/IP(dst="127.0.0.1")/TCP(sport=40000, dport=1234, flags="A", seq=r.tcp.ack, ack=r.tcp.seq + 1)
send(a)
d = sr1(Ether()/IP(dst="127.0.0.1")/TCP(sport=40000, dport=1234, flags="PA", seq=r.tcp.ack, ack=r.tcp.seq + 1)/"hello\n")
expect d.tcp.ack == r.tcp.ack + 6
"#;

#[test]
fn syn_to_a_listener_gets_synack_and_exit_0() {
    if !privileged("syn_to_a_listener_gets_synack_and_exit_0") {
        return;
    }
    need("nc");
    let o = netns(&format!(
        "{}\"$CRAFT\" syn --dport 1234\necho EXIT=$?\n",
        nc_listen(1234, "")
    ));
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert!(out.contains("127.0.0.1:1234 flags=SA"), "{out}");
    assert!(out.contains("options [mss 65495]"), "{out}");
    assert!(
        out.contains("1 sent, 1 received (1 SYN-ACK, 0 RST), 0% loss, rtt min/avg/max = "),
        "{out}"
    );
    assert!(
        err.contains(
            // A probe needs only the sysctls: the kernel's RST ends the half-open connection.
            "craft: set lo route_localnet 0→1, accept_local 0→1 (all undone on exit)"
        ),
        "{err}"
    );
}

#[test]
fn syn_to_a_closed_port_gets_rst_and_exit_1() {
    if !privileged("syn_to_a_closed_port_gets_rst_and_exit_1") {
        return;
    }
    let o = netns("\"$CRAFT\" syn --dport 1235\necho EXIT=$?\n");
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("1"), "{out}\n{err}");
    assert!(out.contains("flags=RA seq=0"), "{out}");
}

#[test]
fn syn_count_5_reports_statistics_and_json() {
    if !privileged("syn_count_5_reports_statistics_and_json") {
        return;
    }
    need("nc");
    let o = netns(&format!(
        "{}\"$CRAFT\" syn --dport 1234 --count 5 --interval 0.05\necho EXIT=$?\n\"$CRAFT\" syn --dport 1234 --count 3 --interval 0.01 --json > /tmp/j.$$\necho JEXIT=$?\ncat /tmp/j.$$\n",
        nc_listen(1234, "-k")
    ));
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert!(
        out.contains("5 sent, 5 received (5 SYN-ACK, 0 RST), 0% loss"),
        "{out}"
    );
    assert_eq!(out.matches("flags=SA").count(), 5, "{out}");
    assert_eq!(var(&out, "JEXIT").as_deref(), Some("0"), "{out}");
    let json: Vec<&str> = out.lines().filter(|l| l.starts_with('{')).collect();
    assert_eq!(json.len(), 4, "{out}");
    for l in &json[..3] {
        assert!(l.contains("\"flags\":\"SA\""), "{l}");
        assert!(l.contains("\"rtt_us\":"), "{l}");
    }
    assert!(
        json[3].contains("\"summary\":true,\"sent\":3,\"received\":3"),
        "{}",
        json[3]
    );
}

#[test]
fn no_setup_touches_nothing_and_no_reply_is_exit_3() {
    if !privileged("no_setup_touches_nothing_and_no_reply_is_exit_3") {
        return;
    }
    need("nc");
    need("nft");
    // Without the sysctls the kernel drops crafted frames on lo: no reply.
    let o = netns(&format!(
        "{}\"$CRAFT\" --no-setup syn --dport 1234 --timeout 0.3 &\nsleep 0.15\nnft list tables > /tmp/t.$$\nwait $!\necho EXIT=$?\necho TABLES=$(cat /tmp/t.$$)\necho RL=$(sysctl -n net.ipv4.conf.lo.route_localnet)\n",
        nc_listen(1234, "")
    ));
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("3"), "{out}\n{err}");
    assert!(out.contains("no reply within 0.3 s"), "{out}");
    assert_eq!(var(&out, "TABLES").as_deref(), Some(""), "{out}");
    assert_eq!(var(&out, "RL").as_deref(), Some("0"), "{out}");
    assert!(
        !err.contains("prepared") && !err.contains("nftables"),
        "{err}"
    );
}

#[test]
fn handshake_by_hand_makes_nc_print_hello_without_rst() {
    if !privileged("handshake_by_hand_makes_nc_print_hello_without_rst") {
        return;
    }
    need("nc");
    need("tcpdump");
    let script = format!(
        "cat > /tmp/hs.$$ <<'EOF'\n{HANDSHAKE}EOF\n{}{}\"$CRAFT\" < /tmp/hs.$$\necho EXIT=$?\nsleep 0.3\n# Stop the capture before nc: its FIN to a port craft no longer guards (craft has exited) draws a RST.\nkill $TD; wait $TD 2>/dev/null\nkill $NC 2>/dev/null\necho NC=$(cat /tmp/nc.$$)\ntcpdump -nn -r /tmp/cap.$$ 2>/dev/null\n",
        tcpdump_start("/tmp/cap.$$"),
        nc_listen(1234, "> /tmp/nc.$$")
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(var(&out, "NC").as_deref(), Some("hello"), "{out}\n{err}");
    assert!(out.contains("ok: r.tcp.flags == \"SA\""), "{out}");
    assert!(out.contains("ok: d.tcp.ack == r.tcp.ack + 6"), "{out}");
    // tcpdump's lines start with a timestamp; craft's own with -> or <-.
    let capture: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()) && l.contains(" IP 127.0.0.1."))
        .collect();
    assert!(
        capture.len() >= 5,
        "SYN, SYN-ACK, ACK, PSH, ACK captured: {out}"
    );
    assert!(
        capture.iter().all(|l| !l.contains("Flags [R")),
        "no RST on the wire: {out}"
    );
    assert!(
        capture[0].contains("40000 > 127.0.0.1.1234: Flags [S], seq 2000"),
        "{out}"
    );
    assert!(
        capture[1].contains("1234 > 127.0.0.1.40000: Flags [S.]"),
        "{out}"
    );
}

#[test]
fn table_and_sysctls_are_gone_after_exit_ctrl_c_and_kill_9() {
    if !privileged("table_and_sysctls_are_gone_after_exit_ctrl_c_and_kill_9") {
        return;
    }
    need("nc");
    need("nft");
    let session =
        "s = sr1(Ether()/IP()/TCP(sport=40001, dport=1234, flags=\\\"S\\\"))\\nsleep(10)\\n";
    let script = format!(
        "{nc}\
         show() {{ echo \"$1 TABLES=$(nft list tables | tr '\\n' ' ') RL=$(sysctl -n net.ipv4.conf.lo.route_localnet) AL=$(sysctl -n net.ipv4.conf.lo.accept_local)\"; }}\n\
         wait_table() {{ for i in $(seq 100); do nft list tables | grep -q craft_ && break; sleep 0.05; done; }}\n\
         # during a session, then after a normal exit\n\
         printf \"{session}\" | sed 's/sleep(10)/sleep(0.5)/' | \"$CRAFT\" > /dev/null 2>&1 &\n\
         P=$!; wait_table; show DURING; wait $P; echo EXIT=$?; show AFTER_EXIT\n\
         # Ctrl-C (SIGINT) during a session\n\
         printf \"{session}\" | \"$CRAFT\" > /dev/null 2>&1 &\n\
         P=$!; wait_table; kill -INT $P; wait $P; echo INT_EXIT=$?; show AFTER_INT\n\
         # SIGTERM\n\
         printf \"{session}\" | \"$CRAFT\" > /dev/null 2>&1 &\n\
         P=$!; wait_table; kill -TERM $P; wait $P; show AFTER_TERM\n\
         # kill -9: the owner table vanishes at once; the next run restores the sysctls\n\
         printf \"{session}\" | \"$CRAFT\" > /dev/null 2>&1 &\n\
         P=$!; wait_table; kill -9 $P; wait $P 2>/dev/null; sleep 0.1; show AFTER_KILL9\n\
         \"$CRAFT\" syn --dport 1234 > /dev/null 2>/tmp/next.$$; show AFTER_NEXT_RUN\n\
         echo NEXT_ERR=$(head -1 /tmp/next.$$)\n",
        nc = nc_listen(1234, "-k")
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    let line = |k: &str| {
        out.lines()
            .find(|l| l.starts_with(k))
            .unwrap_or_else(|| panic!("no {k} in {out}\n{err}"))
            .to_string()
    };
    assert!(line("DURING").contains("table inet craft_"), "{out}");
    assert!(line("DURING").contains("RL=1 AL=1"), "{out}");
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}");
    for k in ["AFTER_EXIT", "AFTER_INT", "AFTER_TERM", "AFTER_NEXT_RUN"] {
        assert!(line(k).ends_with("TABLES= RL=0 AL=0"), "{k}: {out}");
    }
    assert_eq!(var(&out, "INT_EXIT").as_deref(), Some("130"), "{out}");
    // After kill -9 the table is gone (owner flag); the sysctls wait for the next run.
    assert!(line("AFTER_KILL9").contains("TABLES= RL=1 AL=1"), "{out}");
    assert!(
        out.contains("restored route_localnet 1→0, accept_local 1→0"),
        "the next run says it repaired the host: {out}"
    );
}

#[test]
fn without_cap_net_raw_exit_4_says_how_to_get_it() {
    if !privileged("without_cap_net_raw_exit_4_says_how_to_get_it") {
        return;
    }
    let o = netns(
        "setpriv --inh-caps=-all --bounding-set=-net_raw,-net_admin -- \"$CRAFT\" syn --dport 1234 2>/tmp/e.$$\necho EXIT=$?\ncat /tmp/e.$$\n\
         setpriv --inh-caps=-all --bounding-set=-net_raw,-net_admin -- \"$CRAFT\" show 'Ether()/IP()/TCP()' > /dev/null\necho SHOW=$?\n",
    );
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("4"), "{out}\n{err}");
    assert!(out.contains("CAP_NET_RAW"), "{out}");
    assert!(out.contains("setcap cap_net_raw,cap_net_admin+ep"), "{out}");
    assert_eq!(
        var(&out, "SHOW").as_deref(),
        Some("0"),
        "show needs no privileges: {out}"
    );
}

#[test]
fn pcap_decodes_in_tcpdump_with_the_fields_craft_printed() {
    if !privileged("pcap_decodes_in_tcpdump_with_the_fields_craft_printed") {
        return;
    }
    need("nc");
    need("tcpdump");
    let o = netns(&format!(
        "{}\"$CRAFT\" --pcap /tmp/p.$$ syn --dport 1234\necho EXIT=$?\necho =====\ntcpdump -nn -r /tmp/p.$$ 2>&1\necho =====\n\"$CRAFT\" read /tmp/p.$$\n",
        nc_listen(1234, "")
    ));
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    let reply = out
        .lines()
        .find(|l| l.starts_with("127.0.0.1:1234 flags=SA"))
        .expect("reply line");
    let field = |k: &str| {
        reply
            .split_whitespace()
            .find_map(|w| w.strip_prefix(k))
            .unwrap()
            .to_string()
    };
    let (seq, ack, win) = (field("seq="), field("ack="), field("win="));
    let td: Vec<&str> = out
        .split("=====")
        .nth(1)
        .unwrap()
        .lines()
        .filter(|l| l.contains(" IP "))
        .collect();
    assert_eq!(td.len(), 2, "the SYN and the SYN-ACK: {out}");
    assert!(td[0].contains("Flags [S]"), "{out}");
    assert!(
        td[1].contains(&format!(
            "Flags [S.], seq {seq}, ack {ack}, win {win}, options [mss 65495]"
        )),
        "{out}"
    );
    let ours = out.split("=====").nth(2).unwrap();
    assert!(
        ours.contains(&format!("Flags [SA], seq {seq}, ack {ack}, win {win}")),
        "{ours}"
    );
}

#[test]
fn sniff_sees_a_connection() {
    if !privileged("sniff_sees_a_connection") {
        return;
    }
    need("nc");
    let o = netns(&format!(
        "{}\"$CRAFT\" sniff --count 3 --timeout 5 --filter 'tcp port 1234' > /tmp/s.$$ &\nS=$!\nsleep 0.5\necho hi | nc -N 127.0.0.1 1234\nwait $S\necho EXIT=$?\ncat /tmp/s.$$\n",
        nc_listen(1234, "> /dev/null")
    ));
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    // Each line starts with its capture time, as tcpdump's do: 12:34:56.789012 IP ...
    let lines: Vec<&str> = out
        .lines()
        .filter_map(|l| {
            l.split_once(' ')
                .filter(|(t, _)| t.len() == 15 && t.as_bytes()[8] == b'.')
        })
        .map(|(_, rest)| rest)
        .filter(|l| l.starts_with("IP 127.0.0.1."))
        .collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].contains("> 127.0.0.1.1234: Flags [S]"), "{out}");
    assert!(lines[1].contains("127.0.0.1.1234 > "), "{out}");
}

#[test]
fn rate_mode_builds_every_frame_and_holds_its_rate() {
    if !privileged("rate_mode_builds_every_frame_and_holds_its_rate") {
        return;
    }
    need("tcpdump");
    let o = netns(&format!(
        "{}\"$CRAFT\" send 'Ether()/IP(dst=\"127.0.0.1\")/TCP(dport=9, flags=\"S\")' --count 3000 --rate 10000 --vary tcp.seq=100-1099 --json > /tmp/a.$$\n\
         echo A_EXIT=$?\nsleep 0.3\nkill $TD; wait $TD 2>/dev/null\n\
         echo SYNS=$(tcpdump -nn -r /tmp/cap.$$ 'tcp[tcpflags] == tcp-syn' 2>/dev/null | wc -l)\n\
         echo SEQS=$(tcpdump -nn -r /tmp/cap.$$ 'tcp[tcpflags] == tcp-syn' 2>/dev/null | sed 's/.*seq \\([0-9]*\\),.*/\\1/' | sort -u | wc -l)\n\
         echo RSTS=$(nstat -az TcpOutRsts | awk '/TcpOutRsts/ {{print $2}}')\n\
         \"$CRAFT\" send 'Ether()/IP()/TCP(dport=9, flags=\"S\")' --count 1000 --rate 2000 --json\n\
         \"$CRAFT\" syn --flood --dport 9 --count 5000 --json\necho F_EXIT=$?\n\
         echo RSTS2=$(nstat -az TcpOutRsts | awk '/TcpOutRsts/ {{print $2}}')\ncat /tmp/a.$$\n",
        tcpdump_start("/tmp/cap.$$")
    ));
    let (out, err) = text(&o);
    assert_eq!(var(&out, "A_EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(
        var(&out, "SYNS").as_deref(),
        Some("3000"),
        "every frame went: {out}"
    );
    assert_eq!(
        var(&out, "SEQS").as_deref(),
        Some("1000"),
        "seq varied over 100-1099: {out}"
    );
    assert_eq!(
        var(&out, "RSTS").as_deref(),
        Some("3000"),
        "the kernel answered each: {out}"
    );
    assert_eq!(var(&out, "F_EXIT").as_deref(), Some("0"), "{out}");
    let rated = out
        .lines()
        .find(|l| l.starts_with("{\"sent\":1000,"))
        .expect("rate run");
    let secs: f64 = rated
        .split("\"seconds\":")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // 1000 frames at 2000 pps: half a second, give or take scheduling.
    assert!((0.4..1.0).contains(&secs), "{rated}");
    assert!(out.contains("{\"sent\":5000,"), "{out}");
    // At full speed every SYN still reached TCP: 3000 + 1000 + 5000 RSTs in all.
    assert_eq!(var(&out, "RSTS2").as_deref(), Some("9000"), "{out}");
}

#[test]
fn several_recipes_run_on_one_runtime() {
    if !privileged("several_recipes_run_on_one_runtime") {
        return;
    }
    need("nc");
    // Three files: the first two send, the third waits so that we can look at
    // the processes while it runs. One runtime: one host preparation line, and
    // no child left behind by the first two files.
    let script = format!(
        "{nc}\
         D=$(mktemp -d)\n\
         for i in 1 2; do printf 'r = sr1(Ether()/IP()/TCP(sport=4001%s, dport=1234, flags=\"S\"), timeout=1)\\nexpect r.tcp.flags == \"SA\"\\n' $i > $D/$i.craft; done\n\
         printf 'sleep(1)\\n' > $D/3.craft\n\
         \"$CRAFT\" run $D/1.craft $D/2.craft $D/3.craft > $D/out 2> $D/err &\n\
         P=$!; sleep 0.6\n\
         me=$(readlink /proc/$$/ns/net); n=0\n\
         for p in /proc/[0-9]*; do [ \"$(readlink $p/ns/net 2>/dev/null)\" = \"$me\" ] && [ \"$(cat $p/comm 2>/dev/null)\" = craft ] && n=$((n+1)); done\n\
         echo CRAFTS=$n\n\
         wait $P; echo EXIT=$?\n\
         echo PREPARED=$(grep -c 'all undone on exit' $D/err)\n\
         cat $D/out $D/err\n\
         echo TABLES=$(nft list tables | tr '\\n' ' ')\n",
        nc = nc_listen(1234, "-k")
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(var(&out, "CRAFTS").as_deref(), Some("1"), "{out}\n{err}");
    assert_eq!(var(&out, "PREPARED").as_deref(), Some("1"), "{out}\n{err}");
    assert_eq!(out.matches(": passed").count(), 3, "{out}");
    assert_eq!(var(&out, "TABLES").as_deref(), Some(""), "{out}");
}

#[test]
fn a_closed_pipe_ends_live_commands_too() {
    if !privileged("a_closed_pipe_ends_live_commands_too") {
        return;
    }
    need("nc");
    let script = format!(
        "{nc}\
         \"$CRAFT\" syn --dport 1234 -c 3 --interval 0.1 2>/tmp/e1.$$ | head -1 > /dev/null; echo SYN=${{PIPESTATUS[0]}}\n\
         ( for i in $(seq 30); do echo x | nc -N 127.0.0.1 1234; sleep 0.05; done ) >/dev/null 2>&1 &\n\
         timeout 10 \"$CRAFT\" sniff 2>/tmp/e2.$$ | head -2 > /dev/null; echo SNIFF=${{PIPESTATUS[0]}}\n\
         cat /tmp/e1.$$ /tmp/e2.$$\n",
        nc = nc_listen(1234, "-k")
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    assert_eq!(var(&out, "SYN").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(var(&out, "SNIFF").as_deref(), Some("0"), "{out}\n{err}");
    assert!(!out.contains("panicked"), "{out}");
}

#[test]
fn the_missing_capability_is_named() {
    if !privileged("the_missing_capability_is_named") {
        return;
    }
    need("nc");
    // CAP_NET_RAW kept, CAP_NET_ADMIN dropped: the socket opens, the nftables
    // guard a session needs is refused.
    let o = netns(&format!(
        "{nc}echo 'c = connect(\"127.0.0.1\", 1234)' | setpriv --inh-caps=-all --bounding-set=-net_admin -- \"$CRAFT\" 2>/tmp/e.$$\necho EXIT=$?\ncat /tmp/e.$$\n",
        nc = nc_listen(1234, "")
    ));
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("4"), "{out}\n{err}");
    assert!(out.contains("CAP_NET_ADMIN"), "{out}");
    assert!(!out.contains("needs CAP_NET_RAW"), "{out}");
}

#[test]
fn interrupted_commands_report_what_they_gathered_and_exit_130() {
    if !privileged("interrupted_commands_report_what_they_gathered_and_exit_130") {
        return;
    }
    need("nc");
    let script = format!(
        "{nc}\
         \"$CRAFT\" sniff > /tmp/s.$$ 2>&1 & P=$!; sleep 0.5; kill -INT $P; wait $P; echo SNIFF=$?\n\
         \"$CRAFT\" syn --dport 1234 -c 100 --interval 0.1 > /tmp/y.$$ 2>&1 & P=$!; sleep 0.5; kill -INT $P; wait $P; echo SYN=$?\n\
         cat /tmp/y.$$\n\
         \"$CRAFT\" --no-setup syn --dport 1234 --timeout 0.2; echo NOSETUP=$?\n",
        nc = nc_listen(1234, "-k")
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    assert_eq!(var(&out, "SNIFF").as_deref(), Some("130"), "{out}\n{err}");
    assert_eq!(var(&out, "SYN").as_deref(), Some("130"), "{out}\n{err}");
    assert!(
        out.contains("--- 127.0.0.1:1234 ---") && out.contains(" sent, "),
        "statistics: {out}"
    );
    assert!(
        out.contains("craft doctor"),
        "no reply with --no-setup points to doctor: {out}"
    );
    assert_eq!(var(&out, "NOSETUP").as_deref(), Some("3"), "{out}");
}

#[test]
fn an_odd_stack_goes_out_only_when_asked_for() {
    if !privileged("an_odd_stack_goes_out_only_when_asked_for") {
        return;
    }
    need("tcpdump");
    let script = format!(
        "{td}\
         \"$CRAFT\" send 'TCP(dport=1235)' 2>/tmp/e.$$; echo PLAIN=$?\n\
         \"$CRAFT\" send --raw 'TCP(dport=1235)'; echo RAW=$?\n\
         sleep 0.3; kill -INT $TD; wait $TD 2>/dev/null\n\
         cat /tmp/e.$$\n\
         tcpdump -nn -e -r /tmp/td.$$.pcap 2>/dev/null\n",
        // Every frame, not only TCP: the odd one is not IP.
        td = tcpdump_start("/tmp/td.$$.pcap").replace(" tcp 2>", " 2>")
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    assert_eq!(var(&out, "PLAIN").as_deref(), Some("2"), "{out}\n{err}");
    assert!(
        out.contains("TCP starts the packet, with no IP layer below it"),
        "{out}"
    );
    assert_eq!(var(&out, "RAW").as_deref(), Some("0"), "{out}\n{err}");
    // One frame crossed lo: Ethernet type 0x9000 (craft's "not IP"), 34 bytes.
    assert_eq!(
        out.matches("ethertype Loopback (0x9000)").count(),
        1,
        "{out}"
    );
}

/// IPv6 on ::1: the kernel answers an ICMPv6 echo request, SYNs (by sr1
/// and by sr: SYN-ACK from `nc -6 -l ::1`, RST from a closed port, and no
/// kernel RST from the guarded source port) and a UDP datagram to a closed
/// port (port unreachable, quoting it). Each is matched as for IPv4
/// (direction first, the checksum over the IPv6 pseudo header right or, as
/// the kernel leaves its own on lo, partial), and tcpdump finds craft's
/// checksums correct.
#[test]
fn ipv6_echo_and_syn_on_loopback_are_answered_by_the_kernel() {
    if !privileged("ipv6_echo_and_syn_on_loopback_are_answered_by_the_kernel") {
        return;
    }
    need("nc");
    need("tcpdump");
    let recipe = r#"
r = sr1(Ether()/IPv6(dst="::1")/ICMPv6EchoRequest(id=7, seq=3, data="ping"), timeout=2)
expect r != none
expect r.ipv6.src == "::1"
expect r.icmpv6echoreply.id == 7 and r.icmpv6echoreply.seq == 3
expect r.icmpv6echoreply.data == "ping"
s = sr1(Ether()/IPv6()/TCP(sport=40000, dport=1234, flags="S", seq=1000), timeout=2)
expect s.tcp.flags == "SA" and s.tcp.ack == 1001
c = sr1(Ether()/IPv6()/TCP(sport=40001, dport=1235, flags="S", seq=5), timeout=2)
expect c.tcp.flags == "RA" and c.tcp.ack == 6
ans, unans = sr(Ether()/IPv6()/TCP(sport=40100, dport=[1234, 1236], flags="S"), timeout=1)
expect len(ans) == 2 and len(unans) == 0
expect ans[0][1].tcp.flags == "SA" and ans[1][1].tcp.flags == "RA"
u = sr1(Ether()/IPv6()/UDP(sport=40200, dport=9)/"x", timeout=2)
expect u.icmpv6destunreach.code == 4 and u.udp.dport == 9
"#;
    let o = netns(&format!(
        "nc -6 -l ::1 1234 &\nfor i in $(seq 50); do ss -ltn 2>/dev/null | grep -q ':1234 ' && break; sleep 0.05; done\n\
         cat > /tmp/v6.$$.craft <<'EOF'\n{recipe}\nEOF\n\
         \"$CRAFT\" --pcap /tmp/v6.$$.pcap run /tmp/v6.$$.craft\necho EXIT=$?\n\
         tcpdump -nn -vv -r /tmp/v6.$$.pcap 2>/dev/null\nrm -f /tmp/v6.$$.craft /tmp/v6.$$.pcap\n"
    ));
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert!(
        out.contains("<- IP6 ::1 > ::1: ICMP6, echo reply, id 7, seq 3, length 12"),
        "{out}"
    );
    assert!(
        out.contains("[icmp6 sum ok] ICMP6, echo reply, id 7, seq 3"),
        "{out}"
    );
    assert!(out.contains("::1.1234 > ::1.40000: Flags [S.]"), "{out}");
    assert!(out.contains("::1.1235 > ::1.40001: Flags [R.]"), "{out}");
    // The kernel's port unreachable, its quote decoded and matched to the probe.
    assert!(
        out.contains(
            "<- IP6 ::1 > ::1: ICMP6, destination unreachable, unreachable port, ::1 udp port 9"
        ),
        "{out}"
    );
    // The RST guard (an inet table, matching TCP ports) covers IPv6: the
    // kernel does not reset the SYN-ACK to craft's port.
    assert!(!out.contains("::1.40000 > ::1.1234: Flags [R"), "{out}");
    for sent in [
        "::1.40000 > ::1.1234: Flags [S], cksum",
        "::1.40001 > ::1.1235: Flags [S], cksum",
    ] {
        let line = out.lines().find(|l| l.contains(sent)).unwrap_or_default();
        assert!(line.contains("(correct)"), "{sent}: {line}\n{out}");
    }
}

/// The kernel's own IPv6 frames on lo (nc -6 sends "hello" to nc -6 -l, a
/// handshake with options, data, FINs; ping6's echo and reply where ping is
/// installed), captured by tcpdump: craft decodes every one losslessly into
/// IPv6 layers, finds its checksums good or partial (the kernel's on lo),
/// and `craft read` names the same endpoints and flags tcpdump does.
#[test]
fn kernel_ipv6_frames_captured_on_lo_decode_as_tcpdump_reads_them() {
    if !privileged("kernel_ipv6_frames_captured_on_lo_decode_as_tcpdump_reads_them") {
        return;
    }
    need("nc");
    need("tcpdump");
    let pcap = std::env::temp_dir().join(format!("craft-v6cap-{}.pcap", std::process::id()));
    let p = pcap.display();
    let script = format!(
        "{td}\
         nc -6 -l ::1 1234 > /dev/null &\n\
         for i in $(seq 50); do ss -ltn 2>/dev/null | grep -q ':1234 ' && break; sleep 0.05; done\n\
         printf hello | nc -6 -N ::1 1234\n\
         command -v ping >/dev/null && ping -6 -c 1 -W 1 ::1 >/dev/null\n\
         sleep 0.3; kill -INT $TD; wait $TD 2>/dev/null\n\
         echo TCPDUMP; tcpdump -nn -r {p} 2>/dev/null\n\
         echo CRAFT; \"$CRAFT\" read {p}\n",
        td = tcpdump_start(&p.to_string()).replace(" tcp 2>", " ip6 2>")
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    let bytes = std::fs::read(&pcap).unwrap_or_default();
    let _ = std::fs::remove_file(&pcap);
    let frames = craft::link::pcap::read_all(&bytes).expect("a pcap");
    assert!(frames.len() >= 8, "{} frames\n{out}\n{err}", frames.len());
    let mut data = false;
    for (_, f, _) in &frames {
        let (pkt, e) = craft::wire::Packet::decode(f);
        assert!(e.is_none(), "{e:?} in {}", hex::encode(f));
        assert_eq!(pkt.emit(), *f, "lossless");
        let v6 = pkt.ipv6().expect("an IPv6 layer");
        assert_eq!(v6.src, Some(std::net::Ipv6Addr::LOCALHOST));
        data |= pkt.payload() == b"hello";
        let mut b = Vec::new();
        let spans = pkt.emit_with_spans(&mut b);
        for i in 0..pkt.layers.len() {
            let st = craft::wire::stack::layer_status(&pkt.layers, &spans, &b, i);
            assert!(
                !matches!(st, Some(craft::wire::checksum::ChecksumStatus::Bad(_))),
                "layer {i} of {}",
                hex::encode(f)
            );
        }
    }
    assert!(data, "the data segment was seen");
    // Line by line, tcpdump's and craft's read name the same endpoints.
    let section = |name: &str, next: &str| -> Vec<String> {
        out.split(&format!("{name}\n"))
            .nth(1)
            .unwrap_or_default()
            .split(&format!("{next}\n"))
            .next()
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    };
    let td = section("TCPDUMP", "CRAFT");
    let ours = section("CRAFT", "\u{0}");
    assert_eq!(td.len(), frames.len(), "{out}");
    assert_eq!(ours.len(), frames.len(), "{out}");
    for (t, c) in td.iter().zip(&ours) {
        // "... IP6 ::1.40000 > ::1.1234: Flags [S], ..." in both: the endpoints.
        let key = |l: &str| {
            l.split_once(" IP6 ")
                .map(|(_, r)| r.split_once(": ").map_or(r, |x| x.0).to_string())
        };
        assert!(key(t).is_some(), "{t}");
        assert_eq!(key(t), key(c), "tcpdump: {t}\ncraft:   {c}");
        if t.contains("Flags [S.]") {
            assert!(c.contains("Flags [SA]"), "{c}");
        }
        if t.contains("ICMP6, echo") {
            assert!(c.contains("ICMP6, echo"), "{c}");
        }
    }
}

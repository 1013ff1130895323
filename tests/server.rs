//! craft as the server of the lesson: `listen()` and `accept()` against the
//! real nc and curl, as root in a private network namespace; the capture
//! shows no RST from the kernel on the listening port.

mod common;
use common::*;

/// Shell: start `craft run` on `recipe` in the background (output in
/// /tmp/craft.$$) and wait until its listen() has reserved the port.
fn craft_bg(recipe: &str) -> String {
    format!(
        "\"$CRAFT\" run {recipe} > /tmp/craft.$$ 2>&1 &\nCR=$!\n\
         for i in $(seq 100); do grep -q reserved /tmp/craft.$$ && break; sleep 0.05; done\n"
    )
}

/// RSTs in the capture with the given TCP source port, as tcpdump prints them.
const RSTS: &str =
    "tcpdump -nr /tmp/cap.$$ 2>/dev/null | grep 'Flags \\[R' | grep -E \"127.0.0.1.$1 >\"";

fn run(script: &str) -> (String, String) {
    let o = netns(script);
    text(&o)
}

#[test]
fn nc_connects_and_craft_answers_its_syn_by_hand() {
    if !privileged("server by hand") {
        return;
    }
    need("nc");
    need("tcpdump");
    let script = format!(
        "{td}{craft}(printf 'hello from nc\\n'; sleep 1) | timeout 5 nc 127.0.0.1 1234 > /tmp/nc.$$\n\
         wait $CR; echo CRAFT=$?\nsleep 0.2; kill $TD; wait $TD 2>/dev/null\n\
         echo NC=$(cat /tmp/nc.$$)\ncat /tmp/craft.$$\n\
         rst() {{ {RSTS}; }}\necho RSTS=$(rst 1234 | wc -l)\nrst 1234\n",
        td = tcpdump_start("/tmp/cap.$$"),
        craft = craft_bg("recipes/server_by_hand.craft"),
    );
    let (out, err) = run(&script);
    assert_eq!(var(&out, "CRAFT").as_deref(), Some("0"), "{out}\n{err}");
    assert!(out.contains("server_by_hand.craft: passed"), "{out}");
    // nc printed what craft sent; the recipe expected what nc sent.
    assert_eq!(
        var(&out, "NC").as_deref(),
        Some("hello from craft"),
        "{out}"
    );
    assert!(out.contains("length 14"), "nc's 14 bytes:\n{out}");
    // No RST from port 1234: the kernel's were dropped, and craft closed with FINs.
    assert_eq!(var(&out, "RSTS").as_deref(), Some("0"), "{out}");
}

#[test]
fn curl_fetches_a_page_from_craft_byte_exact() {
    if !privileged("serve curl") {
        return;
    }
    need("curl");
    need("tcpdump");
    let script = format!(
        "{td}{craft}curl -s -m 5 http://127.0.0.1:8080/ > /tmp/page.$$; echo CURL=$?\n\
         wait $CR; echo CRAFT=$?\nsleep 0.2; kill $TD; wait $TD 2>/dev/null\n\
         echo PAGE=$(od -An -c /tmp/page.$$ | tr -s ' ')\ncat /tmp/craft.$$\n\
         rst() {{ {RSTS}; }}\necho RSTS=$(rst 8080 | wc -l)\n",
        td = tcpdump_start("/tmp/cap.$$"),
        craft = craft_bg("recipes/serve_curl.craft"),
    );
    let (out, err) = run(&script);
    assert_eq!(var(&out, "CURL").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(var(&out, "CRAFT").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(
        var(&out, "PAGE").as_deref(),
        Some(" h e l l o , c u r l \\n"),
        "{out}"
    );
    assert_eq!(var(&out, "RSTS").as_deref(), Some("0"), "{out}");
}

#[test]
fn accept_takes_a_syn_that_came_before_it_and_serves_clients_in_turn() {
    if !privileged("accept in turn") {
        return;
    }
    need("nc");
    let recipe = "l = listen(1234)\nsleep(0.5)\n\
        for name in [\"one\", \"two\"] {\n\
          s = l.accept(timeout=5)\n\
          expect s.recv(timeout=0.5) == name + \"\\n\"\n\
          s.send(\"got \" + name + \"\\n\")\n\
          s.close()\n\
          expect s.state == \"TIME-WAIT\"\n\
        }\n\
        expect l.accepted == 2\n\
        flow(s)\n";
    let script = format!(
        "cat > /tmp/acc.$$.craft <<'EOF'\n{recipe}EOF\n{craft}\
         (echo one; sleep 2) | timeout 5 nc 127.0.0.1 1234 > /tmp/one.$$ &\n\
         sleep 0.2\n(echo two; sleep 2) | timeout 5 nc 127.0.0.1 1234 > /tmp/two.$$ &\n\
         wait $CR; echo CRAFT=$?\nwait\necho ONE=$(cat /tmp/one.$$)\necho TWO=$(cat /tmp/two.$$)\ncat /tmp/craft.$$\n",
        craft = craft_bg("/tmp/acc.$$.craft"),
    );
    let (out, err) = run(&script);
    assert_eq!(var(&out, "CRAFT").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(var(&out, "ONE").as_deref(), Some("got one"), "{out}");
    assert_eq!(var(&out, "TWO").as_deref(), Some("got two"), "{out}");
    // Both SYNs came before their accept() (the first during sleep(), the
    // second during the first session): each first SYN was answered, not
    // only the kernel's retransmission of it.
    let lines: Vec<&str> = out.lines().collect();
    let firsts: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains("Flags [S],") && !lines[i].contains("retransmission"))
        .collect();
    assert_eq!(firsts.len(), 2, "{out}");
    for i in firsts {
        let next = lines.get(i + 1).copied().unwrap_or("");
        assert!(
            next.contains("Flags [SA]") && !next.contains("retransmission"),
            "{out}"
        );
    }
    // The ladder of a server session has the client on the left.
    assert!(
        out.contains("client") && out.contains("127.0.0.1:1234"),
        "{out}"
    );
}

#[test]
fn both_ends_runs_with_nothing_else_started() {
    if !privileged("both ends") {
        return;
    }
    need("tcpdump");
    let script = format!(
        "{td}\"$CRAFT\" run recipes/both_ends.craft; echo CRAFT=$?\n\
         sleep 0.2; kill $TD; wait $TD 2>/dev/null\n\
         rst() {{ {RSTS}; }}\necho RSTS=$(rst 1234 | wc -l)\n",
        td = tcpdump_start("/tmp/cap.$$"),
    );
    let (out, err) = run(&script);
    assert_eq!(var(&out, "CRAFT").as_deref(), Some("0"), "{out}\n{err}");
    assert!(out.contains("both_ends.craft: passed"), "{out}");
    assert_eq!(var(&out, "RSTS").as_deref(), Some("0"), "{out}");
}

#[test]
fn a_kernel_socket_refused_or_unanswered_is_an_error_naming_the_line() {
    if !privileged("tcp_connect errors") {
        return;
    }
    let script = "printf 'x = 1\\nk = tcp_connect(\"127.0.0.1\", 1)\\n' > /tmp/r.$$.craft\n\
        \"$CRAFT\" run /tmp/r.$$.craft; echo REFUSED=$?\n\
        printf 'l = listen(1234)\\nk = tcp_connect(\"127.0.0.1\", 1234)\\nk.write(\"x\", timeout=0.3)\\n' > /tmp/t.$$.craft\n\
        \"$CRAFT\" run /tmp/t.$$.craft; echo TIMEOUT=$?\n";
    let (out, err) = run(script);
    assert_eq!(var(&out, "REFUSED").as_deref(), Some("2"), "{out}\n{err}");
    assert!(
        err.contains(".craft:2:") && err.contains("connection to 127.0.0.1:1 refused"),
        "{err}"
    );
    // craft's listen() answers nothing until accept(): the handshake times out.
    assert_ne!(var(&out, "TIMEOUT").as_deref(), Some("0"), "{out}\n{err}");
    assert!(
        err.contains(".craft:3:") && err.contains("no answer to the SYN in 0.3s"),
        "{err}"
    );
}

#[test]
fn a_mebibyte_from_nc_arrives_byte_exact_and_goes_back_in_segments() {
    if !privileged("1 MiB") {
        return;
    }
    need("nc");
    // craft takes 1 MiB from nc (ACKing segment by segment), sends it all
    // back split to nc's MSS within its window, and closes; nc's output is
    // what it sent.
    let recipe = "l = listen(1234, verbose=false)\ns = l.accept(timeout=5)\n\
        data = s.recv(timeout=1)\nexpect len(data) == 1048576\n\
        s.send(data)\ns.close()\nexpect s.state == \"TIME-WAIT\"\n";
    let script = format!(
        "head -c 1048576 /dev/urandom > /tmp/mib.$$\ncat > /tmp/mib.$$.craft <<'EOF'\n{recipe}EOF\n{craft}\
         timeout 10 nc 127.0.0.1 1234 < /tmp/mib.$$ > /tmp/back.$$\n\
         wait $CR; echo CRAFT=$?\ncat /tmp/craft.$$\n\
         echo SENT=$(sha256sum < /tmp/mib.$$)\necho BACK=$(sha256sum < /tmp/back.$$)\n",
        craft = craft_bg("/tmp/mib.$$.craft"),
    );
    let (out, err) = run(&script);
    assert_eq!(var(&out, "CRAFT").as_deref(), Some("0"), "{out}\n{err}");
    let sent = var(&out, "SENT").unwrap();
    assert_eq!(var(&out, "BACK"), Some(sent), "{out}");
}

#[test]
fn a_craft_client_talks_to_a_kernel_listener_with_nothing_else_started() {
    if !privileged("kernel server") {
        return;
    }
    let (out, err) = run("\"$CRAFT\" run recipes/kernel_server.craft; echo CRAFT=$?\n");
    assert_eq!(var(&out, "CRAFT").as_deref(), Some("0"), "{out}\n{err}");
    assert!(out.contains("kernel_server.craft: passed"), "{out}");
}

#[test]
fn a_large_write_from_nc_arrives_in_segments_of_crafts_mss() {
    if !privileged("server segments") {
        return;
    }
    need("nc");
    let script = format!(
        "ip link set lo gso_max_size 1000\n{craft}head -c 5000 /dev/zero | tr '\\0' x | timeout 5 nc 127.0.0.1 1234 > /dev/null\n\
         wait $CR; echo CRAFT=$?\ncat /tmp/craft.$$\n",
        craft = craft_bg("recipes/server_segments.craft"),
    );
    let (out, err) = run(&script);
    assert_eq!(var(&out, "CRAFT").as_deref(), Some("0"), "{out}\n{err}");
    assert!(out.contains("server_segments.craft: passed"), "{out}");
}

#[test]
fn craft_listen_answers_nc_in_one_command_and_says_when_no_client_came() {
    if !privileged("craft listen") {
        return;
    }
    need("nc");
    let script = "\"$CRAFT\" listen --port 1234 --data 'hi\\n' --echo --once --timeout 1 > /tmp/l.$$ 2>&1 &\nCR=$!\n\
        for i in $(seq 100); do grep -q listening /tmp/l.$$ && break; sleep 0.05; done\n\
        (echo ping; sleep 0.5) | timeout 5 nc 127.0.0.1 1234 > /tmp/nc.$$\n\
        wait $CR; echo LISTEN=$?\necho NC=$(cat /tmp/nc.$$ | tr '\\n' ' ')\ncat /tmp/l.$$\n\
        \"$CRAFT\" listen --port 1234 --timeout 0.2; echo NOBODY=$?\n";
    let (out, err) = run(script);
    assert_eq!(var(&out, "LISTEN").as_deref(), Some("0"), "{out}\n{err}");
    // nc got the --data, then its own line echoed.
    assert_eq!(var(&out, "NC").as_deref(), Some("hi ping"), "{out}");
    assert!(out.contains("received 5 bytes: ping\\n"), "{out}");
    assert!(out.contains("state TIME-WAIT"), "{out}");
    assert!(out.contains("no client in 0.2s"), "{out}");
    assert_eq!(var(&out, "NOBODY").as_deref(), Some("3"), "{out}");
}

#[test]
fn craft_handshake_plays_the_server_with_listen() {
    if !privileged("craft handshake --listen") {
        return;
    }
    need("nc");
    let script = "\"$CRAFT\" handshake --listen 1234 --data 'hello\\n' --timeout 3 > /tmp/h.$$ 2>&1 &\nCR=$!\n\
        for i in $(seq 100); do grep -q listening /tmp/h.$$ && break; sleep 0.05; done\n\
        (echo ping; sleep 0.5) | timeout 5 nc 127.0.0.1 1234 > /tmp/nc.$$\n\
        wait $CR; echo HS=$?\necho NC=$(cat /tmp/nc.$$ | tr '\\n' ' ')\ncat /tmp/h.$$\n";
    let (out, err) = run(script);
    assert_eq!(var(&out, "HS").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(var(&out, "NC").as_deref(), Some("hello"), "{out}");
    assert!(out.contains("received 5 bytes: ping\\n"), "{out}");
    // The ladder: nc (the client) on the left sent the SYN; craft answered it.
    assert!(out.contains("|---------------- [S] seq=0"), "{out}");
    assert!(out.contains("|<------------ [SA] seq=0 ack=1"), "{out}");
}

#[test]
fn a_kernel_socket_reports_tcp_info_as_a_record() {
    if !privileged("k.info()") {
        return;
    }
    need("nc");
    std::fs::write(
        "/tmp/craft-info.craft",
        "k = tcp_connect(\"127.0.0.1\", 1234)\nk.write(\"ping\\n\")\ni = k.info()\n\
         expect i.state == \"ESTABLISHED\"\nexpect i.snd_mss > 0 and i.snd_cwnd > 0 and i.rto > 0\n\
         expect i.total_retrans == 0\nk.close()\nx = i.nosuch\n",
    )
    .unwrap();
    let (out, err) = run(&format!(
        "{nc}\"$CRAFT\" run /tmp/craft-info.craft 2>&1; echo EXIT=$?\n",
        nc = nc_listen(1234, "")
    ));
    // Every expect held; the unknown field is an error naming the line and the fields.
    assert!(
        out.contains("ok: i.state == \"ESTABLISHED\""),
        "{out}\n{err}"
    );
    assert!(out.contains("ok: i.total_retrans == 0"), "{out}");
    assert!(
        out.contains("craft-info.craft:8:7: the record has no field 'nosuch'"),
        "{out}"
    );
    assert!(
        out.contains("(fields: state, rtt, rttvar, rto, snd_mss"),
        "{out}"
    );
    assert_eq!(var(&out, "EXIT").as_deref(), Some("2"), "{out}");
}

#[test]
fn a_server_session_waits_out_a_clients_shut_window_and_loses_nothing() {
    if !privileged("a server session waits out a client's shut window") {
        return;
    }
    need("python3");
    // The client's 4 KiB receive buffer fills and it reads nothing for 2 s:
    // craft's server session probes the shut window (more probes than its
    // retries=2) and then sends the rest, byte-exact.
    let recipe = "/tmp/srv-zw.craft";
    std::fs::write(
        recipe,
        "l = listen(1234, verbose=false, retries=2)\ns = l.accept(timeout=10)\n\
         s.send(read_file(\"/tmp/srv-zw.bin\"))\ns.close()\n",
    )
    .unwrap();
    let client = "import hashlib, socket, time\n\
                  s = socket.socket()\n\
                  s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)\n\
                  s.connect(('127.0.0.1', 1234))\n\
                  time.sleep(2)\n\
                  h = hashlib.sha256()\n\
                  while True:\n    b = s.recv(65536)\n    if not b: break\n    h.update(b)\n\
                  print('GOT=' + h.hexdigest())\n";
    std::fs::write("/tmp/srv-zw.py", client).unwrap();
    let script = format!(
        "head -c 1048576 /dev/urandom > /tmp/srv-zw.bin\n{craft}timeout 30 python3 /tmp/srv-zw.py\n\
         wait $CR; echo CRAFT=$?\necho WANT=$(sha256sum < /tmp/srv-zw.bin | cut -c1-64)\ncat /tmp/craft.$$\n",
        craft = craft_bg(recipe),
    );
    let (out, err) = run(&script);
    assert_eq!(var(&out, "CRAFT").as_deref(), Some("0"), "{out}\n{err}");
    assert_eq!(var(&out, "GOT"), var(&out, "WANT"), "byte-exact\n{out}");
}

//! The shipped recipes, each run against the real server it needs, as root in
//! a private network namespace; and a broken copy of each (its last expect
//! negated) that must fail with exit 1 naming that line.

mod common;
use common::*;
use std::path::Path;

/// (recipe, shell that starts its server, extra arguments to craft run).
const CASES: &[(&str, &str, &str)] = &[
    ("handshake", "nc -l 127.0.0.1 1234 > /dev/null &", ""),
    (
        "hello",
        "(sleep 0.5; echo 'hi from the server'; sleep 2) | nc -l 127.0.0.1 1234 > /dev/null &",
        "",
    ),
    ("segments", "nc -l 127.0.0.1 1234 > /dev/null &", ""),
    (
        "close",
        "nc -l 127.0.0.1 1234 > /dev/null < /dev/null &",
        "",
    ),
    ("reset", "nc -l 127.0.0.1 1234 > /dev/null &", ""),
    ("bad-checksum", "nc -l 127.0.0.1 1234 > /dev/null &", ""),
    (
        "http-get",
        "python3 -m http.server 8000 --bind 127.0.0.1 --directory \"$RECIPES\" > /dev/null 2>&1 &",
        "--var port=8000",
    ),
    (
        "port-scan",
        "nc -l 127.0.0.1 1234 > /dev/null & nc -l 127.0.0.1 1237 > /dev/null &",
        "",
    ),
];

fn wait_port(case: &str) -> &'static str {
    if case == "http-get" { "8000" } else { "1234" }
}

/// Runs `recipe` (a path) with its server; returns (exit code, output).
fn run_case(name: &str, recipe: &Path, recipes_dir: &Path) -> (Option<String>, String) {
    let (_, server, args) = CASES.iter().find(|c| c.0 == name).unwrap();
    let script = format!(
        "RECIPES={dir}\n{server}\nfor i in $(seq 100); do ss -ltn | grep -q ':{port} ' && break; sleep 0.05; done\n\
         \"$CRAFT\" run {args} {recipe} > /tmp/out.$$ 2>&1\necho EXIT=$?\ncat /tmp/out.$$\n",
        dir = recipes_dir.display(),
        port = wait_port(name),
        recipe = recipe.display()
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    (var(&out, "EXIT"), format!("{out}\n{err}"))
}

/// The broken copy: the recipe's last `expect` negated. Returns (path, its line).
fn broken_copy(name: &str, dir: &Path) -> (std::path::PathBuf, usize) {
    let src = std::fs::read_to_string(format!("recipes/{name}.craft")).unwrap();
    let mut lines: Vec<String> = src.lines().map(str::to_string).collect();
    let idx = lines
        .iter()
        .rposition(|l| l.trim_start().starts_with("expect "))
        .expect("an expect to break");
    let cond = lines[idx]
        .trim_start()
        .trim_start_matches("expect ")
        .split(" #")
        .next()
        .unwrap()
        .to_string();
    lines[idx] = format!("expect not ({cond})");
    let path = dir.join(format!("{name}.craft"));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    (path, idx + 1)
}

fn check(name: &str) {
    if !privileged(name) {
        return;
    }
    need("nc");
    need("python3");
    let recipes = std::fs::canonicalize("recipes").unwrap();
    let (code, out) = run_case(name, &recipes.join(format!("{name}.craft")), &recipes);
    assert_eq!(code.as_deref(), Some("0"), "{name} should pass:\n{out}");
    assert!(out.contains(&format!("{name}.craft: passed")), "{out}");
    // A broken copy, next to a copy of the includes, fails at the right line.
    let dir = std::env::temp_dir().join(format!("craft-broken-{}-{name}", std::process::id()));
    std::fs::create_dir_all(dir.join("include")).unwrap();
    let include = "include/connect.craft";
    std::fs::copy(recipes.join(include), dir.join(include)).unwrap();
    let (path, line) = broken_copy(name, &dir);
    let (code, out) = run_case(name, &path, &recipes);
    assert_eq!(
        code.as_deref(),
        Some("1"),
        "broken {name} should fail:\n{out}"
    );
    assert!(
        out.contains(&format!("failed at {}:{line}", path.display())),
        "line {line}:\n{out}"
    );
    assert!(
        out.contains(&format!(
            "{}:{line}:1: expect failed: not (",
            path.display()
        )),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn recipe_handshake() {
    check("handshake");
}

#[test]
fn recipe_hello() {
    check("hello");
}

#[test]
fn recipe_segments() {
    check("segments");
}

#[test]
fn recipe_close() {
    check("close");
}

#[test]
fn recipe_reset() {
    check("reset");
}

#[test]
fn recipe_bad_checksum() {
    check("bad-checksum");
}

#[test]
fn recipe_http_get() {
    check("http-get");
}

#[test]
fn recipe_port_scan() {
    check("port-scan");
}

/// `craft run --check FILE`.
fn check_only(path: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_craft"))
        .args(["run", "--check"])
        .arg(path)
        .output()
        .unwrap()
}

#[test]
fn every_shipped_recipe_passes_check_and_a_syntax_error_names_line_and_column() {
    for entry in std::fs::read_dir("recipes").unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "craft") {
            let o = check_only(&p);
            assert!(
                o.status.success(),
                "{}: {}",
                p.display(),
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
    let bad = std::env::temp_dir().join(format!("craft-syntax-{}.craft", std::process::id()));
    std::fs::write(&bad, "x = 1\nfor p in range(3) {\n  y = p +\n}\n").unwrap();
    let o = check_only(&bad);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("{}:3:10: syntax error", bad.display())),
        "{err}"
    );
    // --check also catches unknown names.
    std::fs::write(&bad, "x = 1\nexpect y == 1\n").unwrap();
    let o = check_only(&bad);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(":2:8: unknown name 'y'"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn expect_packet_keep_going_and_json() {
    if !privileged("expect_packet_keep_going_and_json") {
        return;
    }
    need("nc");
    let recipe = r#"
c = connect("127.0.0.1", 1234)
send(Ether()/IP()/TCP(sport=c.sport, dport=1234, flags="S", seq=c.iss))
r = expect_packet(TCP(flags="SA", ack=1), timeout=1, session=c)
expect r.tcp.sport == 1234
expect c.state == "SYN-SENT"
expect c.irs == r.tcp.seq
c.ack()
expect c.state == "ESTABLISHED"
expect 1 == 2
x = expect_packet(TCP(flags="F"), timeout=0.2, session=c)
expect 2 == 3
"#;
    let script = format!(
        "cat > /tmp/r.$$ <<'EOF'\n{recipe}EOF\n{}\"$CRAFT\" run --keep-going --json /tmp/r.$$ > /tmp/out.$$ 2>/tmp/err.$$\necho EXIT=$?\ncat /tmp/out.$$\necho =====\ncat /tmp/err.$$\n",
        nc_listen(1234, "> /dev/null")
    );
    let o = netns(&script);
    let (out, err) = text(&o);
    assert_eq!(var(&out, "EXIT").as_deref(), Some("1"), "{out}\n{err}");
    // The pattern matched the SYN-ACK with ack relative to the session.
    assert!(
        out.contains("(matched TCP(ack=1, flags=\"SA\") (seq/ack relative to the session)"),
        "{out}"
    );
    // --keep-going: all three failures reported, the file fails at the first.
    let stderr_part = out.split("=====").nth(1).unwrap();
    assert!(
        stderr_part.contains(":10:1: expect failed: 1 == 2"),
        "{out}"
    );
    assert!(
        stderr_part.contains(":11:18: expect_packet failed: no packet like TCP(flags=\"F\")"),
        "{out}"
    );
    assert!(
        stderr_part.contains(":12:1: expect failed: 2 == 3"),
        "{out}"
    );
    let json = out
        .lines()
        .find(|l| l.starts_with("{\"file\":"))
        .expect("json line");
    assert!(
        json.contains("\"result\":\"failed\",\"exit\":1,\"failures\":3"),
        "{json}"
    );
    assert!(json.contains(":10:1\""), "{json}");
}

#[test]
fn doctor_says_what_is_wrong_and_how_to_fix_it() {
    if !privileged("doctor_says_what_is_wrong_and_how_to_fix_it") {
        return;
    }
    let o = netns(
        "\"$CRAFT\" doctor > /tmp/d.$$; echo OK_EXIT=$?; cat /tmp/d.$$\n\
         ip link set lo down\n\"$CRAFT\" doctor > /tmp/d2.$$; echo DOWN_EXIT=$?; cat /tmp/d2.$$\n\
         setpriv --inh-caps=-all --bounding-set=-net_raw,-net_admin -- \"$CRAFT\" doctor > /tmp/d3.$$; echo NOCAP_EXIT=$?; cat /tmp/d3.$$\n\
         ip link set lo up; sysctl -qw net.ipv6.conf.lo.disable_ipv6=1\n\"$CRAFT\" doctor > /tmp/d4.$$; echo NOV6_EXIT=$?; cat /tmp/d4.$$\n",
    );
    let (out, err) = text(&o);
    assert_eq!(var(&out, "OK_EXIT").as_deref(), Some("0"), "{out}\n{err}");
    assert!(out.contains("checks passed: craft can send on lo"), "{out}");
    assert!(out.contains("ok   ipv6"), "{out}");
    // IPv6 off on lo (this namespace's sysctl): said, with the fix.
    assert_eq!(var(&out, "NOV6_EXIT").as_deref(), Some("1"), "{out}");
    assert!(
        out.contains("FAIL ipv6")
            && out.contains("net.ipv6.conf.lo.disable_ipv6=1: IPv6 frames go unanswered"),
        "{out}"
    );
    assert!(
        out.contains("sysctl -w net.ipv6.conf.lo.disable_ipv6=0"),
        "{out}"
    );
    assert_eq!(var(&out, "DOWN_EXIT").as_deref(), Some("1"), "{out}");
    assert!(
        out.contains("ip link set lo up"),
        "the fix for a down interface: {out}"
    );
    assert_eq!(var(&out, "NOCAP_EXIT").as_deref(), Some("1"), "{out}");
    assert!(
        out.contains("FAIL CAP_NET_RAW") && out.contains("setcap cap_net_raw,cap_net_admin+ep"),
        "{out}"
    );
}

//! Every name the language knows, as data: builtins (signature, help, whether
//! they need the live link, the function), session methods and attributes,
//! and keywords. `help()`, completion, hints, `craft run --check`, argument
//! binding and "did you mean" all read these tables; nothing else lists names.

use super::args::Args;
use super::value::{SessionRef, Value};
use super::{Engine, EvalResult, builtins, net, session};
use crate::wire::LayerKind;

/// One parameter of a builtin or method.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// Its name, also the keyword to give it by.
    pub name: &'static str,
    /// The default as written in help; None when it must be given.
    pub default: Option<&'static str>,
}

const fn req(name: &'static str) -> Param {
    Param {
        name,
        default: None,
    }
}

const fn opt(name: &'static str, default: &'static str) -> Param {
    Param {
        name,
        default: Some(default),
    }
}

/// How a builtin or method is called: its name and parameters, in order.
#[derive(Clone, Copy, Debug)]
pub struct Signature {
    /// The name.
    pub name: &'static str,
    /// Parameters, positional in this order or by name.
    pub params: &'static [Param],
    /// Takes any number of further positional values (`print`).
    pub rest: bool,
}

impl Signature {
    /// The call form for help and hints: `sr1(packet, timeout=2)`.
    pub fn usage(&self) -> String {
        let mut parts: Vec<String> = self
            .params
            .iter()
            .map(|p| match p.default {
                None => p.name.to_string(),
                Some(d) => format!("{}={d}", p.name),
            })
            .collect();
        if self.rest {
            parts.push("...".into());
        }
        format!("{}({})", self.name, parts.join(", "))
    }

    /// The error for an argument `k` this signature does not take.
    pub fn no_argument(&self, k: &str) -> String {
        let hint = closest(k, self.params.iter().map(|p| p.name))
            .map(|s| format!(" (did you mean '{s}'?)"))
            .unwrap_or_default();
        format!(
            "{}() has no argument '{k}'{hint}: {}",
            self.name,
            self.usage()
        )
    }

    /// The parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&'static Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// A builtin's implementation.
pub type BuiltinFn = fn(&mut Engine, &mut Args) -> EvalResult<Value>;

/// A builtin function.
#[derive(Clone, Copy, Debug)]
pub struct Builtin {
    /// Name and parameters.
    pub sig: Signature,
    /// One line on what it does.
    pub summary: &'static str,
    /// More: what it returns, examples.
    pub help: &'static str,
    /// Needs the live link (sends or receives); `craft show` and `--check` run without one.
    pub live: bool,
    /// The function.
    pub run: BuiltinFn,
}

/// A session method's implementation.
pub type MethodFn = fn(&mut Engine, &SessionRef, &mut Args) -> EvalResult<Value>;

/// A method of a session (`c.syn()`).
#[derive(Clone, Copy, Debug)]
pub struct Method {
    /// Name and parameters.
    pub sig: Signature,
    /// One line on what it does.
    pub summary: &'static str,
    /// More.
    pub help: &'static str,
    /// The function.
    pub run: MethodFn,
}

/// An attribute readable on a session (`c.state`).
#[derive(Clone, Copy, Debug)]
pub struct Attr {
    /// Name.
    pub name: &'static str,
    /// What it holds.
    pub summary: &'static str,
}

/// A keyword of the language.
#[derive(Clone, Copy, Debug)]
pub struct Keyword {
    /// The word.
    pub name: &'static str,
    /// How it is written.
    pub usage: &'static str,
    /// One line on what it does.
    pub summary: &'static str,
    /// More.
    pub help: &'static str,
}

macro_rules! sig {
    ($name:literal $(, $p:expr)*) => {
        Signature { name: $name, params: &[$($p),*], rest: false }
    };
}

/// Every builtin, in the order `help()` lists them.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        sig: sig!("sr1", req("packet"), opt("timeout", "2")),
        summary: "sends a packet and returns the first packet that answers it, or none",
        help: "The answer is matched direction first (ports and addresses swapped), so craft's own\n\
               looped-back frame never counts; a frame with a wrong checksum answers nothing.\n\
               Prints what went and what came, with the round-trip time (kernel timestamps).\n\
               e.g. r = sr1(Ether()/IP(dst=\"127.0.0.1\")/TCP(dport=1234, flags=\"S\"), timeout=1)",
        live: true,
        run: net::sr1,
    },
    Builtin {
        sig: sig!("send", req("packet"), opt("count", "1")),
        summary: "sends a packet on the interface (an Ether layer is added if missing)",
        help: "With count=N the frames go in sendmmsg batches. Nothing is waited for;\n\
               use sr1 or expect_packet for the answer.",
        live: true,
        run: net::send,
    },
    Builtin {
        sig: sig!("sendp", req("packet"), opt("count", "1")),
        summary: "the same as send: craft always sends whole frames",
        help: "Kept for scapy's users: scapy's sendp sends at layer 2, as craft's send always does.",
        live: true,
        run: net::send,
    },
    Builtin {
        sig: sig!(
            "sniff",
            opt("count", "none"),
            opt("timeout", "none"),
            opt("filter", "none")
        ),
        summary: "receives packets and returns them as a list",
        help: "Stops after count packets or timeout seconds (or Ctrl-C); filter is tcpdump-like:\n\
               \"tcp port 1234\", \"udp or icmp\", \"src host 127.0.0.1\".",
        live: true,
        run: net::sniff,
    },
    Builtin {
        sig: sig!(
            "connect",
            req("dst"),
            req("dport"),
            opt("sport", "auto"),
            opt("iss", "random"),
            opt("window", "65535"),
            opt("mss", "65495 on lo"),
            opt("wscale", "none"),
            opt("rto", "0.2"),
            opt("retries", "5"),
            opt("verbose", "true")
        ),
        summary: "a TCP session: reserves and guards a source port, sends nothing yet",
        help: "Then c.syn(), c.ack(), c.send(data), c.recv(timeout=2), c.close(), c.rst();\n\
               craft keeps seq/ack, windows and MSS, and shows every segment as it goes.\n\
               help(c) lists the methods and attributes of a session.",
        live: true,
        run: session::connect,
    },
    Builtin {
        sig: sig!("flow", req("session")),
        summary: "a session as a ladder diagram, relative seq/ack",
        help: "Client on the left, server on the right, time going down; seq and ack relative\n\
               to each side's initial sequence number, as Wireshark shows them.",
        live: false,
        run: session::flow,
    },
    Builtin {
        sig: sig!("follow", req("session")),
        summary: "a session's data both ways, like Follow TCP Stream",
        help: "Client data in red, server data in blue on a terminal; headed by direction otherwise.",
        live: false,
        run: session::follow,
    },
    Builtin {
        sig: sig!(
            "expect_packet",
            req("pattern"),
            opt("timeout", "1"),
            opt("after", "0"),
            opt("session", "none")
        ),
        summary: "waits for a packet whose set fields match; fails the recipe if none comes in time",
        help: "Fields the pattern leaves unset match anything. With session=c only that session's\n\
               segments count and seq/ack in the pattern are relative to it; after=0.05 fails a\n\
               packet that came too early. A failure shows the near misses field by field.",
        live: true,
        run: net::expect_packet,
    },
    Builtin {
        sig: sig!("show", req("packet")),
        summary: "every field, computed values filled in, layer by layer",
        help: "Like scapy's show2: lengths, protocol numbers and checksums as they will be sent,\n\
               each checksum marked good, partial (offloaded) or bad.",
        live: false,
        run: builtins::show,
    },
    Builtin {
        sig: sig!("hexdump", req("packet")),
        summary: "offset, hex and ASCII; which bytes belong to which layer",
        help: "Layers are coloured on a terminal and labelled otherwise.",
        live: false,
        run: builtins::hexdump,
    },
    Builtin {
        sig: sig!("summary", req("packet")),
        summary: "one tcpdump-like line",
        help: "e.g. IP 127.0.0.1.40000 > 127.0.0.1.1234: Flags [S], seq 1000, win 8192, length 0",
        live: false,
        run: builtins::summary,
    },
    Builtin {
        sig: sig!("ls", opt("layer", "none")),
        summary: "a layer's fields with types and defaults; a packet's field values; the layers",
        help: "ls(TCP) lists TCP's fields; ls(p) every field of p as set; ls() the layers.",
        live: false,
        run: builtins::ls,
    },
    Builtin {
        sig: sig!("help", opt("name", "none")),
        summary: "this list, or help on one builtin, layer, method or keyword",
        help: "help(sr1), help(TCP), help(expect), help(c) for a session, help(\"c.send\").",
        live: false,
        run: builtins::help,
    },
    Builtin {
        sig: sig!("len", req("value")),
        summary: "length in bytes of a packet or string; items of a list",
        help: "len(p) is the frame's length as it will be sent.",
        live: false,
        run: builtins::len,
    },
    Builtin {
        sig: sig!("bytes", req("packet")),
        summary: "the frame's bytes as a string",
        help: "bytes(p.tcp) is the bytes from the TCP header on.",
        live: false,
        run: builtins::bytes,
    },
    Builtin {
        sig: sig!("hex", req("value")),
        summary: "an integer or bytes as hex text",
        help: "hex(255) is \"0xff\"; hex(p) the frame as lowercase hex.",
        live: false,
        run: builtins::hex,
    },
    Builtin {
        sig: Signature {
            name: "print",
            params: &[],
            rest: true,
        },
        summary: "prints values (strings without quotes)",
        help: "print(\"got\", r.tcp.flags) prints them separated by spaces.",
        live: false,
        run: builtins::print,
    },
    Builtin {
        sig: sig!("param", req("name"), req("default")),
        summary: "a recipe parameter: the value given with --var name=..., or the default",
        help: "port = param(\"port\", 1234) takes --var port=80 when given.",
        live: false,
        run: builtins::param,
    },
    Builtin {
        sig: sig!("range", req("start"), opt("stop", "none")),
        summary: "the integers start, start+1, ..., stop-1 (range(n): 0 to n-1)",
        help: "for port in range(1230, 1240) { ... }; at most 1000000 items.",
        live: false,
        run: builtins::range,
    },
    Builtin {
        sig: sig!("save", req("path"), req("data")),
        summary: "writes bytes (a string, or a packet's frame) to a file",
        help: "save(\"syn.bin\", p) writes the frame as it would be sent.",
        live: false,
        run: builtins::save,
    },
    Builtin {
        sig: sig!("sleep", req("seconds")),
        summary: "waits (Ctrl-C interrupts)",
        help: "sleep(0.1)",
        live: false,
        run: builtins::sleep,
    },
];

/// A session's methods.
pub const METHODS: &[Method] = &[
    Method {
        sig: sig!("syn"),
        summary: "sends the SYN and waits for the SYN-ACK (or RST), retransmitting the SYN",
        help: "Returns the answer, or none when nothing answered after the retries.",
        run: session::syn,
    },
    Method {
        sig: sig!("ack"),
        summary: "completes the handshake with an ACK; the session is then ESTABLISHED",
        help: "Returns the ACK as sent.",
        run: session::ack,
    },
    Method {
        sig: sig!("send", req("data")),
        summary: "sends data as PSH/ACK segments: split to the peer's MSS, within its window",
        help: "Waits until everything is acknowledged, retransmitting on timeout; returns the last ACK.",
        run: session::send,
    },
    Method {
        sig: sig!("recv", opt("timeout", "2")),
        summary: "the peer's data, ACKed as it comes, until its FIN or timeout seconds of quiet",
        help: "Returns the bytes not returned before.",
        run: session::recv,
    },
    Method {
        sig: sig!("close", opt("timeout", "2")),
        summary: "FIN, then the peer's FIN/ACK, then the last ACK",
        help: "Returns the peer's FIN (or the last segment seen); prints the final state.",
        run: session::close,
    },
    Method {
        sig: sig!("rst"),
        summary: "aborts the connection with a RST",
        help: "Returns the RST as sent.",
        run: session::rst,
    },
];

/// What can be read on a session.
pub const ATTRS: &[Attr] = &[
    Attr {
        name: "seq",
        summary: "our next sequence number (absolute)",
    },
    Attr {
        name: "ack_no",
        summary: "the next sequence number we expect from the peer (absolute)",
    },
    Attr {
        name: "state",
        summary: "the RFC 793 state: SYN-SENT, ESTABLISHED, FIN-WAIT-1, ...",
    },
    Attr {
        name: "mss",
        summary: "the peer's MSS (536 if it sent none)",
    },
    Attr {
        name: "peer_window",
        summary: "the peer's window in bytes (scaled)",
    },
    Attr {
        name: "window",
        summary: "our receive window in bytes",
    },
    Attr {
        name: "sport",
        summary: "our port",
    },
    Attr {
        name: "dport",
        summary: "the peer's port",
    },
    Attr {
        name: "dst",
        summary: "the peer's address",
    },
    Attr {
        name: "iss",
        summary: "our initial sequence number",
    },
    Attr {
        name: "irs",
        summary: "the peer's initial sequence number, once known",
    },
    Attr {
        name: "last_sent",
        summary: "the last segment we sent",
    },
    Attr {
        name: "last_recv",
        summary: "the last segment we received",
    },
    Attr {
        name: "received",
        summary: "all data received, in order",
    },
    Attr {
        name: "packets",
        summary: "every segment both ways, in order",
    },
];

/// The keywords.
pub const KEYWORDS: &[Keyword] = &[
    Keyword {
        name: "expect",
        usage: "expect cond",
        summary: "a check: a recipe fails (exit 1) at the first that does not hold",
        help: "A comparison shows both sides when it fails: expect r.tcp.flags == \"SA\".",
    },
    Keyword {
        name: "if",
        usage: "if cond { ... } else { ... }",
        summary: "runs one block or the other",
        help: "else if chains; blocks may span lines.",
    },
    Keyword {
        name: "else",
        usage: "if cond { ... } else { ... }",
        summary: "the block run when the if's condition is false",
        help: "",
    },
    Keyword {
        name: "for",
        usage: "for x in list { ... }",
        summary: "runs the block for each item of a list, range or string",
        help: "for port in range(1230, 1240) { r = sr1(...) }",
    },
    Keyword {
        name: "in",
        usage: "x in y",
        summary: "membership: a flag in flags, bytes in a string or payload, an item in a list",
        help: "expect \"S\" in r.tcp.flags",
    },
    Keyword {
        name: "include",
        usage: "include \"file.craft\"",
        summary: "runs another recipe here, relative to this file's folder",
        help: "Its variables stay defined afterwards: shipped recipes include include/connect.craft.",
    },
    Keyword {
        name: "and",
        usage: "a and b",
        summary: "true when both are (b is not evaluated when a is false)",
        help: "",
    },
    Keyword {
        name: "or",
        usage: "a or b",
        summary: "true when either is (b is not evaluated when a is true)",
        help: "",
    },
    Keyword {
        name: "not",
        usage: "not a",
        summary: "negation",
        help: "",
    },
    Keyword {
        name: "none",
        usage: "none",
        summary: "nothing: no reply in time; assigned to a field, makes it computed again",
        help: "p.tcp.chksum = none",
    },
    Keyword {
        name: "true",
        usage: "true",
        summary: "the boolean true",
        help: "",
    },
    Keyword {
        name: "false",
        usage: "false",
        summary: "the boolean false",
        help: "",
    },
];

/// What a name is, when the language knows it without a variable.
#[derive(Clone, Copy, Debug)]
pub enum Known {
    /// A builtin function.
    Builtin(&'static Builtin),
    /// A layer constructor.
    Layer(LayerKind),
    /// A keyword.
    Keyword(&'static Keyword),
}

/// The builtin called `name`.
pub fn builtin(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.sig.name == name)
}

/// The session method called `name`.
pub fn method(name: &str) -> Option<&'static Method> {
    METHODS.iter().find(|m| m.sig.name == name)
}

/// The keyword `name`.
pub fn keyword(name: &str) -> Option<&'static Keyword> {
    KEYWORDS.iter().find(|k| k.name == name)
}

/// The layer constructor called `name` as the language accepts it (`TCP`,
/// `tcp`, `Ether`, `IPv4`, ...).
pub fn layer(name: &str) -> Option<LayerKind> {
    LayerKind::from_name(name).filter(|k| k.name() == name || k.name().eq_ignore_ascii_case(name))
}

/// What `name` is, without variables: the one answer to "is this name known".
pub fn known(name: &str) -> Option<Known> {
    if let Some(k) = layer(name) {
        return Some(Known::Layer(k));
    }
    if let Some(b) = builtin(name) {
        return Some(Known::Builtin(b));
    }
    keyword(name).map(Known::Keyword)
}

/// True when `name` is taken by the language (a builtin or a layer), so it
/// cannot be a variable.
pub fn is_reserved(name: &str) -> bool {
    builtin(name).is_some() || LayerKind::from_name(name).is_some_and(|k| k.name() == name)
}

/// The error for a field `k` that layer `kind` does not have.
pub fn no_field(kind: LayerKind, k: &str) -> String {
    let names: Vec<&str> = kind.fields().iter().map(|f| f.name).collect();
    let hint = closest(k, names.iter().copied())
        .map(|s| format!(" (did you mean '{s}'?)"))
        .unwrap_or_default();
    format!(
        "{} has no field '{k}'{hint} (fields: {})",
        kind.name(),
        names.join(", ")
    )
}

/// Why a call to `callee` (a builtin or layer by its own name) cannot take
/// the argument `k`; None when it can, or when `callee` is neither.
pub fn bad_argument(callee: &str, k: &str) -> Option<String> {
    match known(callee)? {
        Known::Layer(kind) => kind.field_index(k).is_none().then(|| no_field(kind, k)),
        Known::Builtin(b) => b.sig.param(k).is_none().then(|| b.sig.no_argument(k)),
        Known::Keyword(_) => None,
    }
}

/// Every name the language knows without a variable, for completion and suggestions.
pub fn all_names() -> impl Iterator<Item = &'static str> {
    BUILTINS
        .iter()
        .map(|b| b.sig.name)
        .chain(LayerKind::ALL.iter().map(|k| k.name()))
        .chain(KEYWORDS.iter().map(|k| k.name))
}

/// The candidate closest to `name` (same but for case, or one edit away).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = if c.eq_ignore_ascii_case(name) {
            0
        } else {
            edit_distance(c, name)
        };
        if d <= 1 && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let c = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + c);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_keyword_of_the_parser_has_help() {
        let mut names: Vec<&str> = BUILTINS.iter().map(|b| b.sig.name).collect();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len(), "a builtin is listed twice");
        for k in crate::lang::parser::KEYWORDS {
            assert!(keyword(k).is_some(), "keyword {k} has no help entry");
        }
        for m in METHODS {
            assert!(!m.summary.is_empty());
        }
    }

    #[test]
    fn usage_comes_from_the_parameters() {
        assert_eq!(
            builtin("sr1").unwrap().sig.usage(),
            "sr1(packet, timeout=2)"
        );
        assert_eq!(method("send").unwrap().sig.usage(), "send(data)");
        assert_eq!(builtin("print").unwrap().sig.usage(), "print(...)");
    }

    #[test]
    fn closest_prefers_exact_case_then_one_edit() {
        assert_eq!(closest("tcp", ["TCP", "UDP"]), Some("TCP"));
        assert_eq!(closest("sr2", all_names()), Some("sr1"));
        assert_eq!(closest("zzzz", all_names()), None);
    }
}

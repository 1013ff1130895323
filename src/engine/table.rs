//! Every name the language knows, as data: builtins (signature, help, whether
//! they need the live link, the function), session methods and attributes,
//! and keywords. `help()`, completion, hints, `craft run --check`, argument
//! binding and "did you mean" all read these tables; nothing else lists names.

use super::args::{Args, Param, Signature};
use super::suggest::{did_you_mean, no_field};
use super::value::{KListenerRef, ListenerRef, PacketView, SessionRef, SocketRef, Value};
use super::{Engine, Error, EvalResult, builtins, capture, frag, net, session, sockets};
use crate::session::conn::{Conn, Dir};
use crate::wire::LayerKind;

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
    /// Reads it.
    pub read: fn(&Conn) -> Value,
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

macro_rules! sig {
    ($name:literal $(, $p:expr)*) => {
        Signature { name: $name, params: &[$($p),*], rest: false }
    };
}

/// Every builtin, in the order `help()` lists them.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        sig: sig!(
            "sr1",
            req("packet"),
            opt("timeout", "2"),
            opt("raw", "false")
        ),
        summary: "sends a packet and returns the first packet that answers it, or none",
        help: "The answer is matched direction first (ports and addresses swapped), so craft's own\n\
               looped-back frame never counts; a frame with a wrong checksum answers nothing.\n\
               Prints what went and what came, with the round-trip time (kernel timestamps).\n\
               e.g. r = sr1(Ether()/IP(dst=\"127.0.0.1\")/TCP(dport=1234, flags=\"S\"), timeout=1)",
        live: true,
        run: net::sr1,
    },
    Builtin {
        sig: sig!(
            "sr",
            req("packets"),
            opt("timeout", "2"),
            opt("retry", "0"),
            opt("inter", "0"),
            opt("raw", "false")
        ),
        summary: "sends many probes and returns (answered pairs, unanswered probes)",
        help: "ans, unans = sr(IP()/TCP(dport=[22, 80, 443], flags=\"S\"), timeout=1)\n\
               The probes go in sendmmsg batches (one at a time inter seconds apart when inter\n\
               is set); every reply is matched as sr1 matches (direction first, checksum right);\n\
               timeout counts from the last probe; retry=N sends the unanswered again N times.\n\
               ans is a list of (sent, received) pairs: for s, r in ans { ... }; summary(ans),\n\
               ans.summary(), table(ans, \"tcp.dport\", \"ip.dst\", \"tcp.flags\").",
        live: true,
        run: net::sr,
    },
    Builtin {
        sig: sig!(
            "send",
            req("packet"),
            opt("count", "1"),
            opt("raw", "false")
        ),
        summary: "sends a packet, or each packet of a list or set, on the interface (an Ether layer is added if missing)",
        help: "With count=N the frames go in sendmmsg batches; a list (fragment()'s, say) goes in order. Nothing is waited for;\n\
               use sr1 or expect_packet for the answer. A TCP, UDP or ICMP layer with no IP\n\
               layer below it is refused unless raw=true (or Ether(type=...) says what follows).",
        live: true,
        run: net::send,
    },
    Builtin {
        sig: sig!(
            "sendp",
            req("packet"),
            opt("count", "1"),
            opt("raw", "false")
        ),
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
            opt("filter", "none"),
            opt("stop_after", "none")
        ),
        summary: "receives packets and returns them as a list",
        help: "Stops after count packets or timeout seconds (or Ctrl-C); filter is a tcpdump\n\
               filter (pcap-filter syntax, compiled to BPF): \"tcp port 1234\", \"udp or icmp\",\n\
               \"src host 127.0.0.1\", \"tcp[tcpflags] & tcp-syn != 0\", \"net 127.0.0.0/8\".\n\
               stop_after=\"tcp[tcpflags] & tcp-fin != 0\" ends the sniff with the first packet\n\
               that filter takes, the last one returned (scapy's stop_filter).",
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
            opt("segment", "the MSS"),
            opt("flight", "the window"),
            opt("sack", "false"),
            opt("timestamps", "false"),
            opt("verbose", "true")
        ),
        summary: "a TCP session: reserves and guards a source port, sends nothing yet",
        help: "Then c.syn(), c.ack(), c.send(data), c.recv(timeout=2), c.close(), c.rst();\n\
               craft keeps seq/ack, windows and MSS, and shows every segment as it goes.\n\
               sack=true and timestamps=true offer those options (RFC 2018, RFC 7323): c.sack and\n\
               c.timestamps say whether the peer agreed. segment= and flight= are send()'s defaults.\n\
               help(c) lists the methods and attributes of a session.",
        live: true,
        run: session::connect,
    },
    Builtin {
        sig: sig!(
            "listen",
            req("addr"),
            opt("port", "none"),
            opt("window", "65535"),
            opt("mss", "65495 on lo"),
            opt("wscale", "7 if the client offers it"),
            opt("rto", "0.2"),
            opt("retries", "5"),
            opt("segment", "the MSS"),
            opt("flight", "the window"),
            opt("sack", "false"),
            opt("timestamps", "false"),
            opt("verbose", "true")
        ),
        summary: "a TCP listener: reserves a port and guards it against the kernel's RSTs, sends nothing",
        help: "l = listen(1234) (on 127.0.0.1) or listen(\"127.0.0.2\", 1234). Then s = l.accept(timeout=10)\n\
               answers the next SYN (SYNs that came before are kept) with a SYN-ACK honouring the\n\
               client's MSS and window, waits for its ACK, and returns a session like connect()'s:\n\
               s.send(data), s.recv(), s.close(), flow(s), follow(s). By hand: with l active,\n\
               syn = expect_packet(TCP(dport=1234, flags=\"S\")) and send() your own SYN-ACK;\n\
               the kernel's RST never goes. wscale=none offers no window scale.",
        live: true,
        run: session::listen,
    },
    Builtin {
        sig: sig!("tcp_connect", req("host"), req("port")),
        summary: "a kernel TCP socket connected to host:port (the kernel is the client)",
        help: "k = tcp_connect(\"127.0.0.1\", 1234); k.write(\"ping\\n\"); k.read(timeout=2); k.close()\n\
               The connect does not block: tcp_connect() to the script's own listen() returns at\n\
               once and l.accept() completes it; the first write or read waits for the handshake.\n\
               A refusal or no answer is an error naming the line. Closed at the end of the run.",
        live: true,
        run: sockets::tcp_connect,
    },
    Builtin {
        sig: sig!("tcp_listen", req("addr"), opt("port", "none")),
        summary: "a kernel TCP listener (the kernel is the server); srv.accept(timeout=2) gives its sockets",
        help: "srv = tcp_listen(8080) or tcp_listen(\"127.0.0.1\", 8080); a = srv.accept(timeout=2) is a kernel\n\
               socket like tcp_connect()'s (a.read(), a.write()), or none. The kernel shakes hands\n\
               by itself, so c = connect(\"127.0.0.1\", 8080) in the same recipe gets its SYN-ACK\n\
               before accept(). Closed at the end of the run.",
        live: true,
        run: sockets::tcp_listen,
    },
    Builtin {
        sig: sig!("flow", req("of"), opt("stream", "0")),
        summary: "a session or packets as a ladder diagram, relative seq/ack",
        help: "Client on the left, server on the right, time going down; seq and ack relative\n\
               to each side's initial sequence number, as Wireshark shows them.\n\
               flow(c) for a session; flow(pkts) for a list from sniff(), sr() or rdpcap(),\n\
               in time order; stream=N picks conversation N (0 = the first, as Wireshark's tcp.stream).",
        live: false,
        run: capture::flow,
    },
    Builtin {
        sig: sig!("follow", req("of"), opt("stream", "0")),
        summary: "a session's or packets' data both ways, like Follow TCP Stream",
        help: "Client data in red, server data in blue on a terminal; headed by direction otherwise.\n\
               follow(c), follow(pkts), follow(rdpcap(\"x.pcap\"), stream=1).",
        live: false,
        run: capture::follow,
    },
    Builtin {
        sig: sig!("read_file", req("path")),
        summary: "a file's bytes as a string (up to 1 GiB)",
        help: "c.send(read_file(\"big.bin\")) sends a file without building it in the language.",
        live: false,
        run: capture::read_file,
    },
    Builtin {
        sig: sig!("rdpcap", req("path")),
        summary: "the frames of a pcap or pcapng file, as a list of packets",
        help: "Each packet keeps its capture time: flow(rdpcap(\"x.pcap\")) draws its first conversation.",
        live: false,
        run: capture::rdpcap,
    },
    Builtin {
        sig: sig!("wrpcap", req("path"), req("packets")),
        summary: "writes packets (a list, a set, sr()'s answers) to a pcap file; returns how many",
        help: "Each packet at its capture time (sniffed, answered, read), or now.\n\
               Readable by tcpdump, Wireshark and craft read.",
        live: false,
        run: capture::wrpcap,
    },
    Builtin {
        sig: sig!("fragment", req("packet"), req("size")),
        summary: "the IPv4 fragments of a packet, as a list: size bytes of payload each (a multiple of 8)",
        help: "Offsets in 8-byte units, MF on all but the last, one id for all (a random one unless\n\
               id= is set), each header checksum computed; the transport checksum covers the whole\n\
               datagram. send(fragment(IP()/UDP()/Raw(\"x\" * 40), 16)) sends three fragments.",
        live: false,
        run: frag::fragment,
    },
    Builtin {
        sig: sig!("defragment", req("packets")),
        summary: "the list with its IPv4 fragments reassembled by (src, dst, proto, id) and offset",
        help: "Other packets pass through. An overlap or a missing piece is an error naming the\n\
               datagram. defragment(sniff(timeout=1)) or defragment(rdpcap(\"x.pcap\")).",
        live: false,
        run: frag::defragment,
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
        run: help,
    },
    Builtin {
        sig: sig!("table", req("pairs"), req("row"), req("col"), req("cell")),
        summary: "sr()'s answers as a table: rows and columns from the probes, cells from the replies",
        help: "table(ans, \"ip.dst\", \"tcp.dport\", \"tcp.flags\") (or ans.table(...)), as scapy's\n\
               make_table: one row per value of the probes' row field, one column per value of\n\
               their col field, each cell the reply's cell field (\"-\" where none answered).",
        live: false,
        run: builtins::table,
    },
    Builtin {
        sig: sig!("len", req("value")),
        summary: "length in bytes of a packet or string; items of a list; packets of a set",
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
        sig: sig!("str", req("value")),
        summary: "a value as text, as print shows it",
        help: "str(42) is \"42\", str(r.tcp.flags) \"SA\"; a string stays itself.\n\
               e.g. print(\"port \" + str(p) + \" open\")",
        live: false,
        run: builtins::str,
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

/// Builtins that can also be called as methods of a list, set or packet:
/// `ans.summary()` is `summary(ans)`, `ans.table(r, c, x)` is `table(ans, r, c, x)`.
pub const VALUE_METHODS: &[&str] = &["summary", "show", "hexdump", "table"];

/// A listener's method's implementation.
pub type ListenerFn = fn(&mut Engine, &ListenerRef, &mut Args) -> EvalResult<Value>;

/// A method of a listener (`l.accept()`).
#[derive(Clone, Copy, Debug)]
pub struct ListenerMethod {
    /// Name and parameters.
    pub sig: Signature,
    /// One line on what it does.
    pub summary: &'static str,
    /// More.
    pub help: &'static str,
    /// The function.
    pub run: ListenerFn,
}

/// A listener's methods.
pub const LISTENER_METHODS: &[ListenerMethod] = &[ListenerMethod {
    sig: sig!("accept", opt("timeout", "10")),
    summary: "answers the next SYN to the port with a SYN-ACK and returns the session, or none",
    help: "SYNs that came before the call are answered first; each call gives a new session.\n\
           Fails, saying why, when the client never acknowledges the SYN-ACK.",
    run: session::accept,
}];

/// What can be read on a listener.
pub const LISTENER_ATTRS: &[(&str, &str)] = &[
    ("port", "the port it listens on"),
    ("addr", "the address it listens on"),
    ("accepted", "how many connections accept() has taken"),
];

/// A kernel socket's method's implementation.
pub type SocketFn = fn(&mut Engine, &SocketRef, &mut Args) -> EvalResult<Value>;

/// A method of a kernel socket (`k.write()`).
#[derive(Clone, Copy, Debug)]
pub struct SocketMethod {
    /// Name and parameters.
    pub sig: Signature,
    /// One line on what it does.
    pub summary: &'static str,
    /// The function.
    pub run: SocketFn,
}

/// A kernel socket's methods.
pub const SOCKET_METHODS: &[SocketMethod] = &[
    SocketMethod {
        sig: sig!("write", req("data"), opt("timeout", "2")),
        summary: "writes all the data (after the handshake); returns how many bytes",
        run: sockets::write,
    },
    SocketMethod {
        sig: sig!("read", opt("timeout", "2")),
        summary: "what the peer sent: waits up to timeout for it; \"\" at its FIN or when none came",
        run: sockets::read,
    },
    SocketMethod {
        sig: sig!("shutdown", opt("how", "\"w\"")),
        summary: "sends our FIN (shutdown(SHUT_WR)); reading goes on",
        run: sockets::shutdown,
    },
    SocketMethod {
        sig: sig!("close"),
        summary: "closes the socket (the kernel sends its FIN)",
        run: sockets::close,
    },
    SocketMethod {
        sig: sig!("info"),
        summary: "the kernel's TCP_INFO as a record: i.state, i.rtt, i.rttvar, i.rto (µs), i.snd_mss, i.rcv_mss, i.snd_cwnd, i.retransmits, ...",
        run: sockets::info,
    },
];

/// A kernel listener's method's implementation.
pub type KListenerFn = fn(&mut Engine, &KListenerRef, &mut Args) -> EvalResult<Value>;

/// A method of a kernel listener (`srv.accept()`).
#[derive(Clone, Copy, Debug)]
pub struct KListenerMethod {
    /// Name and parameters.
    pub sig: Signature,
    /// One line on what it does.
    pub summary: &'static str,
    /// The function.
    pub run: KListenerFn,
}

/// A kernel listener's methods.
pub const KLISTENER_METHODS: &[KListenerMethod] = &[
    KListenerMethod {
        sig: sig!("accept", opt("timeout", "2")),
        summary: "the next connection the kernel accepted, as a kernel socket, or none",
        run: sockets::kaccept,
    },
    KListenerMethod {
        sig: sig!("close"),
        summary: "stops listening",
        run: sockets::kclose,
    },
];

/// The kernel listener method called `name`.
pub fn klistener_method(name: &str) -> Option<&'static KListenerMethod> {
    KLISTENER_METHODS.iter().find(|m| m.sig.name == name)
}

/// The kernel socket method called `name`.
pub fn socket_method(name: &str) -> Option<&'static SocketMethod> {
    SOCKET_METHODS.iter().find(|m| m.sig.name == name)
}

/// The listener method called `name`.
pub fn listener_method(name: &str) -> Option<&'static ListenerMethod> {
    LISTENER_METHODS.iter().find(|m| m.sig.name == name)
}

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
        sig: sig!(
            "send",
            req("data"),
            opt("segment", "the MSS"),
            opt("flight", "the window")
        ),
        summary: "sends data as PSH/ACK segments: split to the peer's MSS, within its window",
        help: "Waits until everything is acknowledged; returns the last ACK. segment=N sends at most N\n\
               bytes a segment, flight=K at most K segments before an ACK (flight=1: stop-and-wait).\n\
               Lost segments go again after three duplicate ACKs or the retransmission timeout\n\
               (estimated from round trips, rto= at first); a shut window is probed for as long as\n\
               the peer answers. Data follows whatever was sent before, by hand too. It fails, saying\n\
               why, when no ACK comes after the retries (the rest is given up; c.seq goes back).",
        run: session::send,
    },
    Method {
        sig: sig!(
            "recv",
            opt("timeout", "2"),
            opt("until", "none"),
            opt("size", "none")
        ),
        summary: "the peer's data, ACKed as it comes, until its FIN or timeout seconds of quiet",
        help: "Returns the bytes not returned before. until=\"\\r\\n\\r\\n\" returns as soon as they contain it,\n\
               up to and including it; size=N as soon as N bytes have come, exactly N\n\
               (the rest waits for the next recv).",
        run: session::recv,
    },
    Method {
        sig: sig!("close", opt("timeout", "2")),
        summary: "FIN, then the peer's FIN/ACK, then the last ACK",
        help: "Returns the peer's FIN (or the last segment seen); prints the final state.",
        run: session::close,
    },
    Method {
        sig: sig!("rel", req("packet")),
        summary: "a copy of one of this session's segments with seq/ack relative, as flow(c) shows them",
        help: "c.seq, c.ack_no, c.packets, c.last_sent, c.last_recv and what the helpers return are\n\
               absolute (as on the wire); c.rel_seq, c.rel_ack and c.rel(p) are relative to our\n\
               initial sequence number (c.iss) and the peer's (c.irs), like Wireshark and the live\n\
               lines. e.g. expect c.rel(c.last_recv).tcp.ack == 7",
        run: session::rel,
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
        summary: "our next sequence number (absolute; c.rel_seq is relative)",
        read: |c| Value::Int(c.snd_nxt.into()),
    },
    Attr {
        name: "ack_no",
        summary: "the next sequence number we expect from the peer (absolute; c.rel_ack is relative)",
        read: |c| Value::Int(c.rcv_nxt.into()),
    },
    Attr {
        name: "rel_seq",
        summary: "our next sequence number relative to c.iss, as the live lines show it",
        read: |c| Value::Int(c.snd_nxt.wrapping_sub(c.cfg.iss).into()),
    },
    Attr {
        name: "rel_ack",
        summary: "what we expect from the peer next, relative to c.irs (none before its SYN-ACK)",
        read: |c| {
            c.irs.map_or(Value::None, |irs| {
                Value::Int(c.rcv_nxt.wrapping_sub(irs).into())
            })
        },
    },
    Attr {
        name: "state",
        summary: "the RFC 793 state, plain: SYN-SENT, ESTABLISHED, FIN-WAIT-1, CLOSED, ...",
        read: |c| Value::Str(c.state.name().as_bytes().into()),
    },
    Attr {
        name: "reason",
        summary: "why it ended, when not by FINs: \"reset by peer\", \"reset by us\"; none otherwise",
        read: |c| {
            c.reason()
                .map_or(Value::None, |r| Value::Str(r.as_bytes().into()))
        },
    },
    Attr {
        name: "mss",
        summary: "the peer's MSS (536 if it sent none)",
        read: |c| Value::Int(c.peer_mss.into()),
    },
    Attr {
        name: "sack",
        summary: "true when both sides offered SACK (connect(..., sack=true))",
        read: |c| Value::Bool(c.sack_ok),
    },
    Attr {
        name: "timestamps",
        summary: "true when both sides offered timestamps (connect(..., timestamps=true))",
        read: |c| Value::Bool(c.ts_recent.is_some()),
    },
    Attr {
        name: "peer_window",
        summary: "the peer's window in bytes (scaled)",
        read: |c| Value::Int(c.peer_window.into()),
    },
    Attr {
        name: "window",
        summary: "our receive window in bytes",
        read: |c| Value::Int(c.cfg.window.into()),
    },
    Attr {
        name: "sport",
        summary: "our port",
        read: |c| Value::Int(c.cfg.sport.into()),
    },
    Attr {
        name: "dport",
        summary: "the peer's port",
        read: |c| Value::Int(c.cfg.dport.into()),
    },
    Attr {
        name: "dst",
        summary: "the peer's address",
        read: |c| super::value::ip_value(c.cfg.dst),
    },
    Attr {
        name: "iss",
        summary: "our initial sequence number",
        read: |c| Value::Int(c.cfg.iss.into()),
    },
    Attr {
        name: "irs",
        summary: "the peer's initial sequence number, once known",
        read: |c| c.irs.map_or(Value::None, |v| Value::Int(v.into())),
    },
    Attr {
        name: "last_sent",
        summary: "the last segment we sent (absolute)",
        read: |c| c.last(Dir::Out).cloned().map_or(Value::None, packet),
    },
    Attr {
        name: "last_recv",
        summary: "the last segment we received (absolute)",
        read: |c| c.last(Dir::In).cloned().map_or(Value::None, packet),
    },
    Attr {
        name: "received",
        summary: "all data received, in order",
        read: |c| Value::Str(c.received()),
    },
    Attr {
        name: "packets",
        summary: "every segment both ways, in the order they crossed the link (absolute; c.rel(p) for relative)",
        read: |c| {
            Value::List(
                c.log
                    .iter()
                    .map(|e| Value::Packet(PacketView::captured((*e.pkt).clone(), e.ts)))
                    .collect(),
            )
        },
    },
];

fn packet(p: crate::wire::Packet) -> Value {
    Value::Packet(PacketView::whole(p))
}

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

/// `help(name=none)`: reads the rows above.
fn help(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let text = match a.given("name") {
        None => help_text(),
        Some(Value::Builtin(b)) => help_on(b).unwrap_or_default(),
        Some(Value::Keyword(k)) => help_on(k).unwrap_or_default(),
        Some(Value::Layer(k)) => builtins::ls_layer(k),
        Some(Value::Session(_)) => session_help(),
        Some(Value::Listener(_)) => listener_help(),
        Some(Value::Socket(_)) => socket_help(),
        Some(Value::KernelListener(_)) => {
            let mut s = String::from("a kernel TCP listener from tcp_listen(). Methods:\n");
            for m in KLISTENER_METHODS {
                s.push_str(&format!("  srv.{:<20} {}\n", m.sig.usage(), m.summary));
            }
            s
        }
        Some(Value::Str(s)) => {
            let n = String::from_utf8_lossy(&s).into_owned();
            help_on(&n).ok_or_else(|| {
                let hint = did_you_mean(&n, all_names());
                Error::eval(
                    pos,
                    format!("no builtin, layer, method or keyword named '{n}'{hint}"),
                )
            })?
        }
        Some(v) => format!("{}: {}", v.type_name(), v.repr()),
    };
    eng.print(&text)?;
    Ok(Value::None)
}

/// Help on one name: a builtin, a layer, a keyword, or a session method
/// (`send` is both: the builtin's help, then the method's).
fn help_on(name: &str) -> Option<String> {
    let name = name.strip_prefix("c.").unwrap_or(name);
    let mut parts = Vec::new();
    if let Some(b) = builtin(name) {
        let live = if b.live { "  (sends or receives)" } else { "" };
        parts.push(format!(
            "{}{live}\n  {}\n  {}",
            b.sig.usage(),
            b.summary,
            indent(b.help)
        ));
    }
    if let Some(m) = method(name) {
        parts.push(format!(
            "c.{}  (a session method)\n  {}\n  {}",
            m.sig.usage(),
            m.summary,
            indent(m.help)
        ));
    }
    if let Some(k) = keyword(name) {
        let more = if k.help.is_empty() {
            String::new()
        } else {
            format!("\n  {}", indent(k.help))
        };
        parts.push(format!("{}  (keyword)\n  {}{more}", k.usage, k.summary));
    }
    if let Some(a) = ATTRS.iter().find(|a| a.name == name) {
        parts.push(format!(
            "c.{}  (a session attribute)\n  {}",
            a.name, a.summary
        ));
    }
    if let Some(k) = layer(name) {
        parts.push(builtins::ls_layer(k));
    }
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

fn indent(s: &str) -> String {
    s.replace('\n', "\n  ")
}

fn session_help() -> String {
    let mut s = String::from("a TCP session from connect(). Methods:\n");
    for m in METHODS {
        s.push_str(&format!("  c.{:<22} {}\n", m.sig.usage(), m.summary));
    }
    s.push_str("Attributes:\n");
    for a in ATTRS {
        s.push_str(&format!("  c.{:<22} {}\n", a.name, a.summary));
    }
    s
}

fn listener_help() -> String {
    let mut s = String::from("a TCP listener from listen(). Methods:\n");
    for m in LISTENER_METHODS {
        s.push_str(&format!("  l.{:<22} {}\n", m.sig.usage(), m.summary));
    }
    s.push_str("Attributes:\n");
    for (n, what) in LISTENER_ATTRS {
        s.push_str(&format!("  l.{n:<22} {what}\n"));
    }
    s
}

fn socket_help() -> String {
    let mut s = String::from("a kernel TCP socket from tcp_connect(). Methods:\n");
    for m in SOCKET_METHODS {
        s.push_str(&format!("  k.{:<22} {}\n", m.sig.usage(), m.summary));
    }
    s
}

fn help_text() -> String {
    let mut s = String::from(
        "craft: build packets layer by layer.\n\
         \n  p = Ether()/IP(dst=\"127.0.0.1\")/TCP(dport=1234, flags=\"S\", seq=1000)\
         \n  p.tcp.seq = 2000        set a field (none unsets it: computed again)\
         \n  expect p.tcp.flags == \"S\"\n\nLayers (ls(TCP) lists fields):\n",
    );
    let w = LayerKind::ALL
        .iter()
        .map(|k| k.name().len())
        .max()
        .unwrap_or(8);
    for k in LayerKind::ALL {
        s.push_str(&format!("  {:<w$} {}\n", k.name(), builtins::layer_doc(k)));
    }
    s.push_str("\nBuiltins (help(name) says more):\n");
    for b in BUILTINS {
        s.push_str(&format!("  {:<24} {}\n", b.sig.usage(), b.summary));
    }
    s.push_str("\nSessions (c = connect(...); help(c) lists attributes too):\n");
    for m in METHODS {
        s.push_str(&format!("  c.{:<22} {}\n", m.sig.usage(), m.summary));
    }
    s.push_str("\nListeners (l = listen(port)):\n");
    for m in LISTENER_METHODS {
        s.push_str(&format!("  l.{:<22} {}\n", m.sig.usage(), m.summary));
    }
    s.push_str("\nKernel sockets (k = tcp_connect(host, port)):\n");
    for m in SOCKET_METHODS {
        s.push_str(&format!("  k.{:<22} {}\n", m.sig.usage(), m.summary));
    }
    s.push_str("\nKeywords:\n");
    for k in KEYWORDS {
        s.push_str(&format!("  {:<24} {}\n", k.usage, k.summary));
    }
    s.push_str(
        "\nLiterals: 42 0x2a 1.5 \"text\\n\\x00\" 127.0.0.1 00:00:00:00:00:00 none true false [a, b] (a, b)\
         \nOperators: + - * / %  == != < <= > >= in  and or not   (/ stacks layers)\n",
    );
    s
}

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

/// The session attribute `name`.
pub fn attr(name: &str) -> Option<&'static Attr> {
    ATTRS.iter().find(|a| a.name == name)
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
            "sr1(packet, timeout=2, raw=false)"
        );
        assert_eq!(
            method("send").unwrap().sig.usage(),
            "send(data, segment=the MSS, flight=the window)"
        );
        assert_eq!(builtin("print").unwrap().sig.usage(), "print(...)");
    }
}

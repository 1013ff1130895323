//! Builtin functions and layer constructors.

use super::fields::{bytes_of, to_field};
use super::value::{PacketView, Value};
use super::{Engine, Error, EvalResult};
use crate::lang::Pos;
use crate::render;
use crate::wire::{Layer, LayerKind, Packet};

/// A builtin: its name, how to call it, and what it does.
#[derive(Clone, Copy, Debug)]
pub struct Builtin {
    /// Name.
    pub name: &'static str,
    /// Call form, for help and hints.
    pub usage: &'static str,
    /// One line on what it does.
    pub doc: &'static str,
}

/// Every builtin, in the order `help()` lists them.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "sr1",
        usage: "sr1(p, timeout=2)",
        doc: "sends p and returns the first packet that answers it, or none",
    },
    Builtin {
        name: "send",
        usage: "send(p, count=1)",
        doc: "sends p on the interface (an Ether layer is added if missing)",
    },
    Builtin {
        name: "sendp",
        usage: "sendp(p, count=1)",
        doc: "the same as send: craft always sends whole frames",
    },
    Builtin {
        name: "sniff",
        usage: "sniff(count=, timeout=, filter=\"tcp port 1234\")",
        doc: "receives packets; returns them as a list",
    },
    Builtin {
        name: "connect",
        usage: "connect(dst, dport, sport=, iss=, window=, mss=, wscale=, rto=, retries=, verbose=)",
        doc: "a TCP session: reserves and guards a source port, sends nothing; then c.syn() c.ack() c.send(data) c.recv(timeout=) c.close() c.rst()",
    },
    Builtin {
        name: "flow",
        usage: "flow(c)",
        doc: "a session as a ladder diagram, relative seq/ack",
    },
    Builtin {
        name: "follow",
        usage: "follow(c)",
        doc: "a session's data both ways, like Follow TCP Stream",
    },
    Builtin {
        name: "expect_packet",
        usage: "expect_packet(TCP(flags=\"SA\"), timeout=1, after=0, session=c)",
        doc: "waits for a packet whose set fields match (others match anything); fails the recipe if none comes in time",
    },
    Builtin {
        name: "show",
        usage: "show(p)",
        doc: "every field, computed values filled in, layer by layer",
    },
    Builtin {
        name: "hexdump",
        usage: "hexdump(p)",
        doc: "offset, hex and ASCII; which bytes belong to which layer",
    },
    Builtin {
        name: "summary",
        usage: "summary(p)",
        doc: "one tcpdump-like line",
    },
    Builtin {
        name: "ls",
        usage: "ls(TCP) | ls(p) | ls()",
        doc: "a layer's fields with types and defaults; a packet's field values; the layers",
    },
    Builtin {
        name: "help",
        usage: "help() | help(name)",
        doc: "this list, or help on one builtin or layer",
    },
    Builtin {
        name: "len",
        usage: "len(x)",
        doc: "length in bytes of a packet or string; items of a list",
    },
    Builtin {
        name: "bytes",
        usage: "bytes(p)",
        doc: "the frame's bytes as a string",
    },
    Builtin {
        name: "hex",
        usage: "hex(x)",
        doc: "an integer or bytes as hex text",
    },
    Builtin {
        name: "print",
        usage: "print(x, ...)",
        doc: "prints values (strings without quotes)",
    },
    Builtin {
        name: "param",
        usage: "param(\"port\", 1234)",
        doc: "a recipe parameter: the value given with --var port=..., or the default",
    },
    Builtin {
        name: "range",
        usage: "range(a, b) | range(b)",
        doc: "the integers a, a+1, ..., b-1, for `for x in range(1, 10) { ... }`",
    },
    Builtin {
        name: "save",
        usage: "save(path, data)",
        doc: "writes bytes (a string, or a packet's frame) to a file",
    },
    Builtin {
        name: "sleep",
        usage: "sleep(seconds)",
        doc: "waits",
    },
];

/// Finds a builtin by name.
pub fn lookup(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// Calls a layer constructor: `TCP(dport=80, flags="S")`, `Raw("bytes")`, or
/// `Ether(bytes)` to decode a frame from bytes.
pub fn construct(
    kind: LayerKind,
    args: Vec<Value>,
    kwargs: Vec<(String, Value, Pos)>,
    pos: Pos,
) -> EvalResult<Value> {
    let mut layer = Layer::new(kind);
    if let Some(first) = args.first() {
        if args.len() > 1 {
            return Err(Error::eval(
                pos,
                format!("{}() takes at most one positional argument", kind.name()),
            ));
        }
        match (kind, first) {
            (LayerKind::Raw | LayerKind::Padding, v) => {
                let b = bytes_of(v).ok_or_else(|| {
                    Error::eval(pos, format!("Raw() takes a string, not {}", v.type_name()))
                })?;
                layer.put(0, Some(crate::wire::FieldValue::Bytes(b)));
            }
            (_, Value::Str(b)) => {
                if !kwargs.is_empty() {
                    return Err(Error::eval(
                        pos,
                        format!("{}(bytes) decodes; set fields afterwards", kind.name()),
                    ));
                }
                let (pkt, _) = Packet::decode_from(kind, b);
                return Ok(Value::Packet(PacketView::whole(pkt)));
            }
            (_, v) => {
                return Err(Error::eval(
                    pos,
                    format!(
                        "{}() takes fields by name, e.g. {}({}=...), not a {} first",
                        kind.name(),
                        kind.name(),
                        kind.fields()[0].name,
                        v.type_name()
                    ),
                ));
            }
        }
    }
    for (name, v, kpos) in kwargs {
        let Some(fi) = kind.field_index(&name) else {
            let names: Vec<&str> = kind.fields().iter().map(|f| f.name).collect();
            return Err(Error::eval(
                kpos,
                format!(
                    "{} has no field '{name}' (fields: {})",
                    kind.name(),
                    names.join(", ")
                ),
            ));
        };
        if v == Value::None {
            continue;
        }
        let fv = to_field(&v, &kind.fields()[fi], kind).map_err(|m| Error::eval(kpos, m))?;
        layer.put(fi, Some(fv));
    }
    Ok(Value::Packet(PacketView::whole(Packet::of(layer))))
}

/// Positional and keyword arguments of one call, taken one by one; leftovers are errors.
pub struct Args {
    name: &'static str,
    pos: Pos,
    args: Vec<Option<Value>>,
    kwargs: Vec<(String, Option<Value>, Pos)>,
}

impl Args {
    /// Wraps a call's arguments.
    pub fn new(
        name: &'static str,
        pos: Pos,
        args: Vec<Value>,
        kwargs: Vec<(String, Value, Pos)>,
    ) -> Args {
        Args {
            name,
            pos,
            args: args.into_iter().map(Some).collect(),
            kwargs: kwargs
                .into_iter()
                .map(|(k, v, p)| (k, Some(v), p))
                .collect(),
        }
    }

    /// Positional argument `i` or keyword `key`, if given.
    pub fn opt(&mut self, i: usize, key: &str) -> Option<Value> {
        if let Some(v) = self.args.get_mut(i).and_then(Option::take) {
            return Some(v);
        }
        self.kwargs
            .iter_mut()
            .find(|(k, _, _)| k == key)
            .and_then(|(_, v, _)| v.take())
    }

    /// A required argument.
    pub fn req(&mut self, i: usize, key: &str) -> EvalResult<Value> {
        self.opt(i, key)
            .ok_or_else(|| Error::eval(self.pos, format!("{}() needs {key}", self.name)))
    }

    /// A number of seconds.
    pub fn secs(&mut self, i: usize, key: &str) -> EvalResult<Option<f64>> {
        match self.opt(i, key) {
            None | Some(Value::None) => Ok(None),
            Some(Value::Int(n)) if n >= 0 => Ok(Some(n as f64)),
            Some(Value::Float(f)) if f >= 0.0 && f.is_finite() => Ok(Some(f)),
            Some(v) => Err(Error::eval(
                self.pos,
                format!(
                    "{}(): {key} must be seconds (a number ≥ 0), not {}",
                    self.name,
                    v.repr()
                ),
            )),
        }
    }

    /// Errors on arguments nobody took.
    pub fn finish(self) -> EvalResult<()> {
        if let Some(i) = self.args.iter().position(Option::is_some) {
            return Err(Error::eval(
                self.pos,
                format!(
                    "{}() got too many arguments (argument {} is extra)",
                    self.name,
                    i + 1
                ),
            ));
        }
        if let Some((k, _, p)) = self.kwargs.iter().find(|(_, v, _)| v.is_some()) {
            return Err(Error::eval(
                *p,
                format!("{}() has no argument '{k}'", self.name),
            ));
        }
        Ok(())
    }

    /// Where the call is.
    pub fn pos(&self) -> Pos {
        self.pos
    }
}

/// A packet argument, or an error naming the builtin.
pub fn packet_arg(name: &str, v: Value, pos: Pos) -> EvalResult<PacketView> {
    match v {
        Value::Packet(p) => Ok(p),
        Value::Layer(k) => Ok(PacketView::whole(Packet::of(Layer::new(k)))),
        Value::None => Err(Error::eval(
            pos,
            format!("{name}(): got none instead of a packet (nothing answered in time?)"),
        )),
        other => Err(Error::eval(
            pos,
            format!("{name}() takes a packet, not {}", other.type_name()),
        )),
    }
}

/// Calls builtin `name`.
pub fn call(
    eng: &mut Engine,
    name: &'static str,
    args: Vec<Value>,
    kwargs: Vec<(String, Value, Pos)>,
    pos: Pos,
) -> EvalResult<Value> {
    let mut a = Args::new(name, pos, args, kwargs);
    let r = match name {
        "show" | "hexdump" | "summary" => {
            let p = packet_arg(name, a.req(0, "packet")?, pos)?;
            let p = eng.as_sent(p, pos)?;
            a.finish()?;
            let pkt = p.to_packet();
            let text = match name {
                "show" => render::show(&pkt),
                "hexdump" => render::hexdump(&pkt, eng.color),
                _ => render::summary(&pkt),
            };
            eng.print(&text);
            Value::None
        }
        "ls" => {
            let what = a.opt(0, "layer");
            a.finish()?;
            let text = match what {
                None => LayerKind::ALL
                    .iter()
                    .map(|k| format!("{:<8} {}", k.name(), layer_doc(*k)))
                    .collect::<Vec<_>>()
                    .join("\n"),
                Some(Value::Layer(k)) => ls_layer(k),
                Some(Value::Packet(p)) => ls_packet(&p),
                Some(v) => {
                    return Err(Error::eval(
                        pos,
                        format!(
                            "ls() takes a layer like TCP or a packet, not {}",
                            v.type_name()
                        ),
                    ));
                }
            };
            eng.print(&text);
            Value::None
        }
        "help" => {
            let what = a.opt(0, "name");
            a.finish()?;
            let text = match what {
                None => help_text(),
                Some(Value::Builtin(b)) => lookup(b)
                    .map(|b| format!("{}\n  {}", b.usage, b.doc))
                    .unwrap_or_default(),
                Some(Value::Layer(k)) => ls_layer(k),
                Some(Value::Str(s)) => {
                    let n = String::from_utf8_lossy(&s).into_owned();
                    match (lookup(&n), LayerKind::from_name(&n)) {
                        (Some(b), _) => format!("{}\n  {}", b.usage, b.doc),
                        (_, Some(k)) => ls_layer(k),
                        _ => {
                            return Err(Error::eval(
                                pos,
                                format!("no builtin or layer named '{n}'"),
                            ));
                        }
                    }
                }
                Some(v) => format!("{}: {}", v.type_name(), v.repr()),
            };
            eng.print(&text);
            Value::None
        }
        "len" => {
            let v = a.req(0, "value")?;
            a.finish()?;
            Value::Int(match v {
                Value::Packet(p) => p.bytes().len() as i64,
                Value::Str(s) => s.len() as i64,
                Value::List(v) | Value::Tuple(v) => v.len() as i64,
                other => {
                    return Err(Error::eval(
                        pos,
                        format!("len() of {} is not defined", other.type_name()),
                    ));
                }
            })
        }
        "bytes" => {
            let p = packet_arg(name, a.req(0, "packet")?, pos)?;
            let p = eng.as_sent(p, pos)?;
            a.finish()?;
            Value::Str(p.bytes())
        }
        "hex" => {
            let v = a.req(0, "value")?;
            a.finish()?;
            Value::Str(
                match v {
                    Value::Int(n) if n < 0 => format!("-0x{:x}", n.unsigned_abs()),
                    Value::Int(n) => format!("0x{n:x}"),
                    Value::Flags(b, _) => format!("0x{b:x}"),
                    Value::Str(s) => hex::encode(s),
                    Value::Packet(p) => hex::encode(p.bytes()),
                    other => {
                        return Err(Error::eval(
                            pos,
                            format!("hex() of {} is not defined", other.type_name()),
                        ));
                    }
                }
                .into_bytes(),
            )
        }
        "print" => {
            let mut parts = Vec::new();
            let mut i = 0;
            while let Some(v) = a.opt(i, "") {
                parts.push(match v {
                    Value::Str(s) => String::from_utf8_lossy(&s).into_owned(),
                    other => other.repr(),
                });
                i += 1;
            }
            a.finish()?;
            eng.print(&parts.join(" "));
            Value::None
        }
        "param" => {
            let name = match a.req(0, "name")? {
                Value::Str(n) => String::from_utf8_lossy(&n).into_owned(),
                v => {
                    return Err(Error::eval(
                        pos,
                        format!("param() takes a name in quotes, not {}", v.repr()),
                    ));
                }
            };
            let default = a.req(1, "default")?;
            a.finish()?;
            eng.var(&name).cloned().unwrap_or(default)
        }
        "range" => {
            let ints = |v: Option<Value>| match v {
                None => Ok(None),
                Some(Value::Int(n)) => Ok(Some(n)),
                Some(v) => Err(Error::eval(
                    pos,
                    format!("range() takes integers, not {}", v.repr()),
                )),
            };
            let a0 = ints(a.opt(0, "start"))?;
            let b0 = ints(a.opt(1, "stop"))?;
            a.finish()?;
            let (lo, hi) = match (a0, b0) {
                (Some(x), Some(y)) => (x, y),
                (Some(y), None) => (0, y),
                _ => {
                    return Err(Error::eval(
                        pos,
                        "range() needs a stop: range(10) or range(1, 10)",
                    ));
                }
            };
            if hi.saturating_sub(lo) > 1_000_000 {
                return Err(Error::eval(
                    pos,
                    format!("range({lo}, {hi}) is too long (at most 1000000 items)"),
                ));
            }
            Value::List((lo..hi).map(Value::Int).collect())
        }
        "save" => {
            let path = match a.req(0, "path")? {
                Value::Str(p) => String::from_utf8_lossy(&p).into_owned(),
                v => {
                    return Err(Error::eval(
                        pos,
                        format!("save(): path is a string, not {}", v.type_name()),
                    ));
                }
            };
            let data = match a.req(1, "data")? {
                Value::Packet(p) => p.bytes(),
                v => bytes_of(&v).ok_or_else(|| {
                    Error::eval(
                        pos,
                        format!("save(): data is a string or packet, not {}", v.type_name()),
                    )
                })?,
            };
            a.finish()?;
            std::fs::write(&path, &data)
                .map_err(|e| Error::eval(pos, format!("save(): {path}: {e}")))?;
            Value::None
        }
        "sleep" => {
            let s = a.secs(0, "seconds")?.unwrap_or(0.0);
            a.finish()?;
            crate::link::sleep_interruptible(std::time::Duration::from_secs_f64(s.min(86400.0)))
                .map_err(|_| super::live_error(super::live::LiveError::Interrupted, pos))?;
            Value::None
        }
        "send" | "sendp" | "sr1" | "sniff" | "expect_packet" => {
            return super::net::call(eng, name, a);
        }
        "connect" => return super::session::connect(eng, a),
        "flow" | "follow" => {
            let s = match a.req(0, "session")? {
                Value::Session(s) => s,
                v => {
                    return Err(Error::eval(
                        pos,
                        format!(
                            "{name}() takes a session from connect(), not {}",
                            v.type_name()
                        ),
                    ));
                }
            };
            a.finish()?;
            let text = if name == "flow" {
                super::session::flow_text(&s)
            } else {
                super::session::follow_text(&s, eng.color)
            };
            eng.print(&text);
            Value::None
        }
        _ => {
            return Err(Error::eval(
                pos,
                format!("builtin '{name}' is not available here"),
            ));
        }
    };
    Ok(r)
}

fn layer_doc(k: LayerKind) -> &'static str {
    match k {
        LayerKind::Ether => "Ethernet II: dst, src, type",
        LayerKind::Ip => "IPv4: src, dst, ttl, id, flags, options, ...",
        LayerKind::Tcp => "TCP: sport, dport, seq, ack, flags, window, options, ...",
        LayerKind::Udp => "UDP: sport, dport, len, chksum",
        LayerKind::Icmp => "ICMP: type, code, id, seq",
        LayerKind::Raw => "payload bytes: Raw(\"hello\") or a string at the end of a stack",
        LayerKind::Padding => "bytes after the IP datagram",
    }
}

/// `ls(TCP)`: the fields of a layer with types and defaults.
pub fn ls_layer(k: LayerKind) -> String {
    let mut s = format!("{}: {}\n", k.name(), layer_doc(k));
    for f in k.fields() {
        s.push_str(&format!(
            "  {:<9} {:<12} = {:<18} {}\n",
            f.name,
            f.kind.name(),
            f.default,
            f.doc
        ));
    }
    s
}

fn ls_packet(p: &PacketView) -> String {
    let pkt = p.to_packet();
    let mut s = String::new();
    for l in &pkt.layers {
        s.push_str(&format!("{}:\n", l.kind().name()));
        for (i, f) in l.kind().fields().iter().enumerate() {
            let v = l.slot(i).map_or_else(
                || format!("({})", f.default),
                |v| render::field_str(f.kind, &v),
            );
            s.push_str(&format!("  {:<9} = {v}\n", f.name));
        }
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
    for k in LayerKind::ALL {
        s.push_str(&format!("  {:<8} {}\n", k.name(), layer_doc(k)));
    }
    s.push_str("\nBuiltins:\n");
    for b in BUILTINS {
        s.push_str(&format!("  {:<24} {}\n", b.usage, b.doc));
    }
    s.push_str(
        "\nLiterals: 42 0x2a 1.5 \"text\\n\\x00\" 127.0.0.1 00:00:00:00:00:00 none true false [a, b] (a, b)\
         \nOperators: + - * / %  == != < <= > >= in  and or not   (/ stacks layers)\n",
    );
    s
}

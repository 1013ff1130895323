//! What the shell offers as you type, asked of the engine that evaluates and
//! read from the same table: completion of names, of a packet's layers and
//! fields and a session's methods after `x.`, of argument names inside a
//! call (a layer's fields inside its parentheses), and the signature hint
//! after `name(`. Any text, in any script, at any cursor position is fine.

use super::table::{self, Known};
use super::{Engine, Value};
use crate::wire::LayerKind;

/// One completion: what replaces the word, and what the list shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The text that replaces the word being completed.
    pub replacement: String,
    /// The text shown in the list (with the signature or a short note).
    pub display: String,
}

fn plain(s: &str) -> Candidate {
    Candidate {
        replacement: s.to_string(),
        display: s.to_string(),
    }
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The largest char boundary of `s` at or before `i`.
fn boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Byte offset where the word (letters, digits, `_` and `.`) ending at the
/// end of `before` starts.
fn word_start(before: &str) -> usize {
    before
        .char_indices()
        .rev()
        .find(|&(_, c)| !(is_word_char(c) || c == '.'))
        .map_or(0, |(i, c)| i + c.len_utf8())
}

/// True when the end of `before` is inside a string literal.
fn in_string(before: &str) -> bool {
    let mut inside = false;
    let mut escaped = false;
    for c in before.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if inside => escaped = true,
            '"' => inside = !inside,
            '#' if !inside => return false,
            _ => {}
        }
    }
    inside
}

/// The innermost call whose `(` is still open at the end of `before`: the
/// callee as written (`TCP`, `sr1`, `c.send`) and the byte offset after `(`.
fn open_call(before: &str) -> Option<(&str, usize)> {
    let mut depth = 0usize;
    let mut inside = false;
    let mut opens: Vec<(usize, char)> = Vec::new();
    let mut escaped = false;
    for (i, c) in before.char_indices() {
        if inside {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => inside = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => inside = true,
            '(' | '[' | '{' => {
                opens.push((i, c));
                depth += 1;
            }
            ')' | ']' | '}' => {
                opens.pop();
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
    }
    let &(open, c) = opens.last()?;
    if c != '(' {
        return None;
    }
    let head = before[..open].trim_end();
    let callee = &head[word_start(head)..];
    (!callee.is_empty() && !callee.starts_with('.')).then_some((callee, open + 1))
}

/// The session a dotted callee like `c.send` calls a method of, if `c` is one.
fn session_method(engine: &Engine, callee: &str) -> Option<&'static table::Method> {
    let (var, m) = callee.rsplit_once('.')?;
    matches!(engine.var(var), Some(Value::Session(_))).then(|| table::method(m))?
}

/// The argument names a call to `callee` takes (layer fields for a layer).
fn argument_names(engine: &Engine, callee: &str) -> Option<(Vec<&'static str>, bool)> {
    if let Some(m) = session_method(engine, callee) {
        return Some((m.sig.params.iter().map(|p| p.name).collect(), false));
    }
    if callee.contains('.') || engine.var(callee).is_some() {
        return None;
    }
    match table::known(callee)? {
        Known::Layer(k) => Some((k.fields().iter().map(|f| f.name).collect(), true)),
        Known::Builtin(b) => Some((b.sig.params.iter().map(|p| p.name).collect(), false)),
        Known::Keyword(_) => None,
    }
}

/// Completion candidates for the word ending at byte `pos` of `line`, and
/// where that word starts.
pub fn complete(engine: &Engine, line: &str, pos: usize) -> (usize, Vec<Candidate>) {
    let pos = boundary(line, pos);
    let before = &line[..pos];
    if in_string(before) {
        return (pos, Vec::new());
    }
    let start = word_start(before);
    let word = &before[start..];
    if let Some(dot) = word.rfind('.') {
        let (base, prefix) = (&word[..dot], &word[dot + 1..]);
        let mut cands: Vec<Candidate> = attr_candidates(engine, base)
            .into_iter()
            .filter(|c| c.replacement.starts_with(prefix))
            .collect();
        cands.sort_by(|a, b| a.replacement.cmp(&b.replacement));
        cands.dedup();
        return (start + dot + 1, cands);
    }
    let mut cands = Vec::new();
    let prev = before[..start].trim_end().chars().last();
    let at_argument = matches!(prev, Some('(' | ','));
    if at_argument
        && let Some((callee, _)) = open_call(&before[..start])
        && let Some((names, fields_only)) = argument_names(engine, callee)
    {
        cands.extend(
            names
                .iter()
                .filter(|n| n.starts_with(word))
                .map(|n| Candidate {
                    replacement: format!("{n}="),
                    display: format!("{n}="),
                }),
        );
        if fields_only {
            return (start, cands);
        }
    }
    let mut names: Vec<&str> = table::all_names().collect();
    names.extend(engine.var_names());
    names.retain(|n| n.starts_with(word));
    names.sort_unstable();
    names.dedup();
    cands.extend(names.into_iter().map(plain));
    (start, cands)
}

/// Layers and fields reachable after `base.` (e.g. `p` or `p.tcp`), or a
/// session's attributes and methods.
fn attr_candidates(engine: &Engine, base: &str) -> Vec<Candidate> {
    let mut parts = base.split('.');
    let Some(var) = parts.next() else {
        return Vec::new();
    };
    let view = match engine.var(var) {
        Some(Value::Packet(view)) => view,
        Some(Value::Session(_)) => {
            let mut out: Vec<Candidate> = table::ATTRS.iter().map(|a| plain(a.name)).collect();
            out.extend(table::METHODS.iter().map(|m| Candidate {
                replacement: format!("{}(", m.sig.name),
                display: m.sig.usage(),
            }));
            return out;
        }
        Some(Value::Listener(_)) => {
            let mut out: Vec<Candidate> =
                table::LISTENER_ATTRS.iter().map(|a| plain(a.0)).collect();
            out.extend(table::LISTENER_METHODS.iter().map(|m| Candidate {
                replacement: format!("{}(", m.sig.name),
                display: m.sig.usage(),
            }));
            return out;
        }
        Some(Value::Socket(_)) => {
            return table::SOCKET_METHODS
                .iter()
                .map(|m| Candidate {
                    replacement: format!("{}(", m.sig.name),
                    display: m.sig.usage(),
                })
                .collect();
        }
        _ => return Vec::new(),
    };
    let mut start = view.start;
    for p in parts {
        match LayerKind::from_name(p).and_then(|k| {
            view.pkt
                .layers
                .iter()
                .skip(start)
                .position(|l| l.kind() == k)
        }) {
            Some(i) => start += i,
            None => return Vec::new(),
        }
    }
    let mut out = Vec::new();
    for l in view.pkt.layers.iter().skip(start) {
        out.push(plain(l.kind().attr()));
    }
    if let Some(l) = view.pkt.layers.get(start) {
        out.extend(l.kind().fields().iter().map(|f| plain(f.name)));
    }
    out.push(plain("payload"));
    out
}

/// The hint shown after the cursor: right after `name(`, what `name` takes.
pub fn hint(engine: &Engine, line: &str, pos: usize) -> Option<String> {
    if pos < line.len() || !line.ends_with('(') {
        return None;
    }
    let (callee, _) = open_call(line)?;
    if let Some(m) = session_method(engine, callee) {
        return Some(format!("  c.{}  {}", m.sig.usage(), m.summary));
    }
    if engine.var(callee).is_some() {
        return None;
    }
    match table::known(callee)? {
        Known::Builtin(b) => Some(format!("  {}  {}", b.sig.usage(), b.summary)),
        Known::Layer(k) => {
            let names: Vec<&str> = k.fields().iter().map(|f| f.name).collect();
            Some(format!("  {}({}=...)", k.name(), names.join("=, ")))
        }
        Known::Keyword(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine_with(src: &str) -> Engine {
        let mut e = Engine::new(Box::new(std::io::sink()));
        e.run_source("", src).unwrap();
        e
    }

    fn words(c: &[Candidate]) -> Vec<&str> {
        c.iter().map(|c| c.replacement.as_str()).collect()
    }

    #[test]
    fn completes_builtins_layers_variables_and_fields() {
        let e = engine_with("pkt = Ether()/IP()/TCP(dport=80)\nport = 1234");
        let (start, c) = complete(&e, "sh", 2);
        assert_eq!((start, words(&c)), (0, vec!["show"]));
        assert_eq!(words(&complete(&e, "x = TC", 6).1), vec!["TCP"]);
        assert_eq!(words(&complete(&e, "po", 2).1), vec!["port"]);
        let (start, c) = complete(&e, "pkt.tcp.s", 9);
        assert_eq!(start, 8);
        assert_eq!(words(&c), vec!["seq", "sport"]);
        let c = complete(&e, "pkt.", 4).1;
        let w = words(&c);
        assert!(
            w.contains(&"ip") && w.contains(&"tcp") && w.contains(&"dst"),
            "{w:?}"
        );
        assert!(complete(&e, "nothing.", 8).1.is_empty());
    }

    #[test]
    fn inside_a_layer_its_fields_and_inside_a_builtin_its_arguments() {
        let e = engine_with("p = TCP()");
        assert_eq!(words(&complete(&e, "TCP(fl", 6).1), vec!["flags="]);
        assert_eq!(
            words(&complete(&e, "TCP(dport=1, wi", 15).1),
            vec!["window="]
        );
        let c = complete(&e, "sr1(p, ti", 9).1;
        assert_eq!(words(&c), vec!["timeout="]);
        // A value position offers names again.
        assert!(words(&complete(&e, "TCP(dport=p", 11).1).contains(&"p"));
        // A positional argument can be any name.
        assert!(words(&complete(&e, "show(", 5).1).contains(&"p"));
    }

    #[test]
    fn a_session_offers_its_methods_with_their_signatures() {
        let mut e = Engine::new(Box::new(std::io::sink()));
        e.rt.live = None;
        // A session needs the live link to be made; its completion does not.
        assert!(complete(&e, "c.", 2).1.is_empty());
        assert_eq!(
            hint(&e, "sr1(", 4).unwrap(),
            "  sr1(packet, timeout=2, raw=false)  sends a packet and returns the first packet that answers it, or none"
        );
        assert!(hint(&e, "TCP(", 4).unwrap().contains("sport="));
        assert_eq!(hint(&e, "nothing(", 8), None);
    }

    #[test]
    fn any_text_at_any_cursor_is_fine() {
        let e = engine_with("x = 1");
        for line in [
            "x = é(",
            "\u{a0}x",
            "\"é",
            "TCP(\"é\", fl",
            "é.é.",
            "((((",
            ")))",
            "c.send(\"\\\"",
            "日本語(",
        ] {
            for pos in 0..=line.len() + 2 {
                let _ = complete(&e, line, pos);
                let _ = hint(&e, line, pos);
            }
        }
        assert!(
            complete(&e, "print(\"é", 9).1.is_empty(),
            "nothing inside a string"
        );
    }
}

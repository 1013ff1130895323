//! `craft show EXPR`: a packet built from an expression, shown offline.

use crate::engine::{Engine, EvalResult, builtins::packet_arg};
use crate::lang::Pos;
use crate::outcome::Outcome;
use crate::render;

/// How to show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShowStyle {
    /// Every field, layer by layer.
    Fields,
    /// One line of lowercase hex.
    Hex,
    /// The hexdump.
    Dump,
}

/// Shows the packet `expr` builds.
pub fn run(eng: &mut Engine, expr: &str, style: ShowStyle) -> EvalResult<Outcome> {
    let v = eng.eval_str(expr)?;
    // A set: one line per packet, a summary (or its hex with --hex), as show(set) prints.
    if let crate::engine::Value::Set(set) = &v
        && style != ShowStyle::Dump
    {
        for p in set.iter() {
            let line = match style {
                ShowStyle::Hex => render::hex_line(&p),
                _ => render::summary(&p),
            };
            eng.print(&line)?;
        }
        return Ok(Outcome::Success);
    }
    let pkt = packet_arg("show", v, Pos::default())?.to_packet();
    let text = match style {
        ShowStyle::Hex => render::hex_line(&pkt),
        ShowStyle::Dump => render::hexdump(&pkt, eng.rt.opts.color),
        ShowStyle::Fields => render::show(&pkt),
    };
    eng.print(&text)?;
    Ok(Outcome::Success)
}

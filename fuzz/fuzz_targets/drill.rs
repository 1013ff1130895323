//! Any text as a packetdrill script: parsing, the check of what it uses,
//! the `--to-recipe` translation and building each inbound packet never
//! panic (craft drill reads scripts from anywhere).
#![no_main]

use craft::drill::ast::Action;
use craft::drill::packet::{Flow, Mapping, inbound};
use craft::drill::{parse, recipe, run};
use libfuzzer_sys::fuzz_target;
use std::net::Ipv4Addr;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(script) = parse::parse(&text) else { return };
    let _ = run::check_supported(&script);
    let lines: Vec<&str> = text.lines().collect();
    let _ = recipe::to_recipe(&script, "fuzz.pkt", &lines);
    let flow = Flow {
        local: Ipv4Addr::new(127, 1, 0, 1),
        remote: Ipv4Addr::new(127, 2, 0, 1),
        lport: Some(8080),
        rport: 40000,
    };
    let map = Mapping {
        isn: Some(1000),
        ..Mapping::default()
    };
    for e in &script.events {
        if let Action::Packet(spec) = &e.action
            && let Ok(p) = inbound(spec, &flow, &map)
        {
            let _ = p.emit();
        }
    }
});

//! `craft doctor`: what stands between the user and a working raw socket on lo.

use crate::host::doctor_report;

/// Prints each check with its fix; returns 0 when all pass, 1 otherwise.
pub fn run(iface: &str) -> i32 {
    let checks = doctor_report(iface);
    let mut bad = 0;
    for c in &checks {
        let mark = if c.ok { "ok  " } else { "FAIL" };
        println!("{mark} {:<28} {}", c.name, c.detail);
        if !c.ok {
            bad += 1;
            if let Some(f) = &c.fix {
                println!("     fix: {f}");
            }
        }
    }
    if bad == 0 {
        println!(
            "all {} checks passed: craft can send on {iface}",
            checks.len()
        );
        0
    } else {
        println!("{bad} of {} checks failed", checks.len());
        1
    }
}

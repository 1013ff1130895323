//! `craft doctor`: what stands between the user and a working raw socket on lo.

use crate::engine::{EvalResult, Runtime};
use crate::host::doctor_report;
use crate::outcome::Outcome;

/// Prints each check with its fix; a failed check is a failed outcome.
pub fn run(rt: &mut Runtime, iface: &str) -> EvalResult<Outcome> {
    let checks = doctor_report(iface);
    let mut bad = 0;
    for c in &checks {
        let mark = if c.ok { "ok  " } else { "FAIL" };
        rt.print(&format!("{mark} {:<28} {}", c.name, c.detail))?;
        if !c.ok {
            bad += 1;
            if let Some(f) = &c.fix {
                rt.print(&format!("     fix: {f}"))?;
            }
        }
    }
    if bad == 0 {
        rt.print(&format!(
            "all {} checks passed: craft can send on {iface}",
            checks.len()
        ))?;
        Ok(Outcome::Success)
    } else {
        rt.print(&format!("{bad} of {} checks failed", checks.len()))?;
        Ok(Outcome::CheckFailed)
    }
}

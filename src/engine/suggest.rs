//! "Did you mean": the one place that finds the name closest to a mistyped
//! one, for every message that offers it.

use crate::wire::LayerKind;

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

/// Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let c = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + c);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(before[j - 2] + 1);
            }
        }
        before = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

/// ` (did you mean 'x'?)` when a candidate is close to `name`, else "".
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(name, candidates)
        .map(|s| format!(" (did you mean '{s}'?)"))
        .unwrap_or_default()
}

/// The error for a field `k` that layer `kind` does not have.
pub fn no_field(kind: LayerKind, k: &str) -> String {
    let names: Vec<&str> = kind.fields().iter().map(|f| f.name).collect();
    let hint = did_you_mean(k, names.iter().copied());
    format!(
        "{} has no field '{k}'{hint} (fields: {})",
        kind.name(),
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_prefers_exact_case_then_one_edit() {
        assert_eq!(closest("tcp", ["TCP", "UDP"]), Some("TCP"));
        assert_eq!(closest("sr2", ["sr1", "send"]), Some("sr1"));
        assert_eq!(closest("zzzz", ["sr1", "send"]), None);
        assert_eq!(
            did_you_mean("timout", ["timeout"]),
            " (did you mean 'timeout'?)"
        );
    }
}

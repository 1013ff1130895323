//! Recipe files as source: reading them (a bad byte is named by line and
//! column) and resolving `include` against the including file's folder. Both
//! `craft run` and `craft run --check` go through here.

use super::Error;
use crate::lang::Pos;
use std::path::{Path, PathBuf};

/// Includes nest at most this deep (an include loop ends here).
pub const MAX_INCLUDE_DEPTH: usize = 16;

/// The error for an include nested too deeply at `path`.
pub fn too_deep(path: &Path) -> Error {
    Error::usage(format!(
        "includes nested too deeply at {} (an include loop?)",
        path.display()
    ))
}

/// Reads a recipe file as UTF-8 text.
pub fn read(path: &Path) -> Result<String, Error> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| Error::usage(format!("cannot read {name}: {e}")).in_file(&name))?;
    String::from_utf8(bytes).map_err(|e| {
        let pos = position_of(e.as_bytes(), e.utf8_error().valid_up_to());
        Error::eval(
            pos,
            format!(
                "not valid UTF-8: byte 0x{:02x} (a recipe is text)",
                e.as_bytes()[e.utf8_error().valid_up_to()]
            ),
        )
        .in_file(&name)
    })
}

/// Line and column (in characters, 1-based) of byte `offset` in `text`,
/// whose bytes before `offset` are valid UTF-8.
pub fn position_of(text: &[u8], offset: usize) -> Pos {
    let before = &text[..offset.min(text.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    Pos {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        col: u32::try_from(col).unwrap_or(u32::MAX),
    }
}

/// The file `include "file"` names, seen from the including file `from`
/// (its folder; the working directory for the shell and piped input).
pub fn resolve_include(from: Option<&Path>, file: &str) -> Result<PathBuf, String> {
    let base = from
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let path = base.join(file);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!("include: no file {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_byte_is_named_by_line_and_column() {
        let text = b"x = 1\ny = \"\xc3\xa9\xff\"\n";
        let e = String::from_utf8(text.to_vec()).unwrap_err();
        let p = position_of(text, e.utf8_error().valid_up_to());
        assert_eq!((p.line, p.col), (2, 7));
        assert_eq!(position_of(b"", 0), Pos { line: 1, col: 1 });
    }
}

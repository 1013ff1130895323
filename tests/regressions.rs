//! Inputs that once panicked or overflowed the stack, found by the fuzz targets
//! in fuzz/ or the bad input catalogue (tests/catalogue.rs), replayed here.

use craft::engine::{Engine, ErrorKind, Value};
use craft::lang::{parse_expr, parse_program};

fn engine() -> Engine {
    Engine::new(Box::new(std::io::sink()))
}

/// fuzz `lang`, the empty input: parse_expr("") stepped back from token 0
/// (parser.rs, primary: `self.i -= 1` overflowed; `craft show ''` panicked).
#[test]
fn empty_expression() {
    for src in ["", "   ", "\n\n", "# only a comment"] {
        let e = parse_expr(src).unwrap_err();
        assert!(e.msg.contains("expected a value"), "{src:?}: {}", e.msg);
        assert!(e.incomplete, "{src:?}: more input could complete it");
    }
    let e = parse_expr("and").unwrap_err();
    assert!(e.msg.contains("found 'and'"), "{}", e.msg);
    assert_eq!(
        engine().eval_str("").unwrap_err().kind,
        ErrorKind::Syntax,
        "Engine::eval_str"
    );
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_craft"))
        .args(["show", ""])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
}

/// Catalogue: 100k nested parentheses and a 1 MB line of `1+1+...` overflowed
/// the stack (parser recursion; evaluating and dropping the deep tree).
#[test]
fn deep_expressions_are_refused_not_overflowed() {
    let deep = [
        format!("x = {}1{}", "(".repeat(100_000), ")".repeat(100_000)),
        format!("x = {}1", "1+".repeat(500_000)),
        format!("x = {}1", "-".repeat(100_000)),
        format!("x = {}1", "not ".repeat(100_000)),
        format!("x = {}{}", "[".repeat(100_000), "]".repeat(100_000)),
        format!("x = 1{}", ".a".repeat(100_000)),
        format!("x = f{}", "()".repeat(100_000)),
        format!("x = [0]{}", "[0]".repeat(100_000)),
    ];
    for src in &deep {
        let e = parse_program(src).unwrap_err();
        assert!(
            e.msg.contains("nested too deeply"),
            "{}: {}",
            &src[..12],
            e.msg
        );
        assert!(!e.incomplete);
        let e = parse_expr(&src[4..]).unwrap_err();
        assert!(e.msg.contains("nested too deeply"), "{}", e.msg);
    }
}

/// Just under the limit still parses and evaluates, also on a test thread's
/// 2 MiB stack in a debug build.
#[test]
fn ninety_nine_levels_still_work() {
    let mut e = engine();
    let n = 99;
    e.run_source("", &format!("a = {}1{}", "(".repeat(n), ")".repeat(n)))
        .unwrap();
    e.run_source("", &format!("b = {}1", "1+".repeat(n - 1)))
        .unwrap();
    e.run_source("", &format!("c = {}1", "-".repeat(n)))
        .unwrap();
    e.run_source(
        "",
        &format!("d = {}{}", "[".repeat(n - 1), "]".repeat(n - 1)),
    )
    .unwrap();
    e.run_source("", "expect d == d").unwrap();
    assert_eq!(e.var("a"), Some(&Value::Int(1)));
    assert_eq!(e.var("b"), Some(&Value::Int(99)));
    assert_eq!(e.var("c"), Some(&Value::Int(-1)));
}

/// Catalogue: `x = [x]` on 100k lines built a value 100k deep that overflowed
/// the stack when printed, compared or dropped.
#[test]
fn values_nested_line_by_line_are_refused() {
    let mut e = engine();
    let src = format!("x = 1\n{}", "x = [x]\n".repeat(100_000));
    let err = e.run_source("t.craft", &src).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Eval);
    assert!(err.msg.contains("nested too deeply"), "{}", err.msg);
    assert_eq!(err.pos.line, 102, "{err}");
    // What was built up to the limit is still there and usable.
    e.run_source("", "y = x\nexpect y == x").unwrap();
    let err = e.run_source("", "t = (x,)").unwrap_err();
    assert!(err.msg.contains("nested too deeply"), "{}", err.msg);
}

//! Property tests for the JSONPath dialect, and a cross-check against `serde_json_path`
//! (RFC 9535) on the subset where RFC 9535 and Jayway agree.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use serde_json_path::JsonPath;
use stepwise_asl::jsonpath::Path;

const KEYS: [&str; 5] = ["a", "b", "c", "k", "x_1"];

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(&KEYS[..]).prop_map(str::to_string),
        1 => Just("a b".to_string()),
    ]
}

fn arb_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..20).prop_map(Value::from),
        proptest::sample::select(&["", "apple", "b", "zed"][..]).prop_map(Value::from),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    arb_leaf().prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((arb_key(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A key in either notation; `a b` needs brackets.
fn name_text(k: &str, dot: bool) -> String {
    if dot && !k.contains(' ') {
        format!(".{k}")
    } else {
        format!("['{k}']")
    }
}

/// A definite step: name or index.
fn arb_definite_step() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (arb_key(), any::<bool>()).prop_map(|(k, dot)| name_text(&k, dot)),
        1 => (-4i64..5).prop_map(|i| format!("[{i}]")),
    ]
}

fn arb_definite_path() -> impl Strategy<Value = String> {
    proptest::collection::vec(arb_definite_step(), 0..5).prop_map(|s| format!("${}", s.concat()))
}

fn opt_int(r: std::ops::Range<i64>) -> impl Strategy<Value = String> {
    proptest::option::of(r).prop_map(|o| o.map(|i| i.to_string()).unwrap_or_default())
}

/// Steps where Jayway and RFC 9535 agree (no filters: Jayway applies them to objects
/// differently; no leaf name unions: Jayway merges those).
fn arb_common_step() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => arb_definite_step(),
        1 => Just("[*]".to_string()),
        1 => Just(".*".to_string()),
        1 => (opt_int(-5..6), opt_int(-5..6)).prop_map(|(a, b)| format!("[{a}:{b}]")),
        1 => (opt_int(-5..6), opt_int(-5..6), prop_oneof![-3i64..0, 1i64..4])
            .prop_map(|(a, b, s)| format!("[{a}:{b}:{s}]")),
        1 => proptest::collection::vec(-4i64..5, 2..4)
            .prop_map(|v| format!("[{}]", v.iter().map(i64::to_string).collect::<Vec<_>>().join(","))),
        1 => arb_key().prop_map(|k| format!("..{}", name_text(&k, true).trim_start_matches('.'))),
        1 => (-3i64..3).prop_map(|i| format!("..[{i}]")),
        1 => Just("..*".to_string()),
    ]
}

fn arb_common_path() -> impl Strategy<Value = String> {
    proptest::collection::vec(arb_common_step(), 1..5).prop_map(|s| format!("${}", s.concat()))
}

/// What RFC 9535 selects, as a list.
fn rfc(path: &str, doc: &Value) -> Vec<Value> {
    let jp =
        JsonPath::parse(path).unwrap_or_else(|e| panic!("serde_json_path rejects {path}: {e}"));
    jp.query(doc).all().into_iter().cloned().collect()
}

/// Ours, brought to the same shape: definite → 0 or 1 node, indefinite → the array.
fn ours(path: &str, doc: &Value) -> Vec<Value> {
    let p = Path::parse(path).unwrap_or_else(|e| panic!("we reject {path}: {e}"));
    match p.select(doc) {
        None => {
            assert!(
                p.is_definite(),
                "{path}: an indefinite path never gives None"
            );
            vec![]
        }
        Some(v) if p.is_definite() => vec![v.into_owned()],
        Some(v) => match v.into_owned() {
            Value::Array(a) => a,
            other => panic!("{path}: indefinite path gave a non-array {other}"),
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics(s in "\\PC{0,40}") {
        let _ = Path::parse(&s);
        let with_root = format!("${s}");
        if let Ok(p) = Path::parse(&with_root) {
            let _ = p.select(&json!({"a": [1, {"b": 2}]}));
            let _ = p.normalized();
        }
    }

    #[test]
    fn parse_never_panics_on_pathy_text(s in "[$@.\\[\\]'\"*?()<>=!&|,:0-9a-c\\- ~/]{0,30}") {
        if let Ok(p) = Path::parse(&s) {
            let doc = json!({"a": [1, {"b": 2}], "b": {"c": "x"}});
            let _ = p.select(&doc);
            let _ = p.try_select(&doc);
            let mut d = doc.clone();
            let _ = p.set(&mut d, json!(1));
        }
    }

    #[test]
    fn definite_paths_match_rfc9535(doc in arb_json(), path in arb_definite_path()) {
        prop_assert_eq!(ours(&path, &doc), rfc(&path, &doc), "path {}", path);
    }

    #[test]
    fn common_subset_matches_rfc9535(doc in arb_json(), path in arb_common_path()) {
        prop_assert_eq!(ours(&path, &doc), rfc(&path, &doc), "path {}", path);
    }

    #[test]
    fn set_then_select_roundtrip(doc in arb_json(), path in arb_definite_path(), v in arb_json()) {
        let p = Path::parse(&path).unwrap();
        let mut d = doc.clone();
        match p.set(&mut d, v.clone()) {
            Ok(()) => {
                let got = p.select(&d).map(|c| c.into_owned());
                prop_assert_eq!(got, Some(v), "path {}", path);
            }
            Err(_) => prop_assert_eq!(d, doc, "a failed set must not change the document"),
        }
    }

    #[test]
    fn set_on_existing_definite_path_succeeds(doc in arb_json(), path in arb_definite_path()) {
        let p = Path::parse(&path).unwrap();
        if p.select(&doc).is_some() {
            let mut d = doc.clone();
            prop_assert!(p.set(&mut d, json!("new")).is_ok(), "path {}", path);
        }
    }

    #[test]
    fn normalized_reparses_to_same_selection(doc in arb_json(), path in arb_common_path()) {
        let p = Path::parse(&path).unwrap();
        let n = Path::parse(&p.normalized()).unwrap();
        prop_assert_eq!(p.select(&doc), n.select(&doc), "{} vs {}", path, p.normalized());
    }

    #[test]
    fn definite_select_agrees_with_try_select(doc in arb_json(), path in arb_definite_path()) {
        let p = Path::parse(&path).unwrap();
        prop_assert_eq!(p.select(&doc), p.try_select(&doc).ok());
    }
}

// ---------- filters: cross-check on arrays of objects (where Jayway and RFC agree) ----------

fn arb_item_value() -> impl Strategy<Value = Value> {
    // No numeric strings: Jayway compares those with numbers as numbers, RFC does not.
    prop_oneof![
        (-3i64..4).prop_map(Value::from),
        proptest::sample::select(&["apple", "b", "zed"][..]).prop_map(Value::from),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
        Just(json!([1])),
    ]
}

fn arb_item() -> impl Strategy<Value = Value> {
    proptest::collection::vec(
        (
            proptest::sample::select(&["k", "n", "s"][..]).prop_map(str::to_string),
            arb_item_value(),
        ),
        0..4,
    )
    .prop_map(|kv| Value::Object(kv.into_iter().collect()))
}

fn arb_literal() -> impl Strategy<Value = String> {
    prop_oneof![
        (-3i64..4).prop_map(|i| i.to_string()),
        proptest::sample::select(&["'apple'", "'b'", "\"zed\"", "true", "false", "null"][..])
            .prop_map(str::to_string),
    ]
}

fn arb_ordered_literal() -> impl Strategy<Value = String> {
    prop_oneof![
        (-3i64..4).prop_map(|i| i.to_string()),
        proptest::sample::select(&["'apple'", "'b'", "\"zed\""][..]).prop_map(str::to_string),
    ]
}

fn arb_atom() -> impl Strategy<Value = String> {
    let field = proptest::sample::select(&["k", "n", "s"][..]);
    prop_oneof![
        2 => (field.clone(), proptest::sample::select(&["==", "!="][..]), arb_literal())
            .prop_map(|(f, op, lit)| format!("@.{f} {op} {lit}")),
        // Ordering against numbers and strings only: serde_json_path 0.7 orders booleans
        // (`false > true` holds there), which RFC 9535 and Jayway do not.
        2 => (field.clone(), proptest::sample::select(&["<", "<=", ">", ">="][..]), arb_ordered_literal())
            .prop_map(|(f, op, lit)| format!("@.{f} {op} {lit}")),
        1 => field.clone().prop_map(|f| format!("@.{f}")),
        1 => field.clone().prop_map(|f| format!("!@.{f}")),
        1 => (field.clone(), field).prop_map(|(a, b)| format!("@.{a} == @.{b}")),
        1 => field_cmp_root(),
    ]
}

fn field_cmp_root() -> impl Strategy<Value = String> {
    proptest::sample::select(&["k", "n", "s"][..]).prop_map(|f| format!("@.{f} == $.limit"))
}

fn arb_filter() -> impl Strategy<Value = String> {
    arb_atom().prop_recursive(3, 8, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} && {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) || ({b})")),
            inner.prop_map(|a| format!("!({a})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn filters_match_rfc9535(
        items in proptest::collection::vec(arb_item(), 0..6),
        limit in arb_item_value(),
        filter in arb_filter(),
        tail in proptest::sample::select(&["", ".k", "[*]"][..]),
    ) {
        let doc = json!({"items": items, "limit": limit});
        let path = format!("$.items[?({filter})]{tail}");
        prop_assert_eq!(ours(&path, &doc), rfc(&path, &doc), "path {}", path);
    }
}

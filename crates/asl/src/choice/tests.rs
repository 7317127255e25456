use super::*;
use crate::jsonpath::NoVariables;
use serde_json::json;

fn rule(v: Value) -> ChoiceRule {
    match ChoiceRule::parse(&v, "/r") {
        Ok(r) => r,
        Err(d) => panic!("rule {v} did not parse: {d:?}"),
    }
}

fn eval_with(r: &Value, doc: &Value) -> Result<bool, StateError> {
    let ctx = json!({"Execution": {"Input": doc.clone()}});
    let vars = json!({"guess": "a", "answer": "a", "n": 3});
    let vars = vars.as_object().unwrap();
    let env = PathEnv {
        document: doc,
        context: &ctx,
        variables: vars,
    };
    rule(r.clone()).eval(&env)
}

fn t(r: Value, doc: Value) -> bool {
    eval_with(&r, &doc).unwrap_or_else(|e| panic!("{r} on {doc}: {e}"))
}

fn op(name: &str, operand: Value, var: Value) -> bool {
    t(
        json!({"Variable": "$.v", name: operand}),
        json!({"v": var, "o": operand}),
    )
}

fn op_path(name: &str, var: Value, other: Value) -> bool {
    t(
        json!({"Variable": "$.v", name: "$.o"}),
        json!({"v": var, "o": other}),
    )
}

fn diags(v: Value) -> Vec<(String, String)> {
    match parse_choices(&v, "/States/C/Choices") {
        Ok(_) => vec![],
        Err(d) => d
            .into_iter()
            .map(|d| {
                assert_eq!(d.code, "SCHEMA_VALIDATION_FAILED");
                (d.message, d.location)
            })
            .collect(),
    }
}

fn one_diag(v: Value) -> (String, String) {
    let d = diags(v);
    assert_eq!(d.len(), 1, "{d:?}");
    d.into_iter().next().unwrap()
}

// ---- comparison operators ----

#[test]
fn string_equals() {
    assert!(op("StringEquals", json!("Hello"), json!("Hello")));
    assert!(!op("StringEquals", json!("Hello"), json!("hello")));
    assert!(!op("StringEquals", json!("     "), json!(" ")));
    assert!(!op("StringEquals", json!("\t\r\n"), json!("\t\n")));
    assert!(!op("StringEquals", json!("1"), json!(1)));
    assert!(!op("StringEquals", json!("null"), json!(null)));
    assert!(!op("StringEquals", json!("true"), json!(true)));
    assert!(op_path("StringEqualsPath", json!("x"), json!("x")));
    assert!(!op_path("StringEqualsPath", json!("1"), json!(1)));
}

#[test]
fn string_ordering() {
    assert!(!op("StringGreaterThan", json!(""), json!("")));
    assert!(!op("StringGreaterThan", json!("A "), json!("A")));
    assert!(!op("StringGreaterThan", json!("ABC"), json!("AB")));
    assert!(op("StringGreaterThan", json!("AB"), json!("ABC")));
    assert!(op("StringGreaterThanEquals", json!(""), json!("")));
    assert!(!op("StringGreaterThanEquals", json!("AB"), json!("A")));
    assert!(op("StringGreaterThanEquals", json!("A"), json!("AB")));
    assert!(!op("StringLessThan", json!(""), json!("")));
    assert!(op("StringLessThan", json!("AB"), json!("A")));
    assert!(op("StringLessThanEquals", json!(""), json!("")));
    assert!(!op("StringLessThanEquals", json!("A"), json!("AB")));
    assert!(
        op("StringLessThan", json!("a"), json!("B")),
        "uppercase sorts before lowercase"
    );
    assert!(
        op("StringLessThan", json!("\u{FF21}"), json!("\u{1F600}")),
        "UTF-16 order"
    );
    assert!(!op("StringLessThan", json!("b"), json!(1)));
    assert!(op_path("StringLessThanPath", json!("a"), json!("b")));
    assert!(op_path("StringGreaterThanPath", json!("b"), json!("a")));
    assert!(op_path("StringLessThanEqualsPath", json!("a"), json!("a")));
    assert!(op_path(
        "StringGreaterThanEqualsPath",
        json!("AB"),
        json!("A")
    ));
    assert!(!op_path(
        "StringGreaterThanEqualsPath",
        json!("A"),
        json!("AB")
    ));
}

#[test]
fn string_matches() {
    assert!(op("StringMatches", json!("log-*.txt"), json!("log-1.txt")));
    assert!(!op("StringMatches", json!("log-*.txt"), json!("log-1.csv")));
    assert!(op("StringMatches", json!("a\\*b"), json!("a*b")));
    assert!(!op("StringMatches", json!("a\\*b"), json!("axb")));
    assert!(op("StringMatches", json!("a\\\\b"), json!("a\\b")));
    assert!(op("StringMatches", json!("*"), json!("")));
    assert!(!op("StringMatches", json!("*"), json!(1)));
    assert!(!op("StringMatches", json!("*"), json!(null)));
}

#[test]
fn numeric() {
    assert!(op("NumericEquals", json!(1), json!(1.0)));
    assert!(op("NumericEquals", json!(0.0), json!(0)));
    assert!(op("NumericEquals", json!(2.22), json!(2.22)));
    assert!(!op("NumericEquals", json!(1), json!(1.1)));
    assert!(!op("NumericEquals", json!(0), json!(false)));
    assert!(!op("NumericEquals", json!(0), json!("0")));
    assert!(!op("NumericEquals", json!(0), json!(null)));
    assert!(!op("NumericEquals", json!(0), json!([])));
    assert!(op("NumericEquals", json!(u64::MAX), json!(u64::MAX)));
    assert!(!op(
        "NumericEquals",
        json!(9007199254740993u64),
        json!(9007199254740992u64)
    ));
    assert!(op("NumericEquals", json!(-5), json!(-5.0)));
    assert!(op("NumericGreaterThan", json!(0), json!(1)));
    assert!(!op("NumericGreaterThan", json!(1), json!(1)));
    assert!(op("NumericGreaterThanEquals", json!(1), json!(1.0)));
    assert!(op("NumericLessThan", json!(1), json!(0.5)));
    assert!(!op("NumericLessThan", json!(-1), json!(u64::MAX)));
    assert!(op("NumericLessThanEquals", json!(0), json!(0.0)));
    assert!(!op("NumericLessThanEquals", json!(0), json!(1)));
    assert!(op_path("NumericEqualsPath", json!(1), json!(1.0)));
    assert!(!op_path("NumericEqualsPath", json!(1), json!("1")));
    assert!(op_path("NumericLessThanPath", json!(0), json!(1)));
    assert!(op_path("NumericGreaterThanPath", json!(1), json!(0)));
    assert!(op_path("NumericLessThanEqualsPath", json!(1), json!(1)));
    assert!(op_path(
        "NumericGreaterThanEqualsPath",
        json!(0.0),
        json!(0)
    ));
}

#[test]
fn boolean() {
    assert!(op("BooleanEquals", json!(true), json!(true)));
    assert!(op("BooleanEquals", json!(false), json!(false)));
    assert!(!op("BooleanEquals", json!(true), json!(false)));
    assert!(!op("BooleanEquals", json!(false), json!(0)));
    assert!(!op("BooleanEquals", json!(true), json!("true")));
    assert!(!op("BooleanEquals", json!(false), json!(null)));
    assert!(op_path("BooleanEqualsPath", json!(false), json!(false)));
    assert!(!op_path("BooleanEqualsPath", json!(true), json!(1)));
}

#[test]
fn timestamps() {
    let ts = "2012-10-09T19:00:55Z";
    assert!(op(
        "TimestampEquals",
        json!(ts),
        json!("2012-10-09T19:00:55.000Z")
    ));
    assert!(op(
        "TimestampEquals",
        json!(ts),
        json!("2012-10-09T20:00:55+01:00")
    ));
    assert!(!op(
        "TimestampEquals",
        json!(ts),
        json!("2012-10-09T19:00:55")
    ));
    assert!(!op("TimestampEquals", json!(ts), json!(1349809255)));
    assert!(op(
        "TimestampLessThan",
        json!(ts),
        json!("2012-10-09T19:00:54.999Z")
    ));
    assert!(!op("TimestampLessThan", json!(ts), json!(ts)));
    assert!(op(
        "TimestampGreaterThan",
        json!(ts),
        json!("2012-10-09T19:00:55.1Z")
    ));
    assert!(op("TimestampLessThanEquals", json!(ts), json!(ts)));
    assert!(op("TimestampGreaterThanEquals", json!(ts), json!(ts)));
    assert!(!op(
        "TimestampGreaterThanEquals",
        json!(ts),
        json!("2012-10-09T19:00:54Z")
    ));
    assert!(op_path("TimestampEqualsPath", json!(ts), json!(ts)));
    assert!(!op_path(
        "TimestampEqualsPath",
        json!(ts),
        json!("not a date")
    ));
    assert!(op_path(
        "TimestampLessThanPath",
        json!("2012-10-09T19:00:55Z"),
        json!("2012-10-09T19:00:56Z")
    ));
    assert!(op_path(
        "TimestampGreaterThanPath",
        json!("2012-10-09T19:00:56Z"),
        json!(ts)
    ));
    assert!(op_path("TimestampLessThanEqualsPath", json!(ts), json!(ts)));
    assert!(!op_path(
        "TimestampGreaterThanEqualsPath",
        json!(ts),
        json!("2012-10-09T19:00:56Z")
    ));
}

#[test]
fn type_tests() {
    let values = [
        json!(null),
        json!(0),
        json!(1.1),
        json!(""),
        json!("2012-10-09T19:00:55Z"),
        json!("2012-10-09T19:00:55"),
        json!("2023-02-24"),
        json!([]),
        json!({}),
        json!(true),
        json!(false),
    ];
    for v in &values {
        for expected in [true, false] {
            let e = expected;
            assert_eq!(op("IsNull", json!(e), v.clone()), v.is_null() == e);
            assert_eq!(op("IsNumeric", json!(e), v.clone()), v.is_number() == e);
            assert_eq!(op("IsString", json!(e), v.clone()), v.is_string() == e);
            assert_eq!(op("IsBoolean", json!(e), v.clone()), v.is_boolean() == e);
            assert_eq!(op("IsPresent", json!(e), v.clone()), e);
            let is_ts = v.as_str() == Some("2012-10-09T19:00:55Z");
            assert_eq!(op("IsTimestamp", json!(e), v.clone()), is_ts == e, "{v}");
        }
    }
}

// ---- missing paths ----

#[test]
fn is_present_on_missing_paths() {
    assert!(!t(
        json!({"Variable": "$.missing", "IsPresent": true}),
        json!({})
    ));
    assert!(t(
        json!({"Variable": "$.missing", "IsPresent": false}),
        json!({})
    ));
    assert!(t(
        json!({"Variable": "$.a.b", "IsPresent": false}),
        json!({"a": 1})
    ));
    assert!(t(
        json!({"Variable": "$.v", "IsPresent": true}),
        json!({"v": null})
    ));
    assert!(t(
        json!({"Variable": "$nope", "IsPresent": false}),
        json!({})
    ));
}

#[test]
fn missing_variable_is_a_runtime_error() {
    for r in [
        json!({"Variable": "$.missing", "IsNull": true}),
        json!({"Variable": "$.missing", "NumericEquals": 1}),
        json!({"Variable": "$.missing", "StringMatches": "*"}),
        json!({"Variable": "$.missing", "IsTimestamp": false}),
    ] {
        let e = eval_with(&r, &json!({"x": 1})).unwrap_err();
        assert_eq!(e.error, "States.Runtime");
        assert_eq!(
            e.cause,
            "Invalid path '$.missing': The choice state's condition path references an invalid value."
        );
    }
}

#[test]
fn missing_operand_path_is_a_runtime_error() {
    let e = eval_with(
        &json!({"Variable": "$.v", "StringEqualsPath": "$.nope"}),
        &json!({"v": "a"}),
    )
    .unwrap_err();
    assert_eq!(e.error, "States.Runtime");
    assert!(e.cause.starts_with("Invalid path '$.nope'"), "{}", e.cause);
}

#[test]
fn short_circuit_skips_later_missing_paths() {
    let doc = json!({"a": 1});
    let guard = json!({"And": [
        {"Variable": "$.k", "IsPresent": true},
        {"Variable": "$.k", "StringEquals": "foo"}
    ]});
    assert!(!t(guard, doc.clone()));
    let or = json!({"Or": [
        {"Variable": "$.a", "NumericEquals": 1},
        {"Variable": "$.k", "StringEquals": "foo"}
    ]});
    assert!(t(or, doc.clone()));
    let and_err = json!({"And": [
        {"Variable": "$.a", "NumericEquals": 1},
        {"Variable": "$.k", "StringEquals": "foo"}
    ]});
    assert!(eval_with(&and_err, &doc).is_err());
    assert!(eval_with(&json!({"Not": {"Variable": "$.k", "IsNull": false}}), &doc).is_err());
}

// ---- roots ----

#[test]
fn context_and_variable_roots() {
    let doc = json!({"input-value": 0});
    assert!(t(
        json!({"Variable": "$$.Execution.Input.input-value", "NumericLessThanEquals": 0}),
        doc.clone()
    ));
    assert!(t(
        json!({"Variable": "$guess", "StringEqualsPath": "$answer"}),
        doc.clone()
    ));
    assert!(t(
        json!({"Variable": "$n", "NumericEquals": 3}),
        doc.clone()
    ));
    assert!(t(json!({"Variable": "$", "IsPresent": true}), doc.clone()));
    assert!(t(
        json!({"Variable": "$.input-value", "NumericEqualsPath": "$$.Execution.Input.input-value"}),
        doc
    ));
}

#[test]
fn aws_docs_example() {
    let choices = json!([
        {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
        {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
        {"And": [
            {"Variable": "$.value", "NumericGreaterThanEquals": 20},
            {"Variable": "$.value", "NumericLessThan": 30}
        ], "Next": "ValueInTwenties"}
    ]);
    let branches = parse_choices(&choices, "/States/ChoiceStateX/Choices").unwrap();
    let pick = |doc: Value| {
        let env = PathEnv {
            document: &doc,
            context: &Value::Null,
            variables: &NoVariables,
        };
        first_match(&branches, &env)
            .unwrap()
            .map(|i| branches[i].next.clone())
    };
    assert_eq!(
        pick(json!({"type": "Private", "value": 22})).as_deref(),
        Some("ValueInTwenties")
    );
    assert_eq!(
        pick(json!({"type": "Public", "value": 22})).as_deref(),
        Some("Public")
    );
    assert_eq!(
        pick(json!({"type": "Private", "value": 0})).as_deref(),
        Some("ValueIsZero")
    );
    assert_eq!(pick(json!({"type": "Private", "value": 30})), None);
}

#[test]
fn assign_is_kept_per_branch() {
    let b = parse_choices(
        &json!([{"Variable": "$.x", "IsPresent": false, "Assign": {"s": "U"}, "Next": "F"}]),
        "/c",
    )
    .unwrap();
    assert_eq!(b[0].assign, Some(json!({"s": "U"})));
    assert_eq!(b[0].next, "F");
}

// ---- definition-time diagnostics ----

#[test]
fn top_level_rule_needs_next() {
    let (m, l) = one_diag(json!([{"Variable": "$", "StringMatches": "Test"}]));
    assert_eq!(m, "These fields are required: [Next]");
    assert_eq!(l, "/States/C/Choices[0]");
    assert_eq!(
        Diagnostic::aws_text(
            &parse_choices(
                &json!([{"Variable": "$", "StringMatches": "Test"}]),
                "/States/Choice/Choices"
            )
            .unwrap_err()[0]
        ),
        "SCHEMA_VALIDATION_FAILED: These fields are required: [Next] at /States/Choice/Choices[0]"
    );
}

use crate::diagnostic::Diagnostic;

#[test]
fn nested_rule_with_next_is_rejected() {
    let (m, l) =
        one_diag(json!([{"Not": {"Variable": "$.a", "IsNull": true, "Next": "X"}, "Next": "Y"}]));
    assert_eq!(m, "Field 'Next' is not supported");
    assert_eq!(l, "/States/C/Choices[0]/Not");
    let (m, l) = one_diag(
        json!([{"And": [{"Variable": "$.a", "IsNull": true}, {"Variable": "$.a", "IsNull": true, "Next": "X"}], "Next": "Y"}]),
    );
    assert_eq!(m, "Field 'Next' is not supported");
    assert_eq!(l, "/States/C/Choices[0]/And[1]");
    assert!(ChoiceRule::parse(
        &json!({"Variable": "$.a", "IsNull": true, "Next": "X"}),
        "/r"
    )
    .is_err());
}

#[test]
fn unknown_operator() {
    let (m, l) = one_diag(json!([{"Variable": "$.a", "StringContains": "x", "Next": "N"}]));
    assert_eq!(l, "/States/C/Choices[0]");
    assert!(
        m.starts_with("Field 'StringContains' is not supported"),
        "{m}"
    );
    let d = diags(json!([{"Variable": "$.a", "StringContains": "x", "Next": "N"}]));
    assert_eq!(d.len(), 1);
    for bad in [
        "BooleanLessThan",
        "StringMatchesPath",
        "IsPresentPath",
        "Numericequals",
    ] {
        let d = diags(json!([{"Variable": "$.a", bad: 1, "NumericEquals": 1, "Next": "N"}]));
        assert_eq!(d[0].0, format!("Field '{bad}' is not supported"));
    }
}

#[test]
fn two_operators() {
    let (m, _) = one_diag(
        json!([{"Variable": "$.a", "StringEquals": "x", "NumericEquals": 1, "Next": "N"}]),
    );
    assert_eq!(
        m,
        "There should only be one of the following fields: [StringEquals, NumericEquals]"
    );
    let (m, _) = one_diag(
        json!([{"And": [{"Variable": "$.a", "IsNull": true}], "Not": {"Variable": "$.a", "IsNull": true}, "Next": "N"}]),
    );
    assert_eq!(
        m,
        "There should only be one of the following fields: [And, Not]"
    );
}

#[test]
fn missing_variable_or_operator() {
    let (m, l) = one_diag(json!([{"NumericEquals": 1, "Next": "N"}]));
    assert_eq!(
        (m.as_str(), l.as_str()),
        (
            "These fields are required: [Variable]",
            "/States/C/Choices[0]"
        )
    );
    let (m, _) = one_diag(json!([{"NumericEquals": 1}]));
    assert_eq!(m, "These fields are required: [Variable, Next]");
    let (m, _) = one_diag(json!([{"Variable": "$.a", "Next": "N"}]));
    assert!(m.contains("exactly one comparison operator"), "{m}");
    let (m, _) = one_diag(
        json!([{"Variable": "$.a", "Not": {"Variable": "$.a", "IsNull": true}, "Next": "N"}]),
    );
    assert_eq!(m, "Field 'Variable' is not supported");
}

#[test]
fn wrong_operand_types() {
    let cases = [
        ("NumericEquals", json!("1"), "Number"),
        ("NumericLessThan", json!(true), "Number"),
        ("StringEquals", json!(1), "String"),
        ("StringMatches", json!(null), "String"),
        ("BooleanEquals", json!("true"), "Boolean"),
        ("IsPresent", json!(1), "Boolean"),
        ("IsTimestamp", json!("true"), "Boolean"),
        ("TimestampEquals", json!(1), "String"),
        ("StringEqualsPath", json!(1), "String"),
    ];
    for (name, val, want) in cases {
        let (m, l) = one_diag(json!([{"Variable": "$.a", name: val, "Next": "N"}]));
        assert!(
            m.starts_with(&format!("Expected value of type {want}")),
            "{name}: {m}"
        );
        assert_eq!(l, format!("/States/C/Choices[0]/{name}"));
    }
}

#[test]
fn bad_timestamp_literal() {
    for ts in [
        "2016-13-05T21:29:29Z",
        "2016-12-05T21:29:29",
        "2016-12-05T21:29Z",
        "x",
    ] {
        let (m, l) = one_diag(json!([{"Variable": "$.a", "TimestampLessThan": ts, "Next": "N"}]));
        assert_eq!(m, "String does not match RFC3339 timestamp");
        assert_eq!(l, "/States/C/Choices[0]/TimestampLessThan");
    }
}

#[test]
fn bad_paths() {
    let (m, l) = one_diag(json!([{"Variable": "a.b", "IsNull": true, "Next": "N"}]));
    assert!(m.starts_with("Value is not a Reference Path"), "{m}");
    assert_eq!(l, "/States/C/Choices[0]/Variable");
    let (m, l) = one_diag(json!([{"Variable": "$.a", "NumericEqualsPath": "nope", "Next": "N"}]));
    assert!(m.starts_with("Value is not a Reference Path"), "{m}");
    assert_eq!(l, "/States/C/Choices[0]/NumericEqualsPath");
    let (m, _) = one_diag(json!([{"Variable": 5, "IsNull": true, "Next": "N"}]));
    assert!(m.starts_with("Expected value of type String"), "{m}");
}

#[test]
fn and_or_shapes() {
    let (m, l) = one_diag(json!([{"And": [], "Next": "N"}]));
    assert!(m.contains("at least one"), "{m}");
    assert_eq!(l, "/States/C/Choices[0]/And");
    let (m, _) = one_diag(json!([{"Or": {"Variable": "$.a", "IsNull": true}, "Next": "N"}]));
    assert!(m.starts_with("Expected value of type Array"), "{m}");
    let (m, l) = one_diag(json!([{"Not": [], "Next": "N"}]));
    assert!(m.starts_with("Expected value of type Object"), "{m}");
    assert_eq!(l, "/States/C/Choices[0]/Not");
}

#[test]
fn choices_shape() {
    let (m, l) = one_diag(json!([]));
    assert!(m.contains("at least one"), "{m}");
    assert_eq!(l, "/States/C/Choices");
    let (m, _) = one_diag(json!({}));
    assert!(m.starts_with("Expected value of type Array"), "{m}");
    let (m, l) = one_diag(json!([1]));
    assert!(m.starts_with("Expected value of type Object"), "{m}");
    assert_eq!(l, "/States/C/Choices[0]");
}

#[test]
fn jsonata_fields_in_jsonpath_mode() {
    let (m, _) = one_diag(
        json!([{"Condition": "{% true %}", "Variable": "$.a", "IsNull": true, "Next": "N"}]),
    );
    assert!(
        m.contains("only supported for the 'JSONata' QueryLanguage"),
        "{m}"
    );
}

#[test]
fn reports_every_problem() {
    let d = diags(json!([
        {"Variable": "$.a", "NumericEquals": "x", "Next": "N"},
        {"Variable": "$.a", "IsNull": true},
        {"Variable": "$.a", "IsNull": true, "Next": "N", "Comment": "ok"}
    ]));
    assert_eq!(d.len(), 2, "{d:?}");
    assert_eq!(d[0].1, "/States/C/Choices[0]/NumericEquals");
    assert_eq!(d[1].1, "/States/C/Choices[1]");
}

#[test]
fn operator_table_is_complete() {
    let mut names = vec![
        "StringMatches",
        "IsNull",
        "IsPresent",
        "IsNumeric",
        "IsString",
        "IsBoolean",
        "IsTimestamp",
        "BooleanEquals",
        "BooleanEqualsPath",
    ];
    let mut owned = Vec::new();
    for fam in ["String", "Numeric", "Timestamp"] {
        for c in [
            "Equals",
            "LessThan",
            "GreaterThan",
            "LessThanEquals",
            "GreaterThanEquals",
        ] {
            owned.push(format!("{fam}{c}"));
            owned.push(format!("{fam}{c}Path"));
        }
    }
    names.extend(owned.iter().map(String::as_str));
    assert_eq!(names.len(), 39);
    for n in names {
        assert!(super::parse::is_rule_field(n), "{n}");
    }
}

//! Property tests: compiling never panics on arbitrary JSON, and the boolean combinators agree
//! with Rust's own short-circuit logic (including which errors surface).

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use stepwise_asl::choice::{parse_choices, ChoiceRule};
use stepwise_asl::error::StateError;
use stepwise_asl::jsonpath::{NoVariables, PathEnv};

const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringLessThan",
    "StringGreaterThan",
    "StringLessThanEquals",
    "StringGreaterThanEquals",
    "StringMatches",
    "NumericEquals",
    "NumericLessThan",
    "NumericGreaterThan",
    "NumericLessThanEquals",
    "NumericGreaterThanEquals",
    "BooleanEquals",
    "TimestampEquals",
    "TimestampLessThan",
    "TimestampGreaterThan",
    "TimestampLessThanEquals",
    "TimestampGreaterThanEquals",
    "IsNull",
    "IsPresent",
    "IsNumeric",
    "IsString",
    "IsBoolean",
    "IsTimestamp",
];

const PATHS: &[&str] = &["$.a", "$.b", "$.c", "$.missing", "$.a.deep"];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..4).prop_map(|n| json!(n)),
        (-3.0f64..3.0).prop_map(|f| json!((f * 4.0).round() / 4.0)),
        prop::sample::select(vec![
            "",
            "a",
            "ab",
            "B",
            "log-1.txt",
            "*",
            "2012-10-09T19:00:55Z",
            "2012-10-09T20:00:55+01:00",
            "2012-10-09T19:00:56.5Z",
            "2012-10-09",
        ])
        .prop_map(|s| json!(s)),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        scalar(),
        "[a-zA-Z$.*\\\\]{0,8}".prop_map(Value::String),
        prop::sample::select(OPERATORS.to_vec()).prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop_oneof![
            prop::sample::select(
                [
                    OPERATORS,
                    &["Variable", "Next", "And", "Or", "Not", "Comment", "Assign"]
                ]
                .concat()
            )
            .prop_map(String::from),
            "[A-Za-z]{0,6}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((keys, inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// An operand that type-checks for `op` (so the rule compiles).
fn operand_for(op: &'static str) -> BoxedStrategy<Value> {
    if op.starts_with("Is") || op == "BooleanEquals" {
        any::<bool>().prop_map(Value::Bool).boxed()
    } else if op.starts_with("Numeric") {
        (-3i64..4).prop_map(|n| json!(n)).boxed()
    } else if op.starts_with("Timestamp") {
        prop::sample::select(vec!["2012-10-09T19:00:55Z", "2012-10-09T19:00:56.5Z"])
            .prop_map(|s| json!(s))
            .boxed()
    } else {
        prop::sample::select(vec!["", "a", "ab", "B", "*", "a*", "log-*.txt"])
            .prop_map(|s| json!(s))
            .boxed()
    }
}

fn leaf_rule() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(OPERATORS.to_vec()),
        prop::sample::select(PATHS.to_vec()),
        any::<bool>(),
    )
        .prop_flat_map(|(op, var, use_path)| {
            let has_path_form = !op.starts_with("Is") && op != "StringMatches";
            if use_path && has_path_form {
                prop::sample::select(PATHS.to_vec())
                    .prop_map(move |p| json!({"Variable": var, format!("{op}Path"): p}))
                    .boxed()
            } else {
                operand_for(op)
                    .prop_map(move |o| json!({"Variable": var, op: o}))
                    .boxed()
            }
        })
}

fn rule_json() -> impl Strategy<Value = Value> {
    leaf_rule().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(|v| json!({"And": v})),
            prop::collection::vec(inner.clone(), 1..4).prop_map(|v| json!({"Or": v})),
            inner.prop_map(|r| json!({"Not": r})),
        ]
    })
}

fn document() -> impl Strategy<Value = Value> {
    (scalar(), scalar(), prop::option::of(scalar())).prop_map(|(a, b, c)| match c {
        Some(c) => json!({"a": a, "b": b, "c": c}),
        None => json!({"a": a, "b": b}),
    })
}

fn compile(v: &Value) -> ChoiceRule {
    ChoiceRule::parse(v, "/r").unwrap_or_else(|d| panic!("{v} should compile: {d:?}"))
}

fn eval(r: &ChoiceRule, doc: &Value) -> Result<bool, StateError> {
    let env = PathEnv {
        document: doc,
        context: &Value::Null,
        variables: &NoVariables,
    };
    r.eval(&env)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics(v in any_json(), doc in any_json()) {
        let _ = parse_choices(&v, "/States/C/Choices");
        if let Ok(r) = ChoiceRule::parse(&v, "/r") {
            let _ = eval(&r, &doc);
        }
        let _ = parse_choices(&Value::Array(vec![v]), "/States/C/Choices");
    }

    #[test]
    fn generated_rules_compile_and_evaluate(r in rule_json(), doc in document()) {
        let rule = compile(&r);
        let top = json!([{"Next": "X", "Comment": "c"}]);
        let mut top = top;
        if let (Some(obj), Some(src)) = (top[0].as_object_mut(), r.as_object()) {
            obj.extend(src.clone());
        }
        prop_assert!(parse_choices(&top, "/c").is_ok());
        let _ = eval(&rule, &doc);
    }

    #[test]
    fn not_is_negation(r in rule_json(), doc in document()) {
        let plain = eval(&compile(&r), &doc);
        let negated = eval(&compile(&json!({"Not": r})), &doc);
        prop_assert_eq!(negated, plain.map(|b| !b));
    }

    #[test]
    fn and_or_short_circuit_like_rust(a in rule_json(), b in rule_json(), doc in document()) {
        let (ra, rb) = (compile(&a), compile(&b));
        let and = eval(&compile(&json!({"And": [a.clone(), b.clone()]})), &doc);
        let or = eval(&compile(&json!({"Or": [a.clone(), b.clone()]})), &doc);
        let expect_and = (|| Ok::<_, StateError>(eval(&ra, &doc)? && eval(&rb, &doc)?))();
        let expect_or = (|| Ok::<_, StateError>(eval(&ra, &doc)? || eval(&rb, &doc)?))();
        prop_assert_eq!(and, expect_and);
        prop_assert_eq!(or, expect_or);
        // De Morgan, where no error intervenes.
        let not_and = eval(&compile(&json!({"Not": {"And": [a.clone(), b.clone()]}})), &doc);
        let or_nots = eval(&compile(&json!({"Or": [{"Not": a}, {"Not": b}]})), &doc);
        if let (Ok(x), Ok(y)) = (&not_and, &or_nots) {
            prop_assert_eq!(x, y);
        }
    }

    #[test]
    fn is_present_never_errors(var in prop::sample::select(PATHS.to_vec()), e in any::<bool>(), doc in document()) {
        let r = compile(&json!({"Variable": var, "IsPresent": e}));
        prop_assert!(eval(&r, &doc).is_ok());
    }
}

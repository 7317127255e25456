//! Property tests: the parser never panics, and the functions that invert or partition each
//! other really do.

use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use stepwise_asl::error::StateError;
use stepwise_asl::intrinsics::Call;
use stepwise_asl::jsonpath::{NoVariables, PathEnv};

fn eval(src: &str, input: &Value) -> Result<Value, StateError> {
    let call = Call::parse(src).expect("test source parses");
    let ctx = json!({});
    let env = PathEnv {
        document: input,
        context: &ctx,
        variables: &NoVariables,
    };
    call.eval(&env, &mut ChaCha8Rng::seed_from_u64(0))
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        // Short decimals: serde_json without `float_roundtrip` may miss the last bit of long ones.
        (-1_000_000i32..1_000_000).prop_map(|i| json!(f64::from(i) / 1000.0)),
        ".{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z]{1,4}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn parse_never_panics(s in ".{0,64}") {
        let _ = Call::parse(&s);
    }

    #[test]
    fn parse_never_panics_on_call_like_text(
        name in prop::sample::select(vec!["Format", "Array", "MathAdd", "Nope", "Hash"]),
        body in r"[\$\.\[\]'\\{}(),a-z0-9 \-]{0,40}",
    ) {
        let src = format!("States.{name}({body})");
        if let Ok(call) = Call::parse(&src) {
            // Evaluation of anything that parses must not panic either.
            let _ = call.eval(
                &PathEnv { document: &json!({"a": [1, 2]}), context: &json!({}), variables: &NoVariables },
                &mut ChaCha8Rng::seed_from_u64(0),
            );
        }
    }

    #[test]
    fn base64_roundtrip(s in ".{0,200}") {
        let input = json!({ "s": s });
        let enc = eval("States.Base64Encode($.s)", &input).unwrap();
        let dec = eval("States.Base64Decode($.e)", &json!({ "e": enc })).unwrap();
        prop_assert_eq!(dec, json!(s));
    }

    #[test]
    fn partition_then_flatten_is_identity(items in prop::collection::vec(json_value(), 0..30), size in 1i64..12) {
        let input = json!({ "a": items, "n": size });
        let parts = eval("States.ArrayPartition($.a, $.n)", &input).unwrap();
        let parts = parts.as_array().unwrap();
        prop_assert!(parts.iter().all(|p| p.as_array().is_some_and(|p| !p.is_empty() && p.len() as i64 <= size)));
        let flat: Vec<Value> = parts.iter().flat_map(|p| p.as_array().unwrap().clone()).collect();
        prop_assert_eq!(Value::Array(flat), input["a"].clone());
    }

    #[test]
    fn json_to_string_and_back(v in json_value()) {
        let text = eval("States.JsonToString($.v)", &json!({ "v": v.clone() })).unwrap();
        let back = eval("States.StringToJson($.t)", &json!({ "t": text })).unwrap();
        // Floats may come back as integers only when they were integral; compare as text.
        prop_assert_eq!(serde_json::to_string(&back).unwrap(), serde_json::to_string(&v).unwrap());
    }

    #[test]
    fn array_range_length(start in -500i64..500, end in -500i64..500, step in prop_oneof![-7i64..=-1, 1i64..=7]) {
        let r = eval(&format!("States.ArrayRange({start}, {end}, {step})"), &json!({})).unwrap();
        let r = r.as_array().unwrap();
        let expected = if (step > 0 && start <= end) || (step < 0 && start >= end) {
            (end - start) / step + 1
        } else {
            0
        };
        prop_assert_eq!(r.len() as i64, expected);
        if let Some(first) = r.first() {
            prop_assert_eq!(first, &json!(start));
        }
    }

    #[test]
    fn math_add_matches_integer_sum(a in any::<i32>(), b in any::<i32>()) {
        let r = eval(&format!("States.MathAdd({a}, {b})"), &json!({}));
        let sum = i64::from(a) + i64::from(b);
        match i32::try_from(sum) {
            Ok(s) => prop_assert_eq!(r.unwrap(), json!(s)),
            Err(_) => prop_assert!(r.is_err()),
        }
    }
}

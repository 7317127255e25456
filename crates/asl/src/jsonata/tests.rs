use super::*;
use rand::SeedableRng as _;
use serde_json::json;

fn rng() -> rand_chacha::ChaCha8Rng {
    rand_chacha::ChaCha8Rng::seed_from_u64(7)
}

fn eval_with(
    src: &str,
    input: Value,
    vars: &Map<String, Value>,
) -> Result<Option<Value>, JsonataError> {
    let e = Expression::compile(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    let ctx = json!({"State": {"Name": "S", "EnteredTime": "2024-01-02T03:04:05.678Z"},
                     "Execution": {"Id": "arn:x"}});
    let states = StatesBinding {
        input: &input,
        result: None,
        error_output: None,
        context: &ctx,
    };
    e.eval(&states, vars, &mut rng())
}

fn eval(src: &str, input: Value) -> Result<Option<Value>, JsonataError> {
    eval_with(src, input, &Map::new())
}

fn ok(src: &str, input: Value) -> Value {
    eval(src, input)
        .unwrap_or_else(|e| panic!("{src}: {e}"))
        .unwrap_or_else(|| panic!("{src}: undefined"))
}

#[test]
fn detects_expressions_strictly() {
    assert_eq!(as_expression("{% $x %}"), Some("$x"));
    assert_eq!(as_expression("{%$x%}"), Some("$x"));
    // Recorded: a leading space makes the string a literal.
    assert_eq!(as_expression(" {% states.input %} "), None);
    assert_eq!(as_expression("$states.input"), None);
    assert_eq!(as_expression("{%"), None);
}

#[test]
fn states_members_and_variables() {
    let input =
        json!({"order": {"items": [{"name": "a", "price": 5}, {"name": "b", "price": 20}]}});
    assert_eq!(
        ok("$states.input.order.items[price > 10].name", input.clone()),
        json!("b")
    );
    assert_eq!(ok("$states.context.State.Name", json!({})), json!("S"));
    assert_eq!(ok("$keys($states)", json!({})), json!(["input", "context"]));
    let mut vars = Map::new();
    vars.insert("var_constant_1".into(), json!(1));
    vars.insert("big".into(), json!({"a": {"b": 2}, "c": [1, 2]}));
    let r = eval_with(
        "$sum($states.input.input_values) + $var_constant_1",
        json!({"input_values": [1, 2, 3]}),
        &vars,
    );
    assert_eq!(r.unwrap(), Some(json!(7)));
    assert_eq!(
        eval_with("$big.a.b", json!({}), &vars).unwrap(),
        Some(json!(2))
    );
    assert_eq!(
        eval_with("$big", json!({}), &vars).unwrap(),
        Some(vars["big"].clone())
    );
    assert_eq!(
        eval_with("$big.c[1]", json!({}), &vars).unwrap(),
        Some(json!(2))
    );
}

#[test]
fn undefined_and_top_level_context() {
    assert_eq!(eval("$doesNotExist", json!({})).unwrap(), None);
    // AWS gives no context value: bare names and `$` are undefined.
    assert_eq!(eval("states.input", json!({"a": 1})).unwrap(), None);
    assert_eq!(eval("$", json!({"a": 1})).unwrap(), None);
}

#[test]
fn recorded_expressions() {
    // Corpus: test_base_jsonata_regular_expressions, test_merge_with_dynamic_args,
    // test_escape_sequence_parsing.
    assert_eq!(
        ok(r#"$contains("hello$world", /^hello\$/)"#, json!({})),
        json!(true)
    );
    assert_eq!(
        ok(r#"$contains('hello$world', /^hello\ /)"#, json!({})),
        json!(false)
    );
    assert_eq!(
        ok(
            "$merge([$states.input.part1, $states.input.part2])",
            json!({"part1": {"hello": "world"}, "part2": {"foo": "bar"}})
        ),
        json!({"hello": "world", "foo": "bar"})
    );
    assert_eq!(ok(r#"$states.input = '\"'"#, json!("\"")), json!(true));
}

#[test]
fn recorded_partition() {
    // Corpus: test_array_partition (JSONata).
    for (arr, size, out) in [
        (json!([0]), 1, json!([[0]])),
        (json!([0]), 5, json!([[0]])),
        (json!([0, 1]), 1, json!([[0], [1]])),
        (json!([0, 1, 2]), 2, json!([[0, 1], [2]])),
        (json!([0, 1, 2, 3]), 3, json!([[0, 1, 2], [3]])),
        (json!([0, 1, 2, 3]), 5, json!([[0, 1, 2, 3]])),
    ] {
        let input = json!({"FunctionInput": {"fst": arr, "snd": size}});
        assert_eq!(
            ok(
                "$partition($states.input.FunctionInput.fst, $states.input.FunctionInput.snd)",
                input
            ),
            out
        );
    }
}

#[test]
fn recorded_parse() {
    // Corpus: test_parse (JSONata).
    for (text, out) in [
        ("-0", json!(0)),
        ("1", json!(1)),
        ("1.1", json!(1.1)),
        ("true", json!(true)),
        ("\"HelloWorld\"", json!("HelloWorld")),
        ("[1, 2, \"HelloWorld\"]", json!([1, 2, "HelloWorld"])),
        (
            "{\"Arg1\": 1, \"Arg2\": []}",
            json!({"Arg1": 1, "Arg2": []}),
        ),
    ] {
        let out2 = ok(
            "$parse($states.input.FunctionInput)",
            json!({"FunctionInput": text}),
        );
        assert_eq!(out2, out, "{text}");
        assert_eq!(out2.to_string(), out.to_string());
    }
    assert!(eval("$parse('{')", json!({})).is_err());
}

#[test]
fn recorded_error_causes() {
    let e = eval(
        "$randomSeeded($states.input.FunctionInput.fst)",
        json!({"FunctionInput": "fst"}),
    )
    .unwrap_err();
    assert_eq!(e.code, "T1006");
    assert_eq!(
        error_cause("$randomSeeded($states.input.FunctionInput.fst)", "Output/FunctionResult", &e),
        "The JSONata expression '$randomSeeded($states.input.FunctionInput.fst)' specified for the field 'Output/FunctionResult' threw an error during evaluation. T1006: Attempted to invoke a non-function"
    );
    assert_eq!(
        undefined_cause("$doesNotExist", "Output/result"),
        "The JSONata expression '$doesNotExist' specified for the field 'Output/result' returned nothing (undefined)."
    );
    let f = eval("$fn := function($x){$x}", json!({})).unwrap_err();
    assert_eq!(
        error_cause("$fn := function($x){$x}", "Items", &f),
        "The JSONata expression '$fn := function($x){$x}' specified for the field 'Items' returned an unsupported result type."
    );
    assert_eq!(
        unexpected_type_cause("{'foo': 'bar'}", "Items", "array", &json!({"foo": "bar"})),
        "The JSONata expression '{'foo': 'bar'}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'object' for value: {\"foo\":\"bar\"}"
    );
    assert_eq!(
        unexpected_type_cause("'string'", "Items", "array", &json!("string")),
        "The JSONata expression ''string'' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'string' for value: \"string\""
    );
}

#[test]
fn error_codes_are_kept() {
    let e = eval("'a' + 1", json!({})).unwrap_err();
    assert_eq!(e.code, "T2001");
    assert!(
        e.message.starts_with("The left side of the \"+\" operator"),
        "{}",
        e.message
    );
    let e = eval("$error('boom')", json!({})).unwrap_err();
    assert_eq!((e.code.as_str(), e.message.as_str()), ("D3137", "boom"));
}

#[test]
fn compile_rejects_eval_and_newer_syntax() {
    for src in [
        "$eval('1+1')",
        "$x ?? 1",
        "$x ?: 1",
        "(",
        "1 +",
        "$states.input.",
    ] {
        assert!(Expression::compile(src).is_err(), "{src}");
    }
    let e = Expression::compile("(").unwrap_err();
    assert!(e.code.is_some(), "{e:?}");
}

#[test]
fn aws_functions() {
    assert_eq!(
        ok("$range(0, 10, 2)", json!({})),
        json!([0, 2, 4, 6, 8, 10])
    );
    assert_eq!(
        ok("$partition([1,2,3,4,5,6,7,8,9], 3)", json!({})),
        json!([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    );
    assert_eq!(
        ok("$hash('input data', 'SHA-1')", json!({})),
        json!("aaff4a450a104cd177d28d18d74485e8cae074b7")
    );
    let u = ok("$uuid()", json!({}));
    let u = u.as_str().unwrap();
    assert_eq!(u.len(), 36);
    assert_eq!(&u[14..15], "4");
    let r = ok("$random()", json!({})).as_f64().unwrap();
    assert!((0.0..1.0).contains(&r));
    // Seeded: the same number every time.
    assert_eq!(ok("$random(42)", json!({})), ok("$random(42)", json!({})));
    assert_eq!(ok("$random(42)", json!({})), json!(0.7275636800328681));
    // Unseeded draws follow the caller's generator.
    assert_eq!(
        ok("[$random(), $uuid()]", json!({})),
        ok("[$random(), $uuid()]", json!({}))
    );
    assert_ne!(
        ok("[$random(), $random()]", json!({}))[0],
        ok("[$random(), $random()]", json!({}))[1]
    );
    assert_eq!(
        eval("$partition([1], 0)", json!({})).unwrap_err().code,
        "D3001"
    );
    assert_eq!(
        eval("$hash(1, 'MD5')", json!({})).unwrap_err().code,
        "T0410"
    );
}

#[test]
fn clock_comes_from_the_context() {
    assert_eq!(ok("$now()", json!({})), json!("2024-01-02T03:04:05.678Z"));
    assert_eq!(ok("$millis()", json!({})), json!(1704164645678_i64));
    let e = Expression::compile("$now()").unwrap();
    let ctx = json!({});
    let states = StatesBinding {
        input: &ctx,
        result: None,
        error_output: None,
        context: &ctx,
    };
    assert_eq!(
        e.eval_at(&states, &crate::jsonpath::NoVariables, &mut rng(), 0)
            .unwrap(),
        Some(json!("1970-01-01T00:00:00.000Z"))
    );
}

#[test]
fn templates() {
    let t = Template::compile(&json!({
        "static": "Hello",
        "title": "{% $states.input.title %}",
        "list": [1, "{% $states.input.n * 2 %}"],
        "not-evaluated": "$customerName",
        "nested": {"x": "{% $customerName %}"}
    }))
    .unwrap();
    let mut vars = Map::new();
    vars.insert("customerName".into(), json!("María"));
    let input = json!({"title": "Doctor", "n": 4});
    let ctx = json!({});
    let states = StatesBinding {
        input: &input,
        result: Some(&ctx),
        error_output: None,
        context: &ctx,
    };
    assert_eq!(
        t.eval(&states, &vars, &mut rng()).unwrap(),
        json!({"static": "Hello", "title": "Doctor", "list": [1, 8], "not-evaluated": "$customerName", "nested": {"x": "María"}})
    );
    let t = Template::compile(&json!({"result": "{% $doesNotExist %}"})).unwrap();
    assert_eq!(
        t.eval(&states, &vars, &mut rng()).unwrap_err(),
        ("result".to_string(), None)
    );
    let t = Template::compile(&json!({"a": {"b": "{% 'x' + 1 %}"}})).unwrap();
    let (loc, err) = t.eval(&states, &vars, &mut rng()).unwrap_err();
    assert_eq!((loc.as_str(), err.unwrap().code.as_str()), ("a/b", "T2001"));
    let (loc, _) = Template::compile(&json!({"a": ["{% ( %}"]})).unwrap_err();
    assert_eq!(loc, "a[0]");
    let t = Template::compile(&json!("{% $states.input %}")).unwrap();
    assert_eq!(t.eval(&states, &vars, &mut rng()).unwrap(), input);
    assert!(Template::compile(&json!({"a": 1})).unwrap().is_literal());
}

#[test]
fn function_results_are_unsupported() {
    let e = eval("$uppercase", json!({})).unwrap_err();
    assert_eq!(e.code, JsonataError::UNSUPPORTED_RESULT);
    let e = eval("{'f': function(){1}}", json!({})).unwrap_err();
    assert_eq!(e.code, JsonataError::UNSUPPORTED_RESULT);
}

#[test]
fn deep_expressions_do_not_crash() {
    for depth in [100, 400, 1000] {
        let src = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        // Either outcome is fine; what matters is no crash.
        if let Ok(e) = Expression::compile(&src) {
            let _ = e.source();
        }
    }
}

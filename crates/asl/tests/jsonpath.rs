//! Feature tests for the JSONPath dialect (Jayway semantics as AWS Step Functions uses them).

use serde_json::{json, Value};
use std::borrow::Cow;
use stepwise_asl::jsonpath::{NoVariables, Path, PathEnv, Root, SelectErrorKind, Variables};

fn p(s: &str) -> Path {
    Path::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn sel(path: &str, doc: &Value) -> Option<Value> {
    p(path).select(doc).map(Cow::into_owned)
}

fn store() -> Value {
    json!({
        "store": {
            "book": [
                {"category": "reference", "author": "Nigel Rees", "title": "Sayings of the Century", "price": 8.95},
                {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword of Honour", "price": 12.99},
                {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553-21311-3", "price": 8.99},
                {"category": "fiction", "author": "J. R. R. Tolkien", "title": "The Lord of the Rings", "isbn": "0-395-19395-8", "price": 22.99}
            ],
            "bicycle": {"color": "red", "price": 19.95}
        },
        "expensive": 10
    })
}

// ---------- parsing and roots ----------

#[test]
fn roots() {
    assert_eq!(p("$").root(), &Root::Document);
    assert_eq!(p("$.a").root(), &Root::Document);
    assert_eq!(p("$$").root(), &Root::Context);
    assert_eq!(p("$$.Execution.Id").root(), &Root::Context);
    assert_eq!(p("$var").root(), &Root::Variable("var".into()));
    assert_eq!(p("$var.a[0]").root(), &Root::Variable("var".into()));
    assert_eq!(p("$x['a b']").root(), &Root::Variable("x".into()));
}

#[test]
fn identity_and_as_str() {
    assert!(p("$").is_identity());
    assert!(!p("$$").is_identity());
    assert!(!p("$.a").is_identity());
    assert!(!p("$v").is_identity());
    assert_eq!(p("$.a.b").as_str(), "$.a.b");
    assert_eq!(p("$.a.b").to_string(), "$.a.b");
    assert_eq!(p("$.a"), p("$.a"));
}

#[test]
fn syntax_errors() {
    for bad in [
        "",
        "a",
        "$.",
        "$..",
        "$.a.",
        "$[",
        "$['a'",
        "$['a]",
        "$[a]",
        "$[]",
        "$.a[1",
        "$[?(@.a == )]",
        "$[?(@.a",
        "$.a b",
        "$[0:1:0]",
        "$.a.nosuch()",
        "$.a.length().b",
        "$[?(@.a =~ 'x')]",
        "$[?(@.a =~ /[/)]",
        "$-x.a",
        "$[1.5]",
        "$[--1]",
    ] {
        let e = Path::parse(bad).expect_err(bad);
        assert_eq!(e.path, bad);
        assert!(!e.message.is_empty());
    }
}

#[test]
fn whitespace_is_trimmed_and_allowed_in_brackets() {
    let d = json!({"a": [1, 2, 3], "b c": 1});
    assert_eq!(sel("  $.a[ 1 ]  ", &d), Some(json!(2)));
    assert_eq!(sel("$[ 'b c' ]", &d), Some(json!(1)));
    assert_eq!(sel("$.a[ 0 , 2 ]", &d), Some(json!([1, 3])));
}

// ---------- dot and bracket notation ----------

#[test]
fn dot_notation_with_unusual_names() {
    let d = json!({"delivery-partner": 1, "x-amzn-RequestId": "r", "a:b": 2, "ü": 3, "a$b": 4, "@x": 5});
    assert_eq!(sel("$.delivery-partner", &d), Some(json!(1)));
    assert_eq!(sel("$.x-amzn-RequestId", &d), Some(json!("r")));
    assert_eq!(sel("$.a:b", &d), Some(json!(2)));
    assert_eq!(sel("$.ü", &d), Some(json!(3)));
    assert_eq!(sel("$.a$b", &d), Some(json!(4)));
    assert_eq!(sel("$.@x", &d), Some(json!(5)));
}

#[test]
fn bracket_notation_and_escapes() {
    let d = json!({"a b": 1, "x": {"y": 2}, "it's": 3, "q\"": 4, "Test\\\"\"Name\"": "v"});
    assert_eq!(sel("$['a b']", &d), Some(json!(1)));
    assert_eq!(sel("$[\"x\"]['y']", &d), Some(json!(2)));
    assert_eq!(sel("$.x.['y']", &d), Some(json!(2)));
    assert_eq!(sel("$['it\\'s']", &d), Some(json!(3)));
    assert_eq!(sel("$[\"it's\"]", &d), Some(json!(3)));
    assert_eq!(sel("$[\"q\\\"\"]", &d), Some(json!(4)));
    // Recorded against AWS: `\"` inside single quotes is kept verbatim.
    assert_eq!(sel("$['Test\\\"\"Name\"']", &d), Some(json!("v")));
    // Brackets allow what dots cannot.
    let d = json!({"a.b": 1, "[x]": 2});
    assert_eq!(sel("$['a.b']", &d), Some(json!(1)));
    assert_eq!(sel("$['[x]']", &d), Some(json!(2)));
}

#[test]
fn array_indexes() {
    let d = json!({"items": [0, 1, 2, 3]});
    assert_eq!(sel("$.items[0]", &d), Some(json!(0)));
    assert_eq!(sel("$.items[3]", &d), Some(json!(3)));
    assert_eq!(sel("$.items[-1]", &d), Some(json!(3)));
    assert_eq!(sel("$.items[-4]", &d), Some(json!(0)));
    assert_eq!(sel("$.items[4]", &d), None);
    assert_eq!(sel("$.items[-5]", &d), None);
    assert_eq!(sel("$[0]", &json!([[1]])), Some(json!([1])));
    assert_eq!(sel("$[0][0]", &json!([[1]])), Some(json!(1)));
    assert!(p("$.items[-1]").is_definite());
}

// ---------- definite selection ----------

#[test]
fn definite_select_borrows() {
    let d = json!({"a": {"b": [10, {"c": true}]}});
    match p("$.a.b[1].c").select(&d) {
        Some(Cow::Borrowed(v)) => assert!(std::ptr::eq(v, &d["a"]["b"][1]["c"])),
        other => panic!("expected a borrow, got {other:?}"),
    }
    match p("$").select(&d) {
        Some(Cow::Borrowed(v)) => assert!(std::ptr::eq(v, &d)),
        other => panic!("expected a borrow, got {other:?}"),
    }
}

#[test]
fn definite_missing_is_none() {
    let d = json!({"a": {"b": 1}, "n": null, "s": "str"});
    assert_eq!(sel("$.x", &d), None);
    assert_eq!(sel("$.a.x", &d), None);
    assert_eq!(sel("$.x.y", &d), None);
    assert_eq!(sel("$.s.y", &d), None);
    assert_eq!(sel("$.n.y", &d), None);
    assert_eq!(sel("$.a[0]", &d), None);
    assert_eq!(sel("$.n", &d), Some(Value::Null));
}

#[test]
fn error_messages_match_aws() {
    let d = json!({"int-literal": 0});
    let path = p("$.NoSuchInputPath");
    let e = path.try_select(&d).unwrap_err();
    assert_eq!(e.kind, SelectErrorKind::NoResults);
    assert_eq!(
        path.invalid_path_cause(&e),
        "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"
    );
    let path = p("$.no.such.result.path");
    let e = path.try_select(&json!({})).unwrap_err();
    assert_eq!(e.kind, SelectErrorKind::MissingProperty);
    assert_eq!(
        path.invalid_path_cause(&e),
        "Invalid path '$.no.such.result.path' : Missing property in path $['no']"
    );
    let e = p("$.a.b.c").try_select(&json!({"a": {}})).unwrap_err();
    assert_eq!(e.message, "Missing property in path $['a']['b']");
    let e = p("$.a[5]").try_select(&json!({"a": [1]})).unwrap_err();
    assert_eq!(e.message, "No results for path: $['a'][5]");
    let e = p("$.a.b").try_select(&json!({"a": 1})).unwrap_err();
    assert_eq!(e.kind, SelectErrorKind::NotAnObject);
    assert!(e.message.starts_with("Expected to find an object with property ['b'] in path $['a'] but found 'java.lang.Integer'"), "{}", e.message);
    let e = p("$.a[0]").try_select(&json!({"a": null})).unwrap_err();
    assert_eq!(e.kind, SelectErrorKind::NullValue);
    assert_eq!(e.message, "The path $['a'] is null");
    let e = p("$.a[0]").try_select(&json!({"a": {}})).unwrap_err();
    assert_eq!(e.kind, SelectErrorKind::NotAnArray);
}

#[test]
fn normalized_forms() {
    for (src, norm) in [
        ("$", "$"),
        ("$$", "$$"),
        ("$.a.b[0]", "$['a']['b'][0]"),
        ("$['a b'][-1]", "$['a b'][-1]"),
        ("$$.Execution.Input", "$$['Execution']['Input']"),
        ("$var.x", "$var['x']"),
        ("$.a[*]", "$['a'][*]"),
        ("$.a.*", "$['a'][*]"),
        ("$..name", "$..['name']"),
        ("$..[0]", "$..[0]"),
        ("$.a[1:3]", "$['a'][1:3]"),
        ("$.a[:3]", "$['a'][:3]"),
        ("$.a[1:]", "$['a'][1:]"),
        ("$.a[0,2]", "$['a'][0,2]"),
        ("$['a','b']", "$['a','b']"),
        ("$.a[?(@.x)]", "$['a'][?]"),
        ("$.a.length()", "$['a'].length()"),
    ] {
        assert_eq!(p(src).normalized(), norm, "{src}");
    }
}

// ---------- definiteness and reference paths ----------

#[test]
fn definiteness() {
    for d in [
        "$",
        "$$",
        "$v",
        "$.a",
        "$.a[0]",
        "$['a']['b']",
        "$.a[-1]",
        "$['a','b']",
        "$.a.length()",
        "$.a.sum()",
    ] {
        assert!(p(d).is_definite(), "{d} should be definite");
    }
    for i in [
        "$[*]",
        "$.a.*",
        "$..a",
        "$.a[1:]",
        "$.a[0,1]",
        "$['a','b'].c",
        "$.a[?(@.x)]",
        "$..a.length()",
        "$.a[*].b",
    ] {
        assert!(!p(i).is_definite(), "{i} should be indefinite");
    }
}

#[test]
fn reference_paths() {
    for r in [
        "$",
        "$.a",
        "$.a.b[0]",
        "$['a b']",
        "$$.Execution",
        "$var.x",
        "$.a[-1]",
    ] {
        assert!(p(r).is_reference_path(), "{r}");
    }
    for n in [
        "$.a.length()",
        "$[*]",
        "$..a",
        "$.a[1:2]",
        "$.a[0,1]",
        "$['a','b']",
        "$[?(@.a)]",
    ] {
        assert!(!p(n).is_reference_path(), "{n}");
    }
    assert!(p("$.a.length()").has_function());
}

// ---------- indefinite selection ----------

#[test]
fn indefinite_returns_arrays_and_empty_when_nothing_matches() {
    // All recorded against AWS with input {}.
    let empty = json!({});
    for path in [
        "$[*]",
        "$.items[*]",
        "$.items[*].itemValue",
        "$.item.items[*]",
        "$.items[1:]",
        "$.items[:1]",
        "$.items[1:].itemValue",
        "$.item.items[1:5]",
        "$.item.items[1:5].itemValue",
    ] {
        assert_eq!(sel(path, &empty), Some(json!([])), "{path}");
    }
}

#[test]
fn wildcards() {
    let d = json!({"a": {"x": 1, "y": [2, 3]}, "b": [4, {"z": 5}]});
    assert_eq!(sel("$.a.*", &d), Some(json!([1, [2, 3]])));
    assert_eq!(sel("$.a[*]", &d), Some(json!([1, [2, 3]])));
    assert_eq!(sel("$.b[*]", &d), Some(json!([4, {"z": 5}])));
    assert_eq!(sel("$.b[*].z", &d), Some(json!([5])));
    assert_eq!(sel("$.*.y", &d), Some(json!([[2, 3]])));
    assert_eq!(sel("$.a.x[*]", &d), Some(json!([])));
    assert_eq!(sel("$[*]", &json!([1, 2])), Some(json!([1, 2])));
}

#[test]
fn recursive_descent() {
    let d = store();
    assert_eq!(
        sel("$..author", &d),
        Some(json!([
            "Nigel Rees",
            "Evelyn Waugh",
            "Herman Melville",
            "J. R. R. Tolkien"
        ]))
    );
    assert_eq!(
        sel("$.store..price", &d),
        Some(json!([8.95, 12.99, 8.99, 22.99, 19.95]))
    );
    assert_eq!(sel("$..book[2].title", &d), Some(json!(["Moby Dick"])));
    assert_eq!(
        sel("$..book[-1].title", &d),
        Some(json!(["The Lord of the Rings"]))
    );
    assert_eq!(
        sel("$..[0].title", &d),
        Some(json!(["Sayings of the Century"]))
    );
    assert_eq!(sel("$..nothing", &d), Some(json!([])));
    let d = json!({"a": {"b": 1}, "c": [2, {"d": 3}]});
    // Pre-order: a node's children first, then the descendants of each child in order.
    assert_eq!(
        sel("$..*", &d),
        Some(json!([{"b": 1}, [2, {"d": 3}], 1, 2, {"d": 3}, 3]))
    );
    assert_eq!(sel("$..['b','d']", &d), Some(json!([1, 3])));
    let nested = json!({"id": 1, "x": {"id": 2, "y": {"id": 3}}});
    assert_eq!(sel("$..id", &nested), Some(json!([1, 2, 3])));
    // Headers masks from the corpus.
    let h = json!({"r": {"Headers": {"x-amzn-RequestId": "a", "Content-Length": "2"}}});
    assert_eq!(sel("$..Headers.x-amzn-RequestId", &h), Some(json!(["a"])));
    assert_eq!(sel("$..Headers.Content-Length", &h), Some(json!(["2"])));
}

#[test]
fn slices() {
    let d = json!({"a": [0, 1, 2, 3, 4, 5]});
    assert_eq!(sel("$.a[1:3]", &d), Some(json!([1, 2])));
    assert_eq!(sel("$.a[:2]", &d), Some(json!([0, 1])));
    assert_eq!(sel("$.a[4:]", &d), Some(json!([4, 5])));
    assert_eq!(sel("$.a[-2:]", &d), Some(json!([4, 5])));
    assert_eq!(sel("$.a[:-4]", &d), Some(json!([0, 1])));
    assert_eq!(sel("$.a[-10:2]", &d), Some(json!([0, 1])));
    assert_eq!(sel("$.a[2:100]", &d), Some(json!([2, 3, 4, 5])));
    assert_eq!(sel("$.a[3:1]", &d), Some(json!([])));
    assert_eq!(sel("$.a[::2]", &d), Some(json!([0, 2, 4])));
    assert_eq!(sel("$.a[1:5:3]", &d), Some(json!([1, 4])));
    assert_eq!(sel("$.a[::-1]", &d), Some(json!([5, 4, 3, 2, 1, 0])));
    assert_eq!(sel("$.a[4:1:-2]", &d), Some(json!([4, 2])));
    assert_eq!(sel("$.a[:]", &d), Some(json!([0, 1, 2, 3, 4, 5])));
    assert_eq!(sel("$.b[1:]", &d), Some(json!([])));
    // The ASL spec's example.
    let d = json!({"flagged": 7, "vals": [0, 10, 20, 30, 40, 50]});
    assert_eq!(sel("$.vals[3:]", &d), Some(json!([30, 40, 50])));
}

#[test]
fn unions() {
    let d = json!({"a": [0, 1, 2, 3], "o": {"x": 1, "y": 2, "z": 3}});
    assert_eq!(sel("$.a[0,2]", &d), Some(json!([0, 2])));
    assert_eq!(sel("$.a[2,0,-1,9]", &d), Some(json!([2, 0, 3])));
    // Jayway merges a leaf name union into one object; missing names are left out.
    assert_eq!(sel("$.o['x','z']", &d), Some(json!({"x": 1, "z": 3})));
    assert_eq!(sel("$.o['x','nope']", &d), Some(json!({"x": 1})));
    assert_eq!(sel("$['a','o'].x", &d), Some(json!([1])));
    assert_eq!(sel("$.nope['x','y']", &d), None);
    let arr = json!([{"a": 1, "b": 2}, {"a": 3}]);
    assert_eq!(
        sel("$[*]['a','b']", &arr),
        Some(json!([{"a": 1, "b": 2}, {"a": 3}]))
    );
}

// ---------- filters ----------

#[test]
fn filter_comparisons() {
    let d = store();
    let titles = |f: &str| sel(&format!("$.store.book[?({f})].title"), &d).unwrap();
    assert_eq!(
        titles("@.price < 10"),
        json!(["Sayings of the Century", "Moby Dick"])
    );
    assert_eq!(
        titles("@.price<10"),
        json!(["Sayings of the Century", "Moby Dick"])
    );
    assert_eq!(
        titles("@.price <= 8.99"),
        json!(["Sayings of the Century", "Moby Dick"])
    );
    assert_eq!(titles("@.price > 20"), json!(["The Lord of the Rings"]));
    assert_eq!(titles("@.price >= 22.99"), json!(["The Lord of the Rings"]));
    assert_eq!(
        titles("@.category == 'reference'"),
        json!(["Sayings of the Century"])
    );
    assert_eq!(
        titles("@.category == \"reference\""),
        json!(["Sayings of the Century"])
    );
    assert_eq!(
        titles("@.category != 'fiction'"),
        json!(["Sayings of the Century"])
    );
    assert_eq!(
        titles("@.isbn"),
        json!(["Moby Dick", "The Lord of the Rings"])
    );
    assert_eq!(
        titles("!@.isbn"),
        json!(["Sayings of the Century", "Sword of Honour"])
    );
    assert_eq!(
        titles("@.price < $.expensive"),
        json!(["Sayings of the Century", "Moby Dick"])
    );
    assert_eq!(
        titles("@['price'] > $['expensive']"),
        json!(["Sword of Honour", "The Lord of the Rings"])
    );
    assert_eq!(
        titles("@.category == 'fiction' && @.price > 10"),
        json!(["Sword of Honour", "The Lord of the Rings"])
    );
    assert_eq!(
        titles("@.price < 9 || @.price > 20"),
        json!([
            "Sayings of the Century",
            "Moby Dick",
            "The Lord of the Rings"
        ])
    );
    assert_eq!(
        titles("(@.price < 9 || @.price > 20) && @.isbn"),
        json!(["Moby Dick", "The Lord of the Rings"])
    );
    assert_eq!(
        titles("!(@.price < 10)"),
        json!(["Sword of Honour", "The Lord of the Rings"])
    );
    assert_eq!(
        titles("@.author =~ /.*REES/i"),
        json!(["Sayings of the Century"])
    );
    assert_eq!(titles("@.author =~ /Rees/"), json!([]),);
    assert_eq!(
        titles("@.category in ['reference', 'x']"),
        json!(["Sayings of the Century"])
    );
    assert_eq!(
        titles("@.category nin ['fiction']"),
        json!(["Sayings of the Century"])
    );
    assert_eq!(titles("@.title size 9"), json!(["Moby Dick"]));
    assert_eq!(
        titles("@.isbn empty false"),
        json!(["Moby Dick", "The Lord of the Rings"])
    );
    assert_eq!(
        titles("@.title contains 'Rings'"),
        json!(["The Lord of the Rings"])
    );
    assert_eq!(
        titles("@.isbn exists false"),
        json!(["Sayings of the Century", "Sword of Honour"])
    );
}

#[test]
fn filter_recorded_case_and_rfc_syntax() {
    let d = json!({"users": [{"year": 1997, "status": 0}, {"year": 1998, "status": 1}]});
    assert_eq!(
        sel("$.users[?(@.status == 0)]", &d),
        Some(json!([{"year": 1997, "status": 0}]))
    );
    assert_eq!(sel("$.users[?@.status == 1].year", &d), Some(json!([1998])));
}

#[test]
fn filter_values_and_types() {
    let d = json!({"a": [1, 2, 3, "2", null, true, [1], {"k": 1}]});
    assert_eq!(sel("$.a[?(@ > 1)]", &d), Some(json!([2, 3])));
    // Jayway compares numbers and numeric strings as numbers.
    assert_eq!(sel("$.a[?(@ == 2)]", &d), Some(json!([2, "2"])));
    assert_eq!(sel("$.a[?(@ === 2)]", &d), Some(json!([2])));
    assert_eq!(sel("$.a[?(@ == null)]", &d), Some(json!([null])));
    assert_eq!(sel("$.a[?(@ == true)]", &d), Some(json!([true])));
    assert_eq!(sel("$.a[?(@ == [1])]", &d), Some(json!([[1]])));
    assert_eq!(sel("$.a[?(@ == {'k': 1})]", &d), Some(json!([{"k": 1}])));
    assert_eq!(sel("$.a[?(@.k)]", &d), Some(json!([{"k": 1}])));
    assert_eq!(sel("$.a[?(@ == 1.0)]", &d), Some(json!([1])));
    // Missing operands compare unequal to everything.
    let d = json!([{"a": 1}, {"b": 1}]);
    assert_eq!(sel("$[?(@.a != 1)]", &d), Some(json!([{"b": 1}])));
    assert_eq!(sel("$[?(@.a == null)]", &d), Some(json!([])));
    assert_eq!(sel("$[?(@.a > 0)]", &d), Some(json!([{"a": 1}])));
    // Strings order lexicographically.
    let d = json!(["apple", "banana", "cherry"]);
    assert_eq!(sel("$[?(@ > 'b')]", &d), Some(json!(["banana", "cherry"])));
    // Exists counts null as present.
    let d = json!([{"a": null}, {"b": 1}]);
    assert_eq!(sel("$[?(@.a)]", &d), Some(json!([{"a": null}])));
}

#[test]
fn filter_set_operators_and_functions() {
    let d = json!([
        {"tags": ["a", "b"], "n": [1, 2, 3]},
        {"tags": ["c"], "n": []},
        {"tags": [], "n": [5]}
    ]);
    assert_eq!(
        sel("$[?(@.tags subsetof ['a','b','c'])].n", &d),
        Some(json!([[1, 2, 3], [], [5]]))
    );
    assert_eq!(
        sel("$[?(@.tags anyof ['b','x'])].n", &d),
        Some(json!([[1, 2, 3]]))
    );
    assert_eq!(
        sel("$[?(@.tags noneof ['b','x'])].n", &d),
        Some(json!([[], [5]]))
    );
    assert_eq!(sel("$[?(@.tags contains 'c')].n", &d), Some(json!([[]])));
    assert_eq!(
        sel("$[?(@.tags all ['a','b'])].n", &d),
        Some(json!([[1, 2, 3]]))
    );
    assert_eq!(sel("$[?(@.n size 3)].tags", &d), Some(json!([["a", "b"]])));
    assert_eq!(sel("$[?(@.n empty true)].tags", &d), Some(json!([["c"]])));
    assert_eq!(
        sel("$[?(@.n.length() > 1)].tags", &d),
        Some(json!([["a", "b"]]))
    );
    assert_eq!(
        sel("$[?(@.n.length() == 0)].tags", &d),
        Some(json!([["c"]]))
    );
    // An indefinite operand path evaluates to the list of its matches.
    assert_eq!(
        sel("$[?(@.n[*] empty false)].tags", &d),
        Some(json!([["a", "b"], []]))
    );
    // `in` against a list held in the document.
    let d = json!({"allowed": ["x", "y"], "items": [{"k": "x"}, {"k": "z"}]});
    assert_eq!(
        sel("$.items[?(@.k in $.allowed)]", &d),
        Some(json!([{"k": "x"}]))
    );
    assert_eq!(
        sel("$.items[?(@.k nin $.allowed)]", &d),
        Some(json!([{"k": "z"}]))
    );
}

#[test]
fn filter_on_object_tests_the_object_itself() {
    let d = json!({"o": {"a": 1, "b": 2}});
    assert_eq!(sel("$.o[?(@.a == 1)]", &d), Some(json!([{"a": 1, "b": 2}])));
    assert_eq!(sel("$.o[?(@.a == 2)]", &d), Some(json!([])));
    assert_eq!(sel("$..[?(@.a == 1)]", &d), Some(json!([{"a": 1, "b": 2}])));
}

#[test]
fn regex_is_full_match() {
    let d = json!(["abc", "xabcx", "ABC"]);
    assert_eq!(sel("$[?(@ =~ /abc/)]", &d), Some(json!(["abc"])));
    assert_eq!(
        sel("$[?(@ =~ /.*abc.*/)]", &d),
        Some(json!(["abc", "xabcx"]))
    );
    assert_eq!(sel("$[?(@ =~ /abc/i)]", &d), Some(json!(["abc", "ABC"])));
    assert_eq!(
        sel("$[?(@ =~ /a\\/b/)]", &json!(["a/b"])),
        Some(json!(["a/b"]))
    );
}

// ---------- functions ----------

#[test]
fn functions() {
    let d = json!({"n": [1, 2, 3, 4], "o": {"a": 1, "b": 2}, "s": "héllo", "e": [], "mixed": [1, "x", 3]});
    assert_eq!(sel("$.n.length()", &d), Some(json!(4)));
    assert_eq!(sel("$.o.length()", &d), Some(json!(2)));
    assert_eq!(sel("$.s.length()", &d), Some(json!(5)));
    assert_eq!(sel("$.n.sum()", &d), Some(json!(10.0)));
    assert_eq!(sel("$.n.min()", &d), Some(json!(1.0)));
    assert_eq!(sel("$.n.max()", &d), Some(json!(4.0)));
    assert_eq!(sel("$.n.avg()", &d), Some(json!(2.5)));
    assert_eq!(
        sel("$.n.stddev()", &d)
            .and_then(|v| v.as_f64())
            .map(|f| (f * 1000.0).round()),
        Some(1118.0)
    );
    assert_eq!(sel("$.mixed.sum()", &d), Some(json!(4.0)));
    assert_eq!(sel("$.o.keys()", &d), Some(json!(["a", "b"])));
    assert_eq!(sel("$.n.first()", &d), Some(json!(1)));
    assert_eq!(sel("$.n.last()", &d), Some(json!(4)));
    assert_eq!(sel("$.n.index(1)", &d), Some(json!(2)));
    assert_eq!(sel("$.n.index(-2)", &d), Some(json!(3)));
    assert_eq!(sel("$.e.sum()", &d), None);
    assert_eq!(sel("$.e.first()", &d), None);
    assert_eq!(sel("$.missing.length()", &d), None);
    assert_eq!(sel("$.length()", &d), Some(json!(5)));
    // On an indefinite path the function sees the list of matches.
    assert_eq!(sel("$.n[1:].sum()", &d), Some(json!(9.0)));
    assert_eq!(sel("$..a.length()", &d), Some(json!(1)));
    let err = p("$.e.sum()").try_select(&d).unwrap_err();
    assert_eq!(err.kind, SelectErrorKind::Function);
}

// ---------- environments ----------

struct Vars(serde_json::Map<String, Value>);
impl Variables for Vars {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }
}

#[test]
fn select_env_roots() {
    let doc = json!({"a": 1});
    let ctx = json!({"Execution": {"Id": "e1"}, "Map": {"Item": {"Value": 7}}});
    let mut m = serde_json::Map::new();
    m.insert("x".into(), json!({"y": [1, 2]}));
    let vars = Vars(m.clone());
    let env = PathEnv {
        document: &doc,
        context: &ctx,
        variables: &vars,
    };
    assert_eq!(p("$.a").select_env(&env).as_deref(), Some(&json!(1)));
    assert_eq!(
        p("$$.Execution.Id").select_env(&env).as_deref(),
        Some(&json!("e1"))
    );
    assert_eq!(
        p("$$.Map.Item.Value").select_env(&env).as_deref(),
        Some(&json!(7))
    );
    assert_eq!(p("$x.y[1]").select_env(&env).as_deref(), Some(&json!(2)));
    assert_eq!(
        p("$x.y.length()").select_env(&env).as_deref(),
        Some(&json!(2))
    );
    assert_eq!(
        p("$x").select_env(&env).as_deref(),
        Some(&json!({"y": [1, 2]}))
    );
    assert_eq!(p("$nope").select_env(&env), None);
    let e = p("$nope.a").try_select_env(&env).unwrap_err();
    assert_eq!(e.kind, SelectErrorKind::UndefinedVariable);
    // serde_json::Map is a Variables.
    let env2 = PathEnv {
        document: &doc,
        context: &ctx,
        variables: &m,
    };
    assert_eq!(p("$x.y[0]").select_env(&env2).as_deref(), Some(&json!(1)));
    let env3 = PathEnv {
        document: &doc,
        context: &ctx,
        variables: &NoVariables,
    };
    assert_eq!(p("$x").select_env(&env3), None);
    // `$` in a filter is the document the path runs on: the context for `$$` paths.
    let ctx = json!({"limit": 2, "list": [1, 2, 3]});
    let env4 = PathEnv {
        document: &doc,
        context: &ctx,
        variables: &NoVariables,
    };
    assert_eq!(
        p("$$.list[?(@ >= $.limit)]").select_env(&env4).as_deref(),
        Some(&json!([2, 3]))
    );
}

// ---------- set (ResultPath) ----------

#[test]
fn set_replaces_and_creates() {
    let mut d = json!({"a": 1, "b": {"c": 2}});
    p("$.a").set(&mut d, json!("x")).unwrap();
    p("$.b.d").set(&mut d, json!(3)).unwrap();
    p("$.new.deep.er").set(&mut d, json!(true)).unwrap();
    p("$['with space']").set(&mut d, json!(4)).unwrap();
    assert_eq!(
        d,
        json!({"a": "x", "b": {"c": 2, "d": 3}, "new": {"deep": {"er": true}}, "with space": 4})
    );
    p("$").set(&mut d, json!([1, 2])).unwrap();
    assert_eq!(d, json!([1, 2]));
    p("$[1]").set(&mut d, json!(9)).unwrap();
    p("$[-2]").set(&mut d, json!(8)).unwrap();
    assert_eq!(d, json!([8, 9]));
    let mut d = json!({"l": [{"a": 1}]});
    p("$.l[0].b").set(&mut d, json!(2)).unwrap();
    assert_eq!(d, json!({"l": [{"a": 1, "b": 2}]}));
    let mut n = Value::Null;
    p("$.a.b").set(&mut n, json!(1)).unwrap();
    assert_eq!(n, json!({"a": {"b": 1}}));
}

#[test]
fn set_errors() {
    let mut d = json!({"s": "str", "n": 1, "l": [1], "o": {}});
    for path in [
        "$.s.x",
        "$.n.x",
        "$.l.x",
        "$.l[1]",
        "$.o[0]",
        "$.s[0]",
        "$.l[-2]",
        "$.new[0]",
        "$.o.new.deeper[0]",
        "$.o.x.s[1].y",
    ] {
        let before = d.clone();
        let e = p(path).set(&mut d, json!(0)).expect_err(path);
        assert!(!e.message.is_empty());
        assert_eq!(d, before, "{path} must not change the document on failure");
    }
    for path in ["$[*]", "$..a", "$.a.length()", "$.a[0,1]", "$$.a", "$v.a"] {
        assert!(p(path).set(&mut d, json!(0)).is_err(), "{path}");
    }
    let mut s = json!("top");
    assert!(p("$.a").set(&mut s, json!(1)).is_err());
}

// ---------- robustness ----------

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for depth in [100usize, 10_000] {
        let parens = format!("$[?({}@.a{})]", "(".repeat(depth), ")".repeat(depth));
        let nots = format!("$[?({}@.a)]", "!".repeat(depth));
        let filters = format!("$.a{}", "[?(@.b".repeat(depth));
        let lits = format!("$[?(@.a in {})]", "[".repeat(depth));
        for s in [parens, nots, filters, lits] {
            let r = Path::parse(&s);
            if depth > 64 {
                assert!(r.is_err());
            }
        }
    }
    assert!(Path::parse("$[?(((@.a)))]").is_ok());
    assert!(Path::parse("$[?(!!@.a)]").is_ok());
}

#[test]
fn odd_but_valid_names() {
    let d = json!({"": 1, "日本": {"語": 2}, "a'b": 3});
    assert_eq!(sel("$['']", &d), Some(json!(1)));
    assert_eq!(sel("$.日本.語", &d), Some(json!(2)));
    assert_eq!(sel("$['日本']['語']", &d), Some(json!(2)));
    assert_eq!(sel("$.a'b", &d), Some(json!(3)));
    assert_eq!(p("$['日本']").normalized(), "$['日本']");
}

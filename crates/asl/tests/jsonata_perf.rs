//! Prints how long JSONata evaluations take through the adapter (not asserted: timings
//! depend on the machine and the build profile; run with `--nocapture` to see them).

use std::time::{Duration, Instant};

use rand::SeedableRng as _;
use serde_json::{json, Value};
use stepwise_asl::jsonata::{Expression, StatesBinding, Template};

fn per_eval(mut f: impl FnMut()) -> f64 {
    // Warm up, then run for a fixed time budget.
    for _ in 0..10 {
        f();
    }
    let budget = Duration::from_millis(300);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        f();
        n += 1;
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

#[test]
fn print_eval_costs() {
    let items: Vec<Value> = (0..100)
        .map(|i| json!({"name": format!("item-{i}"), "price": i as f64 * 0.5, "qty": i % 7, "sku": format!("SKU{i:05}")}))
        .collect();
    let input = json!({"order": {"id": "o-1", "items": items}});
    let context = json!({
        "Execution": {"Id": "arn:aws:states:us-east-1:1:execution:sm:x", "Input": input.clone(), "StartTime": "2024-01-01T00:00:00Z"},
        "State": {"Name": "S", "EnteredTime": "2024-01-01T00:00:01Z"},
        "StateMachine": {"Id": "arn", "Name": "sm"}
    });
    let states = StatesBinding {
        input: &input,
        result: None,
        error_output: None,
        context: &context,
    };
    let vars = serde_json::Map::new();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };

    let filter = Expression::compile("$states.input.order.items[price > 10].name").unwrap();
    assert_eq!(
        filter
            .eval(&states, &vars, &mut rng)
            .unwrap()
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        79
    );
    let ns = per_eval(|| {
        filter.eval(&states, &vars, &mut rng).unwrap();
    });
    println!("jsonata perf ({profile}): {:>9.0} ns/eval  $states.input.order.items[price > 10].name over 100 items", ns);

    let pick = Expression::compile("$states.input.order.id").unwrap();
    let ns = per_eval(|| {
        pick.eval(&states, &vars, &mut rng).unwrap();
    });
    println!("jsonata perf ({profile}): {:>9.0} ns/eval  $states.input.order.id (only order.id is converted)", ns);

    let whole =
        Expression::compile("$count($states.input.order.items) + $count($keys($states))").unwrap();
    let ns = per_eval(|| {
        whole.eval(&states, &vars, &mut rng).unwrap();
    });
    println!("jsonata perf ({profile}): {:>9.0} ns/eval  bare $states (input and context converted whole)", ns);

    let t = Template::compile(&json!({
        "names": "{% $states.input.order.items[price > 10].name %}",
        "total": "{% $sum($states.input.order.items.(price * qty)) %}",
        "id": "{% $states.input.order.id %}",
        "static": "x"
    }))
    .unwrap();
    let ns = per_eval(|| {
        t.eval(&states, &vars, &mut rng).unwrap();
    });
    println!(
        "jsonata perf ({profile}): {:>9.0} ns/eval  3-expression template (one shared conversion)",
        ns
    );
}

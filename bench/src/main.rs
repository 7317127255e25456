//! In-process engine benchmarks (run on demand, never in CI's tests):
//!
//!   cargo run --profile bench-fast -p stepwise-bench [-- --runs N]
//!
//! (a) a 100-state Pass chain without history, (b) the same with full history, (c) an inline
//! Map of 10,000 items with MaxConcurrency 0 and full history. Prints the median of N runs and
//! the peak resident memory of the process (`--map-only` runs (c) alone, to read its memory).
//! (d) the cost of a typical JSONata Task state (`Arguments` + `Output`) per transition next to
//! the same state written with JSONPath (`Parameters` + `ResultSelector` + `ResultPath`), on a
//! 50-state chain whose tasks echo their arguments, history off.

use serde_json::{json, Map, Value};
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;
use stepwise_asl::error::StateError;
use stepwise_asl::StateMachine;
use stepwise_engine::{
    run_local, run_local_with, ExecutionStatus, RunOptions, TaskHandler, TaskRequest,
};

/// Answers every task with its own arguments, so (d) measures data flow, not a service.
struct Echo;

impl TaskHandler for Echo {
    fn invoke(
        &self,
        req: TaskRequest,
    ) -> Pin<Box<dyn Future<Output = Result<Value, StateError>> + '_>> {
        Box::pin(async move { Ok(req.parameters) })
    }
}

/// A chain of `n` Task states, each built by `state` and linked with Next/End.
fn task_chain(n: usize, top: Value, state: impl Fn() -> Value) -> Value {
    let mut states = Map::new();
    for i in 0..n {
        let mut s = state();
        if i + 1 < n {
            s["Next"] = json!(format!("T{}", i + 1));
        } else {
            s["End"] = json!(true);
        }
        states.insert(format!("T{i}"), s);
    }
    let mut def = top;
    def["StartAt"] = json!("T0");
    def["States"] = Value::Object(states);
    def
}

/// The JSONata state: arguments from the input, output merging the result into the input.
fn jsonata_task() -> Value {
    json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"id": "{% $states.input.id %}", "n": "{% $states.input.n + 1 %}"},
        "Output": {"id": "{% $states.result.id %}", "n": "{% $states.result.n %}",
                   "payload": "{% $states.input.payload %}"}})
}

/// The same with JSONPath fields.
fn jsonpath_task() -> Value {
    json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"id.$": "$.id", "n.$": "States.MathAdd($.n, 1)"},
        "ResultSelector": {"n.$": "$.n"},
        "ResultPath": "$.r",
        "OutputPath": "$"})
}

/// Seconds per run of `machine` with tasks echoed, history off.
fn time_tasks(machine: &StateMachine, input: &Value, reps: usize) -> f64 {
    let opts = RunOptions {
        record_history: false,
        skip_waits: true,
        ..RunOptions::default()
    };
    let t = Instant::now();
    for _ in 0..reps {
        let out = run_local_with(machine, input.clone(), &opts, &Echo);
        assert_eq!(out.status, ExecutionStatus::Succeeded, "{:?}", out.cause);
    }
    t.elapsed().as_secs_f64() / reps as f64
}

fn pass_chain(n: usize) -> Value {
    let mut states = Map::new();
    for i in 0..n {
        let mut s = json!({"Type": "Pass", "ResultPath": "$.last", "Result": i});
        if i + 1 < n {
            s["Next"] = json!(format!("S{}", i + 1));
        } else {
            s["End"] = json!(true);
        }
        states.insert(format!("S{i}"), s);
    }
    json!({"StartAt": "S0", "States": states})
}

fn map_def() -> Value {
    json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 0, "ItemsPath": "$.items",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "P",
            "States": {"P": {"Type": "Pass", "Parameters": {"v.$": "$"}, "End": true}}},
        "End": true}}})
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Peak resident set size of this process, from /proc (Linux); 0 elsewhere.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn time_run(machine: &StateMachine, input: &Value, history: bool, reps: usize) -> f64 {
    let opts = RunOptions {
        record_history: history,
        skip_waits: true,
        ..RunOptions::default()
    };
    let t = Instant::now();
    for _ in 0..reps {
        let out = run_local(machine, input.clone(), &opts);
        assert_eq!(out.status, ExecutionStatus::Succeeded, "{:?}", out.cause);
    }
    t.elapsed().as_secs_f64() / reps as f64
}

fn main() {
    let runs: usize = std::env::args()
        .skip_while(|a| a != "--runs")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let only_map = std::env::args().any(|a| a == "--map-only");
    let chain = StateMachine::from_value(&pass_chain(100)).expect("valid chain");
    let input = json!({"payload": "x", "n": 1});
    // Each Pass state is one transition (entered + exited).
    let reps = 2000;
    let chain_runs = if only_map { 0 } else { runs };
    let a: Vec<f64> = (0..chain_runs)
        .map(|_| 100.0 / time_run(&chain, &input, false, reps))
        .collect();
    let b: Vec<f64> = (0..chain_runs)
        .map(|_| 100.0 / time_run(&chain, &input, true, reps))
        .collect();
    let map = StateMachine::from_value(&map_def()).expect("valid map");
    let items: Vec<Value> = (0..10_000).map(|i| json!({"i": i})).collect();
    let map_input = json!({"items": items});
    let c: Vec<f64> = (0..runs)
        .map(|_| time_run(&map, &map_input, true, 1))
        .collect();
    let (d_ata, d_path) = if only_map {
        (Vec::new(), Vec::new())
    } else {
        let n = 50;
        let ata = StateMachine::from_value(&task_chain(
            n,
            json!({"QueryLanguage": "JSONata"}),
            jsonata_task,
        ))
        .expect("valid JSONata chain");
        let path = StateMachine::from_value(&task_chain(n, json!({}), jsonpath_task))
            .expect("valid JSONPath chain");
        let input = json!({"id": "abc", "n": 1, "payload": {"k": [1, 2, 3], "s": "text"}});
        let ns = |secs: f64| secs * 1e9 / n as f64;
        (
            (0..runs)
                .map(|_| ns(time_tasks(&ata, &input, 200)))
                .collect::<Vec<f64>>(),
            (0..runs)
                .map(|_| ns(time_tasks(&path, &input, 200)))
                .collect::<Vec<f64>>(),
        )
    };
    println!("runs: {runs} (median reported)");
    if !only_map {
        println!(
            "(a) 100-state Pass chain, history off : {:>12.0} transitions/s",
            median(a)
        );
        println!(
            "(b) 100-state Pass chain, full history: {:>12.0} transitions/s",
            median(b)
        );
    }
    if !only_map {
        let (ata, path) = (median(d_ata), median(d_path));
        println!("(d) Task, JSONata Arguments+Output     : {ata:>12.0} ns/transition");
        println!("    Task, JSONPath Parameters+Selector : {path:>12.0} ns/transition");
        println!(
            "    JSONata / JSONPath                 : {:>12.2}x",
            ata / path
        );
    }
    println!(
        "(c) Map of 10,000 items, full history : {:>12.3} s",
        median(c)
    );
    println!(
        "peak resident memory                  : {:>12.1} MB",
        peak_rss_mb()
    );
}

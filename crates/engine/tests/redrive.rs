//! RedriveExecution and Map Runs on the server runtime with a real SQLite store: a redrive
//! re-runs only what did not succeed (states, Map iterations, distributed Map children), keeps
//! earlier results, survives a restart in the middle, and is refused as AWS refuses it.

mod common;
use common::{config, history, machine, start, wait_for};

use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stepwise_asl::error::StateError;
use stepwise_engine::runtime::{MapRunSettings, Runtime, RuntimeError};
use stepwise_engine::tasks::{TaskHandler, TaskRequest};
use stepwise_store::{
    ExecutionFilter, ExecutionStatus, HistoryEventRow, MapRunStatus, PageRequest, SqliteStore,
    Store,
};

const FN: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";

/// Answers Task states with their parameters, failing with `Boom` while `fail` is set for
/// calls whose parameters have `"fail": true`. Counts calls per `key` parameter.
#[derive(Clone, Default)]
struct Flaky {
    fail: Arc<AtomicBool>,
    calls: Arc<Mutex<HashMap<String, u32>>>,
}

impl Flaky {
    fn calls(&self, key: &str) -> u32 {
        self.calls.lock().unwrap().get(key).copied().unwrap_or(0)
    }
}

impl TaskHandler for Flaky {
    fn invoke(
        &self,
        req: TaskRequest,
    ) -> futures::future::LocalBoxFuture<'_, Result<Value, StateError>> {
        let key = req.parameters["key"].to_string();
        *self.calls.lock().unwrap().entry(key).or_default() += 1;
        let fail = self.fail.load(Ordering::SeqCst) && req.parameters["fail"] == json!(true);
        Box::pin(async move {
            if fail {
                Err(StateError::new("Boom", "it broke"))
            } else {
                Ok(req.parameters)
            }
        })
    }
}

fn runtime(store: &Arc<dyn Store>, tasks: &Flaky) -> Runtime {
    let t = tasks.clone();
    Runtime::start_with_tasks(
        store.clone(),
        config(),
        Arc::new(move || Box::new(t.clone()) as Box<dyn TaskHandler>),
    )
    .expect("runtime")
}

fn kinds(events: &[HistoryEventRow]) -> Vec<&str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

fn gap_free(events: &[HistoryEventRow]) {
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.id, i as u64 + 1, "gap-free ids: {:?}", kinds(events));
        assert!(e.previous_event_id < e.id);
    }
}

fn open() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("s.db")).expect("open"));
    (dir, store)
}

fn task(key: &str, fail: bool, next: Option<&str>) -> Value {
    let mut t = json!({"Type": "Task", "Resource": FN,
        "Parameters": {"key": key, "fail": fail, "rc.$": "$$.Execution.RedriveCount"},
        "ResultPath": format!("$.{key}")});
    match next {
        Some(n) => t["Next"] = json!(n),
        None => t["End"] = json!(true),
    }
    t
}

#[test]
fn a_redrive_reruns_the_failed_state_and_keeps_what_succeeded() {
    let (_dir, store) = open();
    let tasks = Flaky::default();
    tasks.fail.store(true, Ordering::SeqCst);
    let rt = runtime(&store, &tasks);
    let sm = machine(
        "two",
        json!({"StartAt": "P", "States": {
            "P": {"Type": "Pass", "Result": 1, "ResultPath": "$.p", "Next": "A"},
            "A": task("a", false, Some("B")),
            "B": task("b", true, None)}}),
    );
    let arn = start(&rt, &sm, "e", json!({}));
    let failed = wait_for(&*store, &arn, ExecutionStatus::Failed, 15);
    assert_eq!(failed.error.as_deref(), Some("Boom"));
    let before = history(&*store, &arn);

    tasks.fail.store(false, Ordering::SeqCst);
    let date = rt.redrive_execution(&arn).expect("redrive");
    let done = wait_for(&*store, &arn, ExecutionStatus::Succeeded, 15);
    assert_eq!((done.redrive_count, done.redrive_date), (1, Some(date)));
    assert_eq!((done.error, done.cause), (None, None));
    let out: Value = serde_json::from_str(done.output.as_deref().unwrap()).unwrap();
    assert_eq!(out["p"], 1);
    // A ran once, before the redrive (its recorded result is kept); B ran again.
    assert_eq!((tasks.calls("\"a\""), tasks.calls("\"b\"")), (1, 2));
    assert_eq!(out["a"]["rc"], 0, "{out}");
    assert_eq!(out["b"]["rc"], 1, "$$.Execution.RedriveCount: {out}");

    let events = history(&*store, &arn);
    gap_free(&events);
    assert_eq!(events[..before.len()], before[..], "the history is kept");
    let redriven = &events[before.len()];
    assert_eq!(redriven.kind, "ExecutionRedriven");
    assert_eq!(redriven.previous_event_id, before.len() as u64);
    assert_eq!(redriven.details.as_deref(), Some(r#"{"redriveCount":1}"#));
    let after = kinds(&events[before.len() + 1..]);
    assert_eq!(
        after,
        [
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(events[before.len() + 1].previous_event_id, redriven.id);

    // Succeeded now: not redrivable again.
    match rt.redrive_execution(&arn) {
        Err(RuntimeError::NotRedrivable(m)) => {
            assert_eq!(m, "Execution is SUCCEEDED and cannot be redriven")
        }
        other => panic!("{other:?}"),
    }
    rt.shutdown();
}

#[test]
fn redrive_is_refused_for_running_and_unknown_executions_and_can_repeat() {
    let (_dir, store) = open();
    let tasks = Flaky::default();
    tasks.fail.store(true, Ordering::SeqCst);
    let rt = runtime(&store, &tasks);
    let sm = machine(
        "waits",
        json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 30, "Next": "T"}, "T": task("t", true, None)}}),
    );
    let arn = start(&rt, &sm, "e", json!({}));
    match rt.redrive_execution(&arn) {
        Err(RuntimeError::NotRedrivable(m)) => {
            assert_eq!(m, "Execution is RUNNING and cannot be redriven")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        rt.redrive_execution(&format!("{arn}x")),
        Err(RuntimeError::ExecutionDoesNotExist(_))
    ));
    let waits = |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while kinds(&history(&*store, &arn))
            .iter()
            .filter(|k| **k == "WaitStateEntered")
            .count()
            < n
        {
            assert!(Instant::now() < deadline, "no Wait entered");
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    // Stopped in its Wait: a redrive enters the Wait again.
    waits(1);
    rt.stop_execution(&arn, None, None).expect("stop");
    wait_for(&*store, &arn, ExecutionStatus::Aborted, 15);
    rt.redrive_execution(&arn)
        .expect("redrive an aborted execution");
    let rec = store.get_execution(&arn).unwrap();
    assert_eq!(
        (rec.status, rec.redrive_count),
        (ExecutionStatus::Running, 1)
    );
    waits(2);
    rt.stop_execution(&arn, None, None).expect("stop again");
    rt.redrive_execution(&arn).expect("second redrive");
    waits(3);
    let rec = store.get_execution(&arn).unwrap();
    assert_eq!(rec.redrive_count, 2);
    let events = history(&*store, &arn);
    gap_free(&events);
    let k = kinds(&events);
    assert_eq!(
        k,
        [
            "ExecutionStarted",
            "WaitStateEntered",
            "ExecutionAborted",
            "ExecutionRedriven",
            "WaitStateEntered",
            "ExecutionAborted",
            "ExecutionRedriven",
            "WaitStateEntered"
        ]
    );
    rt.shutdown();
}

#[test]
fn a_redrive_reruns_only_the_failed_iterations_of_an_inline_map() {
    let (_dir, store) = open();
    let tasks = Flaky::default();
    tasks.fail.store(true, Ordering::SeqCst);
    let rt = runtime(&store, &tasks);
    let sm = machine(
        "inline",
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 1,
            "ItemsPath": "$.items",
            "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FN,
                "Parameters": {"key.$": "$.k", "fail.$": "$.f"}, "End": true}}},
            "End": true}}}),
    );
    let items = json!({"items": [{"k": 1, "f": false}, {"k": 2, "f": true}, {"k": 3, "f": false}]});
    let arn = start(&rt, &sm, "e", items);
    wait_for(&*store, &arn, ExecutionStatus::Failed, 15);
    assert_eq!(
        (tasks.calls("1"), tasks.calls("2"), tasks.calls("3")),
        (1, 1, 0)
    );
    tasks.fail.store(false, Ordering::SeqCst);
    rt.redrive_execution(&arn).expect("redrive");
    let done = wait_for(&*store, &arn, ExecutionStatus::Succeeded, 15);
    assert_eq!(
        (tasks.calls("1"), tasks.calls("2"), tasks.calls("3")),
        (1, 2, 1),
        "the succeeded iteration is not run again"
    );
    let out: Value = serde_json::from_str(done.output.as_deref().unwrap()).unwrap();
    assert_eq!(out.as_array().map(Vec::len), Some(3), "{out}");
    assert_eq!(out[0]["key"], 1);
    let events = history(&*store, &arn);
    gap_free(&events);
    let k = kinds(&events);
    let redriven = k.iter().position(|x| *x == "ExecutionRedriven").unwrap();
    assert_eq!(k[redriven + 1], "TaskStateEntered", "{k:?}");
    assert_eq!(k.last(), Some(&"ExecutionSucceeded"));
    assert_eq!(
        k.iter().filter(|x| **x == "MapStateSucceeded").count(),
        1,
        "{k:?}"
    );
    rt.shutdown();
}

#[test]
fn a_redriven_execution_resumes_after_a_restart_without_rerunning_anything() {
    let (_dir, store) = open();
    let tasks = Flaky::default();
    tasks.fail.store(true, Ordering::SeqCst);
    let rt = runtime(&store, &tasks);
    let sm = machine(
        "crash",
        json!({"StartAt": "A", "States": {
            "A": task("a", false, Some("B")),
            "B": task("b", true, Some("W")),
            "W": {"Type": "Wait", "Seconds": 1, "Next": "C"},
            "C": task("c", false, None)}}),
    );
    let arn = start(&rt, &sm, "e", json!({}));
    wait_for(&*store, &arn, ExecutionStatus::Failed, 15);
    tasks.fail.store(false, Ordering::SeqCst);
    rt.redrive_execution(&arn).expect("redrive");
    // Killed while the redriven run waits.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !kinds(&history(&*store, &arn)).contains(&"WaitStateEntered") {
        assert!(
            Instant::now() < deadline,
            "the redrive did not reach its Wait"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    rt.shutdown();
    let before = history(&*store, &arn);

    let rt = runtime(&store, &tasks);
    let done = wait_for(&*store, &arn, ExecutionStatus::Succeeded, 15);
    assert_eq!(
        done.redrive_count, 1,
        "the resumed run keeps its redrive count"
    );
    assert_eq!(
        (
            tasks.calls("\"a\""),
            tasks.calls("\"b\""),
            tasks.calls("\"c\"")
        ),
        (1, 2, 1)
    );
    let out: Value = serde_json::from_str(done.output.as_deref().unwrap()).unwrap();
    assert_eq!(out["c"]["rc"], 1, "{out}");
    let events = history(&*store, &arn);
    gap_free(&events);
    assert_eq!(events[..before.len()], before[..]);
    let k = kinds(&events);
    assert_eq!(k.iter().filter(|x| **x == "ExecutionRedriven").count(), 1);
    assert_eq!(k.iter().filter(|x| **x == "ExecutionSucceeded").count(), 1);
    assert_eq!(
        k.iter().filter(|x| **x == "TaskStateEntered").count(),
        4,
        "{k:?}"
    );
    rt.shutdown();
}

fn distributed(items_concurrency: u64) -> Value {
    json!({"StartAt": "M", "States": {"M": {"Type": "Map", "Label": "Batch",
        "MaxConcurrency": items_concurrency, "ItemsPath": "$.items",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FN,
                "Parameters": {"key.$": "$.k", "fail.$": "$.f"}, "End": true}}},
        "End": true}}})
}

#[test]
fn a_distributed_map_records_its_map_run_and_children_and_redrives_failed_children() {
    let (_dir, store) = open();
    let tasks = Flaky::default();
    tasks.fail.store(true, Ordering::SeqCst);
    let rt = runtime(&store, &tasks);
    let sm = machine("dist", distributed(1));
    let items: Vec<Value> = (0..5).map(|k| json!({"k": k, "f": k == 3})).collect();
    let arn = start(&rt, &sm, "e", json!({ "items": items }));
    wait_for(&*store, &arn, ExecutionStatus::Failed, 15);
    let runs = store
        .list_map_runs(&arn, &PageRequest::first(10))
        .unwrap()
        .items;
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert!(
        run.arn
            .starts_with("arn:aws:states:us-east-1:123456789012:mapRun:dist/Batch:"),
        "{}",
        run.arn
    );
    assert_eq!(run.state_machine_arn, format!("{}/Batch", sm.arn));
    assert_eq!(run.status, MapRunStatus::Failed);
    assert_eq!(run.max_concurrency, 1);
    let c = run.item_counts;
    assert_eq!(
        (
            c.total,
            c.succeeded,
            c.failed,
            c.aborted,
            c.running,
            c.pending
        ),
        (5, 3, 1, 1, 0, 0),
        "{c:?}"
    );
    let children = |status: Option<ExecutionStatus>| {
        store
            .list_executions(
                &ExecutionFilter {
                    parent_arn: Some(run.arn.clone()),
                    status,
                    ..Default::default()
                },
                &PageRequest::first(100),
            )
            .unwrap()
            .items
    };
    assert_eq!(children(None).len(), 4);
    let failed = children(Some(ExecutionStatus::Failed));
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].error.as_deref(), Some("Boom"));
    assert!(
        failed[0].arn.contains(":execution:dist/Batch:"),
        "{}",
        failed[0].arn
    );
    assert_eq!(
        kinds(&history(&*store, &failed[0].arn)),
        ["ExecutionStarted", "ExecutionFailed"]
    );

    tasks.fail.store(false, Ordering::SeqCst);
    rt.redrive_execution(&arn).expect("redrive");
    let done = wait_for(&*store, &arn, ExecutionStatus::Succeeded, 15);
    let out: Value = serde_json::from_str(done.output.as_deref().unwrap()).unwrap();
    assert_eq!(out.as_array().map(Vec::len), Some(5), "{out}");
    for k in 0..5 {
        let expected = if k == 3 { 2 } else { 1 };
        assert_eq!(tasks.calls(&k.to_string()), expected, "item {k}");
    }
    let run = store.get_map_run(&runs[0].arn).unwrap();
    assert_eq!(run.status, MapRunStatus::Succeeded);
    assert_eq!(
        (run.redrive_count, run.item_counts.succeeded),
        (1, 5),
        "{run:?}"
    );
    assert!(run.redrive_date.is_some());
    assert_eq!(children(Some(ExecutionStatus::Succeeded)).len(), 5);
    let child = store.get_execution(&failed[0].arn).unwrap();
    assert_eq!(
        (child.status, child.redrive_count),
        (ExecutionStatus::Succeeded, 1)
    );
    assert_eq!(
        kinds(&history(&*store, &child.arn)),
        [
            "ExecutionStarted",
            "ExecutionFailed",
            "ExecutionRedriven",
            "ExecutionSucceeded"
        ]
    );
    let k = kinds(&history(&*store, &arn)).join(",");
    assert!(
        k.ends_with("ExecutionFailed,ExecutionRedriven,MapRunRedriven,MapRunSucceeded,MapStateSucceeded,MapStateExited,ExecutionSucceeded"),
        "{k}"
    );

    // UpdateMapRun on a finished run keeps the settings in its record.
    let updated = rt
        .update_map_run(
            &run.arn,
            MapRunSettings {
                max_concurrency: Some(7),
                tolerated_failure_percentage: Some(5.0),
                tolerated_failure_count: None,
            },
        )
        .unwrap();
    assert_eq!(
        (
            updated.max_concurrency,
            updated.tolerated_failure_percentage
        ),
        (7, 5.0)
    );
    assert!(matches!(
        rt.update_map_run(&format!("{}x", run.arn), MapRunSettings::default()),
        Err(RuntimeError::MapRunDoesNotExist(_))
    ));
    rt.shutdown();
}

#[test]
fn update_map_run_reaches_a_running_map() {
    let (_dir, store) = open();
    let tasks = Flaky::default();
    let rt = runtime(&store, &tasks);
    // One child at a time, each waiting 1 s: raising the concurrency lets the rest run at once.
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 1,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": true}}},
        "End": true}}});
    let sm = machine("slow", def);
    let arn = start(&rt, &sm, "e", json!([1, 2, 3, 4, 5, 6, 7, 8]));
    let deadline = Instant::now() + Duration::from_secs(10);
    let run = loop {
        if let Some(r) = store
            .list_map_runs(&arn, &PageRequest::first(1))
            .unwrap()
            .items
            .pop()
        {
            break r;
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(run.status, MapRunStatus::Running);
    let t0 = Instant::now();
    let live = rt
        .update_map_run(
            &run.arn,
            MapRunSettings {
                max_concurrency: Some(100),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(live.max_concurrency, 100);
    assert_eq!(store.get_map_run(&run.arn).unwrap().max_concurrency, 100);
    wait_for(&*store, &arn, ExecutionStatus::Succeeded, 15);
    assert!(
        t0.elapsed() < Duration::from_secs(4),
        "the remaining children ran together: {:?}",
        t0.elapsed()
    );
    let run = store.get_map_run(&run.arn).unwrap();
    assert_eq!(
        (run.status, run.item_counts.succeeded, run.max_concurrency),
        (MapRunStatus::Succeeded, 8, 100)
    );
    rt.shutdown();
}

#[test]
fn stopping_an_execution_aborts_its_map_run() {
    let (_dir, store) = open();
    let rt = runtime(&store, &Flaky::default());
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}},
        "End": true}}});
    let sm = machine("stopped", def);
    let arn = start(&rt, &sm, "e", json!([1, 2]));
    let deadline = Instant::now() + Duration::from_secs(10);
    while store
        .list_map_runs(&arn, &PageRequest::first(1))
        .unwrap()
        .items
        .is_empty()
    {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
    rt.stop_execution(&arn, None, None).unwrap();
    let run = store
        .list_map_runs(&arn, &PageRequest::first(1))
        .unwrap()
        .items[0]
        .clone();
    assert_eq!(run.status, MapRunStatus::Aborted);
    assert_eq!(run.item_counts.aborted, 2);
    assert!(run.stop_date.is_some());
    rt.shutdown();
}

#[test]
fn a_distributed_map_of_10000_items_records_every_child() {
    let (_dir, store) = open();
    let rt = runtime(&store, &Flaky::default());
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "ResultSelector": {"n.$": "States.ArrayLength($)"}, "End": true}}});
    let sm = machine("big", def);
    let items: Vec<u32> = (0..10_000).collect();
    let t0 = Instant::now();
    let arn = start(&rt, &sm, "e", json!(items));
    let deadline = Instant::now() + Duration::from_secs(120);
    let done = loop {
        let rec = store.get_execution(&arn).unwrap();
        if rec.status != ExecutionStatus::Running {
            break rec;
        }
        assert!(Instant::now() < deadline, "still running");
        std::thread::sleep(Duration::from_millis(20));
    };
    eprintln!("10,000 children in {:?}", t0.elapsed());
    assert_eq!(done.output.as_deref(), Some(r#"{"n":10000}"#));
    let run = store
        .list_map_runs(&arn, &PageRequest::first(1))
        .unwrap()
        .items[0]
        .clone();
    assert_eq!(
        (run.item_counts.succeeded, run.item_counts.total),
        (10_000, 10_000)
    );
    let mut page = PageRequest::first(1000);
    let mut n = 0;
    loop {
        let p = store
            .list_executions(
                &ExecutionFilter {
                    parent_arn: Some(run.arn.clone()),
                    ..Default::default()
                },
                &page,
            )
            .unwrap();
        n += p.items.len();
        match p.next_token {
            Some(t) => page.next_token = Some(t),
            None => break,
        }
    }
    assert_eq!(n, 10_000);
    rt.shutdown();
}

#[test]
fn a_redrive_reruns_only_the_failed_branch_of_a_parallel() {
    let (_dir, store) = open();
    let tasks = Flaky::default();
    tasks.fail.store(true, Ordering::SeqCst);
    let rt = runtime(&store, &tasks);
    let branch = |key: &str, fail: bool| {
        json!({"StartAt": key, "States": {key: {"Type": "Task", "Resource": FN,
            "Parameters": {"key": key, "fail": fail}, "End": true}}})
    };
    let sm = machine(
        "par",
        json!({"StartAt": "Par", "States": {"Par": {"Type": "Parallel",
            "Branches": [branch("ok", false), branch("bad", true)], "End": true}}}),
    );
    let arn = start(&rt, &sm, "e", json!({}));
    wait_for(&*store, &arn, ExecutionStatus::Failed, 15);
    let ok_calls = tasks.calls("\"ok\"");
    tasks.fail.store(false, Ordering::SeqCst);
    rt.redrive_execution(&arn).expect("redrive");
    let done = wait_for(&*store, &arn, ExecutionStatus::Succeeded, 15);
    assert_eq!(tasks.calls("\"bad\""), 2);
    // The branch that had succeeded is not run again (it may not have finished before its
    // sibling failed, and then it runs now).
    assert_eq!(
        tasks.calls("\"ok\""),
        1,
        "ok ran {ok_calls} time(s) before the redrive"
    );
    let out: Value = serde_json::from_str(done.output.as_deref().unwrap()).unwrap();
    assert_eq!(out[0]["key"], "ok");
    assert_eq!(out[1]["key"], "bad");
    gap_free(&history(&*store, &arn));
    rt.shutdown();
}

//! Append throughput of the SQLite backend: 100 executions appending at the same time, one
//! event per call (each call waits for its commit, as the engine will before acting), with
//! and without group commit. Prints figures; asserts only correctness.
//!
//! `cargo test -p stepwise-store --test bench -- --ignored --nocapture`
//! (`STORE_BENCH_EVENTS=n` events per execution, default 20).

mod common;

use std::time::Instant;

use common::*;
use stepwise_store::*;

const EXECUTIONS: usize = 100;

fn run(label: &str, options: SqliteOptions, per_execution: u64) {
    let dir = TempDir::new("bench");
    let s = SqliteStore::open_with(dir.db(), options).expect("open");
    let arns: Vec<String> = (0..EXECUTIONS)
        .map(|i| execution("bench", &format!("e{i}"), "{}").arn)
        .collect();
    let creates = (0..EXECUTIONS)
        .map(|i| WriteOp::CreateExecution(execution("bench", &format!("e{i}"), "{}")))
        .collect();
    for r in s.write_batch(creates).expect("create") {
        r.expect("create");
    }
    let started = Instant::now();
    std::thread::scope(|scope| {
        for arn in &arns {
            let s = &s;
            scope.spawn(move || {
                for id in 1..=per_execution {
                    s.append_events(arn, vec![event(id)], None).expect("append");
                }
            });
        }
    });
    let secs = started.elapsed().as_secs_f64();
    let total = EXECUTIONS as u64 * per_execution;
    for arn in &arns {
        assert_eq!(s.get_execution(arn).unwrap().last_event_id, per_execution);
    }
    let stats = s.commit_stats();
    println!(
        "{label:<45} {total:>6} events in {secs:>7.3}s = {:>7.0} events/s, {:>5.1} appends/commit",
        total as f64 / secs,
        stats.jobs as f64 / stats.commits.max(1) as f64
    );
}

#[test]
#[ignore = "benchmark: run explicitly with --ignored --nocapture"]
fn append_throughput() {
    let per: u64 = std::env::var("STORE_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    for (sync, name) in [(Synchronous::Full, "FULL"), (Synchronous::Normal, "NORMAL")] {
        for group_commit in [true, false] {
            let label = format!(
                "synchronous={name} {}",
                if group_commit {
                    "group commit"
                } else {
                    "one transaction per append"
                }
            );
            let options = SqliteOptions {
                synchronous: sync,
                group_commit,
                ..Default::default()
            };
            run(&label, options, per);
        }
    }
}

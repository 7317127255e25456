//! The interpreter loop: runs one execution to its end, in process.
//!
//! Each state is an async step so Waits, retries, task calls and Parallel/Map fan-out are plain
//! awaits; on a current-thread runtime with tokio's clock paused ("skip waits") time advances
//! instantly and runs are deterministic. Event ids and `previousEventId`s follow the rules AWS
//! shows in GetExecutionHistory (see `Thread`).

use crate::history::{Details, HistoryEvent};
use crate::tasks::{NoTasks, TaskHandler, TaskRequest};
use crate::vars::Vars;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::future::{FutureExt, LocalBoxFuture};
use futures::stream::{FuturesUnordered, StreamExt};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use stepwise_asl::error::{names, StateError};
use stepwise_asl::json::to_text;
use stepwise_asl::jsonata::StatesBinding;
use stepwise_asl::model::{
    MapState, NumberSource, Parallel, ProcessorMode, ResultPath, State, StateId, StateKind, States,
    Task, Transition,
};
use stepwise_asl::step::{self, EvalError, JsonataScope, Scope};
use stepwise_asl::template::Template;
use stepwise_asl::StateMachine;
use stepwise_store::{
    ExecutionRecord, ExecutionStatus as StoredStatus, MapRunCounts, MapRunRecord, MapRunStatus,
};

/// 256 KiB: the largest input/output/result a state may carry.
pub const PAYLOAD_LIMIT: usize = 262_144;

/// How to run an execution in process.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub state_machine_arn: String,
    pub state_machine_name: String,
    pub execution_arn: String,
    pub execution_name: String,
    pub role_arn: String,
    pub start_time: DateTime<Utc>,
    /// Seeds UUIDs, `States.MathRandom` and retry jitter, so a run can be replayed exactly.
    pub seed: u64,
    /// Off, history is not built (ids are still counted, for error messages).
    pub record_history: bool,
    /// Virtual time: Waits, retry delays and timeouts advance a manual clock instantly.
    pub skip_waits: bool,
    pub express: bool,
    /// Started synchronously (StartSyncExecution): such executions cannot be redriven.
    pub synchronous: bool,
    /// The mock test case selected at start, passed to every task call (see [`TaskRequest`]).
    pub test_case: Option<String>,
}

impl Default for RunOptions {
    fn default() -> Self {
        let region = "us-east-1";
        let account = "111111111111";
        let sm = "local";
        let ex = "local";
        RunOptions {
            state_machine_arn: format!("arn:aws:states:{region}:{account}:stateMachine:{sm}"),
            state_machine_name: sm.into(),
            execution_arn: format!("arn:aws:states:{region}:{account}:execution:{sm}:{ex}"),
            execution_name: ex.into(),
            role_arn: format!("arn:aws:iam::{account}:role/stepwise-local"),
            start_time: Utc::now(),
            seed: 0,
            record_history: true,
            skip_waits: false,
            express: false,
            synchronous: false,
            test_case: None,
        }
    }
}

impl RunOptions {
    /// Names the state machine and execution, deriving the ARNs from the defaults' region and
    /// account.
    pub fn named(state_machine: &str, execution: &str) -> RunOptions {
        let d = RunOptions::default();
        let prefix = d
            .state_machine_arn
            .split(":stateMachine:")
            .next()
            .unwrap_or_default()
            .to_string();
        RunOptions {
            state_machine_arn: format!("{prefix}:stateMachine:{state_machine}"),
            state_machine_name: state_machine.into(),
            execution_arn: format!("{prefix}:execution:{state_machine}:{execution}"),
            execution_name: execution.into(),
            ..d
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionStatus {
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

impl ExecutionStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ExecutionOutcome {
    pub status: ExecutionStatus,
    /// JSON text, as DescribeExecution gives it.
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub history: Vec<HistoryEvent>,
}

/// Runs an execution to its end with tasks answered by `NoTasks`.
pub fn run_local(machine: &StateMachine, input: Value, opts: &RunOptions) -> ExecutionOutcome {
    run_local_with(machine, input, opts, &NoTasks)
}

/// Runs an execution to its end, calling `tasks` for Task states.
pub fn run_local_with(
    machine: &StateMachine,
    input: Value,
    opts: &RunOptions,
    tasks: &dyn TaskHandler,
) -> ExecutionOutcome {
    resume_local(machine, input, opts, tasks, &ReplayLog::default())
}

/// Resumes an execution whose first events were recorded in `replay` (e.g. before a crash):
/// the definition runs again from the start, taking recorded events, timestamps and task
/// results instead of producing them, then goes on live. The returned history holds both.
pub fn resume_local(
    machine: &StateMachine,
    input: Value,
    opts: &RunOptions,
    tasks: &dyn TaskHandler,
    replay: &ReplayLog,
) -> ExecutionOutcome {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(opts.skip_waits)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return ExecutionOutcome {
                status: ExecutionStatus::Failed,
                output: None,
                error: Some(names::RUNTIME.into()),
                cause: Some(format!("cannot start the runtime: {e}")),
                history: Vec::new(),
            }
        }
    };
    rt.block_on(execute(machine, input, opts, tasks, replay, None))
}

/// Where a durable execution's new events go (the store), and the barrier that makes them
/// durable before the effects they enable: a task is called, or the execution ends.
pub trait EventSink {
    fn record(&self, event: &HistoryEvent);
    /// Resolves once everything recorded so far is durable.
    fn flush(&self) -> LocalBoxFuture<'_, ()>;
    /// A Map Run changed (started, counts moved, ended): its record as it then stands is
    /// stored at the next flush. The sink may also let UpdateMapRun reach it while it runs.
    fn map_run(&self, _run: &Rc<MapRunLive>) {}
    /// A distributed Map's child execution ended: its record and short history are stored at
    /// the next flush.
    /// `redriven`: the child was recorded before (it failed before a redrive): its history
    /// continues.
    fn child_execution(
        &self,
        _record: ExecutionRecord,
        _events: Vec<HistoryEvent>,
        _redriven: bool,
    ) {
    }
    /// Child executions of a Map Run that earlier attempts already finished (before a crash
    /// or a redrive), by execution ARN: succeeded ones are not run again.
    fn finished_children(
        &self,
        _map_run_arn: &str,
    ) -> LocalBoxFuture<'_, HashMap<String, ExecutionRecord>> {
        Box::pin(async { HashMap::new() })
    }
}

/// A running distributed Map's Map Run: its record (counts, settings) and the settings
/// UpdateMapRun may change while it runs.
pub struct MapRunLive {
    pub record: RefCell<MapRunRecord>,
    /// `ToleratedFailureCount`/`Percentage` as the Map states them (`None`: not set, the
    /// first failed child fails the run).
    pub tolerated_count: Cell<Option<u64>>,
    pub tolerated_percentage: Cell<Option<f64>>,
    /// Wakes the fan-out when the settings change.
    pub changed: tokio::sync::Notify,
}

impl MapRunLive {
    /// UpdateMapRun: new settings take effect for the items not yet started.
    pub fn update(
        &self,
        max_concurrency: Option<u64>,
        tolerated_percentage: Option<f64>,
        tolerated_count: Option<u64>,
    ) {
        let mut r = self.record.borrow_mut();
        if let Some(m) = max_concurrency {
            r.max_concurrency = m;
        }
        if let Some(p) = tolerated_percentage {
            r.tolerated_failure_percentage = p;
            self.tolerated_percentage.set(Some(p));
        }
        if let Some(c) = tolerated_count {
            r.tolerated_failure_count = c;
            self.tolerated_count.set(Some(c));
        }
        drop(r);
        self.changed.notify_one();
    }

    fn limit(&self, total: usize) -> usize {
        match self.record.borrow().max_concurrency {
            0 => total.max(1),
            n => usize::try_from(n).unwrap_or(usize::MAX),
        }
    }

    fn counts(&self, f: impl FnOnce(&mut MapRunCounts)) {
        let mut r = self.record.borrow_mut();
        f(&mut r.item_counts);
        r.execution_counts = r.item_counts;
    }
}

/// AWS's hard limit on a Standard execution's history: event 25,000 may only be
/// `ExecutionSucceeded`; anything else there is replaced by `ExecutionFailed`.
pub const HISTORY_LIMIT: u64 = 25_000;

/// The cause AWS gives when an execution's history reaches its limit.
pub const HISTORY_LIMIT_CAUSE: &str =
    "The execution reached the maximum number of history events (25000).";

/// What a parked execution waits for; the runtime keeps it (and a durable timer) instead of the
/// execution's future.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkPlan {
    /// When a timer wakes it (epoch ms); `None`: only a task token's answer does.
    pub wake_at: Option<i64>,
    /// Not parked before this (epoch ms): token waits get a grace period, so a worker that
    /// answers at once does not cost an unload and a replay.
    pub park_at: i64,
    /// The task tokens waited on, each with whether it was already started (an activity a
    /// worker took); a change in either means the execution must run again.
    pub tokens: Vec<(String, bool)>,
}

#[derive(Debug, Clone)]
struct IdleWait {
    wake_at: Option<i64>,
    park_at: i64,
    token: Option<(String, bool)>,
}

/// How idle a durable execution is, kept by the interpreter for the runtime's decision to park
/// it (drop its future, resume it by replay when a timer or an answer wakes it).
///
/// Every line of execution (main flow, branch, iteration) is *busy* unless it waits on a
/// durable wait (a Wait, a retry delay, a task token: things a replay finds again) or on its
/// children (a Parallel or inline Map). The execution is idle when no line is busy and at least
/// one waits: then nothing but a timer or a token answer can move it. Counting is a few cell
/// updates per wait, and only for executions the runtime may park.
pub struct Idleness {
    busy: Cell<usize>,
    waits: RefCell<Vec<Option<IdleWait>>>,
    free: RefCell<Vec<usize>>,
    waiting: Cell<usize>,
    /// The execution's own deadline (`TimeoutSeconds`), epoch ms.
    deadline: Cell<Option<i64>>,
    token_grace_ms: i64,
}

fn wall_ms() -> i64 {
    Utc::now().timestamp_millis()
}

impl Idleness {
    /// `token_grace`: how long a token wait stays loaded before it may be parked.
    pub fn new(token_grace: Duration) -> Idleness {
        Idleness {
            busy: Cell::new(0),
            waits: RefCell::default(),
            free: RefCell::default(),
            waiting: Cell::new(0),
            deadline: Cell::new(None),
            token_grace_ms: i64::try_from(token_grace.as_millis()).unwrap_or(i64::MAX / 4),
        }
    }

    /// What the execution waits for, when it is fully idle; `None` while any line is busy.
    pub fn plan(&self) -> Option<ParkPlan> {
        if self.busy.get() > 0 || self.waiting.get() == 0 {
            return None;
        }
        let mut plan = ParkPlan {
            wake_at: self.deadline.get(),
            park_at: i64::MIN,
            tokens: Vec::new(),
        };
        for w in self.waits.borrow().iter().flatten() {
            if let Some(t) = w.wake_at {
                plan.wake_at = Some(plan.wake_at.map_or(t, |p| p.min(t)));
            }
            plan.park_at = plan.park_at.max(w.park_at);
            if let Some(t) = &w.token {
                plan.tokens.push(t.clone());
            }
        }
        Some(plan)
    }

    fn up(&self) {
        self.busy.set(self.busy.get() + 1);
    }

    fn down(&self) {
        self.busy.set(self.busy.get().saturating_sub(1));
    }

    fn add_wait(&self, w: IdleWait) -> usize {
        self.waiting.set(self.waiting.get() + 1);
        let mut waits = self.waits.borrow_mut();
        match self.free.borrow_mut().pop() {
            Some(i) => {
                waits[i] = Some(w);
                i
            }
            None => {
                waits.push(Some(w));
                waits.len() - 1
            }
        }
    }

    fn remove_wait(&self, slot: usize) {
        if let Some(w) = self.waits.borrow_mut().get_mut(slot) {
            if w.take().is_some() {
                self.waiting.set(self.waiting.get().saturating_sub(1));
                self.free.borrow_mut().push(slot);
            }
        }
    }
}

/// A busy line: counted while alive.
struct Busy<'a>(Option<&'a Idleness>);

impl<'a> Busy<'a> {
    fn new(idle: Option<&'a Idleness>) -> Busy<'a> {
        if let Some(i) = idle {
            i.up();
        }
        Busy(idle)
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        if let Some(i) = self.0 {
            i.down();
        }
    }
}

/// A line waiting on its children (they count for it) or on a durable wait.
struct Idle<'a> {
    idle: Option<&'a Idleness>,
    slot: Option<usize>,
}

impl<'a> Idle<'a> {
    fn joined(idle: Option<&'a Idleness>) -> Idle<'a> {
        if let Some(i) = idle {
            i.down();
        }
        Idle { idle, slot: None }
    }

    fn waiting(
        idle: Option<&'a Idleness>,
        wake_at: Option<i64>,
        token: Option<(String, bool)>,
    ) -> Idle<'a> {
        let slot = idle.map(|i| {
            i.down();
            let now = wall_ms();
            let park_at = if token.is_some() {
                now.saturating_add(i.token_grace_ms)
            } else {
                now
            };
            i.add_wait(IdleWait {
                wake_at,
                park_at,
                token,
            })
        });
        Idle { idle, slot }
    }
}

impl Drop for Idle<'_> {
    fn drop(&mut self) {
        if let Some(i) = self.idle {
            if let Some(slot) = self.slot {
                i.remove_wait(slot);
            }
            i.up();
        }
    }
}

/// Runs (or resumes) an execution on the current tokio runtime: the server's entry point.
/// Must be polled on a single thread (a `LocalSet`), like everything in an execution.
pub async fn execute(
    machine: &StateMachine,
    input: Value,
    opts: &RunOptions,
    tasks: &dyn TaskHandler,
    replay: &ReplayLog,
    sink: Option<&dyn EventSink>,
) -> ExecutionOutcome {
    execute_parkable(machine, input, opts, tasks, replay, sink, None).await
}

/// Like [`execute`], keeping `idle` up to date so the runtime can tell when the execution
/// waits on nothing but durable waits (see [`Idleness`]).
pub async fn execute_parkable(
    machine: &StateMachine,
    input: Value,
    opts: &RunOptions,
    tasks: &dyn TaskHandler,
    replay: &ReplayLog,
    sink: Option<&dyn EventSink>,
    idle: Option<&Idleness>,
) -> ExecutionOutcome {
    let mut exec = Exec::new(machine, opts, tasks, &input, replay);
    exec.sink = sink;
    exec.idle = idle;
    let outcome = exec.run(input).await;
    if let Some(sink) = sink {
        sink.flush().await;
    }
    outcome
}

fn is_terminal(kind: &str) -> bool {
    matches!(
        kind,
        "ExecutionSucceeded" | "ExecutionFailed" | "ExecutionTimedOut" | "ExecutionAborted"
    )
}

fn history_limit_failure() -> Failure {
    Failure {
        error: Some(names::RUNTIME.into()),
        cause: Some(HISTORY_LIMIT_CAUSE.into()),
    }
}

/// An error on its way up: AWS omits error or cause when a Fail state leaves them out.
#[derive(Debug, Clone)]
struct Failure {
    error: Option<String>,
    cause: Option<String>,
}

impl Failure {
    fn name(&self) -> &str {
        self.error.as_deref().unwrap_or("")
    }
    fn error_output(&self) -> Value {
        json!({"Error": self.error, "Cause": self.cause})
    }
}

impl From<StateError> for Failure {
    fn from(e: StateError) -> Self {
        Failure {
            error: Some(e.error),
            cause: Some(e.cause),
        }
    }
}

/// A line of execution (the main flow, a Parallel branch or a Map iteration). It remembers the
/// event its next event follows (`previousEventId`), numbers its own events (`seq`) so a replay
/// can match them whatever the interleaving, and owns its random numbers (seeded from the
/// execution's seed and its key) so concurrent branches don't perturb each other's draws.
struct Thread {
    key: Arc<str>,
    last: Cell<u64>,
    /// The event the current state's `…StateEntered` followed: AWS's `EvaluationFailed`
    /// follows it too.
    entered_prev: Cell<u64>,
    seq: Cell<u32>,
    /// Timestamp of this thread's latest event (recorded or new).
    ts: Cell<DateTime<Utc>>,
    rng: RefCell<Option<ChaCha8Rng>>,
    seed: u64,
    /// Events of a distributed Map's child runs belong to other executions: not recorded here.
    silent: bool,
    /// A Parallel branch (see [`Exec::aborted_in_branch`]).
    parallel_branch: bool,
}

impl Thread {
    fn new(key: Arc<str>, after: u64, ts: DateTime<Utc>, exec_seed: u64, silent: bool) -> Thread {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(&*key, &mut h);
        let seed = exec_seed ^ std::hash::Hasher::finish(&h);
        Thread {
            key,
            last: Cell::new(after),
            entered_prev: Cell::new(after),
            seq: Cell::new(0),
            ts: Cell::new(ts),
            rng: RefCell::new(None),
            seed,
            silent,
            parallel_branch: false,
        }
    }

    /// A child line: a Parallel branch or Map iteration of the state entered at `entered`.
    fn child(&self, entered: u64, attempt: u64, index: usize, after: u64, silent: bool) -> Thread {
        let key: Arc<str> = Arc::from(format!("{}/{entered}.{attempt}.{index}", self.key));
        let mut t = Thread::new(key, after, self.ts.get(), 0, silent || self.silent);
        t.seed ^= self.seed.rotate_left(17);
        t
    }

    fn rng(&self) -> std::cell::RefMut<'_, ChaCha8Rng> {
        std::cell::RefMut::map(self.rng.borrow_mut(), |r| {
            r.get_or_insert_with(|| ChaCha8Rng::seed_from_u64(self.seed))
        })
    }
}

/// Events recorded before a crash, by (thread, seq): a resumed execution re-runs its
/// definition and takes these instead of emitting new ones or performing their effects again.
///
/// Redrive is replay too: an `ExecutionRedriven` event in the history marks where a redrive
/// began, and the events of the unsuccessful attempt's failure path before it are left out
/// of the log (see [`ReplayLog::new`]), so the redriven run replays what succeeded and runs
/// the failed states again. The cut is a pure function of the history before the marker, so a
/// run resumed after a crash in the middle of a redrive drops exactly the same events.
#[derive(Default)]
pub struct ReplayLog {
    events: HashMap<(Arc<str>, u32), HistoryEvent>,
    max_id: u64,
    /// `ExecutionRedriven` events seen: the execution's redrive count.
    redrive_count: u32,
    /// The latest `ExecutionRedriven`: its id and time.
    redriven: Option<(u64, DateTime<Utc>)>,
    /// Where redrives cut a thread: the first (thread, seq) an unsuccessful attempt lost.
    cuts: std::collections::HashSet<(Arc<str>, u32)>,
}

/// The thread key `ExecutionRedriven` events are stored under: no run ever emits on it.
pub const REDRIVE_THREAD: &str = "!redrive";

impl ReplayLog {
    /// A log of stored events (in id order). Each `ExecutionRedriven` drops, from the events
    /// before it, the failure path of the attempt it redrives:
    /// - in the main flow, everything from the last state entered (the state that failed,
    ///   timed out or was aborted) on, with the execution's terminal event;
    /// - when that state is a Map or Parallel that had started, only what followed its last
    ///   `…StateStarted` (and `MapRunStarted`/`MapRunRedriven`), and the same rule applied to
    ///   each of the last attempt's iterations/branches that did not succeed; iterations and
    ///   branches that succeeded (`MapIterationSucceeded`, or a branch whose last event is a
    ///   state's exit) are kept whole.
    ///
    /// Earlier states, earlier attempts of a retried Map/Parallel, and caught failures are
    /// kept: the redriven run replays them as they happened.
    pub fn new(events: impl IntoIterator<Item = HistoryEvent>) -> ReplayLog {
        let mut events: Vec<HistoryEvent> = events.into_iter().collect();
        events.sort_by_key(|e| e.id);
        let mut log = ReplayLog::default();
        for e in events {
            log.max_id = log.max_id.max(e.id);
            if e.kind == "ExecutionRedriven" {
                log.cut_failure_path();
                log.redrive_count += 1;
                log.redriven = Some((e.id, e.timestamp));
                continue;
            }
            log.events.insert((e.thread.clone(), e.seq), e);
        }
        log
    }

    /// How many times the execution was redriven.
    pub fn redrive_count(&self) -> u32 {
        self.redrive_count
    }

    /// Drops the failure path of the attempt that just ended (see [`ReplayLog::new`]).
    fn cut_failure_path(&mut self) {
        let mut by_thread: HashMap<Arc<str>, Vec<(u32, &'static str, u64)>> = HashMap::new();
        for ((thread, seq), e) in &self.events {
            by_thread
                .entry(thread.clone())
                .or_default()
                .push((*seq, e.kind, e.id));
        }
        for list in by_thread.values_mut() {
            list.sort_unstable_by_key(|(seq, _, _)| *seq);
        }
        let mut dropped: Vec<(Arc<str>, u32)> = Vec::new();
        let mut cuts: Vec<(Arc<str>, u32)> = Vec::new();
        let mut todo: Vec<(Arc<str>, bool)> = vec![(Arc::from(""), true)];
        while let Some((thread, main)) = todo.pop() {
            let Some(evs) = by_thread.get(&thread) else {
                continue;
            };
            let succeeded = evs.last().is_some_and(|(_, k, _)| {
                *k == "MapIterationSucceeded" || k.ends_with("StateExited")
            });
            if !main && succeeded {
                continue;
            }
            let entered = evs
                .iter()
                .rposition(|(_, k, _)| k.ends_with("StateEntered"));
            let cut_from = match entered {
                None => evs
                    .iter()
                    .position(|(_, k, _)| *k != "MapIterationStarted" && *k != "ExecutionStarted")
                    .unwrap_or(evs.len()),
                Some(i) if matches!(evs[i].1, "MapStateEntered" | "ParallelStateEntered") => {
                    let starts: Vec<usize> = (i + 1..evs.len())
                        .filter(|&j| matches!(evs[j].1, "MapStateStarted" | "ParallelStateStarted"))
                        .collect();
                    match starts.last() {
                        None => i,
                        Some(&j) => {
                            let mut k = j + 1;
                            while k < evs.len()
                                && matches!(evs[k].1, "MapRunStarted" | "MapRunRedriven")
                            {
                                k += 1;
                            }
                            let prefix = format!("{thread}/{}.{}.", evs[i].2, starts.len() - 1);
                            for key in by_thread.keys() {
                                if let Some(rest) = key.strip_prefix(prefix.as_str()) {
                                    if !rest.contains('/') {
                                        todo.push((key.clone(), false));
                                    }
                                }
                            }
                            k
                        }
                    }
                }
                Some(i) => i,
            };
            let at = evs
                .get(cut_from)
                .map(|(seq, _, _)| *seq)
                .unwrap_or_else(|| evs.last().map_or(0, |(seq, _, _)| seq.saturating_add(1)));
            cuts.push((thread.clone(), at));
            dropped.extend(
                evs[cut_from..]
                    .iter()
                    .map(|(seq, _, _)| (thread.clone(), *seq)),
            );
        }
        for key in dropped {
            self.events.remove(&key);
        }
        self.cuts.extend(cuts);
    }

    /// Whether a redrive cut `thread` at `seq` (and the run is now live there).
    fn redriven_at(&self, thread: &Thread, seq: u32) -> bool {
        self.redrive_count > 0
            && self.get(thread, seq).is_none()
            && self.cuts.contains(&(thread.key.clone(), seq))
    }

    fn get(&self, thread: &Thread, seq: u32) -> Option<&HistoryEvent> {
        if self.events.is_empty() {
            return None;
        }
        self.events.get(&(thread.key.clone(), seq))
    }

    /// The recorded event this thread will emit next, if any.
    fn next(&self, thread: &Thread) -> Option<&HistoryEvent> {
        self.get(thread, thread.seq.get())
    }
}

/// The clock of one run: real time, or a manual clock (tokio's paused time) when skipping waits.
struct Clock {
    base: DateTime<Utc>,
    t0: tokio::time::Instant,
    /// Moves the clock forward to the latest replayed event, so a resumed run never records
    /// time going backwards (only matters on the manual clock; real time is already later).
    offset: Cell<chrono::Duration>,
}

impl Clock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = tokio::time::Instant::now().saturating_duration_since(self.t0);
        self.base + chrono::Duration::from_std(elapsed).unwrap_or_default() + self.offset.get()
    }

    fn catch_up(&self, t: DateTime<Utc>) {
        let now = self.now();
        if t > now {
            self.offset.set(self.offset.get() + (t - now));
        }
    }
}

/// While alive, tokio's paused clock (`--skip-waits`) runs in real time; nested ones count.
struct RealTime<'a>(&'a Cell<u32>);

impl<'a> RealTime<'a> {
    fn enter(count: &'a Cell<u32>) -> RealTime<'a> {
        if count.get() == 0 {
            tokio::time::resume();
        }
        count.set(count.get() + 1);
        RealTime(count)
    }
}

impl Drop for RealTime<'_> {
    fn drop(&mut self) {
        let n = self.0.get().saturating_sub(1);
        self.0.set(n);
        if n == 0 {
            tokio::time::pause();
        }
    }
}

struct Exec<'m> {
    /// Task calls so far per state name (see [`TaskRequest::invocation`]).
    task_calls: RefCell<HashMap<String, u64>>,
    /// Task calls with a time limit in flight under `--skip-waits` (see [`RealTime`]).
    calls_in_flight: Cell<u32>,
    machine: &'m StateMachine,
    opts: &'m RunOptions,
    tasks: &'m dyn TaskHandler,
    events: RefCell<Vec<HistoryEvent>>,
    next_id: Cell<u64>,
    clock: Clock,
    replay: &'m ReplayLog,
    sink: Option<&'m dyn EventSink>,
    /// Set when a resumed run asks for a different event than the one recorded.
    diverged: Cell<bool>,
    /// The context object's `Execution` and `StateMachine` members, built once.
    context_base: Map<String, Value>,
    /// Set while a redrive has emitted nothing yet: the id its first event follows.
    redrive_prev: Cell<Option<u64>>,
    /// Kept for the runtime when it may park this execution.
    idle: Option<&'m Idleness>,
    /// Set once the history reached [`HISTORY_LIMIT`]: nothing more is recorded but the
    /// execution's failure.
    history_full: Cell<bool>,
    full: tokio::sync::Notify,
}

/// Where the current state sits, for the context object.
#[derive(Clone, Copy)]
struct MapItem<'a> {
    index: usize,
    value: &'a Value,
}

/// What a state did: where to go next and with what.
enum Step {
    Next(StateId, Value),
    End(Value),
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn state_event(kind: &StateKind, entered: bool) -> &'static str {
    match (kind, entered) {
        (StateKind::Pass(_), true) => "PassStateEntered",
        (StateKind::Pass(_), false) => "PassStateExited",
        (StateKind::Task(_), true) => "TaskStateEntered",
        (StateKind::Task(_), false) => "TaskStateExited",
        (StateKind::Choice(_), true) => "ChoiceStateEntered",
        (StateKind::Choice(_), false) => "ChoiceStateExited",
        (StateKind::Wait(_), true) => "WaitStateEntered",
        (StateKind::Wait(_), false) => "WaitStateExited",
        (StateKind::Succeed, true) => "SucceedStateEntered",
        (StateKind::Succeed, false) => "SucceedStateExited",
        (StateKind::Fail(_), true) => "FailStateEntered",
        (StateKind::Fail(_), false) => "FailStateExited",
        (StateKind::Parallel(_), true) => "ParallelStateEntered",
        (StateKind::Parallel(_), false) => "ParallelStateExited",
        (StateKind::Map(_), true) => "MapStateEntered",
        (StateKind::Map(_), false) => "MapStateExited",
    }
}

/// How a Task resource shows in history: Lambda function ARNs get `LambdaFunction*` events,
/// activity ARNs `Activity*` events, everything else `Task*` events with a resource type and
/// name.
enum TaskEvents {
    Lambda,
    Activity,
    Generic {
        resource_type: String,
        resource: String,
    },
}

fn task_events(resource: &str) -> TaskEvents {
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    if parts.len() >= 6 && parts[2] == "lambda" && parts[5].starts_with("function:") {
        return TaskEvents::Lambda;
    }
    if parts.len() >= 6 && parts[2] == "states" && parts[3].is_empty() && parts[4].is_empty() {
        // arn:aws:states:::service:action  or  arn:aws:states:::aws-sdk:service:action
        let rest = parts[5];
        // `.sync:2` ends in a colon-separated suffix of its own.
        let (rest, suffix) = match rest.strip_suffix(":2") {
            Some(r) if r.ends_with(".sync") => (r, ":2"),
            _ => (rest, ""),
        };
        let (ty, res) = match rest.rsplit_once(':') {
            Some((t, r)) => (t.to_string(), format!("{r}{suffix}")),
            None => (rest.to_string(), String::new()),
        };
        return TaskEvents::Generic {
            resource_type: ty,
            resource: res,
        };
    }
    if parts.len() >= 6 && parts[2] == "states" && parts[5].starts_with("activity:") {
        return TaskEvents::Activity;
    }
    TaskEvents::Generic {
        resource_type: "unknown".into(),
        resource: resource.into(),
    }
}

impl<'m> Exec<'m> {
    fn new(
        machine: &'m StateMachine,
        opts: &'m RunOptions,
        tasks: &'m dyn TaskHandler,
        input: &Value,
        replay: &'m ReplayLog,
    ) -> Self {
        let mut context_base = Map::new();
        let mut execution = json!({
            "Id": opts.execution_arn,
            "Input": input,
            "StartTime": iso(opts.start_time),
            "Name": opts.execution_name,
            "RoleArn": opts.role_arn,
        });
        if !opts.synchronous {
            // Synchronous executions cannot be redriven, so they have no RedriveCount.
            execution["RedriveCount"] = json!(replay.redrive_count());
            if let Some((_, at)) = replay.redriven {
                execution["RedriveTime"] = json!(iso(at));
            }
        }
        context_base.insert("Execution".into(), execution);
        context_base.insert(
            "StateMachine".into(),
            json!({"Id": opts.state_machine_arn, "Name": opts.state_machine_name}),
        );
        Exec {
            task_calls: RefCell::default(),
            calls_in_flight: Cell::new(0),
            machine,
            opts,
            tasks,
            events: RefCell::new(Vec::new()),
            next_id: Cell::new(replay.max_id + 1),
            clock: Clock {
                // On real time a resumed run's clock is the wall clock (caught up to its
                // recorded events), not its start plus the time since resuming: time the
                // server was down has passed too, for Waits, timeouts and timestamps.
                base: if opts.skip_waits || replay.max_id == 0 {
                    opts.start_time
                } else {
                    Utc::now()
                },
                t0: tokio::time::Instant::now(),
                offset: Cell::new(chrono::Duration::zero()),
            },
            replay,
            sink: None,
            diverged: Cell::new(false),
            context_base,
            // The first event of a redrive follows its `ExecutionRedriven`.
            redrive_prev: Cell::new(
                replay
                    .redriven
                    .filter(|(id, _)| *id == replay.max_id)
                    .map(|(id, _)| id),
            ),
            idle: None,
            history_full: Cell::new(false),
            full: tokio::sync::Notify::new(),
        }
    }

    /// Records an event (when history is on) and returns its id. `details` is only built
    /// when recording, so history-off runs pay nothing for it. When the event was recorded
    /// before (a resumed run), the recorded one is taken instead.
    fn emit(
        &self,
        thread: &Thread,
        prev: u64,
        kind: &'static str,
        details: impl FnOnce() -> Details,
    ) -> u64 {
        if thread.silent {
            return prev;
        }
        let seq = thread.seq.get();
        thread.seq.set(seq + 1);
        if let Some(rec) = self.replay.get(thread, seq) {
            if rec.kind != kind {
                self.diverged.set(true);
            }
            thread.ts.set(rec.timestamp);
            self.clock.catch_up(rec.timestamp);
            if self.opts.record_history {
                self.events.borrow_mut().push(rec.clone());
            }
            return rec.id;
        }
        let id = self.next_id.get();
        if id >= HISTORY_LIMIT && !self.opts.express && !is_terminal(kind) {
            // Only the execution's end may take the last place (see `HISTORY_LIMIT`).
            if !self.history_full.replace(true) {
                self.full.notify_one();
            }
            return prev;
        }
        self.next_id.set(id + 1);
        let prev = self.redrive_prev.take().unwrap_or(prev);
        let timestamp = self.clock.now();
        thread.ts.set(timestamp);
        if self.opts.record_history || self.sink.is_some() {
            let event = HistoryEvent {
                id,
                previous_event_id: prev,
                timestamp,
                kind,
                details: details(),
                thread: thread.key.clone(),
                seq,
            };
            if let Some(sink) = self.sink {
                sink.record(&event);
            }
            if self.opts.record_history {
                self.events.borrow_mut().push(event);
            }
        }
        id
    }

    fn last_id(&self) -> u64 {
        self.next_id.get() - 1
    }

    fn context(
        &self,
        state: &State,
        entered: DateTime<Utc>,
        retry_count: u64,
        item: Option<MapItem>,
    ) -> Value {
        let mut c = self.context_base.clone();
        c.insert(
            "State".into(),
            match state.kind {
                // Only states that can retry carry a RetryCount.
                StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_) => json!({
                    "EnteredTime": iso(entered), "Name": state.name, "RetryCount": retry_count
                }),
                _ => json!({"EnteredTime": iso(entered), "Name": state.name}),
            },
        );
        if let Some(item) = item {
            c.insert(
                "Map".into(),
                json!({"Item": {"Index": item.index, "Value": item.value}}),
            );
        }
        Value::Object(c)
    }

    async fn run(&self, input: Value) -> ExecutionOutcome {
        let _main_line = Busy::new(self.idle);
        let main = Thread::new(
            Arc::from(""),
            0,
            self.opts.start_time,
            self.opts.seed,
            false,
        );
        let thread = &main;
        self.emit(thread, 0, "ExecutionStarted", || {
            Details::ExecutionStarted {
                input: to_text(&input),
                role_arn: self.opts.role_arn.clone(),
            }
        });
        // The first state's entered event also follows 0, as AWS records it.
        main.last.set(0);
        // A redrive resets the execution's timeout: it counts from the redrive.
        let started_at = match self.replay.redriven {
            Some((_, at)) => at,
            None => main.ts.get(),
        };
        let mut vars = Vars::default();
        let body = self.run_block(&self.machine.body, input, &main, &mut vars, None);
        // The history's limit ends the execution wherever its lines are.
        let body = async {
            tokio::select! {
                biased;
                _ = self.full.notified() => Err(history_limit_failure()),
                r = body => r,
            }
        };
        let result = match self.machine.timeout_seconds {
            Some(t) => {
                // Measured from the recorded start, so a resumed run keeps its deadline.
                let deadline = started_at + chrono::Duration::seconds(t as i64);
                if let Some(idle) = self.idle {
                    idle.deadline.set(Some(self.wall_ms(deadline)));
                }
                let left = (deadline - self.clock.now()).to_std().unwrap_or_default();
                tokio::time::timeout(left, body).await.ok()
            }
            None => Some(body.await),
        };
        let result = if self.history_full.get() {
            Some(Err(history_limit_failure()))
        } else {
            result
        };
        let result = match result {
            Some(Ok(_)) | Some(Err(_)) if self.diverged.get() => Some(Err(Failure {
                error: Some(names::RUNTIME.into()),
                cause: Some(
                    "The execution's recorded history does not match its definition; it cannot be resumed."
                        .into(),
                ),
            })),
            other => other,
        };
        let (status, output, error, cause) = match result {
            Some(Ok(out)) => {
                let text = to_text(&out);
                self.emit(thread, main.last.get(), "ExecutionSucceeded", || {
                    Details::ExecutionSucceeded {
                        output: text.clone(),
                    }
                });
                (ExecutionStatus::Succeeded, Some(text), None, None)
            }
            Some(Err(f)) => {
                // An empty cause (a timeout's) is recorded as none, as AWS does; a catcher
                // still sees `"Cause": ""`.
                let cause = f.cause.filter(|c| !c.is_empty());
                self.emit(thread, main.last.get(), "ExecutionFailed", || {
                    Details::ExecutionEnded {
                        error: f.error.clone(),
                        cause: cause.clone(),
                    }
                });
                (ExecutionStatus::Failed, None, f.error, cause)
            }
            None => {
                self.emit(thread, main.last.get(), "ExecutionTimedOut", || {
                    Details::ExecutionEnded {
                        error: Some(names::TIMEOUT.to_string()),
                        cause: None,
                    }
                });
                (
                    ExecutionStatus::TimedOut,
                    None,
                    Some(names::TIMEOUT.into()),
                    None,
                )
            }
        };
        ExecutionOutcome {
            status,
            output,
            error,
            cause,
            history: {
                let mut h = self.events.take();
                // Replayed and new events interleave by thread; the history reads by id.
                h.sort_by_key(|e| e.id);
                h
            },
        }
    }

    /// Runs a block of states (the machine, a branch, an iteration) from its start to its end.
    fn run_block<'a>(
        &'a self,
        block: &'a States,
        input: Value,
        thread: &'a Thread,
        vars: &'a mut Vars,
        item: Option<MapItem<'a>>,
    ) -> LocalBoxFuture<'a, Result<Value, Failure>> {
        Box::pin(async move {
            let mut cur = block.start_at;
            let mut input = input;
            let mut first = true;
            loop {
                if self.history_full.get() {
                    return Err(history_limit_failure());
                }
                let state = block.get(cur);
                match self
                    .run_state(state, input, thread, vars, if first { item } else { None })
                    .await?
                {
                    Step::Next(next, out) => {
                        cur = next;
                        input = out;
                    }
                    Step::End(out) => return Ok(out),
                }
                first = false;
            }
        })
    }

    fn scope<'a>(&self, context: &'a Value, vars: &'a Vars) -> Scope<'a> {
        Scope {
            context,
            variables: vars,
        }
    }

    /// Wraps an interpreter error's cause the way AWS reports it.
    fn runtime_failure(&self, state: &State, entered_id: u64, e: StateError) -> Failure {
        if e.error == names::RUNTIME || e.error == names::QUERY_EVALUATION_ERROR {
            Failure {
                error: Some(e.error),
                cause: Some(format!(
                    "An error occurred while executing the state '{}' (entered at the event id #{entered_id}). {}",
                    state.name, e.cause
                )),
            }
        } else {
            e.into()
        }
    }

    /// A JSONata state's evaluation failure: AWS records an `EvaluationFailed` event (after
    /// the event the state's entry followed, or after the entry itself for a Wait) for query
    /// errors, then fails with the prefixed cause.
    fn eval_failure(&self, thread: &Thread, state: &State, entered: u64, e: EvalError) -> Failure {
        let query = e.is_query_error();
        let f = self.runtime_failure(state, entered, e.error);
        if query {
            let prev = match state.kind {
                StateKind::Wait(_) => entered,
                _ => thread.entered_prev.get(),
            };
            let id = self.emit(thread, prev, "EvaluationFailed", || {
                let mut d = Map::new();
                if let Some(c) = &f.cause {
                    d.insert("cause".into(), Value::from(c.clone()));
                }
                if let Some(e) = &f.error {
                    d.insert("error".into(), Value::from(e.clone()));
                }
                if let Some(l) = &e.location {
                    d.insert("location".into(), Value::from(l.clone()));
                }
                d.insert("state".into(), Value::from(state.name.clone()));
                Details::Json(Value::Object(d))
            });
            thread.last.set(id);
        }
        f
    }

    async fn run_state(
        &self,
        state: &State,
        raw: Value,
        thread: &Thread,
        vars: &mut Vars,
        item: Option<MapItem<'_>>,
    ) -> Result<Step, Failure> {
        thread.entered_prev.set(thread.last.get());
        let entered = self.emit(
            thread,
            thread.last.get(),
            state_event(&state.kind, true),
            || Details::StateEntered {
                name: state.name.clone(),
                input: to_text(&raw),
            },
        );
        thread.last.set(entered);
        let entered_at = thread.ts.get();
        let context = if state.uses_context {
            self.context(state, entered_at, 0, item)
        } else {
            Value::Null
        };
        let result = match &state.kind {
            StateKind::Task(t) => {
                self.run_task(state, t, raw, thread, vars, &context, entered)
                    .await
            }
            StateKind::Parallel(p) => {
                self.run_parallel(state, p, raw, thread, vars, &context, entered)
                    .await
            }
            StateKind::Map(m) => {
                self.run_map(state, m, raw, thread, vars, &context, entered)
                    .await
            }
            _ if state.is_jsonata() => {
                self.run_simple_jsonata(thread, state, raw, vars, &context, entered)
                    .await
            }
            _ => self
                .run_simple(thread, state, raw, vars, &context)
                .await
                .map_err(|e| self.runtime_failure(state, entered, e)),
        };
        let (next, output, assigned) = match result? {
            Flow::Continue { output, assigned } => (self.transition(state), output, assigned),
            Flow::Goto {
                next,
                output,
                assigned,
            } => (Some(next), output, assigned),
            Flow::Fail(f) => {
                self.aborted_in_branch(state, thread);
                return Err(f);
            }
        };
        self.exit_state(state, thread, next, output, assigned)
    }

    /// AWS records `TaskStateAborted` after a Task's uncaught failure inside a Parallel branch;
    /// it follows the failure event, and so does the Parallel's own failure (the branch's last
    /// event stays the failure).
    fn aborted_in_branch(&self, state: &State, thread: &Thread) {
        if thread.parallel_branch && matches!(state.kind, StateKind::Task(_)) {
            self.emit(thread, thread.last.get(), "TaskStateAborted", || {
                Details::None
            });
        }
    }

    fn transition(&self, state: &State) -> Option<StateId> {
        match state.transition {
            Transition::Next(n) => Some(n),
            Transition::End | Transition::None => None,
        }
    }

    fn exit_state(
        &self,
        state: &State,
        thread: &Thread,
        next: Option<StateId>,
        output: Value,
        assigned: Option<Map<String, Value>>,
    ) -> Result<Step, Failure> {
        let text = (self.opts.record_history || self.sink.is_some()).then(|| to_text(&output));
        let size = match &text {
            Some(t) => t.len(),
            None => stepwise_asl::json::text_len(&output),
        };
        if size > PAYLOAD_LIMIT {
            return Err(Failure {
                error: Some(names::DATA_LIMIT_EXCEEDED.into()),
                cause: Some(format!(
                    "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                    state.name
                )),
            });
        }
        let id = self.emit(
            thread,
            thread.last.get(),
            state_event(&state.kind, false),
            || {
                Details::StateExited {
                    name: state.name.clone(),
                    output: text.unwrap_or_default(),
                    // An empty Assign leaves no trace in the event.
                    assigned: assigned
                        .as_ref()
                        .filter(|a| !a.is_empty())
                        .map(|a| a.iter().map(|(k, v)| (k.clone(), to_text(v))).collect()),
                }
            },
        );
        thread.last.set(id);
        Ok(match next {
            Some(n) => Step::Next(n, output),
            None => Step::End(output),
        })
    }

    /// Pass, Choice, Wait, Succeed and Fail: no retries, no children.
    async fn run_simple(
        &self,
        thread: &Thread,
        state: &State,
        raw: Value,
        vars: &mut Vars,
        context: &Value,
    ) -> Result<Flow, StateError> {
        let scope = self.scope(context, vars);
        match &state.kind {
            StateKind::Pass(p) => {
                let eff = step::apply_input_path(state, &raw, scope)?;
                let eff =
                    step::apply_template(p.parameters.as_ref(), eff, scope, &mut *thread.rng())?;
                let result = step::pass_result(p.result.as_ref(), eff);
                let assigned = self.assign(thread, state.assign.as_ref(), &result, scope)?;
                let out = step::apply_result_path(&p.result_path, raw, result)?;
                let out = step::apply_output_path(state, out, scope)?;
                self.commit(vars, &assigned);
                Ok(Flow::Continue {
                    output: out,
                    assigned,
                })
            }
            StateKind::Choice(c) => {
                let eff = step::apply_input_path(state, &raw, scope)?;
                let (next, idx) = step::choose(c, &eff, scope)?;
                let branch_assign = idx.and_then(|i| c.choices[i].assign.as_ref());
                let mut assigned = self.assign(thread, state.assign.as_ref(), &eff, scope)?;
                if let Some(extra) = self.assign(thread, branch_assign, &eff, scope)? {
                    assigned.get_or_insert_with(Map::new).extend(extra);
                }
                let out = step::apply_output_path(state, eff, scope)?;
                self.commit(vars, &assigned);
                Ok(Flow::Goto {
                    next,
                    output: out,
                    assigned,
                })
            }
            StateKind::Wait(w) => {
                let eff = step::apply_input_path(state, &raw, scope)?;
                let until = step::wait_until(w, &eff, scope, thread.ts.get())?;
                let assigned = self.assign(thread, state.assign.as_ref(), &eff, scope)?;
                let out = step::apply_output_path(state, eff, scope)?;
                self.commit(vars, &assigned);
                self.sleep_until(thread, until).await;
                Ok(Flow::Continue {
                    output: out,
                    assigned,
                })
            }
            StateKind::Succeed => {
                let eff = step::apply_input_path(state, &raw, scope)?;
                let out = step::apply_output_path(state, eff, scope)?;
                Ok(Flow::Continue {
                    output: out,
                    assigned: None,
                })
            }
            StateKind::Fail(f) => {
                let (error, cause) = step::fail_error(f, &raw, scope)?;
                Ok(Flow::Fail(Failure { error, cause }))
            }
            StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_) => {
                Err(StateError::runtime("internal: not a simple state"))
            }
        }
    }

    /// Pass, Choice, Wait, Succeed and Fail in a JSONata state.
    async fn run_simple_jsonata(
        &self,
        thread: &Thread,
        state: &State,
        raw: Value,
        vars: &mut Vars,
        context: &Value,
        entered: u64,
    ) -> Result<Flow, Failure> {
        let fail = |e: EvalError| self.eval_failure(thread, state, entered, e);
        let scope = JsonataScope {
            states: StatesBinding {
                input: &raw,
                result: None,
                error_output: None,
                context,
            },
            variables: &*vars,
        };
        let rng = || thread.rng();
        let assign = |t| step::jsonata_assign(t, &scope, &mut *rng());
        let output = |t| step::jsonata_optional(t, "Output", &scope, &mut *rng());
        let (next, assigned, out, until) = match &state.kind {
            StateKind::Pass(_) => {
                let a = assign(state.jsonata_assign.as_ref()).map_err(fail)?;
                let o = output(state.output.as_ref()).map_err(fail)?;
                (None, a, o, None)
            }
            StateKind::Succeed => (
                None,
                None,
                output(state.output.as_ref()).map_err(fail)?,
                None,
            ),
            StateKind::Choice(c) => {
                let (next, idx) = step::jsonata_choose(c, &scope, &mut *rng()).map_err(fail)?;
                let branch = idx.and_then(|i| c.choices.get(i));
                let mut a = assign(state.jsonata_assign.as_ref()).map_err(fail)?;
                if let Some(extra) =
                    assign(branch.and_then(|b| b.jsonata_assign.as_ref())).map_err(fail)?
                {
                    a.get_or_insert_with(Map::new).extend(extra);
                }
                let o = output(
                    branch
                        .and_then(|b| b.output.as_ref())
                        .or(state.output.as_ref()),
                )
                .map_err(fail)?;
                (Some(next), a, o, None)
            }
            StateKind::Wait(w) => {
                let until = step::jsonata_wait_until(w, &scope, &mut *rng(), thread.ts.get())
                    .map_err(fail)?;
                let a = assign(state.jsonata_assign.as_ref()).map_err(fail)?;
                let o = output(state.output.as_ref()).map_err(fail)?;
                (None, a, o, Some(until))
            }
            StateKind::Fail(f) => {
                let (error, cause) =
                    step::jsonata_fail_error(f, &scope, &mut *rng()).map_err(fail)?;
                return Ok(Flow::Fail(Failure { error, cause }));
            }
            StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_) => {
                return Err(StateError::runtime("internal: not a simple state").into())
            }
        };
        let output = out.unwrap_or(raw);
        self.commit(vars, &assigned);
        if let Some(until) = until {
            self.sleep_until(thread, until).await;
        }
        Ok(match next {
            Some(next) => Flow::Goto {
                next,
                output,
                assigned,
            },
            None => Flow::Continue { output, assigned },
        })
    }

    /// Output and Assign of a JSONata Task/Parallel/Map once its work produced `result`.
    #[allow(clippy::too_many_arguments)]
    fn finish_jsonata(
        &self,
        thread: &Thread,
        state: &State,
        raw: &Value,
        result: Value,
        context: &Value,
        vars: &mut Vars,
    ) -> Result<Flow, EvalError> {
        let (assigned, out) = {
            let scope = JsonataScope {
                states: StatesBinding {
                    input: raw,
                    result: Some(&result),
                    error_output: None,
                    context,
                },
                variables: &*vars,
            };
            let a =
                step::jsonata_assign(state.jsonata_assign.as_ref(), &scope, &mut *thread.rng())?;
            let o = step::jsonata_optional(
                state.output.as_ref(),
                "Output",
                &scope,
                &mut *thread.rng(),
            )?;
            (a, o)
        };
        let output = out.unwrap_or(result);
        self.commit(vars, &assigned);
        Ok(Flow::Continue { output, assigned })
    }

    /// [`Self::finish_jsonata`], with an evaluation failure recorded and offered to `catchers`.
    #[allow(clippy::too_many_arguments)]
    fn finish_jsonata_or_catch(
        &self,
        thread: &Thread,
        (state, entered): (&State, u64),
        catchers: &[stepwise_asl::model::Catcher],
        raw: Value,
        result: Value,
        context: &Value,
        vars: &mut Vars,
    ) -> Result<Flow, Failure> {
        match self.finish_jsonata(thread, state, &raw, result, context, vars) {
            Ok(flow) => Ok(flow),
            Err(e) => {
                let f = self.eval_failure(thread, state, entered, e);
                self.catch_or_fail(thread, (state, entered), catchers, f, raw, context, vars)
            }
        }
    }

    fn assign(
        &self,
        thread: &Thread,
        t: Option<&Template>,
        doc: &Value,
        scope: Scope,
    ) -> Result<Option<Map<String, Value>>, StateError> {
        step::eval_assign(t, doc, scope, &mut *thread.rng())
    }

    fn commit(&self, vars: &mut Vars, assigned: &Option<Map<String, Value>>) {
        if let Some(a) = assigned {
            vars.assign(a.clone());
        }
    }

    /// Waits on the run's clock, unless a resumed run already recorded what came after. The
    /// wait is durable (a replay computes the same deadline), so the runtime may park it.
    async fn sleep_until(&self, thread: &Thread, until: DateTime<Utc>) {
        if self.replay.next(thread).is_some() {
            return;
        }
        let now = self.clock.now();
        if until > now {
            self.flush().await;
            let left = (until - self.clock.now()).to_std().unwrap_or_default();
            if left.is_zero() {
                return;
            }
            let _parked = Idle::waiting(self.idle, Some(self.wall_ms(until)), None);
            tokio::time::sleep(left).await;
        }
    }

    /// A retry delay, counted from the thread's latest event (the failure it follows, whose
    /// recorded time a replay finds again), so a run resumed mid-delay waits only what is left.
    async fn sleep_secs(&self, thread: &Thread, secs: f64) {
        if secs > 0.0 && secs.is_finite() {
            let ms = (secs.min(1e9) * 1000.0).round() as i64;
            let until = thread.ts.get() + chrono::Duration::milliseconds(ms);
            self.sleep_until(thread, until).await;
        }
    }

    /// A time of the run's clock as wall-clock epoch ms (what durable timers hold).
    fn wall_ms(&self, t: DateTime<Utc>) -> i64 {
        wall_ms().saturating_add((t - self.clock.now()).num_milliseconds())
    }

    /// Makes everything recorded so far durable (and visible) before the run waits.
    async fn flush(&self) {
        if let Some(sink) = self.sink {
            sink.flush().await;
        }
    }

    fn unit_random(&self, thread: &Thread) -> f64 {
        thread.rng().gen::<f64>()
    }

    /// After a failed attempt: retry (returns true after the delay), or not.
    async fn should_retry(
        &self,
        thread: &Thread,
        retriers: &[stepwise_asl::model::Retrier],
        attempts: &mut Vec<u64>,
        f: &Failure,
    ) -> bool {
        if f.error.as_deref() == Some(names::RUNTIME) {
            return false;
        }
        attempts.resize(retriers.len(), 0);
        let unit = self.unit_random(thread);
        match step::retry_delay(retriers, attempts, f.name(), unit) {
            Some((idx, delay)) => {
                attempts[idx] += 1;
                self.sleep_secs(thread, delay).await;
                true
            }
            None => false,
        }
    }

    /// A failure that no retrier took: caught (go to the catcher's Next) or passed up.
    #[allow(clippy::too_many_arguments)]
    fn catch_or_fail(
        &self,
        thread: &Thread,
        (state, entered): (&State, u64),
        catchers: &[stepwise_asl::model::Catcher],
        f: Failure,
        raw: Value,
        context: &Value,
        vars: &mut Vars,
    ) -> Result<Flow, Failure> {
        if f.error.as_deref() == Some(names::RUNTIME) {
            return Ok(Flow::Fail(f));
        }
        match step::find_catcher(catchers, f.name()) {
            Some(c) if state.is_jsonata() => {
                let err_out = f.error_output();
                let (assigned, out) = {
                    let scope = JsonataScope {
                        states: StatesBinding {
                            input: &raw,
                            result: None,
                            error_output: Some(&err_out),
                            context,
                        },
                        variables: &*vars,
                    };
                    let fail = |e: EvalError| self.eval_failure(thread, state, entered, e);
                    let a =
                        step::jsonata_assign(c.jsonata_assign.as_ref(), &scope, &mut *thread.rng())
                            .map_err(fail)?;
                    let o = step::jsonata_optional(
                        c.output.as_ref(),
                        "Output",
                        &scope,
                        &mut *thread.rng(),
                    )
                    .map_err(fail)?;
                    (a, o)
                };
                self.commit(vars, &assigned);
                Ok(Flow::Goto {
                    next: c.next,
                    output: out.unwrap_or(err_out),
                    assigned,
                })
            }
            Some(c) => {
                let err_out = f.error_output();
                let scope = self.scope(context, vars);
                let assigned = self
                    .assign(thread, c.assign.as_ref(), &err_out, scope)
                    .map_err(Failure::from)?;
                let out =
                    step::apply_result_path(&c.result_path, raw, err_out).map_err(Failure::from)?;
                self.commit(vars, &assigned);
                Ok(Flow::Goto {
                    next: c.next,
                    output: out,
                    assigned,
                })
            }
            None => Ok(Flow::Fail(f)),
        }
    }

    /// The part shared by Task, Parallel and Map after their work produced `result`:
    /// ResultSelector, Assign, ResultPath, OutputPath.
    /// A Parallel's or Map's results, once every child succeeded: the state's result is their
    /// array, then JSONata Output/Assign (or a Catcher for their errors) or JSONPath
    /// ResultSelector/ResultPath/OutputPath.
    #[allow(clippy::too_many_arguments)]
    fn finish_children(
        &self,
        thread: &Thread,
        (state, entered): (&State, u64),
        (catch, selector, result_path): (
            &[stepwise_asl::model::Catcher],
            Option<&Template>,
            &ResultPath,
        ),
        raw: Value,
        results: Vec<Value>,
        context: &Value,
        vars: &mut Vars,
    ) -> Result<Flow, Failure> {
        if state.is_jsonata() {
            return self.finish_jsonata_or_catch(
                thread,
                (state, entered),
                catch,
                raw,
                Value::Array(results),
                context,
                vars,
            );
        }
        self.finish_result(
            thread,
            state,
            selector,
            result_path,
            raw,
            Value::Array(results),
            context,
            vars,
        )
        .map_err(|e| self.runtime_failure(state, entered, e))
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_result(
        &self,
        thread: &Thread,
        state: &State,
        selector: Option<&Template>,
        result_path: &ResultPath,
        raw: Value,
        result: Value,
        context: &Value,
        vars: &mut Vars,
    ) -> Result<Flow, StateError> {
        let scope = self.scope(context, vars);
        let result = step::apply_template(selector, result, scope, &mut *thread.rng())?;
        let assigned = self.assign(thread, state.assign.as_ref(), &result, scope)?;
        let out = step::apply_result_path(result_path, raw, result)?;
        let out = step::apply_output_path(state, out, scope)?;
        self.commit(vars, &assigned);
        Ok(Flow::Continue {
            output: out,
            assigned,
        })
    }

    fn number(
        &self,
        src: &Option<NumberSource>,
        doc: &Value,
        scope: Scope,
    ) -> Result<Option<u64>, StateError> {
        Ok(match src {
            None => None,
            Some(NumberSource::Literal(n)) => Some(*n),
            Some(NumberSource::Path(p)) => match p.select_env(&scope.env(doc)).as_deref() {
                Some(Value::Number(n)) if n.is_u64() => n.as_u64(),
                None => {
                    return Err(StateError::runtime(format!(
                        "Invalid path '{p}' : No results for path: {}",
                        p.normalized()
                    )))
                }
                Some(other) => {
                    return Err(StateError::runtime(format!(
                        "The value at path '{p}' is not a valid positive integer: {}",
                        to_text(other)
                    )))
                }
            },
            Some(NumberSource::Expr(_)) => {
                return Err(StateError::runtime(
                    "internal: a JSONata field in a JSONPath state",
                ))
            }
        })
    }

    /// A task call under its time limit (`States.Timeout`). Under `--skip-waits` the clock is
    /// tokio's paused one, which jumps to the next timer whenever the runtime is idle, as it
    /// is while a real HTTP call or process runs elsewhere: time flows for real while a call
    /// with a limit is in flight, so the limit means what it says.
    async fn limited(
        &self,
        limit: Option<Duration>,
        call: impl std::future::Future<Output = Result<Value, StateError>>,
    ) -> Result<Value, StateError> {
        let Some(limit) = limit else {
            return call.await;
        };
        let _real = self
            .opts
            .skip_waits
            .then(|| RealTime::enter(&self.calls_in_flight));
        match tokio::time::timeout(limit, call).await {
            Ok(r) => r,
            Err(_) => Err(StateError::new(names::TIMEOUT, "")),
        }
    }

    /// Counts a call to `state`'s task; the calls before it.
    fn count_task_call(&self, state: &str) -> u64 {
        let mut calls = self.task_calls.borrow_mut();
        match calls.get_mut(state) {
            Some(n) => {
                *n += 1;
                *n - 1
            }
            None => {
                calls.insert(state.to_string(), 1);
                0
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_task(
        &self,
        state: &State,
        task: &Task,
        raw: Value,
        thread: &Thread,
        vars: &mut Vars,
        context: &Value,
        entered: u64,
    ) -> Result<Flow, Failure> {
        let fail = |e: StateError| self.runtime_failure(state, entered, e);
        let jsonata = state.is_jsonata();
        let scope = self.scope(context, vars);
        let (eff, timeout, heartbeat) = if jsonata {
            let js = jscope(&raw, None, None, context, vars);
            // One RNG borrow at a time: each call's borrow ends with its statement.
            let timeout = step::jsonata_number(
                task.timeout.as_ref(),
                "TimeoutSeconds",
                &js,
                &mut *thread.rng(),
            );
            let numbers = match timeout {
                Ok(t) => {
                    let h = step::jsonata_number(
                        task.heartbeat.as_ref(),
                        "HeartbeatSeconds",
                        &js,
                        &mut *thread.rng(),
                    );
                    h.map(|h| (t, h))
                }
                Err(e) => Err(e),
            };
            match numbers {
                Ok((t, h)) => (Value::Null, t, h),
                Err(e) => {
                    let f = self.eval_failure(thread, state, entered, e);
                    return self.catch_or_fail(
                        thread,
                        (state, entered),
                        &task.catch,
                        f,
                        raw,
                        context,
                        vars,
                    );
                }
            }
        } else {
            let eff = step::apply_input_path(state, &raw, scope).map_err(fail)?;
            let timeout = self.number(&task.timeout, &eff, scope).map_err(fail)?;
            let heartbeat = self.number(&task.heartbeat, &eff, scope).map_err(fail)?;
            (eff, timeout, heartbeat)
        };
        let events = task_events(&task.resource);
        let region = self
            .opts
            .state_machine_arn
            .split(':')
            .nth(3)
            .unwrap_or("us-east-1")
            .to_string();
        let activity = matches!(events, TaskEvents::Activity);
        let callback = task.resource.ends_with(".waitForTaskToken");
        let broker = self.tasks.tokens();
        let mut attempts: Vec<u64> = Vec::new();
        loop {
            // Parameters are evaluated for every attempt: `$$.State.RetryCount` changes.
            let retry_count: u64 = attempts.iter().sum();
            // Contexts made for this attempt's Parameters are freed once they are built (a
            // callback or activity may wait a long time: keep its future small).
            let mut retry_context: Option<Value> = None;
            let context_now = if retry_count > 0 && state.uses_context {
                let mut c = context.clone();
                if let Some(st) = c.get_mut("State").and_then(Value::as_object_mut) {
                    st.insert("RetryCount".into(), Value::from(retry_count));
                }
                &*retry_context.insert(c)
            } else {
                context
            };
            // Each attempt of an activity or callback task has its own token, known before
            // Parameters are built (`$$.Task.Token` puts it in them).
            let token = (activity || callback).then(|| {
                crate::tokens::make_token(
                    &self.opts.execution_arn,
                    self.opts.start_time.timestamp_millis(),
                    &thread.key,
                    thread.seq.get(),
                    // A redriven attempt of the same task needs a token of its own.
                    retry_count | (u64::from(self.replay.redrive_count()) << 48),
                )
            });
            let mut token_context: Option<Value> = None;
            let context_now = match &token {
                Some(t) if callback => {
                    let mut c = context_now.clone();
                    if let Some(m) = c.as_object_mut() {
                        m.insert("Task".into(), json!({ "Token": t }));
                    }
                    &*token_context.insert(c)
                }
                _ => context_now,
            };
            let params = if jsonata {
                let args = step::jsonata_optional(
                    task.arguments.as_ref(),
                    "Arguments",
                    &jscope(&raw, None, None, context_now, vars),
                    &mut *thread.rng(),
                );
                match args {
                    Ok(Some(v)) => v,
                    Ok(None) => raw.clone(),
                    Err(e) => {
                        let f = self.eval_failure(thread, state, entered, e);
                        return self.catch_or_fail(
                            thread,
                            (state, entered),
                            &task.catch,
                            f,
                            raw,
                            context,
                            vars,
                        );
                    }
                }
            } else {
                step::apply_template(
                    task.parameters.as_ref(),
                    eff.clone(),
                    self.scope(context_now, vars),
                    &mut *thread.rng(),
                )
                .map_err(fail)?
            };
            drop((token_context.take(), retry_context.take()));
            if let (true, Some(b), None) = (activity, broker, self.replay.next(thread)) {
                // AWS fails the execution (uncatchable) when the activity is gone.
                let missing = match b.activity_exists(task.resource.clone()).await {
                    Ok(true) => None,
                    Ok(false) => Some(format!("The activity {} does not exist.", task.resource)),
                    Err(e) => Some(format!(
                        "The activity {} cannot be read: {e}",
                        task.resource
                    )),
                };
                if let Some(cause) = missing {
                    return Err(fail(StateError::runtime(cause)));
                }
            }
            let prev = thread.last.get();
            let id = match &events {
                TaskEvents::Activity => self.emit(thread, prev, "ActivityScheduled", || {
                    let mut d = Map::new();
                    d.insert("resource".into(), Value::from(task.resource.clone()));
                    d.insert("input".into(), Value::from(to_text(&params)));
                    d.insert("inputDetails".into(), json!({"truncated": false}));
                    if let Some(t) = timeout {
                        d.insert("timeoutInSeconds".into(), Value::from(t));
                    }
                    if let Some(h) = heartbeat {
                        d.insert("heartbeatInSeconds".into(), Value::from(h));
                    }
                    Details::Json(Value::Object(d))
                }),
                TaskEvents::Lambda => self.emit(thread, prev, "LambdaFunctionScheduled", || {
                    let mut d = Map::new();
                    d.insert("input".into(), Value::from(to_text(&params)));
                    d.insert("inputDetails".into(), json!({"truncated": false}));
                    d.insert("resource".into(), Value::from(task.resource.clone()));
                    if let Some(t) = timeout {
                        d.insert("timeoutInSeconds".into(), Value::from(t));
                    }
                    Details::Json(Value::Object(d))
                }),
                TaskEvents::Generic {
                    resource_type,
                    resource,
                } => self.emit(thread, prev, "TaskScheduled", || {
                    let mut d = Map::new();
                    d.insert("resourceType".into(), Value::from(resource_type.clone()));
                    d.insert("resource".into(), Value::from(resource.clone()));
                    d.insert("region".into(), Value::from(region.clone()));
                    d.insert("parameters".into(), Value::from(to_text(&params)));
                    if let Some(t) = timeout {
                        d.insert("timeoutInSeconds".into(), Value::from(t));
                    }
                    if let Some(h) = heartbeat {
                        d.insert("heartbeatInSeconds".into(), Value::from(h));
                    }
                    Details::Json(Value::Object(d))
                }),
            };
            thread.last.set(id);
            let id = match &events {
                TaskEvents::Lambda => {
                    self.emit(thread, id, "LambdaFunctionStarted", || Details::None)
                }
                // Served activities start when a worker takes them (see `await_token`).
                TaskEvents::Activity if broker.is_some() => id,
                TaskEvents::Activity => {
                    self.emit(thread, id, "ActivityStarted", || Details::Json(json!({})))
                }
                TaskEvents::Generic {
                    resource_type,
                    resource,
                } => self.emit(thread, id, "TaskStarted", || {
                    Details::Json(json!({"resourceType": resource_type, "resource": resource}))
                }),
            };
            thread.last.set(id);
            let mut req = TaskRequest {
                state_name: state.name.clone(),
                resource: task.resource.clone(),
                parameters: params.clone(),
                timeout_seconds: timeout,
                heartbeat_seconds: heartbeat,
                task_token: token.clone().filter(|_| callback),
                execution_arn: self.opts.execution_arn.clone(),
                state_machine_name: self.opts.state_machine_name.clone(),
                test_case: self.opts.test_case.clone(),
                invocation: self.count_task_call(&state.name),
            };
            // A `.sync` call the handler completes through a task token (a nested execution
            // answers its parent's token when it ends): it waits like a callback, durably.
            let mut token = token;
            if token.is_none() && broker.is_some() && self.tasks.completes_by_token(&req) {
                let t = crate::tokens::make_token(
                    &self.opts.execution_arn,
                    self.opts.start_time.timestamp_millis(),
                    &thread.key,
                    thread.seq.get(),
                    retry_count | (u64::from(self.replay.redrive_count()) << 48),
                );
                req.task_token = Some(t.clone());
                token = Some(t);
            }
            let by_token = broker.is_some() && token.is_some();
            let outcome = match self
                .replay
                .next(thread)
                .and_then(|e| recorded_task_outcome(e, by_token))
            {
                // A resumed run: the task already answered before the crash.
                Some(recorded) => recorded,
                None => match (broker, token.as_deref()) {
                    (Some(b), Some(token)) => {
                        let wait = TokenWait {
                            token,
                            params: &params,
                            timeout,
                            heartbeat,
                        };
                        self.await_token(b, thread, state, task, &events, wait, req)
                            .await
                    }
                    _ => {
                        // What the task is asked to do must be on record before it is done.
                        self.flush().await;
                        let call = self.tasks.invoke(req);
                        self.limited(timeout.map(Duration::from_secs), call)
                            .await
                            .map_err(Failure::from)
                    }
                },
            };
            match outcome {
                Ok(result) => {
                    let id = match &events {
                        TaskEvents::Activity => self.emit(thread, thread.last.get(), "ActivitySucceeded", || {
                            Details::Json(json!({"output": to_text(&result), "outputDetails": {"truncated": false}}))
                        }),
                        TaskEvents::Lambda => self.emit(thread, thread.last.get(), "LambdaFunctionSucceeded", || {
                            Details::Json(json!({"output": to_text(&result), "outputDetails": {"truncated": false}}))
                        }),
                        TaskEvents::Generic { resource_type, resource } => self.emit(thread, thread.last.get(), "TaskSucceeded", || {
                            Details::Json(json!({"resourceType": resource_type, "resource": resource, "output": to_text(&result), "outputDetails": {"truncated": false}}))
                        }),
                    };
                    thread.last.set(id);
                    if jsonata {
                        return match self.finish_jsonata(thread, state, &raw, result, context, vars)
                        {
                            Ok(flow) => Ok(flow),
                            Err(e) => {
                                let f = self.eval_failure(thread, state, entered, e);
                                self.catch_or_fail(
                                    thread,
                                    (state, entered),
                                    &task.catch,
                                    f,
                                    raw,
                                    context,
                                    vars,
                                )
                            }
                        };
                    }
                    return match self.finish_result(
                        thread,
                        state,
                        task.result_selector.as_ref(),
                        &task.result_path,
                        raw,
                        result,
                        context,
                        vars,
                    ) {
                        Ok(flow) => Ok(flow),
                        Err(e) => {
                            let f = self.runtime_failure(state, entered, e);
                            self.catch_or_fail(
                                thread,
                                (state, entered),
                                &task.catch,
                                f,
                                Value::Null,
                                context,
                                vars,
                            )
                        }
                    };
                }
                Err(f) => {
                    let timed_out = f.error.as_deref() == Some(names::TIMEOUT);
                    let kind = match (&events, timed_out) {
                        (TaskEvents::Activity, false) => "ActivityFailed",
                        (TaskEvents::Activity, true) => "ActivityTimedOut",
                        (TaskEvents::Lambda, false) => "LambdaFunctionFailed",
                        (TaskEvents::Lambda, true) => "LambdaFunctionTimedOut",
                        (TaskEvents::Generic { .. }, false) => "TaskFailed",
                        (TaskEvents::Generic { .. }, true) => "TaskTimedOut",
                    };
                    let id = self.emit(thread, thread.last.get(), kind, || {
                        let mut d = Map::new();
                        if let TaskEvents::Generic {
                            resource_type,
                            resource,
                        } = &events
                        {
                            d.insert("resourceType".into(), Value::from(resource_type.clone()));
                            d.insert("resource".into(), Value::from(resource.clone()));
                        }
                        if let Some(e) = &f.error {
                            d.insert("error".into(), Value::from(e.clone()));
                        }
                        if let Some(c) = f.cause.as_ref().filter(|c| !c.is_empty()) {
                            d.insert("cause".into(), Value::from(c.clone()));
                        }
                        Details::Json(Value::Object(d))
                    });
                    thread.last.set(id);
                    if self
                        .should_retry(thread, &task.retry, &mut attempts, &f)
                        .await
                    {
                        continue;
                    }
                    return self.catch_or_fail(
                        thread,
                        (state, entered),
                        &task.catch,
                        f,
                        raw,
                        context,
                        vars,
                    );
                }
            }
        }
    }

    /// Waits for the answer to an activity task or a callback's token, durably: the token's
    /// record is stored before anyone can learn the token; answers and timeouts race through a
    /// compare-and-set on it, so exactly one wins. What was recorded before a restart
    /// (`ActivityStarted`, `TaskSubmitted`, the answer) is replayed, not done again; an answer
    /// given while the execution was down is found in the token's record.
    #[allow(clippy::too_many_arguments)]
    async fn await_token(
        &self,
        broker: &dyn crate::tokens::TokenBroker,
        thread: &Thread,
        state: &State,
        task: &Task,
        events: &TaskEvents,
        wait: TokenWait<'_>,
        req: TaskRequest,
    ) -> Result<Value, Failure> {
        use crate::tokens::Signal;
        use stepwise_store::{TaskTokenRecord, TaskTokenStatus as St};
        let activity = matches!(events, TaskEvents::Activity);
        let (resource_type, resource) = match events {
            TaskEvents::Generic {
                resource_type,
                resource,
            } => (resource_type.as_str(), resource.as_str()),
            _ => ("", task.resource.as_str()),
        };
        let timeout_failure = |heartbeat: bool| Failure {
            error: Some(
                if heartbeat {
                    HEARTBEAT_TIMEOUT_ERROR
                } else {
                    names::TIMEOUT
                }
                .into(),
            ),
            cause: Some(String::new()),
        };
        let store_failure = |e: String| -> Failure {
            StateError::runtime(format!("The task token could not be stored: {e}")).into()
        };
        // The attempt's clocks start when it was scheduled (a recorded time, so a resumed run
        // keeps the same deadlines; overdue ones fire at once).
        let scheduled_at = thread.ts.get().timestamp_millis();
        let ms = |s: u64| {
            i64::try_from(s)
                .unwrap_or(i64::MAX / 2)
                .saturating_mul(1000)
        };
        let timeout_deadline = wait.timeout.map(|t| scheduled_at.saturating_add(ms(t)));

        // Replay what the history already holds of this wait.
        let mut started = false;
        let mut submitted = false;
        if let Some(next) = self.replay.next(thread) {
            let kind = if activity {
                "ActivityStarted"
            } else {
                "TaskSubmitted"
            };
            if next.kind == kind {
                let id = self.emit(thread, thread.last.get(), kind, || Details::None);
                thread.last.set(id);
                started = activity;
                submitted = !activity;
            }
        }
        if let Some(r) = self
            .replay
            .next(thread)
            .and_then(|e| recorded_task_outcome(e, true))
        {
            return r;
        }

        // What the task is asked to do must be on record before the token is handed out.
        self.flush().await;
        let record = TaskTokenRecord {
            token: wait.token.to_string(),
            execution_arn: self.opts.execution_arn.clone(),
            state_name: state.name.clone(),
            activity_arn: activity.then(|| task.resource.clone()),
            input: activity.then(|| to_text(wait.params)),
            status: if activity { St::Scheduled } else { St::Started },
            worker_name: None,
            created: self.clock.now().timestamp_millis(),
            heartbeat_seconds: wait.heartbeat,
            // An activity's heartbeat clock starts when a worker takes it; a callback's now.
            heartbeat_deadline: wait
                .heartbeat
                .filter(|_| !activity)
                .map(|h| scheduled_at.saturating_add(ms(h))),
            timeout_deadline,
            output: None,
            error: None,
            cause: None,
        };
        let (mut rec, mut listener) = broker.open(record).await.map_err(store_failure)?;

        if activity || submitted {
            // No call to make: don't carry the request through the wait.
            drop(req);
        } else {
            // The call that hands the token out (sends the message, invokes the function…).
            let call = self.tasks.invoke(req);
            let now = self.clock.now().timestamp_millis();
            let result = self
                .limited(timeout_deadline.map(|d| until(d, now)), call)
                .await;
            // On failure the listener's drop cancels the token.
            let output = result.map_err(Failure::from)?;
            let id = self.emit(thread, thread.last.get(), "TaskSubmitted", || {
                Details::Json(json!({
                    "resourceType": resource_type,
                    "resource": resource,
                    "output": to_text(&output),
                    "outputDetails": {"truncated": false},
                }))
            });
            thread.last.set(id);
        }

        let mut listening = true;
        loop {
            if activity
                && !started
                && matches!(rec.status, St::Started | St::Succeeded | St::Failed)
            {
                let worker = rec.worker_name.clone();
                let id = self.emit(thread, thread.last.get(), "ActivityStarted", || {
                    let mut d = Map::new();
                    if let Some(w) = worker {
                        d.insert("workerName".into(), Value::from(w));
                    }
                    Details::Json(Value::Object(d))
                });
                thread.last.set(id);
                started = true;
            }
            match rec.status {
                St::Succeeded => {
                    listener.set_closed();
                    let text = rec.output.as_deref().unwrap_or("null");
                    return Ok(serde_json::from_str(text).unwrap_or(Value::Null));
                }
                St::Failed => {
                    listener.set_closed();
                    return Err(Failure {
                        error: rec.error.take(),
                        cause: rec.cause.take(),
                    });
                }
                St::TimedOut | St::Cancelled => {
                    listener.set_closed();
                    return Err(timeout_failure(false));
                }
                St::Scheduled | St::Started => {}
            }
            // Parked: everything recorded so far is durable and visible.
            self.flush().await;
            let heartbeat_first = match (rec.heartbeat_deadline, timeout_deadline) {
                (Some(h), Some(t)) => h < t,
                (Some(_), None) => true,
                _ => false,
            };
            let deadline = [rec.heartbeat_deadline, timeout_deadline]
                .into_iter()
                .flatten()
                .min();
            let now = self.clock.now().timestamp_millis();
            let timer = async {
                match deadline {
                    Some(d) => tokio::time::sleep(until(d, now)).await,
                    None => std::future::pending::<()>().await,
                }
            };
            let signal = async {
                if listening {
                    listener.recv().await
                } else {
                    std::future::pending::<Option<Signal>>().await
                }
            };
            // Durable: the token's record holds everything a replay needs to wait again.
            let parked = Idle::waiting(
                self.idle,
                deadline.map(|d| wall_ms().saturating_add(d.saturating_sub(now))),
                Some((wait.token.to_string(), rec.status != St::Scheduled)),
            );
            let woke = tokio::select! {
                s = signal => Ok(s),
                _ = timer => Err(()),
            };
            drop(parked);
            match woke {
                Ok(s) => match s {
                    Some(Signal::Started {
                        worker_name,
                        heartbeat_deadline,
                    }) => {
                        if rec.status == St::Scheduled {
                            rec.status = St::Started;
                            rec.worker_name = worker_name;
                            rec.heartbeat_deadline = heartbeat_deadline;
                        }
                    }
                    Some(Signal::Heartbeat { deadline }) => rec.heartbeat_deadline = deadline,
                    Some(Signal::Closed(r)) => rec = *r,
                    // The hub let go of us (cannot happen while the listener lives): the
                    // timers still end the wait.
                    None => listening = false,
                },
                Err(()) => match broker.time_out(rec.clone()).await.map_err(store_failure)? {
                    None => {
                        listener.set_closed();
                        return Err(timeout_failure(heartbeat_first));
                    }
                    // An answer won the race.
                    Some(r) => rec = r,
                },
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_parallel(
        &self,
        state: &State,
        par: &Parallel,
        raw: Value,
        thread: &Thread,
        vars: &mut Vars,
        context: &Value,
        entered: u64,
    ) -> Result<Flow, Failure> {
        let fail = |e: StateError| self.runtime_failure(state, entered, e);
        let scope = self.scope(context, vars);
        let eff = if state.is_jsonata() {
            let args = step::jsonata_optional(
                par.arguments.as_ref(),
                "Arguments",
                &jscope(&raw, None, None, context, vars),
                &mut *thread.rng(),
            );
            match args {
                Ok(Some(v)) => v,
                Ok(None) => raw.clone(),
                Err(e) => {
                    let f = self.eval_failure(thread, state, entered, e);
                    let id = self.emit(thread, thread.last.get(), "ParallelStateFailed", || {
                        Details::None
                    });
                    thread.last.set(id);
                    return self.catch_or_fail(
                        thread,
                        (state, entered),
                        &par.catch,
                        f,
                        raw,
                        context,
                        vars,
                    );
                }
            }
        } else {
            let eff = step::apply_input_path(state, &raw, scope).map_err(fail)?;
            step::apply_template(par.parameters.as_ref(), eff, scope, &mut *thread.rng())
                .map_err(fail)?
        };
        let mut attempts: Vec<u64> = Vec::new();
        loop {
            let started = self.emit(thread, thread.last.get(), "ParallelStateStarted", || {
                Details::None
            });
            thread.last.set(started);
            let shared = Rc::new(std::mem::take(vars));
            let fan = FanOut {
                parent: thread,
                entered,
                attempt: attempts.iter().sum(),
                silent: false,
                first_index: 0,
                parent_event: started,
                limit: 0,
                shared: &shared,
                map_name: None,
            };
            let branches = par
                .branches
                .iter()
                .map(|b| (b, eff.clone(), None))
                .collect();
            let outcome = {
                let _joined = Idle::joined(self.idle);
                self.fan_out(fan, branches).await
            };
            *vars = Rc::try_unwrap(shared).unwrap_or_default();
            match outcome {
                Ok(results) => {
                    let last = self.last_id();
                    self.emit(thread, last, "ParallelStateSucceeded", || Details::None);
                    thread.last.set(last);
                    return self.finish_children(
                        thread,
                        (state, entered),
                        (&par.catch, par.result_selector.as_ref(), &par.result_path),
                        raw,
                        results,
                        context,
                        vars,
                    );
                }
                Err((f, last)) => {
                    // A retried Parallel starts again without a failed event.
                    if self
                        .should_retry(thread, &par.retry, &mut attempts, &f)
                        .await
                    {
                        thread.last.set(last);
                        continue;
                    }
                    let id = self.emit(thread, last, "ParallelStateFailed", || Details::None);
                    thread.last.set(id);
                    return self.catch_or_fail(
                        thread,
                        (state, entered),
                        &par.catch,
                        f,
                        raw,
                        context,
                        vars,
                    );
                }
            }
        }
    }

    /// Runs blocks concurrently (at most `limit` at once, 0 = all), each in its own thread and
    /// variable scope. Results come back in order. On the first failure the rest are dropped
    /// and the failure is returned with the id of the failing thread's last event.
    fn fan_out<'a>(
        &'a self,
        f: FanOut<'a>,
        blocks: Vec<(&'a States, Value, Option<MapItem<'a>>)>,
    ) -> LocalBoxFuture<'a, Result<Vec<Value>, (Failure, u64)>> {
        Box::pin(async move {
            let total = blocks.len();
            let limit = if f.limit == 0 { total.max(1) } else { f.limit };
            // The event the next iteration follows: the previous iteration's last state event.
            let cursor = Cell::new(f.parent_event);
            let mut pending = blocks.into_iter().enumerate();
            // Unordered, so the first failure is seen as soon as it happens: AWS stops the
            // other branches/iterations then (dropping their futures does that here).
            let mut running = FuturesUnordered::new();
            let mut results: Vec<Option<Value>> = vec![None; total];
            let start_one =
                |(i, (block, input, item)): (usize, (&'a States, Value, Option<MapItem<'a>>))| {
                    let cursor = &cursor;
                    let index = f.first_index + i;
                    let line = Busy::new(self.idle);
                    async move {
                        let _line = line;
                        let mut th =
                            f.parent
                                .child(f.entered, f.attempt, index, cursor.get(), f.silent);
                        th.parallel_branch = f.map_name.is_none();
                        if let Some(name) = f.map_name {
                            let id = self.emit(&th, cursor.get(), "MapIterationStarted", || {
                                Details::MapIteration {
                                    name: name.to_string(),
                                    index,
                                }
                            });
                            th.last.set(id);
                        }
                        let mut local = Vars::child(f.shared.clone());
                        let r = self.run_block(block, input, &th, &mut local, item).await;
                        if r.is_err() && th.ts.get() > f.parent.ts.get() {
                            // A retry's delay counts from the failure.
                            f.parent.ts.set(th.ts.get());
                        }
                        if let Some(name) = f.map_name {
                            let kind = if r.is_ok() {
                                "MapIterationSucceeded"
                            } else {
                                "MapIterationFailed"
                            };
                            self.emit(&th, th.last.get(), kind, || Details::MapIteration {
                                name: name.to_string(),
                                index,
                            });
                        }
                        cursor.set(th.last.get());
                        r.map(|v| (i, v)).map_err(|e| (e, th.last.get()))
                    }
                };
            // Start items one at a time and collect whatever finishes at once, so only the
            // items really waiting (on a timer or a task) stay alive: memory follows active
            // work, not the item count.
            while running.len() < limit {
                let Some(b) = pending.next() else { break };
                running.push(start_one(b));
                while let Some(Some(r)) = running.next().now_or_never() {
                    let (i, v) = r?;
                    results[i] = Some(v);
                    if running.len() + 1 >= limit {
                        break;
                    }
                }
            }
            while let Some(r) = running.next().await {
                let (i, v) = r?;
                results[i] = Some(v);
                if let Some(b) = pending.next() {
                    running.push(start_one(b));
                }
            }
            Ok(results.into_iter().map(Option::unwrap_or_default).collect())
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_map(
        &self,
        state: &State,
        map: &MapState,
        raw: Value,
        thread: &Thread,
        vars: &mut Vars,
        context: &Value,
        entered: u64,
    ) -> Result<Flow, Failure> {
        let fail = |e: StateError| self.runtime_failure(state, entered, e);
        let jsonata = state.is_jsonata();
        let scope = self.scope(context, vars);
        let eff = if jsonata {
            Value::Null
        } else {
            step::apply_input_path(state, &raw, scope).map_err(fail)?
        };
        // Computed again for each attempt so the items are moved, not copied, into iterations.
        let mut first_plan = if jsonata {
            None
        } else {
            Some(step::map_plan(map, &eff, scope).map_err(fail)?)
        };
        let mut attempts: Vec<u64> = Vec::new();
        loop {
            let (inputs, limit, tol_count, tol_pct, started) = if jsonata {
                match self.jsonata_map_inputs(thread, state, map, &raw, context, vars) {
                    Ok((inputs, limit, tol_count, tol_pct)) => {
                        let length = inputs.len();
                        let started =
                            self.emit(thread, thread.last.get(), "MapStateStarted", || {
                                Details::MapStateStarted { length }
                            });
                        thread.last.set(started);
                        (inputs, limit, tol_count, tol_pct, started)
                    }
                    Err(e) => {
                        let f = self.eval_failure(thread, state, entered, e);
                        let id = self.emit(thread, thread.last.get(), "MapStateFailed", || {
                            Details::None
                        });
                        thread.last.set(id);
                        return self.catch_or_fail(
                            thread,
                            (state, entered),
                            &map.catch,
                            f,
                            raw,
                            context,
                            vars,
                        );
                    }
                }
            } else {
                let plan = match first_plan.take() {
                    Some(p) => p,
                    None => step::map_plan(map, &eff, self.scope(context, vars)).map_err(fail)?,
                };
                let length = plan.items.len();
                let started = self.emit(thread, thread.last.get(), "MapStateStarted", || {
                    Details::MapStateStarted { length }
                });
                thread.last.set(started);
                let scope = self.scope(context, vars);
                let (tol_count, tol_pct) = step::map_tolerance(map, &eff, scope).map_err(fail)?;
                // Item inputs: ItemSelector sees the Map's effective input plus $$.Map.Item.
                let mut inputs = Vec::with_capacity(length);
                for (index, value) in plan.items.into_iter().enumerate() {
                    let input = match &map.item_selector {
                        None => value,
                        Some(sel) => {
                            let mut ctx = if context.is_null() {
                                self.context(state, thread.ts.get(), 0, None)
                            } else {
                                context.clone()
                            };
                            if let Some(o) = ctx.as_object_mut() {
                                o.insert(
                                    "Map".into(),
                                    json!({"Item": {"Index": index, "Value": value}}),
                                );
                            }
                            sel.eval(
                                &stepwise_asl::jsonpath::PathEnv {
                                    document: &eff,
                                    context: &ctx,
                                    variables: scope.variables,
                                },
                                &mut *thread.rng(),
                            )
                            .map_err(fail)?
                        }
                    };
                    inputs.push(input);
                }
                (inputs, plan.max_concurrency, tol_count, tol_pct, started)
            };
            let distributed = map.mode == ProcessorMode::Distributed;
            let mut run_cursor = started;
            let mut live: Option<Rc<MapRunLive>> = None;
            if distributed {
                let arn = self.map_run_arn(thread, map);
                run_cursor = self.emit(thread, started, "MapRunStarted", || {
                    Details::MapRunStarted {
                        map_run_arn: arn.clone(),
                    }
                });
                let run = self.map_run_live(thread, &arn, inputs.len(), limit, tol_count, tol_pct);
                // A redrive of a Map Run that did not succeed: `MapRunRedriven`, after those of
                // earlier redrives.
                while self
                    .replay
                    .next(thread)
                    .is_some_and(|e| e.kind == "MapRunRedriven")
                    || self.replay.redriven_at(thread, thread.seq.get())
                {
                    let count = run.record.borrow().redrive_count + 1;
                    run_cursor = self.emit(thread, run_cursor, "MapRunRedriven", || {
                        Details::Json(json!({"mapRunArn": arn, "redriveCount": count}))
                    });
                    let mut r = run.record.borrow_mut();
                    r.redrive_count = count;
                    r.redrive_date = Some(thread.ts.get().timestamp_millis());
                }
                if let Some(sink) = self.sink {
                    // The run is visible (DescribeMapRun) as soon as it starts.
                    sink.map_run(&run);
                    sink.flush().await;
                }
                live = Some(run);
            }
            let blocks = inputs
                .into_iter()
                .map(|i| (&map.processor, i, None))
                .collect();
            let shared = Rc::new(std::mem::take(vars));
            let fan = FanOut {
                parent: thread,
                entered,
                attempt: attempts.iter().sum(),
                // Distributed iterations are child executions: their events stay out of this history.
                silent: distributed,
                first_index: 0,
                parent_event: run_cursor,
                limit,
                shared: &shared,
                map_name: (!distributed).then_some(state.name.as_str()),
            };
            let outcome = match &live {
                Some(run) => self.fan_out_distributed(fan, blocks, run).await,
                // A distributed Map's parent stays busy: its Map Run lives in memory.
                None => {
                    let _joined = Idle::joined(self.idle);
                    self.fan_out_map(fan, blocks, tol_count, tol_pct).await
                }
            };
            *vars = Rc::try_unwrap(shared).unwrap_or_default();
            match outcome {
                Ok(results) => {
                    let mut last = self.last_id();
                    if let Some(run) = &live {
                        last = self.emit(thread, run_cursor, "MapRunSucceeded", || Details::None);
                        self.end_map_run(run, MapRunStatus::Succeeded, thread);
                    }
                    self.emit(thread, last, "MapStateSucceeded", || Details::None);
                    thread.last.set(last);
                    return self.finish_children(
                        thread,
                        (state, entered),
                        (&map.catch, map.result_selector.as_ref(), &map.result_path),
                        raw,
                        results,
                        context,
                        vars,
                    );
                }
                Err((f, last)) => {
                    let last = match &live {
                        Some(run) => {
                            let id =
                                self.emit(thread, self.last_id(), "MapRunFailed", || Details::None);
                            self.end_map_run(run, MapRunStatus::Failed, thread);
                            id
                        }
                        None => last,
                    };
                    // A retried Map starts again without a failed event.
                    if self
                        .should_retry(thread, &map.retry, &mut attempts, &f)
                        .await
                    {
                        thread.last.set(last);
                        continue;
                    }
                    let id = self.emit(thread, last, "MapStateFailed", || Details::None);
                    thread.last.set(id);
                    return self.catch_or_fail(
                        thread,
                        (state, entered),
                        &map.catch,
                        f,
                        raw,
                        context,
                        vars,
                    );
                }
            }
        }
    }

    /// A JSONata Map's item inputs (`Items`, then `ItemSelector` per item with
    /// `$states.context.Map.Item`), concurrency limit and tolerated failures.
    #[allow(clippy::type_complexity)]
    fn jsonata_map_inputs(
        &self,
        thread: &Thread,
        state: &State,
        map: &MapState,
        raw: &Value,
        context: &Value,
        vars: &Vars,
    ) -> Result<(Vec<Value>, usize, Option<u64>, Option<f64>), EvalError> {
        let js = jscope(raw, None, None, context, vars);
        let plan = step::jsonata_map_plan(map, &js, &mut *thread.rng())?;
        let (tol_count, tol_pct) = step::jsonata_map_tolerance(map, &js, &mut *thread.rng())?;
        let Some(sel) = &map.jsonata_item_selector else {
            return Ok((plan.items, plan.max_concurrency, tol_count, tol_pct));
        };
        let base = if context.is_null() {
            self.context(state, thread.ts.get(), 0, None)
        } else {
            context.clone()
        };
        let mut inputs = Vec::with_capacity(plan.items.len());
        for (index, value) in plan.items.into_iter().enumerate() {
            let mut ctx = base.clone();
            if let Some(o) = ctx.as_object_mut() {
                o.insert(
                    "Map".into(),
                    json!({"Item": {"Index": index, "Value": value}}),
                );
            }
            let js = jscope(raw, None, None, &ctx, vars);
            inputs.push(step::jsonata_eval(
                sel,
                "ItemSelector",
                &js,
                &mut *thread.rng(),
            )?);
        }
        Ok((inputs, plan.max_concurrency, tol_count, tol_pct))
    }

    /// Map fan-out with tolerated failures: failed items count against the tolerance instead
    /// of failing the Map at once (items then run one after another).
    async fn fan_out_map<'a>(
        &'a self,
        fan: FanOut<'a>,
        blocks: Vec<(&'a States, Value, Option<MapItem<'a>>)>,
        tol_count: Option<u64>,
        tol_pct: Option<f64>,
    ) -> Result<Vec<Value>, (Failure, u64)> {
        if tol_count.is_none() && tol_pct.is_none() {
            return self.fan_out(fan, blocks).await;
        }
        let total = blocks.len();
        let mut results = Vec::with_capacity(total);
        let mut failed = 0usize;
        let mut cursor = fan.parent_event;
        for (index, b) in blocks.into_iter().enumerate() {
            let one = FanOut {
                first_index: index,
                parent_event: cursor,
                limit: 1,
                ..fan
            };
            match self.fan_out(one, vec![b]).await {
                Ok(mut r) => {
                    cursor = self.last_id();
                    results.append(&mut r);
                }
                Err((f, last)) => {
                    failed += 1;
                    cursor = last;
                    if step::map_exceeds_tolerance(failed, total, tol_count, tol_pct) {
                        return Err((
                            Failure {
                                error: Some(names::EXCEED_TOLERATED_FAILURE_THRESHOLD.into()),
                                cause: Some(
                                    "The specified tolerated failure threshold was exceeded".into(),
                                ),
                            },
                            last,
                        ));
                    }
                    results.push(f.error_output());
                }
            }
        }
        Ok(results)
    }

    /// A new Map Run's live record.
    fn map_run_live(
        &self,
        thread: &Thread,
        arn: &str,
        total: usize,
        limit: usize,
        tol_count: Option<u64>,
        tol_pct: Option<f64>,
    ) -> Rc<MapRunLive> {
        let total = total as u64;
        let counts = MapRunCounts {
            pending: total,
            total,
            ..Default::default()
        };
        Rc::new(MapRunLive {
            record: RefCell::new(MapRunRecord {
                arn: arn.to_string(),
                execution_arn: self.opts.execution_arn.clone(),
                state_machine_arn: map_run_machine_arn(arn),
                status: MapRunStatus::Running,
                start_date: thread.ts.get().timestamp_millis(),
                stop_date: None,
                max_concurrency: limit as u64,
                tolerated_failure_percentage: tol_pct.unwrap_or(0.0),
                tolerated_failure_count: tol_count.unwrap_or(0),
                item_counts: counts,
                execution_counts: counts,
                redrive_count: 0,
                redrive_date: None,
            }),
            tolerated_count: Cell::new(tol_count),
            tolerated_percentage: Cell::new(tol_pct),
            changed: tokio::sync::Notify::new(),
        })
    }

    /// The Map Run ended with the event `thread` just recorded; children still running were
    /// stopped.
    fn end_map_run(&self, run: &Rc<MapRunLive>, status: MapRunStatus, thread: &Thread) {
        {
            let mut r = run.record.borrow_mut();
            r.status = status;
            r.stop_date = Some(thread.ts.get().timestamp_millis());
        }
        run.counts(|c| {
            c.aborted += c.running + c.pending;
            c.running = 0;
            c.pending = 0;
        });
        if let Some(sink) = self.sink {
            sink.map_run(run);
        }
    }

    /// Runs a distributed Map's items as child executions: at most the Map Run's current
    /// `maxConcurrency` at once (UpdateMapRun may change it, and the tolerated failures, while
    /// it runs), failures counted against the tolerance as they happen, counts kept in the Map
    /// Run's record, each child recorded as an execution of the Map Run. Children that an
    /// earlier attempt of this execution finished successfully (before a crash or a redrive)
    /// are not run again: their recorded output is their result.
    async fn fan_out_distributed<'a>(
        &'a self,
        f: FanOut<'a>,
        blocks: Vec<(&'a States, Value, Option<MapItem<'a>>)>,
        run: &'a Rc<MapRunLive>,
    ) -> Result<Vec<Value>, (Failure, u64)> {
        let total = blocks.len();
        let arn = run.record.borrow().arn.clone();
        let finished = match self.sink {
            Some(sink) if self.replay.max_id > 0 => sink.finished_children(&arn).await,
            _ => HashMap::new(),
        };
        let mut results: Vec<Option<Value>> = vec![None; total];
        let mut failed = 0usize;
        let mut pending = blocks.into_iter().enumerate();
        let mut running = FuturesUnordered::new();
        let mut last_write = std::time::Instant::now();
        let mut unwritten = 0usize;
        let start_one = |i: usize,
                         block: &'a States,
                         input: Value,
                         item: Option<MapItem<'a>>,
                         previous: Option<ExecutionRecord>| {
            let th = f
                .parent
                .child(f.entered, f.attempt, i, f.parent_event, true);
            let input_text = self.sink.is_some().then(|| to_text(&input));
            let started = self.clock.now();
            let line = Busy::new(self.idle);
            async move {
                let _line = line;
                let mut local = Vars::child(f.shared.clone());
                let r = self.run_block(block, input, &th, &mut local, item).await;
                (i, r, started, input_text, previous)
            }
        };
        // Children finished since the latest redrive (or ever, without one) keep their outcome;
        // children that failed before it run again (a redrive of the child).
        let since = self
            .replay
            .redriven
            .map_or(i64::MIN, |(_, t)| t.timestamp_millis());
        // A child that finished as soon as it started, handled before more are started.
        let mut ready = None;
        loop {
            let next = match ready.take() {
                Some(done) => done,
                None => {
                    let limit = run.limit(total);
                    while running.len() < limit {
                        let Some((i, (block, input, item))) = pending.next() else {
                            break;
                        };
                        let previous = finished.get(&child_execution_arn(&arn, i));
                        let kept = previous.filter(|r| {
                            r.status == StoredStatus::Succeeded
                                || r.stop_date.unwrap_or(i64::MIN) >= since
                        });
                        if let Some(rec) = kept {
                            let r = if rec.status == StoredStatus::Succeeded {
                                let out = rec.output.as_deref().unwrap_or("null");
                                Ok(serde_json::from_str(out).unwrap_or(Value::Null))
                            } else {
                                Err(Failure {
                                    error: rec.error.clone(),
                                    cause: rec.cause.clone(),
                                })
                            };
                            run.counts(|c| {
                                c.pending = c.pending.saturating_sub(1);
                                c.running += 1;
                            });
                            ready = Some((i, r, self.clock.now(), None, None));
                            break;
                        }
                        run.counts(|c| {
                            c.pending = c.pending.saturating_sub(1);
                            c.running += 1;
                        });
                        running.push(start_one(i, block, input, item, previous.cloned()));
                        // Memory follows active children, not the item count.
                        if let Some(Some(done)) = running.next().now_or_never() {
                            ready = Some(done);
                            break;
                        }
                    }
                    if let Some(done) = ready.take() {
                        done
                    } else if running.is_empty() {
                        break;
                    } else {
                        let next = tokio::select! {
                            r = running.next() => r,
                            _ = run.changed.notified() => None,
                        };
                        match next {
                            Some(done) => done,
                            None => continue,
                        }
                    }
                }
            };
            let (i, r, started, input_text, previous) = next;
            run.counts(|c| c.running = c.running.saturating_sub(1));
            if let (Some(sink), Some(input_text)) = (self.sink, input_text) {
                let (rec, events) =
                    self.child_record(run, i, started, input_text, &r, previous.as_ref());
                sink.child_execution(rec, events, previous.is_some());
                unwritten += 1;
            }
            match r {
                Ok(v) => {
                    run.counts(|c| c.succeeded += 1);
                    results[i] = Some(v);
                }
                Err(e) => {
                    failed += 1;
                    run.counts(|c| c.failed += 1);
                    let (count, pct) = (run.tolerated_count.get(), run.tolerated_percentage.get());
                    if count.is_none() && pct.is_none() {
                        return Err((e, f.parent_event));
                    }
                    if step::map_exceeds_tolerance(failed, total, count, pct) {
                        return Err((
                            Failure {
                                error: Some(names::EXCEED_TOLERATED_FAILURE_THRESHOLD.into()),
                                cause: Some(
                                    "The specified tolerated failure threshold was exceeded".into(),
                                ),
                            },
                            f.parent_event,
                        ));
                    }
                    results[i] = Some(e.error_output());
                }
            }
            // Counts and finished children reach the store now and then, not per child.
            if let Some(sink) = self.sink {
                if unwritten >= 100 || last_write.elapsed() >= Duration::from_secs(1) {
                    sink.map_run(run);
                    sink.flush().await;
                    last_write = std::time::Instant::now();
                    unwritten = 0;
                }
            }
        }
        Ok(results.into_iter().map(Option::unwrap_or_default).collect())
    }

    /// A finished child execution as the store keeps it, with its two-event history.
    fn child_record(
        &self,
        run: &MapRunLive,
        index: usize,
        started: DateTime<Utc>,
        input: String,
        r: &Result<Value, Failure>,
        previous: Option<&ExecutionRecord>,
    ) -> (ExecutionRecord, Vec<HistoryEvent>) {
        let map_run_arn = run.record.borrow().arn.clone();
        let arn = child_execution_arn(&map_run_arn, index);
        let name = arn.rsplit(':').next().unwrap_or_default().to_string();
        let stopped = self.clock.now();
        let thread: Arc<str> = Arc::from("");
        // A child run again after a redrive continues its history after `ExecutionRedriven`.
        let last = previous.map_or(0, |p| p.last_event_id);
        let redrive_count = previous.map_or(0, |p| p.redrive_count + 1);
        let start_event = match previous {
            None => HistoryEvent {
                id: 1,
                previous_event_id: 0,
                timestamp: started,
                kind: "ExecutionStarted",
                details: Details::ExecutionStarted {
                    input: input.clone(),
                    role_arn: self.opts.role_arn.clone(),
                },
                thread: thread.clone(),
                seq: 0,
            },
            Some(_) => HistoryEvent {
                id: last + 1,
                previous_event_id: last,
                timestamp: started,
                kind: "ExecutionRedriven",
                details: Details::Json(json!({ "redriveCount": redrive_count })),
                thread: Arc::from(REDRIVE_THREAD),
                seq: redrive_count,
            },
        };
        let (status, output, error, cause, end) = match r {
            Ok(v) => {
                let text = to_text(v);
                (
                    StoredStatus::Succeeded,
                    Some(text.clone()),
                    None,
                    None,
                    (
                        "ExecutionSucceeded",
                        Details::ExecutionSucceeded { output: text },
                    ),
                )
            }
            Err(f) => (
                StoredStatus::Failed,
                None,
                f.error.clone(),
                f.cause.clone(),
                (
                    "ExecutionFailed",
                    Details::ExecutionEnded {
                        error: f.error.clone(),
                        cause: f.cause.clone(),
                    },
                ),
            ),
        };
        let end_event = HistoryEvent {
            id: start_event.id + 1,
            previous_event_id: start_event.id,
            timestamp: stopped,
            kind: end.0,
            details: end.1,
            thread,
            seq: 1,
        };
        let rec = ExecutionRecord {
            arn,
            state_machine_arn: map_run_machine_arn(&map_run_arn),
            version_arn: None,
            alias_arn: None,
            name,
            status,
            input,
            output,
            error,
            cause,
            start_date: previous.map_or(started.timestamp_millis(), |p| p.start_date),
            stop_date: Some(stopped.timestamp_millis()),
            redrive_count,
            redrive_date: previous.map(|_| started.timestamp_millis()),
            parent_arn: Some(map_run_arn),
            definition: String::new(),
            role_arn: self.opts.role_arn.clone(),
            revision_id: String::new(),
            last_event_id: last + 2,
            test_case: None,
            parent_task: None,
        };
        (rec, vec![start_event, end_event])
    }

    fn map_run_arn(&self, thread: &Thread, map: &MapState) -> String {
        let prefix = self
            .opts
            .state_machine_arn
            .replacen(":stateMachine:", ":mapRun:", 1);
        let label = map.label.clone().unwrap_or_else(|| self.uuid(thread));
        format!("{prefix}/{label}:{}", self.uuid(thread))
    }

    fn uuid(&self, thread: &Thread) -> String {
        let mut bytes = [0u8; 16];
        thread.rng().fill(&mut bytes);
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let h: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

/// `…:mapRun:<machine>/<label>:<id>` → `…:stateMachine:<machine>/<label>`: what a Map Run's
/// children run.
fn map_run_machine_arn(map_run_arn: &str) -> String {
    let base = map_run_arn.rsplit_once(':').map_or(map_run_arn, |(b, _)| b);
    base.replacen(":mapRun:", ":stateMachine:", 1)
}

/// A Map Run's child execution for item `index`: `…:execution:<machine>/<label>:<id>`, the id
/// derived from the Map Run and the index so a resumed or redriven run names it the same.
pub fn child_execution_arn(map_run_arn: &str, index: usize) -> String {
    use sha2::{Digest, Sha256};
    let base = map_run_arn.rsplit_once(':').map_or(map_run_arn, |(b, _)| b);
    let mut h = Sha256::new();
    h.update(map_run_arn.as_bytes());
    h.update((index as u64).to_le_bytes());
    let mut b: [u8; 16] = [0; 16];
    b.copy_from_slice(&h.finalize()[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x: String = b.iter().map(|v| format!("{v:02x}")).collect();
    format!(
        "{}:{}-{}-{}-{}-{}",
        base.replacen(":mapRun:", ":execution:", 1),
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// What a JSONata state's expressions see.
fn jscope<'a>(
    input: &'a Value,
    result: Option<&'a Value>,
    error_output: Option<&'a Value>,
    context: &'a Value,
    vars: &'a Vars,
) -> JsonataScope<'a> {
    JsonataScope {
        states: StatesBinding {
            input,
            result,
            error_output,
            context,
        },
        variables: vars,
    }
}

/// Where a fan-out's children hang: their parent thread and state entry (for thread keys),
/// which attempt of the state this is, and how they are scheduled.
#[derive(Clone, Copy)]
struct FanOut<'a> {
    parent: &'a Thread,
    entered: u64,
    attempt: u64,
    /// Children of a distributed Map: their events are not part of this history.
    silent: bool,
    first_index: usize,
    parent_event: u64,
    limit: usize,
    shared: &'a Rc<Vars>,
    /// Set for Map iterations (they get iteration events), unset for Parallel branches.
    map_name: Option<&'a str>,
}

/// The answer a recorded task event carries (`TaskSucceeded`, `TaskFailed`, …), if it is one.
/// A task answered through a token (`by_token`) keeps an absent error or cause absent
/// (SendTaskFailure without them); other failures read an absent cause as empty, as they were
/// raised.
fn recorded_task_outcome(e: &HistoryEvent, by_token: bool) -> Option<Result<Value, Failure>> {
    let details = e.details_json()?;
    let text = |k: &str| details.get(k).and_then(Value::as_str).map(str::to_string);
    match e.kind {
        "TaskSucceeded" | "LambdaFunctionSucceeded" | "ActivitySucceeded" => {
            let out = text("output").unwrap_or_else(|| "null".into());
            Some(Ok(serde_json::from_str(&out).unwrap_or(Value::Null)))
        }
        "TaskFailed" | "ActivityFailed" if by_token => Some(Err(Failure {
            error: text("error"),
            cause: text("cause"),
        })),
        "TaskFailed" | "ActivityFailed" | "LambdaFunctionFailed" => Some(Err(StateError::new(
            text("error").unwrap_or_default(),
            text("cause").unwrap_or_default(),
        )
        .into())),
        "TaskTimedOut" | "LambdaFunctionTimedOut" | "ActivityTimedOut" => {
            Some(Err(StateError::new(names::TIMEOUT, "").into()))
        }
        _ => None,
    }
}

/// The token an activity or callback task waits on, with what its record needs.
struct TokenWait<'a> {
    token: &'a str,
    params: &'a Value,
    timeout: Option<u64>,
    heartbeat: Option<u64>,
}

/// The error a heartbeat timeout records. AWS's histories show `States.Timeout` for it (corpus:
/// `test_heartbeat_timeout`), not `States.HeartbeatTimeout`.
const HEARTBEAT_TIMEOUT_ERROR: &str = names::TIMEOUT;

/// Milliseconds from `now` until `deadline`, as a sleep (zero when overdue).
fn until(deadline: i64, now: i64) -> Duration {
    Duration::from_millis(u64::try_from(deadline.saturating_sub(now)).unwrap_or(0))
}

/// How a state ends.
enum Flow {
    /// Take the state's own transition (Next or End).
    Continue {
        output: Value,
        assigned: Option<Map<String, Value>>,
    },
    /// Go to a given state (a Choice's pick, a Catcher's Next).
    Goto {
        next: StateId,
        output: Value,
        assigned: Option<Map<String, Value>>,
    },
    Fail(Failure),
}

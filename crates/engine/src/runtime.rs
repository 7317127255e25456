//! The server's execution runtime: runs many executions at once, durably for Standard ones.
//!
//! Executions are single-threaded futures (`Rc`-based, no locks on the hot path), so the
//! runtime shards them over worker threads, each a current-thread tokio runtime with a
//! `LocalSet`; an execution lives on the shard its ARN hashes to. Callers (the API, on any
//! thread) send commands over channels.
//!
//! Durability: a Standard execution's record is created RUNNING before it starts; its events
//! go to the store through a `StoreSink` (flushed before task calls, timers and the end). On
//! start-up every RUNNING execution is resumed from its stored events by replay (see
//! `run::ReplayLog`): nothing recorded twice, nothing lost; overdue timers fire at once.
//!
//! Activities and callbacks: executions wait on task tokens kept in the store (`tokens`);
//! workers and callers answer through [`Runtime::get_activity_task`] and the
//! `send_task_*` methods, which work whether or not the execution is loaded.
//!
//! Parking: an execution that only waits (long Waits and retry delays, unanswered tokens) is
//! unloaded: its future is dropped, a durable `park` timer records its wake-up, and the worker
//! keeps only its ARN and wake-up time. A due timer, an answer to one of its tokens or a stop
//! resumes it by replay, like a restart does (see `run::Idleness` and docs/architecture.md).

use crate::durable::{from_row, millis, StoreSink};
use crate::history::{Details, HistoryEvent};
use crate::run::{
    execute_parkable, ExecutionOutcome, ExecutionStatus, Idleness, ParkPlan, ReplayLog, RunOptions,
};
use crate::tasks::{TaskHandler, TaskRequest, Unconfigured};
use crate::tokens::{Broker, TokenBroker, TokenError, TokenService};
use chrono::Utc;
use futures::future::LocalBoxFuture;
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use stepwise_asl::error::StateError;
use stepwise_asl::StateMachine;
use stepwise_store::{
    ExecutionRecord, ExecutionStatus as StoredStatus, ExecutionUpdate, HistoryEventRow,
    MapRunRecord, MapRunStatus, PageRequest, ParentTask, StateMachineRecord, StateMachineType,
    Store,
};
use stepwise_store::{TaskTokenRecord, TaskTokenStatus, TimerRecord, WriteOp};
use tokio::sync::{mpsc, oneshot};

#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    pub workers: usize,
    pub region: String,
    pub account: String,
}

#[derive(Debug, Clone)]
pub struct StartRequest {
    pub state_machine: StateMachineRecord,
    pub version_arn: Option<String>,
    pub alias_arn: Option<String>,
    pub name: String,
    /// JSON text, already validated by the caller.
    pub input: String,
    pub trace_header: Option<String>,
    /// The mock test case (Step Functions Local's `stateMachineArn#TestCaseName`), already
    /// checked by the caller; handed to every task call and kept in the execution's record.
    pub test_case: Option<String>,
    /// Started by another execution's Task (`states:startExecution…`, or an input naming it
    /// in `AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID`).
    pub parent: Option<ParentLink>,
}

/// Which execution started this one, and (`.sync`) the task token its parent waits on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentLink {
    pub execution_arn: String,
    pub task: Option<ParentTask>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedExecution {
    pub execution_arn: String,
    pub start_date: i64,
}

#[derive(Debug, Clone)]
pub struct SyncResult {
    pub execution_arn: String,
    pub state_machine_arn: String,
    pub name: String,
    pub start_date: i64,
    pub stop_date: i64,
    /// SUCCEEDED, FAILED or TIMED_OUT.
    pub status: String,
    pub input: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub billed_duration_ms: u64,
    pub billed_memory_mb: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Store(#[from] stepwise_store::Error),
    #[error("Execution Already Exists: '{0}'")]
    ExecutionAlreadyExists(String),
    #[error("Execution Does Not Exist: '{0}'")]
    ExecutionDoesNotExist(String),
    #[error("Invalid State Machine Definition: '{0}'")]
    InvalidDefinition(String),
    /// RedriveExecution refused: the reason, as DescribeExecution's `redriveStatusReason`.
    #[error("{0}")]
    NotRedrivable(String),
    #[error("Map Run Does Not Exist: '{0}'")]
    MapRunDoesNotExist(String),
    #[error("{0}")]
    Internal(String),
}

enum Command {
    Run(Box<RunJob>),
    Stop {
        arn: String,
        error: Option<String>,
        cause: Option<String>,
        reply: oneshot::Sender<Result<i64, RuntimeError>>,
    },
    UpdateMapRun {
        arn: String,
        update: MapRunSettings,
        reply: oneshot::Sender<Option<stepwise_store::MapRunRecord>>,
    },
    /// One of the execution's tokens was answered or taken: resume it if it is parked.
    Wake(String),
    /// An execution found parked in the store at start-up (`wake_at`: its timer, if any).
    Adopt {
        arn: String,
        wake_at: Option<i64>,
    },
    Shutdown,
}

/// What UpdateMapRun changes (`None`: left as it is).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MapRunSettings {
    pub max_concurrency: Option<u64>,
    pub tolerated_failure_percentage: Option<f64>,
    pub tolerated_failure_count: Option<u64>,
}

struct RunJob {
    machine: Arc<StateMachine>,
    input: Value,
    opts: RunOptions,
    replay: ReplayLog,
    /// Standard executions persist; Express ones don't.
    durable: bool,
    /// The execution's redrive count and date, for its record's terminal update.
    redrive: (u32, Option<i64>),
    reply: Option<oneshot::Sender<ExecutionOutcome>>,
    /// A `.sync` child: its end answers the parent's task token.
    notify_parent: bool,
}

/// Handle to the runtime; cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    config: RuntimeConfig,
    shards: Arc<Vec<mpsc::UnboundedSender<Command>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    shared: Arc<Shared>,
    tokens: Arc<TokenService>,
}

/// What the API side and the workers share.
struct Shared {
    store: Arc<dyn Store>,
    config: RuntimeConfig,
    /// Compiled definitions by state machine ARN: validating and compiling on every start
    /// (or every resume of a parked execution) would dominate. Entries are checked against the
    /// definition text, so an update is picked up at once.
    compiled: Mutex<HashMap<String, (String, Arc<StateMachine>)>>,
    /// Parking threshold in ms (negative: never park); see [`Runtime::set_park_after`].
    park_after_ms: AtomicI64,
    /// Executions whose future is in memory.
    live: AtomicUsize,
    /// Executions parked: only their wake-up is in memory.
    parked: AtomicUsize,
    /// Answers parents' task tokens when `.sync` children end.
    tokens: Arc<TokenService>,
}

impl Shared {
    /// The compiled definition, from the cache when its text is unchanged.
    fn compiled(&self, arn: &str, definition: &str) -> Result<Arc<StateMachine>, RuntimeError> {
        let cache = || self.compiled.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((text, machine)) = cache().get(arn) {
            if text == definition {
                return Ok(machine.clone());
            }
        }
        let machine = Arc::new(compile(definition)?);
        let mut c = cache();
        if c.len() >= 10_000 {
            c.clear();
        }
        c.insert(arn.to_string(), (definition.to_string(), machine.clone()));
        Ok(machine)
    }

    fn park_after(&self) -> Option<std::time::Duration> {
        u64::try_from(self.park_after_ms.load(Ordering::Relaxed))
            .ok()
            .map(std::time::Duration::from_millis)
    }

    /// A stored RUNNING execution as a job that resumes it by replay.
    fn load_job(&self, rec: ExecutionRecord) -> Result<RunJob, RuntimeError> {
        let store = &self.store;
        let mut rows: Vec<HistoryEventRow> = Vec::new();
        loop {
            let chunk =
                store.events_after(&rec.arn, rows.last().map(|r| r.id).unwrap_or(0), 1000)?;
            if chunk.is_empty() {
                break;
            }
            rows.extend(chunk);
        }
        let events: Vec<HistoryEvent> = rows
            .iter()
            .map(from_row)
            .collect::<Result<_, _>>()
            .map_err(RuntimeError::Internal)?;
        drop(rows);
        let machine = self.compiled(&rec.state_machine_arn, &rec.definition)?;
        let input: Value = serde_json::from_str(&rec.input).unwrap_or(Value::Null);
        let sm_name = rec
            .state_machine_arn
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_string();
        let opts = options(&rec, &sm_name, false, false);
        tracing::debug!(execution = %rec.arn, events = events.len(), "resuming");
        Ok(RunJob {
            machine,
            input,
            opts,
            replay: ReplayLog::new(events),
            durable: true,
            redrive: (rec.redrive_count, rec.redrive_date),
            reply: None,
            notify_parent: rec.parent_task.is_some(),
        })
    }
}

/// The timer key of a parked execution's wake-up (`fire_at` = `i64::MAX`: none).
const PARK_KEY: &str = "park";
/// Timer keys `tok:S:<token>` / `tok:R:<token>`: a token a parked execution waits on, not yet
/// taken / taken by a worker. Never due; read at start-up to tell whether it changed.
const TOKEN_KEY: &str = "tok:";

/// Default parking threshold (`STEPWISE_PARK_AFTER_MS` overrides it; `off` disables parking).
pub const DEFAULT_PARK_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

fn default_park_after_ms() -> i64 {
    match std::env::var("STEPWISE_PARK_AFTER_MS") {
        Ok(v) if v.trim().eq_ignore_ascii_case("off") => -1,
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or(DEFAULT_PARK_AFTER.as_millis() as i64),
        Err(_) => DEFAULT_PARK_AFTER.as_millis() as i64,
    }
}

/// The store rows that record a parked execution's wake-ups, in one write.
fn park_rows(arn: &str, plan: &ParkPlan) -> WriteOp {
    let mut ops = vec![WriteOp::SetTimer(TimerRecord {
        execution_arn: arn.to_string(),
        key: PARK_KEY.into(),
        fire_at: plan.wake_at.unwrap_or(i64::MAX),
    })];
    for (token, started) in &plan.tokens {
        ops.push(WriteOp::SetTimer(TimerRecord {
            execution_arn: arn.to_string(),
            key: format!("{TOKEN_KEY}{}:{token}", if *started { 'R' } else { 'S' }),
            fire_at: i64::MAX,
        }));
    }
    WriteOp::Group(ops)
}

/// Removes a parked execution's rows (it is running again, or ended).
fn unpark_rows(store: &dyn Store, arn: &str) -> Result<(), stepwise_store::Error> {
    let ops: Vec<WriteOp> = store
        .timers_for(arn)?
        .into_iter()
        .filter(|t| t.key == PARK_KEY || t.key.starts_with(TOKEN_KEY))
        .map(|t| WriteOp::CancelTimer {
            execution_arn: t.execution_arn,
            key: t.key,
        })
        .collect();
    if !ops.is_empty() {
        store.write(WriteOp::Group(ops))?;
    }
    Ok(())
}

/// At start-up: whether `timers` (an open execution's) say it is parked and nothing it waits
/// on changed since; then its wake-up time (`Some(None)`: tokens only).
fn still_parked(
    store: &dyn Store,
    timers: &[TimerRecord],
) -> Result<Option<Option<i64>>, stepwise_store::Error> {
    let Some(park) = timers.iter().find(|t| t.key == PARK_KEY) else {
        return Ok(None);
    };
    for t in timers {
        let Some(rest) = t.key.strip_prefix(TOKEN_KEY) else {
            continue;
        };
        let (state, token) = rest.split_at(rest.len().min(2));
        let expected = match state {
            "S:" => TaskTokenStatus::Scheduled,
            "R:" => TaskTokenStatus::Started,
            _ => return Ok(None),
        };
        match store.get_task_token(token) {
            Ok(r) if r.status == expected => {}
            Ok(_) | Err(stepwise_store::Error::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    Ok(Some((park.fire_at != i64::MAX).then_some(park.fire_at)))
}

/// The handler executions see: the configured one for calls, plus the runtime's tokens.
struct Served {
    inner: Box<dyn TaskHandler>,
    broker: Broker,
}

impl TaskHandler for Served {
    fn invoke(&self, req: TaskRequest) -> LocalBoxFuture<'_, Result<Value, StateError>> {
        self.inner.invoke(req)
    }
    fn tokens(&self) -> Option<&dyn TokenBroker> {
        Some(&self.broker)
    }
    fn execution_ended(&self, execution_arn: &str) {
        self.inner.execution_ended(execution_arn)
    }
    fn completes_by_token(&self, req: &TaskRequest) -> bool {
        self.inner.completes_by_token(req)
    }
}

/// An activity task handed to a worker by [`Runtime::get_activity_task`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityTask {
    pub task_token: String,
    /// JSON text.
    pub input: String,
}

fn shard_of(arn: &str, n: usize) -> usize {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    arn.hash(&mut h);
    (h.finish() % n.max(1) as u64) as usize
}

fn compile(definition: &str) -> Result<StateMachine, RuntimeError> {
    StateMachine::from_text(definition, &Default::default()).map_err(|d| {
        RuntimeError::InvalidDefinition(d.first().map(|d| d.aws_text()).unwrap_or_default())
    })
}

impl Runtime {
    /// Starts the workers and resumes every RUNNING Standard execution in the store.
    pub fn start(store: Arc<dyn Store>, config: RuntimeConfig) -> Result<Runtime, RuntimeError> {
        Self::start_with_tasks(store, config, Arc::new(|| Box::new(Unconfigured)))
    }

    /// Like `start`, with the handler that performs Task states' calls to integrations (one
    /// per worker thread). Activities and the waiting half of `.waitForTaskToken` are the
    /// runtime's own: a handler answering a callback's call lets the caller send the token back
    /// with [`Runtime::send_task_success`].
    pub fn start_with_tasks(
        store: Arc<dyn Store>,
        config: RuntimeConfig,
        tasks: Arc<dyn Fn() -> Box<dyn TaskHandler> + Send + Sync>,
    ) -> Result<Runtime, RuntimeError> {
        let n = config.workers.max(1);
        let tokens = TokenService::new(store.clone());
        let shared = Arc::new(Shared {
            store: store.clone(),
            config: config.clone(),
            compiled: Mutex::default(),
            park_after_ms: AtomicI64::new(default_park_after_ms()),
            live: AtomicUsize::new(0),
            parked: AtomicUsize::new(0),
            tokens: tokens.clone(),
        });
        let (senders, receivers): (Vec<_>, Vec<_>) =
            (0..n).map(|_| mpsc::unbounded_channel()).unzip();
        let shards = Arc::new(senders);
        // Answers to tokens reach parked executions through their worker.
        let wake_shards = shards.clone();
        tokens.set_waker(Box::new(move |arn: &str| {
            let shard = &wake_shards[shard_of(arn, wake_shards.len())];
            let _ = shard.send(Command::Wake(arn.to_string()));
        }));
        let mut threads = Vec::with_capacity(n);
        for (i, rx) in receivers.into_iter().enumerate() {
            let inner_tasks = tasks.clone();
            let broker = Broker(tokens.clone());
            let tasks: Arc<dyn Fn() -> Box<dyn TaskHandler> + Send + Sync> = Arc::new(move || {
                Box::new(Served {
                    inner: inner_tasks(),
                    broker: broker.clone(),
                })
            });
            let shared = shared.clone();
            let handle = std::thread::Builder::new()
                .name(format!("stepwise-worker-{i}"))
                .spawn(move || worker(i, rx, shared, tasks))
                .map_err(|e| RuntimeError::Internal(format!("cannot start a worker: {e}")))?;
            threads.push(handle);
        }
        let rt = Runtime {
            inner: Arc::new(Inner {
                store,
                config,
                shards,
                threads: Mutex::new(threads),
                shared,
                tokens,
            }),
        };
        rt.resume_open_executions()?;
        Ok(rt)
    }

    /// Parking: a Standard execution whose every line of execution waits on a durable wait (a
    /// Wait or retry delay ending at least `after` from now, or a task token unanswered for
    /// `after`) is unloaded: its future is dropped, a durable timer records its wake-up, and a
    /// timer, an answer or StopExecution resumes it by replay. `None` keeps executions loaded.
    /// Default [`DEFAULT_PARK_AFTER`] (or `STEPWISE_PARK_AFTER_MS`); applies to waits that
    /// begin after the call.
    pub fn set_park_after(&self, after: Option<std::time::Duration>) {
        let ms = after.map_or(-1, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        self.inner.shared.park_after_ms.store(ms, Ordering::Relaxed);
    }

    /// Executions whose future is loaded (running, or waiting in memory).
    pub fn live_executions(&self) -> usize {
        self.inner.shared.live.load(Ordering::SeqCst)
    }

    /// Executions parked: unloaded until a timer, a token answer or a stop wakes them.
    pub fn parked_executions(&self) -> usize {
        self.inner.shared.parked.load(Ordering::SeqCst)
    }

    /// The compiled definition of `sm`, from the cache when its text is unchanged.
    fn compiled(&self, sm: &StateMachineRecord) -> Result<Arc<StateMachine>, RuntimeError> {
        self.inner.shared.compiled(&sm.arn, &sm.definition)
    }

    fn send(&self, arn: &str, cmd: Command) -> Result<(), RuntimeError> {
        let shard = &self.inner.shards[shard_of(arn, self.inner.shards.len())];
        shard
            .send(cmd)
            .map_err(|_| RuntimeError::Internal("the runtime is shut down".into()))
    }

    fn execution_arn(&self, sm: &StateMachineRecord, name: &str, express: bool) -> String {
        let c = &self.inner.config;
        if express {
            let id = uuid_v4();
            format!(
                "arn:aws:states:{}:{}:express:{}:{name}:{id}",
                c.region, c.account, sm.name
            )
        } else {
            format!(
                "arn:aws:states:{}:{}:execution:{}:{name}",
                c.region, c.account, sm.name
            )
        }
    }

    /// Records the execution (RUNNING) and runs it in the background.
    pub fn start_execution(&self, req: StartRequest) -> Result<StartedExecution, RuntimeError> {
        let machine = self.compiled(&req.state_machine)?;
        let input: Value = serde_json::from_str(&req.input)
            .map_err(|e| RuntimeError::Internal(format!("input is not JSON: {e}")))?;
        let express = req.state_machine.kind == StateMachineType::Express;
        let arn = self.execution_arn(&req.state_machine, &req.name, express);
        let rec = ExecutionRecord {
            arn: arn.clone(),
            state_machine_arn: req.state_machine.arn.clone(),
            version_arn: req.version_arn.clone(),
            alias_arn: req.alias_arn.clone(),
            name: req.name.clone(),
            status: StoredStatus::Running,
            input: req.input.clone(),
            output: None,
            error: None,
            cause: None,
            start_date: millis(Utc::now()),
            stop_date: None,
            redrive_count: 0,
            redrive_date: None,
            parent_arn: req.parent.as_ref().map(|p| p.execution_arn.clone()),
            definition: req.state_machine.definition.clone(),
            role_arn: req.state_machine.role_arn.clone(),
            revision_id: req.state_machine.revision_id.clone(),
            last_event_id: 0,
            test_case: req.test_case.clone(),
            parent_task: req.parent.as_ref().and_then(|p| p.task.clone()),
        };
        if !express {
            match self.inner.store.create_execution(rec.clone()) {
                Ok(()) => {}
                // StartExecution is idempotent for the same name and input while RUNNING.
                Err(stepwise_store::Error::AlreadyExists {
                    identical: true, ..
                }) => {
                    let existing = self.inner.store.get_execution(&arn)?;
                    return Ok(StartedExecution {
                        execution_arn: arn,
                        start_date: existing.start_date,
                    });
                }
                Err(stepwise_store::Error::AlreadyExists { .. }) => {
                    return Err(RuntimeError::ExecutionAlreadyExists(arn))
                }
                Err(e) => return Err(e.into()),
            }
        }
        let opts = options(&rec, &req.state_machine.name, express, false);
        let job = RunJob {
            machine,
            input,
            opts,
            replay: ReplayLog::default(),
            durable: !express,
            redrive: (0, None),
            reply: None,
            notify_parent: rec.parent_task.is_some(),
        };
        self.send(&arn, Command::Run(Box::new(job)))?;
        Ok(StartedExecution {
            execution_arn: arn,
            start_date: rec.start_date,
        })
    }

    /// Express only: runs to completion and returns the result (blocks the calling thread).
    pub fn start_sync_execution(&self, req: StartRequest) -> Result<SyncResult, RuntimeError> {
        let machine = self.compiled(&req.state_machine)?;
        let input: Value = serde_json::from_str(&req.input)
            .map_err(|e| RuntimeError::Internal(format!("input is not JSON: {e}")))?;
        let arn = self.execution_arn(&req.state_machine, &req.name, true);
        let start = Utc::now();
        let rec = ExecutionRecord {
            arn: arn.clone(),
            state_machine_arn: req.state_machine.arn.clone(),
            version_arn: req.version_arn,
            alias_arn: req.alias_arn,
            name: req.name.clone(),
            status: StoredStatus::Running,
            input: req.input.clone(),
            output: None,
            error: None,
            cause: None,
            start_date: millis(start),
            stop_date: None,
            redrive_count: 0,
            redrive_date: None,
            parent_arn: None,
            definition: String::new(),
            role_arn: req.state_machine.role_arn.clone(),
            revision_id: String::new(),
            last_event_id: 0,
            test_case: req.test_case.clone(),
            parent_task: None,
        };
        let mut opts = options(&rec, &req.state_machine.name, true, true);
        opts.record_history = false;
        let (tx, rx) = oneshot::channel();
        let job = RunJob {
            machine,
            input,
            opts,
            replay: ReplayLog::default(),
            durable: false,
            redrive: (0, None),
            reply: Some(tx),
            notify_parent: false,
        };
        self.send(&arn, Command::Run(Box::new(job)))?;
        let outcome = rx
            .blocking_recv()
            .map_err(|_| RuntimeError::Internal("the execution was dropped".into()))?;
        let stop = Utc::now();
        let duration = (stop - start).num_milliseconds().max(0) as u64;
        Ok(SyncResult {
            execution_arn: arn,
            state_machine_arn: req.state_machine.arn,
            name: req.name,
            start_date: millis(start),
            stop_date: millis(stop),
            status: outcome.status.as_str().to_string(),
            input: req.input,
            output: outcome.output,
            error: outcome.error,
            cause: outcome.cause,
            // AWS bills Express in 100 ms steps and 64 MB memory units.
            billed_duration_ms: duration.div_ceil(100).max(1) * 100,
            billed_memory_mb: 64,
        })
    }

    /// Stops a running Standard execution: it records ExecutionAborted and ends.
    pub fn stop_execution(
        &self,
        execution_arn: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<i64, RuntimeError> {
        let rec = match self.inner.store.get_execution(execution_arn) {
            Ok(r) => r,
            Err(stepwise_store::Error::NotFound(_)) => {
                return Err(RuntimeError::ExecutionDoesNotExist(
                    execution_arn.to_string(),
                ))
            }
            Err(e) => return Err(e.into()),
        };
        if rec.status != StoredStatus::Running {
            // AWS answers with the existing stop date for an execution that already ended.
            return Ok(rec.stop_date.unwrap_or(rec.start_date));
        }
        let (tx, rx) = oneshot::channel();
        self.send(
            execution_arn,
            Command::Stop {
                arn: execution_arn.to_string(),
                error,
                cause,
                reply: tx,
            },
        )?;
        let stopped = rx
            .blocking_recv()
            .map_err(|_| RuntimeError::Internal("the runtime is shut down".into()))??;
        // Its open tasks end with it: workers can no longer take or answer them.
        self.inner.tokens.cancel_execution(execution_arn)?;
        // The `.sync` executions it started end with it (theirs in turn).
        for child in sync_children(
            &*self.inner.store,
            execution_arn,
            Some(StoredStatus::Running),
        )? {
            if let Err(e) = self.stop_execution(&child.arn, None, None) {
                tracing::warn!(execution = %child.arn, error = %e, "cannot stop a .sync child");
            }
        }
        Ok(stopped)
    }

    /// RedriveExecution: restarts a FAILED, TIMED_OUT or ABORTED Standard execution from its
    /// unsuccessful state(s). Appends `ExecutionRedriven` (after the terminal event) and marks
    /// the execution RUNNING with its redrive count and date in one write, then runs it by
    /// replay (see `run::ReplayLog`). Returns the redrive date (epoch ms).
    pub fn redrive_execution(&self, execution_arn: &str) -> Result<i64, RuntimeError> {
        let store = &self.inner.store;
        for _ in 0..10 {
            let rec = match store.get_execution(execution_arn) {
                Ok(r) => r,
                Err(stepwise_store::Error::NotFound(_)) => {
                    return Err(RuntimeError::ExecutionDoesNotExist(
                        execution_arn.to_string(),
                    ))
                }
                Err(e) => return Err(e.into()),
            };
            let now = Utc::now();
            redrivable(&rec, millis(now)).map_err(RuntimeError::NotRedrivable)?;
            let count = rec.redrive_count + 1;
            let event = HistoryEvent {
                id: rec.last_event_id + 1,
                previous_event_id: rec.last_event_id,
                timestamp: now,
                kind: "ExecutionRedriven",
                details: Details::Json(serde_json::json!({ "redriveCount": count })),
                thread: Arc::from(crate::run::REDRIVE_THREAD),
                seq: count,
            };
            let update = ExecutionUpdate {
                status: StoredStatus::Running,
                output: None,
                error: None,
                cause: None,
                stop_date: None,
                redrive_count: count,
                redrive_date: Some(millis(now)),
            };
            match store.append_events(
                execution_arn,
                vec![crate::durable::to_row(&event)],
                Some(update),
            ) {
                Ok(()) => {}
                // Someone else moved the history (another redrive): look again.
                Err(stepwise_store::Error::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
            let rec = store.get_execution(execution_arn)?;
            self.resume(rec)?;
            return Ok(millis(now));
        }
        Err(RuntimeError::Internal(format!(
            "cannot redrive {execution_arn}: its history keeps changing"
        )))
    }

    /// UpdateMapRun: new settings for a Map Run, applied to the running Map when it runs
    /// here (items not yet started follow them), stored in its record either way.
    pub fn update_map_run(
        &self,
        map_run_arn: &str,
        update: MapRunSettings,
    ) -> Result<MapRunRecord, RuntimeError> {
        let store = &self.inner.store;
        let mut rec = match store.get_map_run(map_run_arn) {
            Ok(r) => r,
            Err(stepwise_store::Error::NotFound(_)) => {
                return Err(RuntimeError::MapRunDoesNotExist(map_run_arn.to_string()))
            }
            Err(e) => return Err(e.into()),
        };
        if rec.status == MapRunStatus::Running {
            let (tx, rx) = oneshot::channel();
            self.send(
                &rec.execution_arn,
                Command::UpdateMapRun {
                    arn: map_run_arn.to_string(),
                    update,
                    reply: tx,
                },
            )?;
            if let Ok(Some(live)) = rx.blocking_recv() {
                return Ok(live);
            }
        }
        if let Some(m) = update.max_concurrency {
            rec.max_concurrency = m;
        }
        if let Some(p) = update.tolerated_failure_percentage {
            rec.tolerated_failure_percentage = p;
        }
        if let Some(c) = update.tolerated_failure_count {
            rec.tolerated_failure_count = c;
        }
        store.put_map_run(rec.clone())?;
        Ok(rec)
    }

    /// GetActivityTask: the oldest task scheduled on the activity, waiting up to `wait` for one
    /// (blocks the calling thread; waiting workers are served oldest first). `None` when none
    /// came in time.
    pub fn get_activity_task(
        &self,
        activity_arn: &str,
        worker_name: Option<String>,
        wait: std::time::Duration,
    ) -> Result<Option<ActivityTask>, TokenError> {
        let task = self
            .inner
            .tokens
            .get_activity_task(activity_arn, worker_name, wait)?;
        Ok(task.map(|t: TaskTokenRecord| ActivityTask {
            task_token: t.token,
            input: t.input.unwrap_or_else(|| "{}".into()),
        }))
    }

    /// Whether `token` names an open task (`InvalidToken` for one never issued, which AWS
    /// reports before a bad output).
    pub fn check_task_token(&self, token: &str) -> Result<(), TokenError> {
        self.inner.tokens.check(token)
    }

    /// SendTaskSuccess: `output` is JSON text.
    pub fn send_task_success(&self, token: &str, output: String) -> Result<(), TokenError> {
        self.inner.tokens.send_success(token, output)
    }

    /// SendTaskFailure.
    pub fn send_task_failure(
        &self,
        token: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<(), TokenError> {
        self.inner.tokens.send_failure(token, error, cause)
    }

    /// SendTaskHeartbeat.
    pub fn send_task_heartbeat(&self, token: &str) -> Result<(), TokenError> {
        self.inner.tokens.send_heartbeat(token)
    }

    /// The first step of shutting down, for when the stop is decided (SIGTERM): GetActivityTask
    /// long polls under way answer at once without a task, so a graceful HTTP drain does not
    /// wait up to 60 s for them. [`Runtime::shutdown`] does it too.
    pub fn release_pollers(&self) {
        self.inner.tokens.shutting_down();
    }

    /// Stops the workers. Running executions stay RUNNING in the store and resume next start
    /// (their task tokens stay open and are waited on again).
    pub fn shutdown(&self) {
        self.inner.tokens.shutting_down();
        for s in self.inner.shards.iter() {
            let _ = s.send(Command::Shutdown);
        }
        let threads =
            std::mem::take(&mut *self.inner.threads.lock().unwrap_or_else(|e| e.into_inner()));
        for t in threads {
            let _ = t.join();
        }
    }

    /// At start-up: executions that were parked (and whose tokens did not change since) are
    /// only registered with their wake-up; the others are resumed by replay.
    fn resume_open_executions(&self) -> Result<(), RuntimeError> {
        let store = &self.inner.store;
        let mut page = PageRequest {
            max_results: 1000,
            next_token: None,
        };
        loop {
            let batch = store.open_executions(&page)?;
            for rec in batch.items {
                self.answer_ended_children(&rec.arn)?;
                let timers = store.timers_for(&rec.arn)?;
                match still_parked(&**store, &timers)? {
                    Some(wake_at) if self.inner.shared.park_after().is_some() => {
                        let arn = rec.arn.clone();
                        self.send(&rec.arn, Command::Adopt { arn, wake_at })?;
                    }
                    _ => {
                        unpark_rows(&**store, &rec.arn)?;
                        self.resume(rec)?;
                    }
                }
            }
            match batch.next_token {
                Some(t) => page.next_token = Some(t),
                None => return Ok(()),
            }
        }
    }

    /// At start-up: `.sync` children of `parent_arn` that ended while their answer to the
    /// parent was not recorded yet (a crash in between) answer now.
    fn answer_ended_children(&self, parent_arn: &str) -> Result<(), RuntimeError> {
        let store = &*self.inner.store;
        for child in sync_children(store, parent_arn, None)? {
            if child.status != StoredStatus::Running {
                answer_parent(store, &self.inner.tokens, &child.arn)?;
            }
        }
        Ok(())
    }

    fn resume(&self, rec: ExecutionRecord) -> Result<(), RuntimeError> {
        let arn = rec.arn.clone();
        let job = self.inner.shared.load_job(rec)?;
        self.send(&arn, Command::Run(Box::new(job)))
    }
}

fn options(rec: &ExecutionRecord, sm_name: &str, express: bool, synchronous: bool) -> RunOptions {
    RunOptions {
        state_machine_arn: rec.state_machine_arn.clone(),
        state_machine_name: sm_name.to_string(),
        execution_arn: rec.arn.clone(),
        execution_name: rec.name.clone(),
        role_arn: rec.role_arn.clone(),
        start_time: crate::durable::from_millis(rec.start_date),
        seed: seed_of(&rec.arn, rec.start_date),
        // Durable executions' events go to the store only: keeping the history in memory as
        // well would make a waiting execution cost its whole history.
        record_history: false,
        skip_waits: false,
        express,
        synchronous,
        test_case: rec.test_case.clone(),
    }
}

/// A per-execution seed, so a resumed execution draws the same random numbers.
fn seed_of(arn: &str, start: i64) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    arn.hash(&mut h);
    start.hash(&mut h);
    h.finish()
}

fn uuid_v4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// How long an Express execution may run.
pub const EXPRESS_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

fn express_timed_out() -> ExecutionOutcome {
    ExecutionOutcome {
        status: ExecutionStatus::TimedOut,
        output: None,
        error: Some(stepwise_asl::error::names::TIMEOUT.into()),
        cause: Some("The execution exceeded the 5 minute limit of Express workflows.".into()),
        history: Vec::new(),
    }
}

/// A loaded execution's entry on its worker.
struct Loaded {
    abort: tokio::task::AbortHandle,
    /// Set by a wake-up that arrives while the execution is loaded: if it then parks, it runs
    /// again at once (the answer may have reached it after its listener was gone).
    woken: Rc<Cell<bool>>,
}

/// Where a job comes from: ready to run, or a parked execution to load from the store.
enum Source {
    Ready(Box<RunJob>),
    Load(Rc<str>),
}

/// One worker thread's executions: loaded ones (futures on the `LocalSet`) and parked ones
/// (an entry and, when a timer wakes them, a place in `wheel`: about 200 bytes each).
struct Worker {
    index: usize,
    shared: Arc<Shared>,
    handler: Rc<dyn TaskHandler>,
    running: RefCell<HashMap<Rc<str>, Loaded>>,
    parked: RefCell<HashMap<Rc<str>, i64>>,
    wheel: RefCell<BTreeSet<(i64, Rc<str>)>>,
    /// The earliest wake-up moved: the loop sleeps again.
    rearm: tokio::sync::Notify,
    map_runs: crate::durable::MapRunRegistry,
}

fn wall_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Counts a loaded execution while its task lives (aborted ones too).
struct LiveGuard(Arc<Shared>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Worker {
    /// Runs (or loads, then runs) an execution as a local task.
    fn spawn(self: &Rc<Self>, arn: Rc<str>, source: Source) {
        if self.running.borrow().contains_key(&arn) {
            // Already loaded (e.g. the sweep loaded it as start-up resumed it): one instance
            // at a time, whatever asked.
            tracing::debug!(execution = %arn, "already loaded");
            return;
        }
        let woken = Rc::new(Cell::new(false));
        let w = self.clone();
        let key = arn.clone();
        let flag = woken.clone();
        self.shared.live.fetch_add(1, Ordering::SeqCst);
        let live = LiveGuard(self.shared.clone());
        let handle = tokio::task::spawn_local(async move {
            let _live = live;
            let job = match source {
                Source::Ready(job) => job,
                Source::Load(arn) => match w.load(&arn).await {
                    Some(job) => job,
                    None => {
                        w.unload(&key, &flag);
                        return;
                    }
                },
            };
            match w.run(*job, &flag).await {
                None => w.unload(&key, &flag),
                Some(plan) => {
                    // Written before the execution counts as parked: a restart finds it
                    // parked only if nothing it waits on changed since.
                    let store = w.shared.store.clone();
                    let rows = park_rows(&key, &plan);
                    let written = tokio::task::spawn_blocking(move || store.write(rows)).await;
                    if !matches!(written, Ok(Ok(_))) {
                        tracing::warn!(execution = %key, "cannot record a parked execution's timer");
                    }
                    w.unload(&key, &flag);
                    if flag.get() {
                        // Woken while it was parking.
                        w.spawn(key.clone(), Source::Load(key));
                    } else {
                        w.park(key, plan.wake_at);
                    }
                }
            }
        });
        self.running.borrow_mut().insert(
            arn,
            Loaded {
                abort: handle.abort_handle(),
                woken,
            },
        );
    }

    /// Forgets a loaded execution's entry (unless a newer one replaced it).
    fn unload(&self, key: &Rc<str>, flag: &Rc<Cell<bool>>) {
        let mut running = self.running.borrow_mut();
        if running.get(key).is_some_and(|l| Rc::ptr_eq(&l.woken, flag)) {
            running.remove(key);
            if running.capacity() > 64 && running.len() < running.capacity() / 4 {
                running.shrink_to_fit();
            }
        }
    }

    /// A parked execution, from the store: its rows go (it runs again), its job is rebuilt.
    async fn load(&self, arn: &Rc<str>) -> Option<Box<RunJob>> {
        let shared = self.shared.clone();
        let arn_owned = arn.to_string();
        let loaded = tokio::task::spawn_blocking(move || {
            unpark_rows(&*shared.store, &arn_owned)?;
            let rec = shared.store.get_execution(&arn_owned)?;
            if rec.status != StoredStatus::Running {
                return Ok(None);
            }
            shared.load_job(rec).map(Some)
        })
        .await;
        match loaded {
            Ok(Ok(job)) => job.map(Box::new),
            Ok(Err(e)) => {
                tracing::error!(execution = %arn, error = %e, "cannot resume a parked execution");
                None
            }
            Err(e) => {
                tracing::error!(execution = %arn, error = %e, "cannot resume a parked execution");
                None
            }
        }
    }

    /// Runs a job to its end (`None`), or until it parks (its plan; its future is dropped).
    /// `woken` is cleared as the future is dropped: wake-ups handled before were heard by the
    /// execution itself; one handled from then on means it must run again.
    async fn run(&self, job: RunJob, woken: &Cell<bool>) -> Option<ParkPlan> {
        let RunJob {
            machine,
            input,
            opts,
            replay,
            durable,
            redrive,
            reply,
            notify_parent,
        } = job;
        let sink = durable.then(|| {
            StoreSink::new(self.shared.store.clone(), opts.execution_arn.clone())
                .with_redrive(redrive.0, redrive.1)
                .with_registry(self.map_runs.clone())
        });
        let park_after = self
            .shared
            .park_after()
            .filter(|_| durable && !opts.express && reply.is_none());
        let idle = park_after.map(Idleness::new);
        let mut run = Box::pin(execute_parkable(
            &machine,
            input,
            &opts,
            self.handler.as_ref(),
            &replay,
            sink.as_ref().map(|s| s as &dyn crate::run::EventSink),
            idle.as_ref(),
        ));
        let outcome = if opts.express {
            // Express executions may run five minutes at most.
            match tokio::time::timeout(EXPRESS_LIMIT, run).await {
                Ok(o) => o,
                Err(_) => express_timed_out(),
            }
        } else if let (Some(idle), Some(after), Some(sink)) = (&idle, park_after, &sink) {
            match park_when_idle(run.as_mut(), idle, after, sink).await {
                Ok(o) => o,
                Err(plan) => {
                    crate::tokens::while_parking(|| drop(run));
                    woken.set(false);
                    return Some(plan);
                }
            }
        } else {
            run.await
        };
        // Ended: per-execution state in the handler (mock call counters) can go. Cheap: one
        // map removal on this worker's own handler, which every call of the execution used.
        self.handler.execution_ended(&opts.execution_arn);
        if let Some(reply) = reply {
            let _ = reply.send(outcome);
        }
        if notify_parent {
            let shared = self.shared.clone();
            let arn = opts.execution_arn.clone();
            let answered = tokio::task::spawn_blocking(move || {
                answer_parent(&*shared.store, &shared.tokens, &arn)
            })
            .await;
            if !matches!(answered, Ok(Ok(()))) {
                tracing::warn!(execution = %opts.execution_arn, "cannot answer the parent of a .sync child (retried at the next start)");
            }
        }
        None
    }

    fn park(&self, key: Rc<str>, wake_at: Option<i64>) {
        let at = wake_at.unwrap_or(i64::MAX);
        if self.parked.borrow_mut().insert(key.clone(), at).is_none() {
            self.shared.parked.fetch_add(1, Ordering::SeqCst);
        }
        if wake_at.is_some() {
            self.wheel.borrow_mut().insert((at, key));
            self.rearm.notify_one();
        }
    }

    /// Takes an execution out of the parked set; whether it was there.
    fn unpark(&self, arn: &str) -> Option<Rc<str>> {
        let (key, at) = self.parked.borrow_mut().remove_entry(arn)?;
        self.shared.parked.fetch_sub(1, Ordering::SeqCst);
        self.wheel.borrow_mut().remove(&(at, key.clone()));
        let mut parked = self.parked.borrow_mut();
        if parked.capacity() > 64 && parked.len() < parked.capacity() / 4 {
            parked.shrink_to_fit();
        }
        Some(key)
    }

    /// Something the execution waits on happened: resume it if it is parked, or make sure it
    /// looks again if it is parking right now.
    fn wake(self: &Rc<Self>, arn: &str) {
        if let Some(key) = self.unpark(arn) {
            self.spawn(key.clone(), Source::Load(key));
        } else if let Some(l) = self.running.borrow().get(arn) {
            l.woken.set(true);
        }
    }

    fn fire_due(self: &Rc<Self>) {
        let now = wall_ms();
        loop {
            let first = self.wheel.borrow().first().cloned();
            match first {
                Some((at, key)) if at <= now => self.wake(&key),
                _ => return,
            }
        }
    }

    /// A safety net behind the in-memory wheel: stored wake-ups overdue by more than a few
    /// seconds whose execution is not loaded here (e.g. its resume failed) are woken.
    async fn sweep(self: &Rc<Self>) {
        let store = self.shared.store.clone();
        let due =
            tokio::task::spawn_blocking(move || store.due_timers(wall_ms() - 5_000, 100)).await;
        let Ok(Ok(due)) = due else { return };
        let shards = self.shared.config.workers.max(1);
        for t in due {
            if t.key != PARK_KEY || shard_of(&t.execution_arn, shards) != self.index {
                continue;
            }
            if self.parked.borrow().contains_key(t.execution_arn.as_str()) {
                self.wake(&t.execution_arn);
            } else if !self.running.borrow().contains_key(t.execution_arn.as_str()) {
                let key: Rc<str> = Rc::from(t.execution_arn.as_str());
                self.spawn(key.clone(), Source::Load(key));
            }
        }
    }
}

/// Polls an execution until it ends (`Ok`) or is idle enough to park (`Err`, its plan): every
/// line waits on a durable wait, nothing wakes it within `after`, token waits have waited
/// `after` already, and everything it recorded is stored.
async fn park_when_idle<F: std::future::Future<Output = ExecutionOutcome>>(
    mut run: std::pin::Pin<&mut F>,
    idle: &Idleness,
    after: std::time::Duration,
    sink: &StoreSink,
) -> Result<ExecutionOutcome, ParkPlan> {
    let after_ms = i64::try_from(after.as_millis()).unwrap_or(i64::MAX);
    let mut grace: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
    std::future::poll_fn(|cx| {
        if let std::task::Poll::Ready(o) = run.as_mut().poll(cx) {
            return std::task::Poll::Ready(Ok(o));
        }
        let Some(plan) = idle.plan().filter(|_| sink.is_settled()) else {
            grace = None;
            return std::task::Poll::Pending;
        };
        let now = wall_ms();
        let from = now.max(plan.park_at);
        if plan
            .wake_at
            .is_some_and(|w| w.saturating_sub(from) < after_ms)
        {
            grace = None;
            return std::task::Poll::Pending;
        }
        if now >= plan.park_at {
            return std::task::Poll::Ready(Err(plan));
        }
        let at = tokio::time::Instant::now()
            + std::time::Duration::from_millis(u64::try_from(plan.park_at - now).unwrap_or(0));
        let g = grace.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        if g.deadline() != at {
            g.as_mut().reset(at);
        }
        match std::future::Future::poll(g.as_mut(), cx) {
            std::task::Poll::Ready(()) => std::task::Poll::Ready(Err(plan)),
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    })
    .await
}

/// One worker thread: a current-thread runtime running its executions as local tasks, and
/// the wake-ups of those it parked.
fn worker(
    index: usize,
    mut rx: mpsc::UnboundedReceiver<Command>,
    shared: Arc<Shared>,
    tasks: Arc<dyn Fn() -> Box<dyn TaskHandler> + Send + Sync>,
) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "worker cannot start");
            return;
        }
    };
    let local = tokio::task::LocalSet::new();
    let store = shared.store.clone();
    let w = Rc::new(Worker {
        index,
        shared,
        handler: Rc::from(tasks()),
        running: RefCell::default(),
        parked: RefCell::default(),
        wheel: RefCell::default(),
        rearm: tokio::sync::Notify::new(),
        map_runs: Rc::default(),
    });
    local.block_on(&rt, async move {
        let every = std::time::Duration::from_secs(10);
        let mut sweep = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let next = w.wheel.borrow().first().map(|(t, _)| *t);
            let timer = async move {
                match next {
                    Some(t) => {
                        let ms = u64::try_from(t.saturating_sub(wall_ms())).unwrap_or(0);
                        tokio::time::sleep(std::time::Duration::from_millis(ms)).await
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let cmd = tokio::select! {
                cmd = rx.recv() => cmd,
                _ = timer => {
                    w.fire_due();
                    continue;
                }
                _ = w.rearm.notified() => continue,
                _ = sweep.tick() => {
                    w.sweep().await;
                    continue;
                }
            };
            let Some(cmd) = cmd else { break };
            match cmd {
                Command::Run(job) => {
                    let arn: Rc<str> = Rc::from(job.opts.execution_arn.as_str());
                    w.spawn(arn, Source::Ready(job));
                }
                Command::Wake(arn) => w.wake(&arn),
                Command::Adopt { arn, wake_at } => {
                    if !w.running.borrow().contains_key(arn.as_str()) {
                        w.park(Rc::from(arn.as_str()), wake_at);
                    }
                }
                Command::Stop {
                    arn,
                    error,
                    cause,
                    reply,
                } => {
                    if let Some(l) = w.running.borrow_mut().remove(arn.as_str()) {
                        l.abort.abort();
                    }
                    w.unpark(&arn);
                    w.handler.execution_ended(&arn);
                    let store = store.clone();
                    let tokens = w.shared.tokens.clone();
                    let result = tokio::task::spawn_blocking(move || {
                        let r = abort_in_store(&*store, &arn, error, cause);
                        if r.is_ok() {
                            let _ = unpark_rows(&*store, &arn);
                            // A stopped `.sync` child fails its parent's task.
                            if let Err(e) = answer_parent(&*store, &tokens, &arn) {
                                tracing::warn!(execution = %arn, error = %e, "cannot answer the parent of a stopped .sync child");
                            }
                        }
                        r
                    })
                    .await
                    .unwrap_or_else(|e| Err(RuntimeError::Internal(e.to_string())));
                    let _ = reply.send(result);
                }
                Command::UpdateMapRun { arn, update, reply } => {
                    let live = w.map_runs.borrow().get(&arn).and_then(|x| x.upgrade());
                    let Some(live) = live else {
                        let _ = reply.send(None);
                        continue;
                    };
                    live.update(
                        update.max_concurrency,
                        update.tolerated_failure_percentage,
                        update.tolerated_failure_count,
                    );
                    let record = live.record.borrow().clone();
                    let store = store.clone();
                    let written = record.clone();
                    let stored =
                        tokio::task::spawn_blocking(move || store.put_map_run(written)).await;
                    let _ = reply.send(matches!(stored, Ok(Ok(()))).then_some(record));
                }
                Command::Shutdown => break,
            }
        }
    });
}

/// Appends ExecutionAborted after whatever the execution had stored, and marks it ABORTED.
fn abort_in_store(
    store: &dyn Store,
    arn: &str,
    error: Option<String>,
    cause: Option<String>,
) -> Result<i64, RuntimeError> {
    // A flush racing with the stop may land first: retry on the id conflict.
    for _ in 0..10 {
        let rec = store.get_execution(arn)?;
        if rec.status != StoredStatus::Running {
            return Ok(rec.stop_date.unwrap_or(rec.start_date));
        }
        let now = Utc::now();
        let mut details = serde_json::Map::new();
        if let Some(e) = &error {
            details.insert("error".into(), Value::from(e.clone()));
        }
        if let Some(c) = &cause {
            details.insert("cause".into(), Value::from(c.clone()));
        }
        let event = HistoryEvent {
            id: rec.last_event_id + 1,
            previous_event_id: 0,
            timestamp: now,
            kind: "ExecutionAborted",
            details: Details::Json(Value::Object(details)),
            thread: Arc::from(""),
            seq: u32::MAX,
        };
        let update = ExecutionUpdate {
            status: StoredStatus::Aborted,
            output: None,
            error: error.clone(),
            cause: cause.clone(),
            stop_date: Some(millis(now)),
            redrive_count: rec.redrive_count,
            redrive_date: rec.redrive_date,
        };
        match store.append_events(arn, vec![crate::durable::to_row(&event)], Some(update)) {
            Ok(()) => {
                abort_map_runs(store, arn, millis(now))?;
                return Ok(millis(now));
            }
            Err(stepwise_store::Error::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(RuntimeError::Internal(format!(
        "cannot stop {arn}: its history keeps changing"
    )))
}

/// The execution's Map Runs still RUNNING end ABORTED with it (its children were stopped).
fn abort_map_runs(store: &dyn Store, arn: &str, now: i64) -> Result<(), RuntimeError> {
    let mut page = PageRequest::first(1000);
    loop {
        let p = store.list_map_runs(arn, &page)?;
        for mut r in p.items {
            if r.status != MapRunStatus::Running {
                continue;
            }
            r.status = MapRunStatus::Aborted;
            r.stop_date = Some(now);
            for c in [&mut r.item_counts, &mut r.execution_counts] {
                c.aborted += c.running + c.pending;
                c.running = 0;
                c.pending = 0;
            }
            store.put_map_run(r)?;
        }
        match p.next_token {
            Some(t) => page.next_token = Some(t),
            None => return Ok(()),
        }
    }
}

/// How long after it ended an execution may be redriven (AWS: 14 days).
pub const REDRIVE_PERIOD_MS: i64 = 14 * 24 * 3600 * 1000;
/// The longest an execution may stay open, redrives included (AWS: one year).
pub const MAX_OPEN_MS: i64 = 365 * 24 * 3600 * 1000;
/// AWS's limit on a history's length.
pub const HISTORY_LIMIT: u64 = crate::run::HISTORY_LIMIT;

/// Whether RedriveExecution would take `rec` at `now` (epoch ms): `Err` holds the reason,
/// worded as DescribeExecution's `redriveStatusReason` (and ExecutionNotRedrivable's
/// message).
pub fn redrivable(rec: &ExecutionRecord, now: i64) -> Result<(), String> {
    match rec.status {
        StoredStatus::Failed | StoredStatus::TimedOut | StoredStatus::Aborted => {}
        other => {
            return Err(format!(
                "Execution is {} and cannot be redriven",
                other.as_str()
            ))
        }
    }
    if rec
        .parent_arn
        .as_deref()
        .is_some_and(|p| p.contains(":mapRun:"))
    {
        // A child of a distributed Map is run again by redriving its parent execution.
        return Err("Execution is a child execution of a Map Run and cannot be redriven on its own; redrive its parent execution".into());
    }
    if rec.last_event_id >= HISTORY_LIMIT {
        return Err("Execution history event limit exceeded".into());
    }
    if now.saturating_sub(rec.start_date) > MAX_OPEN_MS {
        return Err("Execution has exceeded the max execution time".into());
    }
    if now.saturating_sub(rec.stop_date.unwrap_or(rec.start_date)) > REDRIVE_PERIOD_MS {
        return Err("Execution redrivable period exceeded".into());
    }
    Ok(())
}

impl From<ExecutionStatus> for StoredStatus {
    fn from(s: ExecutionStatus) -> Self {
        match s {
            ExecutionStatus::Succeeded => StoredStatus::Succeeded,
            ExecutionStatus::Failed => StoredStatus::Failed,
            ExecutionStatus::TimedOut => StoredStatus::TimedOut,
            ExecutionStatus::Aborted => StoredStatus::Aborted,
        }
    }
}

/// What a parent's `states:startExecution.sync` / `.sync:2` Task receives about its child:
/// DescribeExecution's members with the SDK's capitalised names (as AWS records them), dates
/// in epoch milliseconds; `.sync` carries Input/Output as JSON text, `.sync:2` as JSON.
pub fn sync_description(rec: &ExecutionRecord, json: bool, now: i64) -> Value {
    let data = |text: &str| -> Value {
        if json {
            serde_json::from_str(text).unwrap_or_else(|_| Value::from(text))
        } else {
            Value::from(text)
        }
    };
    let mut d = serde_json::Map::new();
    if let Some(c) = &rec.cause {
        d.insert("Cause".into(), Value::from(c.clone()));
    }
    if let Some(e) = &rec.error {
        d.insert("Error".into(), Value::from(e.clone()));
    }
    d.insert("ExecutionArn".into(), Value::from(rec.arn.clone()));
    d.insert("Input".into(), data(&rec.input));
    d.insert("InputDetails".into(), serde_json::json!({"Included": true}));
    d.insert("Name".into(), Value::from(rec.name.clone()));
    if let Some(o) = &rec.output {
        d.insert("Output".into(), data(o));
        d.insert(
            "OutputDetails".into(),
            serde_json::json!({"Included": true}),
        );
    }
    d.insert("RedriveCount".into(), Value::from(rec.redrive_count));
    match redrivable(rec, now) {
        Ok(()) => {
            d.insert("RedriveStatus".into(), Value::from("REDRIVABLE"));
        }
        Err(reason) => {
            d.insert("RedriveStatus".into(), Value::from("NOT_REDRIVABLE"));
            d.insert("RedriveStatusReason".into(), Value::from(reason));
        }
    }
    d.insert("StartDate".into(), Value::from(rec.start_date));
    d.insert(
        "StateMachineArn".into(),
        Value::from(rec.state_machine_arn.clone()),
    );
    d.insert("Status".into(), Value::from(rec.status.as_str()));
    if let Some(s) = rec.stop_date {
        d.insert("StopDate".into(), Value::from(s));
    }
    Value::Object(d)
}

/// A `.sync` child ended: its parent's task gets the child's description (the task succeeds
/// with it, or fails with `States.TaskFailed` and it as the cause). Idempotent: a token that
/// is already answered, timed out or cancelled (the parent was stopped) is left alone.
fn answer_parent(store: &dyn Store, tokens: &TokenService, arn: &str) -> Result<(), RuntimeError> {
    let rec = store.get_execution(arn)?;
    let Some(task) = rec.parent_task.as_ref() else {
        return Ok(());
    };
    if matches!(
        rec.status,
        StoredStatus::Running | StoredStatus::PendingRedrive
    ) {
        return Ok(());
    }
    let description = sync_description(&rec, task.json, millis(Utc::now())).to_string();
    let answered = if rec.status == StoredStatus::Succeeded {
        tokens.send_success(&task.token, description)
    } else {
        tokens.send_failure(
            &task.token,
            Some(stepwise_asl::error::names::TASK_FAILED.into()),
            Some(description),
        )
    };
    match answered {
        Ok(()) | Err(TokenError::InvalidToken | TokenError::TaskTimedOut) => Ok(()),
        Err(TokenError::Store(e)) => Err(e.into()),
        Err(e) => Err(RuntimeError::Internal(e.to_string())),
    }
}

/// The `.sync` children of `parent_arn` (those whose parent waits on them), optionally of one
/// status only.
fn sync_children(
    store: &dyn Store,
    parent_arn: &str,
    status: Option<StoredStatus>,
) -> Result<Vec<ExecutionRecord>, RuntimeError> {
    let filter = stepwise_store::ExecutionFilter {
        parent_arn: Some(parent_arn.to_string()),
        status,
        ..Default::default()
    };
    let mut out = Vec::new();
    let mut page = PageRequest::first(1000);
    loop {
        let p = store.list_executions(&filter, &page)?;
        out.extend(p.items.into_iter().filter(|e| e.parent_task.is_some()));
        match p.next_token {
            Some(t) => page.next_token = Some(t),
            None => return Ok(out),
        }
    }
}

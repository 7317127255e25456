//! Durable storage for `stepwise serve`: state machines (with versions and aliases), Standard
//! executions and their history, durable timers, activities, task tokens, tags and Map Runs.
//!
//! What it owns: keeping those records, atomically and durably, and the few checks that must
//! happen inside a write to be race-free across threads or nodes: create conflicts (identical
//! vs different), contiguous history event ids (the optimistic lock on an execution), status
//! compare-and-set on task tokens, version numbers that are never reused, claiming an
//! activity task once.
//!
//! What it must not do: interpret Amazon States Language, decide what an event means, compute
//! timeouts or retries. The history is stored as rows (`HistoryEventRow`) that the engine
//! converts from and to its own event type; this crate does not depend on the engine.
//!
//! Durability model: the history is the source of truth and every event is persisted before
//! the effect it enables. Writes are [`WriteOp`]s; [`Batch::write_batch`] applies many of them
//! (from many executions) in one transaction, so a commit (one fsync) is shared. Each op is
//! atomic on its own: if it fails, it leaves nothing behind and the others still apply
//! ([`WriteOp::Group`] makes several ops one atomic unit). The batch as a whole fails only if
//! the transaction cannot commit, and then nothing of it applied.
//!
//! The API is synchronous. The SQLite backend already serialises writes on its own writer
//! thread (which is what lets it group commits); async callers use `spawn_blocking` or a
//! dedicated thread. Reads run on the caller's thread against a small pool of read connections.
//!
//! Made for a shared PostgreSQL backend next: every check is inside the op's own transaction
//! (no read-then-write across calls), creation order is a database sequence rather than a
//! clock, version numbers come from a counter row, and claiming an activity task is one op
//! (`FOR UPDATE SKIP LOCKED` there). Such a backend runs the same suite (`tests/suite.rs`).

mod cache;
mod memory;
mod sqlite;
mod types;

pub use cache::CachedStore;
pub use memory::MemoryStore;
pub use sqlite::{CommitStats, SqliteOptions, SqliteStore, Synchronous, SCHEMA_VERSION};
pub use types::*;

/// Everything a store operation can fail with. Backend failures are carried as text so that
/// the error stays `Clone` and independent of the backend's own types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("not found: {0}")]
    NotFound(String),
    /// The key is taken. `identical` tells an idempotent repeat (same definition, AWS answers
    /// with the existing resource) from a real conflict.
    #[error("already exists: {arn} (identical: {identical})")]
    AlreadyExists { arn: String, identical: bool },
    /// An optimistic check failed: non-contiguous event ids, a revision or status that moved.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid pagination token: {0}")]
    InvalidToken(String),
    /// A stored row could not be read back (torn write, hand edit, newer schema).
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// The backend failed (disk full, I/O error, database locked, writer gone).
    #[error("storage I/O: {0}")]
    Io(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// One write. Every op is applied atomically; see [`Batch::write_batch`].
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    CreateStateMachine(StateMachineRecord),
    /// Replaces the record; with `expected_revision`, only if the stored one still has it.
    UpdateStateMachine {
        record: StateMachineRecord,
        expected_revision: Option<String>,
    },
    /// Deletes the state machine with its versions, aliases and their tags (not executions).
    DeleteStateMachine(String),
    /// `arn` and `version` of the record are assigned by the store.
    PublishVersion(VersionRecord),
    DeleteVersion(String),
    CreateAlias(AliasRecord),
    UpdateAlias(AliasRecord),
    DeleteAlias(String),
    /// `last_event_id` is ignored: a new execution has no events until they are appended.
    CreateExecution(ExecutionRecord),
    /// Appends events whose ids must continue the history exactly, and optionally updates the
    /// execution's status fields in the same atomic step.
    AppendEvents {
        execution_arn: String,
        events: Vec<HistoryEventRow>,
        update: Option<ExecutionUpdate>,
    },
    /// Inserts or moves the timer `(execution_arn, key)`.
    SetTimer(TimerRecord),
    /// Removes a timer; removing one that is not there is not an error (it may have fired).
    CancelTimer {
        execution_arn: String,
        key: String,
    },
    CreateActivity(ActivityRecord),
    DeleteActivity(String),
    PutTaskToken(TaskTokenRecord),
    /// Replaces a token's record if its stored status is one of `expected` (any if empty).
    UpdateTaskToken {
        record: TaskTokenRecord,
        expected: Vec<TaskTokenStatus>,
    },
    /// Takes the oldest `Scheduled` task of an activity: marks it `Started` for `worker_name`
    /// and sets its heartbeat deadline from `now`. Outcome: [`WriteOutcome::Task`].
    ClaimActivityTask {
        activity_arn: String,
        worker_name: Option<String>,
        now: Millis,
    },
    /// Adds or overwrites tags.
    TagResource {
        arn: String,
        tags: Vec<Tag>,
    },
    UntagResource {
        arn: String,
        keys: Vec<String>,
    },
    /// Inserts a Map Run or replaces the stored one (keeping its place in listings).
    PutMapRun(MapRunRecord),
    /// Several ops that apply all together or not at all.
    Group(Vec<WriteOp>),
}

/// What a successful op returns.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    Done,
    Version(VersionRecord),
    /// The claimed task, or `None` if the activity had none waiting.
    Task(Option<Box<TaskTokenRecord>>),
    Group(Vec<WriteOutcome>),
}

/// The single write path of a store. Every convenience write method of the traits below is one
/// op sent through here, so batched and unbatched writes cannot differ.
pub trait Batch {
    /// Applies `ops` in one transaction, in order. The result has one entry per op: an op that
    /// fails (not found, conflict, …) is rolled back alone and reports its error there. `Err`
    /// for the whole call means the transaction did not commit and none of the ops applied.
    fn write_batch(&self, ops: Vec<WriteOp>) -> Result<Vec<Result<WriteOutcome>>>;

    /// One op, on its own.
    fn write(&self, op: WriteOp) -> Result<WriteOutcome> {
        self.write_batch(vec![op])?
            .pop()
            .unwrap_or_else(|| Err(Error::Io("write produced no result".into())))
    }
}

pub trait StateMachines: Batch {
    fn get_state_machine(&self, arn: &str) -> Result<StateMachineRecord>;
    /// Oldest first.
    fn list_state_machines(&self, page: &PageRequest) -> Result<Page<StateMachineRecord>>;
    fn get_version(&self, arn: &str) -> Result<VersionRecord>;
    /// Highest version first, as ListStateMachineVersions.
    fn list_versions(
        &self,
        state_machine_arn: &str,
        page: &PageRequest,
    ) -> Result<Page<VersionRecord>>;
    fn get_alias(&self, arn: &str) -> Result<AliasRecord>;
    /// Oldest first.
    fn list_aliases(
        &self,
        state_machine_arn: &str,
        page: &PageRequest,
    ) -> Result<Page<AliasRecord>>;

    fn create_state_machine(&self, record: StateMachineRecord) -> Result<()> {
        self.write(WriteOp::CreateStateMachine(record)).map(drop)
    }
    fn update_state_machine(
        &self,
        record: StateMachineRecord,
        expected_revision: Option<String>,
    ) -> Result<()> {
        self.write(WriteOp::UpdateStateMachine {
            record,
            expected_revision,
        })
        .map(drop)
    }
    fn delete_state_machine(&self, arn: &str) -> Result<()> {
        self.write(WriteOp::DeleteStateMachine(arn.to_string()))
            .map(drop)
    }
    fn publish_version(&self, version: VersionRecord) -> Result<VersionRecord> {
        match self.write(WriteOp::PublishVersion(version))? {
            WriteOutcome::Version(v) => Ok(v),
            other => Err(Error::Io(format!("unexpected outcome {other:?}"))),
        }
    }
    fn delete_version(&self, arn: &str) -> Result<()> {
        self.write(WriteOp::DeleteVersion(arn.to_string()))
            .map(drop)
    }
    fn create_alias(&self, alias: AliasRecord) -> Result<()> {
        self.write(WriteOp::CreateAlias(alias)).map(drop)
    }
    fn update_alias(&self, alias: AliasRecord) -> Result<()> {
        self.write(WriteOp::UpdateAlias(alias)).map(drop)
    }
    fn delete_alias(&self, arn: &str) -> Result<()> {
        self.write(WriteOp::DeleteAlias(arn.to_string())).map(drop)
    }
}

pub trait Executions: Batch {
    fn get_execution(&self, arn: &str) -> Result<ExecutionRecord>;
    /// Newest first, as ListExecutions.
    fn list_executions(
        &self,
        filter: &ExecutionFilter,
        page: &PageRequest,
    ) -> Result<Page<ExecutionRecord>>;
    /// `RUNNING` executions, oldest first: what a restarting engine must resume.
    fn open_executions(&self, page: &PageRequest) -> Result<Page<ExecutionRecord>>;

    fn create_execution(&self, record: ExecutionRecord) -> Result<()> {
        self.write(WriteOp::CreateExecution(record)).map(drop)
    }
}

pub trait History: Batch {
    /// A page of an execution's events, by id, oldest first or (`reverse`) newest first.
    fn read_events(
        &self,
        execution_arn: &str,
        page: &PageRequest,
        reverse: bool,
    ) -> Result<Page<HistoryEventRow>>;
    /// Up to `limit` events with ids above `after_id`, in order: replay reads in chunks.
    fn events_after(
        &self,
        execution_arn: &str,
        after_id: u64,
        limit: usize,
    ) -> Result<Vec<HistoryEventRow>>;

    fn append_events(
        &self,
        execution_arn: &str,
        events: Vec<HistoryEventRow>,
        update: Option<ExecutionUpdate>,
    ) -> Result<()> {
        self.write(WriteOp::AppendEvents {
            execution_arn: execution_arn.to_string(),
            events,
            update,
        })
        .map(drop)
    }
}

pub trait Timers: Batch {
    /// Timers with `fire_at <= now`, earliest first. Firing does not remove them: the engine
    /// cancels a timer in the same write that records what the timer caused.
    fn due_timers(&self, now: Millis, limit: usize) -> Result<Vec<TimerRecord>>;
    fn timers_for(&self, execution_arn: &str) -> Result<Vec<TimerRecord>>;

    fn set_timer(&self, timer: TimerRecord) -> Result<()> {
        self.write(WriteOp::SetTimer(timer)).map(drop)
    }
    fn cancel_timer(&self, execution_arn: &str, key: &str) -> Result<()> {
        self.write(WriteOp::CancelTimer {
            execution_arn: execution_arn.to_string(),
            key: key.to_string(),
        })
        .map(drop)
    }
}

pub trait Activities: Batch {
    fn get_activity(&self, arn: &str) -> Result<ActivityRecord>;
    /// Oldest first.
    fn list_activities(&self, page: &PageRequest) -> Result<Page<ActivityRecord>>;

    /// CreateActivity is idempotent on the name: a repeat is `AlreadyExists { identical }`
    /// with `identical` false only if the encryption configuration differs.
    fn create_activity(&self, record: ActivityRecord) -> Result<()> {
        self.write(WriteOp::CreateActivity(record)).map(drop)
    }
    fn delete_activity(&self, arn: &str) -> Result<()> {
        self.write(WriteOp::DeleteActivity(arn.to_string()))
            .map(drop)
    }
    fn claim_activity_task(
        &self,
        activity_arn: &str,
        worker_name: Option<String>,
        now: Millis,
    ) -> Result<Option<TaskTokenRecord>> {
        match self.write(WriteOp::ClaimActivityTask {
            activity_arn: activity_arn.to_string(),
            worker_name,
            now,
        })? {
            WriteOutcome::Task(t) => Ok(t.map(|b| *b)),
            other => Err(Error::Io(format!("unexpected outcome {other:?}"))),
        }
    }
}

pub trait TaskTokens: Batch {
    fn get_task_token(&self, token: &str) -> Result<TaskTokenRecord>;
    /// Oldest first.
    fn task_tokens_for(&self, execution_arn: &str) -> Result<Vec<TaskTokenRecord>>;

    /// Inserts a new token; an existing one is `AlreadyExists { identical: false }`.
    fn put_task_token(&self, record: TaskTokenRecord) -> Result<()> {
        self.write(WriteOp::PutTaskToken(record)).map(drop)
    }
    fn update_task_token(
        &self,
        record: TaskTokenRecord,
        expected: Vec<TaskTokenStatus>,
    ) -> Result<()> {
        self.write(WriteOp::UpdateTaskToken { record, expected })
            .map(drop)
    }
}

pub trait Tags: Batch {
    /// Sorted by key. A resource without tags (or unknown to the store) has none.
    fn list_tags(&self, arn: &str) -> Result<Vec<Tag>>;

    fn tag_resource(&self, arn: &str, tags: Vec<Tag>) -> Result<()> {
        self.write(WriteOp::TagResource {
            arn: arn.to_string(),
            tags,
        })
        .map(drop)
    }
    fn untag_resource(&self, arn: &str, keys: Vec<String>) -> Result<()> {
        self.write(WriteOp::UntagResource {
            arn: arn.to_string(),
            keys,
        })
        .map(drop)
    }
}

pub trait MapRuns: Batch {
    fn get_map_run(&self, arn: &str) -> Result<MapRunRecord>;
    /// An execution's Map Runs, newest first (as ListMapRuns).
    fn list_map_runs(&self, execution_arn: &str, page: &PageRequest) -> Result<Page<MapRunRecord>>;

    fn put_map_run(&self, record: MapRunRecord) -> Result<()> {
        self.write(WriteOp::PutMapRun(record)).map(drop)
    }
}

/// Everything the server needs, from one object shared across threads.
pub trait Store:
    StateMachines
    + Executions
    + History
    + Timers
    + Activities
    + TaskTokens
    + Tags
    + MapRuns
    + Send
    + Sync
{
}

impl<T> Store for T where
    T: StateMachines
        + Executions
        + History
        + Timers
        + Activities
        + TaskTokens
        + Tags
        + MapRuns
        + Send
        + Sync
{
}

//! The records the store keeps: plain data, no behaviour beyond the comparisons that both
//! backends must agree on (idempotent creates, event-id contiguity).
//!
//! Times are epoch milliseconds ([`Millis`]): the precision AWS reports, and what the SQLite
//! backend stores, so that both backends hand back exactly what they were given.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// `STANDARD` or `EXPRESS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StateMachineType {
    Standard,
    Express,
}

/// A state machine as DescribeStateMachine shows it. JSON configurations are kept as text: the
/// store never looks inside them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateMachineRecord {
    pub arn: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: StateMachineType,
    pub definition: String,
    pub role_arn: String,
    pub creation_date: Millis,
    /// Changes on every update; UpdateStateMachine may be made conditional on it.
    pub revision_id: String,
    /// `ACTIVE` or `DELETING`.
    pub status: String,
    pub description: Option<String>,
    pub label: Option<String>,
    pub logging_configuration: Option<String>,
    pub tracing_configuration: Option<String>,
    pub encryption_configuration: Option<String>,
}

impl StateMachineRecord {
    /// AWS's idempotency rule for CreateStateMachine: the same name (hence ARN), definition,
    /// type and configurations make a repeated create succeed; role and tags are ignored.
    pub fn same_as(&self, other: &StateMachineRecord) -> bool {
        self.arn == other.arn
            && self.definition == other.definition
            && self.kind == other.kind
            && self.logging_configuration == other.logging_configuration
            && self.tracing_configuration == other.tracing_configuration
            && self.encryption_configuration == other.encryption_configuration
    }
}

/// A published version. The store assigns `version` and `arn` (`<state machine arn>:<n>`),
/// because only it can hand out numbers that are never reused across nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRecord {
    pub arn: String,
    pub state_machine_arn: String,
    pub version: u64,
    pub definition: String,
    pub role_arn: String,
    pub revision_id: String,
    pub description: Option<String>,
    pub creation_date: Millis,
}

/// One route of an alias: a version ARN and its weight in percent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoutingEntry {
    pub version_arn: String,
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AliasRecord {
    pub arn: String,
    pub state_machine_arn: String,
    pub name: String,
    pub description: Option<String>,
    pub routing: Vec<RoutingEntry>,
    pub creation_date: Millis,
    pub update_date: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
    PendingRedrive,
}

impl ExecutionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Running => "RUNNING",
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
            ExecutionStatus::PendingRedrive => "PENDING_REDRIVE",
        }
    }

    pub fn parse(s: &str) -> Option<ExecutionStatus> {
        Some(match s {
            "RUNNING" => ExecutionStatus::Running,
            "SUCCEEDED" => ExecutionStatus::Succeeded,
            "FAILED" => ExecutionStatus::Failed,
            "TIMED_OUT" => ExecutionStatus::TimedOut,
            "ABORTED" => ExecutionStatus::Aborted,
            "PENDING_REDRIVE" => ExecutionStatus::PendingRedrive,
            _ => return None,
        })
    }
}

/// A Standard execution. The definition and role it started with are kept with it, because a
/// later UpdateStateMachine must not change a running execution (nor what
/// DescribeStateMachineForExecution shows) and replay needs them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionRecord {
    pub arn: String,
    pub state_machine_arn: String,
    pub version_arn: Option<String>,
    pub alias_arn: Option<String>,
    pub name: String,
    pub status: ExecutionStatus,
    pub input: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub start_date: Millis,
    pub stop_date: Option<Millis>,
    pub redrive_count: u32,
    pub redrive_date: Option<Millis>,
    /// The Map Run or parent execution that started this one, if any.
    pub parent_arn: Option<String>,
    pub definition: String,
    pub role_arn: String,
    pub revision_id: String,
    /// Id of the last history event; maintained by the store (ignored on create).
    #[serde(default)]
    pub last_event_id: u64,
    /// The mock test case selected at start (`stateMachineArn#TestCaseName`), kept so a
    /// resumed execution goes on answering from the same test case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_case: Option<String>,
    /// Started by a parent's `states:startExecution.sync` / `.sync:2` Task: the parent waits
    /// on this task token, answered when this execution ends (see the engine's runtime).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_task: Option<ParentTask>,
}

/// The parent side of a `.sync` nested execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentTask {
    /// The parent's task token for this call.
    pub token: String,
    /// `.sync:2`: the child's Input and Output reach the parent as JSON; `.sync`: as text.
    #[serde(default)]
    pub json: bool,
}

impl ExecutionRecord {
    /// AWS's idempotency rule for StartExecution: same name and input while still running.
    pub fn same_as(&self, other: &ExecutionRecord) -> bool {
        self.arn == other.arn
            && self.input == other.input
            && self.status == ExecutionStatus::Running
    }
}

/// The fields of an execution that change over its life, set together with the events that
/// change them (never on their own, so history and status cannot disagree).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionUpdate {
    pub status: ExecutionStatus,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub stop_date: Option<Millis>,
    pub redrive_count: u32,
    pub redrive_date: Option<Millis>,
}

/// One history event as stored. The engine converts its own event type to and from this.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEventRow {
    pub id: u64,
    pub previous_event_id: u64,
    pub timestamp: Millis,
    /// The AWS event type (`PassStateEntered`, …).
    pub kind: String,
    /// The details member as JSON text, if the event has one.
    pub details: Option<String>,
    /// The engine's line of execution that emitted the event ("" = main flow) and its
    /// position there: how a resumed execution matches recorded events to its own.
    pub thread: String,
    pub seq: u32,
}

/// Checks that `events` continue a history whose last id is `last`: ids `last+1, last+2, …`.
/// This is the optimistic lock that keeps two writers from both extending one history.
pub fn check_contiguous(execution_arn: &str, last: u64, events: &[HistoryEventRow]) -> Result<()> {
    for (i, e) in events.iter().enumerate() {
        let expected = last + 1 + i as u64;
        if e.id != expected {
            return Err(Error::Conflict(format!(
                "execution {execution_arn}: event id {} where {expected} was expected",
                e.id
            )));
        }
    }
    Ok(())
}

/// A durable wake-up for an execution (Wait state, retry back-off, task timeout, …). `key`
/// tells the engine which one; setting a timer with an existing key moves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerRecord {
    pub execution_arn: String,
    pub key: String,
    pub fire_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityRecord {
    pub arn: String,
    pub name: String,
    pub creation_date: Millis,
    pub encryption_configuration: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskTokenStatus {
    /// An activity task no worker has taken yet.
    Scheduled,
    /// Handed to a worker, or a callback token waiting for SendTask*.
    Started,
    Succeeded,
    Failed,
    TimedOut,
    /// The execution ended or the state was left before the task did.
    Cancelled,
}

impl TaskTokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskTokenStatus::Scheduled => "SCHEDULED",
            TaskTokenStatus::Started => "STARTED",
            TaskTokenStatus::Succeeded => "SUCCEEDED",
            TaskTokenStatus::Failed => "FAILED",
            TaskTokenStatus::TimedOut => "TIMED_OUT",
            TaskTokenStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Option<TaskTokenStatus> {
        Some(match s {
            "SCHEDULED" => TaskTokenStatus::Scheduled,
            "STARTED" => TaskTokenStatus::Started,
            "SUCCEEDED" => TaskTokenStatus::Succeeded,
            "FAILED" => TaskTokenStatus::Failed,
            "TIMED_OUT" => TaskTokenStatus::TimedOut,
            "CANCELLED" => TaskTokenStatus::Cancelled,
            _ => return None,
        })
    }
}

/// A task token: an activity task or a `.waitForTaskToken` callback. The result is kept here
/// so that SendTaskSuccess can be accepted while the execution is unloaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskTokenRecord {
    pub token: String,
    pub execution_arn: String,
    /// The state that issued the token.
    pub state_name: String,
    /// Set for activity tasks: the activity whose workers may claim it.
    pub activity_arn: Option<String>,
    /// The activity task's input (JSON text).
    pub input: Option<String>,
    pub status: TaskTokenStatus,
    pub worker_name: Option<String>,
    pub created: Millis,
    pub heartbeat_seconds: Option<u64>,
    pub heartbeat_deadline: Option<Millis>,
    pub timeout_deadline: Option<Millis>,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// `RUNNING`, `SUCCEEDED`, `FAILED` or `ABORTED`: a Map Run's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MapRunStatus {
    Running,
    Succeeded,
    Failed,
    Aborted,
}

impl MapRunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MapRunStatus::Running => "RUNNING",
            MapRunStatus::Succeeded => "SUCCEEDED",
            MapRunStatus::Failed => "FAILED",
            MapRunStatus::Aborted => "ABORTED",
        }
    }
}

/// How many of a Map Run's items (or child executions) are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapRunCounts {
    pub pending: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub aborted: u64,
    pub total: u64,
    pub results_written: u64,
}

/// A distributed Map's run (DescribeMapRun). Written by the engine as the run moves (created,
/// counts, end) and by UpdateMapRun; a put replaces the whole record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapRunRecord {
    pub arn: String,
    /// The execution that ran the Map state.
    pub execution_arn: String,
    /// `…:stateMachine:<name>/<label or id>`: what the run's child executions run.
    pub state_machine_arn: String,
    pub status: MapRunStatus,
    pub start_date: Millis,
    pub stop_date: Option<Millis>,
    pub max_concurrency: u64,
    pub tolerated_failure_percentage: f64,
    pub tolerated_failure_count: u64,
    pub item_counts: MapRunCounts,
    pub execution_counts: MapRunCounts,
    pub redrive_count: u32,
    pub redrive_date: Option<Millis>,
}

/// One tag of a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// Which page of a listing to read. `max_results` 0 means the AWS default (100); more than
/// 1000 is capped at 1000, as AWS does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub max_results: usize,
    pub next_token: Option<String>,
}

impl PageRequest {
    pub fn first(max_results: usize) -> PageRequest {
        PageRequest {
            max_results,
            next_token: None,
        }
    }

    pub(crate) fn limit(&self) -> usize {
        match self.max_results {
            0 => 100,
            n => n.min(1000),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Present when more items follow; pass it back in [`PageRequest::next_token`].
    pub next_token: Option<String>,
}

/// Which executions ListExecutions wants. `state_machine_arn` matches the execution's state
/// machine, version or alias ARN.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecutionFilter {
    pub state_machine_arn: Option<String>,
    pub status: Option<ExecutionStatus>,
    pub parent_arn: Option<String>,
    /// ListExecutions' redriveFilter: `Some(true)` keeps redriven executions only,
    /// `Some(false)` those never redriven.
    pub redriven: Option<bool>,
}

impl ExecutionFilter {
    pub fn matches(&self, e: &ExecutionRecord) -> bool {
        let sm = self.state_machine_arn.as_deref().is_none_or(|a| {
            e.state_machine_arn == a
                || e.version_arn.as_deref() == Some(a)
                || e.alias_arn.as_deref() == Some(a)
        });
        sm && self.status.is_none_or(|s| e.status == s)
            && self
                .parent_arn
                .as_deref()
                .is_none_or(|p| e.parent_arn.as_deref() == Some(p))
            && self.redriven.is_none_or(|r| (e.redrive_count > 0) == r)
    }
}

/// Which listing a token belongs to, so a token from one cannot page another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listing {
    StateMachines,
    Versions,
    Aliases,
    Executions,
    Activities,
    EventsForward,
    EventsReverse,
    MapRuns,
}

impl Listing {
    fn tag(self) -> &'static str {
        match self {
            Listing::StateMachines => "sm",
            Listing::Versions => "ver",
            Listing::Aliases => "al",
            Listing::Executions => "ex",
            Listing::Activities => "act",
            Listing::EventsForward => "hf",
            Listing::EventsReverse => "hr",
            Listing::MapRuns => "mr",
        }
    }
}

/// Tokens are opaque to callers: base64 of `<listing>:<position>`, where the position is the
/// creation sequence (or event id) of the last item returned, so pages stay stable while rows
/// are added.
pub(crate) fn encode_token(listing: Listing, position: u64) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}:{position}", listing.tag()))
}

pub(crate) fn decode_token(listing: Listing, page: &PageRequest) -> Result<Option<u64>> {
    use base64::Engine as _;
    let Some(token) = page.next_token.as_deref() else {
        return Ok(None);
    };
    let invalid = || Error::InvalidToken(token.to_string());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (tag, pos) = text.split_once(':').ok_or_else(invalid)?;
    if tag != listing.tag() {
        return Err(invalid());
    }
    pos.parse().map(Some).map_err(|_| invalid())
}

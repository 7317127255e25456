//! The SQLite backend: one database file in WAL mode.
//!
//! Writes go to a dedicated writer thread over a channel. The thread takes every job that is
//! waiting, applies them all in one transaction (each op inside its own savepoint, so one
//! failing op is undone alone) and commits once: with many executions writing at the same
//! time, one fsync covers all of them (group commit). Callers block until their job is
//! committed, so an `Ok` means the data is on disk. Reads use a small pool of read-only
//! connections; under WAL they never wait for the writer.
//!
//! Records are stored as JSON in a `body` column next to the columns that queries filter and
//! order on; history events, timers and tags are plain columns. The `seq` column
//! (AUTOINCREMENT, never reused) is the creation order that listings page by.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::types::{check_contiguous, decode_token, encode_token, Listing};
use crate::*;

/// How hard a commit pushes data to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// fsync the WAL on every commit: a committed write survives power loss. The default,
    /// because the durability model promises an event is stored before its effect happens
    /// (a Lambda invoked after a commit that a power cut then loses would run twice).
    #[default]
    Full,
    /// fsync only at checkpoints: survives a crash of the process but not of the machine,
    /// which may lose the last commits. Faster; for tests and disposable setups.
    Normal,
}

#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub synchronous: Synchronous,
    /// Apply all waiting writes in one transaction. Off means one transaction per
    /// `write_batch` call (kept for measuring what grouping buys).
    pub group_commit: bool,
    /// Most jobs (write_batch calls) taken into one transaction.
    pub max_jobs_per_commit: usize,
    /// Read connections kept open for reuse.
    pub read_connections: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            synchronous: Synchronous::Full,
            group_commit: true,
            max_jobs_per_commit: 512,
            read_connections: 4,
        }
    }
}

type BatchResult = Result<Vec<Result<WriteOutcome>>>;

struct Job {
    ops: Vec<WriteOp>,
    reply: Sender<BatchResult>,
}

/// A [`Store`] in one SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    writer: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    readers: Mutex<Vec<Connection>>,
    max_readers: usize,
    stats: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    commits: AtomicU64,
    jobs: AtomicU64,
}

/// How well writes were grouped since the store was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitStats {
    /// Transactions committed.
    pub commits: u64,
    /// `write_batch` calls they carried.
    pub jobs: u64,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

/// Schema migrations, applied in order at open. Entry `i` takes the schema from version `i`
/// to `i + 1`; never edit a released entry, append a new one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE state_machines (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    arn TEXT NOT NULL UNIQUE,
    last_version INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL
);
CREATE TABLE versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    arn TEXT NOT NULL UNIQUE,
    state_machine_arn TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX versions_by_machine ON versions (state_machine_arn, seq);
CREATE TABLE aliases (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    arn TEXT NOT NULL UNIQUE,
    state_machine_arn TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX aliases_by_machine ON aliases (state_machine_arn, seq);
CREATE TABLE executions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    arn TEXT NOT NULL UNIQUE,
    state_machine_arn TEXT NOT NULL,
    version_arn TEXT,
    alias_arn TEXT,
    parent_arn TEXT,
    status TEXT NOT NULL,
    last_event_id INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL
);
CREATE INDEX executions_by_status ON executions (status, seq);
CREATE INDEX executions_by_machine ON executions (state_machine_arn, seq);
CREATE TABLE events (
    execution INTEGER NOT NULL,
    id INTEGER NOT NULL,
    previous_event_id INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    type TEXT NOT NULL,
    details TEXT,
    thread TEXT NOT NULL DEFAULT '',
    seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (execution, id)
) WITHOUT ROWID;
CREATE TABLE timers (
    execution_arn TEXT NOT NULL,
    key TEXT NOT NULL,
    fire_at INTEGER NOT NULL,
    PRIMARY KEY (execution_arn, key)
) WITHOUT ROWID;
CREATE INDEX timers_by_time ON timers (fire_at);
CREATE TABLE activities (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    arn TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL
);
CREATE TABLE task_tokens (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    token TEXT NOT NULL UNIQUE,
    execution_arn TEXT NOT NULL,
    activity_arn TEXT,
    status TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX task_tokens_by_execution ON task_tokens (execution_arn, seq);
CREATE INDEX task_tokens_by_activity ON task_tokens (activity_arn, status, seq);
CREATE TABLE tags (
    arn TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (arn, key)
) WITHOUT ROWID;
"#,
    r#"
CREATE TABLE map_runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    arn TEXT NOT NULL UNIQUE,
    execution_arn TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX map_runs_by_execution ON map_runs (execution_arn, seq);
CREATE INDEX executions_by_parent ON executions (parent_arn, seq);
"#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

fn db(e: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode;
    match &e {
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::Utf8Error(..) => Error::Corrupt(e.to_string()),
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) =>
        {
            Error::Corrupt(e.to_string())
        }
        _ => Error::Io(e.to_string()),
    }
}

fn decode<T: DeserializeOwned>(what: &str, body: &str) -> Result<T> {
    serde_json::from_str(body).map_err(|e| Error::Corrupt(format!("{what}: {e}")))
}

fn encode<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Io(format!("encoding a record: {e}")))
}

fn to_u64(v: i64, what: &str) -> Result<u64> {
    u64::try_from(v).map_err(|_| Error::Corrupt(format!("{what} is negative: {v}")))
}

fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::Conflict(format!("{v} does not fit the store")))
}

fn not_found(what: &str, key: &str) -> Error {
    Error::NotFound(format!("{what} {key}"))
}

fn pragmas(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(10)).map_err(db)
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(db)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .map_err(db)?;
    let current: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        )
        .map_err(db)?;
    let current = usize::try_from(current)
        .map_err(|_| Error::Corrupt(format!("schema version {current}")))?;
    if current > MIGRATIONS.len() {
        return Err(Error::Corrupt(format!(
            "schema version {current} is newer than this build's {}",
            MIGRATIONS.len()
        )));
    }
    for sql in &MIGRATIONS[current..] {
        tx.execute_batch(sql).map_err(db)?;
    }
    tx.execute("DELETE FROM schema_version", []).map_err(db)?;
    tx.execute(
        "INSERT INTO schema_version (version) VALUES (?1)",
        [MIGRATIONS.len() as i64],
    )
    .map_err(db)?;
    tx.commit().map_err(db)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        SqliteStore::open_with(path, SqliteOptions::default())
    }

    pub fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        let mut conn = Connection::open(&path).map_err(db)?;
        pragmas(&conn)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(db)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Io(format!("journal_mode is {mode}, not WAL")));
        }
        let sync = match options.synchronous {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", sync).map_err(db)?;
        migrate(&mut conn)?;

        let (tx, rx) = mpsc::channel();
        let stats = Arc::new(Counters::default());
        let max_jobs = if options.group_commit {
            options.max_jobs_per_commit.max(1)
        } else {
            1
        };
        let thread = std::thread::Builder::new()
            .name("stepwise-store-writer".into())
            .spawn({
                let stats = stats.clone();
                move || writer_loop(conn, rx, max_jobs, &stats)
            })
            .map_err(|e| Error::Io(format!("starting the writer thread: {e}")))?;
        Ok(SqliteStore {
            path,
            writer: Some(tx),
            thread: Some(thread),
            readers: Mutex::new(Vec::new()),
            max_readers: options.read_connections,
            stats,
        })
    }

    pub fn commit_stats(&self) -> CommitStats {
        CommitStats {
            commits: self.stats.commits.load(Ordering::Relaxed),
            jobs: self.stats.jobs.load(Ordering::Relaxed),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn pool(&self) -> MutexGuard<'_, Vec<Connection>> {
        self.readers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on a pooled read connection (opening one if none is free).
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = self.pool().pop();
        let conn = match pooled {
            Some(c) => c,
            None => {
                let c = Connection::open(&self.path).map_err(db)?;
                pragmas(&c)?;
                c.pragma_update(None, "query_only", true).map_err(db)?;
                c
            }
        };
        let out = f(&conn);
        let mut pool = self.pool();
        if pool.len() < self.max_readers {
            pool.push(conn);
        }
        out
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Closing the channel ends the writer loop once queued jobs are done.
        self.writer.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn writer_loop(conn: Connection, rx: Receiver<Job>, max_jobs: usize, stats: &Counters) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < max_jobs {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        match commit_jobs(&conn, &mut jobs) {
            Ok(results) => {
                stats.commits.fetch_add(1, Ordering::Relaxed);
                stats
                    .jobs
                    .fetch_add(results.len() as u64, Ordering::Relaxed);
                for (job, r) in jobs.into_iter().zip(results) {
                    let _ = job.reply.send(Ok(r));
                }
            }
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                for job in jobs {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// One transaction for all `jobs`; each top-level op in its own savepoint.
fn commit_jobs(conn: &Connection, jobs: &mut [Job]) -> Result<Vec<Vec<Result<WriteOutcome>>>> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(db)?;
    let mut all = Vec::with_capacity(jobs.len());
    for job in jobs.iter_mut() {
        let mut results = Vec::with_capacity(job.ops.len());
        for op in std::mem::take(&mut job.ops) {
            conn.execute_batch("SAVEPOINT op").map_err(db)?;
            let r = apply(conn, op);
            if r.is_err() {
                conn.execute_batch("ROLLBACK TO op").map_err(db)?;
            }
            conn.execute_batch("RELEASE op").map_err(db)?;
            results.push(r);
        }
        all.push(results);
    }
    conn.execute_batch("COMMIT").map_err(db)?;
    Ok(all)
}

fn body_of(conn: &Connection, table: &str, key_col: &str, key: &str) -> Result<Option<String>> {
    conn.prepare_cached(&format!("SELECT body FROM {table} WHERE {key_col} = ?1"))
        .and_then(|mut s| s.query_row([key], |r| r.get(0)).optional())
        .map_err(db)
}

fn delete_by(conn: &Connection, table: &str, key_col: &str, key: &str) -> Result<usize> {
    conn.prepare_cached(&format!("DELETE FROM {table} WHERE {key_col} = ?1"))
        .and_then(|mut s| s.execute([key]))
        .map_err(db)
}

fn exec(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<usize> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute(p))
        .map_err(db)
}

fn apply(conn: &Connection, op: WriteOp) -> Result<WriteOutcome> {
    match op {
        WriteOp::CreateStateMachine(r) => {
            if let Some(old) = body_of(conn, "state_machines", "arn", &r.arn)? {
                let old: StateMachineRecord = decode("state machine", &old)?;
                return Err(Error::AlreadyExists {
                    identical: old.same_as(&r),
                    arn: r.arn,
                });
            }
            exec(
                conn,
                "INSERT INTO state_machines (arn, body) VALUES (?1, ?2)",
                params![r.arn, encode(&r)?],
            )?;
        }
        WriteOp::UpdateStateMachine {
            record,
            expected_revision,
        } => {
            let old = body_of(conn, "state_machines", "arn", &record.arn)?
                .ok_or_else(|| not_found("state machine", &record.arn))?;
            if let Some(rev) = expected_revision {
                let old: StateMachineRecord = decode("state machine", &old)?;
                if old.revision_id != rev {
                    return Err(Error::Conflict(format!(
                        "state machine {} is at revision {}, not {rev}",
                        record.arn, old.revision_id
                    )));
                }
            }
            exec(
                conn,
                "UPDATE state_machines SET body = ?2 WHERE arn = ?1",
                params![record.arn, encode(&record)?],
            )?;
        }
        WriteOp::DeleteStateMachine(arn) => {
            if delete_by(conn, "state_machines", "arn", &arn)? == 0 {
                return Err(not_found("state machine", &arn));
            }
            for table in ["versions", "aliases"] {
                exec(
                    conn,
                    &format!(
                        "DELETE FROM tags WHERE arn IN \
                         (SELECT arn FROM {table} WHERE state_machine_arn = ?1)"
                    ),
                    [&arn],
                )?;
                delete_by(conn, table, "state_machine_arn", &arn)?;
            }
            delete_by(conn, "tags", "arn", &arn)?;
        }
        WriteOp::PublishVersion(mut v) => {
            let n: Option<i64> = conn
                .prepare_cached(
                    "UPDATE state_machines SET last_version = last_version + 1 \
                     WHERE arn = ?1 RETURNING last_version",
                )
                .and_then(|mut s| s.query_row([&v.state_machine_arn], |r| r.get(0)).optional())
                .map_err(db)?;
            let n = n.ok_or_else(|| not_found("state machine", &v.state_machine_arn))?;
            v.version = to_u64(n, "version number")?;
            v.arn = format!("{}:{}", v.state_machine_arn, v.version);
            exec(
                conn,
                "INSERT INTO versions (arn, state_machine_arn, body) VALUES (?1, ?2, ?3)",
                params![v.arn, v.state_machine_arn, encode(&v)?],
            )?;
            return Ok(WriteOutcome::Version(v));
        }
        WriteOp::DeleteVersion(arn) => {
            if delete_by(conn, "versions", "arn", &arn)? == 0 {
                return Err(not_found("version", &arn));
            }
            delete_by(conn, "tags", "arn", &arn)?;
        }
        WriteOp::CreateAlias(a) => {
            if let Some(old) = body_of(conn, "aliases", "arn", &a.arn)? {
                let old: AliasRecord = decode("alias", &old)?;
                return Err(Error::AlreadyExists {
                    identical: old.routing == a.routing && old.description == a.description,
                    arn: a.arn,
                });
            }
            exec(
                conn,
                "INSERT INTO aliases (arn, state_machine_arn, body) VALUES (?1, ?2, ?3)",
                params![a.arn, a.state_machine_arn, encode(&a)?],
            )?;
        }
        WriteOp::UpdateAlias(a) => {
            let n = exec(
                conn,
                "UPDATE aliases SET body = ?2 WHERE arn = ?1",
                params![a.arn, encode(&a)?],
            )?;
            if n == 0 {
                return Err(not_found("alias", &a.arn));
            }
        }
        WriteOp::DeleteAlias(arn) => {
            if delete_by(conn, "aliases", "arn", &arn)? == 0 {
                return Err(not_found("alias", &arn));
            }
            delete_by(conn, "tags", "arn", &arn)?;
        }
        WriteOp::CreateExecution(mut e) => {
            if let Some(old) = body_of(conn, "executions", "arn", &e.arn)? {
                let old: ExecutionRecord = decode("execution", &old)?;
                return Err(Error::AlreadyExists {
                    identical: old.same_as(&e),
                    arn: e.arn,
                });
            }
            e.last_event_id = 0;
            exec(
                conn,
                "INSERT INTO executions (arn, state_machine_arn, version_arn, alias_arn, \
                 parent_arn, status, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    e.arn,
                    e.state_machine_arn,
                    e.version_arn,
                    e.alias_arn,
                    e.parent_arn,
                    e.status.as_str(),
                    encode(&e)?
                ],
            )?;
        }
        WriteOp::AppendEvents {
            execution_arn,
            events,
            update,
        } => append_events(conn, &execution_arn, &events, update)?,
        WriteOp::SetTimer(t) => {
            exec(
                conn,
                "INSERT INTO timers (execution_arn, key, fire_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (execution_arn, key) DO UPDATE SET fire_at = excluded.fire_at",
                params![t.execution_arn, t.key, t.fire_at],
            )?;
        }
        WriteOp::CancelTimer { execution_arn, key } => {
            exec(
                conn,
                "DELETE FROM timers WHERE execution_arn = ?1 AND key = ?2",
                params![execution_arn, key],
            )?;
        }
        WriteOp::CreateActivity(a) => {
            if let Some(old) = body_of(conn, "activities", "arn", &a.arn)? {
                let old: ActivityRecord = decode("activity", &old)?;
                return Err(Error::AlreadyExists {
                    identical: old.encryption_configuration == a.encryption_configuration,
                    arn: a.arn,
                });
            }
            exec(
                conn,
                "INSERT INTO activities (arn, body) VALUES (?1, ?2)",
                params![a.arn, encode(&a)?],
            )?;
        }
        WriteOp::DeleteActivity(arn) => {
            if delete_by(conn, "activities", "arn", &arn)? == 0 {
                return Err(not_found("activity", &arn));
            }
            delete_by(conn, "tags", "arn", &arn)?;
        }
        WriteOp::PutTaskToken(t) => {
            if body_of(conn, "task_tokens", "token", &t.token)?.is_some() {
                return Err(Error::AlreadyExists {
                    arn: t.token,
                    identical: false,
                });
            }
            exec(
                conn,
                "INSERT INTO task_tokens (token, execution_arn, activity_arn, status, body) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    t.token,
                    t.execution_arn,
                    t.activity_arn,
                    t.status.as_str(),
                    encode(&t)?
                ],
            )?;
        }
        WriteOp::UpdateTaskToken { record, expected } => {
            let status: Option<String> = conn
                .prepare_cached("SELECT status FROM task_tokens WHERE token = ?1")
                .and_then(|mut s| s.query_row([&record.token], |r| r.get(0)).optional())
                .map_err(db)?;
            let status = status.ok_or_else(|| not_found("task token", &record.token))?;
            let status = TaskTokenStatus::parse(&status)
                .ok_or_else(|| Error::Corrupt(format!("task token status {status}")))?;
            if !expected.is_empty() && !expected.contains(&status) {
                return Err(Error::Conflict(format!(
                    "task token is {}",
                    status.as_str()
                )));
            }
            write_token(conn, &record)?;
        }
        WriteOp::ClaimActivityTask {
            activity_arn,
            worker_name,
            now,
        } => {
            let body: Option<String> = conn
                .prepare_cached(
                    "SELECT body FROM task_tokens WHERE activity_arn = ?1 \
                     AND status = 'SCHEDULED' ORDER BY seq LIMIT 1",
                )
                .and_then(|mut s| s.query_row([&activity_arn], |r| r.get(0)).optional())
                .map_err(db)?;
            let Some(body) = body else {
                return Ok(WriteOutcome::Task(None));
            };
            let mut t: TaskTokenRecord = decode("task token", &body)?;
            t.status = TaskTokenStatus::Started;
            t.worker_name = worker_name;
            t.heartbeat_deadline = t
                .heartbeat_seconds
                .map(|s| now.saturating_add((s as i64).saturating_mul(1000)));
            write_token(conn, &t)?;
            return Ok(WriteOutcome::Task(Some(Box::new(t))));
        }
        WriteOp::TagResource { arn, tags } => {
            for t in tags {
                exec(
                    conn,
                    "INSERT INTO tags (arn, key, value) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value",
                    params![arn, t.key, t.value],
                )?;
            }
        }
        WriteOp::UntagResource { arn, keys } => {
            for k in keys {
                exec(
                    conn,
                    "DELETE FROM tags WHERE arn = ?1 AND key = ?2",
                    params![arn, k],
                )?;
            }
        }
        WriteOp::PutMapRun(r) => {
            exec(
                conn,
                "INSERT INTO map_runs (arn, execution_arn, body) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (arn) DO UPDATE SET body = excluded.body",
                params![r.arn, r.execution_arn, encode(&r)?],
            )?;
        }
        WriteOp::Group(ops) => {
            // The caller's savepoint covers the whole group: an error here undoes all of it.
            let mut out = Vec::with_capacity(ops.len());
            for op in ops {
                out.push(apply(conn, op)?);
            }
            return Ok(WriteOutcome::Group(out));
        }
    }
    Ok(WriteOutcome::Done)
}

fn write_token(conn: &Connection, t: &TaskTokenRecord) -> Result<()> {
    exec(
        conn,
        "UPDATE task_tokens SET execution_arn = ?2, activity_arn = ?3, status = ?4, body = ?5 \
         WHERE token = ?1",
        params![
            t.token,
            t.execution_arn,
            t.activity_arn,
            t.status.as_str(),
            encode(t)?
        ],
    )
    .map(drop)
}

fn append_events(
    conn: &Connection,
    arn: &str,
    events: &[HistoryEventRow],
    update: Option<ExecutionUpdate>,
) -> Result<()> {
    let row: Option<(i64, i64)> = conn
        .prepare_cached("SELECT seq, last_event_id FROM executions WHERE arn = ?1")
        .and_then(|mut s| {
            s.query_row([arn], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(db)?;
    let (seq, last) = row.ok_or_else(|| not_found("execution", arn))?;
    let last = to_u64(last, "last event id")?;
    check_contiguous(arn, last, events)?;
    {
        let mut insert = conn
            .prepare_cached(
                "INSERT INTO events (execution, id, previous_event_id, timestamp, type, details, thread, seq) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .map_err(db)?;
        for e in events {
            insert
                .execute(params![
                    seq,
                    to_i64(e.id)?,
                    to_i64(e.previous_event_id)?,
                    e.timestamp,
                    e.kind,
                    e.details,
                    e.thread,
                    e.seq
                ])
                .map_err(|err| match err.sqlite_error_code() {
                    // The id check passed, so a stored row past `last_event_id` disagrees.
                    Some(rusqlite::ErrorCode::ConstraintViolation) => Error::Corrupt(format!(
                        "execution {arn}: event {} is stored beyond its last event id {last}",
                        e.id
                    )),
                    _ => db(err),
                })?;
        }
    }
    let new_last = events.last().map_or(last, |e| e.id);
    exec(
        conn,
        "UPDATE executions SET last_event_id = ?2 WHERE seq = ?1",
        params![seq, to_i64(new_last)?],
    )?;
    if let Some(u) = update {
        let body =
            body_of(conn, "executions", "arn", arn)?.ok_or_else(|| not_found("execution", arn))?;
        let mut e: ExecutionRecord = decode("execution", &body)?;
        e.status = u.status;
        e.output = u.output;
        e.error = u.error;
        e.cause = u.cause;
        e.stop_date = u.stop_date;
        e.redrive_count = u.redrive_count;
        e.redrive_date = u.redrive_date;
        e.last_event_id = new_last;
        exec(
            conn,
            "UPDATE executions SET status = ?2, body = ?3 WHERE seq = ?1",
            params![seq, e.status.as_str(), encode(&e)?],
        )?;
    }
    Ok(())
}

impl Batch for SqliteStore {
    fn write_batch(&self, ops: Vec<WriteOp>) -> Result<Vec<Result<WriteOutcome>>> {
        let gone = || Error::Io("the store's writer thread has stopped".into());
        let writer = self.writer.as_ref().ok_or_else(gone)?;
        let (reply, answer) = mpsc::channel();
        writer.send(Job { ops, reply }).map_err(|_| gone())?;
        answer.recv().map_err(|_| gone())?
    }
}

/// Reads up to `limit + 1` `(seq, body)` rows and cuts them into a page.
fn page_of<T: DeserializeOwned>(
    what: &str,
    listing: Listing,
    limit: usize,
    rows: Vec<(i64, String)>,
) -> Result<Page<T>> {
    let more = rows.len() > limit;
    let mut items = Vec::with_capacity(limit.min(rows.len()));
    let mut last_seq = 0;
    for (seq, body) in rows.into_iter().take(limit) {
        items.push(decode(what, &body)?);
        last_seq = seq;
    }
    let next_token = if more {
        Some(encode_token(listing, to_u64(last_seq, "seq")?))
    } else {
        None
    };
    Ok(Page { items, next_token })
}

fn rows2(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached(sql).map_err(db)?;
    let rows = stmt
        .query_map(p, |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
}

fn cursor(listing: Listing, page: &PageRequest) -> Result<Option<i64>> {
    decode_token(listing, page)?.map(to_i64).transpose()
}

fn get_body<T: DeserializeOwned>(
    conn: &Connection,
    table: &str,
    key_col: &str,
    what: &str,
    key: &str,
) -> Result<T> {
    let body = body_of(conn, table, key_col, key)?.ok_or_else(|| not_found(what, key))?;
    decode(what, &body)
}

impl StateMachines for SqliteStore {
    fn get_state_machine(&self, arn: &str) -> Result<StateMachineRecord> {
        self.read(|c| get_body(c, "state_machines", "arn", "state machine", arn))
    }

    fn list_state_machines(&self, page: &PageRequest) -> Result<Page<StateMachineRecord>> {
        let after = cursor(Listing::StateMachines, page)?.unwrap_or(0);
        let limit = page.limit();
        self.read(|c| {
            let rows = rows2(
                c,
                "SELECT seq, body FROM state_machines WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                params![after, limit as i64 + 1],
            )?;
            page_of("state machine", Listing::StateMachines, limit, rows)
        })
    }

    fn get_version(&self, arn: &str) -> Result<VersionRecord> {
        self.read(|c| get_body(c, "versions", "arn", "version", arn))
    }

    fn list_versions(&self, sm: &str, page: &PageRequest) -> Result<Page<VersionRecord>> {
        let before = cursor(Listing::Versions, page)?.unwrap_or(i64::MAX);
        let limit = page.limit();
        self.read(|c| {
            let rows = rows2(
                c,
                "SELECT seq, body FROM versions WHERE state_machine_arn = ?1 AND seq < ?2 \
                 ORDER BY seq DESC LIMIT ?3",
                params![sm, before, limit as i64 + 1],
            )?;
            page_of("version", Listing::Versions, limit, rows)
        })
    }

    fn get_alias(&self, arn: &str) -> Result<AliasRecord> {
        self.read(|c| get_body(c, "aliases", "arn", "alias", arn))
    }

    fn list_aliases(&self, sm: &str, page: &PageRequest) -> Result<Page<AliasRecord>> {
        let after = cursor(Listing::Aliases, page)?.unwrap_or(0);
        let limit = page.limit();
        self.read(|c| {
            let rows = rows2(
                c,
                "SELECT seq, body FROM aliases WHERE state_machine_arn = ?1 AND seq > ?2 \
                 ORDER BY seq LIMIT ?3",
                params![sm, after, limit as i64 + 1],
            )?;
            page_of("alias", Listing::Aliases, limit, rows)
        })
    }
}

/// Executions are read with their `last_event_id` column, which the body does not track.
/// A body that is not JSON is passed through as is, to fail decoding as `Corrupt`.
const EXECUTION_COLUMNS: &str = "seq, CASE WHEN json_valid(body) \
     THEN json_set(body, '$.last_event_id', last_event_id) ELSE body END";

impl Executions for SqliteStore {
    fn get_execution(&self, arn: &str) -> Result<ExecutionRecord> {
        self.read(|c| {
            let rows = rows2(
                c,
                &format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE arn = ?1"),
                [arn],
            )?;
            let (_, body) = rows
                .into_iter()
                .next()
                .ok_or_else(|| not_found("execution", arn))?;
            decode("execution", &body)
        })
    }

    fn list_executions(
        &self,
        filter: &ExecutionFilter,
        page: &PageRequest,
    ) -> Result<Page<ExecutionRecord>> {
        let before = cursor(Listing::Executions, page)?.unwrap_or(i64::MAX);
        let limit = page.limit();
        self.read(|c| {
            let rows = rows2(
                c,
                &format!(
                    "SELECT {EXECUTION_COLUMNS} FROM executions WHERE seq < ?1 \
                     AND (?2 IS NULL OR state_machine_arn = ?2 OR version_arn = ?2 \
                          OR alias_arn = ?2) \
                     AND (?3 IS NULL OR status = ?3) AND (?4 IS NULL OR parent_arn = ?4) \
                     AND (?6 IS NULL OR (COALESCE(json_extract(body, '$.redrive_count'), 0) > 0) = ?6) \
                     ORDER BY seq DESC LIMIT ?5"
                ),
                params![
                    before,
                    filter.state_machine_arn,
                    filter.status.map(|s| s.as_str()),
                    filter.parent_arn,
                    limit as i64 + 1,
                    filter.redriven
                ],
            )?;
            page_of("execution", Listing::Executions, limit, rows)
        })
    }

    fn open_executions(&self, page: &PageRequest) -> Result<Page<ExecutionRecord>> {
        let after = cursor(Listing::Executions, page)?.unwrap_or(0);
        let limit = page.limit();
        self.read(|c| {
            let rows = rows2(
                c,
                &format!(
                    "SELECT {EXECUTION_COLUMNS} FROM executions \
                     WHERE status = 'RUNNING' AND seq > ?1 ORDER BY seq LIMIT ?2"
                ),
                params![after, limit as i64 + 1],
            )?;
            page_of("execution", Listing::Executions, limit, rows)
        })
    }
}

fn event_rows(
    conn: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
) -> Result<Vec<HistoryEventRow>> {
    let mut stmt = conn.prepare_cached(sql).map_err(db)?;
    let rows = stmt
        .query_map(p, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, u32>(6)?,
            ))
        })
        .map_err(db)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, prev, timestamp, kind, details, thread, seq) = row.map_err(db)?;
        out.push(HistoryEventRow {
            id: to_u64(id, "event id")?,
            previous_event_id: to_u64(prev, "previous event id")?,
            timestamp,
            kind,
            details,
            thread,
            seq,
        });
    }
    Ok(out)
}

fn execution_seq(conn: &Connection, arn: &str) -> Result<i64> {
    conn.prepare_cached("SELECT seq FROM executions WHERE arn = ?1")
        .and_then(|mut s| s.query_row([arn], |r| r.get(0)).optional())
        .map_err(db)?
        .ok_or_else(|| not_found("execution", arn))
}

impl MapRuns for SqliteStore {
    fn get_map_run(&self, arn: &str) -> Result<MapRunRecord> {
        self.read(|c| get_body(c, "map_runs", "arn", "map run", arn))
    }

    fn list_map_runs(&self, execution: &str, page: &PageRequest) -> Result<Page<MapRunRecord>> {
        let before = cursor(Listing::MapRuns, page)?.unwrap_or(i64::MAX);
        let limit = page.limit();
        self.read(|c| {
            let rows = rows2(
                c,
                "SELECT seq, body FROM map_runs WHERE execution_arn = ?1 AND seq < ?2 \
                 ORDER BY seq DESC LIMIT ?3",
                params![execution, before, limit as i64 + 1],
            )?;
            page_of("map run", Listing::MapRuns, limit, rows)
        })
    }
}

const EVENT_COLUMNS: &str = "id, previous_event_id, timestamp, type, details, thread, seq";

impl History for SqliteStore {
    fn read_events(
        &self,
        execution_arn: &str,
        page: &PageRequest,
        reverse: bool,
    ) -> Result<Page<HistoryEventRow>> {
        let listing = if reverse {
            Listing::EventsReverse
        } else {
            Listing::EventsForward
        };
        let cursor = cursor(listing, page)?;
        let limit = page.limit();
        self.read(|c| {
            let seq = execution_seq(c, execution_arn)?;
            let mut items = if reverse {
                event_rows(
                    c,
                    &format!(
                        "SELECT {EVENT_COLUMNS} FROM events WHERE execution = ?1 AND id < ?2 \
                         ORDER BY id DESC LIMIT ?3"
                    ),
                    params![seq, cursor.unwrap_or(i64::MAX), limit as i64 + 1],
                )?
            } else {
                event_rows(
                    c,
                    &format!(
                        "SELECT {EVENT_COLUMNS} FROM events WHERE execution = ?1 AND id > ?2 \
                         ORDER BY id LIMIT ?3"
                    ),
                    params![seq, cursor.unwrap_or(0), limit as i64 + 1],
                )?
            };
            let next_token = if items.len() > limit {
                items.truncate(limit);
                items.last().map(|e| encode_token(listing, e.id))
            } else {
                None
            };
            Ok(Page { items, next_token })
        })
    }

    fn events_after(
        &self,
        execution_arn: &str,
        after_id: u64,
        limit: usize,
    ) -> Result<Vec<HistoryEventRow>> {
        let after = to_i64(after_id)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|c| {
            let seq = execution_seq(c, execution_arn)?;
            event_rows(
                c,
                &format!(
                    "SELECT {EVENT_COLUMNS} FROM events WHERE execution = ?1 AND id > ?2 \
                     ORDER BY id LIMIT ?3"
                ),
                params![seq, after, limit],
            )
        })
    }
}

fn timer_rows(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<Vec<TimerRecord>> {
    let mut stmt = conn.prepare_cached(sql).map_err(db)?;
    let rows = stmt
        .query_map(p, |r| {
            Ok(TimerRecord {
                execution_arn: r.get(0)?,
                key: r.get(1)?,
                fire_at: r.get(2)?,
            })
        })
        .map_err(db)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
}

impl Timers for SqliteStore {
    fn due_timers(&self, now: Millis, limit: usize) -> Result<Vec<TimerRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|c| {
            timer_rows(
                c,
                "SELECT execution_arn, key, fire_at FROM timers WHERE fire_at <= ?1 \
                 ORDER BY fire_at, execution_arn, key LIMIT ?2",
                params![now, limit],
            )
        })
    }

    fn timers_for(&self, execution_arn: &str) -> Result<Vec<TimerRecord>> {
        self.read(|c| {
            timer_rows(
                c,
                "SELECT execution_arn, key, fire_at FROM timers WHERE execution_arn = ?1 \
                 ORDER BY fire_at, key",
                [execution_arn],
            )
        })
    }
}

impl Activities for SqliteStore {
    fn get_activity(&self, arn: &str) -> Result<ActivityRecord> {
        self.read(|c| get_body(c, "activities", "arn", "activity", arn))
    }

    fn list_activities(&self, page: &PageRequest) -> Result<Page<ActivityRecord>> {
        let after = cursor(Listing::Activities, page)?.unwrap_or(0);
        let limit = page.limit();
        self.read(|c| {
            let rows = rows2(
                c,
                "SELECT seq, body FROM activities WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                params![after, limit as i64 + 1],
            )?;
            page_of("activity", Listing::Activities, limit, rows)
        })
    }
}

impl TaskTokens for SqliteStore {
    fn get_task_token(&self, token: &str) -> Result<TaskTokenRecord> {
        self.read(|c| get_body(c, "task_tokens", "token", "task token", token))
    }

    fn task_tokens_for(&self, execution_arn: &str) -> Result<Vec<TaskTokenRecord>> {
        self.read(|c| {
            rows2(
                c,
                "SELECT seq, body FROM task_tokens WHERE execution_arn = ?1 ORDER BY seq",
                [execution_arn],
            )?
            .iter()
            .map(|(_, body)| decode("task token", body))
            .collect()
        })
    }
}

impl Tags for SqliteStore {
    fn list_tags(&self, arn: &str) -> Result<Vec<Tag>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached("SELECT key, value FROM tags WHERE arn = ?1 ORDER BY key")
                .map_err(db)?;
            let rows = stmt
                .query_map([arn], |r| {
                    Ok(Tag {
                        key: r.get(0)?,
                        value: r.get(1)?,
                    })
                })
                .map_err(db)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("stepwise-store-unit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("store.db")
    }

    #[test]
    fn torn_rows_are_errors_not_panics() {
        let path = temp_path("torn");
        {
            let s = SqliteStore::open(&path).unwrap();
            s.create_activity(ActivityRecord {
                arn: "a".into(),
                name: "a".into(),
                creation_date: 1,
                encryption_configuration: None,
            })
            .unwrap();
        }
        let raw = Connection::open(&path).unwrap();
        raw.execute("UPDATE activities SET body = '{\"arn\": 3'", [])
            .unwrap();
        raw.execute(
            "INSERT INTO executions (arn, state_machine_arn, status, body) \
             VALUES ('x', 'sm', 'RUNNING', 'not json')",
            [],
        )
        .unwrap();
        raw.execute(
            "INSERT INTO events VALUES (1, 7, 0, 'noon', 'ExecutionStarted', NULL, '', 0)",
            [],
        )
        .unwrap();
        drop(raw);
        let s = SqliteStore::open(&path).unwrap();
        assert!(matches!(s.get_activity("a"), Err(Error::Corrupt(_))));
        assert!(matches!(
            s.list_activities(&PageRequest::default()),
            Err(Error::Corrupt(_))
        ));
        assert!(matches!(s.get_execution("x"), Err(Error::Corrupt(_))));
        assert!(matches!(
            s.read_events("x", &PageRequest::default(), false),
            Err(Error::Corrupt(_))
        ));
        // A status change needs the body: the append fails as a whole and stores nothing.
        let e = HistoryEventRow {
            id: 1,
            previous_event_id: 0,
            timestamp: 0,
            kind: "ExecutionStarted".into(),
            details: None,
            thread: String::new(),
            seq: 0,
        };
        let update = ExecutionUpdate {
            status: ExecutionStatus::Failed,
            output: None,
            error: None,
            cause: None,
            stop_date: None,
            redrive_count: 0,
            redrive_date: None,
        };
        let r = s.append_events("x", vec![e.clone()], Some(update));
        assert!(matches!(r, Err(Error::Corrupt(_))), "{r:?}");
        // An event row the execution does not account for is reported, not overwritten.
        let mut seven: Vec<HistoryEventRow> = (1..=7)
            .map(|id| HistoryEventRow { id, ..e.clone() })
            .collect();
        let r = s.append_events("x", std::mem::take(&mut seven), None);
        assert!(
            matches!(r, Err(Error::Corrupt(ref m)) if m.contains("beyond")),
            "{r:?}"
        );
        assert!(matches!(s.events_after("x", 0, 10), Err(Error::Corrupt(_))));
    }

    #[test]
    fn not_a_database_and_newer_schema_are_refused() {
        let path = temp_path("garbage");
        std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
        assert!(matches!(SqliteStore::open(&path), Err(Error::Corrupt(_))));

        let path = temp_path("newer");
        drop(SqliteStore::open(&path).unwrap());
        let raw = Connection::open(&path).unwrap();
        raw.execute("UPDATE schema_version SET version = 99", [])
            .unwrap();
        drop(raw);
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(
            matches!(err, Error::Corrupt(ref m) if m.contains("newer")),
            "{err}"
        );
    }

    #[test]
    fn migrations_run_once() {
        let path = temp_path("migrate");
        drop(SqliteStore::open(&path).unwrap());
        drop(SqliteStore::open(&path).unwrap());
        let raw = Connection::open(&path).unwrap();
        let v: i64 = raw
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION as i64);
        let n: i64 = raw
            .query_row("SELECT COUNT(*) FROM schema_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }
}

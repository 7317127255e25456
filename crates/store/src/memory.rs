//! The in-memory backend: for tests and for `stepwise run`-style uses that need no durability.
//! One mutex around everything; each op checks before it mutates, so a failing op leaves
//! nothing behind, and a [`WriteOp::Group`] is undone by restoring a copy taken before it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use crate::types::{check_contiguous, decode_token, encode_token, Listing};
use crate::*;

/// Rows in creation order with a key index: the creation sequence is what pages are cut by.
#[derive(Debug, Clone)]
struct Table<T> {
    next: u64,
    rows: BTreeMap<u64, T>,
    index: HashMap<String, u64>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            next: 1,
            rows: BTreeMap::new(),
            index: HashMap::new(),
        }
    }
}

impl<T: Clone> Table<T> {
    fn get(&self, key: &str) -> Option<&T> {
        self.index.get(key).and_then(|seq| self.rows.get(seq))
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut T> {
        let seq = self.index.get(key)?;
        self.rows.get_mut(seq)
    }

    fn insert(&mut self, key: &str, value: T) {
        let seq = self.next;
        self.next += 1;
        self.rows.insert(seq, value);
        self.index.insert(key.to_string(), seq);
    }

    fn remove(&mut self, key: &str) -> Option<T> {
        let seq = self.index.remove(key)?;
        self.rows.remove(&seq)
    }

    fn remove_where(&mut self, keep: impl Fn(&T) -> bool, key_of: impl Fn(&T) -> &str) {
        let gone: Vec<String> = self
            .rows
            .values()
            .filter(|r| !keep(r))
            .map(|r| key_of(r).to_string())
            .collect();
        for k in gone {
            self.remove(&k);
        }
    }

    fn page(
        &self,
        listing: Listing,
        page: &PageRequest,
        newest_first: bool,
        filter: impl Fn(&T) -> bool,
    ) -> Result<Page<T>> {
        let after = decode_token(listing, page)?;
        let limit = page.limit();
        let iter: Box<dyn Iterator<Item = (&u64, &T)>> = match (newest_first, after) {
            (false, None) => Box::new(self.rows.iter()),
            (false, Some(a)) => Box::new(self.rows.range(a + 1..)),
            (true, None) => Box::new(self.rows.iter().rev()),
            (true, Some(a)) => Box::new(self.rows.range(..a).rev()),
        };
        let mut found: Vec<(u64, T)> = iter
            .filter(|(_, r)| filter(r))
            .take(limit + 1)
            .map(|(s, r)| (*s, r.clone()))
            .collect();
        let next_token = if found.len() > limit {
            found.truncate(limit);
            found.last().map(|(s, _)| encode_token(listing, *s))
        } else {
            None
        };
        Ok(Page {
            items: found.into_iter().map(|(_, r)| r).collect(),
            next_token,
        })
    }
}

#[derive(Debug, Clone, Default)]
struct Inner {
    state_machines: Table<StateMachineRecord>,
    /// Last version number handed out per state machine: numbers are never reused.
    version_counters: HashMap<String, u64>,
    versions: Table<VersionRecord>,
    aliases: Table<AliasRecord>,
    executions: Table<ExecutionRecord>,
    events: HashMap<String, Vec<HistoryEventRow>>,
    timers: BTreeMap<(String, String), Millis>,
    activities: Table<ActivityRecord>,
    tokens: Table<TaskTokenRecord>,
    tags: HashMap<String, BTreeMap<String, String>>,
    map_runs: Table<MapRunRecord>,
}

/// A [`Store`] kept in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-applied op (ops check first), so
        // the data behind a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn not_found(what: &str, key: &str) -> Error {
    Error::NotFound(format!("{what} {key}"))
}

impl Inner {
    fn apply(&mut self, op: WriteOp) -> Result<WriteOutcome> {
        match op {
            WriteOp::CreateStateMachine(r) => {
                if let Some(old) = self.state_machines.get(&r.arn) {
                    return Err(Error::AlreadyExists {
                        identical: old.same_as(&r),
                        arn: r.arn,
                    });
                }
                self.state_machines.insert(&r.arn.clone(), r);
            }
            WriteOp::UpdateStateMachine {
                record,
                expected_revision,
            } => {
                let old = self
                    .state_machines
                    .get_mut(&record.arn)
                    .ok_or_else(|| not_found("state machine", &record.arn))?;
                if let Some(rev) = expected_revision {
                    if old.revision_id != rev {
                        return Err(Error::Conflict(format!(
                            "state machine {} is at revision {}, not {rev}",
                            record.arn, old.revision_id
                        )));
                    }
                }
                *old = record;
            }
            WriteOp::DeleteStateMachine(arn) => {
                self.state_machines
                    .remove(&arn)
                    .ok_or_else(|| not_found("state machine", &arn))?;
                self.version_counters.remove(&arn);
                let mut owned: Vec<String> = Vec::new();
                owned.extend(
                    (self.versions.rows.values())
                        .filter(|v| v.state_machine_arn == arn)
                        .map(|v| v.arn.clone()),
                );
                owned.extend(
                    (self.aliases.rows.values())
                        .filter(|a| a.state_machine_arn == arn)
                        .map(|a| a.arn.clone()),
                );
                self.versions
                    .remove_where(|v| v.state_machine_arn != arn, |v| &v.arn);
                self.aliases
                    .remove_where(|a| a.state_machine_arn != arn, |a| &a.arn);
                self.tags.remove(&arn);
                for a in owned {
                    self.tags.remove(&a);
                }
            }
            WriteOp::PublishVersion(mut v) => {
                if self.state_machines.get(&v.state_machine_arn).is_none() {
                    return Err(not_found("state machine", &v.state_machine_arn));
                }
                let counter = self
                    .version_counters
                    .entry(v.state_machine_arn.clone())
                    .or_insert(0);
                *counter += 1;
                v.version = *counter;
                v.arn = format!("{}:{}", v.state_machine_arn, v.version);
                self.versions.insert(&v.arn.clone(), v.clone());
                return Ok(WriteOutcome::Version(v));
            }
            WriteOp::DeleteVersion(arn) => {
                self.versions
                    .remove(&arn)
                    .ok_or_else(|| not_found("version", &arn))?;
                self.tags.remove(&arn);
            }
            WriteOp::CreateAlias(a) => {
                if let Some(old) = self.aliases.get(&a.arn) {
                    return Err(Error::AlreadyExists {
                        identical: old.routing == a.routing && old.description == a.description,
                        arn: a.arn,
                    });
                }
                self.aliases.insert(&a.arn.clone(), a);
            }
            WriteOp::UpdateAlias(a) => {
                let old = self
                    .aliases
                    .get_mut(&a.arn)
                    .ok_or_else(|| not_found("alias", &a.arn))?;
                *old = a;
            }
            WriteOp::DeleteAlias(arn) => {
                self.aliases
                    .remove(&arn)
                    .ok_or_else(|| not_found("alias", &arn))?;
                self.tags.remove(&arn);
            }
            WriteOp::CreateExecution(mut e) => {
                if let Some(old) = self.executions.get(&e.arn) {
                    return Err(Error::AlreadyExists {
                        identical: old.same_as(&e),
                        arn: e.arn,
                    });
                }
                e.last_event_id = 0;
                self.events.insert(e.arn.clone(), Vec::new());
                self.executions.insert(&e.arn.clone(), e);
            }
            WriteOp::AppendEvents {
                execution_arn,
                events,
                update,
            } => {
                let exec = self
                    .executions
                    .get_mut(&execution_arn)
                    .ok_or_else(|| not_found("execution", &execution_arn))?;
                check_contiguous(&execution_arn, exec.last_event_id, &events)?;
                if let Some(last) = events.last() {
                    exec.last_event_id = last.id;
                }
                if let Some(u) = update {
                    exec.status = u.status;
                    exec.output = u.output;
                    exec.error = u.error;
                    exec.cause = u.cause;
                    exec.stop_date = u.stop_date;
                    exec.redrive_count = u.redrive_count;
                    exec.redrive_date = u.redrive_date;
                }
                self.events.entry(execution_arn).or_default().extend(events);
            }
            WriteOp::SetTimer(t) => {
                self.timers.insert((t.execution_arn, t.key), t.fire_at);
            }
            WriteOp::CancelTimer { execution_arn, key } => {
                self.timers.remove(&(execution_arn, key));
            }
            WriteOp::CreateActivity(a) => {
                if let Some(old) = self.activities.get(&a.arn) {
                    return Err(Error::AlreadyExists {
                        identical: old.encryption_configuration == a.encryption_configuration,
                        arn: a.arn,
                    });
                }
                self.activities.insert(&a.arn.clone(), a);
            }
            WriteOp::DeleteActivity(arn) => {
                self.activities
                    .remove(&arn)
                    .ok_or_else(|| not_found("activity", &arn))?;
                self.tags.remove(&arn);
            }
            WriteOp::PutTaskToken(t) => {
                if self.tokens.get(&t.token).is_some() {
                    return Err(Error::AlreadyExists {
                        arn: t.token,
                        identical: false,
                    });
                }
                self.tokens.insert(&t.token.clone(), t);
            }
            WriteOp::UpdateTaskToken { record, expected } => {
                let old = self
                    .tokens
                    .get_mut(&record.token)
                    .ok_or_else(|| not_found("task token", &record.token))?;
                if !expected.is_empty() && !expected.contains(&old.status) {
                    return Err(Error::Conflict(format!(
                        "task token is {}",
                        old.status.as_str()
                    )));
                }
                *old = record;
            }
            WriteOp::ClaimActivityTask {
                activity_arn,
                worker_name,
                now,
            } => {
                let found = self.tokens.rows.values_mut().find(|t| {
                    t.status == TaskTokenStatus::Scheduled
                        && t.activity_arn.as_deref() == Some(activity_arn.as_str())
                });
                let Some(t) = found else {
                    return Ok(WriteOutcome::Task(None));
                };
                t.status = TaskTokenStatus::Started;
                t.worker_name = worker_name;
                t.heartbeat_deadline = t
                    .heartbeat_seconds
                    .map(|s| now.saturating_add((s as i64).saturating_mul(1000)));
                return Ok(WriteOutcome::Task(Some(Box::new(t.clone()))));
            }
            WriteOp::TagResource { arn, tags } => {
                let map = self.tags.entry(arn).or_default();
                for t in tags {
                    map.insert(t.key, t.value);
                }
            }
            WriteOp::UntagResource { arn, keys } => {
                if let Some(map) = self.tags.get_mut(&arn) {
                    for k in keys {
                        map.remove(&k);
                    }
                }
            }
            WriteOp::PutMapRun(r) => match self.map_runs.get_mut(&r.arn) {
                Some(old) => *old = r,
                None => {
                    let arn = r.arn.clone();
                    self.map_runs.insert(&arn, r);
                }
            },
            WriteOp::Group(ops) => {
                let before = self.clone();
                let mut out = Vec::with_capacity(ops.len());
                for op in ops {
                    match self.apply(op) {
                        Ok(o) => out.push(o),
                        Err(e) => {
                            *self = before;
                            return Err(e);
                        }
                    }
                }
                return Ok(WriteOutcome::Group(out));
            }
        }
        Ok(WriteOutcome::Done)
    }
}

impl Batch for MemoryStore {
    fn write_batch(&self, ops: Vec<WriteOp>) -> Result<Vec<Result<WriteOutcome>>> {
        let mut inner = self.lock();
        Ok(ops.into_iter().map(|op| inner.apply(op)).collect())
    }
}

impl StateMachines for MemoryStore {
    fn get_state_machine(&self, arn: &str) -> Result<StateMachineRecord> {
        let inner = self.lock();
        let r = inner.state_machines.get(arn);
        r.cloned().ok_or_else(|| not_found("state machine", arn))
    }

    fn list_state_machines(&self, page: &PageRequest) -> Result<Page<StateMachineRecord>> {
        (self.lock().state_machines).page(Listing::StateMachines, page, false, |_| true)
    }

    fn get_version(&self, arn: &str) -> Result<VersionRecord> {
        let inner = self.lock();
        let r = inner.versions.get(arn);
        r.cloned().ok_or_else(|| not_found("version", arn))
    }

    fn list_versions(&self, sm: &str, page: &PageRequest) -> Result<Page<VersionRecord>> {
        (self.lock().versions).page(Listing::Versions, page, true, |v| v.state_machine_arn == sm)
    }

    fn get_alias(&self, arn: &str) -> Result<AliasRecord> {
        let inner = self.lock();
        let r = inner.aliases.get(arn);
        r.cloned().ok_or_else(|| not_found("alias", arn))
    }

    fn list_aliases(&self, sm: &str, page: &PageRequest) -> Result<Page<AliasRecord>> {
        (self.lock().aliases).page(Listing::Aliases, page, false, |a| a.state_machine_arn == sm)
    }
}

impl Executions for MemoryStore {
    fn get_execution(&self, arn: &str) -> Result<ExecutionRecord> {
        let inner = self.lock();
        let r = inner.executions.get(arn);
        r.cloned().ok_or_else(|| not_found("execution", arn))
    }

    fn list_executions(
        &self,
        filter: &ExecutionFilter,
        page: &PageRequest,
    ) -> Result<Page<ExecutionRecord>> {
        (self.lock().executions).page(Listing::Executions, page, true, |e| filter.matches(e))
    }

    fn open_executions(&self, page: &PageRequest) -> Result<Page<ExecutionRecord>> {
        (self.lock().executions).page(Listing::Executions, page, false, |e| {
            e.status == ExecutionStatus::Running
        })
    }
}

impl History for MemoryStore {
    fn read_events(
        &self,
        execution_arn: &str,
        page: &PageRequest,
        reverse: bool,
    ) -> Result<Page<HistoryEventRow>> {
        let inner = self.lock();
        let events = inner
            .events
            .get(execution_arn)
            .ok_or_else(|| not_found("execution", execution_arn))?;
        let listing = if reverse {
            Listing::EventsReverse
        } else {
            Listing::EventsForward
        };
        let after = decode_token(listing, page)?;
        let limit = page.limit();
        // Ids are 1..=n at positions 0..n, so an id is an index plus one.
        let mut items: Vec<HistoryEventRow> = if reverse {
            let end = after.map_or(events.len(), |a| {
                (a.saturating_sub(1) as usize).min(events.len())
            });
            events[..end]
                .iter()
                .rev()
                .take(limit + 1)
                .cloned()
                .collect()
        } else {
            let start = after.map_or(0, |a| (a as usize).min(events.len()));
            events[start..].iter().take(limit + 1).cloned().collect()
        };
        let next_token = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|e| encode_token(listing, e.id))
        } else {
            None
        };
        Ok(Page { items, next_token })
    }

    fn events_after(
        &self,
        execution_arn: &str,
        after_id: u64,
        limit: usize,
    ) -> Result<Vec<HistoryEventRow>> {
        let inner = self.lock();
        let events = inner
            .events
            .get(execution_arn)
            .ok_or_else(|| not_found("execution", execution_arn))?;
        let start = (after_id as usize).min(events.len());
        Ok(events[start..].iter().take(limit).cloned().collect())
    }
}

impl Timers for MemoryStore {
    fn due_timers(&self, now: Millis, limit: usize) -> Result<Vec<TimerRecord>> {
        let inner = self.lock();
        let mut due: Vec<TimerRecord> = inner
            .timers
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|((arn, key), at)| TimerRecord {
                execution_arn: arn.clone(),
                key: key.clone(),
                fire_at: *at,
            })
            .collect();
        due.sort_by(|a, b| {
            (a.fire_at, &a.execution_arn, &a.key).cmp(&(b.fire_at, &b.execution_arn, &b.key))
        });
        due.truncate(limit);
        Ok(due)
    }

    fn timers_for(&self, execution_arn: &str) -> Result<Vec<TimerRecord>> {
        let inner = self.lock();
        let mut v: Vec<TimerRecord> = inner
            .timers
            .iter()
            .filter(|((arn, _), _)| arn == execution_arn)
            .map(|((arn, key), at)| TimerRecord {
                execution_arn: arn.clone(),
                key: key.clone(),
                fire_at: *at,
            })
            .collect();
        v.sort_by(|a, b| (a.fire_at, &a.key).cmp(&(b.fire_at, &b.key)));
        Ok(v)
    }
}

impl Activities for MemoryStore {
    fn get_activity(&self, arn: &str) -> Result<ActivityRecord> {
        let inner = self.lock();
        let r = inner.activities.get(arn);
        r.cloned().ok_or_else(|| not_found("activity", arn))
    }

    fn list_activities(&self, page: &PageRequest) -> Result<Page<ActivityRecord>> {
        (self.lock().activities).page(Listing::Activities, page, false, |_| true)
    }
}

impl TaskTokens for MemoryStore {
    fn get_task_token(&self, token: &str) -> Result<TaskTokenRecord> {
        let inner = self.lock();
        let r = inner.tokens.get(token);
        r.cloned().ok_or_else(|| not_found("task token", token))
    }

    fn task_tokens_for(&self, execution_arn: &str) -> Result<Vec<TaskTokenRecord>> {
        let inner = self.lock();
        let tokens = inner.tokens.rows.values();
        Ok(tokens
            .filter(|t| t.execution_arn == execution_arn)
            .cloned()
            .collect())
    }
}

impl Tags for MemoryStore {
    fn list_tags(&self, arn: &str) -> Result<Vec<Tag>> {
        let inner = self.lock();
        Ok(inner.tags.get(arn).map_or_else(Vec::new, |m| {
            m.iter()
                .map(|(k, v)| Tag {
                    key: k.clone(),
                    value: v.clone(),
                })
                .collect()
        }))
    }
}

impl MapRuns for MemoryStore {
    fn get_map_run(&self, arn: &str) -> Result<MapRunRecord> {
        (self.lock().map_runs)
            .get(arn)
            .cloned()
            .ok_or_else(|| not_found("map run", arn))
    }

    fn list_map_runs(&self, execution: &str, page: &PageRequest) -> Result<Page<MapRunRecord>> {
        (self.lock().map_runs).page(Listing::MapRuns, page, true, |r| {
            r.execution_arn == execution
        })
    }
}

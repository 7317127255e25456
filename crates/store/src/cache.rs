//! A read-through cache for state machines, versions and aliases in front of any store.
//!
//! Every StartExecution reads the state machine (and its version or alias) it starts; on the
//! Express fast path that read costs more than the execution. Those records change only through
//! this process's writes, so the cache is dropped whenever a write touches one of them.
//! It assumes one process writes the definitions: several nodes sharing a database would need
//! the backend's own change notifications instead.

use crate::*;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

pub struct CachedStore {
    inner: Arc<dyn Store>,
    machines: RwLock<HashMap<String, StateMachineRecord>>,
    versions: RwLock<HashMap<String, VersionRecord>>,
    aliases: RwLock<HashMap<String, AliasRecord>>,
}

impl CachedStore {
    pub fn new(inner: Arc<dyn Store>) -> CachedStore {
        CachedStore {
            inner,
            machines: RwLock::default(),
            versions: RwLock::default(),
            aliases: RwLock::default(),
        }
    }

    fn clear(&self) {
        for_each_lock(&self.machines, |m| m.clear());
        for_each_lock(&self.versions, |m| m.clear());
        for_each_lock(&self.aliases, |m| m.clear());
    }
}

fn for_each_lock<T>(lock: &RwLock<HashMap<String, T>>, f: impl FnOnce(&mut HashMap<String, T>)) {
    f(&mut lock.write().unwrap_or_else(|e| e.into_inner()));
}

/// Reads through `cache`: a hit is cloned out, a miss is fetched and kept.
fn cached<T: Clone>(
    cache: &RwLock<HashMap<String, T>>,
    key: &str,
    fetch: impl FnOnce() -> Result<T>,
) -> Result<T> {
    if let Some(v) = cache.read().unwrap_or_else(|e| e.into_inner()).get(key) {
        return Ok(v.clone());
    }
    let v = fetch()?;
    let mut c = cache.write().unwrap_or_else(|e| e.into_inner());
    if c.len() >= 10_000 {
        c.clear();
    }
    c.insert(key.to_string(), v.clone());
    Ok(v)
}

/// Whether a write can change a cached record.
fn touches_definitions(op: &WriteOp) -> bool {
    match op {
        WriteOp::CreateStateMachine(_)
        | WriteOp::UpdateStateMachine { .. }
        | WriteOp::DeleteStateMachine(_)
        | WriteOp::PublishVersion(_)
        | WriteOp::DeleteVersion(_)
        | WriteOp::CreateAlias(_)
        | WriteOp::UpdateAlias(_)
        | WriteOp::DeleteAlias(_) => true,
        WriteOp::Group(ops) => ops.iter().any(touches_definitions),
        _ => false,
    }
}

impl Batch for CachedStore {
    fn write_batch(&self, ops: Vec<WriteOp>) -> Result<Vec<Result<WriteOutcome>>> {
        let invalidate = ops.iter().any(touches_definitions);
        // Dropped before and after: a read racing the write can't keep a stale record.
        if invalidate {
            self.clear();
        }
        let result = self.inner.write_batch(ops);
        if invalidate {
            self.clear();
        }
        result
    }
}

impl StateMachines for CachedStore {
    fn get_state_machine(&self, arn: &str) -> Result<StateMachineRecord> {
        cached(&self.machines, arn, || self.inner.get_state_machine(arn))
    }
    fn list_state_machines(&self, page: &PageRequest) -> Result<Page<StateMachineRecord>> {
        self.inner.list_state_machines(page)
    }
    fn get_version(&self, arn: &str) -> Result<VersionRecord> {
        cached(&self.versions, arn, || self.inner.get_version(arn))
    }
    fn list_versions(&self, sm: &str, page: &PageRequest) -> Result<Page<VersionRecord>> {
        self.inner.list_versions(sm, page)
    }
    fn get_alias(&self, arn: &str) -> Result<AliasRecord> {
        cached(&self.aliases, arn, || self.inner.get_alias(arn))
    }
    fn list_aliases(&self, sm: &str, page: &PageRequest) -> Result<Page<AliasRecord>> {
        self.inner.list_aliases(sm, page)
    }
}

impl Executions for CachedStore {
    fn get_execution(&self, arn: &str) -> Result<ExecutionRecord> {
        self.inner.get_execution(arn)
    }
    fn list_executions(
        &self,
        filter: &ExecutionFilter,
        page: &PageRequest,
    ) -> Result<Page<ExecutionRecord>> {
        self.inner.list_executions(filter, page)
    }
    fn open_executions(&self, page: &PageRequest) -> Result<Page<ExecutionRecord>> {
        self.inner.open_executions(page)
    }
}

impl History for CachedStore {
    fn read_events(
        &self,
        execution_arn: &str,
        page: &PageRequest,
        reverse: bool,
    ) -> Result<Page<HistoryEventRow>> {
        self.inner.read_events(execution_arn, page, reverse)
    }
    fn events_after(
        &self,
        execution_arn: &str,
        after_id: u64,
        limit: usize,
    ) -> Result<Vec<HistoryEventRow>> {
        self.inner.events_after(execution_arn, after_id, limit)
    }
}

impl Timers for CachedStore {
    fn due_timers(&self, now: Millis, limit: usize) -> Result<Vec<TimerRecord>> {
        self.inner.due_timers(now, limit)
    }
    fn timers_for(&self, execution_arn: &str) -> Result<Vec<TimerRecord>> {
        self.inner.timers_for(execution_arn)
    }
}

impl Activities for CachedStore {
    fn get_activity(&self, arn: &str) -> Result<ActivityRecord> {
        self.inner.get_activity(arn)
    }
    fn list_activities(&self, page: &PageRequest) -> Result<Page<ActivityRecord>> {
        self.inner.list_activities(page)
    }
}

impl TaskTokens for CachedStore {
    fn get_task_token(&self, token: &str) -> Result<TaskTokenRecord> {
        self.inner.get_task_token(token)
    }
    fn task_tokens_for(&self, execution_arn: &str) -> Result<Vec<TaskTokenRecord>> {
        self.inner.task_tokens_for(execution_arn)
    }
}

impl Tags for CachedStore {
    fn list_tags(&self, arn: &str) -> Result<Vec<Tag>> {
        self.inner.list_tags(arn)
    }
}

impl MapRuns for CachedStore {
    fn get_map_run(&self, arn: &str) -> Result<MapRunRecord> {
        self.inner.get_map_run(arn)
    }
    fn list_map_runs(&self, execution: &str, page: &PageRequest) -> Result<Page<MapRunRecord>> {
        self.inner.list_map_runs(execution, page)
    }
}

//! Task tokens: activity tasks handed to workers (`GetActivityTask`) and `.waitForTaskToken`
//! callbacks, both answered with `SendTaskSuccess/Failure/Heartbeat`.
//!
//! The store is the source of truth: a token's record (`TaskTokenRecord`) is written before
//! anyone outside can learn the token, and every answer is a compare-and-set on its status, so
//! exactly one of "the worker answered" and "the task timed out" wins, whichever process or
//! thread gets there first, and an answer given while the execution is unloaded (or the server
//! is down between the answer and the event) is found again when the execution resumes.
//!
//! The [`TokenHub`] only makes it fast: it wakes the execution waiting on a token and the
//! workers long-polling an activity. A lost wake-up is impossible because waiters register
//! before they read the store and answerers write the store before they signal.

use futures::future::LocalBoxFuture;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use stepwise_store::{Error as StoreError, Millis, Store, TaskTokenRecord, TaskTokenStatus};
use tokio::sync::Notify;

thread_local! {
    /// Set while the runtime drops a parked execution's future: its token waits are not being
    /// abandoned, the execution waits on them again when it is resumed.
    static PARKING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` (dropping a parked execution) with token listeners' cancel-on-drop disabled.
pub fn while_parking<R>(f: impl FnOnce() -> R) -> R {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            PARKING.with(|p| p.set(false));
        }
    }
    PARKING.with(|p| p.set(true));
    let _reset = Reset;
    f()
}

fn parking() -> bool {
    PARKING.with(|p| p.get())
}

/// Called with an execution's ARN when one of its tokens is answered or taken by a worker,
/// whether or not the execution is loaded: the runtime resumes it if it is parked.
pub type Waker = Box<dyn Fn(&str) + Send + Sync>;

/// The statuses in which a token still waits for its answer.
const OPEN: [TaskTokenStatus; 2] = [TaskTokenStatus::Scheduled, TaskTokenStatus::Started];

/// The token of one task attempt. Derived (not drawn) from where the attempt sits in the
/// execution, so a resumed execution computes the same token it handed out before a restart
/// (the token is part of recorded parameters). SHA-256 keeps it stable across builds.
pub fn make_token(
    execution_arn: &str,
    start_ms: i64,
    thread: &str,
    seq: u32,
    attempt: u64,
) -> String {
    use base64::Engine;
    let mut h = Sha256::new();
    for part in [execution_arn.as_bytes(), thread.as_bytes()] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.update(start_ms.to_le_bytes());
    h.update(seq.to_le_bytes());
    h.update(attempt.to_le_bytes());
    let digest = h.finalize();
    // AWS's tokens are opaque base64 text starting "AQ"; ours look alike and are as opaque.
    let mut bytes = vec![1u8, 0];
    bytes.extend_from_slice(&digest);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// What happened to a token, as the execution waiting on it learns it.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// A worker took the activity task.
    Started {
        worker_name: Option<String>,
        heartbeat_deadline: Option<Millis>,
    },
    /// SendTaskHeartbeat: the heartbeat clock restarts.
    Heartbeat { deadline: Option<Millis> },
    /// SendTaskSuccess/Failure (the record's final state).
    Closed(Box<TaskTokenRecord>),
}

/// Why a SendTask*/GetActivityTask call is refused, in AWS's terms.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TokenError {
    /// Not a token Stepwise issued.
    #[error("Invalid Token: 'Invalid token'")]
    InvalidToken,
    /// The task was answered, timed out, or its execution ended.
    #[error("Task Timed Out: 'Provided task does not exist anymore'")]
    TaskTimedOut,
    #[error("Activity Does Not Exist: '{0}'")]
    ActivityDoesNotExist(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The signals for one waiting execution: a queue and a wake-up (a channel would allocate a
/// block of slots per parked execution; this is a few words).
#[derive(Default)]
struct Mailbox {
    queue: Mutex<VecDeque<Signal>>,
    notify: Notify,
}

/// One long-polling worker, woken when a task may be there for it.
struct Poller {
    woken: Mutex<bool>,
    cv: Condvar,
}

impl Poller {
    fn wake(&self) {
        *self.woken.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.cv.notify_one();
    }
}

/// In-memory rendezvous between executions, API calls and pollers (see the module docs).
#[derive(Default)]
pub struct TokenHub {
    waiters: Mutex<HashMap<String, Arc<Mailbox>>>,
    /// Per activity, the workers waiting in GetActivityTask, oldest first: a new task wakes
    /// the one that has waited longest, so tasks spread fairly over workers.
    pollers: Mutex<HashMap<String, VecDeque<Arc<Poller>>>>,
    shutting_down: AtomicBool,
}

impl TokenHub {
    fn signal(&self, token: &str, s: Signal) {
        let mailbox = {
            let waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
            waiters.get(token).cloned()
        };
        if let Some(m) = mailbox {
            m.queue
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_back(s);
            // Stores a permit when the execution is not waiting yet: no wake-up is lost.
            m.notify.notify_one();
        }
    }

    fn register(&self, token: &str) -> Arc<Mailbox> {
        let m = Arc::new(Mailbox::default());
        self.waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.to_string(), m.clone());
        m
    }

    fn unregister(&self, token: &str) {
        self.waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token);
    }

    /// Wakes the longest-waiting poller of `activity_arn`, if any.
    fn task_scheduled(&self, activity_arn: &str) {
        let poller = {
            let mut p = self.pollers.lock().unwrap_or_else(|e| e.into_inner());
            let q = p.get_mut(activity_arn);
            let first = q.and_then(VecDeque::pop_front);
            if p.get(activity_arn).is_some_and(VecDeque::is_empty) {
                p.remove(activity_arn);
            }
            first
        };
        if let Some(poller) = poller {
            poller.wake();
        }
    }

    fn enqueue(&self, activity_arn: &str, poller: &Arc<Poller>, front: bool) {
        let mut p = self.pollers.lock().unwrap_or_else(|e| e.into_inner());
        let q = p.entry(activity_arn.to_string()).or_default();
        if !q.iter().any(|x| Arc::ptr_eq(x, poller)) {
            if front {
                q.push_front(poller.clone());
            } else {
                q.push_back(poller.clone());
            }
        }
    }

    fn dequeue(&self, activity_arn: &str, poller: &Arc<Poller>) {
        let mut p = self.pollers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(q) = p.get_mut(activity_arn) {
            q.retain(|x| !Arc::ptr_eq(x, poller));
            if q.is_empty() {
                p.remove(activity_arn);
            }
        }
    }
}

/// Task tokens over a store: what the API calls (workers' side) and what executions use
/// (through [`TokenBroker`]). Shared by all worker threads.
pub struct TokenService {
    store: Arc<dyn Store>,
    hub: TokenHub,
    waker: std::sync::OnceLock<Waker>,
}

fn now_ms() -> Millis {
    chrono::Utc::now().timestamp_millis()
}

impl TokenService {
    pub fn new(store: Arc<dyn Store>) -> Arc<TokenService> {
        Arc::new(TokenService {
            store,
            hub: TokenHub::default(),
            waker: std::sync::OnceLock::new(),
        })
    }

    /// Where answers to parked executions' tokens are reported (set once, by the runtime).
    pub fn set_waker(&self, waker: Waker) {
        let _ = self.waker.set(waker);
    }

    fn wake(&self, execution_arn: &str) {
        if let Some(w) = self.waker.get() {
            w(execution_arn);
        }
    }

    /// From now on, dropped waits are the runtime going away (they resume next start), not
    /// tasks being abandoned: their tokens are left open.
    /// Long polls under way end at once, without a task.
    pub fn shutting_down(&self) {
        self.hub.shutting_down.store(true, Ordering::SeqCst);
        let pollers: Vec<Arc<Poller>> = {
            let mut p = self.hub.pollers.lock().unwrap_or_else(|e| e.into_inner());
            p.drain().flat_map(|(_, q)| q).collect()
        };
        for p in pollers {
            p.wake();
        }
    }

    /// GetActivityTask: claims the oldest scheduled task of the activity, waiting up to `wait`
    /// for one. `None` when none came (AWS then answers with no token).
    pub fn get_activity_task(
        &self,
        activity_arn: &str,
        worker_name: Option<String>,
        wait: Duration,
    ) -> Result<Option<TaskTokenRecord>, TokenError> {
        match self.store.get_activity(activity_arn) {
            Ok(_) => {}
            Err(StoreError::NotFound(_)) => {
                return Err(TokenError::ActivityDoesNotExist(activity_arn.to_string()))
            }
            Err(e) => return Err(e.into()),
        }
        let deadline = Instant::now() + wait;
        let poller = Arc::new(Poller {
            woken: Mutex::new(false),
            cv: Condvar::new(),
        });
        let mut front = false;
        loop {
            if self.hub.shutting_down.load(Ordering::SeqCst) {
                self.hub.dequeue(activity_arn, &poller);
                return Ok(None);
            }
            // Queue first, then look: a task scheduled in between wakes us.
            self.hub.enqueue(activity_arn, &poller, front);
            let claimed =
                self.store
                    .claim_activity_task(activity_arn, worker_name.clone(), now_ms());
            let claimed = match claimed {
                Ok(c) => c,
                Err(e) => {
                    self.hub.dequeue(activity_arn, &poller);
                    return Err(e.into());
                }
            };
            if let Some(task) = claimed {
                self.hub.dequeue(activity_arn, &poller);
                self.hub.signal(
                    &task.token,
                    Signal::Started {
                        worker_name: task.worker_name.clone(),
                        heartbeat_deadline: task.heartbeat_deadline,
                    },
                );
                self.wake(&task.execution_arn);
                return Ok(Some(task));
            }
            let mut woken = poller.woken.lock().unwrap_or_else(|e| e.into_inner());
            while !*woken {
                let now = Instant::now();
                if now >= deadline {
                    drop(woken);
                    self.hub.dequeue(activity_arn, &poller);
                    return Ok(None);
                }
                woken = match poller.cv.wait_timeout(woken, deadline - now) {
                    Ok((g, _)) => g,
                    Err(e) => e.into_inner().0,
                };
            }
            *woken = false;
            // Woken for a task another worker may take first: keep our place in the line.
            front = true;
        }
    }

    fn open_record(&self, token: &str) -> Result<TaskTokenRecord, TokenError> {
        let rec = match self.store.get_task_token(token) {
            Ok(r) => r,
            Err(StoreError::NotFound(_)) => return Err(TokenError::InvalidToken),
            Err(e) => return Err(e.into()),
        };
        if !OPEN.contains(&rec.status) {
            return Err(TokenError::TaskTimedOut);
        }
        Ok(rec)
    }

    fn close(&self, rec: TaskTokenRecord) -> Result<(), TokenError> {
        match self.store.update_task_token(rec.clone(), OPEN.to_vec()) {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(TokenError::TaskTimedOut),
            Err(StoreError::NotFound(_)) => return Err(TokenError::InvalidToken),
            Err(e) => return Err(e.into()),
        }
        let token = rec.token.clone();
        let execution = rec.execution_arn.clone();
        self.hub.signal(&token, Signal::Closed(Box::new(rec)));
        // After the signal: a loaded execution hears it, a parked one (or one parking right
        // now, whose listener is gone) is resumed and reads the answer from the store.
        self.wake(&execution);
        Ok(())
    }

    /// Whether `token` names an open task (AWS checks this before the request's output).
    pub fn check(&self, token: &str) -> Result<(), TokenError> {
        self.open_record(token).map(|_| ())
    }

    /// SendTaskSuccess. `output` is JSON text (checked by the caller).
    pub fn send_success(&self, token: &str, output: String) -> Result<(), TokenError> {
        let mut rec = self.open_record(token)?;
        rec.status = TaskTokenStatus::Succeeded;
        rec.output = Some(output);
        self.close(rec)
    }

    /// SendTaskFailure: error and cause as given (AWS records absent ones as absent).
    pub fn send_failure(
        &self,
        token: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<(), TokenError> {
        let mut rec = self.open_record(token)?;
        rec.status = TaskTokenStatus::Failed;
        rec.error = error;
        rec.cause = cause;
        self.close(rec)
    }

    /// SendTaskHeartbeat: restarts the heartbeat clock of an open task.
    pub fn send_heartbeat(&self, token: &str) -> Result<(), TokenError> {
        let mut rec = self.open_record(token)?;
        let deadline = rec
            .heartbeat_seconds
            .map(|s| now_ms().saturating_add((s as i64).saturating_mul(1000)));
        if deadline.is_none() {
            // Nothing to restart; the call is still valid.
            return Ok(());
        }
        rec.heartbeat_deadline = deadline;
        let expected = vec![rec.status];
        match self.store.update_task_token(rec, expected) {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(TokenError::TaskTimedOut),
            Err(StoreError::NotFound(_)) => return Err(TokenError::InvalidToken),
            Err(e) => return Err(e.into()),
        }
        self.hub.signal(token, Signal::Heartbeat { deadline });
        Ok(())
    }

    /// Closes every open token of an execution (it was stopped): workers can no longer take
    /// or answer them.
    pub fn cancel_execution(&self, execution_arn: &str) -> Result<(), StoreError> {
        for mut rec in self.store.task_tokens_for(execution_arn)? {
            if OPEN.contains(&rec.status) {
                rec.status = TaskTokenStatus::Cancelled;
                let _ = self.store.update_task_token(rec, OPEN.to_vec());
            }
        }
        Ok(())
    }
}

/// What an execution sees of the token machinery (the server's runtime provides it; local runs
/// have none and answer activities and callbacks through their task handler).
pub trait TokenBroker {
    /// Whether the activity exists: a Task on a deleted activity fails before scheduling.
    fn activity_exists(&self, activity_arn: String) -> LocalBoxFuture<'_, Result<bool, String>>;
    /// Records the token unless it already is (a resumed execution), starts listening to it,
    /// and returns its stored record, which may already hold the answer.
    fn open(
        &self,
        record: TaskTokenRecord,
    ) -> LocalBoxFuture<'_, Result<(TaskTokenRecord, TokenListener), String>>;
    /// Times the token out, unless an answer won the race: `Ok(None)` when the timeout won,
    /// else the record that did.
    fn time_out(
        &self,
        record: TaskTokenRecord,
    ) -> LocalBoxFuture<'_, Result<Option<TaskTokenRecord>, String>>;
}

/// The signals of one open token. Dropping it while the token is still open (the state was
/// left: a sibling branch failed, the execution was stopped) cancels the token, except when the
/// runtime is shutting down (the execution resumes on the next start and waits again).
pub struct TokenListener {
    mailbox: Arc<Mailbox>,
    token: String,
    service: Arc<TokenService>,
    closed: bool,
}

impl TokenListener {
    pub async fn recv(&mut self) -> Option<Signal> {
        loop {
            let next = self
                .mailbox
                .queue
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop_front();
            if next.is_some() {
                return next;
            }
            self.mailbox.notify.notified().await;
        }
    }

    /// The token got its answer (or timed out): nothing to cancel on drop.
    pub fn set_closed(&mut self) {
        self.closed = true;
    }
}

impl Drop for TokenListener {
    fn drop(&mut self) {
        self.service.hub.unregister(&self.token);
        if self.closed || parking() || self.service.hub.shutting_down.load(Ordering::SeqCst) {
            return;
        }
        let service = self.service.clone();
        let token = std::mem::take(&mut self.token);
        // Off the executor: store writes block.
        let cancel = move || {
            if let Ok(mut rec) = service.store.get_task_token(&token) {
                if OPEN.contains(&rec.status) {
                    rec.status = TaskTokenStatus::Cancelled;
                    let _ = service.store.update_task_token(rec, OPEN.to_vec());
                }
            }
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            drop(tokio::task::spawn_blocking(cancel));
        } else {
            cancel();
        }
    }
}

/// Runs a blocking store call off the execution's thread.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(e.to_string()))
}

/// The broker the runtime hands to executions.
#[derive(Clone)]
pub struct Broker(pub Arc<TokenService>);

impl TokenBroker for Broker {
    fn activity_exists(&self, activity_arn: String) -> LocalBoxFuture<'_, Result<bool, String>> {
        let store = self.0.store.clone();
        Box::pin(blocking(move || match store.get_activity(&activity_arn) {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound(_)) => Ok(false),
            Err(e) => Err(e.to_string()),
        }))
    }

    fn open(
        &self,
        record: TaskTokenRecord,
    ) -> LocalBoxFuture<'_, Result<(TaskTokenRecord, TokenListener), String>> {
        Box::pin(async move {
            let service = self.0.clone();
            let token = record.token.clone();
            // Listen before reading, so no answer slips between the two.
            let mailbox = service.hub.register(&token);
            let listener = TokenListener {
                mailbox,
                token: token.clone(),
                service: service.clone(),
                closed: false,
            };
            let store = service.store.clone();
            let activity = record.activity_arn.clone();
            let stored = blocking(move || match store.put_task_token(record.clone()) {
                Ok(()) => Ok(record),
                Err(StoreError::AlreadyExists { .. }) => store
                    .get_task_token(&record.token)
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            })
            .await?;
            if let Some(a) = activity.filter(|_| stored.status == TaskTokenStatus::Scheduled) {
                service.hub.task_scheduled(&a);
            }
            Ok((stored, listener))
        })
    }

    fn time_out(
        &self,
        record: TaskTokenRecord,
    ) -> LocalBoxFuture<'_, Result<Option<TaskTokenRecord>, String>> {
        let store = self.0.store.clone();
        Box::pin(blocking(move || {
            let mut rec = record;
            rec.status = TaskTokenStatus::TimedOut;
            match store.update_task_token(rec.clone(), OPEN.to_vec()) {
                Ok(()) => Ok(None),
                Err(StoreError::Conflict(_)) => store
                    .get_task_token(&rec.token)
                    .map(Some)
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stepwise_store::{ActivityRecord, MemoryStore};

    fn record(token: &str, activity: Option<&str>) -> TaskTokenRecord {
        TaskTokenRecord {
            token: token.into(),
            execution_arn: "arn:aws:states:us-east-1:1:execution:m:e".into(),
            state_name: "S".into(),
            activity_arn: activity.map(str::to_string),
            input: Some("{}".into()),
            status: if activity.is_some() {
                TaskTokenStatus::Scheduled
            } else {
                TaskTokenStatus::Started
            },
            worker_name: None,
            created: 0,
            heartbeat_seconds: Some(10),
            heartbeat_deadline: None,
            timeout_deadline: None,
            output: None,
            error: None,
            cause: None,
        }
    }

    #[test]
    fn tokens_are_stable_and_distinct() {
        let a = make_token("arn", 1, "", 3, 0);
        assert_eq!(a, make_token("arn", 1, "", 3, 0));
        assert_ne!(a, make_token("arn", 1, "", 4, 0));
        assert_ne!(a, make_token("arn", 1, "", 3, 1));
        assert_ne!(a, make_token("arn", 1, "/2.0.0", 3, 0));
        assert!(a.starts_with("AQ"), "{a}");
        assert!(a.len() < 1024);
    }

    #[test]
    fn answers_are_compare_and_set() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let svc = TokenService::new(store.clone());
        assert_eq!(
            svc.send_success("nope", "1".into()),
            Err(TokenError::InvalidToken)
        );
        store.put_task_token(record("t", None)).unwrap();
        svc.send_heartbeat("t").unwrap();
        assert!(store
            .get_task_token("t")
            .unwrap()
            .heartbeat_deadline
            .is_some());
        svc.send_failure("t", None, Some("c".into())).unwrap();
        let rec = store.get_task_token("t").unwrap();
        assert_eq!(rec.status, TaskTokenStatus::Failed);
        assert_eq!((rec.error, rec.cause.as_deref()), (None, Some("c")));
        assert_eq!(
            svc.send_success("t", "1".into()),
            Err(TokenError::TaskTimedOut)
        );
        assert_eq!(svc.send_heartbeat("t"), Err(TokenError::TaskTimedOut));
    }

    #[test]
    fn long_poll_waits_for_a_task_and_times_out_empty() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let svc = TokenService::new(store.clone());
        let arn = "arn:aws:states:us-east-1:1:activity:a";
        assert!(matches!(
            svc.get_activity_task(arn, None, Duration::from_millis(10)),
            Err(TokenError::ActivityDoesNotExist(_))
        ));
        store
            .create_activity(ActivityRecord {
                arn: arn.into(),
                name: "a".into(),
                creation_date: 0,
                encryption_configuration: None,
            })
            .unwrap();
        let t0 = Instant::now();
        assert_eq!(
            svc.get_activity_task(arn, None, Duration::from_millis(50))
                .unwrap(),
            None
        );
        assert!(t0.elapsed() >= Duration::from_millis(50));
        let svc2 = svc.clone();
        let poll = std::thread::spawn(move || {
            svc2.get_activity_task(arn, Some("w".into()), Duration::from_secs(10))
        });
        std::thread::sleep(Duration::from_millis(50));
        store.put_task_token(record("t", Some(arn))).unwrap();
        svc.hub.task_scheduled(arn);
        let got = poll.join().unwrap().unwrap().expect("a task");
        assert_eq!(got.token, "t");
        assert_eq!(got.worker_name.as_deref(), Some("w"));
        assert_eq!(got.status, TaskTokenStatus::Started);
    }
}

//! The state every action works on: configuration, the store and (for executions) the runtime.

use crate::error::ApiError;
use crate::integration::{ServiceSlot, StepFunctions};
use crate::Config;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use stepwise_engine::runtime::{Runtime, RuntimeConfig};
use stepwise_engine::TaskHandler;
use stepwise_resources::{
    Connections, Integrations, LambdaFunctions, MockConfig, ServiceIntegration,
};
use stepwise_store::{MemoryStore, SqliteStore, Store};

/// `--data-dir` value that keeps everything in memory (lost on exit).
pub const IN_MEMORY: &str = ":memory:";

/// Where `stepwise serve` keeps its data when `--data-dir` is not given: `./.stepwise`, next
/// to the project being worked on, like other local development tools.
pub const DEFAULT_DATA_DIR: &str = ".stepwise";

/// The database file inside the data directory.
pub const DB_FILE: &str = "stepwise.db";

/// Configuration, storage and execution runtime, shared by all requests.
pub struct Service {
    pub config: Config,
    pub store: Arc<dyn Store>,
    /// Runs executions; on start it resumed every RUNNING Standard execution of the store.
    pub runtime: Runtime,
    /// The loaded mock config, for StartExecution's test case check.
    pub mocks: Option<Arc<MockConfig>>,
}

/// The integrations configuration, loaded once; each worker builds its handler from it.
struct Loaded {
    mocks: Option<Arc<MockConfig>>,
    lambda: Option<Arc<LambdaFunctions>>,
    connections: Option<Arc<Connections>>,
}

impl Loaded {
    /// Reads the files `config` names: a bad file stops the server at start, not at the first
    /// task that would have used it.
    fn from_config(config: &Config) -> Result<Loaded, String> {
        let mocks = match &config.mock_config {
            Some(p) => Some(Arc::new(
                MockConfig::load(p).map_err(|e| format!("{}: {e}", p.display()))?,
            )),
            None => None,
        };
        let lambda = match (&config.lambda_config, &config.lambda_endpoint) {
            (None, None) => None,
            (file, endpoint) => {
                let mut f = match file {
                    Some(p) => LambdaFunctions::load(p)?,
                    None => LambdaFunctions::default(),
                };
                if let Some(e) = endpoint.as_deref().filter(|e| !e.is_empty()) {
                    f = f.with_default_endpoint(e);
                }
                Some(Arc::new(f))
            }
        };
        let connections = match &config.connections {
            Some(p) => Some(Arc::new(Connections::load(p)?)),
            None => None,
        };
        Ok(Loaded {
            mocks,
            lambda,
            connections,
        })
    }

    fn handler(&self, services: &[Arc<dyn ServiceIntegration>]) -> Integrations {
        let mut i = Integrations::new();
        if let Some(m) = &self.mocks {
            i = i.with_mocks(m.clone());
        }
        for s in services {
            i = i.with_service(s.clone());
        }
        if let Some(l) = &self.lambda {
            i = i.with_lambda(l.clone());
        }
        if let Some(c) = &self.connections {
            i = i.with_connections(c.clone());
        }
        i
    }
}

impl Service {
    /// Opens the storage `config.data_dir` names (see [`Config::data_dir`]).
    pub fn open(config: Config) -> Result<Arc<Service>, String> {
        let store: Arc<dyn Store> = match config.data_dir.as_deref() {
            Some(d) if d == Path::new(IN_MEMORY) => Arc::new(MemoryStore::new()),
            dir => {
                let dir: PathBuf = dir.map_or_else(|| PathBuf::from(DEFAULT_DATA_DIR), Into::into);
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("cannot create data directory {}: {e}", dir.display()))?;
                let path = dir.join(DB_FILE);
                let sqlite: Arc<dyn Store> = Arc::new(
                    SqliteStore::open(&path)
                        .map_err(|e| format!("cannot open {}: {e}", path.display()))?,
                );
                // Definitions are read on every start: keep them in memory (this process is
                // their only writer).
                Arc::new(stepwise_store::CachedStore::new(sqlite))
            }
        };
        Service::with_store(config, store)
    }

    /// A service over an in-memory store (tests).
    pub fn in_memory(config: Config) -> Result<Arc<Service>, String> {
        Service::with_store(config, Arc::new(MemoryStore::new()))
    }

    /// Starts the runtime over `store` (which resumes its RUNNING executions).
    pub fn with_store(config: Config, store: Arc<dyn Store>) -> Result<Arc<Service>, String> {
        Service::with_integrations(config, store, Vec::new())
    }

    /// Like [`Service::with_store`], with integrations of the caller's (a test harness's fake
    /// services) asked before the built-in ones; Step Functions' own integration
    /// (`states:startExecution`, `aws-sdk:sfn:*`) is always there.
    pub fn with_integrations(
        config: Config,
        store: Arc<dyn Store>,
        extra: Vec<Arc<dyn ServiceIntegration>>,
    ) -> Result<Arc<Service>, String> {
        let loaded = Arc::new(Loaded::from_config(&config)?);
        let mocks = loaded.mocks.clone();
        let slot: ServiceSlot = Arc::default();
        let mut services = extra;
        services.push(Arc::new(StepFunctions::new(slot.clone())));
        let factory = {
            let loaded = loaded.clone();
            Arc::new(move || Box::new(loaded.handler(&services)) as Box<dyn TaskHandler>)
        };
        let runtime = Runtime::start_with_tasks(
            store.clone(),
            RuntimeConfig {
                workers: config.workers.max(1),
                region: config.region.clone(),
                account: config.account_id.clone(),
            },
            factory,
        )
        .map_err(|e| format!("cannot start the execution runtime: {e}"))?;
        let svc = Arc::new(Service {
            config,
            store,
            runtime,
            mocks,
        });
        let _ = slot.set(Arc::downgrade(&svc));
        Ok(svc)
    }

    /// `arn:aws:states:<region>:<account>`.
    pub fn arn_prefix(&self) -> String {
        crate::arn::prefix(&self.config.region, &self.config.account_id)
    }

    /// Stops the runtime's workers; running executions stay RUNNING in the store and resume
    /// on the next start.
    pub fn shutdown(&self) {
        self.runtime.shutdown();
    }
}

/// Milliseconds since the epoch, the store's time unit.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A timestamp as the AWS JSON protocol sends it: epoch seconds, millisecond fraction.
pub fn ts(ms: i64) -> Value {
    Value::from(ms as f64 / 1000.0)
}

/// A store failure no action expects (I/O, corruption): logged, answered as InternalFailure.
pub fn store_failure(e: stepwise_store::Error) -> ApiError {
    match e {
        stepwise_store::Error::InvalidToken(_) => invalid_token(),
        other => {
            tracing::error!(error = %other, "store failure");
            ApiError::internal()
        }
    }
}

/// A pagination token that is not one of ours.
pub fn invalid_token() -> ApiError {
    ApiError::new("InvalidToken", "Invalid Token: 'Invalid token'", 400)
}

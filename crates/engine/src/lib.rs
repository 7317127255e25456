//! The execution engine: runs a validated state machine, turning the ASL core's decisions into
//! effects (task calls, timers, Parallel/Map fan-out) and recording history events.
//!
//! It owns ordering and bookkeeping (event ids, previousEventId, retry counters, timers) but
//! no language rules: those live in `stepwise-asl`.

pub mod durable;
pub mod history;
pub mod run;
pub mod runtime;
pub mod tasks;
pub mod test_state;
pub mod tokens;
mod vars;

pub use history::HistoryEvent;
pub use run::{
    execute, resume_local, run_local, run_local_with, EventSink, ExecutionOutcome, ExecutionStatus,
    ReplayLog, RunOptions,
};
pub use tasks::{CannedTasks, NoTasks, TaskHandler, TaskRequest, Unconfigured};

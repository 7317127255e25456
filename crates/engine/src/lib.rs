//! The execution engine: runs a validated state machine, turning the ASL core's decisions into
//! effects (task calls, timers, Parallel/Map fan-out) and recording history events.
//!
//! It owns ordering and bookkeeping (event ids, previousEventId, retries counters, timers) but
//! no language rules: those live in `stepwise-asl`.

pub mod history;

pub use history::HistoryEvent;

//! Definition validation (placeholder module; being written).

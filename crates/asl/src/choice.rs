//! Choice rules (placeholder module; being written).

//! Intrinsic functions (placeholder module; being written).

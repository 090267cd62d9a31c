//! Per-frame costs (placeholder until the engine lands).
fn main() {}

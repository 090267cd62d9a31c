//! Support code shared by the example bot (`examples/outbound_call.rs`) and the end-to-end
//! tests in `tests/`. Nothing here is meant for use outside this repository.

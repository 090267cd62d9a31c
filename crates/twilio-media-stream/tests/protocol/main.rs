//! Models, codec and session rules, tested through the public API: golden fixtures copied
//! from the protocol reference, property-based round trips and bad input.

mod bad_input;
mod golden;
mod round_trip;

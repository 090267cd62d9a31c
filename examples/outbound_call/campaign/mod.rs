//! `batch`'s campaign: the appointments of a list in one SQLite file, each with its
//! state, so that a run that stops (a crash, a deploy, a closed laptop) resumes without
//! calling anyone twice, retries the calls that reached nobody, and keeps to calling
//! hours in the callee's time zone.
//!
//! - `state`: the states and transitions, retries and calling hours (pure, no IO);
//! - `store`: the SQLite file, its migrations (`migrations/*.sql`) and rows;
//! - `list`: the list `batch` imports, checked whole;
//! - `lookup`: which of Twilio's calls a stopped run was placing (pure);
//! - `report`: what `campaign status` prints and `campaign export` writes;
//! - `run`: the runner that places the calls and follows them.

pub mod list;
pub mod lookup;
pub mod report;
pub mod run;
pub mod state;
pub mod store;

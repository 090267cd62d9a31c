//! The campaign store: one SQLite file (rusqlite, WAL), its schema from the SQL files in
//! `migrations/` applied in order (`PRAGMA user_version` counts those applied), one row
//! per appointment. Every change is one statement (or one transaction) written before
//! the action it allows, so a crash at any point leaves a row that says what may have
//! happened.
//!
//! The runner holds the file exclusively while it runs (`locking_mode=EXCLUSIVE`): a
//! second `batch` on the same file is refused as locked instead of calling the same
//! people at the same time.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};

use super::state::State;
use crate::appointment::Appointment;

/// The schema, one SQL file per version, applied in order.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_appointments.sql"),
    include_str!("migrations/0002_dialed_at.sql"),
];

/// Why the store cannot be used.
#[derive(Debug)]
pub enum StoreError {
    /// Another process holds the file (a `batch` still running on it).
    Locked(PathBuf),
    /// The file is not a SQLite database, or its pages are damaged.
    Corrupt(PathBuf, String),
    /// The file was written by a newer version of the bot.
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
        /// The newest this build knows.
        known: usize,
    },
    /// A transition the state machine does not allow (a bug or a changed file).
    Transition {
        /// The appointment.
        id: String,
        /// Its stored state.
        from: State,
        /// The state asked for.
        to: State,
    },
    /// No such appointment in the store.
    Unknown(String),
    /// Any other SQLite or IO failure.
    Sqlite(PathBuf, String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Locked(path) => write!(
                f,
                "the campaign database {} is locked: another batch is running on it (stop it, \
                 or give this one another --db)",
                path.display()
            ),
            Self::Corrupt(path, why) => write!(
                f,
                "the campaign database {} is not a usable SQLite file ({why}); it was left as \
                 it is: move it away to start afresh, or give another --db",
                path.display()
            ),
            Self::NewerSchema { path, found, known } => write!(
                f,
                "the campaign database {} has schema version {found}, newer than this bot's \
                 {known}: use the newer bot",
                path.display()
            ),
            Self::Transition { id, from, to } => {
                write!(f, "appointment {id}: {from} cannot become {to}")
            }
            Self::Unknown(id) => write!(f, "appointment {id} is not in the campaign"),
            Self::Sqlite(path, why) => {
                write!(f, "the campaign database {}: {why}", path.display())
            }
        }
    }
}

impl std::error::Error for StoreError {}

/// One appointment's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The appointment's id.
    pub id: String,
    /// The appointment as imported.
    pub appointment: Appointment,
    /// The number to call.
    pub to: String,
    /// The callee's IANA time zone, when given.
    pub time_zone: Option<String>,
    /// Its state.
    pub state: State,
    /// Calls placed (counted when `dialing` is written).
    pub attempts: u32,
    /// Unix seconds before which the next call waits.
    pub next_attempt_at: u64,
    /// The current or last call.
    pub call_sid: Option<String>,
    /// Twilio's last status for it.
    pub last_status: Option<String>,
    /// The last error, in words.
    pub last_error: Option<String>,
    /// The last outcome line's `outcome`.
    pub outcome: Option<String>,
    /// The report folder, when a stream ran.
    pub report_path: Option<String>,
    /// Unix seconds of the last change.
    pub updated_at: u64,
    /// When the current attempt's create request went out: unix milliseconds on the
    /// machine's real clock (what Twilio's `date_created` is compared with), `None` for a
    /// row dialled before schema version 2.
    pub dialed_at_ms: Option<i64>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    /// Appointments new to the store.
    pub added: usize,
    /// Ids already there (kept as stored: their state and calls are not reset).
    pub known: Vec<String>,
}

/// The open store.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

const COLUMNS: &str = "id, appointment, to_number, time_zone, state, attempts, next_attempt_at, \
                       call_sid, last_status, last_error, outcome, report_path, updated_at, \
                       dialed_at_ms";

impl Store {
    /// Opens (or creates) the campaign at `path` for the runner: WAL, exclusive, the
    /// schema brought up to date, the pages checked.
    ///
    /// # Errors
    ///
    /// Locked, corrupt, newer, or not writable.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|err| StoreError::Sqlite(path.to_owned(), err.to_string()))?;
        }
        let conn = Connection::open(path).map_err(|err| classify(path, &err))?;
        let store = Self {
            conn,
            path: path.to_owned(),
        };
        store.setup(true)?;
        Ok(store)
    }

    /// Opens an existing campaign to read it (`campaign status`, `campaign export`).
    ///
    /// # Errors
    ///
    /// Missing, locked by a running batch, corrupt, or newer.
    pub fn open_existing(path: &Path) -> Result<Self, StoreError> {
        if !path.exists() {
            return Err(StoreError::Sqlite(
                path.to_owned(),
                "no such file (run `batch` first, or give --db)".to_owned(),
            ));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|err| classify(path, &err))?;
        let store = Self {
            conn,
            path: path.to_owned(),
        };
        store.setup(false)?;
        Ok(store)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, err: &rusqlite::Error) -> StoreError {
        classify(&self.path, err)
    }

    fn setup(&self, exclusive: bool) -> Result<(), StoreError> {
        // No waiting on a lock: a held file is another runner, reported at once.
        self.conn
            .busy_timeout(std::time::Duration::ZERO)
            .map_err(|e| self.err(&e))?;
        if exclusive {
            self.conn
                .pragma_update(None, "locking_mode", "EXCLUSIVE")
                .map_err(|e| self.err(&e))?;
        }
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(|e| self.err(&e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Sqlite(
                self.path.clone(),
                format!("cannot use WAL journaling (got {mode})"),
            ));
        }
        self.conn
            .pragma_update(None, "synchronous", "FULL")
            .map_err(|e| self.err(&e))?;
        let check: String = self
            .conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| self.err(&e))?;
        if check != "ok" {
            return Err(StoreError::Corrupt(self.path.clone(), check));
        }
        self.migrate()
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(&e))?;
        if version > MIGRATIONS.len() as i64 {
            return Err(StoreError::NewerSchema {
                path: self.path.clone(),
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            let next = index + 1;
            self.conn
                .execute_batch(&format!(
                    "BEGIN IMMEDIATE; {sql}\nPRAGMA user_version = {next}; COMMIT;"
                ))
                .map_err(|e| {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    self.err(&e)
                })?;
            tracing::info!(db = %self.path.display(), version = next, "campaign schema migrated");
        }
        Ok(())
    }

    /// Adds the appointments not yet in the store (by id), in one transaction; known ids
    /// keep their row as it is.
    ///
    /// # Errors
    ///
    /// The file cannot be written.
    pub fn import(
        &mut self,
        list: &[(Appointment, String)],
        now: u64,
    ) -> Result<Imported, StoreError> {
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| classify(&path, &e);
        let tx = self.conn.transaction().map_err(fail)?;
        let mut imported = Imported::default();
        {
            let mut insert = tx
                .prepare(
                    "INSERT OR IGNORE INTO appointments \
                     (id, appointment, to_number, time_zone, state, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
                )
                .map_err(fail)?;
            for (appointment, to) in list {
                let json = serde_json::to_string(appointment)
                    .map_err(|err| StoreError::Sqlite(path.clone(), err.to_string()))?;
                let added = insert
                    .execute(params![
                        appointment.id,
                        json,
                        to,
                        appointment.time_zone,
                        now as i64
                    ])
                    .map_err(fail)?;
                if added == 1 {
                    imported.added += 1;
                } else {
                    imported.known.push(appointment.id.clone());
                }
            }
        }
        tx.commit().map_err(fail)?;
        Ok(imported)
    }

    /// Every row, in id order.
    ///
    /// # Errors
    ///
    /// The file cannot be read, or a row is not one this bot wrote.
    pub fn rows(&self) -> Result<Vec<Row>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM appointments ORDER BY id"))
            .map_err(|e| self.err(&e))?;
        let rows = statement
            .query_map([], read_row)
            .map_err(|e| self.err(&e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(&e))?;
        Ok(rows)
    }

    /// One row.
    ///
    /// # Errors
    ///
    /// Unknown id, or the file cannot be read.
    pub fn row(&self, id: &str) -> Result<Row, StoreError> {
        self.conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM appointments WHERE id = ?1"))
            .and_then(|mut s| s.query_row([id], read_row).optional())
            .map_err(|e| self.err(&e))?
            .ok_or_else(|| StoreError::Unknown(id.to_owned()))
    }

    /// The appointment whose current call is `call_sid`.
    ///
    /// # Errors
    ///
    /// The file cannot be read.
    pub fn by_call_sid(&self, call_sid: &str) -> Result<Option<Row>, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM appointments WHERE call_sid = ?1"
            ))
            .and_then(|mut s| s.query_row([call_sid], read_row).optional())
            .map_err(|e| self.err(&e))
    }

    /// `pending -> dialing`, one more attempt, the last call forgotten: written before
    /// the create request, with the real time it goes out (`dialed_at_ms`). Returns the
    /// attempt's number.
    ///
    /// # Errors
    ///
    /// Not pending, or the file cannot be written.
    pub fn start_dialing(&self, id: &str, now: u64, dialed_at_ms: i64) -> Result<u32, StoreError> {
        let row = self.row(id)?;
        check(&row, State::Dialing)?;
        self.conn
            .execute(
                "UPDATE appointments SET state = 'dialing', attempts = attempts + 1, \
                 call_sid = NULL, last_status = NULL, updated_at = ?2, dialed_at_ms = ?3 \
                 WHERE id = ?1",
                params![id, now as i64, dialed_at_ms],
            )
            .map_err(|e| self.err(&e))?;
        Ok(row.attempts + 1)
    }

    /// The CallSid Twilio returned for the call being placed, with its status.
    ///
    /// # Errors
    ///
    /// The file cannot be written.
    pub fn set_call_sid(
        &self,
        id: &str,
        call_sid: &str,
        status: &str,
        now: u64,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE appointments SET call_sid = ?2, last_status = ?3, updated_at = ?4 \
                 WHERE id = ?1",
                params![id, call_sid, status, now as i64],
            )
            .map_err(|e| self.err(&e))?;
        Ok(())
    }

    /// Moves `id` to `to` (checked against the state machine), with Twilio's status or an
    /// error when known.
    ///
    /// # Errors
    ///
    /// Not allowed, unknown id, or the file cannot be written.
    pub fn transition(
        &self,
        id: &str,
        to: State,
        next_attempt_at: u64,
        status: Option<&str>,
        error: Option<&str>,
        now: u64,
    ) -> Result<(), StoreError> {
        let row = self.row(id)?;
        if row.state != to {
            check(&row, to)?;
        }
        self.conn
            .execute(
                "UPDATE appointments SET state = ?2, next_attempt_at = ?3, \
                 last_status = COALESCE(?4, last_status), last_error = COALESCE(?5, last_error), \
                 updated_at = ?6 WHERE id = ?1",
                params![
                    id,
                    to.as_str(),
                    next_attempt_at as i64,
                    status,
                    error,
                    now as i64
                ],
            )
            .map_err(|e| self.err(&e))?;
        Ok(())
    }

    /// Records the outcome line of the appointment's call.
    ///
    /// # Errors
    ///
    /// The file cannot be written.
    pub fn record_outcome(
        &self,
        id: &str,
        outcome: &str,
        report_path: Option<&str>,
        now: u64,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE appointments SET outcome = ?2, \
                 report_path = COALESCE(?3, report_path), updated_at = ?4 WHERE id = ?1",
                params![id, outcome, report_path, now as i64],
            )
            .map_err(|e| self.err(&e))?;
        Ok(())
    }

    /// How many appointments are in each state (every state listed, zeros too).
    ///
    /// # Errors
    ///
    /// The file cannot be read.
    pub fn counts(&self) -> Result<BTreeMap<&'static str, usize>, StoreError> {
        let mut counts: BTreeMap<&'static str, usize> =
            State::ALL.iter().map(|s| (s.as_str(), 0)).collect();
        for row in self.rows()? {
            *counts.entry(row.state.as_str()).or_default() += 1;
        }
        Ok(counts)
    }

    /// A value of the campaign's own (`last_placed_ms`: pacing across restarts).
    ///
    /// # Errors
    ///
    /// The file cannot be read.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(&e))
    }

    /// Sets a value of the campaign's own.
    ///
    /// # Errors
    ///
    /// The file cannot be written.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map_err(|e| self.err(&e))?;
        Ok(())
    }
}

fn check(row: &Row, to: State) -> Result<(), StoreError> {
    if row.state.may_become(to) {
        Ok(())
    } else {
        Err(StoreError::Transition {
            id: row.id.clone(),
            from: row.state,
            to,
        })
    }
}

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let bad = |index: usize, why: String| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, why.into())
    };
    let json: String = r.get(1)?;
    let appointment: Appointment =
        serde_json::from_str(&json).map_err(|err| bad(1, err.to_string()))?;
    let state: String = r.get(4)?;
    let state = State::parse(&state).ok_or_else(|| bad(4, format!("unknown state {state:?}")))?;
    Ok(Row {
        id: r.get(0)?,
        appointment,
        to: r.get(2)?,
        time_zone: r.get(3)?,
        state,
        attempts: r.get::<_, i64>(5)?.max(0) as u32,
        next_attempt_at: r.get::<_, i64>(6)?.max(0) as u64,
        call_sid: r.get(7)?,
        last_status: r.get(8)?,
        last_error: r.get(9)?,
        outcome: r.get(10)?,
        report_path: r.get(11)?,
        updated_at: r.get::<_, i64>(12)?.max(0) as u64,
        dialed_at_ms: r.get(13)?,
    })
}

/// Names SQLite's failures as the store's errors.
fn classify(path: &Path, err: &rusqlite::Error) -> StoreError {
    match err.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Locked(path.to_owned())
        }
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            StoreError::Corrupt(path.to_owned(), err.to_string())
        }
        _ => StoreError::Sqlite(path.to_owned(), err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("voice-agent-store-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("campaign.sqlite")
    }

    fn list(ids: &[&str]) -> Vec<(Appointment, String)> {
        ids.iter()
            .map(|id| {
                let mut a = Appointment::demo();
                a.id = (*id).to_owned();
                (a, "+14155550101".to_owned())
            })
            .collect()
    }

    #[test]
    fn import_is_idempotent_by_id_and_survives_reopening() {
        let path = temp("import");
        {
            let mut store = Store::open(&path).unwrap();
            let first = store.import(&list(&["a", "b"]), 10).unwrap();
            assert_eq!(first.added, 2);
            store.start_dialing("a", 11, 11_000).unwrap();
        }
        let mut store = Store::open(&path).unwrap();
        let again = store.import(&list(&["a", "b", "c"]), 12).unwrap();
        assert_eq!(again.added, 1);
        assert_eq!(again.known, ["a", "b"]);
        let rows = store.rows().unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].state, State::Dialing, "a known row keeps its state");
        assert_eq!(rows[0].attempts, 1);
        assert_eq!(rows[2].state, State::Pending);
        let version: i64 = store
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_version_1_file_is_migrated_and_keeps_its_rows() {
        let path = temp("migrate-v1");
        {
            // A file as the first schema left it, with a row mid-dial.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute(
                "INSERT INTO appointments (id, appointment, to_number, state, attempts, updated_at) \
                 VALUES ('a', ?1, '+14155550101', 'dialing', 1, 7)",
                [serde_json::to_string(&Appointment::demo()).unwrap()],
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let version: i64 = store
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, 2);
        let row = store.row("a").unwrap();
        assert_eq!(
            (row.state, row.attempts, row.updated_at),
            (State::Dialing, 1, 7)
        );
        assert_eq!(
            row.dialed_at_ms, None,
            "unknown for a row dialled by version 1"
        );
    }

    #[test]
    fn transitions_are_checked_and_the_call_sid_finds_its_row() {
        let path = temp("transitions");
        let mut store = Store::open(&path).unwrap();
        store.import(&list(&["a"]), 0).unwrap();
        let err = store
            .transition("a", State::Done, 0, None, None, 1)
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Transition {
                    from: State::Pending,
                    to: State::Done,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(store.start_dialing("a", 1, 1_000).unwrap(), 1);
        assert_eq!(store.row("a").unwrap().dialed_at_ms, Some(1_000));
        store.set_call_sid("a", "CA1", "queued", 2).unwrap();
        let row = store.by_call_sid("CA1").unwrap().unwrap();
        assert_eq!(row.id, "a");
        store
            .transition("a", State::Pending, 99, Some("busy"), None, 3)
            .unwrap();
        assert_eq!(store.start_dialing("a", 100, 100_000).unwrap(), 2);
        assert_eq!(
            store.row("a").unwrap().call_sid,
            None,
            "the old call is forgotten"
        );
        store
            .transition("a", State::Done, 0, Some("completed"), None, 4)
            .unwrap();
        store
            .record_outcome("a", "confirmed", Some("out/CA2"), 5)
            .unwrap();
        let row = store.row("a").unwrap();
        assert_eq!(row.outcome.as_deref(), Some("confirmed"));
        assert_eq!(row.last_status.as_deref(), Some("completed"));
        assert!(store.start_dialing("a", 6, 6_000).is_err(), "done is final");
        assert_eq!(store.counts().unwrap()["done"], 1);
        store.set_meta("last_placed_ms", "5").unwrap();
        store.set_meta("last_placed_ms", "6").unwrap();
        assert_eq!(store.meta("last_placed_ms").unwrap().as_deref(), Some("6"));
    }

    #[test]
    fn a_second_runner_is_refused_as_locked() {
        let path = temp("locked");
        let _first = Store::open(&path).unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::Locked(_)), "{err}");
        assert!(err.to_string().contains("locked"), "{err}");
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_corrupt_and_left_alone() {
        let path = temp("corrupt");
        let junk = b"this is not a database, it is a shopping list".repeat(100);
        std::fs::write(&path, &junk).unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(..)), "{err}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            junk,
            "never a silent fresh start"
        );
        let err = Store::open_existing(&path).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(..)), "{err}");
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let path = temp("newer");
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", 99).unwrap();
        }
        let err = Store::open(&path).unwrap_err();
        assert!(
            matches!(err, StoreError::NewerSchema { found: 99, .. }),
            "{err}"
        );
    }
}

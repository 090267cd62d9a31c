-- The campaign store, version 1: one row per appointment of `batch`'s list.
-- Applied once, in a transaction, by store.rs (PRAGMA user_version counts the files applied).
CREATE TABLE appointments (
    -- the appointment's own id: importing the same list again adds nothing
    id              TEXT PRIMARY KEY NOT NULL,
    -- the appointment as imported (JSON), what the call says
    appointment     TEXT NOT NULL,
    -- the number to call, E.164
    to_number       TEXT NOT NULL,
    -- the callee's IANA time zone, when the list gave one
    time_zone       TEXT,
    -- pending, dialing, in_call, done, failed, gave_up (state.rs)
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'dialing', 'in_call', 'done', 'failed', 'gave_up')),
    -- calls placed (or about to be: counted when `dialing` is written)
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- unix seconds before which the next attempt waits
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    -- the current or last call's CallSid, written as soon as Twilio gives it
    call_sid        TEXT,
    -- Twilio's last call status (queued, ringing, in-progress, completed, busy, ...)
    last_status     TEXT,
    -- the last error, in words (REST refusal, look-up failure)
    last_error      TEXT,
    -- the outcome line's `outcome` (confirmed, reschedule_requested, voicemail_left, ...)
    outcome         TEXT,
    -- the call's report folder, when a stream ran
    report_path     TEXT,
    -- unix seconds of the last change
    updated_at      INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX appointments_by_call_sid ON appointments (call_sid);

-- Calls placed, for pacing across restarts (`--cps` counts from the last one).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- The campaign store, version 2: when the current attempt's create request went out.
-- Unix milliseconds on the machine's real clock (never the test clock), to compare with
-- Twilio's `date_created` when a run stopped before Twilio answered the create request:
-- a call to this number created since then is this attempt's, and is followed, not placed
-- again. NULL for rows dialled by version 1 (their `updated_at` is used instead).
ALTER TABLE appointments ADD COLUMN dialed_at_ms INTEGER;

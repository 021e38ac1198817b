-- Sweeps (PostgreSQL; the SQLite migration adds the same columns). A sweep claims due timers for a
-- while: claim_owner is the worker, claim_until (epoch ms) when the claim lapses and another worker may
-- take the timer over. Claims only share out work; exactly-once comes from timer_actions. Rewriting a
-- case's timers (the action's own transaction) leaves the new rows unclaimed.
-- The due query (next_action_at <= now, ordered by next_action_at) runs on the partial index
-- timers_next_action from 0001; no new index is needed.
ALTER TABLE timers ADD COLUMN claim_owner TEXT;
ALTER TABLE timers ADD COLUMN claim_until BIGINT;

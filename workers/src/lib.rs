//! Aduan's cron workers: deadline sweeps, digests and recomputes (issue 3).

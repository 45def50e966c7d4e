//! SQLite helpers (in progress)

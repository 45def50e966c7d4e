//! The `mantra` command.
fn main() {}

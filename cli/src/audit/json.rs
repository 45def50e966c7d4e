//! `--format json`: the report model itself (see `model.rs` for the fields).

use anyhow::{Context, Result};

use super::model::AuditReport;

pub fn render(report: &AuditReport) -> Result<String> {
    Ok(serde_json::to_string_pretty(report).context("serialising the report")? + "\n")
}

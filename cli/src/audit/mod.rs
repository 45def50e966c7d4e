//! `mantra audit`'s report: the model (`model`), gathering it (`gather`,
//! `checks`, `trail`, whose verdicts `mantra doctor` shares), one renderer
//! per output format, and the organisation-level report merged from many
//! machines' reports (`fleet`).

pub mod checks;
pub mod csv;
pub mod fleet;
pub mod gather;
pub mod html;
pub mod json;
pub mod model;
pub mod ocsf;
pub mod sarif;
pub mod svg;
pub mod trail;

//! `mantra audit`'s report: the model (`model`), gathering it (`gather`,
//! `checks`, `trail`, whose verdicts `mantra doctor` shares), and one
//! renderer per output format.

pub mod checks;
pub mod csv;
pub mod gather;
pub mod html;
pub mod json;
pub mod model;
pub mod ocsf;
pub mod sarif;
pub mod svg;
pub mod trail;

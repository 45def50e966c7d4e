//! Benchmark tooling for Mantra: a deterministic corpus generator with planted
//! secrets and decoys ([`gen`]), and a scorer for Mantra's, Kingfisher's and
//! Betterleaks' JSON reports ([`score`]).

pub mod gen;
pub mod json;
pub mod labels;
pub mod score;
pub mod text;
pub mod tokens;

/// The seeded generator every random choice comes from.
pub type Rng = rand_chacha::ChaCha8Rng;

//! Prefilter engines: find *where* each rule might match, cheaply.
//!
//! Two engines implement the same contract. Every match of a rule's pattern
//! produces at least one [`Hit`] for that rule at a position inside the match
//! or at its end:
//! - **Hyperscan** compiles every pattern (in prefilter mode) into one
//!   database and reports match end offsets in a single pass.
//! - **Rust** looks for every rule's keywords with Aho-Corasick and reports
//!   where they occur; a rule only matches where one of its keywords occurs.
//!
//! The confirmation step ([`crate::confirm`]) turns hits into exact matches
//! with the `regex` crate and is shared, so both engines report identical
//! findings.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::ruleset::RuleSet;

/// Which prefilter engine to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EngineKind {
    Hyperscan,
    Rust,
}

impl EngineKind {
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Hyperscan => "hyperscan",
            EngineKind::Rust => "rust",
        }
    }

    /// The engines compiled into this build, best first.
    pub fn available() -> &'static [EngineKind] {
        #[cfg(feature = "hyperscan")]
        return &[EngineKind::Hyperscan, EngineKind::Rust];
        #[cfg(not(feature = "hyperscan"))]
        return &[EngineKind::Rust];
    }

    /// The best engine compiled into this build.
    pub fn default_available() -> EngineKind {
        Self::available()[0]
    }

    pub fn parse(name: &str) -> Option<EngineKind> {
        match name {
            "hyperscan" | "vectorscan" => Some(EngineKind::Hyperscan),
            "rust" => Some(EngineKind::Rust),
            _ => None,
        }
    }
}

/// Library version string of the Hyperscan/Vectorscan in use, if any.
pub fn hyperscan_version() -> Option<String> {
    #[cfg(feature = "hyperscan")]
    return Some(hyperscan::version_str().to_string_lossy().into_owned());
    #[cfg(not(feature = "hyperscan"))]
    return None;
}

/// Errors building an engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the {0} engine is not compiled into this build")]
    Unavailable(&'static str),
    #[error("building the {engine} database failed: {message}")]
    Build {
        engine: &'static str,
        message: String,
    },
}

/// A place where a rule may match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Hit {
    pub rule: u32,
    pub pos: u32,
}

pub(crate) enum Prefilter {
    Rust(KeywordPrefilter),
    #[cfg(feature = "hyperscan")]
    Hyperscan(hs::HyperscanPrefilter),
}

/// Per-thread scratch space of a prefilter.
pub(crate) enum Scratch {
    Rust,
    #[cfg(feature = "hyperscan")]
    Hyperscan(hyperscan::Scratch),
}

impl Prefilter {
    /// Builds the engine. `cache_dir`, when given, keeps compiled Hyperscan
    /// databases between runs (compiling every rule takes about a second;
    /// loading a cached database takes milliseconds).
    pub fn build(
        kind: EngineKind,
        rules: &RuleSet,
        cache_dir: Option<&std::path::Path>,
    ) -> Result<Prefilter, EngineError> {
        match kind {
            EngineKind::Rust => Ok(Prefilter::Rust(KeywordPrefilter::new(rules)?)),
            #[cfg(feature = "hyperscan")]
            EngineKind::Hyperscan => Ok(Prefilter::Hyperscan(hs::HyperscanPrefilter::new(
                rules, cache_dir,
            )?)),
            #[cfg(not(feature = "hyperscan"))]
            EngineKind::Hyperscan => {
                let _ = cache_dir;
                Err(EngineError::Unavailable("hyperscan"))
            }
        }
    }

    pub fn kind(&self) -> EngineKind {
        match self {
            Prefilter::Rust(_) => EngineKind::Rust,
            #[cfg(feature = "hyperscan")]
            Prefilter::Hyperscan(_) => EngineKind::Hyperscan,
        }
    }

    /// Whether hits are match *ends* (Hyperscan) rather than keyword
    /// positions inside the match.
    pub fn hits_are_ends(&self) -> bool {
        self.kind() == EngineKind::Hyperscan
    }

    pub fn scratch(&self) -> Result<Scratch, EngineError> {
        match self {
            Prefilter::Rust(_) => Ok(Scratch::Rust),
            #[cfg(feature = "hyperscan")]
            Prefilter::Hyperscan(p) => p.scratch().map(Scratch::Hyperscan),
        }
    }

    /// Appends the hits in `hay` to `out`. `hay` must be shorter than 4 GiB.
    pub fn hits(
        &self,
        hay: &[u8],
        scratch: &mut Scratch,
        out: &mut Vec<Hit>,
    ) -> Result<(), EngineError> {
        match (self, scratch) {
            (Prefilter::Rust(p), _) => {
                p.hits(hay, out);
                Ok(())
            }
            #[cfg(feature = "hyperscan")]
            (Prefilter::Hyperscan(p), Scratch::Hyperscan(s)) => p.hits(hay, s, out),
            #[cfg(feature = "hyperscan")]
            (Prefilter::Hyperscan(p), scratch @ Scratch::Rust) => {
                let mut s = p.scratch()?;
                let result = p.hits(hay, &mut s, out);
                *scratch = Scratch::Hyperscan(s);
                result
            }
        }
    }
}

/// The pure-Rust prefilter: Aho-Corasick over every rule's keywords.
pub(crate) struct KeywordPrefilter {
    automaton: AhoCorasick,
    /// For each keyword, the rules that listed it.
    rules_of_keyword: Vec<Vec<u32>>,
}

impl KeywordPrefilter {
    fn new(rules: &RuleSet) -> Result<Self, EngineError> {
        let mut keywords: Vec<String> = Vec::new();
        let mut rules_of_keyword: Vec<Vec<u32>> = Vec::new();
        for (idx, rule) in rules.rules().iter().enumerate() {
            for kw in &rule.def.keywords {
                let kw = kw.to_ascii_lowercase();
                let slot = match keywords.iter().position(|k| *k == kw) {
                    Some(i) => i,
                    None => {
                        keywords.push(kw);
                        rules_of_keyword.push(Vec::new());
                        keywords.len() - 1
                    }
                };
                if !rules_of_keyword[slot].contains(&(idx as u32)) {
                    rules_of_keyword[slot].push(idx as u32);
                }
            }
        }
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&keywords)
            .map_err(|e| EngineError::Build {
                engine: "rust",
                message: e.to_string(),
            })?;
        Ok(Self {
            automaton,
            rules_of_keyword,
        })
    }

    fn hits(&self, hay: &[u8], out: &mut Vec<Hit>) {
        for m in self.automaton.find_overlapping_iter(hay) {
            for &rule in &self.rules_of_keyword[m.pattern().as_usize()] {
                out.push(Hit {
                    rule,
                    pos: m.start() as u32,
                });
            }
        }
    }
}

/// Checks that Hyperscan compiles `pattern` as the engine will use it.
#[cfg(feature = "hyperscan")]
pub(crate) fn hyperscan_accepts(pattern: &str) -> Result<(), String> {
    hs::compile_one(pattern).map_err(|e| format!("Hyperscan rejects the pattern: {e}"))
}

#[cfg(feature = "hyperscan")]
mod hs {
    use std::path::Path;

    use hyperscan::prelude::*;
    use hyperscan::{CompileFlags, SerializedDatabase};
    use sha2::{Digest, Sha256};

    use super::{EngineError, Hit};
    use crate::ruleset::RuleSet;

    fn flags() -> CompileFlags {
        // Prefilter mode accepts constructs Hyperscan cannot match exactly and
        // never misses a true match; the regex confirmation removes the rest.
        CompileFlags::PREFILTER | CompileFlags::MULTILINE
    }

    fn build_error(e: impl std::fmt::Display) -> EngineError {
        EngineError::Build {
            engine: "hyperscan",
            message: e.to_string(),
        }
    }

    pub(super) fn compile_one(pattern: &str) -> Result<(), String> {
        let p = Pattern::with_flags(pattern, flags()).map_err(|e| e.to_string())?;
        let db: Result<BlockDatabase, _> = p.build();
        db.map(|_| ()).map_err(|e| e.to_string())
    }

    pub(crate) struct HyperscanPrefilter {
        db: BlockDatabase,
    }

    /// Header of a cached database file, followed by the SHA-256 of the
    /// payload and the payload (`hs_serialize_database` output).
    const CACHE_MAGIC: &[u8] = b"MANTRA-HS-DB-1\n";

    impl HyperscanPrefilter {
        pub fn new(rules: &RuleSet, cache_dir: Option<&Path>) -> Result<Self, EngineError> {
            let mut patterns = Vec::with_capacity(rules.len());
            for (idx, rule) in rules.rules().iter().enumerate() {
                let mut p =
                    Pattern::with_flags(rule.def.pattern.as_str(), flags()).map_err(build_error)?;
                p.id = Some(idx);
                patterns.push(p);
            }
            if patterns.is_empty() {
                // Hyperscan refuses an empty database; a never-matching
                // pattern stands in for "no rules".
                let mut p = Pattern::with_flags(r"\x00[^\x00-\xff]", CompileFlags::empty())
                    .map_err(build_error)?;
                p.id = Some(u32::MAX as usize);
                patterns.push(p);
            }
            let cache_file =
                cache_dir.map(|dir| dir.join(format!("hs-{}.db", cache_key(&patterns))));
            if let Some(db) = cache_file.as_deref().and_then(load_cached) {
                return Ok(Self { db });
            }
            let db: BlockDatabase = Patterns(patterns).build().map_err(build_error)?;
            if let Some(file) = &cache_file {
                if let Err(e) = store_cached(&db, file) {
                    tracing::debug!(path = %file.display(), error = %e, "could not cache the Hyperscan database");
                }
            }
            Ok(Self { db })
        }

        pub fn scratch(&self) -> Result<hyperscan::Scratch, EngineError> {
            self.db.alloc_scratch().map_err(build_error)
        }

        pub fn hits(
            &self,
            hay: &[u8],
            scratch: &mut hyperscan::Scratch,
            out: &mut Vec<Hit>,
        ) -> Result<(), EngineError> {
            self.db
                .scan(hay, scratch, |id: u32, _from: u64, to: u64, _flags: u32| {
                    out.push(Hit {
                        rule: id,
                        pos: to as u32,
                    });
                    Matching::Continue
                })
                .map_err(|e| EngineError::Build {
                    engine: "hyperscan",
                    message: format!("scan failed: {e}"),
                })
        }
    }

    /// Names a database by everything that shapes it: the library version,
    /// the flags and every pattern with its id.
    fn cache_key(patterns: &[Pattern]) -> String {
        let mut h = Sha256::new();
        h.update(hyperscan::version_str().to_bytes());
        h.update(flags().bits().to_le_bytes());
        for p in patterns {
            h.update(p.id.unwrap_or(0).to_le_bytes());
            h.update(p.flags.bits().to_le_bytes());
            h.update((p.expression.len() as u64).to_le_bytes());
            h.update(p.expression.as_bytes());
        }
        hex::encode(&h.finalize()[..16])
    }

    /// Loads a cached database, refusing any file whose checksum does not
    /// match: only intact output of `hs_serialize_database` is handed to the
    /// library.
    fn load_cached(path: &Path) -> Option<BlockDatabase> {
        // The serialized database of every rule is a few MB; anything far
        // larger (or not a regular file) is not a cache Mantra wrote.
        let bytes = mantra_core::fsio::read(path, 256 * 1024 * 1024).ok()?;
        let rest = bytes.strip_prefix(CACHE_MAGIC)?;
        if rest.len() < 32 {
            return None;
        }
        let (sum, payload) = rest.split_at(32);
        if Sha256::digest(payload).as_slice() != sum {
            tracing::warn!(path = %path.display(), "ignoring a corrupt Hyperscan database cache");
            return None;
        }
        payload.deserialize().ok()
    }

    fn store_cached(db: &BlockDatabase, path: &Path) -> std::io::Result<()> {
        let payload = db.serialize().map_err(std::io::Error::other)?;
        let payload: &[u8] = payload.as_ref();
        let mut file = Vec::with_capacity(CACHE_MAGIC.len() + 32 + payload.len());
        file.extend_from_slice(CACHE_MAGIC);
        file.extend_from_slice(&Sha256::digest(payload));
        file.extend_from_slice(payload);
        // The cache sits in Mantra's data directory, which also holds
        // session data: the directory is created owner-only.
        mantra_core::fsio::write_private_atomic(path, &file)
    }
}

//! Scanning content: chunked reading, views, de-duplication, suppression and
//! locations.
//!
//! Content is read in chunks of bounded size (a 200 MB line never sits in
//! memory whole). Consecutive chunks overlap by the longest possible match
//! plus some look-around context, and each chunk *owns* the matches that
//! start in its own part, so every match is reported exactly once.

use std::collections::HashSet;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use regex::bytes::Regex;

use crate::confirm::{confirm, Bounds, ViewMatch};
use crate::engine::{EngineError, EngineKind, Hit, Prefilter, Scratch};
use crate::finding::{fingerprint, redact, Finding, ViewKind, DEFAULT_FINGERPRINT_KEY};
use crate::ruleset::{RuleSet, MAX_MATCH_LEN};
use crate::view::{self, DecodedView, LexState};

/// Look-around context kept before each chunk, so that `\b` and `^` at a
/// chunk's first byte see the byte before it.
const CONTEXT: usize = 256;

/// Default chunk size.
pub const DEFAULT_CHUNK_SIZE: usize = 8 * 1024 * 1024;

/// Smallest chunk size that still leaves each chunk an owned part.
pub const MIN_CHUNK_SIZE: usize = 2 * (MAX_MATCH_LEN + CONTEXT) + 4096;

/// The marker that suppresses findings on its line.
pub const INLINE_ALLOW: &[u8] = b"mantra:allow";

/// How far from a secret an inline marker counts. A long JSONL line may
/// mention the marker in unrelated text; it must not hide every secret of
/// the record.
const INLINE_ALLOW_REACH: usize = 1024;

/// Whether to scan decoded JSON string values too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JsonViews {
    /// For `.json`/`.jsonl`/`.ndjson` files and content starting with `{`/`[`.
    #[default]
    Auto,
    Always,
    Never,
}

/// Settings that shape what is reported.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub fingerprint_key: Vec<u8>,
    /// Put the secret in clear in [`Finding::secret`].
    pub reveal_secrets: bool,
    /// Honour `mantra:allow` markers.
    pub inline_allow: bool,
    /// Secrets matching any of these are not reported.
    pub allow_regexes: Vec<Regex>,
    /// Fingerprints not to report.
    pub baseline: HashSet<String>,
    pub json_views: JsonViews,
    pub chunk_size: usize,
    /// Where compiled engine databases are cached between runs (None: no
    /// cache).
    pub engine_cache_dir: Option<std::path::PathBuf>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            fingerprint_key: DEFAULT_FINGERPRINT_KEY.to_vec(),
            reveal_secrets: false,
            inline_allow: true,
            allow_regexes: Vec::new(),
            baseline: HashSet::new(),
            json_views: JsonViews::Auto,
            chunk_size: DEFAULT_CHUNK_SIZE,
            engine_cache_dir: None,
        }
    }
}

/// Errors scanning one input.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// The detection engine with its rules and options. Shared between threads;
/// each thread scans with its own [`ScanState`].
pub struct Scanner {
    rules: Arc<RuleSet>,
    prefilter: Prefilter,
    options: ScanOptions,
}

/// Per-thread scratch space.
pub struct ScanState {
    scratch: Scratch,
    hits: Vec<Hit>,
    matches: Vec<ViewMatch>,
    buffer: Vec<u8>,
}

/// A secret found in one chunk, before it becomes a [`Finding`].
#[derive(Debug, Clone)]
struct Candidate {
    rule: u32,
    /// Span in the chunk of the secret as stored.
    start: usize,
    end: usize,
    view: ViewKind,
    secret: Vec<u8>,
}

/// What the scan of one chunk carries to the next.
struct Carry {
    lex: LexState,
    /// Per rule, where the raw-view iteration resumes (chunk-relative).
    resume: Vec<usize>,
    /// 1-based line number at the chunk's first byte.
    line: u64,
    /// Characters between the last newline before the chunk and its start.
    column_chars: u64,
    /// Findings reported by the previous chunk that reach into this one,
    /// as absolute spans, to drop duplicates seen again through a view.
    recent: Vec<(u64, u64)>,
}

impl Scanner {
    pub fn new(
        rules: Arc<RuleSet>,
        engine: EngineKind,
        options: ScanOptions,
    ) -> Result<Self, EngineError> {
        let prefilter = Prefilter::build(engine, &rules, options.engine_cache_dir.as_deref())?;
        Ok(Self {
            rules,
            prefilter,
            options,
        })
    }

    pub fn engine(&self) -> EngineKind {
        self.prefilter.kind()
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    pub fn options(&self) -> &ScanOptions {
        &self.options
    }

    pub fn state(&self) -> Result<ScanState, EngineError> {
        Ok(ScanState {
            scratch: self.prefilter.scratch()?,
            hits: Vec::new(),
            matches: Vec::new(),
            buffer: Vec::new(),
        })
    }

    /// Whether a rule is trusted on binary content: every rule but the
    /// generic ones (a secret-looking value under a secret-named key), whose
    /// loose shape matches noise in compressed or encoded bytes. The others
    /// need a distinctive literal prefix or structure (`ghp_`, `AKIA`,
    /// `-----BEGIN`, `sk_live_`, …) and some a checksum as well.
    pub fn is_high_confidence(&self, rule_id: &str) -> bool {
        self.rules.get(rule_id).is_some_and(|r| !r.def.generic)
    }

    /// Keeps the findings of high-confidence rules only: the binary content
    /// policy (see `walk::ContentKind`).
    pub fn keep_high_confidence(&self, findings: &mut Vec<Finding>) {
        findings.retain(|f| self.is_high_confidence(&f.rule_id));
    }

    /// Scans an in-memory buffer. `path` names it in findings and, with
    /// [`JsonViews::Auto`], decides whether it is JSON.
    pub fn scan_bytes(
        &self,
        state: &mut ScanState,
        data: &[u8],
        path: &str,
    ) -> Result<Vec<Finding>, ScanError> {
        if data.len() > self.chunk_size() {
            return self.scan_reader(state, data, path);
        }
        // Fits in one chunk: scan it in place, no copy.
        let mut findings = Vec::new();
        let mut carry = self.new_carry();
        let json = self.is_json(path, data);
        self.scan_chunk(
            state,
            data,
            0,
            0..data.len(),
            data.len(),
            json,
            &mut carry,
            path,
            &mut findings,
        )?;
        Ok(findings)
    }

    /// Scans a file.
    pub fn scan_file(
        &self,
        state: &mut ScanState,
        path: &Path,
        display: &str,
    ) -> Result<Vec<Finding>, ScanError> {
        let file = mantra_core::fsio::open_file(path).map_err(|e| ScanError::Io {
            path: display.to_string(),
            source: e.into(),
        })?;
        self.scan_reader(state, file, display)
    }

    fn chunk_size(&self) -> usize {
        self.options.chunk_size.max(MIN_CHUNK_SIZE)
    }

    fn new_carry(&self) -> Carry {
        Carry {
            lex: LexState::default(),
            resume: vec![0; self.rules.len()],
            line: 1,
            column_chars: 0,
            recent: Vec::new(),
        }
    }

    fn is_json(&self, path: &str, head: &[u8]) -> bool {
        match self.options.json_views {
            JsonViews::Always => true,
            JsonViews::Never => false,
            JsonViews::Auto => view::looks_like_json(Some(path), &head[..head.len().min(4096)]),
        }
    }

    /// Scans everything `reader` yields, in bounded chunks.
    pub fn scan_reader<R: Read>(
        &self,
        state: &mut ScanState,
        mut reader: R,
        path: &str,
    ) -> Result<Vec<Finding>, ScanError> {
        let chunk_size = self.chunk_size();
        let io_err = |source| ScanError::Io {
            path: path.to_string(),
            source,
        };
        // The buffer is sized once per thread and reused; `filled` says how
        // much of it holds content.
        let mut buffer = std::mem::take(&mut state.buffer);
        if buffer.len() != chunk_size {
            buffer = vec![0; chunk_size];
        }
        let mut filled = 0;
        let mut findings = Vec::new();
        let mut carry = self.new_carry();
        let mut buffer_offset: u64 = 0;
        let mut own_start = 0;
        let mut json: Option<bool> = None;
        let result = loop {
            let eof = match fill(&mut reader, &mut buffer, &mut filled) {
                Ok(eof) => eof,
                Err(e) => break Err(io_err(e)),
            };
            let chunk = &buffer[..filled];
            let json = *json.get_or_insert_with(|| self.is_json(path, chunk));
            let own_end = if eof {
                filled
            } else {
                filled - MAX_MATCH_LEN - CONTEXT
            };
            let next_start = if eof { filled } else { own_end - CONTEXT };
            if let Err(e) = self.scan_chunk(
                state,
                chunk,
                buffer_offset,
                own_start..own_end,
                next_start,
                json,
                &mut carry,
                path,
                &mut findings,
            ) {
                break Err(e.into());
            }
            if eof {
                break Ok(());
            }
            advance_lines(&mut carry, &chunk[..next_start]);
            for r in carry.resume.iter_mut() {
                *r = r.saturating_sub(next_start);
            }
            buffer.copy_within(next_start..filled, 0);
            filled -= next_start;
            buffer_offset += next_start as u64;
            own_start = own_end - next_start;
        };
        state.buffer = buffer;
        result.map(|()| findings)
    }

    #[allow(clippy::too_many_arguments)]
    fn scan_chunk(
        &self,
        state: &mut ScanState,
        chunk: &[u8],
        chunk_offset: u64,
        own: std::ops::Range<usize>,
        next_start: usize,
        json: bool,
        carry: &mut Carry,
        path: &str,
        findings: &mut Vec<Finding>,
    ) -> Result<(), EngineError> {
        let mut candidates: Vec<Candidate> = Vec::new();

        // Raw view, with iteration state carried across chunks.
        self.matches_in(state, chunk, own.start, own.end, Some(&mut carry.resume))?;
        for m in state.matches.drain(..) {
            candidates.push(Candidate {
                rule: m.rule,
                start: m.start,
                end: m.end,
                view: ViewKind::Raw,
                secret: chunk[m.start..m.end].to_vec(),
            });
        }

        // Decoded views, each mapped back through the ones before it.
        if json && memchr::memchr(b'\\', chunk).is_some() {
            let (first, lex) = view::decode_strings(chunk, carry.lex, next_start);
            carry.lex = lex;
            let mut levels: Vec<DecodedView> = vec![first];
            while let Some(current) = levels.last() {
                if current.is_empty() {
                    break;
                }
                let depth = levels.len() as u8;
                self.matches_in(state, &current.bytes, 0, usize::MAX, None)?;
                for m in state.matches.drain(..) {
                    let (start, end) = map_to_source(&levels, m.start, m.end);
                    candidates.push(Candidate {
                        rule: m.rule,
                        start,
                        end,
                        view: ViewKind::Json { depth },
                        secret: current.bytes[m.start..m.end].to_vec(),
                    });
                }
                if depth >= view::MAX_DEPTH || memchr::memchr(b'\\', &current.bytes).is_none() {
                    break;
                }
                let (next, _) =
                    view::decode_strings(&current.bytes, LexState::default(), current.bytes.len());
                levels.push(next);
            }
        } else if json {
            let (_, lex) = view::decode_strings(chunk, carry.lex, next_start);
            carry.lex = lex;
        }

        // Keep what this chunk owns and was not already reported.
        candidates.retain(|c| {
            let abs = (chunk_offset + c.start as u64, chunk_offset + c.end as u64);
            own.contains(&c.start) && !carry.recent.iter().any(|&(s, e)| abs.0 < e && s < abs.1)
        });
        let candidates = self.deduplicate(candidates);

        carry.recent.clear();
        let next_abs = chunk_offset + next_start as u64;
        let mut cursor = LineCursor::new(carry);
        for c in candidates {
            let abs_end = chunk_offset + c.end as u64;
            if abs_end > next_abs {
                carry.recent.push((chunk_offset + c.start as u64, abs_end));
            }
            if let Some(f) = self.finding(chunk, chunk_offset, &mut cursor, path, c) {
                findings.push(f);
            }
        }
        Ok(())
    }

    /// Runs the prefilter and confirmation over one view's bytes, leaving
    /// the matches in `state.matches`.
    fn matches_in(
        &self,
        state: &mut ScanState,
        hay: &[u8],
        lo: usize,
        hi: usize,
        resume: Option<&mut Vec<usize>>,
    ) -> Result<(), EngineError> {
        state.hits.clear();
        self.prefilter
            .hits(hay, &mut state.scratch, &mut state.hits)?;
        confirm(
            &self.rules,
            hay,
            &mut state.hits,
            self.prefilter.hits_are_ends(),
            Bounds { lo, hi, resume },
            &mut state.matches,
        );
        Ok(())
    }

    /// Keeps one candidate per secret: among candidates whose spans overlap,
    /// a specific rule beats a generic one, then higher severity, then the
    /// shallower view.
    fn deduplicate(&self, mut candidates: Vec<Candidate>) -> Vec<Candidate> {
        candidates.sort_by_key(|c| (c.start, c.end));
        let rank = |c: &Candidate| {
            let def = &self.rules.rules()[c.rule as usize].def;
            let depth = match c.view {
                ViewKind::Raw => 0,
                ViewKind::Json { depth } => depth,
            };
            (def.generic, std::cmp::Reverse(def.severity), depth, c.start)
        };
        let mut kept: Vec<Candidate> = Vec::with_capacity(candidates.len());
        let mut cluster_end = 0;
        for c in candidates {
            match kept.last_mut() {
                Some(last) if c.start < cluster_end => {
                    cluster_end = cluster_end.max(c.end);
                    if rank(&c) < rank(last) {
                        *last = c;
                    }
                }
                _ => {
                    cluster_end = c.end;
                    kept.push(c);
                }
            }
        }
        kept
    }

    /// Applies suppressions and builds the finding.
    fn finding(
        &self,
        chunk: &[u8],
        chunk_offset: u64,
        cursor: &mut LineCursor,
        path: &str,
        c: Candidate,
    ) -> Option<Finding> {
        if self.options.inline_allow && has_inline_allow(chunk, c.start, c.end) {
            return None;
        }
        if self
            .options
            .allow_regexes
            .iter()
            .any(|re| re.is_match(&c.secret))
        {
            return None;
        }
        let fp = fingerprint(&self.options.fingerprint_key, &c.secret);
        if self.options.baseline.contains(&fp) {
            return None;
        }
        let rule = &self.rules.rules()[c.rule as usize].def;
        let (line, column) = cursor.location(chunk, c.start);
        let last = char_start(chunk, c.end - 1).max(c.start);
        let (end_line, end_column) = cursor.location(chunk, last);
        let secret = String::from_utf8_lossy(&c.secret);
        Some(Finding {
            rule_id: rule.id.clone(),
            rule_name: rule.name.clone(),
            severity: rule.severity,
            path: path.to_string(),
            line,
            column,
            end_line,
            end_column,
            offset: chunk_offset + c.start as u64,
            length: (c.end - c.start) as u64,
            redacted: redact(&secret),
            fingerprint: fp,
            view: c.view,
            secret: self.options.reveal_secrets.then(|| secret.into_owned()),
        })
    }
}

/// Maps a span of the deepest view back to the source chunk.
fn map_to_source(levels: &[DecodedView], start: usize, end: usize) -> (usize, usize) {
    levels
        .iter()
        .rev()
        .fold((start, end), |(s, e), level| level.source_span(s, e))
}

/// Reads until `buffer` is full or the input ends. Returns whether it
/// ended.
fn fill<R: Read>(reader: &mut R, buffer: &mut [u8], filled: &mut usize) -> io::Result<bool> {
    while *filled < buffer.len() {
        match reader.read(&mut buffer[*filled..]) {
            Ok(0) => return Ok(true),
            Ok(n) => *filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

fn count_chars(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count() as u64
}

fn advance_lines(carry: &mut Carry, passed: &[u8]) {
    let newlines = memchr::memchr_iter(b'\n', passed).count() as u64;
    carry.line += newlines;
    match memchr::memrchr(b'\n', passed) {
        Some(nl) => carry.column_chars = count_chars(&passed[nl + 1..]),
        None => carry.column_chars += count_chars(passed),
    }
}

/// Turns chunk offsets into lines and columns, moving forward only: findings
/// come sorted and do not overlap, so each byte of the chunk is counted once
/// however many findings it holds.
struct LineCursor {
    pos: usize,
    /// Line number at `pos`.
    line: u64,
    /// Characters between the start of the line and `pos`.
    column_chars: u64,
}

impl LineCursor {
    fn new(carry: &Carry) -> Self {
        Self {
            pos: 0,
            line: carry.line,
            column_chars: carry.column_chars,
        }
    }

    /// 1-based line and character column of `pos`, which must not be before
    /// the previous position asked about.
    fn location(&mut self, chunk: &[u8], pos: usize) -> (u64, u64) {
        if pos > self.pos {
            let passed = &chunk[self.pos..pos];
            self.line += memchr::memchr_iter(b'\n', passed).count() as u64;
            match memchr::memrchr(b'\n', passed) {
                Some(nl) => self.column_chars = count_chars(&passed[nl + 1..]),
                None => self.column_chars += count_chars(passed),
            }
            self.pos = pos;
        }
        (self.line, self.column_chars + 1)
    }
}

/// Start of the UTF-8 character containing `pos`.
fn char_start(bytes: &[u8], pos: usize) -> usize {
    let mut p = pos;
    while p > 0 && pos - p < 3 && (bytes[p] & 0xC0) == 0x80 {
        p -= 1;
    }
    p
}

/// Whether the line holding `start..end` carries the inline marker near it.
fn has_inline_allow(chunk: &[u8], start: usize, end: usize) -> bool {
    let lo = start.saturating_sub(INLINE_ALLOW_REACH);
    let line_start = memchr::memrchr(b'\n', &chunk[lo..start]).map_or(lo, |i| lo + i + 1);
    let hi = chunk.len().min(end + INLINE_ALLOW_REACH);
    let line_end = memchr::memchr(b'\n', &chunk[end..hi]).map_or(hi, |i| end + i);
    memchr::memmem::find(&chunk[line_start..line_end], INLINE_ALLOW).is_some()
}

//! Turns prefilter hits into exact matches.
//!
//! The result is defined as if each rule's regex ran over the whole buffer,
//! leftmost-first and non-overlapping, but only small windows are searched.
//! Why that is exact: a rule's match is at most `max_len` bytes long and every
//! match carries a hit inside it or at its end. Walking a rule's hits in
//! order, searching from `max(pos, hit - max_len)` (where `pos` is the end of
//! the last match reported) and accepting a match only if it starts at or
//! before the hit, finds the same next match a whole-buffer search would:
//! any earlier match would need a hit earlier than this one (already
//! handled) or be longer than `max_len`. Searches use look-around context
//! beyond the window, so `\b` at a window edge means what it would mean in
//! the whole buffer. Both engines satisfy the hit contract, so they agree.

use regex_automata::Input;

use crate::engine::Hit;
use crate::filter;
use crate::ruleset::RuleSet;

/// A confirmed match of a rule in one view's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ViewMatch {
    pub rule: u32,
    /// Span of the secret (the capture group) in the view.
    pub start: usize,
    pub end: usize,
}

/// Where matches may start, and where each rule's iteration resumes.
pub(crate) struct Bounds<'a> {
    /// Matches starting before this are not reported (they belong to the
    /// previous chunk).
    pub lo: usize,
    /// Matches starting at or after this are left to the next chunk.
    pub hi: usize,
    /// Per rule, the end of the last match already reported (absolute within
    /// the view), carried across chunks. Indexed by rule number.
    pub resume: Option<&'a mut Vec<usize>>,
}

/// Confirms `hits` (sorted and deduplicated here) against `hay`, applying
/// each rule's entropy, checksum and placeholder checks to the secret.
pub(crate) fn confirm(
    rules: &RuleSet,
    hay: &[u8],
    hits: &mut Vec<Hit>,
    hits_are_ends: bool,
    mut bounds: Bounds<'_>,
    out: &mut Vec<ViewMatch>,
) {
    hits.sort_unstable();
    hits.dedup();
    let mut i = 0;
    while i < hits.len() {
        let rule_no = hits[i].rule;
        let group_end = i + hits[i..].iter().take_while(|h| h.rule == rule_no).count();
        let group = &hits[i..group_end];
        i = group_end;
        let Some(rule) = rules.rules().get(rule_no as usize) else {
            continue;
        };
        let Some(compiled) = rule.compiled() else {
            continue;
        };
        let max_len = compiled.max_len;
        let mut caps = compiled.regex.create_captures();
        let resume = bounds
            .resume
            .as_deref()
            .and_then(|r| r.get(rule_no as usize))
            .copied();
        let mut pos = resume.unwrap_or(0).max(bounds.lo);
        // With end hits, an empty search proves no match ends at or before
        // this offset (past `pos`), so later hits up to it need no search.
        let mut searched_empty_until = 0usize;
        'hits: for hit in group {
            let h = hit.pos as usize;
            if h < pos || (hits_are_ends && h <= searched_empty_until) {
                continue;
            }
            loop {
                let from = pos.max(h.saturating_sub(max_len));
                let to = hay.len().min(h + max_len);
                if from >= to {
                    continue 'hits;
                }
                let input = Input::new(hay).range(from..to);
                compiled.regex.search_captures(&input, &mut caps);
                let Some(m) = caps.get_match() else {
                    searched_empty_until = to;
                    continue 'hits;
                };
                if m.start() > h {
                    continue 'hits;
                }
                if m.start() >= bounds.hi {
                    break 'hits;
                }
                pos = m.end();
                let span = caps.get_group(compiled.secret_group).unwrap_or(m.span());
                if span.start < span.end
                    && accept(
                        rules,
                        rule,
                        compiled,
                        &hay[span.start..span.end],
                        hay,
                        span.start,
                        span.end,
                    )
                {
                    out.push(ViewMatch {
                        rule: rule_no,
                        start: span.start,
                        end: span.end,
                    });
                }
                if pos > h {
                    continue 'hits;
                }
            }
        }
        if let Some(resume) = bounds.resume.as_deref_mut() {
            if let Some(slot) = resume.get_mut(rule_no as usize) {
                *slot = (*slot).max(pos);
            }
        }
    }
}

/// The checks a secret must pass after its pattern matched.
fn accept(
    rules: &RuleSet,
    rule: &crate::ruleset::Rule,
    compiled: &crate::ruleset::Compiled,
    secret: &[u8],
    hay: &[u8],
    start: usize,
    end: usize,
) -> bool {
    if filter::is_placeholder(secret) {
        return false;
    }
    if compiled.ignore_values.iter().any(|re| re.is_match(secret)) {
        return false;
    }
    // A value shaped like a checksummed token whose own rule rejected it is
    // a look-alike (a typo, a truncated copy), not a generic secret.
    if rule.def.generic && rules.has_validated_prefix(secret) {
        return false;
    }
    if let Some(min) = rule.def.min_entropy {
        if filter::shannon_entropy(secret) < min {
            return false;
        }
    }
    if let Some(v) = rule.def.validator {
        if !filter::validate(v, secret) {
            return false;
        }
    }
    !filter::inside_base64_blob(hay, start, end)
}

//! Loading rules from YAML (built in, files, policy), validating them one by
//! one, and compiling them for matching.
//!
//! A malformed rule is reported with its id and the reason and left out; the
//! other rules still load. Built-in rules compile lazily, on their first
//! candidate match, which keeps start-up fast for the git hooks; rules from
//! elsewhere compile eagerly so that their errors surface at load time.

use std::sync::OnceLock;

use regex_automata::meta;
use regex_automata::util::syntax;
use serde::Deserialize;

use crate::rule::{RuleDef, Severity, BUILTIN_RULE_FILES};

/// Longest match a rule may produce, in bytes. Bounded patterns keep the
/// confirmation windows small and make chunked scanning exact.
pub const MAX_MATCH_LEN: usize = 16 * 1024;

/// Budget for one rule's compiled automaton: a pathological pattern is
/// rejected rather than allowed to eat memory or compile time.
const NFA_SIZE_LIMIT: usize = 4 * 1024 * 1024;

/// A rule that could not be loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: rule {}: {message}", rule_id.as_deref().unwrap_or("<unnamed>"))]
pub struct RuleLoadError {
    pub origin: String,
    pub rule_id: Option<String>,
    pub message: String,
}

/// What the matcher needs of a rule, built from its definition.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub regex: meta::Regex,
    pub max_len: usize,
    /// Capture group holding the secret: 1 when the pattern has one, else 0.
    pub secret_group: usize,
    /// The rule's `ignore_values`, compiled.
    pub ignore_values: Vec<regex::bytes::Regex>,
}

/// A validated rule, ready to match.
#[derive(Debug)]
pub struct Rule {
    pub def: RuleDef,
    /// Where the rule came from: a built-in file name, a path, or `policy`.
    pub origin: String,
    compiled: OnceLock<Result<Compiled, String>>,
}

impl Rule {
    pub(crate) fn compiled(&self) -> Option<&Compiled> {
        match self.compiled.get_or_init(|| compile(&self.def)) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::error!(rule = %self.def.id, error = %e, "rule failed to compile");
                None
            }
        }
    }
}

fn syntax_config() -> syntax::Config {
    syntax::Config::new()
        .unicode(false)
        .utf8(false)
        .multi_line(true)
}

/// Compiles and checks a rule's pattern.
fn compile(def: &RuleDef) -> Result<Compiled, String> {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .multi_line(true)
        .build()
        .parse(&def.pattern)
        .map_err(|e| format!("invalid pattern: {e}"))?;
    let props = hir.properties();
    let max_len = props.maximum_len().ok_or_else(|| {
        "pattern has no bounded maximum length: use {m,n} instead of *, + or {n,}".to_string()
    })?;
    if max_len > MAX_MATCH_LEN {
        return Err(format!(
            "pattern can match {max_len} bytes, more than the {MAX_MATCH_LEN} allowed"
        ));
    }
    if props.minimum_len().unwrap_or(0) == 0 {
        return Err("pattern can match the empty string".into());
    }
    let regex = meta::Builder::new()
        .syntax(syntax_config())
        .configure(meta::Config::new().nfa_size_limit(Some(NFA_SIZE_LIMIT)))
        .build(&def.pattern)
        .map_err(|e| format!("pattern does not compile: {e}"))?;
    let secret_group = usize::from(
        regex
            .group_info()
            .group_len(regex_automata::PatternID::ZERO)
            > 1,
    );
    let ignore_values = def
        .ignore_values
        .iter()
        .map(|p| {
            regex::bytes::RegexBuilder::new(p)
                .unicode(false)
                .size_limit(NFA_SIZE_LIMIT)
                .build()
                .map_err(|e| format!("ignore_values pattern {p:?} does not compile: {e}"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Compiled {
        regex,
        max_len,
        secret_group,
        ignore_values,
    })
}

/// Checks everything about a definition except its examples.
fn validate(def: &RuleDef) -> Result<Compiled, String> {
    let id_ok = !def.id.is_empty()
        && def.id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !id_ok {
        return Err("id must be kebab-case: lowercase letters, digits and single dashes".into());
    }
    if def.name.trim().is_empty() {
        return Err("name is empty".into());
    }
    if def.keywords.is_empty() || def.keywords.iter().any(|k| k.is_empty()) {
        return Err("keywords must list at least one non-empty literal".into());
    }
    if def.examples.is_empty() {
        return Err("a rule needs at least one example".into());
    }
    if let Some(e) = def.min_entropy {
        if !(0.0..=8.0).contains(&e) {
            return Err(format!("min_entropy {e} is outside 0..=8 bits per byte"));
        }
    }
    let compiled = compile(def)?;
    #[cfg(feature = "hyperscan")]
    crate::engine::hyperscan_accepts(&def.pattern)?;
    Ok(compiled)
}

/// An ordered set of validated rules.
#[derive(Debug, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// Keywords of checksum-validated rules: a value starting with one is a
    /// token of that kind, and when its checksum fails it is a look-alike,
    /// not a secret a generic rule should report.
    validated_prefixes: Vec<Vec<u8>>,
}

impl RuleSet {
    /// The built-in rules alone. Errors here are bugs, caught by tests; they
    /// are still returned rather than panicking.
    pub fn builtin() -> (RuleSet, Vec<RuleLoadError>) {
        RuleSetBuilder::with_builtin().build()
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether `secret` starts like a checksummed token of a specific rule.
    pub(crate) fn has_validated_prefix(&self, secret: &[u8]) -> bool {
        self.validated_prefixes
            .iter()
            .any(|p| secret.starts_with(p))
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.def.id == id)
    }
}

/// Assembles a [`RuleSet`]: built-in rules, then added files and policy
/// rules (a rule with an existing id replaces it), then disabled ids and a
/// severity floor.
#[derive(Debug, Default)]
pub struct RuleSetBuilder {
    rules: Vec<Rule>,
    errors: Vec<RuleLoadError>,
    disabled: Vec<String>,
    min_severity: Option<Severity>,
}

impl RuleSetBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_builtin() -> Self {
        let mut b = Self::new();
        for (name, text) in BUILTIN_RULE_FILES {
            b.add_yaml_inner(name, text, true);
        }
        b
    }

    /// Adds the rules of a YAML rule file (`rules: [...]`).
    pub fn add_yaml(&mut self, origin: &str, text: &str) -> &mut Self {
        self.add_yaml_inner(origin, text, false);
        self
    }

    fn add_yaml_inner(&mut self, origin: &str, text: &str, lazy: bool) {
        if let Err(e) = check_yaml_nesting(text) {
            self.error(origin, None, format!("not a rule file: {e}"));
            return;
        }
        match rule_values(text) {
            Ok(values) => {
                for value in values {
                    let id = value.get("id").and_then(|v| v.as_str()).map(str::to_owned);
                    match serde_norway::from_value::<RuleDef>(value) {
                        Ok(def) => self.add_def(origin, def, lazy),
                        Err(e) => self.error(origin, id, plain_yaml_error(&e)),
                    }
                }
            }
            Err(e) => self.error(origin, None, format!("not a rule file: {e}")),
        }
    }

    /// Adds rules given as JSON values (policy's `rules.custom`).
    pub fn add_values(&mut self, origin: &str, values: &[serde_json::Value]) -> &mut Self {
        for value in values {
            let id = value.get("id").and_then(|v| v.as_str()).map(str::to_owned);
            match RuleDef::deserialize(value) {
                Ok(def) => self.add_def(origin, def, false),
                Err(e) => self.error(origin, id, e.to_string()),
            }
        }
        self
    }

    /// Adds one definition, validated now unless it is built in.
    pub fn add_def(&mut self, origin: &str, def: RuleDef, lazy: bool) {
        let compiled = OnceLock::new();
        if !lazy {
            match validate(&def) {
                Ok(c) => {
                    let _ = compiled.set(Ok(c));
                }
                Err(e) => return self.error(origin, Some(def.id), e),
            }
        }
        let rule = Rule {
            def,
            origin: origin.to_string(),
            compiled,
        };
        match self.rules.iter_mut().find(|r| r.def.id == rule.def.id) {
            Some(existing) => *existing = rule,
            None => self.rules.push(rule),
        }
    }

    pub fn disable<I: IntoIterator<Item = S>, S: Into<String>>(&mut self, ids: I) -> &mut Self {
        self.disabled.extend(ids.into_iter().map(Into::into));
        self
    }

    pub fn min_severity(&mut self, severity: Severity) -> &mut Self {
        self.min_severity = Some(severity);
        self
    }

    fn error(&mut self, origin: &str, rule_id: Option<String>, message: String) {
        self.errors.push(RuleLoadError {
            origin: origin.to_string(),
            rule_id,
            message,
        });
    }

    pub fn build(self) -> (RuleSet, Vec<RuleLoadError>) {
        let min = self.min_severity.unwrap_or(Severity::Info);
        let rules: Vec<Rule> = self
            .rules
            .into_iter()
            .filter(|r| r.def.severity >= min && !self.disabled.contains(&r.def.id))
            .collect();
        let validated_prefixes = rules
            .iter()
            .filter(|r| r.def.validator.is_some() && !r.def.generic)
            .flat_map(|r| r.def.keywords.iter().map(|k| k.as_bytes().to_vec()))
            .collect();
        (
            RuleSet {
                rules,
                validated_prefixes,
            },
            self.errors,
        )
    }
}

/// Validates a rule eagerly: what `mantra rules check` and the built-in rule
/// tests use.
pub fn check_definition(def: &RuleDef) -> Result<(), String> {
    validate(def).map(|_| ())
}

/// The ids of the rules in a rule text of any shape [`RuleSetBuilder::add_yaml`]
/// takes (a rules file, a policy's `rules.custom`, a bare list), in order;
/// an entry without an id is left out (loading it reports why).
pub fn rule_ids(text: &str) -> Result<Vec<String>, String> {
    check_yaml_nesting(text)?;
    Ok(rule_values(text)?
        .iter()
        .filter_map(|v| v.get("id").and_then(|id| id.as_str()).map(str::to_owned))
        .collect())
}

/// The rule definitions of YAML (or JSON) text in any of the three shapes
/// Mantra takes rules in: a rules file (`rules: [...]`), a policy
/// (`rules: {custom: [...]}`), or a bare list (the value of the Windows
/// registry's `rules.custom`).
fn rule_values(text: &str) -> Result<Vec<serde_norway::Value>, String> {
    use serde_norway::Value;
    let expected = "expected a rules file (`rules:` with a list of rules), a policy \
                    (`rules.custom`) or a list of rules";
    match serde_norway::from_str::<Value>(text).map_err(|e| plain_yaml_error(&e))? {
        Value::Sequence(list) => Ok(list),
        Value::Mapping(map) => match map.get("rules") {
            Some(Value::Sequence(list)) => Ok(list.clone()),
            Some(Value::Mapping(section)) => match section.get("custom") {
                Some(Value::Sequence(list)) => Ok(list.clone()),
                None => Ok(Vec::new()),
                Some(_) => Err("`rules.custom` is not a list of rules".into()),
            },
            Some(_) => Err("`rules` is not a list of rules".into()),
            None => Err(expected.into()),
        },
        _ => Err(expected.into()),
    }
}

/// A YAML error in words a rule author knows: serde names the Rust type it
/// expected (`expected struct RuleDef`), which means nothing outside this
/// crate.
fn plain_yaml_error(e: &serde_norway::Error) -> String {
    e.to_string().replace(
        "struct RuleDef",
        "a rule (a mapping with id, name, severity, pattern…)",
    )
}

/// Refuses rule YAML nested deeply enough to make the parser quadratic.
fn check_yaml_nesting(text: &str) -> Result<(), String> {
    use mantra_core::yaml_nesting::{check_flow_nesting, MAX_FLOW_DEPTH};
    check_flow_nesting(text, MAX_FLOW_DEPTH).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(id: &str, pattern: &str) -> RuleDef {
        RuleDef {
            id: id.into(),
            name: "Test".into(),
            severity: Severity::High,
            pattern: pattern.into(),
            keywords: vec!["tok_".into()],
            min_entropy: None,
            validator: None,
            generic: false,
            ignore_values: vec![],
            references: vec![],
            examples: vec!["tok_abc".into()],
            negative_examples: vec![],
        }
    }

    #[test]
    fn rules_are_read_in_each_shape_mantra_takes_them() {
        let rule = "{id: acme-token, name: ACME token, severity: high, \
                    pattern: '\\b(acme_[a-z0-9]{24})\\b', keywords: [acme_], \
                    examples: ['ACME=acme_k3j5h7g9f1d3s5a7p9o1i3u5']}";
        for text in [
            format!("rules:\n  - {rule}\n"),
            format!("rules:\n  disabled: [x]\n  custom:\n    - {rule}\n"),
            format!("[{rule}]"),
        ] {
            assert_eq!(rule_ids(&text).expect("ids"), ["acme-token"], "{text}");
            let mut b = RuleSetBuilder::new();
            b.add_yaml("t", &text);
            let (set, errors) = b.build();
            assert!(errors.is_empty(), "{text}: {errors:?}");
            assert!(set.get("acme-token").is_some(), "{text}");
        }
        for bad in ["rules: 5", "just text", "rules:\n  custom: 3\n"] {
            assert!(rule_ids(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unbounded_and_empty_patterns_are_rejected() {
        assert!(validate(&def("a", r"tok_[a-z]+"))
            .unwrap_err()
            .contains("bounded"));
        assert!(validate(&def("a", r"(tok_)?"))
            .unwrap_err()
            .contains("empty"));
        assert!(validate(&def("a", r"tok_[a-z]{1,8}")).is_ok());
        let huge = validate(&def("a", r"tok_(?:[a-z]{1,100}){1,1000}")).unwrap_err();
        assert!(huge.contains("more than"), "{huge}");
    }

    #[test]
    fn a_bad_rule_is_reported_and_the_others_still_load() {
        let yaml = r#"
rules:
  - id: good-one
    name: Good
    severity: high
    pattern: 'tok_([a-z]{4,8})'
    keywords: [tok_]
    examples: ['tok_abcd']
  - id: bad-one
    name: Bad
    severity: high
    pattern: 'tok_([a-z'
    keywords: [tok_]
    examples: ['x']
  - id: missing-fields
    name: Nope
"#;
        let mut b = RuleSetBuilder::new();
        b.add_yaml("custom.yaml", yaml);
        let (set, errors) = b.build();
        assert_eq!(set.len(), 1);
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].rule_id.as_deref(), Some("bad-one"));
        assert!(errors[0].to_string().contains("custom.yaml"));
        assert_eq!(errors[1].rule_id.as_deref(), Some("missing-fields"));
    }

    #[test]
    fn override_disable_and_severity_floor() {
        let mut b = RuleSetBuilder::new();
        b.add_def("a", def("one", r"tok_([a-z]{4})"), false);
        b.add_def("a", def("two", r"tok_([0-9]{4})"), false);
        let mut low = def("one", r"tok_([a-z]{5})");
        low.severity = Severity::Low;
        b.add_def("b", low, false);
        b.disable(["two"]);
        let (set, _) = b.build();
        assert_eq!(set.len(), 1);
        assert_eq!(set.rules()[0].origin, "b");
        let mut b = RuleSetBuilder::new();
        b.add_def("a", def("one", r"tok_([a-z]{4})"), false);
        b.min_severity(Severity::Critical);
        assert!(b.build().0.is_empty());
    }
}

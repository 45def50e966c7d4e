//! The key table and the typed model agree, key by key.

#![allow(clippy::unwrap_used)]

use mantra_policy::keys::{self, Kind, KEYS};
use mantra_policy::Policy;
use serde_json::{json, Value};

fn leaves(v: &Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                leaves(v, &format!("{prefix}{k}."), out);
            }
        }
        _ => out.push(prefix.trim_end_matches('.').to_string()),
    }
}

#[test]
fn every_model_field_has_a_key_and_every_key_a_field() {
    let tree = serde_json::to_value(Policy::default()).unwrap();
    let mut fields = Vec::new();
    leaves(&tree, "", &mut fields);
    let mut table: Vec<String> = KEYS.iter().map(|k| k.path.to_string()).collect();
    fields.sort();
    table.sort();
    assert_eq!(fields, table);
}

/// A valid value for the kind that differs from the default where possible.
fn sample(kind: Kind, default: &Value) -> Value {
    match kind {
        Kind::Bool => json!(!default.as_bool().unwrap()),
        Kind::Int { min, max } => json!(if default.as_u64() == Some(max) {
            min
        } else {
            max
        }),
        Kind::Str => json!("https://mirror.example.com/x"),
        Kind::OptStr => json!("0123456789abcdef-org-key"),
        Kind::Enum(names) => json!(names
            .iter()
            .find(|n| Some(**n) != default.as_str())
            .unwrap()),
        Kind::StrList => json!(["a/**", "b"]),
        Kind::EnumList(names) => json!(names),
        Kind::ObjList => json!([{"id": "x"}]),
    }
}

#[test]
fn every_key_kind_round_trips_through_its_field() {
    for spec in KEYS {
        let default = keys::default_value(spec.path);
        assert!(
            keys::validate(spec, &default).is_ok() || spec.kind == Kind::OptStr,
            "{}: default invalid",
            spec.path
        );
        let value = if spec.path == "telemetry" {
            json!(false)
        } else {
            sample(spec.kind, &default)
        };
        assert!(
            keys::validate(spec, &value).is_ok(),
            "{}: sample {value} invalid",
            spec.path
        );
        let mut tree = json!({});
        keys::insert(&mut tree, spec.path, value.clone());
        let policy: Policy = serde_json::from_value(tree.clone())
            .unwrap_or_else(|e| panic!("{}: {value} does not fit the model: {e}", spec.path));
        let back = serde_json::to_value(policy).unwrap();
        assert_eq!(
            keys::lookup(&back, spec.path),
            Some(&value),
            "{}",
            spec.path
        );
        if let Kind::Enum(names) | Kind::EnumList(names) = spec.kind {
            for n in names {
                let mut t = json!({});
                let v = if matches!(spec.kind, Kind::Enum(_)) {
                    json!(n)
                } else {
                    json!([n])
                };
                keys::insert(&mut t, spec.path, v);
                assert!(
                    serde_json::from_value::<Policy>(t).is_ok(),
                    "{}: {n} not in the model",
                    spec.path
                );
            }
        }
    }
}

#[test]
fn wrong_types_are_rejected_by_every_kind() {
    for spec in KEYS {
        let wrong = match spec.kind {
            Kind::Bool => json!("yes"),
            Kind::Int { .. } => json!(-1),
            Kind::Str | Kind::OptStr => json!(42),
            Kind::Enum(_) => json!("nonsense"),
            Kind::StrList | Kind::EnumList(_) | Kind::ObjList => json!("not-a-list"),
        };
        assert!(
            keys::validate(spec, &wrong).is_err(),
            "{} accepted {wrong}",
            spec.path
        );
    }
}

#[test]
fn every_key_is_documented_with_its_default() {
    for spec in KEYS {
        assert!(spec.doc.len() > 20, "{} lacks a doc", spec.path);
        assert!(
            spec.doc.contains("Default"),
            "{} doc does not state its default",
            spec.path
        );
    }
}

#[test]
fn restrictive_keys_are_the_ones_the_issue_names() {
    let mut r: Vec<&str> = KEYS
        .iter()
        .filter(|k| k.restrictive.is_some())
        .map(|k| k.path)
        .collect();
    r.sort();
    assert_eq!(
        r,
        [
            "crash_reports.enabled",
            "hooks.required",
            "logging.wipe_erases_trail",
            "network.enabled",
            "storage.encryption",
            "telemetry",
            "updates.enabled"
        ]
    );
    let p = mantra_policy::merge::restrictive_policy();
    assert!(!p.network.enabled && !p.updates.enabled && !p.crash_reports.enabled);
    assert_eq!(p.storage.encryption, mantra_policy::Encryption::Required);
    assert_eq!(p.hooks.required.len(), 2);
    assert!(
        !p.logging.wipe_erases_trail,
        "an unreadable policy keeps the trail"
    );
}

#[test]
fn schema_covers_every_key_with_type_description_and_default() {
    let schema = mantra_policy::json_schema();
    for spec in KEYS {
        for root in ["", "recommended."] {
            let path: Vec<String> = format!("{root}{}", spec.path)
                .split('.')
                .map(String::from)
                .collect();
            let mut node = &schema;
            for part in &path {
                node = node
                    .get("properties")
                    .and_then(|p| p.get(part))
                    .unwrap_or_else(|| panic!("schema lacks {root}{}", spec.path));
            }
            assert!(node.get("type").is_some(), "{}", spec.path);
            assert!(node.get("description").is_some(), "{}", spec.path);
            if spec.kind != Kind::OptStr {
                assert_eq!(
                    node.get("default"),
                    Some(&keys::default_value(spec.path)),
                    "{}",
                    spec.path
                );
            }
        }
    }
    assert_eq!(
        schema["properties"]["network"]["additionalProperties"],
        json!(false)
    );
}

#[test]
fn urls_must_be_https_or_loopback_http() {
    assert!(keys::url_allowed("https://updates.example.com/m.json").is_ok());
    assert!(keys::url_allowed("http://127.0.0.1:8080/m.json").is_ok());
    assert!(keys::url_allowed("http://[::1]:8080/m.json").is_ok());
    assert!(keys::url_allowed("http://localhost/m.json").is_err());
    assert!(keys::url_allowed("http://10.0.0.1/m.json").is_err());
    assert!(keys::url_allowed("http://127.0.0.1.evil.com/m.json").is_err());
    assert!(keys::url_allowed("http://evil.com@127.0.0.1/").is_ok());
    assert!(keys::url_allowed("ftp://x/").is_err());
    assert!(keys::url_allowed("https:///nohost").is_err());
}

#[test]
fn extra_checks_reject_bad_regexes_globs_short_keys_and_telemetry() {
    let s = |p| keys::spec(p).unwrap();
    assert!(
        keys::validate(s("allowlist.regexes"), &json!(["ok", "(unclosed"]))
            .unwrap_err()
            .contains("item 2")
    );
    assert!(keys::validate(s("allowlist.paths"), &json!(["src/[a-z"])).is_err());
    assert!(keys::validate(s("allowlist.paths"), &json!(["**/*.{rs,go}"])).is_ok());
    assert!(keys::validate(s("fingerprint_key"), &json!("short")).is_err());
    assert!(keys::validate(s("telemetry"), &json!(true)).is_err());
    assert!(keys::validate(s("telemetry"), &json!(false)).is_ok());
    assert!(keys::validate(s("hooks.required"), &json!(["pre-commit", "post-merge"])).is_err());
}

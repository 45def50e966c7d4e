//! `mdm-profiles/`: the committed files are what the model generates, and
//! each one, read back with the real reader for its format, covers exactly
//! the model's keys with the model's types.
//!
//! Regenerate with `MANTRA_BLESS=1 cargo test -p mantra-policy --test profiles`.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mantra_policy::keys::{self, Kind, KEYS};
use mantra_policy::source::{self, Level, Lines};
use mantra_policy::{files, load, profiles, LoadOptions, MemRegistry, Platform, SourceKind};
use serde_json::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../mdm-profiles")
}

fn model_keys() -> BTreeSet<String> {
    KEYS.iter().map(|k| k.path.to_string()).collect()
}

#[test]
fn committed_profiles_are_up_to_date() {
    let bless = std::env::var_os("MANTRA_BLESS").is_some();
    let mut stale = Vec::new();
    for (rel, text) in profiles::generate_all() {
        let path = dir().join(rel);
        if bless {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(rel);
        }
    }
    assert!(
        stale.is_empty(),
        "stale, run MANTRA_BLESS=1 cargo test -p mantra-policy --test profiles: {stale:?}"
    );
}

/// Walks a tree like any source does; every model key must be present and
/// valid, and nothing else.
fn assert_tree_covers_model(what: &str, tree: &Value) {
    let walked = source::walk(tree, Level::Mandatory, true, &Lines::new());
    assert!(
        walked.unknown.is_empty(),
        "{what}: keys not in the model: {:?}",
        walked.unknown
    );
    assert!(
        walked.malformed.is_empty(),
        "{what}: {:?}",
        walked.malformed
    );
    let mut seen = BTreeSet::new();
    for e in &walked.entries {
        let spec = keys::spec(&e.key).unwrap();
        if let Err(reason) = keys::validate(spec, &e.value) {
            panic!("{what}: {} has the wrong type: {reason}", e.key);
        }
        seen.insert(e.key.clone());
    }
    let missing: Vec<_> = model_keys().difference(&seen).cloned().collect();
    assert!(
        missing.is_empty(),
        "{what}: model keys missing: {missing:?}"
    );
}

fn rooted(platform: Platform) -> (tempfile::TempDir, LoadOptions) {
    let root = tempfile::tempdir().unwrap();
    let opts = LoadOptions::rooted(root.path(), platform, files::effective_uid().unwrap());
    (root, opts)
}

fn place(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let mut d = p.parent();
    while let Some(dir) = d.filter(|d| *d != root) {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        d = dir.parent();
    }
    std::fs::write(&p, bytes).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
}

fn assert_every_key_from(eff: &mantra_policy::Effective, source: SourceKind) {
    assert!(!eff.report.has_problems(), "{:?}", eff.report);
    for row in &eff.report.rows {
        assert_eq!(row.source, source, "{} not set by the profile", row.key);
    }
}

#[test]
fn example_yaml_sets_every_key_through_the_policy_file_reader() {
    let text = std::fs::read(dir().join("policy.example.yaml")).unwrap();
    let tree: Value = serde_norway::from_slice(&text).unwrap();
    assert_tree_covers_model("policy.example.yaml", &tree);
    let (root, opts) = rooted(Platform::Linux);
    place(root.path(), "etc/mantra/policy.yaml", &text);
    assert_every_key_from(&load(&opts), SourceKind::PolicyFile);
}

#[test]
fn mobileconfig_payload_sets_every_key_through_the_plist_reader() {
    let path = dir().join("com.gonewx.mantra.mobileconfig");
    let root_value = plist::Value::from_file(&path).unwrap();
    let payloads = mantra_policy::plist_src::mobileconfig_settings(&root_value).unwrap();
    assert_eq!(payloads.len(), 1);
    let tree = mantra_policy::plist_src::to_json(&payloads[0]);
    let tree = Value::Object(
        tree.as_object()
            .unwrap()
            .clone()
            .into_iter()
            .filter(|(k, _)| !k.starts_with("Payload"))
            .collect(),
    );
    assert_tree_covers_model("mobileconfig", &tree);
    // As macOS would install it: the payload's keys in the managed plist.
    let mut buf = Vec::new();
    plist::to_writer_binary(&mut buf, &payloads[0]).unwrap();
    let (root, opts) = rooted(Platform::MacOs);
    place(
        root.path(),
        "Library/Managed Preferences/com.gonewx.mantra.plist",
        &buf,
    );
    assert_every_key_from(&load(&opts), SourceKind::MacosMdm);
    assert_only_the_placeholder_key_is_refused(&mantra_policy::validate_file(&path).unwrap());
}

#[test]
fn reg_sample_sets_every_key_through_the_registry_mapping() {
    let bytes = std::fs::read(dir().join("windows/mantra-policy.reg")).unwrap();
    let reg = MemRegistry::from_reg_bytes(&bytes).unwrap();
    let (_root, mut opts) = rooted(Platform::Windows);
    opts.registry = Some(Arc::new(reg));
    assert_every_key_from(&load(&opts), SourceKind::WindowsRegistry);
}

fn jamf_leaves(node: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
    for (name, v) in node["properties"].as_object().unwrap() {
        let path = format!("{prefix}{name}");
        if v["type"] == "object" {
            jamf_leaves(v, &format!("{path}."), out);
        } else {
            out.push((path, v.clone()));
        }
    }
}

fn kind_matches_json_type(kind: Kind, node: &Value) -> bool {
    let t = node["type"].as_str().unwrap_or("");
    let enum_of = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(String::from))
            .collect()
    };
    match kind {
        Kind::Bool => t == "boolean",
        Kind::Int { .. } => t == "integer",
        Kind::Str | Kind::OptStr => t == "string" && node.get("enum").is_none(),
        Kind::Enum(names) => t == "string" && enum_of(&node["enum"]) == names,
        Kind::StrList => {
            t == "array" && node["items"]["type"] == "string" && node["items"].get("enum").is_none()
        }
        Kind::EnumList(names) => t == "array" && enum_of(&node["items"]["enum"]) == names,
        Kind::ObjList => t == "array" && node["items"]["type"] == "object",
    }
}

#[test]
fn jamf_manifest_has_every_key_with_its_type() {
    let v: Value =
        serde_json::from_slice(&std::fs::read(dir().join("jamf/com.gonewx.mantra.json")).unwrap())
            .unwrap();
    assert_eq!(v["__preferencedomain"], "com.gonewx.mantra");
    let mut leaves = Vec::new();
    jamf_leaves(&v, "", &mut leaves);
    let seen: BTreeSet<String> = leaves.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(seen, model_keys());
    for (k, node) in &leaves {
        let spec = keys::spec(k).unwrap();
        assert!(kind_matches_json_type(spec.kind, node), "{k}: {node}");
    }
}

#[test]
fn admx_and_adml_have_every_key_with_its_type_and_resolve_every_string() {
    let admx_text = std::fs::read_to_string(dir().join("windows/mantra.admx")).unwrap();
    let adml_text = std::fs::read_to_string(dir().join("windows/en-US/mantra.adml")).unwrap();
    let admx = roxmltree::Document::parse(&admx_text).unwrap();
    let adml = roxmltree::Document::parse(&adml_text).unwrap();
    let strings: BTreeSet<&str> = adml
        .descendants()
        .filter(|n| n.has_tag_name("string"))
        .filter_map(|n| n.attribute("id"))
        .collect();
    let presentations: BTreeSet<&str> = adml
        .descendants()
        .filter(|n| n.has_tag_name("presentation"))
        .filter_map(|n| n.attribute("id"))
        .collect();
    for n in admx.descendants() {
        for a in n.attributes() {
            if let Some(id) = a
                .value()
                .strip_prefix("$(string.")
                .and_then(|s| s.strip_suffix(')'))
            {
                assert!(strings.contains(id), "ADML lacks string {id}");
            }
            if let Some(id) = a
                .value()
                .strip_prefix("$(presentation.")
                .and_then(|s| s.strip_suffix(')'))
            {
                assert!(presentations.contains(id), "ADML lacks presentation {id}");
            }
        }
    }
    let prefix = r"Software\Policies\Gonewx\Mantra";
    for recommended in [false, true] {
        let mut seen = BTreeSet::new();
        for p in admx.descendants().filter(|n| n.has_tag_name("policy")) {
            let key = p.attribute("key").unwrap();
            let rest = key.strip_prefix(prefix).unwrap();
            let (is_rec, rest) = match rest.strip_prefix(r"\recommended") {
                Some(r) => (true, r),
                None => (false, rest),
            };
            if is_rec != recommended {
                continue;
            }
            let section: Vec<&str> = rest.split('\\').filter(|s| !s.is_empty()).collect();
            let element = p.descendants().find(|n| {
                n.is_element()
                    && matches!(
                        n.tag_name().name(),
                        "decimal" | "text" | "multiText" | "enum" | "list"
                    )
                    && n.parent().is_some_and(|par| par.has_tag_name("elements"))
            });
            let (value_name, kind_ok): (String, Box<dyn Fn(Kind) -> bool>) = match element {
                None => (
                    p.attribute("valueName").unwrap().to_string(),
                    Box::new(|k| k == Kind::Bool),
                ),
                Some(e) => match e.tag_name().name() {
                    "decimal" => (
                        e.attribute("valueName").unwrap().to_string(),
                        Box::new(|k| matches!(k, Kind::Int { .. })),
                    ),
                    "text" => (
                        e.attribute("valueName").unwrap().to_string(),
                        Box::new(|k| matches!(k, Kind::Str | Kind::OptStr)),
                    ),
                    "multiText" => (
                        e.attribute("valueName").unwrap().to_string(),
                        Box::new(|k| k == Kind::ObjList),
                    ),
                    "enum" => {
                        let values: Vec<String> = e
                            .descendants()
                            .filter(|n| n.has_tag_name("string"))
                            .filter_map(|n| n.text().map(String::from))
                            .collect();
                        (
                            e.attribute("valueName").unwrap().to_string(),
                            Box::new(move |k| matches!(k, Kind::Enum(names) if names == values)),
                        )
                    }
                    _ => {
                        let list_key = e.attribute("key").unwrap();
                        assert_eq!(
                            e.attribute("valuePrefix"),
                            Some(""),
                            "lists are numbered values"
                        );
                        (
                            list_key.rsplit('\\').next().unwrap().to_string(),
                            Box::new(|k| matches!(k, Kind::StrList | Kind::EnumList(_))),
                        )
                    }
                },
            };
            let mut dotted = section.join(".");
            if !dotted.is_empty() {
                dotted.push('.');
            }
            dotted.push_str(&value_name);
            let spec = keys::spec(&dotted)
                .unwrap_or_else(|| panic!("ADMX policy {dotted} is not a model key"));
            assert!(
                kind_ok(spec.kind),
                "ADMX type of {dotted} disagrees with the model"
            );
            assert!(seen.insert(dotted.clone()), "{dotted} twice");
        }
        assert_eq!(seen, model_keys(), "recommended={recommended}");
    }
}

#[test]
fn schema_file_is_the_model_schema() {
    let v: Value =
        serde_json::from_slice(&std::fs::read(dir().join("policy.schema.json")).unwrap()).unwrap();
    assert_eq!(v, mantra_policy::json_schema());
}

/// A template's one problem: its placeholder fingerprint key, which an
/// admin must replace before pushing it.
fn assert_only_the_placeholder_key_is_refused(v: &mantra_policy::Validation) {
    let keys: Vec<Option<&str>> = v.problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("fingerprint_key")], "{:?}", v.problems);
}

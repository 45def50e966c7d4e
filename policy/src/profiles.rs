//! Generates what an admin pushes, from the key table: the JSON Schema, a
//! commented `policy.example.yaml`, a `.mobileconfig`, a Jamf Pro
//! JSON-schema manifest, `mantra.admx` + `en-US/mantra.adml`, and a `.reg`
//! sample. `mdm-profiles/` holds the committed output; a test checks it is
//! current and reads each file back with the real readers.

use serde_json::{json, Map, Value};

use crate::keys::{self, KeySpec, Kind, KEYS};
use crate::plist_src::DOMAIN;
use crate::registry::POLICY_KEY;

/// (relative path, contents) of every generated profile.
pub fn generate_all() -> Vec<(&'static str, String)> {
    vec![
        ("policy.schema.json", pretty(&keys::json_schema())),
        ("policy.example.yaml", example_yaml()),
        ("com.gonewx.mantra.mobileconfig", mobileconfig()),
        ("jamf/com.gonewx.mantra.json", pretty(&jamf_manifest())),
        ("windows/mantra.admx", admx()),
        ("windows/en-US/mantra.adml", adml()),
        ("windows/mantra-policy.reg", reg_sample()),
    ]
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

/// Every key with its example value, as one nested tree.
fn example_tree() -> Value {
    let mut tree = json!({});
    for k in KEYS {
        keys::insert(&mut tree, k.path, keys::example_value(k));
    }
    tree
}

fn example_yaml() -> String {
    let mut out = String::from(
        "# Mantra policy: /etc/mantra/policy.yaml (Linux), /Library/Application Support/Mantra/policy.yaml\n\
         # (macOS), %ProgramData%\\Mantra\\policy.yaml (Windows); drop-ins in policy.d/*.yaml, lexical order.\n\
         # The file must be owned by root (Administrators) and not group/world-writable, or it is refused\n\
         # and Mantra falls back to restrictive values.\n\
         #\n\
         # Top-level values are MANDATORY. Values under `recommended:` (same keys, same nesting) are\n\
         # defaults the user's own config may change. Every key is listed below with an example value.\n\
         # Check before pushing: mantra policy validate policy.yaml\n",
    );
    let mut last_section = String::new();
    for k in KEYS {
        let parts: Vec<&str> = k.path.split('.').collect();
        let (sections, leaf) = parts.split_at(parts.len() - 1);
        let section = sections.join(".");
        if section != last_section {
            out.push('\n');
            // Open the sections not shared with the previous key.
            let prev: Vec<&str> = last_section.split('.').filter(|s| !s.is_empty()).collect();
            for (i, s) in sections.iter().enumerate() {
                if prev.get(i) != Some(s)
                    || prev.len() <= i
                    || (i > 0 && prev.get(i - 1) != sections.get(i - 1))
                {
                    out.push_str(&format!("{}{s}:\n", "  ".repeat(i)));
                }
            }
            last_section = section;
        }
        let indent = "  ".repeat(sections.len());
        for line in wrap(k.doc, 96 - indent.len()) {
            out.push_str(&format!("{indent}# {line}\n"));
        }
        let v = keys::example_value(k);
        out.push_str(&format!("{indent}{}:{}", leaf[0], yaml_value(&v, &indent)));
    }
    out.push_str("\n# Recommended values use the same keys, for example:\n# recommended:\n#   logging:\n#     level: warn\n");
    out
}

fn yaml_value(v: &Value, indent: &str) -> String {
    match v {
        Value::Array(items) if items.is_empty() => " []\n".into(),
        Value::Array(items) if items.iter().all(|i| !i.is_object()) => {
            let mut s = String::from("\n");
            for i in items {
                s.push_str(&format!("{indent}  - {}\n", scalar(i)));
            }
            s
        }
        Value::Array(items) => {
            let mut s = String::from("\n");
            for i in items {
                let mut first = true;
                for (k, v) in i.as_object().into_iter().flatten() {
                    let lead = if first { "- " } else { "  " };
                    first = false;
                    s.push_str(&format!("{indent}  {lead}{k}: {}\n", flow(v)));
                }
            }
            s
        }
        other => format!(" {}\n", scalar(other)),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{}'", s.replace('\'', "''")),
        other => other.to_string(),
    }
}

fn flow(v: &Value) -> String {
    match v {
        Value::Array(a) => format!("[{}]", a.iter().map(scalar).collect::<Vec<_>>().join(", ")),
        other => scalar(other),
    }
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let cur = lines.last_mut().map(|l| l.len()).unwrap_or(0);
        if cur > 0 && cur + 1 + word.len() > width {
            lines.push(String::new());
        }
        if let Some(l) = lines.last_mut() {
            if !l.is_empty() {
                l.push(' ');
            }
            l.push_str(word);
        }
    }
    lines
}

fn to_plist(v: &Value) -> plist::Value {
    match v {
        Value::Bool(b) => plist::Value::Boolean(*b),
        Value::Number(n) => plist::Value::Integer(n.as_i64().unwrap_or(0).into()),
        Value::String(s) => plist::Value::String(s.clone()),
        Value::Array(a) => plist::Value::Array(a.iter().map(to_plist).collect()),
        Value::Object(o) => {
            plist::Value::Dictionary(o.iter().map(|(k, v)| (k.clone(), to_plist(v))).collect())
        }
        Value::Null => plist::Value::String(String::new()),
    }
}

fn mobileconfig() -> String {
    let mut payload = match to_plist(&example_tree()) {
        plist::Value::Dictionary(d) => d,
        _ => plist::Dictionary::new(),
    };
    let meta: [(&str, plist::Value); 6] = [
        ("PayloadType", DOMAIN.into()),
        ("PayloadIdentifier", format!("{DOMAIN}.settings").into()),
        ("PayloadUUID", "8C2B7F4E-6A51-4C1B-9D3E-2F6A7B8C9D01".into()),
        ("PayloadVersion", plist::Value::Integer(1.into())),
        ("PayloadEnabled", plist::Value::Boolean(true)),
        ("PayloadDisplayName", "Mantra settings".into()),
    ];
    for (k, v) in meta {
        payload.insert(k.into(), v);
    }
    let mut root = plist::Dictionary::new();
    root.insert("PayloadDisplayName".into(), "Mantra policy".into());
    root.insert(
        "PayloadDescription".into(),
        "Forced (mandatory) Mantra policy. Every key is present with an example value: delete the ones you do not want to enforce. Put recommended values in a `recommended` dictionary with the same keys."
            .into(),
    );
    root.insert("PayloadIdentifier".into(), DOMAIN.into());
    root.insert("PayloadOrganization".into(), "Example Corp".into());
    root.insert("PayloadScope".into(), "System".into());
    root.insert("PayloadType".into(), "Configuration".into());
    root.insert(
        "PayloadUUID".into(),
        "8C2B7F4E-6A51-4C1B-9D3E-2F6A7B8C9D00".into(),
    );
    root.insert("PayloadVersion".into(), plist::Value::Integer(1.into()));
    root.insert(
        "PayloadContent".into(),
        plist::Value::Array(vec![plist::Value::Dictionary(payload)]),
    );
    let mut buf = Vec::new();
    let _ = plist::to_writer_xml(&mut buf, &plist::Value::Dictionary(root));
    String::from_utf8(buf).unwrap_or_default() + "\n"
}

fn jamf_leaf(k: &KeySpec) -> Value {
    let title = k.path.rsplit('.').next().unwrap_or(k.path);
    let mut node = match k.kind {
        Kind::Bool => json!({"type": "boolean"}),
        Kind::Int { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
        Kind::Str | Kind::OptStr => json!({"type": "string"}),
        Kind::Enum(names) => json!({"type": "string", "enum": names}),
        Kind::StrList => json!({"type": "array", "items": {"type": "string", "title": "Entry"}}),
        Kind::EnumList(names) => {
            json!({"type": "array", "items": {"type": "string", "title": "Entry", "enum": names}})
        }
        Kind::ObjList => json!({"type": "array", "items": {
            "type": "object",
            "title": "Rule",
            "properties": {
                "id": {"type": "string", "title": "id"},
                "name": {"type": "string", "title": "name"},
                "severity": {"type": "string", "title": "severity", "enum": ["info", "low", "medium", "high", "critical"]},
                "pattern": {"type": "string", "title": "pattern"},
                "keywords": {"type": "array", "title": "keywords", "items": {"type": "string"}},
                "examples": {"type": "array", "title": "examples", "items": {"type": "string"}},
                "negative_examples": {"type": "array", "title": "negative_examples", "items": {"type": "string"}}
            }
        }}),
    };
    if let Some(o) = node.as_object_mut() {
        o.insert("title".into(), json!(title));
        o.insert("description".into(), json!(k.doc));
        if k.kind != Kind::OptStr {
            o.insert("default".into(), keys::default_value(k.path));
        }
    }
    node
}

fn jamf_manifest() -> Value {
    let mut tree = json!({});
    for k in KEYS {
        keys::insert(&mut tree, k.path, jamf_leaf(k));
    }
    // Sections become Jamf object properties; leaves already carry a type.
    fn sections(node: &Value) -> Value {
        let mut out = Map::new();
        for (name, v) in node.as_object().into_iter().flatten() {
            if v.get("description").is_some() {
                out.insert(name.clone(), v.clone());
            } else {
                out.insert(
                    name.clone(),
                    json!({"type": "object", "title": name, "properties": sections(v)}),
                );
            }
        }
        Value::Object(out)
    }
    let props = sections(&tree);
    json!({
        "title": format!("Mantra ({DOMAIN})"),
        "description": "Mantra policy for Jamf Pro Application & Custom Settings (preference domain com.gonewx.mantra). Values configured here are forced (mandatory).",
        "__preferencedomain": DOMAIN,
        "options": {"remove_empty_properties": true},
        "properties": props,
    })
}

/// `network.enabled` → `NetworkEnabled`.
pub fn policy_name(path: &str) -> String {
    path.split(['.', '_'])
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn category_of(path: &str) -> String {
    let parts: Vec<&str> = path.split('.').collect();
    if parts.len() == 1 {
        "General".into()
    } else {
        policy_name(parts[0])
    }
}

fn categories() -> Vec<String> {
    let mut cats: Vec<String> = Vec::new();
    for k in KEYS {
        let c = category_of(k.path);
        if !cats.contains(&c) {
            cats.push(c);
        }
    }
    cats
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Registry key (under the hive) and value name of a dotted key.
pub fn reg_location(path: &str, recommended: bool) -> (String, String) {
    let parts: Vec<&str> = path.split('.').collect();
    let mut key = POLICY_KEY.replace("SOFTWARE", "Software");
    if recommended {
        key.push_str("\\recommended");
    }
    for p in &parts[..parts.len() - 1] {
        key.push('\\');
        key.push_str(p);
    }
    (key, parts.last().copied().unwrap_or_default().to_string())
}

fn admx() -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <!-- Generated from the Mantra policy model (mantra-policy profiles.rs). Do not edit by hand. -->\n\
         <policyDefinitions xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" revision=\"1.0\" schemaVersion=\"1.0\" xmlns=\"http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions\">\n\
         \x20 <policyNamespaces>\n    <target prefix=\"mantra\" namespace=\"Gonewx.Policies.Mantra\" />\n  </policyNamespaces>\n\
         \x20 <resources minRequiredRevision=\"1.0\" />\n\
         \x20 <supportedOn>\n    <definitions>\n      <definition name=\"SUPPORTED_MANTRA_0_1\" displayName=\"$(string.SUPPORTED_MANTRA_0_1)\" />\n    </definitions>\n  </supportedOn>\n\
         \x20 <categories>\n    <category name=\"Mantra\" displayName=\"$(string.Cat_Mantra)\" />\n    <category name=\"Mantra_Recommended\" displayName=\"$(string.Cat_Mantra_Recommended)\" />\n",
    );
    for c in categories() {
        for (suffix, parent) in [("", "Mantra"), ("_Recommended", "Mantra_Recommended")] {
            out.push_str(&format!(
                "    <category name=\"Cat_{c}{suffix}\" displayName=\"$(string.Cat_{c})\">\n      <parentCategory ref=\"{parent}\" />\n    </category>\n"
            ));
        }
    }
    out.push_str("  </categories>\n  <policies>\n");
    for recommended in [false, true] {
        for k in KEYS {
            out.push_str(&admx_policy(k, recommended));
        }
    }
    out.push_str("  </policies>\n</policyDefinitions>\n");
    out
}

fn admx_policy(k: &KeySpec, recommended: bool) -> String {
    let base = policy_name(k.path);
    let suffix = if recommended { "_Recommended" } else { "" };
    let name = format!("{base}{suffix}");
    let (key, value) = reg_location(k.path, recommended);
    let cat = format!("Cat_{}{suffix}", category_of(k.path));
    let head = |extra: &str| {
        format!(
            "    <policy name=\"{name}\" class=\"Both\" displayName=\"$(string.{base})\" explainText=\"$(string.{base}_Explain)\" key=\"{key}\"{extra}>\n      <parentCategory ref=\"{cat}\" />\n      <supportedOn ref=\"SUPPORTED_MANTRA_0_1\" />\n"
        )
    };
    let pres = format!(" presentation=\"$(presentation.{base})\"");
    match k.kind {
        Kind::Bool => head(&format!(" valueName=\"{value}\""))
            + "      <enabledValue>\n        <decimal value=\"1\" />\n      </enabledValue>\n      <disabledValue>\n        <decimal value=\"0\" />\n      </disabledValue>\n    </policy>\n",
        Kind::Int { min, max } => head(&pres)
            + &format!("      <elements>\n        <decimal id=\"{base}\" valueName=\"{value}\" minValue=\"{min}\" maxValue=\"{max}\" />\n      </elements>\n    </policy>\n"),
        Kind::Str | Kind::OptStr => head(&pres)
            + &format!("      <elements>\n        <text id=\"{base}\" valueName=\"{value}\" maxLength=\"2048\" />\n      </elements>\n    </policy>\n"),
        Kind::ObjList => head(&pres)
            + &format!("      <elements>\n        <multiText id=\"{base}\" valueName=\"{value}\" maxLength=\"65535\" />\n      </elements>\n    </policy>\n"),
        Kind::Enum(names) => {
            let mut s = head(&pres) + &format!("      <elements>\n        <enum id=\"{base}\" valueName=\"{value}\">\n");
            for n in names {
                s.push_str(&format!(
                    "          <item displayName=\"$(string.{base}_{})\">\n            <value>\n              <string>{n}</string>\n            </value>\n          </item>\n",
                    policy_name(n)
                ));
            }
            s + "        </enum>\n      </elements>\n    </policy>\n"
        }
        Kind::StrList | Kind::EnumList(_) => head(&pres)
            + &format!("      <elements>\n        <list id=\"{base}\" key=\"{key}\\{value}\" valuePrefix=\"\" />\n      </elements>\n    </policy>\n"),
    }
}

fn adml() -> String {
    let mut strings = vec![
        (
            "SUPPORTED_MANTRA_0_1".to_string(),
            "Mantra 0.1 and later".to_string(),
        ),
        ("Cat_Mantra".into(), "Mantra".into()),
        (
            "Cat_Mantra_Recommended".into(),
            "Mantra (recommended: users may change these)".into(),
        ),
    ];
    for c in categories() {
        strings.push((format!("Cat_{c}"), c.clone()));
    }
    let mut presentations = String::new();
    for k in KEYS {
        let base = policy_name(k.path);
        strings.push((base.clone(), k.path.to_string()));
        let list_note = match k.kind {
            Kind::StrList | Kind::EnumList(_) => " Enter one entry per line.",
            Kind::ObjList => " Enter a JSON array of rule objects.",
            _ => "",
        };
        strings.push((format!("{base}_Explain"), format!("{}{list_note}", k.doc)));
        if let Kind::Enum(names) = k.kind {
            for n in names {
                strings.push((format!("{base}_{}", policy_name(n)), n.to_string()));
            }
        }
        let label = xml_escape(k.path);
        let control = match k.kind {
            Kind::Bool => None,
            Kind::Int { .. } => Some(format!(
                "<decimalTextBox refId=\"{base}\">{label}</decimalTextBox>"
            )),
            Kind::Str | Kind::OptStr => Some(format!(
                "<textBox refId=\"{base}\"><label>{label}</label></textBox>"
            )),
            Kind::ObjList => Some(format!(
                "<multiTextBox refId=\"{base}\">{label}</multiTextBox>"
            )),
            Kind::Enum(_) => Some(format!(
                "<dropdownList refId=\"{base}\" noSort=\"true\">{label}</dropdownList>"
            )),
            Kind::StrList | Kind::EnumList(_) => {
                Some(format!("<listBox refId=\"{base}\">{label}</listBox>"))
            }
        };
        if let Some(c) = control {
            presentations.push_str(&format!(
                "      <presentation id=\"{base}\">\n        {c}\n      </presentation>\n"
            ));
        }
    }
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <!-- Generated from the Mantra policy model (mantra-policy profiles.rs). Do not edit by hand. -->\n\
         <policyDefinitionResources xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" revision=\"1.0\" schemaVersion=\"1.0\" xmlns=\"http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions\">\n\
         \x20 <displayName>Mantra</displayName>\n  <description>Mantra policy settings</description>\n  <resources>\n    <stringTable>\n",
    );
    for (id, text) in strings {
        out.push_str(&format!(
            "      <string id=\"{id}\">{}</string>\n",
            xml_escape(&text)
        ));
    }
    out.push_str("    </stringTable>\n    <presentationTable>\n");
    out.push_str(&presentations);
    out.push_str("    </presentationTable>\n  </resources>\n</policyDefinitionResources>\n");
    out
}

fn reg_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn reg_sample() -> String {
    let mut by_key: Vec<(String, Vec<String>)> = Vec::new();
    let mut push = |key: String, line: String| match by_key.iter_mut().find(|(k, _)| *k == key) {
        Some((_, lines)) => lines.push(line),
        None => by_key.push((key, vec![line])),
    };
    for k in KEYS {
        let (key, value) = reg_location(k.path, false);
        let key = format!(
            "HKEY_LOCAL_MACHINE\\{}",
            key.replace("Software", "SOFTWARE")
        );
        let v = keys::example_value(k);
        match (k.kind, &v) {
            (Kind::Bool, Value::Bool(b)) => {
                push(key, format!("\"{value}\"=dword:{:08x}", u32::from(*b)))
            }
            (Kind::Int { .. }, Value::Number(n)) => push(
                key,
                format!("\"{value}\"=dword:{:08x}", n.as_u64().unwrap_or(0)),
            ),
            (Kind::StrList | Kind::EnumList(_), Value::Array(items)) => {
                let list_key = format!("{key}\\{value}");
                push(list_key.clone(), String::new());
                for (i, item) in items.iter().enumerate() {
                    push(
                        list_key.clone(),
                        format!("\"{}\"={}", i + 1, reg_string(item.as_str().unwrap_or(""))),
                    );
                }
            }
            (Kind::ObjList, v) => push(key, format!("\"{value}\"={}", reg_string(&v.to_string()))),
            (_, Value::String(s)) => push(key, format!("\"{value}\"={}", reg_string(s))),
            _ => {}
        }
    }
    let mut out = String::from(
        "Windows Registry Editor Version 5.00\r\n\r\n\
         ; Mantra policy sample (generated from the policy model). Every key with an example value.\r\n\
         ; HKEY_LOCAL_MACHINE applies to the machine; the same layout under HKEY_CURRENT_USER applies\r\n\
         ; to one user (machine wins). A `recommended` subkey holds recommended values.\r\n\
         ; Booleans are REG_DWORD 0/1, lists are subkeys of numbered values, rules.custom is JSON.\r\n",
    );
    for (key, lines) in by_key {
        out.push_str(&format!("\r\n[{key}]\r\n"));
        for l in lines.into_iter().filter(|l| !l.is_empty()) {
            out.push_str(&l);
            out.push_str("\r\n");
        }
    }
    out
}

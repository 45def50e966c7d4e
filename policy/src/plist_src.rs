//! macOS managed preferences: property lists (XML or binary) to a tree, with
//! key lines for XML, and the custom-settings payload of a `.mobileconfig`.
//!
//! Values read from `/Library/Managed Preferences` are forced by MDM, so
//! their top level is mandatory; a `recommended` dictionary holds
//! recommended values, as in every other source.

use std::path::Path;

use serde_json::{Map, Number, Value};

use crate::error::ReadError;
use crate::source::Lines;

/// The preference domain Mantra reads.
pub const DOMAIN: &str = "com.gonewx.mantra";

/// Parses plist bytes (XML or binary) into a JSON tree. Keys that macOS or
/// the profile machinery add (`Payload…`, `_manualProfile`, …) are dropped
/// at the top level.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Value, ReadError> {
    let value =
        plist::Value::from_reader(std::io::Cursor::new(bytes)).map_err(|e| ReadError::Plist {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let tree = to_json(&value);
    match tree {
        Value::Object(map) => Ok(Value::Object(
            map.into_iter()
                .filter(|(k, _)| !is_profile_metadata(k))
                .collect(),
        )),
        other => Ok(other),
    }
}

fn is_profile_metadata(key: &str) -> bool {
    key.starts_with("Payload") || key.starts_with('_') || key == "ConsentText"
}

/// Plist → JSON. Dates and data have no policy meaning; they become marker
/// strings so that validation rejects them with a clear type.
pub fn to_json(v: &plist::Value) -> Value {
    match v {
        plist::Value::Dictionary(d) => Value::Object(
            d.iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect::<Map<_, _>>(),
        ),
        plist::Value::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        plist::Value::Boolean(b) => Value::Bool(*b),
        plist::Value::Integer(i) => match (i.as_unsigned(), i.as_signed()) {
            (Some(u), _) => Value::Number(u.into()),
            (None, Some(s)) => Value::Number(s.into()),
            _ => Value::Null,
        },
        plist::Value::Real(f) => Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        plist::Value::String(s) => Value::String(s.clone()),
        plist::Value::Date(_) => Value::String("<plist date>".into()),
        plist::Value::Data(_) => Value::String("<plist data>".into()),
        plist::Value::Uid(_) => Value::String("<plist uid>".into()),
        _ => Value::Null,
    }
}

/// Whether the bytes are an XML (not binary) property list.
pub fn is_xml(bytes: &[u8]) -> bool {
    !bytes.starts_with(b"bplist")
}

/// Line numbers of dictionary keys in an XML plist, by dotted path from the
/// top-level dictionary. Binary plists have no lines: empty map.
pub fn key_lines(bytes: &[u8]) -> Lines {
    let mut lines = Lines::new();
    let Ok(text) = std::str::from_utf8(bytes) else {
        return lines;
    };
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let Ok(doc) = roxmltree::Document::parse_with_options(text, opts) else {
        return lines;
    };
    let root_dict = doc
        .root_element()
        .children()
        .find(|n| n.is_element() && n.has_tag_name("dict"));
    if let Some(dict) = root_dict {
        dict_lines(&doc, dict, "", &mut lines);
    }
    lines
}

/// Key lines of one dictionary node and the dictionaries under it.
pub(crate) fn key_lines_of(doc: &roxmltree::Document<'_>, dict: roxmltree::Node<'_, '_>) -> Lines {
    let mut lines = Lines::new();
    dict_lines(doc, dict, "", &mut lines);
    lines
}

fn dict_lines(
    doc: &roxmltree::Document<'_>,
    dict: roxmltree::Node<'_, '_>,
    prefix: &str,
    lines: &mut Lines,
) {
    let mut pending: Option<String> = None;
    for child in dict.children().filter(|n| n.is_element()) {
        if child.has_tag_name("key") {
            let name = child.text().unwrap_or("").to_string();
            let path = format!("{prefix}{name}");
            lines
                .entry(path.clone())
                .or_insert(doc.text_pos_at(child.range().start).row as usize);
            pending = Some(path);
        } else if let Some(path) = pending.take() {
            if child.has_tag_name("dict") {
                dict_lines(doc, child, &format!("{path}."), lines);
            }
        }
    }
}

/// The Mantra settings inside a `.mobileconfig`: the payloads whose
/// `PayloadType` is [`DOMAIN`] (custom-settings form), merged in order, plus
/// legacy MCX `com.apple.ManagedClient.preferences` payloads' forced
/// settings for the domain. `None` when the file is not a profile.
pub fn mobileconfig_settings(root: &plist::Value) -> Option<Vec<plist::Value>> {
    let dict = root.as_dictionary()?;
    let content = dict.get("PayloadContent")?.as_array()?;
    let mut found = Vec::new();
    for payload in content {
        let Some(p) = payload.as_dictionary() else {
            continue;
        };
        match p.get("PayloadType").and_then(plist::Value::as_string) {
            Some(DOMAIN) => found.push(payload.clone()),
            Some("com.apple.ManagedClient.preferences") => {
                let forced = p
                    .get("PayloadContent")
                    .and_then(plist::Value::as_dictionary)
                    .and_then(|d| d.get(DOMAIN))
                    .and_then(plist::Value::as_dictionary)
                    .and_then(|d| d.get("Forced"))
                    .and_then(plist::Value::as_array);
                for item in forced.into_iter().flatten() {
                    if let Some(settings) = item
                        .as_dictionary()
                        .and_then(|d| d.get("mcx_preference_settings"))
                    {
                        found.push(settings.clone());
                    }
                }
            }
            _ => {}
        }
    }
    Some(found)
}

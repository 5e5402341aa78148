//! The scenario file's fields in one table, and the JSON Schema made from it
//! (`ksim schema`), for editors: completion, hover text and defaults.
//!
//! The readers consult the table: every key the parser reads
//! ([`super::read::Map::opt`]) must be listed here under its mapping, or a
//! debug build stops with an assertion (every test parses scenarios, so a
//! new field cannot be read without being described). Defaults come from
//! [`super::defaults`]. The schema is JSON Schema draft-07, the draft the
//! VS Code YAML extension (redhat yaml-language-server) validates.

use serde_json::{Map, Value, json};

use super::defaults as d;
use crate::time::SimDuration;

/// What a field holds.
#[derive(Clone, Copy, Debug)]
pub enum Ty {
    Str,
    /// One of these words.
    Word(&'static [&'static str]),
    Int,
    Num,
    Bool,
    /// A duration: `250ms`, `30s`, `1m30s` (or a number of seconds).
    Duration,
    /// A string or a number (a rate, a quantity, an IP or port written either way).
    Scalar,
    /// A mapping whose fields are listed under this field's path.
    Object,
    /// A list of mappings whose fields are listed under `path[]`.
    Objects,
    /// A scalar, or a mapping whose fields are listed under this field's path.
    OrObject,
    /// A list of scalars or mappings (whose fields, if listed, are under `path[]`).
    ItemsOrObjects,
    /// A list of scalars.
    List,
    /// Anything (a Kubernetes object, a free-form value).
    Any,
    /// A mapping of names to strings (labels, selectors).
    Labels,
}

/// A default value, from [`super::defaults`].
#[derive(Clone, Copy, Debug)]
pub enum Def {
    Dur(SimDuration),
    Int(u64),
    Bool(bool),
    Str(&'static str),
}

/// One field: the mapping it belongs to (`""` the top level,
/// `clients[]` an item of `clients`, `clients[].resolver`), its key, what
/// it holds, what it means and its default.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub at: &'static str,
    pub key: &'static str,
    pub ty: Ty,
    pub doc: &'static str,
    pub default: Option<Def>,
}

const fn f(at: &'static str, key: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field {
        at,
        key,
        ty,
        doc,
        default: None,
    }
}

const fn fd(at: &'static str, key: &'static str, ty: Ty, doc: &'static str, def: Def) -> Field {
    Field {
        at,
        key,
        ty,
        doc,
        default: Some(def),
    }
}

use Ty::*;

include!("schema_fields.rs");

/// Every field: [`FIELDS`], the workload fields under each workload, and
/// the probe fields under each probe.
fn all() -> &'static [Field] {
    static ALL: std::sync::OnceLock<Vec<Field>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut v = FIELDS.to_vec();
        for w in WORKLOADS {
            for &(sub, key, ty, doc, default) in WORKLOAD_FIELDS {
                // Built once per process; the table's paths are 'static.
                let at: &'static str = Box::leak(format!("{w}.{sub}").into_boxed_str());
                v.push(Field {
                    at,
                    key,
                    ty,
                    doc,
                    default,
                });
            }
        }
        for at in PROBED {
            for (key, doc, n) in PROBE_FIELDS {
                v.push(fd(at, key, Int, doc, Def::Int(*n)));
            }
            for key in PROBE_IGNORED {
                v.push(f(at, key, Any, NOT_MODELLED));
            }
        }
        v
    })
}

/// `clients[3].resolver` → `clients[].resolver`.
fn normalize(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

/// Whether the table lists `key` in the mapping at `path` (as the reader
/// writes it, with indices). Mappings inside a free-form field (a
/// Kubernetes object, a manifest file) are not the table's business.
pub fn knows(path: &str, key: &str) -> bool {
    if path.contains(": ") {
        return true; // a manifest file's document
    }
    let at = normalize(path);
    let free = all().iter().any(|f| {
        matches!(f.ty, Any | Labels) && {
            let p = join(f.at, f.key);
            at == p || at.starts_with(&format!("{p}.")) || at.starts_with(&format!("{p}["))
        }
    });
    free || all().iter().any(|f| f.at == at && f.key == key)
}

/// Fields read (debug builds) that the table does not list, as
/// (`mapping`, `key`): what `every_field_the_parser_reads_is_listed` checks.
#[cfg(debug_assertions)]
static UNLISTED: std::sync::Mutex<std::collections::BTreeSet<(String, &'static str)>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// Record a field the parser reads (debug builds): kept when the table
/// does not list it.
#[cfg(debug_assertions)]
pub fn note_read(path: &str, key: &'static str) {
    if !knows(path, key)
        && let Ok(mut u) = UNLISTED.lock()
    {
        u.insert((normalize(path), key));
    }
}

/// The fields read so far that the table does not list.
#[cfg(debug_assertions)]
pub fn unlisted() -> Vec<(String, &'static str)> {
    UNLISTED
        .lock()
        .map(|u| u.iter().cloned().collect())
        .unwrap_or_default()
}

fn default_value(def: Def) -> Value {
    match def {
        Def::Dur(x) => Value::String(x.to_string()),
        Def::Int(n) => json!(n),
        Def::Bool(b) => json!(b),
        Def::Str(s) => json!(s),
    }
}

/// The schema of one field.
fn field_schema(field: &Field) -> Value {
    let path = join(field.at, field.key);
    let mut s = match field.ty {
        Str => json!({"type": "string"}),
        Word(words) => json!({"type": "string", "enum": words}),
        Int => json!({"type": "integer", "minimum": 0}),
        Num => json!({"type": "number"}),
        Bool => json!({"type": "boolean"}),
        // A pattern applies to strings only: `30` (seconds) is a number.
        Duration => json!({
            "type": ["string", "number"],
            "pattern": "^[0-9][0-9.]*(ns|us|µs|ms|s|m|h|d)?([0-9][0-9.]*(ns|us|µs|ms|s|m|h|d))*$"
        }),
        Scalar => json!({"type": ["string", "number"]}),
        Object => mapping(&path),
        Objects => json!({"type": "array", "items": mapping(&format!("{path}[]"))}),
        OrObject => json!({"anyOf": [{"type": ["string", "number", "boolean"]}, mapping(&path)]}),
        ItemsOrObjects => {
            let inner = format!("{path}[]");
            if all().iter().any(|f| f.at == inner) {
                json!({"type": "array", "items": {"anyOf": [{"type": ["string", "number"]}, mapping(&inner)]}})
            } else {
                json!({"type": "array"})
            }
        }
        List => json!({"type": "array"}),
        Any => json!({}),
        Labels => {
            json!({"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}})
        }
    };
    let m = s.as_object_mut().expect("an object");
    m.insert("description".into(), json!(field.doc));
    if let Some(def) = field.default {
        m.insert("default".into(), default_value(def));
    }
    s
}

/// The schema of the mapping at `at`: its fields, nothing else.
fn mapping(at: &str) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in all().iter().filter(|f| f.at == at) {
        props.insert(f.key.to_string(), field_schema(f));
        if REQUIRED.contains(&(f.at, f.key)) {
            required.push(json!(f.key));
        }
    }
    let mut s = json!({
        "type": "object",
        "properties": Value::Object(props),
        "additionalProperties": false,
    });
    if !required.is_empty() {
        s["required"] = Value::Array(required);
    }
    s
}

/// The JSON Schema (draft-07) of a scenario file.
pub fn json_schema() -> Value {
    let mut s = mapping("");
    let m = s.as_object_mut().expect("an object");
    m.insert(
        "$schema".into(),
        json!("http://json-schema.org/draft-07/schema#"),
    );
    m.insert("title".into(), json!("ksim scenario"));
    m.insert(
        "description".into(),
        json!("A ksim scenario: a cluster, its Services and workloads, clients, and a timeline of events (README: Scenario reference)."),
    );
    s
}

/// [`json_schema`] as pretty JSON with a trailing newline.
pub fn to_json() -> String {
    let mut s = serde_json::to_string_pretty(&json_schema()).expect("a schema serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shipped scenario and the fuzz corpus parse with every field
    /// they reach listed in the table.
    #[cfg(debug_assertions)]
    #[test]
    fn every_field_the_parser_reads_is_listed() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for dir in ["scenarios", "tests/corpus"] {
            if let Ok(rd) = std::fs::read_dir(root.join(dir)) {
                files.extend(rd.filter_map(|e| e.ok().map(|e| e.path())));
            }
        }
        files.sort();
        for f in &files {
            let Ok(text) = std::fs::read_to_string(f) else {
                continue;
            };
            if text.len() > 200_000 {
                continue;
            }
            let dir = f.parent().expect("a directory").to_path_buf();
            let load = move |name: &str| {
                std::fs::read_to_string(dir.join(name)).map_err(|e| e.to_string())
            };
            let _ = crate::scenario::parse_with(&text, &load);
        }
        let missing = unlisted();
        assert!(
            missing.is_empty(),
            "read by the parser, not in scenario/schema_fields.rs: {missing:?}"
        );
    }

    #[test]
    fn paths_lose_their_indices() {
        assert_eq!(normalize("clients[3].resolver"), "clients[].resolver");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn every_mapping_field_has_fields_of_its_own() {
        for fl in all() {
            let path = join(fl.at, fl.key);
            let inner = match fl.ty {
                Object | OrObject => path,
                Objects => format!("{path}[]"),
                _ => continue,
            };
            assert!(
                all().iter().any(|g| g.at == inner),
                "{inner}: a mapping without fields"
            );
        }
    }

    #[test]
    fn no_field_is_listed_twice() {
        let all = all();
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert!(
                    !(a.at == b.at && a.key == b.key),
                    "{}.{} twice",
                    a.at,
                    a.key
                );
            }
        }
    }
}

//! The documentation against the code: `docs/configuration.md` documents
//! every configuration key with its real default, and every link in
//! `README.md` and `docs/*.md` points to a file (and heading) that exists.
//!
//! The reference's format is strict: one table row per key,
//! ``| `section.key` | unit | valid range | default | meaning |``, the
//! default a TOML value in backticks (`` `0.8` ``, `` `"peak"` ``,
//! `` `[{ upper = 0.0, adjustment = -1 }]` ``) or the word `unset` for a key
//! that is absent unless given. Cells hold no `|`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;

use qscale::config::Config;

const REFERENCE: &str = "docs/configuration.md";

/// A documented default: a TOML value, or absent unless given.
#[derive(Debug, Clone, PartialEq)]
enum Documented {
    Value(toml::Value),
    Unset,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The rows of the reference: `section.key` → its documented default.
/// Panics on a malformed row or a key documented twice.
fn documented_keys(markdown: &str) -> BTreeMap<String, Documented> {
    let mut keys = BTreeMap::new();
    for (n, line) in markdown.lines().enumerate() {
        let line = line.trim();
        if !line.starts_with("| `") {
            continue;
        }
        let cells: Vec<&str> = line
            .trim_start_matches('|')
            .trim_end_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        let key = cells[0].trim_matches('`');
        if !key.contains('.') {
            continue;
        }
        let line_no = n + 1;
        assert_eq!(
            cells.len(),
            5,
            "{REFERENCE}:{line_no}: a key's row has 5 cells (key, unit, valid range, default, meaning)"
        );
        assert!(
            cells[0].starts_with('`') && cells[0].ends_with('`') && !key.contains('`'),
            "{REFERENCE}:{line_no}: one key per row, in backticks"
        );
        let default = match cells[3] {
            "unset" => Documented::Unset,
            cell => {
                let raw = cell
                    .strip_prefix('`')
                    .and_then(|c| c.strip_suffix('`'))
                    .unwrap_or_else(|| {
                        panic!("{REFERENCE}:{line_no}: default `{cell}` is neither `unset` nor a TOML value in backticks")
                    });
                let mut table: toml::Table =
                    toml::from_str(&format!("v = {raw}")).unwrap_or_else(|e| {
                        panic!("{REFERENCE}:{line_no}: default {raw} is not a TOML value: {e}")
                    });
                Documented::Value(table.remove("v").unwrap())
            }
        };
        assert!(
            keys.insert(key.to_string(), default).is_none(),
            "{REFERENCE}:{line_no}: {key} is documented twice"
        );
    }
    keys
}

/// `Config::default()` as `section.key` → value; arrays of tables stay
/// whole. Keys whose default is not written (unset options, empty
/// `[sweep]` and `[crossval]` lists) are absent.
fn flatten(config: &Config) -> BTreeMap<String, toml::Value> {
    let table: toml::Table = toml::from_str(&config.to_toml()).unwrap();
    let mut keys = BTreeMap::new();
    for (section, value) in table {
        let toml::Value::Table(fields) = value else {
            panic!("top-level key {section} is not a section");
        };
        for (field, value) in fields {
            keys.insert(format!("{section}.{field}"), value);
        }
    }
    keys
}

/// The names serde lists in "unknown field `zzz`, expected one of `a`,
/// `b`, `c`" (or "expected `a` or `b`"):
/// the fields of a section (or, for `section` = None, the sections), set or
/// not, wherever their struct is defined.
fn accepted_fields(section: Option<&str>) -> Vec<String> {
    let key = match section {
        Some(s) => format!("{s}.not_a_key_qscale_has"),
        None => "not_a_section_qscale_has.key".to_string(),
    };
    let err = Config::default()
        .with_overrides(&[(key.clone(), toml::Value::Integer(1))])
        .expect_err("an unknown key is refused");
    let message = err.to_string();
    let list = message
        .split_once(", expected")
        .unwrap_or_else(|| panic!("--set {key}: no list of fields in `{message}`"))
        .1;
    list.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// Every key the configuration accepts, as `section.key`.
fn every_key() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for section in accepted_fields(None) {
        for field in accepted_fields(Some(&section)) {
            keys.insert(format!("{section}.{field}"));
        }
    }
    keys
}

/// Equal TOML values, an integer equal to a float of the same value
/// (`20` documents `vm_capacity_rps = 20.0`).
fn same(a: &toml::Value, b: &toml::Value) -> bool {
    use toml::Value::{Array, Float, Integer, Table};
    match (a, b) {
        (Integer(i), Float(f)) | (Float(f), Integer(i)) => *i as f64 == *f,
        (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Table(x), Table(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Checks the reference against the configuration; returns every
/// disagreement, one line each.
fn reference_disagreements(markdown: &str) -> Vec<String> {
    let documented = documented_keys(markdown);
    let defaults = flatten(&Config::default());
    let all = every_key();
    let mut problems = Vec::new();
    for key in defaults.keys() {
        assert!(all.contains(key), "{key} is written but not accepted");
    }
    for key in &all {
        if !documented.contains_key(key) {
            problems.push(format!(
                "{key} is a configuration key missing from {REFERENCE}"
            ));
        }
    }
    for (key, doc) in &documented {
        if !all.contains(key) {
            problems.push(format!("{key} is documented but is no configuration key"));
            continue;
        }
        match (doc, defaults.get(key)) {
            (Documented::Value(value), Some(real)) if !same(value, real) => problems.push(format!(
                "{key}: documented default {value} but Config::default() has {real}"
            )),
            (Documented::Value(_), Some(_)) => {}
            (Documented::Value(value), None) => {
                // Not written when default (an empty [sweep] or [crossval]
                // list): setting the documented value must change nothing.
                match Config::default().with_overrides(&[(key.clone(), value.clone())]) {
                    Ok(c) if c == Config::default() => {}
                    Ok(_) => problems.push(format!(
                        "{key}: documented default {value} differs from Config::default()"
                    )),
                    Err(e) => {
                        problems.push(format!("{key}: documented default {value} is refused: {e}"))
                    }
                }
            }
            (Documented::Unset, Some(real)) => problems.push(format!(
                "{key} is documented as unset but Config::default() has {real}"
            )),
            (Documented::Unset, None) => {
                // An option: a value for it is read (some need other keys
                // to validate, e.g. min_adjustment_magnitude wants a
                // percent adjustment), and then written.
                let examples = [
                    toml::Value::Integer(1),
                    toml::Value::String("example.csv".into()),
                ];
                let (section, field) = key.split_once('.').unwrap();
                let written = examples.iter().any(|v| {
                    let mut table: toml::Table =
                        toml::from_str(&Config::default().to_toml()).unwrap();
                    let toml::Value::Table(fields) = table
                        .entry(section)
                        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                    else {
                        return false;
                    };
                    fields.insert(field.to_string(), v.clone());
                    toml::from_str::<Config>(&toml::to_string(&table).unwrap())
                        .is_ok_and(|c| flatten(&c).contains_key(key))
                });
                if !written {
                    problems.push(format!(
                        "{key} is documented as unset but no value for it is read and written"
                    ));
                }
            }
        }
        // A documented value, given explicitly, is the default.
        if let Documented::Value(value) = doc {
            match Config::default().with_overrides(&[(key.clone(), value.clone())]) {
                Ok(c) if c == Config::default() => {}
                Ok(_) => problems.push(format!(
                    "--set {key}={value} does not give Config::default()"
                )),
                Err(e) => problems.push(format!("--set {key}={value} is refused: {e}")),
            }
        }
    }
    problems
}

#[test]
fn configuration_reference_documents_every_key_with_its_real_default() {
    let markdown = fs::read_to_string(repo().join(REFERENCE)).unwrap();
    let problems = reference_disagreements(&markdown);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn configuration_reference_check_catches_a_wrong_default_a_missing_key_and_an_unknown_key() {
    let markdown = fs::read_to_string(repo().join(REFERENCE)).unwrap();
    let row = markdown
        .lines()
        .find(|l| l.starts_with("| `policy.upper` |"))
        .expect("policy.upper is documented");

    let wrong = markdown.replace(row, &row.replace("| `0.8` |", "| `0.85` |"));
    assert_ne!(wrong, markdown);
    let problems = reference_disagreements(&wrong);
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("policy.upper: documented default 0.85")),
        "{problems:?}"
    );

    let missing = markdown.replace(&format!("{row}\n"), "");
    let problems = reference_disagreements(&missing);
    assert!(
        problems.contains(&format!(
            "policy.upper is a configuration key missing from {REFERENCE}"
        )),
        "{problems:?}"
    );

    let unknown = markdown.replace(row, &row.replace("`policy.upper`", "`policy.uper`"));
    let problems = reference_disagreements(&unknown);
    assert!(
        problems.contains(&"policy.uper is documented but is no configuration key".to_string()),
        "{problems:?}"
    );

    let unset = markdown.replace(row, &row.replace("| `0.8` |", "| unset |"));
    let problems = reference_disagreements(&unset);
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("policy.upper is documented as unset")),
        "{problems:?}"
    );
}

/// The Markdown files whose links are checked.
fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![repo().join("README.md")];
    let mut docs: Vec<PathBuf> = fs::read_dir(repo().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The lines outside fenced code blocks.
fn prose(markdown: &str) -> Vec<&str> {
    let mut fenced = false;
    markdown
        .lines()
        .filter(|l| {
            if l.trim_start().starts_with("```") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .collect()
}

/// GitHub's anchor for a heading: lowercase, punctuation dropped, spaces
/// to hyphens; a repeated heading gets `-1`, `-2`, ...
fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut seen = BTreeMap::<String, usize>::new();
    let mut out = BTreeSet::new();
    for line in prose(markdown) {
        let Some(title) = line.strip_prefix('#') else {
            continue;
        };
        let title = title.trim_start_matches('#').trim();
        let slug: String = title
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let n = seen.entry(slug.clone()).or_insert(0);
        out.insert(if *n == 0 {
            slug.clone()
        } else {
            format!("{slug}-{n}")
        });
        *n += 1;
    }
    out
}

/// The targets of `[text](target)` and `![alt](target)` links.
fn link_targets(markdown: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in prose(markdown) {
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            rest = &rest[i + 2..];
            if let Some(end) = rest.find(')') {
                targets.push(rest[..end].to_string());
                rest = &rest[end..];
            }
        }
    }
    targets
}

#[test]
fn every_link_in_the_readme_and_docs_points_to_a_file_and_heading_that_exist() {
    let mut broken = Vec::new();
    for file in markdown_files() {
        let text = fs::read_to_string(&file).unwrap();
        let dir = file.parent().unwrap();
        let name = file.strip_prefix(repo()).unwrap().display().to_string();
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let resolved: PathBuf = if path.is_empty() {
                file.clone()
            } else {
                dir.join(path)
            };
            if !resolved.exists() {
                broken.push(format!("{name}: {target}: no such file"));
                continue;
            }
            if !anchor.is_empty() && resolved.extension().is_some_and(|e| e == "md") {
                let heads = anchors(&fs::read_to_string(&resolved).unwrap());
                if !heads.contains(anchor) {
                    broken.push(format!("{name}: {target}: no such heading"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn link_check_sees_links_images_and_anchors() {
    let md = "# Title `x` (y)\n\nSee [a](b.md#c), ![i](../r/f.png).\n```\n[no](link)\n```\n";
    assert_eq!(link_targets(md), ["b.md#c", "../r/f.png"]);
    assert!(anchors(md).contains("title-x-y"));
}

//! Every sentence an error says to people is a code with a text in the one catalog
//! (`message_text`): the sources name no code the catalog lacks, the catalog keeps no code
//! nothing names, and no error of the use cases is built from English text of its own.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use voronka_app::message_text;

/// The Rust sources of the use cases and of the HTTP face, each without its unit tests.
fn sources() -> Vec<(PathBuf, String)> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    let mut dirs = vec![
        crates.join("voronka-app/src"),
        crates.join("voronka-server/src"),
    ];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let text = match text.find("#[cfg(test)]\nmod tests") {
                    Some(i) => text[..i].to_string(),
                    None => text,
                };
                out.push((path, text));
            }
        }
    }
    out.sort();
    out
}

/// The text right after each `needle`, with the white space that follows it skipped.
fn after<'a>(text: &'a str, needle: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    text.match_indices(needle)
        .map(move |(i, _)| text[i + needle.len()..].trim_start())
}

/// The codes a source names in `Message::new("…")`.
fn codes_in(text: &str) -> Vec<String> {
    after(text, "Message::new(")
        .filter_map(|rest| {
            let rest = rest.strip_prefix('"')?;
            Some(rest[..rest.find('"')?].to_string())
        })
        .collect()
}

/// The codes a form definition's check names: the `"form_…"` literals of voronka-core's
/// `capture.rs` (its `err(part, "form_…")` calls), without its unit tests.
fn definition_codes() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../voronka-core/src/capture.rs");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.match_indices("\"form_")
        .filter_map(|(i, _)| {
            let rest = &text[i + 1..];
            Some(rest[..rest.find('"')?].to_string())
        })
        .collect()
}

/// The codes the catalog has arms for: the `"code" =>` lines of `message.rs`.
fn catalog_codes(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim_start().strip_prefix('"')?;
            let (code, rest) = l.split_once('"')?;
            rest.trim_start()
                .starts_with("=>")
                .then(|| code.to_string())
        })
        .collect()
}

#[test]
fn the_scanner_finds_codes_as_written() {
    let src = "AppError::NotFound(Message::new(\"lead_not_found\").with(\"id\", id))\n\
               x(Message::new(\n    \"wrapped_code\",\n))\nMessage::new(kind)";
    assert_eq!(codes_in(src), ["lead_not_found", "wrapped_code"]);
    assert_eq!(
        catalog_codes("        \"a_code\" => \"x\".to_string(),\n        \"b\" => {\n"),
        BTreeSet::from(["a_code".to_string(), "b".to_string()])
    );
}

#[test]
fn every_code_the_sources_name_has_a_text() {
    let mut named = BTreeSet::new();
    let mut missing = Vec::new();
    for (path, text) in sources() {
        for code in codes_in(&text) {
            let well_formed = !code.is_empty()
                && code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !well_formed || message_text(&code, &Default::default()).is_none() {
                missing.push(format!("{}: {code:?}", path.display()));
            }
            named.insert(code);
        }
    }
    let definitions = definition_codes();
    assert!(
        definitions.len() >= 20,
        "only {} form definition codes found: is the scanner still reading capture.rs?",
        definitions.len()
    );
    for code in definitions {
        if message_text(&code, &Default::default()).is_none() {
            missing.push(format!("voronka-core/src/capture.rs: {code:?}"));
        }
    }
    assert!(
        missing.is_empty(),
        "codes without a text in message_text (or not lower_snake_case):\n{}",
        missing.join("\n")
    );
    assert!(
        named.len() >= 100,
        "only {} codes found: is the scanner still reading the sources?",
        named.len()
    );
}

#[test]
fn the_catalog_keeps_no_code_nothing_names() {
    let all = sources();
    let catalog = all
        .iter()
        .find(|(p, _)| p.ends_with("voronka-app/src/message.rs"))
        .map(|(_, t)| catalog_codes(t))
        .expect("message.rs");
    assert!(catalog.len() >= 100, "{} catalog codes", catalog.len());
    let named: BTreeSet<String> = all
        .iter()
        .flat_map(|(_, t)| codes_in(t))
        .chain(definition_codes())
        .collect();
    let unused: Vec<_> = catalog.difference(&named).collect();
    assert!(unused.is_empty(), "catalog codes nothing names: {unused:?}");
}

#[test]
fn errors_are_not_built_from_english_text() {
    let kinds = [
        "AppError::NotFound(",
        "AppError::Forbidden(",
        "AppError::Unauthorized(",
        "AppError::Conflict(",
        "AppError::invalid(",
        "ApiError::BadRequest(",
        "ApiError::UnsupportedMediaType(",
        "ApiError::Unprocessable(",
        "FieldError::new(",
    ];
    let mut found = Vec::new();
    for (path, text) in sources() {
        for kind in kinds {
            for rest in after(&text, kind) {
                // `AppError::invalid(field, …)` names the field first.
                let arg = if kind.ends_with("invalid(") || kind.starts_with("FieldError") {
                    match rest.split_once(',') {
                        Some((_, m)) => m.trim_start(),
                        None => continue,
                    }
                } else {
                    rest
                };
                if arg.starts_with("format!") || arg.starts_with('"') || arg.starts_with("t::") {
                    let line: String = rest.chars().take(60).collect();
                    found.push(format!("{}: {kind}{line}", path.display()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "errors built from text:\n{}",
        found.join("\n")
    );
}

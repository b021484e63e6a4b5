//! The pages' words live in `web/t.rs`, the one place to translate them: no template holds
//! English text of its own, neither between tags nor in the attributes people read
//! (placeholder, title, aria-label, alt, and the confirmations and labels our script shows:
//! data-confirm, data-copied). Code shown on a page (`<code>`, `<kbd>`, `<pre>`) and
//! scripts are not words to translate.

use std::path::Path;

/// Text a person reads: two letters of the Latin alphabet in a row, entities left out.
fn has_words(s: &str) -> bool {
    let mut plain = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        plain.push_str(&rest[..i]);
        rest = &rest[i..];
        match rest.find(';') {
            Some(j) if j < 10 => rest = &rest[j + 1..],
            _ => {
                plain.push('&');
                rest = &rest[1..];
            }
        }
    }
    plain.push_str(rest);
    plain
        .as_bytes()
        .windows(2)
        .any(|w| w[0].is_ascii_alphabetic() && w[1].is_ascii_alphabetic())
}

/// The template with its own syntax (`{{ }}`, `{% %}`, `{# #}`) blanked out.
fn without_template_syntax(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let close = match rest[i..].chars().nth(1) {
            Some('{') => "}}",
            Some('%') => "%}",
            Some('#') => "#}",
            _ => {
                out.push('{');
                rest = &rest[i + 1..];
                continue;
            }
        };
        match rest[i..].find(close) {
            Some(j) => {
                out.push(' ');
                rest = &rest[i + j + 2..];
            }
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Words found in the template: (what, where).
fn words_in(src: &str) -> Vec<String> {
    let src = without_template_syntax(src);
    let mut found = Vec::new();
    let mut rest = src.as_str();
    // Elements whose content is code, not words.
    let mut skip_until: Option<String> = None;
    while !rest.is_empty() {
        let (text, after) = match rest.find('<') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if skip_until.is_none() && has_words(text) {
            found.push(format!("text {:?}", text.trim()));
        }
        if after.is_empty() {
            break;
        }
        let end = after.find('>').map_or(after.len(), |j| j + 1);
        let tag = &after[..end];
        rest = &after[end..];
        let name: String = tag
            .trim_start_matches('<')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(close) = &skip_until {
            if name == *close {
                skip_until = None;
            }
            continue;
        }
        if ["script", "style", "code", "kbd", "pre", "samp"].contains(&name.as_str()) {
            skip_until = Some(format!("/{name}"));
        }
        for attr in [
            "placeholder=\"",
            "title=\"",
            "aria-label=\"",
            "alt=\"",
            "data-confirm=\"",
            "data-copied=\"",
        ] {
            let mut t = tag;
            while let Some(k) = t.find(attr) {
                let v = &t[k + attr.len()..];
                let value = &v[..v.find('"').unwrap_or(v.len())];
                if has_words(value) {
                    found.push(format!("{attr}{value}\""));
                }
                t = &v[value.len()..];
            }
        }
    }
    found
}

#[test]
fn the_scanner_finds_words_and_passes_what_is_not_words() {
    let found = words_in(
        "<h1>Leads</h1><p title=\"Hint\">{{ t::X }}</p><input placeholder=\"{{ t::Y }}\">\
         <code>voronka import</code><script>let a = 1;</script>&nbsp;·&mdash;{# note #}\
         {% if x %}<span aria-label=\"Close\">×</span>{% endif %}<form data-confirm=\"Sure?\">",
    );
    assert_eq!(
        found,
        vec![
            "text \"Leads\"".to_string(),
            "title=\"Hint\"".to_string(),
            "aria-label=\"Close\"".to_string(),
            "data-confirm=\"Sure?\"".to_string()
        ]
    );
}

#[test]
fn templates_hold_no_words_of_their_own() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut bad = Vec::new();
    let mut pages = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "html") {
            pages += 1;
            let src = std::fs::read_to_string(&path).unwrap();
            for w in words_in(&src) {
                bad.push(format!(
                    "{}: {w}",
                    path.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    assert!(
        pages >= 30,
        "only {pages} templates found in {}",
        dir.display()
    );
    assert!(
        bad.is_empty(),
        "words to move to web/t.rs:\n{}",
        bad.join("\n")
    );
}

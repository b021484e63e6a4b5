//! The command line's user-facing text lives in `src/words.rs`: no other source file may print,
//! fail or add error context with an English string literal. Format strings made only of
//! placeholders and punctuation (`"{}"`, `"{secret}"`, `"{}\t{}"`) are allowed.

use std::path::Path;

/// Calls whose arguments are user-facing text.
const CALLS: &[&str] = &[
    "println!",
    "eprintln!",
    "print!",
    "eprint!",
    "writeln!",
    "write!",
    "bail!",
    "anyhow!",
    "ensure!",
    "context",
    "with_context",
    "set_message",
    "with_message",
];

/// A string literal: where it starts in the source, and its text as written.
struct Literal {
    start: usize,
    text: String,
}

/// The source with comments and the insides of string and character literals blanked out
/// (so that neither a word in a comment nor a parenthesis in a string is taken for code),
/// and the string literals found.
fn lex(src: &str) -> (Vec<u8>, Vec<Literal>) {
    let b = src.as_bytes();
    let mut code = b.to_vec();
    let mut lits = Vec::new();
    let mut i = 0;
    let blank = |code: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut code[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    while i < b.len() {
        let ident_before = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        if b[i..].starts_with(b"//") {
            let end = src[i..].find('\n').map_or(b.len(), |n| i + n);
            blank(&mut code, i, end);
            i = end;
        } else if b[i..].starts_with(b"/*") {
            let end = src[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
            blank(&mut code, i, end);
            i = end;
        } else if !ident_before && (b[i] == b'r' || b[i..].starts_with(b"br")) && {
            let p = i + if b[i] == b'b' { 2 } else { 1 };
            let hashes = b[p..].iter().take_while(|&&c| c == b'#').count();
            b.get(p + hashes) == Some(&b'"')
        } {
            let p = i + if b[i] == b'b' { 2 } else { 1 };
            let hashes = b[p..].iter().take_while(|&&c| c == b'#').count();
            let body = p + hashes + 1;
            let close = format!("\"{}", "#".repeat(hashes));
            let end = src[body..].find(&close).map_or(b.len(), |n| body + n);
            lits.push(Literal {
                start: i,
                text: src[body..end].to_string(),
            });
            blank(&mut code, body, end);
            i = (end + close.len()).min(b.len());
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            let end = j.min(b.len());
            lits.push(Literal {
                start: i,
                text: src[i + 1..end].to_string(),
            });
            blank(&mut code, i + 1, end);
            i = end + 1;
        } else if b[i] == b'\'' {
            // A character literal ('x', '\n', '\'', '≥'), or else a lifetime.
            let close = if b.get(i + 1) == Some(&b'\\') {
                src[i + 3..].find('\'').map(|n| i + 3 + n)
            } else {
                let ch = src[i + 1..].chars().next().map_or(1, char::len_utf8);
                (b.get(i + 1 + ch) == Some(&b'\'')).then_some(i + 1 + ch)
            };
            match close {
                Some(end) => {
                    blank(&mut code, i + 1, end);
                    i = end + 1;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    (code, lits)
}

/// Whether a literal, as written, holds words: anything alphabetic once placeholders
/// (`{}`, `{name:?}`, `{:>7.1}`), brace escapes and backslash escapes are taken out.
fn has_words(text: &str) -> bool {
    let mut rest = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                // \n \t \" \\ \u{…}, and a line continuation.
                if chars.next() == Some('u') && chars.peek() == Some(&'{') {
                    for c in chars.by_ref() {
                        if c == '}' {
                            break;
                        }
                    }
                }
            }
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
            }
            '{' => {
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                }
            }
            c => rest.push(c),
        }
    }
    rest.chars().any(char::is_alphabetic)
}

/// `line: text` of every English literal given to one of `CALLS` in `src`.
fn english_messages(src: &str) -> Vec<String> {
    let (code, lits) = lex(src);
    let text = String::from_utf8_lossy(&code).into_owned();
    let mut found = Vec::new();
    for call in CALLS {
        let mut from = 0;
        while let Some(n) = text[from..].find(call) {
            let at = from + n;
            from = at + call.len();
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue; // a longer name: `eprintln!` when looking for `println!`
            }
            let after = text[from..].trim_start();
            if !after.starts_with('(') {
                continue;
            }
            let open = text.len() - after.len();
            let mut depth = 0;
            let mut close = text.len();
            for (k, c) in text[open..].char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            close = open + k;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            for l in lits
                .iter()
                .filter(|l| l.start > open && l.start < close && has_words(&l.text))
            {
                let line = src[..l.start].matches('\n').count() + 1;
                found.push(format!("{line}: {call}(… \"{}\" …)", l.text));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn user_facing_text_is_in_words_rs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("src is readable")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .filter(|p| p.file_name().is_some_and(|n| n != "words.rs"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    let mut bad = Vec::new();
    for path in &files {
        let src = std::fs::read_to_string(path).expect("a source file is readable");
        for m in english_messages(&src) {
            bad.push(format!("{}:{m}", path.display()));
        }
    }
    assert!(
        bad.is_empty(),
        "user-facing text belongs in src/words.rs:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_scanner_flags_english_and_passes_placeholders() {
    let english = r#"
fn f(url: &str, n: u64) -> anyhow::Result<()> {
    println!("database is up to date: {url}");
    eprintln!("exported {n} leads");
    let _ = std::fs::read("x").with_context(|| format!("cannot open {}", url))?;
    let _ = std::fs::read("x").context("reading the password")?;
    print!(
        "{}",
        "multi-line call"
    );
    anyhow::bail!(r"raw text");
}
"#;
    let found = english_messages(english);
    assert_eq!(found.len(), 6, "{found:#?}");
    for (line, word) in [
        (3, "database is up to date"),
        (4, "exported"),
        (5, "cannot open"),
        (6, "reading the password"),
        (9, "multi-line call"),
        (11, "raw text"),
    ] {
        assert!(
            found
                .iter()
                .any(|f| f.starts_with(&format!("{line}: ")) && f.contains(word)),
            "line {line} ({word}) not flagged: {found:#?}"
        );
    }

    let placeholders = r#"
fn f(secret: &str) -> anyhow::Result<()> {
    // println!("a comment is not code");
    println!("{secret}");
    println!("{}", words::database_up_to_date(url));
    println!("{}\t{}\t{:>+7.3}  {name:?}", a, b, c);
    let _ = std::fs::read("x").with_context(|| words::cannot_open(url))?;
    eprintln!("{{}} ({}) → [{}{}] #{}", a, b, c, d);
    let c = ')';
    println!("{}", c);
    let e = eprintln_words("not a call of eprintln!");
    Ok(())
}
"#;
    assert_eq!(
        english_messages(placeholders),
        Vec::<String>::new(),
        "placeholders and punctuation are allowed"
    );
}

//! Keys for comparing people's names across spellings, word orders and scripts.
//!
//! - [`normalize_name`]: NFKC, case folded, punctuation dropped, whitespace collapsed.
//! - [`name_key`]: the normalized words in sorted order ("Иванов Иван" = "Иван Иванов").
//! - [`translit_key`]: Cyrillic (Russian, Ukrainian, Belarusian) transliterated, Latin
//!   diacritics folded to ASCII, and common spelling variants folded together, words sorted:
//!   "Юлия" = "Yulia" = "Julia", "Щербаков" = "Shcherbakov" = "Scherbakov", "Ірина" = "Iryna".
//!
//! The keys are for matching only; they are never shown. Every function is idempotent.

use std::cell::RefCell;
use std::collections::HashMap;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Keys already made on this thread, per kind of key. Matching compares one submission with
/// many known contacts, and the same names and companies recur from batch to batch, so each
/// key is worked out (NFKC, case folding, transliteration) once rather than per comparison.
/// The keys are pure functions of their input; the memo only saves the work.
pub(crate) fn memo(kind: usize, s: &str, make: impl FnOnce(&str) -> String) -> String {
    const KINDS: usize = 3;
    const MOST: usize = 20_000;
    thread_local! {
        static KEYS: RefCell<[HashMap<String, String>; KINDS]> = RefCell::new(Default::default());
    }
    if kind >= KINDS || s.len() > 200 {
        return make(s);
    }
    if let Some(k) = KEYS.with(|m| m.borrow()[kind].get(s).cloned()) {
        return k;
    }
    let k = make(s);
    KEYS.with(|m| {
        let map = &mut m.borrow_mut()[kind];
        if map.len() >= MOST {
            map.clear();
        }
        map.insert(s.to_string(), k.clone());
    });
    k
}

/// NFKC, lower case, apostrophes dropped, other punctuation and whitespace as single spaces.
pub fn normalize_name(s: &str) -> String {
    // Dropping a character can let its neighbours compose, and lower-casing can produce
    // text that NFKC changes again, so repeat until nothing changes.
    let mut cur = normalize_once(s);
    for _ in 0..4 {
        let next = normalize_once(&cur);
        if next == cur {
            break;
        }
        cur = next;
    }
    cur
}

fn normalize_once(s: &str) -> String {
    let lower: String = s.nfkc().flat_map(char::to_lowercase).collect();
    let mut out = String::with_capacity(lower.len());
    let mut space = false;
    for c in lower.nfkc() {
        if is_apostrophe(c) {
            continue;
        }
        if c.is_alphanumeric() || is_combining_mark(c) {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        } else {
            space = true;
        }
    }
    out
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | 'ʼ' | '`' | '´' | 'ʻ' | '‘')
}

/// The normalized words of a name in sorted order, joined by single spaces.
pub fn name_key(s: &str) -> String {
    memo(0, s, name_key_of)
}

fn name_key_of(s: &str) -> String {
    let n = normalize_name(s);
    let mut words: Vec<&str> = n.split(' ').filter(|w| !w.is_empty()).collect();
    words.sort_unstable();
    words.join(" ")
}

/// A spelling- and script-insensitive key: each word transliterated to ASCII and folded
/// (see the module documentation), words sorted.
pub fn translit_key(s: &str) -> String {
    memo(1, s, translit_key_of)
}

fn translit_key_of(s: &str) -> String {
    let n = normalize_name(s);
    let mut words: Vec<String> = n
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(translit_word)
        .filter(|w| !w.is_empty())
        .collect();
    words.sort_unstable();
    words.join(" ")
}

/// One word of [`translit_key`]: transliterated and folded until stable.
pub fn translit_word(w: &str) -> String {
    let mut cur = fold(&to_latin(w));
    for _ in 0..4 {
        let next = fold(&to_latin(&cur));
        if next == cur {
            break;
        }
        cur = next;
    }
    cur
}

fn to_latin(w: &str) -> String {
    let mut out = String::with_capacity(w.len() + 4);
    for c in w.chars() {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            }
            continue;
        }
        if let Some(t) = cyrillic(c) {
            out.push_str(t);
            continue;
        }
        if let Some(t) = latin_special(c) {
            out.push_str(t);
            continue;
        }
        // Letters with diacritics: decompose and keep the base letters.
        for d in c.to_string().nfkd() {
            if is_combining_mark(d) {
                continue;
            }
            if d.is_ascii() {
                if d.is_ascii_alphanumeric() {
                    out.push(d.to_ascii_lowercase());
                }
            } else if let Some(t) = latin_special(d) {
                out.push_str(t);
            } else if d.is_alphanumeric() {
                // Other scripts are kept as they are (lower case).
                out.extend(d.to_lowercase());
            }
        }
    }
    out
}

/// Russian, Ukrainian and Belarusian letters in a common Latin spelling; the fold below
/// takes care of the differences between transliteration systems.
fn cyrillic(c: char) -> Option<&'static str> {
    let lower = c.to_lowercase().next().unwrap_or(c);
    Some(match lower {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'ґ' => "g",
        'д' => "d",
        'е' => "e",
        'ё' => "e",
        'є' => "ye",
        'ж' => "zh",
        'з' => "z",
        'и' => "i",
        'і' => "i",
        'ї' => "yi",
        'й' => "y",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' => "u",
        'ў' => "u",
        'ф' => "f",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' => "",
        'ы' => "y",
        'ь' => "",
        'э' => "e",
        'ю' => "yu",
        'я' => "ya",
        _ => return None,
    })
}

/// Latin letters that do not decompose into a base letter and a mark.
fn latin_special(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' | 'ẞ' => "ss",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'ø' | 'Ø' => "o",
        'ł' | 'Ł' => "l",
        'đ' | 'Đ' | 'ð' | 'Ð' => "d",
        'þ' | 'Þ' => "th",
        'ı' => "i",
        'ĳ' | 'Ĳ' => "ij",
        _ => return None,
    })
}

/// Folds spelling variants of an ASCII word (non-ASCII letters pass through):
/// shch/sch → sh, tch → ch, ph → f, th → t, kh → h, w → v, x → ks, q → k, j → y, c → k or s,
/// a lone h → g (Ukrainian г, Russian х), y → i, initial ie → e, final of(f) → ov, and
/// double letters collapsed.
fn fold(w: &str) -> String {
    let mut s = w
        .replace("tsch", "ch")
        .replace("shch", "sh")
        .replace("sch", "sh")
        .replace("tch", "ch")
        .replace("ph", "f")
        .replace("th", "t")
        .replace("kh", "h")
        .replace('w', "v")
        .replace('x', "ks")
        .replace('q', "k")
        .replace('j', "y");
    // c: keep "ch", "ck" → k, soft c → s, hard c → k.
    let b: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(b.len());
    for (i, &c) in b.iter().enumerate() {
        let next = b.get(i + 1).copied();
        let prev = if i > 0 { Some(b[i - 1]) } else { None };
        match c {
            'c' => match next {
                Some('h') => out.push('c'),
                Some('k') => {}
                Some('e' | 'i' | 'y') => out.push('s'),
                _ => out.push('k'),
            },
            'h' => {
                if matches!(prev, Some('c' | 's' | 'z')) {
                    out.push('h');
                } else {
                    out.push('g');
                }
            }
            'y' => out.push('i'),
            _ => out.push(c),
        }
    }
    s = out;
    if let Some(rest) = s.strip_prefix("ie") {
        s = format!("e{rest}");
    }
    // Collapse doubled letters; digits stay as they are ("Company 1881" is not "Company 181").
    let mut collapsed = String::with_capacity(s.len());
    let mut last = None;
    for c in s.chars() {
        if Some(c) != last || c.is_ascii_digit() {
            collapsed.push(c);
        }
        last = Some(c);
    }
    if collapsed.len() > 3 && collapsed.ends_with("of") {
        collapsed.truncate(collapsed.len() - 2);
        collapsed.push_str("ov");
    }
    collapsed
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Keys from the memo are the keys worked out afresh, the first time and every time after.
    #[test]
    fn memoized_keys_are_the_keys() {
        let names = [
            "Иван Петров",
            "Petrov Ivan",
            "Юлия Щербакова",
            "O'Brien",
            "Léa Dubois",
            "",
        ];
        for _ in 0..3 {
            for n in names {
                assert_eq!(name_key(n), name_key_of(n), "{n}");
                assert_eq!(translit_key(n), translit_key_of(n), "{n}");
            }
        }
        let long = "Анна ".repeat(100);
        assert_eq!(translit_key(&long), translit_key_of(&long));
    }

    proptest! {
        #[test]
        fn memo_never_changes_a_key(s in "\\PC{0,24}") {
            prop_assert_eq!(translit_key(&s), translit_key_of(&s));
            prop_assert_eq!(translit_key(&s), translit_key_of(&s));
            prop_assert_eq!(name_key(&s), name_key_of(&s));
        }
    }

    #[test]
    fn normalization() {
        assert_eq!(normalize_name("  ИВАН   Петров "), "иван петров");
        assert_eq!(normalize_name("O'Brien, Mary-Jane"), "obrien mary jane");
        assert_eq!(normalize_name("Ｉｖａｎ"), "ivan");
        assert_eq!(normalize_name("Léa\tDUBOIS"), "léa dubois");
        assert_eq!(normalize_name("…"), "");
        assert_eq!(name_key("Иванов Иван"), name_key("Иван  Иванов"));
        assert_eq!(name_key("de Vries, Jan"), "de jan vries");
        assert_ne!(name_key("Иван Иванов"), name_key("Иван Петров"));
    }

    const SAME: &[(&str, &str)] = &[
        ("Иван Петров", "Ivan Petrov"),
        ("Петров Иван", "Ivan Petrov"),
        ("Ірина", "Iryna"),
        ("Ирина", "Irina"),
        ("Юлия", "Yulia"),
        ("Юлия", "Julia"),
        ("Юлия", "Yuliya"),
        ("Юлия", "Iuliia"),
        ("Алексей", "Aleksey"),
        ("Алексей", "Alexey"),
        ("Алексей", "Alexei"),
        ("Щербаков", "Shcherbakov"),
        ("Щербаков", "Scherbakov"),
        ("Щербаков", "Sherbakov"),
        ("Дмитрий", "Dmitry"),
        ("Дмитрий", "Dmitriy"),
        ("Дмитрий", "Dmitrii"),
        ("Евгений", "Yevgeny"),
        ("Евгений", "Evgeniy"),
        ("Сергей", "Sergei"),
        ("Сергей", "Sergey"),
        ("Наталья", "Natalya"),
        ("Наталья", "Natalia"),
        ("Мария", "Maria"),
        ("Мария", "Mariya"),
        ("Михаил", "Mikhail"),
        ("Михаил", "Mihail"),
        ("Хмельницкий", "Khmelnytskyi"),
        ("Ольга", "Olha"),
        ("Ганна", "Hanna"),
        ("Григорій", "Hryhorii"),
        ("Ильин", "Ilyin"),
        ("Николай", "Nikolai"),
        ("Николай", "Nikolay"),
        ("Иванов", "Ivanoff"),
        ("Иванов", "Iwanow"),
        ("Жуков", "Zhukov"),
        ("Чайковский", "Tchaikovsky"),
        ("Чайковский", "Tschaikowski"),
        ("Юрий", "Yuri"),
        ("Юрий", "Yuriy"),
        ("Андрієнко", "Andriyenko"),
        ("Алёна", "Alena"),
        ("Łukasz", "Lukasz"),
        ("Léa Dubois", "Lea Dubois"),
        ("François Müller", "Francois Muller"),
        ("Gérard Depardieu", "Depardieu Gerard"),
        ("Ĳsbrand", "IJsbrand"),
        ("Daniëlle de Vries", "Danielle de Vries"),
        ("Jörg Strauß", "Jorg Strauss"),
        ("Patrick", "Patrik"),
        ("Nicolas", "Nikolas"),
        ("Philipp", "Filip"),
        ("Thomas", "Tomas"),
        ("Anna", "Ana"),
        ("Ксения", "Kseniya"),
        ("Ксения", "Xenia"),
    ];

    const DIFFERENT: &[(&str, &str)] = &[
        ("Иван Петров", "Иван Иванов"),
        ("Петров", "Петрова"),
        ("Ivan", "Ivana"),
        ("Ирина", "Марина"),
        ("Юлия", "Юрий"),
        ("Anna", "Hanna Smith"),
        ("Алексей", "Александр"),
        ("Pieter", "Peter Jansen"),
        ("Ольга", "Олег"),
        ("Claire Martin", "Claire Martens"),
        ("Sergey", "Sergeeva"),
        ("Jan", "Jana"),
    ];

    #[test]
    fn transliteration_matches_spellings() {
        for (a, b) in SAME {
            assert_eq!(translit_key(a), translit_key(b), "{a} vs {b}");
        }
    }

    #[test]
    fn transliteration_keeps_different_names_apart() {
        for (a, b) in DIFFERENT {
            assert_ne!(translit_key(a), translit_key(b), "{a} vs {b}");
        }
    }

    #[test]
    fn keys_are_ascii_for_latin_and_cyrillic() {
        for (a, b) in SAME.iter().chain(DIFFERENT) {
            assert!(translit_key(a).is_ascii(), "{a}");
            assert!(translit_key(b).is_ascii(), "{b}");
        }
        assert_eq!(translit_key("Щербаков Юрий"), "iuri sherbakov");
        assert_eq!(translit_key(""), "");
        assert_eq!(translit_key("ъ ь"), "");
    }

    #[test]
    fn other_scripts_are_kept() {
        assert_eq!(translit_key("山田 太郎"), name_key("山田 太郎"));
        assert!(!translit_key("Σωκράτης").is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn idempotent_on_any_text(s in any::<String>()) {
            let n = normalize_name(&s);
            prop_assert_eq!(normalize_name(&n), n.clone());
            let k = name_key(&s);
            prop_assert_eq!(name_key(&k), k.clone());
            let t = translit_key(&s);
            prop_assert_eq!(translit_key(&t), t.clone());
            prop_assert!(!n.starts_with(' ') && !n.ends_with(' ') && !n.contains("  "));
        }

        #[test]
        fn idempotent_on_names(s in "[ a-zA-Zа-яА-ЯёЁіїєґІЇЄҐўЎéèëüöäßçñøłÉÖ'’.-]{0,40}") {
            let t = translit_key(&s);
            prop_assert_eq!(translit_key(&t), t.clone());
            prop_assert!(t.is_ascii());
            let k = name_key(&s);
            prop_assert_eq!(name_key(&k), k.clone());
        }

        #[test]
        fn word_order_does_not_matter(a in "[a-zA-Zа-яА-Я]{1,12}", b in "[a-zA-Zа-яА-Я]{1,12}") {
            let ab = format!("{a} {b}");
            let ba = format!("{b} {a}");
            prop_assert_eq!(name_key(&ab), name_key(&ba));
            prop_assert_eq!(translit_key(&ab), translit_key(&ba));
        }

        #[test]
        fn case_does_not_matter(s in "[a-zA-Zа-яА-Я ]{0,30}") {
            prop_assert_eq!(translit_key(&s.to_uppercase()), translit_key(&s.to_lowercase()));
            prop_assert_eq!(name_key(&s.to_uppercase()), name_key(&s.to_lowercase()));
        }
    }
}

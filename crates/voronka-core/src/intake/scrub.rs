//! Pseudo-lead rules: bots, tests, pranks, fake contacts. The rules and their lists are data
//! (`ScrubRules`, editable in the UI and the API, importable as TOML); every rule that fires
//! gives a reason code, and its configured action decides what happens to the submission.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

/// `mailchecker`'s list of throwaway mail services, indexed once: the crate's own check scans the
/// whole list (tens of thousands of names) for every suffix of every address.
static DISPOSABLE: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| mailchecker::blacklist().into_iter().collect());

/// Whether the maintained list names this (lowercased) domain or a domain it belongs to; a domain
/// that cannot be part of an address counts as throwaway, as the crate's own check has it.
fn maintained_disposable(domain: &str) -> bool {
    if !domain.contains('.') || !email_address::EmailAddress::is_valid(&format!("someone@{domain}"))
    {
        return true;
    }
    let mut rest = domain;
    loop {
        if DISPOSABLE.contains(rest) {
            return true;
        }
        match rest.split_once('.') {
            Some((_, parent)) if parent.contains('.') => rest = parent,
            _ => return false,
        }
    }
}

/// What a rule that fires does to the submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The rule is switched off.
    Off,
    /// The reason is shown on the lead; nothing else changes.
    Flag,
    /// The lead is stored in stage junk with the reason, out of the salespeople's way.
    Junk,
    /// Counted and kept with its raw payload, but no lead is created.
    Reject,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Off => "off",
            Action::Flag => "flag",
            Action::Junk => "junk",
            Action::Reject => "reject",
        }
    }
}

/// One configurable rule: its code, the action it takes unless configured otherwise, and what
/// it checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    pub code: &'static str,
    pub default_action: Action,
    pub description: &'static str,
}

/// Every configurable rule. Codes not listed here (missing name, no contact, invalid phone or
/// email) are facts about the contact rather than rules: they decide between lead and interest.
pub const CATALOG: &[RuleInfo] = &[
    RuleInfo {
        code: "honeypot",
        default_action: Action::Reject,
        description: "a hidden field meant for bots was filled",
    },
    RuleInfo {
        code: "too_fast",
        default_action: Action::Reject,
        description: "the form was filled faster than a person can",
    },
    RuleInfo {
        code: "burst_ip",
        default_action: Action::Reject,
        description: "too many submissions from one IP address in the burst window",
    },
    RuleInfo {
        code: "burst_visitor",
        default_action: Action::Reject,
        description: "too many submissions from one visitor id in the burst window",
    },
    RuleInfo {
        code: "identical_payload",
        default_action: Action::Reject,
        description: "the same payload arrived from several clients in the burst window",
    },
    RuleInfo {
        code: "name_link",
        default_action: Action::Junk,
        description: "a link or an address in the name field",
    },
    RuleInfo {
        code: "name_gibberish",
        default_action: Action::Junk,
        description: "the name is a random string of letters or mixes letters and digits",
    },
    RuleInfo {
        code: "name_keyboard_walk",
        default_action: Action::Junk,
        description: "the name is a run of neighbouring keys (qwerty, asdf, йцукен, фыва)",
    },
    RuleInfo {
        code: "name_test",
        default_action: Action::Junk,
        description: "the name is a test word from the test names list",
    },
    RuleInfo {
        code: "name_joke",
        default_action: Action::Junk,
        description: "the name is a joke name from the joke names list",
    },
    RuleInfo {
        code: "email_disposable",
        default_action: Action::Junk,
        description: "the email is at a disposable (throwaway) mail service",
    },
    RuleInfo {
        code: "email_test",
        default_action: Action::Junk,
        description: "a test address (test@…, a reserved or test domain)",
    },
    RuleInfo {
        code: "email_competitor",
        default_action: Action::Junk,
        description: "the email is at a competitor's domain",
    },
    RuleInfo {
        code: "email_typo",
        default_action: Action::Flag,
        description: "the email domain looks like a typo of a popular one",
    },
    RuleInfo {
        code: "email_role",
        default_action: Action::Flag,
        description: "a shared mailbox (info@, admin@) rather than a person",
    },
    RuleInfo {
        code: "phone_pattern",
        default_action: Action::Flag,
        description: "an impossible phone (one digit repeated, 123456…, a zero area code)",
    },
    RuleInfo {
        code: "phone_too_short",
        default_action: Action::Flag,
        description: "the phone has too few digits to be a number",
    },
    RuleInfo {
        code: "stop_phrase",
        default_action: Action::Junk,
        description: "the message contains a phrase from the stop phrases list",
    },
];

pub fn rule_info(code: &str) -> Option<&'static RuleInfo> {
    CATALOG.iter().find(|r| r.code == code)
}

/// The pseudo-lead rules as data. Missing keys take their defaults, so a file that sets only
/// one list is complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScrubRules {
    /// Rule code → action; a code not listed takes its default action.
    pub actions: BTreeMap<String, Action>,
    /// Window of the burst and identical-payload rules, in seconds.
    pub burst_window_secs: u32,
    /// More submissions than this from one IP within the window fire `burst_ip`.
    pub burst_max_per_ip: u32,
    /// More submissions than this from one visitor id within the window fire `burst_visitor`.
    pub burst_max_per_visitor: u32,
    /// The same payload from more clients than this within the window fires `identical_payload`.
    pub identical_max_clients: u32,
    /// Addresses never counted for bursts (a trusted proxy, an integration, the machine itself):
    /// single IP addresses, v4 or v6.
    pub burst_exempt_ips: Vec<String>,
    /// Names (compared without case and word order) that are test entries.
    pub test_names: Vec<String>,
    /// Joke names; a one-word entry matches any name containing that word.
    pub joke_names: Vec<String>,
    /// Local parts (before `@`) of test addresses.
    pub test_email_locals: Vec<String>,
    /// Domains of test addresses (and their subdomains).
    pub test_email_domains: Vec<String>,
    /// Extra disposable mail domains on top of the maintained list.
    pub disposable_domains: Vec<String>,
    /// Domains never treated as disposable, whatever the maintained list says.
    pub allowed_domains: Vec<String>,
    /// Competitors' domains (and their subdomains).
    pub competitor_domains: Vec<String>,
    /// Phrases in a message that mark a test or a prank (case-insensitive).
    pub stop_phrases: Vec<String>,
    /// Phones with fewer digits than this fire `phone_too_short`.
    pub min_phone_digits: u32,
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

impl Default for ScrubRules {
    fn default() -> Self {
        ScrubRules {
            actions: BTreeMap::new(),
            burst_window_secs: 600,
            burst_max_per_ip: 20,
            burst_max_per_visitor: 5,
            identical_max_clients: 3,
            burst_exempt_ips: strings(&["127.0.0.1", "::1"]),
            test_names: strings(&[
                "test",
                "test test",
                "testing",
                "tester",
                "тест",
                "тест тест",
                "тестовый",
                "тестовая заявка",
                "проверка",
                "asdf",
                "qwerty",
                "йцукен",
                "фыва",
                "name",
                "your name",
                "first last",
                "имя",
                "имя фамилия",
                "ваше имя",
                "no name",
                "noname",
                "anonymous",
                "аноним",
                "xxx",
                "ххх",
                "aaa",
                "ааа",
            ]),
            joke_names: strings(&[
                "пупкин",
                "залупкин",
                "john doe",
                "jane doe",
                "mickey mouse",
                "donald duck",
                "homer simpson",
                "darth vader",
                "chuck norris",
                "harry potter",
                "batman",
                "бэтмен",
                "спанч боб",
                "spongebob",
                "вася пупкин",
            ]),
            test_email_locals: strings(&[
                "test", "tests", "testing", "тест", "asdf", "qwerty", "123", "1234", "12345",
                "aaa", "xxx", "noemail", "nomail", "none", "no-reply", "noreply",
            ]),
            test_email_domains: strings(&[
                "example.com",
                "example.org",
                "example.net",
                "test.com",
                "test.ru",
                "test.net",
                "test.org",
                "mail.test",
                "domain.com",
                "email.com",
            ]),
            disposable_domains: Vec::new(),
            allowed_domains: Vec::new(),
            competitor_domains: Vec::new(),
            stop_phrases: strings(&[
                "это тест",
                "тестовая заявка",
                "проверка формы",
                "this is a test",
                "test submission",
                "test lead",
            ]),
            min_phone_digits: 7,
        }
    }
}

/// An error in a rules document.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RulesError {
    #[error("unknown rule code {0:?}")]
    UnknownCode(String),
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
    /// An entry of `burst_exempt_ips` that is not an IP address (v4 or v6).
    #[error("{0:?} in burst_exempt_ips is not an IP address")]
    ExemptIp(String),
}

impl ScrubRules {
    /// The action of a rule: configured, or its default.
    pub fn action(&self, code: &str) -> Action {
        self.actions
            .get(code)
            .copied()
            .or_else(|| rule_info(code).map(|r| r.default_action))
            .unwrap_or(Action::Flag)
    }

    /// Whether submissions from `ip` are never counted for bursts: it is one of
    /// `burst_exempt_ips`, compared as addresses (`::ffff:127.0.0.1` is `127.0.0.1`).
    pub fn is_burst_exempt(&self, ip: &str) -> bool {
        let ip = ip.trim();
        let addr = ip
            .parse::<std::net::IpAddr>()
            .ok()
            .map(|a| a.to_canonical());
        self.burst_exempt_ips.iter().any(|e| {
            let e = e.trim();
            e == ip
                || addr.is_some_and(|a| {
                    e.parse::<std::net::IpAddr>()
                        .is_ok_and(|x| x.to_canonical() == a)
                })
        })
    }

    pub fn check(&self) -> Result<(), RulesError> {
        for code in self.actions.keys() {
            if rule_info(code).is_none() {
                return Err(RulesError::UnknownCode(code.clone()));
            }
        }
        if self.burst_window_secs == 0 {
            return Err(RulesError::Zero("burst_window_secs"));
        }
        if let Some(bad) = self
            .burst_exempt_ips
            .iter()
            .find(|e| e.trim().parse::<std::net::IpAddr>().is_err())
        {
            return Err(RulesError::ExemptIp(bad.clone()));
        }
        Ok(())
    }
}

/// The rules ready for matching: their lists folded once (case, word order, `ё`, stray `@`), so
/// that checking a submission compares against sets instead of folding every entry again.
/// Built when the rules are loaded or changed; the rules themselves stay as they were written.
#[derive(Debug, Clone)]
pub struct Scrub {
    rules: ScrubRules,
    test_names: HashSet<String>,
    joke_words: HashSet<String>,
    joke_names: HashSet<String>,
    test_email_locals: HashSet<String>,
    test_email_domains: Vec<String>,
    disposable_domains: Vec<String>,
    allowed_domains: Vec<String>,
    competitor_domains: Vec<String>,
    stop_phrases: Vec<(String, String)>,
}

fn domains(list: &[String]) -> Vec<String> {
    list.iter()
        .map(|d| d.trim().trim_start_matches('@').to_lowercase())
        .filter(|d| !d.is_empty())
        .collect()
}

/// Whether `domain` is one of the listed domains or belongs to one.
fn domain_listed(list: &[String], domain: &str) -> bool {
    list.iter().any(|d| {
        domain == d
            || domain
                .strip_suffix(d.as_str())
                .is_some_and(|head| head.ends_with('.'))
    })
}

impl Scrub {
    pub fn new(rules: ScrubRules) -> Scrub {
        let mut joke_words = HashSet::new();
        let mut joke_names = HashSet::new();
        for j in &rules.joke_names {
            match words_of(j).as_slice() {
                [] => {}
                [one] => {
                    joke_words.insert(one.clone());
                }
                _ => {
                    joke_names.insert(word_key(j));
                }
            }
        }
        Scrub {
            test_names: rules
                .test_names
                .iter()
                .map(|t| word_key(t))
                .filter(|k| !k.is_empty())
                .collect(),
            joke_words,
            joke_names,
            test_email_locals: rules
                .test_email_locals
                .iter()
                .map(|l| l.trim().to_lowercase())
                .collect(),
            test_email_domains: domains(&rules.test_email_domains),
            disposable_domains: domains(&rules.disposable_domains),
            allowed_domains: domains(&rules.allowed_domains),
            competitor_domains: domains(&rules.competitor_domains),
            stop_phrases: rules
                .stop_phrases
                .iter()
                .map(|p| p.trim())
                .filter(|p| !p.is_empty())
                .map(|p| (p.to_string(), p.to_lowercase()))
                .collect(),
            rules,
        }
    }

    /// The rules as written.
    pub fn rules(&self) -> &ScrubRules {
        &self.rules
    }

    /// Whether mail at this (ASCII, lowercased) domain is throwaway.
    pub fn is_disposable(&self, domain: &str) -> bool {
        if domain_listed(&self.allowed_domains, domain) {
            return false;
        }
        domain_listed(&self.disposable_domains, domain) || maintained_disposable(domain)
    }

    pub fn is_test_email(&self, local: &str, domain: &str) -> bool {
        self.test_email_locals.contains(&local.to_lowercase())
            || domain_listed(&self.test_email_domains, domain)
    }

    pub fn is_competitor(&self, domain: &str) -> bool {
        domain_listed(&self.competitor_domains, domain)
    }

    pub fn is_test_name(&self, name: &str) -> bool {
        let key = word_key(name);
        !key.is_empty() && self.test_names.contains(&key)
    }

    pub fn is_joke_name(&self, name: &str) -> bool {
        let words = words_of(name);
        if words.iter().any(|w| self.joke_words.contains(w)) {
            return true;
        }
        if self.joke_names.is_empty() {
            return false;
        }
        self.joke_names.contains(&sorted_key(words))
    }

    /// The first stop phrase (as written) the message contains, case aside.
    pub fn stop_phrase(&self, message: &str) -> Option<&str> {
        let m = message.to_lowercase();
        self.stop_phrases
            .iter()
            .find(|(_, lower)| m.contains(lower.as_str()))
            .map(|(p, _)| p.as_str())
    }
}

fn words_of(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().replace('ё', "е"))
        .collect()
}

/// Lowercased words in sorted order: "Тест Тест" and "тест  тест" give one key.
fn word_key(s: &str) -> String {
    sorted_key(words_of(s))
}

fn sorted_key(mut words: Vec<String>) -> String {
    words.sort();
    words.join(" ")
}

/// What the application knows about recent traffic when a submission arrives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScrubContext {
    /// Submissions from this IP within the burst window, this one included.
    pub from_ip: u32,
    /// Submissions from this visitor id within the burst window, this one included.
    pub from_visitor: u32,
    /// Distinct clients that sent this same payload within the burst window, this one included.
    pub identical_clients: u32,
}

/// A link, an address or a domain-like word in a name.
pub fn name_has_link(name: &str) -> bool {
    let l = name.to_lowercase();
    if l.contains("://") || l.contains("www.") || l.contains('@') {
        return true;
    }
    // "site.com", "shop.ru": a dot between letters followed by a short alphabetic tail.
    l.split_whitespace().any(|w| {
        w.rsplit_once('.').is_some_and(|(head, tld)| {
            head.chars().last().is_some_and(char::is_alphanumeric)
                && (2..=10).contains(&tld.chars().count())
                && tld.chars().all(|c| c.is_alphabetic())
                && head.chars().filter(|c| c.is_alphabetic()).count() >= 2
        })
    })
}

const KEYBOARD_ROWS: &[&str] = &[
    "1234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "йцукенгшщзхъ",
    "фывапролджэ",
    "ячсмитьбю",
    "qazwsx",
    "йфяцычувс",
];

/// Every run of four neighbouring keys on a row, forwards and backwards.
static KEYBOARD_RUNS: LazyLock<HashSet<[char; 4]>> = LazyLock::new(|| {
    let mut runs = HashSet::new();
    for row in KEYBOARD_ROWS {
        let keys: Vec<char> = row.chars().collect();
        for w in keys.windows(4) {
            runs.insert([w[0], w[1], w[2], w[3]]);
            runs.insert([w[3], w[2], w[1], w[0]]);
        }
    }
    runs
});

/// A run of four or more neighbouring keys, forwards or backwards, in any word of the name.
pub fn is_keyboard_walk(name: &str) -> bool {
    let lower = name.to_lowercase();
    lower.split_whitespace().any(|w| {
        let chars: Vec<char> = w.chars().collect();
        chars
            .windows(4)
            .any(|win| KEYBOARD_RUNS.contains(&[win[0], win[1], win[2], win[3]]))
    })
}

fn is_vowel(c: char) -> bool {
    "aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿœаеёиоуыэюяіїєў".contains(c)
}

/// A word of random letters: no vowels in five or more letters, eight consonants in a row, one
/// letter repeated, or letters and digits mixed.
pub fn is_gibberish(name: &str) -> bool {
    let lower = name.to_lowercase();
    lower.split_whitespace().any(|w| {
        let letters: Vec<char> = w.chars().filter(|c| c.is_alphabetic()).collect();
        if w.chars().any(|c| c.is_ascii_digit()) && !letters.is_empty() {
            return true;
        }
        let scripted = letters
            .iter()
            .all(|c| c.is_ascii_alphabetic() || ('\u{400}'..='\u{4ff}').contains(c));
        if !scripted || letters.is_empty() {
            return false;
        }
        if letters.len() >= 3 && letters.iter().all(|c| *c == letters[0]) {
            return true;
        }
        if letters.len() >= 5 && !letters.iter().any(|c| is_vowel(*c)) {
            return true;
        }
        let mut run = 0;
        for c in &letters {
            if is_vowel(*c) || matches!(c, 'ь' | 'ъ') {
                run = 0;
            } else {
                run += 1;
                if run >= 8 {
                    return true;
                }
            }
        }
        false
    })
}

/// Why a phone cannot be a real number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhonePattern {
    /// The subscriber part is one digit repeated.
    RepeatedDigit,
    /// The national part is a run of consecutive digits, up or down.
    ConsecutiveDigits,
    /// A Russian number with the area code 000.
    ZeroAreaCode,
}

impl PhonePattern {
    /// The code a reason keeps (its message is in [`super::text`]).
    pub fn code(self) -> &'static str {
        match self {
            PhonePattern::RepeatedDigit => "repeated_digit",
            PhonePattern::ConsecutiveDigits => "consecutive_digits",
            PhonePattern::ZeroAreaCode => "zero_area_code",
        }
    }
}

/// Why a phone (its national digits) cannot be a real number, if it cannot.
pub fn phone_pattern(e164_or_digits: &str) -> Option<PhonePattern> {
    let digits: Vec<u8> = e164_or_digits
        .chars()
        .filter_map(|c| c.to_digit(10).map(|d| d as u8))
        .collect();
    if digits.len() < 6 {
        return None;
    }
    // The subscriber part: the last seven digits carry the pattern whatever the country code.
    let tail = &digits[digits.len() - 7..];
    if tail.iter().all(|d| *d == tail[0]) {
        return Some(PhonePattern::RepeatedDigit);
    }
    // A run over the whole national part: the last ten digits, or all but the country code.
    let run = &digits[digits.len().saturating_sub(10).max(1)..];
    let ascending = run.windows(2).all(|w| w[1] == (w[0] + 1) % 10);
    let descending = run.windows(2).all(|w| w[0] == (w[1] + 1) % 10);
    if ascending || descending {
        return Some(PhonePattern::ConsecutiveDigits);
    }
    if e164_or_digits.starts_with("+7") && digits.len() == 11 && digits[1..4] == [0, 0, 0] {
        return Some(PhonePattern::ZeroAreaCode);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_through_toml_and_partial_files_are_complete() {
        let rules = ScrubRules::default();
        let text = toml::to_string(&rules).unwrap();
        let back: ScrubRules = toml::from_str(&text).unwrap();
        assert_eq!(back, rules);
        let partial: ScrubRules = toml::from_str(
            "competitor_domains = [\"rival.ru\"]\n[actions]\nemail_role = \"junk\"\n",
        )
        .unwrap();
        assert_eq!(partial.action("email_role"), Action::Junk);
        assert_eq!(partial.action("honeypot"), Action::Reject);
        let prepared = Scrub::new(partial);
        assert!(prepared.is_competitor("sales.rival.ru"));
        assert!(prepared.is_competitor("rival.ru"));
        assert!(!prepared.is_competitor("notrival.ru"));
        assert!(toml::from_str::<ScrubRules>("no_such_key = 1").is_err());
    }

    #[test]
    fn unknown_codes_and_zero_window_are_refused() {
        let mut r = ScrubRules::default();
        r.actions.insert("made_up".into(), Action::Junk);
        assert_eq!(r.check(), Err(RulesError::UnknownCode("made_up".into())));
        let r = ScrubRules {
            burst_window_secs: 0,
            ..Default::default()
        };
        assert_eq!(r.check(), Err(RulesError::Zero("burst_window_secs")));
        assert_eq!(ScrubRules::default().check(), Ok(()));
    }

    #[test]
    fn burst_exemptions_are_ip_addresses() {
        for bad in [
            "not-an-ip",
            "300.1.1.1",
            "10.0.0.0/8",
            "",
            "127.0.0.1:80",
            "a\u{0}b",
        ] {
            let r = ScrubRules {
                burst_exempt_ips: vec!["127.0.0.1".into(), bad.into()],
                ..Default::default()
            };
            assert_eq!(r.check(), Err(RulesError::ExemptIp(bad.into())), "{bad:?}");
        }
        let r = ScrubRules {
            burst_exempt_ips: vec![" 10.1.2.3 ".into(), "0:0:0:0:0:0:0:1".into()],
            ..Default::default()
        };
        assert_eq!(r.check(), Ok(()));
        assert!(r.is_burst_exempt("10.1.2.3"));
        assert!(r.is_burst_exempt("::ffff:10.1.2.3"));
        assert!(r.is_burst_exempt("::1"));
        assert!(!r.is_burst_exempt("10.1.2.4"));
        assert!(!r.is_burst_exempt("not-an-ip"));
        assert!(ScrubRules::default().is_burst_exempt("127.0.0.1"));
    }

    #[test]
    fn links_in_names() {
        for n in [
            "http://spam.ru",
            "Buy at www.shop",
            "seo-boost.com",
            "Иван site.ru",
            "me@x.com",
        ] {
            assert!(name_has_link(n), "{n}");
        }
        for n in [
            "Иван Петров",
            "J. R. R. Tolkien",
            "Anne-Marie O'Neil",
            "Dr. Smith",
        ] {
            assert!(!name_has_link(n), "{n}");
        }
    }

    #[test]
    fn keyboard_walks_and_gibberish() {
        for n in ["qwerty", "Asdf Ghjk", "йцукен", "фывап", "ytrewq", "1234"] {
            assert!(is_keyboard_walk(n), "{n}");
        }
        for n in ["sdfkjhsdkfjh", "xkcdqzt", "ааааа", "Ivan123", "zzz"] {
            assert!(is_gibberish(n), "{n}");
        }
        for n in [
            "Мкртчян Ашот",
            "Schtscheglow",
            "Ирина Шевчук",
            "Yves Müller",
            "Анна",
            "Jan de Vries",
            "Ng",
            "Nguyễn Văn",
            "金城武",
        ] {
            assert!(!is_gibberish(n), "{n}");
            assert!(!is_keyboard_walk(n), "{n}");
        }
    }

    #[test]
    fn test_and_joke_names_ignore_case_and_order() {
        let r = Scrub::new(ScrubRules::default());
        assert!(r.is_test_name("Тест  ТЕСТ"));
        assert!(r.is_test_name("Test"));
        assert!(!r.is_test_name("Tester Johnson"));
        assert!(r.is_joke_name("Пупкин Вася"));
        assert!(r.is_joke_name("Doe John"));
        assert!(!r.is_joke_name("John Smith"));
    }

    #[test]
    fn test_disposable_and_competitor_mail() {
        let mut rules = ScrubRules::default();
        let r = Scrub::new(rules.clone());
        assert!(r.is_test_email("test", "gmail.com"));
        assert!(r.is_test_email("TEST", "gmail.com"));
        assert!(r.is_test_email("anna", "example.com"));
        assert!(r.is_test_email("anna", "sub.test.ru"));
        assert!(!r.is_test_email("anna", "gmail.com"));
        assert!(r.is_disposable("mailinator.com"));
        assert!(r.is_disposable("10minutemail.com"));
        assert!(!r.is_disposable("gmail.com"));
        assert!(!r.is_disposable("yandex.ru"));
        rules.allowed_domains.push(" @Mailinator.com".into());
        rules.disposable_domains.push("throwaway.example".into());
        let r = Scrub::new(rules);
        assert!(!r.is_disposable("mailinator.com"));
        assert!(!r.is_disposable("sub.mailinator.com"));
        assert!(r.is_disposable("throwaway.example"));
        assert!(r.is_disposable("a.throwaway.example"));
        assert!(!r.is_disposable("nothrowaway.example"));
    }

    /// The indexed list answers as the crate's own check does for the ASCII (punycode) domains the
    /// validation step passes: listed services, their subdomains, ordinary domains, malformed
    /// ones, and a sample of the whole list.
    #[test]
    fn indexed_disposable_list_agrees_with_the_crate() {
        let mut domains: Vec<String> = [
            "mailinator.com",
            "sub.mailinator.com",
            "a.b.33mail.com",
            "guerrillamailblock.com",
            "gmail.com",
            "mail.ru",
            "company.co.uk",
            "xn--d1acpjx3f.xn--p1ai",
            "localhost",
            "bad domain.com",
        ]
        .iter()
        .map(|d| d.to_string())
        .collect();
        let list = mailchecker::blacklist();
        assert!(list.len() > 2000);
        domains.extend(list.iter().step_by(97).map(|d| d.to_string()));
        domains.extend(list.iter().step_by(211).map(|d| format!("x.{d}")));
        for d in &domains {
            assert_eq!(
                maintained_disposable(d),
                !mailchecker::is_valid(&format!("someone@{d}")),
                "{d}"
            );
        }
    }

    #[test]
    fn stop_phrases_in_messages() {
        let r = Scrub::new(ScrubRules::default());
        assert_eq!(r.stop_phrase("Привет, ЭТО ТЕСТ формы"), Some("это тест"));
        assert_eq!(r.stop_phrase("Нужен диван"), None);
    }

    #[test]
    fn impossible_phones() {
        assert_eq!(
            phone_pattern("+79999999999"),
            Some(PhonePattern::RepeatedDigit)
        );
        assert_eq!(
            phone_pattern("+71234567890"),
            Some(PhonePattern::ConsecutiveDigits)
        );
        assert_eq!(
            phone_pattern("+70001234967"),
            Some(PhonePattern::ZeroAreaCode)
        );
        assert_eq!(phone_pattern("+79161234567"), None);
        assert_eq!(phone_pattern("+31612345678"), None);
        assert_eq!(
            phone_pattern("+79876543210"),
            Some(PhonePattern::ConsecutiveDigits)
        );
        assert_eq!(
            phone_pattern("+74951111111"),
            Some(PhonePattern::RepeatedDigit)
        );
    }
}

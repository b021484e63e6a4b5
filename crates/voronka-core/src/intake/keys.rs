//! Matching keys: the normalized forms under which two records count as the same value.

use crate::model::Email;

/// Key under which two emails are the same mailbox (provider rules in [`super::email::match_key`]).
pub fn email_key(e: &Email) -> String {
    super::email::match_key(&e.normalized)
}

/// Key for a social profile link: lowercased, without scheme, `www.` and trailing slash.
pub fn social_key(url: &str) -> String {
    let l = url.trim().to_lowercase();
    let l = l
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_start_matches("www.");
    l.trim_end_matches('/').to_string()
}

/// Lowercased text that list search runs over: names, emails, phones (E.164 and digits), company;
/// ё is written as е, as most people type it (see [`fold_search`]).
pub fn search_text(parts: &[&str]) -> String {
    let mut out = String::new();
    for p in parts.iter().filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&fold_search(p));
    }
    out
}

/// Text as the lead search compares it: lowercased, ё read as е (Russian writing leaves the dots
/// off more often than not, so "Артем" must find "Артём" and the other way round).
pub fn fold_search(text: &str) -> String {
    text.to_lowercase().replace('ё', "е")
}

/// A search that is one valid phone number as written in `region` ("8 987 580-09-14" in Russia):
/// its E.164 form, which the search text holds; `None` for anything else.
pub fn search_phone(text: &str, region: &str) -> Option<String> {
    let text = text.trim();
    let phone_chars = |c: char| c.is_ascii_digit() || " +-().".contains(c);
    let digits = text.chars().filter(char::is_ascii_digit).count();
    if digits < 7 || !text.chars().all(phone_chars) {
        return None;
    }
    match super::normalize::phone::parse(text, region) {
        Some((e164, true)) => Some(e164),
        _ => None,
    }
}

/// Key of an account (company) name: lowercased, quotes and legal forms dropped.
pub fn account_key(name: &str) -> String {
    crate::names::memo(2, name, account_key_of)
}

fn account_key_of(name: &str) -> String {
    let lowered = super::normalize::clean_text(name).to_lowercase();
    let words: Vec<&str> = lowered
        .split(|c: char| c.is_whitespace() || c == ',' || c == '"' || c == '«' || c == '»')
        .filter(|w| {
            !w.is_empty()
                && !matches!(
                    *w,
                    "ооо"
                        | "оао"
                        | "зао"
                        | "пао"
                        | "ао"
                        | "ип"
                        | "llc"
                        | "ltd"
                        | "inc"
                        | "inc."
                        | "ltd."
                        | "gmbh"
                        | "bv"
                        | "b.v."
                        | "sarl"
                        | "sas"
                )
        })
        .collect();
    words.join(" ")
}

/// Key of a person's name for matching: word order, case and script folded, so "Иванов Иван",
/// "иван иванов" and "Ivan Ivanov" share it (see [`crate::names::translit_key`]).
pub fn name_key(name: &str) -> String {
    crate::names::translit_key(name)
}

/// Blocking key of a person without a shared phone or email: the name key with the company,
/// or with the email domain when it is a company's own (not a public mail provider). Two
/// contacts with one block key are possibly one person.
pub fn block_key(n: &super::Normalized) -> Option<String> {
    let full_name = n.full_name.as_deref()?;
    block_key_of(
        full_name,
        n.company.as_deref(),
        n.emails.iter().map(|e| e.normalized.as_str()),
    )
}

/// [`block_key`] of a stored contact: its name, its company and its emails (normalized).
pub fn block_key_of<'a>(
    full_name: &str,
    company: Option<&str>,
    emails: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    // What goes with the name first: without it there is no key, and the name's key (the
    // dearer part) need not be made.
    let with = match company
        // The company folded like the name, so "Ромашка" and "Romashka" are one company.
        .map(|c| crate::names::translit_key(&account_key(c)))
        .filter(|c| !c.is_empty())
    {
        Some(c) => c,
        None => emails
            .into_iter()
            .filter_map(|e| e.rsplit_once('@').map(|(_, d)| d.to_lowercase()))
            .find(|d| !super::email::is_public_provider(d))
            .map(|d| format!("@{d}"))?,
    };
    let name = name_key(full_name);
    if name.is_empty() {
        return None;
    }
    Some(format!("{name}|{with}"))
}

/// The block key a contact stored with a key of the earlier folding should have now, if it
/// differs. The earlier folding collapsed a run of one digit as it does doubled letters
/// ("Company 1881" was "Company 181"); `stored` is replaced only when that alone tells the two
/// apart, so a key made from other data than the contact holds now (an email added later, a
/// name taken in a merge) stays as it is.
pub fn refreshed_block_key<'a>(
    stored: &str,
    full_name: &str,
    company: Option<&str>,
    emails: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let now = block_key_of(full_name, company, emails)?;
    let mut folded = String::with_capacity(now.len());
    let mut last = None;
    for c in now.chars() {
        if !(c.is_ascii_digit() && Some(c) == last) {
            folded.push(c);
        }
        last = Some(c);
    }
    (now != stored && folded == stored).then_some(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_searched_as_written_at_home_is_read_in_e164() {
        assert_eq!(
            search_phone("8 987 580-09-14", "RU").as_deref(),
            Some("+79875800914")
        );
        assert_eq!(
            search_phone("89875800914", "RU").as_deref(),
            Some("+79875800914")
        );
        assert_eq!(
            search_phone("(020) 7946 0958", "GB").as_deref(),
            Some("+442079460958")
        );
        // Parts of numbers, names and invalid numbers stay as they are.
        assert_eq!(search_phone("0914", "RU"), None);
        assert_eq!(search_phone("Жуков", "RU"), None);
        assert_eq!(search_phone("8 000 000-00-00", "RU"), None);
    }

    #[test]
    fn keys() {
        assert_eq!(social_key("https://www.VK.com/ivan/"), "vk.com/ivan");
        assert_eq!(account_key("ООО «Ромашка»"), "ромашка");
        assert_eq!(account_key("Acme LLC"), "acme");
        assert_eq!(search_text(&["Иван", "", "+7916"]), "иван +7916");
        assert_eq!(search_text(&["Артём", "ЁЛКИН"]), "артем елкин");
        assert_eq!(fold_search("Фёдор"), fold_search("федор"));
        assert_eq!(name_key("Иванов  Иван"), name_key("иван Иванов"));
        assert_eq!(name_key("Семёнов"), name_key("Semenov"));
        assert_eq!(name_key("Иван Петров"), name_key("Petrov Ivan"));
        use crate::intake::{normalize, Submission};
        use crate::model::Channel;
        let n = |fields: &[(&str, &str)]| {
            let mut s = Submission::new(Channel::WebForm, 0);
            for (k, v) in fields {
                s = s.with(k, *v);
            }
            normalize(&s, &Default::default())
        };
        let a = n(&[("name", "Иван Петров"), ("company", "ООО «Ромашка»")]);
        let b = n(&[("name", "Петров Иван"), ("company", "Ромашка")]);
        assert_eq!(block_key(&a), block_key(&b));
        assert!(block_key(&a).is_some());
        let c = n(&[("name", "Ivan"), ("email", "ivan@gmail.com")]);
        assert_eq!(block_key(&c), None, "a public mail domain says nothing");
        let d = n(&[("name", "Ivan"), ("email", "ivan@acme.nl")]);
        assert_eq!(
            block_key(&d),
            Some(format!("{}|@acme.nl", name_key("Ivan")))
        );
        let e = n(&[("name", "Ivan Petrov"), ("company", "Romashka")]);
        let f = n(&[("name", "Иван Петров"), ("company", "Romashka LLC")]);
        assert_eq!(block_key(&e), block_key(&f), "one person in two scripts");
        let at = |company: &str| block_key(&n(&[("name", "Ольга Bakker"), ("company", company)]));
        assert_ne!(
            at("Company 1881"),
            at("Company 1811"),
            "digits are not letters"
        );
        assert_ne!(at("Company 11"), at("Company 1"));
        // A key of the earlier folding is brought up to date; anything else stays.
        let now = at("Company 1881").unwrap();
        let old = now.replace("1881", "181");
        let refresh = |stored: &str, company: &str| {
            refreshed_block_key(stored, "Ольга Bakker", Some(company), [])
        };
        assert_eq!(refresh(&old, "Company 1881"), Some(now.clone()));
        assert_eq!(refresh(&now, "Company 1881"), None, "current already");
        assert_eq!(refresh(&old, "Company 1882"), None, "another company now");
        assert_eq!(
            refresh(&old, "Company 1811"),
            Some(now.replace("1881", "1811")),
            "which of the two the old key stood for, the company tells"
        );
        assert_eq!(refresh(&old, "Company 181"), None, "no doubled digit");
        assert_eq!(
            refreshed_block_key(
                "x|@studio2000.ru",
                "Ольга Bakker",
                None,
                ["o@studio2000.ru"]
            ),
            None,
            "a different name"
        );
        assert_eq!(at("Kompaniya 1881"), at("Компания 1881"));
    }
}

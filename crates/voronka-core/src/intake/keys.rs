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

/// Lowercased text that list search runs over: names, emails, phones (E.164 and digits), company.
pub fn search_text(parts: &[&str]) -> String {
    let mut out = String::new();
    for p in parts.iter().filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&p.to_lowercase());
    }
    out
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
    // What goes with the name first: without it there is no key, and the name's key (the
    // dearer part) need not be made.
    let with = match n
        .company
        .as_deref()
        // The company folded like the name, so "Ромашка" and "Romashka" are one company.
        .map(|c| crate::names::translit_key(&account_key(c)))
        .filter(|c| !c.is_empty())
    {
        Some(c) => c,
        None => n
            .emails
            .iter()
            .filter_map(|e| e.normalized.rsplit_once('@').map(|(_, d)| d.to_lowercase()))
            .find(|d| !super::email::is_public_provider(d))
            .map(|d| format!("@{d}"))?,
    };
    let name = name_key(full_name);
    if name.is_empty() {
        return None;
    }
    Some(format!("{name}|{with}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(social_key("https://www.VK.com/ivan/"), "vk.com/ivan");
        assert_eq!(account_key("ООО «Ромашка»"), "ромашка");
        assert_eq!(account_key("Acme LLC"), "acme");
        assert_eq!(search_text(&["Иван", "", "+7916"]), "иван +7916");
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
        assert_eq!(at("Kompaniya 1881"), at("Компания 1881"));
    }
}

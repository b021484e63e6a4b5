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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(social_key("https://www.VK.com/ivan/"), "vk.com/ivan");
        assert_eq!(account_key("ООО «Ромашка»"), "ромашка");
        assert_eq!(account_key("Acme LLC"), "acme");
        assert_eq!(search_text(&["Иван", "", "+7916"]), "иван +7916");
    }
}

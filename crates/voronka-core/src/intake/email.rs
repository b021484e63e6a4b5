//! Email addresses: the domain in its ASCII (IDNA) form, a matching key that knows how big
//! providers route mail, typo suggestions for popular domains, and role mailboxes.

/// Lowercased domain in ASCII form (`почта.рф` → `xn--80a1acny.xn--p1ai`); `None` when invalid.
pub fn ascii_domain(domain: &str) -> Option<String> {
    idna::domain_to_ascii(domain.trim().trim_end_matches('.'))
        .ok()
        .filter(|d| !d.is_empty())
}

/// Providers whose domains are aliases of one mailbox space.
fn canonical_provider(domain: &str) -> &str {
    match domain {
        "googlemail.com" => "gmail.com",
        "ya.ru" | "yandex.com" | "yandex.by" | "yandex.kz" | "yandex.ua" | "narod.ru" => {
            "yandex.ru"
        }
        other => other,
    }
}

/// Key under which two addresses reach the same mailbox: lowercased, ASCII domain, provider
/// aliases folded, and at Gmail dots and `+tags` dropped; `+tags` are dropped at Yandex too, where
/// `-` and `.` in the login are the same character.
pub fn match_key(address: &str) -> String {
    let lowered = address.trim().to_lowercase();
    let Some((local, domain)) = lowered.rsplit_once('@') else {
        return lowered;
    };
    let domain = ascii_domain(domain).unwrap_or_else(|| domain.to_string());
    let domain = canonical_provider(&domain);
    let local = match domain {
        "gmail.com" => local.split('+').next().unwrap_or(local).replace('.', ""),
        "yandex.ru" => local.split('+').next().unwrap_or(local).replace('.', "-"),
        _ => local.to_string(),
    };
    format!("{local}@{domain}")
}

/// Whether a domain belongs to a public mail service (anyone can have an address there), so
/// that it says nothing about the person's company.
pub fn is_public_provider(domain: &str) -> bool {
    let d = canonical_provider(domain);
    POPULAR.contains(&d)
        || matches!(
            d,
            "mail.ua"
                | "i.ua"
                | "me.com"
                | "aol.com"
                | "protonmail.com"
                | "yahoo.co.uk"
                | "web.de"
                | "gmx.net"
        )
}

/// Popular domains people mistype; a typo of one of them gets a suggestion.
const POPULAR: &[&str] = &[
    "gmail.com",
    "yandex.ru",
    "mail.ru",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "icloud.com",
    "rambler.ru",
    "bk.ru",
    "list.ru",
    "inbox.ru",
    "ukr.net",
    "proton.me",
    "gmx.de",
    "live.com",
    "hotmail.nl",
    "ziggo.nl",
    "orange.fr",
    "free.fr",
    "laposte.net",
];

/// "did you mean gmail.com?" — the popular domain a few keystrokes away from this one.
pub fn suggest_domain(domain: &str) -> Option<&'static str> {
    let d = domain.trim().to_lowercase();
    if POPULAR.contains(&d.as_str()) {
        return None;
    }
    POPULAR
        .iter()
        .map(|p| (strsim::damerau_levenshtein(&d, p), *p))
        .filter(|(dist, p)| *dist > 0 && (*dist <= 1 || (*dist == 2 && p.len() >= 8)))
        .min_by_key(|(dist, _)| *dist)
        .map(|(_, p)| p)
}

/// Shared mailboxes (info@, sales@ …): reachable, but not a person.
pub fn is_role_address(address: &str) -> bool {
    const ROLES: &[&str] = &[
        "info",
        "admin",
        "administrator",
        "office",
        "sales",
        "support",
        "hello",
        "contact",
        "mail",
        "noreply",
        "no-reply",
        "webmaster",
        "postmaster",
        "hr",
        "team",
        "marketing",
        "billing",
    ];
    address
        .rsplit_once('@')
        .is_some_and(|(local, _)| ROLES.contains(&local.to_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_rules() {
        assert_eq!(
            match_key("Ivan.Petrov+crm@GoogleMail.com"),
            "ivanpetrov@gmail.com"
        );
        assert_eq!(match_key("ivan.petrov@ya.ru"), "ivan-petrov@yandex.ru");
        assert_eq!(
            match_key("ivan-petrov+x@yandex.com"),
            "ivan-petrov@yandex.ru"
        );
        assert_eq!(
            match_key("Jan.Jansen+x@example.nl"),
            "jan.jansen+x@example.nl"
        );
        assert_eq!(match_key("info@почта.рф"), "info@xn--80a1acny.xn--p1ai");
    }

    #[test]
    fn typo_suggestions() {
        for (typo, fix) in [
            ("gmial.com", "gmail.com"),
            ("gmail.co", "gmail.com"),
            ("yandex.ri", "yandex.ru"),
            ("mail.ur", "mail.ru"),
            ("hotmial.com", "hotmail.com"),
        ] {
            assert_eq!(suggest_domain(typo), Some(fix), "{typo}");
        }
        assert_eq!(suggest_domain("gmail.com"), None);
        assert_eq!(suggest_domain("acme-industries.com"), None);
    }

    #[test]
    fn roles() {
        assert!(is_role_address("Info@acme.com"));
        assert!(!is_role_address("ivan@acme.com"));
    }
}

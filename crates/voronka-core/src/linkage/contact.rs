//! The contact matcher used by the intake's dedup step: is a new submission the same person as
//! a known contact? Fixed weights (no estimation at intake), each the log2 of how much more
//! often a level is seen among pairs of the same person than among different people.
//!
//! | field    | agree                                     | disagree | missing |
//! |----------|-------------------------------------------|----------|---------|
//! | phone    | +12 (a shared E.164 number)               | −2       | 0       |
//! | email    | +14 (a shared match key)                  | −2       | 0       |
//! | social   | +14 (a shared profile)                    | −1       | 0       |
//! | name     | +4 same words, +3.5 same transliteration, +2 one name's words within the other's, +2 Jaro–Winkler ≥ 0.92, +0.5 ≥ 0.85 | −6 | 0 |
//! | company  | +2                                        | −0.5     | 0       |
//! | city     | +1                                        | −1       | 0       |
//!
//! The prior is −6 bits (about 1 in 65): the pairs compared at intake already share a phone,
//! an email, a profile or a name, and most of those that share only a name are different people.
//! Decisions: same person at probability ≥ 0.95, uncertain from 0.30, different below.
//! So a shared phone with a matching name (any script) is the same person; a shared phone
//! under a totally different name is uncertain (a family or office phone); a name alone is not
//! enough.

use serde::{Deserialize, Serialize};

use super::strings::jaro_winkler;
use super::{Comparison, FieldContribution};
use crate::intake::keys::account_key;
use crate::names::{name_key, translit_key};

/// The fields of a contact that matter for matching, already normalized by the intake.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContactFields {
    pub name: String,
    /// E.164 numbers.
    pub phones: Vec<String>,
    /// Email match keys (provider rules already applied).
    pub email_keys: Vec<String>,
    pub socials: Vec<String>,
    pub company: Option<String>,
    pub city: Option<String>,
}

/// Weights in bits; see the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactWeights {
    pub prior: f64,
    pub phone_agree: f64,
    pub phone_disagree: f64,
    pub email_agree: f64,
    pub email_disagree: f64,
    pub social_agree: f64,
    pub social_disagree: f64,
    pub name_exact: f64,
    pub name_translit: f64,
    pub name_subset: f64,
    pub name_close: f64,
    pub name_similar: f64,
    pub name_different: f64,
    pub company_agree: f64,
    pub company_disagree: f64,
    pub city_agree: f64,
    pub city_disagree: f64,
}

impl Default for ContactWeights {
    fn default() -> Self {
        ContactWeights {
            prior: -6.0,
            phone_agree: 12.0,
            phone_disagree: -2.0,
            email_agree: 14.0,
            email_disagree: -2.0,
            social_agree: 14.0,
            social_disagree: -1.0,
            name_exact: 4.0,
            name_translit: 3.5,
            name_subset: 2.0,
            name_close: 2.0,
            name_similar: 0.5,
            name_different: -6.0,
            company_agree: 2.0,
            company_disagree: -0.5,
            city_agree: 1.0,
            city_disagree: -1.0,
        }
    }
}

/// The verdict of [`ContactMatcher::decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactDecision {
    SamePerson,
    Uncertain,
    Different,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactMatcher {
    pub weights: ContactWeights,
    /// Probability at or above which two contacts are the same person.
    pub upper: f64,
    /// Probability below which two contacts are different people; between is uncertain.
    pub lower: f64,
}

impl Default for ContactMatcher {
    fn default() -> Self {
        ContactMatcher {
            weights: ContactWeights::default(),
            upper: 0.95,
            lower: 0.30,
        }
    }
}

fn contribution(field: &str, level: &str, weight: f64, a: String, b: String) -> FieldContribution {
    FieldContribution {
        field: field.to_string(),
        level: level.to_string(),
        weight,
        values: [a, b],
    }
}

/// Whether two lists share an element; `None` when either is empty.
fn shared(a: &[String], b: &[String]) -> Option<bool> {
    let a: Vec<&str> = a
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    let b: Vec<&str> = b
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if a.is_empty() || b.is_empty() {
        return None;
    }
    Some(a.iter().any(|x| b.contains(x)))
}

impl ContactMatcher {
    pub fn compare(&self, a: &ContactFields, b: &ContactFields) -> Comparison {
        let w = &self.weights;
        let mut out = Vec::with_capacity(6);
        for (field, la, lb, agree, disagree) in [
            (
                "phone",
                &a.phones,
                &b.phones,
                w.phone_agree,
                w.phone_disagree,
            ),
            (
                "email",
                &a.email_keys,
                &b.email_keys,
                w.email_agree,
                w.email_disagree,
            ),
            (
                "social",
                &a.socials,
                &b.socials,
                w.social_agree,
                w.social_disagree,
            ),
        ] {
            let (level, weight) = match shared(la, lb) {
                None => ("null", 0.0),
                Some(true) => ("shared", agree),
                Some(false) => ("different", disagree),
            };
            out.push(contribution(
                field,
                level,
                weight,
                la.join(" "),
                lb.join(" "),
            ));
        }
        let (level, weight) = self.name_level(&a.name, &b.name);
        out.push(contribution(
            "name",
            level,
            weight,
            a.name.clone(),
            b.name.clone(),
        ));
        for (field, va, vb, agree, disagree, key) in [
            (
                "company",
                &a.company,
                &b.company,
                w.company_agree,
                w.company_disagree,
                account_key as fn(&str) -> String,
            ),
            (
                "city",
                &a.city,
                &b.city,
                w.city_agree,
                w.city_disagree,
                translit_key as fn(&str) -> String,
            ),
        ] {
            let ka = va.as_deref().map(key).unwrap_or_default();
            let kb = vb.as_deref().map(key).unwrap_or_default();
            let (level, weight) = if ka.is_empty() || kb.is_empty() {
                ("null", 0.0)
            } else if ka == kb {
                ("exact", agree)
            } else {
                ("different", disagree)
            };
            out.push(contribution(
                field,
                level,
                weight,
                va.clone().unwrap_or_default(),
                vb.clone().unwrap_or_default(),
            ));
        }
        let weight = w.prior + out.iter().map(|c| c.weight).sum::<f64>();
        Comparison {
            probability: super::Model::probability(weight),
            weight,
            explanation: out,
        }
    }

    fn name_level(&self, a: &str, b: &str) -> (&'static str, f64) {
        let w = &self.weights;
        let (na, nb) = (name_key(a), name_key(b));
        if na.is_empty() || nb.is_empty() {
            return ("null", 0.0);
        }
        if na == nb {
            return ("exact", w.name_exact);
        }
        let (ta, tb) = (translit_key(a), translit_key(b));
        if ta == tb {
            return ("translit", w.name_translit);
        }
        let wa: Vec<&str> = ta.split(' ').collect();
        let wb: Vec<&str> = tb.split(' ').collect();
        let (short, long) = if wa.len() <= wb.len() {
            (&wa, &wb)
        } else {
            (&wb, &wa)
        };
        if short.iter().all(|x| long.contains(x)) {
            return ("subset", w.name_subset);
        }
        let s = jaro_winkler(&ta, &tb);
        if s >= 0.92 {
            ("jw>=0.92", w.name_close)
        } else if s >= 0.85 {
            ("jw>=0.85", w.name_similar)
        } else {
            ("different", w.name_different)
        }
    }

    pub fn decide(&self, c: &Comparison) -> ContactDecision {
        if c.probability >= self.upper {
            ContactDecision::SamePerson
        } else if c.probability >= self.lower {
            ContactDecision::Uncertain
        } else {
            ContactDecision::Different
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: &str, phones: &[&str], emails: &[&str]) -> ContactFields {
        ContactFields {
            name: name.into(),
            phones: phones.iter().map(|s| s.to_string()).collect(),
            email_keys: emails.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn decide(a: &ContactFields, b: &ContactFields) -> ContactDecision {
        let m = ContactMatcher::default();
        let c = m.compare(a, b);
        // Symmetric.
        assert!((c.weight - m.compare(b, a).weight).abs() < 1e-9);
        m.decide(&c)
    }

    #[test]
    fn same_person_across_scripts_and_word_order() {
        let a = person("Иван Петров", &["+79161234567"], &[]);
        for name in ["Ivan Petrov", "Петров Иван", "PETROV IVAN", "Иван Петров"]
        {
            let b = person(name, &["+79161234567"], &[]);
            assert_eq!(decide(&a, &b), ContactDecision::SamePerson, "{name}");
        }
        let a = person("Юлия Щербакова", &["+380501234567"], &[]);
        let b = person("Yulia Shcherbakova", &["+380501234567"], &[]);
        assert_eq!(decide(&a, &b), ContactDecision::SamePerson);
        let a = person("Ірина Коваленко", &[], &["iryna.k@gmail.com"]);
        let b = person("Iryna Kovalenko", &[], &["iryna.k@gmail.com"]);
        assert_eq!(decide(&a, &b), ContactDecision::SamePerson);
    }

    #[test]
    fn shared_phone_with_a_different_name_is_uncertain() {
        let a = person("Иван Петров", &["+79161234567"], &[]);
        let b = person("Claire Dubois", &["+79161234567"], &[]);
        assert_eq!(decide(&a, &b), ContactDecision::Uncertain);
        let a = person("Anna Jansen", &[], &["family@example.com"]);
        let b = person("Pieter Jansen", &[], &["family@example.com"]);
        assert_eq!(decide(&a, &b), ContactDecision::Uncertain);
    }

    #[test]
    fn a_name_alone_is_not_a_match() {
        let a = person("Иван Петров", &[], &[]);
        let b = person("Ivan Petrov", &[], &[]);
        assert_eq!(decide(&a, &b), ContactDecision::Different);
        let a = person("Иван Петров", &["+79161234567"], &[]);
        let b = person("Иван Петров", &["+79031112233"], &[]);
        assert_eq!(decide(&a, &b), ContactDecision::Different);
    }

    #[test]
    fn other_evidence() {
        // A shared phone and a partial name ("Иван" within "Иван Петров").
        let a = person("Иван", &["+79161234567"], &[]);
        let b = person("Петров Иван", &["+79161234567"], &[]);
        assert_eq!(decide(&a, &b), ContactDecision::SamePerson);
        // A shared phone and no name on one side.
        let a = person("", &["+79161234567"], &[]);
        assert_eq!(decide(&a, &b), ContactDecision::SamePerson);
        // Nothing shared at all.
        let a = person("Emma Wilson", &["+31612345678"], &["emma@example.nl"]);
        let b = person("Léa Martin", &["+33612345678"], &["lea@example.fr"]);
        assert_eq!(decide(&a, &b), ContactDecision::Different);
        // Same name, company and city, no contact details: still for a person to look at.
        let mut a = person("Jan de Vries", &[], &[]);
        a.company = Some("Bakker BV".into());
        a.city = Some("Utrecht".into());
        let b = a.clone();
        assert_eq!(decide(&a, &b), ContactDecision::Uncertain);
    }

    #[test]
    fn explanation_names_every_field() {
        let m = ContactMatcher::default();
        let a = person("Алексей Смирнов", &["+79161234567"], &["a.smirnov@mail.ru"]);
        let b = person("Aleksey Smirnov", &["+79161234567"], &["other@mail.ru"]);
        let c = m.compare(&a, &b);
        let fields: Vec<&str> = c.explanation.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            ["phone", "email", "social", "name", "company", "city"]
        );
        let name = &c.explanation[3];
        assert_eq!(name.level, "translit");
        assert_eq!(
            name.values,
            ["Алексей Смирнов".to_string(), "Aleksey Smirnov".to_string()]
        );
        let total: f64 = m.weights.prior + c.explanation.iter().map(|f| f.weight).sum::<f64>();
        assert!((total - c.weight).abs() < 1e-9);
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains("\"level\":\"shared\""));
    }
}

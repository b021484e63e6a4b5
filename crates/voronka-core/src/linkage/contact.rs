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

/// A contact's fields borrowed for one comparison, so that comparing a submission with many
/// candidates copies none of them.
#[derive(Debug, Clone, Copy)]
pub struct FieldsRef<'a> {
    pub name: &'a str,
    pub phones: &'a [String],
    pub email_keys: &'a [String],
    pub socials: &'a [String],
    pub company: Option<&'a str>,
    pub city: Option<&'a str>,
}

impl ContactFields {
    pub fn view(&self) -> FieldsRef<'_> {
        FieldsRef {
            name: &self.name,
            phones: &self.phones,
            email_keys: &self.email_keys,
            socials: &self.socials,
            company: self.company.as_deref(),
            city: self.city.as_deref(),
        }
    }
}

/// The fields a comparison looks at, in the order of its explanation.
const FIELDS: [&str; 6] = ["phone", "email", "social", "name", "company", "city"];

/// A comparison without the values that explain it: each field's level and weight, in the
/// order of [`FIELDS`]. [`ContactMatcher::explain`] makes the full [`Comparison`] when one is
/// kept or shown; most candidates are only ranked and decided on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub probability: f64,
    pub weight: f64,
    pub levels: [(&'static str, f64); 6],
}

impl Scored {
    /// The fields that counted for the same person.
    pub fn shared_fields(&self) -> Vec<&'static str> {
        FIELDS
            .iter()
            .zip(&self.levels)
            .filter(|(_, (_, w))| *w > 0.0)
            .map(|(f, _)| *f)
            .collect()
    }
}

/// Whether two lists share an element; `None` when either is empty.
fn shared(a: &[String], b: &[String]) -> Option<bool> {
    let mut a = a
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .peekable();
    let b = || b.iter().map(|s| s.trim()).filter(|s| !s.is_empty());
    if a.peek().is_none() || b().next().is_none() {
        return None;
    }
    Some(a.any(|x| b().any(|y| y == x)))
}

impl ContactMatcher {
    pub fn compare(&self, a: &ContactFields, b: &ContactFields) -> Comparison {
        let scored = self.score(a.view(), b.view());
        self.explain(a.view(), b.view(), &scored)
    }

    /// Each field's level and weight, and the probability they make.
    pub fn score(&self, a: FieldsRef<'_>, b: FieldsRef<'_>) -> Scored {
        let w = &self.weights;
        let list = |la: &[String], lb: &[String], agree: f64, disagree: f64| match shared(la, lb) {
            None => ("null", 0.0),
            Some(true) => ("shared", agree),
            Some(false) => ("different", disagree),
        };
        let keyed =
            |va: Option<&str>, vb: Option<&str>, key: fn(&str) -> String, agree, disagree| {
                let ka = va.map(key).unwrap_or_default();
                let kb = vb.map(key).unwrap_or_default();
                if ka.is_empty() || kb.is_empty() {
                    ("null", 0.0)
                } else if ka == kb {
                    ("exact", agree)
                } else {
                    ("different", disagree)
                }
            };
        let levels = [
            list(a.phones, b.phones, w.phone_agree, w.phone_disagree),
            list(a.email_keys, b.email_keys, w.email_agree, w.email_disagree),
            list(a.socials, b.socials, w.social_agree, w.social_disagree),
            self.name_level(a.name, b.name),
            keyed(
                a.company,
                b.company,
                account_key,
                w.company_agree,
                w.company_disagree,
            ),
            keyed(a.city, b.city, translit_key, w.city_agree, w.city_disagree),
        ];
        let weight = w.prior + levels.iter().map(|(_, w)| w).sum::<f64>();
        Scored {
            probability: super::Model::probability(weight),
            weight,
            levels,
        }
    }

    /// The full comparison of a scored pair: each field with both sides' values.
    pub fn explain(&self, a: FieldsRef<'_>, b: FieldsRef<'_>, scored: &Scored) -> Comparison {
        let values = [
            (a.phones.join(" "), b.phones.join(" ")),
            (a.email_keys.join(" "), b.email_keys.join(" ")),
            (a.socials.join(" "), b.socials.join(" ")),
            (a.name.to_string(), b.name.to_string()),
            (
                a.company.unwrap_or_default().to_string(),
                b.company.unwrap_or_default().to_string(),
            ),
            (
                a.city.unwrap_or_default().to_string(),
                b.city.unwrap_or_default().to_string(),
            ),
        ];
        let explanation = FIELDS
            .iter()
            .zip(scored.levels)
            .zip(values)
            .map(|((field, (level, weight)), (va, vb))| FieldContribution {
                field: field.to_string(),
                level: level.to_string(),
                weight,
                values: [va, vb],
            })
            .collect();
        Comparison {
            probability: scored.probability,
            weight: scored.weight,
            explanation,
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
        self.decide_probability(c.probability)
    }

    /// The decision at a pair's match probability.
    pub fn decide_probability(&self, probability: f64) -> ContactDecision {
        if probability >= self.upper {
            ContactDecision::SamePerson
        } else if probability >= self.lower {
            ContactDecision::Uncertain
        } else {
            ContactDecision::Different
        }
    }
}

/// A stored contact as the batch deduplication sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContactRecord {
    pub fields: ContactFields,
    /// The contact's block key (name with company or company mail domain), when it has one.
    pub block_key: Option<String>,
}

/// A pair of records (indexes into the input) the matcher did not call different people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoredContactPair {
    pub a: u32,
    pub b: u32,
    pub decision: ContactDecision,
    pub comparison: Comparison,
}

/// What [`ContactMatcher::dedupe`] found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactDedup {
    /// Distinct pairs that shared a phone, an email, a profile or a block key.
    pub candidate_pairs: u64,
    /// Keys shared by more records than the block limit; their records were not paired.
    pub skipped_blocks: u64,
    /// Same-person and uncertain pairs, in record order.
    pub pairs: Vec<ScoredContactPair>,
    /// Cluster number per record, over the same-person pairs (a record alone is a cluster).
    pub cluster_of: Vec<u32>,
}

impl ContactMatcher {
    /// Deduplicates a whole set of contacts: records sharing a phone, an email match key, a
    /// profile or a block key are compared, and the same-person pairs are joined into clusters.
    /// Keys shared by more than `max_block` records (a switchboard number, a test address) pair
    /// nothing and are counted.
    pub fn dedupe(
        &self,
        records: &[ContactRecord],
        max_block: usize,
        progress: &mut dyn FnMut(super::Progress),
    ) -> ContactDedup {
        use std::hash::{Hash, Hasher};
        // Key hashes tagged by kind, so that a phone never meets an email with equal text.
        let hash = |tag: u8, s: &str| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            tag.hash(&mut h);
            s.hash(&mut h);
            h.finish()
        };
        let mut keys: Vec<(u64, u32)> = Vec::with_capacity(records.len() * 3);
        for (i, r) in records.iter().enumerate() {
            let i = i as u32;
            let f = &r.fields;
            let mut own: Vec<u64> = Vec::new();
            for (tag, list) in [(1u8, &f.phones), (2, &f.email_keys), (3, &f.socials)] {
                for v in list.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
                    own.push(hash(tag, v));
                }
            }
            if let Some(k) = r.block_key.as_deref().filter(|k| !k.is_empty()) {
                own.push(hash(4, k));
            }
            own.sort_unstable();
            own.dedup();
            keys.extend(own.into_iter().map(|k| (k, i)));
        }
        keys.sort_unstable();
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        let mut skipped_blocks = 0u64;
        let mut start = 0;
        while start < keys.len() {
            let mut end = start + 1;
            while end < keys.len() && keys[end].0 == keys[start].0 {
                end += 1;
            }
            let block = &keys[start..end];
            if block.len() > max_block {
                skipped_blocks += 1;
            } else {
                for (x, &(_, a)) in block.iter().enumerate() {
                    for &(_, b) in &block[x + 1..] {
                        pairs.push((a.min(b), a.max(b)));
                    }
                }
            }
            start = end;
        }
        pairs.sort_unstable();
        pairs.dedup();
        let total = pairs.len() as u64;
        let mut scored = Vec::new();
        for (n, &(a, b)) in pairs.iter().enumerate() {
            if n % 10_000 == 0 {
                progress(super::Progress {
                    step: super::Step::Comparing,
                    done: n as u64,
                    total,
                });
            }
            let (ra, rb) = (&records[a as usize], &records[b as usize]);
            let (va, vb) = (ra.fields.view(), rb.fields.view());
            let score = self.score(va, vb);
            let mut decision = self.decide_probability(score.probability);
            // The same name at the same company is worth a look whatever else differs, as at
            // intake: a review, never a merge.
            let same_block = ra.block_key.as_deref().is_some_and(|k| !k.is_empty())
                && ra.block_key == rb.block_key;
            if decision == ContactDecision::Different && same_block {
                decision = ContactDecision::Uncertain;
            }
            if decision != ContactDecision::Different {
                scored.push(ScoredContactPair {
                    a,
                    b,
                    decision,
                    comparison: self.explain(va, vb, &score),
                });
            }
        }
        progress(super::Progress {
            step: super::Step::Comparing,
            done: total,
            total,
        });
        let cluster_of = super::cluster::clusters(
            records.len(),
            scored
                .iter()
                .filter(|p| p.decision == ContactDecision::SamePerson)
                .map(|p| (p.a, p.b)),
        );
        ContactDedup {
            candidate_pairs: total,
            skipped_blocks,
            pairs: scored,
            cluster_of,
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

    fn record(name: &str, phones: &[&str], emails: &[&str], block: Option<&str>) -> ContactRecord {
        ContactRecord {
            fields: person(name, phones, emails),
            block_key: block.map(str::to_string),
        }
    }

    #[test]
    fn batch_dedupe_clusters_the_same_person_and_keeps_the_uncertain_apart() {
        let records = vec![
            record("Иван Петров", &["+79161234567"], &[], None),
            record("Ivan Petrov", &["+79161234567"], &["ivan@mail.ru"], None),
            record("Petrov Ivan", &[], &["ivan@mail.ru"], None),
            // An office phone shared by someone else entirely: not joined.
            record("Мария Соколова", &["+79161234567"], &[], None),
            record("Anna Smirnova", &["+79990000001"], &[], None),
        ];
        let d = ContactMatcher::default().dedupe(&records, 100, &mut |_| {});
        assert_eq!(d.cluster_of[0], d.cluster_of[1]);
        assert_eq!(d.cluster_of[1], d.cluster_of[2]);
        assert_ne!(d.cluster_of[0], d.cluster_of[3]);
        assert_ne!(d.cluster_of[0], d.cluster_of[4]);
        // 0-1, 0-3, 1-3 share the phone; 1-2 the email.
        assert_eq!(d.candidate_pairs, 4);
        assert!(d
            .pairs
            .iter()
            .any(|p| (p.a, p.b) == (0, 3) && p.decision == ContactDecision::Uncertain));
    }

    #[test]
    fn batch_dedupe_sends_the_same_name_at_one_company_to_review() {
        let records = vec![
            record(
                "Иван Петров",
                &["+79161234567"],
                &[],
                Some("petrov|romashka"),
            ),
            record(
                "Иван Петров",
                &["+79267654321"],
                &[],
                Some("petrov|romashka"),
            ),
            record("Иван Петров", &["+79031112233"], &[], Some("petrov|lyutik")),
        ];
        let d = ContactMatcher::default().dedupe(&records, 100, &mut |_| {});
        let flagged: Vec<(u32, u32, ContactDecision)> =
            d.pairs.iter().map(|p| (p.a, p.b, p.decision)).collect();
        assert_eq!(flagged, vec![(0, 1, ContactDecision::Uncertain)]);
        assert_ne!(d.cluster_of[0], d.cluster_of[1], "reviewed, not merged");
    }

    #[test]
    fn batch_dedupe_skips_oversized_blocks() {
        let records: Vec<ContactRecord> = (0..5)
            .map(|i| record(&format!("Person {i}"), &["+74950000000"], &[], None))
            .collect();
        let d = ContactMatcher::default().dedupe(&records, 3, &mut |_| {});
        assert_eq!(d.skipped_blocks, 1);
        assert_eq!(d.candidate_pairs, 0);
        let distinct: std::collections::HashSet<_> = d.cluster_of.iter().collect();
        assert_eq!(distinct.len(), 5);
    }
}

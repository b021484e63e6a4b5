//! Deduplication: is this the same person, and the same request?

use super::{Normalized, Reason};
use crate::linkage::contact::{ContactDecision, ContactMatcher, FieldsRef, Scored};
use crate::linkage::Comparison;
use crate::model::{Id, Millis, Stage};
use serde::{Deserialize, Serialize};
use std::borrow::Borrow;

/// An existing contact that shares a blocking key (phone, email, social profile, or name with
/// company) with the submission.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Candidate {
    pub contact_id: Id,
    /// Full name as stored.
    pub name: String,
    /// The contact's company (account name).
    pub company: Option<String>,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub socials: Vec<String>,
    /// Name with company or company mail domain ([`super::keys::block_key`]).
    pub block_key: Option<String>,
    pub leads: Vec<CandidateLead>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CandidateLead {
    pub lead_id: Id,
    pub product: Option<String>,
    pub stage: Stage,
    pub owner_id: Option<Id>,
    pub updated_at: Millis,
}

#[derive(Debug, Clone)]
pub struct DedupPolicy {
    /// A new request on the same product within this window is a touch on the open lead.
    pub same_request_window_ms: Millis,
    /// A refused lead asked about again is reopened rather than duplicated.
    pub reopen_refused: bool,
    /// Decides whether a candidate is the same person, a possible duplicate or someone else.
    pub matcher: ContactMatcher,
}

impl Default for DedupPolicy {
    fn default() -> Self {
        DedupPolicy {
            same_request_window_ms: 90 * 24 * 3600 * 1000,
            reopen_refused: true,
            matcher: ContactMatcher::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MatchDecision {
    NewContact,
    NewLead { contact_id: Id },
    Touch { contact_id: Id, lead_id: Id },
    Reopen { contact_id: Id, lead_id: Id },
}

impl MatchDecision {
    pub fn contact_id(&self) -> Option<Id> {
        match *self {
            MatchDecision::NewContact => None,
            MatchDecision::NewLead { contact_id }
            | MatchDecision::Touch { contact_id, .. }
            | MatchDecision::Reopen { contact_id, .. } => Some(contact_id),
        }
    }
    pub fn lead_id(&self) -> Option<Id> {
        match *self {
            MatchDecision::Touch { lead_id, .. } | MatchDecision::Reopen { lead_id, .. } => {
                Some(lead_id)
            }
            _ => None,
        }
    }
}

fn same_product(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.trim().to_lowercase() == b.trim().to_lowercase(),
        _ => false,
    }
}

impl Candidate {
    /// A contact made from this submission, as later submissions see it (and as the matcher
    /// sees the submission): valid E.164 phones and the matching keys of emails and profiles.
    pub fn from_submission(contact_id: Id, n: &Normalized) -> Candidate {
        Candidate {
            contact_id,
            name: n.full_name.clone().unwrap_or_default(),
            company: n.company.clone(),
            phones: n
                .phones
                .iter()
                .filter(|p| p.valid)
                .filter_map(|p| p.e164.clone())
                .collect(),
            emails: n.emails.iter().map(super::keys::email_key).collect(),
            socials: n
                .socials
                .iter()
                .map(|s| super::keys::social_key(s))
                .collect(),
            block_key: super::keys::block_key(n),
            leads: Vec::new(),
        }
    }
}

impl Candidate {
    /// The fields the contact matcher compares, borrowed.
    fn fields(&self) -> FieldsRef<'_> {
        FieldsRef {
            name: &self.name,
            phones: &self.phones,
            email_keys: &self.emails,
            socials: &self.socials,
            company: self.company.as_deref(),
            city: None,
        }
    }
}

/// A candidate with the matcher's score and decision.
pub type Compared<'a> = (&'a Candidate, Scored, ContactDecision);

/// Every candidate compared with the submission by the contact matcher, most probable first
/// (ties: the older contact). Only scored: the full comparison is made for the few kept.
pub fn compare_candidates<'a, C: Borrow<Candidate>>(
    n: &Normalized,
    candidates: &'a [C],
    matcher: &ContactMatcher,
) -> Vec<Compared<'a>> {
    let me = Candidate::from_submission(0, n);
    let mut out: Vec<_> = candidates
        .iter()
        .map(|c| {
            let c: &Candidate = c.borrow();
            let scored = matcher.score(me.fields(), c.fields());
            let d = matcher.decide_probability(scored.probability);
            (c, scored, d)
        })
        .collect();
    out.sort_by(|(ca, a, _), (cb, b, _)| {
        b.probability
            .total_cmp(&a.probability)
            .then(ca.contact_id.cmp(&cb.contact_id))
    });
    out
}

/// A contact the matcher was unsure of: the submission makes a contact of its own and its new
/// lead is flagged against this contact's latest lead for review.
#[derive(Debug, Clone, PartialEq)]
pub struct PossibleDuplicate {
    pub lead_id: Id,
    pub contact_id: Id,
    pub comparison: Comparison,
}

/// Uncertain candidates, and those with the submission's block key that the matcher calls
/// different (at most three, the most probable first), each with the reason shown on the new
/// lead.
pub fn possible_duplicates<C: Borrow<Candidate>>(
    n: &Normalized,
    candidates: &[C],
    matcher: &ContactMatcher,
) -> Vec<(PossibleDuplicate, Reason)> {
    possible_among(n, &compare_candidates(n, candidates, matcher), matcher)
}

/// [`possible_duplicates`] among candidates already compared.
pub fn possible_among(
    n: &Normalized,
    compared: &[Compared<'_>],
    matcher: &ContactMatcher,
) -> Vec<(PossibleDuplicate, Reason)> {
    let key = super::keys::block_key(n);
    // The submission as a contact, made only if a candidate is kept.
    let mut me = None;
    compared
        .iter()
        // The same name at the same company is worth a look even with other phones: people
        // have a mobile and an office number.
        .filter(|(c, _, d)| {
            *d == ContactDecision::Uncertain
                || (*d == ContactDecision::Different
                    && key.is_some()
                    && c.block_key.as_deref() == key.as_deref())
        })
        .filter_map(|(c, cmp, _)| {
            let lead = c.leads.iter().max_by_key(|l| l.updated_at)?;
            let reason = Reason::new(
                "possible_duplicate",
                None,
                [
                    ("lead", lead.lead_id.to_string()),
                    ("contact", c.contact_id.to_string()),
                    ("probability", format!("{:.2}", cmp.probability)),
                    ("shared", cmp.shared_fields().join(",")),
                ]
                .into_iter()
                .filter(|(_, v)| !v.is_empty()),
            );
            Some((
                PossibleDuplicate {
                    lead_id: lead.lead_id,
                    contact_id: c.contact_id,
                    comparison: matcher.explain(
                        me.get_or_insert_with(|| Candidate::from_submission(0, n))
                            .fields(),
                        c.fields(),
                        cmp,
                    ),
                },
                reason,
            ))
        })
        .take(3)
        .collect()
}

/// A junk lead of this contact about the same product, recent enough to take another touch.
pub fn junk_lead_of<C: Borrow<Candidate>>(
    n: &Normalized,
    candidates: &[C],
    contact_id: Id,
    policy: &DedupPolicy,
    now: Millis,
) -> Option<Id> {
    candidates
        .iter()
        .map(Borrow::borrow)
        .find(|c: &&Candidate| c.contact_id == contact_id)?
        .leads
        .iter()
        .filter(|l| {
            l.stage == Stage::Junk && same_product(l.product.as_deref(), n.product.as_deref())
        })
        .filter(|l| now - l.updated_at <= policy.same_request_window_ms)
        .max_by_key(|l| l.updated_at)
        .map(|l| l.lead_id)
}

/// Picks the matching contact and lead among the candidates.
pub fn decide<C: Borrow<Candidate>>(
    n: &Normalized,
    candidates: &[C],
    policy: &DedupPolicy,
    now: Millis,
) -> (MatchDecision, Vec<Reason>) {
    decide_among(
        n,
        &compare_candidates(n, candidates, &policy.matcher),
        policy,
        now,
    )
}

/// [`decide`] among candidates already compared.
pub fn decide_among(
    n: &Normalized,
    compared: &[Compared<'_>],
    policy: &DedupPolicy,
    now: Millis,
) -> (MatchDecision, Vec<Reason>) {
    let best = compared
        .iter()
        .find(|(_, _, d)| *d == ContactDecision::SamePerson);
    let Some((contact, cmp, _)) = best else {
        return (MatchDecision::NewContact, Vec::new());
    };
    let mut reasons = vec![Reason::new(
        "same_contact",
        None,
        [
            ("contact", contact.contact_id.to_string()),
            ("probability", format!("{:.3}", cmp.probability)),
            ("shared", cmp.shared_fields().join(",")),
        ],
    )];
    let product = n.product.as_deref();
    let open = contact
        .leads
        .iter()
        .filter(|l| l.stage.is_open() && same_product(l.product.as_deref(), product))
        .filter(|l| now - l.updated_at <= policy.same_request_window_ms)
        .max_by_key(|l| l.updated_at);
    if let Some(l) = open {
        reasons.push(Reason::new(
            "same_request",
            None,
            [("lead", l.lead_id.to_string())],
        ));
        return (
            MatchDecision::Touch {
                contact_id: contact.contact_id,
                lead_id: l.lead_id,
            },
            reasons,
        );
    }
    if policy.reopen_refused {
        let refused = contact
            .leads
            .iter()
            .filter(|l| l.stage == Stage::Refused && same_product(l.product.as_deref(), product))
            .max_by_key(|l| l.updated_at);
        if let Some(l) = refused {
            reasons.push(Reason::new(
                "reopened",
                None,
                [("lead", l.lead_id.to_string())],
            ));
            return (
                MatchDecision::Reopen {
                    contact_id: contact.contact_id,
                    lead_id: l.lead_id,
                },
                reasons,
            );
        }
    }
    reasons.push(Reason::new("new_request", None, []));
    (
        MatchDecision::NewLead {
            contact_id: contact.contact_id,
        },
        reasons,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::{normalize, Submission};
    use crate::model::Channel;

    const DAY: i64 = 86_400_000;

    fn n(product: Option<&str>) -> Normalized {
        let mut s = Submission::new(Channel::WebForm, 0)
            .with("name", "Anna")
            .with("phone", "+31612345678")
            .with("email", "Anna@Example.com");
        if let Some(p) = product {
            s = s.with("product", p);
        }
        normalize(&s, &Default::default())
    }

    fn cand(leads: Vec<CandidateLead>) -> Candidate {
        Candidate {
            contact_id: 7,
            name: "Anna".into(),
            phones: vec!["+31612345678".into()],
            leads,
            ..Default::default()
        }
    }

    fn lead(id: Id, product: Option<&str>, stage: Stage, updated_at: Millis) -> CandidateLead {
        CandidateLead {
            lead_id: id,
            product: product.map(str::to_string),
            stage,
            owner_id: None,
            updated_at,
        }
    }

    #[test]
    fn no_candidates_new_contact() {
        let (d, r) = decide::<Candidate>(&n(None), &[], &DedupPolicy::default(), 0);
        assert_eq!(d, MatchDecision::NewContact);
        assert!(r.is_empty());
    }

    #[test]
    fn same_product_open_lead_gets_a_touch() {
        let c = cand(vec![lead(1, Some("Sofa"), Stage::Working, 10 * DAY)]);
        let (d, _) = decide(&n(Some("sofa")), &[c], &DedupPolicy::default(), 11 * DAY);
        assert_eq!(
            d,
            MatchDecision::Touch {
                contact_id: 7,
                lead_id: 1
            }
        );
    }

    #[test]
    fn other_product_is_a_new_lead_of_same_contact() {
        let c = cand(vec![lead(1, Some("Sofa"), Stage::Working, 0)]);
        let (d, _) = decide(&n(Some("Table")), &[c], &DedupPolicy::default(), DAY);
        assert_eq!(d, MatchDecision::NewLead { contact_id: 7 });
    }

    #[test]
    fn old_open_lead_outside_window_is_new_lead() {
        let c = cand(vec![lead(1, None, Stage::New, 0)]);
        let (d, _) = decide(&n(None), &[c], &DedupPolicy::default(), 365 * DAY);
        assert_eq!(d, MatchDecision::NewLead { contact_id: 7 });
    }

    #[test]
    fn refused_lead_is_reopened() {
        let c = cand(vec![lead(3, None, Stage::Refused, 0)]);
        let (d, _) = decide(
            &n(None),
            std::slice::from_ref(&c),
            &DedupPolicy::default(),
            DAY,
        );
        assert_eq!(
            d,
            MatchDecision::Reopen {
                contact_id: 7,
                lead_id: 3
            }
        );
        let off = DedupPolicy {
            reopen_refused: false,
            ..Default::default()
        };
        let (d, _) = decide(&n(None), &[c], &off, DAY);
        assert_eq!(d, MatchDecision::NewLead { contact_id: 7 });
    }

    #[test]
    fn unrelated_candidate_is_ignored() {
        let mut c = cand(vec![]);
        c.phones = vec!["+70000000000".into()];
        let (d, _) = decide(&n(None), &[c], &DedupPolicy::default(), 0);
        assert_eq!(d, MatchDecision::NewContact);
    }

    /// Candidates are only scored; the comparison kept with a possible duplicate is made whole
    /// afterwards and is the one the matcher gives for the two contacts' fields.
    #[test]
    fn a_kept_comparison_is_the_matchers_whole_comparison() {
        let mut c = cand(vec![lead(1, None, Stage::Working, 0)]);
        c.name = "Мария Соколова".into();
        c.emails = vec!["anna@other.example".into(), "a.smit@work.example".into()];
        c.company = Some("Acme B.V.".into());
        let sub = normalize(
            &Submission::new(Channel::WebForm, 0)
                .with("name", "Anna")
                .with("phone", "+31612345678")
                .with("email", "Anna@Example.com")
                .with("company", "ACME B.V."),
            &Default::default(),
        );
        let matcher = ContactMatcher::default();
        let found = possible_duplicates(&sub, std::slice::from_ref(&c), &matcher);
        assert_eq!(found.len(), 1);
        let me = Candidate::from_submission(0, &sub);
        let whole = |c: &Candidate| crate::linkage::contact::ContactFields {
            name: c.name.clone(),
            phones: c.phones.clone(),
            email_keys: c.emails.clone(),
            socials: c.socials.clone(),
            company: c.company.clone(),
            city: None,
        };
        let expected = matcher.compare(&whole(&me), &whole(&c));
        assert_eq!(found[0].0.comparison, expected);
        assert_eq!(
            expected.explanation[1].values,
            [
                "anna@example.com".to_string(),
                "anna@other.example a.smit@work.example".to_string()
            ]
        );
        let scored = &compare_candidates(&sub, std::slice::from_ref(&c), &matcher)[0].1;
        assert_eq!(scored.probability, expected.probability);
        assert_eq!(scored.shared_fields(), vec!["phone", "company"]);
    }

    #[test]
    fn shared_phone_under_another_name_is_a_possible_duplicate_not_a_touch() {
        let mut c = cand(vec![lead(1, None, Stage::Working, 0)]);
        c.name = "Мария Соколова".into();
        let (d, _) = decide(
            &n(None),
            std::slice::from_ref(&c),
            &DedupPolicy::default(),
            DAY,
        );
        assert_eq!(d, MatchDecision::NewContact);
        let found = possible_duplicates(&n(None), &[c], &ContactMatcher::default());
        assert_eq!(found.len(), 1);
        let (p, reason) = &found[0];
        assert_eq!((p.lead_id, p.contact_id), (1, 7));
        assert!((0.3..0.95).contains(&p.comparison.probability), "{p:?}");
        assert_eq!(reason.code, "possible_duplicate");
        assert!(
            reason.message.contains("shared phone"),
            "{}",
            reason.message
        );
    }

    #[test]
    fn same_name_in_another_script_with_the_phone_is_the_same_person() {
        let mut c = cand(vec![lead(1, None, Stage::Working, 0)]);
        c.name = "Анна".into();
        let (d, why) = decide(&n(None), &[c], &DedupPolicy::default(), DAY);
        assert_eq!(
            d,
            MatchDecision::Touch {
                contact_id: 7,
                lead_id: 1
            }
        );
        assert!(why[0].message.contains("match probability"), "{why:?}");
    }
}

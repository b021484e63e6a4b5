//! Deduplication: is this the same person, and the same request?

use super::{Normalized, Reason};
use crate::model::{Id, Millis, Stage};
use serde::{Deserialize, Serialize};

/// An existing contact that shares a blocking key (phone, email, social profile) with the submission.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub contact_id: Id,
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
}

impl Default for DedupPolicy {
    fn default() -> Self {
        DedupPolicy {
            same_request_window_ms: 90 * 24 * 3600 * 1000,
            reopen_refused: true,
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

/// Strength of the evidence that a candidate is the submitter: 2 for an exact email or social
/// profile, 2 for a phone, summed. The strongest candidate wins; ties go to the older contact.
fn evidence(n: &Normalized, c: &Candidate) -> (u32, Vec<&'static str>) {
    let mut score = 0;
    let mut why = Vec::new();
    if n.phones
        .iter()
        .filter(|p| p.valid)
        .filter_map(|p| p.e164.as_deref())
        .any(|p| c.phones.iter().any(|x| x == p))
    {
        score += 2;
        why.push("phone");
    }
    // Candidates carry matching keys, so the submission is compared in the same form.
    if n.emails
        .iter()
        .map(super::keys::email_key)
        .any(|e| c.emails.contains(&e))
    {
        score += 2;
        why.push("email");
    }
    if n.socials
        .iter()
        .map(|s| super::keys::social_key(s))
        .any(|s| c.socials.contains(&s))
    {
        score += 2;
        why.push("social profile");
    }
    (score, why)
}

/// Contacts that share no phone, email or profile with the submission but have its name at the
/// same company: possibly the same person. Their latest lead is flagged for review; the
/// submission still makes a contact of its own.
pub fn possible_duplicates(n: &Normalized, candidates: &[Candidate]) -> Vec<(Id, Reason)> {
    let Some(key) = super::keys::block_key(n) else {
        return Vec::new();
    };
    candidates
        .iter()
        .filter(|c| c.block_key.as_deref() == Some(key.as_str()) && evidence(n, c).0 == 0)
        .filter_map(|c| {
            let lead = c.leads.iter().max_by_key(|l| l.updated_at)?;
            Some((
                lead.lead_id,
                Reason::new(
                    "possible_duplicate",
                    None,
                    format!(
                        "possible duplicate of lead #{}: same name and company as contact #{}, but no shared phone or email",
                        lead.lead_id, c.contact_id
                    ),
                ),
            ))
        })
        .take(3)
        .collect()
}

/// A junk lead of this contact about the same product, recent enough to take another touch.
pub fn junk_lead_of(
    n: &Normalized,
    candidates: &[Candidate],
    contact_id: Id,
    policy: &DedupPolicy,
    now: Millis,
) -> Option<Id> {
    candidates
        .iter()
        .find(|c| c.contact_id == contact_id)?
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
pub fn decide(
    n: &Normalized,
    candidates: &[Candidate],
    policy: &DedupPolicy,
    now: Millis,
) -> (MatchDecision, Vec<Reason>) {
    let best = candidates
        .iter()
        .map(|c| (evidence(n, c), c))
        .filter(|((s, _), _)| *s > 0)
        .max_by(|((a, _), ca), ((b, _), cb)| a.cmp(b).then(cb.contact_id.cmp(&ca.contact_id)));
    let Some(((_, why), contact)) = best else {
        return (MatchDecision::NewContact, Vec::new());
    };
    let mut reasons = vec![Reason::new(
        "same_contact",
        None,
        format!(
            "same person as contact #{} by {}",
            contact.contact_id,
            why.join(" and ")
        ),
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
            format!("same request as open lead #{}: added as a touch", l.lead_id),
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
                format!("refused lead #{} asked again: reopened", l.lead_id),
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
    reasons.push(Reason::new(
        "new_request",
        None,
        "a new request of a known contact",
    ));
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
            phones: vec!["+31612345678".into()],
            emails: vec![],
            socials: vec![],
            block_key: None,
            leads,
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
        let (d, r) = decide(&n(None), &[], &DedupPolicy::default(), 0);
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
}

//! Routing step of the intake: who works this lead. The rules engine is
//! [`crate::routing`]; this step reads the facts of a submission and its matched contact.

use super::{Candidate, MatchDecision, Normalized, Score};
use crate::model::{Id, Millis, Stage};
use crate::notice::Notice;
use crate::routing::{Assignment, LeadFacts, Router};
use serde::{Deserialize, Serialize};

/// What storage knows about the people who can take leads, with the rules, plus where the
/// submission being planned came from (set by the committer before each plan).
#[derive(Debug, Default)]
pub struct RouteContext {
    pub router: Router,
    pub origin: Origin,
    /// The conversion model, when one is trained: its probability is a fact rules can name.
    pub model: Option<std::sync::Arc<crate::predict::ConversionModel>>,
}

/// Facts of the submission that are not part of its normalized content.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub form_id: Option<Id>,
    pub partner: Option<String>,
    /// The channel, used as the source when the submission names none.
    pub channel: Option<String>,
    pub received_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RouteDecision {
    pub owner_id: Option<Id>,
    /// Why: the decision's code and values (`crate::notice_text` makes its text).
    pub why: Notice,
    /// Whether this decision consumed a round-robin turn.
    pub used_round_robin: bool,
    /// The rule that decided, and the round-robin counter whose turn it took.
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub counter: Option<String>,
}

impl RouteDecision {
    /// A decision to route nobody, for the reason of `code` (a notice with no values).
    pub fn unrouted(code: &str) -> Self {
        RouteDecision {
            why: Notice::new(code),
            ..Default::default()
        }
    }

    pub fn assignment(&self) -> Assignment {
        Assignment {
            owner_id: self.owner_id,
            rule: self.rule.clone(),
            why: self.why.clone(),
            counter: self.counter.clone(),
        }
    }
}

impl RouteContext {
    /// Counts a decision (owner's load, round-robin turn) so later leads of the batch see it.
    pub fn record(&mut self, d: &RouteDecision) {
        self.router.record(&d.assignment());
    }
}

/// What a contact's other leads tell routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ContactOwners {
    /// The owner of the latest converted lead: the customer's account owner.
    pub account_owner: Option<Id>,
    pub existing_customer: bool,
    /// The owner of the latest lead that has one.
    pub previous_owner: Option<Id>,
}

impl ContactOwners {
    pub fn of(leads: &[super::CandidateLead]) -> ContactOwners {
        let customer_lead = leads
            .iter()
            .filter(|l| l.stage == Stage::Converted)
            .max_by_key(|l| l.updated_at);
        ContactOwners {
            account_owner: customer_lead.and_then(|l| l.owner_id),
            existing_customer: customer_lead.is_some(),
            previous_owner: leads
                .iter()
                .filter(|l| l.owner_id.is_some())
                .max_by_key(|l| l.updated_at)
                .and_then(|l| l.owner_id),
        }
    }
}

/// A touch on an existing lead keeps its owner; otherwise the routing rules decide, on the
/// temperature and score the score step produced.
pub fn route<C: std::borrow::Borrow<Candidate>>(
    decision: &MatchDecision,
    candidates: &[C],
    n: &Normalized,
    score: &Score,
    conversion: Option<f64>,
    ctx: &RouteContext,
) -> RouteDecision {
    let contact = decision.contact_id().and_then(|id| {
        candidates
            .iter()
            .map(std::borrow::Borrow::borrow)
            .find(|c: &&Candidate| c.contact_id == id)
    });
    if let (Some(lead_id), Some(c)) = (decision.lead_id(), contact) {
        if let Some(owner) = c
            .leads
            .iter()
            .find(|l| l.lead_id == lead_id)
            .and_then(|l| l.owner_id)
        {
            return RouteDecision {
                owner_id: Some(owner),
                why: Notice::new("route_kept_owner"),
                ..Default::default()
            };
        }
    }
    let owners = ContactOwners::of(contact.map(|c| c.leads.as_slice()).unwrap_or(&[]));
    let o = &ctx.origin;
    let facts = LeadFacts {
        country: n.country.as_deref(),
        region: n.custom.get("region").map(String::as_str),
        city: n.custom.get("city").map(String::as_str),
        product: n.product.as_deref(),
        source: n.attribution.utm_source.as_deref().or(o.channel.as_deref()),
        partner: o.partner.as_deref(),
        form_id: o.form_id,
        language: n.language.as_deref(),
        temperature: score.temperature,
        score: score.points,
        conversion,
        account_owner: owners.account_owner,
        existing_customer: owners.existing_customer,
        previous_owner: owners.previous_owner,
    };
    let a = ctx.router.decide(&facts, o.received_at);
    RouteDecision {
        owner_id: a.owner_id,
        why: a.why,
        used_round_robin: a.counter.is_some(),
        rule: a.rule,
        counter: a.counter,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::CandidateLead;
    use crate::routing::{Person, RoutingRules};
    use crate::Temperature;
    use std::collections::HashMap;

    fn ctx(ids: &[Id]) -> RouteContext {
        let people = ids
            .iter()
            .map(|&i| Person::new(i, &format!("P{i}"), &format!("p{i}@example.com")))
            .collect();
        RouteContext {
            router: Router::new(RoutingRules::default(), people, HashMap::new()),
            origin: Origin::default(),
            model: None,
        }
    }

    fn blank() -> Normalized {
        crate::intake::normalize(
            &crate::intake::Submission::new(crate::Channel::Api, 0),
            &crate::intake::NormalizeSettings::default(),
        )
    }

    fn score() -> Score {
        Score {
            points: 10,
            fit: 10,
            engagement: 0,
            fit_level: crate::scoring::FitLevel::Unsuitable,
            activity: crate::scoring::Activity::Inactive,
            temperature: Temperature::Warm,
            contributions: vec![],
            profile: Default::default(),
        }
    }

    #[test]
    fn round_robin_cycles() {
        let mut ctx = ctx(&[10, 20, 30]);
        let n = blank();
        let owners: Vec<_> = (0..4)
            .map(|_| {
                let d =
                    route::<Candidate>(&MatchDecision::NewContact, &[], &n, &score(), None, &ctx);
                ctx.record(&d);
                d.owner_id.unwrap()
            })
            .collect();
        assert_eq!(owners, vec![10, 20, 30, 10]);
    }

    #[test]
    fn touch_keeps_owner_known_contact_is_sticky_customer_goes_to_account_owner() {
        let mut c = Candidate {
            contact_id: 1,
            leads: vec![CandidateLead {
                lead_id: 5,
                product: None,
                stage: Stage::Working,
                owner_id: Some(30),
                updated_at: 0,
            }],
            ..Default::default()
        };
        let ctx = ctx(&[10, 30, 40]);
        let n = blank();
        let d = route(
            &MatchDecision::Touch {
                contact_id: 1,
                lead_id: 5,
            },
            std::slice::from_ref(&c),
            &n,
            &score(),
            None,
            &ctx,
        );
        assert_eq!(d.owner_id, Some(30));
        let d = route(
            &MatchDecision::NewLead { contact_id: 1 },
            std::slice::from_ref(&c),
            &n,
            &score(),
            None,
            &ctx,
        );
        assert_eq!(d.owner_id, Some(30));
        assert!(!d.used_round_robin);
        c.leads.push(CandidateLead {
            lead_id: 6,
            product: None,
            stage: Stage::Converted,
            owner_id: Some(40),
            updated_at: -1,
        });
        let d = route(
            &MatchDecision::NewLead { contact_id: 1 },
            &[c],
            &n,
            &score(),
            None,
            &ctx,
        );
        assert_eq!(d.owner_id, Some(40));
        assert_eq!(d.rule.as_deref(), Some("Existing customers"));
    }

    #[test]
    fn nobody_means_unassigned() {
        let d = route::<Candidate>(
            &MatchDecision::NewContact,
            &[],
            &blank(),
            &score(),
            None,
            &RouteContext::default(),
        );
        assert_eq!(d.owner_id, None);
    }
}

//! Routing: who works this lead.

use super::{Candidate, MatchDecision};
use crate::model::Id;
use serde::{Deserialize, Serialize};

/// What storage knows about the people who can take leads.
#[derive(Debug, Clone, Default)]
pub struct RouteContext {
    /// Active salespeople in a stable order.
    pub salespeople: Vec<Id>,
    /// How many leads have been handed out by round robin so far.
    pub round_robin_counter: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteDecision {
    pub owner_id: Option<Id>,
    pub explanation: String,
    /// Whether this decision consumed a round-robin turn.
    pub used_round_robin: bool,
}

/// Existing lead keeps its owner; a known contact goes to the owner of its other leads (sticky);
/// otherwise round robin over active salespeople; nobody available → the unassigned queue.
pub fn route(
    decision: &MatchDecision,
    candidates: &[Candidate],
    ctx: &RouteContext,
) -> RouteDecision {
    let contact = decision
        .contact_id()
        .and_then(|id| candidates.iter().find(|c| c.contact_id == id));
    if let (Some(lead_id), Some(c)) = (decision.lead_id(), contact) {
        if let Some(owner) = c
            .leads
            .iter()
            .find(|l| l.lead_id == lead_id)
            .and_then(|l| l.owner_id)
        {
            return RouteDecision {
                owner_id: Some(owner),
                explanation: "kept the lead's owner".into(),
                used_round_robin: false,
            };
        }
    }
    if let Some(c) = contact {
        let sticky = c
            .leads
            .iter()
            .filter(|l| l.owner_id.is_some_and(|o| ctx.salespeople.contains(&o)))
            .max_by_key(|l| l.updated_at)
            .and_then(|l| l.owner_id);
        if let Some(owner) = sticky {
            return RouteDecision {
                owner_id: Some(owner),
                explanation: "sticky owner: the contact's other lead belongs to this person".into(),
                used_round_robin: false,
            };
        }
    }
    if ctx.salespeople.is_empty() {
        return RouteDecision {
            owner_id: None,
            explanation: "nobody available: left in the unassigned queue".into(),
            used_round_robin: false,
        };
    }
    let n = ctx.salespeople.len() as u64;
    let turn = ctx.round_robin_counter % n;
    RouteDecision {
        owner_id: Some(ctx.salespeople[turn as usize]),
        explanation: format!("round robin {} of {}", turn + 1, n),
        used_round_robin: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::CandidateLead;
    use crate::Stage;

    #[test]
    fn round_robin_cycles() {
        let mut ctx = RouteContext {
            salespeople: vec![10, 20, 30],
            round_robin_counter: 0,
        };
        let owners: Vec<_> = (0..4)
            .map(|_| {
                let d = route(&MatchDecision::NewContact, &[], &ctx);
                ctx.round_robin_counter += 1;
                d.owner_id.unwrap()
            })
            .collect();
        assert_eq!(owners, vec![10, 20, 30, 10]);
    }

    #[test]
    fn touch_keeps_owner_and_known_contact_is_sticky() {
        let c = Candidate {
            contact_id: 1,
            phones: vec![],
            emails: vec![],
            socials: vec![],
            block_key: None,
            leads: vec![CandidateLead {
                lead_id: 5,
                product: None,
                stage: Stage::Working,
                owner_id: Some(30),
                updated_at: 0,
            }],
        };
        let ctx = RouteContext {
            salespeople: vec![10, 30],
            round_robin_counter: 0,
        };
        let d = route(
            &MatchDecision::Touch {
                contact_id: 1,
                lead_id: 5,
            },
            std::slice::from_ref(&c),
            &ctx,
        );
        assert_eq!(d.owner_id, Some(30));
        let d = route(&MatchDecision::NewLead { contact_id: 1 }, &[c], &ctx);
        assert_eq!(d.owner_id, Some(30));
        assert!(!d.used_round_robin);
    }

    #[test]
    fn nobody_means_unassigned() {
        let d = route(&MatchDecision::NewContact, &[], &RouteContext::default());
        assert_eq!(d.owner_id, None);
    }
}

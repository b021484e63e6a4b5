//! The intake pipeline's pure steps:
//! normalize → validate → dedup → score → qualify → route.
//!
//! Each step is a function over domain types. Storage supplies dedup candidates and the
//! routing context; the application layer runs the steps in one transaction.

pub mod dedup;
pub mod email;
pub mod keys;
pub mod normalize;
pub mod route;
pub mod score;
pub mod scrub;
pub mod text;
pub mod validate;

use crate::model::{Channel, Id, Millis};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use dedup::{Candidate, CandidateLead, DedupPolicy, MatchDecision, PossibleDuplicate};
pub use normalize::{apply_definition, normalize, FormContext, NormalizeSettings, Normalized};
pub use route::{route, ContactOwners, Origin, RouteContext, RouteDecision};
pub use score::{qualify, score, Score};
pub use scrub::{Action, Scrub, ScrubContext, ScrubRules};
pub use validate::{validate, Outcome, Reason, Validation, ValidationRules};

/// A raw request as it arrived, before any interpretation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    pub channel: Channel,
    pub form_id: Option<Id>,
    /// Field name → value exactly as received (multi-valued fields joined by ", ").
    pub fields: BTreeMap<String, String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub partner: Option<String>,
    pub received_at: Millis,
}

impl Submission {
    pub fn new(channel: Channel, received_at: Millis) -> Self {
        Submission {
            channel,
            form_id: None,
            fields: BTreeMap::new(),
            ip: None,
            user_agent: None,
            partner: None,
            received_at,
        }
    }

    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.fields.insert(name.to_string(), value.into());
        self
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    /// The submission as stored beside the lead (JSON text), so any decision can be re-run.
    pub fn raw_json(&self) -> String {
        serde_json::to_string(&self.fields).unwrap_or_else(|_| "null".into())
    }
}

/// What the pipeline decided for one submission, before it is committed.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Bot or abuse: counted, nothing else.
    Reject { reasons: Vec<Reason> },
    /// No usable contact: stored as an interest.
    Interest { reasons: Vec<Reason> },
    /// A lead: a new one, a new touch on an existing one, or a reopened one.
    Lead {
        decision: MatchDecision,
        score: Box<Score>,
        stage: crate::Stage,
        route: RouteDecision,
        reasons: Vec<Reason>,
        /// Contacts the matcher was unsure of, each with its latest lead: for review.
        possible_duplicate_of: Vec<dedup::PossibleDuplicate>,
        /// Predicted probability of conversion of an open lead, when a model is trained.
        conversion: Option<f64>,
    },
}

/// Runs every pure step after validation for a submission that has a usable contact. `score`
/// is the submission's [`score`]: it depends on the submission alone, so the caller works it out
/// beforehand (off the path that sees the candidates).
pub fn plan_lead<C: std::borrow::Borrow<Candidate>>(
    n: &Normalized,
    validation: Validation,
    score: Score,
    candidates: &[C],
    policy: &DedupPolicy,
    route_ctx: &RouteContext,
    now: Millis,
) -> Plan {
    match validation.outcome {
        Outcome::Reject => Plan::Reject {
            reasons: validation.reasons,
        },
        Outcome::Interest => Plan::Interest {
            reasons: validation.reasons,
        },
        Outcome::Lead if validation.junk.is_some() => {
            // A pseudo-lead repeated is a touch on the same junk lead (or a junk touch on a real
            // one); it never reopens a refused lead and is not routed to anyone.
            let mut reasons = validation.reasons;
            let (decision, why) = dedup::decide(n, candidates, policy, now);
            reasons.extend(why);
            let decision = match decision {
                MatchDecision::Reopen { contact_id, .. } => MatchDecision::NewLead { contact_id },
                d => d,
            };
            // The same pseudo-lead again is a touch on its junk lead.
            let decision = match decision {
                MatchDecision::NewLead { contact_id } => dedup::junk_lead_of(
                    n, candidates, contact_id, policy, now,
                )
                .map_or(decision, |lead_id| MatchDecision::Touch {
                    contact_id,
                    lead_id,
                }),
                d => d,
            };
            Plan::Lead {
                decision,
                score: Box::new(score),
                stage: crate::Stage::Junk,
                route: RouteDecision::unrouted("route_junk"),
                reasons,
                possible_duplicate_of: Vec::new(),
                conversion: None,
            }
        }
        Outcome::Lead => {
            let mut reasons = validation.reasons;
            // Compared once: both the decision and the possible duplicates read it.
            let compared = dedup::compare_candidates(n, candidates, &policy.matcher);
            let (decision, why) = dedup::decide_among(n, &compared, policy, now);
            reasons.extend(why);
            let mut possible_duplicate_of = Vec::new();
            if decision == MatchDecision::NewContact {
                for (lead, why) in dedup::possible_among(n, &compared, &policy.matcher) {
                    possible_duplicate_of.push(lead);
                    reasons.push(why);
                }
            }
            let score = Box::new(score);
            let stage = qualify(n, &score);
            let conversion = route_ctx
                .model
                .as_deref()
                .filter(|_| stage.is_open())
                .map(|m| {
                    let o = &route_ctx.origin;
                    let kind = n.form.kind.clone().unwrap_or_else(crate::request_kind);
                    m.probability(&crate::predict::features::at_intake(
                        n,
                        o.form_id,
                        o.channel.as_deref().unwrap_or_default(),
                        &kind,
                        score.points,
                    ))
                });
            let route = route(&decision, candidates, n, &score, conversion, route_ctx);
            Plan::Lead {
                decision,
                score,
                stage,
                route,
                reasons,
                possible_duplicate_of,
                conversion,
            }
        }
    }
}

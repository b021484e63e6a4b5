//! The feature row of a lead, built the same way from stored leads and from a submission at intake.

use super::LeadFeatures;
use crate::intake::Normalized;
use crate::Id;
use std::collections::BTreeMap;

/// Behaviour count of all touches of a lead.
pub const TOUCHES: &str = "touches";

/// Name of the behaviour count of touches through one channel.
pub fn channel_behaviour(channel: &str) -> String {
    format!("channel.{channel}")
}

/// Profile ("fit") fields of a lead: position, whether a company is known, the kind of request,
/// the order of magnitude of the stated value and the rule score in bands of ten.
pub fn fit_fields(
    position: Option<&str>,
    has_company: bool,
    kind: &str,
    value_minor: Option<i64>,
    score: i64,
) -> BTreeMap<String, String> {
    let mut fit = BTreeMap::new();
    if let Some(p) = position.map(str::trim).filter(|p| !p.is_empty()) {
        fit.insert("position".to_string(), p.to_lowercase());
    }
    fit.insert(
        "company".to_string(),
        if has_company { "yes" } else { "no" }.to_string(),
    );
    fit.insert("kind".to_string(), kind.to_string());
    if let Some(v) = value_minor.filter(|v| *v > 0) {
        fit.insert("value".to_string(), format!("1e{}", v.ilog10()));
    }
    fit.insert(
        "score".to_string(),
        format!("{}", score.clamp(-100, 100).div_euclid(10) * 10),
    );
    fit
}

/// What a new lead looks like to the model at the moment it is captured: one touch, no response.
pub fn at_intake(
    n: &Normalized,
    form_id: Option<Id>,
    channel: &str,
    kind: &str,
    score: i64,
) -> LeadFeatures {
    let mut behaviour = BTreeMap::new();
    behaviour.insert(TOUCHES.to_string(), 1);
    behaviour.insert(channel_behaviour(channel), 1);
    LeadFeatures {
        source: n.attribution.utm_source.clone(),
        medium: n.attribution.utm_medium.clone(),
        campaign: n.attribution.utm_campaign.clone(),
        form: form_id.map(|f| f.to_string()),
        product: n.product.clone(),
        country: n.country.clone(),
        phone_valid: n.phones.iter().any(|p| p.valid),
        email_valid: !n.emails.is_empty(),
        fit: fit_fields(
            n.position.as_deref(),
            n.company.is_some(),
            kind,
            n.value.map(|v| v.minor),
            score,
        ),
        behaviour,
        first_response_ms: None,
    }
}

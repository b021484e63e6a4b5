//! Pseudo-lead rules as stored data, the recent-traffic counts the burst rules need, and the
//! scrub-rate report.

use crate::{now_ms, Actor, App, AppError, Message, Result};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;
use voronka_core::intake::scrub::RulesError;
use voronka_core::intake::{Scrub, ScrubContext, ScrubRules, Submission};
use voronka_core::Millis;
use voronka_store::{ScrubBy, ScrubRow};

/// Name of the pseudo-lead rules document in the settings table.
pub const SCRUB_RULES: &str = "scrub_rules";

/// How long the stored rules are reused before they are read again (edits made by another
/// process reach this one within this time; edits made here apply at once).
const RULES_TTL: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Default)]
pub(crate) struct RulesCache(RwLock<Option<(Arc<Scrub>, Instant)>>);

/// Recent submissions per IP, per visitor id and per payload, kept in memory for the burst
/// window. Each process counts what it receives.
#[derive(Default)]
pub(crate) struct Traffic(Mutex<TrafficInner>);

#[derive(Default)]
struct TrafficInner {
    by_ip: HashMap<String, VecDeque<Millis>>,
    by_visitor: HashMap<String, VecDeque<Millis>>,
    by_payload: HashMap<String, VecDeque<(Millis, String)>>,
    seen: u64,
}

/// Most keys remembered per map; the oldest traffic is forgotten first when a flood exceeds it.
const MAX_KEYS: usize = 200_000;

fn push(map: &mut HashMap<String, VecDeque<Millis>>, key: &str, now: Millis, since: Millis) -> u32 {
    let q = map.entry(key.to_string()).or_default();
    while q.front().is_some_and(|t| *t < since) {
        q.pop_front();
    }
    q.push_back(now);
    q.len() as u32
}

impl Traffic {
    /// Records one submission and returns what the burst rules need to know about it.
    pub(crate) fn observe(&self, s: &Submission, rules: &ScrubRules) -> ScrubContext {
        let now = s.received_at;
        let since = now - rules.burst_window_secs as Millis * 1000;
        let Ok(mut t) = self.0.lock() else {
            return ScrubContext::default();
        };
        t.seen += 1;
        if t.seen % 4096 == 0
            || t.by_ip.len() + t.by_visitor.len() + t.by_payload.len() > 3 * MAX_KEYS
        {
            t.by_ip.retain(|_, q| q.back().is_some_and(|x| *x >= since));
            t.by_visitor
                .retain(|_, q| q.back().is_some_and(|x| *x >= since));
            t.by_payload
                .retain(|_, q| q.back().is_some_and(|(x, _)| *x >= since));
            if t.by_ip.len() > MAX_KEYS {
                t.by_ip.clear();
            }
            if t.by_visitor.len() > MAX_KEYS {
                t.by_visitor.clear();
            }
            if t.by_payload.len() > MAX_KEYS {
                t.by_payload.clear();
            }
        }
        let ip = s.ip.as_deref().filter(|ip| !rules.is_burst_exempt(ip));
        let mut ctx = ScrubContext::default();
        if let Some(ip) = ip {
            ctx.from_ip = push(&mut t.by_ip, ip, now, since);
        }
        if let Some(v) = s.field("visitor_id") {
            ctx.from_visitor = push(&mut t.by_visitor, v, now, since);
        }
        if let Some(ip) = ip {
            let q = t.by_payload.entry(payload_hash(s)).or_default();
            while q.front().is_some_and(|(x, _)| *x < since) {
                q.pop_front();
            }
            if !q.iter().any(|(_, c)| c == ip) {
                q.push_back((now, ip.to_string()));
            }
            ctx.identical_clients = q.len() as u32;
        }
        ctx
    }
}

/// The fields a person typed, whatever the client: the same text from several addresses is a bot.
fn payload_hash(s: &Submission) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(s.form_id.unwrap_or(0).to_le_bytes());
    for (k, v) in &s.fields {
        if k.starts_with('_') || k == "visitor_id" {
            continue;
        }
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.trim().to_lowercase().as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

fn rules_error(e: RulesError) -> AppError {
    let field = match e {
        RulesError::ExemptIp(_) => "burst_exempt_ips",
        _ => "rules",
    };
    AppError::invalid(field, Message::from(&e))
}

impl App {
    /// The pseudo-lead rules in force (the stored document, or the defaults), prepared for
    /// matching.
    pub(crate) async fn scrub(&self) -> Result<Arc<Scrub>> {
        if let Ok(c) = self.scrub_rules.0.read() {
            if let Some((r, at)) = c.as_ref() {
                if at.elapsed() < RULES_TTL {
                    return Ok(r.clone());
                }
            }
        }
        let rules = match self.store.setting(SCRUB_RULES).await? {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| AppError::Io(format!("stored scrub rules are unreadable: {e}")))?,
            None => ScrubRules::default(),
        };
        let scrub = Arc::new(Scrub::new(rules));
        if let Ok(mut c) = self.scrub_rules.0.write() {
            *c = Some((scrub.clone(), Instant::now()));
        }
        Ok(scrub)
    }

    /// The pseudo-lead rules in force: the stored document, or the defaults.
    pub async fn scrub_rules(&self) -> Result<ScrubRules> {
        Ok(self.scrub().await?.rules().clone())
    }

    /// Replaces the pseudo-lead rules (admin). Applies to submissions from now on.
    pub async fn set_scrub_rules(&self, actor: &Actor, rules: ScrubRules) -> Result<()> {
        actor.require_admin()?;
        rules.check().map_err(rules_error)?;
        let before = self.scrub_rules().await?;
        let json = serde_json::to_string(&rules).map_err(|e| AppError::Io(e.to_string()))?;
        let now = now_ms();
        self.store.put_setting(SCRUB_RULES, &json, now).await?;
        if let Ok(mut c) = self.scrub_rules.0.write() {
            *c = Some((Arc::new(Scrub::new(rules.clone())), Instant::now()));
        }
        self.audit_setting(actor, SCRUB_RULES, &before, &rules, now)
            .await
    }

    /// Reads a TOML rules file (missing keys take their defaults).
    pub fn parse_scrub_rules_toml(text: &str) -> Result<ScrubRules> {
        let rules: ScrubRules = toml::from_str(text).map_err(|e| {
            AppError::invalid(
                "rules",
                Message::new("rules_invalid").with("problem", e.message()),
            )
        })?;
        rules.check().map_err(rules_error)?;
        Ok(rules)
    }

    pub fn scrub_rules_toml(rules: &ScrubRules) -> Result<String> {
        toml::to_string(rules).map_err(|e| AppError::Io(e.to_string()))
    }

    /// Scrub rate (rejected + junk among all submissions) grouped by form, source, campaign or
    /// partner. Marketers see it too: it carries no personal data.
    pub async fn scrub_report(
        &self,
        actor: &Actor,
        by: ScrubBy,
        since: Millis,
    ) -> Result<Vec<ScrubRow>> {
        actor.require_reports()?;
        Ok(self.store.scrub_report(by, since).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use voronka_core::Channel;

    fn sub(ip: &str, at: Millis, name: &str) -> Submission {
        let mut s = Submission::new(Channel::WebForm, at)
            .with("name", name)
            .with("phone", "+79161234567");
        s.ip = Some(ip.into());
        s
    }

    #[test]
    fn bursts_and_identical_payloads_are_counted_per_window() {
        let t = Traffic::default();
        let rules = ScrubRules::default();
        for i in 0..3 {
            let ctx = t.observe(&sub("203.0.113.5", 1_000 + i, "Анна"), &rules);
            assert_eq!(ctx.from_ip, i as u32 + 1);
        }
        // The same text from other addresses counts clients, not submissions.
        let ctx = t.observe(&sub("198.51.100.7", 2_000, "Анна"), &rules);
        assert_eq!(ctx.identical_clients, 2);
        let ctx = t.observe(&sub("198.51.100.7", 2_001, "Анна"), &rules);
        assert_eq!(ctx.identical_clients, 2);
        assert_eq!(ctx.from_ip, 2);
        // Outside the window everything is forgotten.
        let later = 1_000 + rules.burst_window_secs as Millis * 1000 + 5_000;
        let ctx = t.observe(&sub("203.0.113.5", later, "Анна"), &rules);
        assert_eq!((ctx.from_ip, ctx.identical_clients), (1, 1));
        // Exempt addresses are not counted at all.
        let ctx = t.observe(&sub("127.0.0.1", later, "Олег"), &rules);
        assert_eq!((ctx.from_ip, ctx.identical_clients), (0, 0));
        let mut v = sub("127.0.0.1", later, "Олег");
        v.fields.insert("visitor_id".into(), "v-1".into());
        assert_eq!(t.observe(&v, &rules).from_visitor, 1);
        assert_eq!(t.observe(&v, &rules).from_visitor, 2);
    }
}

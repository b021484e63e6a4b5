//! Loads the demo data set through the real intake and the real lead use cases.

use crate::{Actor, App, AppError, CaptureRequest, ConvertInput, EventIn, RefuseInput, Result};
use std::collections::BTreeMap;
use voronka_core::demo::{generate, team, DemoConfig, DemoStep};
use voronka_core::{Id, Millis, Role};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub users: usize,
    pub leads: usize,
    pub admin_email: String,
    pub admin_password: Option<String>,
}

pub const DEMO_PASSWORD: &str = "voronka-demo";

/// The views the demo's sales manager shares with the team.
const DEMO_VIEWS: [(&str, &str); 3] = [
    ("Hot and still new", "stage=new&temperature=hot"),
    ("Nobody's yet", "stage=new%2Cworking&owner=none"),
    (
        "Most likely to buy",
        "stage=new%2Cworking%2Cmql%2Csql&sort=-conversion",
    ),
];

impl App {
    /// True when no lead has been stored yet.
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(self.store.count_leads(&Default::default()).await? == 0)
    }

    /// Creates the demo team (if missing) and `cfg.leads` leads over the last six months.
    pub async fn load_demo(&self, cfg: &DemoConfig) -> Result<DemoSummary> {
        let mut summary = DemoSummary::default();
        let existing = self.store.list_users().await?;
        let team_id = match self
            .store
            .list_teams()
            .await?
            .into_iter()
            .find(|(_, n)| n == "Sales")
        {
            Some((id, _)) => id,
            None => self.store.create_team("Sales").await?,
        };
        for p in team() {
            let role = Role::parse(p.role).unwrap_or(Role::Viewer);
            if existing.iter().any(|u| u.email == p.email) {
                continue;
            }
            let u = self.add_user(&p.email, p.name, DEMO_PASSWORD, role).await?;
            let team = matches!(role, Role::Salesperson | Role::SalesManager).then_some(team_id);
            self.store.update_user(u.id, role, true, team).await?;
            summary.users += 1;
            if role == Role::Admin && summary.admin_password.is_none() {
                summary.admin_email = u.email.clone();
                summary.admin_password = Some(DEMO_PASSWORD.to_string());
            }
        }
        let actor = Actor::system("demo");
        let people = self.store.list_users().await?;
        let manager = people
            .iter()
            .find(|u| u.role == Role::SalesManager)
            .cloned();
        if let Some(m) = &manager {
            // The team's views, as the manager would share them (queries as the inbox writes
            // its own address, so that each is marked when shown).
            if self.store.saved_views(m.id).await?.is_empty() {
                let by = Actor::user(m.clone());
                for (name, query) in DEMO_VIEWS {
                    self.save_view(&by, name, query, true).await?;
                }
            }
        }
        let generated = generate(cfg);
        // What the paid channels cost, as the marketer would enter it month by month.
        if self
            .store
            .spend_entries(Millis::MIN / 2, Millis::MAX / 2)
            .await?
            .is_empty()
        {
            let by = people
                .iter()
                .find(|u| u.role == Role::Marketer)
                .map(|u| Actor::user(u.clone()))
                .unwrap_or_else(|| actor.clone());
            for s in voronka_core::demo::demo_spend(cfg, &generated) {
                self.add_spend(
                    &by,
                    &crate::SpendInput {
                        source: s.source,
                        medium: Some(s.medium),
                        from: s.first_day.to_string(),
                        to: s.last_day.to_string(),
                        amount: s.amount.amount_text(),
                        currency: Some(s.amount.currency.as_str().to_string()),
                        ..Default::default()
                    },
                )
                .await?;
            }
        }
        if self.store.tracking_sites().await?.is_empty() {
            let key = crate::auth::new_secret("s_")[..26].to_string();
            self.store
                .create_tracking_site("Demo shop", &key, &[], true, crate::now_ms())
                .await?;
        }
        let mut behaviour: Vec<EventIn> = Vec::new();
        // The people's steps wait here and are taken in time order between the submissions, so
        // that a person asking again finds their lead as it was that day (still open: the same
        // lead gets a touch), not as it ends up.
        let mut pending: BTreeMap<(Millis, usize), (Id, Actor, DemoStep)> = BTreeMap::new();
        let mut order = 0;
        for dl in generated {
            let received_at = dl.submission.received_at;
            self.take_steps(&mut pending, Some(received_at)).await;
            let outcome = self
                .capture(CaptureRequest {
                    submission: dl.submission,
                    form: None,
                    idempotency_key: None,
                    client: None,
                })
                .await?;
            let Some(lead_id) = outcome.lead_id.filter(|_| outcome.action == "new_lead") else {
                continue;
            };
            summary.leads += 1;
            // People who go on to buy (or are close to it) looked at prices and opened the
            // emails more often: the behaviour the scoring rules and the model learn from.
            let keen = dl.steps.iter().any(|s| {
                matches!(
                    s,
                    DemoStep::Convert { .. }
                        | DemoStep::Stage {
                            to: voronka_core::Stage::Sql,
                            ..
                        }
                )
            });
            let events = demo_events(summary.leads, lead_id, received_at, keen);
            // The owner acts on their lead; a lead nobody owns is worked by the manager.
            let lead = self.store.lead(lead_id).await?;
            let owner = lead
                .and_then(|l| l.owner_id)
                .and_then(|o| people.iter().find(|u| u.id == o).cloned())
                .or_else(|| manager.clone());
            let who = owner.map(Actor::user).unwrap_or_else(|| actor.clone());
            for tag in demo_tags(summary.leads, keen) {
                self.tag_lead(&who, lead_id, tag).await?;
            }
            for step in dl.steps {
                order += 1;
                pending.insert((step.at(), order), (lead_id, who.clone(), step));
            }
            behaviour.extend(events);
        }
        self.take_steps(&mut pending, None).await;
        // Requests with no way back, which stay interests.
        for submission in voronka_core::demo::demo_interests(cfg) {
            self.capture(CaptureRequest {
                submission,
                form: None,
                idempotency_key: None,
                client: None,
            })
            .await?;
        }
        // Behaviour last (so the history of the people's steps reads in order), in batches.
        for chunk in behaviour.chunks(crate::MAX_EVENTS) {
            self.ingest_events("demo", chunk.to_vec()).await?;
        }
        self.catch_up_search_index().await?;
        // The demo's closed leads teach the conversion model at once, so that every open lead
        // shows its chance from the start rather than after the first nightly training.
        match self.train_model().await {
            Ok(_) => {}
            // Too few closed leads in a small demo: the nightly training tries again.
            Err(AppError::Invalid { message, .. }) => {
                tracing::debug!(%message, "demo model not trained");
            }
            Err(e) => return Err(e),
        }
        // The load's log would keep the size it reached (about a gigabyte) beside a small file.
        self.store.truncate_log().await?;
        Ok(summary)
    }

    /// Takes the waiting steps due at or before `until` (all of them: `None`), earliest first.
    /// A step the lead's state no longer allows is left out, as a person would find it refused.
    async fn take_steps(
        &self,
        pending: &mut BTreeMap<(Millis, usize), (Id, Actor, DemoStep)>,
        until: Option<Millis>,
    ) {
        while let Some(entry) = pending.first_entry() {
            if until.is_some_and(|t| entry.key().0 > t) {
                break;
            }
            let (lead_id, who, step) = entry.remove();
            if let Err(e) = self.demo_step(&who, lead_id, step).await {
                tracing::debug!(lead_id, error = %e, "demo step skipped");
            }
        }
    }

    async fn demo_step(&self, who: &Actor, lead_id: Id, step: DemoStep) -> Result<()> {
        match step {
            DemoStep::Stage { to, at } => self
                .change_stage_at(who, lead_id, to, None, at)
                .await
                .map(|_| ()),
            DemoStep::Refuse {
                reason,
                comment,
                freeze_until,
                at,
            } => self
                .refuse_at(
                    who,
                    lead_id,
                    RefuseInput {
                        reason,
                        comment,
                        freeze_until: freeze_until.filter(|f| *f > at),
                    },
                    at,
                )
                .await
                .map(|_| ()),
            DemoStep::Junk { reason, at: _ } => {
                self.mark_junk(who, lead_id, &reason).await.map(|_| ())
            }
            DemoStep::Convert { amount, title, at } => self
                .convert_at(
                    who,
                    lead_id,
                    ConvertInput {
                        amount,
                        title: Some(title),
                    },
                    at,
                )
                .await
                .map(|_| ()),
            DemoStep::Call { at } => self
                .log_activity_at(
                    who,
                    lead_id,
                    crate::ActivityInput {
                        kind: "call".into(),
                        ..Default::default()
                    },
                    at,
                )
                .await
                .map(|_| ()),
            DemoStep::Note { body, at } => {
                self.add_note_at(who, lead_id, &body, at).await.map(|_| ())
            }
        }
    }
}

/// The team's labels on the `k`-th demo lead: the keen ones often marked VIP, some met at the
/// exhibition, some to call back, a few from a partner's referral. Deterministic.
fn demo_tags(k: usize, keen: bool) -> Vec<&'static str> {
    let mut tags = Vec::new();
    if keen && k.is_multiple_of(3) {
        tags.push("VIP");
    }
    if k.is_multiple_of(11) {
        tags.push("Выставка-2026");
    }
    if k.is_multiple_of(23) {
        tags.push("Перезвонить");
    }
    if k.is_multiple_of(41) {
        tags.push("Partner referral");
    }
    tags
}

/// Site and email behaviour of the `k`-th demo lead: browsing in the hours before the form,
/// email engagement in the days after; a `keen` person (one who buys or gets close) views prices,
/// fills a cart and clicks the emails more often. Deterministic, so a seed always gives the same
/// data.
fn demo_events(
    k: usize,
    lead_id: voronka_core::Id,
    received_at: voronka_core::Millis,
    keen: bool,
) -> Vec<EventIn> {
    const HOUR: i64 = 3_600_000;
    let mut out = Vec::new();
    let mut add = |name: &str, at: i64, url: &str| {
        out.push(EventIn {
            name: name.into(),
            visitor_id: None,
            lead_id: Some(lead_id),
            url: Some(format!("https://shop.example.com{url}")),
            at: Some(at.min(crate::now_ms())),
            age: None,
            properties: Default::default(),
            id: None,
        });
    };
    // The share of people doing a thing, keen or not: `k` spread over 0..100 by a multiplier
    // prime to 100, so that the shares do not line up with one another.
    let share = |salt: usize, keen_pct: usize, other_pct: usize| {
        (k.wrapping_mul(37).wrapping_add(salt * 11)) % 100 < if keen { keen_pct } else { other_pct }
    };
    for j in 0..(1 + k % 4) as i64 {
        add("page_view", received_at - (j + 1) * HOUR, "/");
    }
    if !k.is_multiple_of(3) {
        add("view_product", received_at - 2 * HOUR, "/catalog/item");
    }
    if share(1, 75, 35) {
        add("view_pricing", received_at - HOUR, "/pricing");
    }
    if share(2, 35, 10) {
        add("view_pricing", received_at - 30 * 60_000, "/pricing");
        add("add_to_cart", received_at - 20 * 60_000, "/cart");
    }
    if share(3, 60, 30) {
        add("email_open", received_at + 24 * HOUR, "/");
    }
    if share(4, 30, 8) {
        add(
            "email_click_product",
            received_at + 26 * HOUR,
            "/catalog/item",
        );
    }
    if share(5, 2, 7) {
        add("page_view", received_at - 3 * HOUR, "/careers");
    }
    out
}

//! Loads the demo data set through the real intake and the real lead use cases.

use crate::{Actor, App, CaptureRequest, ConvertInput, RefuseInput, Result};
use voronka_core::demo::{generate, team, DemoConfig, DemoStep};
use voronka_core::Role;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub users: usize,
    pub leads: usize,
    pub admin_email: String,
    pub admin_password: Option<String>,
}

pub const DEMO_PASSWORD: &str = "voronka-demo";

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
        for dl in generate(cfg) {
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
            // The owner acts on their lead; a lead nobody owns is worked by the manager.
            let lead = self.store.lead(lead_id).await?;
            let owner = lead
                .and_then(|l| l.owner_id)
                .and_then(|o| people.iter().find(|u| u.id == o).cloned())
                .or_else(|| manager.clone());
            let who = owner.map(Actor::user).unwrap_or_else(|| actor.clone());
            for step in dl.steps {
                let r = match step {
                    DemoStep::Stage { to, at } => self
                        .change_stage_at(&who, lead_id, to, None, at)
                        .await
                        .map(|_| ()),
                    DemoStep::Refuse {
                        reason,
                        comment,
                        freeze_until,
                        at,
                    } => self
                        .refuse_at(
                            &who,
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
                        self.mark_junk(&who, lead_id, &reason).await.map(|_| ())
                    }
                    DemoStep::Convert { amount, title, at } => self
                        .convert_at(
                            &who,
                            lead_id,
                            ConvertInput {
                                amount,
                                title: Some(title),
                            },
                            at,
                        )
                        .await
                        .map(|_| ()),
                    DemoStep::Note { body, at } => {
                        self.add_note_at(&who, lead_id, &body, at).await.map(|_| ())
                    }
                };
                if let Err(e) = r {
                    tracing::debug!(lead_id, error = %e, "demo step skipped");
                }
            }
        }
        Ok(summary)
    }
}

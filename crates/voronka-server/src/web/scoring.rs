//! Scoring pages: the fit × activity matrix (each cell a link to its leads) and the scoring
//! settings (rules editor with presets, rescoring progress, tracking sites and their embed code).

use super::fmt::datetime;
use super::{query_value, render, render_status, see_other, t, Layout, PageResult, PostForm};
use crate::error::classify;
use crate::extract::WebUser;
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use voronka_app::{AppError, Message};
use voronka_core::scoring::{Activity, FitLevel, Rules};
use voronka_store::ScoreRun;

pub(crate) struct Cell {
    pub count: i64,
    pub href: String,
    pub label: String,
    /// 0–4: how strong the cell's colour is.
    pub heat: usize,
}

pub(crate) struct MatrixRow {
    pub label: &'static str,
    pub cells: Vec<Cell>,
}

pub(crate) struct RunView {
    pub reason: String,
    pub done: i64,
    pub total: i64,
    pub changed: i64,
    pub percent: i64,
    pub started: String,
    pub finished: Option<String>,
}

fn run_view(r: ScoreRun) -> RunView {
    RunView {
        percent: if r.total > 0 {
            (r.done * 100 / r.total).clamp(0, 100)
        } else {
            100
        },
        reason: r.reason,
        done: r.done,
        total: r.total,
        changed: r.changed,
        started: datetime(r.started_at),
        finished: r.finished_at.map(datetime),
    }
}

/// The conversion model as the scoring page shows it.
pub(crate) struct ModelView {
    pub trained: String,
    pub closed: usize,
    pub won: usize,
    pub held_out: usize,
    pub auc: String,
    pub brier: String,
    pub baseline_auc: String,
    pub baseline_brier: String,
    /// Decile, leads, mean predicted chance, observed share converted (both in %).
    pub calibration: Vec<(usize, usize, String, String)>,
    /// Feature, its weight with sign, and whether it raises the chance.
    pub features: Vec<(String, String, bool)>,
}

fn model_view(m: voronka_app::CurrentModel) -> ModelView {
    let x = &m.model.metrics;
    let pct = |v: f64| format!("{:.1}%", v * 100.0);
    ModelView {
        trained: datetime(m.trained_at),
        closed: x.closed,
        won: x.won,
        held_out: x.test_rows,
        auc: format!("{:.3}", x.model.auc),
        brier: format!("{:.4}", x.model.brier),
        baseline_auc: format!("{:.3}", x.baseline.auc),
        baseline_brier: format!("{:.4}", x.baseline.brier),
        calibration: x
            .model
            .calibration
            .iter()
            .enumerate()
            .map(|(i, b)| (i + 1, b.leads, pct(b.predicted), pct(b.observed)))
            .collect(),
        features: x
            .top_features
            .iter()
            .take(MODEL_FEATURES)
            .map(|f| {
                (
                    f.feature.clone(),
                    format!("{:+.2}", f.weight),
                    f.weight > 0.0,
                )
            })
            .collect(),
    }
}

/// How many of the model's strongest features the page lists.
const MODEL_FEATURES: usize = 10;

#[derive(Template)]
#[template(path = "scoring.html")]
struct MatrixPage {
    layout: Layout,
    columns: Vec<&'static str>,
    rows: Vec<MatrixRow>,
    total: i64,
    run: Option<RunView>,
    /// Whether this person reads reports (and so the model's figures).
    shows_model: bool,
    model: Option<ModelView>,
}

pub(crate) async fn matrix(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let page = matrix_page(&state, &user).await?;
    Ok(render(&MatrixPage {
        layout: page
            .layout
            .with_flash(query_value(raw.as_deref(), "done").as_deref()),
        ..page
    }))
}

/// Trains the conversion model now (administrators); too few closed leads show the page again
/// with the reason.
pub(crate) async fn train_model(
    State(state): State<AppState>,
    user: WebUser,
    body: Bytes,
) -> PageResult {
    PostForm::checked(&body, &user)?;
    match state.app.train_model_as(&user.actor()).await {
        Ok(_) => Ok(see_other("/scoring?done=model")),
        Err(e @ AppError::Invalid { .. }) => {
            let (status, _) = classify(&e);
            let page = matrix_page(&state, &user).await?;
            Ok(render_status(
                status,
                &MatrixPage {
                    layout: page.layout.with_error(Some(e.to_string())).at("/scoring"),
                    ..page
                },
            ))
        }
        Err(e) => Err(e.into()),
    }
}

async fn matrix_page(state: &AppState, user: &WebUser) -> Result<MatrixPage, AppError> {
    let actor = user.actor();
    let m = state.app.score_matrix(&actor).await?;
    let max = m.cells.iter().flatten().copied().max().unwrap_or(0).max(1);
    let rows = FitLevel::ALL
        .iter()
        .rev()
        .map(|f| MatrixRow {
            label: t::fit_level_label(*f),
            cells: Activity::ALL
                .iter()
                .map(|a| {
                    let count = m.get(*f, *a);
                    Cell {
                        count,
                        href: format!(
                            "/leads?stage=new,working,mql,sql&fit_level={}&activity={}",
                            f.as_str(),
                            a.as_str()
                        ),
                        label: t::fit_activity_cell(
                            t::fit_level_label(*f),
                            t::activity_label(*a),
                            count,
                        ),
                        heat: if count == 0 {
                            0
                        } else {
                            1 + (count * 3 / max) as usize
                        },
                    }
                })
                .collect(),
        })
        .collect();
    let (shows_model, model) = match state.app.model_for(&actor).await {
        Ok(m) => (true, m.map(model_view)),
        Err(AppError::Forbidden(_)) => (false, None),
        Err(e) => return Err(e),
    };
    Ok(MatrixPage {
        layout: Layout::new(user, "scoring", t::SCORING_TITLE),
        columns: Activity::ALL
            .iter()
            .map(|a| t::activity_label(*a))
            .collect(),
        rows,
        total: m.total(),
        run: state.app.latest_score_run().await?.map(run_view),
        shows_model,
        model,
    })
}

pub(crate) struct SiteView {
    pub name: String,
    pub origins: String,
    pub honour_dnt: bool,
    pub embed: String,
}

#[derive(Template)]
#[template(path = "scoring_rules.html")]
struct RulesPage {
    layout: Layout,
    rules_toml: String,
    presets: Vec<&'static str>,
    run: Option<RunView>,
    sites: Vec<SiteView>,
}

async fn rules_page(state: &AppState, user: &WebUser) -> Result<RulesPage, AppError> {
    let actor = user.actor();
    let base = state.config.public_url.trim_end_matches('/').to_string();
    let sites = state
        .app
        .tracking_sites(&actor)
        .await?
        .into_iter()
        .map(|s| SiteView {
            embed: crate::scoring_api::embed_code(&base, &s.key, s.honour_dnt),
            name: s.name,
            origins: s.origins.join(", "),
            honour_dnt: s.honour_dnt,
        })
        .collect();
    Ok(RulesPage {
        layout: Layout::new(user, "admin", t::SCORING_RULES_TITLE),
        rules_toml: state.app.scorer().rules().to_toml(),
        presets: Rules::PRESETS.to_vec(),
        run: state.app.latest_score_run().await?.map(run_view),
        sites,
    })
}

pub(crate) async fn rules(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    user.actor().require_forms()?;
    let get = |name: &str| query_value(raw.as_deref(), name);
    let mut p = rules_page(&state, &user).await?;
    p.layout = p.layout.with_flash(get("done").as_deref());
    // A preset is loaded into the editor; it takes effect only when saved.
    if let Some(preset) = get("preset").and_then(|n| Rules::preset(&n)) {
        p.rules_toml = preset.to_toml();
    }
    Ok(render(&p))
}

pub(crate) async fn save_rules(
    State(state): State<AppState>,
    user: WebUser,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let actor = user.actor();
    let res = match form.get("mode") {
        Some("rescore") => state.app.rescore_asked(&actor).await.map(|_| "rescore"),
        Some("site") => {
            let origins = super::origins_list(&form.text("origins"));
            state
                .app
                .create_tracking_site(
                    &actor,
                    &form.text("name"),
                    &origins,
                    form.get("honour_dnt").is_some(),
                )
                .await
                .map(|_| "site")
        }
        _ => match Rules::from_toml(&form.text("rules_toml")) {
            Ok(r) => state
                .app
                .save_scoring_rules(&actor, r)
                .await
                .map(|_| "scoring"),
            Err(e) => Err(AppError::invalid("rules", Message::from(&e))),
        },
    };
    match res {
        Ok(done) => Ok(see_other(&format!("/admin/scoring?done={done}"))),
        Err(e @ AppError::Invalid { .. }) => {
            let (status, _) = classify(&e);
            let mut p = rules_page(&state, &user).await?;
            p.layout = p.layout.with_error(Some(e.to_string()));
            if form.get("mode").is_none_or(|m| m == "rules") {
                p.rules_toml = form.text("rules_toml");
            }
            Ok(render_status(status, &p))
        }
        Err(e) => Err(e.into()),
    }
}

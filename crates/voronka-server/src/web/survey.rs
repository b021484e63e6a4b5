//! The public farewell survey at `/s/{token}`: no sign-in, the token in the link is the key.
//! One question, answered once.

use super::{asset_version, render_status, t, Choice, PostForm};
use crate::error::classify;
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use voronka_app::{AppError, SURVEY_ANSWERS};

#[derive(Template)]
#[template(path = "survey.html")]
struct SurveyPage {
    title: &'static str,
    app_name: &'static str,
    asset_v: &'static str,
    /// form, thanks, answered or missing.
    state: &'static str,
    message: &'static str,
    error: String,
    token: String,
    choices: Vec<Choice>,
    comment: String,
}

impl SurveyPage {
    fn new(state: &'static str, token: &str) -> SurveyPage {
        let (title, message) = match state {
            "missing" => (t::SURVEY_NOT_FOUND_TITLE, t::SURVEY_NOT_FOUND),
            "thanks" => (t::SURVEY_TITLE, t::SURVEY_THANKS),
            "answered" => (t::SURVEY_TITLE, t::SURVEY_ALREADY),
            _ => (t::SURVEY_TITLE, t::SURVEY_INTRO),
        };
        SurveyPage {
            title,
            app_name: t::APP_NAME,
            asset_v: asset_version(),
            state,
            message,
            error: String::new(),
            token: token.to_string(),
            choices: choices(None),
            comment: String::new(),
        }
    }
}

fn choices(selected: Option<&str>) -> Vec<Choice> {
    SURVEY_ANSWERS
        .iter()
        .map(|a| Choice::new(*a, t::survey_answer_label(a), selected == Some(*a)))
        .collect()
}

fn missing() -> Response {
    render_status(StatusCode::NOT_FOUND, &SurveyPage::new("missing", ""))
}

pub(crate) async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.app.survey(&token).await {
        Ok(s) if s.answered_at.is_some() => {
            render_status(StatusCode::OK, &SurveyPage::new("answered", &token))
        }
        Ok(_) => render_status(StatusCode::OK, &SurveyPage::new("form", &token)),
        Err(AppError::NotFound(_)) => missing(),
        Err(e) => failed(e),
    }
}

pub(crate) async fn answer(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(form) = PostForm::parse(&body) else {
        let mut p = SurveyPage::new("form", &token);
        p.error = t::ERR_BAD_FORM.into();
        return render_status(StatusCode::BAD_REQUEST, &p);
    };
    let answer = form.text("answer");
    let comment = form.opt("comment");
    match state
        .app
        .answer_survey(&token, &answer, comment.as_deref())
        .await
    {
        Ok(_) => render_status(StatusCode::OK, &SurveyPage::new("thanks", &token)),
        Err(AppError::NotFound(_)) => missing(),
        Err(AppError::Conflict(_)) => {
            render_status(StatusCode::CONFLICT, &SurveyPage::new("answered", &token))
        }
        Err(e @ AppError::Invalid { .. }) => {
            let (status, _) = classify(&e);
            let mut p = SurveyPage::new("form", &token);
            p.error = e.to_string();
            p.choices = choices(Some(answer.trim()));
            p.comment = comment.unwrap_or_default();
            render_status(status, &p)
        }
        Err(e) => failed(e),
    }
}

fn failed(e: AppError) -> Response {
    tracing::error!(error = %e, "survey page failed");
    let mut p = SurveyPage::new("form", "");
    p.state = "error";
    p.message = t::ERR_INTERNAL;
    render_status(StatusCode::INTERNAL_SERVER_ERROR, &p)
}

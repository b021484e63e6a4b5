//! The embeddable front door: the widget script, its per-form configuration, view and download
//! events, the pre-submit check, the embed code with its no-JavaScript fallback, and the hosted
//! landing pages at `/l/{slug}`.

use crate::escape_html;
use crate::extract::{read_body, urlencode};
use crate::public::submission_from;
use crate::{ApiError, AppState};
use askama::Template;
use axum::extract::{Path, Query, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use voronka_app::Message;
use voronka_core::capture::{
    field_label, texts, ConsentDef, FieldKind, FormDefinition, FormKind, PopupDef, QuizStep, Texts,
    Variant, DEFAULT_PHONE_COUNTRIES,
};
use voronka_core::{Channel, Form};

/// The widget, embedded in the binary like the other assets.
pub(crate) const WIDGET_JS: &str = include_str!("../assets/w.js");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/w.js", get(script))
        .route("/f/{key}/config", get(config))
        .route("/f/{key}/event", post(event))
        .route(
            "/f/{key}/check",
            post(check).options(crate::public::preflight),
        )
        .route("/f/{key}/download", get(download))
        .route("/l/{slug}", get(landing))
}

async fn script() -> Response {
    embeddable_script(WIDGET_JS)
}

/// A script that sites embed by URL: cacheable for a few minutes, readable from any origin.
pub(crate) fn embeddable_script(body: &'static str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            // Short: sites embed this URL without a version, and upgrades should reach them.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
        ],
        body,
    )
        .into_response()
}

async fn active_form(state: &AppState, key: &str) -> Result<Form, ApiError> {
    state.app.form_by_key(key).await?.ok_or_else(|| {
        voronka_app::AppError::NotFound(Message::new("form_key_not_found").with("key", key)).into()
    })
}

#[derive(Serialize)]
struct WidgetField {
    name: String,
    kind: &'static str,
    label: String,
    required: bool,
    options: Vec<String>,
}

#[derive(Serialize)]
struct WidgetMagnet {
    title: String,
    url: String,
}

/// What the widget needs to render a form: the definition with labels resolved in the form's
/// language; nothing private (no origins, no counts).
#[derive(Serialize)]
struct WidgetConfig<'a> {
    key: &'a str,
    kind: &'static str,
    language: &'static str,
    title: &'a str,
    text: &'a str,
    offer: &'a str,
    submit_label: &'a str,
    thank_you: &'a str,
    redirect_url: Option<&'a str>,
    fields: Vec<WidgetField>,
    consent: Option<&'a ConsentDef>,
    steps: &'a [QuizStep],
    phone_countries: Vec<(String, String)>,
    default_region: &'a str,
    popup: &'a PopupDef,
    lead_magnet: Option<WidgetMagnet>,
    variants: &'a [Variant],
    honeypot: &'a str,
    texts: Texts,
}

fn labelled_fields(def: &FormDefinition) -> Vec<WidgetField> {
    def.effective_fields()
        .into_iter()
        .map(|f| WidgetField {
            label: if f.label.is_empty() {
                field_label(f.kind, def.language).to_string()
            } else {
                f.label.clone()
            },
            name: f.name,
            kind: f.kind.as_str(),
            required: f.required,
            options: f.options,
        })
        .collect()
}

fn phone_countries(f: &Form) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = if f.definition.phone_countries.is_empty() {
        DEFAULT_PHONE_COUNTRIES
            .iter()
            .map(|(c, p)| (c.to_string(), p.to_string()))
            .collect()
    } else {
        f.definition
            .phone_countries
            .iter()
            .filter_map(|c| {
                voronka_core::intake::normalize::phone::dial_prefix(c).map(|p| (c.clone(), p))
            })
            .collect()
    };
    if !list.iter().any(|(c, _)| *c == f.default_region) {
        if let Some(p) = voronka_core::intake::normalize::phone::dial_prefix(&f.default_region) {
            list.insert(0, (f.default_region.clone(), p));
        }
    }
    list
}

fn public_base(state: &AppState) -> &str {
    state.config.public_url.trim_end_matches('/')
}

async fn config(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let form = active_form(&state, &key).await?;
    let def = &form.definition;
    let cfg = WidgetConfig {
        key: &form.public_key,
        kind: def.kind.as_str(),
        language: def.language.as_str(),
        title: &def.title,
        text: &def.text,
        offer: &def.offer,
        submit_label: &def.submit_label,
        thank_you: &def.thank_you,
        redirect_url: form.redirect_url.as_deref(),
        fields: labelled_fields(def),
        consent: def.consent.as_ref(),
        steps: &def.steps,
        phone_countries: phone_countries(&form),
        default_region: &form.default_region,
        popup: &def.popup,
        lead_magnet: def.lead_magnet.as_ref().map(|m| WidgetMagnet {
            title: m.title.clone(),
            url: format!(
                "{}/f/{}/download",
                public_base(&state),
                urlencode(&form.public_key)
            ),
        }),
        variants: &def.variants,
        honeypot: &form.honeypot_field,
        texts: texts(def.language),
    };
    let mut resp = Json(cfg).into_response();
    let h = resp.headers_mut();
    // Public data, read by the widget on any site.
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=5"),
    );
    Ok(resp)
}

#[derive(Deserialize)]
struct EventBody {
    kind: String,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    visitor_id: Option<String>,
}

/// A view from the widget. Sent with `sendBeacon` as text, so no preflight is needed; only
/// views are accepted here (submissions and downloads are recorded by the server itself).
async fn event(
    State(state): State<AppState>,
    Path(key): Path<String>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    req: Request,
) -> Result<Response, ApiError> {
    if state.capture_limiter.check_key(&peer.ip()).is_err() {
        return Err(ApiError::TooManyRequests);
    }
    let form = active_form(&state, &key).await?;
    let bytes = read_body(req, &state).await?;
    let body: EventBody = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::BadRequest(Message::new("event_malformed").with("problem", e)))?;
    if body.kind != "view" {
        return Err(
            voronka_app::AppError::invalid("kind", Message::new("form_event_views_only")).into(),
        );
    }
    state
        .app
        .record_form_event(
            &form,
            "view",
            body.variant.as_deref(),
            body.visitor_id.as_deref(),
        )
        .await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    Ok(resp)
}

/// Runs normalize and validate over the fields without storing anything: the widget asks
/// before submitting, so "did you mean gmail.com?" can be fixed in place.
async fn check(
    State(state): State<AppState>,
    Path(key): Path<String>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    req: Request,
) -> Result<Response, ApiError> {
    if state.capture_limiter.check_key(&peer.ip()).is_err() {
        return Err(ApiError::TooManyRequests);
    }
    let form = active_form(&state, &key).await?;
    let (_, origin, pairs) = crate::public::read_form_post(&state, &form, req).await?;
    let sub = submission_from(Channel::WebForm, pairs);
    let reasons = state.app.check_submission(&form, &sub).await?;
    let mut resp = Json(serde_json::json!({ "reasons": reasons })).into_response();
    crate::public::cors(resp.headers_mut(), origin.as_deref());
    Ok(resp)
}

#[derive(Deserialize)]
struct DownloadQuery {
    v: Option<String>,
}

/// Hands out the lead magnet: records the download, then sends the browser to the file.
async fn download(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<DownloadQuery>,
) -> Result<Response, ApiError> {
    let form = active_form(&state, &key).await?;
    let Some(m) = form.definition.lead_magnet.clone() else {
        return Err(voronka_app::AppError::NotFound(Message::new("form_has_no_file")).into());
    };
    state
        .app
        .record_form_event(&form, "download", q.v.as_deref(), None)
        .await?;
    Ok(Redirect::to(&m.url).into_response())
}

/// A plain HTML form posting to `/f/{key}`: works with JavaScript disabled. Quiz questions are
/// all shown at once (branches cannot be followed without a script; the server follows them).
pub(crate) fn plain_form(public_url: &str, f: &Form) -> String {
    let base = public_url.trim_end_matches('/');
    let def = &f.definition;
    let tx = texts(def.language);
    let mut h = format!(
        "<form method=\"post\" action=\"{base}/f/{key}\" accept-charset=\"utf-8\" class=\"voronka-form\">\n",
        key = escape_html(&f.public_key)
    );
    if !def.title.is_empty() {
        h.push_str(&format!("  <h2>{}</h2>\n", escape_html(&def.title)));
    }
    if !def.text.is_empty() {
        h.push_str(&format!("  <p>{}</p>\n", escape_html(&def.text)));
    }
    for s in &def.steps {
        h.push_str(&format!(
            "  <fieldset>\n    <legend>{}</legend>\n",
            escape_html(&s.question)
        ));
        let ty = if s.multiple { "checkbox" } else { "radio" };
        for o in &s.options {
            h.push_str(&format!(
                "    <p><label><input type=\"{ty}\" name=\"quiz.{}\" value=\"{}\"> {}</label></p>\n",
                escape_html(&s.id),
                escape_html(&o.id),
                escape_html(&o.label)
            ));
        }
        h.push_str("  </fieldset>\n");
    }
    for fd in labelled_fields(def) {
        let req = if fd.required { " required" } else { "" };
        let star = if fd.required { " *" } else { "" };
        let name = escape_html(&fd.name);
        let label = escape_html(&fd.label);
        let kind = FieldKind::parse(fd.kind).unwrap_or(FieldKind::Text);
        let input = match kind {
            FieldKind::Message => format!("<textarea name=\"{name}\" rows=\"3\"{req}></textarea>"),
            FieldKind::Checkbox => {
                h.push_str(&format!(
                    "  <p><label><input type=\"checkbox\" name=\"{name}\" value=\"yes\"{req}> {label}{star}</label></p>\n"
                ));
                continue;
            }
            FieldKind::Select | FieldKind::MultiSelect => {
                let multi = if kind == FieldKind::MultiSelect {
                    " multiple"
                } else {
                    ""
                };
                let mut s = format!("<select name=\"{name}\"{multi}{req}>");
                if multi.is_empty() {
                    s.push_str(&format!(
                        "<option value=\"\">{}</option>",
                        escape_html(tx.choose)
                    ));
                }
                for o in &fd.options {
                    s.push_str(&format!("<option>{}</option>", escape_html(o)));
                }
                s.push_str("</select>");
                s
            }
            other => {
                let (ty, auto) = match other {
                    FieldKind::Phone => ("tel", " autocomplete=\"tel\""),
                    FieldKind::Email => ("email", " autocomplete=\"email\""),
                    FieldKind::Name => ("text", " autocomplete=\"name\""),
                    FieldKind::Company => ("text", " autocomplete=\"organization\""),
                    FieldKind::Number => ("number", ""),
                    FieldKind::Date => ("date", ""),
                    _ => ("text", ""),
                };
                format!("<input type=\"{ty}\" name=\"{name}\"{auto}{req}>")
            }
        };
        h.push_str(&format!("  <p><label>{label}{star} {input}</label></p>\n"));
    }
    if let Some(c) = &def.consent {
        let req = if c.required { " required" } else { "" };
        let link = c
            .policy_url
            .as_ref()
            .map(|u| {
                format!(
                    " <a href=\"{}\" target=\"_blank\" rel=\"noopener\">{}</a>",
                    escape_html(u),
                    escape_html(tx.privacy_policy)
                )
            })
            .unwrap_or_default();
        h.push_str(&format!(
            "  <p><label><input type=\"checkbox\" name=\"consent\" value=\"yes\"{req}> {}</label>{link}</p>\n",
            escape_html(&c.text)
        ));
    }
    let hp = if f.honeypot_field.is_empty() {
        "website"
    } else {
        f.honeypot_field.as_str()
    };
    h.push_str(&format!(
        "  <div class=\"vk-hp\" style=\"position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden\" aria-hidden=\"true\">\n    \
         <label>Leave this empty <input name=\"{}\" tabindex=\"-1\" autocomplete=\"off\"></label>\n  </div>\n",
        escape_html(hp)
    ));
    let submit = if def.submit_label.is_empty() {
        tx.submit
    } else {
        def.submit_label.as_str()
    };
    h.push_str(&format!(
        "  <p><button type=\"submit\">{}</button></p>\n</form>",
        escape_html(submit)
    ));
    h
}

/// The code a site pastes: a preload of the form's configuration (so that it travels while the
/// script loads, and the first render needs no second round trip), the widget script, and the
/// plain form for browsers without JavaScript. A popup or callback button has no place in the
/// page, so it gets no fallback.
pub(crate) fn embed_code(public_url: &str, f: &Form) -> String {
    let base = public_url.trim_end_matches('/');
    let script = format!(
        "<link rel=\"preload\" href=\"{base}/f/{}/config\" as=\"fetch\" crossorigin=\"anonymous\">\n\
         <script src=\"{base}/w.js\" data-form=\"{}\" async></script>",
        escape_html(&urlencode(&f.public_key)),
        escape_html(&f.public_key)
    );
    if f.definition.kind == FormKind::Callback
        || f.definition.popup.trigger != voronka_core::capture::PopupTrigger::None
    {
        return script;
    }
    format!(
        "{script}\n<noscript>\n{}\n</noscript>",
        plain_form(public_url, f)
    )
}

#[derive(Template)]
#[template(path = "landing.html")]
struct LandingPage {
    lang: &'static str,
    headline: String,
    paragraphs: Vec<String>,
    image_url: String,
    key: String,
    fallback: String,
    asset_v: &'static str,
}

async fn landing(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, crate::web::WebError> {
    let form = state.app.form_by_slug(&slug).await?.ok_or_else(|| {
        voronka_app::AppError::NotFound(Message::new("landing_not_found").with("slug", &slug))
    })?;
    let l = form.definition.landing.clone().unwrap_or_default();
    let page = LandingPage {
        lang: form.definition.language.as_str(),
        headline: if l.headline.is_empty() {
            form.name.clone()
        } else {
            l.headline
        },
        paragraphs: l
            .text
            .lines()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
        image_url: l.image_url.unwrap_or_default(),
        key: form.public_key.clone(),
        // The same origin serves the page and the form, so the relative form action works.
        fallback: plain_form("", &form),
        asset_v: crate::web::asset_version(),
    };
    let html = page.render().map_err(|e| {
        tracing::error!(error = %e, "landing template failed");
        crate::web::WebError::App(voronka_app::AppError::Io("template".into()))
    })?;
    let mut resp = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        html,
    )
        .into_response();
    let h: &mut HeaderMap = resp.headers_mut();
    // Images come from wherever the marketer put them; scripts, styles and posts stay here.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src * data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    Ok(resp)
}

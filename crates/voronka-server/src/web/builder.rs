//! The form builder and the quiz builder: server-rendered pages over a form's definition.
//! Rows are plain numbered inputs, so the pages work without JavaScript; a few empty rows are
//! always offered for adding fields, answers, steps and variants.

use super::{render, render_status, see_other, t, Choice, IdPath, Layout, PageResult, PostForm};
use crate::error::classify;
use crate::extract::WebUser;
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use voronka_app::{FormInput, VariantStats};
use voronka_core::capture::{
    ConsentDef, FieldDef, FieldKind, FormDefinition, FormKind, Landing, Language, LeadMagnet,
    PopupDef, PopupTrigger, QuizOption, QuizStep, Variant,
};
use voronka_core::{Form, Id};

const SPARE_FIELDS: usize = 3;
const SPARE_VARIANTS: usize = 2;
const SPARE_OPTIONS: usize = 2;

fn kind_label(k: FieldKind) -> &'static str {
    match k {
        FieldKind::Name => t::NAME,
        FieldKind::Phone => t::PHONE_COUNTRY_SELECTOR_AND_MASK,
        FieldKind::Email => t::EMAIL,
        FieldKind::Company => t::COMPANY,
        FieldKind::Position => t::POSITION,
        FieldKind::Message => t::MESSAGE,
        FieldKind::Text => t::TEXT,
        FieldKind::Number => t::NUMBER,
        FieldKind::Select => t::SELECT,
        FieldKind::MultiSelect => t::MULTI_SELECT,
        FieldKind::Checkbox => t::CHECKBOX,
        FieldKind::Date => t::DATE,
    }
}

pub(crate) struct FieldRow {
    pub i: usize,
    pub kinds: Vec<Choice>,
    pub name: String,
    pub label: String,
    pub required: bool,
    pub options: String,
}

pub(crate) struct VariantRow {
    pub i: usize,
    pub key: String,
    pub weight: String,
    pub title: String,
    pub text: String,
    pub submit: String,
    pub offer: String,
    pub hide: String,
}

pub(crate) struct StatRow {
    pub variant: String,
    pub weight: u32,
    pub views: i64,
    pub submits: i64,
    pub downloads: i64,
    pub rate: String,
    pub interval: String,
}

#[derive(Template)]
#[template(path = "form_edit.html")]
struct FormEditPage {
    layout: Layout,
    id: Id,
    key: String,
    can_edit: bool,
    // Settings.
    name: String,
    product: String,
    redirect_url: String,
    origins: String,
    region: String,
    min_fill_ms: i64,
    active: bool,
    // Definition.
    kinds: Vec<Choice>,
    languages: Vec<Choice>,
    title: String,
    text: String,
    offer: String,
    submit_label: String,
    thank_you: String,
    phone_countries: String,
    consent_text: String,
    consent_url: String,
    consent_required: bool,
    triggers: Vec<Choice>,
    popup_delay: u32,
    magnet_title: String,
    magnet_url: String,
    landing_slug: String,
    landing_headline: String,
    landing_text: String,
    landing_image: String,
    landing_url: String,
    fields: Vec<FieldRow>,
    variants: Vec<VariantRow>,
    stats: Vec<StatRow>,
    steps: usize,
    is_quiz: bool,
    embed: String,
    public_url: String,
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn stat_rows(stats: &[VariantStats]) -> Vec<StatRow> {
    stats
        .iter()
        .map(|s| StatRow {
            variant: if s.variant.is_empty() {
                "base".into()
            } else {
                s.variant.clone()
            },
            weight: s.weight,
            views: s.views,
            submits: s.submits,
            downloads: s.downloads,
            rate: s.take_rate.map(pct).unwrap_or_else(|| "—".into()),
            interval: match (s.low, s.high) {
                (Some(l), Some(h)) => format!("{} – {}", pct(l), pct(h)),
                _ => "—".into(),
            },
        })
        .collect()
}

fn edit_page(
    state: &AppState,
    user: &WebUser,
    form: &Form,
    def: &FormDefinition,
    stats: &[VariantStats],
) -> FormEditPage {
    let base = state.config.public_url.trim_end_matches('/').to_string();
    let mut fields: Vec<FieldRow> = def
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| FieldRow {
            i,
            kinds: kind_choices(Some(f.kind)),
            name: f.name.clone(),
            label: f.label.clone(),
            required: f.required,
            options: f.options.join("\n"),
        })
        .collect();
    for k in 0..SPARE_FIELDS {
        fields.push(FieldRow {
            i: def.fields.len() + k,
            kinds: kind_choices(None),
            name: String::new(),
            label: String::new(),
            required: false,
            options: String::new(),
        });
    }
    let mut variants: Vec<VariantRow> = def
        .variants
        .iter()
        .enumerate()
        .map(|(i, v)| VariantRow {
            i,
            key: v.key.clone(),
            weight: v.weight.to_string(),
            title: v.title.clone().unwrap_or_default(),
            text: v.text.clone().unwrap_or_default(),
            submit: v.submit_label.clone().unwrap_or_default(),
            offer: v.offer.clone().unwrap_or_default(),
            hide: v.hide_fields.join(", "),
        })
        .collect();
    for k in 0..SPARE_VARIANTS {
        variants.push(VariantRow {
            i: def.variants.len() + k,
            key: String::new(),
            weight: "1".into(),
            title: String::new(),
            text: String::new(),
            submit: String::new(),
            offer: String::new(),
            hide: String::new(),
        });
    }
    let landing = def.landing.clone().unwrap_or_default();
    let mut shown = form.clone();
    shown.definition = def.clone();
    FormEditPage {
        layout: Layout::new(user, "forms", format!("Form · {}", form.name)),
        id: form.id,
        key: form.public_key.clone(),
        can_edit: user.user.role.manages_forms(),
        name: form.name.clone(),
        product: form.product.clone().unwrap_or_default(),
        redirect_url: form.redirect_url.clone().unwrap_or_default(),
        origins: form.allowed_origins.join("\n"),
        region: form.default_region.clone(),
        min_fill_ms: form.min_fill_ms,
        active: form.active,
        kinds: FormKind::ALL
            .iter()
            .map(|k| {
                Choice::new(
                    k.as_str(),
                    match k {
                        FormKind::Form => t::FORM_KIND,
                        FormKind::Quiz => t::QUIZ_STEPS_THEN_CONTACT,
                        FormKind::Callback => t::CALLBACK_BUTTON,
                    },
                    *k == def.kind,
                )
            })
            .collect(),
        languages: Language::ALL
            .iter()
            .map(|l| {
                Choice::new(
                    l.as_str(),
                    match l {
                        Language::En => t::ENGLISH,
                        Language::Ru => "Русский",
                    },
                    *l == def.language,
                )
            })
            .collect(),
        title: def.title.clone(),
        text: def.text.clone(),
        offer: def.offer.clone(),
        submit_label: def.submit_label.clone(),
        thank_you: def.thank_you.clone(),
        phone_countries: def.phone_countries.join(", "),
        consent_text: def
            .consent
            .as_ref()
            .map(|c| c.text.clone())
            .unwrap_or_default(),
        consent_url: def
            .consent
            .as_ref()
            .and_then(|c| c.policy_url.clone())
            .unwrap_or_default(),
        consent_required: def.consent.as_ref().is_none_or(|c| c.required),
        triggers: PopupTrigger::ALL
            .iter()
            .map(|p| {
                Choice::new(
                    p.as_str(),
                    match p {
                        PopupTrigger::None => t::IN_THE_PAGE_NO_POPUP,
                        PopupTrigger::Exit => t::POPUP_ON_EXIT_INTENT,
                        PopupTrigger::Timer => t::POPUP_AFTER_A_DELAY,
                        PopupTrigger::ExitOrTimer => t::POPUP_ON_EXIT_INTENT_OR_AFTER,
                    },
                    *p == def.popup.trigger,
                )
            })
            .collect(),
        popup_delay: def.popup.delay_seconds,
        magnet_title: def
            .lead_magnet
            .as_ref()
            .map(|m| m.title.clone())
            .unwrap_or_default(),
        magnet_url: def
            .lead_magnet
            .as_ref()
            .map(|m| m.url.clone())
            .unwrap_or_default(),
        landing_url: if landing.slug.is_empty() {
            String::new()
        } else {
            format!("{base}/l/{}", landing.slug)
        },
        landing_slug: landing.slug,
        landing_headline: landing.headline,
        landing_text: landing.text,
        landing_image: landing.image_url.unwrap_or_default(),
        fields,
        variants,
        stats: stat_rows(stats),
        steps: def.steps.len(),
        is_quiz: def.kind == FormKind::Quiz,
        embed: crate::widget::embed_code(&base, &shown),
        public_url: base,
    }
}

fn kind_choices(selected: Option<FieldKind>) -> Vec<Choice> {
    let mut v = vec![Choice::new("", "— not used —", selected.is_none())];
    v.extend(
        FieldKind::ALL
            .iter()
            .map(|k| Choice::new(k.as_str(), kind_label(*k), Some(*k) == selected)),
    );
    v
}

fn lines(s: &str) -> Vec<String> {
    s.split(['\n', ','])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

fn opt_text(f: &PostForm, name: &str) -> Option<String> {
    f.opt(name)
}

/// Reads the form builder's fields into a definition, keeping the quiz steps as they were.
fn definition_from(f: &PostForm, old: &FormDefinition) -> FormDefinition {
    let mut fields = Vec::new();
    let mut i = 0;
    while let Some(kind) = f.get(&format!("field_kind_{i}")) {
        if let Some(kind) = FieldKind::parse(kind) {
            fields.push(FieldDef {
                name: f.text(&format!("field_name_{i}")),
                kind,
                label: f.text(&format!("field_label_{i}")),
                required: f.get(&format!("field_required_{i}")).is_some(),
                options: f
                    .text(&format!("field_options_{i}"))
                    .lines()
                    .map(str::to_string)
                    .collect(),
            });
        }
        i += 1;
    }
    let mut variants = Vec::new();
    let mut i = 0;
    while let Some(key) = f.get(&format!("var_key_{i}")) {
        let key = key.trim().to_string();
        if !key.is_empty() {
            variants.push(Variant {
                key,
                weight: f
                    .text(&format!("var_weight_{i}"))
                    .trim()
                    .parse()
                    .unwrap_or(0),
                title: opt_text(f, &format!("var_title_{i}")),
                text: opt_text(f, &format!("var_text_{i}")),
                submit_label: opt_text(f, &format!("var_submit_{i}")),
                offer: opt_text(f, &format!("var_offer_{i}")),
                hide_fields: lines(&f.text(&format!("var_hide_{i}"))),
            });
        }
        i += 1;
    }
    FormDefinition {
        kind: f.get("kind").and_then(FormKind::parse).unwrap_or_default(),
        language: f
            .get("language")
            .and_then(Language::parse)
            .unwrap_or_default(),
        title: f.text("title").trim().to_string(),
        text: f.text("text").trim().to_string(),
        offer: f.text("offer").trim().to_string(),
        submit_label: f.text("submit_label").trim().to_string(),
        fields,
        consent: f.opt("consent_text").map(|text| ConsentDef {
            text,
            policy_url: f.opt("consent_url"),
            required: f.get("consent_required").is_some(),
        }),
        steps: old.steps.clone(),
        thank_you: f.text("thank_you").trim().to_string(),
        phone_countries: lines(&f.text("phone_countries")),
        popup: PopupDef {
            trigger: f
                .get("popup_trigger")
                .and_then(PopupTrigger::parse)
                .unwrap_or_default(),
            delay_seconds: f.text("popup_delay").trim().parse().unwrap_or(0),
        },
        lead_magnet: match (f.opt("magnet_title"), f.opt("magnet_url")) {
            (None, None) => None,
            (t, u) => Some(LeadMagnet {
                title: t.unwrap_or_default(),
                url: u.unwrap_or_default(),
            }),
        },
        landing: f.opt("landing_slug").map(|slug| Landing {
            slug,
            headline: f.text("landing_headline").trim().to_string(),
            text: f.text("landing_text").trim().to_string(),
            image_url: f.opt("landing_image"),
        }),
        variants,
    }
}

fn settings_from(f: &PostForm) -> FormInput {
    FormInput {
        name: f.text("name"),
        redirect_url: f.opt("redirect_url"),
        allowed_origins: super::origins_list(&f.text("allowed_origins")),
        default_region: f.opt("default_region"),
        product: f.opt("product"),
        min_fill_ms: f.text("min_fill_ms").trim().parse().ok(),
    }
}

pub(crate) async fn edit(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let actor = user.actor();
    let form = state.app.form(&actor, id).await?;
    let stats = state.app.variant_stats(&actor, id).await?;
    let mut p = edit_page(&state, &user, &form, &form.definition, &stats);
    p.layout = p
        .layout
        .with_flash(super::query_value(raw.as_deref(), "done").as_deref());
    Ok(render(&p))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let f = PostForm::checked(&body, &user)?;
    let actor = user.actor();
    let form = state.app.form(&actor, id).await?;
    let def = definition_from(&f, &form.definition);
    let result = async {
        state
            .app
            .update_form(&actor, id, settings_from(&f), f.get("active").is_some())
            .await?;
        state.app.set_form_definition(&actor, id, def.clone()).await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/forms/{id}?done=saved"))),
        Err(e) => {
            let (status, _) = classify(&e);
            if status.is_server_error() {
                return Err(e.into());
            }
            // Show what was typed, with the problem, rather than losing it.
            let mut shown = form.clone();
            shown.name = f.text("name");
            shown.product = f.opt("product");
            shown.redirect_url = f.opt("redirect_url");
            shown.allowed_origins = super::origins_list(&f.text("allowed_origins"));
            shown.default_region = f.text("default_region");
            let stats = state.app.variant_stats(&actor, id).await?;
            let mut p = edit_page(&state, &user, &shown, &def, &stats);
            p.layout = p.layout.with_error(Some(e.to_string()));
            Ok(render_status(status, &p))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Quiz builder

pub(crate) struct OptionRow {
    pub j: usize,
    pub id: String,
    pub label: String,
    pub image: String,
    pub fit: i64,
    pub intent: i64,
    pub next: String,
    pub disqualify: bool,
}

pub(crate) struct StepRow {
    pub i: usize,
    pub n: usize,
    pub id: String,
    pub question: String,
    pub multiple: bool,
    pub next: String,
    pub options: Vec<OptionRow>,
}

#[derive(Template)]
#[template(path = "quiz_edit.html")]
struct QuizPage {
    layout: Layout,
    id: Id,
    name: String,
    can_edit: bool,
    is_quiz: bool,
    steps: Vec<StepRow>,
}

fn quiz_page(user: &WebUser, form: &Form, steps: &[QuizStep]) -> QuizPage {
    let mut rows: Vec<StepRow> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| step_row(i, Some(s)))
        .collect();
    rows.push(step_row(steps.len(), None));
    QuizPage {
        layout: Layout::new(user, "forms", format!("Quiz · {}", form.name)),
        id: form.id,
        name: form.name.clone(),
        can_edit: user.user.role.manages_forms(),
        is_quiz: form.definition.kind == FormKind::Quiz,
        steps: rows,
    }
}

fn step_row(i: usize, s: Option<&QuizStep>) -> StepRow {
    let mut options: Vec<OptionRow> = s
        .map(|s| {
            s.options
                .iter()
                .enumerate()
                .map(|(j, o)| OptionRow {
                    j,
                    id: o.id.clone(),
                    label: o.label.clone(),
                    image: o.image.clone().unwrap_or_default(),
                    fit: o.fit,
                    intent: o.intent,
                    next: o.next.clone().unwrap_or_default(),
                    disqualify: o.disqualify,
                })
                .collect()
        })
        .unwrap_or_default();
    let have = options.len();
    for k in 0..(SPARE_OPTIONS + if s.is_none() { 1 } else { 0 }) {
        options.push(OptionRow {
            j: have + k,
            id: String::new(),
            label: String::new(),
            image: String::new(),
            fit: 0,
            intent: 0,
            next: String::new(),
            disqualify: false,
        });
    }
    StepRow {
        i,
        n: i + 1,
        id: s.map(|s| s.id.clone()).unwrap_or_default(),
        question: s.map(|s| s.question.clone()).unwrap_or_default(),
        multiple: s.is_some_and(|s| s.multiple),
        next: s.and_then(|s| s.next.clone()).unwrap_or_default(),
        options,
    }
}

fn steps_from(f: &PostForm) -> Vec<QuizStep> {
    let mut steps = Vec::new();
    let mut i = 0;
    while let Some(q) = f.get(&format!("s{i}_question")) {
        let question = q.trim().to_string();
        if !question.is_empty() {
            let mut options = Vec::new();
            let mut j = 0;
            while let Some(label) = f.get(&format!("s{i}_o{j}_label")) {
                let label = label.trim().to_string();
                if !label.is_empty() {
                    let num = |k: &str| {
                        f.text(&format!("s{i}_o{j}_{k}"))
                            .trim()
                            .parse::<i64>()
                            .unwrap_or(0)
                    };
                    options.push(QuizOption {
                        id: f
                            .opt(&format!("s{i}_o{j}_id"))
                            .unwrap_or_else(|| format!("a{}", j + 1)),
                        label,
                        image: f.opt(&format!("s{i}_o{j}_image")),
                        fit: num("fit"),
                        intent: num("intent"),
                        next: f.opt(&format!("s{i}_o{j}_next")),
                        disqualify: f.get(&format!("s{i}_o{j}_dq")).is_some(),
                    });
                }
                j += 1;
            }
            steps.push(QuizStep {
                id: f
                    .opt(&format!("s{i}_id"))
                    .unwrap_or_else(|| format!("q{}", i + 1)),
                question,
                multiple: f.get(&format!("s{i}_multiple")).is_some(),
                options,
                next: f.opt(&format!("s{i}_next")),
            });
        }
        i += 1;
    }
    steps
}

pub(crate) async fn quiz(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let form = state.app.form(&user.actor(), id).await?;
    let mut p = quiz_page(&user, &form, &form.definition.steps);
    p.layout = p
        .layout
        .with_flash(super::query_value(raw.as_deref(), "done").as_deref());
    Ok(render(&p))
}

pub(crate) async fn save_quiz(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let f = PostForm::checked(&body, &user)?;
    let actor = user.actor();
    let form = state.app.form(&actor, id).await?;
    let steps = steps_from(&f);
    let mut def = form.definition.clone();
    def.steps = steps.clone();
    if !def.steps.is_empty() && f.get("make_quiz").is_some() {
        def.kind = FormKind::Quiz;
    }
    match state.app.set_form_definition(&actor, id, def).await {
        Ok(_) => Ok(see_other(&format!("/forms/{id}/quiz?done=quiz"))),
        Err(e) => {
            let (status, _) = classify(&e);
            if status.is_server_error() {
                return Err(e.into());
            }
            let mut p = quiz_page(&user, &form, &steps);
            p.layout = p.layout.with_error(Some(e.to_string()));
            Ok(render_status(status, &p))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> PostForm {
        let body = serde_urlencoded::to_string(pairs).unwrap();
        PostForm::parse(body.as_bytes()).unwrap()
    }

    #[test]
    fn builder_rows_become_a_definition() {
        let f = form(&[
            ("kind", "form"),
            ("language", "ru"),
            ("field_kind_0", "name"),
            ("field_required_0", "on"),
            ("field_kind_1", "select"),
            ("field_name_1", "budget"),
            ("field_options_1", "small\nlarge\n"),
            ("field_kind_2", ""),
            ("var_key_0", "a"),
            ("var_weight_0", "2"),
            ("var_key_1", ""),
            ("consent_text", "I agree"),
            ("consent_required", "on"),
            ("popup_trigger", "exit"),
        ]);
        let d = definition_from(&f, &FormDefinition::default());
        assert_eq!(d.language, Language::Ru);
        assert_eq!(d.fields.len(), 2);
        assert!(d.fields[0].required);
        assert_eq!(d.fields[1].options, vec!["small", "large"]);
        assert_eq!(d.variants.len(), 1);
        assert_eq!(d.variants[0].weight, 2);
        assert!(d.consent.as_ref().unwrap().required);
        assert_eq!(d.popup.trigger, PopupTrigger::Exit);
    }

    #[test]
    fn quiz_rows_become_steps_with_generated_ids() {
        let f = form(&[
            ("s0_question", "Who?"),
            ("s0_o0_label", "Company"),
            ("s0_o0_fit", "10"),
            ("s0_o0_next", "contact"),
            ("s0_o1_label", "Student"),
            ("s0_o1_dq", "on"),
            ("s0_o2_label", ""),
            ("s1_question", ""),
        ]);
        let s = steps_from(&f);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].id, "q1");
        assert_eq!(s[0].options[0].id, "a1");
        assert_eq!(s[0].options[0].fit, 10);
        assert!(s[0].options[1].disqualify);
    }
}

//! Capture definitions: what a form, quiz, callback button or popup asks, as data.
//!
//! A form's definition is stored as JSON beside the form and checked here, so the builder pages,
//! the API, the widget and the intake all read the same typed structure. Quiz answers are
//! evaluated here too: the path through a branching quiz, the points it gives toward fit and
//! intent, and whether an answer disqualifies the respondent.

use crate::intake::text::Args;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// What the widget shows for a form key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormKind {
    /// Fields on one screen.
    #[default]
    Form,
    /// Steps of questions, then the contact step.
    Quiz,
    /// A floating button that opens a phone field; the lead is marked hot.
    Callback,
}

impl FormKind {
    pub const ALL: [FormKind; 3] = [FormKind::Form, FormKind::Quiz, FormKind::Callback];
    pub fn as_str(self) -> &'static str {
        match self {
            FormKind::Form => "form",
            FormKind::Quiz => "quiz",
            FormKind::Callback => "callback",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        FormKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Language of the labels the visitor sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    En,
    Ru,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::Ru];
    pub fn as_str(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Ru => "ru",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Language::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Name,
    Phone,
    Email,
    Company,
    Position,
    Message,
    Text,
    Number,
    Select,
    MultiSelect,
    Checkbox,
    Date,
}

impl FieldKind {
    pub const ALL: [FieldKind; 12] = [
        FieldKind::Name,
        FieldKind::Phone,
        FieldKind::Email,
        FieldKind::Company,
        FieldKind::Position,
        FieldKind::Message,
        FieldKind::Text,
        FieldKind::Number,
        FieldKind::Select,
        FieldKind::MultiSelect,
        FieldKind::Checkbox,
        FieldKind::Date,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Name => "name",
            FieldKind::Phone => "phone",
            FieldKind::Email => "email",
            FieldKind::Company => "company",
            FieldKind::Position => "position",
            FieldKind::Message => "message",
            FieldKind::Text => "text",
            FieldKind::Number => "number",
            FieldKind::Select => "select",
            FieldKind::MultiSelect => "multi_select",
            FieldKind::Checkbox => "checkbox",
            FieldKind::Date => "date",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        FieldKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// Contact fields have a fixed submission name; custom ones are named by the builder.
    pub fn fixed_name(self) -> Option<&'static str> {
        match self {
            FieldKind::Name => Some("name"),
            FieldKind::Phone => Some("phone"),
            FieldKind::Email => Some("email"),
            FieldKind::Company => Some("company"),
            FieldKind::Position => Some("position"),
            FieldKind::Message => Some("message"),
            _ => None,
        }
    }
    pub fn has_options(self) -> bool {
        matches!(self, FieldKind::Select | FieldKind::MultiSelect)
    }
}

/// One field of a form or of a quiz's contact step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDef {
    /// Submission field name; for contact kinds it is the kind's own name.
    #[serde(default)]
    pub name: String,
    pub kind: FieldKind,
    /// Empty: the default label of the kind in the form's language.
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

/// The consent checkbox; its text is recorded on the touch as agreed to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentDef {
    pub text: String,
    #[serde(default)]
    pub policy_url: Option<String>,
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuizOption {
    pub id: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Points toward fit (is this a customer we want?).
    #[serde(default)]
    pub fit: i64,
    /// Points toward intent (how soon and how much do they want it?).
    #[serde(default)]
    pub intent: i64,
    /// The step to go to when this option is chosen; `None` follows the step's own rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Choosing this option means the respondent is not a lead.
    #[serde(default)]
    pub disqualify: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuizStep {
    pub id: String,
    pub question: String,
    #[serde(default)]
    pub multiple: bool,
    pub options: Vec<QuizOption>,
    /// Where to go after this step when the chosen option says nothing; `None` is the next
    /// step in order, [`CONTACT_STEP`] the contact step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Target of `next` that ends the questions and opens the contact step.
pub const CONTACT_STEP: &str = "contact";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PopupTrigger {
    /// Shown in place, where the script tag is.
    #[default]
    None,
    /// When the pointer leaves the page toward the browser's toolbar.
    Exit,
    /// After a delay on the page.
    Timer,
    /// Whichever comes first.
    ExitOrTimer,
}

impl PopupTrigger {
    pub const ALL: [PopupTrigger; 4] = [
        PopupTrigger::None,
        PopupTrigger::Exit,
        PopupTrigger::Timer,
        PopupTrigger::ExitOrTimer,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            PopupTrigger::None => "none",
            PopupTrigger::Exit => "exit",
            PopupTrigger::Timer => "timer",
            PopupTrigger::ExitOrTimer => "exit_or_timer",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        PopupTrigger::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PopupDef {
    #[serde(default)]
    pub trigger: PopupTrigger,
    /// Seconds on the page before a timed popup opens.
    #[serde(default)]
    pub delay_seconds: u32,
}

/// A file handed out after a submission (a checklist, a price list …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadMagnet {
    pub title: String,
    pub url: String,
}

/// The hosted page at `/l/{slug}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Landing {
    pub slug: String,
    #[serde(default)]
    pub headline: String,
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
}

/// One arm of an A/B test: what it changes against the base definition.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Variant {
    /// Short stable name: "a", "b", "short-form" …
    pub key: String,
    /// Share of traffic relative to the other variants.
    #[serde(default = "one")]
    pub weight: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submit_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<String>,
    /// Fields this variant leaves out (fewer fields, higher take rate?).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hide_fields: Vec<String>,
}

fn one() -> u32 {
    1
}

/// Everything a form asks and shows. Every part is optional so that an old form with an empty
/// definition still renders as name, phone and email.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FormDefinition {
    #[serde(default)]
    pub kind: FormKind,
    #[serde(default)]
    pub language: Language,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub text: String,
    /// The offer shown in a popup or above the form ("10% off your first order").
    #[serde(default)]
    pub offer: String,
    #[serde(default)]
    pub submit_label: String,
    #[serde(default)]
    pub fields: Vec<FieldDef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentDef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<QuizStep>,
    /// Shown after a successful submission (unless the form redirects).
    #[serde(default)]
    pub thank_you: String,
    /// Countries offered by the phone field's selector (ISO codes); empty: a built-in list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_countries: Vec<String>,
    #[serde(default)]
    pub popup: PopupDef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_magnet: Option<LeadMagnet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landing: Option<Landing>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<Variant>,
}

/// A problem in a definition: the part it concerns, and what is wrong as a code and the values
/// it names (worded by the application's catalog of messages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefinitionError {
    pub field: String,
    pub code: String,
    #[serde(default, skip_serializing_if = "Args::is_empty")]
    pub args: Args,
}

fn err(field: impl Into<String>, code: &str) -> DefinitionError {
    DefinitionError {
        field: field.into(),
        code: code.to_string(),
        args: Args::new(),
    }
}

impl DefinitionError {
    fn with(mut self, key: &str, value: impl ToString) -> DefinitionError {
        self.args.insert(key.to_string(), value.to_string());
        self
    }
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 60
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Whether `u` is an absolute http(s) URL that parses whole, host included (`http://[::1` and
/// `https://exa mple.com` are not). White space, control characters and `"<>` are refused rather
/// than encoded as the parser would, so that what is stored is what was checked. Every URL a
/// person gives (links of a form, its redirect and origins, the webhook) is checked by it.
pub fn is_http_url(u: &str) -> bool {
    (u.starts_with("https://") || u.starts_with("http://"))
        && !u
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>'))
        && url::Url::parse(u).is_ok_and(|p| p.host().is_some())
}

/// Submission names the pipeline reads itself; a custom field may not take them.
const RESERVED: &[&str] = &[
    "consent",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "page",
    "referrer",
    "visitor_id",
    "product",
    "value",
    "currency",
    "temperature",
    "website",
];

impl FormDefinition {
    /// Reads a stored definition; an empty or unreadable one is the default form.
    pub fn from_json(s: &str) -> FormDefinition {
        serde_json::from_str(s).unwrap_or_default()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// Fills submission names of contact fields and trims labels; run before [`Self::check`].
    pub fn tidy(&mut self) {
        for f in &mut self.fields {
            if let Some(n) = f.kind.fixed_name() {
                f.name = n.to_string();
            }
            f.name = f.name.trim().to_string();
            f.label = f.label.trim().to_string();
            f.options = f
                .options
                .iter()
                .map(|o| o.trim().to_string())
                .filter(|o| !o.is_empty())
                .collect();
        }
        for s in &mut self.steps {
            s.id = s.id.trim().to_string();
            s.next = s.next.take().filter(|n| !n.trim().is_empty());
            for o in &mut s.options {
                o.id = o.id.trim().to_string();
                o.next = o.next.take().filter(|n| !n.trim().is_empty());
                o.image = o.image.take().filter(|n| !n.trim().is_empty());
            }
        }
        self.phone_countries = self
            .phone_countries
            .iter()
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty())
            .collect();
        if let Some(l) = &mut self.landing {
            l.slug = l.slug.trim().to_lowercase();
        }
    }

    /// Every problem of the definition at once, so a builder can show them all.
    pub fn check(&self) -> Vec<DefinitionError> {
        let mut out = Vec::new();
        let mut names = HashSet::new();
        for (i, f) in self.fields.iter().enumerate() {
            let at = format!("fields[{i}]");
            if f.name.is_empty() {
                out.push(err(&at, "form_field_name_missing"));
            } else if f.kind.fixed_name().is_none()
                && (!is_slug(&f.name)
                    || RESERVED.contains(&f.name.as_str())
                    || f.name.starts_with('_')
                    || f.name.starts_with("quiz"))
            {
                out.push(err(&at, "form_field_name_invalid").with("name", &f.name));
            }
            if !names.insert(f.name.clone()) {
                out.push(err(&at, "form_field_twice").with("name", &f.name));
            }
            if f.kind.has_options() && f.options.is_empty() {
                out.push(err(&at, "form_field_options_missing"));
            }
        }
        if let Some(c) = &self.consent {
            if c.text.trim().is_empty() {
                out.push(err("consent", "form_consent_text_missing"));
            }
            if let Some(u) = &c.policy_url {
                if !is_http_url(u) {
                    out.push(err("consent", "form_policy_url_invalid"));
                }
            }
        }
        if self.kind == FormKind::Quiz && self.steps.is_empty() {
            out.push(err("steps", "form_quiz_steps_missing"));
        }
        let ids: Vec<&str> = self.steps.iter().map(|s| s.id.as_str()).collect();
        let mut seen = HashSet::new();
        for (i, s) in self.steps.iter().enumerate() {
            let at = format!("steps[{i}]");
            if !is_slug(&s.id) || s.id == CONTACT_STEP {
                out.push(err(&at, "form_step_id_invalid").with("id", &s.id));
            }
            if !seen.insert(s.id.as_str()) {
                out.push(err(&at, "form_step_twice").with("id", &s.id));
            }
            if s.question.trim().is_empty() {
                out.push(err(&at, "form_step_question_missing"));
            }
            if s.options.len() < 2 {
                out.push(err(&at, "form_step_answers_few"));
            }
            // Branches only go forward, so every path ends at the contact step.
            let forward = |target: &str| {
                target == CONTACT_STEP
                    || ids.iter().position(|x| *x == target).is_some_and(|j| j > i)
            };
            if let Some(n) = &s.next {
                if !forward(n) {
                    out.push(
                        err(&at, "form_next_not_later")
                            .with("next", n)
                            .with("contact", CONTACT_STEP),
                    );
                }
            }
            let mut oids = HashSet::new();
            for (j, o) in s.options.iter().enumerate() {
                let at = format!("steps[{i}].options[{j}]");
                if !is_slug(&o.id) {
                    out.push(err(&at, "form_answer_id_invalid").with("id", &o.id));
                }
                if !oids.insert(o.id.as_str()) {
                    out.push(err(&at, "form_answer_twice").with("id", &o.id));
                }
                if o.label.trim().is_empty() {
                    out.push(err(&at, "form_answer_label_missing"));
                }
                if let Some(n) = &o.next {
                    if !forward(n) {
                        out.push(
                            err(&at, "form_next_not_later")
                                .with("next", n)
                                .with("contact", CONTACT_STEP),
                        );
                    }
                }
                if let Some(img) = &o.image {
                    if !is_http_url(img) {
                        out.push(err(&at, "form_answer_image_invalid"));
                    }
                }
            }
        }
        for c in &self.phone_countries {
            if c.len() != 2 || !c.chars().all(|x| x.is_ascii_alphabetic()) {
                out.push(err("phone_countries", "form_country_invalid").with("code", c));
            }
        }
        if let Some(m) = &self.lead_magnet {
            if m.title.trim().is_empty() {
                out.push(err("lead_magnet", "form_file_title_missing"));
            }
            if !is_http_url(&m.url) {
                out.push(err("lead_magnet", "form_file_url_invalid"));
            }
        }
        if let Some(l) = &self.landing {
            if !is_slug(&l.slug) {
                out.push(err("landing", "form_landing_slug_invalid"));
            }
            if let Some(u) = &l.image_url {
                if !is_http_url(u) {
                    out.push(err("landing", "form_landing_image_invalid"));
                }
            }
        }
        let mut keys = HashSet::new();
        for (i, v) in self.variants.iter().enumerate() {
            let at = format!("variants[{i}]");
            if !is_slug(&v.key) {
                out.push(err(&at, "form_variant_key_invalid").with("key", &v.key));
            }
            if !keys.insert(v.key.as_str()) {
                out.push(err(&at, "form_variant_twice").with("key", &v.key));
            }
            if v.weight == 0 {
                out.push(err(&at, "form_variant_weight_zero"));
            }
            for h in &v.hide_fields {
                if !self.fields.iter().any(|f| &f.name == h) {
                    out.push(err(&at, "form_variant_hides_unknown").with("name", h));
                }
            }
        }
        out
    }

    /// The fields the visitor fills: the defined ones, or name, phone, email and message by default
    /// (a callback asks for the phone and the name only).
    pub fn effective_fields(&self) -> Vec<FieldDef> {
        if !self.fields.is_empty() {
            return self.fields.clone();
        }
        let f = |kind: FieldKind, required: bool| FieldDef {
            name: kind.fixed_name().unwrap_or_default().to_string(),
            kind,
            label: String::new(),
            required,
            options: Vec::new(),
        };
        match self.kind {
            FormKind::Callback => vec![f(FieldKind::Phone, true), f(FieldKind::Name, false)],
            _ => vec![
                f(FieldKind::Name, true),
                f(FieldKind::Phone, false),
                f(FieldKind::Email, false),
                f(FieldKind::Message, false),
            ],
        }
    }

    pub fn variant(&self, key: &str) -> Option<&Variant> {
        self.variants.iter().find(|v| v.key == key)
    }

    /// Walks the quiz along the submitted answers (`quiz.<step>` = option ids, comma separated).
    /// Answers to steps off the path are ignored; unknown option ids are reported.
    pub fn evaluate(&self, fields: &BTreeMap<String, String>) -> QuizOutcome {
        let mut out = QuizOutcome::default();
        let mut i = 0;
        let mut guard = 0;
        while i < self.steps.len() && guard <= self.steps.len() {
            guard += 1;
            let step = &self.steps[i];
            let raw = fields
                .get(&format!("quiz.{}", step.id))
                .map(String::as_str)
                .unwrap_or("");
            let mut chosen: Vec<&QuizOption> = Vec::new();
            for id in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                match step.options.iter().find(|o| o.id == id) {
                    Some(o) if !chosen.iter().any(|c| c.id == o.id) => chosen.push(o),
                    Some(_) => {}
                    None => out.unknown.push(format!("{}={id}", step.id)),
                }
            }
            if !step.multiple && chosen.len() > 1 {
                chosen.truncate(1);
            }
            if chosen.is_empty() {
                out.missing.push(step.id.clone());
            } else {
                let fit: i64 = chosen.iter().map(|o| o.fit).sum();
                let intent: i64 = chosen.iter().map(|o| o.intent).sum();
                out.fit += fit;
                out.intent += intent;
                if out.disqualified.is_none() {
                    if let Some(d) = chosen.iter().find(|o| o.disqualify) {
                        out.disqualified = Some(format!("{} — {}", step.question, d.label));
                    }
                }
                out.answers.push(QuizAnswer {
                    step: step.id.clone(),
                    question: step.question.clone(),
                    answers: chosen.iter().map(|o| o.label.clone()).collect(),
                    fit,
                    intent,
                });
            }
            let target = chosen
                .iter()
                .find_map(|o| o.next.as_deref())
                .or(step.next.as_deref());
            i = match target {
                None => i + 1,
                Some(CONTACT_STEP) => break,
                Some(t) => match self.steps.iter().position(|s| s.id == t) {
                    Some(j) if j > i => j,
                    _ => i + 1,
                },
            };
        }
        out
    }
}

/// One answered question, as stored on the touch and shown on the lead card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizAnswer {
    pub step: String,
    pub question: String,
    pub answers: Vec<String>,
    #[serde(default)]
    pub fit: i64,
    #[serde(default)]
    pub intent: i64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct QuizOutcome {
    pub answers: Vec<QuizAnswer>,
    pub fit: i64,
    pub intent: i64,
    /// The question and answer that disqualified the respondent.
    pub disqualified: Option<String>,
    /// Steps on the path left unanswered.
    pub missing: Vec<String>,
    /// `step=option` pairs naming no option.
    pub unknown: Vec<String>,
}

/// Submissions over views with a 95% Wilson score interval, which stays inside 0..1 and
/// behaves with few views.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TakeRate {
    pub rate: f64,
    pub low: f64,
    pub high: f64,
}

pub fn take_rate(submits: i64, views: i64) -> Option<TakeRate> {
    if views <= 0 {
        return None;
    }
    let n = views as f64;
    let p = (submits.clamp(0, views) as f64) / n;
    let z = 1.959_963_984_540_054_f64;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z * ((p * (1.0 - p) / n) + z2 / (4.0 * n * n)).sqrt() / denom;
    Some(TakeRate {
        rate: p,
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    })
}

/// The words the visitor reads, per language. Labels of fields come from here unless the
/// builder set its own.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Texts {
    pub submit: &'static str,
    pub next: &'static str,
    pub back: &'static str,
    pub step: &'static str,
    pub of: &'static str,
    pub contact_step: &'static str,
    pub thank_you: &'static str,
    pub callback_button: &'static str,
    pub callback_title: &'static str,
    pub close: &'static str,
    pub required: &'static str,
    pub offline: &'static str,
    pub sending: &'static str,
    pub failed: &'static str,
    pub did_you_mean: &'static str,
    pub download: &'static str,
    pub privacy_policy: &'static str,
    pub country: &'static str,
    pub choose: &'static str,
    pub not_a_fit: &'static str,
}

pub fn texts(lang: Language) -> Texts {
    match lang {
        Language::En => Texts {
            submit: "Send",
            next: "Next",
            back: "Back",
            step: "Step",
            of: "of",
            contact_step: "Where should we send the result?",
            thank_you: "Your request has been received. We will contact you shortly.",
            callback_button: "Call me back",
            callback_title: "We will call you back within minutes",
            close: "Close",
            required: "Please fill in this field",
            offline: "You are offline. Your request is saved and will be sent when the connection is back.",
            sending: "Sending…",
            failed: "Could not send. Please check the fields.",
            did_you_mean: "Did you mean",
            download: "Download",
            privacy_policy: "privacy policy",
            country: "Country",
            choose: "Choose…",
            not_a_fit: "Thank you for your answers!",
        },
        Language::Ru => Texts {
            submit: "Отправить",
            next: "Далее",
            back: "Назад",
            step: "Шаг",
            of: "из",
            contact_step: "Куда отправить результат?",
            thank_you: "Заявка получена. Мы скоро свяжемся с вами.",
            callback_button: "Перезвоните мне",
            callback_title: "Перезвоним в течение нескольких минут",
            close: "Закрыть",
            required: "Заполните это поле",
            offline: "Нет связи. Заявка сохранена и будет отправлена, когда связь появится.",
            sending: "Отправляем…",
            failed: "Не удалось отправить. Проверьте поля.",
            did_you_mean: "Возможно, вы имели в виду",
            download: "Скачать",
            privacy_policy: "политика конфиденциальности",
            country: "Страна",
            choose: "Выберите…",
            not_a_fit: "Спасибо за ответы!",
        },
    }
}

/// The default label of a field kind in a language.
pub fn field_label(kind: FieldKind, lang: Language) -> &'static str {
    match (lang, kind) {
        (Language::En, FieldKind::Name) => "Name",
        (Language::En, FieldKind::Phone) => "Phone",
        (Language::En, FieldKind::Email) => "Email",
        (Language::En, FieldKind::Company) => "Company",
        (Language::En, FieldKind::Position) => "Position",
        (Language::En, FieldKind::Message) => "Message",
        (Language::En, _) => "Answer",
        (Language::Ru, FieldKind::Name) => "Имя",
        (Language::Ru, FieldKind::Phone) => "Телефон",
        (Language::Ru, FieldKind::Email) => "Электронная почта",
        (Language::Ru, FieldKind::Company) => "Компания",
        (Language::Ru, FieldKind::Position) => "Должность",
        (Language::Ru, FieldKind::Message) => "Сообщение",
        (Language::Ru, _) => "Ответ",
    }
}

/// Countries of the phone selector when the builder chose none: code and dialling prefix.
pub const DEFAULT_PHONE_COUNTRIES: &[(&str, &str)] = &[
    ("RU", "+7"),
    ("KZ", "+7"),
    ("BY", "+375"),
    ("UA", "+380"),
    ("AM", "+374"),
    ("GE", "+995"),
    ("UZ", "+998"),
    ("DE", "+49"),
    ("NL", "+31"),
    ("GB", "+44"),
    ("US", "+1"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_whole_http_urls() {
        for good in [
            "https://example.com",
            "http://[::1]:8080/hook",
            "https://пример.рф/файл.pdf",
        ] {
            assert!(is_http_url(good), "{good}");
        }
        for bad in [
            "http://[::1",
            "http://",
            "https://exa mple.com/",
            "https://a.ru/\u{1}",
            "https://a.ru/\"><script>",
            "javascript:alert(1)",
            "ftp://example.com/",
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
        // A form's file link is checked the same way.
        let def = FormDefinition {
            lead_magnet: Some(LeadMagnet {
                title: "Прайс".into(),
                url: "http://[::1".into(),
            }),
            ..Default::default()
        };
        assert!(
            def.check()
                .iter()
                .any(|e| e.code == "form_file_url_invalid"),
            "{:?}",
            def.check()
        );
    }

    fn opt(id: &str, fit: i64, intent: i64, next: Option<&str>, dq: bool) -> QuizOption {
        QuizOption {
            id: id.into(),
            label: id.to_uppercase(),
            image: None,
            fit,
            intent,
            next: next.map(str::to_string),
            disqualify: dq,
        }
    }

    fn quiz() -> FormDefinition {
        FormDefinition {
            kind: FormKind::Quiz,
            steps: vec![
                QuizStep {
                    id: "who".into(),
                    question: "Who are you?".into(),
                    multiple: false,
                    options: vec![
                        opt("business", 10, 0, Some("size"), false),
                        opt("person", 0, 0, Some("budget"), false),
                        opt("student", 0, 0, None, true),
                    ],
                    next: None,
                },
                QuizStep {
                    id: "size".into(),
                    question: "Team size?".into(),
                    multiple: false,
                    options: vec![
                        opt("small", 5, 0, None, false),
                        opt("big", 20, 0, None, false),
                    ],
                    next: Some(CONTACT_STEP.into()),
                },
                QuizStep {
                    id: "budget".into(),
                    question: "Budget?".into(),
                    multiple: true,
                    options: vec![
                        opt("low", 0, 5, None, false),
                        opt("high", 0, 15, None, false),
                    ],
                    next: None,
                },
            ],
            ..Default::default()
        }
    }

    fn answers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (format!("quiz.{k}"), v.to_string()))
            .collect()
    }

    #[test]
    fn branches_follow_the_chosen_answer() {
        let q = quiz();
        assert!(q.check().is_empty(), "{:?}", q.check());
        // business → size → contact; the budget answer is off the path and ignored.
        let o = q.evaluate(&answers(&[
            ("who", "business"),
            ("size", "big"),
            ("budget", "high"),
        ]));
        assert_eq!(o.answers.len(), 2);
        assert_eq!((o.fit, o.intent), (30, 0));
        assert!(o.missing.is_empty());
        assert_eq!(o.disqualified, None);
        // person → budget (multiple choice).
        let o = q.evaluate(&answers(&[("who", "person"), ("budget", "low, high")]));
        assert_eq!(o.answers[1].answers, vec!["LOW", "HIGH"]);
        assert_eq!((o.fit, o.intent), (0, 20));
    }

    #[test]
    fn disqualifying_answers_and_gaps_are_reported() {
        let q = quiz();
        let o = q.evaluate(&answers(&[("who", "student")]));
        assert_eq!(o.disqualified.as_deref(), Some("Who are you? — STUDENT"));
        // student goes on to the next step in order, which was not answered.
        assert_eq!(o.missing, vec!["size"]);
        let o = q.evaluate(&answers(&[("who", "alien")]));
        assert_eq!(o.unknown, vec!["who=alien"]);
    }

    #[test]
    fn definitions_with_backward_branches_or_bad_names_are_refused() {
        let mut q = quiz();
        q.steps[2].options[0].next = Some("who".into());
        q.fields.push(FieldDef {
            name: "utm_source".into(),
            kind: FieldKind::Text,
            label: String::new(),
            required: false,
            options: vec![],
        });
        q.variants.push(Variant {
            key: "B".into(),
            weight: 0,
            ..Default::default()
        });
        let errs = q.check();
        assert!(
            errs.iter().any(|e| e.field == "steps[2].options[0]"),
            "{errs:?}"
        );
        assert!(errs.iter().any(|e| e.field == "fields[0]"));
        assert_eq!(errs.iter().filter(|e| e.field == "variants[0]").count(), 2);
    }

    #[test]
    fn old_forms_read_as_the_default_form() {
        let d = FormDefinition::from_json("{}");
        assert_eq!(d.kind, FormKind::Form);
        let names: Vec<String> = d.effective_fields().into_iter().map(|f| f.name).collect();
        assert_eq!(names, vec!["name", "phone", "email", "message"]);
        let back = FormDefinition::from_json(&quiz().to_json());
        assert_eq!(back, quiz());
    }

    #[test]
    fn take_rate_interval_contains_the_rate_and_narrows() {
        assert_eq!(take_rate(1, 0), None);
        let small = take_rate(5, 20).unwrap();
        let big = take_rate(500, 2000).unwrap();
        assert!((small.rate - 0.25).abs() < 1e-9);
        assert!(small.low < 0.25 && small.high > 0.25);
        assert!(big.high - big.low < small.high - small.low);
        // Known value: 5 of 20 → Wilson 95% ≈ [0.112, 0.469].
        assert!((small.low - 0.1119).abs() < 1e-3, "{small:?}");
        assert!((small.high - 0.4687).abs() < 1e-3, "{small:?}");
        let zero = take_rate(0, 10).unwrap();
        assert_eq!(zero.low, 0.0);
    }
}

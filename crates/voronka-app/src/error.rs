use crate::message::Message;
use serde::Serialize;
use voronka_core::intake::text::Args;
use voronka_core::{Money, StageError};
use voronka_store::StoreError;

/// What is wrong with one field: its code and values ([`Message`]) and, for clients that show
/// it as it comes, the catalog's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
    pub code: String,
    #[serde(skip_serializing_if = "Args::is_empty")]
    pub args: Args,
}

impl FieldError {
    pub fn new(field: &str, message: Message) -> Self {
        FieldError {
            field: field.to_string(),
            message: message.to_string(),
            code: message.code,
            args: message.args,
        }
    }
}

/// What an amount typed in major units may be: at least `min_minor` (minor units), at most
/// [`Money::MAX_MINOR`], each bound with what a person is told when it is passed.
pub(crate) struct AmountBounds {
    pub min_minor: i64,
    pub below: Message,
    pub above: Message,
}

/// An amount typed in major units of `currency` ("150 000,50"), within `bounds`; when it is not,
/// `field`'s problem is added to `errors` and nothing is answered.
pub(crate) fn typed_amount(
    field: &str,
    text: &str,
    currency: voronka_core::Currency,
    bounds: AmountBounds,
    errors: &mut Vec<FieldError>,
) -> Option<Money> {
    let problem = match Money::parse_major(text, currency) {
        Ok(m) if m.minor < bounds.min_minor => bounds.below,
        Ok(m) if m.minor > Money::MAX_MINOR => bounds.above,
        Ok(m) => return Some(m),
        Err(_) => Message::new("amount_invalid"),
    };
    errors.push(FieldError::new(field, problem));
    None
}

/// The currency a form names (`default` when left blank); when it names none, the `currency`
/// field's problem is added to `errors`.
pub(crate) fn typed_currency(
    code: Option<&str>,
    default: &str,
    errors: &mut Vec<FieldError>,
) -> Option<voronka_core::Currency> {
    let code = code
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .unwrap_or(default);
    let parsed = voronka_core::Currency::parse(code).ok();
    if parsed.is_none() {
        errors.push(FieldError::new("currency", Message::new("currency_choose")));
    }
    parsed
}

/// Errors of the use cases; the HTTP face maps each kind to one status.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(Message),
    #[error("{0}")]
    Forbidden(Message),
    #[error("{0}")]
    Unauthorized(Message),
    #[error("{message}")]
    Invalid {
        message: Message,
        fields: Vec<FieldError>,
    },
    #[error("{0}")]
    Conflict(Message),
    #[error(transparent)]
    Stage(#[from] StageError),
    #[error("the intake is shutting down")]
    Unavailable,
    /// Too many attempts: refused for `retry_after_s` seconds.
    #[error("{message}")]
    Limited {
        message: Message,
        retry_after_s: u64,
    },
    #[error(transparent)]
    Store(StoreError),
    #[error("{0}")]
    Io(String),
}

impl AppError {
    /// One field is wrong; the error says what, with the field's own message.
    pub fn invalid(field: &str, message: Message) -> Self {
        AppError::Invalid {
            fields: vec![FieldError::new(field, message.clone())],
            message,
        }
    }

    /// Several fields are wrong: `message` with every problem listed (its `problems`), and
    /// each field with its own message.
    pub fn invalid_fields(message: Message, fields: Vec<FieldError>) -> Self {
        AppError::Invalid {
            message: message.with(
                "problems",
                fields
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            fields,
        }
    }

    /// The code and values of what the error says to people (`None` for the kinds that only
    /// go to the log).
    pub fn message(&self) -> Option<Message> {
        match self {
            AppError::NotFound(m)
            | AppError::Forbidden(m)
            | AppError::Unauthorized(m)
            | AppError::Conflict(m)
            | AppError::Invalid { message: m, .. }
            | AppError::Limited { message: m, .. } => Some(m.clone()),
            AppError::Stage(e) => Some(Message::from(e)),
            AppError::Unavailable => Some(Message::new("unavailable")),
            AppError::Store(_) | AppError::Io(_) => None,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound(Message::new("not_found")),
            StoreError::Conflict(why) => AppError::Conflict(Message::from(why)),
            other => AppError::Store(other),
        }
    }
}

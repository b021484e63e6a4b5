//! What errors say to people: each sentence is kept as a code and the values it names
//! ([`Message`]); its text is made by [`message_text`], the one catalog of these sentences and
//! the place to translate them. The values are kept as given (ids, field names, a person's own
//! input): escaping them is the job of whatever shows the text.

use serde::Serialize;
use std::fmt;
use voronka_core::intake::text::Args;
use voronka_core::StageError;

/// A sentence of an error, kept as a code and the values it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub code: String,
    #[serde(skip_serializing_if = "Args::is_empty")]
    pub args: Args,
}

impl Message {
    pub fn new(code: &str) -> Message {
        Message {
            code: code.to_string(),
            args: Args::new(),
        }
    }

    /// The message with one more value.
    pub fn with(mut self, key: &str, value: impl ToString) -> Message {
        self.args.insert(key.to_string(), value.to_string());
        self
    }
}

/// What a refused stage change says.
impl From<&StageError> for Message {
    fn from(e: &StageError) -> Message {
        match e {
            StageError::Illegal { from, to } => Message::new("stage_illegal")
                .with("from", from)
                .with("to", to),
            StageError::Same(s) => Message::new("stage_same").with("stage", s),
            StageError::ReasonRequired(s) => Message::new("stage_reason_required").with("stage", s),
            StageError::ConvertThroughConversion => {
                Message::new("stage_convert_through_conversion")
            }
            StageError::Unknown(s) => Message::new("stage_unknown").with("stage", s),
        }
    }
}

/// Why what is stored refused a change.
impl From<voronka_store::Conflict> for Message {
    fn from(c: voronka_store::Conflict) -> Message {
        use voronka_store::{Conflict::*, Unique};
        match c {
            Taken(Unique::UserEmail) => Message::new("user_email_taken"),
            Taken(Unique::FormKey) => Message::new("form_key_taken"),
            Taken(Unique::LandingSlug) => Message::new("landing_slug_taken"),
            Taken(Unique::TeamName) => Message::new("team_name_taken"),
            Taken(Unique::Token) => Message::new("token_taken"),
            Taken(Unique::TrackingSite) => Message::new("tracking_site_taken"),
            Taken(Unique::AccountName) => Message::new("account_name_taken"),
            MergeIntoItself => Message::new("merge_into_itself"),
            AlreadyMerged => Message::new("merge_lead_merged_already"),
            SameContact => Message::new("merge_same_contact"),
            BothCustomers => Message::new("merge_both_customers"),
            SurvivorMergedAgain => Message::new("merge_survivor_merged_again"),
            CustomerSurvivorMergedAgain => Message::new("customer_merge_survivor_merged_again"),
            MergeUndone => Message::new("merge_already_undone"),
            MergeNotRecorded => Message::new("customer_merge_not_recorded"),
            PersonCustomerAgain => Message::new("customer_merge_person_customer_again"),
            ContactMergedAway => Message::new("contact_merged_away"),
        }
    }
}

/// What is wrong with a set of scoring rules.
impl From<&voronka_core::scoring::RulesError> for Message {
    fn from(e: &voronka_core::scoring::RulesError) -> Message {
        use voronka_core::scoring::RulesError::*;
        match e {
            Parse(problem) => Message::new("scoring_rules_unreadable").with("problem", problem),
            EmptyName(n) => Message::new("scoring_rule_name_missing").with("rule", n),
            DuplicateName(name) => Message::new("scoring_rule_name_twice").with("name", name),
            EmptyField(name) => Message::new("scoring_rule_field_missing").with("name", name),
            EmptyEvent(name) => Message::new("scoring_rule_event_missing").with("name", name),
            Band(name) => Message::new("scoring_rule_band_inverted").with("name", name),
            Thresholds("activity level") => Message::new("scoring_activity_thresholds_fall"),
            Thresholds("temperature") => Message::new("scoring_temperature_thresholds_fall"),
            Thresholds(_) => Message::new("scoring_fit_thresholds_fall"),
            HalfLife => Message::new("scoring_half_life_negative"),
            Probability(name) => {
                Message::new("scoring_probability_out_of_range").with("name", name)
            }
            Points(name) => Message::new("scoring_points_out_of_range")
                .with("name", name)
                .with("min", -voronka_core::scoring::POINTS_LIMIT)
                .with("max", voronka_core::scoring::POINTS_LIMIT),
        }
    }
}

/// What is wrong with a set of routing rules.
impl From<&voronka_core::routing::RulesError> for Message {
    fn from(e: &voronka_core::routing::RulesError) -> Message {
        use voronka_core::routing::RulesError::*;
        match e {
            Parse(problem) => Message::new("routing_rules_unreadable").with("problem", problem),
            EmptyName(n) => Message::new("routing_rule_name_missing").with("rule", n),
            DuplicateName(name) => Message::new("routing_rule_name_twice").with("name", name),
            ScoreBand(name) => Message::new("routing_rule_score_band").with("name", name),
            ConversionBand(name) => Message::new("routing_rule_conversion_band").with("name", name),
        }
    }
}

/// What is wrong with a person's routing profile.
impl From<&voronka_core::routing::ProfileError> for Message {
    fn from(e: &voronka_core::routing::ProfileError) -> Message {
        use voronka_core::routing::ProfileError::*;
        match e {
            TimeZone(tz) => Message::new("time_zone_unknown").with("zone", tz),
            Weight => Message::new("routing_weight_out_of_range"),
            AwayBackwards => Message::new("routing_away_backwards"),
        }
    }
}

/// What is wrong with a set of pseudo-lead rules.
impl From<&voronka_core::intake::scrub::RulesError> for Message {
    fn from(e: &voronka_core::intake::scrub::RulesError) -> Message {
        use voronka_core::intake::scrub::RulesError::*;
        match e {
            UnknownCode(code) => Message::new("scrub_rule_unknown").with("code", code),
            Zero(setting) => Message::new("scrub_setting_zero").with("setting", setting),
            ExemptIp(entry) => Message::new("scrub_exempt_ip_invalid").with("entry", entry),
        }
    }
}

/// What a form definition's check found.
impl From<&voronka_core::capture::DefinitionError> for Message {
    fn from(e: &voronka_core::capture::DefinitionError) -> Message {
        Message {
            code: e.code.clone(),
            args: e.args.clone(),
        }
    }
}

/// The sentence, from the catalog; a code it does not know reads as itself.
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match message_text(&self.code, &self.args) {
            Some(text) => f.write_str(&text),
            None => f.write_str(&self.code),
        }
    }
}

/// A content type as the sentences show it: `nothing` when none was sent.
fn or_nothing(s: &str) -> &str {
    if s.is_empty() {
        "nothing"
    } else {
        s
    }
}

/// The text of an error's message, from its code and values; `None` for a code this catalog
/// does not know. Values a code names but the message lacks read as `?`.
pub fn message_text(code: &str, args: &Args) -> Option<String> {
    let a = |name: &str| args.get(name).map(String::as_str).unwrap_or("?");
    let text = match code {
        // Stage changes, storage and the intake.
        "not_found" => "not found".to_string(),
        "stage_illegal" => format!("a lead cannot move from {} to {}", a("from"), a("to")),
        "stage_same" => format!("the lead is already {}", a("stage")),
        "stage_reason_required" => format!("moving to {} needs a reason", a("stage")),
        "stage_convert_through_conversion" => {
            "a lead becomes converted only through conversion, which creates the deal".to_string()
        }
        "stage_unknown" => format!("unknown stage {:?}", a("stage")),
        "unavailable" => "the intake is shutting down".to_string(),
        // Use cases: who may do what, and what they ask for.
        "token_lacks_scope" => format!("this token lacks the {} scope", a("scope")),
        "role_cannot_see_personal_data" => "your role cannot see leads' personal data".to_string(),
        "role_cannot_change_leads" => "your role cannot change leads".to_string(),
        "role_cannot_manage_forms" => "your role cannot manage forms".to_string(),
        "role_cannot_send_events" => "your role cannot send events".to_string(),
        "admins_only" => "administrators only".to_string(),
        "role_cannot_see_reports" => "your role cannot see reports".to_string(),
        "role_cannot_export_personal_data" => "your role cannot export personal data".to_string(),
        "export_format_unknown" => format!("the format is one of: {}", a("choices")),
        "export_takes_every_lead" => format!(
            "an export holds every lead the filters match, oldest first: {} does not apply to it",
            a("parameter")
        ),
        "user_email_invalid" => "a valid email address is required".to_string(),
        "password_too_short" => format!("the password needs at least {} characters", a("min")),
        "wrong_email_or_password" => "wrong email or password".to_string(),
        "password_too_long" => format!("the password may have at most {} characters", a("max")),
        "login_locked" => format!(
            "too many failed sign-ins with this email: try again in {} min, or set a new password",
            a("minutes")
        ),
        "password_current_wrong" => "the current password is not right".to_string(),
        "password_own_only" => {
            "only a signed-in person has a password and sessions of their own".to_string()
        }
        "session_not_found" => "there is no such session of yours: it may have ended".to_string(),
        "tag_empty" => "a tag needs a letter or a digit".to_string(),
        "tag_too_long" => format!("a tag has at most {} characters", a("max")),
        "tags_too_many" => format!("a lead has at most {} tags", a("max")),
        "tag_not_on_lead" => format!("lead {} has no tag {:?}", a("id"), a("tag")),
        "two_step_required" => {
            "this person signs in in two steps: sign in on the sign-in page with the code of their app".to_string()
        }
        "two_step_expired" => "the sign-in waited too long for its code: sign in again".to_string(),
        "two_step_code_wrong" => "the code is not right: type the code your app shows now, or a recovery code".to_string(),
        "two_step_not_started" => "start setting up two-step sign-in first".to_string(),
        "two_step_on_already" => "two-step sign-in is on already".to_string(),
        "two_step_off" => "two-step sign-in is off".to_string(),
        "two_step_policy_unknown" => "choose nobody, admins or everyone".to_string(),
        "tag_not_found" => format!("no lead you see has the tag {:?}", a("tag")),
        "role_cannot_manage_tags" => {
            "only administrators and sales managers rename or remove a tag on every lead".to_string()
        }
        "user_email_unknown" => format!("there is no user with the email {}", a("email")),
        "passwords_differ" => "the two new passwords differ".to_string(),
        "reset_link_invalid" => {
            "this link has expired or was used already: ask for a new one".to_string()
        }
        "token_user_unknown" => format!("there is no active user {}", a("id")),
        "token_name_required" => "a token needs a name".to_string(),
        "token_scopes_required" => "a token needs at least one scope".to_string(),
        "token_unknown" => "unknown API token".to_string(),
        "token_revoked" => "this API token was revoked".to_string(),
        "token_expired" => "this API token has expired".to_string(),
        "token_user_disabled" => "the token's user is disabled".to_string(),
        "role_cannot_see_forms" => "your role cannot see forms".to_string(),
        "form_not_found" => format!("form {} not found", a("id")),
        "landing_address_taken" => format!("the address /l/{} is taken by another form", a("slug")),
        "form_event_kind_unknown" => {
            format!("{:?} is not one of view, submit, download", a("kind"))
        }
        "merge_leads_forbidden" => "only sales managers and administrators merge leads".to_string(),
        "duplicate_status_unknown" => format!(
            "status must be open, merged or not_duplicate, got {:?}",
            a("status")
        ),
        "duplicate_pair_not_found" => format!("duplicate pair {} not found", a("id")),
        "merge_field_unknown" => format!(
            "{:?} is not a field a merge can take; choose from {}",
            a("field"),
            a("choices")
        ),
        "merge_not_found" => format!("merge {} not found", a("id")),
        "merge_already_undone" => "this merge was undone already".to_string(),
        "customer_merged" => format!(
            "customer {} was merged into customer {}",
            a("id"),
            a("into")
        ),
        "customer_merge_into_itself" => "a customer cannot be merged into itself".to_string(),
        "merge_customers_forbidden" => {
            "only sales managers and administrators merge customers".to_string()
        }
        "merge_contacts_forbidden" => {
            "only sales managers and administrators merge contacts".to_string()
        }
        "routing_forbidden" => "only managers and admins change routing".to_string(),
        "webhook_url_invalid" => "the webhook must be an http(s) URL".to_string(),
        "user_not_found" => format!("user {} not found", a("id")),
        "owner_not_active" => format!("no active user {}", a("id")),
        "owner_does_not_sell" => "leads go to people who sell".to_string(),
        "too_many_leads" => format!("at most {} leads at once", a("max")),
        "bulk_no_leads" => "choose at least one lead".to_string(),
        "bulk_choose_action" => "choose the change to apply".to_string(),
        "bulk_action_unknown" => format!("the action is one of: {}", a("choices")),
        "bulk_stage_open" => format!(
            "leads are moved together to an open stage only, not to {}: refuse them or mark them as junk with a reason, and convert them one by one",
            a("stage")
        ),
        "activity_kind_unknown" => "an activity is a call, email or meeting".to_string(),
        "activity_outcome_unknown" => format!("the outcome is one of: {}", a("choices")),
        "call_back_in_past" => "call back needs a time in the future".to_string(),
        "call_back_too_far" => format!("call back at most {} years ahead", a("years")),
        "task_kind_unknown" => format!("a task is one of: {}", a("choices")),
        "task_due_out_of_range" => format!(
            "the due time must be from {} to {} years ahead",
            a("from"),
            a("years")
        ),
        "task_reminder_out_of_range" => format!(
            "the reminder must be from {} to {} years ahead",
            a("from"),
            a("years")
        ),
        "task_not_found" => format!("task {} not found", a("id")),
        "task_already_done" => "the task is already done".to_string(),
        "notifications_need_person" => "notifications belong to a person".to_string(),
        "work_queue_needs_person" => "the work queue belongs to a person".to_string(),
        "calendar_needs_person" => "the calendar belongs to a person".to_string(),
        "calendar_not_found" => "no such calendar".to_string(),
        "smtp_security_unknown" => "the security is none, starttls or tls".to_string(),
        "smtp_host_invalid" => "the SMTP host is a host name".to_string(),
        "smtp_port_invalid" => "the port is 1 to 65535".to_string(),
        "smtp_sender_invalid" => "the sender is an address such as sales@example.com".to_string(),
        "smtp_username_required" => "a password needs a username".to_string(),
        "url_invalid" => format!("{:?} is not an http(s) URL", a("url")),
        "form_name_required" => "a form needs a name".to_string(),
        "region_invalid" => "a two-letter country code, such as RU or NL".to_string(),
        "contact_not_found" => format!("contact {} not found", a("id")),
        "views_need_a_person" => "saved views belong to people: use a token made for a person".to_string(),
        "share_views_forbidden" => {
            "only sales managers and administrators share views with the team".to_string()
        }
        "view_name_required" => "give the view a name".to_string(),
        "view_name_too_long" => format!("a view's name has at most {} characters", a("max")),
        "view_query_too_long" => format!("a view's filters take at most {} bytes", a("max")),
        // Channel analytics and marketing spend.
        "report_currency_invalid" => format!(
            "{:?} is not a currency: give a three-letter ISO 4217 code such as RUB or EUR",
            a("given")
        ),
        "report_by_unknown" => format!("a report groups by one of: {}", a("choices")),
        "period_ends_before_start" => "the period ends before it starts".to_string(),
        "period_too_long" => format!("a period is at most {} days long", a("max")),
        "spend_invalid" => format!("the spend cannot be saved: {}", a("problems")),
        "spend_source_required" => "the source the money was spent on is required".to_string(),
        "channel_text_too_long" => format!("at most {} characters", a("max")),
        "spend_ends_before_start" => "the last day comes before the first".to_string(),
        "spend_not_positive" => "the amount must be more than zero".to_string(),
        "spend_amount_too_large" => format!("the amount is at most {} in minor units", a("max")),
        "spend_id_invalid" => format!(
            "spend entry id must be a positive integer, got {:?}",
            a("given")
        ),
        "spend_file_too_large" => format!("a file of spend is at most {} MiB", a("max")),
        "spend_file_too_long" => format!("a file of spend has at most {} rows", a("max")),
        "spend_file_unreadable" => "the file is not a CSV file with a header line".to_string(),
        "spend_file_columns" => format!(
            "a file of spend needs an amount (amount, cost, сумма, расход), the day (date, дата) or days (from and to) and, unless given apart, the source; its columns are: {}",
            a("found")
        ),
        "spend_row_unreadable" => "the row cannot be read".to_string(),
        "spend_file_invalid" => format!(
            "nothing was stored: {} problems in the file: {}",
            a("count"),
            a("problems")
        ),
        "spend_file_empty" => "the file has no rows of spend".to_string(),
        "weekly_top_out_of_range" => {
            format!("top is the number of channels shown on their own, 1 to 20; got {}", a("given"))
        }
        "spend_not_found" => format!("there is no spend entry {}", a("id")),
        "view_name_taken" => format!("you have a view named {:?} already", a("name")),
        "too_many_views" => format!("at most {} views a person", a("max")),
        "view_not_found" => format!("view {} not found", a("id")),
        "view_id_invalid" => format!(
            "view id must be a positive integer, got {:?}",
            a("given")
        ),
        "view_not_yours" => {
            "only sales managers and administrators delete views shared by others".to_string()
        }
        "erase_not_confirmed" => "confirm that the erasure cannot be undone".to_string(),
        "erase_reason_required" => {
            "say why the data is erased (the person's request, its date or reference)".to_string()
        }
        "account_not_found" => format!("account {} not found", a("id")),
        "customer_not_found" => format!("customer {} not found", a("id")),
        "deal_not_found" => format!("deal {} not found", a("id")),
        "refusal_reason_empty" => "the reason is empty".to_string(),
        "cannot_demote_self" => "you cannot demote or disable yourself".to_string(),
        "lead_not_found" => format!("lead {} not found", a("id")),
        "stage_use_refuse" => "use refuse, which records the reason".to_string(),
        "stage_use_junk" => "use junk, which records the reason".to_string(),
        "refusal_reason_required" => "a refusal needs a reason".to_string(),
        "refusal_reason_unknown" => {
            format!("unknown refusal reason; choose one of: {}", a("choices"))
        }
        "freeze_date_in_past" => "the freeze date must be in the future".to_string(),
        "freeze_date_too_far" => {
            format!("the freeze date is at most {} years ahead", a("years"))
        }
        "survey_not_found" => "no such survey".to_string(),
        "survey_answered" => "this survey has been answered".to_string(),
        "survey_answer_unknown" => format!("the answer is one of: {}", a("choices")),
        "survey_comment_too_long" => format!("the comment is at most {} characters", a("max")),
        "junk_reason_required" => "junk needs a reason".to_string(),
        "deal_amount_negative" => "the deal amount must not be negative".to_string(),
        "deal_amount_too_large" => {
            format!("the deal amount is at most {} in minor units", a("max"))
        }
        "lead_contact_missing" => "contact".to_string(),
        "reassign_forbidden" => "only managers and admins reassign leads".to_string(),
        "note_empty" => "the note is empty".to_string(),
        "note_too_long" => format!("the note is longer than {} characters", a("max")),
        "event_name_length" => "the event name must have 1 to 64 characters".to_string(),
        "event_name_characters" => format!(
            "the event name {:?} may hold letters, digits and _ - . : only",
            a("name")
        ),
        "event_needs_visitor_or_lead" => "an event needs a visitor_id or a lead_id".to_string(),
        "event_visitor_id_length" => "the visitor_id must have 1 to 128 characters".to_string(),
        "event_id_length" => "the id must have 1 to 128 characters".to_string(),
        "event_url_too_long" => "the url is longer than 2,048 characters".to_string(),
        "event_visitor_id_control" => "the visitor_id may not hold control characters".to_string(),
        "event_id_control" => "the id may not hold control characters".to_string(),
        "event_url_control" => "the url may not hold control characters".to_string(),
        "event_properties_too_large" => "the properties are larger than 8 KB".to_string(),
        "event_time_in_future" => "the time is in the future".to_string(),
        "event_time_too_old" => format!("the time is more than {} days ago", a("days")),
        "event_at_and_age" => "give either at or age, not both".to_string(),
        "event_age_out_of_range" => {
            "the age must be from 0 to 365 days, in milliseconds".to_string()
        }
        "events_empty" => "no events were sent".to_string(),
        "events_too_many" => format!("at most {} events per request", a("max")),
        "events_origin_refused" => format!("this site does not accept events from {}", a("origin")),
        "events_origin_unknown" => {
            "this site does not accept events from an unknown origin".to_string()
        }
        "tracker_lead_id_refused" => {
            "the tracker sends visitor ids only; lead ids need a token".to_string()
        }
        "tracking_site_not_found" => format!("no tracking site with key {}", a("key")),
        "tracking_site_name_required" => "the site needs a name".to_string(),
        "origin_invalid" => format!("{:?} is not an origin", a("origin")),
        "mapping_file_invalid" => format!("mapping file: {}", a("problem")),
        "mapping_field_unknown" => format!(
            "mapping file: unknown field {:?}; known: {}",
            a("field"),
            a("known")
        ),
        "encoding_unknown" => format!(
            "unknown text encoding {:?}; try utf-8, windows-1251, koi8-r or utf-16le",
            a("label")
        ),
        "delimiter_invalid" => format!(
            "a delimiter is one character such as , ; | or the word tab, not {:?}",
            a("given")
        ),
        "csv_header_unreadable" => format!("cannot read the CSV header: {}", a("problem")),
        "csv_no_contact_column" => {
            "no phone, email or social column found; give a mapping file with --map".to_string()
        }
        // Requests to the API.
        "form_key_not_found" => format!("no form with key {:?}", a("key")),
        "event_malformed" => format!("malformed event: {}", a("problem")),
        "form_event_views_only" => "only views are recorded here".to_string(),
        "form_has_no_file" => "this form hands out no file".to_string(),
        "landing_not_found" => format!("no page /l/{}", a("slug")),
        "origin_not_allowed" => "this origin may not post to this form".to_string(),
        "form_body_not_utf8" => "the form body is not valid UTF-8".to_string(),
        "form_body_malformed" => format!("malformed form body: {}", a("problem")),
        "form_field_nested" => format!(
            "field {:?} must be a string, number, boolean or list",
            a("field")
        ),
        "nested_objects_refused" => "nested objects are not accepted".to_string(),
        "form_content_type_unknown" => format!(
            "send application/json or application/x-www-form-urlencoded, not {:?}",
            or_nothing(a("given"))
        ),
        "body_unreadable" => format!("could not read the request body: {}", a("problem")),
        "json_malformed" => format!("malformed JSON: {}", a("problem")),
        "body_not_object" => "the body must be a JSON object".to_string(),
        "json_object_expected" => "expected a JSON object".to_string(),
        "text_nul" => "text may not hold a NUL character (\\u0000)".to_string(),
        "body_not_utf8" => "the body is not valid UTF-8".to_string(),
        "fields_unknown" => format!("unknown fields: {}", a("fields")),
        "field_unknown" => "no such field".to_string(),
        "offset_negative" => "the offset is 0 or more".to_string(),
        "query_invalid" => format!("the query string does not fit: {}", a("problem")),
        "whole_number_expected" => format!("a whole number is expected, got {:?}", a("given")),
        "value_invalid" => format!("invalid value for {}: {}", a("field"), a("problem")),
        "content_type_not_json" => format!(
            "expected Content-Type application/json, got {:?}",
            or_nothing(a("given"))
        ),
        "authorization_header_unreadable" => "unreadable Authorization header".to_string(),
        "authorization_not_bearer" => "use Authorization: Bearer <token>".to_string(),
        "token_required" => "an API token is required: Authorization: Bearer <token>".to_string(),
        "method_not_allowed" => "this endpoint does not take this method".to_string(),
        "endpoint_not_found" => "no such API endpoint".to_string(),
        "lead_id_invalid" => format!("lead id must be a positive integer, got {:?}", a("given")),
        "owner_id_invalid" => format!("owner id must be a positive integer, got {:?}", a("given")),
        "form_id_invalid" => format!("form id must be a positive integer, got {:?}", a("given")),
        "contact_id_invalid" => format!(
            "contact id must be a positive integer, got {:?}",
            a("given")
        ),
        "account_id_invalid" => format!(
            "account id must be a positive integer, got {:?}",
            a("given")
        ),
        "customer_id_invalid" => format!(
            "customer id must be a positive integer, got {:?}",
            a("given")
        ),
        "deal_id_invalid" => format!("deal id must be a positive integer, got {:?}", a("given")),
        "pair_id_invalid" => format!("pair id must be a positive integer, got {:?}", a("given")),
        "merge_id_invalid" => format!("merge id must be a positive integer, got {:?}", a("given")),
        "user_id_invalid" => format!("user id must be a positive integer, got {:?}", a("given")),
        "token_id_invalid" => format!("token id must be a positive integer, got {:?}", a("given")),
        "task_id_invalid" => format!("task id must be a positive integer, got {:?}", a("given")),
        "moment_invalid" => format!(
            "{} must be a date (YYYY-MM-DD), an RFC 3339 time or epoch milliseconds",
            a("field")
        ),
        "date_unreadable" => "unreadable date".to_string(),
        "temperature_unknown" => "cold, warm or hot".to_string(),
        "min_conversion_invalid" => {
            "min_conversion must be a probability between 0 and 1".to_string()
        }
        "fit_level_unknown" => {
            "fit_level must be stranger, unsuitable, suitable or very_suitable".to_string()
        }
        "activity_level_unknown" => {
            "activity must be inactive, less_active, active or very_active".to_string()
        }
        "sort_unknown" => format!("sort must be one of {}", a("choices")),
        "cursor_unreadable" => "unreadable cursor".to_string(),
        "channel_unknown" => format!("unknown channel {:?}", a("channel")),
        "not_an_integer" => "not an integer".to_string(),
        "moment_expected" => "a date string or epoch milliseconds".to_string(),
        "content_type_json_required" => "expected Content-Type application/json".to_string(),
        "survivor_id_invalid" => format!("survivor_id must be {} or {}", a("a"), a("b")),
        "format_unknown" => format!("format must be json or toml, got {:?}", a("given")),
        "content_type_not_json_or_toml" => format!(
            "expected application/json or application/toml, got {:?}",
            or_nothing(a("given"))
        ),
        "scrub_by_unknown" => format!(
            "by must be form, source, campaign or partner, got {:?}",
            a("given")
        ),
        "model_not_trained" => "no conversion model has been trained yet".to_string(),
        "role_unknown" => format!("role must be one of {}", a("choices")),
        "scope_unknown" => format!("unknown scope {:?}; known: {}", a("scope"), a("known")),
        "events_body_shape" => "expected an event {\"name\": …, \"visitor_id\" or \"lead_id\": …} \
             or {\"events\": [ … ]}"
            .to_string(),
        "content_type_not_beacon" => format!(
            "expected text/plain or application/json, got {:?}",
            a("given")
        ),
        "scoring_preset_not_found" => {
            format!("no preset {:?}; there are {}", a("name"), a("presets"))
        }
        "reassign_to_unknown" => format!("to must be person or rules, got {:?}", a("given")),
        "reassign_to_choices" => "person or rules".to_string(),
        "reassign_leads_missing" => "name lead_ids or from_owner".to_string(),
        "lead_ids_empty" => "no leads given".to_string(),
        "user_required" => "name the user".to_string(),
        "task_status_unknown" => {
            format!("status must be open, overdue or all, got {:?}", a("given"))
        }
        "rate_limited" => {
            "too many requests from this address; try again in a few seconds".to_string()
        }
        "payload_too_large" => format!("the request body is larger than {} bytes", a("max")),
        "internal" => "something went wrong on our side; it has been logged".to_string(),
        "limit_out_of_range" => format!("limit must be between {} and {}", a("min"), a("max")),
        // Forms of the pages.
        "merge_keep_required" => "choose which lead stays".to_string(),
        "date_invalid" => "Dates are written as YYYY-MM-DD.".to_string(),
        "managers_only_page" => "Only sales managers and administrators see this page.".to_string(),
        "stage_choose" => "Choose a stage from the list.".to_string(),
        "import_not_found" => "No such import here: imports are shown by the server that ran them \
             until it restarts."
            .to_string(),
        "page_not_found" => "no such page".to_string(),
        "not_an_id" => format!("{:?} is not an id", a("given")),
        "currency_choose" => "The currency is a three-letter code, such as RUB or EUR.".to_string(),
        "amount_invalid" => "The amount is not a number with at most two decimals.".to_string(),
        "owner_choose" => "Choose a person from the list.".to_string(),
        "temperature_choose" => "Choose cold, warm or hot.".to_string(),
        "role_choose" => "Choose a role from the list.".to_string(),
        "scrub_action_choose" => "Choose off, flag, junk or reject.".to_string(),
        "whole_number_invalid" => "Write a whole number, 0 or more.".to_string(),
        // What is stored refused a change.
        "user_email_taken" => "a user with this email already exists".to_string(),
        "form_key_taken" => "form key already exists".to_string(),
        "landing_slug_taken" => "landing page address already exists".to_string(),
        "team_name_taken" => "team name already exists".to_string(),
        "token_taken" => "token already exists".to_string(),
        "tracking_site_taken" => "tracking site already exists".to_string(),
        "lead_merged" => format!(
            "lead {} was merged into lead {}: change that one",
            a("id"),
            a("into")
        ),
        "dedup_no_lead_to_merge" => "it has no lead left to merge".to_string(),
        "merge_into_itself" => "a lead cannot be merged into itself".to_string(),
        "merge_lead_merged_already" => "one of these leads was merged already".to_string(),
        "merge_same_contact" => "these leads belong to one contact already".to_string(),
        "merge_both_customers" => {
            "both contacts are customers already; merge the two customers first (on either customer's page), then these leads".to_string()
        }
        "merge_survivor_merged_again" => {
            "the surviving lead was merged again since; undo that merge first".to_string()
        }
        "customer_merge_survivor_merged_again" => {
            "the customer it went into was merged into another since; undo that merge first"
                .to_string()
        }
        "customer_merge_not_recorded" => {
            "this merge was made before merges recorded what they moved; it cannot be undone"
                .to_string()
        }
        "customer_merge_person_customer_again" => {
            "the removed customer's person has become a customer again since".to_string()
        }
        "customer_merge_not_found" => format!("there is no customer merge {}", a("id")),
        "deal_title_required" => "a deal needs a title".to_string(),
        "deal_invalid" => format!("the deal is not saved: {}", a("problems")),
        "product_too_long" => format!("a product is at most {} characters", a("max")),
        "request_invalid" => format!("the request is not saved: {}", a("problems")),
        "contact_merged_away" => {
            "this contact was merged into another, which is the person now; correct that one"
                .to_string()
        }
        "contact_needs_a_way" => {
            "a contact keeps at least one phone, email or profile; add another first".to_string()
        }
        "change_not_found" => format!("change {} not found", a("id")),
        "account_name_taken" => "another company goes by this name already (in this or another \
             legal form); correct its people's company to move them there"
            .to_string(),
        "account_name_required" => "a company needs a name".to_string(),
        "account_domain_invalid" => format!("{:?} is not a domain name", a("given")),
        "account_invalid" => format!("the company is not saved: {}", a("problems")),
        "change_erased" => {
            "this change's details went with the person's data; it cannot be restored".to_string()
        }
        "contact_erased" => {
            "this person's data was erased at their request; it is not written again".to_string()
        }
        "contact_text_too_long" => format!("at most {} characters", a("max")),
        "contact_name_required" => "a name is required".to_string(),
        "contact_code_invalid" => format!("{:?} is not a two-letter ISO code", a("given")),
        "contact_phone_invalid" => format!("{:?} is not a valid phone number", a("given")),
        "contact_email_invalid" => format!("{:?} is not an email address mail can reach", a("given")),
        "contact_invalid" => format!("the contact is not saved: {}", a("problems")),
        "change_id_invalid" => format!(
            "change id must be a positive integer, got {:?}",
            a("given")
        ),
        "customer_merge_id_invalid" => format!(
            "customer merge id must be a positive integer, got {:?}",
            a("given")
        ),
        // Sentences of a check made elsewhere (rules, settings, a form definition, a parser),
        // passed through as they are.
        "form_definition_invalid" => a("problems").to_string(),
        // What a form definition's check found (`voronka_core::capture::DefinitionError`).
        "form_field_name_missing" => "a custom field needs a name".to_string(),
        "form_field_name_invalid" => format!(
            "{:?} cannot name a field: use lowercase letters, digits, - and _, and none of the \
             names the intake reads itself",
            a("name")
        ),
        "form_field_twice" => format!("the field {:?} appears twice", a("name")),
        "form_field_options_missing" => "a select field needs options".to_string(),
        "form_consent_text_missing" => "the consent checkbox needs its text".to_string(),
        "form_policy_url_invalid" => "the privacy policy link must be an http(s) URL".to_string(),
        "form_quiz_steps_missing" => "a quiz needs at least one question".to_string(),
        "form_step_id_invalid" => format!("{:?} cannot name a step", a("id")),
        "form_step_twice" => format!("the step {:?} appears twice", a("id")),
        "form_step_question_missing" => "a step needs a question".to_string(),
        "form_step_answers_few" => "a step needs at least two answers".to_string(),
        "form_next_not_later" => format!(
            "{:?} is not a later step (or \"{}\")",
            a("next"),
            a("contact")
        ),
        "form_answer_id_invalid" => format!("{:?} cannot name an answer", a("id")),
        "form_answer_twice" => format!("the answer {:?} appears twice", a("id")),
        "form_answer_label_missing" => "an answer needs a label".to_string(),
        "form_answer_image_invalid" => "an image must be an http(s) URL".to_string(),
        "form_country_invalid" => format!("{:?} is not a country code", a("code")),
        "form_file_title_missing" => "the file needs a title".to_string(),
        "form_file_url_invalid" => "the file must be an http(s) URL".to_string(),
        "form_landing_slug_invalid" => {
            "the page address uses lowercase letters, digits, - and _".to_string()
        }
        "form_landing_image_invalid" => "the image must be an http(s) URL".to_string(),
        "form_variant_key_invalid" => format!("{:?} cannot name a variant", a("key")),
        "form_variant_twice" => format!("the variant {:?} appears twice", a("key")),
        "form_variant_weight_zero" => "a variant needs a share of traffic above 0".to_string(),
        "form_variant_hides_unknown" => format!("there is no field {:?} to hide", a("name")),
        "rules_invalid" => a("problem").to_string(),
        // Scoring rules (`voronka_core::scoring::RulesError`).
        "scoring_rules_unreadable" => format!("cannot read the scoring rules: {}", a("problem")),
        "scoring_rule_name_missing" => format!("scoring rule {}: the name is empty", a("rule")),
        "scoring_rule_name_twice" => format!("two scoring rules are named {:?}", a("name")),
        "scoring_rule_field_missing" => format!("scoring rule {:?}: the field is empty", a("name")),
        "scoring_rule_event_missing" => format!("scoring rule {:?}: the event is empty", a("name")),
        "scoring_rule_band_inverted" => format!("scoring rule {:?}: min is above max", a("name")),
        "scoring_fit_thresholds_fall" => "the fit level thresholds must rise".to_string(),
        "scoring_activity_thresholds_fall" => "the activity level thresholds must rise".to_string(),
        "scoring_temperature_thresholds_fall" => "the temperature thresholds must rise".to_string(),
        "scoring_probability_out_of_range" => format!(
            "{}: a probability of conversion is from 0 to 1",
            a("name")
        ),
        "scoring_half_life_negative" => {
            "the half-life must be zero (no decay) or positive".to_string()
        }
        "scoring_points_out_of_range" => format!(
            "{:?}: points must be from {} to {}",
            a("name"),
            a("min"),
            a("max")
        ),
        // Routing rules and profiles (`voronka_core::routing::{RulesError, ProfileError}`).
        "routing_rules_unreadable" => format!("cannot read the rules: {}", a("problem")),
        "routing_rule_name_missing" => format!("rule {}: the name is empty", a("rule")),
        "routing_rule_name_twice" => format!("two rules are named {:?}", a("name")),
        "routing_rule_score_band" => format!("rule {:?}: score_min is above score_max", a("name")),
        "routing_rule_conversion_band" => format!(
            "rule {:?}: a conversion bound is a probability from 0 to 1, and conversion_min is at \
             most conversion_max",
            a("name")
        ),
        "time_zone_unknown" => format!("{:?} is not a time zone (like Europe/Moscow)", a("zone")),
        "routing_weight_out_of_range" => "weight must be between 1 and 100".to_string(),
        "routing_away_backwards" => "away until is before away from".to_string(),
        // Pseudo-lead rules (`voronka_core::intake::scrub::RulesError`).
        "scrub_rule_unknown" => format!("unknown rule code {:?}", a("code")),
        "scrub_setting_zero" => format!("{} must be greater than zero", a("setting")),
        "scrub_exempt_ip_invalid" => {
            format!("{:?} in burst_exempt_ips is not an IP address", a("entry"))
        }
        "sla_invalid" => a("problem").to_string(),
        "model_not_trained_reason" => a("problem").to_string(),
        "value_invalid_here" => a("problem").to_string(),
        "currency_invalid" => a("problem").to_string(),
        _ => return None,
    };
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rules errors read as the core words them, variant by variant.
    #[test]
    fn rules_errors_read_as_before() {
        use voronka_core::scoring::RulesError as R;
        let all = [
            R::Parse("expected `=`".into()),
            R::EmptyName(3),
            R::DuplicateName("Пётр".into()),
            R::EmptyField("a".into()),
            R::EmptyEvent("a".into()),
            R::Band("a".into()),
            R::Thresholds("fit level"),
            R::Thresholds("activity level"),
            R::Thresholds("temperature"),
            R::HalfLife,
            R::Points("Пётр".into()),
            R::Points("levels.fit".into()),
        ];
        for e in &all {
            assert_eq!(Message::from(e).to_string(), e.to_string());
        }
        use voronka_core::routing::{ProfileError as P, RulesError as Q};
        for e in [
            Q::Parse("expected `=`".into()),
            Q::EmptyName(2),
            Q::DuplicateName("Ольга".into()),
            Q::ScoreBand("hot".into()),
            Q::ConversionBand("b2b".into()),
        ] {
            assert_eq!(Message::from(&e).to_string(), e.to_string());
        }
        for e in [
            P::TimeZone("Mars/Olympus".into()),
            P::Weight,
            P::AwayBackwards,
        ] {
            assert_eq!(Message::from(&e).to_string(), e.to_string());
        }
        use voronka_core::intake::scrub::RulesError as S;
        for e in [
            S::UnknownCode("x".into()),
            S::Zero("burst_window_secs"),
            S::ExemptIp("300.1.1.1".into()),
        ] {
            assert_eq!(Message::from(&e).to_string(), e.to_string());
        }
    }

    /// A form definition's problems are worded here from the codes and values its check found.
    #[test]
    fn definition_problems_are_worded_from_their_codes() {
        let def = voronka_core::capture::FormDefinition {
            phone_countries: vec!["RUS".into()],
            kind: voronka_core::capture::FormKind::Quiz,
            ..Default::default()
        };
        let problems = def.check();
        let texts: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.field, Message::from(p)))
            .collect();
        assert!(
            texts.contains(&"steps: a quiz needs at least one question".to_string()),
            "{texts:?}"
        );
        assert!(
            texts.contains(&"phone_countries: \"RUS\" is not a country code".to_string()),
            "{texts:?}"
        );
        let next = Message::new("form_next_not_later")
            .with("next", "q9")
            .with("contact", "contact");
        assert_eq!(
            next.to_string(),
            "\"q9\" is not a later step (or \"contact\")"
        );
    }

    #[test]
    fn codes_render_with_their_values() {
        assert_eq!(
            Message::new("lead_not_found").with("id", 42).to_string(),
            "lead 42 not found"
        );
        assert_eq!(
            Message::new("token_lacks_scope")
                .with("scope", "leads:read")
                .to_string(),
            "this token lacks the leads:read scope"
        );
        assert_eq!(
            Message::new("delimiter_invalid")
                .with("given", "ab")
                .to_string(),
            "a delimiter is one character such as , ; | or the word tab, not \"ab\""
        );
        assert_eq!(
            Message::new("content_type_not_json")
                .with("given", "")
                .to_string(),
            "expected Content-Type application/json, got \"nothing\""
        );
        assert_eq!(
            Message::new("token_expired").to_string(),
            "this API token has expired"
        );
    }

    #[test]
    fn a_missing_value_reads_as_a_question_mark() {
        assert_eq!(
            message_text("lead_not_found", &Args::new()).as_deref(),
            Some("lead ? not found")
        );
    }

    #[test]
    fn an_unknown_code_reads_as_itself() {
        assert_eq!(message_text("no_such_code", &Args::new()), None);
        let m = Message::new("no_such_code").with("id", 1);
        assert_eq!(m.to_string(), "no_such_code");
    }

    #[test]
    fn values_are_kept_as_given() {
        let m = Message::new("owner_not_active").with("id", "<script>alert(1)</script>");
        assert_eq!(m.to_string(), "no active user <script>alert(1)</script>");
        let m = Message::new("tracking_site_not_found").with("key", "Пётр");
        assert_eq!(m.to_string(), "no tracking site with key Пётр");
        let m = Message::new("url_invalid").with("url", "Пётр");
        assert_eq!(m.to_string(), "\"Пётр\" is not an http(s) URL");
    }

    #[test]
    fn a_stage_error_keeps_its_sentence() {
        use voronka_core::Stage;
        let e = StageError::Illegal {
            from: Stage::New,
            to: Stage::Converted,
        };
        assert_eq!(Message::from(&e).to_string(), e.to_string());
        let e = StageError::Unknown("Пётр".into());
        assert_eq!(Message::from(&e).to_string(), e.to_string());
        let e = StageError::ConvertThroughConversion;
        assert_eq!(Message::from(&e).to_string(), e.to_string());
    }

    #[test]
    fn the_stored_form_names_code_and_values() {
        let m = Message::new("lead_not_found").with("id", 7);
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"code":"lead_not_found","args":{"id":"7"}}"#
        );
        let m = Message::new("token_expired");
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"code":"token_expired"}"#
        );
    }
}

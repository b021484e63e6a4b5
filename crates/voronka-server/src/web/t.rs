//! User-facing strings of the web UI, in one place so that they can be translated later.

use std::fmt::Display;

pub const APP_NAME: &str = "Voronka";

// Navigation.
pub const NAV_LEADS: &str = "Leads";
pub const NAV_CUSTOMERS: &str = "Customers";
pub const NAV_COMPANIES: &str = "Companies";
pub const SEARCH_COMPANIES: &str = "Search companies by name  ( / )";
pub const COMPANIES_SEARCH: &str = "Search companies";
pub const NO_COMPANIES_YET: &str = "No companies yet: a company is kept when a request names one.";
pub const NO_COMPANY_MATCHES_THIS_SEARCH: &str = "No company matches this search.";
pub const SHOW_ALL_COMPANIES: &str = "Show all companies";
pub const NAV_FORMS: &str = "Forms";
pub const NAV_DUPLICATES: &str = "Duplicates";
pub const NAV_ADMIN: &str = "Admin";
pub const NAV_LOGOUT: &str = "Log out";
pub const NAV_WORK: &str = "Work";
pub const NAV_SLA: &str = "SLA";
pub const NAV_SCORING: &str = "Scoring";
pub const STATUS_TITLE: &str = "Status";
pub const NAV_REPORTS: &str = "Reports";

// Channel report.
pub const REPORTS_TITLE: &str = "Channels";
pub const BY_SOURCE: &str = "Source";
pub const BY_SOURCE_MEDIUM: &str = "Source / medium";
pub const BY_MEDIUM: &str = "Medium";
pub const BY_CAMPAIGN: &str = "Campaign";
pub const BY_FORM: &str = "Form";
pub const GROUP_BY: &str = "Group by";
pub const FIRST_DAY: &str = "First day";
pub const LAST_DAY: &str = "Last day";
pub const SHOW_REPORT: &str = "Show";
pub const NO_CHANNEL: &str = "(none)";
pub const ALL_CHANNELS: &str = "All channels";
pub const CHANNEL: &str = "Channel";
pub const COL_INTERESTS: &str = "Interests";
pub const COL_JUNK: &str = "Junk";
pub const CONVERTED: &str = "Converted";
pub const CONVERSION_RATE: &str = "Conversion";
pub const REVENUE: &str = "Revenue";
pub const SPEND: &str = "Spend";
pub const COST_PER_LEAD: &str = "Cost per lead";
pub const COST_PER_CUSTOMER: &str = "Cost per customer";
pub const RETURN_ON_SPEND: &str = "Return on spend";
/// First day, last day, currency.
pub const CHANNELS_HINT_N: &str = "The leads created from {1} to {2} (UTC), how far they went and what their deals came to, whenever made, against what each channel cost in these days. Cost and return are in {3}: amounts in other currencies are listed beside them, not converted, and a figure that would mix currencies is left out (—).";
pub const NO_LEADS_OR_SPEND: &str = "No leads, interests or spend in these days.";
pub const UNATTRIBUTED_SPEND_N: &str = "Spend of these days that this grouping cannot show (a source's whole budget has no medium or campaign; no spend is of a form): {1}";
pub const MARKETING_SPEND: &str = "Marketing spend";
pub const SPEND_HINT: &str = "What each channel cost, for the days it paid for: the report spreads every amount evenly over its days. Name the source as the leads' utm_source has it; a medium or campaign narrows it.";
pub const NO_SPEND_IN_PERIOD: &str = "No spend entered for these days.";
pub const SPEND_DAYS: &str = "Days";
pub const ENTERED_BY: &str = "Entered by";
pub const ADD_SPEND: &str = "Add spend";
pub const OPTIONAL_MEDIUM: &str = "Medium (optional)";
pub const OPTIONAL_CAMPAIGN: &str = "Campaign (optional)";
pub const DELETE_SPEND_N: &str = "Delete the spend entry {1}";
pub const EDIT_SPEND_N: &str = "Change the spend entry {1}";
pub const CHANGE: &str = "Change";
pub const SAVE_SPEND: &str = "Save the entry";
pub const CANCEL: &str = "Cancel";
/// The channel of the entry being changed.
pub const CHANGING_SPEND_N: &str = "Changing the spend entry {1}";
pub const DELETE: &str = "Delete";
pub const CONFIRM_DELETE_SPEND: &str = "Delete this spend entry?";
pub const IMPORT_SPEND: &str = "Import a file of spend";
pub const IMPORT_SPEND_HINT: &str = "A CSV file with a row per channel and day (date) or days (from, to) and its amount — an ad platform's daily costs or a budget sheet; headers in English or Russian (source, medium, campaign, amount, currency; источник, кампания, сумма, валюта). Rows without a source take the one given here. The same channel and days entered before are replaced, so a file sent again changes nothing.";
pub const SPEND_FILE: &str = "File";
pub const LEADS_PER_WEEK: &str = "Leads per week";
pub const LEADS_PER_WEEK_HINT: &str = "Junk left out; weeks run Monday to Sunday (UTC), the first and the last may be cut by the period.";
pub const WEEK_OF: &str = "Week of";
pub const OTHER_CHANNELS: &str = "Others";
pub const TOO_MANY_WEEKS: &str =
    "Choose a period of at most 60 weeks to see its leads week by week.";

// Scoring.
pub const SCORING_TITLE: &str = "Fit and activity";
pub const SCORING_RULES_TITLE: &str = "Scoring and tracking";
pub const SCORE_FIT: &str = "Fit";
pub const SCORE_ENGAGEMENT: &str = "Engagement";

// Speed to lead.
pub const WORK_TITLE: &str = "What to do now";
pub const ROUTING_TITLE: &str = "Routing and SLA";
pub const SLA_TITLE: &str = "SLA dashboard";
pub const KANBAN_TITLE: &str = "Pipeline";
pub const STAGE_NEW: &str = "New";
pub const STAGE_WORKING: &str = "Working";
pub const STAGE_MQL: &str = "MQL";
pub const STAGE_SQL: &str = "SQL";
pub const SLA_RESPONDED: &str = "responded";
pub const SLA_OVERDUE: &str = "response overdue since";
pub const SLA_DUE: &str = "respond by";
pub const UNASSIGNED: &str = "unassigned";
/// Outcomes offered when logging a call: (value, label).
pub const OUTCOMES: [(&str, &str); 5] = [
    ("reached", "Reached"),
    ("no_answer", "No answer"),
    ("wrong_number", "Wrong number"),
    ("call_back", "Call back at …"),
    ("sent", "Sent"),
];

// Who made a change when no person did, by the name the system writes.
pub fn system_actor(name: &str) -> Option<&'static str> {
    Some(match name {
        "intake" => "Intake",
        "scoring" => "Scoring",
        "freeze timer" => "Freeze timer",
        "demo" => "Demo data",
        "sla" => "SLA",
        _ => return None,
    })
}

/// What an entry of the audit log records, in words; an action of no known kind by its code.
/// Each action of the audit log with its label, in the order the audit log's filter offers them
/// (settings' changes other than the two-step rule are named by their code).
pub const AUDIT_ACTIONS: &[(&str, &str)] = &[
    ("create", "Created"),
    ("update", "Changed"),
    ("stage", "Stage changed"),
    ("note", "Note added"),
    ("tag", "Tag added"),
    ("untag", "Tag removed"),
    ("tag.rename", "Tag renamed on every lead"),
    ("tag.delete", "Tag removed from every lead"),
    ("refuse", "Refused"),
    ("convert", "Converted"),
    ("junk", "Marked as junk"),
    ("revive", "Back to work after the freeze"),
    ("assign", "Owner changed"),
    ("temperature", "Temperature set"),
    ("activity", "Call, email or meeting logged"),
    ("request", "Request corrected"),
    ("lead.merge", "Leads merged"),
    ("lead.unmerge", "Lead merge undone"),
    ("lead.not_duplicate", "Marked as not a duplicate"),
    ("contact.merge", "Contacts merged"),
    ("contact.update", "Contact corrected"),
    ("contact.erase", "Personal data erased"),
    ("customer.merge", "Customers merged"),
    ("customer.unmerge", "Customer merge undone"),
    ("deal.update", "Deal corrected"),
    ("account.update", "Company corrected"),
    ("leads.export", "Leads exported"),
    ("sla.notify_owner", "Owner reminded of the first response"),
    ("sla.escalate_team_lead", "Escalated to the team lead"),
    ("spend.add", "Spend added"),
    ("spend.update", "Spend changed"),
    ("spend.delete", "Spend deleted"),
    ("spend.import", "Spend imported"),
    ("user.password", "Password changed by its owner"),
    ("user.password_set", "Password set"),
    ("user.password_reset", "Password set through an email link"),
    ("two_step_policy.update", "Two-step sign-in rule changed"),
    ("user.two_step_on", "Two-step sign-in turned on"),
    (
        "user.two_step_off",
        "Two-step sign-in turned off by its owner",
    ),
    ("user.two_step_reset", "Two-step sign-in turned off"),
    ("user.recovery_codes", "New recovery codes"),
    ("user.recovery_code_used", "Signed in with a recovery code"),
];

/// A kind of record the audit log names.
pub fn audit_kind_label(kind: &str) -> &'static str {
    match kind {
        "lead" => "Leads",
        "contact" => "Contacts",
        "account" => "Companies",
        "customer" => "Customers",
        "deal" => "Deals",
        "user" => "Users",
        "token" => "API tokens",
        "form" => "Forms",
        "tag" => "Tags",
        "spend" => "Marketing spend",
        "settings" => "Settings",
        _ => "Other",
    }
}
pub const AUDIT_ANYONE: &str = "Anyone";
pub const AUDIT_ANY_KIND: &str = "Any record";
pub const AUDIT_ANY_ACTION: &str = "Any action";
pub const AUDIT_PERSON: &str = "Person";
pub const AUDIT_KIND: &str = "Record";
pub const AUDIT_FROM: &str = "From";
pub const AUDIT_TO: &str = "To";
pub const AUDIT_FILTER: &str = "Show";
pub const AUDIT_NO_ENTRIES: &str = "No entry matches these filters.";
pub const AUDIT_CSV_HINT: &str =
    "Every entry of these filters (up to 100,000), newest first, as a CSV file";

pub fn audit_action_label(code: &str) -> String {
    AUDIT_ACTIONS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, label)| *label)
        .to_string()
}

/// A field a change changed, in words; a field of no known name by its key.
pub fn change_field_label(field: &str) -> String {
    match field {
        "full_name" | "name" => "Name",
        "domain" => "Domain",
        "title" => "Title",
        "product" => "Product",
        "value" => "Value estimate",
        "amount" => "Amount",
        "position" => "Position",
        "company" => "Company",
        "country" => "Country",
        "language" => "Language",
        "added_phones" => "Phone added",
        "added_emails" => "Email added",
        "removed_phones" => "Phone removed",
        "removed_emails" => "Email removed",
        "stage" => "Stage",
        "temperature" => "Temperature",
        "owner_id" => "Owner",
        "reason" => "Reason",
        "sessions_ended" => "Sessions ended",
        other => return other.to_string(),
    }
    .to_string()
}

pub const CHANGES: &str = "Changes";
pub const REQUEST_CHANGES: &str = "Corrections of the request";
pub const RESTORE_CHANGE: &str = "Restore as before";
pub const EDIT_ACCOUNT: &str = "Correct the company";
pub const EDIT_ACCOUNT_HINT: &str = "A typo in the name or a new domain: the company's people keep it, its customers take the name, and its leads are found by it.";
pub const DOMAIN: &str = "Domain";
pub const CHANGE_DETAILS_ERASED: &str = "Its details went with the person's data.";
pub const OLDER_ENTRIES: &str = "Older entries";
pub const NEWEST_ENTRIES: &str = "Newest entries";

// CSV import.
pub const IMPORT_TITLE: &str = "Import leads";
pub const IMPORT_TAB: &str = "tab";
pub const IMPORT_NO_FILE: &str = "Choose a CSV file to import.";
pub fn import_unreadable(why: impl Display) -> String {
    format!("The upload could not be read: {why}")
}
pub fn import_too_large(mb: usize) -> String {
    format!("The file is larger than {mb} MB; import it with `voronka import` instead.")
}
/// Encodings offered on the import page: (label, shown as).
pub const IMPORT_ENCODINGS: [(&str, &str); 6] = [
    ("", "Find from the file"),
    ("utf-8", "UTF-8"),
    ("windows-1251", "Windows-1251 (Excel, Cyrillic)"),
    ("koi8-r", "KOI8-R"),
    ("windows-1252", "Windows-1252 (Excel, Western)"),
    ("utf-16le", "UTF-16 (Excel “Unicode text”)"),
];
/// Delimiters offered on the import page: (value, shown as).
pub const IMPORT_DELIMITERS: [(&str, &str); 5] = [
    ("", "Find from the header line"),
    (",", "Comma ,"),
    (";", "Semicolon ;"),
    ("tab", "Tab"),
    ("|", "Vertical bar |"),
];

// Login.
pub const LOGIN_TITLE: &str = "Sign in";
pub const LOGIN_FAILED: &str = "Wrong email or password.";
pub const LOGIN_LOCKED_N: &str =
    "Too many failed sign-ins with this email. Try again in {1} min, or set a new password.";
pub const FORGOT_PASSWORD: &str = "Forgot your password?";
pub const TWO_STEP_TITLE: &str = "Two-step sign-in";
pub const TWO_STEP_ASK: &str =
    "Type the code your authenticator app shows now, or one of your recovery codes.";
pub const TWO_STEP_CODE: &str = "Code";
pub const TWO_STEP_SUBMIT: &str = "Sign in";
pub const TWO_STEP_START_AGAIN: &str = "Sign in again from the start";
pub const TWO_STEP_WRONG: &str =
    "That code is not right. Type the code your app shows now, or a recovery code.";
pub const TWO_STEP_EXPIRED: &str = "The sign-in waited too long for its code. Sign in again.";
pub const TWO_STEP_NOTE: &str = "With two-step sign-in on, signing in asks for a code from an authenticator app on your phone (any app that reads TOTP codes) after your password.";
pub const TWO_STEP_IS_ON: &str = "Two-step sign-in is on.";
pub const TWO_STEP_IS_OFF: &str = "Two-step sign-in is off.";
pub const TWO_STEP_TURN_ON: &str = "Turn on two-step sign-in";
pub const TWO_STEP_SCAN: &str = "Scan this code with your authenticator app, or type the key into it, then type the code it shows.";
pub const TWO_STEP_KEY: &str = "Key";
pub const TWO_STEP_CONFIRM: &str = "Confirm and turn on";
pub const TWO_STEP_TURN_OFF: &str = "Turn off two-step sign-in";
pub const TWO_STEP_CODES_LEFT_N: &str = "Recovery codes left: {1}.";
pub const TWO_STEP_NEW_CODES: &str = "New recovery codes";
pub const TWO_STEP_CODES_TITLE: &str = "Your recovery codes";
pub const TWO_STEP_CODES_NOTE: &str = "Each code signs you in once instead of your app's code. Keep them somewhere safe: they are shown only now.";
pub const TWO_STEP_POLICY: &str = "Two-step sign-in required";
pub const TWO_STEP_POLICY_NOTE: &str = "Those it is required of turn it on at their next page before anything else. API tokens are not affected.";

/// Whose sign-in must have two steps.
pub fn two_step_policy_label(p: voronka_app::TwoStepPolicy) -> &'static str {
    match p {
        voronka_app::TwoStepPolicy::Nobody => "Of nobody: each person chooses",
        voronka_app::TwoStepPolicy::Admins => "Of administrators",
        voronka_app::TwoStepPolicy::Everyone => "Of everyone",
    }
}
pub const TWO_STEP_USER_ON: &str = "Two-step sign-in on";
pub const TWO_STEP_RESET_OF_N: &str = "Turn off the two-step sign-in of {1}";
pub const TWO_STEP_RESET: &str = "Turn off two-step";
pub const TWO_STEP_RESET_CONFIRM: &str = "Turn off this person's two-step sign-in? They sign in with their password alone until they turn it on again.";

// Passwords: one's own, set by an administrator, and set through a link sent by email.
pub const ME_TITLE: &str = "Your account";
pub const CHANGE_PASSWORD: &str = "Change your password";
pub const CHANGE_PASSWORD_NOTE: &str =
    "Your sessions on other devices end: there you sign in again with the new password.";
pub const CURRENT_PASSWORD: &str = "Current password";
pub const NEW_PASSWORD: &str = "New password";
pub const NEW_PASSWORD_AGAIN: &str = "The new password again";
pub const PASSWORD_MIN_N: &str = "At least {1} characters.";
pub const SET_PASSWORD: &str = "Set password";
pub const SET_PASSWORD_OF_N: &str = "New password for {1}";
pub const SET_PASSWORD_NOTE: &str =
    "Setting a person's password ends their sessions: they sign in again with the new one.";
pub const TAGS: &str = "Tags";
pub const TAG: &str = "Tag";
pub const ADD_TAG: &str = "Add tag";
pub const REMOVE_TAG_N: &str = "Remove the tag {1}";
pub const LEADS_TAGGED_N: &str = "Leads tagged {1}";
pub const ANY_TAG: &str = "Any tag";
pub const REMOVE_TAG_BULK: &str = "Remove tag";
pub const TAGS_NOTE: &str =
    "The tags on the leads you see, the most used first. A tag's count opens its leads.";
pub const TAGS_MANAGE_NOTE: &str = "Renaming a tag changes it on every lead you see; renaming it into a tag in use joins the two. Removing a tag takes it off every lead you see. The audit log keeps both.";
pub const NO_TAGS_YET: &str =
    "No lead you see has a tag yet. Tag a lead from its card, or the leads selected in the list.";
pub const TAG_LEADS: &str = "Leads";
pub const TAG_NEW_NAME: &str = "New name";
pub const TAG_RENAME: &str = "Rename";
pub const TAG_DELETE: &str = "Remove from every lead";
pub const TAG_DELETE_CONFIRM_N: &str = "Remove the tag {1} from every lead you see?";
pub const TAGS_LISTED_MAX_N: &str = "At most {1} tags are listed.";
pub const SESSIONS: &str = "Where you are signed in";
pub const SESSIONS_NOTE: &str =
    "Sessions last 14 days. End any you do not know, then change your password.";
pub const SESSION_BROWSER: &str = "Browser";
pub const SESSION_SIGNED_IN: &str = "Signed in";
pub const SESSION_LAST_SEEN: &str = "Last active";
pub const SESSION_THIS: &str = "This browser";
pub const SESSION_UNKNOWN_BROWSER: &str = "A browser that did not name itself";
pub const SESSION_END: &str = "End";
pub const SESSIONS_END_OTHERS: &str = "End every other session";
pub const RESET_TITLE: &str = "Set a new password";
pub const RESET_ASK: &str =
    "Type the email you sign in with. A link that sets a new password is sent to it.";
pub const RESET_SEND: &str = "Send the link";
pub const RESET_SENT_N: &str = "If someone signs in with this email, a link that sets a new password is on its way to it. The link works once, for {1} minutes.";
pub const RESET_NO_EMAIL: &str = "Email is not set up here, so no link can be sent. Ask an administrator to set a new password for you.";
pub const RESET_INVALID: &str = "This link has expired or was used already.";
pub const RESET_ASK_AGAIN: &str = "Ask for a new link";
pub const RESET_SAVE: &str = "Set the new password";
pub const BACK_TO_SIGN_IN: &str = "Back to sign in";

// Errors.
pub const ERR_CSRF: &str =
    "This form has expired or did not come from this site. Reload the page and try again.";
pub const ERR_FORBIDDEN_TITLE: &str = "Not allowed";
pub const ERR_NOT_FOUND_TITLE: &str = "Not found";
pub const ERR_NOT_FOUND: &str = "There is nothing here, or you may not see it.";
pub const ERR_INTERNAL: &str =
    "Something went wrong on our side. It has been logged; please try again.";
pub const ERR_TITLE: &str = "Something is not right";
pub const ERR_BAD_DATE: &str = "Dates are written as YYYY-MM-DD.";
pub const ERR_BAD_FORM: &str = "The submitted form could not be read.";
pub const NO_SUCH_ASSET: &str = "no such asset";

// Flash messages (after a redirect, named by the `done` query parameter).
pub fn flash(code: &str) -> Option<&'static str> {
    Some(match code {
        "stage" => "Stage changed.",
        "refuse" => "Lead refused.",
        "refuse_farewell" => "Lead refused. The farewell message with the survey link is on its way.",
        "refuse_no_farewell" => {
            "Lead refused. No farewell was sent: the contact has no email address or email is not set up."
        }
        "smtp" => "Email settings saved.",
        "junk" => "Lead marked as junk.",
        "convert" => "Lead converted: the customer and the deal are created.",
        "erased" => "The person's personal data is erased.",
        "customer_merged" => "Customer merged: its deals and leads are this customer's now.",
        "contact_updated" => "Contact saved. Its leads are found by what it says now.",
        "customer_unmerged" => "Merge undone: the customer is back with the deals and leads the merge moved.",
        "assign" => "Owner changed.",
        "temperature" => "Temperature changed.",
        "request" => "Request saved.",
        "deal_updated" => "Deal saved. The reports count what it says now.",
        "change_restored" => "Restored as it read before that change.",
        "account_updated" => "Company saved. Its people's leads are found by what it says now.",
        "note" => "Note added.",
        "tag" => "Tag added.",
        "untag" => "Tag removed.",
        "tag_renamed" => "Tag renamed on every lead.",
        "two_step_off" => "Two-step sign-in is off.",
        "two_step_reset" => "Two-step sign-in is off for that person.",
        "two_step_policy" => "Two-step sign-in rule saved.",
        "two_step_required" => "Your team requires two-step sign-in: turn it on below to go on.",
        "tag_deleted" => "Tag removed from every lead.",
        "view_saved" => "View saved.",
        "view_deleted" => "View deleted.",
        "spend_added" => "Spend added.",
        "spend_updated" => "Spend entry changed.",
        "spend_deleted" => "Spend entry deleted.",
        "spend_imported" => "Spend imported.",
        "form" => "Form created.",
        "saved" => "Form saved. The widget shows the change within a few seconds.",
        "quiz" => "Quiz saved.",
        "user" => "User saved.",
        "password" => "Your password is changed. Your sessions on other devices have ended.",
        "password_set" => "Password set. The person's sessions have ended.",
        "session_ended" => "The session has ended.",
        "sessions_ended" => "Every other session has ended.",
        "password_reset" => "Your new password is set. Sign in with it.",
        "revoked" => "Token revoked.",
        "rules" => "Rules saved. They apply to new submissions.",
        "scoring" => {
            "Scoring rules saved. New submissions use them now; every lead is being rescored."
        }
        "rescore" => "Rescoring started.",
        "model" => "The conversion model is trained again; every open lead has its new chance.",
        "site" => "Tracking site added. Put its embed code on every page of the site.",
        "merged" => "Leads merged. The merge can be undone from the lead card.",
        "merged_away" => "The lead you opened was merged into this one; everything it held is here.",
        "not_duplicate" => "Marked as not a duplicate.",
        "unmerged" => "Merge undone.",
        "activity" => "Logged. The next task is scheduled.",
        "task" => "Task done.",
        _ => return None,
    })
}

/// "received 3 min ago" and friends.
pub const JUST_NOW: &str = "just now";
pub const MIN_AGO: &str = "min ago";
pub const H_AGO: &str = "h ago";
pub const YESTERDAY: &str = "yesterday";
pub const DAYS_AGO: &str = "days ago";
pub const IN_FUTURE: &str = "in";

pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

pub fn role_label(r: voronka_core::Role) -> &'static str {
    use voronka_core::Role::*;
    match r {
        Admin => "Admin",
        SalesManager => "Sales manager",
        Salesperson => "Salesperson",
        Marketer => "Marketer",
        Viewer => "Viewer",
    }
}

pub fn temperature_label(t: voronka_core::Temperature) -> &'static str {
    use voronka_core::Temperature::*;
    match t {
        Cold => "Cold",
        Warm => "Warm",
        Hot => "Hot",
    }
}

pub fn stage_label(s: voronka_core::Stage) -> &'static str {
    use voronka_core::Stage::*;
    match s {
        New => "New",
        Working => "Working",
        Mql => "MQL",
        Sql => "SQL",
        Converted => "Converted",
        Refused => "Refused",
        Junk => "Junk",
    }
}

pub const STAGE_ILLEGAL_N: &str = "A lead in “{1}” cannot move to “{2}”.";
pub const STAGE_SAME_N: &str = "The lead is already in “{1}”.";
pub const STAGE_REASON_REQUIRED_N: &str = "Moving to “{1}” needs a reason.";
pub const STAGE_CONVERT_THROUGH_CONVERSION: &str =
    "A lead becomes converted only through conversion, which creates the deal.";
pub const STAGE_UNKNOWN_N: &str = "Unknown stage “{1}”.";

/// Why a stage change was refused, with the stages named as the pages name them.
pub fn stage_error(e: &voronka_core::StageError) -> String {
    use voronka_core::StageError::*;
    match e {
        Illegal { from, to } => fill2(STAGE_ILLEGAL_N, stage_label(*from), stage_label(*to)),
        Same(s) => fill1(STAGE_SAME_N, stage_label(*s)),
        ReasonRequired(s) => fill1(STAGE_REASON_REQUIRED_N, stage_label(*s)),
        ConvertThroughConversion => STAGE_CONVERT_THROUGH_CONVERSION.into(),
        Unknown(s) => fill1(STAGE_UNKNOWN_N, s),
    }
}

pub fn fit_level_label(l: voronka_core::scoring::FitLevel) -> &'static str {
    use voronka_core::scoring::FitLevel::*;
    match l {
        Stranger => "Stranger",
        Unsuitable => "Unsuitable",
        Suitable => "Suitable",
        VerySuitable => "Very suitable",
    }
}

pub fn activity_label(a: voronka_core::scoring::Activity) -> &'static str {
    use voronka_core::scoring::Activity::*;
    match a {
        Inactive => "Inactive",
        LessActive => "Less active",
        Active => "Active",
        VeryActive => "Very active",
    }
}

/// A cell of the fit × activity grid: its two levels and how many leads are in it.
/// A behaviour event as a salesperson reads it; a custom event by its own name.
pub fn event_label(name: &str) -> String {
    match name {
        "page_view" => "Viewed a page",
        "view_catalog" => "Viewed the catalog",
        "view_product" => "Viewed a product",
        "view_pricing" => "Viewed pricing",
        "view_delivery_terms" => "Viewed delivery terms",
        "add_to_cart" => "Added to cart",
        "cart_abandoned" => "Left the cart",
        "click_social" => "Clicked a social link",
        "subscribe_newsletter" => "Subscribed to the newsletter",
        "unsubscribe" => "Unsubscribed",
        "download" => "Downloaded a file",
        "webinar_registered" => "Registered for a webinar",
        "chat_started" => "Started a chat",
        "email_open" => "Opened an email",
        "email_click_product" => "Clicked a product in an email",
        "email_click_ad" => "Clicked an offer in an email",
        "email_click_other" => "Clicked a link in an email",
        "email_no_reaction" => "Did not react to emails",
        other => return other.to_string(),
    }
    .to_string()
}

/// Where the review of a possible duplicate stands; a status of no known kind by its code.
pub fn pair_status_label(code: &str) -> String {
    match code {
        "open" => "waiting for review",
        "merged" => "merged",
        "not_duplicate" => "not a duplicate",
        other => return other.to_string(),
    }
    .to_string()
}

/// A noun after a count, in each form the count may take. English has two (one, other); a
/// translation gives its language's forms and the rule choosing one (Russian: one, few, many).
#[derive(Clone, Copy)]
pub struct Noun {
    pub one: &'static str,
    pub other: &'static str,
}

pub const N_STEPS: Noun = Noun {
    one: "{1} step",
    other: "{1} steps",
};
pub const N_ROWS: Noun = Noun {
    one: "{1} row",
    other: "{1} rows",
};
pub const N_DEALS: Noun = Noun {
    one: "{1} deal",
    other: "{1} deals",
};
pub const N_LEADS: Noun = Noun {
    one: "{1} lead",
    other: "{1} leads",
};

/// A count with its noun: "1 step", "3 steps".
pub fn count(n: impl TryInto<u64> + Display + Copy, noun: Noun) -> String {
    let one = n.try_into().is_ok_and(|n| n == 1);
    fill1(if one { noun.one } else { noun.other }, n)
}

/// A country by its ISO 3166 code ("NL" → "Netherlands"); a code not in the table as given. The
/// names are the ISO tables' English ones; a translation names countries in its own language.
pub fn country_name(code: &str) -> String {
    code.trim()
        .to_ascii_uppercase()
        .parse::<iso_country::Country>()
        .map(|c| c.name().to_string())
        .unwrap_or_else(|_| code.to_string())
}

/// A language by its ISO 639-1 code ("nl" → "Dutch"); a code not in the table as given.
pub fn language_name(code: &str) -> String {
    isolang::Language::from_639_1(&code.trim().to_ascii_lowercase())
        .map(|l| l.to_name().to_string())
        .unwrap_or_else(|| code.to_string())
}

/// Below a pipeline column that shows only its first cards.
pub fn kanban_more(n: i64) -> String {
    format!("{n} more in the inbox")
}

pub fn fit_activity_cell(fit: &str, activity: &str, count: impl Display) -> String {
    fill(FIT_ACTIVITY_CELL_N, &[&fit, &activity, &count])
}
pub const FIT_ACTIVITY_CELL_N: &str = "{1} × {2}: {3}";

pub fn channel_label(c: voronka_core::Channel) -> &'static str {
    use voronka_core::Channel::*;
    match c {
        WebForm => "Web form",
        Api => "API",
        Import => "Import",
        Manual => "Manual",
        Partner => "Partner",
        Tracking => "Site tracking",
    }
}

pub fn sort_label(s: &str) -> &'static str {
    match s {
        "inbox" => "New and unassigned first",
        "-created_at" => "Newest first",
        "created_at" => "Oldest first",
        "-updated_at" => "Recently updated",
        "-score" => "Highest score",
        "-conversion" => "Most likely to convert",
        _ => "",
    }
}

// Pseudo-lead rules.
pub const SCRUB_TITLE: &str = "Pseudo-lead rules";
pub const SCRUB_TEST_NAMES: &str = "Test names";
pub const SCRUB_JOKE_NAMES: &str = "Joke names";
pub const SCRUB_TEST_LOCALS: &str = "Test addresses (part before @)";
pub const SCRUB_TEST_DOMAINS: &str = "Test mail domains";
pub const SCRUB_DISPOSABLE: &str = "Extra disposable mail domains";
pub const SCRUB_ALLOWED: &str = "Never disposable";
pub const SCRUB_COMPETITORS: &str = "Competitors' domains";
pub const SCRUB_STOP_PHRASES: &str = "Stop phrases in messages";
pub const SCRUB_EXEMPT_IPS: &str = "Addresses exempt from burst limits";
pub const SCRUB_WINDOW: &str = "Burst window, seconds";
pub const SCRUB_MAX_IP: &str = "Most submissions per IP in the window";
pub const SCRUB_MAX_VISITOR: &str = "Most submissions per visitor in the window";
pub const SCRUB_MAX_IDENTICAL: &str = "Most clients sending one identical payload";
pub const SCRUB_MIN_DIGITS: &str = "Fewest digits in a phone";

pub fn action_label(a: voronka_core::intake::Action) -> &'static str {
    use voronka_core::intake::Action;
    match a {
        Action::Off => "Off",
        Action::Flag => "Flag",
        Action::Junk => "Junk",
        Action::Reject => "Reject",
    }
}

// Duplicate review.
pub const DUP_TITLE: &str = "Possible duplicates";

// Predictive conversion score.
pub const CONVERSION: &str = "Conversion chance";
pub const CONVERSION_HINT: &str =
    "Probability of conversion learnt from closed leads (converted against refused)";
pub const CONVERSION_NONE: &str = "not scored yet";
/// Links an intake reason to the other lead it names.
pub const REASON_OPEN_LEAD: &str = "Lead";
pub const MIN_CONVERSION: &str = "Conversion chance at least, %";
pub const ERR_BAD_PERCENT: &str = "A percentage is a number from 0 to 100; the filter was ignored.";

/// A probability as shown beside the score: whole percent, or one decimal below 1%.
pub fn conversion_percent(p: Option<f64>) -> String {
    match p {
        None => String::new(),
        Some(p) if p < 0.01 => format!("{:.1}%", p * 100.0),
        Some(p) => format!("{:.0}%", p * 100.0),
    }
}

// Email and the farewell survey.
pub const FAREWELL_OPTION: &str = "Send a farewell message";
pub const FAREWELL_HINT: &str =
    "Emails the contact a short thank-you with a one-question survey link (needs an email address and the email settings).";
pub const SURVEY_ON_CARD: &str = "Farewell survey";
pub const SURVEY_WAITING: &str = "sent, not answered yet";
pub const SURVEY_TITLE: &str = "Why did it not work out?";
pub const SURVEY_INTRO: &str =
    "Thank you for considering us. One question, and it helps us do better:";
pub const SURVEY_COMMENT: &str = "Anything you would like to add (optional)";
pub const SURVEY_SUBMIT: &str = "Send";
pub const SURVEY_THANKS: &str = "Thank you! Your answer has been received.";
pub const SURVEY_ALREADY: &str = "This survey has already been answered. Thank you!";
pub const SURVEY_NOT_FOUND_TITLE: &str = "Survey not found";
pub const SURVEY_NOT_FOUND: &str =
    "This survey link is not valid. Please check that the whole link was copied.";

/// Labels of the survey's answers (`voronka_app::SURVEY_ANSWERS`).
pub fn survey_answer_label(code: &str) -> &'static str {
    match code {
        "price" => "The price",
        "timing" => "The timing is not right",
        "other_supplier" => "Chose another supplier",
        _ => "Other",
    }
}

// Words of the pages, by the page that first uses them. A constant ending in _HTML holds
// markup of our own (code, links, emphasis) and is shown unescaped; the others are escaped.

// account.html
pub const COMPANY: &str = "Company";
pub const PEOPLE: &str = "People";
pub const NAME: &str = "Name";
pub const PHONE: &str = "Phone";
pub const EMAIL: &str = "Email";
pub const KNOWN_SINCE: &str = "Known since";
pub const COMPANY_KNOWN_SINCE: &str = "Company known since";
pub const BREADCRUMB: &str = "Breadcrumb";

// admin_nav.html
pub const ADMINISTRATION: &str = "Administration";
pub const USERS: &str = "Users";
pub const API_TOKENS: &str = "API tokens";
pub const AUDIT_LOG: &str = "Audit log";

// audit.html
pub const RECENT_CHANGES: &str = "Recent changes";
pub const WHEN: &str = "When";
pub const WHO: &str = "Who";
pub const ACTION: &str = "Action";
pub const WHAT: &str = "What";
pub const DETAILS: &str = "Details";

// base.html
pub const SKIP_TO_CONTENT: &str = "Skip to content";
pub const MAIN: &str = "Main";

// contact.html
pub const CONTACT_NO: &str = "Contact #";
pub const PRODUCT: &str = "Product";
pub const STAGE: &str = "Stage";
pub const TEMP: &str = "Temp.";
pub const RECEIVED: &str = "Received";
pub const COMPANY_LABEL: &str = "Company:";
pub const CUSTOMER_LABEL: &str = "Customer:";
pub const TYPED_AS: &str = "typed as";
pub const SOCIAL: &str = "Social";
pub const COUNTRY: &str = "Country";
pub const LANGUAGE: &str = "Language";

// customer.html
pub const DEALS: &str = "Deals";
pub const DEAL: &str = "Deal";
pub const AMOUNT: &str = "Amount";
pub const CLOSED: &str = "Closed";
pub const TIMELINE: &str = "Timeline";
pub const LEAD_NO: &str = "lead #";
pub const TOUCH_LABEL: &str = "Touch:";
pub const FORM: &str = "form";
pub const CONTACT: &str = "Contact";
pub const CUSTOMER_SINCE: &str = "Customer since";
pub const SUM_OF_DEALS: &str = "Sum of deals";
pub const ALSO_BUYING_HERE: &str = "Other people of this customer";
pub const ERASED_ON: &str = "Personal data erased";
pub const ERASED_HINT: &str = "Name, phones, emails, social profiles, position, company, messages, notes, comments, raw submissions, IP addresses and behaviour are gone; the leads keep their stage, product, value, channel and campaign for the reports.";
pub const ERASE_PERSON: &str = "Erase personal data";
pub const ERASE_PERSON_HINT: &str = "At the person's request: their name, phones, emails, social profiles, position, company, messages, notes, comments, raw submissions, IP addresses, behaviour and emails go for good, here and on every lead and contact merged with them. Stages, products, values, channels and campaigns stay for the reports. This cannot be undone.";
pub const ERASE_REASON: &str = "Why (the request, its date or reference)";
pub const ERASE_CONFIRM: &str = "I understand that this cannot be undone";
pub const ERASE: &str = "Erase";
pub const LOOK_ALIKE_CUSTOMERS: &str = "The same buyer?";
pub const LOOK_ALIKE_CUSTOMERS_HINT: &str = "Customers of the same company or name. Merging one into this customer moves its deals and leads here; its address leads here from then on.";
pub const MERGE_INTO_THIS: &str = "Merge into this one";
pub const MERGE_CUSTOMER_INTO: &str = "Merge this customer into customer no.";
pub const MERGE_CUSTOMER_INTO_HINT: &str = "Its deals and leads move to that customer, and this page leads there from then on. This cannot be undone.";
pub const MERGED_HERE: &str = "Merged into this customer";
pub const MERGED_MOVED_N_N: &str = "{1} and {2} moved";

// customers.html
pub const NO_CUSTOMERS_YET_HTML: &str = "<strong>No customers yet.</strong>";
pub const NO_CUSTOMER_MATCHES_THIS_SEARCH: &str = "No customer matches this search.";
pub const SHOW_ALL_CUSTOMERS: &str = "Show all customers";
pub const SEARCH: &str = "Search";
pub const A_LEAD_BECOMES_A_CUSTOMER_WHEN: &str =
    "A lead becomes a customer when you convert it into a deal.";
pub const CUSTOMER: &str = "Customer";
pub const SINCE: &str = "Since";
pub const LAST_DEAL: &str = "Last deal";
pub const NO_DEALS: &str = "none";
pub const PREVIOUS: &str = "Previous";
pub const NEXT_PAGE: &str = "Next page";
pub const SEARCH_CUSTOMERS: &str = "Search customers  ( / )";
pub const CUSTOMERS_SEARCH_CUSTOMERS: &str = "Search customers";
pub const PAGES: &str = "Pages";

// deal.html
pub const CUSTOMER_NO: &str = "Customer #";
pub const DEAL_NO: &str = "Deal #";
pub const FROM_LEAD: &str = "From lead";
pub const DEAL_LEAD_NO: &str = "Lead #";
pub const CREATED: &str = "Created";

// duplicate.html
pub const REVIEW_A_POSSIBLE_DUPLICATE: &str = "Review a possible duplicate";
pub const MATCH_PROBABILITY: &str = "match probability";
pub const STATUS: &str = "status";
pub const FIELD: &str = "Field";
pub const STAYS: &str = "Stays";
pub const KEEP_THIS_LEAD: &str = "keep this lead";
pub const PHONES: &str = "Phones";
pub const EMAILS: &str = "Emails";
pub const TOUCHES: &str = "Touches";
pub const PHONES_EMAILS_TOUCHES_NOTES_STAGE_HISTORY: &str = "Phones, emails, touches, notes, stage history and deals of both are kept on the lead that stays. The merge can be undone from its card.";
pub const MERGE: &str = "Merge";
pub const NOT_A_DUPLICATE: &str = "Not a duplicate";

// duplicates.html
pub const TO_REVIEW: &str = "To review";
pub const MERGED: &str = "Merged";
pub const NOT_DUPLICATES: &str = "Not duplicates";
pub const NOTHING_HERE: &str = "Nothing here.";
pub const POSSIBLY_THE_SAME_AS: &str = "Possibly the same as";
pub const WHY: &str = "Why";
pub const FOUND: &str = "Found";
pub const REVIEW: &str = "Review";

// error.html
pub const GO_TO_LEADS: &str = "Go to leads";

// form_edit.html
pub const FORM_BUILDER: &str = "Form builder";
pub const QUIZ_BUILDER: &str = "Quiz builder";
pub const NOT_SHOWN_THE_TYPE_IS_NOT: &str = ", not shown: the type is not “Quiz”";
pub const LANDING_PAGE: &str = "Landing page";
pub const SETTINGS: &str = "Settings";
pub const REDIRECT_AFTER_SENDING_INSTEAD_OF_THE: &str =
    "Redirect after sending (instead of the thank-you message)";
pub const ALLOWED_ORIGINS_ONE_PER_LINE_EMPTY: &str =
    "Allowed origins, one per line or separated by commas (empty: any site)";
pub const DEFAULT_PHONE_REGION: &str = "Default phone region";
pub const MINIMUM_FILL_TIME_MS_FASTER_SUBMISSIONS: &str =
    "Minimum fill time, ms (faster submissions are bots)";
pub const ACTIVE: &str = "Active";
pub const WHAT_THE_VISITOR_SEES: &str = "What the visitor sees";
pub const TYPE: &str = "Type";
pub const LANGUAGE_OF_LABELS: &str = "Language of labels";
pub const TITLE: &str = "Title";
pub const TEXT: &str = "Text";
pub const OFFER: &str = "Offer";
pub const BUTTON_LABEL_EMPTY_SEND_IN_THE: &str =
    "Button label (empty: “Send” in the form's language)";
pub const THANK_YOU_MESSAGE: &str = "Thank-you message";
pub const COUNTRIES_OF_THE_PHONE_SELECTOR_COMMA: &str =
    "Countries of the phone selector, comma separated (empty: a common list)";
pub const FIELDS: &str = "Fields";
pub const NAME_PHONE_AND_EMAIL_BY_DEFAULT: &str = "Name, phone and email by default. UTM tags, the referrer and the landing page are captured without fields. Leave the type empty to drop a row; save to get more empty rows.";
pub const FIELD_NAME: &str = "Field name";
pub const LABEL: &str = "Label";
pub const REQUIRED: &str = "Required";
pub const OPTIONS_ONE_PER_LINE: &str = "Options (one per line)";
pub const CONSENT: &str = "Consent";
pub const CONSENT_TEXT_EMPTY_NO_CHECKBOX_THE: &str =
    "Consent text (empty: no checkbox). The text is recorded on each touch as agreed to.";
pub const PRIVACY_POLICY_LINK: &str = "Privacy policy link";
pub const POPUP_AND_LEAD_MAGNET: &str = "Popup and lead magnet";
pub const DISPLAY: &str = "Display";
pub const DELAY_OF_A_TIMED_POPUP_SECONDS: &str = "Delay of a timed popup, seconds";
pub const FILE_HANDED_OUT_AFTER_SUBMITTING_TITLE: &str = "File handed out after submitting: title";
pub const FILE_URL: &str = "File URL";
pub const ADDRESS_LABEL: &str = "Address:";
pub const HEADLINE: &str = "Headline";
pub const IMAGE_URL: &str = "Image URL";
pub const A_B_VARIANTS: &str = "A/B variants";
pub const EACH_VISITOR_IS_SHOWN_ONE_VARIANT: &str = "Each visitor is shown one variant, chosen by share of traffic and kept for their next visits. Empty texts keep the form's own.";
pub const KEY: &str = "Key";
pub const SHARE: &str = "Share";
pub const BUTTON: &str = "Button";
pub const HIDE_FIELDS: &str = "Hide fields";
pub const SAVE_FORM: &str = "Save form";
pub const TAKE_RATE: &str = "Take rate";
pub const VARIANT: &str = "Variant";
pub const VIEWS: &str = "Views";
pub const SUBMITS: &str = "Submits";
pub const T_95_INTERVAL: &str = "95% interval";
pub const DOWNLOADS: &str = "Downloads";
pub const TAKE_RATE_IS_SUBMISSIONS_OVER_VIEWS: &str = "Take rate is submissions over views (each render of the widget is a view). Where two intervals overlap, the difference may be chance.";
pub const EMBED_CODE: &str = "Embed code";
pub const COPY: &str = "Copy";
pub const COPIED: &str = "Copied";
pub const UNDO_MERGE_CONFIRM_N: &str = "Undo this merge? Lead #{1} becomes separate again.";
pub const REVOKE_TOKEN_CONFIRM: &str = "Revoke this token? Clients using it stop working.";
pub const PUBLIC_KEY: &str = "Public key";
pub const HTTPS_EXAMPLE_COM_THANKS: &str = "https://example.com/thanks";
pub const A_FREE_AUDIT_FOR_THE_FIRST: &str = "A free audit for the first 10 requests";
pub const RU_KZ_BY: &str = "RU, KZ, BY";
pub const FOR_CUSTOM_FIELDS: &str = "for custom fields";
pub const HTTPS_EXAMPLE_COM_CHECKLIST_PDF: &str = "https://example.com/checklist.pdf";
pub const SPRING_OFFER: &str = "spring-offer";
pub const COMPANY_POSITION: &str = "company, position";

// forms.html
pub const NO_FORMS_YET_HTML: &str = "<strong>No forms yet.</strong>";
pub const CREATE_A_FORM_THEN_PASTE_ITS: &str =
    "Create a form, then paste its embed code into your site.";
pub const INACTIVE: &str = "inactive";
pub const EDIT_BUILDER: &str = "Edit · builder";
pub const LEADS: &str = "leads";
pub const INTERESTS: &str = "interests";
pub const REJECTED: &str = "rejected";
pub const JUNK: &str = "junk";
pub const SCRUB_RATE: &str = "scrub rate";
pub const DEFAULT_REGION: &str = "Default region";
pub const REDIRECT: &str = "Redirect";
pub const ALLOWED_ORIGINS: &str = "Allowed origins";
pub const NEW_FORM: &str = "New form";
pub const REDIRECT_AFTER_SENDING: &str = "Redirect after sending";
pub const ALLOWED_ORIGINS_ONE_PER_LINE: &str =
    "Allowed origins, one per line or separated by commas";
pub const CREATE_FORM: &str = "Create form";
pub const SUBMISSIONS_ARE_POSTED_TO: &str = "Submissions are posted to";
pub const REJECTED_AND_JUNK_AMONG_ALL_SUBMISSIONS: &str = "Rejected and junk among all submissions";
pub const HTTPS_EXAMPLE_COM: &str = "https://example.com";

// import.html
pub const A_TOML_FILE_NAMING_THE_FIELD_HTML: &str = "A TOML file naming the field of each column, as <code>voronka import --map</code> takes it: <code>[columns]</code> then lines such as <code>\"Client\" = \"name\"</code>, <code>\"Cell\" = \"phone\"</code>, <code>\"Internal id\" = \"ignore\"</code>; it may also give <code>encoding</code> and <code>delimiter</code>.";
pub const A_CSV_FILE: &str = "A CSV file";
pub const EVERY_ROW_GOES_THROUGH_THE_SAME: &str = "Every row goes through the same intake as a web form: checked, matched against the people you have, scored and routed. Headers in English or Russian, and the exports of HubSpot, Salesforce, amoCRM and Bitrix24, are recognised. The same file again adds nothing.";
pub const FILE: &str = "File";
pub const SOURCE: &str = "Source";
pub const ENCODING: &str = "Encoding";
pub const BETWEEN_FIELDS: &str = "Between fields";
pub const MAPPING_FILE_OPTIONAL: &str = "Mapping file (optional)";
pub const IMPORT: &str = "Import";
pub const RECENT_IMPORTS: &str = "Recent imports";
pub const NONE_SINCE_THE_SERVER_STARTED: &str = "None since the server started.";
pub const E_G_EXHIBITION_2026_KEPT_AS: &str =
    "e.g. exhibition-2026 (kept as utm_source when a row has none)";

// import_job.html
pub const SEE_THE_NEWEST_LEADS_HTML: &str =
    "<a href=\"/leads?sort=-created_at\">See the newest leads</a>";
pub const IMPORT_OF: &str = "Import of";
pub const NEW_IMPORT: &str = "New import";
pub const IMPORTING: &str = "Importing…";
pub const DONE: &str = "Done";
pub const STOPPED: &str = "Stopped";
pub const STARTED_BY: &str = "started by";
pub const ROWS_READ_SO_FAR: &str = "Rows read so far:";
pub const THIS_PAGE_RELOADS_BY_ITSELF: &str = "This page reloads by itself.";
pub const NEW_LEADS: &str = "new leads";
pub const ATTACHED_TO_EXISTING_LEADS: &str = "attached to existing leads";
pub const REOPENED: &str = "reopened";
pub const ALREADY_IMPORTED: &str = "already imported";
pub const FAILED: &str = "failed";
pub const ROWS_THAT_DID_NOT_BECOME_LEADS: &str =
    "Rows that did not become leads, with reasons (CSV)";
pub const COLUMNS: &str = "Columns";
pub const COLUMN: &str = "Column";
pub const READ_AS: &str = "Read as";
pub const READ_SO_FAR: &str = "Read so far";

// kanban.html
pub const DRAG_A_CARD_TO_ANOTHER_STAGE: &str = "Drag a card to another stage; moves the stage rules forbid are refused and the card goes back. Refusing and converting are done on the lead card.";

// lead.html
pub const CALLBACK_REQUESTED: &str = "Callback requested";
pub const LEAD_UNASSIGNED: &str = "Unassigned";
pub const OWNER_LABEL: &str = "Owner:";
pub const REQUEST: &str = "Request";
pub const VALUE: &str = "Value";
pub const REASON_LABEL: &str = "reason:";
pub const FROZEN_UNTIL: &str = "frozen until";
pub const JUNK_LABEL: &str = "junk:";
pub const TEMPERATURE: &str = "Temperature";
pub const OWNER: &str = "Owner";
pub const UPDATED: &str = "Updated";
pub const FIRST_RESPONSE: &str = "First response";
pub const NOT_YET: &str = "not yet";
pub const CUSTOMER_AND_DEALS: &str = "Customer and deals";
pub const PARTNER: &str = "partner";
pub const QUESTION: &str = "Question";
pub const ANSWER: &str = "Answer";
pub const POINTS: &str = "Points";
pub const CONSENT_GIVEN: &str = "Consent given";
pub const IP: &str = "IP";
pub const USER_AGENT: &str = "User agent";
pub const RAW_PAYLOAD: &str = "Raw payload";
pub const MERGES: &str = "Merges";
pub const UNDO: &str = "Undo";
pub const EDIT_CONTACT: &str = "Correct the contact";
pub const EDIT_REQUEST: &str = "Correct the request";
pub const EDIT_DEAL: &str = "Correct the deal";
/// The value's label in the request form.
pub const VALUE_ESTIMATE: &str = "Value (empty: not known)";
pub const EDIT_CONTACT_HINT: &str = "As the name, position and company should read. A phone or an email given here is added to those the person has; without a country code a phone is read in the contact's country.";
pub const ADD_PHONE: &str = "Add a phone";
/// The phone or email to remove.
pub const REMOVE_N: &str = "Remove {1}";
pub const ADD_EMAIL: &str = "Add an email";
pub const COUNTRY_CODE: &str = "Country (two letters)";
pub const LANGUAGE_CODE: &str = "Language (two letters)";
/// The customer's name.
pub const UNDO_CUSTOMER_MERGE_CONFIRM_N: &str = "Undo this merge? {1} becomes a customer of its own again, with the deals and leads the merge moved.";
pub const UNDO_CUSTOMER_MERGE_N: &str = "Undo the merge of {1}";
pub const STAGE_HISTORY: &str = "Stage history";
pub const NOTES: &str = "Notes";
pub const NOTE: &str = "Note";
pub const ADD_NOTE: &str = "Add note";
pub const SCORE: &str = "Score";
pub const NO_SCORING_RULE_MATCHED_YET: &str = "No scoring rule matched yet.";
pub const PART: &str = "Part";
pub const RULE: &str = "Rule";
pub const MATCHED: &str = "Matched";
pub const NOW: &str = "Now";
pub const LATEST_BEHAVIOUR: &str = "Latest behaviour";
pub const WHY_THIS_LEAD_LOOKS_LIKE_THIS: &str = "Why this lead looks like this";
pub const ROUTING_LABEL: &str = "Routing:";
pub const NOT_PARSED: &str = "not parsed";
pub const UNVERIFIED: &str = "unverified";
pub const OTHER_LEADS_OF_THIS_CONTACT: &str = "Other leads of this contact";
pub const ACTIONS: &str = "Actions";
pub const MOVE_TO_STAGE: &str = "Move to stage";
pub const COMMENT: &str = "Comment";
pub const CHANGE_STAGE: &str = "Change stage";
pub const SET_BY_HAND_THE_SCORING_RULES: &str = "Set by hand; the scoring rules leave it alone.";
pub const LET_THE_RULES_DECIDE: &str = "Let the rules decide";
pub const ASSIGN: &str = "Assign";
pub const CONVERT_TO_A_DEAL: &str = "Convert to a deal";
pub const DEAL_TITLE: &str = "Deal title";
pub const CURRENCY: &str = "Currency";
pub const CONVERT: &str = "Convert";
pub const REFUSE: &str = "Refuse";
pub const REASON: &str = "Reason";
pub const FREEZE_UNTIL_OPTIONAL: &str = "Freeze until (optional)";
pub const A_FROZEN_LEAD_RETURNS_TO_WORKING: &str =
    "A frozen lead returns to working by itself on that date.";
pub const MARK_AS_JUNK: &str = "Mark as junk";
pub const QUIZ_ANSWERS: &str = "Quiz answers";
pub const WRITE_A_NOTE: &str = "Write a note…";
pub const SPAM_TEST_WRONG_NUMBER: &str = "spam, test, wrong number…";

// leads.html
pub const NO_LEADS_HERE_HTML: &str = "<strong>No leads here.</strong>";
pub const KEYS_SEARCH_J_K_MOVE_ENTER_HTML: &str =
    "Keys: <kbd>/</kbd> search, <kbd>j</kbd>/<kbd>k</kbd> move, <kbd>x</kbd> select, <kbd>Enter</kbd> open";
pub const IMPORT_CSV: &str = "Import CSV";
pub const EXPORT_CSV: &str = "Export CSV";
pub const SAVED_VIEWS: &str = "Views";
pub const SAVE_VIEW: &str = "Save these filters as a view";
pub const VIEW_NAME: &str = "Name of the view";
pub const SHARE_WITH_TEAM: &str = "Share with the team";
pub const VIEW_SHARED: &str = "team";
pub const VIEW_SHARED_HINT: &str = "Shared with the team";
pub const DELETE_VIEW_N: &str = "Delete the view {1}";
pub const SAVE: &str = "Save";
pub const EXPORT_CSV_HINT: &str = "Every lead of these filters, all pages, as a CSV file";
pub const FILTERS: &str = "Filters";
pub const LEADS_ACTIVE: &str = "(active)";
pub const MEDIUM: &str = "Medium";
pub const CAMPAIGN: &str = "Campaign";
pub const FORM_ID: &str = "Form id";
pub const RECEIVED_FROM: &str = "Received from";
pub const RECEIVED_TO: &str = "Received to";
pub const SORT: &str = "Sort";
pub const APPLY: &str = "Apply";
pub const RESET: &str = "Reset";
pub const NOTHING_MATCHES_THESE_FILTERS: &str = "Nothing matches these filters.";
pub const SHOW_ALL_LEADS: &str = "Show all leads";
pub const NEW_REQUESTS_FROM_YOUR_FORMS_THE: &str =
    "New requests from your forms, the API and imports appear here.";
pub const SOURCE_MEDIUM: &str = "Source / medium";
pub const FIRST_PAGE: &str = "⇤ First page";
pub const PREVIOUS_PAGE: &str = "Previous page";
pub const LEADS_MATCHING_THE_FILTERS: &str = "Leads matching the filters";
pub const SEARCH_NAME_EMAIL_PHONE_COMPANY: &str = "Search name, email, phone, company  ( / )";
pub const SEARCH_LEADS: &str = "Search leads";
pub const STAGES: &str = "Stages";

// login.html
pub const TO_YOUR_LEAD_INBOX: &str = "to your lead inbox.";
pub const PASSWORD: &str = "Password";

// quiz_edit.html
pub const STEPS_ARE_SHOWN_IN_ORDER_AN_HTML: &str = "Steps are shown in order; an answer or a step can jump forward to a later step, or to <code>contact</code> (the contact step, always last). Points toward fit and intent add to the lead's score; a disqualifying answer makes the respondent an interest, not a lead.";
pub const QUIZ: &str = "Quiz";
pub const STEP: &str = "Step";
pub const NEW: &str = "(new)";
pub const STEP_ID: &str = "Step id";
pub const THEN_GO_TO_EMPTY_NEXT_STEP: &str = "Then go to (empty: next step)";
pub const SEVERAL_ANSWERS_ALLOWED: &str = "Several answers allowed";
pub const ID: &str = "Id";
pub const INTENT: &str = "Intent";
pub const GO_TO: &str = "Go to";
pub const DISQUALIFIES: &str = "Disqualifies";
pub const SHOW_THIS_FORM_AS_A_QUIZ: &str = "Show this form as a quiz";
pub const SAVE_QUIZ: &str = "Save quiz";
pub const BACK_TO_THE_FORM: &str = "Back to the form";
pub const QUIZ_EDIT_CONTACT: &str = "contact";

// routing.html
pub const ROUTING_RULES_ARE_CHECKED_IN_ORDER_HTML: &str = "Routing rules are checked in order; the first rule whose conditions hold and that finds somebody available (working hours, capacity, not away) takes the lead. Conditions: countries, regions, cities, products, sources, partners, forms, languages, temperatures, score_min/score_max, existing_customer, conversion_min/conversion_max (the predicted probability of conversion, 0–1; a lead without a prediction does not match). Methods: round_robin (weighted), least_load, sticky_owner, account_owner. Also at <code>/api/v1/routing-rules</code> and <code>/api/v1/sla-settings</code> (JSON or TOML).";
pub const TARGETS_PER_TEMPERATURE_5M_1H_1D_HTML: &str = "Targets per temperature (<code>5m</code>, <code>1h</code>, <code>1d</code> = one business day), business hours, time zone and holidays, per team under <code>[teams.NAME]</code>; steps after a breach: notify_owner, escalate_team_lead, reassign.";
pub const SLACK_COMPATIBLE_JSON_TEXT_FOR_NEW_HTML: &str = "Slack-compatible JSON (<code>{\"text\": …}</code>) for \"new lead assigned\" and \"SLA breached\". Empty: off.";
pub const ROUTING_RULES: &str = "Routing rules";
pub const SAVE_RULES: &str = "Save rules";
pub const FIRST_RESPONSE_TARGETS_SLA: &str = "First-response targets (SLA)";
pub const SAVE_SLA: &str = "Save SLA";
pub const OUTGOING_WEBHOOK: &str = "Outgoing webhook";
pub const SAVE_WEBHOOK: &str = "Save webhook";
pub const EMAIL_SMTP: &str = "Email (SMTP)";
pub const EMAILS_NEW_LEAD_ASSIGNED_TO_THE: &str = "Emails \"new lead assigned\" to the new owner and \"SLA breached\" to the owner and, on escalation, to the team's sales managers; sends the farewell with the survey link when a lead is refused. Empty host: no email.";
pub const HOST: &str = "Host";
pub const PORT: &str = "Port";
pub const SECURITY: &str = "Security";
pub const FROM: &str = "From";
pub const USERNAME_OPTIONAL: &str = "Username (optional)";
pub const PASSWORD_OPTIONAL: &str = "Password (optional)";
pub const SAVE_EMAIL_SETTINGS: &str = "Save email settings";
pub const ROUTING_RULES_AS_TOML: &str = "Routing rules as TOML";
pub const SLA_SETTINGS_AS_TOML: &str = "SLA settings as TOML";
pub const WEBHOOK_URL: &str = "Webhook URL";
pub const SMTP_EXAMPLE_COM: &str = "smtp.example.com";
pub const SALES_SALES_EXAMPLE_COM: &str = "Sales <sales@example.com>";

// score_run.html
pub const RESCORING_PROGRESS: &str = "Rescoring progress";

// scoring.html
pub const FIT_ACTIVITY: &str = "Fit × activity";
pub const SCORING_FIT_ACTIVITY: &str = "Fit \\ activity";
pub const LAST_RESCORING: &str = "Last rescoring";

// scoring_rules.html
pub const PROFILE_RULES_PROFILE_FIELD_ANY_OF_HTML: &str = "Profile rules (<code>[[profile]]</code>: field, any_of, contains, none_of, min, max, group, points) make a lead's fit; behaviour rules (<code>[[behaviour]]</code>: event, where, url_contains, min_count, cap, once, within_days, decays, points) make its engagement, which fades with <code>half_life_days</code>. Saving rescores every lead in the background; new submissions use the new rules at once. Also at <code>/api/v1/scoring-rules</code> (JSON or TOML).";
pub const RESCORING: &str = "Rescoring";
pub const SCORING_RULES: &str = "Scoring rules";
pub const LOAD_A_PRESET_INTO_THE_EDITOR_LABEL: &str = "Load a preset into the editor:";
pub const SAVE_AND_RESCORE: &str = "Save and rescore";
pub const RESCORE_ALL_LEADS_NOW: &str = "Rescore all leads now";
pub const TRACKING_SITES: &str = "Tracking sites";
pub const PUT_THE_EMBED_CODE_ON_EVERY: &str = "Put the embed code on every page of the site. Page views and events of a visitor are kept as an interest until the visitor fills a form; then they join the lead and count toward its engagement.";
pub const SITE: &str = "Site";
pub const ORIGINS: &str = "Origins";
pub const DO_NOT_TRACK: &str = "Do-Not-Track";
pub const HONOURED: &str = "honoured";
pub const IGNORED: &str = "ignored";
pub const ALLOWED_ORIGINS_COMMA_SEPARATED_EMPTY_ANY: &str =
    "Allowed origins, separated by commas (empty: any site)";
pub const HONOUR_DO_NOT_TRACK: &str = "Honour Do-Not-Track";
pub const ADD_SITE: &str = "Add site";
pub const SCORING_RULES_AS_TOML: &str = "Scoring rules as TOML";
pub const HTTPS_SHOP_EXAMPLE_COM: &str = "https://shop.example.com";

// scrub.html
pub const RULES_THAT_SPOT_BOTS_TESTS_AND_HTML: &str = "Rules that spot bots, tests and pranks. <strong>Flag</strong> shows the reason on the lead, <strong>junk</strong> stores the lead in stage junk out of the salespeople's way, <strong>reject</strong> keeps the submission with its reasons but creates no lead. Changes apply to new submissions.";
pub const THE_SAME_RULES_AS_TOML_COPY_HTML: &str = "The same rules as TOML: copy them to another installation, or paste a file here. Keys left out take their defaults. Also at <code>/api/v1/scrub-rules?format=toml</code>.";
pub const RULES: &str = "Rules";
pub const CODE: &str = "Code";
pub const WHAT_IT_CHECKS: &str = "What it checks";
pub const LIMITS: &str = "Limits";
pub const LISTS: &str = "Lists";
pub const ONE_ENTRY_PER_LINE: &str = "one entry per line";
pub const AS_A_FILE: &str = "As a file";
pub const REPLACE_WITH_THIS_FILE: &str = "Replace with this file";
pub const RULES_AS_TOML: &str = "Rules as TOML";

// sla.html
pub const BY_TEAM_SOURCE_AND_HOUR_OF_HTML: &str =
    "By team, source and hour of day: <code>/api/v1/reports/sla</code>.";
pub const DUE_NOW: &str = "Due now";
pub const DUE_NOW_HINT: &str =
    "Open leads with no first response yet, whose target time has passed or comes within the hour.";
pub const OVERDUE_NOW: &str = "Overdue now";
/// The row of every lead in the response-time table.
pub const EVERYONE: &str = "Everyone";
pub const DUE_WITHIN_THE_HOUR: &str = "Due within the hour";
pub const BREACHED_TODAY: &str = "Late today";
pub const ROWS_OF_N: &str = "{1}–{2} of {3}";
pub const NOTHING_IS_WAITING: &str = "Nothing is waiting.";
pub const DUE: &str = "Due";
pub const PER_PERSON: &str = "Per person";
pub const TEAM_LOAD: &str = "Team load";
pub const NO_SALESPEOPLE_YET: &str = "No salespeople yet: add them on the Users page.";
pub const PERSON: &str = "Person";
pub const TEAM: &str = "Team";
pub const OPEN_LEADS: &str = "Open leads";
pub const ASSIGNED_24_H: &str = "Assigned 24 h";
pub const OVERDUE_TASKS: &str = "Overdue tasks";
pub const TIME_TO_FIRST_RESPONSE_LAST_30: &str = "Time to first response, last 30 days";
pub const MEDIAN: &str = "Median";
pub const SLA_HIT_RATE: &str = "SLA hit rate";

// status.html
pub const THE_DATABASE_ANSWERS_GET_HEALTHZ_SAYS_HTML: &str =
    "The database answers, so the health check a load balancer asks (<code>GET /healthz</code>) says all is well.";
pub const THE_SAME_FIGURES_FOR_A_SCRIPT_HTML: &str = "The same figures, for a script: <code>GET /api/v1/status</code> with an administrator's token.";
pub const THIS_INSTANCE: &str = "This instance";
pub const VERSION: &str = "Version";
pub const DATABASE: &str = "Database";
pub const LEADS_STORED: &str = "Leads stored";
pub const BACKGROUND_JOBS_WAITING: &str = "Background jobs waiting";
pub const LEADS_WAITING_TO_BE_RESCORED: &str = "Leads waiting to be rescored";
pub const THE_LONGEST_QUEUED: &str = "the longest queued";
pub const LEADS_THE_SEARCH_INDEX_HAS_NOT: &str = "Leads not yet in the search index";
pub const SEARCHES_READ_THEM_DIRECTLY_MEANWHILE: &str =
    "(searches still find them, a little more slowly)";
pub const INTAKE_BATCHES_COMMITTED_SINCE_START: &str = "Batches of captures written since start";
pub const METRICS_FOR_PROMETHEUS: &str = "Metrics for Prometheus";

// tokens.html
pub const USE_IT_AS_AUTHORIZATION_BEARER_SECRET_HTML: &str =
    "Use it as <code>Authorization: Bearer &lt;secret&gt;</code>.";
pub const COPY_THE_SECRET_NOW_IT_IS: &str =
    "Copy the secret now: it is shown only once and cannot be recovered.";
pub const SECRET: &str = "Secret";
pub const NO_TOKENS_YET: &str = "No tokens yet.";
pub const SCOPES: &str = "Scopes";
pub const LAST_USED: &str = "Last used";
pub const STATE: &str = "State";
pub const NEVER: &str = "never";
pub const REVOKED: &str = "revoked";
pub const EXPIRES: &str = "expires";
pub const REVOKE: &str = "Revoke";
pub const NEW_TOKEN: &str = "New token";
pub const CREATE_TOKEN: &str = "Create token";
pub const WEBSITE_BACKEND: &str = "Website backend";

// users.html
pub const ROLE_AND_ACCESS: &str = "Role and access";
pub const YOU: &str = "you";
pub const USERS_SINCE: &str = "since";
pub const USERS_ACTIVE: &str = "active";
pub const ADD_USER: &str = "Add user";
pub const ROLE: &str = "Role";

// work.html
pub const LEADS_WAITING_FOR_A_FIRST_RESPONSE: &str = "Leads waiting for a first response come first, the most urgent on top, then the rest by score. Log each call, email or meeting: the outcome schedules the next task.";
pub const NO_OPEN_LEADS: &str = "No open leads.";
pub const LOG: &str = "Log";
pub const CALL: &str = "Call";
pub const MEETING: &str = "Meeting";
pub const TASKS: &str = "Tasks";
pub const NO_OPEN_TASKS: &str = "No open tasks.";
pub const ACTIVITY: &str = "Activity";
pub const OUTCOME: &str = "Outcome";
pub const CALL_BACK_AT: &str = "Call back at (your time)";

// Sentences around values: `{1}`, `{2}` stand for the values (`fill1`, `fill2`), so that a
// translation puts them where its word order wants them.
pub const PASSWORD_SET_KEEP: &str = "set; leave empty to keep it";
pub const UNKNOWN_STAGE_IGNORED_N: &str = "Unknown stage {1} was ignored.";
pub const UNKNOWN_TEMPERATURE_IGNORED_N: &str = "Unknown temperature {1} was ignored.";
pub const UNKNOWN_OWNER_IGNORED_N: &str = "Unknown owner {1} was ignored.";
pub const UNKNOWN_FORM_IGNORED_N: &str = "Unknown form {1} was ignored.";
pub const UNKNOWN_FIT_LEVEL_IGNORED_N: &str = "Unknown fit level {1} was ignored.";
pub const UNKNOWN_ACTIVITY_IGNORED_N: &str = "Unknown activity {1} was ignored.";
pub const UNKNOWN_SORT_IGNORED_N: &str = "Unknown sort {1} was ignored.";
pub const MERGED_N: &str = "lead #{1} merged in {2} by {3}";
pub const MERGED_UNDONE_N: &str = "lead #{1} merged in {2} by {3}, undone";
pub const TYPE_OF_FIELD_N: &str = "Type of field {1}";
pub const NAME_OF_FIELD_N: &str = "Name of field {1}";
pub const LABEL_OF_FIELD_N: &str = "Label of field {1}";
pub const FIELD_IS_REQUIRED_N: &str = "Field {1} is required";
pub const OPTIONS_OF_FIELD_N: &str = "Options of field {1}";
pub const KEY_OF_VARIANT_N: &str = "Key of variant {1}";
pub const SHARE_OF_VARIANT_N: &str = "Share of variant {1}";
pub const TITLE_OF_VARIANT_N: &str = "Title of variant {1}";
pub const TEXT_OF_VARIANT_N: &str = "Text of variant {1}";
pub const BUTTON_OF_VARIANT_N: &str = "Button of variant {1}";
pub const OFFER_OF_VARIANT_N: &str = "Offer of variant {1}";
pub const FIELDS_VARIANT_HIDES_N: &str = "Fields variant {1} hides";
pub const ANSWER_OF_STEP_N: &str = "Answer {1} of step {2}";
pub const ID_OF_ANSWER_OF_STEP_N: &str = "Id of answer {1} of step {2}";
pub const IMAGE_OF_ANSWER_OF_STEP_N: &str = "Image of answer {1} of step {2}";
pub const FIT_POINTS_OF_ANSWER_OF_STEP_N: &str = "Fit points of answer {1} of step {2}";
pub const INTENT_POINTS_OF_ANSWER_OF_STEP_N: &str = "Intent points of answer {1} of step {2}";
pub const STEP_AFTER_ANSWER_OF_STEP_N: &str = "Step after answer {1} of step {2}";
pub const ANSWER_OF_STEP_DISQUALIFIES_N: &str = "Answer {1} of step {2} disqualifies";
pub const ACTION_OF_N: &str = "Action of {1}";
pub const ROLE_OF_N: &str = "Role of {1}";

/// `fill1` … `fill3`: the sentence with `{1}` … put in their places, escaped later as any text;
/// `html1` … `html7`: a sentence of our own markup with each value escaped as it is put in (shown
/// with `|safe`). One function per count of values: askama passes the values one by one.
macro_rules! filled {
    ($($name:ident = $with:ident($($v:ident),+);)+) => {$(
        #[allow(clippy::too_many_arguments)]
        pub fn $name(sentence: &str, $($v: impl Display),+) -> String {
            $with(sentence, &[$(&$v),+])
        }
    )+};
}

filled! {
    fill1 = fill(a);
    fill2 = fill(a, b);
    fill3 = fill(a, b, c);
    html1 = html(a);
    html4 = html(a, b, c, d);
    html5 = html(a, b, c, d, e);
    html6 = html(a, b, c, d, e, f);
    html7 = html(a, b, c, d, e, f, g);
}

fn html(sentence: &str, values: &[&dyn Display]) -> String {
    let escaped: Vec<String> = values.iter().map(crate::escape_html).collect();
    let shown: Vec<&dyn Display> = escaped.iter().map(|s| s as &dyn Display).collect();
    fill(sentence, &shown)
}

/// `{1}`, `{2}` … of the sentence replaced by the values, in one pass: a value that itself holds
/// `{2}` (a person's name may) is kept as it is.
fn fill(sentence: &str, values: &[&dyn Display]) -> String {
    let mut out = String::with_capacity(sentence.len() + 16);
    let mut rest = sentence;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let value = after
            .find('}')
            .and_then(|j| after[..j].parse::<usize>().ok().map(|n| (n, j)))
            .and_then(|(n, j)| Some((values.get(n.checked_sub(1)?)?, j)));
        match value {
            Some((v, j)) => {
                out.push_str(&v.to_string());
                rest = &after[j + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

// Words the pages' code puts in them (labels of choices, fields and durations).
pub const PHONE_COUNTRY_SELECTOR_AND_MASK: &str = "Phone (country selector and mask)";
pub const POSITION: &str = "Position";
pub const MESSAGE: &str = "Message";
pub const NUMBER: &str = "Number";
pub const SELECT: &str = "Select";
pub const MULTI_SELECT: &str = "Multi-select";
pub const CHECKBOX: &str = "Checkbox";
pub const DATE: &str = "Date";
pub const FORM_KIND: &str = "Form";
pub const QUIZ_STEPS_THEN_CONTACT: &str = "Quiz (steps, then contact)";
pub const CALLBACK_BUTTON: &str = "Callback button";
pub const ENGLISH: &str = "English";
pub const IN_THE_PAGE_NO_POPUP: &str = "In the page (no popup)";
pub const POPUP_ON_EXIT_INTENT: &str = "Popup on exit intent";
pub const POPUP_AFTER_A_DELAY: &str = "Popup after a delay";
pub const POPUP_ON_EXIT_INTENT_OR_AFTER: &str = "Popup on exit intent or after a delay";
pub const THE_PAGE_POSITION_WAS_NOT_READABLE: &str =
    "The page position was not readable; showing the first page.";
pub const ALL: &str = "All";
pub const ANYONE: &str = "Anyone";
pub const ANY: &str = "Any";
pub const TERM: &str = "Term";
pub const CONTENT: &str = "Content";
pub const REFERRER: &str = "Referrer";
pub const MIN: &str = "min";
pub const H: &str = "h";
pub const DAYS: &str = "days";

// Sentences around values, whole: `{1}`, `{2}` … stand for the values, so that a translation puts them
// where its word order wants them. `fill…` escapes as any text; `html…` fills our own markup with
// escaped values (shown with `|safe`).
pub const RESCORE_RUNNING_HTML: &str =
    "<bdi>{1}</bdi>, started {2}: leads rescored {3} of {4} ({5} %), {6} of them changed; running.";
pub const RESCORE_FINISHED_HTML: &str =
    "<bdi>{1}</bdi>, started {2}: leads rescored {3} of {4} ({5} %), {6} of them changed; finished {7}.";
pub const DATABASE_DOES_NOT_ANSWER_HTML: &str =
    "The database does not answer: <code>GET /healthz</code> says 503. {1}";
pub const INTAKE_READ_AHEAD_N: &str =
    "(for {1} the duplicate check ran ahead while the batch before was written; {2} had to run again)";
pub const SCRAPE_METRICS_HTML: &str = "Scrape <code data-metrics-url>{1}</code> with a token that has the <code>metrics:read</code> scope, made on <a href=\"/admin/tokens\">Tokens</a> or with <code>voronka token create --name prometheus --scope metrics:read</code>, as the scrape's bearer token. It counts captures by channel and result, intake batches, events, jobs and HTTP requests, and reports the waiting work above; it holds no personal data.";
pub const OPEN_LEADS_BY_FIT_AND_ACTIVITY_N: &str = "Open leads by fit (profile points) and activity (behaviour points after decay): {1} in all. Each cell opens its leads; call the top right first.";
pub const TOKEN_CREATED_HTML: &str = "Token “<bdi>{1}</bdi>” created";
pub const PUBLIC_KEY_NOSCRIPT_HTML: &str = "Public key <code class=\"key\">{1}</code>. The plain form inside <code>&lt;noscript&gt;</code> works with JavaScript disabled.";
pub const SCORE_SUMMARY_HTML: &str = "Fit <strong>{1}</strong> ({2}) · engagement <strong>{3}</strong> ({4}) · total <strong>{5}</strong>";
pub const FILES_UP_TO_HTML: &str =
    "Files up to {1} MB; larger ones with <code>voronka import</code>.";
pub const PERCENT_OF_THE_FILE_N: &str = "{1} % of the file";
pub const ROWS_READ_AS_HTML: &str =
    "Rows: {1}, read in {2} s as {3} with <code>{4}</code> between fields.";

// scoring.html: the conversion model
pub const CONVERSION_MODEL: &str = "Conversion model";
pub const MODEL_NONE_YET: &str =
    "No conversion model yet. It learns from closed leads (converted or refused) once there are enough of them, every night at 03:00 UTC.";
pub const MODEL_TRAINED_N: &str = "Trained {1} on {2} closed leads, {3} of them converted.";
pub const MODEL_CHECKED_ON_N: &str =
    "Checked on {1} closed leads it did not learn from. AUC is the chance that a converted lead is ranked above a refused one: 0.5 is a coin toss, 1 is perfect.";
pub const MODEL_SCORER: &str = "Scorer";
pub const MODEL_OURS: &str = "This model (calibrated logistic regression)";
pub const MODEL_BASELINE: &str = "Baseline (naive Bayes over field frequencies)";
pub const MODEL_AUC: &str = "AUC";
pub const MODEL_BRIER: &str = "Brier score";
pub const MODEL_CALIBRATION: &str = "Calibration";
pub const MODEL_DECILE: &str = "Tenth by chance";
pub const MODEL_PREDICTED: &str = "Predicted";
pub const MODEL_OBSERVED: &str = "Converted";
pub const MODEL_FEATURES: &str = "What moves the chance most";
pub const MODEL_FEATURE: &str = "Feature";
pub const MODEL_WEIGHT: &str = "Log-odds per unit";
pub const MODEL_TRAIN_NOW: &str = "Train again now";
pub const MODEL_RETRAINED_NIGHTLY: &str = "Retrained every night at 03:00 UTC.";

// leads.html: changes to a selection
pub const BULK_SELECT_ALL: &str = "Select every lead on this page";
pub const BULK_SELECT_N: &str = "Select {1}";
pub const BULK_SELECTED: &str = "selected";
pub const BULK_CHANGE: &str = "Change to apply";
pub const BULK_CHOOSE: &str = "Choose a change…";
pub const BULK_ASSIGN_TO: &str = "Assign to";
pub const BULK_MOVE_TO: &str = "Move to stage";
pub const BULK_OTHER: &str = "Other";
pub const BULK_REFUSE_AS: &str = "Refuse, because";
pub const BULK_MARK_AS_JUNK: &str = "Mark as junk";
pub const BULK_JUNK_REASON: &str = "Reason (for junk)";
pub const BULK_REFUSAL_COMMENT: &str = "Comment (for a refusal)";
pub const BULK_APPLY: &str = "Apply to selected";

/// After a change to a selection: how many leads it changed.
pub fn bulk_changed(n: usize) -> String {
    match n {
        1 => "1 lead changed.".to_string(),
        n => format!("{n} leads changed."),
    }
}

/// After a change to a selection: the leads it left as they were (their numbers, the first few).
pub fn bulk_refused(n: usize, ids: &str) -> String {
    match n {
        1 => format!(
            "1 lead was left unchanged (its stage or your rights do not allow this change): {ids}. Open it to see why."
        ),
        n => format!(
            "{n} leads were left unchanged (their stage or your rights do not allow this change): {ids}. Open them to see why."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_markup_stays_and_the_values_in_it_are_escaped() {
        let shown = html1(TOKEN_CREATED_HTML, "<script>alert(1)</script> {2}");
        assert!(shown.starts_with("Token “<bdi>"), "{shown}");
        assert!(shown.ends_with("</bdi>” created"), "{shown}");
        assert!(!shown.contains("<script>"), "{shown}");
        assert!(
            shown.contains("alert(1)") && shown.contains("{2}"),
            "{shown}"
        );
        assert_eq!(
            html4(ROWS_READ_AS_HTML, 3, "0.1", "windows-1251", ';'),
            "Rows: 3, read in 0.1 s as windows-1251 with <code>;</code> between fields."
        );
    }

    #[test]
    fn values_take_their_places_once_whatever_they_hold() {
        assert_eq!(fill2(ANSWER_OF_STEP_N, 2, 3), "Answer 2 of step 3");
        assert_eq!(fill1(ROLE_OF_N, "Ольга {2} <b>"), "Role of Ольга {2} <b>");
        assert_eq!(
            fill2("{2} before {1}, {3} and {x} stay", "a{1}", "b"),
            "b before a{1}, {3} and {x} stay"
        );
    }

    #[test]
    fn every_action_the_audit_filter_offers_has_a_label_and_every_label_is_offered() {
        for (a, _) in AUDIT_ACTIONS {
            assert_ne!(audit_action_label(a), *a, "{a} has no label");
        }
        let mut seen: Vec<&str> = AUDIT_ACTIONS.iter().map(|(c, _)| *c).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), AUDIT_ACTIONS.len(), "offered twice");
        // A code without a label reads as itself.
        assert_eq!(audit_action_label("smtp.update"), "smtp.update");
        assert_eq!(
            audit_action_label("tag.rename"),
            "Tag renamed on every lead"
        );
    }

    #[test]
    fn a_count_takes_the_form_of_its_noun_it_needs() {
        assert_eq!(count(1usize, N_STEPS), "1 step");
        assert_eq!(count(0usize, N_STEPS), "0 steps");
        assert_eq!(count(21u64, N_ROWS), "21 rows");
        assert_eq!(count(1u64, N_ROWS), "1 row");
    }

    #[test]
    fn countries_and_languages_by_name() {
        assert_eq!(country_name("NL"), "Netherlands");
        assert_eq!(country_name("ru"), "Russian Federation");
        assert_eq!(country_name("XX"), "XX");
        assert_eq!(language_name("nl"), "Dutch");
        assert_eq!(language_name("UK"), "Ukrainian");
        assert_eq!(language_name("zz"), "zz");
    }
}

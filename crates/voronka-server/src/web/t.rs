//! User-facing strings of the web UI, in one place so that they can be translated later.

pub const APP_NAME: &str = "Voronka";

// Navigation.
pub const NAV_LEADS: &str = "Leads";
pub const NAV_CUSTOMERS: &str = "Customers";
pub const NAV_FORMS: &str = "Forms";
pub const NAV_DUPLICATES: &str = "Duplicates";
pub const NAV_ADMIN: &str = "Admin";
pub const NAV_LOGOUT: &str = "Log out";
pub const NAV_WORK: &str = "Work";
pub const NAV_SLA: &str = "SLA";
pub const NAV_SCORING: &str = "Scoring";
pub const STATUS_TITLE: &str = "Status";

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
pub const ERR_MANAGERS_ONLY: &str = "Only sales managers and administrators see this page.";
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
        _ => return None,
    })
}

// CSV import.
pub const IMPORT_TITLE: &str = "Import leads";
pub const IMPORT_TAB: &str = "tab";
pub const IMPORT_NO_FILE: &str = "Choose a CSV file to import.";
pub const IMPORT_UNREADABLE: &str = "The upload could not be read";
pub const IMPORT_NOT_FOUND: &str =
    "No such import here: imports are shown by the server that ran them until it restarts.";
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
pub const ERR_BAD_AMOUNT: &str = "The amount is not a number with at most two decimals.";
pub const ERR_BAD_CURRENCY: &str = "The currency is a three-letter code, such as RUB or EUR.";
pub const ERR_BAD_STAGE: &str = "Choose a stage from the list.";
pub const ERR_BAD_TEMPERATURE: &str = "Choose cold, warm or hot.";
pub const ERR_BAD_OWNER: &str = "Choose a person from the list.";
pub const ERR_BAD_ROLE: &str = "Choose a role from the list.";
pub const ERR_BAD_FORM: &str = "The submitted form could not be read.";

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
        "assign" => "Owner changed.",
        "temperature" => "Temperature changed.",
        "note" => "Note added.",
        "form" => "Form created.",
        "saved" => "Form saved. The widget shows the change within a few seconds.",
        "quiz" => "Quiz saved.",
        "user" => "User saved.",
        "revoked" => "Token revoked.",
        "rules" => "Rules saved. They apply to new submissions.",
        "scoring" => {
            "Scoring rules saved. New submissions use them now; every lead is being rescored."
        }
        "rescore" => "Rescoring started.",
        "site" => "Tracking site added. Put its embed code on every page of the site.",
        "merged" => "Leads merged. The merge can be undone from the lead card.",
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
pub const ERR_BAD_ACTION: &str = "Choose off, flag, junk or reject.";
pub const ERR_BAD_NUMBER: &str = "Write a whole number, 0 or more.";

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

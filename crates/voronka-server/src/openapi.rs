//! The OpenAPI 3 document of `/api/v1`, built from one table of operations, and a small
//! browsable page at `/api/docs` that renders it with our own script.

use crate::AppState;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, ObjectBuilder, OpenApi, OpenApiBuilder,
    PathsBuilder, Required, ResponseBuilder, Type,
};
use utoipa::PartialSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(|| async { Json(document()) }))
        .route("/api/docs", get(docs))
}

/// (method, path, summary, scope, request body description)
const OPERATIONS: &[(&str, &str, &str, &str, Option<&str>)] = &[
    ("get", "/api/v1/leads", "List leads (filters: stage, temperature, owner, source, medium, campaign, form, contact, created_from, created_to, q, min_conversion (probability of conversion 0–1), fit_level (stranger, unsuitable, suitable, very_suitable), activity (inactive, less_active, active, very_active), tag; sort (inbox, -created_at, created_at, -updated_at, -score, -conversion); cursor or before; limit; answers total, total_exact (false when a search term matches so many leads that total counts only the first 10,000 of them), next_cursor and prev_cursor; each lead has conversion_probability, null until scored)", "leads:read", None),
    ("post", "/api/v1/events", "Behaviour events: one event or {events: [...]} (at most 1,000); each attaches to its lead (lead_id, or the visitor's latest form submission) and the leads reached are rescored: at once when a request reaches at most 32 known leads, otherwise by the rescoring worker within seconds (`queued` counts those); an unknown visitor's first event is an interest; an event sent again under an id its sender has stored already (a retried request) is not stored again and counts in `duplicates`. Answers 202 {stored, leads, new_visitors, queued, duplicates}", "events:write", Some("{name, visitor_id? | lead_id?, id? (the sender's own id, 1 to 128 characters), url?, at? (ms since the epoch, from 365 days ago to a day ahead) or age? (ms since it happened, by the sender's clock at sending, 0 to 365 days), properties?} — names: page_view, view_catalog, view_product, view_pricing, view_delivery_terms, add_to_cart, cart_abandoned, click_social, subscribe_newsletter, unsubscribe, download, webinar_registered, chat_started, email_open, email_click_product, email_click_ad, email_click_other, email_no_reaction (properties.count), or custom")),
    ("get", "/api/v1/scoring-rules", "The scoring rules in force (format=json or toml)", "leads:read", None),
    ("put", "/api/v1/scoring-rules", "Replace the scoring rules (JSON or TOML body); every lead is rescored in the background; answers 202 with the rescoring run", "forms:write", Some("Rules: half_life_days, levels, temperature, qualify (mql_fit, mql_engagement, mql_conversion?, sql_engagement?, sql_conversion?, sql_events, manual_only; the conversion thresholds are probabilities 0–1 of the conversion model), [[profile]], [[behaviour]]; points, caps and thresholds from -1,000,000 to 1,000,000")),
    ("get", "/api/v1/scoring-rules/presets/{name}", "A shipped rule set: b2b or b2c (format=json or toml)", "leads:read", None),
    ("post", "/api/v1/scoring/rescore", "Rescore every lead in the background", "forms:write", None),
    ("get", "/api/v1/scoring/runs/latest", "The latest rescoring run and its progress", "leads:read", None),
    ("get", "/api/v1/scoring/matrix", "Open leads per fit level × activity (a salesperson sees their own)", "leads:read", None),
    ("get", "/api/v1/leads/{id}/score", "Every contribution to the lead's score as of now (rule, event, time, points, points after decay), the stored score and the stage moves the rules would make", "leads:read", None),
    ("delete", "/api/v1/leads/{id}/temperature-override", "Clear a hand-set temperature: the rules decide again", "leads:write", None),
    ("get", "/api/v1/tracking-sites", "Tracking sites with their embed code", "forms:write", None),
    ("post", "/api/v1/tracking-sites", "Add a tracking site", "forms:write", Some("{name, origins?: [\"https://shop.example.com\"], honour_dnt?: true}")),
    ("post", "/api/v1/leads", "Create a lead through the intake pipeline", "leads:write", Some("Flat object of fields: name, first_name, last_name, email, phone, company, position, message, product, consent, utm_*, page, referrer, visitor_id, value, currency, temperature, form_key, channel, partner; other fields are kept as custom attributes")),
    ("get", "/api/v1/leads/{id}", "A lead with its contact, touches, stage history, notes, customer, deals and farewell surveys (surveys: [{answer?, comment?, answered_at?}])", "leads:read", None),
    ("post", "/api/v1/leads/{id}/stage", "Change stage", "leads:write", Some("{stage, comment?}")),
    ("post", "/api/v1/leads/{id}/refuse", "Refuse with a reason; optionally freeze until a date; farewell: true emails the contact a thank-you with a survey link (farewell_sent in the answer)", "leads:write", Some("{reason, comment?, freeze_until? (in the future, at most 10 years ahead), farewell?}")),
    ("post", "/api/v1/leads/{id}/junk", "Mark as junk", "leads:write", Some("{reason}")),
    ("post", "/api/v1/leads/{id}/convert", "Convert: creates or reuses the customer and creates a deal", "leads:write", Some("{amount_minor (0 to 10^15), currency, title?}")),
    ("post", "/api/v1/leads/{id}/assign", "Assign an owner (null unassigns)", "leads:write", Some("{owner_id}")),
    ("get", "/api/v1/leads/export", "Every lead the filters match (the list's: stage, temperature, owner, source, medium, campaign, form, contact, created_from, created_to, q, min_conversion, fit_level, activity, tag), oldest first, as a file streamed while it is read: CSV (format=csv, the default; bom=true starts it with UTF-8's byte-order mark for Excel) or JSON lines (format=jsonl, each lead as the list gives it). Text that would start a spreadsheet formula gets a leading '. Needs the right to export personal data (administrators and sales managers); each export is written to the audit log with its filters. sort, cursor, before and limit are refused (422)", "leads:read", None),
    ("post", "/api/v1/leads/bulk", "One change for up to 500 leads, each changed as on its own: answers the leads changed and each lead left as it was with its error", "leads:write", Some("{ids, action: assign|stage|temperature|refuse|junk|tag, owner_id?, stage?, temperature?, reason?, comment? and freeze_until? (refuse), tag?}")),
    ("post", "/api/v1/leads/{id}/temperature", "Set temperature", "leads:write", Some("{temperature}")),
    ("put", "/api/v1/leads/{id}/request", "Correct what the lead asks for (product) and what it may be worth (value in major units as text, currency; a field left out is cleared); the lead's search follows its product; the audit log keeps both; answers the lead", "leads:write", Some("{product?, value?, currency?}")),
    ("post", "/api/v1/leads/{id}/notes", "Add a note", "leads:write", Some("{body}")),
    ("post", "/api/v1/leads/{id}/tags", "Tag a lead (1 to 40 characters in any script, compared without case: VIP and vip are one tag; at most 20 tags a lead); the audit log keeps it; answers {tags}", "leads:write", Some("{tag}")),
    ("delete", "/api/v1/leads/{id}/tags/{tag}", "Remove a tag (named in any case) from a lead; answers {tags}; 404 when the lead has no such tag", "leads:write", None),
    ("get", "/api/v1/tags", "The tags on the leads the reader sees, the most used first: [{tag, leads}] (at most 200); the lead list filters by one with tag=", "leads:read", None),
    ("put", "/api/v1/tags/{tag}", "Rename a tag (named in any case) on every lead the reader sees (administrators and sales managers): a lead that has the new name already keeps it once, so a rename into a tag in use joins the two; the audit log keeps it with the count; answers {tag, leads}; 404 when no lead the reader sees has it", "leads:write", Some("{tag}")),
    ("delete", "/api/v1/tags/{tag}", "Remove a tag (named in any case) from every lead the reader sees (administrators and sales managers); the audit log keeps it with the count; answers {tag, leads}; 404 when no lead the reader sees has it", "leads:write", None),
    ("get", "/api/v1/leads/{id}/audit", "Audit log of a lead", "leads:read", None),
    ("get", "/api/v1/audit", "The audit log, newest first (administrators): who did what to which record, when, and what it read before and after; filtered by actor_id, entity, action and a from/to range; paged with before (the last id of a page) and limit; format=csv for every entry of the filters as a spreadsheet file", "admin", None),
    ("get", "/api/v1/contacts", "List contacts (q, offset, limit)", "leads:read", None),
    ("get", "/api/v1/contacts/{id}", "A contact with its leads and customer (erased_at once its personal data was erased)", "leads:read", None),
    ("put", "/api/v1/contacts/{id}", "Correct a contact (those who work leads, on contacts they see): its name, position, company, country and language as they should read (a field left out is cleared, the name is required), a phone or an email to add, checked as the intake checks them, and phones or emails to remove (the last way to reach the person stays); its leads are then found by what it says now, and the audit log keeps what it said; answers the contact; 409 once the person's data was erased", "leads:write", Some("{name, position?, company?, country?, language?, add_phone?, add_email?, remove_phones?: [E.164], remove_emails?: [address]}")),
    ("get", "/api/v1/contacts/{id}/changes", "A contact's changes, newest first (to those who see the contact): [{id, at, actor, action, fields: [{field, from, to}], erased}], each field as it read before and after (null for nothing); erased when the entry's details went with the person's data", "leads:read", None),
    ("post", "/api/v1/contacts/{id}/changes/{change}/restore", "Undo one correction of a contact (those who work leads): the fields it changed read as before it while later changes of other fields stay, the phones and emails it added go and those it removed come back; checked and recorded as any correction; answers the contact; 404 for a change not of this contact, 409 when its details went with the person's data", "leads:write", None),
    ("get", "/api/v1/views", "The saved inbox views this person sees (their own and those shared with the team, shared first): [{id, user_id, owner_name, name, query, shared, created_at}]; a token needs a person", "leads:read", None),
    ("post", "/api/v1/views", "Save inbox filters under a name (shared: sales managers and administrators); the query keeps what the inbox reads; answers 201 with the view", "leads:read", Some("{name, query (the inbox's: stage=new&source=google&sort=-score), shared?}")),
    ("delete", "/api/v1/views/{id}", "Delete a view: one's own, or a shared one (sales managers and administrators)", "leads:read", None),
    ("post", "/api/v1/contacts/{id}/erase", "Erase a person's personal data at their request (administrators): the contact and every contact merged with it lose name, phones, emails, social profiles, position and company; their leads lose messages, notes, comments, raw submissions, IP addresses, behaviour events, duplicate pairs, merge snapshots, audit details and emails; stages, products, values, channels and UTM tags stay. Answers what was erased {contact_id, contacts, leads, touches, notes, events, emails}; the audit log keeps who, when and why", "admin", Some("{reason}")),
    ("get", "/api/v1/accounts", "List accounts", "leads:read", None),
    ("get", "/api/v1/accounts/{id}", "An account with its contacts", "leads:read", None),
    ("put", "/api/v1/accounts/{id}", "Correct a company's name and domain (those who work leads, on companies they see): its customers take the name and its people's leads are found by it; 409 when another company goes by that name in any legal form; answers the company", "leads:write", Some("{name, domain?}")),
    ("get", "/api/v1/accounts/{id}/changes", "A company's changes, newest first: [{id, at, actor, action, fields: [{field, from, to}], erased}]", "leads:read", None),
    ("post", "/api/v1/accounts/{id}/changes/{change}/restore", "Undo one correction of a company: the name or domain it changed reads as before it; answers the company", "leads:write", None),
    ("get", "/api/v1/customers", "List customers", "leads:read", None),
    ("get", "/api/v1/customers/{id}", "A customer with deals, the whole timeline and the customers merged into it (merged_from); a customer merged into another answers 404 naming where it went", "leads:read", None),
    ("post", "/api/v1/customers/{id}/merge", "Merge this customer into another (sales managers and administrators): its deals and converted leads move there, a later purchase of its person adds to that customer, the audit log records it; answers the merge {id, from_id, into_id, from_name, deals, leads, actor, at, undone_at, undoable}", "leads:write", Some("{into}")),
    ("post", "/api/v1/customer-merges/{id}/undo", "Undo a customer merge (sales managers and administrators): the removed customer is back under its id with the deals and leads the merge moved (deals made since stay where they are); refused with 409 when it was undone already, was made before merges recorded what they moved, the customer it went into was merged again since, or its person is a customer again; answers the merge with undone_at", "leads:write", None),
    ("get", "/api/v1/deals", "List deals", "leads:read", None),
    ("get", "/api/v1/deals/{id}", "A deal", "leads:read", None),
    ("put", "/api/v1/deals/{id}", "Correct a deal's title and amount (those who work leads, on deals of leads they see); the reports' revenue follows and the audit log keeps what it said; answers the deal", "leads:write", Some("{title, amount (major units as text), currency?}")),
    ("get", "/api/v1/deals/{id}/changes", "A deal's changes, newest first (to those who see the lead it came from): [{id, at, actor, action, fields: [{field, from, to}], erased}]", "leads:read", None),
    ("post", "/api/v1/deals/{id}/changes/{change}/restore", "Undo one correction of a deal: the title or amount it changed reads as before it; answers the deal", "leads:write", None),
    ("get", "/api/v1/leads/{id}/changes", "The corrections of what a lead asks for (product, value estimate), newest first: [{id, at, actor, action, fields: [{field, from, to}], erased}]", "leads:read", None),
    ("post", "/api/v1/leads/{id}/changes/{change}/restore", "Undo one correction of what a lead asks for: the product or value it changed reads as before it; answers the lead", "leads:write", None),
    ("get", "/api/v1/forms", "List forms with lead, interest and rejection counts", "forms:write", None),
    ("post", "/api/v1/forms", "Create a form", "forms:write", Some("{name, redirect_url?, allowed_origins?, default_region?, product?, min_fill_ms?}")),
    ("get", "/api/v1/forms/{id}", "A form with its definition", "forms:write", None),
    ("put", "/api/v1/forms/{id}", "Change a form's settings", "forms:write", Some("{name, redirect_url?, allowed_origins?, default_region?, product?, min_fill_ms?, active?}")),
    ("put", "/api/v1/forms/{id}/definition", "Replace a form's definition (what the widget renders); every part is optional (an empty definition asks name, phone and email), and a key it does not know is refused", "forms:write", Some("{kind?: form|quiz|callback, language?: en|ru, title?, text?, offer?, submit_label?, thank_you?, fields?: [{name?, kind: name|phone|email|company|position|message|text|number|select|multi_select|checkbox|date, label?, required?, options?}], consent?: {text, policy_url?, required?}, steps?: [{id, question, multiple?, next?, options: [{id, label, image?, fit?, intent?, next?, disqualify?}]}], phone_countries?, popup?: {trigger: none|exit|timer|exit_or_timer, delay_seconds?}, lead_magnet?: {title, url}, landing?: {slug, headline?, text?, image_url?}, variants?: [{key, weight?, title?, text?, submit_label?, offer?, hide_fields?}]}")),
    ("get", "/api/v1/forms/{id}/variants", "Views, submissions, downloads and take rate with a 95% interval per A/B variant", "forms:write", None),
    ("get", "/api/v1/forms/{id}/embed", "The embed code (widget script and no-JavaScript fallback form) and the landing page URL", "forms:write", None),
    ("get", "/api/v1/refusal-reasons", "Refusal reasons", "leads:read", None),
    ("post", "/api/v1/refusal-reasons", "Add a refusal reason", "admin", Some("{label}")),
    ("get", "/api/v1/duplicates", "Possible duplicates for review (status: open, merged, not_duplicate)", "leads:write", None),
    ("get", "/api/v1/duplicates/{id}", "A pair with both leads side by side and the matcher's explanation", "leads:write", None),
    ("post", "/api/v1/duplicates/{id}/merge", "Merge the pair: the survivor keeps everything; fields in take come from the other lead", "leads:write", Some("{survivor_id, take?: [name, position, country, language, account, product, message, value, temperature, owner]}")),
    ("post", "/api/v1/duplicates/{id}/not-duplicate", "Remember that the pair is not a duplicate", "leads:write", None),
    ("post", "/api/v1/leads/{id}/merge", "Merge another lead into this one", "leads:write", Some("{other_lead_id, take?}")),
    ("get", "/api/v1/leads/{id}/merges", "Merges this lead took part in (each can be undone)", "leads:read", None),
    ("post", "/api/v1/merges/{id}/undo", "Undo a merge", "leads:write", None),
    ("get", "/api/v1/scrub-rules", "Pseudo-lead rules with the catalog of rule codes and their actions (?format=toml for the file)", "admin", None),
    ("put", "/api/v1/scrub-rules", "Replace the pseudo-lead rules (JSON, or a TOML file with Content-Type application/toml)", "admin", Some("{actions: {code: off|flag|junk|reject}, burst_window_secs, burst_max_per_ip, burst_max_per_visitor, identical_max_clients, burst_exempt_ips (IP addresses), test_names, joke_names, test_email_locals, test_email_domains, disposable_domains, allowed_domains, competitor_domains, stop_phrases, min_phone_digits}")),
    ("get", "/api/v1/reports/channels", "What each channel brought and cost: the leads created in the period (from, to: days, both counted; the last 30 days by default) grouped by source, source_medium, medium, campaign or form, with their interests, leads (junk apart), how many reached MQL and SQL, converted and refused, the revenue of their deals per currency, the spend of the period (entries spread evenly over their days; spend the grouping cannot show is in unattributed_spend), and in the report's currency cost_per_lead, cost_per_customer and roi ((revenue − spend) / spend; a figure that would mix currencies is null); format=csv gives the same as a spreadsheet file; no personal data", "leads:read", None),
    ("get", "/api/v1/reports/channels/weekly", "Leads (junk left out) per week, Monday to Sunday UTC, of the period (from, to; the last 30 days by default): the top channels of the grouping (by, as the channel report; top: 1–20, 5 by default) each in a row, the others summed, and all: {weeks (each week's Monday, ms), channels: [{key, label?, leads: [per week]}], others, total}", "leads:read", None),
    ("get", "/api/v1/spend", "Marketing spend entries whose days overlap the period (from, to; the last 365 days by default), the latest first", "leads:read", None),
    ("post", "/api/v1/spend", "Record what a channel cost for some days (marketers, sales managers, administrators); answers 201 with the entry; the audit log keeps it", "forms:write", Some("{source, medium?, campaign?, from, to (days, YYYY-MM-DD, both paid for), amount (major units as text), currency?, note?}")),
    ("post", "/api/v1/spend/import", "Store the spend of a CSV file sent as the body (an ad platform's daily costs, a budget sheet): columns date (or from and to), source, medium, campaign, amount, currency, note, in English or Russian (дата, источник, кампания, сумма/расход, валюта); days as YYYY-MM-DD or DD.MM.YYYY. Query parameters give the source, medium, campaign and currency of rows without them. Rows of the same channel, days and currency are summed; entries of the same channel and days stored before are replaced, so the same file again changes nothing; one wrong row refuses the whole file with every problem listed. Answers {rows, added, replaced}", "forms:write", Some("CSV text")),
    ("put", "/api/v1/spend/{id}", "Change a spend entry: the same fields as when it is entered, all of them (who entered it and when stay); the audit log keeps what it was", "forms:write", Some("{source, medium?, campaign?, from, to, amount, currency?, note?}")),
    ("delete", "/api/v1/spend/{id}", "Delete a spend entry entered by mistake (the audit log keeps what it was)", "forms:write", None),
    ("get", "/api/v1/reports/scrub", "Scrub rate (rejected + junk / all submissions) by form, source, campaign or partner (by, since)", "leads:read", None),
    ("get", "/api/v1/model", "The current predictive conversion model: training size and date, and on held-out closed leads its AUC, Brier score, calibration deciles and top features beside the naive-Bayes baseline's (404 before the first training)", "leads:read", None),
    ("post", "/api/v1/model/train", "Train the predictive conversion model on closed leads now and score every open lead (422 when there are too few closed leads)", "admin", None),
    ("get", "/api/v1/status", "What is waiting in this database: {version, backend, leads, jobs_pending, rescore_queue: {leads, oldest_queued_at, oldest_wait_ms}, search_backlog, intake: {batches, candidates_read_ahead, read_ahead_stale}}", "admin", None),
    ("get", "/api/v1/users", "List users", "admin", None),
    ("post", "/api/v1/users", "Create a user", "admin", Some("{email, name?, password, role}")),
    ("post", "/api/v1/users/{id}", "Change a user's role or disable them", "admin", Some("{role, active}")),
    ("post", "/api/v1/users/{id}/two-step-off", "Turn off a user's two-step sign-in (they lost their phone and their recovery codes): they sign in with their password alone until they turn it on again; the audit log records it", "admin", None),
    ("post", "/api/v1/users/{id}/password", "Set a user's password (at least 8 characters): every session of theirs ends and their sign-in is no longer locked; the audit log records it, never the password", "admin", Some("{password}")),
    ("get", "/api/v1/tokens", "List API tokens", "admin", None),
    ("post", "/api/v1/tokens", "Create an API token (the secret is returned once); with user_id it acts as that person", "admin", Some("{name, scopes, ttl_days?, user_id?}")),
    ("delete", "/api/v1/tokens/{id}", "Revoke a token", "admin", None),
    ("get", "/api/v1/routing-rules", "Routing rules in order, with the fallback queue (?format=toml for the file)", "admin", None),
    ("put", "/api/v1/routing-rules", "Replace the routing rules (JSON, or TOML with Content-Type application/toml)", "admin", Some("{rules: [{name, enabled?, when?: {countries?, regions?, cities?, products?, sources?, partners?, forms?, languages?, temperatures?, score_min?, score_max?, existing_customer?, conversion_min?, conversion_max?}, team?, people?: [email], method?: round_robin|least_load|sticky_owner|account_owner}], fallback?: {queue, people?}}")),
    ("get", "/api/v1/sla-settings", "First-response targets, business hours, holidays and breach steps, default and per team (?format=toml)", "admin", None),
    ("put", "/api/v1/sla-settings", "Replace the SLA settings (JSON or TOML)", "admin", Some("{default: {hot?, warm?, cold?: \"5m\"|\"1h\"|\"1d\", timezone?, hours?: \"mon-fri 09:00-18:00\", holidays?: [date], steps?: [{after?: \"30m\", action: notify_owner|escalate_team_lead|reassign}]}, teams?: {NAME: same}}")),
    ("get", "/api/v1/notify-webhook", "The outgoing webhook URL (Slack-compatible JSON for lead_assigned and sla_breached)", "admin", None),
    ("put", "/api/v1/notify-webhook", "Set the outgoing webhook URL (empty turns it off)", "admin", Some("{url: an http(s) URL, or empty}")),
    ("get", "/api/v1/smtp-settings", "The SMTP settings for email notifications and farewells, without the password (password_set tells whether one is stored); null when email is off", "admin", None),
    ("put", "/api/v1/smtp-settings", "Set the SMTP settings; a missing password keeps the stored one for the same username", "admin", Some("{host (a host name or an IP address), port, from, username?, password?, security?: none|starttls|tls}")),
    ("delete", "/api/v1/smtp-settings", "Turn email off", "admin", None),
    ("get", "/api/v1/users/{id}/routing-profile", "A person's routing profile", "leads:read", None),
    ("put", "/api/v1/users/{id}/routing-profile", "Set a person's routing profile (managers; a person may set their own absence)", "leads:write", Some("{weight?, daily_cap?, monthly_cap?, timezone?, hours?, away_from?, away_until?, paused?}")),
    ("get", "/api/v1/leads/{id}/routing", "Why the lead has its owner: the routing explanation (its text, and as why its code and values) and the assignment history", "leads:read", None),
    ("post", "/api/v1/leads/{id}/reassign", "Reassign to a person or by the rules (kept in the history)", "leads:write", Some("{to: person|rules, owner_id?, comment?}")),
    ("post", "/api/v1/leads/reassign", "Bulk reassignment of the given leads or of every open lead of a person", "leads:write", Some("{to: person|rules, owner_id?, lead_ids?, from_owner?, comment?}")),
    ("get", "/api/v1/leads/{id}/activities", "Calls, emails and meetings logged on a lead", "leads:read", None),
    ("post", "/api/v1/leads/{id}/activities", "Log a call, email or meeting; the first is the first response; the outcome schedules the next task", "leads:write", Some("{kind: call|email|meeting, outcome?: reached|no_answer|wrong_number|call_back|sent, note?, call_back_at? (ms since the epoch, in the future and at most 10 years ahead)}")),
    ("get", "/api/v1/leads/{id}/sla", "The lead's first-response due time, breach and fired SLA steps", "leads:read", None),
    ("get", "/api/v1/work-queue", "What to do now: my open leads by SLA urgency then score (offset, limit), and my open tasks; for a person: a token made for them (user_id when created) or a signed-in session", "leads:read", None),
    ("get", "/api/v1/tasks", "Tasks of a person (user?, status: open|overdue|all)", "leads:read", None),
    ("post", "/api/v1/tasks", "Create a task", "leads:write", Some("{lead_id?, kind: call|email|meeting|send_offer, title?, due_at, remind_at?, owner_id?} — due_at and remind_at in ms since the epoch, from 2000-01-01 to 10 years ahead")),
    ("post", "/api/v1/tasks/{id}/done", "Complete a task", "leads:write", None),
    ("get", "/api/v1/notifications", "My in-app notifications (lead assigned, SLA breached, escalations): body is the text, notice its code and values; for a person: a token made for them (user_id when created) or a signed-in session", "leads:read", None),
    ("post", "/api/v1/ical-token", "A new secret address of my task calendar (iCal); for a person: a token made for them (user_id when created) or a signed-in session", "leads:read", None),
    ("get", "/ical/{token}", "Task calendar of the token's owner (text/calendar; the token is the credential)", "", None),
    ("get", "/api/v1/reports/sla", "Time to first response (median, p90) and SLA hit rate per person, team, source and hour (since)", "leads:read", None),
    ("get", "/api/v1/reports/sla-dashboard", "Open leads with no first response due within the hour or overdue (however old), how many are overdue, how many became late today, and both per person", "leads:read", None),
    ("get", "/api/v1/reports/recycling", "Refused leads that came back (revived by their freeze date or asked again) and how many converted later (since)", "leads:read", None),
    ("get", "/api/v1/reports/team-load", "Open leads, assignments in 24 h and overdue tasks per salesperson", "leads:read", None),
    ("post", "/f/{form_key}", "Public capture from a web form (JSON or form-encoded; no token). JSON answers 201 {result: lead|interest|rejected, action, lead_id, contact_id, touch_id, interest_id, reasons: [{code, field?, args?, message}], repeated}; args are the values the message names", "", Some("Form fields; quiz answers as quiz.<step> = option id(s); _variant names the A/B variant shown; header Idempotency-Key optional")),
    ("get", "/w.js", "The capture widget script: <script src=\".../w.js\" data-form=\"KEY\" async>", "", None),
    ("get", "/f/{form_key}/thanks", "The built-in thank-you page a plain HTML form lands on (r=ok or r=interest)", "", None),
    ("get", "/t.js", "The tracker script: <script src=\".../t.js\" data-site=\"KEY\" async>", "", None),
    ("post", "/t/{site}/events", "Events from a site's tracker (no token: the site's key; CORS for its origins). Answers 202 {stored}, or 204 storing nothing when the browser asks not to be tracked (DNT or Sec-GPC) and the site honours it", "", Some("One event {name, visitor_id, url?, age?, properties?} or {events: [...]}; text/plain is taken too (beacons)")),
    ("get", "/f/{form_key}/config", "What the widget renders for a form (public)", "", None),
    ("post", "/f/{form_key}/event", "Record a widget view (public)", "", Some("{kind: view, variant?, visitor_id?}")),
    ("post", "/f/{form_key}/check", "Check fields without storing anything; answers {reasons} (public)", "", Some("Form fields")),
    ("get", "/f/{form_key}/download", "Download the form's lead magnet (recorded as an event; redirects to the file)", "", None),
    ("get", "/l/{slug}", "Hosted landing page of a form (HTML)", "", None),
    ("get", "/metrics", "Operational metrics in Prometheus' text format (no personal data): voronka_captures_total{channel, result}, voronka_intake_batch_size and _seconds, voronka_events_stored_total, voronka_jobs_total{kind, outcome}, voronka_http_requests_total{method, route, status}, voronka_http_request_duration_seconds, and the gauges voronka_leads, voronka_jobs_pending, voronka_rescore_queue_leads, voronka_rescore_queue_oldest_wait_seconds, voronka_search_backlog_leads", "metrics:read", None),
    ("get", "/healthz", "Health check (no token): 200 {status: ok} while the database answers, 503 {error: unavailable} when it does not", "", None),
];

/// What an operation answers when it succeeds.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Answer {
    /// A JSON object with this status.
    Object(u16),
    /// A JSON array.
    Array,
    /// A JSON object, or `null` when there is nothing set.
    Nullable,
    /// A JSON object, or TOML with `format=toml`.
    JsonOrToml,
    /// A file of leads: CSV, or JSON lines with `format=jsonl`.
    CsvOrJsonl,
    /// A JSON object, or a CSV file with `format=csv`.
    JsonOrCsv,
    /// A JSON array, or a CSV file with `format=csv`.
    ArrayOrCsv,
    /// No body, with this status.
    Empty(u16),
    /// A body of this media type.
    Text(&'static str),
    /// 303 See Other to where the client goes next.
    Redirect,
}

use Answer::*;

/// Every operation whose success is not a JSON object with 200, by method and path.
const ANSWERS: &[(&str, &str, &[Answer])] = &[
    ("post", "/api/v1/leads", &[Object(201), Object(200)]),
    ("get", "/api/v1/views", &[Array]),
    ("get", "/api/v1/reports/channels", &[JsonOrCsv]),
    ("get", "/api/v1/spend", &[Array]),
    ("post", "/api/v1/spend", &[Object(201)]),
    ("delete", "/api/v1/spend/{id}", &[Empty(204)]),
    ("post", "/api/v1/views", &[Object(201)]),
    ("delete", "/api/v1/views/{id}", &[Empty(204)]),
    ("get", "/api/v1/leads/export", &[CsvOrJsonl]),
    ("post", "/api/v1/events", &[Object(202)]),
    ("get", "/api/v1/scoring-rules", &[JsonOrToml]),
    ("put", "/api/v1/scoring-rules", &[Object(202)]),
    ("get", "/api/v1/scoring-rules/presets/{name}", &[JsonOrToml]),
    ("post", "/api/v1/scoring/rescore", &[Object(202)]),
    (
        "delete",
        "/api/v1/leads/{id}/temperature-override",
        &[Empty(204)],
    ),
    ("post", "/api/v1/tracking-sites", &[Object(201)]),
    ("post", "/api/v1/leads/{id}/convert", &[Object(201)]),
    ("post", "/api/v1/leads/{id}/notes", &[Object(201)]),
    ("get", "/api/v1/tags", &[Array]),
    ("get", "/api/v1/leads/{id}/audit", &[Array]),
    ("get", "/api/v1/audit", &[ArrayOrCsv]),
    ("get", "/api/v1/contacts/{id}/changes", &[Array]),
    ("get", "/api/v1/deals/{id}/changes", &[Array]),
    ("get", "/api/v1/accounts/{id}/changes", &[Array]),
    ("get", "/api/v1/leads/{id}/changes", &[Array]),
    ("post", "/api/v1/forms", &[Object(201)]),
    ("get", "/api/v1/refusal-reasons", &[Array]),
    ("post", "/api/v1/refusal-reasons", &[Empty(201)]),
    ("post", "/api/v1/duplicates/{id}/merge", &[Object(201)]),
    (
        "post",
        "/api/v1/duplicates/{id}/not-duplicate",
        &[Empty(204)],
    ),
    ("post", "/api/v1/leads/{id}/merge", &[Object(201)]),
    ("post", "/api/v1/merges/{id}/undo", &[Empty(204)]),
    ("get", "/api/v1/scrub-rules", &[JsonOrToml]),
    ("put", "/api/v1/scrub-rules", &[Empty(204)]),
    ("get", "/api/v1/users", &[Array]),
    ("post", "/api/v1/users", &[Object(201)]),
    ("post", "/api/v1/users/{id}", &[Empty(204)]),
    ("post", "/api/v1/users/{id}/password", &[Empty(204)]),
    ("post", "/api/v1/users/{id}/two-step-off", &[Empty(204)]),
    ("get", "/api/v1/tokens", &[Array]),
    ("post", "/api/v1/tokens", &[Object(201)]),
    ("delete", "/api/v1/tokens/{id}", &[Empty(204)]),
    ("get", "/api/v1/routing-rules", &[JsonOrToml]),
    ("put", "/api/v1/routing-rules", &[Empty(204)]),
    ("get", "/api/v1/sla-settings", &[JsonOrToml]),
    ("put", "/api/v1/sla-settings", &[Empty(204)]),
    ("put", "/api/v1/notify-webhook", &[Empty(204)]),
    ("get", "/api/v1/smtp-settings", &[Nullable]),
    ("put", "/api/v1/smtp-settings", &[Empty(204)]),
    ("delete", "/api/v1/smtp-settings", &[Empty(204)]),
    ("put", "/api/v1/users/{id}/routing-profile", &[Empty(204)]),
    ("get", "/api/v1/leads/{id}/activities", &[Array]),
    ("post", "/api/v1/leads/{id}/activities", &[Object(201)]),
    ("get", "/api/v1/tasks", &[Array]),
    ("post", "/api/v1/tasks", &[Object(201)]),
    ("post", "/api/v1/tasks/{id}/done", &[Empty(204)]),
    ("get", "/api/v1/notifications", &[Array]),
    ("get", "/api/v1/reports/team-load", &[Array]),
    ("get", "/ical/{token}", &[Text("text/calendar")]),
    (
        "post",
        "/f/{form_key}",
        &[Object(201), Object(200), Redirect],
    ),
    ("get", "/w.js", &[Text("text/javascript")]),
    ("get", "/f/{form_key}/thanks", &[Text("text/html")]),
    ("get", "/t.js", &[Text("text/javascript")]),
    ("post", "/t/{site}/events", &[Object(202), Empty(204)]),
    ("post", "/f/{form_key}/event", &[Empty(204)]),
    ("get", "/f/{form_key}/download", &[Redirect]),
    ("get", "/l/{slug}", &[Text("text/html")]),
    ("get", "/metrics", &[Text("text/plain")]),
];

type SchemaFn = fn() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>;

/// The JSON schema of each request body read into a struct of ours, by method and path: its
/// fields, which of them are required, and that no others are taken.
const BODY_SCHEMAS: &[(&str, &str, SchemaFn)] = &[
    (
        "post",
        "/api/v1/leads/{id}/stage",
        <crate::api::StageBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/leads/{id}/refuse",
        <crate::api::RefuseBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/leads/{id}/junk",
        <crate::api::JunkBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/leads/{id}/convert",
        <crate::api::ConvertBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/leads/{id}/assign",
        <crate::api::AssignBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/leads/{id}/temperature",
        <crate::api::TemperatureBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/leads/bulk",
        <crate::api::BulkBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/views",
        <crate::api::ViewBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/spend",
        <crate::channels_api::SpendBody as PartialSchema>::schema,
    ),
    (
        "put",
        "/api/v1/deals/{id}",
        <crate::api::DealBody as PartialSchema>::schema,
    ),
    (
        "put",
        "/api/v1/accounts/{id}",
        <crate::api::AccountBody as PartialSchema>::schema,
    ),
    (
        "put",
        "/api/v1/leads/{id}/request",
        <crate::api::RequestBody as PartialSchema>::schema,
    ),
    (
        "put",
        "/api/v1/contacts/{id}",
        <crate::api::ContactBody as PartialSchema>::schema,
    ),
    (
        "put",
        "/api/v1/spend/{id}",
        <crate::channels_api::SpendBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/contacts/{id}/erase",
        <crate::api::EraseBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/customers/{id}/merge",
        <crate::api::CustomerMergeBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/leads/{id}/notes",
        <crate::api::NoteBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/leads/{id}/tags",
        <crate::api::TagBody as PartialSchema>::schema,
    ),
    (
        "put",
        "/api/v1/tags/{tag}",
        <crate::api::TagBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/forms",
        <crate::api::FormBody as PartialSchema>::schema,
    ),
    (
        "put",
        "/api/v1/forms/{id}",
        <crate::api::FormUpdateBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/refusal-reasons",
        <crate::api::ReasonBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/duplicates/{id}/merge",
        <crate::api::PairMergeBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/leads/{id}/merge",
        <crate::api::LeadMergeBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/users",
        <crate::api::UserBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/users/{id}",
        <crate::api::UserUpdateBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/users/{id}/password",
        <crate::api::PasswordBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/tokens",
        <crate::api::TokenBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/tracking-sites",
        <crate::scoring_api::NewSite as PartialSchema>::schema,
    ),
    (
        "put",
        "/api/v1/notify-webhook",
        <crate::speed_api::WebhookBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/leads/{id}/reassign",
        <crate::speed_api::ReassignBody as PartialSchema>::schema,
    ),
    (
        "post",
        "/api/v1/leads/reassign",
        <crate::speed_api::ReassignBody as PartialSchema>::schema,
    ),
];

/// The query parameters an operation reads, by the struct it reads them into.
type Params = fn() -> Vec<utoipa::openapi::path::Parameter>;

fn params<T: utoipa::IntoParams>() -> Vec<utoipa::openapi::path::Parameter> {
    T::into_params(|| Some(ParameterIn::Query))
}

/// An export's: the list's filters (not its paging and order) and the file's format.
fn export_params() -> Vec<utoipa::openapi::path::Parameter> {
    let mut all = params::<crate::api::LeadFilter>();
    all.retain(|p| !matches!(p.name.as_str(), "sort" | "cursor" | "before" | "limit"));
    all.extend(params::<crate::api::ExportQuery>());
    all
}

const QUERIES: &[(&str, &str, Params)] = &[
    ("get", "/api/v1/leads", params::<crate::api::LeadFilter>),
    ("get", "/api/v1/leads/export", export_params),
    ("get", "/api/v1/contacts", params::<crate::api::PageQuery>),
    ("get", "/api/v1/audit", params::<crate::api::AuditParams>),
    ("get", "/api/v1/accounts", params::<crate::api::PageQuery>),
    ("get", "/api/v1/customers", params::<crate::api::PageQuery>),
    ("get", "/api/v1/deals", params::<crate::api::PageQuery>),
    (
        "get",
        "/api/v1/duplicates",
        params::<crate::api::PairsQuery>,
    ),
    (
        "get",
        "/api/v1/scrub-rules",
        params::<crate::api::RulesQuery>,
    ),
    (
        "get",
        "/api/v1/reports/scrub",
        params::<crate::api::ScrubQuery>,
    ),
    (
        "get",
        "/api/v1/reports/channels",
        params::<crate::channels_api::ChannelQuery>,
    ),
    (
        "get",
        "/api/v1/reports/channels/weekly",
        params::<crate::channels_api::WeeklyQuery>,
    ),
    (
        "get",
        "/api/v1/spend",
        params::<crate::channels_api::SpendQuery>,
    ),
    (
        "post",
        "/api/v1/spend/import",
        params::<crate::channels_api::SpendImportQuery>,
    ),
    (
        "get",
        "/api/v1/routing-rules",
        params::<crate::speed_api::FormatQuery>,
    ),
    (
        "get",
        "/api/v1/sla-settings",
        params::<crate::speed_api::FormatQuery>,
    ),
    (
        "get",
        "/api/v1/tasks",
        params::<crate::speed_api::TaskQuery>,
    ),
    (
        "get",
        "/api/v1/work-queue",
        params::<crate::speed_api::WorkQueueQuery>,
    ),
    (
        "get",
        "/api/v1/reports/sla",
        params::<crate::speed_api::SinceQuery>,
    ),
    (
        "get",
        "/api/v1/reports/recycling",
        params::<crate::speed_api::SinceQuery>,
    ),
    (
        "get",
        "/api/v1/scoring-rules",
        params::<crate::speed_api::FormatQuery>,
    ),
    (
        "get",
        "/api/v1/scoring-rules/presets/{name}",
        params::<crate::speed_api::FormatQuery>,
    ),
];

/// Request bodies taken in another form besides JSON, by media type.
const OTHER_BODIES: &[(&str, &[&str])] = &[
    (
        "application/toml",
        &[
            "/api/v1/scoring-rules",
            "/api/v1/scrub-rules",
            "/api/v1/routing-rules",
            "/api/v1/sla-settings",
        ],
    ),
    ("application/x-www-form-urlencoded", &["/f/{form_key}"]),
    ("text/plain", &["/t/{site}/events"]),
];

/// Pages for people answer their errors as HTML pages too.
const HTML_ERRORS: &[&str] = &["/l/{slug}"];

fn answers(m: &str, path: &str) -> &'static [Answer] {
    ANSWERS
        .iter()
        .find(|(am, ap, _)| *am == m && *ap == path)
        .map_or(&[Object(200)], |(_, _, a)| a)
}

/// A JSON array of any values.
fn json_array() -> utoipa::openapi::content::Content {
    ContentBuilder::new()
        .schema(Some(utoipa::openapi::schema::ArrayBuilder::new().items(
            ObjectBuilder::new().schema_type(utoipa::openapi::schema::SchemaType::AnyValue),
        )))
        .build()
}

fn text_content(kind: &str) -> utoipa::openapi::content::Content {
    ContentBuilder::new()
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(kind)),
        ))
        .build()
}

/// The operation with its success answers added.
fn with_answers(mut op: OperationBuilder, list: &[Answer]) -> OperationBuilder {
    for a in list {
        op = match *a {
            Object(code) => op.response(
                code.to_string(),
                ResponseBuilder::new()
                    .description(if code == 201 {
                        "Created"
                    } else if code == 202 {
                        "Accepted"
                    } else {
                        "OK"
                    })
                    .content("application/json", json_object("result")),
            ),
            Array => op.response(
                "200",
                ResponseBuilder::new().description("OK").content(
                    "application/json",
                    json_array(),
                ),
            ),
            Nullable => op.response(
                "200",
                ResponseBuilder::new()
                    .description("OK, or null when nothing is set")
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(
                                ObjectBuilder::new()
                                    .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                                        Type::Object,
                                        Type::Null,
                                    ]))
                                    .description(Some("result or null")),
                            ))
                            .build(),
                    ),
            ),
            JsonOrToml => op.response(
                "200",
                ResponseBuilder::new()
                    .description("OK: JSON, or TOML with format=toml")
                    .content("application/json", json_object("result"))
                    .content("application/toml", text_content("TOML")),
            ),
            CsvOrJsonl => op.response(
                "200",
                ResponseBuilder::new()
                    .description(
                        "OK: a file streamed as it is read (Content-Disposition: attachment)",
                    )
                    .content("text/csv", text_content("CSV with a header line"))
                    .content("application/x-ndjson", text_content("one lead per line")),
            ),
            JsonOrCsv => op.response(
                "200",
                ResponseBuilder::new()
                    .description(
                        "OK: JSON, or a CSV file with format=csv (Content-Disposition: attachment)",
                    )
                    .content("application/json", json_object("result"))
                    .content("text/csv", text_content("CSV with a header line")),
            ),
            ArrayOrCsv => op.response(
                "200",
                ResponseBuilder::new()
                    .description(
                        "OK: a JSON array, or a CSV file with format=csv (Content-Disposition: attachment)",
                    )
                    .content(
                        "application/json",
                        json_array(),
                    )
                    .content("text/csv", text_content("CSV with a header line")),
            ),
            Empty(code) => op.response(
                code.to_string(),
                ResponseBuilder::new().description(if code == 201 {
                    "Created"
                } else {
                    "Done; no body"
                }),
            ),
            Text(kind) => op.response(
                "200",
                ResponseBuilder::new()
                    .description("OK")
                    .content(kind, text_content(kind)),
            ),
            Redirect => op.response(
                "303",
                ResponseBuilder::new()
                    .description("See Other: the Location header says where to go next"),
            ),
        };
    }
    op
}

fn method(m: &str) -> HttpMethod {
    match m {
        "post" => HttpMethod::Post,
        "delete" => HttpMethod::Delete,
        "put" => HttpMethod::Put,
        _ => HttpMethod::Get,
    }
}

fn json_object(description: &str) -> utoipa::openapi::content::Content {
    ContentBuilder::new()
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some(description)),
        ))
        .build()
}

/// The answer of an error: its kind, the code and values of its sentence, the sentence itself
/// and, for invalid input, what is wrong with each field.
fn error_content() -> utoipa::openapi::content::Content {
    let text = |d: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(d))
    };
    let args = || {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(Some(ObjectBuilder::new().schema_type(Type::String)))
            .description(Some(
                "the values the sentence names, by name (left out when it names none)",
            ))
    };
    let field = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("field", text("the field"))
        .property("code", text("what is wrong with it, as a code"))
        .property("message", text("what is wrong with it, in words"))
        .property("args", args())
        .required("field")
        .required("code")
        .required("message");
    ContentBuilder::new()
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some("{error, code, message, args?, fields?}"))
                .property(
                    "error",
                    text("the kind of error, one per status: not_found, invalid, …"),
                )
                .property(
                    "code",
                    text("the sentence's code, such as lead_not_found: stable, to translate by"),
                )
                .property("message", text("the sentence in English"))
                .property("args", args())
                .property(
                    "fields",
                    utoipa::openapi::schema::ArrayBuilder::new().items(field),
                )
                .required("error")
                .required("code")
                .required("message"),
        ))
        .build()
}

pub fn document() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for (m, path, summary, scope, body) in OPERATIONS {
        let mut op =
            OperationBuilder::new()
                .summary(Some(*summary))
                .description(if scope.is_empty() {
                    None
                } else {
                    Some(format!("Requires scope `{scope}`."))
                });
        op = with_answers(op, answers(m, path));
        let errors = ResponseBuilder::new()
            .description("Error: 400 malformed, 401 no or bad token, 403 not allowed, 404 not found, 405 method not allowed, 409 conflict or illegal stage move, 413 too large, 415 wrong content type, 422 invalid field, 429 rate limited");
        op = op.response(
            "4XX",
            if HTML_ERRORS.contains(path) {
                errors.content("text/html", text_content("an error page"))
            } else {
                errors.content("application/json", error_content())
            },
        );
        if *path == "/healthz" {
            op = op.response(
                "503",
                ResponseBuilder::new()
                    .description("The database does not answer")
                    .content("application/json", error_content()),
            );
        }
        for seg in path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                op = op.parameter(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True)
                        .schema(Some(if name == "id" {
                            // Ids are positive numbers; keys, slugs, tokens and names are text.
                            ObjectBuilder::new()
                                .schema_type(Type::Integer)
                                .minimum(Some(1))
                        } else {
                            ObjectBuilder::new().schema_type(Type::String)
                        })),
                );
            }
        }
        if let Some((.., query)) = QUERIES.iter().find(|(qm, qp, _)| qm == m && qp == path) {
            for p in query() {
                op = op.parameter(p);
            }
        }
        if let Some(b) = body {
            let json = match BODY_SCHEMAS
                .iter()
                .find(|(bm, bp, _)| bm == m && bp == path)
            {
                Some((.., schema)) => ContentBuilder::new().schema(Some(schema())).build(),
                None => json_object(b),
            };
            let mut rb = RequestBodyBuilder::new()
                .description(Some(*b))
                .content("application/json", json)
                .required(Some(Required::True));
            for (kind, paths) in OTHER_BODIES {
                if paths.contains(path) {
                    rb = rb.content(*kind, text_content(kind));
                }
            }
            op = op.request_body(Some(rb.build()));
        }
        if !scope.is_empty() {
            op = op.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
        }
        paths = paths.path(*path, PathItem::new(method(m), op));
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Voronka API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some("Lead capture and lead management. Authenticate with `Authorization: Bearer <token>`."))
                .build(),
        )
        .paths(paths.build())
        .components(Some(
            ComponentsBuilder::new()
                .security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()))
                .build(),
        ))
        .build()
}

async fn docs() -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "no-cache")], Html(DOCS_PAGE))
}

const DOCS_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Voronka API</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f6f7fb;color:#1d2433}
main{max-width:60rem;margin:0 auto;padding:2rem 1rem}
.op{background:#fff;border-radius:10px;box-shadow:0 1px 3px #0001;margin:.6rem 0;padding:.8rem 1rem}
.m{display:inline-block;min-width:4.5rem;font-weight:700;font-family:ui-monospace,monospace}
.get{color:#1769aa}.post{color:#2e7d32}.delete{color:#c62828}
code{font-family:ui-monospace,monospace}.scope{float:right;color:#667;font-size:.85rem}
.body{color:#445;font-size:.9rem;margin-top:.3rem}
</style></head>
<body><main><h1>Voronka API</h1><p>The machine-readable document is at <a href="/api/openapi.json">/api/openapi.json</a>.
Send <code>Authorization: Bearer &lt;token&gt;</code>; create tokens with <code>voronka token create</code> or on the Admin → Tokens page.</p>
<div id="ops">Loading…</div></main>
<script>
fetch('/api/openapi.json').then(r=>r.json()).then(doc=>{
  const box=document.getElementById('ops'); box.textContent='';
  for(const [path,item] of Object.entries(doc.paths)){
    for(const [m,op] of Object.entries(item)){
      const d=document.createElement('div'); d.className='op';
      const mm=document.createElement('span'); mm.className='m '+m; mm.textContent=m.toUpperCase();
      const p=document.createElement('code'); p.textContent=path;
      const s=document.createElement('span'); s.className='scope'; s.textContent=op.description||'';
      const sum=document.createElement('div'); sum.textContent=op.summary||'';
      d.append(mm,p,s,sum);
      const rb=op.requestBody&&op.requestBody.description;
      if(rb){const b=document.createElement('div'); b.className='body'; b.textContent='Body: '+rb; d.append(b);}
      box.append(d);
    }
  }
}).catch(e=>{document.getElementById('ops').textContent='Could not load the document: '+e});
</script></body></html>"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_answer_and_body_names_a_documented_operation() {
        let documented =
            |m: &str, p: &str| OPERATIONS.iter().any(|(om, op, ..)| *om == m && *op == p);
        for (m, p, list) in ANSWERS {
            assert!(documented(m, p), "{m} {p} is not an operation");
            assert!(!list.is_empty(), "{m} {p}");
        }
        for (_, paths) in OTHER_BODIES {
            for p in *paths {
                assert!(
                    OPERATIONS
                        .iter()
                        .any(|(_, op, _, _, body)| op == p && body.is_some()),
                    "{p} takes no body"
                );
            }
        }
        for (m, p, _) in BODY_SCHEMAS {
            assert!(
                OPERATIONS
                    .iter()
                    .any(|(om, op, _, _, body)| om == m && op == p && body.is_some()),
                "{m} {p} takes no body"
            );
        }
        for p in HTML_ERRORS {
            assert!(OPERATIONS.iter().any(|(_, op, ..)| op == p), "{p}");
        }
        // The document says so: a creation answers 201, a list an array.
        let doc = serde_json::to_value(document()).unwrap();
        let responses = |m: &str, p: &str| doc["paths"][p][m]["responses"].clone();
        assert!(responses("post", "/api/v1/forms")["201"].is_object());
        assert!(responses("post", "/api/v1/forms")["200"].is_null());
        assert_eq!(
            responses("get", "/api/v1/users")["200"]["content"]["application/json"]["schema"]
                ["type"],
            "array"
        );
        assert!(responses("get", "/api/v1/leads")["200"].is_object());
        assert!(responses("get", "/metrics")["200"]["content"]["text/plain"].is_object());
        assert!(responses("get", "/l/{slug}")["4XX"]["content"]["text/html"].is_object());
        // A body read into a struct has its fields, the required ones, and no others.
        let refuse = &doc["paths"]["/api/v1/leads/{id}/refuse"]["post"]["requestBody"]["content"]
            ["application/json"]["schema"];
        assert_eq!(
            refuse["required"],
            serde_json::json!(["reason"]),
            "{refuse}"
        );
        assert_eq!(refuse["additionalProperties"], false, "{refuse}");
        assert!(refuse["properties"]["freeze_until"].is_object(), "{refuse}");
        // The query parameters an operation reads are listed with it.
        let query_names = |m: &str, path: &str| -> Vec<String> {
            doc["paths"][path][m]["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect()
        };
        let leads = query_names("get", "/api/v1/leads");
        for name in [
            "stage",
            "q",
            "owner",
            "cursor",
            "limit",
            "sort",
            "min_conversion",
            "tag",
        ] {
            assert!(leads.iter().any(|n| n == name), "{name}: {leads:?}");
        }
        let export = query_names("get", "/api/v1/leads/export");
        for name in ["stage", "q", "owner", "created_from", "format", "bom"] {
            assert!(export.iter().any(|n| n == name), "{name}: {export:?}");
        }
        for name in ["sort", "cursor", "before", "limit"] {
            assert!(!export.iter().any(|n| n == name), "{name}: {export:?}");
        }
        assert_eq!(query_names("get", "/api/v1/scoring-rules"), ["format"]);
        let lead_id = &doc["paths"]["/api/v1/leads/{id}"]["get"]["parameters"][0]["schema"];
        assert_eq!(lead_id["minimum"], 1, "{lead_id}");
        assert!(query_names("post", "/api/v1/leads").is_empty());
        // Every schema is written out where it is used: no reference to a schema not there.
        let text = doc.to_string();
        assert!(!text.contains("#/components/schemas/"), "{text}");
        let reassign = &doc["paths"]["/api/v1/leads/reassign"]["post"]["requestBody"]["content"]
            ["application/json"]["schema"];
        assert_eq!(
            reassign["properties"]["lead_ids"]["items"]["type"], "integer",
            "{reassign}"
        );
    }
}

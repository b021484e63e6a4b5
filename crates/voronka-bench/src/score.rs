//! Scoring benchmarks: the pure scoring of one lead, event ingest throughput, the latency of
//! one event reaching its lead's score, and a full rescoring.

use anyhow::{Context, Result};
use std::time::Instant;
use voronka_app::{App, EventIn, Settings};
use voronka_core::intake::{normalize, NormalizeSettings, Submission};
use voronka_core::scoring::{Event, Profile, Scorer};
use voronka_core::{Attribution, Channel, Stage, Temperature};
use voronka_store::{IdTable, NewContactRow, NewLead, NewTouch};

const EVENT_NAMES: [&str; 8] = [
    "page_view",
    "view_product",
    "view_pricing",
    "view_catalog",
    "email_open",
    "email_click_product",
    "add_to_cart",
    "download",
];

/// Microseconds to score one lead with `events` events (profile rules, decay, caps).
pub fn pure(events: usize, repeat: usize) -> Result<()> {
    let scorer = Scorer::default();
    let now = 1_800_000_000_000;
    let evs: Vec<Event> = (0..events)
        .map(|i| Event {
            id: i as i64,
            name: EVENT_NAMES[i % EVENT_NAMES.len()].into(),
            at: now - (i as i64 % 90) * 86_400_000,
            url: Some(format!("https://shop.example.com/p/{i}")),
            properties: Default::default(),
        })
        .collect();
    let profile: Profile = [
        ("phone_valid", "true"),
        ("email", "a@example.com"),
        ("company", "ACME"),
        ("company_size", "21–100"),
        ("department", "IT"),
        ("position", "Head of sales"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let started = Instant::now();
    let mut total = 0i64;
    for _ in 0..repeat {
        total += scorer.score(&profile, &evs, false, now).total;
    }
    let per = started.elapsed().as_secs_f64() * 1e6 / repeat as f64;
    println!("pure scoring: {events} events per lead, {per:.2} µs per lead (checksum {total})");
    Ok(())
}

/// Creates `leads` leads directly through the store's bulk inserts (no intake), each with a
/// visitor id `v{i}` on its touch, in transactions of 10,000.
async fn seed_leads(app: &App, leads: usize) -> Result<()> {
    let store = app.store();
    let now = voronka_app::now_ms();
    let mut made = 0;
    while made < leads {
        let n = (leads - made).min(10_000);
        let subs: Vec<_> = (made..made + n)
            .map(|i| {
                let s = Submission::new(Channel::Import, now)
                    .with("name", format!("Клиент {i}"))
                    .with("email", format!("lead{i}@example.com"))
                    .with("phone", format!("+7916{:07}", i % 10_000_000))
                    .with("company_size", ["5", "50", "500"][i % 3])
                    .with("department", ["IT", "Sales", "HR"][i % 3]);
                normalize(&s, &NormalizeSettings::default())
            })
            .collect();
        let mut tx = store.begin().await?;
        let cids = tx.reserve_ids(IdTable::Contacts, n).await?;
        let lids = tx.reserve_ids(IdTable::Leads, n).await?;
        let tids = tx.reserve_ids(IdTable::Touches, n).await?;
        let contacts: Vec<NewContactRow> = subs
            .iter()
            .zip(&cids)
            .map(|(s, id)| NewContactRow {
                id: *id,
                n: s,
                account_id: None,
                at: now,
            })
            .collect();
        tx.insert_contacts(&contacts).await?;
        let rows: Vec<(i64, NewLead)> = lids
            .iter()
            .zip(&cids)
            .zip(&subs)
            .map(|((id, c), sub)| {
                (
                    *id,
                    NewLead {
                        contact_id: *c,
                        product: None,
                        message: None,
                        value: None,
                        stage: Stage::New,
                        junk_reason: None,
                        junk_stored: None,
                        temperature: Temperature::Cold,
                        score: 0,
                        owner_id: None,
                        form_id: None,
                        attribution: Attribution::default(),
                        reasons: "[]".into(),
                        route: None,
                        search_text: String::new(),
                        kind: "request".into(),
                        created_at: now,
                        fit: 0,
                        engagement: 0,
                        fit_level: voronka_core::scoring::FitLevel::Stranger,
                        activity: voronka_core::scoring::Activity::Inactive,
                        profile: serde_json::to_string(&voronka_core::scoring::profile_of(sub))
                            .unwrap_or_default(),
                        temperature_manual: false,
                        sla_due_at: None,
                        conversion: None,
                    },
                )
            })
            .collect();
        tx.insert_leads(&rows).await?;
        let touches: Vec<(i64, NewTouch)> = tids
            .iter()
            .zip(&lids)
            .enumerate()
            .map(|(k, (tid, lid))| {
                (
                    *tid,
                    NewTouch {
                        lead_id: *lid,
                        channel: Channel::Import,
                        form_id: None,
                        attribution: Attribution::default(),
                        partner: None,
                        visitor_id: Some(format!("v{}", made + k)),
                        ip: None,
                        user_agent: None,
                        message: None,
                        raw: "{}".into(),
                        reasons: "[]".into(),
                        verdict: "ok".into(),
                        created_at: now,
                        answers: "[]".into(),
                        consent_text: None,
                        variant: None,
                    },
                )
            })
            .collect();
        tx.insert_touches(&touches).await?;
        tx.commit().await?;
        made += n;
    }
    Ok(())
}

/// `with_ids`: each event carries its own id (`e{n}`), as a sender that may retry sends them.
fn events_for(visitors: usize, n: usize, offset: usize, with_ids: bool) -> Vec<EventIn> {
    let now = voronka_app::now_ms();
    (0..n)
        .map(|i| {
            let k = offset + i;
            EventIn {
                name: EVENT_NAMES[k % EVENT_NAMES.len()].into(),
                // Every other event is of an anonymous visitor (as many visitors as leads, so
                // each comes back several times); the rest reach known leads.
                visitor_id: Some(if k.is_multiple_of(2) {
                    format!("anon{}", (k / 2 * 7919) % visitors)
                } else {
                    format!("v{}", (k * 7919) % visitors)
                }),
                lead_id: None,
                url: Some(format!("https://shop.example.com/p/{}", k % 500)),
                at: Some(now - (k as i64 % 30) * 86_400_000),
                age: None,
                properties: Default::default(),
                id: with_ids.then(|| format!("e{k}")),
            }
        })
        .collect()
}

/// Event ingest over HTTP: `events` events posted to `/api/v1/events` in batches of `batch` by
/// `clients` concurrent clients (half anonymous, half reaching one of `leads` leads, each of
/// which is rescored in the same transaction), each with an id of its own when `with_ids`; then
/// the server time of single events reaching a
/// known lead's score.
pub async fn events(
    leads: usize,
    events: usize,
    batch: usize,
    clients: usize,
    url: Option<String>,
    with_ids: bool,
) -> Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use voronka_core::{Scope, ScopeSet};
    let dir = tempfile::tempdir()?;
    let url = url.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("events.db").display()));
    let app = App::open(&url, Settings::default()).await?;
    let have = app.store().count_all_leads().await? as usize;
    if have < leads {
        let started = Instant::now();
        seed_leads(&app, leads - have)
            .await
            .context("seeding leads")?;
        println!(
            "seeded {} leads in {:.1} s",
            leads - have,
            started.elapsed().as_secs_f64()
        );
        app.store().optimize().await?;
    }
    let (_, token) = app
        .create_token("bench", ScopeSet::new(vec![Scope::EventsWrite]), None, None)
        .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = voronka_server::AppState::new(
        app.clone(),
        voronka_server::ServerConfig {
            max_body_bytes: 4 * 1024 * 1024,
            public_url: format!("http://{addr}"),
            ..Default::default()
        },
    );
    tokio::spawn(voronka_server::serve(listener, state));
    // As in `voronka serve`: the worker rescoring the leads bulk uploads queue.
    // VORONKA_BENCH_DEFER_RESCORE=1: the worker starts only after the upload, so that the
    // ingest and the rescoring are timed apart.
    let defer = std::env::var_os("VORONKA_BENCH_DEFER_RESCORE").is_some();
    let mut rescorer = (!defer).then(|| app.spawn_rescorer());
    let endpoint = format!("http://{addr}/api/v1/events");
    let http = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, endpoint, token, next) =
            (http.clone(), endpoint.clone(), token.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let from = next.fetch_add(batch, Ordering::Relaxed);
                if from >= events {
                    return Ok::<(), anyhow::Error>(());
                }
                let n = batch.min(events - from);
                let body = serde_json::json!({ "events": events_for(leads, n, from, with_ids) });
                let r = http
                    .post(&endpoint)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await?;
                let status = r.status();
                anyhow::ensure!(status.is_success(), "status {status}: {}", r.text().await?);
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    let backlog = app.store().rescore_backlog().await?;
    println!(
        "HTTP ingest: {events} events in batches of {batch} from {clients} clients in {secs:.1} s = {:.0} events/s ({backlog} leads still queued for rescoring)",
        events as f64 / secs
    );
    if defer {
        let t = Instant::now();
        let n = app.drain_rescore_queue().await?;
        println!(
            "rescoring the {n} queued leads afterwards: {:.1} s",
            t.elapsed().as_secs_f64()
        );
        rescorer = Some(app.spawn_rescorer());
    }
    while app.store().rescore_waiting().await? {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let all = started.elapsed().as_secs_f64();
    println!(
        "every score current {all:.1} s after the first batch: {:.0} events/s stored and scored",
        events as f64 / all
    );
    if let Some(r) = rescorer {
        r.abort();
    }
    // Single events twice: at once, while the log of the upload and its rescoring is still
    // being copied into the database file, and again once it is (as the job runner's
    // checkpoint every minute leaves it).
    let (p50, p99) = single_events(&app, leads, 0).await?;
    println!(
        "one event to its lead's new score, right after the upload: p50 {p50:.2} ms, p99 {p99:.2} ms"
    );
    app.store().checkpoint_log().await?;
    let (p50, p99) = single_events(&app, leads, 1000).await?;
    println!(
        "one event to its lead's new score, the log checkpointed: p50 {p50:.2} ms, p99 {p99:.2} ms"
    );
    Ok(())
}

/// The server time of 1,000 single events, one after another, each reaching a known lead's
/// score: (p50, p99) in ms.
async fn single_events(app: &App, leads: usize, offset: usize) -> Result<(f64, f64)> {
    let mut lat = Vec::with_capacity(1000);
    for i in offset..offset + 1000 {
        let e = EventIn {
            name: "view_pricing".into(),
            visitor_id: Some(format!("v{}", i * 13 % leads)),
            lead_id: None,
            url: None,
            at: None,
            age: None,
            properties: Default::default(),
            id: None,
        };
        let t = Instant::now();
        let done = app.ingest_events("bench", vec![e]).await?;
        lat.push(t.elapsed().as_micros() as u64);
        anyhow::ensure!(done.leads.len() == 1, "the event did not reach its lead");
    }
    lat.sort_unstable();
    Ok((super::pct(&lat, 0.50), super::pct(&lat, 0.99)))
}

/// A full rescoring of `leads` leads, `events_per_lead` events each on a tenth of them.
pub async fn rescore(leads: usize, events: Option<usize>, url: Option<String>) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let url =
        url.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("rescore.db").display()));
    let app = App::open(&url, Settings::default()).await?;
    let have = app.store().count_all_leads().await? as usize;
    if have < leads {
        let started = Instant::now();
        seed_leads(&app, leads - have)
            .await
            .context("seeding leads")?;
        println!(
            "seeded {} leads in {:.1} s",
            leads - have,
            started.elapsed().as_secs_f64()
        );
        let started = Instant::now();
        let n = events.unwrap_or(leads / 10 * 5);
        let mut sent = 0;
        while sent < n {
            if events.is_some() {
                // Straight into the store, 20,000 per transaction: the layout of a real event
                // table (each lead's events spread over the whole table) without waiting for
                // the ingest path to build it.
                let k = 20_000.min(n - sent);
                let received = voronka_app::now_ms();
                let rows: Vec<voronka_store::NewEvent> = events_for(leads, k, sent, false)
                    .into_iter()
                    .map(|e| voronka_store::NewEvent {
                        visitor_id: e.visitor_id,
                        lead_id: None,
                        source: "bench".into(),
                        name: e.name,
                        url: e.url,
                        properties: e.properties,
                        at: e.at.unwrap_or(received),
                        received_at: received,
                        key: e.id,
                    })
                    .collect();
                let mut tx = app.store().begin().await?;
                tx.insert_events(&rows).await?;
                tx.commit().await?;
                sent += k;
            } else {
                let k = 1000.min(n - sent);
                app.ingest_events("bench", events_for(leads, k, sent, false))
                    .await?;
                sent += k;
            }
        }
        println!("and {n} events in {:.1} s", started.elapsed().as_secs_f64());
    }
    app.store().optimize().await?;
    // A rules change that moves every lead's score: each profile rule worth a point more than
    // in the rules in force, so that the first run writes every lead, as after an edit.
    app.refresh_scoring_rules().await?;
    let mut rules = app.scorer().rules().clone();
    for r in &mut rules.profile {
        r.points += 1;
    }
    app.store()
        .save_scoring_rules(&rules.to_json(), "bench", voronka_app::now_ms())
        .await?;
    let started = Instant::now();
    let run = app.rescore_all("bench", |_, _| {}).await?;
    let first = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let again = app.rescore_all("bench", |_, _| {}).await?;
    let second = started.elapsed().as_secs_f64();
    println!(
        "full rescore of {} leads after a rules change: {first:.1} s ({} changed); again with nothing to write: {second:.1} s ({} changed); peak RSS {:.0} MB",
        run.done,
        run.changed,
        again.changed,
        super::peak_rss_mb()
    );
    Ok(())
}

/// The intake's dedup decision at scale: `contacts` contacts (and as many leads), then
/// `probes` submissions — half the same person again (phone or email of an existing contact,
/// the name in another script or order), half new people — each timed from the candidate
/// lookup (one query on the blocking keys, inside a transaction as at intake) through the
/// matcher's decision and the possible-duplicate check.
pub async fn dedup_decision(contacts: usize, probes: usize, url: Option<String>) -> Result<()> {
    use voronka_core::intake::{dedup, DedupPolicy, MatchDecision};
    let dir = tempfile::tempdir()?;
    let url = url.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("dedup.db").display()));
    let app = App::open(&url, Settings::default()).await?;
    let have = app.store().count_all_leads().await? as usize;
    if have < contacts {
        let started = Instant::now();
        seed_leads(&app, contacts - have).await.context("seeding")?;
        println!(
            "seeded {} contacts in {:.1} s",
            contacts - have,
            started.elapsed().as_secs_f64()
        );
    }
    app.store().optimize().await?;
    let policy = DedupPolicy::default();
    let now = voronka_app::now_ms();
    let mut lat = Vec::with_capacity(probes);
    let (mut same, mut new) = (0, 0);
    for p in 0..probes {
        let i = (p * 7919) % contacts;
        let s = if p.is_multiple_of(2) {
            // An existing person again: their phone or their email, the name transliterated.
            let s = Submission::new(Channel::WebForm, now).with("name", format!("Klient {i}"));
            if p.is_multiple_of(4) {
                s.with("phone", format!("+7916{:07}", i % 10_000_000))
            } else {
                s.with("email", format!("lead{i}@example.com"))
            }
        } else {
            Submission::new(Channel::WebForm, now)
                .with("name", format!("Новый Человек {p}"))
                .with("phone", format!("+7903{:07}", p % 10_000_000))
                .with("email", format!("new{p}@example.org"))
        };
        let n = normalize(&s, &NormalizeSettings::default());
        let t = Instant::now();
        let mut tx = app.store().begin().await?;
        let candidates = tx.candidates_many(&[&n]).await?;
        let (decision, _) = dedup::decide(&n, &candidates, &policy, now);
        if decision == MatchDecision::NewContact {
            let _ = dedup::possible_duplicates(&n, &candidates, &policy.matcher);
        }
        lat.push(t.elapsed().as_micros() as u64);
        drop(tx);
        match decision {
            MatchDecision::NewContact => new += 1,
            _ => same += 1,
        }
    }
    lat.sort_unstable();
    println!(
        "dedup decision at {contacts} contacts, {probes} probes ({same} matched an existing contact, {new} new): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        super::pct(&lat, 0.50),
        super::pct(&lat, 0.99),
        super::pct(&lat, 1.0)
    );
    Ok(())
}

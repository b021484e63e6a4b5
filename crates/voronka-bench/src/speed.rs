//! Speed-to-lead benchmarks: the routing decision and the SLA timer queue.

use anyhow::Result;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use voronka_app::{Actor, App, CaptureRequest, Settings};
use voronka_core::intake::Submission;
use voronka_core::routing::{
    Conditions, Fallback, LeadFacts, Method, Person, Router, RoutingRules, Rule, WorkingHours,
};
use voronka_core::{Channel, Role, Temperature};

/// 50 rules × 200 salespeople: ns per decision over a mix of leads, most of which match one
/// of the last rules (the slow path: every earlier rule is checked and fails).
pub fn routing(rules: usize, people: usize, decisions: usize) -> Result<()> {
    let cities = ["Москва", "Казань", "Новосибирск", "Екатеринбург", "Самара"];
    let products = ["Диван", "Кресло", "Кухня", "Шкаф"];
    let teams = 10;
    let ps: Vec<Person> = (0..people)
        .map(|i| {
            let mut p = Person::new(
                i as i64 + 1,
                &format!("Продавец {i}"),
                &format!("p{i}@example.com"),
            );
            p.team = Some(format!("Team {}", i % teams));
            p.profile.weight = 1 + (i % 3) as u32;
            p.profile.daily_cap = Some(1_000_000);
            p.profile.monthly_cap = Some(10_000_000);
            p.profile.timezone = ["Europe/Moscow", "Asia/Novosibirsk", "UTC"][i % 3].into();
            p.profile.hours = Some(WorkingHours::parse("mon-sun 00:00-24:00").expect("hours"));
            p.open_load = (i * 7 % 23) as u32;
            p
        })
        .collect();
    let rs: Vec<Rule> = (0..rules)
        .map(|k| Rule {
            name: format!("Rule {k}"),
            enabled: true,
            when: Conditions {
                cities: vec![cities[k % cities.len()].into()],
                products: vec![products[(k / cities.len()) % products.len()].into()],
                temperatures: if k % 2 == 0 {
                    vec![Temperature::Hot, Temperature::Warm]
                } else {
                    vec![]
                },
                score_min: Some((k % 7) as i64 * 5),
                sources: if k % 3 == 0 {
                    vec!["yandex".into(), "google".into()]
                } else {
                    vec![]
                },
                ..Conditions::default()
            },
            team: Some(format!("Team {}", k % teams)),
            people: vec![],
            method: match k % 3 {
                0 => Method::RoundRobin,
                1 => Method::LeastLoad,
                _ => Method::StickyOwner,
            },
        })
        .collect();
    let mut router = Router::new(
        RoutingRules {
            rules: rs,
            fallback: Fallback::default(),
        },
        ps,
        HashMap::new(),
    );
    let now = 1_795_000_000_000;
    let facts: Vec<LeadFacts> = (0..1000)
        .map(|i| LeadFacts {
            city: Some(cities[i % cities.len()]),
            product: Some(products[(i / 7) % products.len()]),
            source: Some(if i % 2 == 0 { "yandex" } else { "vk" }),
            temperature: [Temperature::Hot, Temperature::Warm, Temperature::Cold][i % 3],
            score: (i % 50) as i64,
            previous_owner: (i % 5 == 0).then_some((i % people) as i64 + 1),
            ..LeadFacts::default()
        })
        .collect();
    // Warm up, then measure.
    for f in facts.iter().take(100) {
        std::hint::black_box(router.decide(f, now));
    }
    let t = Instant::now();
    let mut assigned = 0usize;
    for i in 0..decisions {
        let a = router.decide(&facts[i % facts.len()], now);
        if a.owner_id.is_some() {
            assigned += 1;
        }
        router.record(&a);
    }
    let ns = t.elapsed().as_nanos() as f64 / decisions as f64;
    println!(
        "routing: {rules} rules x {people} salespeople, {decisions} decisions: {ns:.0} ns per decision ({:.1} µs), {assigned} assigned",
        ns / 1000.0
    );
    Ok(())
}

/// SLA timers: `pending` timers in the jobs table, `due` of them falling due over `window`
/// seconds; measures the claim query with all of them pending and each due timer's firing lag.
pub async fn sla_timers(
    pending: usize,
    due: usize,
    window: u64,
    url: Option<String>,
) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let url = url.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("sla.db").display()));
    let app = App::open(&url, Settings::default()).await?;
    let admin = Actor::system("bench");
    app.add_user(
        "seller@example.com",
        "Продавец",
        "password-1",
        Role::Salesperson,
    )
    .await?;
    // Every minute counts, targets 10 s: captured leads' timers fall due before the window starts.
    let sla = App::parse_sla_settings(
        "[default]\nhot = \"10s\"\nwarm = \"10s\"\ncold = \"10s\"\nhours = \"mon-sun 00:00-24:00\"\nsteps = [{ action = \"notify_owner\" }]\n",
        true,
    )?;
    app.set_sla_settings(&admin, sla).await?;
    // Leads for the timers that fall due.
    let t = Instant::now();
    let mut handles = Vec::new();
    for i in 0..due {
        let app = app.clone();
        handles.push(tokio::spawn(async move {
            let s = Submission::new(Channel::Api, voronka_app::now_ms())
                .with("name", format!("Клиент {i}"))
                .with("phone", format!("+7916{:07}", 2_345_678 + i * 13))
                .with("temperature", "hot");
            app.capture(CaptureRequest {
                submission: s,
                form: None,
                idempotency_key: None,
                client: None,
            })
            .await
        }));
    }
    let mut lead_ids = Vec::with_capacity(due);
    for h in handles {
        if let Some(id) = h.await??.lead_id {
            lead_ids.push(id);
        }
    }
    println!(
        "sla-timers: {} leads captured in {:.1} s",
        lead_ids.len(),
        t.elapsed().as_secs_f64()
    );
    // Move the captured timers to fall due evenly over the window, and add the rest as
    // far-future timers.
    let now = voronka_app::now_ms();
    let start = now + 15_000;
    let mut tx = app.store().begin().await?;
    let far: Vec<(String, String, i64)> = (0..pending.saturating_sub(due))
        .map(|i| {
            (
                "sla_step".to_string(),
                format!(
                    "{{\"lead_id\":{},\"step\":{},\"due\":0}}",
                    lead_ids[i % lead_ids.len().max(1)],
                    1000 + i
                ),
                now + 86_400_000 + i as i64 * 1000,
            )
        })
        .collect();
    tx.enqueue_jobs(&far, now).await?;
    tx.commit().await?;
    let moved = app
        .store()
        .reschedule_jobs_for_bench("sla_step", start, window as i64 * 1000)
        .await?;
    let total = app.store().pending_jobs().await?;
    // Claim query with everything pending and nothing due yet.
    let mut times = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let got = app
            .store()
            .claim_jobs("probe", voronka_app::now_ms().min(start - 1), 60_000, 100)
            .await?;
        times.push(t.elapsed().as_micros() as u64);
        assert!(got.is_empty());
    }
    times.sort_unstable();
    println!(
        "sla-timers: {total} pending ({moved} falling due over {window} s): claim query p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        times[times.len() / 2] as f64 / 1000.0,
        times[times.len() * 99 / 100] as f64 / 1000.0,
        times[times.len() - 1] as f64 / 1000.0
    );
    // Fire: one worker as `voronka serve` runs it (polling every 2 s when idle).
    let runner = app.spawn_job_runner("bench".into(), Duration::from_secs(2));
    let deadline = Instant::now() + Duration::from_secs(window + 120);
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let fired = app.store().count_sla_events().await?;
        if fired as usize >= moved as usize || Instant::now() > deadline {
            break;
        }
    }
    runner.abort();
    let lags = app.store().job_lags_for_bench("sla_step").await?;
    let mut lags: Vec<i64> = lags;
    lags.sort_unstable();
    let p = |q: f64| {
        lags.get(((lags.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(-1)
    };
    println!(
        "sla-timers: {} fired of {moved}; lag from due to done p50 {} ms, p99 {} ms, max {} ms; sla events {}",
        lags.len(),
        p(0.5),
        p(0.99),
        p(1.0),
        app.store().count_sla_events().await?
    );
    Ok(())
}

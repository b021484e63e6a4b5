//! Operational metrics for Prometheus: `GET /metrics` (a token with `metrics:read`, or an
//! administrator) answers the text exposition format. Counters and histograms are what this
//! process recorded since it started (captures, intake batches, events, jobs, HTTP requests);
//! the gauges of waiting work are read from the database at each scrape, so every process
//! sharing one PostgreSQL reports the same ones.

use crate::extract::ApiActor;
use crate::{ApiError, AppState};
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::collections::HashSet;
use std::sync::{OnceLock, RwLock};
use std::time::{Duration, Instant};
use voronka_app::AppError;

/// Histogram buckets of durations, in seconds: from a quick page to a slow import batch.
const SECONDS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Histogram buckets of the intake's batch sizes (one submission up to the largest batch).
const BATCH_SIZES: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 64.0, 256.0, 1024.0];

/// How often the recorder folds recorded histogram samples into its buckets between scrapes.
const UPKEEP: Duration = Duration::from_secs(5);

/// The process's Prometheus recorder, installed on first use; `None` when another recorder
/// was installed first (the metrics then go there).
pub(crate) fn recorder() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("voronka_intake_batch_size".into()),
                        &BATCH_SIZES,
                    )
                });
            let recorder = match builder {
                Ok(b) => b.build_recorder(),
                Err(e) => {
                    tracing::warn!(error = %e, "metrics are not recorded");
                    return None;
                }
            };
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder is installed; /metrics stays empty");
                return None;
            }
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || loop {
                    std::thread::sleep(UPKEEP);
                    upkeep.run_upkeep();
                })
                .ok()?;
            voronka_app::telemetry::describe();
            describe();
            Some(handle)
        })
        .clone()
}

/// The help text of the metrics this crate records.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "voronka_http_requests_total",
        "HTTP requests, by method, route pattern and status"
    );
    describe_histogram!(
        "voronka_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by method and route pattern"
    );
    describe_gauge!("voronka_leads", "Leads stored (merged ones not counted)");
    describe_gauge!("voronka_jobs_pending", "Background jobs not done yet");
    describe_gauge!(
        "voronka_rescore_queue_leads",
        "Leads waiting for the rescoring worker"
    );
    describe_gauge!(
        "voronka_rescore_queue_oldest_wait_seconds",
        Unit::Seconds,
        "How long the lead that has waited longest for rescoring has waited"
    );
    describe_gauge!(
        "voronka_search_backlog_leads",
        "Leads the search index has not taken in yet"
    );
    describe_gauge!("voronka_build_info", "The version and the database backend");
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Response, ApiError> {
    let status = s.app.metrics_status(&actor).await?;
    let Some(handle) = &s.metrics else {
        return Err(AppError::Unavailable.into());
    };
    metrics::gauge!("voronka_leads").set(status.leads as f64);
    metrics::gauge!("voronka_jobs_pending").set(status.jobs_pending as f64);
    metrics::gauge!("voronka_rescore_queue_leads").set(status.rescore_queue.leads as f64);
    metrics::gauge!("voronka_rescore_queue_oldest_wait_seconds")
        .set(status.rescore_queue.oldest_wait_ms.unwrap_or(0) as f64 / 1000.0);
    metrics::gauge!("voronka_search_backlog_leads").set(status.search_backlog as f64);
    metrics::gauge!("voronka_build_info", "version" => status.version, "backend" => status.backend)
        .set(1.0);
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle.render(),
    )
        .into_response())
}

/// Counts every HTTP request by method, route (the route's pattern, not the path asked for,
/// so that ids do not multiply the series) and status, and times it.
pub(crate) async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    // Any token is a method to HTTP; only the standard ones are named.
    let method = match req.method().as_str() {
        m @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => label(m),
        _ => "other",
    };
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| label(p.as_str()));
    let response = next.run(req).await;
    let status = label(response.status().as_str());
    metrics::histogram!(
        "voronka_http_request_duration_seconds",
        "method" => method,
        "route" => route
    )
    .record(started.elapsed().as_secs_f64());
    metrics::counter!(
        "voronka_http_requests_total",
        "method" => method,
        "route" => route,
        "status" => status
    )
    .increment(1);
    response
}

/// A label value kept for the life of the process, so that recording copies no text. Only
/// bounded sets come here: the router's route patterns, the standard methods and the status
/// codes (a few hundred values at most).
fn label(value: &str) -> &'static str {
    static KNOWN: OnceLock<RwLock<HashSet<&'static str>>> = OnceLock::new();
    let known = KNOWN.get_or_init(Default::default);
    if let Some(v) = known.read().unwrap_or_else(|e| e.into_inner()).get(value) {
        return v;
    }
    let mut known = known.write().unwrap_or_else(|e| e.into_inner());
    if let Some(v) = known.get(value) {
        return v;
    }
    let v: &'static str = Box::leak(value.to_string().into_boxed_str());
    known.insert(v);
    v
}

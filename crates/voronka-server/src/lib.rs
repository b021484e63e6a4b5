//! Voronka's HTTP face: the REST API (`/api/v1`), the web UI, and the public capture endpoint.
//! Handlers are thin: they parse, call `voronka_app`, and render.

mod api;
mod channels_api;
mod error;
mod export;
mod extract;
mod openapi;
mod public;
mod scoring_api;
mod speed_api;
mod telemetry;
mod web;
mod widget;

pub use error::ApiError;

use axum::Router;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use voronka_app::App;

/// Text made safe to put in HTML, between tags or in a quoted attribute (`& < > " '` become
/// entities): the one escaper of the pages, the plain forms and the thank-you page that are written
/// without a template, the same as the templates' own.
pub(crate) fn escape_html(text: &(impl std::fmt::Display + ?Sized)) -> String {
    askama::filters::escape(text, askama::filters::Html)
        .map(|s| s.to_string())
        .unwrap_or_default()
}

/// Settings of the HTTP face.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Public captures per second allowed from one IP (with a burst of twice as many).
    pub capture_per_ip_per_sec: u32,
    /// Base URL printed in embed codes, e.g. `http://127.0.0.1:8080`.
    pub public_url: String,
    /// Cookies get the Secure flag when served over HTTPS.
    pub secure_cookies: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body_bytes: 256 * 1024,
            capture_per_ip_per_sec: 10,
            public_url: "http://127.0.0.1:8080".into(),
            secure_cookies: false,
        }
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub config: Arc<ServerConfig>,
    pub(crate) capture_limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    /// The process's metrics, for `/metrics`; `None` when another recorder holds them.
    pub(crate) metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The CSV imports started from the web UI, for their pages.
    pub(crate) imports: Arc<web::import::Imports>,
}

impl AppState {
    pub fn new(app: App, config: ServerConfig) -> AppState {
        let per_sec =
            NonZeroU32::new(config.capture_per_ip_per_sec.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.capture_per_ip_per_sec.max(1).saturating_mul(2))
            .unwrap_or(NonZeroU32::MIN);
        AppState {
            app,
            config: Arc::new(config),
            capture_limiter: Arc::new(RateLimiter::keyed(
                Quota::per_second(per_sec).allow_burst(burst),
            )),
            metrics: telemetry::recorder(),
            imports: Default::default(),
        }
    }
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let max = state.config.max_body_bytes;
    Router::new()
        .merge(public::routes())
        .merge(widget::routes())
        .nest("/api/v1", api::routes())
        .merge(speed_api::public_routes())
        .merge(scoring_api::public_routes())
        .merge(openapi::routes())
        .merge(web::routes())
        .merge(telemetry::routes())
        // Any other address: the web UI's own "not found" page (the API answers its own JSON).
        .fallback(web::not_found_page)
        .layer(axum::middleware::from_fn(telemetry::track))
        .layer(axum::extract::DefaultBodyLimit::max(max))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until the listener fails; prints nothing (the binary prints the URL).
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}

#[cfg(test)]
mod tests {
    /// Markup, quotes of either kind and ampersands become entities; any script stays as written.
    #[test]
    fn escaped_text_cannot_open_a_tag_or_leave_an_attribute() {
        let hostile = r#"Пётр "<script>alert('x')</script>" & O'Brien"#;
        let out = super::escape_html(hostile);
        for raw in ['<', '>', '"', '\''] {
            assert!(!out.contains(raw), "{raw} left raw in {out}");
        }
        assert!(out.starts_with("Пётр "), "{out}");
        assert!(out.contains("&#38; O&#39;Brien"), "{out}");
        assert_eq!(super::escape_html("Анна Smith-Jones"), "Анна Smith-Jones");
    }
}

//! Leads exported over HTTP: the file is streamed as the leads are read, a page at a time, so
//! neither side holds the whole of it.

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use voronka_app::{ExportFormat, LeadExport};

/// The response carrying an export: a file to save (`leads-YYYY-MM-DD.csv`), never cached.
pub(crate) fn export_response(export: LeadExport, format: ExportFormat) -> Response {
    let chunks = futures::stream::try_unfold(export, |mut export| async move {
        match export.next_chunk().await {
            Ok(chunk) => Ok(chunk.map(|c| (Bytes::from(c), export))),
            Err(e) => {
                // The status is sent already; the client sees the file cut short.
                tracing::warn!(error = %e, rows = export.rows(), "export stopped");
                Err(e)
            }
        }
    });
    let day = chrono::Utc::now().format("%Y-%m-%d");
    let ext = match format {
        ExportFormat::Csv => "csv",
        ExportFormat::Jsonl => "jsonl",
    };
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"leads-{day}.{ext}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(chunks),
    )
        .into_response()
}

/// A CSV file to download under `name` (personal data: never kept by a cache).
pub(crate) fn csv_download(name: &str, body: impl Into<Body>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body.into(),
    )
        .into_response()
}

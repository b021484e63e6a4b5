//! What the server's test files share.

use voronka_app::App;
use voronka_server::{AppState, ServerConfig};

/// Serves the app over real HTTP on 127.0.0.1:0 with this configuration (its public URL set to
/// where it listens) and answers its base URL.
pub async fn serve(app: &App, config: ServerConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let state = AppState::new(
        app.clone(),
        ServerConfig {
            public_url: base.clone(),
            ..config
        },
    );
    tokio::spawn(voronka_server::serve(listener, state));
    base
}

//! Test databases: a temporary SQLite file, and a fresh PostgreSQL database dropped afterwards.

#![allow(dead_code)]

use sqlx::Connection;

pub const PG_ADMIN_URL_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn pg_admin_url() -> String {
    std::env::var("VORONKA_TEST_PG").unwrap_or_else(|_| PG_ADMIN_URL_DEFAULT.to_string())
}

/// A database that removes itself when dropped.
pub struct TestDb {
    pub url: String,
    pub name: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg_db: Option<String>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        TestDb {
            url,
            name: "sqlite",
            _dir: Some(dir),
            pg_db: None,
        }
    }

    pub async fn postgres() -> TestDb {
        let admin = pg_admin_url();
        let db = format!("voronka_t_{}_{}", std::process::id(), rand_suffix());
        let mut c = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL is required for the test suite ({admin}): {e}; scripts/test starts it"));
        sqlx::query(&format!("CREATE DATABASE {db}"))
            .execute(&mut c)
            .await
            .expect("create database");
        let base = admin
            .rsplit_once('/')
            .map(|(b, _)| b.to_string())
            .unwrap_or(admin.clone());
        TestDb {
            url: format!("{base}/{db}"),
            name: "postgres",
            _dir: None,
            pg_db: Some(db),
        }
    }

    pub async fn both() -> Vec<TestDb> {
        vec![TestDb::sqlite().await, TestDb::postgres().await]
    }
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    format!(
        "{n}_{}",
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(db) = self.pg_db.take() {
            let admin = pg_admin_url();
            // Dropped from a plain thread: the test's runtime may already be gone.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let mut c = sqlx::PgConnection::connect(&admin).await.ok()?;
                    sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                        .execute(&mut c)
                        .await
                        .ok()
                })
            })
            .join();
        }
    }
}

const FIRST_NAMES: [&str; 10] = [
    "Иван",
    "Ольга",
    "Пётр",
    "Мария",
    "Сергей",
    "Анна",
    "Дмитрий",
    "Елена",
    "Павел",
    "Ирина",
];
const LAST_NAMES: [&str; 10] = [
    "Петров",
    "Смирнова",
    "Иванов",
    "Кузнецова",
    "Попов",
    "Соколова",
    "Лебедев",
    "Козлова",
    "Новиков",
    "Морозова",
];

/// The `i`-th of 100 distinct Russian names (first and last name).
pub fn person_name(i: usize) -> String {
    format!("{} {}", FIRST_NAMES[i % 10], LAST_NAMES[(i / 10) % 10])
}

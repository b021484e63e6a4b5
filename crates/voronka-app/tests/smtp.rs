//! A real SMTP server for the tests: Python's aiosmtpd (`scripts/test` installs it), started
//! on a free port by each test; every message it receives is written as JSON and read back.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One received message, decoded by Python's `email` package.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Mail {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub from: String,
    pub to: String,
    pub subject: String,
    /// The Subject header as sent (encoded words for anything beyond ASCII).
    pub raw_subject: String,
    /// The To header as sent.
    pub raw_to: String,
    pub content_type: String,
    pub body: String,
    /// The login the client authenticated with (the server accepts robot / s3cret), if any.
    pub auth_user: Option<String>,
}

pub struct SmtpSink {
    pub port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl SmtpSink {
    /// Settings that send to this server, as Воронка <crm@example.com>, without a login.
    pub fn settings(&self) -> voronka_app::SmtpSettings {
        voronka_app::SmtpSettings {
            host: "127.0.0.1".into(),
            port: self.port,
            from: "Воронка <crm@example.com>".into(),
            username: None,
            password: None,
            security: voronka_app::SmtpSecurity::None,
        }
    }

    pub fn start() -> SmtpSink {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../voronka-app/tests/fixtures/smtp_sink.py"
        );
        let mut child = Command::new("python3")
            .arg(script)
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the SMTP server of the tests");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the SMTP server prints its port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                panic!("the SMTP server did not start ({line:?}); scripts/test installs aiosmtpd")
            });
        SmtpSink { port, child, dir }
    }

    /// Messages received so far, in order.
    pub fn messages(&self) -> Vec<Mail> {
        let mut names: Vec<_> = std::fs::read_dir(self.dir.path())
            .expect("read dir")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    /// Waits (up to 10 s) until at least `n` messages have arrived.
    pub fn wait_for(&self, n: usize) -> Vec<Mail> {
        let start = Instant::now();
        loop {
            let m = self.messages();
            if m.len() >= n || start.elapsed() > Duration::from_secs(10) {
                return m;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

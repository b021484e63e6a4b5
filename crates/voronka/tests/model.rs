//! `voronka model train` and `voronka model report` against a temporary SQLite file.

use std::process::{Command, Stdio};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn vk(db: &str, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_voronka"))
        .env_remove("VORONKA_DATABASE_URL")
        .env_remove("VORONKA_LOG")
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .arg("--database-url")
        .arg(db)
        .args(args)
        .output()
        .expect("run voronka");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8"),
    }
}

#[test]
fn train_and_report_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());

    // An empty database: one clear line on stderr, exit code 1.
    let r = vk(&db, &["model", "train"]);
    assert_eq!(r.code, 1, "{} {}", r.stdout, r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr
            .starts_with("error: too few closed leads to learn from: 0 closed"),
        "{}",
        r.stderr
    );
    let r = vk(&db, &["model", "report"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("no model has been trained yet"),
        "{}",
        r.stderr
    );

    // The demo's closed leads depend on their source and product; the demo trains the first
    // model as it loads, and the command the second.
    let r = vk(&db, &["demo", "--seed", "3", "--leads", "800"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = vk(&db, &["model", "report"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("model 1, trained "), "{}", r.stdout);
    let r = vk(&db, &["model", "train"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    let size: usize = lines[0]
        .strip_prefix("trained model 2 on ")
        .and_then(|s| s.split_once(' '))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", lines[0]));
    assert!(size >= 100, "{}", lines[0]);
    let auc = |tag: &str| -> f64 {
        let at = lines[1].find(tag).unwrap_or_else(|| panic!("{}", lines[1])) + tag.len();
        lines[1][at..]
            .split([',', ' '])
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{}", lines[1]))
    };
    let (ours, baseline) = (auc("ours "), auc("baseline "));
    assert!((0.0..=1.0).contains(&ours) && (0.0..=1.0).contains(&baseline));
    assert!(
        ours > 0.5,
        "the demo's outcomes depend on features: {}",
        lines[1]
    );
    assert!(lines[2].starts_with("scored ") && lines[2].ends_with(" open leads"));

    let r = vk(&db, &["model", "report"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = r.stdout;
    assert!(out.starts_with("model 2, trained "), "{out}");
    assert!(out.contains(&format!("on {size} closed leads")), "{out}");
    assert!(
        out.contains(&format!(
            "ours (calibrated logistic regression): AUC {ours:.3}"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "baseline (naive Bayes over field frequencies): AUC {baseline:.3}"
        )),
        "{out}"
    );
    assert_eq!(
        out.matches("  decile  leads  predicted  observed").count(),
        2,
        "{out}"
    );
    // The top features: one per line, a signed weight and the feature. Which features lead
    // depends on the demo's dates (its six months end today), so no name is asserted.
    let top: Vec<&str> = out
        .split_once("top features of ours")
        .unwrap_or_else(|| panic!("{out}"))
        .1
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("   "))
        .collect();
    assert!(!top.is_empty(), "{out}");
    for line in top {
        let (weight, feature) = line.trim_start().split_once("  ").unwrap_or(("", ""));
        assert!(
            weight.starts_with(['+', '-']) && weight[1..].parse::<f64>().is_ok(),
            "{line}"
        );
        assert!(!feature.trim().is_empty(), "{line}");
    }
}

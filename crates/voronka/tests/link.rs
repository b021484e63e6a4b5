//! `voronka link`: record linkage of CSV files, checked for quality against the FEBRL4 truth,
//! plus usage and runtime errors and a small dedupe across scripts.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn data(name: &str) -> PathBuf {
    root().join("../shared/data/linkage").join(name)
}

fn voronka(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_voronka"))
        .env_remove("VORONKA_DATABASE_URL")
        .env_remove("VORONKA_LOG")
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .args(args)
        .output()
        .expect("run voronka");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8"),
        String::from_utf8(out.stderr).expect("UTF-8"),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn read_pairs(path: &Path) -> (Vec<String>, HashSet<(String, String)>) {
    let mut r = csv::Reader::from_path(path).expect("pairs file");
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let pairs = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            let (a, b) = (rec[0].to_string(), rec[1].to_string());
            if a <= b {
                (a, b)
            } else {
                (b, a)
            }
        })
        .collect();
    (header, pairs)
}

#[test]
fn febrl4_precision_and_recall() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pairs.csv");
    let truth = data("febrl4_true_pairs.csv");
    let (code, stdout, stderr) = voronka(&[
        "link",
        s(&data("febrl4a.csv")),
        s(&data("febrl4b.csv")),
        "--config",
        s(&root().join("examples/linkage/febrl4.toml")),
        "--out",
        s(&out),
        "--truth",
        s(&truth),
    ]);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("records 5000 + 5000"), "{stdout}");
    assert!(stdout.contains("precision "), "{stdout}");

    let (header, predicted) = read_pairs(&out);
    assert_eq!(&header[..3], ["id_a", "id_b", "probability"]);
    assert!(header.iter().any(|h| h == "given_name"), "{header:?}");
    let (_, expected) = read_pairs(&truth);
    assert_eq!(expected.len(), 5000);
    let tp = predicted.intersection(&expected).count() as f64;
    let precision = tp / predicted.len() as f64;
    let recall = tp / expected.len() as f64;
    assert!(precision >= 0.999, "precision {precision}");
    assert!(recall >= 0.995, "recall {recall}");
}

#[test]
fn dedupe_across_scripts_with_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("people.csv");
    std::fs::write(
        &input,
        "id,name,phone,city\n\
         1,Иван Петров,+79161234567,Москва\n\
         2,Ivan Petrov,+7 916 123-45-67,Moskva\n\
         3,Юлия Щербакова,+79031112233,Казань\n\
         4,Yulia Shcherbakova,+79031112233,\n\
         5,Claire Dubois,+33612345678,Paris\n\
         6,Pieter Jansen,+31612345678,Utrecht\n",
    )
    .unwrap();
    let config = dir.path().join("link.toml");
    std::fs::write(
        &config,
        r#"
id = "id"
prior = 0.3
blocking = ["phone:digits", "name:translit"]
[[fields]]
name = "name"
comparator = "name"
m = [0.6, 0.3, 0.05, 0.03, 0.02]
u = [0.001, 0.001, 0.01, 0.05, 0.938]
[[fields]]
name = "phone"
comparator = "phone"
m = [0.9, 0.05, 0.05]
u = [0.0001, 0.001, 0.9989]
[[fields]]
name = "city"
comparator = "name"
m = [0.7, 0.2, 0.05, 0.03, 0.02]
u = [0.05, 0.01, 0.01, 0.03, 0.91]
"#,
    )
    .unwrap();
    let out = dir.path().join("pairs.csv");
    let (code, stdout, stderr) = voronka(&[
        "link",
        s(&input),
        "--config",
        s(&config),
        "--out",
        s(&out),
        "--threshold",
        "0.9",
    ]);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    let (header, pairs) = read_pairs(&out);
    assert_eq!(
        header,
        [
            "id_a",
            "id_b",
            "probability",
            "weight",
            "name",
            "phone",
            "city"
        ]
    );
    let expected: HashSet<(String, String)> = [("1", "2"), ("3", "4")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(pairs, expected, "{stdout}");
    assert!(
        stdout.contains("records 6,") && stdout.contains("4 clusters"),
        "{stdout}"
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains(",translit,"), "{text}");
}

#[test]
fn link_errors() {
    // Usage errors: exit 2.
    let (code, _, stderr) = voronka(&["link", "a.csv", "--out", "p.csv"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    let (code, _, stderr) = voronka(&[
        "link",
        "a.csv",
        "--config",
        "c.toml",
        "--out",
        "p.csv",
        "--threshold",
        "1.5",
    ]);
    assert_eq!(code, 2, "{stderr}");
    // Runtime errors: exit 1 and one line.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let (code, _, stderr) = voronka(&[
        "link",
        s(&data("fake_1000.csv")),
        "--config",
        s(&missing),
        "--out",
        s(&dir.path().join("p.csv")),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: cannot read"), "{stderr}");
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "blocking = [\"nope\"]\n[[fields]]\nname = \"nope\"\ncomparator = \"exact\"\n",
    )
    .unwrap();
    let (code, _, stderr) = voronka(&[
        "link",
        s(&data("fake_1000.csv")),
        "--config",
        s(&bad),
        "--out",
        s(&dir.path().join("p.csv")),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("unknown column \"nope\""), "{stderr}");
}

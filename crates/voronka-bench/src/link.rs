//! Record linkage benchmarks: the reference data sets, and a large generated dedupe.

use anyhow::{Context, Result};
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;
use voronka_core::linkage::{self, LinkConfig, Table};

/// CPU time of this process (user + system) in seconds, from /proc/self/stat.
fn cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(f64::NAN)
}

fn read_table(path: &Path, id: Option<&str>) -> Result<(Table, Vec<String>, Vec<String>)> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let headers: Vec<String> = r.headers()?.iter().map(|h| h.trim().to_string()).collect();
    let id_col = id.and_then(|n| headers.iter().position(|h| h == n));
    let mut table = Table::new(headers.clone());
    let mut ids = Vec::new();
    for rec in r.records() {
        let rec = rec?;
        let values: Vec<&str> = rec.iter().collect();
        ids.push(match id_col {
            Some(c) => values[c].trim().to_string(),
            None => (ids.len() + 1).to_string(),
        });
        table.push_row(&values)?;
    }
    Ok((table, ids, headers))
}

fn read_pairs(path: &Path) -> Result<Vec<(String, String)>> {
    let mut r =
        csv::Reader::from_path(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec?;
        out.push((rec[0].to_string(), rec[1].to_string()));
    }
    Ok(out)
}

fn config(path: &Path) -> Result<LinkConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(LinkConfig::from_toml(&text)?)
}

fn report(
    name: &str,
    linked: &linkage::Linked,
    ids_a: &[String],
    ids_b: &[String],
    truth: &[(String, String)],
    (secs, cpu): (f64, f64),
) {
    let predicted: Vec<(String, String)> = linked
        .pairs
        .iter()
        .map(|p| (ids_a[p.a as usize].clone(), ids_b[p.b as usize].clone()))
        .collect();
    let q = linkage::evaluate(&predicted, truth);
    if let Some(clusters) = &linked.clusters {
        let mut members: HashMap<u32, Vec<usize>> = HashMap::new();
        for (row, &c) in clusters.iter().enumerate() {
            members.entry(c).or_default().push(row);
        }
        let mut within = Vec::new();
        for rows in members.values() {
            for (i, &x) in rows.iter().enumerate() {
                for &y in &rows[i + 1..] {
                    within.push((ids_a[x].clone(), ids_a[y].clone()));
                }
            }
        }
        let c = linkage::evaluate(&within, truth);
        println!(
            "link: {name}: all pairs within the clusters: precision {:.4}, recall {:.4}, F1 {:.4}",
            c.precision, c.recall, c.f1
        );
    }
    if std::env::var_os("VORONKA_BENCH_SWEEP").is_some() {
        for t in [0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 0.9999] {
            let at: Vec<(String, String)> = linked
                .pairs
                .iter()
                .filter(|p| p.probability >= t)
                .map(|p| (ids_a[p.a as usize].clone(), ids_b[p.b as usize].clone()))
                .collect();
            let q = linkage::evaluate(&at, truth);
            println!(
                "  threshold {t}: precision {:.4}, recall {:.4}",
                q.precision, q.recall
            );
        }
    }
    if std::env::var_os("VORONKA_BENCH_SHOW_ERRORS").is_some() {
        show_errors(linked, ids_a, ids_b, &predicted, truth);
    }
    println!(
        "link: {name}: {} candidate pairs, {} accepted; precision {:.4}, recall {:.4}, F1 {:.4} ({} false, {} missed); {:.3} s wall, {:.2} s CPU",
        linked.candidates,
        linked.pairs.len(),
        q.precision,
        q.recall,
        q.f1,
        q.false_positives,
        q.false_negatives,
        secs,
        cpu
    );
}

fn show_errors(
    linked: &linkage::Linked,
    ids_a: &[String],
    ids_b: &[String],
    predicted: &[(String, String)],
    truth: &[(String, String)],
) {
    let key = |a: &str, b: &str| {
        if a <= b {
            (a.to_string(), b.to_string())
        } else {
            (b.to_string(), a.to_string())
        }
    };
    let truth_set: std::collections::HashSet<(String, String)> =
        truth.iter().map(|(a, b)| key(a, b)).collect();
    let pred_set: std::collections::HashSet<(String, String)> =
        predicted.iter().map(|(a, b)| key(a, b)).collect();
    let index_a: HashMap<&str, u32> = ids_a
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i as u32))
        .collect();
    let index_b: HashMap<&str, u32> = ids_b
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i as u32))
        .collect();
    let show = |what: &str, a: &str, b: &str| {
        let (x, y) = match (index_a.get(a), index_b.get(b)) {
            (Some(x), Some(y)) => (*x, *y),
            _ => (index_a[b], index_b[a]),
        };
        let c = linked.explain(&linked.score(x, y));
        let fields: Vec<String> = c
            .explanation
            .iter()
            .map(|f| {
                format!(
                    "{}={}({:+.1}) [{} | {}]",
                    f.field, f.level, f.weight, f.values[0], f.values[1]
                )
            })
            .collect();
        println!(
            "  {what} {a} {b} p={:.4}: {}",
            c.probability,
            fields.join("; ")
        );
    };
    for (a, b) in predicted {
        if !truth_set.contains(&key(a, b)) {
            show("false", a, b);
        }
    }
    for (a, b) in truth {
        if !pred_set.contains(&key(a, b)) {
            show("missed", a, b);
        }
    }
}

/// FEBRL4 (link), FEBRL3 (dedupe) and fake_1000 (dedupe); the time covers everything after
/// reading the files: preparing, blocking, comparing, EM, scoring and clustering.
pub fn reference(data: &Path, configs: &Path) -> Result<()> {
    let noop = &mut |_: linkage::Progress| {};
    {
        let cfg = config(&configs.join("febrl4.toml"))?;
        let (a, ids_a, _) = read_table(&data.join("febrl4a.csv"), cfg.id.as_deref())?;
        let (b, ids_b, _) = read_table(&data.join("febrl4b.csv"), cfg.id.as_deref())?;
        let truth = read_pairs(&data.join("febrl4_true_pairs.csv"))?;
        let (t, c) = (Instant::now(), cpu_secs());
        let linked = linkage::link(&cfg, &a, &b, noop)?;
        report(
            "FEBRL4 (5,000 × 5,000)",
            &linked,
            &ids_a,
            &ids_b,
            &truth,
            (t.elapsed().as_secs_f64(), cpu_secs() - c),
        );
    }
    {
        let cfg = config(&configs.join("febrl3.toml"))?;
        let (a, ids, _) = read_table(&data.join("febrl3.csv"), cfg.id.as_deref())?;
        let truth = read_pairs(&data.join("febrl3_true_pairs.csv"))?;
        let (t, c) = (Instant::now(), cpu_secs());
        let linked = linkage::dedupe(&cfg, &a, noop)?;
        report(
            "FEBRL3 (5,000)",
            &linked,
            &ids,
            &ids,
            &truth,
            (t.elapsed().as_secs_f64(), cpu_secs() - c),
        );
    }
    {
        let cfg = config(&configs.join("fake_1000.toml"))?;
        let (a, ids, headers) = read_table(&data.join("fake_1000.csv"), cfg.id.as_deref())?;
        let c = headers
            .iter()
            .position(|h| h == "cluster")
            .context("fake_1000.csv has no cluster column")?;
        let mut members: HashMap<&str, Vec<usize>> = HashMap::new();
        for row in 0..a.len() {
            members.entry(a.value(row, c)).or_default().push(row);
        }
        let mut truth = Vec::new();
        for rows in members.values() {
            for (i, &x) in rows.iter().enumerate() {
                for &y in &rows[i + 1..] {
                    truth.push((ids[x].clone(), ids[y].clone()));
                }
            }
        }
        let (t, c) = (Instant::now(), cpu_secs());
        let linked = linkage::dedupe(&cfg, &a, noop)?;
        report(
            "fake_1000",
            &linked,
            &ids,
            &ids,
            &truth,
            (t.elapsed().as_secs_f64(), cpu_secs() - c),
        );
    }
    Ok(())
}

const FIRST: &[(&str, &str)] = &[
    ("Иван", "Ivan"),
    ("Алексей", "Aleksey"),
    ("Юлия", "Yulia"),
    ("Ирина", "Irina"),
    ("Дмитрий", "Dmitry"),
    ("Сергей", "Sergey"),
    ("Наталья", "Natalya"),
    ("Михаил", "Mikhail"),
    ("Ольга", "Olga"),
    ("Евгений", "Yevgeny"),
    ("Мария", "Mariya"),
    ("Андрей", "Andrey"),
    ("Татьяна", "Tatyana"),
    ("Николай", "Nikolay"),
    ("Ксения", "Kseniya"),
    ("Юрий", "Yuriy"),
    ("Олена", "Olena"),
    ("Ірина", "Iryna"),
    ("Богдан", "Bohdan"),
    ("Тарас", "Taras"),
    ("Anna", "Anna"),
    ("Jan", "Jan"),
    ("Claire", "Claire"),
    ("Emma", "Emma"),
    ("Pieter", "Pieter"),
    ("Léa", "Lea"),
    ("Thomas", "Tomas"),
    ("Sophie", "Sofie"),
    ("Lucas", "Lukas"),
    ("Julia", "Julia"),
];
const ROOTS: &[&str] = &[
    "Петр",
    "Иван",
    "Смирн",
    "Кузнец",
    "Попов",
    "Соколов",
    "Лебедев",
    "Козл",
    "Новик",
    "Морозов",
    "Волк",
    "Сол",
    "Василь",
    "Зайц",
    "Павл",
    "Семен",
    "Голуб",
    "Виноград",
    "Богдан",
    "Ворон",
    "Федор",
    "Михайл",
    "Беляк",
    "Тарас",
    "Белов",
    "Комар",
    "Орл",
    "Киселев",
    "Макар",
    "Андре",
    "Ковал",
    "Шевчук",
    "Бондар",
    "Ткач",
    "Кравч",
    "Олійник",
    "Щербак",
    "Мельник",
    "Гончар",
    "Руд",
];
const SUFFIXES: &[&str] = &[
    "ов",
    "ин",
    "енко",
    "ук",
    "ський",
    "ев",
    "ович",
    "ан",
    "юк",
    "ченко",
];
const CITIES: &[&str] = &[
    "Москва",
    "Санкт-Петербург",
    "Киев",
    "Харьков",
    "Одесса",
    "Казань",
    "Amsterdam",
    "Rotterdam",
    "Utrecht",
    "Paris",
    "Lyon",
    "Marseille",
    "Новосибирск",
    "Екатеринбург",
    "Львов",
    "Днепр",
];

fn translit(s: &str) -> String {
    // A different spelling system than the matcher's key, on purpose: the point is variety.
    let mut out = String::new();
    for c in s.chars() {
        let lower = c.to_lowercase().next().unwrap_or(c);
        let t = match lower {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'е' => "e",
            'ё' => "yo",
            'ж' => "zh",
            'з' => "z",
            'и' => "i",
            'й' => "y",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ъ' | 'ь' => "",
            'ы' => "y",
            'э' => "e",
            'ю' => "yu",
            'я' => "ya",
            'і' => "i",
            'ї' => "yi",
            'є' => "ye",
            'ґ' => "g",
            _ => {
                out.push(c);
                continue;
            }
        };
        if c.is_uppercase() {
            let mut cs = t.chars();
            if let Some(f) = cs.next() {
                out.extend(f.to_uppercase());
                out.push_str(cs.as_str());
            }
        } else {
            out.push_str(t);
        }
    }
    out
}

fn typo(s: &str, rng: &mut impl Rng) -> String {
    let mut cs: Vec<char> = s.chars().collect();
    if cs.len() < 3 {
        return s.to_string();
    }
    let i = rng.gen_range(1..cs.len() - 1);
    match rng.gen_range(0..3) {
        0 => {
            cs.remove(i);
        }
        1 => cs.swap(i, i + 1),
        _ => {
            let c = cs[i];
            cs.insert(i, c);
        }
    }
    cs.into_iter().collect()
}

struct Person {
    first: usize,
    last: String,
    phone: String,
    email: String,
    city: usize,
    dob: String,
}

/// Generates `records` contacts: about 70 % are people seen once, the rest are duplicates
/// of them (another script, a typo, a reformatted phone, a missing or different email, words
/// swapped), then dedupes them and prints time, peak memory and quality.
pub fn synthetic(records: usize, seed: u64, peak_rss_mb: fn() -> f64) -> Result<()> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let people_count = (records as f64 * 0.7) as usize;
    let mut table = Table::new(["first_name", "last_name", "phone", "email", "city", "dob"]);
    let mut person_of = Vec::with_capacity(records);
    let mut people = Vec::with_capacity(people_count.max(1));
    let gen_started = Instant::now();
    for p in 0..people_count.max(1) {
        let first = rng.gen_range(0..FIRST.len());
        let last = format!(
            "{}{}",
            ROOTS[rng.gen_range(0..ROOTS.len())],
            SUFFIXES[rng.gen_range(0..SUFFIXES.len())]
        );
        let last = if FIRST[first].0 == FIRST[first].1 {
            translit(&last)
        } else {
            last
        };
        people.push(Person {
            first,
            email: format!(
                "{}.{}{}@example.{}",
                translit(FIRST[first].1).to_lowercase(),
                p,
                rng.gen_range(0..100),
                ["com", "ru", "nl"][p % 3]
            ),
            last,
            phone: format!("+79{:09}", rng.gen_range(0..1_000_000_000u64)),
            city: rng.gen_range(0..CITIES.len()),
            dob: format!(
                "{}-{:02}-{:02}",
                rng.gen_range(1950..2005),
                rng.gen_range(1..13),
                rng.gen_range(1..29)
            ),
        });
    }
    for i in 0..records {
        let (pi, dup) = if i < people.len() {
            (i, false)
        } else {
            (rng.gen_range(0..people.len()), true)
        };
        let p = &people[pi];
        let (mut first, mut last) = (FIRST[p.first].0.to_string(), p.last.clone());
        let mut phone = p.phone.clone();
        let mut email = p.email.clone();
        let mut dob = p.dob.clone();
        let mut city = CITIES[p.city].to_string();
        if dup {
            if rng.gen_bool(0.4) {
                first = FIRST[p.first].1.to_string();
                last = translit(&last);
            }
            if rng.gen_bool(0.2) {
                last = typo(&last, &mut rng);
            }
            if rng.gen_bool(0.1) {
                std::mem::swap(&mut first, &mut last);
            }
            if rng.gen_bool(0.3) {
                phone = format!(
                    "8 ({}) {}-{}-{}",
                    &phone[2..5],
                    &phone[5..8],
                    &phone[8..10],
                    &phone[10..]
                );
            }
            if rng.gen_bool(0.2) {
                phone = String::new();
            }
            if rng.gen_bool(0.3) {
                email = String::new();
            } else if rng.gen_bool(0.1) {
                email = typo(&email, &mut rng);
            }
            if rng.gen_bool(0.3) {
                dob = String::new();
            } else if rng.gen_bool(0.1) {
                dob = typo(&dob, &mut rng);
            }
            if rng.gen_bool(0.3) {
                city = String::new();
            }
        } else if rng.gen_bool(0.2) {
            email = String::new();
        }
        // A phone written as 8 (9xx) is the same number as +79xx: compare the last ten digits.
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        let phone = if digits.len() >= 10 {
            digits[digits.len() - 10..].to_string()
        } else {
            digits
        };
        table.push_row(&[first, last, phone, email, city, dob])?;
        person_of.push(pi as u32);
    }
    let gen_secs = gen_started.elapsed().as_secs_f64();
    let cfg = LinkConfig::from_toml(
        r#"
threshold = 0.5
blocking = ["phone", "email", "first_name:translit & last_name:translit & dob"]
[[fields]]
name = "first_name"
comparator = "name"
swap_with = "last_name"
[[fields]]
name = "last_name"
comparator = "name"
swap_with = "first_name"
[[fields]]
name = "phone"
comparator = "phone"
[[fields]]
name = "email"
comparator = "email"
[[fields]]
name = "city"
comparator = "jaro_winkler"
[[fields]]
name = "dob"
comparator = "date"
"#,
    )?;
    let (started, cpu) = (Instant::now(), cpu_secs());
    let linked = linkage::dedupe(&cfg, &table, &mut |_| {})?;
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu;
    let tp = linked
        .pairs
        .iter()
        .filter(|p| person_of[p.a as usize] == person_of[p.b as usize])
        .count();
    let mut sizes: HashMap<u32, u64> = HashMap::new();
    for &pi in &person_of {
        *sizes.entry(pi).or_default() += 1;
    }
    let true_pairs: u64 = sizes.values().map(|n| n * (n - 1) / 2).sum();
    let clusters = linked
        .clusters
        .as_ref()
        .map(|c| c.iter().max().map_or(0, |m| m + 1))
        .unwrap_or(0);
    println!(
        "dedupe-synthetic: {records} records ({} people; generated in {gen_secs:.1} s), {} candidate pairs, {} accepted, {clusters} clusters; pairwise precision {:.4}, recall {:.4}; {secs:.1} s wall, {cpu:.1} s CPU; peak RSS {:.0} MB",
        people.len(),
        linked.candidates,
        linked.pairs.len(),
        tp as f64 / linked.pairs.len().max(1) as f64,
        tp as f64 / true_pairs.max(1) as f64,
        peak_rss_mb()
    );
    Ok(())
}

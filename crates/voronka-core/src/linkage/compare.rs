//! Comparators: each field's values are normalized once per distinct value, then a pair of
//! records gets one level per field (0 = the most alike, the last = "else", or null when a
//! value is missing).

use super::config::{ComparatorKind, FieldConfig};
use super::strings::{jaro_winkler, osa_distance};
use super::table::{Pool, Table};
use super::LinkError;
use crate::names;

/// Level of a comparison where one of the values is missing.
pub const NULL: u8 = 15;

/// One compared field, prepared over one or two tables.
#[derive(Debug)]
pub struct Field {
    pub name: String,
    pub kind: ComparatorKind,
    pub labels: Vec<String>,
    jw_levels: Vec<f64>,
    dist_levels: Vec<usize>,
    swap_with: Option<usize>,
    pool: Pool,
    keys: Pool,
    aux: Vec<u32>,
    ids: Vec<Vec<u32>>,
}

impl Field {
    pub fn prepare(
        cfg: &FieldConfig,
        all: &[FieldConfig],
        tables: &[&Table],
    ) -> Result<Field, LinkError> {
        let swap_with = cfg
            .swap_with
            .as_ref()
            .and_then(|s| all.iter().position(|f| &f.name == s));
        let (jw_levels, dist_levels): (Vec<f64>, Vec<usize>) = match cfg.kind() {
            ComparatorKind::JaroWinkler | ComparatorKind::Name => (
                if cfg.levels.is_empty() {
                    vec![0.92, 0.8]
                } else {
                    cfg.levels.clone()
                },
                vec![],
            ),
            ComparatorKind::Id => (
                vec![],
                if cfg.levels.is_empty() {
                    vec![1, 2]
                } else {
                    cfg.levels.iter().map(|d| d.max(0.0) as usize).collect()
                },
            ),
            _ => (vec![], vec![]),
        };
        let mut labels = vec!["exact".to_string()];
        match cfg.kind() {
            ComparatorKind::Exact => {}
            ComparatorKind::JaroWinkler => {
                labels.extend(jw_levels.iter().map(|t| format!("jw>={t}")));
            }
            ComparatorKind::Name => {
                labels.push("translit".into());
                if swap_with.is_some() {
                    labels.push("swapped".into());
                }
                labels.extend(jw_levels.iter().map(|t| format!("jw>={t}")));
            }
            ComparatorKind::Phone => labels.push("1 edit".into()),
            ComparatorKind::Email => {
                labels.push("same local part".into());
                labels.push("jw>=0.88".into());
            }
            ComparatorKind::Date => {
                labels.push("1 typo or day/month swapped".into());
                labels.push("2 typos".into());
            }
            ComparatorKind::Id => {
                labels.extend(dist_levels.iter().map(|d| format!("{d} edits")));
            }
        }
        labels.push("else".into());
        if labels.len() > 14 {
            return Err(LinkError::Config(format!(
                "field {:?} has too many levels",
                cfg.name
            )));
        }
        let mut f = Field {
            name: cfg.name.clone(),
            kind: cfg.kind(),
            labels,
            jw_levels,
            dist_levels,
            swap_with,
            pool: Pool::default(),
            keys: Pool::default(),
            aux: vec![0],
            ids: Vec::new(),
        };
        let sources = cfg.source_columns();
        for t in tables {
            let cols = sources
                .iter()
                .map(|c| {
                    t.column(c)
                        .ok_or_else(|| LinkError::UnknownColumn(c.clone()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut ids = Vec::with_capacity(t.len());
            if cols.len() == 1 {
                // Normalize each distinct value once.
                let c = cols[0];
                let mut memo = vec![u32::MAX; t.pool(c).len()];
                for row in 0..t.len() {
                    let raw = t.cell(row, c) as usize;
                    if memo[raw] == u32::MAX {
                        memo[raw] = f.add(t.pool(c).get(raw as u32));
                    }
                    ids.push(memo[raw]);
                }
            } else {
                let mut joined = String::new();
                for row in 0..t.len() {
                    joined.clear();
                    for &c in &cols {
                        let v = t.value(row, c);
                        if !v.is_empty() {
                            if !joined.is_empty() {
                                joined.push(' ');
                            }
                            joined.push_str(v);
                        }
                    }
                    ids.push(f.add(&joined));
                }
            }
            f.ids.push(ids);
        }
        Ok(f)
    }

    fn add(&mut self, raw: &str) -> u32 {
        let (norm, aux) = match self.kind {
            ComparatorKind::Exact | ComparatorKind::JaroWinkler => (names::normalize_name(raw), 0),
            ComparatorKind::Name => {
                let n = names::normalize_name(raw);
                let k = names::translit_key(&n);
                let kid = self.keys.intern(&k);
                (n, kid)
            }
            ComparatorKind::Phone => (raw.chars().filter(char::is_ascii_digit).collect(), 0),
            ComparatorKind::Email => {
                let e = raw.trim().to_lowercase();
                let at = e.rfind('@').map(|p| p as u32).unwrap_or(u32::MAX);
                (e, at)
            }
            ComparatorKind::Date => match parse_date(raw) {
                Some((y, m, d)) => (format!("{y:04}{m:02}{d:02}"), y * 10_000 + m * 100 + d),
                None => (raw.chars().filter(char::is_ascii_digit).collect(), 0),
            },
            ComparatorKind::Id => (
                raw.chars()
                    .filter(|c| c.is_alphanumeric())
                    .flat_map(char::to_lowercase)
                    .collect(),
                0,
            ),
        };
        let before = self.pool.len();
        let id = self.pool.intern(&norm);
        if self.pool.len() > before {
            self.aux.push(aux);
        }
        id
    }

    /// The normalized value of a record (side 0 or 1).
    pub fn value(&self, side: usize, row: usize) -> &str {
        self.pool.get(self.ids[side][row])
    }

    fn key_of(&self, side: usize, row: usize) -> &str {
        self.keys.get(self.aux[self.ids[side][row] as usize])
    }

    /// Probability that two records chosen at random have the same (non-empty) value.
    pub fn exact_agreement(&self) -> Option<f64> {
        let n = self.pool.len();
        let count = |ids: &Vec<u32>| {
            let mut c = vec![0u64; n];
            for &i in ids {
                if i != 0 {
                    c[i as usize] += 1;
                }
            }
            c
        };
        let ca = count(&self.ids[0]);
        let (same, total) = if self.ids.len() == 2 {
            let cb = count(&self.ids[1]);
            let same: f64 = ca.iter().zip(&cb).map(|(a, b)| (a * b) as f64).sum();
            let na: u64 = ca.iter().sum();
            let nb: u64 = cb.iter().sum();
            (same, na as f64 * nb as f64)
        } else {
            let same: f64 = ca.iter().map(|&a| (a * a.saturating_sub(1)) as f64).sum();
            let na: u64 = ca.iter().sum();
            (same, na as f64 * na.saturating_sub(1) as f64)
        };
        (total > 0.0).then(|| (same / total).max(0.5 / total))
    }

    pub fn levels(&self) -> usize {
        self.labels.len()
    }

    /// The level of records `a` (side `sa`) and `b` (side `sb`).
    pub fn level(&self, fields: &[Field], sa: usize, a: usize, sb: usize, b: usize) -> u8 {
        let ia = self.ids[sa][a];
        let ib = self.ids[sb][b];
        if ia == 0 || ib == 0 {
            return NULL;
        }
        if ia == ib {
            return 0;
        }
        let va = self.pool.get(ia);
        let vb = self.pool.get(ib);
        let last = (self.labels.len() - 1) as u8;
        match self.kind {
            ComparatorKind::Exact => last,
            ComparatorKind::JaroWinkler => jw_level(&self.jw_levels, jaro_winkler(va, vb), 1, last),
            ComparatorKind::Name => {
                let ka = self.aux[ia as usize];
                let kb = self.aux[ib as usize];
                if ka == kb && ka != 0 {
                    return 1;
                }
                let mut next = 2;
                if let Some(o) = self.swap_with {
                    let other = &fields[o];
                    let oa = other.key_of(sa, a);
                    let ob = other.key_of(sb, b);
                    let sa_key = self.keys.get(ka);
                    let sb_key = self.keys.get(kb);
                    let cross_a = !sa_key.is_empty() && sa_key == ob;
                    let cross_b = !sb_key.is_empty() && oa == sb_key;
                    if cross_a || cross_b {
                        return 2;
                    }
                    next = 3;
                }
                let s = jaro_winkler(self.keys.get(ka), self.keys.get(kb));
                jw_level(&self.jw_levels, s, next, last)
            }
            ComparatorKind::Phone => {
                if osa_distance(va, vb, 1) <= 1 {
                    1
                } else {
                    last
                }
            }
            ComparatorKind::Email => {
                let pa = self.aux[ia as usize] as usize;
                let pb = self.aux[ib as usize] as usize;
                if pa < va.len() && pb < vb.len() && pa > 0 && va[..pa] == vb[..pb] {
                    1
                } else if jaro_winkler(va, vb) >= 0.88 {
                    2
                } else {
                    last
                }
            }
            ComparatorKind::Date => {
                let da = self.aux[ia as usize];
                let db = self.aux[ib as usize];
                let d = osa_distance(va, vb, 2);
                let swapped = da != 0
                    && db != 0
                    && da / 10_000 == db / 10_000
                    && da % 100 == (db / 100) % 100
                    && (da / 100) % 100 == db % 100;
                if d <= 1 || swapped {
                    1
                } else if d <= 2 {
                    2
                } else {
                    last
                }
            }
            ComparatorKind::Id => {
                let max = self.dist_levels.last().copied().unwrap_or(0);
                let d = osa_distance(va, vb, max);
                for (i, &t) in self.dist_levels.iter().enumerate() {
                    if d <= t {
                        return (i + 1) as u8;
                    }
                }
                last
            }
        }
    }
}

fn jw_level(levels: &[f64], s: f64, first: u8, last: u8) -> u8 {
    for (i, &t) in levels.iter().enumerate() {
        if s >= t {
            return first + i as u8;
        }
    }
    last
}

/// Parses YYYYMMDD, YYYY-MM-DD (or with / or .), DD.MM.YYYY and DD/MM/YYYY into
/// (year, month, day) without checking the calendar beyond ranges (typos are compared too).
pub fn parse_date(s: &str) -> Option<(u32, u32, u32)> {
    let s = s.trim();
    let parts: Vec<&str> = s
        .split(['-', '/', '.', ' '])
        .filter(|p| !p.is_empty())
        .collect();
    let num = |p: &str| -> Option<u32> {
        if p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse().ok()
    };
    let (y, m, d) = match parts.as_slice() {
        [one] if one.len() == 8 && one.bytes().all(|b| b.is_ascii_digit()) => (
            one[..4].parse().ok()?,
            one[4..6].parse().ok()?,
            one[6..].parse().ok()?,
        ),
        [a, b, c] if a.len() == 4 => (num(a)?, num(b)?, num(c)?),
        [a, b, c] if c.len() == 4 => (num(c)?, num(b)?, num(a)?),
        _ => return None,
    };
    ((1..=12).contains(&m) || (1..=12).contains(&d))
        .then_some((y, m, d))
        .filter(|_| m <= 99 && d <= 99 && y <= 9999)
}

impl FieldConfig {
    pub fn kind(&self) -> ComparatorKind {
        self.comparator
    }
}

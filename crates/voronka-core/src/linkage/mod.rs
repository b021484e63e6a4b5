//! Record linkage: finding records of one table (dedupe) or of two tables (link) that
//! describe the same person, with Fellegi–Sunter weights.
//!
//! 1. Every compared field is normalized once per distinct value ([`compare`]).
//! 2. Blocking rules propose candidate pairs ([`blocking`]); their union is deduplicated.
//! 3. Each candidate pair gets one level per field; pairs are grouped by their pattern of
//!    levels, u is taken from random pairs and m and the prior by EM ([`em`]).
//! 4. A pair's weight is the sum of its fields' log2(m/u) plus the prior odds; its
//!    probability follows. Accepted pairs (at or above the threshold) are clustered.
//!
//! [`contact`] is a preset with fixed weights for comparing two contacts at intake.

pub mod blocking;
pub mod cluster;
pub mod compare;
pub mod config;
pub mod contact;
pub mod em;
pub mod strings;
pub mod table;

use std::collections::{HashMap, HashSet};

use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

pub use config::{ComparatorKind, FieldConfig, LinkConfig};
pub use em::Model;
pub use table::{Record, Table};

use blocking::Rule;
use compare::{Field, NULL};

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("unknown column {0:?}")]
    UnknownColumn(String),
    #[error("{0}")]
    Row(String),
}

/// One field's part in a pair's weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldContribution {
    pub field: String,
    /// Comparison level, e.g. "exact", "translit", "else", "null".
    pub level: String,
    /// Match weight in bits this field adds (negative: evidence against).
    pub weight: f64,
    /// The two values compared, as normalized.
    pub values: [String; 2],
}

/// The verdict on one pair of records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub probability: f64,
    pub weight: f64,
    pub explanation: Vec<FieldContribution>,
}

/// One field of [`Comparison::to_compact`]: field, level, weight and the first value, then the
/// second value, or null when it is the same as the first. Numbers that are not finite are
/// written as null, as in the JSON object, and read back as NaN.
#[derive(Serialize, Deserialize)]
struct CompactField<S>(S, S, Option<f64>, S, Option<S>);

/// [`Comparison::to_compact`]: probability, weight, fields.
#[derive(Serialize, Deserialize)]
struct CompactComparison<S>(Option<f64>, Option<f64>, Vec<CompactField<S>>);

impl Comparison {
    /// The comparison as a JSON array without the field names of its objects, for storage
    /// (a stored possible duplicate keeps one per pair): about half the size of its JSON
    /// object. [`Comparison::from_compact`] reads it back whole.
    pub fn to_compact(&self) -> String {
        let fields = self
            .explanation
            .iter()
            .map(|f| {
                let [a, b] = &f.values;
                CompactField(
                    f.field.as_str(),
                    f.level.as_str(),
                    Some(f.weight),
                    a.as_str(),
                    (a != b).then_some(b.as_str()),
                )
            })
            .collect();
        let (p, w) = (Some(self.probability), Some(self.weight));
        serde_json::to_string(&CompactComparison(p, w, fields)).unwrap_or_default()
    }

    /// A comparison written by [`Comparison::to_compact`]; `None` for any other text.
    pub fn from_compact(text: &str) -> Option<Comparison> {
        let CompactComparison::<String>(probability, weight, fields) =
            serde_json::from_str(text).ok()?;
        Some(Comparison {
            probability: probability.unwrap_or(f64::NAN),
            weight: weight.unwrap_or(f64::NAN),
            explanation: fields
                .into_iter()
                .map(
                    |CompactField(field, level, weight, a, b)| FieldContribution {
                        field,
                        level,
                        weight: weight.unwrap_or(f64::NAN),
                        values: [a.clone(), b.unwrap_or(a)],
                    },
                )
                .collect(),
        })
    }
}

/// The steps of a run, as a progress display names them (each face words them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Preparing,
    Blocking,
    Comparing,
    Estimating,
    ReadingContacts,
    Merging,
}

/// Where a run is, for progress display.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub step: Step,
    pub done: u64,
    pub total: u64,
}

/// A candidate pair at or above the threshold. In dedupe `a < b` index the one table;
/// in linking `a` indexes the first table and `b` the second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredPair {
    pub a: u32,
    pub b: u32,
    pub weight: f64,
    pub probability: f64,
    /// Levels of the fields, 4 bits each (see [`em::level_of`]).
    pub gamma: u64,
}

/// The result of [`dedupe`] or [`link`].
#[derive(Debug)]
pub struct Linked {
    pub model: Model,
    pub candidates: usize,
    pub skipped_blocks: usize,
    /// Accepted pairs, most probable first.
    pub pairs: Vec<ScoredPair>,
    /// Dedupe only: cluster number of each record.
    pub clusters: Option<Vec<u32>>,
    fields: Vec<Field>,
    two_sided: bool,
}

impl Linked {
    pub fn field_names(&self) -> Vec<&str> {
        self.fields.iter().map(|f| f.name.as_str()).collect()
    }

    /// Level label of field `k` of a pair ("null" when a value is missing).
    pub fn level_label(&self, p: &ScoredPair, k: usize) -> &str {
        let l = em::level_of(p.gamma, k);
        if l == NULL {
            "null"
        } else {
            &self.fields[k].labels[l as usize]
        }
    }

    /// Scores any pair of records (`a` of the first table, `b` of the second, or of the same
    /// table in dedupe), whether or not blocking proposed it.
    pub fn score(&self, a: u32, b: u32) -> ScoredPair {
        let sb = usize::from(self.two_sided);
        let g = gamma(&self.fields, 0, a as usize, sb, b as usize);
        let w = self.model.weight(g);
        ScoredPair {
            a,
            b,
            weight: w,
            probability: Model::probability(w),
            gamma: g,
        }
    }

    /// How each field contributed to a pair's weight.
    pub fn explain(&self, p: &ScoredPair) -> Comparison {
        let sb = usize::from(self.two_sided);
        let explanation = self
            .fields
            .iter()
            .enumerate()
            .map(|(k, f)| {
                let l = em::level_of(p.gamma, k);
                FieldContribution {
                    field: f.name.clone(),
                    level: self.level_label(p, k).to_string(),
                    weight: if l == NULL {
                        0.0
                    } else {
                        self.model.fields[k].weights[l as usize]
                    },
                    values: [
                        f.value(0, p.a as usize).to_string(),
                        f.value(sb, p.b as usize).to_string(),
                    ],
                }
            })
            .collect();
        Comparison {
            probability: p.probability,
            weight: p.weight,
            explanation,
        }
    }
}

/// Finds the pairs of records within one table that describe the same entity.
pub fn dedupe(
    cfg: &LinkConfig,
    table: &Table,
    progress: &mut dyn FnMut(Progress),
) -> Result<Linked, LinkError> {
    run(cfg, &[table], progress)
}

/// Finds the pairs (record of `a`, record of `b`) that describe the same entity.
pub fn link(
    cfg: &LinkConfig,
    a: &Table,
    b: &Table,
    progress: &mut dyn FnMut(Progress),
) -> Result<Linked, LinkError> {
    run(cfg, &[a, b], progress)
}

fn gamma(fields: &[Field], sa: usize, a: usize, sb: usize, b: usize) -> u64 {
    let mut g = 0u64;
    for (k, f) in fields.iter().enumerate() {
        g |= (f.level(fields, sa, a, sb, b) as u64) << (4 * k);
    }
    g
}

fn run(
    cfg: &LinkConfig,
    tables: &[&Table],
    progress: &mut dyn FnMut(Progress),
) -> Result<Linked, LinkError> {
    cfg.check()?;
    let two_sided = tables.len() == 2;
    let sb = usize::from(two_sided);
    progress(Progress {
        step: Step::Preparing,
        done: 0,
        total: 1,
    });
    let fields = cfg
        .fields
        .iter()
        .map(|f| Field::prepare(f, &cfg.fields, tables))
        .collect::<Result<Vec<_>, _>>()?;
    let rules = cfg
        .blocking
        .iter()
        .map(|r| Rule::parse(r))
        .collect::<Result<Vec<_>, _>>()?;
    progress(Progress {
        step: Step::Blocking,
        done: 0,
        total: 1,
    });
    let keys_a = rules
        .iter()
        .map(|r| r.keys(tables[0]))
        .collect::<Result<Vec<_>, _>>()?;
    let cands = if two_sided {
        let keys_b = rules
            .iter()
            .map(|r| r.keys(tables[1]))
            .collect::<Result<Vec<_>, _>>()?;
        blocking::link_pairs(&keys_a, &keys_b, cfg.max_block)
    } else {
        blocking::dedupe_pairs(&keys_a, cfg.max_block)
    };
    drop(keys_a);

    // Levels of every candidate pair.
    let total = cands.pairs.len() as u64;
    let mut gammas = Vec::with_capacity(cands.pairs.len());
    for (n, &(a, b)) in cands.pairs.iter().enumerate() {
        if n % 65_536 == 0 {
            progress(Progress {
                step: Step::Comparing,
                done: n as u64,
                total,
            });
        }
        gammas.push(gamma(&fields, 0, a as usize, sb, b as usize));
    }
    progress(Progress {
        step: Step::Comparing,
        done: total,
        total,
    });

    // u from random pairs.
    let na = tables[0].len();
    let nb = tables[sb].len();
    let mut sample: HashMap<u64, u64> = HashMap::new();
    if na >= 2 && nb >= 1 {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(cfg.seed);
        for _ in 0..cfg.u_sample {
            let a = rng.gen_range(0..na);
            let mut b = rng.gen_range(0..nb);
            if !two_sided && b == a {
                b = (a + 1) % na;
            }
            *sample.entry(gamma(&fields, 0, a, sb, b)).or_default() += 1;
        }
    }
    let sample: Vec<(u64, u64)> = sample.into_iter().collect();
    let levels: Vec<usize> = fields.iter().map(Field::levels).collect();
    let exact: Vec<Option<f64>> = fields.iter().map(Field::exact_agreement).collect();
    let u = em::u_from_sample(&levels, &exact, &sample);

    let mut patterns: HashMap<u64, u64> = HashMap::new();
    for &g in &gammas {
        *patterns.entry(g).or_default() += 1;
    }
    let mut patterns: Vec<(u64, u64)> = patterns.into_iter().collect();
    patterns.sort_unstable();
    progress(Progress {
        step: Step::Estimating,
        done: 0,
        total: 1,
    });
    let names: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
    let labels: Vec<Vec<String>> = fields.iter().map(|f| f.labels.clone()).collect();
    for (f, c) in fields.iter().zip(&cfg.fields) {
        for (what, v) in [("m", &c.m), ("u", &c.u)] {
            if let Some(v) = v {
                if v.len() != f.levels() || v.iter().any(|p| !(*p > 0.0 && *p <= 1.0)) {
                    return Err(LinkError::Config(format!(
                        "field {:?}: {what} needs {} probabilities in (0, 1] for levels {:?}",
                        f.name,
                        f.levels(),
                        f.labels
                    )));
                }
            }
        }
    }
    let fixed = em::Fixed {
        m: cfg.fields.iter().map(|f| f.m.as_deref()).collect(),
        u: cfg.fields.iter().map(|f| f.u.as_deref()).collect(),
        prior: cfg.prior,
    };
    let model = em::estimate(&names, &labels, u, &patterns, &fixed, cfg.em_iterations);

    // Score.
    let weights: HashMap<u64, f64> = patterns
        .iter()
        .map(|&(g, _)| (g, model.weight(g)))
        .collect();
    let mut pairs: Vec<ScoredPair> = Vec::new();
    for (&(a, b), &g) in cands.pairs.iter().zip(&gammas) {
        let w = weights[&g];
        let p = Model::probability(w);
        if p >= cfg.threshold {
            pairs.push(ScoredPair {
                a,
                b,
                weight: w,
                probability: p,
                gamma: g,
            });
        }
    }
    pairs.sort_by(|x, y| {
        y.weight
            .total_cmp(&x.weight)
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
    });
    if two_sided && cfg.one_to_one {
        let mut used_a = HashSet::new();
        let mut used_b = HashSet::new();
        pairs.retain(|p| {
            if used_a.contains(&p.a) || used_b.contains(&p.b) {
                return false;
            }
            used_a.insert(p.a);
            used_b.insert(p.b);
            true
        });
    }
    let clusters = (!two_sided).then(|| cluster::clusters(na, pairs.iter().map(|p| (p.a, p.b))));
    Ok(Linked {
        model,
        candidates: cands.pairs.len(),
        skipped_blocks: cands.skipped_blocks,
        pairs,
        clusters,
        fields,
        two_sided,
    })
}

/// Pairwise precision, recall and F1 of predicted pairs against true pairs (unordered).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quality {
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

pub fn evaluate<S: AsRef<str>>(predicted: &[(S, S)], truth: &[(S, S)]) -> Quality {
    fn key<S: AsRef<str>>(p: &(S, S)) -> (&str, &str) {
        let (a, b) = (p.0.as_ref(), p.1.as_ref());
        if a <= b {
            (a, b)
        } else {
            (b, a)
        }
    }
    let truth: HashSet<(&str, &str)> = truth.iter().map(key).collect();
    let predicted: HashSet<(&str, &str)> = predicted.iter().map(key).collect();
    let tp = predicted.intersection(&truth).count();
    let fp = predicted.len() - tp;
    let fneg = truth.len() - tp;
    let precision = if predicted.is_empty() {
        1.0
    } else {
        tp as f64 / predicted.len() as f64
    };
    let recall = if truth.is_empty() {
        1.0
    } else {
        tp as f64 / truth.len() as f64
    };
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    Quality {
        true_positives: tp,
        false_positives: fp,
        false_negatives: fneg,
        precision,
        recall,
        f1,
    }
}

#[cfg(test)]
mod compact_tests {
    use super::*;

    fn field(field: &str, level: &str, weight: f64, a: &str, b: &str) -> FieldContribution {
        FieldContribution {
            field: field.into(),
            level: level.into(),
            weight,
            values: [a.into(), b.into()],
        }
    }

    fn comparison() -> Comparison {
        Comparison {
            probability: 0.058823529411764705,
            weight: -4.0,
            explanation: vec![
                field("phone", "different", -2.0, "+79160035000", "+79160000000"),
                field(
                    "email",
                    "different",
                    -2.0,
                    "lead35000@mail.ru",
                    "lead0@mail.ru",
                ),
                field("social", "null", 0.0, "", ""),
                field("name", "exact", 4.0, "Иван Петров", "Иван Петров"),
                field(
                    "company",
                    "exact",
                    2.0,
                    "Company \"0\" <b>",
                    "Company \"0\" <b>",
                ),
                field("city", "else", -0.1, "", "Київ"),
            ],
        }
    }

    #[test]
    fn the_compact_form_reads_back_whole() {
        let c = comparison();
        let compact = c.to_compact();
        assert_eq!(Comparison::from_compact(&compact), Some(c.clone()));
        // As the API shows it: the same JSON as the comparison written out in full.
        assert_eq!(
            serde_json::to_value(Comparison::from_compact(&compact).unwrap()).unwrap(),
            serde_json::to_value(&c).unwrap()
        );
        let full = serde_json::to_string(&c).unwrap();
        assert!(
            compact.len() * 10 < full.len() * 6,
            "{} bytes compact against {} in full",
            compact.len(),
            full.len()
        );
    }

    #[test]
    fn numbers_that_are_not_finite_read_back_as_the_object_shows_them() {
        let mut c = comparison();
        c.weight = f64::NEG_INFINITY;
        c.explanation[0].weight = f64::NAN;
        let back = Comparison::from_compact(&c.to_compact()).expect("read back");
        assert!(back.weight.is_nan() && back.explanation[0].weight.is_nan());
        assert_eq!(back.explanation[1], c.explanation[1]);
        assert_eq!(
            serde_json::to_value(&back).unwrap(),
            serde_json::to_value(&c).unwrap()
        );
    }

    #[test]
    fn other_text_is_not_a_compact_comparison() {
        let full = serde_json::to_string(&comparison()).unwrap();
        assert_eq!(Comparison::from_compact(&full), None);
        assert_eq!(
            Comparison::from_compact(r#"{"reason":"merged by hand"}"#),
            None
        );
        assert_eq!(Comparison::from_compact("[1, 2]"), None);
        assert_eq!(Comparison::from_compact("not json"), None);
    }
}

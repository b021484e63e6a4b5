//! The naive-Bayes frequency baseline (the approach of Odoo's predictive lead scoring):
//! `P(won)·Π P(value | won)` against `P(lost)·Π P(value | lost)` over the lead's field values,
//! every count smoothed by +0.1. A value never seen in training says nothing and is skipped.

use super::encode::NONE_VALUE;
use super::LeadFeatures;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

const SMOOTHING: f64 = 0.1;

/// Field values as the baseline sees them: every feature made categorical.
fn values(f: &LeadFeatures) -> Vec<(String, String)> {
    let cat = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_lowercase)
            .unwrap_or_else(|| NONE_VALUE.to_string())
    };
    let mut out = vec![
        ("source".to_string(), cat(&f.source)),
        ("medium".to_string(), cat(&f.medium)),
        ("campaign".to_string(), cat(&f.campaign)),
        ("form".to_string(), cat(&f.form)),
        ("product".to_string(), cat(&f.product)),
        ("country".to_string(), cat(&f.country)),
        ("phone_valid".to_string(), f.phone_valid.to_string()),
        ("email_valid".to_string(), f.email_valid.to_string()),
        (
            "first_response".to_string(),
            match f.first_response_ms {
                None => NONE_VALUE.to_string(),
                Some(ms) if ms < 3_600_000 => "under an hour".into(),
                Some(ms) if ms < 86_400_000 => "under a day".into(),
                Some(_) => "a day or more".into(),
            },
        ),
    ];
    for (name, v) in &f.fit {
        out.push((format!("fit.{name}"), cat(&Some(v.clone()))));
    }
    for (name, c) in &f.behaviour {
        let band = match *c {
            i64::MIN..=0 => "0",
            1 => "1",
            2..=3 => "2-3",
            4..=7 => "4-7",
            _ => "8+",
        };
        out.push((format!("behaviour.{name}"), band.to_string()));
    }
    out
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Counts {
    won: f64,
    lost: f64,
}

/// Frequency tables per field value.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NaiveBayes {
    won: f64,
    lost: f64,
    /// field → value → counts (each already +0.1).
    table: HashMap<String, HashMap<String, Counts>>,
    /// field → totals over its values.
    totals: HashMap<String, Counts>,
}

impl NaiveBayes {
    pub fn train<'a>(rows: impl Iterator<Item = (&'a LeadFeatures, bool)>) -> NaiveBayes {
        let mut nb = NaiveBayes::default();
        for (f, won) in rows {
            if won {
                nb.won += 1.0;
            } else {
                nb.lost += 1.0;
            }
            for (field, value) in values(f) {
                let c = nb
                    .table
                    .entry(field)
                    .or_default()
                    .entry(value)
                    .or_insert(Counts {
                        won: SMOOTHING,
                        lost: SMOOTHING,
                    });
                if won {
                    c.won += 1.0;
                } else {
                    c.lost += 1.0;
                }
            }
        }
        for (field, vals) in &nb.table {
            let t = nb.totals.entry(field.clone()).or_default();
            for c in vals.values() {
                t.won += c.won;
                t.lost += c.lost;
            }
        }
        nb
    }

    /// Probability of conversion, computed in log space so that many fields cannot underflow.
    pub fn probability(&self, f: &LeadFeatures) -> f64 {
        if self.won == 0.0 || self.lost == 0.0 {
            return if self.won > 0.0 { 1.0 } else { 0.0 };
        }
        let mut log_won = (self.won / (self.won + self.lost)).ln();
        let mut log_lost = (self.lost / (self.won + self.lost)).ln();
        for (field, value) in values(f) {
            let (Some(c), Some(t)) = (
                self.table.get(&field).and_then(|v| v.get(&value)),
                self.totals.get(&field),
            ) else {
                continue;
            };
            log_won += (c.won / t.won).ln();
            log_lost += (c.lost / t.lost).ln();
        }
        super::sigmoid(log_won - log_lost)
    }
}

impl NaiveBayes {
    /// Field values whose likelihood ratio `P(value | won) / P(value | lost)` moves the odds the
    /// most (as a natural log), among values seen at least `min_support` times.
    pub fn top_values(&self, n: usize, min_support: f64) -> Vec<super::FeatureWeight> {
        let mut all = Vec::new();
        for (field, vals) in &self.table {
            let Some(t) = self.totals.get(field) else {
                continue;
            };
            for (value, c) in vals {
                if c.won + c.lost - 2.0 * SMOOTHING < min_support {
                    continue;
                }
                all.push(super::FeatureWeight {
                    feature: format!("{field} = {value}"),
                    weight: (c.won / t.won).ln() - (c.lost / t.lost).ln(),
                });
            }
        }
        all.sort_by(|a, b| {
            b.weight
                .abs()
                .total_cmp(&a.weight.abs())
                .then_with(|| a.feature.cmp(&b.feature))
        });
        all.truncate(n);
        all
    }
}

//! Fellegi–Sunter weights. u (how often non-matches agree at each level) comes from a sample
//! of random record pairs, where nearly every pair is a non-match; m (the same among
//! matches) and the prior are estimated by expectation–maximisation over the candidate pairs,
//! grouped by their pattern of levels so that each iteration costs one pass over the patterns.

use serde::{Deserialize, Serialize};

use super::compare::NULL;

/// Level of field `k` in a packed pattern (4 bits per field).
pub fn level_of(gamma: u64, k: usize) -> u8 {
    ((gamma >> (4 * k)) & 15) as u8
}

/// Estimated (or configured) probabilities and the weights that follow from them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    /// Probability that a candidate pair is a match before looking at its fields.
    pub prior: f64,
    pub fields: Vec<FieldModel>,
    /// EM iterations run (0 when everything was configured).
    pub iterations: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FieldModel {
    pub name: String,
    pub labels: Vec<String>,
    pub m: Vec<f64>,
    pub u: Vec<f64>,
    /// log2(m / u) per level: the match weight a pair gets from this field.
    pub weights: Vec<f64>,
}

impl Model {
    /// Match weight of a pattern: prior odds plus each field's weight (null fields add 0).
    pub fn weight(&self, gamma: u64) -> f64 {
        let mut w = (self.prior / (1.0 - self.prior)).log2();
        for (k, f) in self.fields.iter().enumerate() {
            let l = level_of(gamma, k);
            if l != NULL {
                w += f.weights[l as usize];
            }
        }
        w
    }

    pub fn probability(weight: f64) -> f64 {
        1.0 / (1.0 + (-weight).exp2())
    }

    fn refresh_weights(&mut self) {
        for f in &mut self.fields {
            f.weights = f.m.iter().zip(&f.u).map(|(m, u)| (m / u).log2()).collect();
        }
    }
}

/// u per field: the exact level from value frequencies when known (`exact`), the other
/// levels in proportion to their counts in the random sample, smoothed so that none is 0.
pub fn u_from_sample(
    levels: &[usize],
    exact: &[Option<f64>],
    sample: &[(u64, u64)],
) -> Vec<Vec<f64>> {
    let mut counts: Vec<Vec<f64>> = levels.iter().map(|&n| vec![0.0; n]).collect();
    for &(g, c) in sample {
        for (k, cnt) in counts.iter_mut().enumerate() {
            let l = level_of(g, k);
            if l != NULL {
                cnt[l as usize] += c as f64;
            }
        }
    }
    counts
        .into_iter()
        .zip(exact)
        .map(|(c, exact)| match exact {
            Some(u0) if c.len() > 1 => {
                let rest = &c[1..];
                let total: f64 = rest.iter().sum();
                let n = rest.len() as f64;
                let mut u = vec![*u0];
                u.extend(
                    rest.iter()
                        .map(|x| (1.0 - u0) * (x + 0.5) / (total + 0.5 * n)),
                );
                u
            }
            _ => {
                let total: f64 = c.iter().sum();
                let n = c.len() as f64;
                c.iter().map(|x| (x + 0.5) / (total + 0.5 * n)).collect()
            }
        })
        .collect()
}

pub struct Fixed<'a> {
    pub m: Vec<Option<&'a [f64]>>,
    pub u: Vec<Option<&'a [f64]>>,
    pub prior: Option<f64>,
}

/// Runs EM over the candidate patterns (`(pattern, count)`), with u fixed.
pub fn estimate(
    names: &[String],
    labels: &[Vec<String>],
    u: Vec<Vec<f64>>,
    patterns: &[(u64, u64)],
    fixed: &Fixed<'_>,
    max_iterations: usize,
) -> Model {
    let fields: Vec<FieldModel> = names
        .iter()
        .zip(labels)
        .zip(u)
        .enumerate()
        .map(|(k, ((name, labels), u))| {
            let n = labels.len();
            let m = match fixed.m[k] {
                Some(m) => m.to_vec(),
                None => (0..n)
                    .map(|l| {
                        if l == 0 {
                            0.85
                        } else if l == n - 1 {
                            0.05
                        } else {
                            0.10 / (n - 2) as f64
                        }
                    })
                    .collect(),
            };
            FieldModel {
                name: name.clone(),
                labels: labels.clone(),
                u: fixed.u[k].map(|u| u.to_vec()).unwrap_or(u),
                m,
                weights: vec![],
            }
        })
        .collect();
    let mut model = Model {
        prior: fixed.prior.unwrap_or(0.1),
        fields,
        iterations: 0,
    };
    let estimate_m = fixed.m.iter().any(Option::is_none);
    let total: f64 = patterns.iter().map(|p| p.1 as f64).sum();
    if total > 0.0 && (estimate_m || fixed.prior.is_none()) {
        for it in 0..max_iterations {
            model.refresh_weights();
            let mut acc: Vec<Vec<f64>> = model
                .fields
                .iter()
                .map(|f| vec![0.0; f.labels.len()])
                .collect();
            let mut matched = 0.0;
            for &(g, c) in patterns {
                let p = Model::probability(model.weight(g));
                let pc = p * c as f64;
                matched += pc;
                for (k, a) in acc.iter_mut().enumerate() {
                    let l = level_of(g, k);
                    if l != NULL {
                        a[l as usize] += pc;
                    }
                }
            }
            let mut change: f64 = 0.0;
            if fixed.prior.is_none() {
                let p = (matched / total).clamp(1e-9, 1.0 - 1e-9);
                change = change.max((p - model.prior).abs());
                model.prior = p;
            }
            for (k, f) in model.fields.iter_mut().enumerate() {
                if fixed.m[k].is_some() {
                    continue;
                }
                let sum: f64 = acc[k].iter().sum();
                if sum <= 0.0 {
                    continue;
                }
                let n = acc[k].len() as f64;
                for (l, m) in f.m.iter_mut().enumerate() {
                    // A little smoothing keeps unseen levels possible.
                    let new = (acc[k][l] + 1e-3) / (sum + 1e-3 * n);
                    change = change.max((new - *m).abs());
                    *m = new;
                }
            }
            model.iterations = it + 1;
            if change < 1e-6 {
                break;
            }
        }
    }
    model.refresh_weights();
    model
}

//! Predictive conversion score: the probability that an open lead converts, learnt from closed
//! leads (converted = won; refused = lost; junk is left out).
//!
//! Pure learning code. The caller supplies [`Example`]s (closed leads with their outcome) and
//! [`LeadFeatures`] of open leads; [`train`] returns a [`ConversionModel`] that serializes to JSON.
//!
//! - Features: one-hot categorical fields (source, medium, campaign, form, product, country and
//!   every fit field), phone and email validity, `log(1 + count)` per behaviour and the first
//!   response time (log minutes, or a "no response yet" flag). Each categorical field keeps its
//!   most frequent values; rarer and unseen values fall to the field's baseline (no column).
//! - Model: L2-regularized logistic regression fitted by Newton's method (iteratively reweighted
//!   least squares) over sparse rows, then Platt-calibrated on a held-out split.
//! - Report: AUC, calibration deciles, Brier score and top features on a second held-out split,
//!   beside the naive-Bayes frequency baseline ([`baseline`]) evaluated on the same rows.

pub mod baseline;
mod encode;
pub mod features;
mod logistic;
pub mod metrics;
pub mod synthetic;

pub use baseline::NaiveBayes;
pub use encode::Encoder;
pub use logistic::{fit_logistic, Fit, LogisticOptions};
pub use metrics::{auc, brier, calibration_table, CalibrationBin};

use crate::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the model's JSON layout; a stored model of another version is retrained, not read.
pub const MODEL_FORMAT: u32 = 1;

/// Fewest closed leads a model is trained on.
pub const MIN_CLOSED: usize = 20;
/// Fewest leads of each outcome (won and lost) a model is trained on.
pub const MIN_PER_OUTCOME: usize = 5;

/// What is known about one lead, as a plain row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LeadFeatures {
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub form: Option<String>,
    pub product: Option<String>,
    pub country: Option<String>,
    pub phone_valid: bool,
    pub email_valid: bool,
    /// Profile ("fit") fields by name: position, company, kind of request, value band …
    pub fit: BTreeMap<String, String>,
    /// Behaviour counts by name: touches, touches per channel, tracked events …
    pub behaviour: BTreeMap<String, i64>,
    /// Time from creation to the first time a person worked the lead.
    pub first_response_ms: Option<Millis>,
}

/// A closed lead: its features and whether it converted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub features: LeadFeatures,
    pub won: bool,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PredictError {
    #[error(
        "too few closed leads to learn from: {closed} closed ({won} converted, {lost} refused); \
         need at least {MIN_CLOSED} with {MIN_PER_OUTCOME} of each outcome"
    )]
    TooFew {
        closed: usize,
        won: usize,
        lost: usize,
    },
    #[error("stored model has format {0}, expected {MODEL_FORMAT}: retrain it")]
    Format(u32),
}

/// How a model is trained.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Share of closed leads kept for calibration (Platt scaling).
    pub calibration_share: f64,
    /// Share of closed leads kept for the report (never seen by fitting or calibration).
    pub test_share: f64,
    /// Seed of the split, so the same data gives the same model.
    pub seed: u64,
    /// Most values kept per categorical field.
    pub max_values: usize,
    pub logistic: LogisticOptions,
    /// How many features the report lists.
    pub top_features: usize,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            calibration_share: 0.15,
            test_share: 0.2,
            seed: 20_261_122,
            max_values: 64,
            logistic: LogisticOptions::default(),
            top_features: 15,
        }
    }
}

/// Platt scaling of the regression's raw score: `p = σ(a·z + b)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Platt {
    pub a: f64,
    pub b: f64,
}

/// Calibration rows of each outcome needed before Platt scaling is trusted.
const MIN_CALIBRATION_PER_OUTCOME: f64 = 10.0;

impl Platt {
    pub const IDENTITY: Platt = Platt { a: 1.0, b: 0.0 };

    pub fn apply(&self, z: f64) -> f64 {
        sigmoid(self.a * z + self.b)
    }

    /// Fits `a`, `b` by Newton's method with Platt's smoothed targets. Falls back to the identity
    /// when the held-out rows cannot support a calibration (fewer than ten of an outcome, or a
    /// reversed slope).
    pub fn fit(scores: &[f64], won: &[bool]) -> Platt {
        let pos = won.iter().filter(|w| **w).count() as f64;
        let neg = won.len() as f64 - pos;
        // A handful of rows (a small database's first training) fits a flat line as readily as
        // the real slope; the regression's own probabilities are the better guess then.
        if pos < MIN_CALIBRATION_PER_OUTCOME || neg < MIN_CALIBRATION_PER_OUTCOME {
            return Platt::IDENTITY;
        }
        let (t_pos, t_neg) = ((pos + 1.0) / (pos + 2.0), 1.0 / (neg + 2.0));
        let (mut a, mut b) = (1.0f64, 0.0f64);
        let loss = |a: f64, b: f64| -> f64 {
            scores
                .iter()
                .zip(won)
                .map(|(z, w)| {
                    let t = if *w { t_pos } else { t_neg };
                    let m = a * z + b;
                    // −[t·log σ(m) + (1−t)·log(1−σ(m))], stably.
                    softplus(m) - t * m
                })
                .sum::<f64>()
                + 1e-6 * (a * a + b * b)
        };
        let mut current = loss(a, b);
        for _ in 0..100 {
            let (mut g_a, mut g_b, mut h_aa, mut h_ab, mut h_bb) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (z, w) in scores.iter().zip(won) {
                let t = if *w { t_pos } else { t_neg };
                let p = sigmoid(a * z + b);
                let d = p - t;
                let s = (p * (1.0 - p)).max(1e-12);
                g_a += d * z;
                g_b += d;
                h_aa += s * z * z;
                h_ab += s * z;
                h_bb += s;
            }
            g_a += 2e-6 * a;
            g_b += 2e-6 * b;
            h_aa += 2e-6;
            h_bb += 2e-6;
            let det = h_aa * h_bb - h_ab * h_ab;
            if det.abs() < 1e-300 {
                break;
            }
            let da = (h_bb * g_a - h_ab * g_b) / det;
            let db = (h_aa * g_b - h_ab * g_a) / det;
            let mut step = 1.0;
            let mut moved = false;
            while step > 1e-10 {
                let (na, nb) = (a - step * da, b - step * db);
                let l = loss(na, nb);
                if l <= current {
                    moved = (na - a).abs() + (nb - b).abs() > 1e-12;
                    a = na;
                    b = nb;
                    current = l;
                    break;
                }
                step /= 2.0;
            }
            if !moved || (da.abs() + db.abs()) * step < 1e-10 {
                break;
            }
        }
        if a <= 0.0 || !a.is_finite() || !b.is_finite() {
            Platt::IDENTITY
        } else {
            Platt { a, b }
        }
    }
}

/// A feature and its weight in the regression (log-odds per unit of the feature).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureWeight {
    pub feature: String,
    pub weight: f64,
}

/// How a scorer did on the held-out rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub auc: f64,
    pub brier: f64,
    /// Deciles of predicted probability: mean predicted against observed conversion rate.
    pub calibration: Vec<CalibrationBin>,
}

/// Figures of a trained model, stored with it and shown by `voronka model report`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Closed leads the model learnt from, all splits together.
    pub closed: usize,
    pub won: usize,
    pub lost: usize,
    pub fit_rows: usize,
    pub calibration_rows: usize,
    pub test_rows: usize,
    /// Newton iterations of the regression.
    pub iterations: usize,
    pub model: Evaluation,
    /// The naive-Bayes frequency baseline on the same held-out rows.
    pub baseline: Evaluation,
    pub top_features: Vec<FeatureWeight>,
    /// The baseline's field values with the largest log likelihood ratio.
    #[serde(default)]
    pub baseline_top_features: Vec<FeatureWeight>,
}

/// The trained model: encoding, weights, calibration and the figures it was trained with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversionModel {
    pub format: u32,
    pub trained_at: Millis,
    pub encoder: Encoder,
    pub intercept: f64,
    pub weights: Vec<f64>,
    pub platt: Platt,
    pub metrics: Metrics,
}

impl ConversionModel {
    /// The regression's raw score (log-odds before calibration).
    pub fn raw_score(&self, f: &LeadFeatures) -> f64 {
        let mut z = self.intercept;
        self.encoder
            .for_each(f, |col, v| z += self.weights[col] * v);
        z
    }

    /// Calibrated probability of conversion.
    pub fn probability(&self, f: &LeadFeatures) -> f64 {
        self.platt.apply(self.raw_score(f))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(s: &str) -> Result<ConversionModel, String> {
        #[derive(Deserialize)]
        struct Head {
            format: u32,
        }
        let head: Head = serde_json::from_str(s).map_err(|e| e.to_string())?;
        if head.format != MODEL_FORMAT {
            return Err(PredictError::Format(head.format).to_string());
        }
        serde_json::from_str(s).map_err(|e| e.to_string())
    }
}

pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `log(1 + e^m)` without overflow.
pub(crate) fn softplus(m: f64) -> f64 {
    if m > 0.0 {
        m + (-m).exp().ln_1p()
    } else {
        m.exp().ln_1p()
    }
}

/// Which split each example falls in: stratified by outcome, shuffled by the seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Fit,
    Calibrate,
    Test,
}

fn split(examples: &[Example], opts: &TrainOptions) -> Vec<Part> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(opts.seed);
    let mut parts = vec![Part::Fit; examples.len()];
    for outcome in [true, false] {
        let mut idx: Vec<usize> = (0..examples.len())
            .filter(|&i| examples[i].won == outcome)
            .collect();
        idx.shuffle(&mut rng);
        let n = idx.len();
        // At least one row of each outcome in each held-out split when there are enough.
        let test = ((n as f64 * opts.test_share).round() as usize).max(1.min(n / 3));
        let cal = ((n as f64 * opts.calibration_share).round() as usize).max(1.min(n / 3));
        for (k, &i) in idx.iter().enumerate() {
            parts[i] = if k < test {
                Part::Test
            } else if k < test + cal {
                Part::Calibrate
            } else {
                Part::Fit
            };
        }
    }
    parts
}

fn evaluate(probabilities: &[f64], won: &[bool]) -> Evaluation {
    Evaluation {
        auc: auc(probabilities, won),
        brier: brier(probabilities, won),
        calibration: calibration_table(probabilities, won, 10),
    }
}

/// Trains the model on closed leads; `now` is stored as its training date.
pub fn train(
    examples: &[Example],
    opts: &TrainOptions,
    now: Millis,
) -> Result<ConversionModel, PredictError> {
    let won = examples.iter().filter(|e| e.won).count();
    let lost = examples.len() - won;
    if examples.len() < MIN_CLOSED || won < MIN_PER_OUTCOME || lost < MIN_PER_OUTCOME {
        return Err(PredictError::TooFew {
            closed: examples.len(),
            won,
            lost,
        });
    }
    let parts = split(examples, opts);
    let pick = |p: Part| -> Vec<&Example> {
        examples
            .iter()
            .zip(&parts)
            .filter(|(_, q)| **q == p)
            .map(|(e, _)| e)
            .collect()
    };
    let (fit_rows, cal_rows, test_rows) =
        (pick(Part::Fit), pick(Part::Calibrate), pick(Part::Test));

    let encoder = Encoder::build(fit_rows.iter().map(|e| &e.features), opts.max_values);
    let matrix = encoder.encode_all(fit_rows.iter().map(|e| &e.features));
    let labels: Vec<bool> = fit_rows.iter().map(|e| e.won).collect();
    let fit = fit_logistic(&matrix, &labels, encoder.width(), &opts.logistic);

    let mut model = ConversionModel {
        format: MODEL_FORMAT,
        trained_at: now,
        encoder,
        intercept: fit.intercept,
        weights: fit.weights,
        platt: Platt::IDENTITY,
        metrics: Metrics {
            closed: examples.len(),
            won,
            lost,
            fit_rows: fit_rows.len(),
            calibration_rows: cal_rows.len(),
            test_rows: test_rows.len(),
            iterations: fit.iterations,
            model: evaluate(&[], &[]),
            baseline: evaluate(&[], &[]),
            top_features: Vec::new(),
            baseline_top_features: Vec::new(),
        },
    };
    let cal_scores: Vec<f64> = cal_rows
        .iter()
        .map(|e| model.raw_score(&e.features))
        .collect();
    let cal_won: Vec<bool> = cal_rows.iter().map(|e| e.won).collect();
    model.platt = Platt::fit(&cal_scores, &cal_won);

    let test_won: Vec<bool> = test_rows.iter().map(|e| e.won).collect();
    let ours: Vec<f64> = test_rows
        .iter()
        .map(|e| model.probability(&e.features))
        .collect();
    // The baseline learns from the same rows as ours (fit and calibration together).
    let nb = NaiveBayes::train(
        fit_rows
            .iter()
            .chain(cal_rows.iter())
            .map(|e| (&e.features, e.won)),
    );
    let theirs: Vec<f64> = test_rows
        .iter()
        .map(|e| nb.probability(&e.features))
        .collect();
    model.metrics.model = evaluate(&ours, &test_won);
    model.metrics.baseline = evaluate(&theirs, &test_won);
    model.metrics.top_features = model.top_features(opts.top_features);
    let support = (examples.len() as f64 / 1000.0).max(2.0);
    model.metrics.baseline_top_features = nb.top_values(opts.top_features, support);
    Ok(model)
}

impl ConversionModel {
    /// Features with the largest weights (either sign), largest first.
    pub fn top_features(&self, n: usize) -> Vec<FeatureWeight> {
        let mut all: Vec<FeatureWeight> = self
            .weights
            .iter()
            .enumerate()
            .map(|(i, w)| FeatureWeight {
                feature: self.encoder.column_name(i),
                weight: *w,
            })
            .collect();
        all.sort_by(|a, b| b.weight.abs().total_cmp(&a.weight.abs()));
        all.truncate(n);
        all
    }
}

#[cfg(test)]
mod tests;

//! Turns [`LeadFeatures`] into sparse numeric rows.

use super::LeadFeatures;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The fixed categorical fields, in column order; fit fields follow under `fit.<name>`.
const FIELDS: [&str; 6] = ["source", "medium", "campaign", "form", "product", "country"];
/// Columns before the behaviour and categorical ones.
const FIXED: usize = 4;
const PHONE_VALID: usize = 0;
const EMAIL_VALID: usize = 1;
const RESPONSE_LOG_MINUTES: usize = 2;
const NO_RESPONSE: usize = 3;
/// Value of an absent categorical field.
pub const NONE_VALUE: &str = "(none)";
/// A value must appear this often among the training rows to get a column of its own.
const MIN_COUNT: usize = 2;

/// A categorical field and the values that have columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalField {
    pub field: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct EncoderSpec {
    behaviour: Vec<String>,
    categorical: Vec<CategoricalField>,
}

/// Column layout of the model: fixed columns, one per behaviour, one per kept categorical value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "EncoderSpec", into = "EncoderSpec")]
pub struct Encoder {
    behaviour: Vec<String>,
    categorical: Vec<CategoricalField>,
    behaviour_cols: HashMap<String, usize>,
    /// Per categorical field: value → column.
    value_cols: Vec<HashMap<String, usize>>,
    /// Position of each fit field in `categorical`.
    fit_fields: HashMap<String, usize>,
}

impl From<EncoderSpec> for Encoder {
    fn from(s: EncoderSpec) -> Encoder {
        let behaviour_cols = s
            .behaviour
            .iter()
            .enumerate()
            .map(|(i, b)| (b.clone(), FIXED + i))
            .collect();
        let mut next = FIXED + s.behaviour.len();
        let mut value_cols = Vec::with_capacity(s.categorical.len());
        let mut fit_fields = HashMap::new();
        for (k, f) in s.categorical.iter().enumerate() {
            let mut m = HashMap::with_capacity(f.values.len());
            for v in &f.values {
                m.insert(v.clone(), next);
                next += 1;
            }
            value_cols.push(m);
            if let Some(name) = f.field.strip_prefix("fit.") {
                fit_fields.insert(name.to_string(), k);
            }
        }
        Encoder {
            behaviour: s.behaviour,
            categorical: s.categorical,
            behaviour_cols,
            value_cols,
            fit_fields,
        }
    }
}

impl From<Encoder> for EncoderSpec {
    fn from(e: Encoder) -> EncoderSpec {
        EncoderSpec {
            behaviour: e.behaviour,
            categorical: e.categorical,
        }
    }
}

/// Trimmed and lowercased, so that "Google" and "google " are one value.
fn value_key(v: Option<&str>) -> String {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => v.to_lowercase(),
        None => NONE_VALUE.to_string(),
    }
}

fn fixed_values(f: &LeadFeatures) -> [Option<&str>; 6] {
    [
        f.source.as_deref(),
        f.medium.as_deref(),
        f.campaign.as_deref(),
        f.form.as_deref(),
        f.product.as_deref(),
        f.country.as_deref(),
    ]
}

/// Sparse rows: row `i` is `cols[ptr[i]..ptr[i+1]]` with the same range of `vals`.
#[derive(Debug, Clone, Default)]
pub struct Matrix {
    pub ptr: Vec<usize>,
    pub cols: Vec<u32>,
    pub vals: Vec<f64>,
}

impl Matrix {
    pub fn rows(&self) -> usize {
        self.ptr.len().saturating_sub(1)
    }
    pub fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let (a, b) = (self.ptr[i], self.ptr[i + 1]);
        (&self.cols[a..b], &self.vals[a..b])
    }
}

impl Encoder {
    /// Learns the layout from training rows: every behaviour name seen, and per categorical
    /// field its most frequent values (at most `max_values`, each seen at least twice).
    pub fn build<'a>(rows: impl Iterator<Item = &'a LeadFeatures>, max_values: usize) -> Encoder {
        let mut behaviour: BTreeMap<String, usize> = BTreeMap::new();
        let mut fixed: Vec<HashMap<String, usize>> = vec![HashMap::new(); FIELDS.len()];
        let mut fit: BTreeMap<String, HashMap<String, usize>> = BTreeMap::new();
        let mut n = 0usize;
        for f in rows {
            n += 1;
            for (k, v) in fixed_values(f).into_iter().enumerate() {
                *fixed[k].entry(value_key(v)).or_default() += 1;
            }
            for (name, v) in &f.fit {
                *fit.entry(name.clone())
                    .or_default()
                    .entry(value_key(Some(v)))
                    .or_default() += 1;
            }
            for (name, c) in &f.behaviour {
                if *c != 0 {
                    *behaviour.entry(name.clone()).or_default() += 1;
                }
            }
        }
        let keep = |counts: HashMap<String, usize>| -> Vec<String> {
            let mut v: Vec<(String, usize)> = counts
                .into_iter()
                .filter(|(_, c)| *c >= MIN_COUNT)
                .collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v.truncate(max_values);
            v.into_iter().map(|(s, _)| s).collect()
        };
        let mut categorical: Vec<CategoricalField> = FIELDS
            .iter()
            .zip(fixed)
            .map(|(name, counts)| CategoricalField {
                field: name.to_string(),
                values: keep(counts),
            })
            .collect();
        for (name, counts) in fit {
            // A fit field missing from a row is a value of its own.
            let mut counts = counts;
            let seen: usize = counts.values().sum();
            if n > seen {
                *counts.entry(NONE_VALUE.to_string()).or_default() += n - seen;
            }
            categorical.push(CategoricalField {
                field: format!("fit.{name}"),
                values: keep(counts),
            });
        }
        Encoder::from(EncoderSpec {
            behaviour: behaviour
                .into_iter()
                .filter(|(_, c)| *c >= MIN_COUNT)
                .map(|(b, _)| b)
                .collect(),
            categorical,
        })
    }

    /// Number of columns (without the intercept).
    pub fn width(&self) -> usize {
        FIXED + self.behaviour.len() + self.value_cols.iter().map(HashMap::len).sum::<usize>()
    }

    /// Calls `put(column, value)` for every non-zero column of the row.
    pub fn for_each(&self, f: &LeadFeatures, mut put: impl FnMut(usize, f64)) {
        if f.phone_valid {
            put(PHONE_VALID, 1.0);
        }
        if f.email_valid {
            put(EMAIL_VALID, 1.0);
        }
        match f.first_response_ms {
            Some(ms) => {
                let minutes = ms.max(0) as f64 / 60_000.0;
                let v = minutes.ln_1p();
                if v != 0.0 {
                    put(RESPONSE_LOG_MINUTES, v);
                }
            }
            None => put(NO_RESPONSE, 1.0),
        }
        for (name, c) in &f.behaviour {
            if let Some(&col) = self.behaviour_cols.get(name) {
                let v = (*c).max(0) as f64;
                if v > 0.0 {
                    put(col, v.ln_1p());
                }
            }
        }
        for (k, v) in fixed_values(f).into_iter().enumerate() {
            if let Some(&col) = self.value_cols[k].get(&value_key(v)) {
                put(col, 1.0);
            }
        }
        for (name, &k) in &self.fit_fields {
            let v = f.fit.get(name).map(String::as_str);
            if let Some(&col) = self.value_cols[k].get(&value_key(v)) {
                put(col, 1.0);
            }
        }
    }

    pub fn encode_all<'a>(&self, rows: impl Iterator<Item = &'a LeadFeatures>) -> Matrix {
        let mut m = Matrix {
            ptr: vec![0],
            ..Default::default()
        };
        for f in rows {
            self.for_each(f, |c, v| {
                m.cols.push(c as u32);
                m.vals.push(v);
            });
            m.ptr.push(m.cols.len());
        }
        m
    }

    /// What a column stands for, as shown in the report.
    pub fn column_name(&self, col: usize) -> String {
        match col {
            PHONE_VALID => return "phone valid".into(),
            EMAIL_VALID => return "email valid".into(),
            RESPONSE_LOG_MINUTES => return "first response time (log minutes)".into(),
            NO_RESPONSE => return "no response yet".into(),
            _ => {}
        }
        let mut c = col - FIXED;
        if c < self.behaviour.len() {
            return format!("{} (log count)", self.behaviour[c]);
        }
        c -= self.behaviour.len();
        for f in &self.categorical {
            if c < f.values.len() {
                return format!("{} = {}", f.field, f.values[c]);
            }
            c -= f.values.len();
        }
        format!("column {col}")
    }

    pub fn categorical(&self) -> &[CategoricalField] {
        &self.categorical
    }

    pub fn behaviour(&self) -> &[String] {
        &self.behaviour
    }
}

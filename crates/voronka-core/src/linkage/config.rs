//! Linkage settings, loadable from TOML:
//!
//! ```toml
//! id = "rec_id"                 # column with the record id (default: row number)
//! threshold = 0.5               # probability above which a pair is accepted
//! blocking = ["given_name:translit & surname:translit", "date_of_birth", "soc_sec_id"]
//!
//! [[fields]]
//! name = "surname"
//! comparator = "name"           # exact, jaro_winkler, name, phone, email, date, id
//! swap_with = "given_name"      # also notice the two name fields swapped
//! ```
//!
//! A blocking rule is one or more key parts joined by `&`; a part is a column with an
//! optional transform after a colon: `translit`, `name`, `digits`, `year`, `prefixN`
//! (first N characters), `suffixN`. Columns joined by `+` form one value
//! (`given_name+surname:name` ignores the order of the two). Candidate pairs are the pairs that share every part of at
//! least one rule.

use serde::{Deserialize, Serialize};

use super::LinkError;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkConfig {
    /// Column holding the record id; the row number (from 1) when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Probability at or above which a pair is accepted.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// In linking, let each record match at most one record of the other table
    /// (the most probable), for tables known to hold each person once.
    #[serde(default)]
    pub one_to_one: bool,
    /// Blocks larger than this are skipped: their pairs would swamp the comparison.
    #[serde(default = "default_max_block")]
    pub max_block: usize,
    /// Random record pairs compared to estimate how often non-matches agree (u).
    #[serde(default = "default_u_sample")]
    pub u_sample: usize,
    /// Seed of the random pair sample.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Iterations of expectation–maximisation at most.
    #[serde(default = "default_em_iterations")]
    pub em_iterations: usize,
    /// Prior probability that a candidate pair is a match; estimated when absent.
    #[serde(default)]
    pub prior: Option<f64>,
    pub blocking: Vec<String>,
    pub fields: Vec<FieldConfig>,
}

fn default_threshold() -> f64 {
    0.5
}
fn default_max_block() -> usize {
    1000
}
fn default_u_sample() -> usize {
    20_000
}
fn default_seed() -> u64 {
    42
}
fn default_em_iterations() -> usize {
    40
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComparatorKind {
    /// Equal after trimming, case folding and punctuation removal, or not.
    Exact,
    /// Jaro–Winkler similarity levels (`levels`, default 0.92 and 0.8).
    JaroWinkler,
    /// Person names: exact, same transliteration key, swapped with `swap_with`, then
    /// Jaro–Winkler levels on the transliteration keys.
    Name,
    /// Phone numbers as digits: exact, one edit apart.
    Phone,
    /// Email addresses: exact, same local part, Jaro–Winkler ≥ 0.88.
    Email,
    /// Dates (YYYYMMDD, YYYY-MM-DD, DD.MM.YYYY, DD/MM/YYYY): exact, one typo or day and month
    /// swapped, two typos.
    Date,
    /// Identifiers, numbers and postcodes as letters and digits: exact, then edit distances
    /// (`levels`, default 1 and 2).
    #[serde(alias = "numeric", alias = "postcode")]
    Id,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldConfig {
    /// Name of the comparison (shown in explanations and output columns).
    pub name: String,
    pub comparator: ComparatorKind,
    /// Column compared; defaults to `name`.
    #[serde(default)]
    pub column: Option<String>,
    /// Several columns compared as one value (joined by spaces), instead of `column`.
    #[serde(default)]
    pub columns: Vec<String>,
    /// Thresholds of the fuzzy levels: similarities for Jaro–Winkler and names (descending),
    /// edit distances for identifiers (ascending).
    #[serde(default)]
    pub levels: Vec<f64>,
    /// For names: another comparison whose values, if equal crosswise, count as a swap.
    #[serde(default)]
    pub swap_with: Option<String>,
    /// Fixed probabilities of each level among matches; estimated when absent.
    #[serde(default)]
    pub m: Option<Vec<f64>>,
    /// Fixed probabilities of each level among non-matches; estimated when absent.
    #[serde(default)]
    pub u: Option<Vec<f64>>,
}

impl FieldConfig {
    pub fn source_columns(&self) -> Vec<String> {
        if !self.columns.is_empty() {
            self.columns.clone()
        } else {
            vec![self.column.clone().unwrap_or_else(|| self.name.clone())]
        }
    }
}

impl LinkConfig {
    pub fn from_toml(text: &str) -> Result<LinkConfig, LinkError> {
        let c: LinkConfig = toml_parse(text)?;
        c.check()?;
        Ok(c)
    }

    /// Checks what the types cannot say.
    pub fn check(&self) -> Result<(), LinkError> {
        let bad = |m: String| Err(LinkError::Config(m));
        if self.fields.is_empty() {
            return bad("at least one field to compare is needed".into());
        }
        if self.fields.len() > 16 {
            return bad("at most 16 fields can be compared".into());
        }
        if self.blocking.is_empty() {
            return bad("at least one blocking rule is needed".into());
        }
        if !(0.0..=1.0).contains(&self.threshold) {
            return bad("threshold must be between 0 and 1".into());
        }
        if let Some(p) = self.prior {
            if !(p > 0.0 && p < 1.0) {
                return bad("prior must be between 0 and 1 (exclusive)".into());
            }
        }
        for (i, f) in self.fields.iter().enumerate() {
            if self.fields[..i].iter().any(|g| g.name == f.name) {
                return bad(format!("field {:?} is listed twice", f.name));
            }
            if let Some(s) = &f.swap_with {
                if f.comparator != ComparatorKind::Name {
                    return bad(format!(
                        "field {:?}: swap_with needs comparator name",
                        f.name
                    ));
                }
                if !self.fields.iter().any(|g| &g.name == s) {
                    return bad(format!(
                        "field {:?}: swap_with names no field {s:?}",
                        f.name
                    ));
                }
            }
            if f.levels.len() > 8 {
                return bad(format!("field {:?}: at most 8 levels", f.name));
            }
        }
        Ok(())
    }
}

// Parsing only: reading the file is the caller's business.
fn toml_parse(text: &str) -> Result<LinkConfig, LinkError> {
    toml::from_str(text).map_err(|e| LinkError::Config(e.message().to_string()))
}

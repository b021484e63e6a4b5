//! How well probabilities rank and how honest they are.

use serde::{Deserialize, Serialize};

/// Area under the ROC curve: the chance that a random converted lead is scored above a random
/// lost one (ties count half). 0.5 when either outcome is absent.
pub fn auc(scores: &[f64], won: &[bool]) -> f64 {
    let pos = won.iter().filter(|w| **w).count();
    let neg = won.len() - pos;
    if pos == 0 || neg == 0 {
        return 0.5;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
    // Mann–Whitney: sum of the converted leads' ranks, ties given their average rank.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in &idx[i..=j] {
            if won[*k] {
                rank_sum += avg;
            }
        }
        i = j + 1;
    }
    let (p, n) = (pos as f64, neg as f64);
    (rank_sum - p * (p + 1.0) / 2.0) / (p * n)
}

/// Mean squared difference between probability and outcome.
pub fn brier(probabilities: &[f64], won: &[bool]) -> f64 {
    if probabilities.is_empty() {
        return 0.0;
    }
    probabilities
        .iter()
        .zip(won)
        .map(|(p, w)| {
            let y = if *w { 1.0 } else { 0.0 };
            (p - y) * (p - y)
        })
        .sum::<f64>()
        / probabilities.len() as f64
}

/// One bin of the calibration table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    pub leads: usize,
    /// Mean predicted probability in the bin.
    pub predicted: f64,
    /// Share of the bin's leads that converted.
    pub observed: f64,
}

/// Equal-count bins by predicted probability (deciles for `bins = 10`), lowest first.
pub fn calibration_table(probabilities: &[f64], won: &[bool], bins: usize) -> Vec<CalibrationBin> {
    let n = probabilities.len();
    if n == 0 || bins == 0 {
        return Vec::new();
    }
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|a, b| probabilities[*a].total_cmp(&probabilities[*b]));
    let bins = bins.min(n);
    (0..bins)
        .map(|b| {
            let part = &idx[b * n / bins..(b + 1) * n / bins];
            let k = part.len().max(1) as f64;
            CalibrationBin {
                leads: part.len(),
                predicted: part.iter().map(|i| probabilities[*i]).sum::<f64>() / k,
                observed: part.iter().filter(|i| won[**i]).count() as f64 / k,
            }
        })
        .collect()
}

/// Largest gap between predicted and observed over the bins, weighted by bin size
/// (expected calibration error).
pub fn calibration_error(table: &[CalibrationBin]) -> f64 {
    let total: usize = table.iter().map(|b| b.leads).sum();
    if total == 0 {
        return 0.0;
    }
    table
        .iter()
        .map(|b| b.leads as f64 * (b.predicted - b.observed).abs())
        .sum::<f64>()
        / total as f64
}

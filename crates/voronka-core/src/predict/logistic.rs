//! L2-regularized logistic regression fitted by Newton's method over sparse rows.
//!
//! With a few hundred columns the Hessian is small, so each iteration is one pass over the rows
//! (accumulating gradient and Hessian) and a Cholesky solve; a handful of iterations converge.
//! The label is explicit (`true` = converted), so the probability is always that of conversion.

use super::encode::Matrix;
use super::{sigmoid, softplus};

#[derive(Debug, Clone)]
pub struct LogisticOptions {
    /// Strength of the L2 penalty on the weights (not on the intercept).
    pub l2: f64,
    pub max_iterations: usize,
    /// Stop when no parameter moves by more than this.
    pub tolerance: f64,
    /// Threads that accumulate the gradient and Hessian (at least one).
    pub threads: usize,
}

impl Default for LogisticOptions {
    fn default() -> Self {
        LogisticOptions {
            l2: 1.0,
            max_iterations: 50,
            tolerance: 1e-7,
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
                .min(8),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub intercept: f64,
    pub weights: Vec<f64>,
    pub iterations: usize,
    pub converged: bool,
}

/// Parameter vector: `[intercept, w_0, w_1, …]`.
fn score(beta: &[f64], cols: &[u32], vals: &[f64]) -> f64 {
    let mut z = beta[0];
    for (c, v) in cols.iter().zip(vals) {
        z += beta[*c as usize + 1] * v;
    }
    z
}

fn penalized_loss(m: &Matrix, y: &[bool], beta: &[f64], l2: f64) -> f64 {
    let mut loss = 0.0;
    for (i, won) in y.iter().enumerate() {
        let (cols, vals) = m.row(i);
        let z = score(beta, cols, vals);
        loss += softplus(z) - if *won { z } else { 0.0 };
    }
    loss + 0.5 * l2 * beta[1..].iter().map(|b| b * b).sum::<f64>()
}

/// Gradient and upper triangle of the Hessian of the data term over rows `range`.
fn accumulate(
    m: &Matrix,
    y: &[bool],
    beta: &[f64],
    range: std::ops::Range<usize>,
) -> (Vec<f64>, Vec<f64>) {
    let d = beta.len();
    let mut g = vec![0.0; d];
    let mut h = vec![0.0; d * d];
    let mut idx: Vec<usize> = Vec::with_capacity(64);
    let mut val: Vec<f64> = Vec::with_capacity(64);
    for i in range {
        let (cols, vals) = m.row(i);
        let p = sigmoid(score(beta, cols, vals));
        let r = p - if y[i] { 1.0 } else { 0.0 };
        let w = (p * (1.0 - p)).max(1e-12);
        idx.clear();
        val.clear();
        idx.push(0);
        val.push(1.0);
        idx.extend(cols.iter().map(|c| *c as usize + 1));
        val.extend_from_slice(vals);
        for a in 0..idx.len() {
            let (ia, va) = (idx[a], val[a]);
            g[ia] += r * va;
            let wa = w * va;
            for b in a..idx.len() {
                let ib = idx[b];
                let (lo, hi) = if ia <= ib { (ia, ib) } else { (ib, ia) };
                h[lo * d + hi] += wa * val[b];
            }
        }
    }
    (g, h)
}

/// Solves `A x = b` for a symmetric positive definite `A` (full, row-major); `None` if it is not.
fn cholesky_solve(a: &[f64], b: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let mut s = a[i * d + j];
            for k in 0..j {
                s -= l[i * d + k] * l[j * d + k];
            }
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i * d + i] = s.sqrt();
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    }
    let mut z = vec![0.0; d];
    for i in 0..d {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * d + k] * z[k];
        }
        z[i] = s / l[i * d + i];
    }
    let mut x = vec![0.0; d];
    for i in (0..d).rev() {
        let mut s = z[i];
        for k in i + 1..d {
            s -= l[k * d + i] * x[k];
        }
        x[i] = s / l[i * d + i];
    }
    Some(x)
}

/// Fits `P(won | x) = σ(b + w·x)` on the rows of `m` (`width` columns).
pub fn fit_logistic(m: &Matrix, y: &[bool], width: usize, opts: &LogisticOptions) -> Fit {
    assert_eq!(m.rows(), y.len(), "one label per row");
    let d = width + 1;
    let n = y.len();
    let mut beta = vec![0.0; d];
    // Start the intercept at the base rate's log-odds.
    let pos = y.iter().filter(|w| **w).count() as f64;
    if pos > 0.0 && pos < n as f64 {
        beta[0] = (pos / (n as f64 - pos)).ln();
    }
    let threads = opts.threads.max(1).min(n.max(1));
    let mut loss = penalized_loss(m, y, &beta, opts.l2);
    let mut iterations = 0;
    let mut converged = false;
    while iterations < opts.max_iterations {
        iterations += 1;
        let chunk = n.div_ceil(threads).max(1);
        let parts: Vec<(Vec<f64>, Vec<f64>)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let range = (t * chunk).min(n)..((t + 1) * chunk).min(n);
                    let beta = &beta;
                    s.spawn(move || accumulate(m, y, beta, range))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("accumulating thread"))
                .collect()
        });
        let mut g = vec![0.0; d];
        let mut h = vec![0.0; d * d];
        for (pg, ph) in parts {
            for (a, b) in g.iter_mut().zip(pg) {
                *a += b;
            }
            for (a, b) in h.iter_mut().zip(ph) {
                *a += b;
            }
        }
        // Penalty, then mirror the upper triangle.
        for j in 1..d {
            g[j] += opts.l2 * beta[j];
            h[j * d + j] += opts.l2;
        }
        h[0] += 1e-9;
        for i in 0..d {
            for j in 0..i {
                h[i * d + j] = h[j * d + i];
            }
        }
        let mut jitter = 0.0;
        let step = loop {
            if let Some(x) = cholesky_solve(&h, &g, d) {
                break x;
            }
            jitter = if jitter == 0.0 { 1e-8 } else { jitter * 10.0 };
            for j in 0..d {
                h[j * d + j] += jitter;
            }
        };
        // Step halving keeps every iteration a descent.
        let mut t = 1.0;
        let mut moved = 0.0f64;
        loop {
            let trial: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b - t * s).collect();
            let l = penalized_loss(m, y, &trial, opts.l2);
            if l <= loss || t < 1e-10 {
                if l <= loss {
                    moved = step.iter().fold(0.0f64, |acc, s| acc.max((t * s).abs()));
                    beta = trial;
                    loss = l;
                }
                break;
            }
            t /= 2.0;
        }
        if moved < opts.tolerance {
            converged = true;
            break;
        }
    }
    Fit {
        intercept: beta[0],
        weights: beta[1..].to_vec(),
        iterations,
        converged,
    }
}

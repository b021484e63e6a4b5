//! Blocking: records sharing every key part of a rule become candidate pairs. The union over
//! rules is deduplicated without a set: a pair found by rule k is kept only if no earlier rule
//! also joins it.

use super::table::{hash_str, Table};
use super::LinkError;
use crate::names;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transform {
    Plain,
    Translit,
    Name,
    Digits,
    Year,
    Prefix(usize),
    Suffix(usize),
}

#[derive(Debug, Clone)]
struct Part {
    column: String,
    transform: Transform,
}

/// A parsed blocking rule such as `surname:translit & date_of_birth:year`.
#[derive(Debug, Clone)]
pub struct Rule {
    pub text: String,
    parts: Vec<Part>,
}

impl Rule {
    pub fn parse(text: &str) -> Result<Rule, LinkError> {
        let mut parts = Vec::new();
        for p in text.split('&') {
            let p = p.trim();
            let (col, tr) = match p.split_once(':') {
                Some((c, t)) => (c.trim(), t.trim()),
                None => (p, ""),
            };
            if col.is_empty() {
                return Err(LinkError::Config(format!(
                    "blocking rule {text:?}: empty column"
                )));
            }
            let transform = match tr {
                "" => Transform::Plain,
                "translit" => Transform::Translit,
                "name" => Transform::Name,
                "digits" => Transform::Digits,
                "year" => Transform::Year,
                t => {
                    let num = |s: &str| s.parse::<usize>().ok().filter(|n| *n > 0);
                    if let Some(n) = t.strip_prefix("prefix").and_then(num) {
                        Transform::Prefix(n)
                    } else if let Some(n) = t.strip_prefix("suffix").and_then(num) {
                        Transform::Suffix(n)
                    } else {
                        return Err(LinkError::Config(format!(
                            "blocking rule {text:?}: unknown transform {t:?}"
                        )));
                    }
                }
            };
            parts.push(Part {
                column: col.to_string(),
                transform,
            });
        }
        Ok(Rule {
            text: text.to_string(),
            parts,
        })
    }

    /// One key hash per row; 0 when some part is empty (such rows join nothing).
    pub fn keys(&self, t: &Table) -> Result<Vec<u64>, LinkError> {
        let mut part_keys: Vec<Vec<u64>> = Vec::new();
        for p in &self.parts {
            if p.column.contains('+') {
                // Several columns joined by spaces, e.g. "given_name+surname:name".
                let cols = p
                    .column
                    .split('+')
                    .map(|c| {
                        t.column(c.trim())
                            .ok_or_else(|| LinkError::UnknownColumn(c.trim().to_string()))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let mut keys = Vec::with_capacity(t.len());
                let mut joined = String::new();
                for row in 0..t.len() {
                    joined.clear();
                    for &c in &cols {
                        joined.push_str(t.value(row, c));
                        joined.push(' ');
                    }
                    let v = transform(joined.trim(), p.transform);
                    keys.push(if v.is_empty() { 0 } else { hash_str(&v) | 1 });
                }
                part_keys.push(keys);
                continue;
            }
            let c = t
                .column(&p.column)
                .ok_or_else(|| LinkError::UnknownColumn(p.column.clone()))?;
            let pool = t.pool(c);
            // Transform each distinct value once.
            let mut memo = vec![None::<u64>; pool.len()];
            let mut keys = Vec::with_capacity(t.len());
            for row in 0..t.len() {
                let id = t.cell(row, c) as usize;
                let k = *memo[id].get_or_insert_with(|| {
                    let v = transform(pool.get(id as u32), p.transform);
                    if v.is_empty() {
                        0
                    } else {
                        hash_str(&v) | 1
                    }
                });
                keys.push(k);
            }
            part_keys.push(keys);
        }
        let mut out = Vec::with_capacity(t.len());
        for row in 0..t.len() {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            let mut null = false;
            for k in &part_keys {
                let k = k[row];
                if k == 0 {
                    null = true;
                    break;
                }
                h = (h ^ k).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(17);
            }
            out.push(if null { 0 } else { h | 1 });
        }
        Ok(out)
    }
}

fn transform(v: &str, t: Transform) -> String {
    match t {
        Transform::Plain => names::normalize_name(v),
        Transform::Translit => names::translit_key(v),
        Transform::Name => names::name_key(v),
        Transform::Digits => v.chars().filter(char::is_ascii_digit).collect(),
        Transform::Year => {
            let d: String = v.chars().filter(char::is_ascii_digit).collect();
            match super::compare::parse_date(v) {
                Some((y, _, _)) => y.to_string(),
                None if d.len() >= 4 => d[..4].to_string(),
                None => String::new(),
            }
        }
        Transform::Prefix(n) => names::normalize_name(v).chars().take(n).collect(),
        Transform::Suffix(n) => {
            let s = names::normalize_name(v);
            let len = s.chars().count();
            s.chars().skip(len.saturating_sub(n)).collect()
        }
    }
}

/// Candidate pairs and what blocking skipped.
#[derive(Debug, Default)]
pub struct Candidates {
    pub pairs: Vec<(u32, u32)>,
    /// Blocks left out because they were larger than `max_block`.
    pub skipped_blocks: usize,
}

fn sorted_keys(keys: &[u64]) -> Vec<(u64, u32)> {
    let mut v: Vec<(u64, u32)> = keys
        .iter()
        .enumerate()
        .filter(|(_, k)| **k != 0)
        .map(|(i, k)| (*k, i as u32))
        .collect();
    v.sort_unstable();
    v
}

fn earlier_joins(earlier: &[Vec<u64>], earlier_b: &[Vec<u64>], a: u32, b: u32) -> bool {
    earlier.iter().zip(earlier_b).any(|(ka, kb)| {
        let x = ka[a as usize];
        x != 0 && x == kb[b as usize]
    })
}

/// Pairs (i < j) within one table.
pub fn dedupe_pairs(keys: &[Vec<u64>], max_block: usize) -> Candidates {
    let mut out = Candidates::default();
    for (r, rule_keys) in keys.iter().enumerate() {
        let sorted = sorted_keys(rule_keys);
        let earlier = &keys[..r];
        let mut start = 0;
        while start < sorted.len() {
            let k = sorted[start].0;
            let mut end = start + 1;
            while end < sorted.len() && sorted[end].0 == k {
                end += 1;
            }
            let block = &sorted[start..end];
            if block.len() > max_block {
                out.skipped_blocks += 1;
            } else {
                for (x, &(_, i)) in block.iter().enumerate() {
                    for &(_, j) in &block[x + 1..] {
                        if !earlier_joins(earlier, earlier, i, j) {
                            out.pairs.push((i, j));
                        }
                    }
                }
            }
            start = end;
        }
    }
    out
}

/// Pairs (i in A, j in B) across two tables.
pub fn link_pairs(keys_a: &[Vec<u64>], keys_b: &[Vec<u64>], max_block: usize) -> Candidates {
    let mut out = Candidates::default();
    for r in 0..keys_a.len() {
        let sa = sorted_keys(&keys_a[r]);
        let sb = sorted_keys(&keys_b[r]);
        let (mut x, mut y) = (0, 0);
        while x < sa.len() && y < sb.len() {
            let (ka, kb) = (sa[x].0, sb[y].0);
            if ka < kb {
                x += 1;
                continue;
            }
            if kb < ka {
                y += 1;
                continue;
            }
            let xe = x + sa[x..].iter().take_while(|e| e.0 == ka).count();
            let ye = y + sb[y..].iter().take_while(|e| e.0 == ka).count();
            if (xe - x) * (ye - y) > max_block * max_block / 2 {
                out.skipped_blocks += 1;
            } else {
                for &(_, i) in &sa[x..xe] {
                    for &(_, j) in &sb[y..ye] {
                        if !earlier_joins(&keys_a[..r], &keys_b[..r], i, j) {
                            out.pairs.push((i, j));
                        }
                    }
                }
            }
            x = xe;
            y = ye;
        }
    }
    out
}

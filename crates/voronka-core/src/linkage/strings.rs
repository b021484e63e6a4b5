//! String similarity on short values: Jaro–Winkler and the optimal-string-alignment distance
//! (Levenshtein plus adjacent transpositions). Both work on bytes when the values are ASCII
//! and on characters otherwise, without allocating for values up to 64 characters.

/// Jaro–Winkler similarity in `[0, 1]` (prefix scale 0.1, prefix up to 4).
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    if a.is_ascii() && b.is_ascii() {
        jw_slices(a.as_bytes(), b.as_bytes())
    } else {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        jw_slices(&a, &b)
    }
}

fn jw_slices<T: PartialEq + Copy>(a: &[T], b: &[T]) -> f64 {
    let j = jaro(a, b);
    let prefix = a
        .iter()
        .zip(b.iter())
        .take(4)
        .take_while(|(x, y)| x == y)
        .count();
    j + prefix as f64 * 0.1 * (1.0 - j)
}

fn jaro<T: PartialEq + Copy>(a: &[T], b: &[T]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a == b {
        return 1.0;
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut small_a = [false; 64];
    let mut small_b = [false; 64];
    let mut big_a;
    let mut big_b;
    let (fa, fb): (&mut [bool], &mut [bool]) = if a.len() <= 64 && b.len() <= 64 {
        (&mut small_a[..a.len()], &mut small_b[..b.len()])
    } else {
        big_a = vec![false; a.len()];
        big_b = vec![false; b.len()];
        (&mut big_a[..], &mut big_b[..])
    };
    let mut matches = 0usize;
    for (i, x) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        if lo >= hi {
            continue;
        }
        for (flag, y) in fb[lo..hi].iter_mut().zip(&b[lo..hi]) {
            if !*flag && y == x {
                *flag = true;
                fa[i] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut k = 0usize;
    for (i, x) in a.iter().enumerate() {
        if !fa[i] {
            continue;
        }
        while !fb[k] {
            k += 1;
        }
        if *x != b[k] {
            transpositions += 1;
        }
        k += 1;
    }
    let m = matches as f64;
    let t = (transpositions / 2) as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - t) / m) / 3.0
}

/// Optimal string alignment distance (insertions, deletions, substitutions and adjacent
/// transpositions), or `limit + 1` when it is larger than `limit`.
pub fn osa_distance(a: &str, b: &str, limit: usize) -> usize {
    if a.is_ascii() && b.is_ascii() {
        osa_slices(a.as_bytes(), b.as_bytes(), limit)
    } else {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        osa_slices(&a, &b, limit)
    }
}

fn osa_slices<T: PartialEq + Copy>(a: &[T], b: &[T], limit: usize) -> usize {
    if a.len().abs_diff(b.len()) > limit {
        return limit + 1;
    }
    if a == b {
        return 0;
    }
    let n = b.len();
    let mut prev2 = vec![0usize; n + 1];
    let mut prev: Vec<usize> = (0..=n).collect();
    let mut cur = vec![0usize; n + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=n {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(prev2[j - 2] + 1);
            }
            cur[j] = d;
            row_min = row_min.min(d);
        }
        if row_min > limit {
            return limit + 1;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[n].min(limit + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        assert!((jaro_winkler("martha", "marhta") - 0.9611).abs() < 1e-3);
        assert!((jaro_winkler("dwayne", "duane") - 0.84).abs() < 1e-3);
        assert!((jaro_winkler("dixon", "dicksonx") - 0.8133).abs() < 1e-3);
        assert_eq!(jaro_winkler("", ""), 1.0);
        assert_eq!(jaro_winkler("abc", ""), 0.0);
        assert_eq!(jaro_winkler("абв", "абв"), 1.0);
        assert!(jaro_winkler("abcdefghij", "a") > 0.0);
        assert!(jaro_winkler("a", "abcdefghij") > 0.0);
        assert_eq!(osa_distance("ca", "ac", 3), 1);
        assert_eq!(osa_distance("19560409", "19560490", 3), 1);
        assert_eq!(osa_distance("kitten", "sitting", 5), 3);
        assert_eq!(osa_distance("kitten", "sitting", 1), 2);
        assert_eq!(osa_distance("", "abc", 5), 3);
        assert_eq!(osa_distance("ёж", "еж", 2), 1);
    }

    proptest! {
        #[test]
        fn similarity_bounds(a in "\\PC{0,20}", b in "\\PC{0,20}") {
            let s = jaro_winkler(&a, &b);
            prop_assert!((0.0..=1.0 + 1e-9).contains(&s));
            prop_assert!((jaro_winkler(&a, &a) - 1.0).abs() < 1e-12);
            let d = osa_distance(&a, &b, 100);
            prop_assert_eq!(d, osa_distance(&b, &a, 100));
            prop_assert_eq!(d == 0, a == b);
        }
    }
}

//! Clusters of accepted pairs (connected components) by union–find.

/// Cluster number per record, numbered from 0 in order of each cluster's first record.
pub fn clusters(records: usize, pairs: impl IntoIterator<Item = (u32, u32)>) -> Vec<u32> {
    let mut parent: Vec<u32> = (0..records as u32).collect();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            let up = parent[parent[x as usize] as usize];
            parent[x as usize] = up;
            x = up;
        }
        x
    }
    for (a, b) in pairs {
        let ra = find(&mut parent, a);
        let rb = find(&mut parent, b);
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            parent[hi as usize] = lo;
        }
    }
    let mut number = vec![u32::MAX; records];
    let mut next = 0;
    let mut out = Vec::with_capacity(records);
    for i in 0..records as u32 {
        let r = find(&mut parent, i) as usize;
        if number[r] == u32::MAX {
            number[r] = next;
            next += 1;
        }
        out.push(number[r]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components() {
        let c = clusters(6, [(4, 5), (0, 2), (2, 4)]);
        assert_eq!(c, vec![0, 1, 0, 2, 0, 0]);
        assert_eq!(clusters(3, []), vec![0, 1, 2]);
    }
}

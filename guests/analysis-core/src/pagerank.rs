//! PageRank by power iteration: which vertices the rest of the graph leans on most.

/// Ranks over `adjacency` (vertex → successors), summing to 1. Dangling vertices spread their
/// rank evenly; `damping` is the usual 0.85.
pub fn pagerank<A: crate::scc::Successors + ?Sized>(
    adjacency: &A,
    iterations: usize,
    damping: f64,
) -> Vec<f64> {
    let n = adjacency.vertices();
    if n == 0 {
        return Vec::new();
    }
    let uniform = 1.0 / n as f64;
    let mut rank = vec![uniform; n];
    let mut next = vec![0.0; n];
    for _ in 0..iterations {
        let mut dangling = 0.0;
        next.iter_mut().for_each(|r| *r = 0.0);
        for (v, &r) in rank.iter().enumerate() {
            let out = adjacency.successors_of(v);
            if out.is_empty() {
                dangling += r;
                continue;
            }
            let share = r / out.len() as f64;
            for &w in out {
                next[w] += share;
            }
        }
        let base = (1.0 - damping) * uniform + damping * dangling * uniform;
        for (r, n) in rank.iter_mut().zip(&next) {
            *r = base + damping * n;
        }
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_sum_to_one_and_favour_the_pointed_at() {
        // 0 → 2, 1 → 2, 2 → 0, 3 dangling
        let adjacency = vec![vec![2], vec![2], vec![0], vec![]];
        let r = pagerank(&adjacency, 50, 0.85);
        assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!(r[2] > r[0] && r[0] > r[1] && r[1] > 0.0);
        assert!((r[1] - r[3]).abs() < 1e-12, "unreferenced vertices rank alike");
    }

    #[test]
    fn the_empty_graph_has_no_ranks() {
        assert!(pagerank(&Vec::<Vec<usize>>::new(), 20, 0.85).is_empty());
    }
}

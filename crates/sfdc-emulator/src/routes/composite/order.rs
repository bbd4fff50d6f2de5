//! The order a Composite call runs its subrequests in: as received when
//! `collateSubrequests` is false; otherwise a seeded shuffle that still runs every
//! subrequest after those it references (Salesforce guarantees no other order).

/// Execution order of `deps.len()` subrequests, where `deps[i]` lists the subrequests
/// `i` references (all earlier than `i`). `draw` yields uniform numbers in `0.0..1.0`.
pub(crate) fn plan(
    deps: &[Vec<usize>],
    collate: bool,
    mut draw: impl FnMut() -> f64,
) -> Vec<usize> {
    let n = deps.len();
    if !collate {
        return (0..n).collect();
    }
    let mut done = vec![false; n];
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let ready: Vec<usize> = (0..n)
            .filter(|&i| !done[i] && deps[i].iter().all(|&d| d >= n || done[d] || d >= i))
            .collect();
        let Some(&first) = ready.first() else { break };
        let pick = ((draw() * ready.len() as f64) as usize).min(ready.len() - 1);
        let i = ready.get(pick).copied().unwrap_or(first);
        done[i] = true;
        out.push(i);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};

    #[test]
    fn without_collation_the_order_is_as_received() {
        assert_eq!(plan(&[vec![], vec![], vec![0]], false, || 0.99), [0, 1, 2]);
    }

    #[test]
    fn collation_shuffles_but_keeps_dependencies() {
        let deps = vec![
            vec![],
            vec![],
            vec![0],
            vec![],
            vec![2, 1],
            vec![],
            vec![],
            vec![],
        ];
        let mut seen_other_than_received = false;
        for seed in 0..20 {
            let mut rng = StdRng::seed_from_u64(seed);
            let order = plan(&deps, true, || rng.random::<f64>());
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..deps.len()).collect::<Vec<_>>());
            let pos = |i: usize| order.iter().position(|&x| x == i).unwrap();
            assert!(
                pos(0) < pos(2) && pos(2) < pos(4) && pos(1) < pos(4),
                "{order:?}"
            );
            seen_other_than_received |= order != (0..deps.len()).collect::<Vec<_>>();
        }
        assert!(seen_other_than_received);
    }
}

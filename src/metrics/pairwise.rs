//! Sums and means computed exactly as numpy computes them (`np.add.reduce`'s pairwise sum), so
//! averages of many figures are bit-identical to pycocotools' `np.mean`.

/// numpy's pairwise summation of `a` (the `pairwise_sum` routine for contiguous f64).
pub fn pairwise_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &v in a {
            res += v;
        }
        res
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - (n % 8) {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += a[i];
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&a[..n2]) + pairwise_sum(&a[n2..])
    }
}

/// `np.mean(a)`: `None` for an empty slice (numpy gives NaN with a warning).
pub fn mean(a: &[f64]) -> Option<f64> {
    if a.is_empty() {
        return None;
    }
    Some((0.0 + pairwise_sum(a)) / a.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_sums_are_sequential() {
        assert_eq!(pairwise_sum(&[]), 0.0);
        assert_eq!(pairwise_sum(&[1.0, 2.0, 3.0]), 6.0);
    }

    #[test]
    fn pairwise_differs_from_left_to_right_where_numpy_does() {
        // 0.1 summed 1000 times: numpy's np.sum gives 100.00000000000001 (a naive loop gives
        // 99.9999999999986)
        let v = vec![0.1; 1000];
        assert_eq!(pairwise_sum(&v), 100.00000000000001);
        let naive: f64 = v.iter().sum();
        assert_ne!(naive, pairwise_sum(&v));
    }

    #[test]
    fn mean_of_nothing_is_none() {
        assert_eq!(mean(&[]), None);
        assert_eq!(mean(&[0.5, 0.25]), Some(0.375));
    }
}

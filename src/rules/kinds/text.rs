//! The wording the rule kinds share: percentages, count ranges, bounds and pixel allowances as
//! they appear in a flag's sentence and bound.

/// A fraction as a percentage: whole when it is (within 0.05 points), else to one decimal.
pub(super) fn pct(x: f64) -> String {
    let p = x * 100.0;
    if (p - p.round()).abs() < 0.05 {
        format!("{:.0}%", p)
    } else {
        format!("{p:.1}%")
    }
}

/// "exactly N", "at least N" (no real upper bound) or "N to M", for counts.
pub(super) fn range_text(min: u32, max: u32) -> String {
    if min == max {
        format!("exactly {min}")
    } else if max >= 1_000_000 {
        format!("at least {min}")
    } else {
        format!("{min} to {max}")
    }
}

/// "between", "at least", "at most" or "any value", leaving out a bound that is not set.
pub(super) fn bounds_text(min: f64, max: f64, show: impl Fn(f64) -> String) -> String {
    match (min > 0.0, max < f64::MAX / 2.0) {
        (true, true) => format!("between {} and {}", show(min), show(max)),
        (true, false) => format!("at least {}", show(min)),
        (false, true) => format!("at most {}", show(max)),
        (false, false) => "any value".into(),
    }
}

/// "none" or "at most N px", for pixel-count bounds.
pub(super) fn allowance_px(max: f64) -> String {
    if max == 0.0 {
        "none".to_string()
    } else {
        format!("at most {max:.0} px")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_whole_unless_they_are_not() {
        assert_eq!(pct(0.9), "90%");
        assert_eq!(pct(0.015625), "1.6%");
        assert_eq!(pct(0.12345), "12.3%");
    }

    #[test]
    fn ranges_and_bounds_leave_out_what_is_not_set() {
        assert_eq!(range_text(1, 1), "exactly 1");
        assert_eq!(range_text(2, 1_000_000), "at least 2");
        assert_eq!(range_text(0, 3), "0 to 3");
        assert_eq!(bounds_text(0.1, 0.5, pct), "between 10% and 50%");
        assert_eq!(bounds_text(0.1, f64::MAX, pct), "at least 10%");
        assert_eq!(bounds_text(0.0, 0.5, pct), "at most 50%");
        assert_eq!(bounds_text(0.0, f64::MAX, pct), "any value");
        assert_eq!(allowance_px(0.0), "none");
        assert_eq!(allowance_px(12.0), "at most 12 px");
    }
}

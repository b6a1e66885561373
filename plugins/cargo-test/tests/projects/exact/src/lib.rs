//! Failures whose details libtest prints in unusual places.

/// Halves an even number.
///
/// A snippet that must not compile, but does:
///
/// ```compile_fail
/// let x: u32 = exact::half(4);
/// assert_eq!(x, 2);
/// ```
///
/// A snippet that compiles and panics when it runs:
///
/// ```
/// let h = exact::half(3);
/// assert_eq!(h, 2, "half of three rounds down");
/// ```
pub fn half(n: u32) -> u32 {
    assert!(n % 2 == 0 || n == 3, "odd");
    n / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "odd")]
    fn half_of_odd_panics() {
        half(3);
    }

    #[test]
    fn half_of_four() {
        assert_eq!(half(4), 2);
    }
}

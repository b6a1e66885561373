//! Gates sharded across CI runners: `--shard I/N`, the durations file that balances the
//! next run, what a sharded gate announced of its list, and merging the shards' records.

pub mod durations;
pub mod merge;
pub mod notice;

use std::fmt;
use std::str::FromStr;

/// The most shards a gate may be split into (a GitHub Actions matrix has at most 256 jobs).
pub const MAX_SHARDS: u32 = 1024;

/// `--shard I/N`: run part `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardArg {
    pub index: u32,
    pub count: u32,
}

impl FromStr for ShardArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "`{s}` is not a shard: write I/N with 1 <= I <= N <= {MAX_SHARDS} (e.g. 2/4, the second of four)"
            )
        };
        let (i, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count || count > MAX_SHARDS {
            return Err(bad());
        }
        Ok(ShardArg { index, count })
    }
}

impl fmt::Display for ShardArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl From<ShardArg> for planexec_record::Shard {
    fn from(s: ShardArg) -> Self {
        planexec_record::Shard {
            index: s.index,
            count: s.count,
        }
    }
}

/// What one gate of a sharded run gets: its part and the recorded seconds of its tests.
#[derive(Debug, Clone, PartialEq)]
pub struct GateShard {
    pub part: ShardArg,
    /// Test name → seconds from the durations file (empty: none recorded for this gate).
    pub durations: Vec<(String, f64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_i_of_n_and_refuses_the_rest() {
        assert_eq!(
            "2/4".parse::<ShardArg>(),
            Ok(ShardArg { index: 2, count: 4 })
        );
        for bad in ["0/4", "5/4", "4", "a/b", "1/0", "1/2000", "-1/4", ""] {
            let e = bad.parse::<ShardArg>().unwrap_err();
            assert!(e.contains("is not a shard"), "{bad}: {e}");
        }
    }
}

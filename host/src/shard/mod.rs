//! Gates sharded across CI runners: `--shard I/N` and what a gate gets of it, the durations
//! file that balances the next run, and merging the shards' records into one.

pub mod durations;
pub mod merge;

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

/// What one gate of a sharded run gets: its part and the recorded seconds of its tests.
#[derive(Debug, Clone, PartialEq)]
pub struct GateShard {
    pub part: ShardArg,
    /// Test name → seconds from the durations file (empty: none recorded for this gate).
    pub durations: Vec<(String, f64)>,
}

impl GateShard {
    /// What the gate request carries.
    pub fn to_wit(&self) -> crate::sandbox::bindings::gate_plugin::Shard {
        crate::sandbox::bindings::gate_plugin::Shard {
            index: self.part.index,
            count: self.part.count,
            durations: self.durations.clone(),
        }
    }

    /// Why the shard a gate reported is not the one it was asked to run, if it is not.
    /// A gate that does not shard reports none and ran whole.
    pub fn check(
        asked: Option<&GateShard>,
        reported: Option<&planexec_record::ShardResult>,
    ) -> Result<(), String> {
        match (asked, reported) {
            (_, None) => Ok(()),
            (None, Some(r)) => Err(format!(
                "the gate reported running shard {}/{} but no shard was asked for",
                r.index, r.count
            )),
            (Some(a), Some(r)) if (r.index, r.count) != (a.part.index, a.part.count) => {
                Err(format!(
                    "the gate ran shard {}/{} but shard {} was asked for",
                    r.index, r.count, a.part
                ))
            }
            (Some(_), Some(r)) => {
                let hex = r.list_digest.strip_prefix("sha256:").unwrap_or("");
                let ok =
                    hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                if ok {
                    Ok(())
                } else {
                    Err(format!(
                        "the gate's list digest `{}` is not sha256:<64 hex digits>",
                        r.list_digest
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reported_shard_must_be_the_one_asked_for() {
        let asked = GateShard {
            part: ShardArg { index: 2, count: 4 },
            durations: vec![],
        };
        let r = |index, digest: &str| planexec_record::ShardResult {
            index,
            count: 4,
            listed: 9,
            list_digest: digest.to_string(),
        };
        let good = format!("sha256:{}", "ab".repeat(32));
        assert!(GateShard::check(Some(&asked), Some(&r(2, &good))).is_ok());
        assert!(
            GateShard::check(Some(&asked), None).is_ok(),
            "a gate that does not shard"
        );
        let e = GateShard::check(Some(&asked), Some(&r(3, &good))).unwrap_err();
        assert!(e.contains("ran shard 3/4 but shard 2/4"), "{e}");
        assert!(GateShard::check(None, Some(&r(2, &good))).is_err());
        assert!(GateShard::check(Some(&asked), Some(&r(2, "md5:00"))).is_err());
    }

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

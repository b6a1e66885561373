//! The line a sharded gate logs about its list (`shard 2/4: 12 of 48 tests, list sha256:…`,
//! written by `testfmt::shard::notice`), read back into the gate run's [`ShardList`].

use super::ShardArg;
use crate::sandbox::LogLine;
use planexec_record::ShardList;

/// The list the gate announced for `part`: None when it announced none (a gate that does
/// not shard ran whole); Err when it announced another shard or a malformed list.
pub fn from_logs(logs: &[LogLine], part: ShardArg) -> Option<Result<ShardList, String>> {
    logs.iter().find_map(|l| parse(&l.message)).map(|r| {
        let (announced, list) = r?;
        if announced != part {
            return Err(format!(
                "the gate ran shard {announced} but shard {part} was asked for"
            ));
        }
        Ok(list)
    })
}

/// `shard I/N: R of T tests, list sha256:<64 hex>`; None when the line is not a notice.
fn parse(line: &str) -> Option<Result<(ShardArg, ShardList), String>> {
    let rest = line.strip_prefix("shard ")?;
    let (part, rest) = rest.split_once(": ")?;
    let (ran, rest) = rest.split_once(" of ")?;
    let (tests, list) = rest.split_once(" tests, list ")?;
    let bad = |why: &str| Some(Err(format!("malformed shard notice `{line}`: {why}")));
    let Ok(part) = part.parse::<ShardArg>() else {
        return bad("not I/N");
    };
    let (Ok(ran), Ok(tests)) = (ran.parse::<u32>(), tests.parse::<u32>()) else {
        return bad("counts are not numbers");
    };
    let hex = list.strip_prefix("sha256:").unwrap_or("");
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return bad("the list is not sha256:<64 hex digits>");
    }
    if ran > tests {
        return bad("ran more tests than the list has");
    }
    Some(Ok((
        part,
        ShardList {
            tests,
            ran,
            list: list.to_string(),
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::bindings::log::Level;

    fn line(m: &str) -> LogLine {
        LogLine {
            level: Level::Info,
            message: m.to_string(),
        }
    }

    #[test]
    fn reads_the_notice_and_checks_the_shard() {
        let d = format!("sha256:{}", "ab".repeat(32));
        let logs = [line("collected"), line(&format!("shard 2/4: 12 of 48 tests, list {d}"))];
        let part = ShardArg { index: 2, count: 4 };
        let l = from_logs(&logs, part).unwrap().unwrap();
        assert_eq!((l.tests, l.ran, l.list.as_str()), (48, 12, d.as_str()));
        let other = ShardArg { index: 3, count: 4 };
        assert!(from_logs(&logs, other).unwrap().unwrap_err().contains("ran shard 2/4"));
        assert!(from_logs(&[line("nothing")], part).is_none());
        let bad = [line("shard 2/4: 12 of 48 tests, list md5:00")];
        assert!(from_logs(&bad, part).unwrap().is_err());
        let more = [line(&format!("shard 2/4: 49 of 48 tests, list {d}"))];
        assert!(from_logs(&more, part).unwrap().is_err());
    }
}

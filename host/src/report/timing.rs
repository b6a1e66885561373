//! When steps ran: [`Timing`]s for the run record, stamped in milliseconds, and
//! reading those stamps back (HTML timeline, trace).

use planexec_record::{StepKind, Timing};
use time::OffsetDateTime;

/// A step that started at `start` and has just finished.
pub fn since(step: StepKind, name: impl Into<String>, start: OffsetDateTime) -> Timing {
    let now = OffsetDateTime::now_utc();
    Timing {
        step,
        name: name.into(),
        started_at: stamp_ms(start),
        duration_ms: (now - start).whole_milliseconds().max(0) as u64,
    }
}

/// A step that took `duration_ms` and has just finished.
pub fn ending_now(step: StepKind, name: impl Into<String>, duration_ms: u64) -> Timing {
    let start = OffsetDateTime::now_utc() - time::Duration::milliseconds(duration_ms as i64);
    Timing {
        step,
        name: name.into(),
        started_at: stamp_ms(start),
        duration_ms,
    }
}

/// `t` as RFC 3339 UTC with milliseconds (`2026-11-22T10:00:00.123Z`).
pub fn stamp_ms(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&f)
        .unwrap_or_default()
}

/// Milliseconds since the Unix epoch of an RFC 3339 stamp as the record writes them.
pub fn epoch_ms(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_read_back() {
        let t = since(StepKind::Commit, "T1", OffsetDateTime::now_utc());
        assert!(t.started_at.ends_with('Z') && t.started_at.contains('.'));
        let back = epoch_ms(&t.started_at).unwrap();
        assert!((OffsetDateTime::now_utc().unix_timestamp() * 1000 - back).abs() < 5_000);
        assert_eq!(epoch_ms("2026-01-01T00:00:01Z"), Some(1_767_225_601_000));
    }
}

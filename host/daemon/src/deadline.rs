//! The call's deadline, from the `grpc-timeout` header a client sends with one: the gRPC
//! spec's at most eight digits and a unit (H, M, S, m, u, n). A header that does not parse is
//! ignored, as tonic's own timeout layer ignores it: the call then simply has no deadline.

use std::time::{Duration, Instant};
use tonic::metadata::MetadataMap;

/// How long the client waits, or `None` where it sent no (valid) timeout.
pub fn parse(value: &str) -> Option<Duration> {
    if !value.is_ascii() {
        return None;
    }
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// When a call reached the daemon, stamped by the outermost layer of ours
/// ([`crate::budget::GuardService`]), which tonic's own timeout layer calls just before it
/// starts its timer. A unary call's handler runs only once the whole message has been read,
/// which on a busy machine can be many milliseconds later: a deadline counted from then would
/// fall after tonic's timer, which would drop the call first, and a passed deadline would read
/// as a client that left.
#[derive(Clone, Copy, Debug)]
pub struct Arrived(pub Instant);

/// The instant the call's client stops waiting, from its metadata, counted from when the call
/// arrived (`arrived`; now where no layer stamped it). A little before that instant + the
/// timeout: the client's clock started before the request reached us, and a result after its
/// deadline is wasted work.
pub fn from_metadata(md: &MetadataMap, arrived: Option<Arrived>) -> Option<Instant> {
    let timeout = parse(md.get("grpc-timeout")?.to_str().ok()?)?;
    let margin = (timeout / 16).min(Duration::from_millis(5));
    let start = arrived.map_or_else(Instant::now, |a| a.0);
    start.checked_add(timeout - margin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_and_nothing_else() {
        assert_eq!(parse("3H"), Some(Duration::from_secs(3 * 3600)));
        assert_eq!(parse("2M"), Some(Duration::from_secs(120)));
        assert_eq!(parse("7S"), Some(Duration::from_secs(7)));
        assert_eq!(parse("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse("99999999u"), Some(Duration::from_micros(99_999_999)));
        assert_eq!(parse("5n"), Some(Duration::from_nanos(5)));
        assert_eq!(
            parse("99999999H"),
            Some(Duration::from_secs(99_999_999 * 3600))
        );
        for bad in [
            "",
            "S",
            "100",
            "123456789S",
            "-1S",
            "1.5S",
            "1s",
            "1 S",
            "1é",
            "١S",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        let mut md = MetadataMap::new();
        assert_eq!(from_metadata(&md, None), None);
        md.insert("grpc-timeout", "99999999H".parse().unwrap());
        assert!(from_metadata(&md, None).is_some_and(|d| d > Instant::now()));
    }

    #[test]
    fn counted_from_arrival_and_never_after_it() {
        let mut md = MetadataMap::new();
        md.insert("grpc-timeout", "400m".parse().unwrap());
        let arrived = Instant::now() - Duration::from_millis(300);
        let d = from_metadata(&md, Some(Arrived(arrived))).unwrap();
        assert!(d <= arrived + Duration::from_millis(400), "{d:?}");
        assert!(d >= arrived + Duration::from_millis(395), "{d:?}");
    }
}

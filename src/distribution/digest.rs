//! `sha256:<hex>` digests: computing them and checking content against them.

use crate::error::{Error, Result};

/// The OCI digest of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(crate::sandbox::sha256(bytes)))
}

/// Checks `bytes` against `expected`; `what` names the content in the error.
///
/// # Errors
///
/// [`Error::Integrity`] on a mismatch; [`Error::Untrusted`] for a digest that is not
/// `sha256:` + 64 lowercase hex digits (no other algorithm is accepted).
pub fn check(what: &str, bytes: &[u8], expected: &str) -> Result<()> {
    parse(expected).map_err(|reason| Error::Untrusted { subject: what.into(), reason, source: None })?;
    let actual = sha256(bytes);
    if actual != expected {
        return Err(Error::Integrity { what: what.into(), expected: expected.into(), actual });
    }
    Ok(())
}

/// The hex part of a well-formed `sha256:` digest.
///
/// # Errors
///
/// A message saying what is wrong with it.
pub fn parse(digest: &str) -> std::result::Result<&str, String> {
    let hex =
        digest.strip_prefix("sha256:").ok_or_else(|| format!("digest `{digest}` is not sha256:<hex>"))?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(format!("digest `{digest}` must be sha256: and 64 lowercase hex digits"));
    }
    Ok(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_checked_against_its_digest() {
        let d = sha256(b"plugin");
        check("blob", b"plugin", &d).unwrap();
        let err = check("blob", b"plugin!", &d).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Integrity);
        assert!(err.to_string().contains(&d));
    }

    #[test]
    fn malformed_digests_are_refused() {
        for bad in ["sha512:ab", "sha256:AB", "sha256:abc", "abc", "sha256:../../etc/passwd"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}

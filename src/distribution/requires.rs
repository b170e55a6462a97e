//! Versions: picking the highest tag that satisfies a range, checking plugins' `requires`
//! against what is installed, and the capability diff between two versions.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::policy::Manifest;

/// The semver versions among `tags` (a leading `v` is allowed), sorted ascending.
pub fn versions(tags: &[String]) -> Vec<semver::Version> {
    let mut versions: Vec<semver::Version> =
        tags.iter().filter_map(|t| semver::Version::parse(t.trim_start_matches('v')).ok()).collect();
    versions.sort();
    versions
}

/// The tag of the highest version matching `req` (pre-releases only when `req` names one, as
/// semver says).
pub fn highest_matching(tags: &[String], req: &semver::VersionReq) -> Option<String> {
    tags.iter()
        .filter_map(|t| semver::Version::parse(t.trim_start_matches('v')).ok().map(|v| (v, t)))
        .filter(|(v, _)| req.matches(v))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, t)| t.clone())
}

/// Checks every plugin's `requires` against `available` (name → version). Lists every
/// missing or conflicting requirement at once.
///
/// # Errors
///
/// [`Error::Unresolved`] naming each unmet requirement and what is there instead.
pub fn check<'m>(
    plugins: impl IntoIterator<Item = &'m Manifest>,
    available: &BTreeMap<String, semver::Version>,
) -> Result<()> {
    let mut problems = Vec::new();
    for plugin in plugins {
        for (name, req) in &plugin.requires {
            match available.get(name) {
                Some(v) if req.matches(v) => {}
                Some(v) => problems.push(format!(
                    "{} {} requires {name} {req}, but {name} {v} is present",
                    plugin.name, plugin.version
                )),
                None => problems.push(format!(
                    "{} {} requires {name} {req}, which is not present",
                    plugin.name, plugin.version
                )),
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Unresolved { what: "plugin requirements".into(), reason: problems.join("; ") })
    }
}

/// What `new` asks for beyond `old` (`+ …`) and no longer asks for (`- …`).
pub fn capability_diff(old: &Manifest, new: &Manifest) -> Vec<String> {
    let (old, new) = (old.capabilities.requested(), new.capabilities.requested());
    let added = new.iter().filter(|c| !old.contains(c)).map(|c| format!("+ {c}"));
    let removed = old.iter().filter(|c| !new.contains(c)).map(|c| format!("- {c}"));
    added.chain(removed).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    fn manifest(text: &str) -> Manifest {
        Manifest::parse(text, std::path::Path::new("plugin.toml")).unwrap()
    }

    #[test]
    fn the_highest_matching_tag_wins() {
        let t =
            tags(&["1.0.0", "1.2.0", "v1.3.1", "1.10.0", "2.0.0", "latest", "1.11.0-rc.1", "sha256-ab.sig"]);
        let req = |r: &str| semver::VersionReq::parse(r).unwrap();
        assert_eq!(highest_matching(&t, &req("^1.2")).as_deref(), Some("1.10.0"));
        assert_eq!(highest_matching(&t, &req("~1.3")).as_deref(), Some("v1.3.1"));
        assert_eq!(highest_matching(&t, &req(">=2")).as_deref(), Some("2.0.0"));
        assert_eq!(highest_matching(&t, &req("^3")), None);
        assert_eq!(versions(&t).len(), 6);
    }

    #[test]
    fn requirements_report_every_conflict() {
        let a = manifest("name = \"a\"\nversion = \"1.0.0\"\n[requires]\nb = \"^2\"\nc = \"^1\"\n");
        let mut available = BTreeMap::new();
        available.insert("b".to_string(), semver::Version::new(1, 4, 0));
        let err = check([&a], &available).unwrap_err().to_string();
        assert!(err.contains("requires b ^2, but b 1.4.0 is present"), "{err}");
        assert!(err.contains("requires c ^1, which is not present"), "{err}");
        available.insert("b".to_string(), semver::Version::new(2, 1, 0));
        available.insert("c".to_string(), semver::Version::new(1, 0, 0));
        check([&a], &available).unwrap();
    }

    #[test]
    fn the_capability_diff_shows_additions_and_removals() {
        let old = manifest(
            "name = \"a\"\nversion = \"1.0.0\"\n[capabilities]\nenv = [{ name = \"LANG\", reason = \"r\" }]\n",
        );
        let new = manifest(
            "name = \"a\"\nversion = \"2.0.0\"\n[capabilities]\nconnect = [{ target = \"127.0.0.1:9\", reason = \"r\" }]\n",
        );
        assert_eq!(capability_diff(&old, &new), vec!["+ connect 127.0.0.1:9", "- env LANG"]);
    }
}

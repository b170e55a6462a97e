//! Parseltongue's ISG keys: `{lang}:{type}:{name}:{path}:{start}-{end}`, and the quirks of how
//! exports spell them.
//!
//! Entity keys carry a sanitised path (`__crates_core_src_lib_rs`), edge keys the raw one
//! (`./crates/core/src/lib.rs`); [`canonical`] turns either into the sanitised form so both meet.
//! File pseudo-keys have no name (`rust:file:./src/x.rs:1-1`), imports no path
//! (`rust:module:Name:0-0`) and call targets the path `unknown` (`rust:fn:name:unknown:0-0`).

use std::borrow::Cow;

/// A key split into its parts. Borrowed from the key text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsgKey<'a> {
    /// Language: `rust`, `python`, …
    pub lang: &'a str,
    /// The key's type word: `fn`, `method`, `struct`, `impl`, `mod`, `file`, `module`, …
    pub kind: &'a str,
    /// The entity name; for `file` keys, the file path.
    pub name: &'a str,
    /// The file path as written in the key (raw or sanitised), if the key has one.
    pub path: Option<&'a str>,
    /// The line range, `0-0` when unknown.
    pub lines: Option<(u32, u32)>,
}

impl<'a> IsgKey<'a> {
    /// Splits a key; `None` when it has fewer than three `:`-separated parts.
    pub fn parse(key: &'a str) -> Option<IsgKey<'a>> {
        let (lang, rest) = key.split_once(':')?;
        let (kind, rest) = rest.split_once(':')?;
        let (body, lines) = match rest.rsplit_once(':') {
            Some((body, range)) => match parse_range(range) {
                Some(lines) => (body, Some(lines)),
                None => (rest, None),
            },
            None => (rest, None),
        };
        if kind == "file" {
            return Some(IsgKey { lang, kind, name: body, path: Some(body), lines });
        }
        // Names never hold a `:` in these keys; paths might (Windows drive letters).
        let (name, path) = match body.split_once(':') {
            Some((name, path)) => (name, Some(path)),
            None => (body, None),
        };
        if lang.is_empty() || kind.is_empty() || name.is_empty() {
            return None;
        }
        Some(IsgKey { lang, kind, name, path, lines })
    }

    /// True for references by name only: call targets (`…:unknown:0-0`) and imports (`…:0-0`).
    pub fn is_name_reference(&self) -> bool {
        match self.path {
            None => true,
            Some(path) => path == "unknown",
        }
    }
}

/// A Parseltongue v1.7 key: `lang:type:name:rest`, where `rest` is `semantic_path:T<digits>`
/// for a definition, `PATH:1-1` for a file, and for a by-name reference `unresolved-reference:0-0`,
/// `external-dependency-CRATE:0-0` or just `0-0` (an import by name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerKey<'a> {
    /// Language: `rust`, `python`, `go`, …
    pub lang: &'a str,
    /// The key's type word: `fn`, `method`, `class`, `file`, `module`, …
    pub kind: &'a str,
    /// The name (`::` spelled `__`); for `file` keys, the sanitised path.
    pub name: &'a str,
    /// Everything after the name.
    pub rest: &'a str,
}

impl<'a> ServerKey<'a> {
    /// Splits a key; `None` when it has fewer than four `:`-separated parts or an empty one.
    pub fn parse(key: &'a str) -> Option<ServerKey<'a>> {
        let mut parts = key.splitn(4, ':');
        let (lang, kind, name, rest) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if lang.is_empty() || kind.is_empty() || name.is_empty() || rest.is_empty() {
            return None;
        }
        Some(ServerKey { lang, kind, name, rest })
    }

    /// `Some` for a by-name reference (a placeholder the server makes for every call target and
    /// import), with the dependency it names if any; `None` for a definition or file.
    pub fn by_name(&self) -> Option<Option<&'a str>> {
        let rest = self.rest;
        if rest == "0-0" || rest == "unresolved-reference:0-0" {
            return Some(None);
        }
        let dependency = rest.strip_prefix("external-dependency-")?.strip_suffix(":0-0")?;
        Some(Some(dependency))
    }
}

fn parse_range(range: &str) -> Option<(u32, u32)> {
    let (start, end) = range.split_once('-')?;
    Some((start.parse().ok()?, end.parse().ok()?))
}

/// A path as entity keys spell it: every `/`, `\` and `.` becomes `_`. Idempotent.
pub fn sanitise_path(path: &str) -> Cow<'_, str> {
    if path.contains(['/', '\\', '.']) {
        Cow::Owned(path.replace(['/', '\\', '.'], "_"))
    } else {
        Cow::Borrowed(path)
    }
}

/// The key with its path sanitised, so that an edge's raw-path key equals the entity's key.
pub fn canonical(key: &str) -> Cow<'_, str> {
    let Some(parsed) = IsgKey::parse(key) else { return Cow::Borrowed(key) };
    let Some(path) = parsed.path else { return Cow::Borrowed(key) };
    let clean = sanitise_path(path);
    if matches!(clean, Cow::Borrowed(_)) {
        return Cow::Borrowed(key);
    }
    let mut out = String::with_capacity(key.len());
    out.push_str(parsed.lang);
    out.push(':');
    out.push_str(parsed.kind);
    out.push(':');
    if parsed.kind != "file" {
        out.push_str(parsed.name);
        out.push(':');
    }
    out.push_str(&clean);
    if let Some((start, end)) = parsed.lines {
        out.push_str(&format!(":{start}-{end}"));
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_every_shape_real_exports_use() {
        let k = IsgKey::parse("rust:method:new:./crates/core/src/temporal.rs:29-39").unwrap();
        assert_eq!((k.lang, k.kind, k.name), ("rust", "method", "new"));
        assert_eq!((k.path, k.lines), (Some("./crates/core/src/temporal.rs"), Some((29, 39))));
        assert!(!k.is_name_reference());

        let f = IsgKey::parse("rust:file:./src/main.rs:1-1").unwrap();
        assert_eq!((f.kind, f.name, f.path), ("file", "./src/main.rs", Some("./src/main.rs")));

        let m = IsgKey::parse("rust:module:HashMap:0-0").unwrap();
        assert_eq!((m.name, m.path, m.lines), ("HashMap", None, Some((0, 0))));
        assert!(m.is_name_reference());

        let c = IsgKey::parse("rust:fn:unwrap:unknown:0-0").unwrap();
        assert_eq!((c.name, c.path), ("unwrap", Some("unknown")));
        assert!(c.is_name_reference());

        assert_eq!(IsgKey::parse("nonsense"), None);
        assert_eq!(IsgKey::parse("rust::x:y:1-2"), None);
    }

    #[test]
    fn server_keys_tell_definitions_from_references() {
        let d = ServerKey::parse("rust:fn:alpha:____src_lib:T1593984834").unwrap();
        assert_eq!((d.lang, d.kind, d.name, d.by_name()), ("rust", "fn", "alpha", None));
        let u = ServerKey::parse("python:fn:helper:unresolved-reference:0-0").unwrap();
        assert_eq!(u.by_name(), Some(None));
        let x = ServerKey::parse("rust:module:Serialize:external-dependency-serde:0-0").unwrap();
        assert_eq!(x.by_name(), Some(Some("serde")));
        let m = ServerKey::parse("go:module:\"fmt\":0-0").unwrap();
        assert_eq!((m.name, m.by_name()), ("\"fmt\"", Some(None)));
        let f = ServerKey::parse("rust:file:__src_lib_rs:1-1").unwrap();
        assert_eq!((f.kind, f.by_name()), ("file", None));
        assert_eq!(ServerKey::parse("rust:fn:x"), None);
        assert_eq!(ServerKey::parse("rust::x:T1"), None);
    }

    #[test]
    fn raw_and_sanitised_keys_meet() {
        let raw = "rust:method:get:./crates/pt02-writer/src/level0.rs:64-66";
        let entity = "rust:method:get:__crates_pt02-writer_src_level0_rs:64-66";
        assert_eq!(canonical(raw), entity);
        assert_eq!(canonical(entity), entity, "idempotent");
        assert_eq!(canonical("rust:file:./src/x.rs:1-1"), "rust:file:__src_x_rs:1-1");
        assert_eq!(canonical("rust:fn:unwrap:unknown:0-0"), "rust:fn:unwrap:unknown:0-0");
        assert_eq!(canonical("rust:module:HashMap:0-0"), "rust:module:HashMap:0-0");
    }
}

//! Files a running Parseltongue server indexed twice.
//!
//! `pt01` records paths as it was given them (`./src/lib.rs`); `pt08`'s file watcher re-indexes a
//! changed file under its absolute path (`/home/me/app/src/lib.rs`) and leaves the first copy in
//! place, so after an edit the server answers with both: the old definitions (stale) and the new
//! ones, under different keys. An import that kept both would count each definition twice and
//! keep calls the edit removed. [`Spellings`] finds the watch root from the pairs and says which
//! relative files are superseded; absolute paths under the root are written relative again, so
//! every file has one spelling.

use std::borrow::Cow;

use rustc_hash::{FxHashMap, FxHashSet};

/// The two spellings of the files of one server's answer.
#[derive(Debug, Default)]
pub(crate) struct Spellings {
    /// The directory the server re-indexed under, when any file was indexed twice.
    root: Option<String>,
    /// Relative paths (as the answer spells them) with a newer absolute copy.
    stale: FxHashSet<String>,
}

impl Spellings {
    /// Reads every file path of an answer (entities' `file_path`, edges' `source_location` file).
    pub fn find<'a>(paths: impl IntoIterator<Item = &'a str>) -> Spellings {
        let mut relative: FxHashMap<&str, &str> = FxHashMap::default();
        let mut absolute: FxHashSet<&str> = FxHashSet::default();
        for path in paths {
            if path.starts_with('/') {
                absolute.insert(path);
            } else if !path.is_empty() {
                relative.insert(path.trim_start_matches("./"), path);
            }
        }
        // Each absolute path whose tail is a relative path votes for the root before that tail.
        let mut votes: FxHashMap<&str, usize> = FxHashMap::default();
        for abs in &absolute {
            for (i, _) in abs.match_indices('/') {
                if relative.contains_key(&abs[i + 1..]) {
                    *votes.entry(&abs[..i]).or_default() += 1;
                }
            }
        }
        let Some((root, _)) = votes.into_iter().max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        else {
            return Spellings::default();
        };
        let stale = relative
            .iter()
            .filter(|(tail, _)| absolute.contains(format!("{root}/{tail}").as_str()))
            .map(|(_, spelled)| (*spelled).to_string())
            .collect();
        Spellings { root: Some(root.to_string()), stale }
    }

    /// Whether this path's definitions were superseded by a re-index.
    pub fn is_stale(&self, path: &str) -> bool {
        self.stale.contains(path)
    }

    /// Files indexed twice.
    pub fn reindexed(&self) -> usize {
        self.stale.len()
    }

    /// The path as the rest of the answer spells it: relative (`./…`) when under the root.
    pub fn normalise<'a>(&self, path: &'a str) -> Cow<'a, str> {
        match self.root.as_deref().and_then(|root| path.strip_prefix(root)).and_then(|t| t.strip_prefix('/'))
        {
            Some(tail) => Cow::Owned(format!("./{tail}")),
            None => Cow::Borrowed(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reindexed_file_supersedes_its_first_spelling() {
        let s = Spellings::find(["./src/lib.rs", "./src/other.rs", "/home/me/app/src/other.rs", "./py/x.py"]);
        assert!(s.is_stale("./src/other.rs"));
        assert!(!s.is_stale("./src/lib.rs"));
        assert!(!s.is_stale("/home/me/app/src/other.rs"));
        assert_eq!(s.reindexed(), 1);
        assert_eq!(s.normalise("/home/me/app/src/other.rs"), "./src/other.rs");
        assert_eq!(s.normalise("/elsewhere/x.rs"), "/elsewhere/x.rs");
        assert_eq!(s.normalise("./src/lib.rs"), "./src/lib.rs");
    }

    #[test]
    fn an_index_of_absolute_paths_has_nothing_stale() {
        let s = Spellings::find(["/tmp/code/src/lib.rs", "/tmp/code/src/other.rs"]);
        assert_eq!(s.reindexed(), 0);
        assert_eq!(s.normalise("/tmp/code/src/lib.rs"), "/tmp/code/src/lib.rs");
    }

    #[test]
    fn the_root_most_pairs_agree_on_wins() {
        // `lib.rs` also matches at `/a/src`, but three files agree on `/a`.
        let s = Spellings::find([
            "./src/lib.rs",
            "./src/x.rs",
            "./src/y.rs",
            "./lib.rs",
            "/a/src/lib.rs",
            "/a/src/x.rs",
            "/a/src/y.rs",
        ]);
        assert!(s.is_stale("./src/lib.rs") && s.is_stale("./src/x.rs") && s.is_stale("./src/y.rs"));
        assert!(!s.is_stale("./lib.rs"));
    }
}

//! Whether a compiled component fits the `parseltongue:plugin/analyzer@0.1` contract, decided
//! from its declared imports and exports so that refusals can say exactly what is wrong.

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::contract::{EXPORT_INTERFACE, HOST_INTERFACE, KV_INTERFACE};
use crate::error::Error;

/// What a component declares, split the way an operator reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Surface {
    /// `wasi:*` interfaces it imports (granted or refused call by call by the sandbox).
    pub wasi_imports: Vec<String>,
    /// `parseltongue:plugin/*` interfaces it imports.
    pub host_imports: Vec<String>,
    /// Anything else it imports, which this host cannot provide.
    pub other_imports: Vec<String>,
    /// Everything it exports.
    pub exports: Vec<String>,
}

impl Surface {
    /// Reads the declared imports and exports of `component`.
    pub fn of(component: &Component, engine: &Engine) -> Surface {
        let ty = component.component_type();
        Surface::from_names(
            ty.imports(engine).map(|(name, _)| name),
            ty.exports(engine).map(|(name, _)| name),
        )
    }

    /// Sorts import names into WASI, host and other; keeps export names as given.
    pub fn from_names<'a>(
        imports: impl IntoIterator<Item = &'a str>,
        exports: impl IntoIterator<Item = &'a str>,
    ) -> Surface {
        let mut surface = Surface::default();
        for name in imports {
            let list = if name.starts_with("wasi:") {
                &mut surface.wasi_imports
            } else if name.starts_with("parseltongue:plugin/") {
                &mut surface.host_imports
            } else {
                &mut surface.other_imports
            };
            list.push(name.to_string());
        }
        surface.exports = exports.into_iter().map(str::to_string).collect();
        surface
    }

    /// Checks the names against the contract; type mismatches are found later, when linking.
    ///
    /// # Errors
    ///
    /// [`Error::Incompatible`] naming the missing export or the import this host lacks.
    pub fn check(&self) -> Result<(), Error> {
        let incompatible = |message: String| Err(Error::Incompatible { message, source: None });
        if let Some(other) = self.other_imports.first() {
            return incompatible(format!("it imports `{other}`, which this host does not provide"));
        }
        for import in &self.host_imports {
            if !fits(import, HOST_INTERFACE) && !fits(import, KV_INTERFACE) {
                return incompatible(format!(
                    "it imports `{import}`; this host provides {HOST_INTERFACE}@0.1.x and {KV_INTERFACE}@0.1.x"
                ));
            }
        }
        if !self.exports.iter().any(|e| fits(e, EXPORT_INTERFACE)) {
            let exports =
                if self.exports.is_empty() { "nothing".to_string() } else { self.exports.join(", ") };
            return incompatible(format!(
                "it does not export {EXPORT_INTERFACE}@0.1.x (it exports {exports})"
            ));
        }
        Ok(())
    }
}

/// Whether `name` is `interface@0.1.x`, the versions this host implements.
fn fits(name: &str, interface: &str) -> bool {
    let Some(version) = name.strip_prefix(interface).and_then(|rest| rest.strip_prefix('@')) else {
        return false;
    };
    semver::Version::parse(version).is_ok_and(|v| v.major == 0 && v.minor == 1 && v.pre.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn surface(imports: &[&str], exports: &[&str]) -> Surface {
        Surface::from_names(imports.iter().copied(), exports.iter().copied())
    }

    fn problem(s: &Surface) -> String {
        match s.check() {
            Err(Error::Incompatible { message, .. }) => message,
            other => panic!("expected incompatible, got {other:?}"),
        }
    }

    #[test]
    fn versions_of_the_0_1_line_fit() {
        assert!(fits("parseltongue:plugin/host@0.1.0", HOST_INTERFACE));
        assert!(fits("parseltongue:plugin/host@0.1.7", HOST_INTERFACE));
        assert!(!fits("parseltongue:plugin/host@0.2.0", HOST_INTERFACE));
        assert!(!fits("parseltongue:plugin/host@0.1.0-rc1", HOST_INTERFACE));
        assert!(!fits("parseltongue:plugin/host", HOST_INTERFACE));
        assert!(!fits("parseltongue:plugin/hostile@0.1.0", HOST_INTERFACE));
    }

    #[test]
    fn accepts_the_contract_with_any_wasi() {
        let s = surface(
            &["wasi:io/streams@0.2.6", "wasi:cli/stderr@0.2.12", "parseltongue:plugin/host@0.1.0"],
            &["parseltongue:plugin/parseltongue-plugin@0.1.0"],
        );
        s.check().unwrap();
    }

    #[test]
    fn names_what_does_not_fit() {
        let p =
            problem(&surface(&["acme:db/query@1.0.0"], &["parseltongue:plugin/parseltongue-plugin@0.1.0"]));
        assert!(p.contains("`acme:db/query@1.0.0`"), "{p}");
        let p = problem(&surface(
            &["parseltongue:plugin/host@0.2.0"],
            &["parseltongue:plugin/parseltongue-plugin@0.1.0"],
        ));
        assert!(p.contains("host@0.2.0"), "{p}");
        let p = problem(&surface(&[], &["wasi:cli/run@0.2.0"]));
        assert!(p.contains("it exports wasi:cli/run@0.2.0"), "{p}");
        let p = problem(&surface(&[], &[]));
        assert!(p.contains("it exports nothing"), "{p}");
    }
}

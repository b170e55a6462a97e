//! Which contract a compiled component implements (0.1 or 0.2) and whether it fits it, decided
//! from its declared imports and exports so that refusals can say exactly what is wrong.

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::contract::columnar;
use crate::contract::{EXPORT_INTERFACE, HOST_INTERFACE, KV_INTERFACE};
use crate::error::Error;

/// A contract version this host implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Contract {
    /// `parseltongue:plugin@0.1`: the seed's contract (nodes as records of strings, edges from
    /// `host.edges`, findings as strings). Kept working for the plugins written for it.
    #[serde(rename = "0.1")]
    V0_1,
    /// `parseltongue:plugin@0.2`: the graph as columns, findings as records, a `rules` export.
    #[serde(rename = "0.2")]
    V0_2,
}

impl Contract {
    /// Every contract this host implements, newest first.
    pub const ALL: [Contract; 2] = [Contract::V0_2, Contract::V0_1];

    /// The exact version this host implements (`0.1.0`, `0.2.0`); any patch of its minor fits.
    pub fn version(self) -> &'static str {
        match self {
            Contract::V0_1 => "0.1.0",
            Contract::V0_2 => "0.2.0",
        }
    }

    /// `parseltongue:plugin/analyzer@0.2.0`.
    pub fn world(self) -> String {
        format!("parseltongue:plugin/analyzer@{}", self.version())
    }

    /// The contract a component's bytes declare by their top-level exports, read without
    /// compiling anything (for packaging: the world recorded beside a pushed plugin). `None`
    /// for what is not a component of either contract.
    pub fn declared_by(component: &[u8]) -> Option<Contract> {
        let mut depth = 0usize;
        for payload in wasmparser::Parser::new(0).parse_all(component) {
            match payload.ok()? {
                wasmparser::Payload::ModuleSection { .. } | wasmparser::Payload::ComponentSection { .. } => {
                    depth += 1
                }
                wasmparser::Payload::End(_) => depth = depth.saturating_sub(1),
                wasmparser::Payload::ComponentExportSection(exports) if depth == 0 => {
                    for export in exports {
                        let name = export.ok()?.name.name;
                        if let Some(c) = Contract::ALL.into_iter().find(|c| fits(name, c.export(), c.minor()))
                        {
                            return Some(c);
                        }
                    }
                }
                _ => {}
            }
        }
        None
    }

    fn minor(self) -> u64 {
        match self {
            Contract::V0_1 => 1,
            Contract::V0_2 => 2,
        }
    }

    fn export(self) -> &'static str {
        match self {
            Contract::V0_1 => EXPORT_INTERFACE,
            Contract::V0_2 => columnar::EXPORT_INTERFACE,
        }
    }

    fn imports(self) -> &'static [&'static str] {
        match self {
            Contract::V0_1 => &[HOST_INTERFACE, KV_INTERFACE],
            Contract::V0_2 => &[HOST_INTERFACE, KV_INTERFACE, columnar::TYPES_INTERFACE],
        }
    }
}

impl std::fmt::Display for Contract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Contract::V0_1 => "0.1",
            Contract::V0_2 => "0.2",
        })
    }
}

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

    /// Which contract the names say the component implements (by its export), and whether
    /// its imports fit that contract; type mismatches are found later, when linking.
    ///
    /// # Errors
    ///
    /// [`Error::Incompatible`] naming the missing export or the import this host lacks.
    pub fn check(&self) -> Result<Contract, Error> {
        let incompatible = |message: String| Err(Error::Incompatible { message, source: None });
        if let Some(other) = self.other_imports.first() {
            return incompatible(format!("it imports `{other}`, which this host does not provide"));
        }
        let Some(contract) =
            Contract::ALL.into_iter().find(|c| self.exports.iter().any(|e| fits(e, c.export(), c.minor())))
        else {
            let exports =
                if self.exports.is_empty() { "nothing".to_string() } else { self.exports.join(", ") };
            // Built for a contract this host does not know: name what it uses of it.
            let ours =
                self.host_imports.iter().chain(&self.exports).find(|n| n.starts_with("parseltongue:plugin/"));
            let uses = ours
                .map(|n| format!("; it uses `{n}`, a contract version this host lacks"))
                .unwrap_or_default();
            return incompatible(format!(
                "it exports neither {}@0.2.x nor {EXPORT_INTERFACE}@0.1.x (it exports {exports}){uses}",
                columnar::EXPORT_INTERFACE
            ));
        };
        for import in &self.host_imports {
            if !contract.imports().iter().any(|interface| fits(import, interface, contract.minor())) {
                return incompatible(format!(
                    "it imports `{import}`; a {contract} plugin may import {}",
                    contract
                        .imports()
                        .iter()
                        .map(|i| format!("{i}@{contract}.x"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        Ok(contract)
    }
}

/// Whether `name` is `interface@0.<minor>.x`.
fn fits(name: &str, interface: &str, minor: u64) -> bool {
    let Some(version) = name.strip_prefix(interface).and_then(|rest| rest.strip_prefix('@')) else {
        return false;
    };
    semver::Version::parse(version).is_ok_and(|v| v.major == 0 && v.minor == minor && v.pre.is_empty())
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
        assert!(fits("parseltongue:plugin/host@0.1.0", HOST_INTERFACE, 1));
        assert!(fits("parseltongue:plugin/host@0.1.7", HOST_INTERFACE, 1));
        assert!(!fits("parseltongue:plugin/host@0.2.0", HOST_INTERFACE, 1));
        assert!(fits("parseltongue:plugin/host@0.2.0", HOST_INTERFACE, 2));
        assert!(!fits("parseltongue:plugin/host@0.1.0-rc1", HOST_INTERFACE, 1));
        assert!(!fits("parseltongue:plugin/host", HOST_INTERFACE, 1));
        assert!(!fits("parseltongue:plugin/hostile@0.1.0", HOST_INTERFACE, 1));
    }

    #[test]
    fn accepts_the_contract_with_any_wasi() {
        let s = surface(
            &["wasi:io/streams@0.2.6", "wasi:cli/stderr@0.2.12", "parseltongue:plugin/host@0.1.0"],
            &["parseltongue:plugin/parseltongue-plugin@0.1.0"],
        );
        assert_eq!(s.check().unwrap(), Contract::V0_1);
        let s = surface(
            &[
                "wasi:cli/stderr@0.2.12",
                "parseltongue:plugin/host@0.2.0",
                "parseltongue:plugin/graph-types@0.2.0",
            ],
            &["parseltongue:plugin/analysis@0.2.0"],
        );
        assert_eq!(s.check().unwrap(), Contract::V0_2);
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
        // A 0.2 plugin cannot mix in 0.1's host (nor the other way round).
        let p =
            problem(&surface(&["parseltongue:plugin/host@0.1.0"], &["parseltongue:plugin/analysis@0.2.0"]));
        assert!(p.contains("host@0.1.0") && p.contains("a 0.2 plugin"), "{p}");
        let p = problem(&surface(&[], &["wasi:cli/run@0.2.0"]));
        assert!(p.contains("(it exports wasi:cli/run@0.2.0)"), "{p}");
        let p = problem(&surface(&[], &[]));
        assert!(p.contains("it exports nothing"), "{p}");
    }
}

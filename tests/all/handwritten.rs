//! A plugin written by hand in the component text format: no Rust, no WASI, no host calls. It
//! shows the host takes any component of the contract, and lets tests return exactly the bytes
//! they need (bad confidence, dangling pointers) to prove the output checks.

use parseltongue_plugins::{ErrorKind, PluginOptions};

use crate::support::{sandbox, small_graph};

/// A component exporting `analyze-graph@<version>` that returns `findings` and `confidence`.
/// `findings_ptr` overrides where the findings list claims to live (to forge a bad pointer).
fn component(version: &str, findings: &[&str], confidence: f32, findings_ptr: Option<u32>) -> Vec<u8> {
    const STRINGS: u32 = 1024;
    const LIST: u32 = 512;
    const RESULT: u32 = 64;
    let mut data = String::new();
    let mut offset = STRINGS;
    let mut list = Vec::new();
    for f in findings {
        data.push_str(&format!("(data (i32.const {offset}) \"{}\")\n", escape(f.as_bytes())));
        list.extend_from_slice(&offset.to_le_bytes());
        list.extend_from_slice(&(f.len() as u32).to_le_bytes());
        offset += f.len() as u32;
    }
    data.push_str(&format!("(data (i32.const {LIST}) \"{}\")\n", escape(&list)));
    let mut record = Vec::new();
    record.extend_from_slice(&findings_ptr.unwrap_or(LIST).to_le_bytes());
    record.extend_from_slice(&(findings.len() as u32).to_le_bytes());
    record.extend_from_slice(&confidence.to_bits().to_le_bytes());
    record.extend_from_slice(&[0; 8]); // no recommendations
    data.push_str(&format!("(data (i32.const {RESULT}) \"{}\")\n", escape(&record)));
    crate::support::contract_component(
        version,
        &format!("(func (export \"analyze\") (param i32 i32) (result i32) (i32.const {RESULT}))\n{data}"),
    )
}

fn escape(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

#[tokio::test]
async fn a_hand_written_component_runs() {
    let wasm = component("0.1.0", &["first", "second"], 0.75, None);
    let plugin = sandbox().load("handwritten", &wasm, PluginOptions::new()).unwrap();
    assert!(plugin.surface().wasi_imports.is_empty() && plugin.surface().host_imports.is_empty());
    let analysis = plugin.analyze(&small_graph()).await.unwrap();
    assert_eq!(analysis.result.messages(), vec!["first", "second"]);
    assert_eq!(analysis.result.confidence, 0.75);
    assert_eq!(analysis.usage.host_calls, 0);
}

#[tokio::test]
async fn any_0_1_x_export_fits_and_0_2_does_not() {
    let wasm = component("0.1.3", &["later patch"], 1.0, None);
    let plugin = sandbox().load("patch", &wasm, PluginOptions::new()).expect("0.1.3 fits a 0.1.0 host");
    assert_eq!(plugin.analyze(&small_graph()).await.unwrap().result.messages(), vec!["later patch"]);

    let wasm = component("0.2.0", &[], 1.0, None);
    let e = sandbox().load("next", &wasm, PluginOptions::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Incompatible, "{e}");
}

#[tokio::test]
async fn a_confidence_outside_0_to_1_is_refused() {
    for bad in [1.5, -0.1, f32::NAN, f32::INFINITY] {
        let plugin =
            sandbox().load("conf", &component("0.1.0", &[], bad, None), PluginOptions::new()).unwrap();
        let e = plugin.analyze(&small_graph()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::OutputLimit, "{bad}: {e}");
        assert!(e.to_string().contains("outside 0.0..=1.0"), "{e}");
    }
}

#[tokio::test]
async fn a_result_pointing_outside_memory_is_invalid_output_not_a_host_crash() {
    let wasm = component("0.1.0", &["x"], 1.0, Some(0xFFFF_FFF0));
    let plugin = sandbox().load("dangling", &wasm, PluginOptions::new()).unwrap();
    let e = plugin.analyze(&small_graph()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidOutput, "{e}");
    assert!(e.to_string().contains("out of bounds"), "{e}");
}

#[tokio::test]
async fn invalid_utf8_in_a_result_is_invalid_output() {
    let mut wasm = component("0.1.0", &["\u{fffd}"], 1.0, None);
    // Replace the valid 3-byte U+FFFD with an invalid sequence of the same length.
    let at = wasm.windows(3).position(|w| w == "\u{fffd}".as_bytes()).expect("the finding's bytes");
    wasm[at..at + 3].copy_from_slice(&[0xff, 0xfe, 0xfd]);
    let plugin = sandbox().load("utf8", &wasm, PluginOptions::new()).unwrap();
    let e = plugin.analyze(&small_graph()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidOutput, "{e}");
    assert!(e.to_string().contains("not UTF-8"), "{e}");
}

//! The HTML report in a real browser: headless Chromium (Debian's `chromium`), driven over
//! WebDriver by `chromedriver` on loopback. The page loads from a file with no network; its
//! tables and pictures are there and sized; the filters work by a scripted selection and by the
//! query string; sorting works by a click; the screenshot is not blank. The real sample's
//! screenshot is what `docs/report.png` shows (`PTPLUGIN_UPDATE_DOCS=1` writes it again).

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::reports::{cli, sample_dir};

/// `chromedriver` on a free loopback port; killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Driver {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (.ci/test-deps installs Debian's chromium-driver)");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen on port {port} within 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver { child, url: format!("http://127.0.0.1:{port}") }
    }

    /// A headless Chromium with an empty profile and no background network (this machine has
    /// none to offer).
    async fn browser(&self, profile: &Path) -> Client {
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,1800",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({ "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": args } });
        let Value::Object(capabilities) = capabilities else { unreachable!() };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("a Chromium session through {}: {e}", self.url))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the page shows, read by script.
async fn page_state(client: &Client) -> Value {
    client
        .execute(
            r#"
            const visible = Array.from(document.querySelectorAll('#findings tbody tr')).filter(r => !r.hidden);
            const nav = performance.getEntriesByType('navigation')[0];
            return {
              summary_rows: document.querySelectorAll('#summary tbody tr').length,
              rows: document.querySelectorAll('#findings tbody tr').length,
              visible: visible.length,
              visible_plugins: Array.from(new Set(visible.map(r => r.dataset.plugin))),
              first_severity: visible.length ? visible[0].dataset.severity : null,
              shown: document.getElementById('shown').textContent,
              pictures: Array.from(document.querySelectorAll('svg.picture')).map(s => {
                const r = s.getBoundingClientRect();
                return [r.width, r.height, s.querySelectorAll('rect, path, text').length];
              }),
              load_ms: nav ? nav.loadEventEnd : null,
            };
            "#,
            vec![],
        )
        .await
        .expect("the script runs")
}

/// A screenshot that shows something: mostly not one colour, many colours.
fn check_screenshot(png: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let background = pixels[0];
    let different = pixels.iter().filter(|p| p[..3] != background[..3]).count();
    let colours: std::collections::HashSet<&[u8]> = pixels.iter().map(|p| &p[..3]).collect();
    assert!(
        different * 20 > pixels.len(),
        "the screenshot is nearly blank: {different} of {} pixels differ",
        pixels.len()
    );
    assert!(colours.len() > 50, "the screenshot has only {} colours", colours.len());
    (info.width, info.height)
}

fn report(graph: &str, html: &Path) -> usize {
    let started = Instant::now();
    let (code, _, err) =
        cli(&["analyze", "--graph", graph, "--format", "html", "-o", html.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    let text = std::fs::read_to_string(html).unwrap();
    println!("report of {graph}: {} bytes, made in {:?}", text.len(), started.elapsed());
    // Self-contained: nothing to fetch (the only URL is SVG's namespace, which is not fetched).
    for external in ["src=", "<link", "@import", "@font-face", "url(http", "href=\"http"] {
        assert!(!text.contains(external), "the report refers to something outside it: {external}");
    }
    text.len()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_html_report_renders_filters_and_sorts_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    // Relative, as a user types it (the tests run in the crate's directory): the page shows it.
    report("samples/parseltongue-v1.7.2", &html);
    let (_, out, _) = cli(&["analyze", "--graph", &sample_dir(), "--format", "json"]);
    let results: Value = serde_json::from_str(&out).unwrap();
    let findings: Vec<&Value> = results["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["findings"].as_array().unwrap())
        .collect();
    let count = |plugin: Option<&str>, severity: Option<&str>| {
        results["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| plugin.is_none_or(|name| p["name"] == name))
            .flat_map(|p| p["findings"].as_array().unwrap())
            .filter(|f| severity.is_none_or(|s| f["severity"] == s))
            .count()
    };

    let driver = Driver::start();
    let client = driver.browser(&dir.path().join("profile")).await;
    let url = format!("file://{}", html.display());
    client.goto(&url).await.unwrap();
    let state = page_state(&client).await;
    assert_eq!(state["summary_rows"], 7, "{state}");
    assert_eq!(state["rows"].as_u64(), Some(findings.len() as u64), "{state}");
    assert_eq!(state["visible"], state["rows"]);
    // Every cycle (10), the top 5 hot spots and the module graph, each drawn and sized.
    let pictures = state["pictures"].as_array().unwrap();
    assert_eq!(pictures.len(), 16, "{state}");
    for p in pictures {
        let (w, h, shapes) = (p[0].as_f64().unwrap(), p[1].as_f64().unwrap(), p[2].as_u64().unwrap());
        assert!(w >= 40.0 && h >= 20.0 && shapes >= 2, "a picture of {w}×{h} with {shapes} shapes: {state}");
    }
    println!("the real sample's report loaded in {} ms", state["load_ms"]);
    let (width, height) = check_screenshot(&client.screenshot().await.unwrap());
    assert!(width >= 1000 && height >= 800, "{width}×{height}");
    if std::env::var_os("PTPLUGIN_UPDATE_DOCS").is_some() {
        let png = client.screenshot().await.unwrap();
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/report.png"), png).unwrap();
    }

    // A scripted selection filters the table; the count follows.
    client.find(Locator::Id("filter-severity")).await.unwrap().select_by_value("warning").await.unwrap();
    let state = page_state(&client).await;
    let warnings = count(None, Some("warning"));
    assert!(warnings > 0);
    assert_eq!(state["visible"].as_u64(), Some(warnings as u64), "{state}");
    assert_eq!(state["shown"], warnings.to_string());

    // A click on a header sorts: notes come first in the page, warnings after a sort by severity.
    client.goto(&url).await.unwrap();
    assert_eq!(page_state(&client).await["first_severity"], "note");
    client.find(Locator::Css("#findings th[data-sort=severity]")).await.unwrap().click().await.unwrap();
    assert_eq!(page_state(&client).await["first_severity"], "warning");

    // The query string sets the filters.
    client.goto(&format!("{url}?plugin=cycle-finder&severity=warning")).await.unwrap();
    let state = page_state(&client).await;
    assert_eq!(
        state["visible"].as_u64(),
        Some(count(Some("cycle-finder"), Some("warning")) as u64),
        "{state}"
    );
    assert_eq!(state["visible_plugins"], json!(["cycle-finder"]));

    // A 10,000-node synthetic graph: the report still loads, the pictures are cut and say so.
    let graph = dir.path().join("synthetic.json");
    std::fs::write(&graph, parseltongue_plugins::synthetic::parseltongue_like(10_000, 7).to_json()).unwrap();
    let big = dir.path().join("big.html");
    report(graph.to_str().unwrap(), &big);
    client.goto(&format!("file://{}", big.display())).await.unwrap();
    let state = page_state(&client).await;
    assert!(state["rows"].as_u64().unwrap() > 100, "{state}");
    assert!(!state["pictures"].as_array().unwrap().is_empty(), "{state}");
    let cut: Value = client
        .execute("return Array.from(document.querySelectorAll('.cut')).map(e => e.textContent)", vec![])
        .await
        .unwrap();
    assert!(!cut.as_array().unwrap().is_empty(), "a large graph's pictures say what was cut: {state}");
    check_screenshot(&client.screenshot().await.unwrap());
    println!("the 10k-node report loaded in {} ms", state["load_ms"]);
    client.close().await.unwrap();
}

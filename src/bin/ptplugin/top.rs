//! `ptplugin top`: a live terminal view of a host — each plugin's state, instances, restarts,
//! latency, CPU against its quota, memory against its limit, dropped output, recent errors.
//!
//! The figures are [`MetricsSnapshot`]s: read from a running host's metrics endpoint
//! (`--connect`, i.e. its `/snapshot`), or taken from a demo host started here, which keeps the
//! bundled analyses and misbehaving plugins busy so that every state shows up.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use parseltongue_plugins::telemetry::{MetricsSnapshot, PluginMetrics};
use parseltongue_plugins::{
    Backoff, Error, Limits, PluginHost, PluginOptions, PluginSpec, Quota, RestartPolicy, Sandbox, bundled,
};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState};
use ratatui::{DefaultTerminal, Frame};

use crate::args::TopArgs;
use crate::report::{self, Failure};

/// Where snapshots come from.
enum Source {
    /// A host in this process, with its workload running.
    Demo { host: PluginHost, workload: tokio::task::JoinHandle<()> },
    /// A host elsewhere, through its endpoint.
    Remote { url: String, client: reqwest::Client },
}

impl Source {
    fn describe(&self) -> String {
        match self {
            Source::Demo { .. } => "demo host (bundled analyses and faults under load)".into(),
            Source::Remote { url, .. } => url.clone(),
        }
    }

    async fn snapshot(&self) -> Result<MetricsSnapshot, String> {
        match self {
            Source::Demo { host, .. } => Ok(host.metrics().await),
            Source::Remote { url, client } => {
                let response =
                    client.get(url).send().await.map_err(|e| format!("cannot reach {url}: {e}"))?;
                if !response.status().is_success() {
                    return Err(format!("{url} answered {}", response.status()));
                }
                let text = response.text().await.map_err(|e| format!("reading {url}: {e}"))?;
                serde_json::from_str(&text).map_err(|e| format!("{url} is not a ptplugin snapshot: {e}"))
            }
        }
    }

    async fn stop(self) {
        if let Source::Demo { host, workload } = self {
            workload.abort();
            host.shutdown().await;
        }
    }
}

pub async fn top(
    sandbox: impl FnOnce() -> Result<Sandbox, Error>,
    args: TopArgs,
) -> Result<std::process::ExitCode, Failure> {
    if !std::io::stdout().is_terminal() {
        return Err(problem(
            "ptplugin top draws a live view and needs a terminal; for figures in scripts, read the \
             endpoint's /snapshot (JSON) or /metrics",
        ));
    }
    let source = match &args.connect {
        Some(addr) => Source::Remote {
            url: format!("http://{addr}/snapshot"),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(2))
                .build()
                .map_err(|e| problem(&format!("cannot make an HTTP client: {e}")))?,
        },
        None => demo(sandbox()?).await?,
    };
    let mut terminal = ratatui::try_init()
        .map_err(|e| Error::Io { context: "cannot take over the terminal".into(), source: e })?;
    let outcome = run(&mut terminal, &source, args.interval).await;
    ratatui::restore();
    source.stop().await;
    outcome.map_err(|e| Error::Io { context: "drawing the terminal".into(), source: e })?;
    Ok(std::process::ExitCode::SUCCESS)
}

fn problem(message: &str) -> Failure {
    Error::Usage { message: format!("ptplugin top: {message}") }.into()
}

/// What the view shows between snapshots.
struct View {
    source: String,
    snapshot: Option<MetricsSnapshot>,
    problem: Option<String>,
    table: TableState,
}

async fn run(terminal: &mut DefaultTerminal, source: &Source, interval: Duration) -> std::io::Result<()> {
    let mut view =
        View { source: source.describe(), snapshot: None, problem: None, table: TableState::default() };
    view.table.select(Some(0));
    loop {
        match source.snapshot().await {
            Ok(s) => {
                view.snapshot = Some(s);
                view.problem = None;
            }
            Err(e) => view.problem = Some(e),
        }
        terminal.draw(|frame| draw(frame, &mut view))?;
        // Wait for a key until the next refresh, without holding a runtime worker hostage.
        let deadline = std::time::Instant::now() + interval;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            let ready = tokio::task::block_in_place(|| event::poll(left))?;
            if !ready {
                break;
            }
            if let Event::Key(key) = tokio::task::block_in_place(event::read)? {
                if key.kind != KeyEventKind::Press {
                    continue;
                }
                let rows = view.snapshot.as_ref().map_or(0, |s| s.plugins.len());
                match key.code {
                    KeyCode::Char('q') | KeyCode::Esc => return Ok(()),
                    KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => return Ok(()),
                    KeyCode::Down | KeyCode::Char('j') if rows > 0 => {
                        let next = view.table.selected().map_or(0, |i| (i + 1) % rows);
                        view.table.select(Some(next));
                    }
                    KeyCode::Up | KeyCode::Char('k') if rows > 0 => {
                        let prev = view.table.selected().map_or(0, |i| (i + rows - 1) % rows);
                        view.table.select(Some(prev));
                    }
                    _ => {}
                }
                terminal.draw(|frame| draw(frame, &mut view))?;
            }
        }
    }
}

/// The state column: the plugin's, or what its instances are doing when that says more.
fn state(p: &PluginMetrics) -> String {
    if p.state != "running" {
        return p.state.clone();
    }
    if p.throttled {
        return "throttled".into();
    }
    if p.instances.iter().any(|i| i == "backing-off") {
        return "backing off".into();
    }
    "running".into()
}

/// Busy instances of all, and how many wait to restart (↻).
fn instances(p: &PluginMetrics) -> String {
    let count = |s: &str| p.instances.iter().filter(|i| *i == s).count();
    let waiting = count("backing-off") + count("stopping");
    let mut out = format!("{}/{}", count("busy"), p.instances.len());
    if waiting > 0 {
        out.push_str(&format!(" ↻{waiting}"));
    }
    out
}

fn millis(d: Option<Duration>) -> String {
    match d {
        Some(d) if d < Duration::from_millis(10) => format!("{:.2}", d.as_secs_f64() * 1000.0),
        Some(d) => format!("{:.0}", d.as_secs_f64() * 1000.0),
        None => "–".into(),
    }
}

fn cpu(p: &PluginMetrics) -> String {
    match p.cpu_budget_ms {
        Some(budget) => format!("{:.0}/{:.0} ms", p.window_time_ms, budget),
        None => format!("{:.0} ms", p.guest_time_ms),
    }
}

fn memory(p: &PluginMetrics) -> String {
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    format!("{:.1}/{:.0} MiB", mib(p.peak_memory_bytes), mib(p.memory_limit_bytes))
}

fn state_style(state: &str) -> Style {
    match state {
        "quarantined" => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        "backing off" | "throttled" => Style::default().fg(Color::Yellow),
        "draining" => Style::default().fg(Color::Blue),
        _ => Style::default().fg(Color::Green),
    }
}

fn draw(frame: &mut Frame, view: &mut View) {
    let [head, body, foot] =
        Layout::vertical([Constraint::Length(3), Constraint::Min(6), Constraint::Length(10)])
            .areas(frame.area());
    let mut header = vec![Line::from(vec![
        Span::styled("ptplugin top", Style::default().add_modifier(Modifier::BOLD)),
        Span::raw(format!(" — {}    q quits, ↑/↓ selects", view.source)),
    ])];
    if let Some(s) = &view.snapshot {
        let quarantined = s.plugins.iter().filter(|p| p.state == "quarantined").count();
        let backing = s.plugins.iter().filter(|p| state(p) == "backing off").count();
        header.push(Line::from(format!(
            "up {:.0} s · host rss {} · {} fds · {} plugins: {} quarantined, {} backing off · {} calls, {} errors",
            s.uptime_ms as f64 / 1000.0,
            report::bytes(s.process.rss_bytes),
            s.process.fds,
            s.plugins.len(),
            quarantined,
            backing,
            s.plugins.iter().map(|p| p.calls).sum::<u64>(),
            s.plugins.iter().map(PluginMetrics::error_count).sum::<u64>(),
        )));
    }
    if let Some(problem) = &view.problem {
        header.push(Line::styled(problem.clone(), Style::default().fg(Color::Red)));
    }
    frame.render_widget(Paragraph::new(header), head);

    let plugins: &[PluginMetrics] = view.snapshot.as_ref().map_or(&[], |s| &s.plugins);
    let rows = plugins.iter().map(|p| {
        let st = state(p);
        Row::new(vec![
            Cell::from(p.plugin.clone()),
            Cell::from(p.version.clone()),
            Cell::from(st.clone()).style(state_style(&st)),
            Cell::from(instances(p)),
            Cell::from(p.queued.to_string()),
            Cell::from(p.calls.to_string()),
            Cell::from(p.error_count().to_string()),
            Cell::from(p.restarts.to_string()),
            Cell::from(millis(p.latency.quantile(0.5))),
            Cell::from(millis(p.latency.quantile(0.99))),
            Cell::from(cpu(p)),
            Cell::from(memory(p)),
            Cell::from(report::bytes(p.throttled_bytes)),
        ])
    });
    let widths = [
        Constraint::Length(22),
        Constraint::Length(7),
        Constraint::Length(12),
        Constraint::Length(9),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(14),
        Constraint::Length(14),
        Constraint::Fill(1),
    ];
    let header = Row::new([
        "PLUGIN",
        "VERSION",
        "STATE",
        "BUSY/INST",
        "QUEUE",
        "CALLS",
        "ERRORS",
        "RESTARTS",
        "P50 ms",
        "P99 ms",
        "CPU/QUOTA",
        "MEM/LIMIT",
        "DROPPED",
    ])
    .style(Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    let table = Table::new(rows, widths)
        .header(header)
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
        .block(Block::default().borders(Borders::TOP).title(" plugins "));
    frame.render_stateful_widget(table, body, &mut view.table);

    let selected = view.table.selected().and_then(|i| plugins.get(i));
    let mut lines: Vec<Line> = Vec::new();
    let title = match selected {
        Some(p) => {
            let each: Vec<String> =
                p.instances.iter().enumerate().map(|(i, s)| format!("#{i} {s}")).collect();
            lines.push(Line::from(format!(
                "instances: {} · quota {} · {} crashes, {} quarantines",
                each.join(" · "),
                p.quota_level,
                p.crashes,
                p.quarantines
            )));
            if let Some(why) = &p.state_reason {
                lines.push(Line::styled(format!("quarantined: {why}"), Style::default().fg(Color::Red)));
            }
            for e in p.recent_errors.iter().rev() {
                lines.push(Line::from(format!("{:<14} {}", e.kind, e.message)));
            }
            if p.recent_errors.is_empty() {
                lines.push(Line::from("no errors"));
            }
            format!(" {}: instances and recent errors ", p.plugin)
        }
        None => " instances and recent errors ".to_string(),
    };
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: true })
            .block(Block::default().borders(Borders::TOP).title(title)),
        foot,
    );
}

/// A host whose plugins show every state: analyses answering, a panicking plugin restarting with
/// backoff until quarantined, a loop against a CPU quota, a memory bomb, a flood being dropped.
async fn demo(sandbox: Sandbox) -> Result<Source, Failure> {
    // Every bundled analysis, and the misbehaving plugins whose states are worth watching.
    let faults = ["fault-panic", "fault-loop", "fault-memory-bomb", "fault-log-flood"];
    let plugins =
        bundled::PLUGINS.iter().filter(|p| p.role == bundled::Role::Analysis || faults.contains(&p.name));
    let specs = plugins.map(|p| {
        let spec = PluginSpec::bytes(p.name, p.wasm);
        if p.name == "fault-loop" {
            // 300 ms per call against 2 s of CPU per 20 s: warned, throttled, then stopped.
            spec.options(
                PluginOptions::new().limits(Limits::default().with_cpu_time(Duration::from_millis(300))),
            )
            .quota(Quota {
                cpu_per_window: Some(Duration::from_secs(2)),
                window: Duration::from_secs(20),
                ..Quota::default()
            })
        } else {
            spec
        }
    });
    let restart = RestartPolicy {
        backoff: Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(4),
            multiplier: 2.0,
            jitter: 0.1,
        },
        max_restarts: 6,
        period: Duration::from_secs(30),
        // Every round sends the same graph; count crashes, not poison inputs.
        poison_threshold: u32::MAX,
        ..RestartPolicy::default()
    };
    let host = PluginHost::builder().sandbox(sandbox).restart_policy(restart).plugins(specs).start().await?;
    let graph = Arc::new(bundled::parseltongue_sample().graph);
    let busy = host.clone();
    let workload = tokio::spawn(async move {
        let mut round = 0u64;
        loop {
            // Each plugin on its own task: a slow or quarantined one never holds the others up.
            let calls = busy.plugins().into_iter().map(|name| {
                let (host, graph) = (busy.clone(), graph.clone());
                async move { host.analyze(&name, graph).await }
            });
            futures::future::join_all(calls).await;
            round += 1;
            tokio::time::sleep(Duration::from_millis(if round < 5 { 100 } else { 400 })).await;
        }
    });
    Ok(Source::Demo { host, workload })
}

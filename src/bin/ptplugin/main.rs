//! `ptplugin`: the command-line face of parseltongue-plugins. Thin: parsing, dispatch, output.

mod analyze;
mod args;
mod audit;
mod author;
mod conformance;
mod demo;
mod distribute;
mod graph_source;
mod import;
mod inspect;
mod live;
mod output;
mod plugin_source;
mod policy;
mod report;
mod results_out;
mod run;
mod serve;
mod soak;
mod top;
mod verify_bundle;
mod watch;

use std::process::ExitCode;

use clap::Parser;
use parseltongue_plugins::{Error, ErrorKind, Sandbox};

use args::{Cli, Command};
use output::{ErrorJson, ErrorOutput};
use report::Failure;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    init_tracing(&cli);
    let format = match &cli.command {
        Command::Run(a) => a.format.errors(),
        Command::Analyze(a) => a.format.errors(),
        Command::Inspect(a) => a.format,
        Command::Demo(a) => a.format,
        Command::Import(a) => a.format,
        Command::Watch(a) => a.format,
        Command::Test(a) => a.format,
        Command::Soak(a) => a.format,
        Command::Conformance(a) => a.format,
        Command::Policy(args::PolicyCommand::Check(a)) => a.format,
        Command::Audit(args::AuditCommand::Verify(a)) => a.format,
        Command::Push(a) => a.format,
        Command::Pull(a) | Command::Verify(a) => a.format,
        Command::Update(a) => a.format,
        Command::List(a) => a.format,
        Command::New(_)
        | Command::Sdk(_)
        | Command::Keygen(_)
        | Command::Sign(_)
        | Command::VerifyBundle(_)
        | Command::Rollback(_)
        | Command::Top(_)
        | Command::Serve(_) => args::Format::Text,
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(failure) => failure.report(format),
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode, Failure> {
    // Only the commands that run plugins pay for engines and a compile cache.
    let sandbox = || sandbox(&cli.cache_dir, cli.no_cache);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Io { context: "cannot start the async runtime".into(), source: e })?;
    let quiet = cli.quiet;
    match cli.command {
        Command::Run(args) => runtime.block_on(run::run(&sandbox()?, args, quiet)),
        Command::Analyze(args) => runtime.block_on(analyze::analyze(&sandbox()?, args, quiet)),
        Command::Inspect(args) => inspect::inspect(&sandbox()?, args),
        Command::Demo(args) => runtime.block_on(demo::demo(&sandbox()?, args)),
        Command::Import(args) => runtime.block_on(import::import(args)),
        Command::Watch(args) => runtime.block_on(watch::watch(&sandbox()?, args)),
        Command::Serve(args) => runtime.block_on(serve::serve(&sandbox()?, args)),
        Command::New(args) => author::new(args),
        Command::Test(args) => runtime.block_on(author::test(&sandbox()?, args)),
        Command::Sdk(command) => author::sdk(command),
        Command::Soak(args) => runtime.block_on(soak::soak(&sandbox()?, args)),
        Command::Top(args) => runtime.block_on(top::top(sandbox, args)),
        Command::Conformance(args) => runtime.block_on(conformance::conformance(&sandbox()?, args)),
        Command::Policy(args::PolicyCommand::Check(args)) => policy::check(args),
        Command::Audit(args::AuditCommand::Verify(args)) => audit::verify(args),
        Command::Push(args) => runtime.block_on(distribute::push(args)),
        Command::Pull(args) => runtime.block_on(distribute::pull(args, true)),
        Command::Verify(args) => runtime.block_on(distribute::pull(args, false)),
        Command::Keygen(args) => distribute::keygen(args),
        Command::Sign(args) => runtime.block_on(distribute::sign(args)),
        Command::VerifyBundle(args) => verify_bundle::verify(args),
        Command::Update(args) => runtime.block_on(distribute::update(args)),
        Command::Rollback(args) => distribute::rollback(args),
        Command::List(args) => distribute::list(args),
    }
}

fn sandbox(cache_dir: &Option<std::path::PathBuf>, no_cache: bool) -> Result<Sandbox, Error> {
    let builder = Sandbox::builder();
    let builder = match (cache_dir, no_cache) {
        (_, true) => builder.no_cache(),
        (Some(dir), false) => builder.cache_dir(dir),
        (None, false) => builder,
    };
    builder.build()
}

/// A command line clap refused. `--help` and `--version` print as usual; anything else is a
/// usage error (exit 2), as JSON on stdout when the command line asked for `--format json`.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind as Clap;
    if matches!(
        e.kind(),
        Clap::DisplayHelp | Clap::DisplayVersion | Clap::DisplayHelpOnMissingArgumentOrSubcommand
    ) || !wants_json(std::env::args_os().skip(1))
    {
        e.exit();
    }
    let message = e.render().to_string();
    let message = message.trim().strip_prefix("error: ").unwrap_or(message.trim());
    let error = ErrorJson {
        kind: ErrorKind::Usage,
        message: message.to_string(),
        causes: Vec::new(),
        position: None,
    };
    let _ = output::print_json(&ErrorOutput { error, usage: None });
    ExitCode::from(report::BAD_INPUT)
}

/// Whether a command line asks for JSON output (`--format json` or `--format=json`), read from
/// the raw arguments because clap could not parse them.
fn wants_json(args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    let args: Vec<std::ffi::OsString> = args.collect();
    args.iter().enumerate().any(|(i, a)| {
        a == "--format=json" || (a == "--format" && args.get(i + 1).is_some_and(|v| v == "json"))
    })
}

/// Whether stderr gets colour: only a terminal, and not when `NO_COLOR` is set (no-color.org).
fn colour() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Logs go to stderr. Under `run`, the plugin's own messages (target `ptplugin::guest`) show
/// from info up; the demo keeps its many plugins' chatter out of the way unless asked. `top`
/// owns the terminal: nothing is logged (what it would say, it shows).
fn init_tracing(cli: &Cli) {
    if matches!(cli.command, Command::Top(_)) {
        return;
    }
    let default = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) if matches!(cli.command, Command::Run(_)) => "warn,ptplugin::guest=info",
        // Many plugins at once: their chatter would bury the report (and the progress bar).
        (false, 0) => "warn,ptplugin::guest=error",
        (false, 1) => "debug,cranelift=info,wasmtime=info",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PTPLUGIN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour())
        .with_target(false)
        .without_time()
        .init();
}

//! `ptplugin serve`: plugin analyses as HTTP endpoints in Parseltongue's style, on loopback
//! unless `--allow-remote`. Ctrl-C stops it cleanly (requests in flight finish).

use std::process::ExitCode;

use parseltongue_plugins::live::{ServeOptions, router};
use parseltongue_plugins::{Error, Sandbox};

use crate::args::ServeArgs;
use crate::live::{Purpose, start};
use crate::output;
use crate::report::Failure;

pub async fn serve(sandbox: &Sandbox, args: ServeArgs) -> Result<ExitCode, Failure> {
    if !args.listen.ip().is_loopback() && !args.allow_remote {
        return Err(Error::Usage {
            message: format!(
                "{} is not a loopback address: anyone who reaches it could run the plugins; add --allow-remote if that is meant",
                args.listen
            ),
        }
        .into());
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| Error::Io { context: format!("cannot listen on {}", args.listen), source: e })?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Io { context: "cannot read the listening address".into(), source: e })?;
    let (host, source) = start(sandbox, &args.live, Purpose::Serve).await?;
    let plugins = host.plugins();
    let options = ServeOptions { max_concurrent: args.max_concurrent as usize };
    let app = router(host.clone(), source.clone(), options);
    output::print_text(&format!(
        "serving {} plugins ({}) on http://{addr} — graph: {}\n  try: curl 'http://{addr}/plugin-analyses-list-all'\n",
        plugins.len(),
        plugins.join(", "),
        source.describe()
    ))?;
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    host.shutdown().await;
    served.map_err(|e| Error::Io { context: format!("serving on {addr}"), source: e })?;
    output::print_text("stopped\n")?;
    Ok(ExitCode::SUCCESS)
}

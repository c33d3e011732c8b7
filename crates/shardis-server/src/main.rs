//! shardis-server: the binary. Reads the command line and config file, sets up logging, and
//! runs the network server: one Tokio event loop per core.

mod cli;
mod net;

use anyhow::Result;
use cli::Cli;
use std::process::ExitCode;

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The log level a `loglevel` value stands for.
fn level_of(loglevel: &str) -> tracing_subscriber::filter::LevelFilter {
    use tracing_subscriber::filter::LevelFilter;
    match loglevel {
        "debug" | "verbose" => LevelFilter::DEBUG,
        "warning" => LevelFilter::WARN,
        "nothing" => LevelFilter::OFF,
        _ => LevelFilter::INFO,
    }
}

/// Installs the one-line log format, to stdout or `logfile`, and returns a function that
/// changes the level at run time (CONFIG SET loglevel).
fn init_logging(cfg: &shardis_commands::Config) -> Result<net::SetLevel> {
    use std::io::IsTerminal;
    use tracing_subscriber::prelude::*;
    let (filter, handle) = tracing_subscriber::reload::Layer::new(level_of(&cfg.loglevel));
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .compact();
    if cfg.logfile.is_empty() {
        let fmt = fmt.with_ansi(std::io::stdout().is_terminal());
        tracing_subscriber::registry().with(filter).with(fmt).init();
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&cfg.logfile)?;
        let fmt = fmt
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file));
        tracing_subscriber::registry().with(filter).with(fmt).init();
    }
    Ok(Box::new(move |level: &str| {
        let _ = handle.modify(|f| *f = level_of(level));
    }))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (config, file) = match cli::parse(&args) {
        Ok(Cli::Version) => {
            println!(
                "shardis server v={} (Redis {} compatible)",
                env!("CARGO_PKG_VERSION"),
                shardis_commands::connection::REDIS_VERSION
            );
            return ExitCode::SUCCESS;
        }
        Ok(Cli::Help) => {
            println!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Cli::Run { config, file }) => (config, file),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let set_level = match init_logging(&config) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("Can't open the log file: {e}");
            return ExitCode::from(1);
        }
    };
    if !config.dir.is_empty() {
        if let Err(e) = std::env::set_current_dir(&config.dir) {
            eprintln!("Can't chdir to '{}': {e}", config.dir);
            return ExitCode::from(1);
        }
    }
    // The main runtime only accepts connections, watches signals and sweeps expired keys;
    // connections run on the per-core event loops that `net` starts.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("can't start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(net::run(*config, file.unwrap_or_default(), set_level)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::from(1)
        }
    }
}

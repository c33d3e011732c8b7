//! shardis-server: the binary. Reads the command line and config file, sets up logging, and
//! runs the network server on a multi-threaded Tokio runtime.

mod cli;
mod net;

use anyhow::Result;
use cli::Cli;
use std::process::ExitCode;

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn init_logging(cfg: &shardis_commands::Config) -> Result<()> {
    use tracing_subscriber::filter::LevelFilter;
    let level = match cfg.loglevel.as_str() {
        "debug" | "verbose" => LevelFilter::DEBUG,
        "warning" => LevelFilter::WARN,
        "nothing" => LevelFilter::OFF,
        _ => LevelFilter::INFO,
    };
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal())
        .compact();
    if cfg.logfile.is_empty() {
        builder.init();
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&cfg.logfile)?;
        builder
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .init();
    }
    Ok(())
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
    if let Err(e) = init_logging(&config) {
        eprintln!("Can't open the log file: {e}");
        return ExitCode::from(1);
    }
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
    match runtime.block_on(net::run(*config, file.unwrap_or_default())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::from(1)
        }
    }
}

//! Command line and config file: `shardis-server [file] [--directive value ...]`, read the
//! way redis-server reads them.
//!
//! Hand-written rather than clap: directives are an open set of `--name value...` pairs whose
//! values may themselves be several words, which clap's model does not express.

use anyhow::{bail, Result};
use shardis_commands::Config;
use shardis_protocol::split_args;

/// What the command line asks for.
pub enum Cli {
    Run {
        config: Box<Config>,
        file: Option<String>,
    },
    Version,
    Help,
}

pub const USAGE: &str = "Usage: shardis-server [/path/to/shardis.conf] [options] [-]
       shardis-server -v or --version
       shardis-server -h or --help

Examples:
       shardis-server (run the server with default config)
       shardis-server /etc/redis/6379.conf
       shardis-server --port 7777
       shardis-server /etc/myredis.conf --loglevel verbose
       shardis-server --bind 127.0.0.1 ::1 --requirepass secret

Directives: port bind databases requirepass protected-mode maxclients timeout tcp-keepalive
proto-max-bulk-len client-query-buffer-limit loglevel logfile dir (and the CONFIG GET names).";

fn fatal(origin: &str, line_no: usize, line: &str, why: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "\n*** FATAL CONFIG FILE ERROR (shardis {}) ***\nReading the configuration {origin}, at line {line_no}\n>>> '{line}'\n{why}",
        env!("CARGO_PKG_VERSION")
    )
}

/// Applies config-file text: one directive per line, `#` comments, quoted arguments.
pub fn apply_text(config: &mut Config, text: &str, origin: &str) -> Result<()> {
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some(words) = split_args(line.as_bytes()) else {
            return Err(fatal(
                origin,
                i + 1,
                line,
                "Unbalanced quotes in configuration line",
            ));
        };
        let words: Vec<String> = words
            .into_iter()
            .map(|w| String::from_utf8_lossy(&w).into_owned())
            .collect();
        let Some((name, values)) = words.split_first() else {
            continue;
        };
        if let Err(why) = config.apply(name, values) {
            let why = if why.starts_with("Bad directive") {
                format!("Bad directive or wrong number of arguments: '{name}'")
            } else {
                format!("Invalid argument for '{name}': {why}")
            };
            return Err(fatal(origin, i + 1, line, &why));
        }
    }
    Ok(())
}

/// Parses the process arguments (without the program name).
pub fn parse(args: &[String]) -> Result<Cli> {
    let mut config = Config::default();
    let mut rest = args;
    if let Some(first) = rest.first() {
        match first.as_str() {
            "-v" | "--version" => return Ok(Cli::Version),
            "-h" | "--help" => return Ok(Cli::Help),
            _ => {}
        }
    }
    let mut file = None;
    if let Some(first) = rest.first().filter(|a| !a.starts_with("--")) {
        let text = std::fs::read_to_string(first)
            .map_err(|e| anyhow::anyhow!("Fatal error, can't open config file '{first}': {e}"))?;
        apply_text(&mut config, &text, &format!("file '{first}'"))?;
        file =
            Some(std::fs::canonicalize(first).map_or(first.clone(), |p| p.display().to_string()));
        rest = &rest[1..];
    }
    // `--name v1 v2 --other v` becomes the lines "name v1 v2" and "other v", applied in order
    // after the file, as redis-server does.
    let mut lines: Vec<Vec<String>> = Vec::new();
    for a in rest {
        if let Some(name) = a.strip_prefix("--") {
            if name.is_empty() {
                bail!("Invalid option '--'\n\n{USAGE}");
            }
            lines.push(vec![name.to_string()]);
        } else {
            match lines.last_mut() {
                Some(l) => l.push(a.clone()),
                None => bail!("Invalid argument '{a}'\n\n{USAGE}"),
            }
        }
    }
    for (i, l) in lines.iter().enumerate() {
        let (name, values) = l.split_first().expect("non-empty");
        if let Err(why) = config.apply(name, values) {
            let shown = l.join(" ");
            let why = if why.starts_with("Bad directive") {
                format!("Bad directive or wrong number of arguments: '{name}'")
            } else {
                format!("Invalid argument for '{name}': {why}")
            };
            return Err(fatal("command line", i + 1, &shown, &why));
        }
    }
    Ok(Cli::Run {
        config: Box::new(config),
        file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn args_after_file_override() {
        let dir = std::env::temp_dir().join(format!("shardis-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("a.conf");
        std::fs::write(
            &f,
            "# comment\nport 7000\nbind 127.0.0.1 ::1\nrequirepass \"a b\"\n",
        )
        .unwrap();
        let Cli::Run { config, .. } = parse(&s(&[f.to_str().unwrap(), "--port", "7001"])).unwrap()
        else {
            panic!()
        };
        assert_eq!(config.port, 7001);
        assert_eq!(config.bind, vec!["127.0.0.1", "::1"]);
        assert_eq!(config.requirepass.as_deref(), Some(&b"a b"[..]));
        std::fs::write(&f, "port 7000\nnosuch 1\n").unwrap();
        let e = parse(&s(&[f.to_str().unwrap()])).err().unwrap().to_string();
        assert!(
            e.contains("line 2") && e.contains("nosuch") && e.contains("a.conf"),
            "{e}"
        );
        let e = parse(&s(&["--port", "abc"])).err().unwrap().to_string();
        assert!(e.contains("port"), "{e}");
    }
}

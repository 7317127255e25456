//! `stepwise`: run and validate Amazon States Language state machines.

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use stepwise_asl::diagnostic::Diagnostic;
use stepwise_asl::validate::{MachineType, ValidateOptions};
use stepwise_asl::StateMachine;
use stepwise_engine::{run_local_with, CannedTasks, ExecutionStatus, RunOptions, TaskHandler};

#[derive(Parser)]
#[command(
    name = "stepwise",
    version,
    about = "Run AWS Step Functions state machines (Amazon States Language) locally, as AWS runs them.",
    long_about = "Stepwise runs state machines written in the Amazon States Language with the semantics \
of AWS Step Functions: same outputs, errors and execution history.\n\n\
Examples:\n  stepwise validate examples/hello.asl.json\n  \
stepwise run examples/hello.asl.json --input '{\"name\": \"World\"}'\n  \
stepwise run examples/hello.asl.json --history --skip-waits"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a definition the way ValidateStateMachineDefinition does.
    ///
    /// Prints one diagnostic per line as FILE:LINE:COL: CODE: message (at /json/pointer).
    /// Exit status: 0 when valid, 1 when not, 2 when the file cannot be read.
    Validate {
        /// The definition (JSON).
        file: PathBuf,
        /// Print the ValidateStateMachineDefinition response shape instead.
        #[arg(long)]
        json: bool,
        /// Validate as an EXPRESS state machine (some integrations are not allowed there).
        #[arg(long)]
        express: bool,
    },
    /// Run a state machine in process and print its output.
    ///
    /// Without --history: prints the output JSON on stdout, or the error and cause on stderr.
    /// With --history: prints {"status", "output", "error", "cause", "history"} where history is
    /// the GetExecutionHistory event list.
    /// Exit status: 0 SUCCEEDED, 1 FAILED/TIMED_OUT/ABORTED, 2 invalid definition or input.
    Run(RunArgs),
    /// Serve the AWS Step Functions API (AWS JSON 1.0) for boto3, the aws CLI and the AWS SDKs.
    ///
    /// Point a client at it with e.g. `--endpoint-url http://localhost:8083`. Stops cleanly on
    /// SIGTERM or Ctrl-C; executions still running resume on the next start. All 37 actions of
    /// the service are served; the web console is at http://localhost:8083/.
    Serve(ServeArgs),
    /// Draw a state machine: SVG (default), Graphviz DOT or Mermaid.
    ///
    /// The SVG uses the same layout as the web console. Exit status: 0 drawn, 2 when the
    /// file cannot be read or the definition is invalid (diagnostics on stderr).
    Graph {
        /// The definition (JSON).
        file: PathBuf,
        /// Output format.
        #[arg(long, default_value = "svg", value_parser = ["svg", "dot", "mermaid"])]
        format: String,
        /// Write to this file instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Validate as an EXPRESS state machine.
        #[arg(long)]
        express: bool,
    },
}

/// `stepwise serve`'s settings. Each comes from its flag, else its environment variable, else
/// the configuration file (`--config`), else the default.
#[derive(Args)]
struct ServeArgs {
    /// A TOML file with any of: port, host, region, account, data_dir, workers, log_level,
    /// mock_config, lambda_config, lambda_endpoint, connections.
    #[arg(long, env = "STEPWISE_CONFIG")]
    config: Option<PathBuf>,
    /// TCP port (0 picks a free one; the log says which). Default 8083.
    #[arg(long, env = "STEPWISE_PORT")]
    port: Option<u16>,
    /// Address to listen on (0.0.0.0 to accept connections from other hosts/containers).
    /// Default 127.0.0.1.
    #[arg(long, env = "STEPWISE_HOST")]
    host: Option<String>,
    /// Region used in ARNs. Default us-east-1.
    #[arg(long, env = "STEPWISE_REGION")]
    region: Option<String>,
    /// Account ID used in ARNs (12 digits). Default 123456789012.
    #[arg(long, env = "STEPWISE_ACCOUNT_ID")]
    account: Option<String>,
    /// Directory of the SQLite database (stepwise.db) keeping state machines, executions
    /// and their history across restarts; `:memory:` keeps nothing. Default: ./.stepwise
    #[arg(long, env = "STEPWISE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Execution worker threads. Default 2.
    #[arg(long, env = "STEPWISE_WORKERS")]
    workers: Option<usize>,
    /// Log filter: error, warn, info, debug, trace or a tracing directive list
    /// (default: RUST_LOG, else info).
    #[arg(long)]
    log_level: Option<String>,
    /// Step Functions Local's MockConfigFile: StartExecution with
    /// `stateMachineArn#TestCaseName` answers the test case's states from it.
    #[arg(long, env = "SFN_MOCK_CONFIG")]
    mock_config: Option<PathBuf>,
    /// Lambda functions by name (a command, an HTTP endpoint or a Lambda-API server).
    #[arg(long, env = "STEPWISE_LAMBDA_CONFIG")]
    lambda_config: Option<PathBuf>,
    /// A Lambda-API server for every function the Lambda config does not list.
    #[arg(long, env = "LAMBDA_ENDPOINT")]
    lambda_endpoint: Option<String>,
    /// HTTP Task authentication by EventBridge connection ARN or name.
    #[arg(long, env = "STEPWISE_CONNECTIONS")]
    connections: Option<PathBuf>,
}

/// The configuration file's shape: every field optional, unknown fields refused.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ServeFile {
    port: Option<u16>,
    host: Option<String>,
    region: Option<String>,
    account: Option<String>,
    data_dir: Option<PathBuf>,
    workers: Option<usize>,
    log_level: Option<String>,
    mock_config: Option<PathBuf>,
    lambda_config: Option<PathBuf>,
    lambda_endpoint: Option<String>,
    connections: Option<PathBuf>,
}

impl ServeArgs {
    fn resolve(self) -> Result<(stepwise_api::ServeOptions, Option<String>)> {
        let file: ServeFile = match &self.config {
            Some(path) => toml::from_str(&read(path)?)
                .with_context(|| format!("{} is not a valid configuration file", path.display()))?,
            None => ServeFile::default(),
        };
        let opts = stepwise_api::ServeOptions {
            host: self
                .host
                .or(file.host)
                .unwrap_or_else(|| "127.0.0.1".into()),
            port: self.port.or(file.port).unwrap_or(8083),
            config: stepwise_api::Config {
                region: self
                    .region
                    .or(file.region)
                    .unwrap_or_else(|| "us-east-1".into()),
                account_id: self
                    .account
                    .or(file.account)
                    .unwrap_or_else(|| "123456789012".into()),
                data_dir: self.data_dir.or(file.data_dir),
                workers: self.workers.or(file.workers).unwrap_or(2),
                mock_config: self.mock_config.or(file.mock_config),
                lambda_config: self.lambda_config.or(file.lambda_config),
                lambda_endpoint: self.lambda_endpoint.or(file.lambda_endpoint),
                connections: self.connections.or(file.connections),
            },
        };
        Ok((opts, self.log_level.or(file.log_level)))
    }
}

#[derive(Args)]
struct RunArgs {
    /// The definition (JSON).
    file: PathBuf,
    /// The execution input (JSON text). Default: {}.
    #[arg(long, conflicts_with = "input_file")]
    input: Option<String>,
    /// Read the execution input from a file.
    #[arg(long)]
    input_file: Option<PathBuf>,
    /// Print status, output, error, cause and the full execution history as JSON.
    #[arg(long)]
    history: bool,
    /// Canned Task responses: a JSON object keyed by state name (or resource ARN), each a list
    /// of {"Return": value} or {"Throw": {"Error": …, "Cause": …}} used in order.
    #[arg(long)]
    tasks: Option<PathBuf>,
    /// Don't really wait: Wait states, retry delays and timeouts advance a virtual clock.
    #[arg(long)]
    skip_waits: bool,
    /// Seed for States.UUID, States.MathRandom and retry jitter (default: random).
    #[arg(long)]
    seed: Option<u64>,
    /// Execution name (used in ARNs and the context object).
    #[arg(long, default_value = "local")]
    name: String,
    /// Run as an EXPRESS state machine.
    #[arg(long)]
    express: bool,
    /// Mocked integrations in the Step Functions Local MockConfigFile format; pick the test
    /// case with --test-case (the state machine is looked up by --state-machine-name).
    #[arg(long, env = "SFN_MOCK_CONFIG", requires = "test_case")]
    mock_config: Option<PathBuf>,
    /// The MockConfigFile test case to run.
    #[arg(long)]
    test_case: Option<String>,
    /// The state machine's name (ARNs, mock selection). Default: the file name without extensions.
    #[arg(long)]
    state_machine_name: Option<String>,
    /// Local Lambda functions (URL, command or Lambda-API endpoint per function name); see
    /// examples/integrations/README.md.
    #[arg(long, env = "STEPWISE_LAMBDA_CONFIG")]
    lambda_config: Option<PathBuf>,
    /// Connections for HTTP Tasks (authentication by connection ARN or name).
    #[arg(long, env = "STEPWISE_CONNECTIONS")]
    connections: Option<PathBuf>,
}

/// Prints a line on stdout; a closed stdout (`stepwise run … | head`) ends quietly instead of
/// panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = writeln!(stdout, $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            return Err(e.into());
        }
    }};
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate {
            file,
            json,
            express,
        } => validate(&file, json, express),
        Command::Run(args) => run(args),
        Command::Serve(args) => match args.resolve() {
            Ok((opts, log_level)) => serve(opts, log_level.as_deref()),
            Err(e) => Err(e),
        },
        Command::Graph {
            file,
            format,
            output,
            express,
        } => graph(&file, &format, output.as_deref(), express),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("stepwise: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn options(express: bool) -> ValidateOptions {
    ValidateOptions {
        machine_type: if express {
            MachineType::Express
        } else {
            MachineType::Standard
        },
    }
}

fn print_diagnostics(path: &Path, text: &str, diags: &[Diagnostic]) {
    for d in diags {
        // JSON syntax errors carry the parser's own position ("line: 4, column: 1"), the
        // others a JSON pointer into the definition.
        let (pos, at) = match syntax_position(&d.location) {
            Some(lc) => (Some(lc), String::new()),
            None if d.location.is_empty() => (None, String::new()),
            None => (
                stepwise_asl::locate::locate(text, &d.location),
                format!(" (at {})", d.location),
            ),
        };
        let pos = pos.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default();
        let message = d.message.split_whitespace().collect::<Vec<_>>().join(" ");
        eprintln!("{}{pos}: {}: {message}{at}", path.display(), d.code);
    }
}

/// The `line: N, column: M` of a Jackson-style parser location.
fn syntax_position(location: &str) -> Option<(usize, usize)> {
    let after = |key: &str| -> Option<usize> {
        let i = location.rfind(key)? + key.len();
        let digits: String = location[i..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    };
    Some((after("line: ")?, after("column: ")?))
}

fn validate(path: &Path, as_json: bool, express: bool) -> Result<ExitCode> {
    let text = read(path)?;
    let diags = stepwise_asl::validate::validate_text(&text, &options(express));
    if as_json {
        let out = json!({
            "result": if diags.is_empty() { "OK" } else { "FAIL" },
            "diagnostics": diags.iter().map(|d| {
                let mut m = serde_json::Map::new();
                m.insert("severity".into(), serde_json::to_value(d.severity)?);
                m.insert("code".into(), Value::from(d.code.clone()));
                m.insert("message".into(), Value::from(d.message.clone()));
                if !d.location.is_empty() {
                    m.insert("location".into(), Value::from(d.location.clone()));
                }
                Ok(Value::Object(m))
            }).collect::<Result<Vec<_>, serde_json::Error>>()?,
            "truncated": false,
        });
        out!("{}", serde_json::to_string_pretty(&out)?);
    } else if diags.is_empty() {
        out!("{}: valid", path.display());
    } else {
        print_diagnostics(path, &text, &diags);
    }
    Ok(if diags.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn run(args: RunArgs) -> Result<ExitCode> {
    let text = read(&args.file)?;
    let machine = match StateMachine::from_text(&text, &options(args.express)) {
        Ok(m) => m,
        Err(diags) => {
            print_diagnostics(&args.file, &text, &diags);
            return Ok(ExitCode::from(2));
        }
    };
    let input_text = match (&args.input, &args.input_file) {
        (Some(s), _) => s.clone(),
        (None, Some(f)) => read(f)?,
        (None, None) => "{}".to_string(),
    };
    if input_text.len() > stepwise_engine::run::PAYLOAD_LIMIT {
        eprintln!(
            "stepwise: InvalidExecutionInput: the input is {} bytes; the limit is {} bytes (256 KiB)",
            input_text.len(),
            stepwise_engine::run::PAYLOAD_LIMIT
        );
        return Ok(ExitCode::from(2));
    }
    let input: Value = match serde_json::from_str(&input_text) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("stepwise: InvalidExecutionInput: Invalid execution input: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let sm_name = match &args.state_machine_name {
        Some(n) => n.clone(),
        None => args
            .file
            .file_stem()
            .and_then(|s| s.to_str())
            .map(|s| s.split('.').next().unwrap_or(s).to_string())
            .unwrap_or_else(|| "local".into()),
    };
    let tasks: Box<dyn TaskHandler> = match &args.tasks {
        Some(f) => {
            let v: Value = serde_json::from_str(&read(f)?)
                .with_context(|| format!("{} is not JSON", f.display()))?;
            match CannedTasks::from_json(&v) {
                Ok(c) => Box::new(c),
                Err(e) => bail!("{}: {e}", f.display()),
            }
        }
        None => Box::new(integrations(&args, &sm_name)?),
    };
    let opts = RunOptions {
        seed: args.seed.unwrap_or_else(rand_seed),
        record_history: args.history,
        skip_waits: args.skip_waits,
        express: args.express,
        ..RunOptions::named(&sm_name, &args.name)
    };
    let outcome = run_local_with(&machine, input, &opts, tasks.as_ref());
    if args.history {
        let out = json!({
            "status": outcome.status.as_str(),
            "output": outcome.output,
            "error": outcome.error,
            "cause": outcome.cause,
            "history": outcome.history.iter().map(|e| e.to_json()).collect::<Vec<_>>(),
        });
        out!("{}", serde_json::to_string_pretty(&out)?);
    } else if let Some(o) = &outcome.output {
        out!("{o}");
    } else {
        eprintln!(
            "{}: error: {} cause: {}",
            outcome.status.as_str(),
            outcome.error.as_deref().unwrap_or("null"),
            outcome.cause.as_deref().unwrap_or("null")
        );
    }
    Ok(if outcome.status == ExecutionStatus::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The integrations a local run calls: mocks, local Lambda functions, HTTP connections. What is
/// not configured fails with an error naming the missing configuration.
fn integrations(args: &RunArgs, sm_name: &str) -> Result<stepwise_resources::Integrations> {
    use std::sync::Arc;
    let mut i = stepwise_resources::Integrations::new();
    if let Some(path) = &args.mock_config {
        let mocks = stepwise_resources::MockConfig::load(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let test_case = args.test_case.clone().unwrap_or_default();
        mocks
            .check_test_case(sm_name, &test_case)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        i = i.with_mocks(Arc::new(mocks));
    }
    if let Some(path) = &args.lambda_config {
        let f = stepwise_resources::LambdaFunctions::load(path).map_err(anyhow::Error::msg)?;
        i = i.with_lambda(Arc::new(f));
    }
    if let Some(path) = &args.connections {
        let c = stepwise_resources::Connections::load(path).map_err(anyhow::Error::msg)?;
        i = i.with_connections(Arc::new(c));
    }
    Ok(i.with_context(stepwise_resources::ExecutionContext {
        execution_arn: None,
        state_machine_name: Some(sm_name.to_string()),
        test_case: args.test_case.clone(),
    }))
}

fn rand_seed() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
        ^ u64::from(std::process::id())
}

fn serve(opts: stepwise_api::ServeOptions, log_level: Option<&str>) -> Result<ExitCode> {
    if opts.config.account_id.len() != 12
        || !opts.config.account_id.bytes().all(|b| b.is_ascii_digit())
    {
        bail!(
            "--account must be 12 digits, got {:?}",
            opts.config.account_id
        );
    }
    stepwise_api::init_logging(log_level).map_err(anyhow::Error::msg)?;
    stepwise_api::run(opts.clone())
        .with_context(|| format!("cannot serve on {}:{}", opts.host, opts.port))?;
    Ok(ExitCode::SUCCESS)
}

fn graph(path: &Path, format: &str, output: Option<&Path>, express: bool) -> Result<ExitCode> {
    let text = read(path)?;
    let diags = stepwise_asl::validate::validate_text(&text, &options(express));
    if !diags.is_empty() {
        print_diagnostics(path, &text, &diags);
        return Ok(ExitCode::from(2));
    }
    let def: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let format: stepwise_graph::Format = format.parse().map_err(anyhow::Error::msg)?;
    let g = stepwise_graph::Graph::from_definition(&def)?;
    let drawn = stepwise_graph::render(&g, format);
    match output {
        Some(out) => {
            std::fs::write(out, drawn).with_context(|| format!("cannot write {}", out.display()))?
        }
        None => {
            use std::io::Write;
            // A closed stdout ends quietly, like the other commands.
            if let Err(e) = std::io::stdout().lock().write_all(drawn.as_bytes()) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(e.into());
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

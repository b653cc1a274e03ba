//! plan / apply / destroy against moto_server, a local AWS emulator. Nothing reaches AWS:
//! every endpoint goes through `local()`, which refuses anything but 127.0.0.1.
//!
//! moto_server comes from `scripts/install-moto.sh` (.tools/venv), or from $MOTO_SERVER. It is
//! started through `tests/moto/launch.py` (with the python next to it), which closes the
//! emulator's CloudFormation gaps the real templates meet; the templates stay unchanged.
#![cfg(feature = "aws")]

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mlopsc::build::CodeBundle;
use mlopsc::deploy::apply::{self, PIPELINE_INLINE_LIMIT, PipelineAction};
use mlopsc::deploy::aws::{AwsOptions, Clients};
use mlopsc::deploy::plan::{self, deployed_pipeline, describe_stack};
use mlopsc::deploy::summary::{Action, DocumentDiff, DocumentKind};
use mlopsc::deploy::{DeployError, Deployment, Target, destroy, staging};
use mlopsc::emit::Artifacts;

#[path = "common/in_process.rs"]
mod in_process;
#[path = "common/optional.rs"]
mod optional;

use in_process::Ran;

/// A moto_server on a free 127.0.0.1 port, stopped on drop.
struct Moto {
    child: Child,
    port: u16,
    /// The venv's python next to moto_server, which has boto3.
    python: PathBuf,
}

impl Moto {
    /// `None` after a visible skip when moto_server is not installed (required under CI=true).
    fn start() -> Option<Moto> {
        Moto::start_in("123456789012")
    }

    /// [`Moto::start`], answering every request as the account `account` (moto's
    /// `MOTO_ACCOUNT_ID`): for an environment deployed to an account of its own.
    fn start_in(account: &str) -> Option<Moto> {
        let server = std::env::var_os("MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| root().join(".tools/venv/bin/moto_server"));
        let why = format!(
            "no {}: run scripts/install-moto.sh, or make test",
            server.display()
        );
        if !optional::present_or_skip(server.exists(), "the tests against moto_server", &why) {
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let python = server.with_file_name("python");
        let child = Command::new(&python)
            .arg(root().join("tests/moto/launch.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_ACCOUNT_ID", account)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let moto = Moto {
            child,
            port,
            python,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen within 30s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(moto)
    }

    fn endpoint(&self) -> String {
        local(&format!("http://127.0.0.1:{}", self.port))
    }

    /// EventBridge Scheduler's schedules, name and target ARN, as boto3 lists them (mlopsc
    /// itself never calls Scheduler: the stack makes the schedules).
    fn schedules(&self) -> Vec<(String, String)> {
        let mut listed: Vec<(String, String)> = self.boto3(
            "c = boto3.client('scheduler', endpoint_url=sys.argv[1], region_name=sys.argv[2])\n\
             names = [s['Name'] for s in c.list_schedules()['Schedules']]\n\
             print(json.dumps([[n, c.get_schedule(Name=n)['Target']['Arn']] for n in names]))",
            &[],
        );
        listed.sort();
        listed
    }

    /// A metric-math alarm's queries as DescribeAlarms lists them: `id: metric` or
    /// `id: expression`.
    fn alarm_queries(&self, alarm: &str) -> Vec<String> {
        self.boto3(
            "c = boto3.client('cloudwatch', endpoint_url=sys.argv[1], region_name=sys.argv[2])\n\
             [a] = c.describe_alarms(AlarmNames=[sys.argv[3]])['MetricAlarms']\n\
             print(json.dumps([q['Id'] + ': ' + (q.get('Expression') or q['MetricStat']['Metric']['MetricName']) for q in a['Metrics']]))",
            &[alarm],
        )
    }

    /// What a boto3 `script` prints as JSON, run with the endpoint and region as its first
    /// two arguments and `args` after them.
    fn boto3<T: serde::de::DeserializeOwned>(&self, script: &str, args: &[&str]) -> T {
        let script = format!("import boto3, json, sys\n{script}");
        let output = Command::new(&self.python)
            .args(["-c", &script, &self.endpoint(), REGION])
            .args(args)
            .envs(FAKE_AWS)
            .output()
            .expect("the venv's python runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("JSON")
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The guard that keeps tests off real AWS.
fn local(endpoint: &str) -> String {
    assert!(
        endpoint.starts_with("http://127.0.0.1:"),
        "refusing endpoint {endpoint}: the deploy tests only talk to 127.0.0.1"
    );
    endpoint.to_string()
}

/// The variables a command against moto runs with, in place of the test process's own:
/// fake credentials, and no profile file or IMDS that could find real ones.
const FAKE_AWS: [(&str, &str); 5] = [
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
    ("AWS_CONFIG_FILE", "/nonexistent/mlopsc-test"),
    ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/mlopsc-test"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(root().join("tests/fixtures/deploy").join(name)).expect("fixture")
}

const REGION: &str = "us-east-1";

/// A deployment of hand-written artifacts, so the tests control exactly what changes.
fn deployment(template: &str, pipeline: &str) -> Deployment {
    let mut artifacts = Artifacts::default();
    artifacts.insert(mlopsc::emit::TEMPLATE, fixture(template));
    artifacts.insert(mlopsc::emit::PIPELINE, fixture(pipeline));
    artifacts.insert_support(
        "monitoring/constraints.json".to_string(),
        br#"{"features": []}"#.to_vec(),
    );
    let mut code = BTreeMap::new();
    code.insert("train.py".to_string(), b"print('train')\n".to_vec());
    Deployment {
        target: Target {
            stack: "mlopsc-test".into(),
            region: REGION.into(),
            pipeline: "mlopsc-test-pipeline".into(),
            monitoring_pipeline: "mlopsc-test-monitoring".into(),
            state_machine: "mlopsc-test-retraining".into(),
            deploy_state_machine: "mlopsc-test-deploy".into(),
            pipeline_bucket: "mlopsc-test-pipeline-bucket".into(),
            execution_role: "mlopsc-test-execution".into(),
        },
        artifacts,
        code: CodeBundle { files: code },
        spec_sha256: "0".repeat(64),
        spec: serde_json::Value::Null,
        environments: Vec::new(),
    }
}

fn args(moto: &Moto) -> AwsOptions {
    AwsOptions {
        region: Some(REGION.into()),
        profile: None,
        endpoint_url: Some(moto.endpoint()),
        call_timeout: Duration::from_secs(30),
        env: FAKE_AWS
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect(),
    }
}

/// SDK clients pointed at the test's emulator.
async fn connect(moto: &Moto) -> Clients {
    Clients::connect(&args(moto), REGION)
        .await
        .expect("clients")
}

fn block_on<T>(f: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

async fn change_set_count(clients: &Clients, stack: &str) -> usize {
    clients
        .cloudformation
        .list_change_sets()
        .stack_name(stack)
        .send()
        .await
        .map(|o| o.summaries().len())
        .unwrap_or(0)
}

#[test]
fn create_then_update_then_no_op_then_destroy() {
    let Some(moto) = Moto::start() else { return };
    block_on(async {
        let clients = connect(&moto).await;
        let v1 = deployment("template-v1.yaml", "pipeline-v1.json");

        // A plan alone leaves nothing behind.
        let preview = plan::plan(&clients, &v1, false).await.expect("plan");
        let actions: Vec<_> = preview
            .summary
            .resources
            .iter()
            .map(|r| (r.logical_id.as_str(), r.action.clone()))
            .collect();
        assert_eq!(
            actions,
            vec![("PipelineBucket", Action::Add), ("Topic", Action::Add)]
        );
        assert_eq!(preview.summary.documents[0].diff, DocumentDiff::Created);
        assert!(
            describe_stack(&clients, "mlopsc-test")
                .await
                .unwrap()
                .is_none()
        );

        // Create.
        let planned = plan::plan(&clients, &v1, true).await.expect("plan");
        let mut progress = Vec::new();
        let applied = apply::apply(&clients, &v1, &planned, &mut progress)
            .await
            .expect("apply v1");
        let progress = String::from_utf8_lossy(&progress).into_owned();
        assert_eq!(applied.stack_status.as_deref(), Some("CREATE_COMPLETE"));
        assert_eq!(applied.pipeline, Some(PipelineAction::Created));
        assert_eq!(
            applied.uploaded, 3,
            "train.py, sourcedir.tar.gz, constraints"
        );
        assert!(progress.contains("CREATE_COMPLETE"), "{progress}");
        let deployed = deployed_pipeline(&clients, "mlopsc-test-pipeline")
            .await
            .unwrap()
            .expect("pipeline exists");
        assert!(deployed.contains(r#""epochs": "10""#), "{deployed}");

        // Update: a queue added, a hyperparameter changed, a step added.
        let v2 = deployment("template-v2.yaml", "pipeline-v2.json");
        let planned = plan::plan(&clients, &v2, true).await.expect("plan v2");
        let text = planned.summary.render(true);
        assert!(text.contains("+   Queue"), "{text}");
        assert!(
            text.contains(r#"~ $.Steps["train"].Arguments.HyperParameters.epochs: "10" -> "20""#),
            "{text}"
        );
        assert!(text.contains(r#"+ $.Steps["evaluate"]"#), "{text}");
        assert!(text.contains("Plan: 1 to add, 0 to change"), "{text}");
        let applied = apply::apply(&clients, &v2, &planned, &mut Vec::new())
            .await
            .expect("apply v2");
        assert_eq!(applied.stack_status.as_deref(), Some("UPDATE_COMPLETE"));
        assert_eq!(applied.pipeline, Some(PipelineAction::Updated));
        assert_eq!((applied.uploaded, applied.already_uploaded), (0, 3));

        // No-op: no change set is created, and the plan says so.
        let before = change_set_count(&clients, "mlopsc-test").await;
        let planned = plan::plan(&clients, &v2, true).await.expect("plan no-op");
        assert!(planned.change_set.is_none());
        assert!(!planned.has_changes());
        assert!(planned.summary.render(true).contains("No changes."));
        assert_eq!(change_set_count(&clients, "mlopsc-test").await, before);

        // Destroy: the stack and the pipeline go, the retained bucket stays and is reported.
        let doomed = destroy::inspect(&clients, &v2)
            .await
            .unwrap()
            .expect("something to destroy");
        assert_eq!(
            doomed.retained,
            vec![(
                "PipelineBucket".to_string(),
                "AWS::S3::Bucket".to_string(),
                "mlopsc-test-pipeline-bucket".to_string()
            )]
        );
        assert_eq!(doomed.pipeline.as_deref(), Some("mlopsc-test-pipeline"));
        destroy::destroy(&clients, &v2, &doomed, &mut Vec::new())
            .await
            .expect("destroy");
        assert!(
            describe_stack(&clients, "mlopsc-test")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            deployed_pipeline(&clients, "mlopsc-test-pipeline")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            clients
                .s3
                .head_bucket()
                .bucket("mlopsc-test-pipeline-bucket")
                .send()
                .await
                .is_ok(),
            "the retained bucket is not deleted"
        );
        assert!(destroy::inspect(&clients, &v2).await.unwrap().is_none());
    });
}

#[test]
fn a_rejected_template_is_reported_with_its_reason_and_the_next_apply_converges() {
    let Some(moto) = Moto::start() else { return };
    block_on(async {
        let clients = connect(&moto).await;
        let bad = deployment("template-rejected.yaml", "pipeline-v1.json");
        let planned = plan::plan(&clients, &bad, true).await.expect("plan");
        let err = apply::apply(&clients, &bad, &planned, &mut Vec::new())
            .await
            .expect_err("the emulator rejects the template");
        let text = err.to_string();
        assert!(
            matches!(&err, DeployError::Aws { code: Some(code), .. } if code == "ValidationError"),
            "{err:?}"
        );
        assert!(
            text.contains("Missing"),
            "the reason names the resource: {text}"
        );
        assert!(
            deployed_pipeline(&clients, "mlopsc-test-pipeline")
                .await
                .unwrap()
                .is_none(),
            "nothing after a failed stack"
        );

        let good = deployment("template-v1.yaml", "pipeline-v1.json");
        let planned = plan::plan(&clients, &good, true).await.expect("plan again");
        let applied = apply::apply(&clients, &good, &planned, &mut Vec::new())
            .await
            .expect("the next apply converges");
        assert_eq!(applied.stack_status.as_deref(), Some("CREATE_COMPLETE"));
    });
}

#[test]
fn pipeline_create_update_describe_through_the_sagemaker_api() {
    let Some(moto) = Moto::start() else { return };
    block_on(async {
        let clients = connect(&moto).await;
        let target = deployment("template-v1.yaml", "pipeline-v1.json").target;
        let role = "arn:aws:iam::123456789012:role/mlopsc-test-execution";
        let v1 = fixture("pipeline-v1.json");
        let created = apply::upsert_pipeline(&clients, &target, &v1, role, false)
            .await
            .expect("CreatePipeline");
        assert_eq!(created, PipelineAction::Created);
        let described = deployed_pipeline(&clients, &target.pipeline).await.unwrap();
        assert_eq!(described.as_deref().map(str::as_bytes), Some(v1.as_slice()));

        let v2 = fixture("pipeline-v2.json");
        let updated = apply::upsert_pipeline(&clients, &target, &v2, role, true)
            .await
            .expect("UpdatePipeline");
        assert_eq!(updated, PipelineAction::Updated);
        let described = deployed_pipeline(&clients, &target.pipeline).await.unwrap();
        assert_eq!(described.as_deref().map(str::as_bytes), Some(v2.as_slice()));

        // Too big to inline: it goes through the pipeline bucket.
        clients
            .s3
            .create_bucket()
            .bucket(&target.pipeline_bucket)
            .send()
            .await
            .expect("bucket");
        let big = format!(
            r#"{{"Version":"2020-12-01","Metadata":{{"padding":"{}"}},"Steps":[{{"Name":"big-step","Type":"Processing"}}]}}"#,
            "x".repeat(PIPELINE_INLINE_LIMIT)
        );
        apply::upsert_pipeline(&clients, &target, big.as_bytes(), role, true)
            .await
            .expect("UpdatePipeline through S3");
        let described = deployed_pipeline(&clients, &target.pipeline)
            .await
            .unwrap()
            .unwrap_or_default();
        assert!(described.contains("big-step"));
        let objects = clients
            .s3
            .list_objects_v2()
            .bucket(&target.pipeline_bucket)
            .prefix("pipeline/")
            .send()
            .await
            .expect("list");
        assert_eq!(objects.contents().len(), 1);
    });
}

// ---- The CLI, in process: exit codes and messages as a user sees them. ----

/// Runs mlopsc in this process in `dir`, with fake credentials in its own environment and
/// no terminal to confirm on.
fn mlopsc(args: &[&str], dir: &Path) -> (Ran, Duration) {
    let mut command = in_process::mlopsc();
    for (key, value) in FAKE_AWS {
        command.env(key, value);
    }
    let started = Instant::now();
    let output = command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output();
    (output, started.elapsed())
}

fn stderr(output: &Ran) -> String {
    output.stderr.clone()
}

/// The minimal example in a scratch directory, so a test may edit its spec.
fn minimal_example() -> tempfile::TempDir {
    example("minimal")
}

/// `plan` in `dir` against `moto`, in process, with `home` as HOME, no IMDS and no other
/// variable: no credentials but those under `home`.
fn plan_from_home(moto: &Moto, dir: &Path, home: &Path, args: &[&str]) -> Ran {
    in_process::mlopsc()
        .args(["plan", "mlops.yaml", "--endpoint-url", &moto.endpoint()])
        .args(args)
        .current_dir(dir)
        .env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .output()
}

/// aws-config's chain reads the invocation's variables and not this process's: with none
/// that lead to credentials, the command stops with a clear error, although the test
/// process's own environment may hold real ones.
#[test]
fn plan_against_moto_without_credentials_is_a_clear_error() {
    let Some(moto) = Moto::start() else { return };
    let dir = minimal_example();
    let home = tempfile::tempdir().expect("temporary directory");
    let started = Instant::now();
    let output = plan_from_home(&moto, dir.path(), home.path(), &[]);
    let elapsed = started.elapsed();
    let err = stderr(&output);
    assert_eq!(output.code, 1, "{err}");
    assert!(err.contains("no AWS credentials"), "{err}");
    assert!(err.contains("help: pass --profile"), "{err}");
    assert!(err.contains("`mlopsc plan --offline`"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
}

/// A profile is found in the files under the invocation's HOME, and only there: the same
/// command with a HOME that has no such profile fails, naming it.
#[test]
fn a_profile_comes_from_the_invocations_home() {
    let Some(moto) = Moto::start() else { return };
    let dir = minimal_example();
    let home = tempfile::tempdir().expect("temporary directory");
    std::fs::create_dir(home.path().join(".aws")).expect(".aws");
    std::fs::write(
        home.path().join(".aws/credentials"),
        "[mlopsc-test]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .expect("credentials file");
    let empty_home = tempfile::tempdir().expect("temporary directory");
    let plan = |home: &Path| plan_from_home(&moto, dir.path(), home, &["--profile", "mlopsc-test"]);

    let found = plan(home.path());
    let out = &found.stdout;
    assert_eq!(found.code, 0, "{}", stderr(&found));
    assert!(out.contains("to add"), "a plan against moto: {out}");

    let missing = plan(empty_home.path());
    let err = stderr(&missing);
    assert_eq!(missing.code, 1, "{err}");
    assert!(err.contains("no AWS credentials"), "{err}");
    assert!(err.contains("none in the profile mlopsc-test"), "{err}");
}

#[test]
fn an_unreachable_or_silent_endpoint_fails_fast_without_panicking() {
    let dir = minimal_example();
    let closed = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let endpoint = local(&format!("http://127.0.0.1:{closed}"));
    let (output, elapsed) = mlopsc(
        &["plan", "mlops.yaml", "--endpoint-url", &endpoint],
        dir.path(),
    );
    let err = stderr(&output);
    assert_eq!(output.code, 1, "{err}");
    assert!(err.contains("cannot reach the endpoint"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");

    // A server that accepts and never answers: the call timeout ends it.
    let silent = TcpListener::bind("127.0.0.1:0").expect("listener");
    let endpoint = local(&format!(
        "http://127.0.0.1:{}",
        silent.local_addr().unwrap().port()
    ));
    let (output, elapsed) = mlopsc(
        &[
            "plan",
            "mlops.yaml",
            "--endpoint-url",
            &endpoint,
            "--call-timeout",
            "2",
        ],
        dir.path(),
    );
    let err = stderr(&output);
    assert_eq!(output.code, 1, "{err}");
    assert!(err.contains("no answer within 2s"), "{err}");
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
}

/// Nothing started, so nothing was rolled back: the error names the endpoint and only that.
#[test]
fn apply_against_an_unreachable_endpoint_names_it_and_mentions_no_rollback() {
    let dir = minimal_example();
    let closed = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let endpoint = local(&format!("http://127.0.0.1:{closed}"));
    let (output, elapsed) = mlopsc(
        &[
            "apply",
            "mlops.yaml",
            "--auto-approve",
            "--endpoint-url",
            &endpoint,
        ],
        dir.path(),
    );
    let err = stderr(&output);
    assert_eq!(output.code, 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "error: DescribeStacks failed: cannot reach the endpoint {endpoint}: "
        )),
        "{err}"
    );
    assert!(!err.to_lowercase().contains("roll"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
}

#[test]
fn a_saved_plan_is_refused_after_the_spec_changed_and_apply_needs_approval() {
    let Some(moto) = Moto::start() else { return };
    let endpoint = moto.endpoint();
    let dir = minimal_example();
    let aws = ["--endpoint-url", endpoint.as_str(), "--region", REGION];

    let mut plan_args = vec!["plan", "mlops.yaml", "--out", "plan.json"];
    plan_args.extend(aws);
    let (output, _) = mlopsc(&plan_args, dir.path());
    assert_eq!(output.code, 0, "{}", stderr(&output));
    assert!(stderr(&output).contains("mlopsc apply plan.json"));

    let spec = dir.path().join("mlops.yaml");
    let mut text = std::fs::read_to_string(&spec).unwrap();
    text.push_str("# edited after the plan\n");
    std::fs::write(&spec, text).unwrap();
    let mut apply_args = vec!["apply", "plan.json"];
    apply_args.extend(aws);
    let (output, _) = mlopsc(&apply_args, dir.path());
    let err = stderr(&output);
    assert_eq!(output.code, 1, "{err}");
    assert!(
        err.contains("the spec mlops.yaml changed since the plan was made"),
        "{err}"
    );

    // Without a terminal and without --auto-approve, apply refuses and changes nothing.
    let mut apply_args = vec!["apply", "mlops.yaml"];
    apply_args.extend(aws);
    let (output, _) = mlopsc(&apply_args, dir.path());
    let err = stderr(&output);
    assert_eq!(output.code, 1, "{err}");
    assert!(err.contains("not a terminal"), "{err}");
    assert!(err.contains("--auto-approve"), "{err}");
}

#[test]
fn plan_exit_codes_follow_detailed_exitcode() {
    let Some(moto) = Moto::start() else { return };
    let endpoint = moto.endpoint();
    let dir = minimal_example();
    let base = [
        "plan",
        "mlops.yaml",
        "--endpoint-url",
        endpoint.as_str(),
        "--region",
        REGION,
    ];
    let (output, _) = mlopsc(&base, dir.path());
    assert_eq!(output.code, 0, "{}", stderr(&output));
    let stdout = output.stdout.clone();
    assert!(stdout.contains("Stack minimal in us-east-1"), "{stdout}");

    let mut detailed = base.to_vec();
    detailed.push("--detailed-exitcode");
    let (output, _) = mlopsc(&detailed, dir.path());
    assert_eq!(
        output.code,
        2,
        "a new stack has changes: {}",
        stderr(&output)
    );
}

/// `--env`: an environment is planned as its own stack in its own region, and credentials of
/// another account than the environment's are refused before anything is looked at (moto's
/// account is 123456789012).
#[test]
fn an_environment_plans_its_own_stack_and_refuses_another_accounts_credentials() {
    let Some(moto) = Moto::start() else { return };
    let endpoint = moto.endpoint();
    let dir = minimal_example();
    let spec = dir.path().join("mlops.yaml");
    let mut text = std::fs::read_to_string(&spec).expect("spec");
    text.push_str(
        "  prod:\n    account: \"210987654321\"\n    overrides:\n      storage:\n        buckets: {data: minimal-prod-data-0001, models: minimal-prod-models-0001, logs: minimal-prod-logs-0001, pipeline: minimal-prod-pipeline-0001}\n",
    );
    std::fs::write(&spec, text).expect("write spec");

    let (output, _) = mlopsc(
        &[
            "plan",
            "mlops.yaml",
            "--env",
            "staging",
            "--endpoint-url",
            &endpoint,
        ],
        dir.path(),
    );
    assert_eq!(output.code, 0, "{}", stderr(&output));
    let stdout = output.stdout.clone();
    assert!(
        stdout.contains("Stack minimal-staging in eu-central-1"),
        "{stdout}"
    );
    // A plan of staging is applied with --env staging only.
    let (output, _) = mlopsc(
        &[
            "plan",
            "mlops.yaml",
            "--env",
            "staging",
            "--endpoint-url",
            &endpoint,
            "--out",
            "plan.json",
        ],
        dir.path(),
    );
    assert_eq!(output.code, 0, "{}", stderr(&output));
    let (output, _) = mlopsc(
        &[
            "apply",
            "plan.json",
            "--auto-approve",
            "--endpoint-url",
            &endpoint,
        ],
        dir.path(),
    );
    let err = stderr(&output);
    assert_eq!(output.code, 1, "{err}");
    assert!(
        err.contains(
            "the plan is for the stack minimal-staging, and this command deploys minimal;"
        ),
        "{err}"
    );

    let (output, _) = mlopsc(
        &[
            "plan",
            "mlops.yaml",
            "--env",
            "prod",
            "--endpoint-url",
            &endpoint,
        ],
        dir.path(),
    );
    let err = stderr(&output);
    assert_eq!(output.code, 1, "{err}");
    assert!(
        err.contains("the credentials are account 123456789012's, and the environment is deployed to account 210987654321"),
        "{err}"
    );
    assert!(output.stdout.is_empty(), "nothing is planned");
}

// ---- Templates over CloudFormation's inline limit go through the staging bucket. ----

/// template-v1.yaml padded with metadata to the flagship's size (69 KB), over the
/// 51,200-byte limit on an inline template.
fn large_template() -> Vec<u8> {
    let mut text = String::from_utf8(fixture("template-v1.yaml")).expect("UTF-8");
    text.push_str("Metadata:\n  Padding:\n");
    while text.len() < 70_000 {
        text.push_str("  - \"");
        text.push_str(&"x".repeat(100));
        text.push_str("\"\n");
    }
    text.into_bytes()
}

#[test]
fn a_template_over_the_inline_limit_is_staged_in_s3_and_applied() {
    let Some(moto) = Moto::start() else { return };
    block_on(async {
        let clients = connect(&moto).await;
        let mut big = deployment("template-v1.yaml", "pipeline-v1.json");
        big.artifacts
            .insert(mlopsc::emit::TEMPLATE, large_template());
        assert!(big.template().len() > staging::TEMPLATE_BODY_LIMIT);

        // plan stages the template in a bucket outside the stack, and says where.
        let preview = plan::plan(&clients, &big, false).await.expect("plan");
        let staged = preview.staged.clone().expect("staged");
        let bucket = "mlopsc-staging-123456789012-us-east-1";
        assert_eq!(staged.bucket, bucket);
        assert!(staged.created_bucket);
        assert_eq!(staged.key, staging::template_key(big.template()));
        let text = preview.summary.render(true);
        assert!(
            text.contains(&format!("staged at s3://{bucket}/templates/")),
            "{text}"
        );
        assert!(text.contains("destroy keeps the staging bucket"), "{text}");
        let actions: Vec<_> = preview
            .summary
            .resources
            .iter()
            .map(|r| r.logical_id.as_str())
            .collect();
        assert_eq!(actions, vec!["PipelineBucket", "Topic"]);

        // The bucket is encrypted and closed to the public. (Its TLS-only policy is left out
        // over the emulator's plain http, which it would lock out; staging.rs tests it.)
        let encryption = clients
            .s3
            .get_bucket_encryption()
            .bucket(bucket)
            .send()
            .await
            .expect("encryption");
        let rules = encryption
            .server_side_encryption_configuration()
            .map(|c| c.rules().len())
            .unwrap_or(0);
        assert_eq!(rules, 1);
        let block = clients
            .s3
            .get_public_access_block()
            .bucket(bucket)
            .send()
            .await
            .expect("public access block");
        let block = block
            .public_access_block_configuration()
            .expect("configuration");
        assert_eq!(block.block_public_acls(), Some(true));
        assert_eq!(block.restrict_public_buckets(), Some(true));

        // apply creates the stack from the staged template; the bucket already exists now.
        let planned = plan::plan(&clients, &big, true).await.expect("plan");
        assert_eq!(
            planned.staged.as_ref().map(|s| s.created_bucket),
            Some(false)
        );
        let applied = apply::apply(&clients, &big, &planned, &mut Vec::new())
            .await
            .expect("apply");
        assert_eq!(applied.stack_status.as_deref(), Some("CREATE_COMPLETE"));
        assert!(
            clients
                .s3
                .head_bucket()
                .bucket("mlopsc-test-pipeline-bucket")
                .send()
                .await
                .is_ok()
        );

        // Nothing changed: no change set, nothing staged.
        let again = plan::plan(&clients, &big, false).await.expect("no-op");
        assert!(!again.has_changes(), "{}", again.summary.render(true));
        assert!(again.staged.is_none());

        // destroy deletes the stack and leaves the shared staging bucket.
        let doomed = destroy::inspect(&clients, &big)
            .await
            .unwrap()
            .expect("a stack");
        destroy::destroy(&clients, &big, &doomed, &mut Vec::new())
            .await
            .expect("destroy");
        assert!(clients.s3.head_bucket().bucket(bucket).send().await.is_ok());
    });
}

// ---- The real artifacts of examples/minimal, as close as moto allows. ----

/// The minimal example compiled from `dir`, exactly as `mlopsc apply` would deploy it.
fn compiled_minimal(dir: &Path) -> Deployment {
    let path = dir.join("mlops.yaml");
    let text = std::fs::read_to_string(&path).expect("spec");
    let source = mlopsc::diagnostics::SourceFile {
        name: "mlops.yaml".into(),
        text: text.clone(),
    };
    let compiled = mlopsc::build::compile(&source, dir).expect("the example compiles");
    Deployment::of(&compiled, &text)
}

/// An endpoint may report a stack complete although a resource handler failed; apply must
/// not report success over a pipeline bucket that does not exist.
#[test]
fn apply_refuses_a_stack_without_its_pipeline_bucket() {
    let Some(moto) = Moto::start() else { return };
    let mut no_bucket = deployment("template-v1.yaml", "pipeline-v1.json");
    no_bucket.artifacts.insert(
        mlopsc::emit::TEMPLATE,
        b"Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n".to_vec(),
    );
    block_on(async {
        let clients = connect(&moto).await;
        let planned = plan::plan(&clients, &no_bucket, true).await.expect("plan");
        let err = apply::apply(&clients, &no_bucket, &planned, &mut Vec::new())
            .await
            .expect_err("no pipeline bucket");
        let text = err.to_string();
        assert!(
            text.contains("mlopsc-test-pipeline-bucket does not exist"),
            "{text}"
        );
    });
}

#[test]
fn the_minimal_example_creates_updates_no_ops_and_destroys() {
    let Some(moto) = Moto::start() else { return };
    let dir = minimal_example();
    let v1 = compiled_minimal(dir.path());
    // The update: a weekly retraining schedule, which adds resources to the stack.
    let spec = dir.path().join("mlops.yaml");
    let mut text = std::fs::read_to_string(&spec).unwrap();
    text.push_str("retraining:\n  triggers:\n    - {type: schedule, expression: rate(7 days)}\n");
    std::fs::write(&spec, text).unwrap();
    let v2 = compiled_minimal(dir.path());
    block_on(async {
        let clients = connect(&moto).await;

        let planned = plan::plan(&clients, &v1, true).await.expect("plan v1");
        assert!(
            planned
                .summary
                .resources
                .iter()
                .all(|r| r.action == Action::Add),
            "{}",
            planned.summary.render(true)
        );
        let applied = apply::apply(&clients, &v1, &planned, &mut Vec::new())
            .await
            .expect("apply v1");
        assert_eq!(applied.stack_status.as_deref(), Some("CREATE_COMPLETE"));
        assert!(applied.uploaded > 0, "the step code is uploaded");
        for bucket in [
            "minimal-data-0001",
            "minimal-models-0001",
            "minimal-logs-0001",
        ] {
            assert!(
                clients.s3.head_bucket().bucket(bucket).send().await.is_ok(),
                "{bucket}"
            );
        }

        let planned = plan::plan(&clients, &v2, true).await.expect("plan v2");
        let rendered = planned.summary.render(true);
        let added: Vec<&str> = planned
            .summary
            .resources
            .iter()
            .filter(|r| r.action == Action::Add)
            .map(|r| r.resource_type.as_str())
            .collect();
        assert!(added.contains(&"AWS::Events::Rule"), "{rendered}");
        let applied = apply::apply(&clients, &v2, &planned, &mut Vec::new())
            .await
            .expect("apply v2");
        assert_eq!(applied.stack_status.as_deref(), Some("UPDATE_COMPLETE"));
        assert_eq!(applied.uploaded, 0, "the code did not change");

        // No-op: no change set, no resource change, both definitions unchanged once their
        // substitutions are resolved from the stack.
        let planned = plan::plan(&clients, &v2, false).await.expect("plan no-op");
        assert!(planned.change_set.is_none());
        assert!(planned.summary.resources.is_empty());
        let documents: Vec<_> = planned
            .summary
            .documents
            .iter()
            .map(|d| (d.kind, d.diff.clone()))
            .collect();
        assert_eq!(
            documents,
            vec![
                (DocumentKind::Pipeline, DocumentDiff::Unchanged),
                (DocumentKind::StateMachine, DocumentDiff::Unchanged),
            ],
            "{}",
            planned.summary.render(true)
        );

        let doomed = destroy::inspect(&clients, &v2)
            .await
            .unwrap()
            .expect("a stack");
        assert!(!doomed.retained.is_empty(), "the buckets are retained");
        destroy::destroy(&clients, &v2, &doomed, &mut Vec::new())
            .await
            .expect("destroy");
        assert!(describe_stack(&clients, "minimal").await.unwrap().is_none());
    });
}

/// An example in a scratch directory: its spec and its step code.
fn example(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = root().join("examples").join(name);
    let code = dir.path().join("code");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::copy(source.join("mlops.yaml"), dir.path().join("mlops.yaml")).unwrap();
    for entry in std::fs::read_dir(source.join("code")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), code.join(entry.file_name())).unwrap();
    }
    dir
}

/// churn-tabular's template (it uses an existing KMS key) deploys under moto unchanged.
#[test]
fn a_saved_plan_is_refused_after_another_apply_changed_the_stack() {
    let Some(moto) = Moto::start() else { return };
    let endpoint = moto.endpoint();
    let dir = example("churn-tabular");
    let aws = ["--endpoint-url", endpoint.as_str(), "--region", REGION];
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(aws);
        mlopsc(&all, dir.path()).0
    };

    // A saved plan for the new stack applies as long as nothing happened in between.
    let output = run(&["plan", "mlops.yaml", "--out", "first.json"]);
    assert_eq!(output.code, 0, "{}", stderr(&output));
    let output = run(&["apply", "first.json"]);
    assert_eq!(output.code, 0, "{}", stderr(&output));

    // Plan a change and save it; then another apply changes the stack first.
    let spec = dir.path().join("mlops.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, text.replace("rate(7 days)", "rate(14 days)")).unwrap();
    let output = run(&["plan", "mlops.yaml", "--out", "second.json"]);
    assert_eq!(output.code, 0, "{}", stderr(&output));
    let output = run(&["apply", "mlops.yaml", "--auto-approve"]);
    assert_eq!(output.code, 0, "{}", stderr(&output));

    let output = run(&["apply", "second.json"]);
    let err = stderr(&output);
    assert_eq!(output.code, 1, "{err}");
    assert!(
        err.contains("the stack churn-xgb changed since the plan was made"),
        "{err}"
    );
}

/// The flagship's unmodified 69 KB template, through the CLI: plan stages it and says where,
/// apply deploys it, and then nothing reads as changed: the deployed pipeline has its KMS key
/// and role ARNs filled in, and plan resolves the compiled placeholders to the same values.
/// A real change (epochs) then shows as exactly that path, in text and in JSON.
#[test]
fn the_flagship_applies_then_plans_no_changes_until_a_real_change() {
    let Some(moto) = Moto::start() else { return };
    let endpoint = moto.endpoint();
    let dir = example("skin-lesion");
    let aws = ["--endpoint-url", endpoint.as_str(), "--region", REGION];
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(aws);
        mlopsc(&all, dir.path()).0
    };
    let stdout = |output: &Ran| output.stdout.clone();
    let staging = "mlopsc-staging-123456789012-us-east-1";

    let output = run(&["plan", "mlops.yaml"]);
    assert_eq!(output.code, 0, "{}", stderr(&output));
    assert!(
        stdout(&output).contains(&format!("staged at s3://{staging}/templates/")),
        "{}",
        stdout(&output)
    );

    let output = run(&["apply", "mlops.yaml", "--auto-approve"]);
    assert_eq!(output.code, 0, "{}", stderr(&output));
    assert!(
        stdout(&output).contains("Apply complete."),
        "{}",
        stdout(&output)
    );
    // The monitoring's schedules exist from the first apply, before any model is approved,
    // and start the monitoring pipeline the stack made.
    let pipeline =
        format!("arn:aws:sagemaker:{REGION}:123456789012:pipeline/skin-lesion-monitoring");
    assert_eq!(
        moto.schedules(),
        [
            ("skin-lesion-monitoring-1".to_string(), pipeline.clone()),
            ("skin-lesion-monitoring-2".to_string(), pipeline),
        ]
    );
    // A drift alarm watches its statistic and its p-value, through one expression.
    assert_eq!(
        moto.alarm_queries("skin-lesion-embedding-drift"),
        [
            "statistic: embedding_drift",
            "pvalue: embedding_drift_p_value",
            "drift: IF(statistic > 0.3 AND pvalue <= 0.01, 1, 0)",
        ]
    );

    let output = run(&["plan", "mlops.yaml", "--detailed-exitcode"]);
    assert_eq!(output.code, 0, "{}{}", stdout(&output), stderr(&output));
    assert!(
        stdout(&output).contains("No changes."),
        "{}",
        stdout(&output)
    );
    let output = run(&["apply", "mlops.yaml", "--auto-approve"]);
    assert_eq!(output.code, 0, "{}", stderr(&output));
    assert!(
        stdout(&output).contains("No changes."),
        "{}",
        stdout(&output)
    );
    assert!(
        !stdout(&output).contains("Apply complete"),
        "{}",
        stdout(&output)
    );

    // A real change to the pipeline: named as the spec path the user edited (apply recorded
    // the spec it deployed), the pipeline on one line; with -v exactly that path, once, with
    // its value as written rather than an escaped Fn::Sub string.
    let spec = dir.path().join("mlops.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, text.replacen("epochs: 30", "epochs: 40", 1)).unwrap();
    let output = run(&["plan", "mlops.yaml", "--detailed-exitcode"]);
    let plan_text = stdout(&output);
    assert_eq!(output.code, 2, "{plan_text}{}", stderr(&output));
    assert!(
        plan_text.contains("\nSpec changes:\n  ~ model.hyperparameters.epochs: 30 -> 40\n\n"),
        "{plan_text}"
    );
    assert!(
        plan_text.contains("1 change to the definition of skin-lesion-pipeline\n"),
        "{plan_text}"
    );
    assert!(!plan_text.contains("$."), "{plan_text}");
    let output = run(&["plan", "mlops.yaml", "-v"]);
    let plan_text = stdout(&output);
    assert_eq!(output.code, 0, "{plan_text}{}", stderr(&output));
    let path = r#"~ $.Steps["train"].Arguments.HyperParameters.epochs: "30" -> "40""#;
    assert_eq!(plan_text.matches(path).count(), 1, "{plan_text}");
    assert!(!plan_text.contains(r#"\""#), "no escaped JSON: {plan_text}");

    // The same plan for a CI bot.
    let output = run(&["plan", "mlops.yaml", "--format", "json"]);
    assert_eq!(output.code, 0, "{}", stderr(&output));
    let plan: serde_json::Value = serde_json::from_str(&output.stdout).expect("JSON");
    assert_eq!(plan["changes"], true);
    assert_eq!(
        plan["specChanges"],
        serde_json::json!([{"path": "model.hyperparameters.epochs", "action": "change", "old": 30, "new": 40}])
    );
    assert_eq!(
        plan["definitions"]["pipeline"]["changes"],
        serde_json::json!([{
            "path": r#"$.Steps["train"].Arguments.HyperParameters.epochs"#,
            "action": "change",
            "old": "\"30\"",
            "new": "\"40\""
        }])
    );
    assert_eq!(plan["definitions"]["stateMachine"]["status"], "unchanged");
    // The deployed deploy machine, its key and endpoint role read back from the stack.
    assert_eq!(
        plan["definitions"]["deployStateMachine"]["status"],
        "unchanged"
    );
    let resources: Vec<(&str, &str)> = plan["resourceChanges"]
        .as_array()
        .expect("resourceChanges")
        .iter()
        .map(|r| {
            (
                r["logicalId"].as_str().unwrap_or_default(),
                r["action"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert!(resources.contains(&("Pipeline", "change")), "{resources:?}");
    assert_eq!(plan["summary"]["add"], 0);
}

/// The flagship's prod, in its own account, deploys dev's packages and trains nothing: it
/// applies with no pipeline, package group or retraining machine of its own, keeps its
/// monitoring and deploy machine, and plans no changes afterwards.
#[test]
fn the_flagships_prod_applies_without_a_pipeline_or_registry_of_its_own() {
    let Some(moto) = Moto::start_in("210987654321") else {
        return;
    };
    let endpoint = moto.endpoint();
    let dir = example("skin-lesion");
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend([
            "--env",
            "prod",
            "--endpoint-url",
            endpoint.as_str(),
            "--region",
            REGION,
        ]);
        mlopsc(&all, dir.path()).0
    };
    let output = run(&["apply", "mlops.yaml", "--auto-approve"]);
    assert_eq!(output.code, 0, "{}{}", output.stdout, stderr(&output));
    assert!(
        output.stdout.contains("Apply complete."),
        "{}",
        output.stdout
    );

    let deployed: serde_json::Value = moto.boto3(
        "sm = boto3.client('sagemaker', endpoint_url=sys.argv[1], region_name=sys.argv[2])\n\
         sf = boto3.client('stepfunctions', endpoint_url=sys.argv[1], region_name=sys.argv[2])\n\
         print(json.dumps({\n\
           'pipelines': sorted(p['PipelineName'] for p in sm.list_pipelines()['PipelineSummaries']),\n\
           'groups': [g['ModelPackageGroupName'] for g in sm.list_model_package_groups()['ModelPackageGroupSummaryList']],\n\
           'machines': sorted(m['name'] for m in sf.list_state_machines()['stateMachines']),\n\
         }))",
        &[],
    );
    assert_eq!(
        deployed,
        serde_json::json!({
            "pipelines": ["skin-lesion-prod-monitoring"],
            "groups": [],
            "machines": ["skin-lesion-prod-deploy"],
        })
    );

    let output = run(&["plan", "mlops.yaml", "--format", "json"]);
    assert_eq!(output.code, 0, "{}", stderr(&output));
    let plan: serde_json::Value = serde_json::from_str(&output.stdout).expect("JSON");
    assert_eq!(plan["changes"], false, "{plan:#}");
    let definitions: Vec<&str> = plan["definitions"]
        .as_object()
        .expect("definitions")
        .keys()
        .map(String::as_str)
        .collect();
    // The live plan reads back the training pipeline and the state machines; prod has only
    // the deploy machine (its monitoring pipeline is diffed as part of the template).
    assert_eq!(definitions, ["deployStateMachine"]);
}

/// `mlopsc output`: a clear error before the stack exists, then its outputs after apply.
#[test]
fn output_prints_the_deployed_names_and_arns() {
    let Some(moto) = Moto::start() else { return };
    let endpoint = moto.endpoint();
    let dir = minimal_example();
    let aws = ["--endpoint-url", endpoint.as_str(), "--region", REGION];
    let with = |command: &[&'static str]| -> Vec<&str> { [command, &aws[..]].concat() };

    let (output, _) = mlopsc(&with(&["output", "mlops.yaml"]), dir.path());
    let err = stderr(&output);
    assert_eq!(output.code, 1, "{err}");
    assert!(
        err.contains("the stack minimal does not exist in us-east-1"),
        "{err}"
    );
    assert!(err.contains("help: deploy it with `mlopsc apply"), "{err}");

    let (output, _) = mlopsc(
        &with(&["apply", "mlops.yaml", "--auto-approve"]),
        dir.path(),
    );
    assert_eq!(output.code, 0, "{}", stderr(&output));

    let (output, _) = mlopsc(&with(&["output", "mlops.yaml"]), dir.path());
    let human = output.stdout.clone();
    assert_eq!(output.code, 0, "{}", stderr(&output));
    assert!(
        human.starts_with("Stack minimal (CREATE_COMPLETE)\n"),
        "{human}"
    );
    assert!(human.contains("  PipelineName "), "{human}");
    assert!(human.contains(" minimal-pipeline\n"), "{human}");

    let (output, _) = mlopsc(
        &with(&["output", "mlops.yaml", "--format", "json"]),
        dir.path(),
    );
    assert_eq!(output.code, 0, "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&output.stdout).expect("one JSON document");
    let outputs = &json["outputs"];
    assert_eq!(outputs["PipelineName"], "minimal-pipeline");
    assert_eq!(outputs["DataBucketName"], "minimal-data-0001");
    assert_eq!(outputs["ModelPackageGroupName"], "minimal-models");
    for arn in ["PipelineArn", "StateMachineArn", "NotificationTopicArn"] {
        let value = outputs[arn].as_str().unwrap_or_default();
        assert!(value.starts_with("arn:aws:"), "{arn}: {value}");
    }
}

//! `mlopsc cost` and the cost line of `plan`: the arithmetic on a hand-computed spec, the
//! examples' estimates, and the change in dollars between two specs.

use std::path::PathBuf;

#[path = "common/in_process.rs"]
mod in_process;

use in_process::Ran;
use mlopsc::cost::runs_per_month;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn mlopsc(args: &[&str]) -> Ran {
    in_process::run(args, b"")
}

fn cost_json(spec: &str) -> serde_json::Value {
    let output = mlopsc(&["cost", spec, "--format", "json"]);
    let stdout = output.stdout.as_str();
    assert_eq!(output.code, 0, "{stdout}{}", output.stderr.as_str());
    serde_json::from_str(stdout).expect("one JSON document")
}

/// tests/fixtures/cost/hand.yaml, by hand (prices from crates/mlopsc-core/src/cost/prices.rs):
///
/// runs a month: cron(0 6 1 * ? *) fires once a month, plus triggeredRunsPerMonth 3 = 4.
/// - preprocessing, 1 × ml.m5.large: 4 runs × 30 min = 2 h × $0.115 = $0.23
/// - training, 2 × ml.g4dn.xlarge on spot: 4 × 90 min × 2 instances = 12 h
///   × $0.736 × (1 - 0.70) = 12 × $0.2208 = $2.6496 -> $2.65
/// - evaluation, 1 × ml.m5.xlarge: 4 × 15 min = 1 h × $0.23 = $0.23
/// - drift baseline (image model; the evaluation's instance): 4 × 6 min = 0.4 h × $0.23
///   = $0.092 -> $0.09
/// - endpoint: autoscaling minimum 2 (not initialInstanceCount 3) × 730 h = 1460 h
///   × $0.115 = $167.90
/// - monitoring pipeline: cron(0 2 ? * * *) daily = 730 / 24 = 30.4167 runs × 12 min
///   = 6.0833 h × $0.23 = $1.3992 -> $1.40
/// - S3 frequent access: 100 GB × $0.023 = $2.30
/// - S3 deep archive access (deepArchiveAccessDays set): 1000 GB × $0.00099 = $0.99
///
/// total: 0.23 + 2.65 + 0.23 + 0.09 + 167.90 + 1.40 + 2.30 + 0.99 = $175.79
#[test]
fn the_hand_computed_case() {
    let estimate = cost_json("tests/fixtures/cost/hand.yaml");
    let monthly: Vec<(String, f64)> = estimate["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| {
            (
                item["what"].as_str().expect("what").to_string(),
                item["monthly"].as_f64().expect("monthly"),
            )
        })
        .collect();
    let expected = [
        ("preprocessing, 1 × ml.m5.large", 0.23),
        ("training (spot, -70%), 2 × ml.g4dn.xlarge", 2.65),
        ("evaluation, 1 × ml.m5.xlarge", 0.23),
        ("drift baseline, 1 × ml.m5.xlarge", 0.09),
        ("endpoint (minimum fleet, always on), ml.m5.large", 167.90),
        ("monitoring pipeline, 1 × ml.m5.xlarge", 1.40),
        (
            "S3 Intelligent-Tiering, frequent access (data read by every run)",
            2.30,
        ),
        (
            "S3 Intelligent-Tiering, deep archive access (archived data)",
            0.99,
        ),
    ];
    assert_eq!(monthly.len(), expected.len(), "{monthly:?}");
    for ((what, dollars), (want_what, want_dollars)) in monthly.iter().zip(expected) {
        assert_eq!(what, want_what);
        assert!((dollars - want_dollars).abs() < 1e-9, "{what}: {dollars}");
    }
    assert!((estimate["total"].as_f64().expect("total") - 175.79).abs() < 1e-9);
    assert_eq!(estimate["items"][1]["quantity"], 12.0);
    assert_eq!(estimate["items"][5]["quantity"], 6.083);
    assert_eq!(estimate["unpriced"], serde_json::json!([]));
}

#[test]
fn schedules_fire_as_often_as_their_fields_allow() {
    // 730 hours a month: 43800 minutes, 30.4167 days, 4.3452 weeks.
    let cases = [
        ("rate(1 hour)", 730.0),
        ("rate(30 minutes)", 1460.0),
        ("rate(7 days)", 730.0 / 24.0 / 7.0),
        ("cron(0 * ? * * *)", 730.0),
        ("cron(0 3 ? * SUN *)", 730.0 / 24.0 / 7.0),
        ("cron(0 3 ? * MON-FRI *)", 5.0 * 730.0 / 24.0 / 7.0),
        ("cron(0/15 8,20 1 * ? *)", 4.0 * 2.0),
        ("cron(0 0 1 1,7 ? *)", 2.0 / 12.0),
        ("cron(0 0 L * ? *)", 1.0),
    ];
    for (expression, runs) in cases {
        let got = runs_per_month(expression);
        assert!((got - runs).abs() < 1e-9, "{expression}: {got}, not {runs}");
    }
}

#[test]
fn the_examples_estimates() {
    for example in ["minimal", "skin-lesion", "churn-tabular"] {
        let spec = format!("examples/{example}/mlops.yaml");
        let output = mlopsc(&["cost", &spec]);
        assert_eq!(output.code, 0);
        insta::assert_snapshot!(format!("cost-{example}"), output.stdout.as_str());
    }
}

/// An environment that deploys from a central registry (the flagship's prod) trains nothing:
/// its estimate has the endpoint and the monitoring, and no training job or dataset, which
/// are the owning environment's (dev's) cost.
#[test]
fn a_consuming_environment_pays_for_serving_and_monitoring_only() {
    let items = |env: &str| -> Vec<String> {
        let output = mlopsc(&[
            "cost",
            "examples/skin-lesion/mlops.yaml",
            "--env",
            env,
            "--format",
            "json",
        ]);
        assert_eq!(output.code, 0, "{}", output.stderr);
        let estimate: serde_json::Value =
            serde_json::from_str(&output.stdout).expect("one JSON document");
        estimate["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|item| item["what"].as_str().expect("a line item").to_string())
            .collect()
    };
    let trains = |names: &[String]| {
        names
            .iter()
            .any(|n| n.starts_with("training") || n.starts_with("S3 "))
    };
    let dev = items("dev");
    assert!(trains(&dev), "{dev:?}");
    let prod = items("prod");
    assert!(!trains(&prod), "{prod:?}");
    assert!(
        prod.iter().any(|n| n.starts_with("endpoint"))
            && prod.iter().any(|n| n.starts_with("monitoring pipeline")),
        "{prod:?}"
    );
}

#[test]
fn plan_prints_the_change_in_dollars_against_the_old_spec() {
    // The flagship with the endpoint's autoscaling minimum raised from 2 to 3: one more
    // ml.g4dn.xlarge instance all month, 730 h × $0.736 = $537.28 more.
    let dir = tempfile::tempdir().expect("tempdir");
    let example = root().join("examples/skin-lesion");
    let text = std::fs::read_to_string(example.join("mlops.yaml")).expect("flagship");
    let raised = text
        .replacen("initialInstanceCount: 2", "initialInstanceCount: 3", 1)
        .replacen("minInstances: 2", "minInstances: 3", 1);
    assert_ne!(raised, text);
    let new = dir.path().join("mlops.yaml");
    std::fs::write(&new, raised).expect("write");
    std::os::unix::fs::symlink(example.join("code"), dir.path().join("code")).expect("link");
    let old = example.join("mlops.yaml");
    let args = |format: &str| {
        vec![
            "plan".to_string(),
            new.display().to_string(),
            "--offline".into(),
            "--generated".into(),
            root().join("generated/skin-lesion").display().to_string(),
            "--cost-base".into(),
            old.display().to_string(),
            "--format".into(),
            format.into(),
        ]
    };
    let human = run(&args("human"));
    assert!(
        human.contains("\nMonthly cost estimate: $1113.01 -> $1650.29 (+$537.28)\n"),
        "{human}"
    );
    let json: serde_json::Value = serde_json::from_str(&run(&args("json"))).expect("JSON");
    assert_eq!(
        json["cost"],
        serde_json::json!({"monthly": 1650.29, "base": 1113.01, "delta": 537.28})
    );
    // Without --cost-base, only the new spec's figure.
    let alone = run(&args("human")[..5]);
    assert!(
        alone.contains("\nMonthly cost estimate: $1650.29\n"),
        "{alone}"
    );
}

fn run(args: &[String]) -> String {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = mlopsc(&args);
    assert!(matches!(output.code, 0 | 2), "{}", output.stderr.as_str());
    output.stdout
}

#[test]
fn an_unknown_path_is_a_read_error() {
    let output = mlopsc(&["cost", "no/such/mlops.yaml"]);
    assert_eq!(output.code, 2);
    assert!(
        output.stderr.as_str().contains("no/such/mlops.yaml"),
        "{}",
        output.stderr.as_str()
    );
}

/// The training line of an estimate: its instance-hours a month.
fn training_hours(estimate: &serde_json::Value) -> f64 {
    estimate["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|item| {
            item["what"]
                .as_str()
                .is_some_and(|w| w.starts_with("training"))
        })
        .and_then(|item| item["quantity"].as_f64())
        .expect("a training line")
}

fn assumption<'a>(estimate: &'a serde_json::Value, starts: &str) -> &'a str {
    estimate["assumptions"]
        .as_array()
        .expect("assumptions")
        .iter()
        .filter_map(|a| a.as_str())
        .find(|a| a.starts_with(starts))
        .unwrap_or_else(|| panic!("no assumption `{starts}…` in {estimate:#}"))
}

/// Training time follows the spec: 30 epochs at 4 minutes is the flagship's 120 minutes a
/// run, 40 epochs cost a third more, the job's time limit caps it, and `--assume` or
/// `cost.trainingMinutes` replace the estimate.
#[test]
fn training_time_follows_the_epochs_and_stops_at_the_jobs_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let flagship = std::fs::read_to_string(root().join("examples/skin-lesion/mlops.yaml")).unwrap();
    let variant = |name: &str, from: &str, to: &str| {
        assert!(flagship.contains(from), "the flagship changed: no `{from}`");
        let path = tmp.path().join(name);
        std::fs::write(&path, flagship.replace(from, to)).unwrap();
        path.to_str().unwrap().to_string()
    };
    let thirty = cost_json("examples/skin-lesion/mlops.yaml");
    assert_eq!(
        assumption(&thirty, "assumed training"),
        "assumed training: 30 epochs x 4 minutes (cost.minutesPerEpoch) = 120 minutes a run"
    );
    let forty = cost_json(&variant(
        "forty.yaml",
        "    epochs: 30\n",
        "    epochs: 40\n",
    ));
    let ratio = training_hours(&forty) / training_hours(&thirty);
    assert!(
        (ratio - 4.0 / 3.0).abs() < 1e-3,
        "40 epochs cost {ratio} times 30"
    );
    let capped = cost_json(&variant(
        "capped.yaml",
        "  maxRuntimeSeconds: 28800\n",
        "  maxRuntimeSeconds: 3600\n",
    ));
    assert!((training_hours(&capped) / training_hours(&thirty) - 0.5).abs() < 1e-3);
    assert!(
        assumption(&capped, "assumed training")
            .ends_with("= 60 minutes a run, the job's limit (training.maxRuntimeSeconds 3600)"),
        "{capped:#}"
    );
    let assumed = mlopsc(&[
        "cost",
        "examples/skin-lesion/mlops.yaml",
        "--format",
        "json",
        "--assume",
        "trainingMinutes=30",
        "--assume",
        "triggeredRunsPerMonth=2",
    ]);
    assert_eq!(assumed.code, 0, "{}", assumed.stderr);
    let assumed: serde_json::Value = serde_json::from_str(&assumed.stdout).unwrap();
    let runs = |e: &serde_json::Value| assumption(e, "assumed ").to_string();
    assert!(
        runs(&assumed).contains("(4.345 scheduled, 2 triggered)"),
        "{assumed:#}"
    );
    assert_eq!(
        assumption(&assumed, "assumed training"),
        "assumed training: 30 minutes a run (cost.trainingMinutes)"
    );
    // 6.345 runs of 30 minutes against 4.345 runs of 120.
    let expected = (6.345 * 30.0) / (4.345 * 120.0);
    assert!((training_hours(&assumed) / training_hours(&thirty) - expected).abs() < 1e-3);
    // Every data-driven trigger is named, with what the new-data windows allow at most.
    assert_eq!(
        assumption(&thirty, "triggered runs"),
        "triggered runs come from drift alarms, the model-quality alarm, new data (at most 1460 runs a month: one per 30-minute batch window); cost.triggeredRunsPerMonth says how many to expect"
    );
}

#[test]
fn an_assumption_that_does_not_exist_is_a_usage_error() {
    let typo = mlopsc(&[
        "cost",
        "examples/skin-lesion/mlops.yaml",
        "--assume",
        "trainingMinute=30",
    ]);
    assert_eq!(typo.code, 2, "{}", typo.stderr);
    insta::assert_snapshot!("cost-assume-typo", typo.stderr.as_str());
    let negative = mlopsc(&[
        "cost",
        "examples/skin-lesion/mlops.yaml",
        "--assume",
        "trainingMinutes=-3",
    ]);
    assert_eq!(negative.code, 2, "{}", negative.stderr);
    assert!(
        negative.stderr.contains("is not a number of 0 or more"),
        "{}",
        negative.stderr
    );
}

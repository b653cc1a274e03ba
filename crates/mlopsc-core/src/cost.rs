//! A monthly cost estimate of a compiled system, from the committed price table in [`prices`].
//!
//! Computed from the IR, not from AWS: it prices what the spec says will run (jobs per
//! schedule × expected minutes, the endpoint's minimum fleet, stored data) so that a spec
//! change can be priced in review, before anything is deployed. The durations and data sizes
//! the spec cannot know come from its optional `cost:` section, with stated defaults.

pub mod prices;

use serde::Serialize;

use crate::ir::{Job, Retraining, System, Training};
pub use crate::schedule::runs_per_month;
use crate::spec::CostAssumptions;

/// One priced line: `quantity` units at `unit_price` USD each.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LineItem {
    pub what: String,
    pub quantity: f64,
    /// `instance-hour` or `GB-month`.
    pub unit: &'static str,
    pub unit_price: f64,
    pub monthly: f64,
}

/// The line items of one system, and what the table could not price.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Estimate {
    pub project: String,
    pub items: Vec<LineItem>,
    pub total: f64,
    /// Instance types missing from the price table; their lines are left out of the total.
    pub unpriced: Vec<String>,
    pub prices: &'static str,
    /// What the figures assume and leave out, in words.
    pub assumptions: Vec<String>,
}

/// The spec's cost assumptions with `cost --assume NAME=VALUE` applied: each NAME a key of
/// the `cost:` section, each VALUE a number. An unknown name or a bad value is the error,
/// with the names there are.
pub fn with_overrides(
    assumptions: &CostAssumptions,
    overrides: &[(String, String)],
) -> Result<CostAssumptions, String> {
    let mut fields = match serde_json::to_value(assumptions) {
        Ok(serde_json::Value::Object(fields)) => fields,
        _ => return Err("the cost assumptions are not an object".into()),
    };
    for (name, value) in overrides {
        if !fields.contains_key(name) {
            let names: Vec<&str> = fields.keys().map(String::as_str).collect();
            let hint = crate::suggest::did_you_mean(name, names.iter().copied())
                .map_or_else(String::new, |close| format!("did you mean `{close}`? "));
            return Err(format!(
                "--assume {name}: the cost section has no `{name}`\nhelp: {hint}the assumptions are {}",
                names.join(", ")
            ));
        }
        let number: f64 = value
            .parse()
            .ok()
            .filter(|n: &f64| n.is_finite() && *n >= 0.0)
            .ok_or_else(|| {
                format!("--assume {name}={value}: `{value}` is not a number of 0 or more")
            })?;
        fields.insert(name.clone(), serde_json::json!(number));
    }
    serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| e.to_string())
}

/// Prices a system under the spec's cost assumptions.
pub fn estimate(system: &System, assumptions: &CostAssumptions) -> Estimate {
    let mut lines = Lines::default();
    let scheduled: f64 = system
        .retraining
        .iter()
        .flat_map(|r| &r.schedules)
        .map(|s| runs_per_month(s))
        .fold(0.0, |sum, runs| sum + runs);
    let runs = scheduled + assumptions.triggered_runs_per_month;
    // Minutes a training run takes, and the note that says how that was decided.
    let training = system
        .training_pipeline
        .as_ref()
        .map(|pipeline| training_minutes(&pipeline.training, assumptions));
    // A consuming environment trains nothing: its runs are the owning environment's cost.
    if let Some(pipeline) = &system.training_pipeline {
        lines.job(
            "preprocessing",
            &pipeline.preprocess.job,
            runs * assumptions.preprocessing_minutes,
            1.0,
        );
        let spot = if pipeline.training.spot.is_some() {
            1.0 - prices::SPOT_DISCOUNT
        } else {
            1.0
        };
        let training_name = if pipeline.training.spot.is_some() {
            format!("training (spot, -{:.0}%)", prices::SPOT_DISCOUNT * 100.0)
        } else {
            "training".to_string()
        };
        lines.job(
            &training_name,
            &pipeline.training.job,
            runs * training.as_ref().map_or(DEFAULT_TRAINING_MINUTES, |t| t.0),
            spot,
        );
        lines.job(
            "evaluation",
            &pipeline.evaluation.job,
            runs * assumptions.evaluation_minutes,
            1.0,
        );
        if let Some(monitoring) = &system.image_monitoring {
            lines.job(
                "drift baseline",
                &monitoring.baseline_job,
                runs * assumptions.baseline_minutes,
                1.0,
            );
        }
        for step in &pipeline.custom_steps {
            lines.job(
                &format!("custom step {} ({:?})", step.name, step.kind).to_lowercase(),
                &step.job,
                runs * assumptions.custom_step_minutes,
                1.0,
            );
        }
    }
    if let Some(endpoint) = &system.endpoint {
        let instances = endpoint
            .autoscaling
            .as_ref()
            .map_or(endpoint.initial_instance_count, |a| a.min_instances);
        lines.instances(
            "endpoint (minimum fleet, always on)",
            &endpoint.instance_type,
            f64::from(instances) * prices::HOURS_PER_MONTH,
        );
    }
    if let Some(drift) = &system.data_drift {
        lines.instances(
            "data drift monitoring",
            &drift.instance_type,
            runs_per_month(&drift.schedule) * assumptions.monitoring_minutes / 60.0,
        );
    }
    if let Some(quality) = &system.model_quality {
        lines.instances(
            "model quality monitoring",
            &quality.instance_type,
            runs_per_month(&quality.schedule) * assumptions.monitoring_minutes / 60.0,
        );
    }
    if let Some(monitoring) = &system.image_monitoring {
        let fires = monitoring
            .schedules
            .iter()
            .map(|s| runs_per_month(&s.expression))
            .fold(0.0, |sum, runs| sum + runs);
        lines.job(
            "monitoring pipeline",
            &monitoring.job,
            fires * assumptions.monitoring_minutes,
            1.0,
        );
    }
    // The dataset the runs read; a system that trains nothing stores none.
    if system.training_pipeline.is_some() {
        storage(system, assumptions, &mut lines);
    }
    let total = lines.items.iter().fold(0.0, |sum, item| sum + item.monthly);
    Estimate {
        project: system.project.clone(),
        total: round(total, 2),
        items: lines.items,
        unpriced: lines.unpriced,
        prices: prices::SOURCE,
        assumptions: std::iter::once(match &system.registry.central {
            None => format!(
                "assumed {} pipeline runs a month ({} scheduled, {} triggered)",
                round(runs, 3),
                round(scheduled, 3),
                round(assumptions.triggered_runs_per_month, 3)
            ),
            Some(central) => format!(
                "no pipeline runs: the models are trained where they are registered, {}",
                central.group_arn
            ),
        })
        .chain(system.retraining.as_ref().and_then(triggers))
        .chain(training.map(|(_, note)| note))
        .chain([
            format!(
                "assumed minutes per job: preprocessing {}, evaluation {}, baseline {}, custom step {}, monitoring {}",
                assumptions.preprocessing_minutes,
                assumptions.evaluation_minutes,
                assumptions.baseline_minutes,
                assumptions.custom_step_minutes,
                assumptions.monitoring_minutes
            ),
            format!("a month has {} hours", prices::HOURS_PER_MONTH),
            format!(
                "assumed managed spot training saves {:.0}% of the on-demand price",
                prices::SPOT_DISCOUNT * 100.0
            ),
            "requests, data transfer, KMS, CloudWatch, Step Functions and the \
             logs, models and pipeline buckets' contents are not counted"
                .to_string(),
        ])
        .collect(),
    }
}

/// Minutes one training job runs, and how that was decided: `cost.trainingMinutes` when the
/// spec sets it, else its epochs at `cost.minutesPerEpoch` each, within the job's time limit.
fn training_minutes(training: &Training, assumptions: &CostAssumptions) -> (f64, String) {
    if let Some(minutes) = assumptions.training_minutes {
        return (
            minutes,
            format!("assumed training: {minutes} minutes a run (cost.trainingMinutes)"),
        );
    }
    let epochs = training
        .hyperparameters
        .get("epochs")
        .and_then(|e| e.trim_matches('"').parse::<f64>().ok());
    let Some(epochs) = epochs else {
        return (
            DEFAULT_TRAINING_MINUTES,
            format!(
                "assumed training: {DEFAULT_TRAINING_MINUTES} minutes a run (no `epochs` hyperparameter; set cost.trainingMinutes)"
            ),
        );
    };
    let limit = f64::from(training.max_runtime_seconds) / 60.0;
    let minutes = epochs * assumptions.minutes_per_epoch;
    let mut line = format!(
        "assumed training: {epochs} epochs x {} minutes (cost.minutesPerEpoch) = {} minutes a run",
        assumptions.minutes_per_epoch,
        round(minutes.min(limit), 3)
    );
    if minutes > limit {
        line.push_str(&format!(
            ", the job's limit (training.maxRuntimeSeconds {})",
            training.max_runtime_seconds
        ));
    }
    (minutes.min(limit), line)
}

/// Minutes a training job is assumed to run when the spec gives no epochs.
const DEFAULT_TRAINING_MINUTES: f64 = 120.0;

/// The spec's data-driven triggers, which `cost.triggeredRunsPerMonth` counts, with the
/// most runs a month the new-data windows allow; `None` without any.
fn triggers(retraining: &Retraining) -> Option<String> {
    let mut named = Vec::new();
    if retraining.on_data_drift {
        named.push("drift alarms".to_string());
    }
    if retraining.on_model_quality {
        named.push("the model-quality alarm".to_string());
    }
    if let Some(minutes) = retraining.new_data_check_minutes() {
        let most = prices::HOURS_PER_MONTH * 60.0 / f64::from(minutes);
        named.push(format!(
            "new data (at most {} runs a month: one per {minutes}-minute batch window)",
            round(most, 0)
        ));
    }
    (!named.is_empty()).then(|| {
        format!(
            "triggered runs come from {}; cost.triggeredRunsPerMonth says how many to expect",
            named.join(", ")
        )
    })
}

/// S3 storage of the data bucket by tier: data every run reads stays hot; older data goes
/// to the coldest tier Intelligent-Tiering is allowed to use.
fn storage(system: &System, assumptions: &CostAssumptions, lines: &mut Lines) {
    let tiering = system.storage.intelligent_tiering.as_ref();
    let (hot_name, hot_price) = match tiering {
        Some(_) => (
            "S3 Intelligent-Tiering, frequent access",
            prices::s3::FREQUENT,
        ),
        None => ("S3 Standard", prices::s3::STANDARD),
    };
    lines.storage(
        &format!("{hot_name} (data read by every run)"),
        assumptions.data_size_gb,
        hot_price,
    );
    if assumptions.archived_data_gb > 0.0 {
        let (cold_name, cold_price) = match tiering {
            Some(t) if t.deep_archive_access_days.is_some() => (
                "S3 Intelligent-Tiering, deep archive access",
                prices::s3::DEEP_ARCHIVE,
            ),
            Some(t) if t.archive_access_days.is_some() => (
                "S3 Intelligent-Tiering, archive access",
                prices::s3::ARCHIVE,
            ),
            Some(_) => (
                "S3 Intelligent-Tiering, archive instant access",
                prices::s3::ARCHIVE_INSTANT,
            ),
            None => ("S3 Standard", prices::s3::STANDARD),
        };
        lines.storage(
            &format!("{cold_name} (archived data)"),
            assumptions.archived_data_gb,
            cold_price,
        );
    }
}

/// The line items so far, and the instance types the table lacks.
#[derive(Default)]
struct Lines {
    items: Vec<LineItem>,
    unpriced: Vec<String>,
}

impl Lines {
    /// A job of `job.instance_count` instances running `minutes` a month, its price scaled by
    /// `factor` (the spot discount).
    fn job(&mut self, what: &str, job: &Job, minutes: f64, factor: f64) {
        let hours = minutes / 60.0 * f64::from(job.instance_count);
        let what = format!("{what}, {} × {}", job.instance_count, job.instance_type);
        self.priced(&what, &job.instance_type, hours, factor);
    }

    fn instances(&mut self, what: &str, instance_type: &str, hours: f64) {
        let what = format!("{what}, {instance_type}");
        self.priced(&what, instance_type, hours, 1.0);
    }

    fn priced(&mut self, what: &str, instance_type: &str, hours: f64, factor: f64) {
        let Some(price) = prices::instance_hour(instance_type) else {
            if !self.unpriced.iter().any(|t| t == instance_type) {
                self.unpriced.push(instance_type.to_string());
            }
            return;
        };
        self.push(what, hours, "instance-hour", price * factor);
    }

    fn storage(&mut self, what: &str, gb: f64, price: f64) {
        self.push(what, gb, "GB-month", price);
    }

    /// Adds a line, unless nothing is used: a job no schedule starts costs nothing.
    fn push(&mut self, what: &str, quantity: f64, unit: &'static str, unit_price: f64) {
        if quantity <= 0.0 {
            return;
        }
        self.items.push(LineItem {
            what: what.to_string(),
            quantity: round(quantity, 3),
            unit,
            unit_price: round(unit_price, 5),
            monthly: round(quantity * unit_price, 2),
        });
    }
}

/// Rounds for output, so that a figure prints the same on every machine and without
/// binary-fraction noise such as 0.30000000000000004.
fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

impl Estimate {
    /// One line for `plan`: the estimate, or with an old one, old → new and the difference.
    pub fn change_line(&self, old: Option<&Estimate>) -> String {
        match old {
            None => format!("Monthly cost estimate: ${:.2}\n", self.total),
            Some(old) => {
                let delta = round(self.total - old.total, 2);
                let sign = if delta < 0.0 { "-" } else { "+" };
                format!(
                    "Monthly cost estimate: ${:.2} -> ${:.2} ({sign}${:.2})\n",
                    old.total,
                    self.total,
                    delta.abs()
                )
            }
        }
    }

    /// The line items as a table, then the total, what was not priced and the assumptions.
    pub fn render(&self) -> String {
        let mut out = format!("Monthly cost estimate for {} (USD)\n\n", self.project);
        let width = self
            .items
            .iter()
            .map(|i| i.what.chars().count())
            .max()
            .unwrap_or(0)
            .max(4);
        out.push_str(&format!(
            "{:<width$}  {:>12}  {:>13}  {:>13}  {:>10}\n",
            "what", "quantity", "unit", "unit price", "monthly"
        ));
        for item in &self.items {
            out.push_str(&format!(
                "{:<width$}  {:>12.3}  {:>13}  {:>13.5}  {:>10.2}\n",
                item.what, item.quantity, item.unit, item.unit_price, item.monthly
            ));
        }
        out.push_str(&format!(
            "{:<width$}  {:>12}  {:>13}  {:>13}  {:>10.2}\n",
            "total", "", "", "", self.total
        ));
        if !self.unpriced.is_empty() {
            out.push_str(&format!(
                "\nnot in the price table, left out of the total: {}\n",
                self.unpriced.join(", ")
            ));
        }
        out.push_str(&format!("\nprices: {}\n", self.prices));
        for assumption in &self.assumptions {
            out.push_str(&format!("note: {assumption}\n"));
        }
        out
    }
}

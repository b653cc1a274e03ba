//! `mlopsc registry`: the local model registry that `run --local` registers into.

use serde_json::{Value, json};

use super::{Io, RegistryCommand, ReportFormat, exit};
use crate::diagnostics::Format;
use crate::local::registry::{LiveMonitoring, Registry};
use crate::local::store::Store;

pub(super) fn registry_command(command: RegistryCommand, io: &mut Io) -> u8 {
    let (args, approve) = match command {
        RegistryCommand::List(args) => (args, None),
        RegistryCommand::Approve { model, registry } => (registry, Some(model)),
    };
    let format = match args.format {
        ReportFormat::Human => Format::Human,
        ReportFormat::Json => Format::Json,
    };
    let compiled = match super::compile_in(&args.spec, args.env.as_deref(), format, io) {
        Ok(compiled) => compiled,
        Err(code) => return code,
    };
    let system = &compiled.system;
    let group = &system.registry.model_package_group;
    let workdir = io.resolve(&args.workdir);
    let registry = Registry::in_workdir(&workdir);
    let report = match approve {
        None => list(&registry, group),
        Some(selector) => registry.select(group, &selector).and_then(|package| {
            let live = LiveMonitoring {
                drift_baseline_uri: system
                    .image_monitoring
                    .as_ref()
                    .map(|_| system.drift_baseline_uri.clone()),
                model_uri: system
                    .image_monitoring
                    .as_ref()
                    .map(|m| m.model_uri.clone()),
            };
            let store = Store::new(workdir.join("s3"), &[])?;
            let approval = registry.approve(&package, &live, &store)?;
            let copies: Vec<Value> = approval
                .copies
                .iter()
                .map(|(from, to)| json!({"from": from, "to": to}))
                .collect();
            Ok(json!({"approved": package.reference(), "copies": copies}))
        }),
    };
    let report = match report {
        Ok(report) => report,
        Err(message) => {
            let _ = writeln!(io.stderr, "error: {message}");
            return exit::USAGE_OR_IO;
        }
    };
    let text = match args.format {
        ReportFormat::Json => serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
        ReportFormat::Human => {
            let mut text = human(&report);
            if report.get("approved").is_some() && io.verbosity != super::Verbosity::Quiet {
                let mut next = format!("next: mlopsc serve --local {}", args.spec.display());
                if args.workdir != std::path::Path::new(super::LOCAL_WORKDIR) {
                    next.push_str(&format!(" --workdir {}", args.workdir.display()));
                }
                text.push_str(&next);
                text.push('\n');
            }
            text
        }
    };
    let _ = io.stdout.write_all(text.as_bytes());
    exit::OK
}

fn list(registry: &Registry, group: &str) -> Result<Value, String> {
    let packages: Vec<Value> = registry
        .packages(group)?
        .iter()
        .map(|package| {
            json!({
                "version": package.version,
                "status": package.status(),
                "modelArchive": package.model_archive().display().to_string(),
                "metrics": package.quality_metrics(),
            })
        })
        .collect();
    Ok(json!({"group": group, "packages": packages}))
}

fn human(report: &Value) -> String {
    let mut text = String::new();
    if let Some(approved) = report["approved"].as_str() {
        text.push_str(&format!("approved {approved}\n"));
        for copy in report["copies"].as_array().into_iter().flatten() {
            text.push_str(&format!(
                "  live: {} <- {}\n",
                copy["to"].as_str().unwrap_or_default(),
                copy["from"].as_str().unwrap_or_default()
            ));
        }
        return text;
    }
    let group = report["group"].as_str().unwrap_or_default();
    let packages = report["packages"].as_array().cloned().unwrap_or_default();
    if packages.is_empty() {
        text.push_str(&format!(
            "nothing is registered in {group}: `mlopsc run --local` registers a package when the quality gates pass\n"
        ));
    }
    for package in &packages {
        let metrics: Vec<String> = package["metrics"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(name, metric)| Some(format!("{name} {:.3}", metric["value"].as_f64()?)))
            .collect();
        text.push_str(&format!(
            "{group}/{}  {}  {}\n",
            package["version"],
            package["status"].as_str().unwrap_or_default(),
            metrics.join(", ")
        ));
    }
    text
}

//! What the emitted artifacts agree on: the prefixes, parameters, placeholders, triggers and
//! names that one artifact writes and another reads.
//!
//! The emitters sit above this module and never use one another for these facts, so that
//! each fact is stated once and no emitter imports a sibling (`tests/layers.rs`).

use serde_json::{Value, json};

use crate::catalog;
use crate::hash::sha256_hex;
use crate::ir::{Endpoint, System, VARIANT};

/// Where preprocess writes its splits in the data bucket; the execution role may write there.
pub const PROCESSED_PREFIX: &str = "processed/";

/// Where training writes its model archives in the models bucket; the endpoint reads there.
pub const MODELS_PREFIX: &str = "models/";

/// Placeholder for the SageMaker execution role's ARN, substituted by the template.
pub const EXECUTION_ROLE_ARN: &str = "${ExecutionRoleArn}";
/// Placeholder for the stack's KMS key ARN, substituted by the template.
pub const KMS_KEY_ARN: &str = "${KmsKeyArn}";
/// Placeholder for the monitoring role's ARN, which runs the monitoring pipeline.
pub const MONITORING_ROLE_ARN: &str = "${MonitoringRoleArn}";
/// The names of the placeholders above: the ones the template may fill in a pipeline
/// definition, and no others.
pub const PIPELINE_PLACEHOLDERS: [&str; 3] = ["KmsKeyArn", "ExecutionRoleArn", "MonitoringRoleArn"];

/// The version of the data a run reads (the time of the event that started it); the
/// retraining machine passes it. It is part of preprocess's cache key, so new data is
/// preprocessed again instead of served from the cache.
pub const DATA_VERSION_PARAMETER: &str = "DataVersion";

/// The monitoring pipeline's parameters; its schedules in the template set the window's
/// length and the label delay.
pub const WINDOW_END_PARAMETER: &str = "WindowEnd";
pub const WINDOW_HOURS_PARAMETER: &str = "WindowHours";
pub const LABEL_DAYS_PARAMETER: &str = "LabelDays";
pub const BASELINE_PARAMETER: &str = "BaselineUri";
pub const MODEL_PARAMETER: &str = "ModelDataUrl";
pub const CAPTURE_PARAMETER: &str = "CaptureUri";
pub const GROUND_TRUTH_PARAMETER: &str = "GroundTruthUri";

/// What started a run. EventBridge rules pass it to the machine as `Trigger`, beside
/// `DataVersion` (the event's time); for new data, a check of the new-data queue does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    DataDrift,
    ModelQuality,
    NewData,
}

impl Trigger {
    pub fn name(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::DataDrift => "dataDrift",
            Trigger::ModelQuality => "modelQuality",
            Trigger::NewData => "newData",
        }
    }
}

/// A model and endpoint-config name is `<prefix>-<32 hex digits>`, at most 63 characters.
const NAME_PREFIX_MAX: usize = 30;

/// What the names of a release's model and endpoint configuration start with (then `-` and
/// 32 hex digits): the deploy machine names them so, and the deploy role may create exactly
/// these.
pub fn release_prefix(system: &System) -> String {
    let prefix: String = system.project.chars().take(NAME_PREFIX_MAX).collect();
    prefix.trim_end_matches('-').to_string()
}

/// An endpoint configuration's properties for the model named `model_name`: one variant,
/// KMS on the volume and on data capture. The template's `EndpointConfig` and the deploy state
/// machine's `CreateEndpointConfig` both use it, so a redeployed endpoint keeps its settings.
/// `key_arn` is the key as the caller can name it (a template reference or a placeholder).
pub fn endpoint_config(endpoint: &Endpoint, key_arn: &Value, model_name: Value) -> Value {
    let mut config = json!({
        "ProductionVariants": [{
            "VariantName": VARIANT,
            "ModelName": model_name,
            "InstanceType": endpoint.instance_type,
            "InitialInstanceCount": endpoint.initial_instance_count,
            "InitialVariantWeight": 1.0,
        }],
    });
    // NVMe instance storage is encrypted with a hardware key; SageMaker refuses a KmsKeyId for it.
    if !catalog::has_nvme(&endpoint.instance_type) {
        config["KmsKeyId"] = key_arn.clone();
    }
    if let Some(capture) = &endpoint.capture {
        config["DataCaptureConfig"] = json!({
            "EnableCapture": true,
            "InitialSamplingPercentage": capture.sampling_percent,
            "DestinationS3Uri": capture.destination_uri,
            "KmsKeyId": key_arn,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"JsonContentTypes": ["application/json"]},
        });
    }
    config
}

/// The key a support file (a file the template references, such as a monitor's
/// constraints) is uploaded under in the pipeline bucket: `support/<sha256>/<path>`.
///
/// Named by content so that an upload never changes what a running monitor reads; the
/// template refers to this key and `apply` uploads to it, so both call this one function.
pub fn support_key(path: &str, bytes: &[u8]) -> String {
    format!("support/{}/{path}", sha256_hex(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pipeline_placeholders_are_the_names_of_the_placeholder_constants() {
        let written = [KMS_KEY_ARN, EXECUTION_ROLE_ARN, MONITORING_ROLE_ARN];
        let named: Vec<String> = PIPELINE_PLACEHOLDERS
            .iter()
            .map(|name| format!("${{{name}}}"))
            .collect();
        assert_eq!(named, written);
    }
}

//! The committed price table `mlopsc cost` multiplies by.
//!
//! Written by hand on 2026-11-28, without network access, from AWS's public on-demand prices
//! for us-east-1 as published in 2024 on <https://aws.amazon.com/sagemaker/pricing/> and
//! <https://aws.amazon.com/s3/pricing/>. The machine-readable source is the AWS Price List
//! API's offer files (`https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonSageMaker/current/index.json`
//! and `.../AmazonS3/...`); check a figure there before you rely on it. Other regions cost
//! up to about 20% more. The table covers the instance types the examples and `init`
//! templates use, and a few common neighbours; any other type is reported as unpriced.

/// When the table was written, and from what; printed under every estimate.
pub const SOURCE: &str = "us-east-1 on-demand prices as published by AWS in 2024, written by hand on 2026-11-28 (crates/mlopsc-core/src/cost/prices.rs in mlopsc's source)";

/// Hours in a month, as AWS's own calculators count them (24 × 365 / 12).
pub const HOURS_PER_MONTH: f64 = crate::schedule::HOURS_PER_MONTH;

/// What managed spot training saves on the on-demand price, assumed: AWS quotes "up to 90%";
/// 70% is a typical realised saving for GPU instances.
pub const SPOT_DISCOUNT: f64 = 0.70;

/// USD per instance-hour. SageMaker charges the same rate for a type whether it trains,
/// processes, transforms or hosts, for every type listed here.
const INSTANCE_HOUR: &[(&str, f64)] = &[
    ("ml.c5.2xlarge", 0.408),
    ("ml.c5.xlarge", 0.204),
    ("ml.g4dn.2xlarge", 0.94),
    ("ml.g4dn.xlarge", 0.736),
    ("ml.g5.2xlarge", 1.515),
    ("ml.g5.xlarge", 1.408),
    ("ml.m5.2xlarge", 0.461),
    ("ml.m5.4xlarge", 0.922),
    ("ml.m5.large", 0.115),
    ("ml.m5.xlarge", 0.23),
    ("ml.p3.2xlarge", 3.825),
    ("ml.t2.medium", 0.056),
];

/// The price of one instance-hour of `instance_type`, if the table has it.
pub fn instance_hour(instance_type: &str) -> Option<f64> {
    INSTANCE_HOUR
        .iter()
        .find(|(name, _)| *name == instance_type)
        .map(|(_, price)| *price)
}

/// USD per GB-month of the S3 storage classes and Intelligent-Tiering tiers (first 50 TB).
pub mod s3 {
    /// S3 Standard.
    pub const STANDARD: f64 = 0.023;
    /// Intelligent-Tiering, Frequent Access tier (objects read in the last 30 days).
    pub const FREQUENT: f64 = 0.023;
    /// Intelligent-Tiering, Archive Instant Access tier (not read for 90 days; automatic).
    pub const ARCHIVE_INSTANT: f64 = 0.004;
    /// Intelligent-Tiering, Archive Access tier (opted in with `archiveAccessDays`).
    pub const ARCHIVE: f64 = 0.0036;
    /// Intelligent-Tiering, Deep Archive Access tier (opted in with `deepArchiveAccessDays`).
    pub const DEEP_ARCHIVE: f64 = 0.00099;
}

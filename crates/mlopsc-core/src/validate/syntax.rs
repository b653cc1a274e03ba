//! X-codes: the little languages inside string values: schedule expressions, S3 URIs,
//! email addresses, ARNs and regions.

use super::Rules;
use super::names::bucket_name;
use crate::catalog;
use crate::diagnostics::Code;
use crate::spec::{Pointer, Spec, TriggerKind};
use crate::suggest::did_you_mean;

pub(super) fn check(spec: &Spec, rules: &mut Rules) {
    if !catalog::REGIONS.contains(&spec.project.region.as_str()) {
        let help = match did_you_mean(&spec.project.region, catalog::REGIONS.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!("supported regions: {}", catalog::REGIONS.join(", ")),
        };
        rules.error(
            Code::X004,
            &Pointer::root().key("project").key("region"),
            format!(
                "`{}` is not a region where mlopsc can deploy SageMaker Pipelines",
                spec.project.region
            ),
            help,
        );
    }
    if let Some(arn) = &spec.storage.encryption.kms_key_arn
        && let Err(why) = kms_key_arn(arn)
    {
        rules.error(
            Code::X004,
            &Pointer::root().key("storage").key("encryption").key("kmsKeyArn"),
            format!("`{arn}` is not a KMS key ARN: {why}"),
            "a key ARN looks like arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        );
    }

    let mut uris: Vec<(&str, Pointer)> = spec
        .data_sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                s.uri.as_str(),
                Pointer::root().key("dataSources").index(i).key("uri"),
            )
        })
        .collect();
    if let Some(uri) = spec
        .training
        .spot
        .as_ref()
        .and_then(|s| s.checkpoint_uri.as_deref())
    {
        uris.push((
            uri,
            Pointer::root()
                .key("training")
                .key("spot")
                .key("checkpointUri"),
        ));
    }
    if let Some(uri) = spec
        .deployment
        .as_ref()
        .and_then(|d| d.data_capture.as_ref())
        .and_then(|c| c.destination_uri.as_deref())
    {
        uris.push((
            uri,
            Pointer::root()
                .key("deployment")
                .key("dataCapture")
                .key("destinationUri"),
        ));
    }
    if let Some(quality) = spec
        .monitoring
        .as_ref()
        .and_then(|m| m.model_quality.as_ref())
    {
        uris.push((
            quality.ground_truth_uri.as_str(),
            Pointer::root()
                .key("monitoring")
                .key("modelQuality")
                .key("groundTruthUri"),
        ));
    }
    if let Some(retraining) = &spec.retraining {
        for (i, trigger) in retraining.triggers.iter().enumerate() {
            if let Some(uri) = &trigger.uri {
                uris.push((
                    uri.as_str(),
                    Pointer::root()
                        .key("retraining")
                        .key("triggers")
                        .index(i)
                        .key("uri"),
                ));
            }
        }
    }
    for (uri, pointer) in uris {
        if let Err(why) = s3_uri(uri) {
            rules.error(
                Code::X002,
                &pointer,
                format!("`{uri}` is not an S3 URI: {why}"),
                "write s3://<bucket>/<prefix>/",
            );
        }
    }

    if let Some(retraining) = &spec.retraining {
        for (i, trigger) in retraining.triggers.iter().enumerate() {
            if let (TriggerKind::Schedule, Some(expression)) = (trigger.kind, &trigger.expression)
                && let Err(why) = schedule_expression(expression)
            {
                rules.error(
                    Code::X001,
                    &Pointer::root().key("retraining").key("triggers").index(i).key("expression"),
                    format!("`{expression}` is not an EventBridge schedule expression: {why}"),
                    "use rate(7 days) or cron(minutes hours day-of-month month day-of-week year), such as cron(0 3 ? * SUN *)",
                );
            }
        }
        for (i, email) in retraining.notifications.emails.iter().enumerate() {
            if !is_email(email) {
                rules.error(
                    Code::X003,
                    &Pointer::root()
                        .key("retraining")
                        .key("notifications")
                        .key("emails")
                        .index(i),
                    format!("`{email}` is not an email address"),
                    "write name@example.com",
                );
            }
        }
    }

    if let Some(monitoring) = &spec.monitoring {
        let monitoring_pointer = Pointer::root().key("monitoring");
        let schedules = [
            monitoring.data_drift.as_ref().map(|d| {
                (
                    d.schedule.as_str(),
                    monitoring_pointer.clone().key("dataDrift"),
                )
            }),
            monitoring.model_quality.as_ref().map(|q| {
                (
                    q.schedule.as_str(),
                    monitoring_pointer.clone().key("modelQuality"),
                )
            }),
        ];
        for (expression, monitor) in schedules.into_iter().flatten() {
            if let Err(why) = monitor_schedule(expression) {
                rules.error(
                    Code::X001,
                    &monitor.key("schedule"),
                    format!("`{expression}` is not a Model Monitor schedule: {why}"),
                    "Model Monitor runs hourly, cron(0 * ? * * *), or daily at an hour, such as cron(0 2 ? * * *)",
                );
            }
        }
    }
}

/// Checks `s3://bucket/key` with a valid bucket name.
pub fn s3_uri(uri: &str) -> Result<(), String> {
    let Some(rest) = uri.strip_prefix("s3://") else {
        return Err("it must start with `s3://`".into());
    };
    let bucket = rest.split('/').next().unwrap_or_default();
    bucket_name(bucket).map_err(|why| format!("bucket `{bucket}`: {why}"))?;
    if rest.contains("//") {
        return Err("the key has an empty path segment (`//`)".into());
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("it contains white space".into());
    }
    Ok(())
}

/// A plain address check: one `@`, a local part, and a dotted domain.
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let labels: Vec<&str> = domain.split('.').collect();
    !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
}

fn kms_key_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return Err("it must have the form arn:partition:kms:region:account:key/id".into());
    }
    if !matches!(parts[1], "aws" | "aws-cn" | "aws-us-gov") {
        return Err(format!("`{}` is not an AWS partition", parts[1]));
    }
    if parts[2] != "kms" {
        return Err(format!("the service is `{}`, not `kms`", parts[2]));
    }
    if parts[4].len() != 12 || !parts[4].chars().all(|c| c.is_ascii_digit()) {
        return Err("the account id must be 12 digits".into());
    }
    match parts[5].split_once('/') {
        Some(("key", id)) if !id.is_empty() => Ok(()),
        _ => Err("the resource must be `key/<key id>`".into()),
    }
}

/// EventBridge `rate(...)` or `cron(...)`.
pub fn schedule_expression(expression: &str) -> Result<(), String> {
    if let Some(body) = expression
        .strip_prefix("rate(")
        .and_then(|r| r.strip_suffix(')'))
    {
        return rate(body);
    }
    if let Some(body) = expression
        .strip_prefix("cron(")
        .and_then(|r| r.strip_suffix(')'))
    {
        return cron(body).map(|_| ());
    }
    Err("it must be `rate(...)` or `cron(...)`".into())
}

fn rate(body: &str) -> Result<(), String> {
    let mut words = body.split_whitespace();
    let (Some(value), Some(unit), None) = (words.next(), words.next(), words.next()) else {
        return Err("a rate is `rate(<value> <unit>)`".into());
    };
    let value: u64 = value
        .parse()
        .map_err(|_| format!("`{value}` is not a positive whole number"))?;
    if value == 0 {
        return Err("the value must be at least 1".into());
    }
    let singular = matches!(unit, "minute" | "hour" | "day");
    let plural = matches!(unit, "minutes" | "hours" | "days");
    match (value == 1, singular, plural) {
        (true, true, _) | (false, _, true) => Ok(()),
        (true, false, true) => Err(format!(
            "with 1, the unit is singular: `{}`",
            unit.trim_end_matches('s')
        )),
        (false, true, _) => Err(format!("with {value}, the unit is plural: `{unit}s`")),
        _ => Err(format!("`{unit}` is not minute(s), hour(s) or day(s)")),
    }
}

/// The six fields of an EventBridge cron expression, checked one by one.
struct CronFields<'a> {
    minutes: &'a str,
    hours: &'a str,
    day_of_month: &'a str,
    month: &'a str,
    day_of_week: &'a str,
    year: &'a str,
}

fn cron(body: &str) -> Result<CronFields<'_>, String> {
    let fields: Vec<&str> = body.split_whitespace().collect();
    let [minutes, hours, day_of_month, month, day_of_week, year] = fields[..] else {
        return Err(format!(
            "a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), this one has {}",
            fields.len()
        ));
    };
    field(minutes, "minutes", 0, 59, &[], "")?;
    field(hours, "hours", 0, 23, &[], "")?;
    field(day_of_month, "day-of-month", 1, 31, &[], "?LW")?;
    const MONTHS: &[&str] = &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    field(month, "month", 1, 12, MONTHS, "")?;
    const DAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    field(day_of_week, "day-of-week", 1, 7, DAYS, "?L#")?;
    field(year, "year", 1970, 2199, &[], "")?;
    if (day_of_month == "?") == (day_of_week == "?") {
        return Err("exactly one of day-of-month and day-of-week must be `?`".into());
    }
    Ok(CronFields {
        minutes,
        hours,
        day_of_month,
        month,
        day_of_week,
        year,
    })
}

/// One cron field: `*`, values, ranges, lists and increments, plus the field's special characters.
fn field(
    text: &str,
    name: &str,
    min: u32,
    max: u32,
    names: &[&str],
    specials: &str,
) -> Result<(), String> {
    if text == "*" || (text == "?" && specials.contains('?')) {
        return Ok(());
    }
    let value = |v: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(v)) {
            return Ok(min + i as u32);
        }
        let n: u32 = v
            .parse()
            .map_err(|_| format!("`{v}` is not a valid {name} value"))?;
        if n < min || n > max {
            return Err(format!("{name} must be between {min} and {max}, not {n}"));
        }
        Ok(n)
    };
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (part, None),
        };
        if let Some(step) = step {
            let step: u32 = step
                .parse()
                .map_err(|_| format!("`{step}` is not a valid {name} increment"))?;
            if step == 0 {
                return Err(format!("the {name} increment must be at least 1"));
            }
        }
        if range == "*" {
            continue;
        }
        if specials.contains('L') && (range == "L" || range.ends_with('L')) {
            let head = range.trim_end_matches('L');
            if !head.is_empty() {
                value(head)?;
            }
            continue;
        }
        if specials.contains('W') && range.ends_with('W') {
            value(range.trim_end_matches('W'))?;
            continue;
        }
        if specials.contains('#')
            && let Some((day, nth)) = range.split_once('#')
        {
            value(day)?;
            if !matches!(nth, "1" | "2" | "3" | "4" | "5") {
                return Err(format!(
                    "`#{nth}` must name the 1st to 5th weekday of the month"
                ));
            }
            continue;
        }
        match range.split_once('-') {
            Some((from, to)) => {
                value(from)?;
                value(to)?;
            }
            None => {
                value(range)?;
            }
        }
    }
    Ok(())
}

/// Model Monitor takes hourly or daily cron schedules only.
pub fn monitor_schedule(expression: &str) -> Result<(), String> {
    let body = expression
        .strip_prefix("cron(")
        .and_then(|r| r.strip_suffix(')'))
        .ok_or("Model Monitor schedules are `cron(...)` expressions")?;
    let fields = cron(body)?;
    if fields.minutes != "0" {
        return Err("jobs start on the hour, so minutes must be 0".into());
    }
    let hourly =
        fields.hours == "*" || fields.hours.starts_with("*/") || fields.hours.contains('/');
    let daily = fields.hours.parse::<u32>().is_ok();
    if !(hourly || daily) {
        return Err("hours must be `*`, an increment such as `*/6`, or one hour".into());
    }
    if fields.day_of_month != "?"
        || fields.month != "*"
        || fields.day_of_week != "*"
        || fields.year != "*"
    {
        return Err("day-of-month must be `?` and month, day-of-week and year `*`".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_expressions() {
        for ok in [
            "rate(1 day)",
            "rate(7 days)",
            "rate(5 minutes)",
            "cron(0 3 ? * SUN *)",
            "cron(0/15 * * * ? *)",
            "cron(0 12 L * ? *)",
            "cron(0 8 ? * MON-FRI *)",
            "cron(0 8 ? * 6#3 *)",
        ] {
            assert_eq!(schedule_expression(ok), Ok(()), "{ok}");
        }
        for bad in [
            "rate(1 days)",
            "rate(2 day)",
            "rate(0 days)",
            "rate(7 weeks)",
            "cron(0 3 * * *)",
            "cron(0 3 * * SUN *)",
            "cron(60 3 ? * SUN *)",
            "cron(0 3 ? * FUNDAY *)",
            "every day",
        ] {
            assert!(schedule_expression(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn monitor_schedules() {
        assert_eq!(monitor_schedule("cron(0 * ? * * *)"), Ok(()));
        assert_eq!(monitor_schedule("cron(0 2 ? * * *)"), Ok(()));
        assert!(monitor_schedule("cron(30 * ? * * *)").is_err());
        assert!(monitor_schedule("rate(1 hour)").is_err());
        assert!(monitor_schedule("cron(0 2 ? * MON *)").is_err());
    }

    #[test]
    fn s3_uris_and_emails() {
        assert!(s3_uri("s3://my-bucket/prefix/").is_ok());
        assert!(s3_uri("https://my-bucket/prefix/").is_err());
        assert!(s3_uri("s3://My_Bucket/x").is_err());
        assert!(is_email("ml-oncall@example.com"));
        assert!(!is_email("ml-oncall@localhost"));
        assert!(!is_email("two@@example.com"));
        assert!(!is_email("no spaces@example.com"));
    }
}

//! How often an EventBridge or Scheduler expression fires: the cost estimate counts runs
//! with it, and the monitoring's schedules size each run's window by it.

/// The average month, in hours, as AWS prices instance-hours.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// The hours between two runs of `expression` on average, at least 1: the window a
/// monitoring run covers, so that consecutive runs read disjoint captures.
pub fn hours_between_runs(expression: &str) -> u32 {
    let runs = runs_per_month(expression);
    if runs <= 0.0 {
        return 24;
    }
    // At most four weeks: a monthly schedule still reads a bounded window.
    (HOURS_PER_MONTH / runs).round().clamp(1.0, 672.0) as u32
}

/// Days in the average month of 730 hours.
const DAYS_PER_MONTH: f64 = HOURS_PER_MONTH / 24.0;

/// How often an EventBridge schedule fires in an average month. `rate(...)` is exact;
/// `cron(...)` counts the values each field allows (an `L`, `W` or `#` day as once a month)
/// and ignores the year field. A validated spec's expressions always parse; anything else
/// counts as never firing.
pub fn runs_per_month(expression: &str) -> f64 {
    if let Some(body) = expression
        .strip_prefix("rate(")
        .and_then(|r| r.strip_suffix(')'))
    {
        let mut words = body.split_whitespace();
        let value: f64 = words.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
        let minutes = match words.next().map(|u| u.trim_end_matches('s')) {
            Some("minute") => 1.0,
            Some("hour") => 60.0,
            Some("day") => 1440.0,
            _ => return 0.0,
        };
        return if value > 0.0 {
            HOURS_PER_MONTH * 60.0 / (value * minutes)
        } else {
            0.0
        };
    }
    let Some(body) = expression
        .strip_prefix("cron(")
        .and_then(|r| r.strip_suffix(')'))
    else {
        return 0.0;
    };
    let fields: Vec<&str> = body.split_whitespace().collect();
    let [minutes, hours, day_of_month, month, day_of_week, _year] = fields[..] else {
        return 0.0;
    };
    let days = if day_of_month == "?" {
        values(day_of_week, 1, 7) * DAYS_PER_MONTH / 7.0
    } else if day_of_month == "*" {
        DAYS_PER_MONTH
    } else {
        values(day_of_month, 1, 31)
    };
    values(minutes, 0, 59) * values(hours, 0, 23) * days * values(month, 1, 12) / 12.0
}

/// How many values one cron field allows between `min` and `max`.
fn values(field: &str, min: u32, max: u32) -> f64 {
    let count: u32 = field
        .split(',')
        .map(|part| {
            let (range, step) = match part.split_once('/') {
                Some((range, step)) => (range, step.parse::<u32>().unwrap_or(1).max(1)),
                None => (part, 1),
            };
            if range.contains(['L', 'W', '#']) {
                return 1;
            }
            let (first, last) = match range.split_once('-') {
                _ if range == "*" => (min, max),
                Some((a, b)) => (value(a, min), value(b, min)),
                None if step > 1 => (value(range, min), max),
                None => (value(range, min), value(range, min)),
            };
            if last < first {
                0
            } else {
                (last - first) / step + 1
            }
        })
        .sum();
    f64::from(count)
}

/// A cron value: a number, or a month or weekday name (whose position counts from `min`).
fn value(text: &str, min: u32) -> u32 {
    const NAMES: [&[&str]; 2] = [
        &[
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
        ],
        &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    ];
    if let Ok(n) = text.parse() {
        return n;
    }
    NAMES
        .iter()
        .find_map(|names| names.iter().position(|n| n.eq_ignore_ascii_case(text)))
        .map_or(min, |i| min + i as u32)
}

//! Times, on one template and in one run: mlopsc's write of it (serde-saphyr), mlopsc's write
//! and read-back check together, and five YAML parsers each reading it into events and
//! nothing more. The parse-only figures are the floor of any independent read-back.
//!
//! A last row parses the same template with every string over 64 characters cut to one: it
//! shows how much of a parse is the long embedded definitions and how much the structure.

use std::time::Instant;

/// Runs `work` in 5 rounds of `runs` and returns the best round's mean, in milliseconds.
fn best_ms(runs: u32, mut work: impl FnMut() -> usize) -> (f64, usize) {
    let mut best = f64::MAX;
    let mut count = 0;
    for _ in 0..5 {
        let started = Instant::now();
        for _ in 0..runs {
            count = std::hint::black_box(work());
        }
        best = best.min(started.elapsed().as_secs_f64() * 1000.0 / f64::from(runs));
    }
    (best, count)
}

/// The event count of `text` through a parser with saphyr-parser's API: saphyr-parser itself,
/// and granit-parser, the fork serde-saphyr reads with.
macro_rules! saphyr_api_events {
    ($name:ident, $parser:ident) => {
        fn $name(text: &str) -> usize {
            let mut parser = $parser::Parser::new_from_str(text);
            let mut events = 0;
            while let Some(event) = parser.next_event() {
                let (event, _) = event.expect(concat!(stringify!($parser), " reads the template"));
                events += 1;
                if matches!(event, $parser::Event::StreamEnd) {
                    break;
                }
            }
            events
        }
    };
}

saphyr_api_events!(saphyr_parser_events, saphyr_parser);
saphyr_api_events!(granit_parser_events, granit_parser);

fn yaml_rust2_events(text: &str) -> usize {
    let mut parser = yaml_rust2::parser::Parser::new_from_str(text);
    let mut events = 0;
    loop {
        let (event, _) = parser.next_token().expect("yaml-rust2 reads the template");
        events += 1;
        if matches!(event, yaml_rust2::parser::Event::StreamEnd) {
            return events;
        }
    }
}

fn libyaml_safer_events(text: &str) -> usize {
    let mut parser = libyaml_safer::Parser::new();
    let mut input = text.as_bytes();
    parser.set_input_string(&mut input);
    let mut events = 0;
    loop {
        let event = parser.parse().expect("libyaml-safer reads the template");
        events += 1;
        if matches!(event.data, libyaml_safer::EventData::StreamEnd) {
            return events;
        }
    }
}

fn unsafe_libyaml_events(text: &str) -> usize {
    use unsafe_libyaml::*;
    // SAFETY: libyaml's documented sequence: initialize, set the input (which outlives the
    // parser), parse events and delete each, delete the parser.
    unsafe {
        let mut parser = std::mem::MaybeUninit::<yaml_parser_t>::uninit();
        assert!(yaml_parser_initialize(parser.as_mut_ptr()).ok);
        let mut parser = parser.assume_init();
        yaml_parser_set_input_string(&mut parser, text.as_ptr(), text.len() as u64);
        let mut events = 0;
        loop {
            let mut event = std::mem::MaybeUninit::<yaml_event_t>::uninit();
            assert!(
                yaml_parser_parse(&mut parser, event.as_mut_ptr()).ok,
                "libyaml reads the template"
            );
            let mut event = event.assume_init();
            let end = event.type_ == YAML_STREAM_END_EVENT;
            yaml_event_delete(&mut event);
            events += 1;
            if end {
                break;
            }
        }
        yaml_parser_delete(&mut parser);
        events
    }
}

/// `value` with each string longer than 64 characters replaced by `x`.
fn cut_long_strings(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(text) if text.chars().count() > 64 => Value::String("x".into()),
        Value::Array(items) => Value::Array(items.iter().map(cut_long_strings).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (key.clone(), cut_long_strings(value)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "generated/skin-lesion/template.yaml".into());
    let text = std::fs::read_to_string(&path).expect("the template");
    let value: serde_json::Value = serde_saphyr::from_str(&text).expect("a YAML template");
    let mut cut = String::new();
    serde_saphyr::to_fmt_writer(&mut cut, &cut_long_strings(&value)).expect("writes");
    let runs = 100;
    println!("{path}: {} bytes, best of 5 rounds of {runs}", text.len());
    let cut_row = format!("strings > 64 cut ({} bytes): saphyr-parser", cut.len());
    let rows: [(&str, Box<dyn Fn() -> usize>); 8] = [
        (
            "mlopsc: write (serde-saphyr)",
            Box::new(|| {
                let mut out = String::with_capacity(256 * 1024);
                serde_saphyr::to_fmt_writer(&mut out, &value).expect("writes");
                out.len()
            }),
        ),
        (
            "mlopsc: write + read-back check",
            Box::new(|| {
                mlopsc_core::emit::check::yaml_text("template.yaml", &value)
                    .expect("checks")
                    .len()
            }),
        ),
        (
            "parse only: saphyr-parser",
            Box::new(|| saphyr_parser_events(&text)),
        ),
        (
            "parse only: granit-parser",
            Box::new(|| granit_parser_events(&text)),
        ),
        (
            "parse only: yaml-rust2",
            Box::new(|| yaml_rust2_events(&text)),
        ),
        (
            "parse only: libyaml-safer",
            Box::new(|| libyaml_safer_events(&text)),
        ),
        (
            "parse only: unsafe-libyaml",
            Box::new(|| unsafe_libyaml_events(&text)),
        ),
        (&cut_row, Box::new(|| saphyr_parser_events(&cut))),
    ];
    for (name, work) in rows {
        let (ms, count) = best_ms(runs, work);
        println!("{name:<50} {ms:>7.3} ms   ({count})");
    }
}

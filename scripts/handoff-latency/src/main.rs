//! Times, on this machine, how long work handed to another thread waits before it starts:
//! a new thread's first instruction after `spawn`, a thread blocked on a channel after the
//! send, and a thread spinning on a flag after the store. Before each hand-over the calling
//! thread computes for a few milliseconds, as `build` does before it hands a template over.
//!
//! Each way is timed twice: in one process that hands over again and again, and as the first
//! hand-over of a new process, which is what every run of `mlopsc` meets. Each of the latter
//! runs this program again, as a child that times one hand-over and prints it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Hand-overs timed for each way, unless the first argument says otherwise.
const DEFAULT_TRIALS: usize = 200;
/// How long the calling thread computes before each hand-over.
const BUSY: Duration = Duration::from_millis(3);

/// The ways a thread can take work over, by the name a child process is given.
const WAYS: [(&str, &str, fn() -> Duration); 4] = [
    ("clock", "baseline: reading the clock twice", clock),
    ("spawn", "a new thread runs its first instruction", spawn),
    ("wake", "a thread blocked on a channel wakes", wake),
    ("spin", "a thread spinning on a flag sees it", spin),
];

fn main() {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if first.as_deref() == Some("--child") {
        // One hand-over, the first of this process, in nanoseconds.
        let way = args.next().unwrap_or_default();
        let Some((_, _, once)) = WAYS.iter().find(|(name, _, _)| *name == way) else {
            eprintln!("handoff-latency: no way named `{way}`");
            std::process::exit(2);
        };
        println!("{}", once().as_nanos());
        return;
    }
    let trials = match first.map(|arg| arg.parse::<usize>()) {
        None => DEFAULT_TRIALS,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!(
                "usage: handoff-latency [TRIALS]   (a positive number; {DEFAULT_TRIALS} by default)"
            );
            std::process::exit(2);
        }
    };
    println!(
        "{trials} hand-overs each, after {} ms of work on the calling thread; {} cores",
        BUSY.as_millis(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:<44} {:>9} {:>9} {:>9} {:>11}",
        "", "median", "p90", "max", "over 0.5 ms"
    );
    println!("in one process, again and again:");
    for (_, what, once) in WAYS {
        report(what, sorted((0..trials).map(|_| once()).collect()));
    }
    println!("the first in a new process:");
    for (name, what, _) in WAYS {
        report(
            what,
            sorted((0..trials).map(|_| in_new_process(name)).collect()),
        );
    }
}

fn sorted(mut taken: Vec<Duration>) -> Vec<Duration> {
    taken.sort();
    taken
}

/// One hand-over of `way`, timed by a new process of this program.
fn in_new_process(way: &str) -> Duration {
    let fail = |why: String| -> ! {
        eprintln!("handoff-latency: the child process for `{way}` failed: {why}");
        std::process::exit(1);
    };
    let program = std::env::current_exe().unwrap_or_else(|e| fail(e.to_string()));
    let output = std::process::Command::new(program)
        .args(["--child", way])
        .output()
        .unwrap_or_else(|e| fail(e.to_string()));
    let printed = String::from_utf8_lossy(&output.stdout);
    match printed.trim().parse::<u64>() {
        Ok(nanos) if output.status.success() => Duration::from_nanos(nanos),
        _ => fail(format!("{}: {printed}", output.status)),
    }
}

fn report(what: &str, sorted: Vec<Duration>) {
    let ms = |d: Duration| format!("{:.3} ms", d.as_secs_f64() * 1000.0);
    let over = sorted
        .iter()
        .filter(|d| **d > Duration::from_micros(500))
        .count();
    println!(
        "{what:<44} {:>9} {:>9} {:>9} {:>10.0}%",
        ms(sorted[sorted.len() / 2]),
        ms(sorted[sorted.len() * 9 / 10]),
        ms(sorted[sorted.len() - 1]),
        100.0 * over as f64 / sorted.len() as f64
    );
}

/// Keeps this thread's core busy for [`BUSY`].
fn compute() {
    let start = Instant::now();
    let mut spins = 0u64;
    while start.elapsed() < BUSY {
        spins = std::hint::black_box(spins.wrapping_add(1));
    }
}

fn clock() -> Duration {
    compute();
    let first = Instant::now();
    Instant::now() - first
}

fn spawn() -> Duration {
    compute();
    let handed = Instant::now();
    let started = std::thread::spawn(Instant::now)
        .join()
        .expect("the thread returns");
    started - handed
}

fn wake() -> Duration {
    let (send, receive) = mpsc::channel::<Instant>();
    let thread = std::thread::spawn(move || {
        let handed = receive.recv().expect("the caller sends");
        Instant::now() - handed
    });
    compute();
    send.send(Instant::now()).expect("the thread waits");
    thread.join().expect("the thread returns")
}

fn spin() -> Duration {
    let flag = Arc::new(AtomicBool::new(false));
    let seen = Arc::clone(&flag);
    let thread = std::thread::spawn(move || {
        while !seen.load(Ordering::Acquire) {
            std::hint::spin_loop();
        }
        Instant::now()
    });
    compute();
    let handed = Instant::now();
    flag.store(true, Ordering::Release);
    thread.join().expect("the thread returns") - handed
}

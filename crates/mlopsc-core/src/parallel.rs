//! Independent work on threads of their own: `build` compiles each of a spec's environments,
//! about as costly as the base, beside it ([`alongside`]), and each compile writes and reads
//! back its template on a thread started with the compile ([`ahead`]). Tried and measured
//! slower or no faster: validating the environments on threads (`validate` of the flagship
//! went from 3.2 to 3.6 ms), and a pool of one thread per core sharing all of this by work
//! stealing (rayon-core: the flagship's `build` in 15.8 against 15.6 ms).

use std::sync::Mutex;

/// Runs `main` on the calling thread while each of `items` goes through `work` on a thread
/// of its own; returns `main`'s result and `work`'s, in the order of `items`.
///
/// An item that gets no thread (a process limit) goes through `work` on the calling thread
/// once `main` is done. A panic on a thread is mlopsc's bug: it goes on, on the calling
/// thread, as it would have in sequence.
pub fn alongside<T, R, M>(
    items: Vec<T>,
    work: impl Fn(T) -> R + Sync,
    main: impl FnOnce() -> M,
) -> (M, Vec<R>)
where
    T: Send,
    R: Send,
{
    // Each item waits in a slot that its thread empties: when a thread cannot be started,
    // its item is still there for the calling thread to take.
    let slots: Vec<Mutex<Option<T>>> = items.into_iter().map(|i| Mutex::new(Some(i))).collect();
    let take = |slot: &Mutex<Option<T>>| {
        slot.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    };
    let work = &work;
    std::thread::scope(|scope| {
        let threads: Vec<_> = slots
            .iter()
            .map(|slot| {
                std::thread::Builder::new()
                    .spawn_scoped(scope, move || take(slot).map(work))
                    .ok()
            })
            .collect();
        let main = main();
        let results = threads
            .into_iter()
            .zip(&slots)
            .map(|(thread, slot)| {
                let done = thread.and_then(|thread| {
                    thread
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                });
                match done {
                    Some(result) => result,
                    // No thread took the item: its slot still holds it.
                    None => work(take(slot).expect("an item no thread took is in its slot")),
                }
            })
            .collect();
        (main, results)
    })
}

/// Runs `main` on the calling thread while a thread started now waits for the input `main`
/// hands over ([`Handover::give`]) and runs `side` on it; returns `main`'s result and
/// `side`'s, or `None` if `main` handed nothing over. The thread starts before its input is
/// ready because a new thread can take a while to begin: 0.1 ms typically on the development
/// VM, 2 ms and more at times (`scripts/handoff-latency`), time the side's work would wait.
///
/// Without a thread (a process limit), `side` runs on the calling thread when it is handed
/// its input. A panic on the thread is mlopsc's bug: it goes on, on the calling thread.
pub fn ahead<'a, I, S, M>(
    side: impl FnOnce(I) -> S + Send + 'a,
    main: impl FnOnce(&mut Handover<'a, I, S>) -> M,
) -> (M, Option<S>)
where
    I: Send + 'a,
    S: Send + 'a,
{
    // The side waits in a slot that its thread empties: when no thread can be started, it is
    // still there for the calling thread to take.
    let slot: Mutex<Option<SideWork<'a, I, S>>> = Mutex::new(Some(Box::new(side)));
    let take = |slot: &Mutex<Option<SideWork<'a, I, S>>>| {
        slot.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    };
    std::thread::scope(|scope| {
        let (send, receive) = std::sync::mpsc::sync_channel::<I>(1);
        let slot = &slot;
        let thread = std::thread::Builder::new()
            .spawn_scoped(scope, move || {
                let side = take(slot)?;
                let input = receive.recv().ok()?;
                Some(side(input))
            })
            .ok();
        let route = match thread {
            Some(_) => Route::Thread(send),
            None => Route::Here(take(slot)),
        };
        let mut handover = Handover {
            route: Some(route),
            done_here: None,
        };
        let main = main(&mut handover);
        // A sender never used is dropped before the join: a thread never handed its input
        // stops waiting.
        let Handover { route, done_here } = handover;
        drop(route);
        let side = match thread {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            None => done_here,
        };
        (main, side)
    })
}

/// The side's work, waiting for its input.
type SideWork<'a, I, S> = Box<dyn FnOnce(I) -> S + Send + 'a>;

/// Where [`ahead`]'s `main` hands the side its input.
pub struct Handover<'a, I, S> {
    /// `None` once the input is handed over.
    route: Option<Route<'a, I, S>>,
    /// The side's result, when it ran on the calling thread.
    done_here: Option<S>,
}

enum Route<'a, I, S> {
    /// The side's thread, waiting for its input.
    Thread(std::sync::mpsc::SyncSender<I>),
    /// No thread could be started: the side runs when handed its input.
    Here(Option<SideWork<'a, I, S>>),
}

impl<I, S> Handover<'_, I, S> {
    /// Hands `input` to the side, which starts on it. Only the first hand-over counts.
    pub fn give(&mut self, input: I) {
        match self.route.take() {
            // A thread that is gone panicked: joining it reports that.
            Some(Route::Thread(send)) => drop(send.send(input)),
            Some(Route::Here(Some(side))) => self.done_here = Some(side(input)),
            Some(Route::Here(None)) | None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_runs_once_and_results_keep_the_items_order() {
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let (main, results) = alongside(
            (0..8).collect(),
            |i: u32| {
                calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                i * 10
            },
            || "main",
        );
        assert_eq!(main, "main");
        assert_eq!(results, (0..8).map(|i| i * 10).collect::<Vec<_>>());
        assert_eq!(calls.into_inner(), 8);
    }

    #[test]
    fn items_run_on_threads_other_than_the_callers() {
        let caller = std::thread::current().id();
        let (main_thread, threads) = alongside(
            vec![(), ()],
            |()| std::thread::current().id(),
            || std::thread::current().id(),
        );
        assert_eq!(main_thread, caller);
        assert!(threads.iter().all(|id| *id != caller), "{threads:?}");
    }

    #[test]
    fn ahead_runs_the_side_on_another_thread_on_what_main_hands_over() {
        let caller = std::thread::current().id();
        let (main, side) = ahead(
            |input: u32| (std::thread::current().id(), input * 2),
            |handover| {
                handover.give(21);
                // A second hand-over is ignored: the side has its input.
                handover.give(1000);
                (std::thread::current().id(), "main")
            },
        );
        let (side_thread, doubled) = side.expect("the side ran");
        assert_eq!(main, (caller, "main"));
        assert_eq!(doubled, 42);
        assert_ne!(side_thread, caller);
    }

    #[test]
    fn ahead_without_a_hand_over_runs_no_side_and_returns() {
        let ran = std::sync::atomic::AtomicBool::new(false);
        let (main, side) = ahead(
            |()| ran.store(true, std::sync::atomic::Ordering::Relaxed),
            |_handover| "main failed before its input was ready",
        );
        assert_eq!(main, "main failed before its input was ready");
        assert_eq!(side, None);
        assert!(!ran.into_inner());
    }

    #[test]
    fn ahead_passes_a_panic_of_the_side_to_the_caller() {
        let outcome = std::panic::catch_unwind(|| {
            ahead(
                |input: u32| assert_ne!(input, 2, "the side fails"),
                |handover| handover.give(2),
            )
        });
        let message = panic_message(outcome.expect_err("the side's panic goes on"));
        assert!(message.contains("the side fails"), "{message}");
    }

    #[test]
    fn a_panic_on_a_thread_reaches_the_caller() {
        let outcome = std::panic::catch_unwind(|| {
            alongside(
                vec![1, 2],
                |i: i32| assert_ne!(i, 2, "item two fails"),
                || (),
            )
        });
        let message = panic_message(outcome.expect_err("the panic of item two goes on"));
        assert!(message.contains("item two fails"), "{message}");
    }

    /// What a caught panic says.
    fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
        panic.downcast_ref::<String>().cloned().unwrap_or_default()
    }
}

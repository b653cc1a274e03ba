//! Independent work on threads of their own: `build` compiles each of a spec's environments,
//! about as costly as the base, beside it, and each compile writes and reads back its template
//! beside its access check and diagrams. (Validating the environments on threads was tried and
//! measured slower: `validate` of the flagship went from 3.2 to 3.6 ms.)

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

/// Runs `side` on a thread of its own while `main` runs on the calling thread; returns
/// `main`'s result and `side`'s. Without a thread, `side` runs after `main`, as [`alongside`]
/// runs an item.
pub fn beside<S, M>(side: impl FnOnce() -> S + Send, main: impl FnOnce() -> M) -> (M, S)
where
    S: Send,
{
    let (main, mut sides) = alongside(vec![side], |side| side(), main);
    let side = sides.pop().expect("one result for the one item");
    (main, side)
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
    fn beside_runs_the_side_on_another_thread_and_returns_both() {
        let caller = std::thread::current().id();
        let ((main_thread, main), (side_thread, side)) = beside(
            || (std::thread::current().id(), "side"),
            || (std::thread::current().id(), "main"),
        );
        assert_eq!((main_thread, main, side), (caller, "main", "side"));
        assert_ne!(side_thread, caller);
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
        let panic = outcome.expect_err("the panic of item two goes on");
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or_default();
        assert!(message.contains("item two fails"), "{message}");
    }
}

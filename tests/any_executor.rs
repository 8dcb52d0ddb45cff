//! Propagated futures on an executor ctx does not know: a small thread
//! pool written here with the standard library only (no tokio). Spawns on
//! it carry a snapshot of the context whose changes come back when the
//! child finishes normally; futures bound with `ctx::bind!` run in the
//! caller's context wherever they are polled. Also built and run with
//! `--no-default-features`.

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::JoinHandle;

/// A future's slot in the pool: woken by re-queueing it.
struct Task {
    fut: Mutex<Option<Pin<Box<dyn Future<Output = ()> + Send>>>>,
    queue: Sender<Arc<Task>>,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        let queue = self.queue.clone();
        let _ = queue.send(self);
    }
}

/// A fixed pool of threads polling spawned futures.
struct Pool {
    queue: Option<Sender<Arc<Task>>>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    fn new(threads: usize) -> Pool {
        let (queue, tasks) = channel::<Arc<Task>>();
        let tasks = Arc::new(Mutex::new(tasks));
        let workers = (0..threads)
            .map(|_| {
                let tasks = Arc::clone(&tasks);
                std::thread::spawn(move || {
                    loop {
                        let next = tasks.lock().unwrap().recv();
                        let Ok(task) = next else { return };
                        let waker = Waker::from(Arc::clone(&task));
                        let mut slot = task.fut.lock().unwrap();
                        if let Some(fut) = slot.as_mut()
                            && fut
                                .as_mut()
                                .poll(&mut Context::from_waker(&waker))
                                .is_ready()
                        {
                            *slot = None;
                        }
                    }
                })
            })
            .collect();
        Pool {
            queue: Some(queue),
            workers,
        }
    }

    /// Runs `fut` on the pool; the returned receiver gets its output.
    fn spawn<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Receiver<T> {
        let (tx, rx) = channel();
        let queue = self.queue.clone().unwrap();
        let task = Arc::new(Task {
            fut: Mutex::new(Some(Box::pin(async move {
                let _ = tx.send(fut.await);
            }))),
            queue: queue.clone(),
        });
        queue.send(task).unwrap();
        rx
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.queue = None;
        for w in self.workers.drain(..) {
            w.join().unwrap();
        }
    }
}

/// Polls `fut` on this thread until it is ready.
fn block_on<F: Future>(fut: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut Context::from_waker(&waker)) {
            return v;
        }
        std::thread::park();
    }
}

/// A future that is pending once (so it is polled again after a wake).
fn yield_once() -> impl Future<Output = ()> {
    let mut yielded = false;
    std::future::poll_fn(move |cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
}

ctx::keys! {
    pub user: String;
    #[merge(append)] pub audit: Vec<String>;
}

#[derive(ctx::ContextFields)]
struct Req {
    user: String,
    audit: Vec<String>,
}

#[ctx::propagate(user, mut audit)]
async fn note(what: &str) -> String {
    yield_once().await;
    let line = format!("{what} for {}", *user);
    let mut lines = audit.clone();
    lines.push(line.clone());
    ctx::set!(audit, lines);
    line
}

#[ctx::propagate(user, mut audit)]
async fn handler(pool: &Pool) -> (String, String, Vec<String>) {
    // A spawn on the pool: a snapshot whose change comes back when the
    // child finishes.
    let child = pool.spawn(note("child"));
    let from_child = child.recv().unwrap();
    // A bound future handed to the pool runs in this context.
    let (tx, rx) = channel();
    let bound = ctx::bind!(note("bound"));
    let _ = pool.spawn(async move { tx.send(bound.await).unwrap() });
    let from_bound = rx.recv().unwrap();
    (from_child, from_bound, audit.clone())
}

#[test]
fn propagated_futures_run_on_an_executor_ctx_does_not_know() {
    let pool = Pool::new(2);
    for (u, n) in [("ann", 1), ("bob", 2)] {
        let req = Req {
            user: u.into(),
            audit: vec![format!("start {n}")],
        };
        let (child, bound, audit) = block_on(req.scope(handler(&pool)));
        assert_eq!(child, format!("child for {u}"));
        assert_eq!(bound, format!("bound for {u}"));
        assert_eq!(
            audit,
            [
                format!("start {n}"),
                format!("child for {u}"),
                format!("bound for {u}")
            ]
        );
    }
}

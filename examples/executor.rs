//! Fan-out: a request hands work to tokio's blocking pool, to `std::thread`
//! (plain and scoped) and to rayon (`scope`, `join`, `par_iter`). Every job
//! sees the request's user and id — through its own parameters and through
//! the ambient mirror read by a plain logging function — and the jobs that
//! record what they did bring it back to the request at join.
//!
//! First one request runs with every job logged; then many requests run
//! eight at a time on a multi-thread runtime, sharing the same worker
//! threads, and every read is checked against its own request. Exits
//! non-zero if any job saw a wrong value.
//!
//! Run with `cargo run --example executor`.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;

ctx::keys! {
    /// The user the request is served for.
    pub user: String;
    /// The id of the request.
    pub request_id: u64;
    /// The jobs that ran for the request: each job appends its name, and
    /// the names come back to the request when the job is joined.
    #[merge(append)]
    pub done: Vec<&'static str>;
}

#[derive(ctx::ContextFields)]
struct Request {
    user: String,
    request_id: u64,
    done: Vec<&'static str>,
}

const USERS: [&str; 8] = ["ann", "bo", "cy", "di", "ed", "fay", "gus", "hal"];

/// Request `id` is served for this user.
fn user_of(id: u64) -> &'static str {
    USERS[usize::try_from(id - 1).unwrap() % USERS.len()]
}

impl Request {
    fn new(id: u64) -> Self {
        Request {
            user: user_of(id).to_string(),
            request_id: id,
            done: Vec::new(),
        }
    }
}

/// The jobs that write `done`, in the order they are joined.
const EXPECTED_DONE: [&str; 4] = [
    "spawn_blocking",
    "thread::spawn",
    "thread::scope",
    "rayon::scope",
];

static VERBOSE: AtomicBool = AtomicBool::new(false);
static READS: AtomicUsize = AtomicUsize::new(0);
static WRONG: AtomicUsize = AtomicUsize::new(0);

/// A plain function, as a logging library would have: it takes no context
/// and reads the ambient mirror.
fn log(job: &str) -> (Option<String>, Option<u64>) {
    let user = ctx::current::<user>().map(|u| u.clone());
    let id = ctx::current::<request_id>().map(|id| *id);
    if VERBOSE.load(Ordering::Relaxed) {
        let thread = std::thread::current();
        println!(
            "  [request {} user {}] {job:<14} on {} ({:?})",
            id.map_or("-".into(), |id| id.to_string()),
            user.as_deref().unwrap_or("-"),
            thread.name().unwrap_or("a plain thread"),
            thread.id(),
        );
    }
    (user, id)
}

/// What a job sees, checked against the request it was started for.
#[ctx::propagate(user, request_id)]
fn check(job: &str, id: u64) -> bool {
    let expected = (Some(user_of(id).to_string()), Some(id));
    let ok = *user == user_of(id) && *request_id == id && log(job) == expected;
    READS.fetch_add(1, Ordering::Relaxed);
    if !ok {
        WRONG.fetch_add(1, Ordering::Relaxed);
        eprintln!(
            "{job}: request {id} saw user {:?}, request {}",
            *user, *request_id
        );
    }
    ok
}

/// A job that records that it ran.
#[ctx::propagate(user, request_id, mut done)]
fn job(name: &'static str, id: u64) {
    check(name, id);
    let mut names = done.clone();
    names.push(name);
    ctx::set!(done, names);
}

/// Read-only parallel work: rayon closures share the caller's context.
/// (A function with `mut` keys could not run two of them that both use the
/// context: each would borrow it mutably.)
#[ctx::propagate(user, request_id)]
fn parallel_reads(id: u64) -> usize {
    let (a, b) = rayon::join(|| check("rayon::join", id), || check("rayon::join", id));
    let items: Vec<u64> = (0..8).collect();
    let good = items.par_iter().filter(|_| check("par_iter", id)).count();
    good + usize::from(a) + usize::from(b)
}

/// Blocking work: scoped threads and rayon run while this closure waits.
#[ctx::propagate(user, request_id, mut done)]
fn blocking_fan_out(id: u64) -> usize {
    std::thread::scope(|s| {
        s.spawn(|| job("thread::scope", id));
    });
    rayon::scope(|s| s.spawn(|_| job("rayon::scope", id)));
    parallel_reads(id)
}

/// The request: fans out, joins everything, returns the jobs that ran.
#[ctx::propagate(user, request_id, mut done)]
async fn handle(id: u64) -> Vec<&'static str> {
    check("handler", id);
    // tokio's blocking pool: the closure gets a snapshot of the context;
    // what it appends to `done` comes back when the handle is awaited.
    tokio::task::spawn_blocking(move || job("spawn_blocking", id))
        .await
        .expect("blocking job panicked");
    // A plain thread: its change comes back at `join()`.
    std::thread::spawn(move || job("thread::spawn", id))
        .join()
        .expect("thread panicked");
    // Scoped threads and rayon block their caller, so they run on the
    // blocking pool too; their changes travel back through both joins.
    let parallel = tokio::task::spawn_blocking(move || blocking_fan_out(id))
        .await
        .expect("fan-out panicked");
    if parallel != 10 {
        eprintln!("request {id}: {parallel} of 10 parallel reads were right");
    }
    check("handler", id);
    done.clone()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() -> ExitCode {
    rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("rayon-{i}"))
        .build_global()
        .expect("the rayon pool is built once");
    let mut failures = 0;

    println!("one request, every job logged by a plain function:");
    VERBOSE.store(true, Ordering::Relaxed);
    #[allow(
        clippy::disallowed_methods,
        reason = "a root: it brings its own context"
    )]
    let (done, root) = tokio::spawn(Request::new(1).scope_returning(handle(1)))
        .await
        .expect("request panicked");
    VERBOSE.store(false, Ordering::Relaxed);
    println!("  jobs recorded, back at the handler: {done:?}");
    println!("  jobs recorded, back at the root:    {:?}", root.done);
    failures += usize::from(done != EXPECTED_DONE) + usize::from(root.done != EXPECTED_DONE);

    const ROUNDS: u64 = 25;
    const AT_ONCE: u64 = 8;
    let reads_before = READS.load(Ordering::Relaxed);
    for round in 0..ROUNDS {
        #[allow(
            clippy::disallowed_methods,
            reason = "roots: each brings its own context"
        )]
        let requests: Vec<_> = (0..AT_ONCE)
            .map(|i| {
                let id = 100 + round * AT_ONCE + i;
                (id, tokio::spawn(Request::new(id).scope(handle(id))))
            })
            .collect();
        for (id, request) in requests {
            let done = request.await.expect("request panicked");
            if done != EXPECTED_DONE {
                eprintln!("request {id}: jobs recorded {done:?}");
                failures += 1;
            }
        }
    }
    println!(
        "{} requests, {AT_ONCE} at a time: {} reads in jobs, {} saw another request's values",
        ROUNDS * AT_ONCE,
        READS.load(Ordering::Relaxed) - reads_before,
        WRONG.load(Ordering::Relaxed),
    );

    // The pools' threads ran jobs of many requests; a plain job on them now
    // sees no context at all.
    let mut leftovers = rayon::broadcast(|_| log("plain rayon job").0.is_some());
    for _ in 0..8 {
        #[allow(clippy::disallowed_methods, reason = "a job that must see no context")]
        let plain = tokio::task::spawn_blocking(|| log("plain blocking job").0.is_some());
        leftovers.push(plain.await.expect("plain job panicked"));
    }
    let polluted = leftovers.iter().filter(|p| **p).count();
    println!(
        "plain jobs on the same pools afterwards: {} of {} saw a leftover context",
        polluted,
        leftovers.len()
    );
    failures += polluted;

    failures += WRONG.load(Ordering::Relaxed);
    if failures == 0 {
        println!("every job saw its own request's values, and its records came back at join");
        ExitCode::SUCCESS
    } else {
        eprintln!("{failures} wrong observation(s)");
        ExitCode::FAILURE
    }
}

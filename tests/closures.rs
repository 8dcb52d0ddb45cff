//! Ordinary closures in a function with `mut` keys: several may call
//! propagated functions (and write) at once, as long as they run one after
//! another, like any closures sharing a `&RefCell`.

mod common;
use common::*;

#[ctx::propagate(user)]
fn tag(n: u32) -> String {
    format!("{}{n}", *user)
}

#[ctx::propagate(mut total)]
fn add(n: u32) -> bool {
    ctx::set!(total, *total + u64::from(n));
    n.is_multiple_of(2)
}

fn twice(f: impl Fn() -> String) -> String {
    f() + &f()
}

#[ctx::propagate(user, mut total)]
fn adapters() -> (Vec<String>, String, String, u64) {
    let tags: Vec<String> = (1..=4).filter(|n| add(*n)).map(|n| tag(n)).collect();
    let either = Some(5).map_or_else(|| tag(0), |n| tag(n));
    let kept = |n| tag(n);
    let both = format!("{}{}", kept(1), twice(|| tag(2)));
    ctx::set!(total, *total * 10);
    (tags, either, both, *total)
}

#[test]
fn closures_that_call_propagated_functions_coexist() {
    let out = ctx::with!(req("u", 1), { adapters() });
    assert_eq!(
        out,
        (
            vec!["u2".to_string(), "u4".to_string()],
            "u5".to_string(),
            "u1u2u2".to_string(),
            100
        )
    );
}

// A closure holds a value it read while another closure, alive at the same
// time, overwrites it: the value stays valid (checked under valgrind).
#[ctx::propagate(mut user)]
fn read_in_one_closure_write_in_another() -> (String, String) {
    ctx::set!(user, "first".to_string());
    let overwrite = |i: u32| ctx::set!(user, format!("w{i}"));
    let hold_and_overwrite = || {
        let held = user.as_str();
        for i in 0..50 {
            overwrite(i);
        }
        format!("{held}/{}", *user)
    };
    let out = hold_and_overwrite();
    ctx::set!(user, "last".to_string());
    (out, user.clone())
}

#[test]
fn a_value_read_in_a_closure_outlives_writes_by_another() {
    let (inside, after) = ctx::with!(req("u", 1), { read_in_one_closure_write_in_another() });
    assert_eq!(inside, "first/w49");
    assert_eq!(after, "last");
}

// `'static` closures that use no key stay plain closures; a closure kept
// in a local is spawned as a closure, not as a future.
#[ctx::propagate(user)]
fn static_closures(s: String) -> (usize, i32, usize, usize) {
    let h = std::thread::Builder::new().spawn(move || s.len()).unwrap();
    let caught = std::panic::catch_unwind(|| 2 + 2).unwrap();
    let f: Box<dyn Fn(&str) -> usize + 'static> = Box::new(|s| s.len());
    (h.join().unwrap(), caught, f("abcd"), user.len())
}

#[ctx::propagate(user)]
fn spawn_closure_locals() -> (usize, String) {
    let word = String::from("abcde");
    let work = move || word.len();
    let h = std::thread::Builder::new().spawn(work).unwrap();
    let w = || format!("{}!", *user);
    let scoped = std::thread::scope(|s| s.spawn(w).join().unwrap());
    (h.join().unwrap(), scoped)
}

#[test]
fn static_closures_and_closure_locals_spawn_as_in_plain_rust() {
    let out = ctx::with!(req("ann", 1), { static_closures("xy".into()) });
    assert_eq!(out, (2, 4, 4, 3));
    let out = ctx::with!(req("bob", 1), { spawn_closure_locals() });
    assert_eq!(out, (5, "bob!".to_string()));
}

// An executor ctx does not know takes `'static` closures: `ctx::bind!`
// gives one its own child context, like a spawned thread's. Its changes
// stay in that context: nothing joins it.
struct Pool {
    jobs: std::sync::mpsc::Sender<Box<dyn FnOnce() + Send + 'static>>,
}

impl Pool {
    fn execute(&self, job: impl FnOnce() + Send + 'static) {
        self.jobs.send(Box::new(job)).unwrap();
    }
}

#[ctx::propagate(mut user)]
fn hand_to_pool(pool: &Pool, seen: std::sync::mpsc::Sender<String>) -> (String, String) {
    pool.execute(ctx::bind!(move || {
        let before = user.clone();
        ctx::set!(user, format!("{before}+job"));
        seen.send(format!("{before}/{}", *user)).unwrap();
    }));
    // A bound closure kept in a local is spawned as a closure.
    let job = ctx::bind!(move || format!("{}!", *user));
    let on_thread = std::thread::Builder::new().spawn(job).unwrap();
    ctx::set!(user, "caller".to_string());
    (user.clone(), on_thread.join().unwrap())
}

#[test]
fn bound_closures_run_on_unknown_executors_with_their_own_context() {
    let (jobs, queue) = std::sync::mpsc::channel::<Box<dyn FnOnce() + Send>>();
    let pool = Pool { jobs };
    let (seen, results) = std::sync::mpsc::channel();
    let caller = ctx::with!(req("ann", 1), { hand_to_pool(&pool, seen) });
    assert_eq!(caller, ("caller".to_string(), "ann!".to_string()));
    // The job runs later, on another thread, after its request ended.
    let worker = std::thread::spawn(move || {
        for job in queue.try_iter() {
            job();
        }
    });
    worker.join().unwrap();
    assert_eq!(results.recv().unwrap(), "ann/ann+job");
}

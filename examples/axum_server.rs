//! An axum server on ctx's layer: `ctx::http::ContextLayer` builds each
//! request's context (a request id from a counter, no user yet) and runs
//! the stack in it; handlers are `#[ctx::propagate]` async fns behind one
//! line each. `/whoami` authenticates the bearer token in `spawn_blocking`
//! (a sync dependency setting the `mut` key `user`), then reports what a
//! spawned task and a blocking closure see. The layer's response hook runs
//! after the handler, sees the user it set, logs it and returns the request
//! id and the user as headers. Logging is a plain `tracing` fmt subscriber.
//!
//! By default the example starts the server on a free port, sends it
//! requests (one at a time and several at once, with and without a token)
//! with hyper-util's client, checks every response and every log line
//! against the request it belongs to, and exits non-zero if anything was
//! wrong.
//!
//! Run with `cargo run --example axum_server --features axum`, or keep it
//! running with `-- --serve [PORT]` (default 3000) and try
//! `curl -i -H 'authorization: Bearer token-alice' http://127.0.0.1:3000/whoami`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, Request, response};
use axum::routing::get;
use ctx::http::{ContextLayer, RequestContext, RequestRoot};
use http_body_util::BodyExt as _;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;
use tracing::info;

ctx::keys! {
    /// The authenticated user, set by the handler.
    pub user: Option<String>;
    /// A number given to each request as it arrives.
    pub request_id: u64;
}

/// The values a request starts with.
#[derive(ctx::ContextFields)]
struct RequestCtx {
    user: Option<String>,
    request_id: u64,
}

static NEXT_REQUEST_ID: AtomicU64 = AtomicU64::new(1);

impl RequestRoot for RequestCtx {
    fn from_request(_: &axum::http::request::Parts) -> Self {
        RequestCtx {
            user: None,
            request_id: NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed),
        }
    }
}

// ---------------------------------------------------------------- the server

fn app() -> Router {
    Router::new()
        .route(
            "/whoami",
            get(|cx: RequestContext<RequestCtx>, headers: HeaderMap| cx.run(whoami(headers))),
        )
        .route("/health", get(health))
        .layer(ContextLayer::<RequestCtx>::new().on_response(log_response))
}

/// The layer's hook, after the handler returned: logs the request with the
/// user the handler authenticated, and returns both values as headers.
fn log_response(cx: &RequestContext<RequestCtx>, res: &mut response::Parts) {
    let id = *cx.get::<request_id>();
    let user = cx.get::<user>().clone().unwrap_or_else(|| "-".into());
    info!(request_id = id, user = %user, status = res.status.as_u16(), "response");
    res.headers.insert("x-request-id", HeaderValue::from(id));
    if let Ok(v) = HeaderValue::from_str(&user) {
        res.headers.insert("x-user", v);
    }
}

/// A sync dependency: checks the token and records who the user is.
#[ctx::propagate(mut user, request_id)]
fn authenticate(token: &str) {
    // Slow enough for concurrent requests to interleave.
    std::thread::sleep(Duration::from_millis(5));
    ctx::set!(user, token.strip_prefix("token-").map(String::from));
}

/// `GET /whoami`: authenticates in `spawn_blocking`, then reports what the
/// handler, a spawned task and a blocking closure see.
#[ctx::propagate(mut user, request_id)]
async fn whoami(headers: HeaderMap) -> String {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    tokio::task::spawn_blocking(move || authenticate(&token))
        .await
        .expect("authentication panicked");
    let in_task = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(10)).await;
        seen("in tokio::spawn")
    });
    let in_blocking = tokio::task::spawn_blocking(|| seen("in spawn_blocking"));
    let in_task = in_task.await.expect("task panicked");
    let in_blocking = in_blocking.await.expect("blocking work panicked");
    format!("task={in_task} blocking={in_blocking}\n")
}

/// Logs `what` with the values as this code sees them; returns them as
/// `user#id`.
#[ctx::propagate(user, request_id)]
fn seen(what: &str) -> String {
    let u = user.as_deref().unwrap_or("-");
    info!(request_id = *request_id, user = %u, "{what}");
    format!("{u}#{}", *request_id)
}

/// `GET /health`: a plain handler; it runs inside the layer, so
/// `ctx::current` sees the request.
async fn health() -> String {
    let id = ctx::current::<request_id>().map_or(0, |id| *id);
    info!(request_id = id, "health check");
    "ok\n".into()
}

// ------------------------------------------------------------------- logging

/// Everything logged while the example checks itself.
static LOG: Mutex<String> = Mutex::new(String::new());
static KEEP_LOG: AtomicBool = AtomicBool::new(false);

/// Writes log lines to stdout, and to [`LOG`] when they are to be checked.
struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if KEEP_LOG.load(Ordering::Relaxed) {
            LOG.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push_str(&String::from_utf8_lossy(buf));
        }
        std::io::stdout().write_all(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stdout().flush()
    }
}

// -------------------------------------------------------------------- client

type HttpClient = Client<HttpConnector, String>;

/// Sends `GET path`, with a bearer token for `user` if any, and checks the
/// response and the log lines of its request id. Returns the number of
/// problems.
async fn check(
    client: HttpClient,
    addr: SocketAddr,
    path: &'static str,
    user: Option<&'static str>,
) -> usize {
    let mut req = Request::get(format!("http://{addr}{path}"));
    if let Some(user) = user {
        req = req.header("authorization", format!("Bearer token-{user}"));
    }
    let res = match client
        .request(req.body(String::new()).expect("a request"))
        .await
    {
        Ok(res) => res,
        Err(e) => {
            eprintln!("GET {path}: {e}");
            return 1;
        }
    };
    let header = |name| {
        res.headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(String::from)
    };
    let (status, id, seen_user) = (res.status(), header("x-request-id"), header("x-user"));
    let body = match res.into_body().collect().await {
        Ok(b) => String::from_utf8_lossy(&b.to_bytes()).into_owned(),
        Err(e) => {
            eprintln!("GET {path}: {e}");
            return 1;
        }
    };
    let Some(id) = id else {
        eprintln!("GET {path}: no x-request-id in the response");
        return 1;
    };
    let u = if path == "/whoami" {
        user.unwrap_or("-")
    } else {
        "-"
    };
    let expected_body = match path {
        "/whoami" => format!("task={u}#{id} blocking={u}#{id}\n"),
        _ => "ok\n".to_string(),
    };
    println!(
        "client: GET {path:<7} {:<20} -> {status}, x-request-id {id}, x-user {}, body: {}",
        user.map_or("without a token".into(), |u| format!("as {u}")),
        seen_user.as_deref().unwrap_or("?"),
        body.trim_end()
    );
    let mut problems =
        usize::from(status != 200 || body != expected_body || seen_user.as_deref() != Some(u));

    // The request's log lines, each naming its user; the response line is
    // the layer's, written after the handler returned.
    let log = LOG
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .any(|w| w == format!("request_id={id}"))
        })
        .collect();
    let messages: &[&str] = if path == "/whoami" {
        &["in tokio::spawn", "in spawn_blocking", "response"]
    } else {
        &["health check", "response"]
    };
    for m in messages {
        let found = lines.iter().any(|l| {
            l.contains(&format!(" {m}"))
                && (*m == "health check" || l.split_whitespace().any(|w| w == format!("user={u}")))
        });
        if !found {
            eprintln!("request {id}: no `{m}` line naming user {u}");
            problems += 1;
        }
    }
    let other_user = |l: &&&str| {
        l.split_whitespace()
            .any(|w| w.starts_with("user=") && w != format!("user={u}"))
    };
    if lines.iter().any(|l| other_user(&l)) {
        eprintln!("request {id}: a log line names another user");
        problems += 1;
    }
    problems
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(|| LogWriter)
        .with_ansi(false)
        .init();

    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("--serve") {
        let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(3000);
        let listener = match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("cannot listen on 127.0.0.1:{port}: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!("listening on http://127.0.0.1:{port} (Ctrl-C to stop); try");
        println!("  curl -i -H 'authorization: Bearer token-alice' http://127.0.0.1:{port}/whoami");
        println!("  curl -i http://127.0.0.1:{port}/health");
        return match axum::serve(listener, app()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("server error: {e}");
                ExitCode::FAILURE
            }
        };
    }

    KEEP_LOG.store(true, Ordering::Relaxed);
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free local port");
    let addr = listener.local_addr().expect("a bound address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    #[allow(clippy::disallowed_methods, reason = "the server, outside any request")]
    let server = tokio::spawn(async move {
        axum::serve(listener, app())
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    println!("server on http://{addr}");

    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let mut problems = 0;
    // One at a time.
    problems += check(client.clone(), addr, "/whoami", Some("alice")).await;
    problems += check(client.clone(), addr, "/whoami", None).await;
    problems += check(client.clone(), addr, "/health", Some("carol")).await;
    // Several at once: their log lines interleave, each keeps its values.
    #[allow(clippy::disallowed_methods, reason = "clients, outside any request")]
    let at_once: Vec<_> = [Some("bob"), Some("dave"), None, Some("erin"), Some("frank")]
        .into_iter()
        .map(|user| tokio::spawn(check(client.clone(), addr, "/whoami", user)))
        .collect();
    for request in at_once {
        problems += request.await.expect("client task panicked");
    }
    drop(client);

    let _ = stop.send(());
    match server.await {
        Ok(Ok(())) => println!("server shut down"),
        other => {
            eprintln!("server: {other:?}");
            problems += 1;
        }
    }
    if problems == 0 {
        println!("every response and every log line named its own request's user and id");
        ExitCode::SUCCESS
    } else {
        eprintln!("{problems} problem(s)");
        ExitCode::FAILURE
    }
}

//! An axum server whose middleware builds each request's context from the
//! request — the `x-user` header gives the user, a counter gives the
//! request id — and serves the rest of the stack inside it. Log lines carry
//! both values, including the ones emitted in `tokio::spawn` and
//! `spawn_blocking` work started by a handler: the log format reads them
//! with `ctx::current`, on whatever thread the line is written.
//!
//! By default the example starts the server on a free port, sends it a few
//! requests (with and without `x-user`, some at once) over a minimal
//! HTTP/1.1 client, checks every response and every log line against the
//! request it belongs to, shuts the server down and exits non-zero if
//! anything was wrong.
//!
//! Run with `cargo run --example axum_server`, or keep it running with
//! `cargo run --example axum_server -- --serve [PORT]` (default 3000) and
//! try `curl -H 'x-user: alice' http://127.0.0.1:3000/whoami`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Extension, Request};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tracing::{Event, Subscriber, info};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

ctx::keys! {
    /// The user named by the request's `x-user` header, if any.
    pub user: Option<String>;
    /// A number given to each request as it arrives.
    pub request_id: u64;
}

/// The values a request starts with.
#[derive(ctx::ContextFields, Clone)]
struct RequestCtx {
    user: Option<String>,
    request_id: u64,
}

static NEXT_REQUEST_ID: AtomicU64 = AtomicU64::new(1);

impl RequestCtx {
    fn from_request(req: &Request) -> Self {
        RequestCtx {
            user: req
                .headers()
                .get("x-user")
                .and_then(|v| v.to_str().ok())
                .map(String::from),
            request_id: NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed),
        }
    }
}

// ---------------------------------------------------------------- the server

fn app() -> Router {
    Router::new()
        .route("/whoami", get(whoami))
        .route("/health", get(health))
        .layer(middleware::from_fn(request_context))
}

/// Middleware: builds the request's context and runs the rest of the
/// stack in it. Handlers are plain axum functions; the ones that start
/// propagated work get the same values from the request's extensions.
async fn request_context(mut req: Request, next: Next) -> Response {
    let cx = RequestCtx::from_request(&req);
    req.extensions_mut().insert(cx.clone());
    cx.scope(logged(req, next)).await
}

/// Logs the request and its response, and returns the request id to the
/// client.
#[ctx::propagate(user, request_id)]
async fn logged(req: Request, next: Next) -> Response {
    info!(method = %req.method(), path = req.uri().path(), "request");
    let mut response = next.run(req).await;
    info!(status = response.status().as_u16(), "response");
    response
        .headers_mut()
        .insert("x-request-id", HeaderValue::from(*request_id));
    response
}

/// `GET /whoami`: enters the request's context and reports what the
/// handler, a spawned task and a blocking closure see.
async fn whoami(Extension(cx): Extension<RequestCtx>) -> String {
    cx.scope(report()).await
}

#[ctx::propagate(user, request_id)]
async fn report() -> String {
    info!("handler started");
    let in_task = tokio::spawn(async move {
        // Long enough for concurrent requests to interleave.
        tokio::time::sleep(Duration::from_millis(20)).await;
        info!("in tokio::spawn");
        seen()
    })
    .await
    .expect("task panicked");
    let in_blocking = tokio::task::spawn_blocking(|| {
        info!("in spawn_blocking");
        seen()
    })
    .await
    .expect("blocking work panicked");
    format!(
        "user={} request={} task={in_task} blocking={in_blocking}\n",
        user.as_deref().unwrap_or("-"),
        *request_id
    )
}

/// The values as this code sees them, as `user#id`.
#[ctx::propagate(user, request_id)]
fn seen() -> String {
    format!("{}#{}", user.as_deref().unwrap_or("-"), *request_id)
}

/// `GET /health`: a plain handler that propagates nothing; it runs inside
/// the middleware's scope, so its log line still names the request.
async fn health() -> &'static str {
    info!("health check");
    "ok\n"
}

// ------------------------------------------------------------------- logging

/// A log format that prefixes each event with the request it belongs to.
struct RequestFormat;

impl<S, N> FormatEvent<S, N> for RequestFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        fields: &FmtContext<'_, S, N>,
        mut out: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        write!(out, "{:>5} ", event.metadata().level())?;
        match (ctx::current::<request_id>(), ctx::current::<user>()) {
            (Some(id), Some(user)) => write!(
                out,
                "[request {} user {}] ",
                *id,
                user.as_deref().unwrap_or("-")
            )?,
            _ => write!(out, "[no request] ")?,
        }
        fields.field_format().format_fields(out.by_ref(), event)?;
        writeln!(out)
    }
}

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

/// A response as the client sees it.
struct Reply {
    status: u16,
    request_id: Option<u64>,
    body: String,
}

/// `GET path` with an optional `x-user` header, over a fresh connection.
async fn get_path(addr: SocketAddr, path: &str, user: Option<&str>) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut request = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    if let Some(user) = user {
        request.push_str(&format!("x-user: {user}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await?;

    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, raw.clone());
    let (head, body) = raw.split_once("\r\n\r\n").ok_or_else(bad)?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    let request_id = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("x-request-id"))
        .and_then(|(_, v)| v.trim().parse().ok());
    Ok(Reply {
        status,
        request_id,
        body: body.to_string(),
    })
}

/// Sends one request and checks the reply and the log lines of its request
/// id against the user it was sent for. Returns the number of problems.
async fn check(addr: SocketAddr, path: &'static str, user: Option<&'static str>) -> usize {
    let reply = match get_path(addr, path, user).await {
        Ok(reply) => reply,
        Err(e) => {
            eprintln!("GET {path}: {e}");
            return 1;
        }
    };
    let Some(id) = reply.request_id else {
        eprintln!("GET {path}: no x-request-id in the response");
        return 1;
    };
    let u = user.unwrap_or("-");
    let expected_body = match path {
        "/whoami" => format!("user={u} request={id} task={u}#{id} blocking={u}#{id}\n"),
        _ => "ok\n".to_string(),
    };
    let mut problems = usize::from(reply.status != 200 || reply.body != expected_body);
    println!(
        "client: GET {path:<7} {:<15} -> {}, x-request-id {id}, body: {}",
        user.map_or("without x-user".to_string(), |u| format!("x-user: {u}")),
        reply.status,
        reply.body.trim_end()
    );

    // Every line logged for this request names its user, and the work
    // started by the handler logged in its own task and thread.
    let log = LOG
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let tag = format!("[request {id} user {u}]");
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(&format!("[request {id} ")))
        .collect();
    let wrong = lines.iter().filter(|l| !l.contains(&tag)).count();
    let mut expected_messages = vec!["request", "response"];
    if path == "/whoami" {
        expected_messages.extend(["handler started", "in tokio::spawn", "in spawn_blocking"]);
    } else {
        expected_messages.push("health check");
    }
    let missing = expected_messages
        .iter()
        .filter(|m| !lines.iter().any(|l| l.contains(&format!("{tag} {m}"))))
        .count();
    if wrong + missing > 0 {
        eprintln!("request {id}: {wrong} log line(s) with another user, {missing} missing");
    }
    problems += wrong + missing;
    problems
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .event_format(RequestFormat)
        .with_writer(|| LogWriter)
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
        println!("  curl -i -H 'x-user: alice' http://127.0.0.1:{port}/whoami");
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

    let mut problems = 0;
    // One at a time.
    problems += check(addr, "/whoami", Some("alice")).await;
    problems += check(addr, "/whoami", None).await;
    problems += check(addr, "/health", Some("carol")).await;
    // Several at once: their log lines interleave, each keeps its values.
    #[allow(clippy::disallowed_methods, reason = "clients, outside any request")]
    let at_once: Vec<_> = [Some("bob"), Some("dave"), None, Some("erin"), Some("frank")]
        .into_iter()
        .map(|user| tokio::spawn(check(addr, "/whoami", user)))
        .collect();
    for request in at_once {
        problems += request.await.expect("client task panicked");
    }

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

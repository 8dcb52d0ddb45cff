//! Services on loopback ports and a hyper-util client, for the tests that
//! run HTTP services (`#[path = "common/loopback.rs"] mod loopback;`).

use std::net::SocketAddr;

use axum::Router;
use axum::http::Request;
use http_body_util::BodyExt as _;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// A hyper-util client sending `String` bodies.
pub type HttpClient = Client<HttpConnector, String>;

/// Serves `app` on a free loopback port, in a spawned task.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// `GET /` on `addr` with `headers`: the status and the body.
pub async fn get(addr: SocketAddr, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = Request::get(format!("http://{addr}/"));
    for (n, v) in headers {
        req = req.header(*n, *v);
    }
    let res = client()
        .request(req.body(String::new()).unwrap())
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#!/usr/bin/env bash
# Compile-time benchmark (DESIGN.md §9): build time of a crate with N
# propagated functions vs the same crate written with explicit parameters.
#
# Generates two crates in a temporary directory:
#   gen_ctx   — N functions under #[ctx::propagate(...)]: sync and async,
#               calling each other, spawning tasks and blocking closures,
#               some with `mut` keys written in a child and merged at join;
#   gen_plain — the same functions without the attribute, the context
#               passed by hand (`&Ctx` for sync calls, `Arc<Ctx>` moved
#               into async fns and spawns, the new value returned from a
#               child and stored by the parent).
# `run_all` calls every function once (so that every async body is
# generated in the crate being timed; 1 more propagated fn, `all_async`,
# awaits the async ones). Both depend on ctx (by path, this checkout) and
# tokio, and share one
# target directory, so dependencies are built once, untimed. Each timed
# build is `touch src/lib.rs && cargo build` of one generated crate with
# CARGO_INCREMENTAL=0 (nothing of the crate is reused: a clean build of
# it), the two crates alternating, RUNS times; the median of each is
# reported.
#
# Usage: benches/compile_time.sh [N]        (default N=300)
# Env:   RUNS=5          timed builds per crate (default 5)
#        PROFILE=release build with --release (default: dev profile)
#        KEEP=1          keep the generated crates (path is printed)
#        OPT_MACROS=1    add `[profile.dev.build-override] opt-level = 3` to
#                        both crates (proc macros and build scripts built
#                        optimized: a setting of the user's workspace)
set -euo pipefail

N=${1:-300}
RUNS=${RUNS:-5}
PROFILE=${PROFILE:-dev}
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CTX_DIR="$(cd "$HERE/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ctx-compile-time.XXXXXX")"
if [[ "${KEEP:-0}" != 1 ]]; then
    trap 'rm -rf "$WORK"' EXIT
fi
export CARGO_TARGET_DIR="$WORK/target"
# A from-clean build of the generated crate each time: no incremental cache.
export CARGO_INCREMENTAL=0
CARGO_FLAGS=()
[[ "$PROFILE" == release ]] && CARGO_FLAGS+=(--release)

manifest() { # name
    cat <<EOF
[package]
name = "$1"
version = "0.0.0"
edition = "2024"
publish = false

[lib]
path = "src/lib.rs"

[dependencies]
ctx = { path = "$CTX_DIR" }
tokio = { version = "1", features = ["rt"] }

[workspace]
EOF
    if [[ -n "${OPT_MACROS:-}" ]]; then
        printf '\n[profile.dev.build-override]\nopt-level = 3\n'
    fi
}

# Function kinds by index: every 10th is an async fn with a `mut` key
# (never called by others), every 3rd an async fn, the rest sync fns.
kind() { # i
    if (( $1 % 10 == 9 )); then echo mut
    elif (( $1 % 3 == 1 )); then echo async
    else echo sync
    fi
}

SYNC=()   # indices of sync fns generated so far
ASYNC=()  # indices of (non-mut) async fns generated so far
MUT=()    # indices of async fns with a `mut` key

pick() { # array-name salt -> an earlier index, or empty
    local -n arr=$1
    local n=${#arr[@]}
    (( n == 0 )) && return 0
    echo "${arr[$(( ($2 * 7919 + 13) % n ))]}"
}

gen() { # variant(ctx|plain) -> lib.rs on stdout
    local v=$1 i k j l m
    SYNC=(); ASYNC=(); MUT=()
    if [[ $v == ctx ]]; then
        cat <<'EOF'
#![allow(unused, clippy::all)]
ctx::keys! {
    pub user: String;
    pub request_id: u64;
}

#[derive(ctx::ContextFields)]
pub struct Root {
    pub user: String,
    pub request_id: u64,
}
EOF
    else
        cat <<'EOF'
#![allow(unused, clippy::all)]
use std::sync::Arc;

#[derive(Clone)]
pub struct Ctx {
    pub user: String,
    pub request_id: u64,
}
EOF
    fi
    for (( i = 0; i < N; i++ )); do
        k=$(kind $i)
        j=$(pick SYNC $i); l=$(pick SYNC $((i + 1))); m=$(pick ASYNC $i)
        case $v/$k in
        ctx/sync)
            echo "
#[ctx::propagate(user, request_id)]
pub fn f$i(x: u64) -> u64 {
    let a = x.wrapping_mul($i) ^ *request_id;"
            if [[ -n $j ]]; then echo "
    let b = if x > 1 { f$j(x / 2) } else { user.len() as u64 };
    a.wrapping_add(b).wrapping_add(f$l(x >> 3))"
            else echo "    a.wrapping_add(user.len() as u64)"; fi
            echo "}"
            SYNC+=("$i") ;;
        plain/sync)
            echo "
pub fn f$i(c: &Ctx, x: u64) -> u64 {
    let a = x.wrapping_mul($i) ^ c.request_id;"
            if [[ -n $j ]]; then echo "
    let b = if x > 1 { f$j(c, x / 2) } else { c.user.len() as u64 };
    a.wrapping_add(b).wrapping_add(f$l(c, x >> 3))"
            else echo "    a.wrapping_add(c.user.len() as u64)"; fi
            echo "}"
            SYNC+=("$i") ;;
        ctx/async)
            echo "
#[ctx::propagate(user, request_id)]
pub async fn a$i(x: u64) -> u64 {
    let s = f$j(x);
    let h = tokio::spawn(async move { f$l(x) + *request_id });
    let t = tokio::task::spawn_blocking(move || f$j(x) + user.len() as u64);"
            if [[ -n $m ]]; then echo "    let p = a$m(x + 1).await;"; else echo "    let p = 0;"; fi
            echo "    s + h.await.unwrap() + t.await.unwrap() + p
}"
            ASYNC+=("$i") ;;
        plain/async)
            echo "
pub async fn a$i(c: Arc<Ctx>, x: u64) -> u64 {
    let s = f$j(&c, x);
    let c1 = Arc::clone(&c);
    let h = tokio::spawn(async move { f$l(&c1, x) + c1.request_id });
    let c2 = Arc::clone(&c);
    let t = tokio::task::spawn_blocking(move || f$j(&c2, x) + c2.user.len() as u64);"
            if [[ -n $m ]]; then echo "    let p = a$m(Arc::clone(&c), x + 1).await;"; else echo "    let p = 0;"; fi
            echo "    s + h.await.unwrap() + t.await.unwrap() + p
}"
            ASYNC+=("$i") ;;
        ctx/mut)
            echo "
#[ctx::propagate(user, mut request_id)]
pub async fn m$i(x: u64) -> u64 {
    let h = tokio::spawn(async move {
        ctx::set!(request_id, x);
        f$j(x)
    });
    let v = h.await.unwrap();
    v + *request_id + f$l(x)
}"
            MUT+=("$i") ;;
        plain/mut)
            echo "
pub async fn m$i(c: &mut Arc<Ctx>, x: u64) -> u64 {
    let c1 = Arc::clone(c);
    let h = tokio::spawn(async move {
        let mut c1 = (*c1).clone();
        c1.request_id = x;
        let v = f$j(&c1, x);
        (c1.request_id, v)
    });
    let (rid, v) = h.await.unwrap();
    Arc::make_mut(c).request_id = rid;
    v + c.request_id + f$l(c, x)
}"
            MUT+=("$i") ;;
        esac
    done
    # Instantiate everything: async bodies of a library are otherwise only
    # generated where they are used (for ctx, in the caller's crate), so
    # `run_all` calls every function once, in both crates.
    local i
    if [[ $v == ctx ]]; then
        echo "
#[ctx::propagate(user, mut request_id)]
async fn all_async() -> u64 {
    let mut s = 0u64;"
        for i in "${ASYNC[@]}"; do echo "    s = s.wrapping_add(a$i(1).await);"; done
        for i in "${MUT[@]}"; do echo "    s = s.wrapping_add(m$i(1).await);"; done
        echo "    s
}

pub fn run_all() -> u64 {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let s = ctx::with!(Root { user: \"alice\".into(), request_id: 1 }, {
        let mut s = 0u64;"
        for i in "${SYNC[@]}"; do echo "        s = s.wrapping_add(f$i(1));"; done
        echo "        s
    });
    s.wrapping_add(rt.block_on(Root { user: \"alice\".into(), request_id: 1 }.scope(all_async())))
}"
    else
        echo "
async fn all_async(mut c: Arc<Ctx>) -> u64 {
    let mut s = 0u64;"
        for i in "${ASYNC[@]}"; do echo "    s = s.wrapping_add(a$i(Arc::clone(&c), 1).await);"; done
        for i in "${MUT[@]}"; do echo "    s = s.wrapping_add(m$i(&mut c, 1).await);"; done
        echo "    s
}

pub fn run_all() -> u64 {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let c = Ctx { user: \"alice\".into(), request_id: 1 };
    let mut s = 0u64;"
        for i in "${SYNC[@]}"; do echo "    s = s.wrapping_add(f$i(&c, 1));"; done
        echo "    s.wrapping_add(rt.block_on(all_async(Arc::new(c))))
}"
    fi
}

for v in ctx plain; do
    mkdir -p "$WORK/gen_$v/src"
    manifest "gen_$v" > "$WORK/gen_$v/Cargo.toml"
    gen $v > "$WORK/gen_$v/src/lib.rs"
    # Same dependency versions as the ctx workspace.
    cp "$CTX_DIR/Cargo.lock" "$WORK/gen_$v/Cargo.lock" 2>/dev/null || true
done

echo "ctx checkout:   $CTX_DIR"
echo "generated in:   $WORK (N=$N, profile=$PROFILE, runs=$RUNS)"
echo "functions:      $(grep -c '#\[ctx::propagate' "$WORK/gen_ctx/src/lib.rs") propagated (gen_ctx), $(grep -cE '^pub (async )?fn [fam][0-9]' "$WORK/gen_plain/src/lib.rs") plain (gen_plain)"
echo "lines:          $(wc -l < "$WORK/gen_ctx/src/lib.rs") (gen_ctx), $(wc -l < "$WORK/gen_plain/src/lib.rs") (gen_plain)"

# Untimed: dependencies (ctx, ctx-macros, tokio, syn, ...) and a first
# build of each crate, which must succeed.
for v in ctx plain; do
    (cd "$WORK/gen_$v" && cargo build -q "${CARGO_FLAGS[@]}") || {
        echo "build of gen_$v failed" >&2
        exit 1
    }
done

now_ns() { date +%s%N; }
time_build() { # variant -> seconds
    local d="$WORK/gen_$1" t0 t1
    # Settle dependencies first (in case the ctx checkout changed), untimed.
    (cd "$d" && cargo build -q "${CARGO_FLAGS[@]}")
    touch "$d/src/lib.rs"
    t0=$(now_ns)
    (cd "$d" && cargo build -q "${CARGO_FLAGS[@]}")
    t1=$(now_ns)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

T_CTX=(); T_PLAIN=()
for (( r = 1; r <= RUNS; r++ )); do
    T_CTX+=("$(time_build ctx)")
    T_PLAIN+=("$(time_build plain)")
    echo "run $r: gen_ctx ${T_CTX[-1]} s, gen_plain ${T_PLAIN[-1]} s"
done
M_CTX=$(echo "${T_CTX[*]}" | median)
M_PLAIN=$(echo "${T_PLAIN[*]}" | median)
echo
echo "median build time, gen_ctx   (#[ctx::propagate]): $M_CTX s"
echo "median build time, gen_plain (explicit params):   $M_PLAIN s"
awk -v a="$M_CTX" -v b="$M_PLAIN" 'BEGIN { printf "ratio ctx / plain: %.2fx (target <= 1.5x)\n", a / b }'
[[ "${KEEP:-0}" == 1 ]] && echo "kept: $WORK"
exit 0

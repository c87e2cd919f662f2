//! Ed25519 throughput through offloadd's stream form against the in-process engine: batches of
//! `--batch` (default 64) signatures, `--batches` of them (default 400), one stream kept open.
//! Prints signatures per second for each and the ratio. Needs a running daemon:
//! `cargo run --release -p offload-benches --example verify_stream -- http://127.0.0.1:50051`
//! (OFFLOAD_TLS_CA and OFFLOAD_TOKEN for a daemon with TLS and tenants).
use offload_benches::sig::ed25519_inputs;
use offload_client::v1 as pb;
use offload_engine::sig::ed25519::{verify_batch, Item, Policy};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:50051".into());
    let batch: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(64);
    let batches: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(400);
    let inputs = ed25519_inputs(batch, 42);
    let pks: Vec<[u8; 32]> = inputs.iter().map(|(k, _, _)| k.to_bytes()).collect();
    let sigs: Vec<[u8; 64]> = inputs.iter().map(|(_, s, _)| s.to_bytes()).collect();
    let items: Vec<Item> = (0..batch)
        .map(|i| Item {
            public_key: &pks[i],
            signature: &sigs[i],
            message: &inputs[i].2,
        })
        .collect();
    let wire: Vec<pb::VerifyItem> = (0..batch)
        .map(|i| pb::VerifyItem {
            public_key: pks[i].to_vec(),
            signature: sigs[i].to_vec(),
            message: inputs[i].2.clone(),
        })
        .collect();

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut client = rt
        .block_on(offload_client::Client::connect_with(
            &addr,
            &offload_client::ConnectOptions::from_env().expect("TLS and token settings"),
        ))
        .expect("connects");
    for round in 0..3 {
        let t = Instant::now();
        for _ in 0..batches {
            let v = verify_batch(Policy::Zip215, &items);
            assert!(v.iter().all(|v| v.is_valid()));
        }
        let local = (batch * batches) as f64 / t.elapsed().as_secs_f64();

        let reqs: Vec<pb::VerifyRequest> = (0..batches as u64)
            .map(|tag| pb::VerifyRequest {
                scheme: pb::Scheme::Ed25519 as i32,
                policy: pb::Policy::Ed25519Zip215 as i32,
                items: wire.clone(),
                tag,
            })
            .collect();
        let t = Instant::now();
        let n = rt.block_on(async {
            let mut s = client
                .raw()
                .verify_stream(tokio_stream::iter(reqs))
                .await
                .expect("stream opens")
                .into_inner();
            let mut n = 0;
            while let Some(r) = s.message().await.expect("stream answers") {
                assert_eq!(r.valid as usize, batch);
                n += 1;
            }
            n
        });
        assert_eq!(n, batches);
        let remote = (batch * batches) as f64 / t.elapsed().as_secs_f64();
        println!(
            "round {round}: in-process {local:.0} sigs/s, stream {remote:.0} sigs/s, ratio {:.3}",
            remote / local
        );
    }
}

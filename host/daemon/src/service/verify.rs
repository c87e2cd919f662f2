//! Signature verification: one request as one job, and the verify stream, which groups the
//! requests that have already arrived into one job each and answers in request order.

use super::decode::next_message;
use super::{nothing_ran, report, Caller, State};
use crate::budget::Charge;
use crate::config::Config;
use crate::convert::{self, status};
use futures::{Stream, StreamExt};
use offload_core::job::{SigItem, VerifyJob};
use offload_core::{Job, JobError, Output};
use offload_proto::v1 as pb;
use std::pin::Pin;
use std::sync::Arc;
use tonic::{Status, Streaming};

/// The longest reason a MALFORMED verdict carries, with its framing: the answer's size is
/// bounded by this before any signature is checked.
const VERDICT_BYTES: usize = 160;

/// Item counts and sizes, checked before anything is converted.
/// The most signatures one request may carry: the setting, and an answer within
/// max_message_bytes.
pub(super) fn most_items(c: &Config) -> usize {
    c.max_verify_items
        .min(c.max_message_bytes / VERDICT_BYTES)
        .max(1)
}

fn check_items(c: &Config, items: &[pb::VerifyItem]) -> Result<(), JobError> {
    let most = most_items(c);
    if items.len() > most {
        return Err(JobError::invalid(
            "items",
            format!(
                "{} signatures; this daemon takes at most {most} in one request \
                 (max_verify_items, and the answer within max_message_bytes)",
                items.len()
            ),
        ));
    }
    for (i, it) in items.iter().enumerate() {
        let n = it.public_key.len() + it.signature.len() + it.message.len();
        if n > c.max_verify_item_bytes {
            return Err(JobError::invalid(
                format!("items[{i}]"),
                format!(
                    "{n} bytes of key, signature and message; at most {} (max_verify_item_bytes)",
                    c.max_verify_item_bytes
                ),
            ));
        }
    }
    Ok(())
}

fn sig_items(items: Vec<pb::VerifyItem>) -> Vec<SigItem> {
    items
        .into_iter()
        .map(|i| SigItem {
            public_key: i.public_key,
            signature: i.signature,
            message: i.message,
        })
        .collect()
}

pub(super) async fn verify(
    st: Arc<State>,
    caller: Caller,
    mut charge: Charge,
    req: pb::VerifyRequest,
) -> Result<pb::VerifyResponse, JobError> {
    let scheme = convert::scheme(req.scheme, req.policy)?;
    check_items(&st.config, &req.items)?;
    if req.items.is_empty() {
        return Ok(pb::VerifyResponse {
            tag: req.tag,
            report: Some(nothing_ran()),
            ..Default::default()
        });
    }
    charge.add("the verdicts", req.items.len() * VERDICT_BYTES)?;
    let items = sig_items(req.items);
    let (out, rep) = st
        .scheduler
        .submit_until(
            &caller.tenant.name,
            Job::Verify(VerifyJob {
                scheme,
                items,
                keys: Some(caller.tenant.keys.clone()),
            }),
            caller.deadline,
        )
        .await?;
    let Output::Verify(verdicts) = out else {
        return Err(JobError::Internal(
            "a verify job returned another output".into(),
        ));
    };
    Ok(pb::VerifyResponse {
        valid: verdicts.iter().filter(|v| v.is_valid()).count() as u32,
        verdicts: verdicts.iter().map(convert::verdict).collect(),
        tag: req.tag,
        report: Some(report(&rep)),
    })
}

/// Groups of a verify stream in flight at once: one running, one forming.
const STREAM_IN_FLIGHT: usize = 2;
/// A stream's requests that have already arrived are verified together, up to this many
/// signatures: one larger batch equation costs less per signature than several small ones, and
/// each request still gets exactly its own verdicts.
const STREAM_MERGE_ITEMS: usize = 4096;

/// Verify several requests of one scheme and policy as one job; one response per request.
async fn verify_group(
    st: Arc<State>,
    (tenant, deadline): (crate::auth::Tenant, Option<std::time::Instant>),
    group: Vec<pb::VerifyRequest>,
    held: (Charge, crate::auth::JobSlot),
) -> Vec<Result<pb::VerifyResponse, Status>> {
    let _held = held;
    let first = &group[0];
    let scheme = match convert::scheme(first.scheme, first.policy) {
        Ok(s) => s,
        Err(e) => return vec![Err(status(e))],
    };
    let sizes: Vec<(u64, usize)> = group.iter().map(|r| (r.tag, r.items.len())).collect();
    let items = sig_items(group.into_iter().flat_map(|r| r.items).collect());
    if items.is_empty() {
        return sizes
            .into_iter()
            .map(|(tag, _)| {
                Ok(pb::VerifyResponse {
                    tag,
                    report: Some(nothing_ran()),
                    ..Default::default()
                })
            })
            .collect();
    }
    let res = st
        .scheduler
        .submit_until(
            &tenant.name,
            Job::Verify(VerifyJob {
                scheme,
                items,
                keys: Some(tenant.keys.clone()),
            }),
            deadline,
        )
        .await;
    let (verdicts, rep) = match res {
        Ok((Output::Verify(v), rep)) => (v, rep),
        Ok(_) => {
            return vec![Err(status(JobError::Internal(
                "a verify job returned another output".into(),
            )))]
        }
        Err(e) => return vec![Err(status(e))],
    };
    let mut at = 0;
    sizes
        .into_iter()
        .map(|(tag, n)| {
            let v = &verdicts[at..at + n];
            at += n;
            Ok(pb::VerifyResponse {
                valid: v.iter().filter(|v| v.is_valid()).count() as u32,
                verdicts: v.iter().map(convert::verdict).collect(),
                tag,
                report: Some(report(&rep)),
            })
        })
        .collect()
}

/// Read a verify stream, grouping the requests that have already arrived (same scheme and
/// policy) into one job each; answers go out in request order.
pub(super) fn verify_stream_task(
    st: Arc<State>,
    caller: Caller,
    mut requests: Streaming<pb::VerifyRequest>,
) -> impl Stream<Item = Result<pb::VerifyResponse, Status>> {
    use futures::FutureExt;
    let (tx, rx) = tokio::sync::mpsc::channel::<
        tokio::task::JoinHandle<Vec<Result<pb::VerifyResponse, Status>>>,
    >(STREAM_IN_FLIGHT);
    let idle = std::time::Duration::from_secs(st.config.verify_stream_idle_secs);
    let failed = |e: Status| tokio::spawn(async move { vec![Err(e)] });
    tokio::spawn(async move {
        // A request's checks and memory, before it joins a group.
        let admit = |r: &pb::VerifyRequest, charge: &mut Charge| {
            st.metrics
                .rpc_bytes("VerifyStream", prost::Message::encoded_len(r));
            check_items(&st.config, &r.items)?;
            charge.add(
                "a verify request",
                prost::Message::encoded_len(r) + r.items.len() * VERDICT_BYTES,
            )
        };
        let mut held: Option<(pb::VerifyRequest, Charge)> = None;
        loop {
            let (first, mut charge) = match held.take() {
                Some(r) => r,
                None => match next_message(&mut requests, idle, "verify_stream_idle_secs").await {
                    Ok(Some(r)) => {
                        let mut charge = caller.charge(&st);
                        if let Err(e) = admit(&r, &mut charge) {
                            let _ = tx.send(failed(status(e))).await;
                            return;
                        }
                        (r, charge)
                    }
                    Ok(None) => return,
                    Err(e) => {
                        let _ = tx.send(failed(status(e))).await;
                        return;
                    }
                },
            };
            let mut items = first.items.len();
            let mut group = vec![first];
            let mut refused = None;
            while items < STREAM_MERGE_ITEMS {
                match requests.next().now_or_never() {
                    Some(Some(Ok(r))) => {
                        let same = (r.scheme, r.policy) == (group[0].scheme, group[0].policy);
                        let mut own = caller.charge(&st);
                        let c = if same { &mut charge } else { &mut own };
                        if let Err(e) = admit(&r, c) {
                            refused = Some(status(e));
                            break;
                        }
                        if same {
                            items += r.items.len();
                            group.push(r);
                        } else {
                            held = Some((r, own));
                            break;
                        }
                    }
                    Some(Some(Err(e))) => {
                        refused = Some(e);
                        break;
                    }
                    _ => break,
                }
            }
            let slot = match caller.tenant.begin_job() {
                Ok(s) => s,
                Err(e) => {
                    let _ = tx.send(failed(status(e))).await;
                    return;
                }
            };
            let job = tokio::spawn(verify_group(
                st.clone(),
                (caller.tenant.clone(), caller.deadline),
                group,
                (charge, slot),
            ));
            if tx.send(job).await.is_err() {
                return; // the client went away
            }
            if let Some(e) = refused {
                let _ = tx.send(failed(e)).await;
                return;
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
        .then(|h| async move {
            h.await.unwrap_or_else(|_| {
                vec![Err(status(JobError::Internal(
                    "a verify task panicked".into(),
                )))]
            })
        })
        .flat_map(futures::stream::iter)
        .scan(false, |failed, r| {
            // After an error the stream ends.
            if *failed {
                return futures::future::ready(None);
            }
            *failed = r.is_err();
            futures::future::ready(Some(r))
        })
}

pub(super) type VerifyStream =
    Pin<Box<dyn Stream<Item = Result<pb::VerifyResponse, Status>> + Send>>;

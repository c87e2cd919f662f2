//! Client commands against a running offloadd. Input formats:
//! - points: a file of packed points in the named encoding (see offload/v1/offload.proto);
//! - scalars and NTT columns: packed canonical little-endian field elements (32 bytes for the
//!   BN254 and BLS12-381 scalar fields, 8 for Goldilocks, 4 for BabyBear);
//! - signatures for `verify`: JSON, `{"scheme": "ed25519|ecdsa|bip340|bls", "policy": "...",
//!   "items": [{"public_key": HEX, "signature": HEX, "message": HEX}, ...]}`.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use offload_client::offload_wire::ids::{CurveId, FieldId, Named};
use offload_client::offload_wire::point::{curve_point_len, PointEncoding};
use offload_client::v1 as pb;
use offload_client::Client;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct Conn {
    /// The daemon: http://HOST:PORT or unix:/PATH.
    #[arg(
        long,
        global = true,
        default_value = "http://127.0.0.1:50051",
        env = "OFFLOAD_ADDR"
    )]
    pub addr: String,
    /// CA certificates (PEM) the daemon's certificate must chain to (https:// addresses).
    #[arg(long, global = true, env = "OFFLOAD_TLS_CA")]
    pub tls_ca: Option<PathBuf>,
    /// Client certificate (PEM), for a daemon that knows tenants by certificate.
    #[arg(long, global = true, env = "OFFLOAD_TLS_CLIENT_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, global = true, env = "OFFLOAD_TLS_CLIENT_KEY")]
    pub tls_key: Option<PathBuf>,
    /// The name the daemon's certificate must carry, when not the address's host.
    #[arg(long, global = true, env = "OFFLOAD_TLS_DOMAIN")]
    pub tls_domain: Option<String>,
    /// API token (`offloadd token --tenant NAME` makes one).
    #[arg(long, global = true, env = "OFFLOAD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

impl Conn {
    pub fn options(&self) -> Result<offload_client::ConnectOptions> {
        let read =
            |p: &PathBuf| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
        let identity = match (&self.tls_cert, &self.tls_key) {
            (Some(c), Some(k)) => Some((read(c)?, read(k)?)),
            (None, None) => None,
            _ => bail!("--tls-cert and --tls-key go together"),
        };
        Ok(offload_client::ConnectOptions {
            tls_ca: self.tls_ca.as_ref().map(read).transpose()?,
            tls_identity: identity,
            tls_domain: self.tls_domain.clone(),
            token: self.token.clone(),
            // The CLI sends its payloads in messages; shared memory is for programs that
            // link the client (ConnectOptions::shm_dir, OFFLOAD_SHM_DIR).
            shm_dir: None,
        })
    }
}

/// A curve, field or point encoding by the API's name (bn254, bls12-381, bn254-g2,
/// bls12-381-g2, babybear, goldilocks; ark-compressed, ark-uncompressed, eip196, eip2537).
fn named<T: Named>(s: &str) -> Result<T, String> {
    T::parse(s).ok_or_else(|| format!("one of {}", T::names()))
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OrderArg {
    Natural,
    BitReversed,
}

#[derive(Subcommand, Debug)]
pub enum Bases {
    /// Upload a file of packed points; prints the handle.
    Upload {
        file: PathBuf,
        /// bn254, bls12-381 (G1), bn254-g2 or bls12-381-g2.
        #[arg(long, value_parser = named::<CurveId>)]
        curve: CurveId,
        /// ark-compressed, ark-uncompressed, eip196 (BN254; EIP-197's form on G2) or eip2537
        /// (BLS12-381).
        #[arg(long, value_parser = named::<PointEncoding>, default_value = "ark-compressed")]
        encoding: PointEncoding,
        #[arg(long, default_value = "")]
        label: String,
        /// Publish the set read-only to every tenant (tenants declared with publish = true).
        #[arg(long)]
        shared: bool,
    },
    /// List uploaded sets.
    List,
    /// Delete a set.
    Delete { handle: String },
}

#[derive(Args, Debug)]
pub struct MsmArgs {
    /// bn254, bls12-381 (G1), bn254-g2 or bls12-381-g2.
    #[arg(long, value_parser = named::<CurveId>)]
    curve: CurveId,
    /// An uploaded set.
    #[arg(long, conflicts_with = "bases")]
    handle: Option<String>,
    /// A file of packed points sent with the request.
    #[arg(long)]
    bases: Option<PathBuf>,
    /// Encoding of --bases and of the printed result.
    #[arg(long, value_parser = named::<PointEncoding>, default_value = "ark-compressed")]
    encoding: PointEncoding,
    /// Files of packed scalars, one MSM each.
    #[arg(long, required = true)]
    scalars: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct NttArgs {
    /// bn254, bls12-381, babybear or goldilocks.
    #[arg(long, value_parser = named::<FieldId>)]
    field: FieldId,
    #[arg(long)]
    inverse: bool,
    #[arg(long, value_enum, default_value = "natural")]
    input_order: OrderArg,
    #[arg(long, value_enum, default_value = "natural")]
    output_order: OrderArg,
    /// Coset shift as hex of its packed encoding.
    #[arg(long)]
    coset: Option<String>,
    /// Files of packed elements, one column each.
    #[arg(long, required = true)]
    input: Vec<PathBuf>,
    /// Where the transformed columns go, one after another.
    #[arg(long)]
    output: PathBuf,
}

fn read(p: &PathBuf) -> Result<Vec<u8>> {
    std::fs::read(p).with_context(|| format!("reading {}", p.display()))
}

fn packed(b: Vec<u8>) -> pb::Elements {
    pb::Elements {
        source: Some(pb::elements::Source::Packed(b)),
    }
}

async fn connect(c: &Conn) -> Result<Client> {
    Ok(Client::connect_with(&c.addr, &c.options()?).await?)
}

pub async fn health(c: &Conn, timeout: u64) -> Result<()> {
    let t = std::time::Duration::from_secs(timeout);
    let check = async {
        let client = Client::connect_with(&c.addr, &c.options()?).await?;
        Ok::<_, anyhow::Error>(client.with_timeout(Some(t)).serving().await?)
    };
    match tokio::time::timeout(t, check).await {
        Ok(Ok(true)) => {
            println!("serving");
            Ok(())
        }
        Ok(Ok(false)) => anyhow::bail!("{}: not serving", c.addr),
        Ok(Err(e)) => Err(e.context(format!("{}: health check", c.addr))),
        Err(_) => anyhow::bail!("{}: no answer within {timeout} s", c.addr),
    }
}

pub async fn info(c: &Conn) -> Result<()> {
    let i = connect(c).await?.info().await?;
    println!("offloadd {}", i.version);
    for b in &i.backends {
        println!(
            "backend {} ({}): {}{}; queued {}, running {}, completed {}",
            b.name,
            b.device,
            if b.healthy { "healthy" } else { "unhealthy" },
            if b.status.is_empty() {
                String::new()
            } else {
                format!(" ({})", b.status)
            },
            b.queue_depth,
            b.running,
            b.completed
        );
        for o in &b.ops {
            println!(
                "  {:<7} {} ({} to {}{})",
                o.op,
                o.kinds.join(", "),
                o.min_size,
                o.max_size,
                if o.coset { ", cosets" } else { "" }
            );
        }
    }
    if let Some(l) = &i.limits {
        println!(
            "limits: messages {} bytes, base sets {} points, {} queued jobs per backend, shared memory {}",
            l.max_message_bytes,
            l.max_base_set_points,
            l.queue_capacity,
            if l.shared_memory { "on" } else { "off" }
        );
        println!(
            "per request: {} MSM vectors, {} NTT columns up to 2^{}, {} signatures of {} bytes",
            l.max_scalar_vectors,
            l.max_ntt_columns,
            l.max_ntt_log_n,
            l.max_verify_items,
            l.max_verify_item_bytes
        );
        println!(
            "connections: {} in all, {} per source, {} calls each, closed after {} s idle; \
             streams closed after {} s silent ({} s for VerifyStream); {} uploads at once; \
             {} bytes in flight",
            l.max_connections,
            l.max_connections_per_source,
            l.max_streams_per_connection,
            l.connection_idle_secs,
            l.stream_idle_secs,
            l.verify_stream_idle_secs,
            l.max_uploads,
            l.max_inflight_bytes
        );
        if let Some(q) = &l.quota {
            let or_none = |v: u64| {
                if v == 0 {
                    "none".to_string()
                } else {
                    v.to_string()
                }
            };
            println!(
                "tenant {}: sets {}, stored bytes {}, resident bytes {}, calls {}, bytes in flight {}",
                q.tenant,
                or_none(q.max_sets),
                or_none(q.max_stored_bytes),
                or_none(q.max_resident_bytes),
                or_none(q.max_jobs as u64),
                or_none(q.max_inflight_bytes)
            );
        }
    }
    Ok(())
}

pub async fn bases(c: &Conn, cmd: Bases) -> Result<()> {
    let mut client = connect(c).await?;
    match cmd {
        Bases::Upload {
            file,
            curve,
            encoding,
            label,
            shared,
        } => {
            let bytes = read(&file)?;
            let point = curve_point_len(curve, encoding)
                .map_err(|e| anyhow::anyhow!("--encoding {}: {e}", encoding.name()))?;
            if bytes.len() % point != 0 {
                bail!(
                    "{}: {} bytes is not a whole number of {point}-byte points",
                    file.display(),
                    bytes.len()
                );
            }
            let msgs: Vec<pb::UploadBasesRequest> = std::iter::once(pb::UploadBasesRequest {
                part: Some(pb::upload_bases_request::Part::Header(pb::UploadHeader {
                    curve: pb::Curve::from(curve) as i32,
                    encoding: pb::PointEncoding::from(encoding) as i32,
                    count: (bytes.len() / point) as u64,
                    label,
                    shared,
                    ..Default::default()
                })),
            })
            .chain(bytes.chunks(1 << 21).map(|b| pb::UploadBasesRequest {
                part: Some(pb::upload_bases_request::Part::Points(b.to_vec())),
            }))
            .collect();
            let r = client
                .raw()
                .upload_bases(tokio_stream::iter(msgs))
                .await?
                .into_inner();
            println!("{}", r.handle);
        }
        Bases::List => {
            for s in client.list_bases().await? {
                let curve = pb::Curve::try_from(s.curve)
                    .map(|c| c.as_str_name())
                    .unwrap_or("?");
                println!(
                    "{}  {curve}  {} points  {} bytes  table {} ({} bytes)  {}",
                    s.handle, s.count, s.bytes, s.table, s.table_bytes, s.label
                );
            }
        }
        Bases::Delete { handle } => {
            if !client.delete_bases(&handle).await? {
                bail!("no base set {handle}");
            }
        }
    }
    Ok(())
}

pub async fn msm(c: &Conn, a: MsmArgs) -> Result<()> {
    let mut client = connect(c).await?;
    let bases = match (&a.handle, &a.bases) {
        (Some(h), None) => pb::msm_request::Bases::Handle(h.clone()),
        (None, Some(f)) => pb::msm_request::Bases::Inline(pb::InlineBases {
            encoding: pb::PointEncoding::from(a.encoding) as i32,
            points: read(f)?,
        }),
        _ => bail!("give --handle or --bases"),
    };
    let scalars = a
        .scalars
        .iter()
        .map(|f| read(f).map(packed))
        .collect::<Result<_>>()?;
    let r = client
        .raw()
        .msm(pb::MsmRequest {
            curve: pb::Curve::from(a.curve) as i32,
            bases: Some(bases),
            scalars,
            result_encoding: pb::PointEncoding::from(a.encoding) as i32,
        })
        .await?
        .into_inner();
    for p in &r.results {
        println!("{}", hex::encode(p));
    }
    if let Some(rep) = r.report {
        eprintln!(
            "backend {}, queued {:.3} ms, ran {:.3} ms",
            rep.backend, rep.queue_ms, rep.run_ms
        );
    }
    Ok(())
}

pub async fn ntt(c: &Conn, a: NttArgs) -> Result<()> {
    let mut client = connect(c).await?;
    let order = |o: OrderArg| match o {
        OrderArg::Natural => pb::Ordering::Natural as i32,
        OrderArg::BitReversed => pb::Ordering::BitReversed as i32,
    };
    let r = client
        .raw()
        .ntt(pb::NttRequest {
            field: pb::NttField::from(a.field) as i32,
            direction: if a.inverse {
                pb::NttDirection::Inverse
            } else {
                pb::NttDirection::Forward
            } as i32,
            input_order: order(a.input_order),
            output_order: order(a.output_order),
            coset: match &a.coset {
                Some(h) => hex::decode(h).context("--coset is not hex")?,
                None => Vec::new(),
            },
            columns: a
                .input
                .iter()
                .map(|f| read(f).map(packed))
                .collect::<Result<_>>()?,
        })
        .await?
        .into_inner();
    std::fs::write(&a.output, r.columns.concat())
        .with_context(|| format!("writing {}", a.output.display()))?;
    Ok(())
}

#[derive(serde::Deserialize)]
struct VerifyFile {
    scheme: String,
    #[serde(default)]
    policy: Option<String>,
    items: Vec<VerifyFileItem>,
}

#[derive(serde::Deserialize)]
struct VerifyFileItem {
    public_key: String,
    signature: String,
    message: String,
}

pub async fn verify(c: &Conn, file: PathBuf) -> Result<()> {
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let f: VerifyFile =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
    let scheme = match f.scheme.as_str() {
        "ed25519" => pb::Scheme::Ed25519,
        "ecdsa" | "ecdsa-secp256k1" => pb::Scheme::EcdsaSecp256k1,
        "bip340" | "schnorr" => pb::Scheme::Bip340,
        "bls" | "bls12-381-eth" => pb::Scheme::Bls12381Eth,
        s => bail!("unknown scheme {s:?} (ed25519, ecdsa, bip340, bls)"),
    };
    let policy = match f.policy.as_deref() {
        None | Some("default") => pb::Policy::Default,
        Some("zip215") => pb::Policy::Ed25519Zip215,
        Some("strict") => pb::Policy::Ed25519Strict,
        Some("rfc8032") => pb::Policy::Ed25519Rfc8032,
        Some("low-s") => pb::Policy::EcdsaLowS,
        Some("any-s") => pb::Policy::EcdsaAnyS,
        Some("low-s-der") => pb::Policy::EcdsaLowSDer,
        Some("any-s-der") => pb::Policy::EcdsaAnySDer,
        Some(p) => bail!("unknown policy {p:?}"),
    };
    let items = f
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let h = |name: &str, s: &str| {
                hex::decode(s).with_context(|| format!("items[{i}].{name} is not hex"))
            };
            Ok(pb::VerifyItem {
                public_key: h("public_key", &it.public_key)?,
                signature: h("signature", &it.signature)?,
                message: h("message", &it.message)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let r = connect(c).await?.verify(scheme, policy, items).await?;
    for (i, v) in r.verdicts.iter().enumerate() {
        let outcome = pb::Outcome::try_from(v.outcome)
            .map(|o| o.as_str_name())
            .unwrap_or("?");
        if v.reason.is_empty() {
            println!("{i} {outcome}");
        } else {
            println!("{i} {outcome} {}", v.reason);
        }
    }
    eprintln!("{} of {} valid", r.valid, r.verdicts.len());
    Ok(())
}

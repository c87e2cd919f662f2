//! Configuration, layered: defaults that serve on a laptop, then a TOML file (`--config`), then
//! environment variables (`OFFLOAD_*`), then flags.

use offload_backends::DeviceSpec;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// TCP address for gRPC.
    pub listen: String,
    /// Unix domain socket for gRPC, in addition to TCP.
    pub uds: Option<PathBuf>,
    /// Where uploaded base sets persist.
    pub data_dir: PathBuf,
    /// Prometheus metrics over HTTP; empty disables. Only on loopback unless `metrics_public`.
    pub metrics_listen: String,
    /// Let `metrics_listen` be an address other than loopback (a Prometheus scraping the
    /// pod). The metrics name operations and backends, never tenants.
    pub metrics_public: bool,
    /// Directory whose files clients on the Unix socket may name as shared-memory input; none
    /// (the default) or an empty path disables it.
    #[serde(deserialize_with = "empty_is_none")]
    pub shm_dir: Option<PathBuf>,
    /// Largest gRPC message accepted or sent.
    pub max_message_bytes: usize,
    /// Memory for requests in flight, all clients together: bytes being received, decoded
    /// payloads and answers being built. A request that would pass it gets RESOURCE_EXHAUSTED.
    pub max_inflight_bytes: usize,
    /// Scalar vectors in one MSM request (at most the contract's 1024).
    pub max_scalar_vectors: usize,
    /// Columns in one NTT request (at most the contract's 65536).
    pub max_ntt_columns: usize,
    /// Longest NTT, as log2 of its length.
    pub max_ntt_log_n: u32,
    /// Signatures in one verify request (at most the contract's 1048576).
    pub max_verify_items: usize,
    /// Bytes of one signature item: key, signature and message together.
    pub max_verify_item_bytes: usize,
    /// Open connections, TCP and Unix socket together; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Open connections from one source: one IP address over TCP, one uid on the Unix socket.
    /// Past it, a new connection from that source is closed at once.
    pub max_connections_per_source: usize,
    /// Streams one connection may have open at once.
    pub max_streams_per_connection: u32,
    /// Uploads in progress at once, all clients together.
    pub max_uploads: usize,
    /// A client stream (upload, MsmStream, VerifyStream) that sends nothing for this long is
    /// closed with DEADLINE_EXCEEDED.
    pub stream_idle_secs: u64,
    /// The same for a VerifyStream, whose clients (validators) may wait between batches.
    pub verify_stream_idle_secs: u64,
    /// A resumable upload (one with an upload_id) whose stream ended or broke is kept this
    /// long for the client to continue it; its points stay charged to max_inflight_bytes.
    pub upload_resume_secs: u64,
    /// A connection with no call for this long is closed (clients reconnect by themselves).
    pub connection_idle_secs: u64,
    /// HTTP/2 pings to each connection this often; one unanswered within 20 s closes it.
    pub keepalive_secs: u64,
    /// On SIGTERM, calls in flight get this long to finish; then every connection is closed.
    pub drain_secs: u64,
    /// Largest base set.
    pub max_base_points: u64,
    /// Jobs waiting per backend before RESOURCE_EXHAUSTED.
    pub queue_capacity: usize,
    /// A device made unhealthy by failures in a row is probed again this often; once it
    /// passes, it takes jobs again.
    pub device_recheck_secs: u64,
    /// Memory for precomputed fixed-base tables, all sets together.
    pub table_budget_bytes: usize,
    /// Memory for decoded resident base sets, all together; least recently used sets leave first.
    pub resident_budget_bytes: usize,
    /// "text" or "json".
    pub log_format: String,
    /// Skip the start-up self-benchmark (tests).
    pub skip_calibration: bool,
    /// An FPGA NTT engine: "sim[:FIELD][:LOG[xLANES]]" for the cycle-accurate simulation of
    /// the FIELD engine (babybear, the default, or goldilocks) taking sizes to 2^LOG (default
    /// 10) on LANES butterfly lanes (default 1), or the path of a board's memory-mapped register region
    /// (a PCIe BAR's resource file or a device node). None: no FPGA backend.
    pub fpga: Option<String>,
    /// The device backends to open, in order (the CPU always comes first): `cuda`,
    /// `cuda-emulated[:LOG]`, `fpga-sim[:FIELD][:LOG[xLANES]][@MHZ]`, `fpga:PATH[@MHZ]`.
    /// When given, it is the whole list: `fpga`, `cuda` and `cuda_emulate` are not consulted.
    pub devices: Vec<String>,
    /// The board's clock in MHz, for its run-time estimates.
    pub fpga_clock_mhz: f64,
    /// Send every job this backend accepts to it, whatever the cost model says: for
    /// bringing up a device (the simulated FPGA is far slower than the CPU, so the cost
    /// model alone would never pick it).
    pub prefer_backend: Option<String>,
    /// TLS on the TCP listener (`[tls]`: cert, key, client_ca, require_client_cert).
    pub tls: Option<crate::tls::TlsFiles>,
    /// Tenants (`[[tenants]]`: name, tokens, cert_names, uids, publish). With none, every
    /// call is the default tenant's and TCP stays on loopback.
    pub tenants: Vec<crate::auth::TenantSpec>,
    /// Serve TCP without TLS on an address other than loopback (logged as a warning).
    pub insecure_plaintext: bool,
    /// Serve TCP on an address other than loopback with no tenants configured, so that any
    /// client that reaches it may do anything (logged as a warning).
    pub insecure_open: bool,
    /// Serve gRPC reflection (with tenants configured, only to authenticated callers).
    pub reflection: bool,
    /// Look for a GPU at start (the answer, or why there is none, shows in GetInfo).
    pub cuda: bool,
    /// Register the GPU backend with its kernels emulated on the host ("cuda-emulated"):
    /// bring-up and tests of the GPU path on a machine without one. Slow.
    pub cuda_emulate: bool,
}

impl Config {
    /// A daemon for tests and examples: loopback on an ephemeral port, its data under `dir`,
    /// no metrics listener, no shared memory, no start-up calibration.
    pub fn ephemeral(dir: &std::path::Path) -> Self {
        Self {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.join("data"),
            metrics_listen: String::new(),
            shm_dir: None,
            skip_calibration: true,
            ..Self::default()
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:50051".into(),
            uds: None,
            data_dir: PathBuf::from("offload-data"),
            metrics_listen: "127.0.0.1:9464".into(),
            metrics_public: false,
            shm_dir: None,
            max_message_bytes: 256 << 20,
            max_inflight_bytes: 2 << 30,
            max_scalar_vectors: offload_proto::codec::MAX_SCALAR_VECTORS,
            max_ntt_columns: offload_proto::codec::MAX_NTT_COLUMNS,
            max_ntt_log_n: 28,
            max_verify_items: 1 << 20,
            max_verify_item_bytes: 64 << 10,
            max_connections: 1024,
            max_connections_per_source: 256,
            max_streams_per_connection: 128,
            max_uploads: 16,
            stream_idle_secs: 60,
            verify_stream_idle_secs: 600,
            upload_resume_secs: 300,
            connection_idle_secs: 120,
            keepalive_secs: 30,
            drain_secs: 30,
            max_base_points: 1 << 26,
            queue_capacity: 64,
            device_recheck_secs: 30,
            table_budget_bytes: 2 << 30,
            resident_budget_bytes: 4 << 30,
            log_format: "text".into(),
            skip_calibration: false,
            fpga: None,
            devices: Vec::new(),
            fpga_clock_mhz: 100.0,
            prefer_backend: None,
            cuda: true,
            cuda_emulate: false,
            tls: None,
            tenants: Vec::new(),
            insecure_plaintext: false,
            insecure_open: false,
            reflection: true,
        }
    }
}

/// Command-line flags; each also reads its `OFFLOAD_*` variable.
#[derive(Clone, Debug, Default, clap::Parser)]
#[command(
    name = "offloadd",
    version,
    about = "Offload daemon: MSM, NTT and signature batches over gRPC"
)]
pub struct Flags {
    /// TOML configuration file.
    #[arg(long, env = "OFFLOAD_CONFIG")]
    pub config: Option<PathBuf>,
    /// TCP address to serve gRPC on (default 127.0.0.1:50051).
    #[arg(long, env = "OFFLOAD_LISTEN")]
    pub listen: Option<String>,
    /// Unix domain socket to serve gRPC on as well.
    #[arg(long, env = "OFFLOAD_UDS")]
    pub uds: Option<PathBuf>,
    /// Directory for base sets (default ./offload-data).
    #[arg(long, env = "OFFLOAD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Prometheus metrics address (default 127.0.0.1:9464; "" disables).
    #[arg(long, env = "OFFLOAD_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// Shared-memory directory that clients on the Unix socket may name (e.g.
    /// /dev/shm/offload; default none; "" disables).
    #[arg(long, env = "OFFLOAD_SHM_DIR")]
    pub shm_dir: Option<String>,
    /// "text" or "json" logs.
    #[arg(long, env = "OFFLOAD_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// FPGA NTT engine: "sim[:FIELD][:LOG[xLANES]]" (e.g. sim:10x2, sim:goldilocks:12) or a
    /// board's register-map path.
    #[arg(long, env = "OFFLOAD_FPGA")]
    pub fpga: Option<String>,
    /// A device backend to open (repeat for several): cuda, cuda-emulated[:LOG],
    /// fpga-sim[:FIELD][:LOG[xLANES]][@MHZ] or fpga:PATH[@MHZ]. Replaces --fpga, --no-cuda
    /// and --cuda-emulate and the configuration's device keys.
    #[arg(long = "device", value_name = "SPEC")]
    pub devices: Vec<String>,
    /// Send every job this backend accepts to it (device bring-up), e.g. fpga-sim.
    #[arg(long, env = "OFFLOAD_PREFER_BACKEND")]
    pub prefer_backend: Option<String>,
    /// Do not look for a GPU.
    #[arg(long, env = "OFFLOAD_NO_CUDA")]
    pub no_cuda: bool,
    /// Register the GPU backend with its kernels emulated on the host (bring-up, tests).
    #[arg(long, env = "OFFLOAD_CUDA_EMULATE")]
    pub cuda_emulate: bool,
    /// TLS: the server's certificate chain (PEM); with --tls-key.
    #[arg(long, env = "OFFLOAD_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// TLS: the server's private key (PEM).
    #[arg(long, env = "OFFLOAD_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// TLS: CA certificates that client certificates must chain to.
    #[arg(long, env = "OFFLOAD_TLS_CLIENT_CA")]
    pub tls_client_ca: Option<PathBuf>,
    /// TLS: refuse clients without a certificate (mutual TLS).
    #[arg(long, env = "OFFLOAD_TLS_REQUIRE_CLIENT_CERT")]
    pub tls_require_client_cert: bool,
    /// Allow plaintext TCP on an address other than loopback.
    #[arg(long, env = "OFFLOAD_INSECURE_PLAINTEXT")]
    pub insecure_plaintext: bool,
    /// Allow TCP on an address other than loopback with no tenants configured.
    #[arg(long, env = "OFFLOAD_INSECURE_OPEN")]
    pub insecure_open: bool,
    /// Allow the metrics listener on an address other than loopback.
    #[arg(long, env = "OFFLOAD_METRICS_PUBLIC")]
    pub metrics_public: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Commands other than serving.
#[derive(Clone, Debug, clap::Subcommand)]
pub enum Command {
    /// Make an API token for a tenant: prints the token (give it to the client; it is stored
    /// nowhere) and the configuration lines that declare its hash.
    Token {
        /// The tenant's name.
        #[arg(long)]
        tenant: String,
    },
    /// Check the configuration (file, environment, flags) as serving would, without serving:
    /// limits, tenants, TLS files, and whether the listen address may be served as
    /// configured. Exits 0 and prints a summary when it would start.
    CheckConfig,
}

/// `shm_dir = ""` in TOML means none, as `--shm-dir ""` does.
fn empty_is_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<PathBuf>, D::Error> {
    let v: Option<PathBuf> = Option::deserialize(d)?;
    Ok(v.filter(|p| !p.as_os_str().is_empty()))
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("parsing {path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("log_format must be \"text\" or \"json\", not {0:?}")]
    LogFormat(String),
    #[error("limit {0}")]
    Limit(String),
}

impl Config {
    pub fn from_toml(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        let c: Self = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.into(),
            source,
        })?;
        c.check()?;
        Ok(c)
    }

    /// Defaults, then the file, then environment and flags (clap has merged those two).
    pub fn load(flags: &Flags) -> Result<Self, ConfigError> {
        let mut c = match &flags.config {
            Some(p) => Self::from_toml(p)?,
            None => Self::default(),
        };
        if let Some(v) = &flags.listen {
            c.listen = v.clone();
        }
        if let Some(v) = &flags.uds {
            c.uds = Some(v.clone());
        }
        if let Some(v) = &flags.data_dir {
            c.data_dir = v.clone();
        }
        if let Some(v) = &flags.metrics_listen {
            c.metrics_listen = v.clone();
        }
        if let Some(v) = &flags.shm_dir {
            c.shm_dir = (!v.is_empty()).then(|| PathBuf::from(v));
        }
        if let Some(v) = &flags.log_format {
            c.log_format = v.clone();
        }
        if let Some(v) = &flags.fpga {
            c.fpga = (!v.is_empty()).then(|| v.clone());
        }
        if let Some(v) = &flags.prefer_backend {
            c.prefer_backend = (!v.is_empty()).then(|| v.clone());
        }
        if !flags.devices.is_empty() {
            c.devices = flags.devices.clone();
        }
        if flags.no_cuda {
            c.cuda = false;
        }
        if flags.cuda_emulate {
            c.cuda_emulate = true;
        }
        match (&flags.tls_cert, &flags.tls_key) {
            (Some(cert), Some(key)) => {
                c.tls = Some(crate::tls::TlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                    client_ca: flags.tls_client_ca.clone(),
                    require_client_cert: flags.tls_require_client_cert,
                })
            }
            (None, None) => {
                if let Some(tls) = &mut c.tls {
                    if flags.tls_client_ca.is_some() {
                        tls.client_ca = flags.tls_client_ca.clone();
                    }
                    tls.require_client_cert |= flags.tls_require_client_cert;
                }
            }
            _ => {
                return Err(ConfigError::Limit(
                    "--tls-cert and --tls-key go together".into(),
                ))
            }
        }
        c.insecure_plaintext |= flags.insecure_plaintext;
        c.insecure_open |= flags.insecure_open;
        c.metrics_public |= flags.metrics_public;
        if c.log_format != "text" && c.log_format != "json" {
            return Err(ConfigError::LogFormat(c.log_format));
        }
        c.check()?;
        Ok(c)
    }

    /// Limits that cannot work together, or that pass the contract's own.
    pub fn check(&self) -> Result<(), ConfigError> {
        use offload_proto::codec as wire;
        let over = |name: &'static str, v: usize, max: usize| {
            (v == 0 || v > max).then(|| ConfigError::Limit(format!("{name} = {v}: 1 to {max}")))
        };
        if let Err(e) = crate::auth::Auth::new(&self.tenants) {
            return Err(ConfigError::Limit(e.to_string()));
        }
        if self
            .tls
            .as_ref()
            .is_some_and(|t| t.require_client_cert && t.client_ca.is_none())
        {
            return Err(ConfigError::Limit(
                "tls.require_client_cert needs tls.client_ca".into(),
            ));
        }
        let problems = [
            over(
                "max_scalar_vectors",
                self.max_scalar_vectors,
                wire::MAX_SCALAR_VECTORS,
            ),
            over(
                "max_ntt_columns",
                self.max_ntt_columns,
                wire::MAX_NTT_COLUMNS,
            ),
            over(
                "max_verify_items",
                self.max_verify_items,
                wire::MAX_VERIFY_ITEMS,
            ),
            over("max_ntt_log_n", self.max_ntt_log_n as usize, 32),
            over("max_connections", self.max_connections, 1 << 20),
            over(
                "max_connections_per_source",
                self.max_connections_per_source,
                1 << 20,
            ),
            over("max_uploads", self.max_uploads, 1 << 16),
            (self.max_inflight_bytes < self.max_message_bytes).then(|| {
                ConfigError::Limit(format!(
                    "max_inflight_bytes ({}) must hold at least one message of \
                     max_message_bytes ({})",
                    self.max_inflight_bytes, self.max_message_bytes
                ))
            }),
        ];
        match problems.into_iter().flatten().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Config {
    /// The devices to open, as the registry takes them; a malformed `fpga` value is an error
    /// of the configuration, reported at start.
    pub fn devices(&self) -> Result<Vec<DeviceSpec>, offload_backends::SpecError> {
        if !self.devices.is_empty() {
            return (self.devices.iter())
                .map(|d| DeviceSpec::parse(d, self.fpga_clock_mhz))
                .collect();
        }
        let mut specs = Vec::new();
        if let Some(v) = &self.fpga {
            specs.push(DeviceSpec::fpga(v, self.fpga_clock_mhz)?);
        }
        if self.cuda_emulate {
            specs.push(DeviceSpec::CudaEmulated {
                max_log: offload_backends::EMULATED_GPU_MAX_LOG,
            });
        } else if self.cuda {
            specs.push(DeviceSpec::Cuda);
        }
        Ok(specs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_keys_become_specs() {
        let mut c = Config::default();
        assert_eq!(c.devices().unwrap(), [DeviceSpec::Cuda]);
        c.fpga = Some("sim:goldilocks:8x2".into());
        c.cuda_emulate = true;
        let names: Vec<_> = c.devices().unwrap().iter().map(|d| d.name()).collect();
        assert_eq!(names, ["fpga-sim", "cuda-emulated"]);
        c.fpga = Some("sim:mersenne".into());
        assert!(c.devices().is_err());
        c.fpga = Some("/dev/uio0".into());
        c.cuda = false;
        c.cuda_emulate = false;
        let names: Vec<_> = c.devices().unwrap().iter().map(|d| d.name()).collect();
        assert_eq!(names, ["fpga"]);
        // A devices list is the whole list, in its order.
        c.cuda = true;
        c.devices = vec!["fpga-sim:goldilocks:8x2".into(), "fpga-sim:6@50".into()];
        let specs = c.devices().unwrap();
        let names: Vec<_> = specs.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            names,
            ["fpga-sim goldilocks 2^8 x2", "fpga-sim babybear 2^6 x1"]
        );
        c.devices.push("gpu".into());
        assert!(c.devices().is_err());
    }

    #[test]
    fn defaults_then_file_then_flags() {
        let d = Config::default();
        assert_eq!(d.listen, "127.0.0.1:50051");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("offload.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:6000\"\nqueue_capacity = 5\nshm_dir = \"/tmp/x\"\n",
        )
        .unwrap();
        let flags = Flags {
            config: Some(file.clone()),
            listen: Some("127.0.0.1:7000".into()),
            shm_dir: Some(String::new()),
            ..Flags::default()
        };
        let c = Config::load(&flags).unwrap();
        assert_eq!(c.listen, "127.0.0.1:7000", "a flag beats the file");
        assert_eq!(c.queue_capacity, 5, "the file beats the default");
        assert_eq!(c.shm_dir, None, "an empty --shm-dir disables shared memory");
        assert_eq!(c.data_dir, d.data_dir);

        std::fs::write(&file, "shm_dir = \"\"\n").unwrap();
        assert_eq!(Config::from_toml(&file).unwrap().shm_dir, None);
        assert_eq!(
            Config::default().shm_dir,
            None,
            "shared memory is off by default"
        );
        use clap::Parser;
        let f = Flags::try_parse_from(["offloadd", "--shm-dir", ""]).unwrap();
        assert_eq!(
            Config::load(&f).unwrap().shm_dir,
            None,
            "--shm-dir \"\" starts"
        );
        std::fs::write(&file, "max_scalar_vectors = 5000\n").unwrap();
        let e = Config::from_toml(&file).unwrap_err().to_string();
        assert!(e.contains("max_scalar_vectors = 5000: 1 to 1024"), "{e}");

        std::fs::write(&file, "lisen = \"typo\"\n").unwrap();
        let e = Config::load(&flags).unwrap_err().to_string();
        assert!(e.contains("lisen"), "{e}");
        let bad = Flags {
            log_format: Some("xml".into()),
            ..Flags::default()
        };
        assert!(Config::load(&bad).is_err());
    }
}

//! Where a prover's MSMs and FFTs run: the in-process engine, or an offloadd reached by the
//! typed client. The calls are arkworks-typed and blocking, as arkworks provers are; base sets
//! are loaded once (uploaded to the daemon, kept by handle) and used by reference.

use crate::ProverError;
use ark_ec::short_weierstrass::{Affine, Projective};
use offload_client::{Client, ClientCurve, ClientField, ConnectOptions};
use offload_engine::cancel::Cancel;
use offload_engine::msm::{FixedBaseTable, MsmCurve};
use offload_engine::ntt::{self, Domain, NttConfig, NttField, Order};
use std::sync::{Arc, Mutex};

/// A group the prover's MSMs run in: the engine's arithmetic and the wire's encodings.
pub trait ProverCurve: MsmCurve + ClientCurve {}

impl<C: MsmCurve + ClientCurve> ProverCurve for C {}

/// A field the prover's FFTs run over: the engine's transforms and the wire's encoding.
pub trait ProverField: NttField + ClientField {}

impl<F: NttField + ClientField> ProverField for F {}

/// The engine in this process, or a daemon.
pub enum Offload {
    /// The engine, with fixed-base tables for loaded sets within this many bytes each (the
    /// daemon keeps tables for resident sets the same way).
    Local {
        table_budget: usize,
    },
    Remote(Box<Remote>),
}

/// Table memory per loaded set by default: every window of a 2^16 G2 set fits.
pub const DEFAULT_TABLE_BUDGET: usize = 256 << 20;

/// A daemon behind a blocking face: one client, driven by a runtime of its own (so the prover
/// must not call it from inside another async runtime).
pub struct Remote {
    rt: tokio::runtime::Runtime,
    client: Mutex<Client>,
}

/// A base set loaded for MSMs: the points themselves (in process) or a handle on the daemon.
pub struct Bases<C: ProverCurve> {
    len: usize,
    at: Placed<C>,
}

enum Placed<C: ProverCurve> {
    Local(Arc<FixedBaseTable<C>>),
    Remote(String),
}

impl<C: ProverCurve> Bases<C> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The daemon's handle, for a set uploaded there.
    pub fn handle(&self) -> Option<&str> {
        match &self.at {
            Placed::Remote(h) => Some(h),
            Placed::Local { .. } => None,
        }
    }
}

impl Offload {
    /// The in-process engine (AVX-512 IFMA where the CPU has it, chosen at run time), with
    /// fixed-base tables of [`DEFAULT_TABLE_BUDGET`] bytes per loaded set.
    pub fn local() -> Self {
        Self::local_with_tables(DEFAULT_TABLE_BUDGET)
    }

    /// The in-process engine with `bytes` of fixed-base table per loaded set (0: only the
    /// GLV images of the bases, as an MSM without a table computes them each time).
    pub fn local_with_tables(bytes: usize) -> Self {
        Offload::Local {
            table_budget: bytes,
        }
    }

    /// A daemon at `addr` (`http://HOST:PORT`, `https://…` or `unix:/PATH`).
    pub fn connect(addr: &str, options: &ConnectOptions) -> Result<Self, ProverError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| ProverError::Runtime(e.to_string()))?;
        let client = rt.block_on(Client::connect_with(addr, options))?;
        Ok(Offload::Remote(Box::new(Remote {
            rt,
            client: Mutex::new(client),
        })))
    }

    pub fn is_local(&self) -> bool {
        matches!(self, Offload::Local { .. })
    }

    fn remote<T>(
        r: &Remote,
        f: impl AsyncFnOnce(&mut Client) -> Result<T, offload_client::ClientError>,
    ) -> Result<T, ProverError> {
        let mut client = r.client.lock().unwrap_or_else(|e| e.into_inner());
        Ok(r.rt.block_on(f(&mut client))?)
    }

    /// Load `points` for the MSMs to come: kept here, or uploaded once and used by handle.
    pub fn load_bases<C: ProverCurve>(
        &self,
        points: &[Affine<C>],
        label: &str,
    ) -> Result<Bases<C>, ProverError> {
        let at = match self {
            Offload::Local { table_budget } => {
                Placed::Local(Arc::new(FixedBaseTable::new(points, *table_budget)))
            }
            Offload::Remote(r) => Placed::Remote(Self::remote(r, async |c| {
                c.upload_bases(points, label).await
            })?),
        };
        Ok(Bases {
            len: points.len(),
            at,
        })
    }

    /// Σ scalars[i]·bases[i]; the lengths must match.
    pub fn msm<C: ProverCurve>(
        &self,
        bases: &Bases<C>,
        scalars: &[C::ScalarField],
    ) -> Result<Projective<C>, ProverError> {
        if scalars.len() != bases.len {
            return Err(ProverError::Length {
                what: "scalars",
                got: scalars.len(),
                want: bases.len,
            });
        }
        match (&bases.at, self) {
            (Placed::Local(table), _) => table
                .msm(scalars)
                .map_err(|e| ProverError::Engine(e.to_string())),
            (Placed::Remote(h), Offload::Remote(r)) => {
                Self::remote(r, async |c| c.msm::<C>(h, scalars).await)
            }
            (Placed::Remote(_), Offload::Local { .. }) => Err(ProverError::Elsewhere),
        }
    }

    /// The same transform of every column of a matrix stored row by row (`width` elements a
    /// row; the height a power of two), in place. The engine transforms the rows where they
    /// are; a daemon takes columns, so the matrix is transposed there and back.
    pub fn fft_rows<F: ProverField>(
        &self,
        cfg: &NttConfig<F>,
        values: &mut [F],
        width: usize,
    ) -> Result<(), ProverError> {
        if values.is_empty() {
            return Ok(());
        }
        let height = values.len().checked_div(width).unwrap_or(0);
        match self {
            Offload::Local { .. } => Domain::<F>::for_len(height)
                .and_then(|d| d.ntt_rows(values, width, cfg, &Cancel::never()))
                .map_err(|e| ProverError::Engine(e.to_string())),
            Offload::Remote(_) => {
                check_rows(values.len(), height, width)?;
                let mut columns = to_columns(values, height, width);
                self.fft(cfg, &mut columns)?;
                from_columns(&columns, values, width);
                Ok(())
            }
        }
    }

    /// The low-degree extension of every column of a matrix stored row by row: interpolated
    /// over the subgroup of its height, evaluated on `shift` times the subgroup
    /// `2^added_bits` times larger (Plonky3's `coset_lde_batch`), returned row by row, the
    /// rows in `output` order.
    pub fn lde_rows<F: ProverField>(
        &self,
        values: &[F],
        width: usize,
        added_bits: u32,
        shift: F,
        output: Order,
    ) -> Result<Vec<F>, ProverError> {
        match self {
            Offload::Local { .. } => {
                ntt::lde_rows(values, width, added_bits, shift, output, &Cancel::never())
                    .map_err(|e| ProverError::Engine(e.to_string()))
            }
            Offload::Remote(_) => {
                if values.is_empty() {
                    return Ok(Vec::new());
                }
                let height = values.len().checked_div(width).unwrap_or(0);
                check_rows(values.len(), height, width)?;
                let mut columns = to_columns(values, height, width);
                self.fft(&NttConfig::inverse(), &mut columns)?;
                let tall = height << added_bits;
                for c in &mut columns {
                    c.resize(tall, F::zero());
                }
                let cfg = NttConfig::forward()
                    .coset(shift)
                    .orders(Order::Natural, output);
                self.fft(&cfg, &mut columns)?;
                let mut out = vec![F::zero(); tall * width];
                from_columns(&columns, &mut out, width);
                Ok(out)
            }
        }
    }

    /// The same transform of every column (all of one power-of-two length), in place.
    pub fn fft<F: ProverField>(
        &self,
        cfg: &NttConfig<F>,
        columns: &mut [Vec<F>],
    ) -> Result<(), ProverError> {
        let Some(n) = columns.first().map(Vec::len) else {
            return Ok(());
        };
        if let Some(c) = columns.iter().find(|c| c.len() != n) {
            return Err(ProverError::Length {
                what: "column",
                got: c.len(),
                want: n,
            });
        }
        match self {
            Offload::Local { .. } => {
                let domain =
                    Domain::<F>::for_len(n).map_err(|e| ProverError::Engine(e.to_string()))?;
                use rayon::prelude::*;
                columns
                    .par_iter_mut()
                    .try_for_each(|c| domain.ntt(c, cfg))
                    .map_err(|e| ProverError::Engine(e.to_string()))
            }
            Offload::Remote(r) => {
                let out = {
                    let refs: Vec<&[F]> = columns.iter().map(Vec::as_slice).collect();
                    Self::remote(r, async |c| c.ntt(cfg, &refs).await)?
                };
                if out.len() != columns.len() {
                    return Err(ProverError::Length {
                        what: "columns returned",
                        got: out.len(),
                        want: columns.len(),
                    });
                }
                for (c, o) in columns.iter_mut().zip(out) {
                    *c = o;
                }
                Ok(())
            }
        }
    }
}

fn check_rows(len: usize, height: usize, width: usize) -> Result<(), ProverError> {
    if height.checked_mul(width) != Some(len) {
        return Err(ProverError::Length {
            what: "matrix",
            got: len,
            want: height.saturating_mul(width),
        });
    }
    Ok(())
}

/// The columns of a row-major matrix.
fn to_columns<F: Copy>(values: &[F], height: usize, width: usize) -> Vec<Vec<F>> {
    (0..width)
        .map(|c| (0..height).map(|r| values[r * width + c]).collect())
        .collect()
}

/// Columns back into a row-major matrix of `width`.
fn from_columns<F: Copy>(columns: &[Vec<F>], out: &mut [F], width: usize) {
    for (c, col) in columns.iter().enumerate() {
        for (r, &x) in col.iter().enumerate() {
            out[r * width + c] = x;
        }
    }
}

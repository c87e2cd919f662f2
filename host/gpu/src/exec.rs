//! Running a [`Plan`]: on the GPU through cudarc, or on the host through the same kernels
//! compiled for the host (`cuda/host_check.cpp`), launch by launch.

use crate::plan::{Arg, Plan, ResidentKey};
use crate::resident::{Cache, ResidentStats};
use cudarc::driver::{
    CudaContext, CudaModule, CudaSlice, CudaStream, LaunchConfig, PinnedHostSlice, PushKernelArg,
};
use cudarc::nvrtc::Ptx;
use offload_kernels::cache;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("no kernel {0}")]
    NoKernel(String),
    #[error("launch {kernel}: argument {index} names buffer {buffer}, which the plan lacks")]
    NoBuffer {
        kernel: String,
        index: usize,
        buffer: usize,
    },
    #[error("launch shape the kernel cannot run with: {0}")]
    BadLaunch(String),
    #[error("compiling the kernels: {0}")]
    Compile(#[from] offload_kernels::CompileError),
    #[error("CUDA: {0}")]
    Cuda(String),
    /// A result the device returned that cannot be right (reported by whoever decodes it).
    #[error("{0}")]
    BadResult(String),
}

pub trait Executor: Send {
    /// Run every launch in order; the plan's buffers hold the results afterwards.
    fn execute(&mut self, plan: &mut Plan) -> Result<(), ExecError>;
    /// What the executor holds between plans, and what it has uploaded.
    fn resident(&self) -> ResidentStats {
        ResidentStats::default()
    }
    /// Free what is held for the base set `handle`.
    fn release(&mut self, _handle: &str) {}
    /// Run the plans `next` yields, handing each to `done` when its result is in; a device
    /// may overlap one plan's transfers with another's compute, and hands plans back in
    /// order. Stops at the first error.
    fn execute_stream(
        &mut self,
        next: &mut dyn FnMut() -> Option<Plan>,
        done: &mut dyn FnMut(Plan) -> Result<(), ExecError>,
    ) -> Result<(), ExecError> {
        while let Some(mut p) = next() {
            self.execute(&mut p)?;
            done(p)?;
        }
        Ok(())
    }
}

/// Resident words the host executor keeps by default (1 GiB).
const HOST_RESIDENT_WORDS: usize = 1 << 28;

/// The kernels on the host, one loop per launch. Resident buffers are kept in host memory
/// standing in for the device's, with the same accounting.
pub struct Host {
    cache: Cache<Vec<u32>>,
}

impl Default for Host {
    fn default() -> Self {
        Self::with_resident_limit(HOST_RESIDENT_WORDS)
    }
}

impl Host {
    /// A host executor that keeps at most `words` resident words.
    pub fn with_resident_limit(words: usize) -> Self {
        Self {
            cache: Cache::new(words),
        }
    }
}

/// Where each resident buffer of a plan lives for this run: in the cache, or (too large to
/// keep) only for this run.
enum Place<B> {
    Kept(ResidentKey),
    Once(B),
}

/// Resident buffers made or found, by buffer index.
fn place<B>(
    cache: &mut Cache<B>,
    plan: &Plan,
    upload: &mut dyn FnMut(Vec<u32>) -> Result<B, ExecError>,
) -> Result<Vec<Option<Place<B>>>, ExecError> {
    let mut places: Vec<Option<Place<B>>> = (0..plan.buffers.len()).map(|_| None).collect();
    for r in &plan.resident {
        let slot = places
            .get_mut(r.buffer)
            .ok_or_else(|| ExecError::NoBuffer {
                kernel: "(resident)".into(),
                index: 0,
                buffer: r.buffer,
            })?;
        if cache.touch(&r.key) {
            *slot = Some(Place::Kept(r.key.clone()));
            continue;
        }
        let words = (r.fill)();
        let len = words.len();
        let buf = upload(words)?;
        *slot = Some(match cache.insert(r.key.clone(), buf, len) {
            Ok(()) => Place::Kept(r.key.clone()),
            Err(buf) => Place::Once(buf),
        });
    }
    Ok(places)
}

impl Executor for Host {
    fn resident(&self) -> ResidentStats {
        self.cache.stats()
    }

    fn release(&mut self, handle: &str) {
        self.cache.release(handle);
    }

    fn execute(&mut self, plan: &mut Plan) -> Result<(), ExecError> {
        let mut places = place(&mut self.cache, plan, &mut |w| Ok(w))?;
        for l in &plan.launches {
            let mut bufs: Vec<*mut u32> = Vec::new();
            let mut nums = Vec::new();
            for (index, a) in l.args.iter().enumerate() {
                match *a {
                    Arg::Buf(b) => {
                        let missing = || ExecError::NoBuffer {
                            kernel: l.kernel.clone(),
                            index,
                            buffer: b,
                        };
                        let ptr = match places.get_mut(b) {
                            Some(Some(Place::Once(v))) => v.as_mut_ptr(),
                            Some(Some(Place::Kept(key))) => {
                                self.cache.get_mut(key).ok_or_else(missing)?.as_mut_ptr()
                            }
                            _ => plan.buffers.get_mut(b).ok_or_else(missing)?.as_mut_ptr(),
                        };
                        bufs.push(ptr);
                    }
                    Arg::U32(v) => nums.push(v as u64),
                    Arg::U64(v) => nums.push(v),
                }
            }
            let name = std::ffi::CString::new(l.kernel.as_str())
                .map_err(|_| ExecError::NoKernel(l.kernel.clone()))?;
            // SAFETY: the plan sized every buffer for its kernel's grid (the same sizes the
            // device gets), and the host loop touches exactly what the device threads would.
            let rc = unsafe {
                offload_kernels::host::offload_host_launch(
                    name.as_ptr(),
                    bufs.as_ptr(),
                    bufs.len() as u32,
                    nums.as_ptr(),
                    nums.len() as u32,
                    l.threads,
                    l.block,
                )
            };
            match rc {
                0 => {}
                -2 => {
                    return Err(ExecError::BadLaunch(format!(
                        "{}: {} threads in blocks of {}",
                        l.kernel, l.threads, l.block
                    )))
                }
                _ => return Err(ExecError::NoKernel(l.kernel.clone())),
            }
        }
        Ok(())
    }
}

/// The kernels on a GPU: modules compiled (or taken from the cache) on first use. Each plan
/// goes on one of two streams: inputs staged through page-locked memory and copied
/// asynchronously, work buffers zeroed on the device, launches, the result copied back
/// asynchronously. With [`Executor::execute_stream`] the next plan's copies run while the
/// previous plan computes.
pub struct Cuda {
    ctx: Arc<CudaContext>,
    arch: &'static str,
    modules: HashMap<&'static str, Arc<CudaModule>>,
    cache: Cache<CudaSlice<u32>>,
    streams: Vec<Arc<CudaStream>>,
}

fn cuda<E: std::fmt::Debug>(e: E) -> ExecError {
    ExecError::Cuda(format!("{e:?}"))
}

/// A plan whose work is queued on a stream, with everything that must live until it is done.
struct InFlight {
    plan: Plan,
    stream: Arc<CudaStream>,
    _bufs: Vec<CudaSlice<u32>>,
    _staged: Vec<PinnedHostSlice<u32>>,
    _once: Vec<CudaSlice<u32>>,
    out: PinnedHostSlice<u32>,
}

impl Cuda {
    /// Device `ordinal`, keeping at most `resident_bytes` of resident buffers; call only
    /// after [`offload_kernels::probe`] found it.
    pub fn new(
        ordinal: usize,
        arch: &'static str,
        resident_bytes: usize,
    ) -> Result<Self, ExecError> {
        let ctx = catch_unwind(|| CudaContext::new(ordinal))
            .map_err(|_| ExecError::Cuda("the driver panicked".into()))?
            .map_err(cuda)?;
        let streams = vec![
            ctx.new_stream().map_err(cuda)?,
            ctx.new_stream().map_err(cuda)?,
        ];
        Ok(Self {
            ctx,
            arch,
            modules: HashMap::new(),
            cache: Cache::new(resident_bytes / 4),
            streams,
        })
    }

    fn module(&mut self, name: &'static str) -> Result<Arc<CudaModule>, ExecError> {
        if let Some(m) = self.modules.get(name) {
            return Ok(m.clone());
        }
        let (ptx, _) = cache::ptx(&cache::default_dir(), name, self.arch)?;
        let m = self.ctx.load_module(Ptx::from_src(ptx)).map_err(cuda)?;
        self.modules.insert(name, m.clone());
        Ok(m)
    }

    /// Page-locked host memory holding `words` (one word if empty).
    fn pinned(&self, words: &[u32]) -> Result<PinnedHostSlice<u32>, ExecError> {
        let len = words.len().max(1);
        // SAFETY: every word is written below before the slice is read.
        let mut p = unsafe { self.ctx.alloc_pinned::<u32>(len) }.map_err(cuda)?;
        let dst = p.as_mut_slice().map_err(cuda)?;
        dst[..words.len()].copy_from_slice(words);
        dst[words.len()..].fill(0);
        Ok(p)
    }

    /// Queue `plan` on `stream`: nothing here waits for the device.
    fn issue(&mut self, plan: Plan, stream: Arc<CudaStream>) -> Result<InFlight, ExecError> {
        let module = self.module(plan.module)?;
        let mut places = {
            let s = stream.clone();
            place(&mut self.cache, &plan, &mut |w| {
                s.clone_htod(&w).map_err(cuda)
            })?
        };
        let mut bufs: Vec<CudaSlice<u32>> = Vec::with_capacity(plan.buffers.len());
        let mut staged = Vec::new();
        for (i, b) in plan.buffers.iter().enumerate() {
            let resident = places.get(i).is_some_and(Option::is_some);
            if i == plan.result && resident {
                return Err(ExecError::Cuda(
                    "a resident buffer cannot be the result".into(),
                ));
            }
            // Every argument gets a valid pointer, an empty buffer (or a resident buffer's
            // placeholder, never passed) one word; zero-filled work buffers are zeroed on the
            // device rather than copied.
            let len = b.len().max(1);
            if resident || b.iter().all(|&w| w == 0) {
                bufs.push(stream.alloc_zeros::<u32>(len).map_err(cuda)?);
            } else {
                let host = self.pinned(b)?;
                // SAFETY: the copy below writes all `len` words before any launch reads them.
                let mut dev = unsafe { stream.alloc::<u32>(len) }.map_err(cuda)?;
                stream.memcpy_htod(&host, &mut dev).map_err(cuda)?;
                staged.push(host);
                bufs.push(dev);
            }
        }
        for l in &plan.launches {
            let f = module.load_function(&l.kernel).map_err(cuda)?;
            let block = l.block.max(1);
            let grid = l.threads.div_ceil(block as u64);
            let grid = u32::try_from(grid.max(1))
                .map_err(|_| ExecError::Cuda(format!("{}: grid too large", l.kernel)))?;
            let cfg = LaunchConfig {
                grid_dim: (grid, 1, 1),
                block_dim: (block, 1, 1),
                shared_mem_bytes: l.shared,
            };
            let mut b = stream.launch_builder(&f);
            for (index, a) in l.args.iter().enumerate() {
                match a {
                    Arg::Buf(i) => {
                        let missing = || ExecError::NoBuffer {
                            kernel: l.kernel.clone(),
                            index,
                            buffer: *i,
                        };
                        let s = match places.get(*i) {
                            Some(Some(Place::Once(s))) => s,
                            Some(Some(Place::Kept(key))) => {
                                self.cache.get(key).ok_or_else(missing)?
                            }
                            _ => bufs.get(*i).ok_or_else(missing)?,
                        };
                        b.arg(s);
                    }
                    Arg::U32(v) => {
                        b.arg(v);
                    }
                    Arg::U64(v) => {
                        b.arg(v);
                    }
                }
            }
            // SAFETY: the arguments match the kernel's signature by construction of the plan
            // (checked on the host by the same plan), and every buffer is sized for the grid.
            unsafe { b.launch(cfg) }.map_err(cuda)?;
        }
        let result = bufs.get(plan.result).ok_or_else(|| ExecError::NoBuffer {
            kernel: "(result)".into(),
            index: 0,
            buffer: plan.result,
        })?;
        // SAFETY: the device-to-host copy below fills it before it is read.
        let mut out = unsafe { self.ctx.alloc_pinned::<u32>(result.len()) }.map_err(cuda)?;
        stream.memcpy_dtoh(result, &mut out).map_err(cuda)?;
        let once = places
            .iter_mut()
            .filter_map(|p| match p.take() {
                Some(Place::Once(s)) => Some(s),
                _ => None,
            })
            .collect();
        Ok(InFlight {
            plan,
            stream,
            _bufs: bufs,
            _staged: staged,
            _once: once,
            out,
        })
    }

    /// Wait for a queued plan and take its result.
    fn finish(f: InFlight) -> Result<Plan, ExecError> {
        f.stream.synchronize().map_err(cuda)?;
        let mut plan = f.plan;
        let words = f.out.as_slice().map_err(cuda)?;
        let keep = plan.buffers[plan.result].len();
        plan.buffers[plan.result] = words[..keep.min(words.len())].to_vec();
        Ok(plan)
    }

    fn stream_plans(
        &mut self,
        next: &mut dyn FnMut() -> Option<Plan>,
        done: &mut dyn FnMut(Plan) -> Result<(), ExecError>,
    ) -> Result<(), ExecError> {
        // Two plans in flight, one per stream: plan k + 1's copies overlap plan k's kernels,
        // and device memory holds at most two plans' buffers.
        let mut flight: std::collections::VecDeque<InFlight> = Default::default();
        let mut k = 0usize;
        while let Some(plan) = next() {
            if flight.len() == self.streams.len() {
                if let Some(f) = flight.pop_front() {
                    done(Self::finish(f)?)?;
                }
            }
            let stream = self.streams[k % self.streams.len()].clone();
            flight.push_back(self.issue(plan, stream)?);
            k += 1;
        }
        while let Some(f) = flight.pop_front() {
            done(Self::finish(f)?)?;
        }
        Ok(())
    }
}

impl Executor for Cuda {
    fn resident(&self) -> ResidentStats {
        self.cache.stats()
    }

    fn release(&mut self, handle: &str) {
        self.cache.release(handle);
    }

    fn execute(&mut self, plan: &mut Plan) -> Result<(), ExecError> {
        let mut input = Some(std::mem::replace(plan, empty_plan()));
        let mut output = None;
        let ran = self.execute_stream(&mut || input.take(), &mut |p| {
            output = Some(p);
            Ok(())
        });
        if let Some(p) = output {
            *plan = p;
        }
        ran
    }

    fn execute_stream(
        &mut self,
        next: &mut dyn FnMut() -> Option<Plan>,
        done: &mut dyn FnMut(Plan) -> Result<(), ExecError>,
    ) -> Result<(), ExecError> {
        catch_unwind(AssertUnwindSafe(|| self.stream_plans(next, done)))
            .unwrap_or_else(|_| Err(ExecError::Cuda("the driver panicked".into())))
    }
}

fn empty_plan() -> Plan {
    Plan {
        module: "",
        buffers: Vec::new(),
        launches: Vec::new(),
        result: 0,
        resident: Vec::new(),
    }
}

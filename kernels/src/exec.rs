//! Running a [`Plan`]: on the GPU through cudarc, or on the host through the same kernels
//! compiled for the host (`cuda/host_check.cpp`), launch by launch.

use crate::cache;
use crate::plan::{Arg, Plan};
use cudarc::driver::{CudaContext, CudaModule, CudaSlice, LaunchConfig, PushKernelArg};
use cudarc::nvrtc::Ptx;
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
    #[error("compiling the kernels: {0}")]
    Compile(#[from] crate::CompileError),
    #[error("CUDA: {0}")]
    Cuda(String),
}

pub trait Executor: Send {
    /// Run every launch in order; the plan's buffers hold the results afterwards.
    fn execute(&mut self, plan: &mut Plan) -> Result<(), ExecError>;
}

/// The kernels on the host, one loop per launch.
#[derive(Default)]
pub struct Host;

impl Executor for Host {
    fn execute(&mut self, plan: &mut Plan) -> Result<(), ExecError> {
        for l in &plan.launches {
            let mut bufs: Vec<*mut u32> = Vec::new();
            let mut nums = Vec::new();
            for (index, a) in l.args.iter().enumerate() {
                match *a {
                    Arg::Buf(b) => {
                        let buf = plan.buffers.get_mut(b).ok_or_else(|| ExecError::NoBuffer {
                            kernel: l.kernel.clone(),
                            index,
                            buffer: b,
                        })?;
                        bufs.push(buf.as_mut_ptr());
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
                crate::host::offload_host_launch(
                    name.as_ptr(),
                    bufs.as_ptr(),
                    bufs.len() as u32,
                    nums.as_ptr(),
                    nums.len() as u32,
                    l.threads,
                )
            };
            if rc != 0 {
                return Err(ExecError::NoKernel(l.kernel.clone()));
            }
        }
        Ok(())
    }
}

/// The kernels on a GPU: modules compiled (or taken from the cache) on first use, buffers
/// copied in, every launch on one stream, the result buffer copied back.
pub struct Cuda {
    ctx: Arc<CudaContext>,
    arch: &'static str,
    modules: HashMap<&'static str, Arc<CudaModule>>,
}

fn cuda<E: std::fmt::Debug>(e: E) -> ExecError {
    ExecError::Cuda(format!("{e:?}"))
}

impl Cuda {
    /// Device `ordinal`; call only after [`crate::probe`] found it.
    pub fn new(ordinal: usize, arch: &'static str) -> Result<Self, ExecError> {
        let ctx = catch_unwind(|| CudaContext::new(ordinal))
            .map_err(|_| ExecError::Cuda("the driver panicked".into()))?
            .map_err(cuda)?;
        Ok(Self {
            ctx,
            arch,
            modules: HashMap::new(),
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

    fn run(&mut self, plan: &mut Plan) -> Result<(), ExecError> {
        let module = self.module(plan.module)?;
        let stream = self.ctx.default_stream();
        let mut bufs: Vec<CudaSlice<u32>> = Vec::with_capacity(plan.buffers.len());
        for b in &plan.buffers {
            // An empty buffer still gets an allocation, so every argument is a valid pointer.
            let words: &[u32] = if b.is_empty() { &[0] } else { b };
            bufs.push(stream.clone_htod(words).map_err(cuda)?);
        }
        for l in &plan.launches {
            let f = module.load_function(&l.kernel).map_err(cuda)?;
            let block = 256u32;
            let grid = l.threads.div_ceil(block as u64);
            let grid = u32::try_from(grid.max(1))
                .map_err(|_| ExecError::Cuda(format!("{}: grid too large", l.kernel)))?;
            let cfg = LaunchConfig {
                grid_dim: (grid, 1, 1),
                block_dim: (block, 1, 1),
                shared_mem_bytes: 0,
            };
            let mut b = stream.launch_builder(&f);
            for (index, a) in l.args.iter().enumerate() {
                match a {
                    Arg::Buf(i) => {
                        let s = bufs.get(*i).ok_or_else(|| ExecError::NoBuffer {
                            kernel: l.kernel.clone(),
                            index,
                            buffer: *i,
                        })?;
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
        plan.buffers[plan.result] = stream.clone_dtoh(&bufs[plan.result]).map_err(cuda)?;
        stream.synchronize().map_err(cuda)?;
        Ok(())
    }
}

impl Executor for Cuda {
    fn execute(&mut self, plan: &mut Plan) -> Result<(), ExecError> {
        catch_unwind(AssertUnwindSafe(|| self.run(plan)))
            .unwrap_or_else(|_| Err(ExecError::Cuda("the driver panicked".into())))
    }
}

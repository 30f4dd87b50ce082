//! Finding ONNX Runtime at run time (`ort` with `load-dynamic`): `ORT_DYLIB_PATH`, then the
//! user config's `onnxruntime`, then an installed `onnxruntime` Python wheel (a `.venv` here, or
//! the first `python3` on the PATH), with a message saying exactly how to get it otherwise.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where the library was found, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub path: PathBuf,
    pub how: String,
    /// From the file name (`libonnxruntime.so.1.32.0`), when it says.
    pub version: Option<String>,
}

pub const HOW_TO_GET: &str = "ONNX Runtime was not found. Install it with `python3 -m pip install onnxruntime` (the library is onnxruntime/capi/libonnxruntime.so.* inside the wheel), or point ORT_DYLIB_PATH at libonnxruntime.so, or set `onnxruntime = \"/path/to/libonnxruntime.so\"` in ~/.config/lightbox/config.toml";

/// Why ONNX Runtime is not available; each message says how to get it (the `onnxruntime` PyPI
/// wheel, or `ORT_DYLIB_PATH`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuntimeError {
    #[error("{HOW_TO_GET}")]
    NotFound,
    #[error("ORT_DYLIB_PATH={} is not a file. {HOW_TO_GET}", path.display())]
    EnvNotAFile { path: PathBuf },
    #[error("the user config's onnxruntime = {} is not a file. {HOW_TO_GET}", path.display())]
    ConfigNotAFile { path: PathBuf },
    /// The library is there but does not load (ONNX Runtime's own message: kept as text, the
    /// outcome is remembered for the process).
    #[error(
        "{}: cannot load ONNX Runtime: {message}. Reinstall it (`python3 -m pip install --force-reinstall onnxruntime`) or point ORT_DYLIB_PATH at a working libonnxruntime.so (1.23 or later)",
        path.display()
    )]
    Load { path: PathBuf, message: String },
    #[error("{}: ONNX Runtime loaded but would not start: {message}", path.display())]
    Start { path: PathBuf, message: String },
}

/// A `--device` that is not one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0:?} is not a device: give cpu, cuda, cuda:N or auto")]
pub struct DeviceError(pub String);

fn lib_in(capi: &Path) -> Option<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(capi)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (n.starts_with("libonnxruntime.so")
                || n.starts_with("libonnxruntime.") && n.ends_with(".dylib")
                || n == "onnxruntime.dll")
                && !n.contains("providers")
        })
        .collect();
    v.sort();
    v.pop()
}

fn version_of(p: &Path) -> Option<String> {
    let n = p.file_name()?.to_string_lossy().into_owned();
    let v = n.split(".so.").nth(1)?;
    Some(v.to_string())
}

/// Look for the library; `configured` is the user config's path.
pub fn find(configured: Option<&Path>) -> Result<Found, RuntimeError> {
    let found = |path: PathBuf, how: &str| Found {
        version: version_of(&path),
        path,
        how: how.into(),
    };
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(found(p, "ORT_DYLIB_PATH"));
        }
        return Err(RuntimeError::EnvNotAFile { path: p });
    }
    if let Some(p) = configured {
        if p.is_file() {
            return Ok(found(p.to_path_buf(), "the user config"));
        }
        return Err(RuntimeError::ConfigNotAFile { path: p.to_path_buf() });
    }
    // a virtual environment in or above the current folder, then the python on the PATH
    let mut dir = std::env::current_dir().ok();
    while let Some(d) = dir {
        for venv in [".venv", "venv"] {
            if let Ok(rd) = std::fs::read_dir(d.join(venv).join("lib")) {
                for py in rd.filter_map(|e| e.ok()) {
                    let capi = py.path().join("site-packages/onnxruntime/capi");
                    if let Some(l) = lib_in(&capi) {
                        return Ok(found(l, "the onnxruntime wheel in a virtual environment"));
                    }
                }
            }
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    for py in ["python3", "python"] {
        let out = std::process::Command::new(py)
            .args([
                "-c",
                "import onnxruntime, os; print(os.path.join(os.path.dirname(onnxruntime.__file__), 'capi'))",
            ])
            .output();
        if let Ok(o) = out
            && o.status.success()
            && let Some(l) = lib_in(Path::new(String::from_utf8_lossy(&o.stdout).trim()))
        {
            return Ok(found(l, &format!("the onnxruntime wheel of {py}")));
        }
    }
    Err(RuntimeError::NotFound)
}

static INIT: OnceLock<Result<(Found, ort::environment::Environment), RuntimeError>> = OnceLock::new();

/// Load ONNX Runtime once for the process: where it was found, and its environment.
pub fn init(configured: Option<&Path>) -> Result<(Found, ort::environment::Environment), RuntimeError> {
    INIT.get_or_init(|| {
        let f = find(configured)?;
        let builder = ort::init_from(&f.path).map_err(|e| RuntimeError::Load {
            path: f.path.clone(),
            message: e.to_string(),
        })?;
        let env = builder.with_name("lightbox").build().map_err(|e| RuntimeError::Start {
            path: f.path.clone(),
            message: e.to_string(),
        })?;
        Ok((f, env))
    })
    .clone()
}

/// Where a model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    #[default]
    Cpu,
    /// ONNX Runtime's CUDA execution provider on this GPU; an error when it cannot be used.
    Cuda(i32),
    /// CUDA (GPU 0) when this ONNX Runtime has it and it starts; the CPU otherwise.
    Auto,
}

impl std::str::FromStr for Device {
    type Err = DeviceError;

    fn from_str(s: &str) -> Result<Device, DeviceError> {
        match s {
            "cpu" => Ok(Device::Cpu),
            "auto" => Ok(Device::Auto),
            "cuda" | "gpu" => Ok(Device::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(Device::Cuda)
                .ok_or_else(|| DeviceError(s.to_string())),
        }
    }
}

/// How to get ONNX Runtime with CUDA, for messages.
pub const HOW_TO_GET_CUDA: &str = "install the GPU build of ONNX Runtime (`python3 -m pip install onnxruntime-gpu`, which needs NVIDIA's CUDA and cuDNN libraries; `pip install 'onnxruntime-gpu[cuda,cudnn]'` brings them) and point ORT_DYLIB_PATH at its onnxruntime/capi/libonnxruntime.so.*";

/// Whether the loaded ONNX Runtime was built with the CUDA execution provider (it may still
/// fail to start without the CUDA and cuDNN libraries).
pub fn has_cuda() -> bool {
    use ort::ep::ExecutionProvider;
    ort::ep::CUDA::is_available().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_runtime_says_how_to_get_it() {
        let e = RuntimeError::EnvNotAFile {
            path: PathBuf::from("/nowhere/libonnxruntime.so"),
        };
        let said = e.to_string();
        assert!(
            said.starts_with("ORT_DYLIB_PATH=/nowhere/libonnxruntime.so is not a file. "),
            "{said}"
        );
        assert!(said.contains("python3 -m pip install onnxruntime"), "{said}");
        assert_eq!(RuntimeError::NotFound.to_string(), HOW_TO_GET);
        assert_eq!(
            "tpu".parse::<Device>().unwrap_err().to_string(),
            "\"tpu\" is not a device: give cpu, cuda, cuda:N or auto"
        );
    }
}

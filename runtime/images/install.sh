#!/bin/sh
# Installs the runtime package (@gcp-ml-platform/mlp, runtime/package.json) the way the component images do,
# in two steps so an image rebuilds its dependency layer only when runtime/package.json or the workspace's
# package-lock.json change:
#
#   install.sh deps DEST cpu|gpu|none [npm flags...]
#       DEST holds runtime/package.json (as package.json) and the workspace's package-lock.json. Installs the
#       runtime's production dependencies at the versions the lock file pins, minus the native TensorFlow
#       package the target does not use: cpu keeps @tensorflow/tfjs-node, gpu keeps @tensorflow/tfjs-node-gpu,
#       none keeps neither (wasm backend). cpu and gpu fail unless libtensorflow and the binding were really
#       installed: npm drops a failed optional dependency silently, which would ship a wasm-only image. gpu
#       also fetches onnxruntime-node's CUDA 12 provider and fails unless it is there and every library it
#       links resolves (the CUDA 12 / cuDNN 9 libraries the Dockerfile's gpu-base installs).
#   install.sh sources TARBALL DEST
#       Unpacks the sources of the `npm pack` tarball (its dist/: runtime/ and pipelines/, as in the
#       repository) into DEST, next to the package.json of the step above.
#
# The npm pack install test (test/runtime/images/pack-install.test.ts) runs the same two steps.
set -eu

usage() {
  echo "usage: install.sh deps DEST cpu|gpu|none [npm flags...] | install.sh sources TARBALL DEST" >&2
  exit 2
}

has_native_tf() {
  # Both the shared library and the Node binding must be there.
  find "node_modules/$1" -name 'libtensorflow.so*' | grep -q . && find "node_modules/$1" -name 'tfjs_binding.node' | grep -q .
}

# onnxruntime-node's CUDA 12 provider (libonnxruntime_providers_cuda.so and _shared.so, from the NuGet package
# Microsoft.ML.OnnxRuntime.Gpu.Linux of the same version) into its bin folder, by its own install script:
# ONNXRUNTIME_NODE_INSTALL_CUDA=v12 forces that download (ONNXRUNTIME_NODE_INSTALL, which would win over it, is
# unset; onnxruntime-node 1.30 ignores its value cuda12). The script's failure exits non-zero, and the checks
# below catch a provider that is missing or links a library the image does not have.
install_onnx_cuda() {
  env -u ONNXRUNTIME_NODE_INSTALL ONNXRUNTIME_NODE_INSTALL_CUDA=v12 node node_modules/onnxruntime-node/script/install.js
  provider=$(find node_modules/onnxruntime-node/bin -name libonnxruntime_providers_cuda.so | head -n 1)
  [ -n "$provider" ] || { echo "install.sh: onnxruntime-node's CUDA provider did not install (NuGet download failed?)" >&2; exit 1; }
  # libcuda.so.1 is the driver's, mounted into the container at run time.
  missing=$(LD_LIBRARY_PATH="$(dirname "$provider")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$provider" | grep 'not found' | grep -v 'libcuda\.so\.1' || true)
  [ -z "$missing" ] || { echo "install.sh: onnxruntime-node's CUDA provider needs libraries the image lacks: $(echo "$missing" | tr -s ' \t\n' ' ')" >&2; exit 1; }
}

[ $# -ge 1 ] || usage
step=$1
shift
case $step in
  deps)
    [ $# -ge 2 ] || usage
    dest=$1
    accel=$2
    shift 2
    cd "$dest"
    [ -f package.json ] && [ -f package-lock.json ] || { echo "install.sh: $dest needs package.json and package-lock.json" >&2; exit 1; }
    case $accel in
      cpu) npm pkg delete 'optionalDependencies[@tensorflow/tfjs-node-gpu]' ;;
      gpu) npm pkg delete 'optionalDependencies[@tensorflow/tfjs-node]' ;;
      none) npm pkg delete optionalDependencies ;;
      *) usage ;;
    esac
    # onnxruntime-node's CPU binaries are in its npm package; its postinstall would fetch the CUDA provider from
    # NuGet for every target, so it is skipped here and run below for gpu only.
    ONNXRUNTIME_NODE_INSTALL=skip npm install --omit=dev --no-audit --no-fund --no-save "$@"
    case $accel in
      cpu) has_native_tf @tensorflow/tfjs-node || { echo "install.sh: @tensorflow/tfjs-node did not install (libtensorflow download failed?)" >&2; exit 1; } ;;
      gpu)
        has_native_tf @tensorflow/tfjs-node-gpu || { echo "install.sh: @tensorflow/tfjs-node-gpu did not install (libtensorflow download failed?)" >&2; exit 1; }
        install_onnx_cuda
        ;;
    esac
    ;;
  sources)
    [ $# -eq 2 ] || usage
    tarball=$1
    dest=$2
    mkdir -p "$dest"
    tar -xzf "$tarball" -C "$dest" --strip-components=2 package/dist
    ;;
  *) usage ;;
esac

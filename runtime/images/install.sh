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
#       installed: npm drops a failed optional dependency silently, which would ship a wasm-only image.
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
    # onnxruntime-node's CPU binaries are in its npm package; its postinstall would fetch the CUDA 12 provider
    # from NuGet, which the gpu image's CUDA 11.8 (for tfjs-node-gpu) cannot load: ONNX models run on CPU.
    ONNXRUNTIME_NODE_INSTALL=skip npm install --omit=dev --no-audit --no-fund --no-save "$@"
    case $accel in
      cpu) has_native_tf @tensorflow/tfjs-node || { echo "install.sh: @tensorflow/tfjs-node did not install (libtensorflow download failed?)" >&2; exit 1; } ;;
      gpu) has_native_tf @tensorflow/tfjs-node-gpu || { echo "install.sh: @tensorflow/tfjs-node-gpu did not install (libtensorflow download failed?)" >&2; exit 1; } ;;
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

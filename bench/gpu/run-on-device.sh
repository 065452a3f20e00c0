#!/usr/bin/env bash
# Training speed of our webgpu backend against PyTorch on CUDA, same U-Net, batch and sizes, on a
# machine lent with a GPU (the `device` tool: an H200 with NVIDIA's Vulkan driver, Python with
# PyTorch, no Node). Two steps:
#
#   here:  bash bench/gpu/run-on-device.sh prepare
#          builds dist/ and fills bench/gpu/carry/ (ignored by git, ~40 MB): this machine's node
#          binary (xz), the node_modules files the bench loads (tar.xz, Dawn's linux-x64 build
#          only) and Debian's Vulkan loader (libvulkan1 .deb).
#   there: the device tool's run with carry ["bench/gpu/carry", "dist"] and the command
#          bash bench/gpu/run-on-device.sh
#          unpacks them, reports the adapter, runs `node dist/bench/gpu/measure.js`
#          (bench/gpu-train-speed.ts) and copies bench/results/gpu-train-speed.json and the log to
#          $OUT. Under 8 minutes on an H200; give it timeout_s 540.
#
# `bash bench/gpu/run-on-device.sh check` runs the device step here, from the carried files alone
# (in a scratch copy of the tree), on SwiftShader, one step at 16 px, against PyTorch on the CPU: everything
# but the GPU itself.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CARRY="$ROOT/bench/gpu/carry"

prepare() {
  cd "$ROOT"
  npx tsc -p tsconfig.json
  rm -rf "$CARRY" && mkdir -p "$CARRY"
  xz -T0 -6 -c "$(command -v node)" >"$CARRY/node.xz"
  # The node_modules files that a webgpu bench run (one 32 px step on SwiftShader) and `auto`
  # (which passes over SwiftShader to wasm) open, with the package.json files Node reads to
  # resolve them.
  local trace
  trace=$(mktemp)
  VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json XDG_RUNTIME_DIR=$(mktemp -d) \
    strace -f -qq -e trace=openat -e status=successful -o "$trace" \
    sh -c 'node dist/bench/train-speed-child.js 16 32 1 0 1 0 webgpu && node dist/bench/train-speed-child.js 16 32 1 0 1 0 auto' >/dev/null
  grep -o '"[^"]*node_modules/[^"]*"' "$trace" | tr -d '"' | sed "s|^$ROOT/||" | grep -v '^/' | sort -u |
    while read -r file; do [ -f "$file" ] && echo "$file"; done >"$CARRY/node_modules.list"
  rm -f "$trace"
  grep -q 'webgpu/dist/linux-x64/dawn.node' "$CARRY/node_modules.list"
  tar -cf - -T "$CARRY/node_modules.list" | xz -T0 -6 >"$CARRY/node_modules.tar.xz"
  (cd "$CARRY" && apt-get -o APT::Sandbox::User=root download libvulkan1 >/dev/null)
  du -sh "$CARRY"/*
}

# On the device machine (or, for `check`, in a scratch copy here).
measure() {
  local tree=$1 out=$2 torch_device=$3
  mkdir -p /tmp/unet-node /tmp/unet-vulkan "$out"
  xz -dc "$CARRY/node.xz" >/tmp/unet-node/node && chmod +x /tmp/unet-node/node
  export PATH=/tmp/unet-node:$PATH
  (cd "$tree" && xz -dc "$CARRY/node_modules.tar.xz" | tar -xf -)
  # Dawn opens libvulkan.so.1; the machine may have only the driver. Unpacked aside, not over /.
  if ! ldconfig -p | grep -q 'libvulkan.so.1'; then
    dpkg -x "$CARRY"/libvulkan1_*.deb /tmp/unet-vulkan
    export LD_LIBRARY_PATH=/tmp/unet-vulkan/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  fi
  local nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -z "${VK_ICD_FILENAMES:-}" ] && [ -f "$nvidia_icd" ]; then export VK_DRIVER_FILES=$nvidia_icd VK_ICD_FILENAMES=$nvidia_icd; fi
  export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
  export UNET_BENCH_PYTHON=${UNET_BENCH_PYTHON:-$(command -v python3)} UNET_BENCH_TORCH_DEVICE=$torch_device
  {
    echo "node $(node --version); python $("$UNET_BENCH_PYTHON" -c 'import sys, torch; print(sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available())')"
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    # What the backend ladder sees: the adapter and why any rung was skipped.
    (cd "$tree" && node --input-type=module -e "
      const { initialiseBackend } = await import('./dist/app/engine/backend/select-backend.js');
      const { describeBackend } = await import('./dist/app/contract/describe-backend.js');
      const report = await initialiseBackend('auto');
      console.log('auto:', describeBackend(report));
      if (report.adapter) console.log('adapter:', JSON.stringify(report.adapter));" || true)
    (cd "$tree" && node dist/bench/gpu/measure.js)
  } 2>&1 | tee "$out/gpu-train-speed.log"
  [ "$out" -ef "$tree/bench/results" ] || cp "$tree/bench/results/gpu-train-speed.json" "$out/"
}

case "${1:-device}" in
  prepare) prepare ;;
  device) measure "$ROOT" "${OUT:-$ROOT/bench/results}" cuda ;;
  check)
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    # The tree as it travels: tracked files and dist/, no node_modules.
    git -C "$ROOT" ls-files -z | (cd "$ROOT" && xargs -0 cp --parents -t "$scratch")
    cp -r "$ROOT/dist" "$scratch/"
    VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json UNET_BENCH_GPU_SIZES=16 UNET_BENCH_GPU_STEPS=1 UNET_BENCH_PYTHON=/usr/bin/python3 \
      PATH=/usr/sbin:/usr/bin:/sbin:/bin measure "$scratch" "$scratch/out" cpu
    cat "$scratch/out/gpu-train-speed.json"
    ;;
  *) echo "usage: $0 [prepare|device|check]" >&2; exit 2 ;;
esac

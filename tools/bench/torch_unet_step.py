#!/usr/bin/python3
"""One full-size SD 1.5 UNet step in PyTorch, for comparison with the ONNX pipeline bench.

Run with Debian's interpreter (torch 1.13): /usr/bin/python3 tools/bench/torch_unet_step.py [--threads N]
The `python3` on PATH may have no torch; then this prints one JSON line with "skipped" and exits 0.

Shapes as the pipeline's classifier-free-guidance step: sample [2, 4, 64, 64] (512x512),
timestep int64 [2], encoder_hidden_states [2, 77, 768]. The network is tools/testmodels/nets.py's
plain-torch UNet2DConditionModel with SD 1.5's configuration (320/640/1280/1280, 2 layers per block,
8 heads, cross-attention 768): the same architecture that tools/make_test_models.py --full exports to
ONNX, with random weights (the cost of a step does not depend on the weights' values).

Prints one JSON line: {"bench": "torch_unet_step", "threads": N, "ms_per_step": median, ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.dirname(HERE)


def emit(obj: dict) -> None:
    print(json.dumps(obj), flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", "0")) or (os.cpu_count() or 1),
                    help="torch.set_num_threads (default: BENCH_THREADS or the CPU count)")
    ap.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_TORCH_RUNS", "3")), help="timed steps (default 3)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps first (default 1)")
    ap.add_argument("--size", type=int, default=512, help="image size in pixels; the latent is size/8 (default 512)")
    ap.add_argument("--batch", type=int, default=2, help="UNet batch (2 = one image with classifier-free guidance)")
    a = ap.parse_args()

    try:
        import torch  # noqa: F401
    except Exception as e:  # torch missing or broken
        emit({"bench": "torch_unet_step", "skipped": f"torch is not available in {sys.executable}: {e}. "
              "Run with Debian's /usr/bin/python3 (python3-torch)."})
        return 0
    import torch

    sys.path.insert(0, TOOLS)
    try:
        from testmodels.nets import UNet, UNetConfig, param_count  # type: ignore
    except Exception as e:
        emit({"bench": "torch_unet_step", "skipped": f"cannot import tools/testmodels/nets.py: {e}"})
        return 0

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = UNetConfig(in_channels=4, out_channels=4, block_out_channels=(320, 640, 1280, 1280),
                     cross_attn=(True, True, True, False), layers_per_block=2, attention_head_dim=8,
                     cross_attention_dim=768, norm_num_groups=32, timestep_kind="int64[batch]")
    t0 = time.perf_counter()
    unet = UNet(cfg).eval()
    build_ms = (time.perf_counter() - t0) * 1000

    lat = a.size // 8
    sample = torch.randn(a.batch, 4, lat, lat)
    timestep = torch.full((a.batch,), 500, dtype=torch.int64)
    ctx = torch.randn(a.batch, 77, 768)

    times = []
    with torch.inference_mode():
        for i in range(a.warmup + a.runs):
            t0 = time.perf_counter()
            out = unet(sample, timestep, ctx)
            dt = (time.perf_counter() - t0) * 1000
            if i >= a.warmup:
                times.append(dt)
    assert tuple(out.shape) == (a.batch, 4, lat, lat)

    rss_kb = 0
    try:
        import resource
        rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    except Exception:
        pass
    emit({
        "bench": "torch_unet_step",
        "model": "sd15-shaped (random weights)",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "batch": a.batch,
        "latent": [4, lat, lat],
        "params_m": round(param_count(unet) / 1e6, 1),
        "build_ms": round(build_ms, 1),
        "runs": a.runs,
        "ms_per_step": round(statistics.median(times), 1),
        "ms_per_step_min": round(min(times), 1),
        "peak_rss_mb": round(rss_kb / 1024, 1),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

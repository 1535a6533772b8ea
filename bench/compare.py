"""faltung against PyTorch (CPU) on the four seed models, side by side on this machine.

    python bench/compare.py [--models lenet5 mnist128 fashion cifar] [--batches 32 128]
                            [--infer-batch 256] [--rounds 5] [--window 1.5] [--quick] [--json out.json]

For every model and batch size, three worker processes are started: faltung, PyTorch eager NCHW
and PyTorch eager channels_last (after a throwaway faltung worker that fills Numba's on-disk cache,
so that compiling the kernels is neither timed nor counted in the peak memory). Each builds the
model, warms up (excluded), then waits. The
parent asks them in turn for one timed *window* (>= --window seconds, at least one step):
faltung, torch NCHW, torch channels_last, faltung, ... so all three see the same machine speed
(which drifts by up to 3x within minutes on a shared VM). Reported:

  img/s          median over the windows
  ratio          median over rounds of faltung img/s / img/s of the better PyTorch mode in that round
                 (the better mode = the one with the higher median img/s)
  GFLOP/s, %pk   effective: img/s x analytic FLOPs (2 x MACs of conv + dense; training = 3 x forward),
                 against the SGEMM peak measured in this run (NumPy float32 n=2048, best of several)
  CPU ms/step    process CPU time per step (all threads, spinning included): with --threads 1 a
                 measure of work that a loaded machine disturbs less than wall time
  peak MB        resident-memory high-water mark of the worker process (VmHWM, i.e. ru_maxrss
                 without what Linux carries over from the parent; interpreter, libraries and
                 data) and, in brackets, that peak minus the RSS after the imports (what the
                 model, its buffers and the training step added)

Training step = forward + softmax cross-entropy + backward + Adam(lr=1e-3) on one random batch
(faltung: ``model.train_on_batch``; PyTorch: ``zero_grad``, ``loss.backward()``, ``opt.step()``).
Inference = faltung ``model.predict_on_batch``, PyTorch ``eval()`` + ``inference_mode()``.
Threads: BLAS threads as threadpoolctl reports them (default: all cores) and
``torch.set_num_threads`` set to the same number.
"""
import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, ROOT]

import models  # noqa: E402  (bench/models.py)

CONTENDERS = ["faltung", "torch", "torch_cl"]
LABELS = {"faltung": "faltung", "torch": "PyTorch NCHW", "torch_cl": "PyTorch channels_last"}


# ---- the worker: one contender, one model, one batch size ---------------------------------
def _rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _peak_rss_kb():
    """The process's resident-memory high-water mark: VmHWM, which is ``ru_maxrss`` except that
    Linux carries ru_maxrss over from the parent through fork + exec (a worker started by a
    parent that imported torch would inherit the parent's peak); VmHWM starts anew at exec."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _faltung_step(model_name, batch, mode):
    import faltung
    faltung.utils.set_random_seed(0)
    model = models.build_faltung(model_name)
    h, w, c = models.SPECS[model_name]["input"]
    rng = np.random.default_rng(0)
    x = rng.random((batch, h, w, c), dtype=np.float32)
    y = rng.integers(0, 10, size=batch)
    if mode == "train":
        return lambda: model.train_on_batch(x, y)
    return lambda: model.predict_on_batch(x)


def _torch_step(model_name, batch, mode, channels_last, threads):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = models.build_torch(model_name)
    h, w, c = models.SPECS[model_name]["input"]
    x = torch.rand(batch, c, h, w)
    y = torch.randint(0, 10, (batch,))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    if mode == "train":
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()

        def step():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
        return step
    model.eval()

    def infer():
        with torch.inference_mode():
            model(x)
    return infer


def worker(args):
    from threadpoolctl import threadpool_info
    if args.worker == "faltung":  # import everything a step needs, so the baseline holds the libraries
        import faltung.applications  # noqa: F401
        import faltung.losses  # noqa: F401
        import faltung.optimizers  # noqa: F401
    else:
        import torch.nn  # noqa: F401
        import torch.optim  # noqa: F401
    baseline_kb = _rss_kb()
    if args.worker == "faltung":
        step = _faltung_step(args.model, args.batch, args.mode)
    else:
        step = _torch_step(args.model, args.batch, args.mode, args.worker == "torch_cl", args.threads)
    start = time.perf_counter()
    steps = 0
    while steps < args.warmup_steps or time.perf_counter() - start < args.warmup_seconds:
        step()
        steps += 1
    blas = [{k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "filepath")}
            for i in threadpool_info() if i.get("user_api") == "blas"]
    blas.sort(key=lambda i: "numpy" not in (i["filepath"] or ""))  # NumPy's own BLAS first
    print(json.dumps({"ready": True, "blas": blas}), flush=True)
    for line in sys.stdin:
        command = line.split()
        if not command or command[0] == "quit":
            break
        seconds = float(command[1])
        steps, t0, cpu0 = 0, time.perf_counter(), time.process_time()
        while True:
            step()
            steps += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= seconds:
                break
        cpu = time.process_time() - cpu0
        print(json.dumps({"steps": steps, "seconds": elapsed, "cpu_seconds": cpu}), flush=True)
    print(json.dumps({"peak_kb": _peak_rss_kb(), "baseline_kb": baseline_kb}), flush=True)


# ---- the parent ------------------------------------------------------------------------------
class Worker:
    def __init__(self, contender, model, batch, mode, args, env):
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", contender, "--model", model,
               "--batch", str(batch), "--mode", mode, "--threads", str(args.threads),
               "--warmup-steps", str(args.warmup_steps), "--warmup-seconds", str(args.warmup_seconds)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=env, cwd=ROOT)

    def read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"benchmark worker {self.proc.args[3:9]} died (exit {self.proc.wait()})")
        return json.loads(line)

    def window(self, seconds):
        self.proc.stdin.write(f"window {seconds}\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self):
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        result = self.read()
        self.proc.wait()
        return result


def sgemm_peak(n=2048, reps=5):
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = a.T.copy()
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(reps))
    return 2 * n ** 3 / best / 1e9


def _timed(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def run_case(model, batch, mode, args, env):
    """Alternate windows of the three contenders; return their img/s lists and peak memory."""
    workers = {}
    try:
        # A throwaway faltung worker first: the first run after an install or an edit compiles Numba's
        # kernels into the on-disk cache (LLVM: ~100 MB resident), which later runs only load. The
        # measured worker then starts from that warm cache, as a user's second and later runs do.
        cache_warmer = Worker("faltung", model, batch, mode, args, env)
        cache_warmer.read()
        cache_warmer.close()
        for name in CONTENDERS:  # start (and warm up) one at a time, so warm-ups don't overlap
            workers[name] = Worker(name, model, batch, mode, args, env)
            ready = workers[name].read()
            if name == "faltung":
                blas = ready["blas"]
        rates = {name: [] for name in CONTENDERS}
        cpu_ms = {name: [] for name in CONTENDERS}
        for _ in range(args.rounds):
            for name in CONTENDERS:
                r = workers[name].window(args.window)
                rates[name].append(r["steps"] * batch / r["seconds"])
                cpu_ms[name].append(1e3 * r["cpu_seconds"] / r["steps"])
        memory = {name: w.close() for name, w in workers.items()}
        for name in CONTENDERS:
            memory[name]["cpu_ms"] = statistics.median(cpu_ms[name])
    finally:
        for w in workers.values():
            if w.proc.poll() is None:
                w.proc.kill()
    return rates, memory, blas


def summarize(model, batch, mode, rates, memory, peak):
    med = {name: statistics.median(r) for name, r in rates.items()}
    best = max(("torch", "torch_cl"), key=lambda n: med[n])
    ratios = [f / t for f, t in zip(rates["faltung"], rates[best])]
    fl = models.flops(model) * (3 if mode == "train" else 1)
    rows = []
    for name in CONTENDERS:
        gflops = med[name] * fl / 1e9
        mem = memory[name]
        rows.append({"model": model, "mode": mode, "batch": batch, "contender": name,
                     "img_s": med[name], "img_s_all": rates[name], "gflops": gflops,
                     "pct_peak": 100 * gflops / peak, "peak_mb": mem["peak_kb"] / 1024,
                     "cpu_ms_per_step": mem["cpu_ms"],
                     "added_mb": (mem["peak_kb"] - mem["baseline_kb"]) / 1024})
    return rows, {"model": model, "mode": mode, "batch": batch, "best_torch": best,
                  "ratio": statistics.median(ratios), "ratios": ratios,
                  "faltung_mb": memory["faltung"]["peak_kb"] / 1024,
                  "torch_mb": memory[best]["peak_kb"] / 1024}


def print_table(rows, ratios, peak):
    print(f"\n| model | mode | batch | contender | img/s (median) | GFLOP/s | % of SGEMM peak "
          f"({peak:.0f} GF/s) | CPU ms/step | peak RSS MB (added) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['mode']} | {r['batch']} | {LABELS[r['contender']]} | "
              f"{r['img_s']:,.0f} | {r['gflops']:.1f} | {r['pct_peak']:.0f}% | "
              f"{r['cpu_ms_per_step']:.1f} | {r['peak_mb']:.0f} ({r['added_mb']:.0f}) |")
    print("\n| model | mode | batch | better PyTorch mode | faltung / PyTorch (median of per-round "
          "ratios) | per-round ratios | target 1.5x | peak RSS faltung / PyTorch MB |")
    print("|---|---|---|---|---|---|---|---|")
    for s in ratios:
        per_round = " ".join(f"{v:.2f}" for v in s["ratios"])
        met = "met" if s["ratio"] >= 1.5 else "missed"
        print(f"| {s['model']} | {s['mode']} | {s['batch']} | {LABELS[s['best_torch']]} | "
              f"**{s['ratio']:.2f}** | {per_round} | {met} | {s['faltung_mb']:.0f} / {s['torch_mb']:.0f} |")


def parent(args):
    env = dict(os.environ)
    if args.unset_openblas_env:
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    from threadpoolctl import threadpool_info
    import torch
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    print(f"# bench/compare.py  {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__} "
          f"(mkldnn {torch.backends.mkldnn.is_available()}), {os.cpu_count()} CPUs")
    for i in blas:
        print(f"BLAS (threadpoolctl): {i.get('internal_api')} {i.get('version')} "
              f"kernel={i.get('architecture')} threads={i.get('num_threads')} ({i.get('threading_layer')})")
    print(f"threads: BLAS {args.threads}, torch.set_num_threads({args.threads}); "
          f"OPENBLAS_CORETYPE={env.get('OPENBLAS_CORETYPE')} OPENBLAS_L2_SIZE={env.get('OPENBLAS_L2_SIZE')} "
          f"OMP_NUM_THREADS={env.get('OMP_NUM_THREADS')}")
    peak = sgemm_peak()
    print(f"SGEMM peak (numpy float32 n=2048, best of 5): {peak:.1f} GFLOP/s")
    print(f"rounds={args.rounds} window={args.window}s warmup>={args.warmup_steps} steps and "
          f"{args.warmup_seconds}s", flush=True)
    cases = [(m, b, "train") for m in args.models for b in args.batches]
    cases += [(m, args.infer_batch, "infer") for m in args.models]
    cases.sort(key=lambda c: args.models.index(c[0]))
    rows, ratios = [], []
    for model, batch, mode in cases:
        rates, memory, worker_blas = run_case(model, batch, mode, args, env)
        r, s = summarize(model, batch, mode, rates, memory, peak)
        rows += r
        ratios.append(s)
        print(f"{model:9s} {mode:5s} b{batch:<4d} " + "  ".join(
            f"{LABELS[x['contender']]} {x['img_s']:,.0f} img/s" for x in r) +
            f"  ratio {s['ratio']:.2f}  (faltung BLAS kernel {worker_blas[0]['architecture'] if worker_blas else '?'})",
            flush=True)
    peak_end = sgemm_peak()
    print(f"SGEMM peak at the end: {peak_end:.1f} GFLOP/s")
    print_table(rows, ratios, max(peak, peak_end))
    if args.json:
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"rows": rows, "ratios": ratios, "sgemm_peak": [peak, peak_end],
                       "args": vars(args)}, f, indent=1)
        os.replace(tmp, args.json)


def profile(args):
    """cProfile of faltung's training step (``--profile MODEL``): where the time goes, by function."""
    import cProfile
    import pstats
    step = _faltung_step(args.profile, args.batches[0], "train")
    for _ in range(args.warmup_steps):
        step()
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    for _ in range(args.profile_steps):
        step()
    profiler.disable()
    elapsed = time.perf_counter() - t0
    print(f"{args.profile} batch {args.batches[0]}: {args.profile_steps} training steps, "
          f"{1e3 * elapsed / args.profile_steps:.1f} ms/step, "
          f"{args.profile_steps * args.batches[0] / elapsed:,.0f} img/s (under the profiler)")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile_lines)


def main(argv=None):
    from threadpoolctl import threadpool_info
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=models.MODELS, choices=models.MODELS)
    p.add_argument("--batches", nargs="+", type=int, default=[32, 128])
    p.add_argument("--infer-batch", type=int, default=256)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--window", type=float, default=1.5, help="seconds per timed window")
    p.add_argument("--warmup-steps", type=int, default=3)
    p.add_argument("--warmup-seconds", type=float, default=1.0)
    p.add_argument("--quick", action="store_true", help="3 rounds of 0.5 s windows, short warm-up")
    p.add_argument("--threads", type=int, default=None, help="BLAS and torch threads (default: BLAS's)")
    p.add_argument("--unset-openblas-env", action="store_true",
                   help="drop OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for the workers")
    p.add_argument("--json", help="also write the raw results here")
    p.add_argument("--profile", choices=models.MODELS,
                   help="instead of comparing, profile faltung's training step on this model "
                        "(batch = the first of --batches)")
    p.add_argument("--profile-steps", type=int, default=10)
    p.add_argument("--profile-lines", type=int, default=25)
    p.add_argument("--worker", choices=CONTENDERS, help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    p.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    p.add_argument("--mode", choices=["train", "infer"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.threads is None:
        blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        args.threads = int(blas[0]["num_threads"]) if blas else os.cpu_count()
    if args.quick:
        args.rounds, args.window, args.warmup_steps, args.warmup_seconds = 3, 0.5, 2, 0.3
    if args.profile:
        profile(args)
    elif args.worker:
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=args.threads, user_api="blas"):
            worker(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()

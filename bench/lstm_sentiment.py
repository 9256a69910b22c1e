"""Benchmark: the flagship LSTM sentiment model, aotc against its peers.

Run:  python bench/lstm_sentiment.py [--quick] [--moddir DIR]

In one run this script
1. builds samples/sentiment/model.py with AOTC_FLAGS=floatX=float32 through
   `python -m aotc.cli build` into a temporary folder (aotc's content cache
   in ~/.cache/aotc makes a rebuild of unchanged sources take seconds), or
   uses an already built module with --moddir;
2. writes the same forward pass (embedding gather, input projection, masked
   LSTM over time with gates i, f, o and candidate c, mean pooling over the
   valid steps, dropout as *0.5, softmax) with the same float32 weights in
   every peer that imports:
     numpy        a Python loop over the steps;
     torch-loop   PyTorch CPU eager, the same loop by hand (inference_mode);
     nn.LSTM      torch.nn.LSTM (gate order i, f, g, o; weights mapped);
     pytensor     PyTensor, the same graph with pytensor.scan, C backend
                  (linker cvm);
     onnxrt       ONNX Runtime running the nn.LSTM model exported with
                  torch.onnx.export;
   a peer whose import (or export) fails is reported as "skipped: why";
3. checks that every contender gives the same class probabilities (to 1e-4
   against a float64 NumPy reference), with a full mask (all ones: nn.LSTM
   and ONNX Runtime run no masking) and, for the peers that take a mask,
   with ragged lengths;
4. times, as medians of interleaved rounds, predict at (batch x steps)
   1x1, 1x100, 16x1, 16x100, 64x100 and one training step at 16x100 (aotc
   train_step with the model's optimizer -- Adam, or the tutorial's adadelta
   if model.py's OPTIONS say so; the script reads which from the module's
   shared state -- against torch nn.LSTM forward + backward + torch.optim.Adam
   or Adadelta, and PyTensor with model.py's update rule), on 1 and 2
   threads; then the import + first-call cost in fresh processes;
5. prints tables of milliseconds and of ratios aotc / peer (> 1: aotc is
   slower) with the best peer of each case.

Threads:
- the generated module has no thread setting (no function, no environment
  variable): its pool takes min(CPUs in the process's affinity mask, 8) at the
  first parallel region and keeps that count.  aotc therefore runs in one
  worker process per thread count: the worker restricts its affinity to N
  CPUs, imports the module and calls it once (so the pool settles on N
  threads), then restores its affinity so the scheduler may move it like any
  other process.  The worker times its own loop; the main process only asks
  it for a round, so rounds stay interleaved with the peers.
- torch: torch.set_num_threads(N); ONNX Runtime: intra_op_num_threads=N;
  NumPy's and PyTensor's OpenBLAS: threadpoolctl when installed (otherwise
  they run with their default and the table says so).
- OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE slow OpenBLAS down; the script
  re-executes itself without them.

Optional peers: pip install torch==2.13.0 (a local CPU build: an unpinned
torch downloads gigabytes), pytensor, onnxruntime onnx, threadpoolctl.
"""
import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

_SLOW_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

if any(v in os.environ for v in _SLOW_VARS):
    env = {k: v for k, v in os.environ.items() if k not in _SLOW_VARS}
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import numpy as np  # noqa: E402  (after the re-exec, so OpenBLAS never sees them)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import median_rounds, round_trip_probe  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "samples", "sentiment", "model.py")
N_WORDS, DIM, YDIM = 10000, 128, 2      # samples/sentiment/model.py OPTIONS
F32 = np.float32
FWD_CASES = [(1, 1), (1, 100), (16, 1), (16, 100), (64, 100)]   # (batch, steps)
#: seconds of sleep before each contender's timing (index: more than one thread), so that
#: the previous contender's worker threads have stopped spinning (OpenBLAS waits about
#: 0.1 s before its threads sleep; OpenMP and ONNX Runtime spin for a while too)
SETTLE = (0.05, 0.2)
TRAIN_CASE = (16, 100)
THREADS = (1, 2)
TOL = 1e-4
ADAM_LR = 1e-3                          # model.py OPTIONS["lr"]
PEERS = ("numpy", "torch-loop", "nn.LSTM", "pytensor", "onnxrt")


def _timer(call, reps):
    """A round of `reps` calls of call(); seconds per call.  One untimed call first: a
    round starts after a settle (see SETTLE), when the caches, the clock and every
    contender's sleeping worker threads are cold; the first call pays for that."""
    def run():
        call()
        t0 = time.perf_counter()
        for _ in range(reps):
            call()
        return (time.perf_counter() - t0) / reps
    return run


# ---------------------------------------------------------------- weights, inputs

def make_params(seed=0):
    """Weights with some spread (the model's own initial values give ~0.5/0.5
    for every review, which would make the equality check weak)."""
    rng = np.random.default_rng(seed)
    s = 1.0 / np.sqrt(DIM)
    return {
        "Wemb": rng.standard_normal((N_WORDS, DIM)).astype(F32),
        "lstm_W": (s * rng.standard_normal((DIM, 4 * DIM))).astype(F32),
        "lstm_U": (s * rng.standard_normal((DIM, 4 * DIM))).astype(F32),
        "lstm_b": (0.1 * rng.standard_normal(4 * DIM)).astype(F32),
        "U": (0.5 * rng.standard_normal((DIM, YDIM))).astype(F32),
        "b": (0.1 * rng.standard_normal(YDIM)).astype(F32),
    }


def make_inputs(B, T, seed, ragged=False):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, N_WORDS, size=(T, B), dtype=np.int64)
    mask = np.ones((T, B), F32)
    if ragged:
        lengths = rng.integers(1, T + 1, size=B)
        lengths[0] = T
        mask = (np.arange(T)[:, None] < lengths[None, :]).astype(F32)
    y = rng.integers(0, YDIM, size=B, dtype=np.int64)
    return x, mask, y


def case_name(B, T):
    return "%dx%d" % (B, T)


# ---------------------------------------------------------------- NumPy

def numpy_forward(p, x, mask, dtype=F32):
    """The tutorial's forward pass, one Python iteration per step."""
    Wemb, W, U, b = (p[k].astype(dtype, copy=False) for k in ("Wemb", "lstm_W", "lstm_U", "lstm_b"))
    Uo, bo = p["U"].astype(dtype, copy=False), p["b"].astype(dtype, copy=False)
    mask = mask.astype(dtype, copy=False)
    T, B = x.shape
    D = W.shape[0]
    one = dtype(1)
    xw = (Wemb[x.reshape(-1)] @ W + b).reshape(T, B, 4 * D)
    h = np.zeros((B, D), dtype)
    c = np.zeros((B, D), dtype)
    acc = np.zeros((B, D), dtype)
    for t in range(T):
        pre = h @ U
        pre += xw[t]
        i = one / (one + np.exp(-pre[:, :D]))
        f = one / (one + np.exp(-pre[:, D:2 * D]))
        o = one / (one + np.exp(-pre[:, 2 * D:3 * D]))
        g = np.tanh(pre[:, 3 * D:])
        m = mask[t][:, None]
        c_new = f * c + i * g
        c = m * c_new + (one - m) * c
        h = m * (o * np.tanh(c)) + (one - m) * h
        acc += h * m
    proj = acc / mask.sum(axis=0)[:, None]
    z = (proj * dtype(0.5)) @ Uo + bo
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------- PyTorch

def torch_peers(p):
    """{'torch-loop': fwd, 'nn.LSTM': fwd} and the pieces for training/export."""
    import torch
    from torch import nn

    D = DIM
    tp = {k: torch.from_numpy(v.copy()) for k, v in p.items()}
    # ours: columns [i | f | o | c] of W (D, 4D), used as x @ W;
    # torch: rows [i | f | g | o] of weight_ih (4D, D), used as x @ weight_ih.T
    order = np.concatenate([np.arange(0, D), np.arange(D, 2 * D), np.arange(3 * D, 4 * D),
                            np.arange(2 * D, 3 * D)])

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(N_WORDS, D)
            self.lstm = nn.LSTM(D, D)
            self.head = nn.Linear(D, YDIM)
            with torch.no_grad():
                self.emb.weight.copy_(tp["Wemb"])
                self.lstm.weight_ih_l0.copy_(torch.from_numpy(p["lstm_W"][:, order].T.copy()))
                self.lstm.weight_hh_l0.copy_(torch.from_numpy(p["lstm_U"][:, order].T.copy()))
                self.lstm.bias_ih_l0.copy_(torch.from_numpy(p["lstm_b"][order].copy()))
                self.lstm.bias_hh_l0.zero_()
                self.head.weight.copy_(tp["U"].T)
                self.head.bias.copy_(tp["b"])
            self.train_mode = False

        def forward(self, x, mask):
            h, _ = self.lstm(self.emb(x))                         # (T, B, D)
            proj = (h * mask[:, :, None]).sum(0) / mask.sum(0)[:, None]
            if self.train_mode:   # the tutorial's dropout: keep with p=0.5, no rescaling
                proj = proj * torch.bernoulli(torch.full_like(proj, 0.5))
            else:
                proj = proj * 0.5
            return torch.softmax(self.head(proj), dim=-1)

    Wemb, W, U, b, Uo, bo = (tp[k] for k in ("Wemb", "lstm_W", "lstm_U", "lstm_b", "U", "b"))

    def loop_fwd(x, mask):
        with torch.inference_mode():
            x = torch.from_numpy(x)
            mask = torch.from_numpy(mask)
            T, B = x.shape
            xw = (Wemb[x.reshape(-1)] @ W + b).reshape(T, B, 4 * D)
            h = torch.zeros(B, D)
            c = torch.zeros(B, D)
            acc = torch.zeros(B, D)
            for t in range(T):
                pre = torch.addmm(xw[t], h, U)
                i = torch.sigmoid(pre[:, :D])
                f = torch.sigmoid(pre[:, D:2 * D])
                o = torch.sigmoid(pre[:, 2 * D:3 * D])
                g = torch.tanh(pre[:, 3 * D:])
                m = mask[t][:, None]
                c = m * (f * c + i * g) + (1 - m) * c
                h = m * (o * torch.tanh(c)) + (1 - m) * h
                acc += h * m
            proj = acc / mask.sum(0)[:, None]
            return torch.softmax((proj * 0.5) @ Uo + bo, dim=-1).numpy()

    net = Net().eval()

    def lstm_fwd(x, mask):
        with torch.inference_mode():
            return net(torch.from_numpy(x), torch.from_numpy(mask)).numpy()

    def lstm_fwd_packed(x, mask):
        """nn.LSTM on ragged lengths (packed sequences), for the masked check."""
        from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
        with torch.inference_mode():
            xt, mt = torch.from_numpy(x), torch.from_numpy(mask)
            lengths = mt.sum(0).to(torch.int64)
            packed = pack_padded_sequence(net.emb(xt), lengths, enforce_sorted=False)
            h, _ = pad_packed_sequence(net.lstm(packed)[0], total_length=xt.shape[0])
            proj = h.sum(0) / mt.sum(0)[:, None]
            return torch.softmax(net.head(proj * 0.5), dim=-1).numpy()

    def make_train(optimizer):
        tnet = Net()
        tnet.train_mode = True
        if optimizer == "adam":
            opt = torch.optim.Adam(tnet.parameters(), lr=ADAM_LR, betas=(0.9, 0.999), eps=1e-8)
        else:
            opt = torch.optim.Adadelta(tnet.parameters(), lr=1.0, rho=0.95, eps=1e-6)

        def step(x, mask, y):
            xt, mt, yt = torch.from_numpy(x), torch.from_numpy(mask), torch.from_numpy(y)
            opt.zero_grad(set_to_none=True)
            prob = tnet(xt, mt)
            cost = -torch.log(prob[torch.arange(xt.shape[1]), yt] + 1e-8).mean()
            cost.backward()
            opt.step()
            return float(cost.detach())
        return step

    return {"torch-loop": loop_fwd, "nn.LSTM": lstm_fwd}, lstm_fwd_packed, make_train, net


def export_onnx(net, path):
    import torch
    net.eval()
    x, mask, _ = make_inputs(16, 20, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (torch.from_numpy(x), torch.from_numpy(mask)), path,
                          dynamo=False, input_names=["x", "mask"], output_names=["prob"],
                          dynamic_axes={"x": {0: "T", 1: "B"}, "mask": {0: "T", 1: "B"},
                                        "prob": {0: "B"}},
                          opset_version=17)


def ort_session(path, nthreads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = nthreads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])

    def fwd(x, mask):
        return sess.run(None, {"x": x, "mask": mask})[0]
    return fwd


# ---------------------------------------------------------------- PyTensor

def pytensor_peer(p):
    """(predict, make_train) compiled with PyTensor's C backend (linker cvm)."""
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    os.environ["PYTENSOR_FLAGS"] = "floatX=float32" + ("," + flags if flags else "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # "using NumPy C-API based implementation for BLAS"
        import pytensor
        import pytensor.tensor as pt
        from pytensor.compile.mode import Mode
        from pytensor.tensor.random.utils import RandomStream
    mode = Mode(linker="cvm", optimizer="fast_run")
    D = DIM

    def graph(tparams, train):
        x = pt.matrix("x", dtype="int64")
        mask = pt.matrix("mask", dtype="float32")
        y = pt.vector("y", dtype="int64")
        T, B = x.shape[0], x.shape[1]
        emb = tparams["Wemb"][x.flatten()].reshape([T, B, D])
        below = pt.dot(emb, tparams["lstm_W"]) + tparams["lstm_b"]

        def step(m_, x_, h_, c_):
            pre = pt.dot(h_, tparams["lstm_U"]) + x_
            i = pt.sigmoid(pre[:, 0:D])
            f = pt.sigmoid(pre[:, D:2 * D])
            o = pt.sigmoid(pre[:, 2 * D:3 * D])
            c = pt.tanh(pre[:, 3 * D:4 * D])
            c = f * c_ + i * c
            c = m_[:, None] * c + (1. - m_)[:, None] * c_
            h = o * pt.tanh(c)
            h = m_[:, None] * h + (1. - m_)[:, None] * h_
            return h, c

        zero = pt.alloc(np.float32(0.), B, D)
        res = pytensor.scan(step, sequences=[mask, below], outputs_info=[zero, zero],
                            n_steps=T, return_updates=False)
        h = res[0]
        proj = (h * mask[:, :, None]).sum(axis=0) / mask.sum(axis=0)[:, None]
        if train:
            srng = RandomStream(123)
            proj = proj * pt.cast(srng.binomial(1, 0.5, size=proj.shape), "float32")
        else:
            proj = proj * np.float32(0.5)
        pred = pt.special.softmax(pt.dot(proj, tparams["U"]) + tparams["b"], axis=-1)
        return x, mask, y, pred

    def shared(v, name):
        return pytensor.shared(v.copy(), name=name)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tp = {k: shared(v, k) for k, v in p.items()}
        x, mask, _, pred = graph(tp, train=False)
        predict = pytensor.function([x, mask], pred, mode=mode)

    def make_train(optimizer):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tp = {k: shared(v, k) for k, v in p.items()}
            x, mask, y, pred = graph(tp, train=True)
            cost = -pt.log(pred[pt.arange(x.shape[1]), y] + 1e-8).mean()
            grads = pytensor.grad(cost, wrt=list(tp.values()))
            updates = []
            f32 = np.float32
            if optimizer == "adam":         # as samples/sentiment/model.py adam_updates
                b1, b2, eps, lr = f32(0.9), f32(0.999), f32(1e-8), f32(ADAM_LR)
                t = shared(np.array(0., F32), "adam_t")
                t_new = t + f32(1)
                lr_t = lr * pt.sqrt(f32(1) - b2 ** t_new) / (f32(1) - b1 ** t_new)
                updates.append((t, t_new))
                for (k, v), g in zip(tp.items(), grads):
                    z = v.get_value() * f32(0.)
                    m, s2 = shared(z, k + "_m"), shared(z, k + "_v")
                    m_new = b1 * m + (f32(1) - b1) * g
                    v_new = b2 * s2 + (f32(1) - b2) * g ** 2
                    updates += [(m, m_new), (s2, v_new),
                                (v, v - lr_t * m_new / (pt.sqrt(v_new) + eps))]
            else:                           # as model.py adadelta_updates
                rho, eps = f32(0.95), f32(1e-6)
                for (k, v), g in zip(tp.items(), grads):
                    z = v.get_value() * f32(0.)
                    rup2, rgrad2 = shared(z, k + "_rup2"), shared(z, k + "_rgrad2")
                    rg2_new = rho * rgrad2 + (f32(1) - rho) * g ** 2
                    updir = -pt.sqrt(rup2 + eps) / pt.sqrt(rg2_new + eps) * g
                    updates += [(rgrad2, rg2_new),
                                (rup2, rho * rup2 + (f32(1) - rho) * updir ** 2),
                                (v, v + updir)]
            return pytensor.function([x, mask, y], cost, updates=updates, mode=mode)

    return predict, make_train, pytensor.__version__, pytensor.config.blas__ldflags


# ---------------------------------------------------------------- aotc

def build_module(outdir):
    # the model is float32; the caller's other flags (compiledir, ...) still apply
    env = dict(os.environ, AOTC_FLAGS=",".join(
        filter(None, [os.environ.get("AOTC_FLAGS"), "floatX=float32"])))
    cmd = [sys.executable, "-m", "aotc.cli", "build", MODEL, "-o", outdir, "--name", "sentiment"]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit("aotc build failed:\n" + res.stdout + res.stderr)
    return time.perf_counter() - t0


def _set_params(mod, p):
    for k, v in p.items():
        mod.shared[k].set_value(v)


def _n_threads():
    return len(os.listdir("/proc/self/task"))


def _worker(args):
    """aotc on `args.worker` threads; answers timing requests on stdin/stdout."""
    allowed = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, allowed[:args.worker])
    base = _n_threads()
    sys.path.insert(0, args.moddir)
    import sentiment
    data = np.load(args.data)
    _set_params(sentiment, {k[2:]: data[k] for k in data.files if k.startswith("p_")})
    x, m = data["x_64x100"], data["m_64x100"]
    sentiment.predict(x[:4], m[:4])          # the pool settles on len(affinity) threads
    os.sched_setaffinity(0, allowed)         # ... and keeps it: let the scheduler move us
    sentiment.predict(x[:4], m[:4])
    out = sys.stdout
    stats0 = sentiment._pool_stats()
    out.write(json.dumps({"ready": True, "pool_threads": _n_threads() - base}) + "\n")
    out.flush()
    for line in sys.stdin:
        req = json.loads(line)
        if req["op"] == "stats":
            # the pool's counters since the worker started timing (aotc_pool_stats), and
            # its latest hand-off round trip in ns (a reading, not a counter)
            now = sentiment._pool_stats()
            out.write(json.dumps({"stats": [b - a for a, b in zip(stats0[:6], now[:6])],
                                  "handoff_ns": now[6]}) + "\n")
            out.flush()
            continue
        name, reps = req["case"], req["reps"]
        x, m = data["x_" + name], data["m_" + name]
        if req["op"] == "check":
            res = {"prob": sentiment.predict(x, m).tolist()}
        elif req["op"] == "fwd":
            res = {"t": _timer(lambda: sentiment.predict(x, m), reps)()}
        elif req["op"] == "fwd_cold":
            # the embedding-product table emptied before each call: every row of the
            # batch's words is computed, as in a first call (passes/memo.py)
            def cold():
                sentiment._shared_changed()
                sentiment.predict(x, m)
            res = {"t": _timer(cold, reps)()}
        else:
            y = data["y_" + name]
            res = {"t": _timer(lambda: sentiment.train_step(x, m, y), reps)()}
        out.write(json.dumps(res) + "\n")
        out.flush()


class AotcWorker:
    def __init__(self, nthreads, moddir, data):
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", str(nthreads),
               "--moddir", moddir, "--data", data]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.pool_threads = self._read()["pool_threads"]

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("aotc worker died (rc %s)" % self.proc.wait())
        return json.loads(line)

    def ask(self, op, case, reps=1):
        self.proc.stdin.write(json.dumps({"op": op, "case": case, "reps": reps}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


# ---------------------------------------------------------------- import + first call

_MAKE_INPUTS = ("import numpy as _np\nX = _np.random.default_rng(0).integers(0, %d, (100, 1))\n"
                "M = _np.ones((100, 1), _np.float32)" % N_WORDS)

# contender -> (peer it needs or None, [(label or None if untimed, code)])
IMPORT_CASES = {
    "python (empty)": (None, []),
    "numpy": (None, [("import numpy", "import numpy")]),
    "aotc": (None, [("import numpy", "import numpy"), ("import sentiment", "import sentiment"),
                    (None, _MAKE_INPUTS), ("first predict 1x100", "sentiment.predict(X, M)")]),
    "torch": ("nn.LSTM", [("import torch", "import torch")]),
    "onnxruntime": ("onnxrt", [
        ("import numpy", "import numpy"), ("import onnxruntime", "import onnxruntime"),
        ("InferenceSession", "s = onnxruntime.InferenceSession(ONNX, "
                             "providers=['CPUExecutionProvider'])"),
        (None, _MAKE_INPUTS), ("first run 1x100", "s.run(None, {'x': X, 'mask': M})")]),
}


def bench_import(moddir, onnx_path, avail, rounds):
    """{contender: ([(label, median ms)], median process wall ms)}: each part timed
    inside a fresh interpreter (after its start), the whole process from outside."""
    env = dict(os.environ, PYTHONPATH=moddir)
    cases = {k: v[1] for k, v in IMPORT_CASES.items() if v[0] is None or v[0] in avail}
    samples = {k: ([], []) for k in cases}
    for _ in range(rounds):
        for name, steps in cases.items():
            code = ["import time as _t, json as _j", "ONNX = %r" % onnx_path, "_r = []"]
            for label, body in steps:
                if label is None:
                    code.append(body)
                else:
                    code += ["_s = _t.perf_counter()", body, "_r.append(_t.perf_counter() - _s)"]
            code.append("print(_j.dumps(_r))")
            t0 = time.perf_counter()
            res = subprocess.run([sys.executable, "-c", "\n".join(code)], env=env,
                                 capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if res.returncode != 0:
                raise RuntimeError("%s failed: %s" % (name, res.stderr[-500:]))
            samples[name][0].append(json.loads(res.stdout.strip().splitlines()[-1]))
            samples[name][1].append(wall)
    out = {}
    for name, steps in cases.items():
        labels = [lab for lab, _ in steps if lab is not None]
        parts = np.median(np.array(samples[name][0], float).reshape(rounds, len(labels)), axis=0)
        out[name] = (list(zip(labels, (parts * 1e3).tolist())),
                     float(np.median(samples[name][1])) * 1e3)
    return out


# ---------------------------------------------------------------- main

def _calibrate(call, target):
    call()                                   # warm-up (first-call costs, caches, pools)
    t0 = time.perf_counter()
    call()
    dt = time.perf_counter() - t0
    return max(1, min(2000, int(target / max(dt, 1e-7))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    ap.add_argument("--moddir", help="use the module already built in DIR (no build)")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return _worker(args)

    rounds = 3 if args.quick else 9
    target = 0.04 if args.quick else 0.15        # seconds per contender per round
    tmp = tempfile.mkdtemp(prefix="aotc-bench-lstm-")
    notes = []
    try:
        if args.moddir:
            moddir = os.path.abspath(args.moddir)
            print("aotc module: %s (prebuilt)" % moddir)
        else:
            moddir = os.path.join(tmp, "mod")
            dt = build_module(moddir)
            print("aotc module: built in %.1f s (AOTC_FLAGS=floatX=float32)" % dt)
        sys.path.insert(0, moddir)
        import sentiment

        params = make_params()
        _set_params(sentiment, params)
        # train_step's optimizer, from the state it keeps (model.py OPTIONS["optimizer"])
        optimizer = ("adam" if "adam_t" in sentiment.shared else
                     "adadelta" if any(n.endswith("_rgrad2") for n in sentiment.shared) else
                     "unknown")
        cases = {}
        for (B, T) in FWD_CASES + [TRAIN_CASE]:
            cases[case_name(B, T)] = make_inputs(B, T, seed=B * 1000 + T)
        data_path = os.path.join(tmp, "data.npz")
        arrays = {"p_" + k: v for k, v in params.items()}
        for name, (x, m, y) in cases.items():
            arrays.update({"x_" + name: x, "m_" + name: m, "y_" + name: y})
        xr, mr, _ = make_inputs(16, 100, seed=7, ragged=True)
        arrays.update({"x_ragged": xr, "m_ragged": mr})
        np.savez(data_path, **arrays)

        # -------- peers
        fwd = {"numpy": lambda x, m: numpy_forward(params, x, m)}
        masked_fwd = {"numpy": fwd["numpy"]}
        skipped = {}
        trainers = {}
        versions = {"numpy": np.__version__}
        try:
            import torch
            versions["torch"] = torch.__version__
            tfwd, packed, make_torch_train, net = torch_peers(params)
            fwd.update(tfwd)
            masked_fwd["torch-loop"] = tfwd["torch-loop"]
            masked_fwd["nn.LSTM (packed)"] = packed
            trainers["nn.LSTM"] = make_torch_train
        except Exception as e:  # noqa: BLE001 - any failure of an optional peer
            skipped["torch-loop"] = skipped["nn.LSTM"] = "%s: %s" % (type(e).__name__, e)
            net = None
        onnx_path = os.path.join(tmp, "sentiment_lstm.onnx")
        try:
            import onnxruntime
            versions["onnxruntime"] = onnxruntime.__version__
            if net is None:
                raise RuntimeError("needs torch for the export")
            export_onnx(net, onnx_path)
            fwd["onnxrt"] = None                  # a session per thread count, below
        except Exception as e:  # noqa: BLE001
            skipped["onnxrt"] = "%s: %s" % (type(e).__name__, str(e).splitlines()[0])
        try:
            t0 = time.perf_counter()
            pt_predict, make_pt_train, ver, ldflags = pytensor_peer(params)
            versions["pytensor"] = ver
            fwd["pytensor"] = pt_predict
            masked_fwd["pytensor"] = pt_predict
            trainers["pytensor"] = make_pt_train
            notes.append("pytensor: C backend (linker cvm), blas__ldflags=%r%s; compiled in %.1f s"
                         % (ldflags, " (NumPy C-API BLAS fallback)" if not ldflags else "",
                            time.perf_counter() - t0))
        except Exception as e:  # noqa: BLE001
            skipped["pytensor"] = "%s: %s" % (type(e).__name__, str(e).splitlines()[0])
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            threadpool_limits = None
            notes.append("threadpoolctl not installed: NumPy's/PyTensor's OpenBLAS threads "
                         "are not controlled (default count in every row)")

        print("versions: " + ", ".join("%s %s" % kv for kv in versions.items()))
        print("machine: %d CPUs for this process, load average %.2f %.2f %.2f (other work on "
              "the machine inflates the 2-thread rows most)"
              % ((len(os.sched_getaffinity(0)),) + os.getloadavg()))
        if os.getloadavg()[0] > len(os.sched_getaffinity(0)) - 0.5:
            print("WARNING: the machine is busy; multi-threaded rows oversubscribe the cores, "
                  "which hurts runtimes that spin-wait (OpenMP: torch; ONNX Runtime) most")
        round_trip = round_trip_probe(tmp)
        if round_trip is not None:
            print("CPU round trip (a cache line between the first two CPUs, what each "
                  "hand-off between threads pays): %.0f ns" % round_trip())
        for peer in PEERS:
            if peer in skipped:
                print("%s: skipped: %s" % (peer, skipped[peer]))
        ran = [peer for peer in PEERS if peer in fwd]
        print("peers that ran: " + ", ".join(ran))

        steps = {}
        for peer, make in trainers.items():
            try:
                steps[peer] = make(optimizer)
            except Exception as e:  # noqa: BLE001
                notes.append("%s train_step skipped: %s: %s"
                             % (peer, type(e).__name__, str(e).splitlines()[0]))

        workers = {nt: AotcWorker(nt, moddir, data_path) for nt in THREADS}
        for nt, w in workers.items():
            notes.append("aotc on %d thread(s): worker process, pool threads seen: %d"
                         % (nt, w.pool_threads))

        # -------- equality
        print()
        print("Equality: class probabilities, max |p - p_ref| against a float64 NumPy "
              "reference (tolerance %g)" % TOL)
        print("  full mask (all ones; nn.LSTM and onnxrt run unmasked):")
        bad = []
        ort1 = ort_session(onnx_path, 1) if "onnxrt" in fwd else None
        for name in ("1x100", "16x100"):
            x, m, _ = cases[name]
            ref = numpy_forward(params, x, m, dtype=np.float64)
            got = {"aotc": sentiment.predict(x, m)}
            for nt, w in workers.items():
                got["aotc worker %dt" % nt] = np.array(w.ask("check", name)["prob"])
            for peer in ran:
                got[peer] = (ort1 if peer == "onnxrt" else fwd[peer])(x, m)
            line = []
            for k, v in got.items():
                err = float(np.abs(np.asarray(v, np.float64) - ref).max())
                line.append("%s %.1e" % (k, err))
                if not err <= TOL:
                    bad.append("%s %s: %.2e" % (name, k, err))
            print("    %-7s p_ref[0]=%s  %s" % (name, np.round(ref[0], 4), ", ".join(line)))
        ref = numpy_forward(params, xr, mr, dtype=np.float64)
        got = {"aotc": sentiment.predict(xr, mr)}
        got.update({k: f(xr, mr) for k, f in masked_fwd.items()})
        line = []
        for k, v in got.items():
            err = float(np.abs(np.asarray(v, np.float64) - ref).max())
            line.append("%s %.1e" % (k, err))
            if not err <= TOL:
                bad.append("ragged %s: %.2e" % (k, err))
        print("  ragged lengths (16x100, lengths 1..100; peers that take a mask):")
        print("    " + ", ".join(line))
        print("  " + ("all equal" if not bad else "MISMATCH: " + "; ".join(bad)))

        # -------- timing
        results = {}     # (case, nt) -> {contender: seconds}
        cold_results = {}   # (case, nt) -> (seconds with the table emptied, seconds kept)
        for nt in THREADS:
            limit = (threadpool_limits(limits=nt, user_api="blas") if threadpool_limits
                     else contextlib.nullcontext())
            with limit:
                if "torch" in versions:
                    torch.set_num_threads(nt)
                ortf = ort_session(onnx_path, nt) if "onnxrt" in fwd else None
                w = workers[nt]
                for (B, T) in FWD_CASES:
                    name = case_name(B, T)
                    x, m, _ = cases[name]
                    names, fns = [], []
                    reps = _calibrate(lambda: w.ask("fwd", name, 1), target)
                    names.append("aotc")
                    fns.append(lambda name=name, reps=reps, w=w: w.ask("fwd", name, reps)["t"])
                    cold = []
                    if T > 1:
                        cold = [lambda name=name, reps=reps, w=w: w.ask("fwd_cold", name, reps)["t"]]
                    for peer in ran:
                        f = ortf if peer == "onnxrt" else fwd[peer]
                        call = (lambda f=f, x=x, m=m: f(x, m))
                        names.append(peer)
                        fns.append(_timer(call, _calibrate(call, target)))
                    ts = median_rounds(fns + cold, rounds, settle=SETTLE[nt > 1])
                    results[("predict " + name, nt)] = dict(zip(names, ts))
                    if cold:
                        cold_results[("predict " + name, nt)] = (ts[-1], ts[0])
                    print("  timed predict %-7s on %d thread(s)" % (name, nt), file=sys.stderr)
                # one training step
                name = case_name(*TRAIN_CASE)
                x, m, y = cases[name]
                names, fns = ["aotc"], []
                reps = _calibrate(lambda: w.ask("train", name, 1), target)
                fns.append(lambda name=name, reps=reps, w=w: w.ask("train", name, reps)["t"])
                for peer, step in steps.items():
                    call = (lambda step=step, x=x, m=m, y=y: step(x, m, y))
                    names.append(peer)
                    fns.append(_timer(call, _calibrate(call, target)))
                ts = median_rounds(fns, rounds, settle=SETTLE[nt > 1])
                results[("train_step " + name, nt)] = dict(zip(names, ts))
                print("  timed train_step %s on %d thread(s)" % (name, nt), file=sys.stderr)
        for nt, w in workers.items():
            if nt > 1:              # (a 1-thread worker hands no region to its pool)
                ans = w.ask("stats", "")
                st = ans["stats"]
                notes.append("aotc pool on %d threads while timed: %d regions, %d of %d tasks "
                             "on the calling thread, %d late, %d backoffs (%d regions inline); "
                             "hand-off round trip at the end %d ns (threads that share a cache: "
                             "about 100; far apart: 300 and more)"
                             % (nt, st[0], st[2], st[1], st[3], st[4], st[5], ans["handoff_ns"]))
            w.close()

        avail = set(ran)
        imp = bench_import(moddir, onnx_path, avail, 3 if args.quick else 7)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    # -------- report
    cols = ["aotc"] + ran
    print()
    print("Time per call, ms (median of %d interleaved rounds); in brackets aotc / peer "
          "(> 1: aotc slower)" % rounds)
    head = "%-18s %3s %9s" % ("case (BxT)", "thr", "aotc")
    for c in ran:
        head += " %17s" % c
    head += "  %-11s %9s" % ("best peer", "aotc/best")
    print(head)
    for (case, nt), r in results.items():
        row = "%-18s %3d %9.3f" % (case, nt, r["aotc"] * 1e3)
        for c in ran:
            if c in r:
                row += " %9.3f [%5.2f]" % (r[c] * 1e3, r["aotc"] / r[c])
            else:
                row += " %17s" % "-"
        peers = {c: t for c, t in r.items() if c != "aotc"}
        if peers:
            best = min(peers, key=peers.get)
            row += "  %-11s %9.2f" % (best, r["aotc"] / peers[best])
        print(row)
    print()
    print("aotc predict keeps the rows of Wemb.dot(lstm_W) + lstm_b between calls (an "
          "embedding-product table, passes/memo.py).\nThe same calls with the table emptied "
          "before each one (every row of the batch's words computed), ms:")
    for (case, nt), (tc, tw) in cold_results.items():
        best = min(t for c, t in results[(case, nt)].items() if c != "aotc")
        print("  %-18s %d thread(s): %8.3f  (table kept: %.3f; cold / best peer %.2f)"
              % (case, nt, tc * 1e3, tw * 1e3, tc / best))
    print()
    print("Per step and fixed cost, ms (from predict BxT=1 and BxT=100 rows: "
          "per step = (t100 - t1) / 99)")
    print("%-10s %3s " % ("batch", "thr") + " ".join("%21s" % c for c in cols))
    for B in (1, 16):
        for nt in THREADS:
            r1 = results[("predict %s" % case_name(B, 1), nt)]
            r100 = results[("predict %s" % case_name(B, 100), nt)]
            row = "%-10s %3d " % ("B=%d" % B, nt)
            for c in cols:
                step = (r100[c] - r1[c]) / 99
                row += " %9.4f/st %6.3f+" % (step * 1e3, (r1[c] - step) * 1e3)
            print(row)
    print("  (each cell: per-step ms / fixed ms = t1 - one step; a negative value means the "
          "two rows' noise exceeds the difference)")
    print()
    print("Import and first call, each in a fresh process, ms (median of %d runs; the "
          "json import of the timer itself is not counted)" % (3 if args.quick else 7))
    print("  %-16s %9s %9s  %s" % ("contender", "sum", "process", "parts"))
    for name, (parts, wall) in imp.items():
        print("  %-16s %9.1f %9.1f  %s" % (name, sum(t for _, t in parts), wall,
                                           " + ".join("%s %.1f" % p for p in parts)))
    print()
    print("load average at the end: %.2f %.2f %.2f" % os.getloadavg())
    if round_trip is not None:
        print("CPU round trip at the end: %.0f ns (about 100 when the two CPUs share a "
              "cache; on a virtual machine it changes with the host's placement)"
              % round_trip())
    print("Notes:")
    notes += [
        "equality checks use the weights above set in every contender; timing uses a full "
        "mask (all ones), so nn.LSTM/onnxrt skip the masking the others do",
        "aotc predict includes the tutorial's dropout switch; training cases include dropout "
        "in every contender (different random masks, so their costs are not compared)",
        "train_step's optimizer (found in the module's shared state): %s; the peers apply "
        "the same (torch.optim.%s; PyTensor: model.py's update rule)"
        % (optimizer, "Adam" if optimizer == "adam" else "Adadelta"),
        "Wemb's gradient and optimizer update are dense (10000x128) in all training contenders",
    ]
    for n in notes:
        print("  - " + n)


if __name__ == "__main__":
    main()

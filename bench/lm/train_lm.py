#!/usr/bin/python3
"""Train the byte-level Llama-style decoder of the LM experiment and export it like the decoder fixtures.

    /usr/bin/python3 bench/lm/prepare_text.py                       # bench/out/lm/kjv_{train,calib,eval}.txt
    nice /usr/bin/python3 bench/lm/train_lm.py --steps 3000         # train, checkpoint, export, manifest
    /usr/bin/python3 bench/lm/train_lm.py --export-only             # re-export from the checkpoint

The model is `fixtures/decoders/decoder_modules.LlamaForCausalLM` (RMSNorm, rotary tables, grouped-query attention,
SwiGLU, untied LM head) with vocabulary 256: the tokens are the text's bytes. Training: seeded (torch and numpy),
random windows of WINDOW + 1 bytes from the train split, AdamW with linear warm-up and cosine decay, gradient
clipping. The checkpoint is written every --checkpoint-every steps, so an interrupted run resumes (--resume).

Held-out figure: the eval split cut into consecutive windows of WINDOW bytes (stride = WINDOW, the tail shorter than a
window dropped); each window is one sequence (positions 0..WINDOW-1, no context from the previous window) and every
byte after the first of its window is predicted: bits per byte = mean negative log-likelihood / ln 2 over those
predictions, perplexity = exp(mean NLL). `onnx-cprune evaluate --perplexity --window 128` computes the same.

Export (Debian torch 1.13, TorchScript exporter, opset 14, as `fixtures/decoders/make_decoders.py`):
`fixtures/trained/lm_kjv.onnx` (input_ids -> logits) and `lm_kjv_cache.onnx` (optimum's decoder-with-past
signature), `fixtures/trained/lm_kjv.json` (config, training, held-out figures, layout) and `lm_kjv_eval64.npy` (the
first 64 eval windows, with their torch NLL in the manifest, for the tests).
"""

import argparse
import hashlib
import json
import math
import os
import sys
import time
import warnings

import numpy as np
import onnx
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "fixtures", "decoders"))
import decoder_modules as dm  # noqa: E402
import make_decoders as md  # noqa: E402

warnings.filterwarnings("ignore")

WINDOW = 128
SAMPLE_WINDOWS = 64
OPSET = 14
# 8 query heads over 4 KV heads (2 query heads per group): removing one KV group removes a quarter of the attention,
# so head pruning at 20-50 % is meaningful; head_dim 16 keeps onnxruntime's GroupQueryAttention usable.
CONFIG = dm.Config("llama", vocab=256, hidden=128, heads=[8] * 4, kv_heads=[4] * 4, head_dim=16, ffn=[384] * 4,
                   max_pos=256, eps=1e-5, rope_theta=10000.0)
DATA = os.path.join(ROOT, "bench", "out", "lm")
FIXTURES = os.path.join(ROOT, "fixtures", "trained")


def load_bytes(path):
    with open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8).astype(np.int64)


def eval_windows(data, window=WINDOW):
    n = len(data) // window
    return data[: n * window].reshape(n, window)


def build(seed):
    """Llama initialisation: normal(0, 0.02) for embeddings and projections, the projections that write into the
    residual stream (o_proj, down_proj) scaled by 1/sqrt(2 * layers), norms at 1."""
    torch.manual_seed(seed)
    model = dm.LlamaForCausalLM(CONFIG)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * CONFIG.layers) if name.endswith(("o_proj.weight", "down_proj.weight")) else 0.02
                p.normal_(0.0, std)
    return model


@torch.no_grad()
def held_out(model, windows, batch=64):
    """Mean NLL (nats) over every predicted byte of the eval windows, and the number of predictions."""
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(windows), batch):
        ids = torch.from_numpy(windows[i: i + batch])
        logits = model(ids)[:, :-1].reshape(-1, CONFIG.vocab).double()
        total += F.cross_entropy(logits, ids[:, 1:].reshape(-1), reduction="sum").item()
        count += ids[:, 1:].numel()
    model.train()
    return total / count, count


def lr_at(step, steps, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def train(args):
    os.makedirs(DATA, exist_ok=True)
    train_data = load_bytes(os.path.join(DATA, "kjv_train.txt"))
    eval_data = eval_windows(load_bytes(os.path.join(DATA, "kjv_eval.txt")))
    torch.set_num_threads(args.threads)
    model = build(args.seed)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([dict(params=decay, weight_decay=0.1), dict(params=no_decay, weight_decay=0.0)],
                            lr=args.lr, betas=(0.9, 0.95))
    ckpt_path = os.path.join(DATA, "lm_kjv.pt")
    start, history, seconds = 0, [], 0.0
    if args.resume and os.path.exists(ckpt_path):
        ckpt = torch.load(ckpt_path)
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["opt"])
        start, history, seconds = ckpt["step"], ckpt["history"], ckpt["seconds"]
    params = sum(p.numel() for p in model.parameters())
    print(f"params {params}, steps {start}..{args.steps}", flush=True)
    t0 = time.time()
    for step in range(start, args.steps):
        rng = np.random.default_rng([args.seed, step])  # per step: a resumed run draws the same batches
        starts = rng.integers(0, len(train_data) - WINDOW - 1, size=args.batch)
        batch = torch.from_numpy(np.stack([train_data[s: s + WINDOW + 1] for s in starts]))
        for group in opt.param_groups:
            group["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, CONFIG.vocab), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        done = step + 1
        if done % args.log_every == 0 or done == args.steps:
            elapsed = seconds + time.time() - t0
            entry = dict(step=done, trainLoss=round(loss.item(), 4), seconds=round(elapsed, 1))
            if done % args.eval_every == 0 or done == args.steps:
                nll, _ = held_out(model, eval_data[: args.eval_windows])
                entry["evalBitsPerByte"] = round(nll / math.log(2), 4)
            history.append(entry)
            print(json.dumps(entry), flush=True)
        if done % args.checkpoint_every == 0 or done == args.steps:
            elapsed = seconds + time.time() - t0
            torch.save(dict(model=model.state_dict(), opt=opt.state_dict(), step=done, history=history,
                            seconds=elapsed, args=vars(args)), ckpt_path + ".tmp")
            os.replace(ckpt_path + ".tmp", ckpt_path)
    return ckpt_path


def export(args):
    ckpt = torch.load(os.path.join(DATA, "lm_kjv.pt"))
    model = dm.LlamaForCausalLM(CONFIG)
    model.load_state_dict(ckpt["model"])
    model.eval()
    torch.set_num_threads(args.threads)
    eval_data = eval_windows(load_bytes(os.path.join(DATA, "kjv_eval.txt")))
    nll, predictions = held_out(model, eval_data)
    with open(os.path.join(DATA, "splits.json")) as f:
        splits = json.load(f)
    params = sum(p.numel() for p in model.parameters())
    manifest = dict(
        generator="bench/lm/train_lm.py", exporter=md.EXPORTER, config=CONFIG.to_json(), params=params,
        text=dict(source=splits["source"], rule=splits["rule"],
                  splits={k: dict(chapters=v["chapters"], bytes=v["bytes"], sha256=v["sha256"])
                          for k, v in splits["splits"].items()}),
        training=dict(seed=ckpt["args"]["seed"], steps=ckpt["step"], batch=ckpt["args"]["batch"], window=WINDOW,
                      optimizer="AdamW(betas 0.9/0.95, weight decay 0.1 on matrices)", peakLr=ckpt["args"]["lr"],
                      warmup=ckpt["args"]["warmup"], schedule="linear warm-up, cosine decay to 10 %",
                      gradClip=1.0, threads=ckpt["args"]["threads"], seconds=round(ckpt["seconds"], 1),
                      **({"note": args.note} if args.note else {}), history=ckpt["history"]),
        heldOut=dict(split="eval", window=WINDOW, stride=WINDOW, windows=len(eval_data), predictions=predictions,
                     nllNats=nll, bitsPerByte=nll / math.log(2), perplexity=math.exp(nll)),
        models={})
    # A small held-out sample for the tests (64 KiB): its NLL as torch computes it, what `evaluate` must reproduce.
    sample = eval_data[:SAMPLE_WINDOWS]
    np.save(os.path.join(FIXTURES, "lm_kjv_eval64.npy"), sample)
    sample_nll, _ = held_out(model, sample)
    manifest["heldOutSample"] = dict(file="lm_kjv_eval64.npy", windows=SAMPLE_WINDOWS, window=WINDOW, nllNats=sample_nll,
                                     what="the first 64 windows of the eval split, int64 [64, 128]")
    for cache in (False, True):
        name = "lm_kjv_cache" if cache else "lm_kjv"
        torch.manual_seed(md.seed_for(name))  # example inputs only; they do not reach the file
        proto = md.export_cache(model, CONFIG, OPSET) if cache else md.export_plain(model, CONFIG, OPSET)
        onnx.checker.check_model(proto, full_check=True)
        data = proto.SerializeToString()
        with open(os.path.join(FIXTURES, name + ".onnx"), "wb") as f:
            f.write(data)
        entry = dict(cache=cache, **md.describe(proto, name + ".onnx", data))
        entry.update(layout=md.layout(CONFIG, md.parameter_map(model, proto)))
        manifest["models"][name] = entry
        print(f"{name}: {len(data)} bytes, {len(proto.graph.node)} nodes", flush=True)
    with open(os.path.join(FIXTURES, "lm_kjv.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"held-out: {nll / math.log(2):.4f} bits per byte, perplexity {math.exp(nll):.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="1 on a shared machine: more threads spin")
    parser.add_argument("--log-every", type=int, default=25)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--eval-windows", type=int, default=512, help="eval windows used for the progress figure")
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--export-only", action="store_true")
    parser.add_argument("--note", help="a remark on how the run went, recorded in the manifest (e.g. a resumed schedule)")
    args = parser.parse_args()
    if not args.export_only:
        train(args)
    export(args)


if __name__ == "__main__":
    main()

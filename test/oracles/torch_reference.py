#!/usr/bin/python3
"""Torch reference for pruned decoders: the model a pruner should have produced, computed without the engine.

    /usr/bin/python3 test/oracles/torch_reference.py < cases.json > logits.json

Input: {"cases": [{"config": <manifest config>, "seed": int, "inputIds": [[...]], "mode": "slice"|"mask",
"keep": {"hidden": [...]?, "layers": [{"heads": [...]?, "kvHeads": [...]?, "ffn": [...]?}, ...]?}}, ...]}.
Omitted keep lists keep everything. Output: {"results": [{"dims": [b, s, vocab], "logits": [...]}, ...]}, or
{"results": [{"error": "..."}]} for a keep list that describes no valid model.

- `slice`: the family's torch module (fixtures/decoders/decoder_modules.py, rebuilt from its seed) with every
  parameter sliced to the kept query heads (q rows, o columns, q biases), KV heads (k/v rows and biases), FFN neurons
  (gate/up rows, down columns; GPT-2 c_fc columns and bias, c_proj rows) and hidden channels (embedding and position
  table columns, every norm weight and bias, q/k/v/gate/up/c_attn/c_fc input features, o/down/c_proj outputs and
  biases, LM head inputs), loaded into a model built with the new per-layer sizes. Norms are then defined over the
  kept features: RMSNorm's mean of squares and LayerNorm's mean and variance are taken over the kept channels.
- `mask`: the original-size model with the removed units silenced instead: o columns of removed query heads (all
  query heads of a removed KV group), down columns of removed neurons, and for hidden channels the embedding and
  position columns, every output row and bias writing them, with norm statistics over the kept channels only
  (`feature_mask`). The tests check slice == mask, so both are right or both wrong in the same way.

A query head h reads KV head h // (heads / kv_heads). Slicing keeps each kept query head with its own KV head, so the
kept query heads must give every kept KV head the same number of query heads and must not read a removed KV head.
Given only `heads`, the KV heads they read are kept (MHA: the same heads); given only `kvHeads`, all their query
heads.
"""

import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "fixtures", "decoders"))
import decoder_modules as dm  # noqa: E402


class BadKeep(ValueError):
    pass


def rows(units, width):
    """Indices of the rows of the kept units, each `width` wide."""
    return torch.tensor([u * width + j for u in units for j in range(width)], dtype=torch.long)


def checked(keep, n, what):
    keep = list(range(n)) if keep is None else list(keep)
    if sorted(set(keep)) != keep or (keep and (keep[0] < 0 or keep[-1] >= n)) or not keep:
        raise BadKeep(f"{what}: keep list {keep} is not a sorted, non-empty subset of 0..{n - 1}")
    return keep


def layer_keeps(cfg, keep):
    """Per layer: kept query heads, kept KV heads, kept FFN neurons (validated)."""
    layers = keep.get("layers") or [{} for _ in range(cfg.layers)]
    if len(layers) != cfg.layers:
        raise BadKeep(f"{len(layers)} layer keep lists for {cfg.layers} layers")
    out = []
    for i, lk in enumerate(layers):
        heads, kv = cfg.heads[i], cfg.kv_heads[i]
        rep = heads // kv
        # One list implies the other: the KV heads the kept query heads read, or every query head of the kept groups.
        kv_given, q_given = lk.get("kvHeads"), lk.get("heads")
        if kv_given is None and q_given is not None:
            kv_given = sorted({h // rep for h in q_given})
        kv_keep = checked(kv_given, kv, f"layer {i} kvHeads")
        q_keep = checked(q_given if q_given is not None else [h for h in range(heads) if h // rep in kv_keep],
                         heads, f"layer {i} heads")
        per_group = [sum(1 for h in q_keep if h // rep == g) for g in kv_keep]
        if any(h // rep not in kv_keep for h in q_keep):
            raise BadKeep(f"layer {i}: a kept query head reads a removed KV head")
        if len(set(per_group)) != 1 or per_group[0] == 0:
            raise BadKeep(f"layer {i}: kept KV heads serve {per_group} query heads; a GQA layer needs the same number each")
        out.append((q_keep, kv_keep, checked(lk.get("ffn"), cfg.ffn[i], f"layer {i} ffn")))
    return out


def sliced_model(cfg, seed, keep):
    model = dm.build(cfg, seed)
    hidden = torch.tensor(checked(keep.get("hidden"), cfg.hidden, "hidden"), dtype=torch.long)
    layers = layer_keeps(cfg, keep)
    hd = cfg.head_dim
    new_cfg = dm.Config(cfg.arch, cfg.vocab, len(hidden), [len(q) for q, _, _ in layers],
                        [len(kv) for _, kv, _ in layers], hd, [len(f) for _, _, f in layers], cfg.max_pos, cfg.eps,
                        cfg.rope_theta)
    sd = model.state_dict()
    out = {}
    for name, t in sd.items():
        out[name] = slice_param(cfg, name, t, hidden, layers)
    small = dm.build(new_cfg, seed)
    small.load_state_dict(out)
    return small


def slice_param(cfg, name, t, hidden, layers):
    """One parameter of the original, sliced by the keep lists (torch layouts: Linear [out, in], Conv1D [in, out])."""
    parts = name.split(".")
    hd = cfg.head_dim
    if cfg.arch == "gpt2":
        if name in ("transformer.wte.weight", "transformer.wpe.weight", "lm_head.weight"):
            return t[:, hidden]
        if name.startswith("transformer.ln_f."):
            return t[hidden]
        i = int(parts[2])
        q_keep, _, ffn = layers[i]
        tail = ".".join(parts[3:])
        width = cfg.heads[i] * hd
        qkv = torch.cat([rows(q_keep, hd) + s * width for s in range(3)])
        if tail.startswith("ln_") or tail in ("attn.c_proj.bias", "mlp.c_proj.bias"):
            return t[hidden]
        return {
            "attn.c_attn.weight": lambda: t[hidden][:, qkv],
            "attn.c_attn.bias": lambda: t[qkv],
            "attn.c_proj.weight": lambda: t[rows(q_keep, hd)][:, hidden],
            "mlp.c_fc.weight": lambda: t[hidden][:, ffn],
            "mlp.c_fc.bias": lambda: t[ffn],
            "mlp.c_proj.weight": lambda: t[ffn][:, hidden],
        }[tail]()
    if name in ("model.embed_tokens.weight", "lm_head.weight"):
        return t[:, hidden]
    if name == "model.norm.weight":
        return t[hidden]
    i = int(parts[2])
    q_keep, kv_keep, ffn = layers[i]
    tail = ".".join(parts[3:])
    q, kv = rows(q_keep, hd), rows(kv_keep, hd)
    if tail.endswith("layernorm.weight"):
        return t[hidden]
    return {
        "self_attn.q_proj.weight": lambda: t[q][:, hidden],
        "self_attn.q_proj.bias": lambda: t[q],
        "self_attn.k_proj.weight": lambda: t[kv][:, hidden],
        "self_attn.k_proj.bias": lambda: t[kv],
        "self_attn.v_proj.weight": lambda: t[kv][:, hidden],
        "self_attn.v_proj.bias": lambda: t[kv],
        "self_attn.o_proj.weight": lambda: t[hidden][:, q],
        "mlp.gate_proj.weight": lambda: t[ffn][:, hidden],
        "mlp.up_proj.weight": lambda: t[ffn][:, hidden],
        "mlp.down_proj.weight": lambda: t[hidden][:, ffn],
    }[tail]()


def masked_model(cfg, seed, keep):
    model = dm.build(cfg, seed)
    hidden_keep = checked(keep.get("hidden"), cfg.hidden, "hidden")
    removed_hidden = torch.tensor([c for c in range(cfg.hidden) if c not in hidden_keep], dtype=torch.long)
    layers = layer_keeps(cfg, keep)
    hd = cfg.head_dim
    sd = model.state_dict(keep_vars=True)
    with torch.no_grad():
        for i, (q_keep, _, ffn) in enumerate(layers):
            removed_q = rows([h for h in range(cfg.heads[i]) if h not in q_keep], hd)
            removed_f = torch.tensor([n for n in range(cfg.ffn[i]) if n not in ffn], dtype=torch.long)
            if cfg.arch == "gpt2":
                sd[f"transformer.h.{i}.attn.c_proj.weight"][removed_q] = 0
                sd[f"transformer.h.{i}.mlp.c_proj.weight"][removed_f] = 0
                for w in ("attn.c_proj", "mlp.c_proj"):
                    sd[f"transformer.h.{i}.{w}.weight"][:, removed_hidden] = 0
                    sd[f"transformer.h.{i}.{w}.bias"][removed_hidden] = 0
            else:
                sd[f"model.layers.{i}.self_attn.o_proj.weight"][:, removed_q] = 0
                sd[f"model.layers.{i}.mlp.down_proj.weight"][:, removed_f] = 0
                for w in ("self_attn.o_proj", "mlp.down_proj"):
                    sd[f"model.layers.{i}.{w}.weight"][removed_hidden] = 0
        for table in ("transformer.wte.weight", "transformer.wpe.weight", "model.embed_tokens.weight"):
            if table in sd:
                sd[table][:, removed_hidden] = 0
    mask = torch.ones(cfg.hidden)
    mask[removed_hidden] = 0
    if len(removed_hidden):
        for norm in model.norms():
            norm.feature_mask = mask
    return model


def run_case(case):
    cfg = dm.Config.from_json(case["config"])
    keep = case.get("keep") or {}
    build = sliced_model if case.get("mode", "slice") == "slice" else masked_model
    try:
        model = build(cfg, case["seed"], keep)
    except BadKeep as e:
        return dict(error=str(e))
    with torch.no_grad():
        logits = model(torch.tensor(case["inputIds"], dtype=torch.long))
    return dict(dims=list(logits.shape), logits=logits.flatten().tolist())


def main():
    cases = json.load(sys.stdin)["cases"]
    json.dump(dict(results=[run_case(c) for c in cases]), sys.stdout)


if __name__ == "__main__":
    main()

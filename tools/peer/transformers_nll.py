"""Times the peer a user would run instead of longrope: Hugging Face transformers (SDPA on CPU).

Reads one JSON request on stdin:
  {"windows": [{"dir": HF model dir, "tokens": [ids...], "repeats": n, "warmUps": w}, ...], "threads": t}
and prints one JSON line per window: {"length", "ms" (median of the timed repeats, one forward with
labels = one window's loss), "cpuMs" (the least process CPU time of a repeat: what a machine
shared with other work cannot inflate much), "sdpaMs" (torch's SDPA alone for every layer of the
window: the peer's attention share), "nllSum" (sum of per-token NLL in fp64, from the same logits), "torch",
"transformers"}. Exit code 3 with a JSON reason on stdout when torch or transformers is missing, so
the caller can skip with a stated reason.
"""
import json
import statistics
import sys
import time


def sdpa_time(torch, config, length: int) -> float:
    """PyTorch's CPU SDPA alone (causal, fp32, random q/k/v of the model's shape) for all layers of
    one window: best of 2, in ms. The counterpart of our attention share of a window."""
    heads = config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    kv = config.num_key_value_heads
    q = torch.randn(1, heads, length, head_dim)
    k = torch.randn(1, kv, length, head_dim).repeat_interleave(heads // kv, 1)
    v = torch.randn(1, kv, length, head_dim).repeat_interleave(heads // kv, 1)
    best = float("inf")
    with torch.inference_mode():
        for _ in range(2):
            start = time.perf_counter()
            for _ in range(config.num_hidden_layers):
                torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            best = min(best, (time.perf_counter() - start) * 1000)
    return best


def main() -> None:
    try:
        import torch
        import transformers
        from transformers import AutoModelForCausalLM
    except ImportError as e:  # the caller reports this as the reason for skipping
        print(json.dumps({"skipped": f"python packages missing: {e}"}))
        sys.exit(3)
    req = json.load(sys.stdin)
    torch.set_num_threads(int(req.get("threads", torch.get_num_threads())))
    for win in req["windows"]:
        model = AutoModelForCausalLM.from_pretrained(win["dir"], dtype=torch.float32, attn_implementation="sdpa")
        model.eval()
        ids = torch.tensor([win["tokens"]], dtype=torch.long)
        times, cpu, loss = [], [], None
        with torch.inference_mode():
            for _ in range(int(win.get("warmUps", 1))):  # untimed, same length: see the caller
                model(input_ids=ids, labels=ids)
            for _ in range(int(win.get("repeats", 3))):
                start, start_cpu = time.perf_counter(), time.process_time()
                out = model(input_ids=ids, labels=ids)
                times.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
                loss = out.loss
        n = ids.shape[1] - 1
        sdpa_ms = sdpa_time(torch, model.config, ids.shape[1])
        print(json.dumps({
            "length": ids.shape[1],
            "ms": statistics.median(times),
            "cpuMs": min(cpu),
            "sdpaMs": sdpa_ms,
            "nllSum": float(loss.double()) * n,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "attention": model.config._attn_implementation,
            "threads": torch.get_num_threads(),
        }), flush=True)


if __name__ == "__main__":
    main()

"""Times the peer a user would run instead of longrope: Hugging Face transformers (SDPA on CPU).

Reads one JSON request on stdin:
  {"windows": [{"dir": HF model dir, "tokens": [ids...], "repeats": n}, ...], "threads": t}
and prints one JSON line per window: {"length", "ms" (median of the timed repeats, one forward with
labels = one window's loss), "cpuMs" (the least process CPU time of a repeat: what a machine
shared with other work cannot inflate much), "nllSum" (sum of per-token NLL in fp64, from the same logits), "torch",
"transformers"}. Exit code 3 with a JSON reason on stdout when torch or transformers is missing, so
the caller can skip with a stated reason.
"""
import json
import statistics
import sys
import time


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
            model(input_ids=ids[:, :256], labels=ids[:, :256])  # warm-up
            for _ in range(int(win.get("repeats", 3))):
                start, start_cpu = time.perf_counter(), time.process_time()
                out = model(input_ids=ids, labels=ids)
                times.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
                loss = out.loss
        n = ids.shape[1] - 1
        print(json.dumps({
            "length": ids.shape[1],
            "ms": statistics.median(times),
            "cpuMs": min(cpu),
            "nllSum": float(loss.double()) * n,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "attention": model.config._attn_implementation,
            "threads": torch.get_num_threads(),
        }), flush=True)


if __name__ == "__main__":
    main()

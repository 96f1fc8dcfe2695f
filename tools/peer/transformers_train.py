"""Times a training step of Hugging Face transformers (the peer of `npm run bench:train`).

Reads one JSON request on stdin:
  {"windows": [{"dir": HF model dir, "batches": [[[ids...], ...], ...]}], "lr", "betas", "eps",
   "weightDecay", "clip", "threads"}
Each window is one sequence length: `batches` holds a warm-up step's batch then the timed steps'
batches (segments of equal length). A step is what longrope's fused step does: forward with
labels, backward, gradient-norm clipping, torch's AdamW. Prints one JSON line per window:
{"seq", "ms" (median step time), "cpuMs" (least process CPU time of a step), "firstLoss" (the
warm-up step's loss, from the initial weights), "torch", "transformers"}. Exit code 3 with a JSON
reason when torch or transformers is missing.
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
    except ImportError as e:
        print(json.dumps({"skipped": f"python packages missing: {e}"}))
        sys.exit(3)
    req = json.load(sys.stdin)
    torch.set_num_threads(int(req.get("threads", torch.get_num_threads())))
    for win in req["windows"]:
        model = AutoModelForCausalLM.from_pretrained(win["dir"], dtype=torch.float32, attn_implementation="sdpa")
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=req["lr"], betas=tuple(req["betas"]), eps=req["eps"],
                                weight_decay=req["weightDecay"])

        def step(batch):
            ids = torch.tensor(batch, dtype=torch.long)
            opt.zero_grad(set_to_none=True)
            loss = model(input_ids=ids, labels=ids).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), req["clip"])
            opt.step()
            return float(loss)

        first_loss = step(win["batches"][0])
        times, cpu = [], []
        for batch in win["batches"][1:]:
            start, start_cpu = time.perf_counter(), time.process_time()
            step(batch)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        print(json.dumps({
            "seq": len(win["batches"][0][0]),
            "ms": statistics.median(times),
            "cpuMs": min(cpu),
            "firstLoss": first_loss,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        }), flush=True)


if __name__ == "__main__":
    main()

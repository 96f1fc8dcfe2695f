"""Per-token NLL of token ids under a Hugging Face model directory, computed by transformers.

Usage: python hf_nll.py MODEL_DIR < request.json   (request: {"inputs": [[ids...], ...]})
Prints {"transformers": version, "torch": version, "nll": [[...], ...], "rope_scaling": ...}:
entry t-1 of each list is -log p(ids[t] | ids[<t]) for t = 1 .. n-1, as longrope's model.nll
returns them. fp32 on CPU, eager attention, no cache: the reference the export test compares to.
"""
import json
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM


def main() -> None:
    model_dir = sys.argv[1]
    request = json.load(sys.stdin)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    out = []
    with torch.no_grad():
        for ids in request["inputs"]:
            x = torch.tensor([ids], dtype=torch.long)
            logits = model(input_ids=x, use_cache=False).logits[0].float()
            logp = torch.log_softmax(logits[:-1], dim=-1)
            nll = -logp.gather(1, x[0, 1:].unsqueeze(1)).squeeze(1)
            out.append(nll.tolist())
    cfg = model.config
    scaling = getattr(cfg, "rope_parameters", None) or getattr(cfg, "rope_scaling", None)
    print(json.dumps({"transformers": transformers.__version__, "torch": torch.__version__, "nll": out, "rope_scaling": scaling}))


if __name__ == "__main__":
    main()

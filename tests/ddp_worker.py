"""One rank of the distributed tests: run as a script with RANK, WORLD_SIZE, MASTER_ADDR
and MASTER_PORT set (as torchrun does); trains the JSON config in argv[1] through the
Python API and saves this rank's final weights to argv[2]/rank{RANK}.pt."""
import json
import os
import sys

import torch

import ganforge
from ganforge.train.loop import Callback


class SaveWeights(Callback):
    def __init__(self, path: str) -> None:
        self.path = path

    def on_end(self, t) -> None:
        torch.save({"G": t.G.state_dict(), "D": t.D.state_dict(), "step": t.step}, self.path)


if __name__ == "__main__":
    torch.set_num_threads(1)
    cfg = json.loads(open(sys.argv[1]).read())
    out = os.path.join(sys.argv[2], f"rank{os.environ['RANK']}.pt")
    res = ganforge.train(cfg, extra_callbacks=[SaveWeights(out)], log=lambda m: None)
    print(json.dumps({"rank": int(os.environ["RANK"]), "status": res.status, "step": res.step}))

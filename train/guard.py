"""Skip updates that would damage the model: non-finite losses or gradients, and loss spikes.

Non-finite: a NaN or inf loss or gradient norm is never applied. (With fp16 an inf gradient is
usually an overflow of the loss scale; GradScaler skips that step itself and halves the scale, and the
loop reports it as `overflow`, which is routine early in a run.)

Spikes: once `min_history` updates have been accepted, an update is skipped (counted, logged as
`skipped: "spike"`) when its loss or gradient norm is both more than `z` standard deviations above the
mean of the last `window` accepted ones *and* materially above it: the loss by more than 20% of the
mean, the gradient norm by more than 100% (it doubles). The z-score alone fires on harmless noise once
the history is very flat (a loss of 0.0060 after a hundred of 0.0058); the relative bar alone would
ignore how noisy a run is. Real spikes (a loss from 3 to 5, a gradient norm x10) pass both. If
`patience` updates in a row are skipped, the level has really moved (new data, a schedule change):
the history is cleared and training goes on.

The history is part of the checkpoint, so a resumed run makes the same decisions as an uninterrupted one.
"""

from __future__ import annotations

import math
import statistics


class SpikeGuard:
    def __init__(self, z: float = 6.0, window: int = 100, min_history: int = 20, patience: int = 10):
        self.z, self.window, self.min_history, self.patience = z, window, min_history, patience
        self.losses: list[float] = []
        self.norms: list[float] = []
        self.in_a_row = 0
        self.counts = {"spike": 0, "nonfinite": 0, "overflow": 0}

    def _outlier(self, value: float, history: list[float], rel: float) -> bool:
        if len(history) < self.min_history:
            return False
        mean = statistics.fmean(history)
        return value > mean + self.z * statistics.pstdev(history) and value > mean * (1 + rel)

    def check(self, loss: float, grad_norm: float) -> str | None:
        """None to apply the update, else the reason to skip it ('nonfinite' or 'spike')."""
        if not (math.isfinite(loss) and math.isfinite(grad_norm)):
            return "nonfinite"
        if self.z > 0 and (self._outlier(loss, self.losses, 0.2) or self._outlier(grad_norm, self.norms, 1.0)):
            self.in_a_row += 1
            if self.in_a_row >= self.patience:
                self.losses.clear(), self.norms.clear()
                self.in_a_row = 0
            return "spike"
        return None

    def accept(self, loss: float, grad_norm: float) -> None:
        """Record an applied update."""
        self.in_a_row = 0
        self.losses = (self.losses + [loss])[-self.window:]
        self.norms = (self.norms + [grad_norm])[-self.window:]

    def count(self, reason: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1

    def state_dict(self) -> dict:
        return {"losses": list(self.losses), "norms": list(self.norms), "in_a_row": self.in_a_row,
                "counts": dict(self.counts)}

    def load_state_dict(self, state: dict) -> None:
        self.losses, self.norms = list(state["losses"]), list(state["norms"])
        self.in_a_row, self.counts = int(state["in_a_row"]), dict(state["counts"])

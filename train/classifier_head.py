"""A GPT with a classification head: the GPT paper's fine-tuning model (Radford et al. 2018, section 3.2).

    P(y | x_1..x_m) = softmax(h_l^m W_y)

h_l^m is the last layer's state at the sequence's last real token (sequences are right-padded, so with
causal attention that state has seen the whole text and no padding), W_y is `head`, a Linear(n_embd,
n_classes). The LM head stays the tied token embedding, so the same forward pass also gives L1, the
language-modelling loss on the labelled text, which the GPT paper adds as an auxiliary objective:

    L3 = L2 + lambda * L1        (L2: cross-entropy of the labels; lambda: --lm-weight, 0.5 in the paper)
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
from torch.nn import functional as F

from webtext.train.model import GPT


class GPTClassifier(nn.Module):
    def __init__(self, gpt: GPT, n_classes: int, dropout: float = 0.1):
        super().__init__()
        self.gpt = gpt
        self.drop = nn.Dropout(dropout)  # the GPT paper's 0.1 on the classifier's input
        self.head = nn.Linear(gpt.config.n_embd, n_classes)
        nn.init.normal_(self.head.weight, mean=0.0, std=0.02)
        nn.init.zeros_(self.head.bias)

    def forward(self, idx: torch.Tensor, lengths: torch.Tensor, with_lm: bool = True):
        """(class logits (B, n_classes), L1 or None) for right-padded idx (B, T) of `lengths` real tokens.

        L1 is the mean next-token cross-entropy over the real tokens only (positions past a sequence's
        length predict nothing), computed in fp32 as in pretraining.
        """
        h = self.gpt.hidden_states(idx)
        last = h[torch.arange(idx.size(0), device=idx.device), lengths - 1]
        logits = self.head(self.drop(last))
        if not with_lm:
            return logits, None
        lm_logits = F.linear(h[:, :-1], self.gpt.wte.weight)
        targets = idx[:, 1:].masked_fill(torch.arange(1, idx.size(1), device=idx.device) >= lengths[:, None], -100)
        lm_loss = F.cross_entropy(lm_logits.float().reshape(-1, lm_logits.size(-1)), targets.reshape(-1),
                                  ignore_index=-100)
        return logits, lm_loss


@torch.no_grad()
def predict_probs(model: GPTClassifier, ids, lengths, batch_size: int, device, autocast) -> np.ndarray:
    """Class probabilities (N, n_classes) of right-padded token rows, in eval mode, batch by batch
    (each batch cut to its longest row; rows sorted by length first, so batches waste little on padding)."""
    from webtext.train.labelled_data import batch

    was_training = model.training
    model.eval()
    order = np.argsort(lengths, kind="stable")
    out = np.empty((len(lengths), model.head.out_features), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        x, n = (t.to(device) for t in batch(ids, lengths, rows))
        with autocast():
            logits, _ = model(x, n, with_lm=False)
        out[rows] = F.softmax(logits.float(), dim=-1).cpu().numpy()
    model.train(was_training)
    return out

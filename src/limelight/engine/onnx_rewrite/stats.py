"""What a rewrite pass changed, for logs, the bench table and the cache sidecar."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RewriteStats:
    """How many subgraphs each rewrite replaced (a model that is not Kokoro simply gets zeros)."""

    instance_norms: int = 0
    snakes_fused: int = 0
    biases_dropped: int = 0
    pows: int = 0
    stfts: int = 0
    convs_requantized: int = 0
    nodes_before: int = 0
    nodes_after: int = 0

    @property
    def total(self) -> int:
        return (self.instance_norms + self.snakes_fused + self.biases_dropped + self.pows + self.stfts
                + self.convs_requantized)

"""A small mutable view of an ONNX graph for pattern rewrites: producer/consumer maps, queued edits.

Rewrites match on the current graph, queue removals and additions, then ``commit`` applies them, prunes what
no longer reaches an output and restores a topological order that is stable (same input → same bytes).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import onnx


@dataclass
class GraphEditor:
    """Mutable view of an ONNX graph with producer/consumer maps; rewrites queue edits, ``commit`` applies."""

    model: onnx.ModelProto
    producer: dict[str, Any] = field(default_factory=dict)
    consumers: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    inits: dict[str, Any] = field(default_factory=dict)
    const_nodes: dict[str, Any] = field(default_factory=dict)
    removed: set[int] = field(default_factory=set)
    added: list[Any] = field(default_factory=list)
    new_inits: list[Any] = field(default_factory=list)
    _names: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        g = self.model.graph
        self.producer.clear()
        self.consumers.clear()
        self.inits = {i.name: i for i in g.initializer}
        self.const_nodes = {}
        for node in g.node:
            for o in node.output:
                self.producer[o] = node
                self._names.add(o)
            for i in dict.fromkeys(node.input):  # a node that reads a tensor twice (x·x) is one consumer
                self.consumers[i].append(node)
            if node.op_type == "Constant":
                self.const_nodes[node.output[0]] = node
            self._names.add(node.name)
        for o in g.output:
            self.consumers[o.name].append(None)  # graph outputs count as a consumer that cannot be rewritten
        self._names.update(self.inits)

    # ---- reading ---------------------------------------------------------------------------------------
    def const(self, name: str) -> np.ndarray | None:
        """Value of an initializer or Constant-node output, else None."""
        from onnx import numpy_helper

        if name in self.inits:
            return numpy_helper.to_array(self.inits[name])
        node = self.const_nodes.get(name)
        if node is not None:
            for a in node.attribute:
                if a.name == "value":
                    return numpy_helper.to_array(a.t)
        return None

    def only_consumer(self, name: str, op_type: str) -> Any | None:
        users = self.consumers.get(name, [])
        if len(users) == 1 and users[0] is not None and users[0].op_type == op_type and not self.gone(users[0]):
            return users[0]
        return None

    def users(self, name: str) -> list[Any]:
        return list(self.consumers.get(name, []))

    def gone(self, node: Any) -> bool:
        return id(node) in self.removed

    def attr(self, node: Any, name: str, default: Any = None) -> Any:
        from onnx import helper

        for a in node.attribute:
            if a.name == name:
                return helper.get_attribute_value(a)
        return default

    # ---- writing ---------------------------------------------------------------------------------------
    def fresh(self, base: str) -> str:
        name = f"limelight/{base}"
        i = 0
        while name in self._names:
            i += 1
            name = f"limelight/{base}_{i}"
        self._names.add(name)
        return name

    def add_const(self, base: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        name = self.fresh(base)
        self.new_inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], outputs: list[str] | None = None, base: str = "n",
             **attrs: Any) -> list[str]:
        from onnx import helper

        outs = outputs or [self.fresh(f"{base}_out")]
        self.added.append(helper.make_node(op, inputs, outs, name=self.fresh(base), **attrs))
        return outs

    def remove(self, nodes: Iterable[Any]) -> None:
        self.removed.update(id(n) for n in nodes)

    def commit(self) -> None:
        """Apply queued edits, drop dead nodes and unused initializers, and restore topological order."""
        g = self.model.graph
        keep = [n for n in g.node if id(n) not in self.removed] + self.added
        g.initializer.extend(self.new_inits)
        keep = prune_dead(keep, {o.name for o in g.output})
        ordered = toposort(keep, {i.name for i in g.input} | {i.name for i in g.initializer})
        del g.node[:]
        g.node.extend(ordered)
        used = {i for n in ordered for i in n.input} | {o.name for o in g.output}
        kept_inits = [i for i in g.initializer if i.name in used]
        del g.initializer[:]
        g.initializer.extend(kept_inits)
        produced = {o for n in ordered for o in n.output} | {i.name for i in g.input} | used
        kept_vi = [v for v in g.value_info if v.name in produced]
        del g.value_info[:]
        g.value_info.extend(kept_vi)
        self.removed.clear()
        self.added.clear()
        self.new_inits.clear()
        self.reindex()


def prune_dead(nodes: list[Any], outputs: set[str]) -> list[Any]:
    """Drop nodes none of whose outputs reach a graph output (repeat until stable)."""
    while True:
        needed = set(outputs)
        for n in nodes:
            needed.update(n.input)
        live = [n for n in nodes if any(o in needed for o in n.output)]
        if len(live) == len(nodes):
            return live
        nodes = live


def toposort(nodes: list[Any], available: set[str]) -> list[Any]:
    """Kahn's algorithm, stable with respect to the given order (keeps the file deterministic)."""
    ready_names = set(available) | {""}
    producers = {o: idx for idx, n in enumerate(nodes) for o in n.output}
    deps: list[set[int]] = []
    for n in nodes:
        deps.append({producers[i] for i in n.input if i not in ready_names and i in producers})
    waiting_on: dict[int, list[int]] = defaultdict(list)
    for idx, d in enumerate(deps):
        for p in d:
            waiting_on[p].append(idx)
    heap = [idx for idx, d in enumerate(deps) if not d]
    heapq.heapify(heap)
    out: list[Any] = []
    remaining = [len(d) for d in deps]
    while heap:
        idx = heapq.heappop(heap)
        out.append(nodes[idx])
        for w in waiting_on[idx]:
            remaining[w] -= 1
            if remaining[w] == 0:
                heapq.heappush(heap, w)
    if len(out) != len(nodes):
        raise ValueError("graph rewrite produced a cycle")
    return out
